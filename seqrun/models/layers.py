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
