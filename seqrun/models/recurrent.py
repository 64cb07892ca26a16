"""Recurrent architectures: SimpleRNN, LSTM, GRU; stacked, bidirectional, seq2vec or seq2seq."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from seqrun.core.config import ModelConfig
from seqrun.models.base import Activation, Architecture


class RecurrentConfig(ModelConfig):
    """Options shared by every recurrent architecture."""

    arch: Literal["simple_rnn", "lstm", "gru"] = Field(description="Recurrent cell type.")
    units: int = Field(64, ge=1, description="Units per recurrent layer.")
    layers: int = Field(1, ge=1, description="Stacked recurrent layers.")
    bidirectional: bool = Field(False, description="Wrap each layer in Bidirectional.")
    dropout: float = Field(0.0, ge=0, lt=1, description="Dropout on each layer's inputs.")
    recurrent_dropout: float = Field(0.0, ge=0, lt=1, description="Dropout on recurrent state.")
    activation: Activation = Field("tanh", description="Activation of the recurrent cell.")
    return_sequences: bool = Field(
        False,
        description="Sequence-to-sequence: predict at every step (trained against the next "
        "point at every step) instead of only after the last step.",
    )
    head_units: list[int] = Field(
        default_factory=list,
        description="Hidden Dense layers between the recurrent stack and output.",
    )
    head_dropout: float = Field(0.0, ge=0, lt=1, description="Dropout before the output layer.")


_LAYER = {"simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


class RecurrentArch(Architecture):
    """Stacked (optionally bidirectional) recurrent layers and a Dense head."""

    Config = RecurrentConfig

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


class LSTMArch(RecurrentArch):
    """Stacked (optionally bidirectional) LSTM layers and a Dense head."""


class GRUArch(RecurrentArch):
    """Stacked (optionally bidirectional) GRU layers and a Dense head."""
