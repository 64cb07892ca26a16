"""Numeric encoders for time series: standardisation and identity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from seqrun.core.config import EncoderConfig
from seqrun.core.contracts import InputSize, MemoryItem

STATE_FILE = "encoder.json"


class StandardizeConfig(EncoderConfig):
    """Options of mean/std scaling."""

    type: Literal["standardize"] = Field("standardize", description="Mean/std scaling.")
    mode: Literal["scalar", "per_column"] = Field(
        "per_column",
        description="'scalar': one mean/std over every value (the ladybug course); "
        "'per_column': one per feature (mixed units, e.g. weather).",
    )


class IdentityConfig(EncoderConfig):
    """Options of the identity encoder (none)."""

    type: Literal["identity"] = Field("identity", description="No scaling.")


class _Numeric:
    """Shared state handling: ``mean`` and ``std`` per column, saved as JSON."""

    accepts = ("series",)
    output_kind = "numeric_sequence"

    def __init__(self, cfg: Any = None) -> None:
        self.cfg = cfg
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.columns: list[str] = []

    def model_front(self, task: Any) -> tuple[Any, Any] | None:
        """No front of its own: the model reads the scaled series directly."""
        return None

    @classmethod
    def input_size(cls, cfg: Any, size: InputSize) -> tuple[InputSize, list[MemoryItem]]:
        """The input as the adapter sized it; a few numbers of state."""
        return size, []

    def model_inputs(self, examples: list[Any]) -> Any:
        """A UserError: a window of a series cannot be encoded without the series around it."""
        from seqrun.core.errors import UserError

        raise UserError(
            "seqrun predict encodes texts; this run's encoder scales numeric series (score "
            "its splits with seqrun evaluate RUN_DIR)",
            where="predict",
        )

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Scale a (T, F) array."""
        return ((values - self.mean) / self.std).astype(np.float32)

    def inverse_transform(self, values: np.ndarray, cols: list[int]) -> np.ndarray:
        """Back to original units for the given columns (last axis of ``values``)."""
        return values * self.std[cols] + self.mean[cols]

    def target_scale(self, cols: list[int]) -> np.ndarray:
        """The std of the given columns (to report normalised errors)."""
        return self.std[cols]

    def state(self) -> dict[str, Any]:
        """JSON-serialisable fitted state."""
        return {
            "type": type(self).__name__,
            "columns": self.columns,
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
        }

    def save(self, folder: Path) -> None:
        """Write the fitted state into ``folder``."""
        from seqrun.core.runs import write_json

        write_json(Path(folder) / STATE_FILE, self.state())  # strict JSON: a NaN mean is null

    def load(self, folder: Path) -> None:
        """Restore the fitted state written by :meth:`save` (null read as NaN: the mean of a
        column with no training value)."""
        from seqrun.core.runs import null_as_nan

        state = json.loads((Path(folder) / STATE_FILE).read_text(encoding="utf-8"))
        self.columns = state["columns"]
        self.mean = np.asarray(null_as_nan(state["mean"]), dtype=np.float64)
        self.std = np.asarray(null_as_nan(state["std"]), dtype=np.float64)


class Standardize(_Numeric):
    """Mean/std scaling fitted on train (one scalar, or one per column)."""

    Config = StandardizeConfig

    def fit(self, values: np.ndarray, columns: list[str]) -> None:
        """Compute mean and std on the training values (NaN ignored per column)."""
        f = np.shape(values)[1]
        if self.cfg is not None and self.cfg.mode == "scalar":
            m, s = _moments(np.asarray(values).reshape(-1, 1))
            mean, std = np.full(f, m[0]), np.full(f, s[0])
        else:
            mean, std = _moments(np.asarray(values))
        std = np.where(std > 0, std, 1.0)
        self.mean, self.std, self.columns = mean, std, list(columns)


def _moments(v: np.ndarray, chunk: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and (population) std in float64, NaN ignored, a chunk of rows at a time.

    Two passes over the rows, so a long float32 series is never copied whole to float64.
    """
    f = v.shape[1]
    n, total = np.zeros(f), np.zeros(f)
    for lo in range(0, len(v), chunk):
        c = v[lo : lo + chunk].astype(np.float64)
        ok = ~np.isnan(c)
        n += ok.sum(axis=0)
        total += np.where(ok, c, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
    sq = np.zeros(f)
    for lo in range(0, len(v), chunk):
        c = v[lo : lo + chunk].astype(np.float64) - mean
        sq += np.where(np.isnan(c), 0.0, c * c).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return mean, np.sqrt(sq / n)


class Identity(_Numeric):
    """Feeds numeric series to the model unchanged."""

    Config = IdentityConfig

    def fit(self, values: np.ndarray, columns: list[str]) -> None:
        """Record the columns; scaling is the identity."""
        f = np.asarray(values).shape[1]
        self.mean, self.std, self.columns = np.zeros(f), np.ones(f), list(columns)
