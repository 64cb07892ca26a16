"""Checks of a resolved experiment that need no data and no TensorFlow (`seqrun config validate`).

What is checked: the metric set suits the adapter's task; ``train.loss`` is a Keras loss for
that task; ``train.monitor`` is a metric the trainer compiles for it; sizes (parameters, points,
batch tensors) fit in this machine's memory. Each check returns ``(dotted key, message)``.
"""

from __future__ import annotations

import os
from typing import Any

from seqrun.core.errors import cut, did_you_mean
from seqrun.core.registry import registry
from seqrun.core.runs import metric_name

REGRESSION_LOSSES = (
    "mse",
    "mean_squared_error",
    "mae",
    "mean_absolute_error",
    "mape",
    "mean_absolute_percentage_error",
    "msle",
    "mean_squared_logarithmic_error",
    "huber",
    "log_cosh",
    "logcosh",
    "poisson",
    "cosine_similarity",
)
CLASSIFICATION_LOSSES = (
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "sparse_categorical_crossentropy",
    "hinge",
    "squared_hinge",
)
LOSSES = {"regression": REGRESSION_LOSSES, "classification": CLASSIFICATION_LOSSES}
#: classification losses of one sigmoid output (two classes) / of one softmax output per class
TWO_CLASS_LOSSES = ("binary_crossentropy", "binary_focal_crossentropy", "hinge", "squared_hinge")
MULTI_CLASS_LOSSES = ("sparse_categorical_crossentropy",)
_LOSS_NOTES = {
    "categorical_crossentropy": "seqrun's labels are class ids, not one-hot vectors: use "
    "sparse_categorical_crossentropy (or binary_crossentropy for two classes)",
    "categorical_focal_crossentropy": "seqrun's labels are class ids, not one-hot vectors: use "
    "binary_focal_crossentropy for two classes or sparse_categorical_crossentropy",
    "categorical_hinge": "seqrun's labels are class ids, not one-hot vectors: use hinge for two "
    "classes",
}

COMPILED_METRICS = {"regression": ("loss", "mae"), "classification": ("loss", "accuracy", "auc")}
"""Dev metrics the trainer compiles per task (``auc`` for two classes only)."""

MAX_TENSOR_DIM = 2**31 - 1


def compiled_metrics(kind: str, binary: bool = True) -> tuple[str, ...]:
    """Names ``train.monitor`` may take for a task kind (``auc`` only with two classes)."""
    names = COMPILED_METRICS.get(kind, ("loss",))
    return names if binary else tuple(n for n in names if n != "auc")


def task_kind(cfg: Any) -> tuple[str | None, str | None]:
    """(task kind of the adapter, task kind of the metric set); None when not declared."""
    adapter = registry.get("adapter", cfg.data.adapter)
    default = getattr(adapter, "default_metrics", None)
    data_kind = getattr(adapter, "task_kind", None)
    if data_kind is None and default:
        data_kind = getattr(registry.get("metrics", default), "task_kind", None)
    metrics_kind = getattr(registry.get("metrics", cfg.metrics), "task_kind", None)
    return data_kind, metrics_kind


def memory_bytes() -> int:
    """Physical memory of this machine ($SEQRUN_MEMORY_BYTES overrides; 64 GiB if unknown)."""
    env = os.environ.get("SEQRUN_MEMORY_BYTES")
    if env:
        return int(env)
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 64 * 2**30


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB" if n < 2**50 else f"{n:.2g} bytes"


def _given(section: Any, name: str) -> int | None:
    value = getattr(section, name, None)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _sizes(cfg: Any) -> list[Any]:
    """Each sized thing a config implies (lower bounds), as the components declare them: the
    adapter's guess of the input, the encoder's refinement and weights, the architecture's
    weights and activations, one batch of inputs, the data itself."""
    from seqrun.core.contracts import MemoryItem

    adapter = registry.get("adapter", cfg.data.adapter)
    size = adapter.input_size(cfg.data)
    size, out = registry.get("encoder", cfg.encoder.type).input_size(cfg.encoder, size)
    out = list(out)
    batch = cfg.train.batch_size
    arch = registry.get("arch", cfg.model.arch).memory(cfg.model, size, batch)
    k = getattr(cfg.model, "ensemble", 1)
    if k > 1:  # K copies of the network
        arch = [i._replace(nbytes=k * i.nbytes, what=f"{k} x {i.what}") for i in arch]
    out += arch
    if size.steps:
        per = size.width if size.values_per_step is None else size.values_per_step
        per_batch = batch * size.steps * per
        key = size.steps_key if size.steps >= batch else "train.batch_size"
        out.append(MemoryItem(key, 4.0 * per_batch, f"{per_batch:.3g} input values per batch"))
    return out + adapter.memory(cfg.data, size)


