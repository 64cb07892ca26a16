"""What every architecture shares: the model inputs, the output layer, the keras.Model."""

from __future__ import annotations

from typing import Any, Literal

from seqrun.core.contracts import InputSize, MemoryItem

Activation = Literal["tanh", "relu", "sigmoid", "linear", "elu", "gelu", "selu", "swish"]

MAX_LAYERS = 100
"""Most layers (or blocks) in one stack: deeper plain stacks do not train (no residual
connections) and take minutes to build."""
DEPTH_LIMITS = {
    "limits": f"at most {MAX_LAYERS}: deeper plain stacks do not train (no residual "
    "connections) and take minutes to build"
}


def output_layer(task: Any, name: str = "output"):
    """The Dense layer that maps features to the task's targets."""
    import keras

    if task.kind == "classification":
        act = "sigmoid" if task.output_dim == 1 else "softmax"
    else:
        act = "linear"
    return keras.layers.Dense(task.output_dim, activation=act, name=name)


class Architecture:
    """Base class: subclasses set ``Config`` and implement :meth:`body`.

    ``build`` makes the model input (or takes the encoder's, e.g. an Embedding front), runs
    ``body`` on the features and ends with :func:`output_layer`.
    """

    Config: Any
    name = "model"
    #: what the encoder may hand this architecture (see :data:`seqrun.core.contracts.InputKind`)
    accepts: tuple[str, ...] = ("token_ids", "numeric_sequence")
    #: the adapters' data it models (their ``provides``); empty: any
    data_kinds: tuple[str, ...] = ()

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg

    @property
    def returns_sequences(self) -> bool:
        """Whether the model emits one output per input step (``model.return_sequences``)."""
        return bool(getattr(self.cfg, "return_sequences", False))

    def body(self, task: Any, features: Any) -> Any:
        """The layers between the features and the output layer."""
        raise NotImplementedError

    @classmethod
    def memory(cls, cfg: Any, size: InputSize, batch_size: int) -> list[MemoryItem]:
        """The hidden Dense head's weights (x3 for training); subclasses add their layers."""
        out = []
        prev = getattr(cfg, "units", None) or 1
        for i, h in enumerate(getattr(cfg, "head_units", None) or []):
            key = f"model.head_units[{i}]"
            out.append(MemoryItem(key, 4.0 * 3 * prev * h, f"{prev * h:.3g} head weights"))
            prev = h
        return out

    def build(self, task: Any, inputs: Any = None, features: Any = None):
        """A keras.Model for ``task``; ``inputs``/``features`` let an encoder supply the front.

        With ``model.ensemble: K`` > 1 the model holds K copies of the network (sub-models
        ``member_0`` ...) after the shared front, trained independently and used as their
        mean (:class:`seqrun.models.layers.EnsembleModel`)."""
        import keras

        if inputs is None:
            inputs = keras.Input(shape=task.input_shape, name="inputs", dtype=task.input_dtype)
            features = inputs
        k = int(getattr(self.cfg, "ensemble", 1) or 1)
        if k == 1:
            return keras.Model(inputs, self.network(task, inputs, features), name=self.model_name())
        from seqrun.models.layers import EnsembleModel, SplitMask, StackMembers, WithMask

        # a sub-model drops the padding mask of an encoder's front: hand it over explicitly
        masked = getattr(features, "_keras_mask", None) is not None
        if masked:
            features, mask = SplitMask(name="split_mask")(features)
        outputs = []
        for i in range(k):
            x = keras.Input(shape=features.shape[1:], dtype=features.dtype, name=f"member_{i}_in")
            if masked:
                m = keras.Input(shape=mask.shape[1:], dtype="bool", name=f"member_{i}_mask")
                x_masked = WithMask(name=f"member_{i}_masked")([x, m])
                member = keras.Model(
                    [x, m], self.network(task, x_masked, x_masked), name=f"member_{i}"
                )
                outputs.append(member([features, mask]))
            else:
                member = keras.Model(x, self.network(task, x, x), name=f"member_{i}")
                outputs.append(member(features))
        return EnsembleModel(inputs, StackMembers(name="members")(outputs), name=self.model_name())

    def network(self, task: Any, inputs: Any, features: Any) -> Any:
        """The output tensor: ``body`` on the features, the head, and the lower bounds of
        non-negative targets (which read the raw input window)."""
        x = self.body(task, features)
        out = self.head(task, x)
        lower = task.extra.get("lower_bounds") if task.kind == "regression" else None
        if lower:  # non-negative targets: a softplus bound in encoded units
            from seqrun.models.layers import LowerBound

            cols = task.extra.get("target_idx") or list(range(task.output_dim))
            residual = bool(task.extra.get("residual"))
            out = LowerBound(lower, cols, residual, task.seq2seq, name="nonnegative")([out, inputs])
        return out

    def head(self, task: Any, x: Any) -> Any:
        """The output layer: one value per target, or (output_steps, targets) for direct
        multi-step forecasts."""
        import keras

        steps = int(task.extra.get("output_steps", 1))
        if steps > 1 and not task.seq2seq:
            x = keras.layers.Dense(steps * task.output_dim, name="output")(x)
            return keras.layers.Reshape((steps, task.output_dim), name="steps")(x)
        return output_layer(task)(x)

    def model_name(self) -> str:
        """The keras.Model's name."""
        return getattr(self.cfg, "arch", self.name)


def dense_stack_memory(cfg: Any, first: int, width_key: str | None) -> list[MemoryItem]:
    """Weights (x3 for training) of ``cfg.layers`` Dense layers of ``cfg.units`` after an input
    of ``first`` values."""
    units, layers = cfg.units, cfg.layers
    params = first * units + max(0, layers - 1) * units * units if layers else first
    key = "model.units" if units >= first or width_key is None else width_key
    if layers > max(units, first):  # the depth, not the width, is the size
        key = "model.layers"
    deep = f" ({layers:,} layers)" if layers > 1 else ""
    return [MemoryItem(key, 4.0 * 3 * params, f"{params:.3g} dense weights{deep}")]
