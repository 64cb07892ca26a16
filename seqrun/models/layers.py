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


@keras.saving.register_keras_serializable(package="seqrun")
class StackMembers(keras.layers.Layer):
    """The outputs of an ensemble's members stacked on a new axis 1: K x (batch, ...) ->
    (batch, K, ...)."""

    def call(self, members):
        return keras.ops.stack(members, axis=1)

    def compute_output_shape(self, input_shape):
        first = tuple(input_shape[0])
        return (first[0], len(input_shape), *first[1:])


@keras.saving.register_keras_serializable(package="seqrun")
class SplitMask(keras.layers.Layer):
    """``x`` carrying a padding mask -> ``[x, mask]``, two plain tensors (the mask (batch,
    steps) as booleans), so that both can enter a sub-model, which would drop a carried mask."""

    def call(self, x, mask=None):
        if mask is None:
            mask = keras.ops.ones(keras.ops.shape(x)[:2], dtype="bool")
        return [x, keras.ops.cast(mask, "bool")]

    def compute_output_shape(self, input_shape):
        return [tuple(input_shape), tuple(input_shape[:2])]

    def compute_mask(self, x, mask=None):
        return [None, None]


@keras.saving.register_keras_serializable(package="seqrun")
class MaskedMaxPool(keras.layers.Layer):
    """The largest value of each feature over the steps that the padding mask keeps:
    (batch, steps, dim) -> (batch, dim); Keras' GlobalMaxPooling1D reads padded steps too."""

    def call(self, x, mask=None):
        if mask is None:
            return keras.ops.max(x, axis=1)
        keep = keras.ops.expand_dims(keras.ops.cast(mask, "bool"), -1)
        lowest = keras.ops.full_like(x, -3.0e38)  # below any value a float32 holds but -inf
        out = keras.ops.max(keras.ops.where(keep, x, lowest), axis=1)
        anything = keras.ops.any(keep, axis=1)  # an all-padding example: zeros, not -3e38
        return keras.ops.where(anything, out, keras.ops.zeros_like(out))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def compute_mask(self, x, mask=None):
        return None


@keras.saving.register_keras_serializable(package="seqrun")
class MaskedAveragePool(keras.layers.Layer):
    """The mean of each feature over the steps that the padding mask keeps: (batch, steps,
    dim) -> (batch, dim); an example with no kept step (an empty text, a series all zeros)
    gives zeros, where Keras' GlobalAveragePooling1D divides 0 by 0 (NaN)."""

    def call(self, x, mask=None):
        if mask is None:
            return keras.ops.mean(x, axis=1)
        keep = keras.ops.expand_dims(keras.ops.cast(mask, x.dtype), -1)
        total = keras.ops.sum(x * keep, axis=1)
        return total / keras.ops.maximum(keras.ops.sum(keep, axis=1), 1.0)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def compute_mask(self, x, mask=None):
        return None


@keras.saving.register_keras_serializable(package="seqrun")
class MaskedFlatten(keras.layers.Layer):
    """(batch, steps, dim) -> (batch, steps * dim) with the padded steps as zeros; Keras'
    Flatten drops the mask and passes the padding's (trainable) vectors on as values."""

    def call(self, x, mask=None):
        if mask is not None:
            keep = keras.ops.expand_dims(keras.ops.cast(mask, x.dtype), -1)
            x = x * keep
        return keras.ops.reshape(x, (-1, x.shape[1] * x.shape[2]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1] * input_shape[2])

    def compute_mask(self, x, mask=None):
        return None


@keras.saving.register_keras_serializable(package="seqrun")
class WithMask(keras.layers.Layer):
    """``[x, mask] -> x`` carrying ``mask`` for the layers that follow (RNNs, pooling)."""

    def call(self, inputs):
        return inputs[0]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def compute_mask(self, inputs, mask=None):
        return keras.ops.cast(inputs[1], "bool")


@keras.saving.register_keras_serializable(package="seqrun")
class EnsembleModel(keras.Model):
    """A functional model whose output stacks K members' outputs, (batch, K, ...), trained as
    K independent models and used as their mean.

    Training: each member is scored by the compiled loss against the targets on its own (the
    K losses are averaged), so the members do not co-adapt; they differ by their initial
    weights (and dropout draws), like a seed ensemble. Evaluation, metrics and ``predict``:
    the members' mean (probabilities for a classifier, values for a regression), so the dev
    loss that picks the best epoch is the ensemble's.
    """

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not training:
            return super().compute_loss(
                x, y, keras.ops.mean(y_pred, axis=1), sample_weight, training=training
            )
        k = y_pred.shape[1]
        members = keras.ops.moveaxis(y_pred, 1, 0)  # (K, batch, ...)
        flat = keras.ops.reshape(members, (-1, *members.shape[2:]))
        y = keras.ops.concatenate([y] * k, axis=0)
        if sample_weight is not None:
            sample_weight = keras.ops.concatenate([sample_weight] * k, axis=0)
        return super().compute_loss(x, y, flat, sample_weight, training=training)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return super().compute_metrics(x, y, keras.ops.mean(y_pred, axis=1), sample_weight)

    def predict_step(self, data):
        return keras.ops.mean(super().predict_step(data), axis=1)
