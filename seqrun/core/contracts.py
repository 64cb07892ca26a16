"""The written contracts between seqrun's generic code and its components.

A component is a class registered under a kind (see :mod:`seqrun.core.registry`):

==========  ========================  ==========================================================
kind        Protocol                  declares
==========  ========================  ==========================================================
adapter     :class:`DatasetAdapter`   its ``data:`` section, what its examples are (``provides``),
                                      how k-fold splits are cut, whether it can score one output
                                      per time step, default encoder and metric set
(data)      :class:`DataModule`       what ``adapter.load`` returns: the task, batches,
                                      predictions, its own description, leakage check, plots
encoder     :class:`Encoder`          what it reads (``accepts``) and what it gives the model
                                      (``output_kind``)
arch        :class:`Architecture`     the input kinds it reads (``accepts``), whether it returns
                                      one output per time step, optionally the adapters' data
                                      kinds it models (``data_kinds``)
metrics     :class:`MetricSet`        its task kind, headline metrics, baselines, directions,
                                      optionally the data kinds it scores (``data_kinds``)
==========  ========================  ==========================================================

Generic code (trainer, describe, leakage, k-fold, runs tables, reports, config checks) talks to
components only through these declarations; :func:`conformance` checks a class against its
Protocol (``tests/test_contracts.py`` runs it over every registered component, plugins
included). Nothing here imports TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, Literal, NamedTuple, Protocol, runtime_checkable

#: What an adapter's examples are before encoding, by family: ``text`` (one text per example),
#: ``series`` (windows cut from long numeric series). A new family names its own kind, and its
#: encoders list it in ``accepts``.
DataKind = str
#: What an encoder hands the model: one vector per example (``bag``), a sequence of token ids
#: (``token_ids``) or a sequence of numeric feature vectors (``numeric_sequence``).
InputKind = Literal["bag", "token_ids", "numeric_sequence"]
#: How k-fold cross-validation cuts a data set (None: the adapter has no k-fold split).
FoldScheme = Literal["stratified", "forward-chaining"]
TaskKind = Literal["regression", "classification"]
Direction = Literal["min", "max"]


@dataclass(frozen=True)
class LoadOptions:
    """What the trainer tells an adapter about the model, besides the adapter's own section."""

    #: the architecture emits one output per input step (``return_sequences``): score every step
    sequence_outputs: bool = False
    #: the data keys are given on the command line (``seqrun evaluate --set``): a fix says
    #: ``--set data.KEY=VALUE``, not the YAML ``data.KEY: VALUE``
    command_line: bool = False


@dataclass(frozen=True)
class InputSize:
    """What a config alone tells of one example's model input, for the memory check that runs
    before any data is read: the adapter gives a first guess, the encoder refines it."""

    width: int = 1  # values per step reaching the first layer
    width_key: str | None = None  # the config key that sets it (None: fixed by the data)
    steps: int | None = None  # steps per example (None: unknown before reading the data)
    steps_key: str = "data.sequence_len"
    vocab: int | None = None  # distinct token ids, for text
    vocab_key: str = ""
    values_per_step: int | None = None  # input tensor values per step (None: ``width``)

    def with_(self, **changes: Any) -> InputSize:
        """A copy with some fields changed."""
        return replace(self, **changes)


class MemoryItem(NamedTuple):
    """One sized thing a config implies: the key to blame, a lower bound in bytes, what it
    holds, and how to fix it when lowering ``key`` is not the advice."""

    key: str
    nbytes: float
    what: str
    fix: str | None = None


@runtime_checkable
class Batches(Protocol):
    """One split, ready to batch (``DataModule.batches(split)``)."""

    def __len__(self) -> int: ...

    def steps(self, batch_size: int) -> int:
        """Batches per epoch."""
        ...

    def dataset(self, batch_size: int, shard: Any = None) -> Any:
        """A ``tf.data.Dataset`` of (inputs, targets) in order (scoring)."""
        ...

    def training_dataset(
        self,
        batch_size: int,
        seed: int,
        first_epoch: int,
        last_epoch: int,
        shuffle: bool = True,
        shard: Any = None,
    ) -> Any:
        """One ``tf.data.Dataset`` of the batches of epochs ``first_epoch``..``last_epoch - 1``,
        each epoch's order from (seed, epoch), so that a resumed run sees the same batches."""
        ...


