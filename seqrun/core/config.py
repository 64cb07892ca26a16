"""Experiment configuration: YAML -> pydantic models, ``--set`` overrides, precise errors.

An experiment file has the sections ``name``, ``seed``, ``data``, ``encoder``, ``model``,
``train`` and ``metrics``. ``data``, ``encoder`` and ``model`` are validated by the config
model of the component they name (``data.adapter``, ``encoder.type``, ``model.arch``).

Example:
    >>> cfg = load_config("configs/ladybug-gru.yaml", ["model.units=64"])
    >>> cfg.model.units
    64
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import re
import types
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationError,
    create_model,
    field_validator,
)
from pydantic_core import PydanticCustomError

from seqrun.core.errors import UserError, broken_link, cut, did_you_mean
from seqrun.core.registry import registry
from seqrun.core.runs import check_path_name


class Section(BaseModel):
    """Base of every config section: unknown keys are errors; a boolean key takes YAML's
    true or false alone (pydantic would read 0, 1, 'false' or 'yes' as one), a number or
    text key no boolean."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=(), allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_numbers(cls, v: Any, info: Any) -> Any:
        # pydantic would read true/false as 1/0 for a number (and Literal[1, 2] takes True)
        if info.field_name not in cls.model_fields:
            return v
        ann = cls.model_fields[info.field_name].annotation
        if isinstance(v, bool) and _numeric(ann):
            raise ValueError("expected a number, not a boolean")
        if _boolean(ann) and v is not None and not isinstance(v, bool):
            # pydantic would read 0/1 and 'false', 'yes', 'off' as booleans: most likely a
            # mistake (or one that works by accident), e.g. bidirectional: 0 or "false"
            raise PydanticCustomError(
                "bool_expected", "Expected true or false, not {what}", {"what": _kind_of(v)}
            )
        if isinstance(v, list) and any(isinstance(x, bool) for x in v):
            items = [a for a in (ann, *get_args(ann)) if get_origin(a) is list]
            if any(_numeric(get_args(a)[0]) for a in items if get_args(a)):
                raise ValueError("expected numbers, not booleans")
        _no_boolean_for_text_or_number(v, ann)
        return v


def _text_or_number(ann: Any) -> bool:
    """Whether an annotation takes text or a whole number but not a boolean (``int | str``):
    pydantic reads true there as 1 (and a bare yes/no/on/off is a boolean in YAML)."""
    if get_origin(ann) is Annotated:
        return _text_or_number(get_args(ann)[0])
    args = set(get_args(ann)) if get_origin(ann) in (Union, types.UnionType) else {ann}
    return {int, str} <= args and bool not in args


def _no_boolean_for_text_or_number(v: Any, ann: Any) -> None:
    """A boolean where :func:`_text_or_number` holds, also as an item of a list or a value of
    a mapping (``group: {station: NO}``), is an error saying to quote it."""
    for a in (ann, *(get_args(ann) if get_origin(ann) in (Union, types.UnionType) else ())):
        if get_origin(a) is list and get_args(a) and isinstance(v, list):
            values, item = v, get_args(a)[0]
        elif get_origin(a) is dict and len(get_args(a)) == 2 and isinstance(v, dict):
            values, item = list(v.values()), get_args(a)[1]
        else:
            values, item = [v], a
        if _text_or_number(item) and any(isinstance(x, bool) for x in values):
            raise ValueError(
                "expected text or a number, not a boolean (YAML reads a bare yes, no, on, off, "
                "true or false as one: quote it, e.g. 'NO')"
            )


def _boolean(ann: Any) -> bool:
    """Whether an annotation takes a boolean alone (``bool``, ``bool | None``, annotated)."""
    if get_origin(ann) is Annotated:
        return _boolean(get_args(ann)[0])
    if get_origin(ann) in (Union, types.UnionType):
        args = [a for a in get_args(ann) if a is not type(None)]
        return bool(args) and all(map(_boolean, args))
    return ann is bool


def _kind_of(v: Any) -> str:
    """What a YAML value is, in words (text, a number, a list, a mapping)."""
    if isinstance(v, int | float) and not isinstance(v, bool):
        return "a number"
    kinds = ((str, "text"), (list, "a list"), (dict, "a mapping"))
    return next((word for kind, word in kinds if isinstance(v, kind)), type(v).__name__)


def _numeric(ann: Any) -> bool:
    """Whether an annotation takes numbers (int, float, PositiveInt, Literal[1, 2], | None)."""
    if ann in (int, float):
        return True
    if get_origin(ann) is Literal:
        args = get_args(ann)
        return bool(args) and all(
            isinstance(a, int | float) and not isinstance(a, bool) for a in args
        )
    if get_origin(ann) is Annotated:
        return _numeric(get_args(ann)[0])
    args = [a for a in get_args(ann) if a is not type(None)]
    return get_origin(ann) in (Union, types.UnionType) and bool(args) and all(map(_numeric, args))


def no_blank_path(v: Any) -> Any:
    """``v`` unchanged, unless it is (or a list holding) an empty or blank path: an error, as
    ``Path("")`` is the working directory (read as "is a directory", or not found as " ")."""
    paths = [p for p in (v if isinstance(v, list) else [v]) if isinstance(p, str)]
    if any(not p.strip() for p in paths):
        raise ValueError("is empty: give the file's path")
    return v


class DataConfig(Section):
    """Base of dataset-adapter configs."""

    adapter: str = Field(description="Dataset adapter name (see `seqrun list`).")
    leakage: Literal["warn", "error", "off"] = Field(
        "warn",
        description="Leakage checks at every `train` and in `seqrun data describe` (texts found "
        "in train and dev/test after normalising case and whitespace; time-series windows whose "
        "targets fall in another split; a dev/test period before the end of the training data): "
        "'warn' prints counts and examples, 'error' stops with exit code 2, 'off' skips them.",
    )

    @field_validator("leakage", mode="before")
    @classmethod
    def _yaml_off(cls, v: Any) -> Any:
        # YAML 1.1 reads an unquoted off/no as false (and on/yes as true)
        if v is False:
            return "off"
        if v is True:
            return "warn"
        return v

    @field_validator("path", "test_path", mode="before", check_fields=False)
    @classmethod
    def _no_blank_path(cls, v: Any) -> Any:
        return no_blank_path(v)


class EncoderConfig(Section):
    """Base of encoder configs."""

    type: str = Field(description="Encoder name (see `seqrun list`).")

    @field_validator("path", mode="before", check_fields=False)
    @classmethod
    def _no_blank_path(cls, v: Any) -> Any:
        return no_blank_path(v)


