"""Encoder-decoder forecaster: a recurrent encoder's final states start a recurrent decoder.

The third use of a recurrent layer besides sequence-to-vector and sequence-to-sequence: the
encoder (``return_state=True``) reads the window and hands its hidden (and, for an LSTM, cell)
state to a decoder that emits the next ``data.output_steps`` steps one after another. With
``feed_previous`` each decoder step reads the previous step's forecast (the first reads the
last observed values), as forecasters do; without it every step reads the last observation.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from seqrun.core.config import ModelConfig
from seqrun.core.errors import UserError
from seqrun.models.base import Activation, Architecture


class EncoderDecoderConfig(ModelConfig):
    """Options of the encoder-decoder architecture."""

    arch: Literal["encoder_decoder"] = Field(
        "encoder_decoder",
        description="Recurrent encoder (return_state) -> recurrent decoder emitting "
        "data.output_steps steps.",
    )
    cell: Literal["lstm", "gru"] = Field("lstm", description="Recurrent cell of both parts.")
    units: int = Field(64, ge=1, description="Units of the encoder and of the decoder.")
    activation: Activation = Field("tanh", description="Activation of the recurrent cells.")
    dropout: float = Field(0.0, ge=0, lt=1, description="Dropout on the encoder's inputs.")
    feed_previous: bool = Field(
        True,
        description="Feed each decoder step the previous step's forecast (the first step "
        "the last observation); false feeds the last observation at every step.",
    )


class EncoderDecoderArch(Architecture):
    """LSTM/GRU encoder whose final states initialise a decoder that emits the next H steps."""

    Config = EncoderDecoderConfig
    data_kinds = ("series",)

    def body(self, task: Any, features: Any) -> Any:
        """Encoder and decoder; returns the (batch, output_steps, targets) forecast."""
        import keras

        from seqrun.models.layers import LastStep

        c = self.cfg
        steps = int(task.extra.get("output_steps", 1))
        if task.kind != "regression" or len(features.shape) != 3 or task.seq2seq:
            raise UserError(
                "model.arch 'encoder_decoder' forecasts numeric time series (windows of "
                "numbers, one forecast after the window); it needs a numeric target and one "
                "output after the window, else choose another model.arch",
                where="model.arch",
            )
        layer = keras.layers.LSTM if c.cell == "lstm" else keras.layers.GRU
        enc = layer(
            c.units, activation=c.activation, dropout=c.dropout, return_state=True, name="encoder"
        )
        _, *states = enc(features)  # LSTM: hidden and cell state; GRU: hidden state
        cols = task.extra.get("target_idx") or list(range(task.output_dim))
        observed = LastStep(cols, name="last_observed")(features)  # (batch, 1, targets)
        residual = bool(task.extra.get("residual"))
        dec = layer(
            c.units,
            activation=c.activation,
            return_sequences=True,
            return_state=True,
            name="decoder",
        )
        proj = keras.layers.Dense(task.output_dim, name="output")
        if not c.feed_previous:
            repeated = (
                keras.layers.Concatenate(axis=1, name="repeat")([observed] * steps)
                if steps > 1
                else observed
            )
            seq, *_ = dec(repeated, initial_state=states)
            out = proj(seq)  # (batch, steps, targets)
        else:
            outputs, step_in = [], observed
            for k in range(steps):
                seq, *states = dec(step_in, initial_state=states)
                y = proj(seq)  # (batch, 1, targets)
                outputs.append(y)
                # the next step reads this forecast as a value (a change is added to the last)
                step_in = keras.layers.Add(name=f"value_{k + 1}")([observed, y]) if residual else y
            out = (
                outputs[0]
                if steps == 1
                else keras.layers.Concatenate(axis=1, name="steps")(outputs)
            )
        if steps == 1:  # one step: (batch, targets), as every other architecture gives it
            return keras.layers.Reshape((task.output_dim,), name="one_step")(out)
        return out

    def head(self, task: Any, x: Any) -> Any:
        """The decoder already emits the forecast."""
        return x
