"""Convolutional architectures for whole sequences: the FCN of Wang et al. (2017) and a
Conv1D -> GRU stack.

Both read a sequence of numeric vectors. With a masking front (padded unequal lengths) the
FCN averages only over real steps and the GRU skips the padding.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PositiveInt, model_validator

from seqrun.core.config import ModelConfig
from seqrun.core.contracts import InputSize, MemoryItem
from seqrun.models.base import MAX_LAYERS, Architecture


def _step_mask(features: Any) -> tuple[Any, Any]:
    """(the features without a Keras mask attached, the padding mask of the encoder's front
    (every channel 0 = padding) or None); Conv1D does not take masks."""
    if getattr(features, "_keras_mask", None) is None:
        return features, None
    import keras

    mask = keras.ops.any(keras.ops.not_equal(features, 0.0), axis=-1)
    return keras.ops.where(keras.ops.expand_dims(mask, -1), features, 0.0), mask


def conv_memory(
    filters: list[int], kernels: list[int], kernel_key: str, size: InputSize, batch_size: int
) -> list[MemoryItem]:
    """Weights (x3 for training) of the Conv1D+BatchNorm blocks, blamed on the block's
    filters or kernel size (whichever is larger), and the activations each batch keeps
    (conv, norm and relu outputs of every block)."""
    params, prev, blame, most = 0, size.width, "model.filters[0]", -1.0
    for i, (f, k) in enumerate(zip(filters, kernels, strict=True)):
        block = k * prev * f + 5 * f  # kernel, bias, BatchNorm's four vectors
        params += block
        if block > most:
            most = block
            key = kernel_key if kernel_key == "model.kernel" else f"{kernel_key}[{i}]"
            blame = key if k > f else f"model.filters[{i}]"
        prev = f
    out = [MemoryItem(blame, 4.0 * 3 * params, f"{params:.3g} convolution weights")]
    if size.steps:
        acts = 3 * batch_size * size.steps * sum(filters)
        widest = max(range(len(filters)), key=lambda i: filters[i])
        key = max(
            (size.steps, size.steps_key),
            (batch_size, "train.batch_size"),
            (filters[widest], f"model.filters[{widest}]"),
        )[1]
        out.append(MemoryItem(key, 4.0 * acts, f"{acts:.3g} convolution activations per batch"))
    return out


def _conv_block(x: Any, filters: int, kernel: int, i: int, momentum: float, mask: Any) -> Any:
    """Conv1D, BatchNorm, ReLU; with a padding ``mask`` the batch statistics read the real
    steps only and the padded steps are zeros again, so that the next block's kernel reads
    zeros past a series' end (as ``padding="same"`` does for a series of its own length),
    not the bias and BatchNorm shift that ReLU lets through there."""
    import keras

    x = keras.layers.Conv1D(filters, kernel, padding="same", name=f"conv_{i}")(x)
    x = keras.layers.BatchNormalization(momentum=momentum, name=f"bn_{i}")(x, mask=mask)
    x = keras.layers.Activation("relu", name=f"relu_{i}")(x)
    if mask is None:
        return x
    return keras.ops.where(keras.ops.expand_dims(mask, -1), x, 0.0)


class _ConvConfig(ModelConfig):
    """Options shared by the Conv1D+BatchNorm architectures."""

    dropout: float = Field(0.0, ge=0, lt=1, description="Dropout before the output layer.")
    bn_momentum: float = Field(
        0.9,
        gt=0,
        lt=1,
        description="Momentum of the BatchNorm moving statistics used at inference (Keras: "
        "0.99, too slow for archive sets of a few batches per epoch).",
    )


class FCNConfig(_ConvConfig):
    """Options of the fully convolutional network."""

    arch: Literal["fcn"] = Field("fcn", description="Conv1D blocks -> global average pooling.")
    filters: list[PositiveInt] = Field(
        default=[128, 256, 128],  # a literal: the JSON Schema shows it
        min_length=1,
        max_length=MAX_LAYERS,
        description="Filters of each Conv1D block.",
    )
    kernels: list[PositiveInt] = Field(
        default=[8, 5, 3],
        min_length=1,
        max_length=MAX_LAYERS,
        description="Kernel size of each Conv1D block.",
    )

    @model_validator(mode="after")
    def _one_kernel_per_block(self) -> FCNConfig:
        if len(self.filters) != len(self.kernels):
            raise ValueError(
                f"model.kernels has {len(self.kernels)} sizes for {len(self.filters)} blocks "
                "(model.filters): give one kernel size per block"
            )
        return self


class FCNArch(Architecture):
    """Fully Convolutional Network (Wang et al. 2017): Conv1D+BatchNorm+ReLU blocks (128/256/
    128 filters, kernels 8/5/3), global average pooling, softmax."""

    Config = FCNConfig
    accepts = ("numeric_sequence",)

    @classmethod
    def memory(cls, cfg: Any, size: InputSize, batch_size: int) -> list[MemoryItem]:
        """The convolution blocks' weights and activations."""
        return conv_memory(cfg.filters, cfg.kernels, "model.kernels", size, batch_size)

    def body(self, task: Any, features: Any) -> Any:
        """The conv blocks and a (masked) global average pooling."""
        import keras

        c = self.cfg
        x, mask = _step_mask(features)
        for i, (f, k) in enumerate(zip(c.filters, c.kernels, strict=True), start=1):
            x = _conv_block(x, f, k, i, c.bn_momentum, mask)
        from seqrun.models.layers import MaskedAveragePool

        x = MaskedAveragePool(name="gap")(x, mask=mask)
        if c.dropout:
            x = keras.layers.Dropout(c.dropout, name="head_dropout")(x)
        return x