def _value_at(data: Any, dotted: str) -> Any:
    for part in dotted.replace("[", ".").replace("]", "").split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def check_sizes(cfg: Any) -> tuple[str, str] | None:
    """A size the machine cannot hold (or a tensor dimension past 2**31-1), if any."""
    for key, value in (
        ("train.batch_size", cfg.train.batch_size),
        ("model.units", _given(cfg.model, "units")),
        ("model.layers", _given(cfg.model, "layers")),
        ("encoder.dim", _given(cfg.encoder, "dim")),
        ("encoder.sequence_len", _given(cfg.encoder, "sequence_len")),
        ("data.sequence_len", _given(cfg.data, "sequence_len")),
        ("data.maxlen", _given(cfg.data, "maxlen")),
        ("data.horizon", _given(cfg.data, "horizon")),
    ):
        if value is not None and value > MAX_TENSOR_DIM:
            return key, (
                f"{key} is {value:,}: larger than any tensor dimension (2**31-1 = "
                f"{MAX_TENSOR_DIM:,}); lower it"
            )
    limit = memory_bytes()
    for key, nbytes, what, fix in _sizes(cfg):
        if nbytes > limit:
            value = _value_at(cfg.to_dict(), key)
            shown = f"{key} = {value:,}" if isinstance(value, int) else f"{key} = {value}"
            return key, (
                f"{shown} gives {what}, about {_gib(nbytes)} of memory, more than this machine "
                f"has ({_gib(limit)}); {fix or f'lower {key}'}"
            )
    return None


def _scores(metrics: Any, provides: str) -> bool:
    """Whether a metric set scores an adapter's data kind (``data_kinds`` absent: any)."""
    kinds = getattr(metrics, "data_kinds", None)
    return not kinds or provides in kinds


def _metrics_data_kind(cfg: Any) -> tuple[str, str] | None:
    """A metric set that reads predictions the adapter's data module does not give (the
    persistence forecast of a series, the training mean of sequence targets)."""
    provides = getattr(registry.get("adapter", cfg.data.adapter), "provides", None)
    metrics = registry.get("metrics", cfg.metrics)
    if not isinstance(provides, str) or _scores(metrics, provides):
        return None
    data_kind, _ = task_kind(cfg)
    fits = [
        name
        for name in registry.names("metrics")
        if _scores(m := registry.get("metrics", name), provides)
        and getattr(m, "task_kind", None) in (None, data_kind)
    ]
    return "metrics", (
        f"metric set '{cfg.metrics}' scores {' or '.join(metrics.data_kinds)} data, but adapter "
        f"'{cfg.data.adapter}' gives {provides}; use metrics: {' or '.join(fits)}"
    )


def _arch_data_kind(cfg: Any) -> tuple[str, str] | None:
    """An architecture that models other data than the adapter's (``data_kinds``)."""
    kinds = getattr(registry.get("arch", cfg.model.arch), "data_kinds", ())
    provides = getattr(registry.get("adapter", cfg.data.adapter), "provides", None)
    if not kinds or provides in kinds:
        return None
    fits = [
        name
        for name in registry.names("adapter")
        if getattr(registry.get("adapter", name), "provides", None) in kinds
    ]
    return "model.arch", (
        f"model.arch '{cfg.model.arch}' models {' or '.join(kinds)} data but adapter "
        f"'{cfg.data.adapter}' gives {provides} data; choose another model.arch, or one of "
        f"the adapters {', '.join(fits)}"
    )


def check_experiment(cfg: Any) -> tuple[str, str] | None:
    """The first problem of a resolved config that needs neither data nor TensorFlow."""
    data_kind, metrics_kind = task_kind(cfg)
    if data_kind and metrics_kind and data_kind != metrics_kind:
        return "metrics", (
            f"metric set '{cfg.metrics}' scores {metrics_kind}, but adapter "
            f"'{cfg.data.adapter}' gives a {data_kind} task; use metrics: "
            f"{getattr(registry.get('adapter', cfg.data.adapter), 'default_metrics', '')}"
        )
    problem = _metrics_data_kind(cfg)
    if problem:
        return problem
    problem = _arch_data_kind(cfg)
    if problem:
        return problem
    from seqrun.core.contracts import compatibility

    problem = compatibility(
        cfg,
        registry.get("adapter", cfg.data.adapter),
        registry.get("encoder", cfg.encoder.type),
        registry.get("arch", cfg.model.arch),
    )
    if problem:
        return problem
    encoding = getattr(cfg.data, "encoding", None)
    if isinstance(encoding, str):
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            return "data.encoding", (
                f"unknown text encoding '{cut(encoding)}' (e.g. utf-8, cp1252, mac_roman, utf-16)"
            )
    kind = data_kind or metrics_kind
    t = cfg.train
    if t.loss is not None:
        known = (*REGRESSION_LOSSES, *CLASSIFICATION_LOSSES, *_LOSS_NOTES)
        if t.loss not in known:
            choices = LOSSES.get(kind or "", known)
            return "train.loss", (
                f"unknown loss '{cut(t.loss)}'{did_you_mean(t.loss, known)}; "
                f"use one of: {', '.join(choices)} (or null for the task's default)"
            )
        if t.loss in _LOSS_NOTES and kind in (None, "classification"):
            return "train.loss", f"loss '{t.loss}': {_LOSS_NOTES[t.loss]}"
        if kind in LOSSES and t.loss not in LOSSES[kind]:
            return "train.loss", (
                f"loss '{t.loss}' is not a {kind} loss; use one of: {', '.join(LOSSES[kind])} "
                "(or null for the task's default)"
            )
    if kind in COMPILED_METRICS:
        name = metric_name(t.monitor)
        allowed = compiled_metrics(kind)
        if name not in allowed:
            return "train.monitor", (
                f"train.monitor '{cut(t.monitor)}' is not a dev metric of a {kind} model"
                f"{did_you_mean(name, allowed)}; choose one of: {', '.join(allowed)}"
                + (" (auc with two classes only)" if "auc" in allowed else "")
            )
    return check_sizes(cfg)