@runtime_checkable
class DataModule(Protocol):
    """The loaded splits of one experiment, and everything that depends on their family."""

    fingerprint: str  # a short content hash of the data, recorded in the run's meta.json
    # optional: ``split_fingerprints`` {split: hash} when ``fingerprint`` depends on the splits
    # loaded (text, sequences); `evaluate` then compares the splits both loads hold

    def sizes(self) -> dict[str, int]:
        """Examples per split."""
        ...

    def report(self) -> dict[str, Any]:
        """What the adapter did (rows dropped, values filled...), for ``meta.json``."""
        ...

    def fit_encoder(self, encoder: Any) -> None:
        """Fit ``encoder`` on the train split and encode every split with it."""
        ...

    def set_encoder(self, encoder: Any) -> None:
        """Encode every split with an already fitted encoder (evaluate, resume)."""
        ...

    @property
    def task(self) -> Any:
        """The :class:`seqrun.data.base.Task` the model is built for (after the encoder)."""
        ...

    def batches(self, split: str) -> Batches:
        """One split ready to batch."""
        ...

    def predictions(self, model: Any, split: str, batch_size: int = 256) -> dict[str, Any]:
        """The model's predictions on a split with the truth, in what the metric set reads."""
        ...

    def plot(self, preds: dict[str, Any], path: Path, title: str = "") -> None:
        """The family's qualitative figure of a split's predictions."""
        ...

    def write_artifacts(self, preds: dict[str, Any], run: Any, name: str) -> None:
        """Files a person reads besides the metrics (e.g. worst errors); may write nothing."""
        ...

    def describe(self, cfg: Any) -> dict[str, Any]:
        """``seqrun data describe``: sizes, per-split statistics, the family's own section."""
        ...

    def leakage(self, mode: str) -> dict[str, Any]:
        """The same example in two splits: ``{"issues", "checked", "skipped"}`` (the engine
        adds ``mode`` and ``found``; ``data.leakage: off`` never calls this); each issue has
        ``check``, ``splits``, ``count``, ``of``, ``message`` and ``examples`` (a few dicts
        naming the rows, e.g. ``{"train_id": 3, "dev_id": 7}``)."""
        ...

    @staticmethod
    def render_description(info: dict[str, Any]) -> tuple[str, list[tuple[str, ...]], list[str]]:
        """The headline, the per-split rows and the lines after the table (e.g. gaps) of a
        description (from ``describe``)."""
        ...

    @staticmethod
    def brief_description(info: dict[str, Any]) -> dict[str, Any]:
        """A few flat lines of a description, for the run report."""
        ...


@runtime_checkable
class DatasetAdapter(Protocol):
    """Reads one kind of source into a :class:`DataModule`; built from its own section only."""

    Config: ClassVar[type]  # the pydantic model of the ``data:`` section
    data_module: ClassVar[type]  # the DataModule class ``load`` returns
    provides: ClassVar[DataKind]
    fold_scheme: ClassVar[FoldScheme | None]
    sequence_outputs: ClassVar[bool]  # can score one output per input step
    default_encoder: ClassVar[dict[str, Any]]
    default_metrics: ClassVar[str]

    def __init__(self, section: Any, options: LoadOptions = ...) -> None: ...

    def load(self, splits: tuple[str, ...]) -> DataModule:
        """The requested splits (``train``, ``dev``, ``test``)."""
        ...

    @classmethod
    def check_config(cls, cfg: Any) -> tuple[str, str] | None:
        """Cross-section checks only this adapter knows: (config key, message) or None."""
        ...

    @classmethod
    def input_size(cls, section: Any) -> InputSize:
        """One example's model input as far as the ``data:`` section tells (memory check)."""
        ...

    @classmethod
    def memory(cls, section: Any, size: InputSize) -> list[MemoryItem]:
        """What the data itself takes in memory, as far as the config tells (may be [])."""
        ...

    def read_inputs(self, path: Path, column: str | None = None) -> tuple[list[dict], list[Any]]:
        """New examples from a file for ``seqrun predict``: (what each output row starts with,
        e.g. ``{"text": ...}`` or ``{"id": ...}``; the raw examples for
        ``Encoder.model_inputs``). A UserError when the family cannot predict from files.

        Optional instead: ``predict_file(path, model, encoder, meta) -> list[dict]``, for a
        family whose new examples are not independent rows (a forecast is made from the end
        of a whole series): ``seqrun predict --input`` then hands it the file, the run's model
        (as a function returning it, to call once the file is checked), fitted encoder and
        meta.json, and prints the rows it returns. Optional too:
        ``predict_keys``, the ``data.*`` keys of a file's layout (separator, encoding...) that
        ``seqrun predict --set`` may change; none when absent."""
        ...