class ConvGRUConfig(_ConvConfig):
    """Options of the Conv1D -> GRU stack."""

    arch: Literal["conv_gru"] = Field("conv_gru", description="Conv1D blocks -> GRU.")
    filters: list[PositiveInt] = Field(
        default=[64, 64],
        min_length=1,
        max_length=MAX_LAYERS,
        description="Filters of each Conv1D block.",
    )
    kernel: int = Field(5, ge=1, description="Kernel size of the Conv1D blocks.")
    units: int = Field(64, ge=1, description="GRU units.")
    bidirectional: bool = Field(False, description="Bidirectional GRU.")


class ConvGRUArch(Architecture):
    """Conv1D+BatchNorm+ReLU blocks (local patterns) then a GRU over their outputs (order)."""

    Config = ConvGRUConfig
    accepts = ("numeric_sequence",)

    @classmethod
    def memory(cls, cfg: Any, size: InputSize, batch_size: int) -> list[MemoryItem]:
        """The convolution blocks, then the GRU's weights (x3 for training) over the last
        block's filters."""
        kernels = [cfg.kernel] * len(cfg.filters)
        out = conv_memory(cfg.filters, kernels, "model.kernel", size, batch_size)
        units, last, bi = cfg.units, cfg.filters[-1], 2 if cfg.bidirectional else 1
        params = bi * 3 * (units * (last + units) + units)
        key = "model.units" if units >= last else f"model.filters[{len(cfg.filters) - 1}]"
        return [*out, MemoryItem(key, 4.0 * 3 * params, f"{params:.3g} recurrent weights")]

    def body(self, task: Any, features: Any) -> Any:
        """The conv blocks and a GRU that skips padded steps."""
        import keras

        c = self.cfg
        x, mask = _step_mask(features)
        for i, f in enumerate(c.filters, start=1):
            x = _conv_block(x, f, c.kernel, i, c.bn_momentum, mask)
        layer = keras.layers.GRU(c.units, name="gru")
        if c.bidirectional:
            layer = keras.layers.Bidirectional(layer, name="bi_gru")
        x = layer(x, mask=mask)
        if c.dropout:
            x = keras.layers.Dropout(c.dropout, name="head_dropout")(x)
        return x
