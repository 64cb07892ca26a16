"""A baseline without recurrence: the flattened input window through an MLP."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from seqrun.core.config import ModelConfig
from seqrun.core.contracts import InputSize, MemoryItem
from seqrun.models.base import (
    DEPTH_LIMITS,
    MAX_LAYERS,
    Activation,
    Architecture,
    dense_stack_memory,
)


class DenseConfig(ModelConfig):
    """Options of the dense baseline."""

    arch: Literal["dense"] = Field("dense", description="Flatten -> Dense stack.")
    units: int = Field(64, ge=1, description="Units per hidden Dense layer.")
    layers: int = Field(
        2, ge=0, le=MAX_LAYERS, description="Hidden Dense layers.", json_schema_extra=DEPTH_LIMITS
    )
    dropout: float = Field(0.0, ge=0, lt=1, description="Dropout after each hidden layer.")
    activation: Activation = Field("relu", description="Activation of the hidden layers.")


class DenseArch(Architecture):
    """Baseline without recurrence: flattened input window -> MLP."""

    Config = DenseConfig
    accepts = ("bag", "token_ids", "numeric_sequence")

    @classmethod
    def memory(cls, cfg: Any, size: InputSize, batch_size: int) -> list[MemoryItem]:
        """The Dense stack over the flattened input (every step's values)."""
        first = size.width * (size.steps or 1)
        return dense_stack_memory(cfg, first, size.width_key) + super().memory(
            cfg, size, batch_size
        )

    def body(self, task: Any, features: Any) -> Any:
        """Flatten (for windows and embeddings), then the hidden Dense layers."""
        import keras

        from seqrun.models.layers import MaskedFlatten

        c = self.cfg
        x = (
            MaskedFlatten(name="flatten")(features)
            if len(features.shape) > 2  # (batch, steps, features), e.g. word vectors
            else features
        )
        for i in range(c.layers):
            x = keras.layers.Dense(c.units, activation=c.activation, name=f"dense_{i + 1}")(x)
            if c.dropout:
                x = keras.layers.Dropout(c.dropout, name=f"dropout_{i + 1}")(x)
        return x
