"""Keras layers of seqrun's own, registered so that saved models load without custom_objects.

Imports Keras: only imported when a model is built or loaded.
"""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="seqrun")
class OneHotTokens(keras.layers.Layer):
    """Token ids (batch, length) -> one-hot vectors (batch, length, num_tokens), batch by batch.

    The one-hot tensor exists only for the current batch inside the model; with
    ``mask_zero`` the padding id 0 is masked for the layers that follow (RNNs, pooling).

    Args:
        num_tokens: vocabulary size (ids must be below it).
        mask_zero: mask padding steps.

    Example:
        >>> OneHotTokens(5)(np.array([[1, 4, 0]])).shape
        (1, 3, 5)
    """

    def __init__(self, num_tokens: int, mask_zero: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_tokens = int(num_tokens)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = True

    def call(self, inputs):
        return keras.ops.one_hot(keras.ops.cast(inputs, "int32"), self.num_tokens)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return keras.ops.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.num_tokens)

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens, "mask_zero": self.mask_zero}


@keras.saving.register_keras_serializable(package="seqrun")
class LowerBound(keras.layers.Layer):
    """Bounds some outputs from below with a softplus: ``b + softplus(y - b)`` (about ``y`` well
    above ``b``, never below it).

    Called on ``[outputs, window]``. ``lower`` maps an output column to its bound (encoded
    units, e.g. the standardised 0 of a wind speed). With ``residual`` the outputs are changes
    since the window's last input, so the bound on the change is ``lower - last input``.

    Args:
        lower: {output column: lower bound}.
        input_cols: for each output column, its column in the input window (residual only).
        residual: the outputs are changes since the window's last step.
        per_step: sequence-to-sequence outputs, each a change since its own input step.

    Example:
        >>> LowerBound({0: 0.0}, [0])([np.array([[-3.0, -3.0]]), np.zeros((1, 2, 2))])
        # first column ~0.049, second -3.0
    """

    def __init__(
        self,
        lower: dict,
        input_cols: list[int],
        residual: bool = False,
        per_step: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.per_step = bool(per_step)
        self.lower = {int(k): float(v) for k, v in lower.items()}
        self.input_cols = [int(c) for c in input_cols]
        self.residual = bool(residual)

    def call(self, inputs):
        out, window = inputs
        n = len(self.input_cols)
        mask = [1.0 if j in self.lower else 0.0 for j in range(n)]
        bound = keras.ops.convert_to_tensor([self.lower.get(j, 0.0) for j in range(n)])
        if self.residual:
            if self.per_step:
                last = keras.ops.take(window, self.input_cols, axis=-1)
            else:
                last = keras.ops.take(window[:, -1, :], self.input_cols, axis=-1)
                if len(out.shape) == 3:
                    last = keras.ops.expand_dims(last, 1)
            bound = bound - last
        bounded = bound + keras.ops.softplus(out - bound)
        mask = keras.ops.convert_to_tensor(mask, dtype=out.dtype)
        return mask * bounded + (1.0 - mask) * out

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {
            **super().get_config(),
            "lower": {str(k): v for k, v in self.lower.items()},
            "input_cols": self.input_cols,
            "residual": self.residual,
            "per_step": self.per_step,
        }


@keras.saving.register_keras_serializable(package="seqrun")
class LastStep(keras.layers.Layer):
    """The last step of a window, some columns: (batch, steps, F) -> (batch, 1, len(cols))."""

    def __init__(self, cols: list[int], **kwargs) -> None:
        super().__init__(**kwargs)
        self.cols = [int(c) for c in cols]

    def call(self, window):
        return keras.ops.take(window[:, -1:, :], self.cols, axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1, len(self.cols))

    def get_config(self):
        return {**super().get_config(), "cols": self.cols}