@runtime_checkable
class Encoder(Protocol):
    """Fitted on the train split, saved with the run, applied to every split and to new input."""

    Config: ClassVar[type]
    accepts: ClassVar[tuple[DataKind, ...]]
    output_kind: ClassVar[InputKind]

    def __init__(self, cfg: Any) -> None: ...

    @classmethod
    def input_size(cls, cfg: Any, size: InputSize) -> tuple[InputSize, list[MemoryItem]]:
        """The model input after this encoder (``cfg``: its section), and its own weights."""
        ...

    def save(self, folder: Path) -> None:
        """Write the fitted state into a run's ``preprocessing/`` folder."""
        ...

    def load(self, folder: Path) -> None:
        """Read the fitted state back."""
        ...

    def model_front(self, task: Any) -> tuple[Any, Any] | None:
        """Keras (inputs, features) the model starts with, or None for a plain input."""
        ...

    def model_inputs(self, examples: list[Any]) -> Any:
        """Model inputs for raw examples read by ``DatasetAdapter.read_inputs`` (``seqrun
        predict``); a UserError when the encoder cannot encode new examples alone. A
        classification encoder also has ``class_names``."""
        ...


@runtime_checkable
class Architecture(Protocol):
    """Builds the keras.Model between the encoded inputs and the task's outputs."""

    Config: ClassVar[type]
    accepts: ClassVar[tuple[InputKind, ...]]

    def __init__(self, cfg: Any) -> None: ...

    @property
    def returns_sequences(self) -> bool:
        """Whether the model emits one output per input step (sequence-to-sequence)."""
        ...

    def build(self, task: Any, inputs: Any = None, features: Any = None) -> Any:
        """The keras.Model for ``task``; ``inputs``/``features`` come from the encoder's front."""
        ...

    @classmethod
    def memory(cls, cfg: Any, size: InputSize, batch_size: int) -> list[MemoryItem]:
        """Weights (x3: gradients and optimizer state) and activations of one batch, as far as
        the ``model:`` section and the input size tell (lower bounds; may be [])."""
        ...


@runtime_checkable
class MetricSet(Protocol):
    """Scores a split's predictions; declares how to read the scores."""

    task_kind: ClassVar[TaskKind]
    headline: ClassVar[tuple[str, ...]]  # the metrics a runs table or a report leads with
    baselines: ClassVar[dict[str, str]]  # metric -> the baseline metric it is compared with
    directions: ClassVar[dict[str, Direction]]  # metric -> whether lower or higher is better

    def compute(self, preds: dict[str, Any]) -> dict[str, Any]:
        """The metrics of one split's predictions (nested dicts allowed)."""
        ...


PROTOCOLS: dict[str, type] = {
    "adapter": DatasetAdapter,
    "encoder": Encoder,
    "arch": Architecture,
    "metrics": MetricSet,
}


def _members(proto: type) -> tuple[list[str], list[str]]:
    """(declared attributes, methods) of a Protocol, without the Protocol machinery."""
    attrs = list(getattr(proto, "__annotations__", {}))
    methods = [
        name
        for name, value in vars(proto).items()
        if not name.startswith("_")
        and (callable(value) or isinstance(value, property | staticmethod | classmethod))
    ]
    return attrs, methods