class ModelConfig(Section):
    """Base of architecture configs."""

    arch: str = Field(description="Architecture name (see `seqrun list`).")
    ensemble: int = Field(
        1,
        ge=1,
        le=64,
        description="K independent copies of the network (own initial weights, own loss; K x "
        "the compute), used as their mean.",
    )


class EarlyStopping(Section):
    """Stop when the monitored dev metric stops improving."""

    patience: int | None = Field(
        None, ge=1, description="Epochs without improvement before stopping; null disables."
    )
    min_delta: float = Field(0.0, ge=0, description="Smallest change that counts as improvement.")
    restore_best: bool = Field(
        True, description="Evaluate/keep the best checkpoint (always saved as best.keras)."
    )


MIN_STEP = 1e-10
"""Smallest learning rate and clipnorm: a weight update below it changes no float32 weight
(relative precision 6e-8) of magnitude 1e-3 or more, so nothing would be learned."""
MAX_LEARNING_RATE = 10.0
"""Largest learning rate: beyond it every optimizer seqrun offers diverges on scaled inputs."""


class TrainConfig(Section):
    """How the model is fitted; the dev split is always the validation data."""

    epochs: int = Field(5, ge=1, description="Maximum number of passes over the training split.")
    batch_size: int = Field(32, ge=1, description="Examples per gradient step.")
    optimizer: Literal["adam", "adamw", "rmsprop", "sgd", "nadam", "adagrad"] = Field(
        "adam", description="Keras optimizer name."
    )
    learning_rate: float | None = Field(
        None,
        ge=MIN_STEP,
        le=MAX_LEARNING_RATE,
        description=f"Learning rate, {MIN_STEP:g} to {MAX_LEARNING_RATE:g}; null keeps the "
        "optimizer's Keras default.",
        json_schema_extra={
            "limits": f"below {MIN_STEP:g} the updates are lost in float32 rounding and nothing "
            f"is learned; above {MAX_LEARNING_RATE:g} training diverges: usual values are "
            "1e-4 to 1e-2"
        },
    )
    lr_schedule: Literal["constant", "cosine"] = Field(
        "constant",
        description="'cosine' decays the learning rate to 0 over all training steps "
        "(steadier dev scores at the end of short runs).",
    )
    clipnorm: float | None = Field(
        None,
        ge=MIN_STEP,
        description=f"Clip each gradient to this norm (at least {MIN_STEP:g}); null: no clipping.",
        json_schema_extra={
            "limits": f"gradients clipped below {MIN_STEP:g} move no weight; usual values are "
            "0.1 to 10, or null for no clipping"
        },
    )
    loss: str | None = Field(
        None, description="Keras loss name; null picks the task's default (mse, crossentropy)."
    )
    monitor: str = Field(
        "loss",
        description="Dev metric that selects the best checkpoint and drives early stopping "
        "(a compiled metric name such as 'loss' or 'mae', measured on dev).",
    )
    early_stopping: EarlyStopping = Field(
        default_factory=EarlyStopping, description="Early stopping on the monitored dev metric."
    )
    shuffle: bool = Field(True, description="Shuffle training examples each epoch (seeded).")
    deterministic: bool = Field(
        True, description="Enable TensorFlow op determinism (same seed -> same metrics on CPU)."
    )
    strategy: Literal["default", "mirrored", "multi_worker"] = Field(
        "default",
        description="tf.distribute strategy: 'mirrored' replicates over the visible GPUs (or "
        "the logical CPUs), 'multi_worker' over the workers of TF_CONFIG. batch_size is global.",
    )
    tensorboard: bool = Field(
        False, description="Write TensorBoard logs (per-epoch scalars) under <run>/tensorboard."
    )

    @field_validator("tensorboard")
    @classmethod
    def _tensorboard_installed(cls, value: bool) -> bool:
        import importlib.util

        if value and importlib.util.find_spec("tensorboard") is None:
            raise ValueError(
                "train.tensorboard needs the tensorboard package, which is not installed: "
                "pip install tensorboard (or set train.tensorboard: false)"
            )
        return value


class MlflowConfig(Section):
    """Where MLflow tracking sends a run."""

    uri: str | None = Field(
        None, description="Tracking URI; null: a local file store at <runs-dir>/mlruns."
    )
    experiment: str | None = Field(None, description="MLflow experiment; null: the run's name.")


class TrackingConfig(Section):
    """External experiment trackers (optional extras)."""

    mlflow: MlflowConfig | None = Field(
        None, description="Log params, per-epoch metrics, dev/test metrics and artifacts to MLflow."
    )


TOP_KEYS = ("name", "seed", "data", "encoder", "model", "train", "metrics", "tracking")


