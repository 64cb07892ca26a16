"""Word vectors averaged (or max-pooled) over the text, then a small Dense head (course IMDB2)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from seqrun.core.config import ModelConfig
from seqrun.core.contracts import InputSize, MemoryItem
from seqrun.core.errors import UserError
from seqrun.models.base import (
    DEPTH_LIMITS,
    MAX_LAYERS,
    Activation,
    Architecture,
    dense_stack_memory,
)


class PoolingConfig(ModelConfig):
    """Options of the pooling architecture."""

    arch: Literal["pooling"] = Field(
        "pooling", description="Global pooling over the sequence -> Dense stack."
    )
    pool: Literal["average", "max"] = Field(
        "average",
        description="Global average or max over the steps (padding masked in both).",
    )
    units: int = Field(32, ge=1, description="Units per hidden Dense layer.")
    layers: int = Field(
        1,
        ge=0,
        le=MAX_LAYERS,
        description="Hidden Dense layers after the pooling.",
        json_schema_extra=DEPTH_LIMITS,
    )
    activation: Activation = Field("relu", description="Activation of the hidden layers.")
    dropout: float = Field(0.0, ge=0, lt=1, description="Dropout after the pooling and each layer.")


class PoolingArch(Architecture):
    """Embedding + global average pooling + Dense head (needs a sequence encoder)."""

    Config = PoolingConfig

    @classmethod
    def memory(cls, cfg: Any, size: InputSize, batch_size: int) -> list[MemoryItem]:
        """The Dense stack over one pooled vector."""
        return dense_stack_memory(cfg, size.width, size.width_key) + super().memory(
            cfg, size, batch_size
        )

    def body(self, task: Any, features: Any) -> Any:
        """Global pooling over the (batch, length, dim) features, then the Dense layers."""
        import keras

        c = self.cfg
        if len(features.shape) != 3:
            raise UserError(
                "model.arch 'pooling' pools over a sequence of vectors; use a sequence encoder "
                "(embedding, one_hot, pretrained_embedding)",
                where="model.arch",
            )
        from seqrun.models.layers import MaskedAveragePool, MaskedMaxPool

        pool = (  # both skip masked padding; an all-padding text gives zeros
            MaskedAveragePool(name="average_pool")
            if c.pool == "average"
            else MaskedMaxPool(name="max_pool")
        )
        x = pool(features)
        if c.dropout:
            x = keras.layers.Dropout(c.dropout, name="pool_dropout")(x)
        for i in range(c.layers):
            x = keras.layers.Dense(c.units, activation=c.activation, name=f"dense_{i + 1}")(x)
            if c.dropout:
                x = keras.layers.Dropout(c.dropout, name=f"dropout_{i + 1}")(x)
        return x
