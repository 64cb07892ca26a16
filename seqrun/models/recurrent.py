"""Recurrent architectures: SimpleRNN, LSTM, GRU; stacked, bidirectional, seq2vec or seq2seq."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PositiveInt

from seqrun.core.config import ModelConfig
from seqrun.core.contracts import InputSize, MemoryItem
from seqrun.models.base import DEPTH_LIMITS, MAX_LAYERS, Activation, Architecture


class RecurrentConfig(ModelConfig):
    """Options shared by every recurrent architecture."""

    arch: Literal["simple_rnn", "lstm", "gru"] = Field(description="Recurrent cell type.")
    units: int = Field(64, ge=1, description="Units per recurrent layer.")
    layers: int = Field(
        1,
        ge=1,
        le=MAX_LAYERS,
        description="Stacked recurrent layers.",
        json_schema_extra=DEPTH_LIMITS,
    )
    bidirectional: bool = Field(False, description="Wrap each layer in Bidirectional.")
    dropout: float = Field(0.0, ge=0, lt=1, description="Dropout on each layer's inputs.")
    recurrent_dropout: float = Field(0.0, ge=0, lt=1, description="Dropout on recurrent state.")
    activation: Activation = Field("tanh", description="Activation of the recurrent cell.")
    return_sequences: bool = Field(
        False,
        description="Sequence-to-sequence: predict at every step (trained against the next "
        "point at every step) instead of only after the last step.",
    )
    head_units: list[PositiveInt] = Field(
        default_factory=list,
        max_length=MAX_LAYERS,
        description="Hidden Dense layers between the recurrent stack and output.",
    )
    head_dropout: float = Field(0.0, ge=0, lt=1, description="Dropout before the output layer.")


_LAYER = {"simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


class RecurrentArch(Architecture):
    """Stacked (optionally bidirectional) recurrent layers and a Dense head."""

    Config = RecurrentConfig
    gates = 1  # weight matrices per recurrent cell (SimpleRNN 1, GRU 3, LSTM 4)

    @classmethod
    def memory(cls, cfg: Any, size: InputSize, batch_size: int) -> list[MemoryItem]:
        """Recurrent weights (x3 for training) and the activations kept for backpropagation
        (batch x steps x units per gate), then the head."""
        units, g = cfg.units, cls.gates
        bi = 2 if cfg.bidirectional else 1
        per = g * (units * (size.width + units) + units)
        more = g * (units * (bi * units + units) + units)
        params = bi * (per + (cfg.layers - 1) * more)
        key = "model.units" if units >= size.width or size.width_key is None else size.width_key
        if cfg.layers > max(units, size.width):  # the depth, not the width, is the size
            key = "model.layers"
        deep = f" ({cfg.layers:,} layers)" if cfg.layers > 1 else ""
        out = [MemoryItem(key, 4.0 * 3 * params, f"{params:.3g} recurrent weights{deep}")]
        if size.steps:
            acts = batch_size * size.steps * units * g * cfg.layers * bi
            key = size.steps_key if size.steps >= batch_size else "train.batch_size"
            if cfg.layers > max(size.steps, batch_size):
                key = "model.layers"
            out.append(MemoryItem(key, 4.0 * acts, f"{acts:.3g} activations per batch"))
        return out + super().memory(cfg, size, batch_size)

    def body(self, task: Any, features: Any) -> Any:
        """Recurrent stack, then the optional hidden Dense layers."""
        import keras

        c = self.cfg
        x = features
        layer_cls = getattr(keras.layers, _LAYER[c.arch])
        for i in range(c.layers):
            last = i == c.layers - 1
            layer = layer_cls(
                c.units,
                activation=c.activation,
                dropout=c.dropout,
                recurrent_dropout=c.recurrent_dropout,
                return_sequences=c.return_sequences or not last,
                name=f"{c.arch}_{i + 1}",
            )
            if c.bidirectional:
                layer = keras.layers.Bidirectional(layer, name=f"bi_{c.arch}_{i + 1}")
            x = layer(x)
        for j, units in enumerate(c.head_units):
            x = keras.layers.Dense(units, activation="relu", name=f"head_{j + 1}")(x)
        if c.head_dropout:
            x = keras.layers.Dropout(c.head_dropout, name="head_dropout")(x)
        return x


class SimpleRNNArch(RecurrentArch):
    """Stacked (optionally bidirectional) SimpleRNN layers and a Dense head."""

    gates = 1


class LSTMArch(RecurrentArch):
    """Stacked (optionally bidirectional) LSTM layers and a Dense head."""

    gates = 4


class GRUArch(RecurrentArch):
    """Stacked (optionally bidirectional) GRU layers and a Dense head."""

    gates = 3