class ExperimentConfig(Section):
    """A whole experiment, as resolved from YAML and overrides."""

    name: str = Field(
        description="Experiment name: runs go to runs/<name>/ (letters, digits, '.', '_', '-'). "
        "Defaults to the file's stem.",
        json_schema_extra={"derived": "the file's stem"},
    )
    seed: int = Field(
        0, description="Global seed: weight initialisation, dropout, shuffling, data splits."
    )
    data: SerializeAsAny[DataConfig] = Field(description="Dataset adapter and its options.")
    encoder: SerializeAsAny[EncoderConfig] = Field(
        description="Preprocessing fitted on train only; defaults to the adapter's choice."
    )
    model: SerializeAsAny[ModelConfig] = Field(description="Architecture and its options.")
    train: TrainConfig = Field(default_factory=TrainConfig, description="Training options.")
    metrics: str = Field(
        description="Metric-set name; defaults to the adapter's choice.",
        json_schema_extra={"derived": "the adapter's"},
    )
    tracking: TrackingConfig = Field(
        default_factory=TrackingConfig, description="External experiment trackers."
    )

    @field_validator("name")
    @classmethod
    def _path_name(cls, v: str) -> str:
        try:
            return check_path_name(v)
        except UserError as e:
            raise ValueError(e.message) from None

    def to_dict(self) -> dict[str, Any]:
        """The resolved config as plain data (what `config show` prints)."""
        return self.model_dump(mode="json")

    def to_yaml(self) -> str:
        """The resolved config as YAML, keys in section order."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)


# ----------------------------------------------------------------------------- YAML with lines


MAX_YAML_VALUES = 100_000
"""Most values a YAML document may hold once its aliases are expanded (alias bombs stop here)."""
MAX_INT_DIGITS = 30
"""Longest integer literal accepted in YAML (2**64 has 20 digits)."""

_INT_TAG = "tag:yaml.org,2002:int"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _int_digits(text: str) -> int:
    body = text.strip().lstrip("+-").replace("_", "")
    if body[:2].lower() in ("0x", "0o", "0b"):
        body = body[2:]
    return len(body)


def _check_tree(root: yaml.Node, where: str) -> dict[str, int]:
    """Check a composed YAML document without expanding it; the line of each dotted key.

    Errors (UserError naming the file and line): a key given twice in one mapping, aliases
    that expand to more than MAX_YAML_VALUES values or refer to themselves, an integer
    literal longer than MAX_INT_DIGITS digits.
    """
    lines: dict[str, int] = {}
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def fail(node: yaml.Node, message: str) -> UserError:
        return UserError(message, where=f"{where}:{node.start_mark.line + 1}")

    def walk(node: yaml.Node, dotted: str) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise fail(
                node, f"the alias at '{dotted or '(top)'}' refers to itself (recursive YAML)"
            )
        active.add(key)
        size = 1
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _INT_TAG and _int_digits(node.value) > MAX_INT_DIGITS:
                raise fail(
                    node,
                    f"the integer at '{dotted or '(top)'}' has {_int_digits(node.value)} digits, "
                    f"too long to be a usable number (at most {MAX_INT_DIGITS})",
                )
        elif isinstance(node, yaml.SequenceNode):
            for i, child in enumerate(node.value):
                size += walk(child, f"{dotted}[{i}]" if dotted else f"[{i}]")
        elif isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE_TAG:
                    name = key_node.value
                    line = key_node.start_mark.line + 1
                    child = f"{dotted}.{name}" if dotted else str(name)
                    if name in seen:
                        raise fail(
                            key_node,
                            f"duplicate key '{child}' (lines {seen[name]} and {line}); "
                            "YAML keeps only one of them: remove the other",
                        )
                    seen[name] = line
                    lines.setdefault(child, line)
                else:
                    child = dotted
                size += walk(key_node, dotted) + walk(value_node, child)
        active.discard(key)
        if size > MAX_YAML_VALUES:
            raise fail(
                node,
                f"'{dotted or '(top)'}' expands to more than {MAX_YAML_VALUES:,} values through "
                "YAML aliases (an alias bomb?); write the values out or use fewer aliases",
            )
        sizes[key] = size
        return size

    walk(root, "")
    return lines


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader reading ``1e-4`` as a number, as YAML 1.2 (and ``--set``) do;
    YAML 1.1 wants ``1.0e-4`` and reads ``1e-4`` as text."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*\.?[0-9_]*|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


_OPENERS = {"flow sequence": ("[", "]"), "flow mapping": ("{", "}")}


def _yaml_fix(problem: str, context: str, mark: Any, opened: Any) -> tuple[str, Any]:
    """PyYAML's ``problem`` with how to fix it, and the mark of the line to name: where an
    unclosed quote or bracket (or a key without ':') starts, not where PyYAML gave up (the
    end of the file, or the next line)."""
    at = f"line {opened.line + 1}" if opened is not None else "this line"
    if "quoted scalar" in context:
        quote = "a quoted value" if opened is None else f"the quote opened on {at}"
        return f"{problem}: {quote} is never closed; add the closing quote", opened or mark
    for kind, (start, end) in _OPENERS.items():
        if kind in context and problem.startswith("expected ','"):
            fix = f"the '{start}' opened on {at} is not closed: add '{end}', or quote the value"
            return f"{problem} ({fix})", opened or mark
    if "simple key" in context and "expected ':'" in problem:
        return f"{problem}: {at} has no ': ' after its key; write 'key: value'", opened or mark
    if "'\\t'" in problem:
        return f"{problem} (YAML indents with spaces: replace the tabs)", mark
    if problem.startswith("mapping values are not allowed"):
        fix = "indent this line like the keys beside it, or quote a value that holds ': '"
        return f"{problem} ({fix})", mark
    if problem.startswith("expected <block end>, but found '") and problem[-2] in "]}":
        return f"{problem} (a closing '{problem[-2]}' that no bracket opened: remove it)", mark
    if problem.startswith("expected <block end>"):
        return f"{problem} (indent this line like the keys beside it)", mark
    if problem == "but found another document":
        fix = "a '---' line starts a second document; a config is one: remove the '---'"
        return f"the file holds more than one YAML document ({fix})", mark
    if "that cannot start any token" in problem:
        return f"{problem} (quote a value that starts with it)", mark
    if problem.startswith("found undefined alias"):
        return f"{problem} (quote a value that starts with '*')", mark
    if "constructor for the tag" in problem:
        return f"{problem} (seqrun reads plain YAML: remove the '!' tag, or quote the value)", mark
    return problem, mark


def load_yaml(text: str, where: str) -> tuple[Any, dict[str, int]]:
    """Parse YAML text safely: (data, line of each dotted key).

    Duplicate keys, alias bombs, recursive aliases and over-long integers are UserErrors
    naming ``where`` and the line; nothing is expanded before the checks pass.
    """
    try:
        node = yaml.compose(text, Loader=_Loader)
        lines = _check_tree(node, where) if node is not None else {}
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        if isinstance(e, yaml.reader.ReaderError) and isinstance(e.character, int):
            mark = types.SimpleNamespace(line=text.count("\n", 0, e.position))
            problem = (
                f"a control character ({chr(e.character)!r}) YAML does not allow: delete it (is "
                "this a binary file?), and keep the file plain UTF-8 text"
            )
        opened = getattr(e, "context_mark", None)
        problem, mark = _yaml_fix(problem, getattr(e, "context", None) or "", mark, opened)
        line = f":{mark.line + 1}" if mark else ""
        raise UserError(f"invalid YAML: {problem}", where=f"{where}{line}") from None
    except RecursionError:
        raise UserError(
            "invalid YAML: nested too deeply (hundreds of levels of brackets or indentation); "
            "a seqrun file needs a few levels: look for unclosed or repeated brackets",
            where=where,
        ) from None
    except ValueError as e:  # e.g. Python's limit on integer digits
        raise UserError(f"invalid YAML: {e}", where=where) from None
    return data, lines


class Source:
    """The raw mapping of an experiment file plus where each key came from."""

    def __init__(self, path: str | Path, raw: dict[str, Any], lines: dict[str, int]):
        self.path = str(path)
        self.raw = raw
        self.lines = lines
        self.overridden: dict[str, str] = {}

    def where(self, dotted: str, message: str | None = None) -> str:
        """``file:line key`` for a dotted key, walking up to the nearest known parent (with
        ``message``, a check of a whole section names a ``--set`` inside it only if the
        message does not blame another key of the section)."""
        probe = re.sub(r"\[\d+\]", "", dotted)  # model.filters[1]: set as model.filters
        while probe:
            if probe in self.overridden:
                return f"--set {shown_override(self.overridden[probe])}"
            probe = probe.rpartition(".")[0]
        inside = {k: t for k, t in self.overridden.items() if k.startswith(dotted + ".")}
        below = list(inside.values())
        if below and dotted not in self.lines:  # a section the file lacks, made by --set
            return f"--set {shown_override(below[-1])}"
        if below and message:
            named = [t for k, t in inside.items() if _mentions(message, k)]
            blamed = re.search(rf"(?<![\w.]){re.escape(dotted)}\.\w", message)
            below = named or ([] if blamed else below)  # 'data.time_column is required'
        # a check of a whole section that --set changed inside: name both
        also = f" (with --set {shown_override(below[-1])})" if below else ""
        probe = re.sub(r"\[\d+\]", "", dotted)
        while probe:
            if probe in self.lines:
                return f"{self.path}:{self.lines[probe]} {dotted}{also}"
            probe = probe.rpartition(".")[0]
        return f"{self.path} {dotted}{also}" if dotted else self.path

    def where_problem(self, dotted: str, message: str) -> str:
        """:meth:`where` for a check across keys: also names a ``--set`` of another key the
        message mentions (``data.index_from`` changed, ``data.num_words`` blamed)."""
        where = self.where(dotted, message)
        if where.startswith("--set"):
            return where
        related = [
            text
            for key, text in self.overridden.items()
            if key != dotted and not key.startswith(dotted + ".") and _mentions(message, key)
        ]
        return f"{where} (with --set {shown_override(related[-1])})" if related else where


def _mentions(message: str, key: str) -> bool:
    """Whether ``message`` names the dotted ``key`` or its last part as a word."""
    return any(
        re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", message)
        for name in (key, key.rpartition(".")[2])
    )


def read_saved_config(path: str | Path) -> dict[str, Any]:
    """A run's config.yaml as a raw mapping ({} when absent); bad YAML is a UserError
    naming the file and the line."""
    return read_yaml(path).raw if Path(path).is_file() else {}


MAX_YAML_BYTES = 4 * 2**20
"""Largest experiment, sweep or study file read (a larger one is not read at all)."""


def _yaml_mapping(path: str | Path, what: str, keys: str) -> Source:
    """A YAML file holding a mapping (``keys`` says of what); UserErrors name the file and,
    for bad YAML, the line."""
    p = Path(path)
    if not p.exists() or p.is_dir():  # a pipe (bash's <(...)) or /dev/stdin reads as a file
        if link := broken_link(p):
            raise UserError(
                f"the {what} file is {link}; point the link at the file, or give the file's own "
                "path",
                where=str(path),
            )
        hint = " (it is a directory)" if p.is_dir() else ""
        raise UserError(f"{what} file not found{hint}; check the path", where=str(path))
    try:
        with p.open("rb") as f:  # bounded: /dev/zero, or a data file given by mistake
            data = f.read(MAX_YAML_BYTES + 1)
        if len(data) > MAX_YAML_BYTES:
            most = MAX_YAML_BYTES
            size = f"{most // 2**20} MiB" if most % 2**20 == 0 else f"{most:,} bytes"
            raise UserError(
                f"the file is over {size}, too large for a {what} file "
                "(a few lines of YAML): is it a data file? check the path",
                where=str(path),
            )
        text = data.decode("utf-8-sig")
    except OSError as e:
        raise UserError(f"cannot read the {what} file ({e.strerror})", where=str(path)) from None
    except UnicodeDecodeError as e:
        raise UserError(
            f"not UTF-8 text ({e.reason} at byte {e.start}); save the file as UTF-8",
            where=str(path),
        ) from None
    raw, lines = load_yaml(text, str(path))
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise UserError(f"expected a mapping of {keys}, got {type(raw).__name__}", where=str(path))
    return Source(path, raw, lines)


def read_yaml(path: str | Path) -> Source:
    """Parse an experiment file; a UserError with the line for bad YAML or a missing file."""
    return _yaml_mapping(path, "config", f"sections ({', '.join(TOP_KEYS)})")


# ----------------------------------------------------------------------------- overrides


_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")
MAX_SHOWN_OVERRIDE = 80


def shown_override(text: str) -> str:
    """A ``--set`` text as an error shows it: the value cut when the whole is long."""
    if len(text) <= MAX_SHOWN_OVERRIDE:
        return text
    key, sep, value = text.partition("=")
    if len(key) > MAX_SHOWN_OVERRIDE - 10:
        return text[: MAX_SHOWN_OVERRIDE - 3] + "..."
    room = max(MAX_SHOWN_OVERRIDE - len(key) - len(sep) - 3, 10)
    return f"{key}{sep}{value[:room]}... ({len(value):,} characters)"


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``a.b=VALUE`` at the first ``=``; VALUE is a YAML scalar, else the raw string
    (also when it holds a ``#``, which YAML would read as the start of a comment)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise UserError(
            "expected KEY=VALUE with a dotted key, e.g. --set model.units=64",
            where=f"--set {shown_override(text)}",
        )
    if "#" in value and not value.lstrip().startswith(("'", '"', "[", "{")):
        return key, value.strip()  # no comment on a command line: 'data #2.csv' is a file name
    try:
        parsed = load_yaml(value, f"--set {shown_override(text)}")[0] if value.strip() else value
    except UserError as e:
        if "invalid YAML" not in e.message:
            raise UserError(
                e.message.replace("'(top)'", f"'{key}'"), where=f"--set {shown_override(text)}"
            ) from None
        parsed = value
    if isinstance(parsed, dict | list) and not value.strip().startswith(("[", "{")):
        parsed = value  # "a: b" parses as a mapping; a user typing it meant text
    if parsed == "" and value.strip()[:1] in ("|", ">"):
        parsed = value.strip()  # YAML's block-text marks read as empty text: '|' is a separator
    if isinstance(parsed, str) and _FLOAT.fullmatch(value.strip()):
        parsed = float(parsed)  # YAML 1.1 reads 1e-3 as text
    return key, parsed


_SHELL_PLAIN = re.compile(r"[\w./:=,+@%-]+")


def set_option(key: str, value: str) -> str:
    """``--set KEY=VALUE`` as a fix a user pastes into a shell: ``value`` is YAML text (as a
    config writes it, e.g. ``';'``, ``['M']``), given without its quotes when --set reads it
    the same without them, and the whole quoted for the shell when it holds characters a
    shell reads (spaces, ``;``, brackets)."""
    with contextlib.suppress(UserError):
        want = parse_override(f"{key}={value}")[1]
        bare = value[1:-1] if len(value) > 2 and value[0] == value[-1] in "'\"" else None
        if bare is not None and parse_override(f"{key}={bare}") == (key, want):
            value = bare
    text = f"{key}={value}"
    if _SHELL_PLAIN.fullmatch(text):
        return f"--set {text}"
    if not re.search(r'["$`\\!]', text):
        return f'--set "{text}"'
    return "--set '" + text.replace("'", "'\"'\"'") + "'"


def apply_overrides(source: Source, overrides: list[str]) -> None:
    """Apply ``--set`` overrides in order to the raw mapping."""
    for text in overrides or []:
        key, value = parse_override(text)
        parts = key.split(".")
        node = source.raw
        for i, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                parent = ".".join(parts[: i + 1])
                raise UserError(
                    f"'{parent}' is a value, not a section: cannot set '{key}'",
                    where=f"--set {shown_override(text)}",
                )
            node = child
        node[parts[-1]] = value
        source.overridden[key] = text


# ----------------------------------------------------------------------------- validation


def _describe_value(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return cut(text)


_BOUNDS = {
    "gt": "greater than",
    "ge": "greater than or equal to",
    "lt": "less than",
    "le": "less than or equal to",
}


def _field_at(model: type, loc: list[str]) -> Any:
    """The pydantic field at ``loc`` in a (nested) model, or None."""
    field = None
    for part in loc:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return None
        ann = field.annotation
        for arg in (ann, *getattr(ann, "__args__", ())):  # Section | None
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                model = arg
                break
    return field


def _field_extra(model: type, loc: list[str]) -> dict[str, Any]:
    """The ``json_schema_extra`` of the field at ``loc`` in a (nested) model, or {}."""
    extra = getattr(_field_at(model, loc), "json_schema_extra", None)
    return extra if isinstance(extra, dict) else {}


#: the words YAML 1.1 (PyYAML) reads as booleans when they are not quoted
_YAML_BOOLEANS = {"true", "false", "yes", "no", "on", "off"}

_TAG_WORDS = {
    "str": "text",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "none": "null",
}


def _is_tag(part: Any) -> bool:
    """Whether a location part names a member of a union (``str``, ``list[str]``,
    ``SplitFractions``) rather than a key (seqrun's keys are snake_case)."""
    text = str(part)
    return text in _TAG_WORDS or not re.fullmatch(r"[a-z0-9_]+", text)


def _kind_word(tag: str) -> str:
    """A union member's tag in words (``list[str]`` -> ``a list``)."""
    if tag in _TAG_WORDS:
        return _TAG_WORDS[tag]
    head, _, inner = tag.partition("[")
    if head == "literal":
        return "one of " + inner[:-1]
    if head in ("list", "set"):
        items = {"str": "text", "int": "whole numbers", "float": "numbers"}.get(inner[:-1])
        return f"a list of {items}" if items else "a list"
    return "a mapping"


def _merge_unions(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One error per field for a value that fits no member of a union (pydantic gives one per
    member, at locations such as ``targets.list[str].0``): the members in words, or the
    member's own message when a validator of it spoke (``value_error``)."""
    out: list[dict[str, Any]] = []
    groups: dict[tuple[Any, ...], list[tuple[int, dict[str, Any]]]] = {}
    for e in errors:
        loc = tuple(e["loc"])
        i = next((j for j, part in enumerate(loc) if _is_tag(part)), None)
        if i is None or e["type"] == "extra_forbidden":
            out.append(e)
            continue
        field = loc[:i]
        if field not in groups:
            groups[field] = []
            out.append({"type": "union", "loc": field, "group": groups[field]})
        groups[field].append((i, e))
    merged = []
    for e in out:
        if e["type"] != "union":
            merged.append(e)
            continue
        group = e["group"]
        spoke = [x for _, x in group if x["type"] == "value_error"]
        if spoke:
            merged.append({**spoke[0], "loc": e["loc"]})
            continue
        kinds = list(dict.fromkeys(_kind_word(str(x["loc"][i])) for i, x in group))
        whole = [x for i, x in group if len(x["loc"]) == i + 1]
        merged.append(
            {
                "type": "union",
                "loc": e["loc"],
                "msg": f"Expected {' or '.join(kinds)}",
                "input": (whole or [group[0][1]])[0].get("input"),
            }
        )
    return merged


def _section_models(raw: dict[str, Any]) -> dict[str, type]:
    """The config model of each section the raw mapping names (unknown names left out)."""
    models: dict[str, type] = {"train": TrainConfig, "tracking": TrackingConfig}
    adapter = None
    for key, kind, tag in (("data", "adapter", "adapter"), ("encoder", "encoder", "type")):
        section = raw.get(key)
        name = section.get(tag) if isinstance(section, dict) else section
        if key == "encoder" and name is None and adapter is not None:
            default = getattr(adapter, "default_encoder", None)
            name = default.get("type") if isinstance(default, dict) else default
        try:
            models[key] = registry.get(kind, name).Config
            adapter = registry.get(kind, name) if kind == "adapter" else adapter
        except (UserError, ImportError, AttributeError):
            continue
    section = raw.get("model")
    name = section.get("arch") if isinstance(section, dict) else section
    with contextlib.suppress(UserError, ImportError, AttributeError):
        models["model"] = registry.get("arch", name).Config
    return models


def _home_of(raw: dict[str, Any], name: str, here: str) -> str:
    """Where a key written at the wrong level belongs (``epochs`` -> ``train.epochs``), as
    a dotted key of another section (or of its nested sections, or the top level); ""."""
    if here and name in ("name", "seed", "metrics"):  # the top level's values
        return name
    for section, model in _section_models(raw).items():
        for field, info in model.model_fields.items():
            if field == name and section != here:
                return f"{section}.{field}"
            ann, nested = info.annotation, f"{section}.{field}"
            if (
                isinstance(ann, type)
                and issubclass(ann, BaseModel)
                and name in ann.model_fields
                and nested != here
            ):
                return f"{nested}.{name}"
    return ""


def _home_hint(name: str, home: str) -> str:
    """`` ('epochs' is a key of 'train': write it as train.epochs)``."""
    parent = home.rpartition(".")[0]
    where = f"a key of '{parent}'" if parent else "a top-level key"
    return f" ('{name}' is {where}: write it as {home})"


def _raise_validation(err: ValidationError, source: Source, prefix: str, model: type) -> None:
    lines = []
    errors = _merge_unions(err.errors(include_url=False))
    # an unknown key first: the typo of a missing one
    for e in sorted(errors, key=lambda e: e["type"] != "extra_forbidden"):
        loc = [str(p) for p in e["loc"]]
        dotted = ".".join([prefix, *loc] if prefix else loc)
        if e["type"] == "extra_forbidden":
            fields = _fields_at(model, loc[:-1])
            hint = did_you_mean(loc[-1], fields)
            key, colon, value = loc[-1].partition(":")
            if colon and key.strip() in fields:  # {train:0.8}: YAML reads one key, no value
                hint = (
                    f" (write '{key.strip()}: {value.strip()}' with a space after the colon: "
                    f"YAML reads '{loc[-1]}' as one key)"
                )
            home = "" if hint else _home_of(source.raw, loc[-1], dotted.rpartition(".")[0])
            if home:  # "model.epochs": a key of another section
                hint = _home_hint(loc[-1], home)
            valid = f"; valid keys: {', '.join(fields)}" if fields and not hint else ""
            msg = f"unknown key '{dotted}'{hint}{valid}"
        elif e["type"] == "missing":
            msg = f"missing required key '{dotted}'"
            what = getattr(_field_at(model, loc), "description", None)
            if what:  # what to write: "base: Experiment file, relative to the sweep file"
                what = re.split(r"; |\.\s+(?=[A-Z])", what.strip().rstrip("."), maxsplit=1)[0]
                msg += f"; add '{loc[-1]}:' ({what})"
        else:
            text = e["msg"].removeprefix("Value error, ")
            if e["type"] == "int_parsing_size":  # "unable to parse input string" of 1e308
                text = "Too large for a whole number"
            if e["type"] == "model_type":  # "a valid dictionary or instance of SplitFractions"
                fields = _fields_at(model, loc)
                text = "Expected a mapping" + (f" of keys ({', '.join(fields)})" if fields else "")
            inp = e.get("input")
            if isinstance(inp, str) and len(inp) > 60 and inp in text:  # a validator quoting it
                text = text.replace(repr(inp), _describe_value(inp))
                text = text.replace(inp, cut(inp))
            ctx = e.get("ctx") or {}
            bound = next((k for k in _BOUNDS if isinstance(ctx.get(k), int | float)), None)
            if bound:  # pydantic writes 1e-10 as 0.0000000001
                text = f"Input should be {_BOUNDS[bound]} {ctx[bound]:g}"
            msg = f"{text[:1].lower()}{text[1:]}"
            if dotted:  # (a check of the whole file says what it found itself)
                msg += f" at '{dotted}'"
            shown = _describe_value(e.get("input"))
            if dotted and not isinstance(e.get("input"), dict) and f"got {shown}" not in text:
                msg += f", got {shown}"
            why = _field_extra(model, loc).get("limits")
            if bound and why:
                msg += f" ({why})"
            if e["type"] == "list_type" and isinstance(e.get("input"), str | int | float):
                text = str(e["input"]).strip().strip("[]()")
                if len(text) <= 40:
                    msg += f" (a YAML list is written in brackets: [{text}])"
            expected = (e.get("ctx") or {}).get("expected")
            if e["type"] == "literal_error" and isinstance(e.get("input"), str) and expected:
                msg += did_you_mean(e["input"], re.findall(r"'([^']*)'", expected))
            words = set(re.findall(r"'[^']*'", expected or ""))
            if isinstance(e.get("input"), bool) and {"'on'", "'off'"} <= words:
                quoted = "'on'" if e["input"] else "'off'"
                msg += f" (YAML reads a bare on/off as true/false: quote it, {quoted})"
            if e["type"] in ("bool_expected", "bool_type"):
                inp = e.get("input")
                bare = isinstance(inp, str) and inp.strip().lower() in _YAML_BOOLEANS
                msg += f" (write true or false{', without quotes' if bare else ''})"
        lines.append((source.where(dotted, msg), msg))
    (where, first), *rest = lines
    more = "; ".join(f"{w}: {m}" for w, m in rest[:3])
    if len(rest) > 3:
        more += f"; and {len(rest) - 3} more"
    raise UserError(f"{first} (also {more})" if rest else first, where=where)


def read_spec(path: str | Path, model: type[BaseModel], what: str) -> tuple[Any, Source]:
    """A sweep or study file: UTF-8 YAML holding a mapping, validated by ``model``; bad
    input is a UserError naming the file, the line and the key (as experiment files)."""
    keys = ", ".join(f"{k}:" for k in list(model.model_fields)[:3])
    source = _yaml_mapping(path, what, f"keys ({keys} ...)")
    raw = source.raw
    if "base" in model.model_fields and "base" not in raw and {"data", "model"} & set(raw):
        raise UserError(
            f"this is an experiment file; a {what} file names one with base: (its path, "
            f"relative to the {what} file) and says what to vary",
            where=str(path),
        )
    other = {"sweep": ("study", "space", "seqrun tune"), "study": ("sweep", "grid", "seqrun sweep")}
    if what in other:
        kind, key, command = other[what]
        if key in raw and key not in model.model_fields:
            raise UserError(
                f"'{key}:' makes this a {kind} file: run it with {command}",
                where=source.where(key),
            )
    try:
        return model.model_validate(raw), source
    except ValidationError as err:
        _raise_validation(err, source, "", model)
        raise  # unreachable: _raise_validation raises


def base_file(path: str | Path, base: str, source: Source, what: str) -> Path:
    """The experiment file that a sweep or study file names in ``base:``, resolved from the
    folder of that file; an empty one, or one that is not a file, is a UserError at the
    ``base:`` line (not at the first trial, naming neither the file nor the key)."""
    folder = Path(path).parent
    if not base.strip():
        raise UserError(
            f"is empty: give the experiment file's path, relative to the {what} file",
            where=source.where("base"),
        )
    resolved = (folder / base).resolve()
    if not resolved.is_file():
        state = "is a directory" if resolved.is_dir() else "not found"
        raise UserError(
            f"experiment file {resolved} {state} (base: is relative to the {what} file's "
            f"folder, {folder}); check the path",
            where=source.where("base"),
        )
    return resolved


def _fields_at(model: type, path: list[str]) -> list[str]:
    """Names of the fields of a (nested) pydantic model at ``path``."""
    for part in path:
        field = getattr(model, "model_fields", {}).get(part)
        ann = getattr(field, "annotation", None)
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return []
        model = ann
    return list(getattr(model, "model_fields", {}))


def _validate_section(model: type[BaseModel], data: Any, source: Source, key: str) -> BaseModel:
    if not isinstance(data, dict):
        raise UserError(
            f"expected a mapping for '{key}', got {_describe_value(data)}", where=source.where(key)
        )
    try:
        return model.model_validate(data)
    except ValidationError as err:
        _raise_validation(err, source, key, model)
        raise  # unreachable


def _component_section(source: Source, kind: str, key: str, tag: str, default: Any) -> BaseModel:
    data = source.raw.get(key, default)
    if data is None:
        given = key in source.raw  # written as null (or emptied by --set) rather than absent
        raise UserError(
            f"{'empty' if given else 'missing'} section '{key}' (it needs at least '{key}.{tag}')",
            where=source.where(key) if given else source.path,
        )
    if isinstance(data, str):  # shorthand: "encoder: embedding"
        data = {tag: data}
    if not isinstance(data, dict):
        raise UserError(
            f"expected a mapping for '{key}', got {_describe_value(data)}", where=source.where(key)
        )
    if tag not in data and isinstance(default, dict) and tag in default:
        data = {**default, **data}  # options of the default component (encoder: {max_length: 9})
    if tag not in data:
        names = ", ".join(registry.names(kind))
        typo = [k for k in data if isinstance(k, str) and did_you_mean(k, [tag])]
        if typo:  # "model: {arc: gru}"
            raise UserError(
                f"unknown key '{key}.{typo[0]}' (did you mean '{tag}'?); '{key}.{tag}' names "
                f"the component, one of: {names}",
                where=source.where(f"{key}.{typo[0]}"),
            )
        raise UserError(
            f"missing required key '{key}.{tag}' (one of: {names})", where=source.where(key)
        )
    try:
        entry = registry.entry(kind, data[tag])
    except UserError as e:
        raise UserError(e.message, where=source.where(f"{key}.{tag}")) from None
    return _validate_section(entry.load().Config, data, source, key)


def resolve(source: Source) -> ExperimentConfig:
    """Validate a raw mapping (overrides applied) into an ExperimentConfig."""
    raw = source.raw
    if not raw:
        raise UserError(
            "the file holds no settings (it is empty or only comments); an experiment needs at "
            "least data.adapter and model.arch (see configs/*.yaml for examples)",
            where=source.path,
        )
    kind = spec_kind(raw)
    if kind:
        command = "seqrun tune" if kind == "study" else "seqrun sweep"
        raise UserError(
            f"this is a {kind} file (base: names its experiment file), not an experiment: run "
            f"it with {command}; seqrun config validate checks it",
            where=source.where("base"),
        )
    for key in raw:
        if key not in TOP_KEYS:
            home = _home_of(source.raw, str(key), "")
            hint = did_you_mean(str(key), TOP_KEYS) or (_home_hint(str(key), home) if home else "")
            raise UserError(
                f"unknown section '{key}'{hint}; valid sections: {', '.join(TOP_KEYS)}",
                where=source.where(str(key)),
            )
    data = _component_section(source, "adapter", "data", "adapter", None)
    adapter_cls = registry.get("adapter", data.adapter)
    encoder = _component_section(
        source, "encoder", "encoder", "type", getattr(adapter_cls, "default_encoder", None)
    )
    model = _component_section(source, "arch", "model", "arch", None)
    train_raw = raw.get("train")
    train = _validate_section(TrainConfig, {} if train_raw is None else train_raw, source, "train")
    metrics = raw.get("metrics", getattr(adapter_cls, "default_metrics", None))
    if metrics is None:
        given = "metrics" in raw  # written as null
        raise UserError(
            f"{'empty' if given else 'missing'} key 'metrics': give a metric-set name (one of: "
            f"{', '.join(registry.names('metrics'))})",
            where=source.where("metrics") if given else source.path,
        )
    if not isinstance(metrics, str):
        raise UserError(
            f"expected a metric-set name at 'metrics', got {_describe_value(metrics)}",
            where=source.where("metrics"),
        )
    try:
        registry.entry("metrics", metrics)
    except UserError as e:
        raise UserError(e.message, where=source.where("metrics")) from None
    if raw.get("name") is not None:
        name = raw["name"]
        try:
            check_path_name(name, "name")
        except UserError as e:
            raise UserError(e.message, where=source.where("name")) from None
    else:
        name = Path(source.path).stem
        try:
            check_path_name(name, "name")
        except UserError as e:
            raise UserError(
                f"{e.message}; the file name gives the experiment name: set 'name' or rename "
                "the file",
                where=source.path,
            ) from None
    top = {
        "name": name,
        "data": data,
        "encoder": encoder,
        "model": model,
        "train": train,
        "metrics": metrics,
    }
    if "seed" in raw:
        top["seed"] = raw["seed"]
    if raw.get("tracking") is not None:
        top["tracking"] = _validate_section(TrackingConfig, raw["tracking"], source, "tracking")
    try:
        cfg = ExperimentConfig.model_validate(top)
    except ValidationError as err:
        _raise_validation(err, source, "", ExperimentConfig)
        raise
    check_numbers(cfg.to_dict(), source)
    from seqrun.core.checks import check_experiment

    problem = check_experiment(cfg)
    if problem:
        key, message = problem
        raise UserError(message, where=source.where_problem(key, message))
    check = getattr(adapter_cls, "check_config", None)
    if check is not None:
        problem = check(cfg)
        if problem:
            key, message = problem
            raise UserError(message, where=source.where_problem(key, message))
    return cfg


SEED_MAX = 2**32 - 1
INT_LIMIT = 2**63 - 1


def check_numbers(data: Any, source: Source, prefix: str = "") -> None:
    """Every number finite and usable: seeds in 0..2**32-1, integers within 64 bits."""
    if isinstance(data, dict):
        for k, v in data.items():
            check_numbers(v, source, f"{prefix}.{k}" if prefix else str(k))
        return
    if isinstance(data, list):
        for v in data:
            check_numbers(v, source, prefix)
        return
    if isinstance(data, bool):
        return
    if isinstance(data, float) and not math.isfinite(data):
        raise UserError(f"'{prefix}' must be a finite number, got {data}", source.where(prefix))
    if isinstance(data, int):
        last = prefix.rpartition(".")[2]
        if last.endswith("seed") and not 0 <= data <= SEED_MAX:
            raise UserError(
                f"'{prefix}' must be within 0..{SEED_MAX} (2**32-1), got {_describe_value(data)}",
                where=source.where(prefix),
            )
        if abs(data) > INT_LIMIT:
            raise UserError(
                f"'{prefix}' is {_describe_value(data)}: too large to be used (at most 2**63-1)",
                where=source.where(prefix),
            )


def spec_kind(raw: Any) -> str | None:
    """'sweep' or 'study' for the mapping of a sweep or study file (``base:`` naming an
    experiment file, ``space:`` for a study), None for anything else. One whose ``base:`` is
    missing or misspelt is still known by what it varies (``grid:``, ``random:``, ``seeds:``,
    ``space:``), so that its error names ``base`` rather than "unknown section 'grid'"."""
    if not isinstance(raw, dict) or {"data", "model"} & set(raw):
        return None
    if "base" not in raw and not {"grid", "random", "seeds", "space"} & set(raw):
        return None
    return "study" if "space" in raw else "sweep"


def load_config(path: str | Path, overrides: list[str] | None = None) -> ExperimentConfig:
    """Read, override and validate an experiment file."""
    source = read_yaml(path)
    apply_overrides(source, overrides or [])
    return resolve(source)


def config_from_dict(raw: dict[str, Any], origin: str = "<config>") -> ExperimentConfig:
    """Validate an already-parsed mapping (a run's saved config, a sweep trial)."""
    return resolve(Source(origin, json.loads(json.dumps(raw)), {}))


def flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one mapping of dotted keys (``{"a": {"b": 1}}`` -> ``{"a.b": 1}``)."""
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: d}


def config_difference(a: ExperimentConfig, b: ExperimentConfig) -> list[str]:
    """Dotted keys whose values differ, as ``key: a -> b`` lines."""
    fa, fb = flatten(a.to_dict()), flatten(b.to_dict())
    return [
        f"{k}: {json.dumps(fa.get(k))} -> {json.dumps(fb.get(k))}"
        for k in sorted(set(fa) | set(fb))
        if fa.get(k) != fb.get(k)
    ]


def config_key(cfg: ExperimentConfig) -> str:
    """A short hash of the resolved config: equal keys mean the same experiment."""
    import hashlib

    text = json.dumps(cfg.to_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------- schema & docs


def _variant(kind: str, tag: str, name: str) -> type[BaseModel]:
    """For the schema: the component's config fields, its tag pinned to its name (required).

    A copy of the fields rather than a subclass: pydantic allows no before-validator (such as
    ``Section``'s) on a discriminator field; the schema of each field is the same.
    """
    base = registry.get(kind, name).Config
    fields: dict[str, Any] = {
        tag: (Literal[name], Field(description=base.model_fields[tag].description))
    }
    for field, info in base.model_fields.items():
        fields.setdefault(field, (info.annotation, copy.copy(info)))
    title = "".join(w.capitalize() for w in re.split(r"[^0-9A-Za-z]+", name)) or "Component"
    return create_model(
        f"{title}{_SCHEMA_SUFFIX[kind]}",
        __config__=ConfigDict(**base.model_config),
        __doc__=registry.entry(kind, name).describe() or base.__doc__,
        **fields,
    )


def _union(kind: str, tag: str) -> Any:
    """One config model per registered name (plugins included), told apart by ``tag``, or
    the name alone (the shorthand ``encoder: embedding``).

    In the JSON Schema the models are a ``oneOf`` with a ``discriminator`` on ``tag``, so an
    editor checks a section against the keys of the one component it names.
    """
    names = registry.names(kind)
    models = [_variant(kind, tag, n) for n in names]
    one = models[0] if len(models) == 1 else Union[tuple(models)]  # noqa: UP007
    discriminated = one if len(models) == 1 else Annotated[one, Field(discriminator=tag)]
    return discriminated | Literal[tuple(names)]  # type: ignore[valid-type]


def json_schema() -> dict[str, Any]:
    """JSON Schema of an experiment file, for editors (yaml-language-server)."""
    fields = ExperimentConfig.model_fields
    full = create_model(
        "Experiment",
        __base__=Section,
        name=(str | None, Field(None, description=fields["name"].description)),
        seed=(int, fields["seed"]),
        data=(_union("adapter", "adapter"), Field(description=fields["data"].description)),
        encoder=(
            _union("encoder", "type") | None,
            Field(None, description=fields["encoder"].description),
        ),
        model=(_union("arch", "arch"), Field(description=fields["model"].description)),
        train=(TrainConfig, fields["train"]),
        tracking=(TrackingConfig, fields["tracking"]),
        metrics=(
            Literal[tuple(registry.names("metrics"))] | None,  # type: ignore[misc]
            Field(None, description=fields["metrics"].description),
        ),
    )
    schema = full.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "seqrun experiment"
    return schema


def _model_rows(
    model: type[BaseModel], prefix: str, defaults: BaseModel | None = None
) -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) of every field; ``defaults``: the instance a parent
    section's default gives a nested section (e.g. the weather adapters' 70/15/15 split),
    whose values are the defaults rather than the nested class's own."""
    rows = []
    for name, field in model.model_fields.items():
        key = f"{prefix}.{name}" if prefix else name
        ann = field.annotation
        given = field.is_required() and defaults is None
        value = getattr(defaults, name) if defaults is not None else None
        if defaults is None and not field.is_required():
            value = field.get_default(call_default_factory=True)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            rows.extend(_model_rows(ann, key, value if isinstance(value, BaseModel) else None))
            continue
        typ = getattr(ann, "__name__", None) or str(ann).replace("typing.", "")
        derived = (field.json_schema_extra or {}).get("derived")  # filled in when loading
        if derived:
            default = str(derived)
        else:
            default = "required" if given else "`" + json.dumps(value, default=str) + "`"
        rows.append((key, typ, default, field.description or ""))
    return rows


def reference_markdown() -> str:
    """The config reference (every field and its description), generated from the models."""
    out = ["| key | type | default | description |", "| --- | --- | --- | --- |"]

    def emit(rows: list[tuple[str, str, str, str]]) -> None:
        for key, typ, default, desc in rows:
            typ = typ.replace("|", "\\|")
            out.append(f"| `{key}` | {typ} | {default} | {desc} |")

    emit([r for r in _model_rows(ExperimentConfig, "") if r[0] in ("name", "seed", "metrics")])
    emit(_model_rows(TrainConfig, "train"))
    emit(_model_rows(MlflowConfig, "tracking.mlflow"))
    for kind, key in (("adapter", "data"), ("encoder", "encoder"), ("arch", "model")):
        for name in registry.names(kind):
            cls = registry.get(kind, name)
            out.append(f"| **{key}: {name}** | | | {registry.entry(kind, name).describe()} |")
            emit([r for r in _model_rows(cls.Config, key) if r[0] != f"{key}.{KIND_TAG[kind]}"])
    return "\n".join(out) + "\n"


KIND_TAG = {"adapter": "adapter", "encoder": "type", "arch": "arch"}
_SCHEMA_SUFFIX = {"adapter": "Data", "encoder": "Encoder", "arch": "Model"}
