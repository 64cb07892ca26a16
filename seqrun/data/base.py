"""What every dataset adapter provides to the trainer."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from seqrun.config import Section

SPLITS = ("train", "dev", "test")


class SplitFractions(Section):
    """Fractions of the data in each split (chronological or stratified, per adapter)."""

    train: float = Field(0.7, gt=0, lt=1, description="Fraction of the data used for training.")
    dev: float = Field(0.1, gt=0, lt=1, description="Fraction held out for model selection.")
    test: float = Field(0.2, ge=0, lt=1, description="Fraction held out for `seqrun evaluate`.")

    @model_validator(mode="after")
    def _sum_to_one(self) -> SplitFractions:
        total = self.train + self.dev + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"split fractions must add up to 1, they add up to {total:g}")
        return self


@dataclass
class Task:
    """What the model must do, as far as building and scoring it is concerned."""

    kind: Literal["regression", "classification"]
    input_shape: tuple[int, ...]
    output_dim: int
    target_names: list[str]
    feature_names: list[str] = field(default_factory=list)
    seq2seq: bool = False
    input_dtype: str = "float32"
    extra: dict[str, Any] = field(default_factory=dict)


def fingerprint(*arrays: np.ndarray) -> str:
    """A short content hash of the data a run saw (recorded in meta.json)."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str(a.dtype).encode())
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]