def conformance(kind: str, cls: type) -> list[str]:
    """What ``cls`` lacks to be a component of ``kind`` (empty when it conforms)."""
    problems: list[str] = []
    proto = PROTOCOLS[kind]
    attrs, methods = _members(proto)
    for name in attrs + methods:
        if not _has(cls, name):
            problems.append(f"{cls.__name__} has no '{name}' ({proto.__name__})")
    if kind == "adapter":
        problems += conformance_data_module(getattr(cls, "data_module", None), cls)
        if not isinstance(getattr(cls, "provides", None), str):
            problems.append(f"{cls.__name__}.provides must name its data kind (a string)")
        if getattr(cls, "fold_scheme", None) not in (None, "stratified", "forward-chaining"):
            problems.append(
                f"{cls.__name__}.fold_scheme must be stratified, forward-chaining or None"
            )
    if kind == "encoder" and getattr(cls, "output_kind", None) not in _KIND_WORDS:
        problems.append(f"{cls.__name__}.output_kind must be bag, token_ids or numeric_sequence")
    if kind == "metrics":
        directions = getattr(cls, "directions", {}) or {}
        for name in list(getattr(cls, "headline", ())) + list(getattr(cls, "baselines", {})):
            if name not in directions:
                problems.append(f"{cls.__name__} declares no direction for '{name}'")
        bad = {v for v in directions.values() if v not in ("min", "max")}
        if bad:
            problems.append(f"{cls.__name__}.directions values must be 'min' or 'max'")
    return problems


def conformance_data_module(module_cls: Any, adapter: type) -> list[str]:
    """What the data module class of ``adapter`` lacks."""
    if not isinstance(module_cls, type):
        return [f"{adapter.__name__}.data_module must name the class its load() returns"]
    attrs, methods = _members(DataModule)
    return [
        f"{module_cls.__name__} has no '{name}' (DataModule)"
        for name in attrs + methods
        if not _has(module_cls, name)
    ]


def _has(cls: type, name: str) -> bool:
    """A class attribute, method or property, or an attribute the class annotates (set in
    ``__init__``)."""
    return hasattr(cls, name) or any(
        name in vars(k).get("__annotations__", {}) for k in cls.__mro__
    )


def compatibility(cfg: Any, adapter: Any, encoder: Any, arch: Any) -> tuple[str, str] | None:
    """Whether the config's adapter, encoder and architecture classes fit together, from their
    declarations only: (config key, message) for the first mismatch, or None."""
    names = (cfg.data.adapter, cfg.encoder.type, cfg.model.arch)
    if adapter.provides not in encoder.accepts:
        return (
            "encoder.type",
            f"encoder '{names[1]}' reads {' or '.join(encoder.accepts)} data but adapter "
            f"'{names[0]}' gives {adapter.provides} data; choose an encoder that reads "
            f"{adapter.provides} (`seqrun list` shows them)",
        )
    if encoder.output_kind not in arch.accepts:
        kinds = " or ".join(_KIND_WORDS[k] for k in arch.accepts)
        return (
            "model.arch",
            f"encoder '{names[1]}' gives {_KIND_WORDS[encoder.output_kind]}, which model.arch "
            f"'{names[2]}' cannot read (it reads {kinds}); change model.arch or encoder.type",
        )
    if _returns_sequences(arch, cfg.model) and not adapter.sequence_outputs:
        return (
            "model.return_sequences",
            f"adapter '{names[0]}' scores one output per example (no output per time step); "
            "set model.return_sequences to false",
        )
    return None


_KIND_WORDS = {
    "bag": "one vector per example",
    "token_ids": "a sequence of token ids",
    "numeric_sequence": "a sequence of numeric vectors",
}


def _returns_sequences(arch: Any, arch_cfg: Any) -> bool:
    try:
        return bool(arch(arch_cfg).returns_sequences)
    except Exception:  # noqa: BLE001 - a config the schema accepted but the arch cannot build
        return False
