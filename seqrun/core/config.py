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

import copy
import json
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

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

from seqrun.core.errors import UserError, did_you_mean
from seqrun.core.registry import registry
from seqrun.core.runs import check_path_name


class Section(BaseModel):
    """Base of every config section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=(), allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_numbers(cls, v: Any, info: Any) -> Any:
        # pydantic would read true/false as 1/0 for a number
        if isinstance(v, bool) and info.field_name in cls.model_fields:
            ann = cls.model_fields[info.field_name].annotation
            if ann in (int, float, int | None, float | None):
                raise ValueError("expected a number, not a boolean")
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


class EncoderConfig(Section):
    """Base of encoder configs."""

    type: str = Field(description="Encoder name (see `seqrun list`).")


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


class TrainConfig(Section):
    """How the model is fitted; the dev split is always the validation data."""

    epochs: int = Field(5, ge=1, description="Maximum number of passes over the training split.")
    batch_size: int = Field(32, ge=1, description="Examples per gradient step.")
    optimizer: Literal["adam", "adamw", "rmsprop", "sgd", "nadam", "adagrad"] = Field(
        "adam", description="Keras optimizer name."
    )
    learning_rate: float | None = Field(
        None, gt=0, description="Learning rate; null keeps the optimizer's Keras default."
    )
    lr_schedule: Literal["constant", "cosine"] = Field(
        "constant",
        description="'cosine' decays the learning rate to 0 over all training steps "
        "(steadier dev scores at the end of short runs).",
    )
    clipnorm: float | None = Field(None, gt=0, description="Clip each gradient to this norm.")
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


def load_yaml(text: str, where: str) -> tuple[Any, dict[str, int]]:
    """Parse YAML text safely: (data, line of each dotted key).

    Duplicate keys, alias bombs, recursive aliases and over-long integers are UserErrors
    naming ``where`` and the line; nothing is expanded before the checks pass.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        lines = _check_tree(node, where) if node is not None else {}
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        if "'\\t'" in problem:
            problem += " (YAML indents with spaces: replace the tabs)"
        raise UserError(f"invalid YAML: {problem}", where=f"{where}{line}") from None
    except (ValueError, RecursionError) as e:  # e.g. Python's limit on integer digits
        raise UserError(f"invalid YAML: {e}", where=where) from None
    return data, lines


class Source:
    """The raw mapping of an experiment file plus where each key came from."""

    def __init__(self, path: str | Path, raw: dict[str, Any], lines: dict[str, int]):
        self.path = str(path)
        self.raw = raw
        self.lines = lines
        self.overridden: dict[str, str] = {}

    def where(self, dotted: str) -> str:
        """``file:line key`` for a dotted key, walking up to the nearest known parent."""
        probe = dotted
        while probe:
            if probe in self.overridden:
                return f"--set {self.overridden[probe]}"
            probe = probe.rpartition(".")[0]
        below = [text for key, text in self.overridden.items() if key.startswith(dotted + ".")]
        if below and dotted not in self.lines:  # a section the file lacks, made by --set
            return f"--set {below[-1]}"
        probe = dotted
        while probe:
            if probe in self.lines:
                return f"{self.path}:{self.lines[probe]} {dotted}"
            probe = probe.rpartition(".")[0]
        return f"{self.path} {dotted}" if dotted else self.path


def read_saved_config(path: str | Path) -> dict[str, Any]:
    """A run's config.yaml as a raw mapping ({} when absent); bad YAML is a UserError
    naming the file and the line."""
    return read_yaml(path).raw if Path(path).is_file() else {}


def _yaml_mapping(path: str | Path, what: str, keys: str) -> Source:
    """A YAML file holding a mapping (``keys`` says of what); UserErrors name the file and,
    for bad YAML, the line."""
    p = Path(path)
    if not p.is_file():
        hint = " (it is a directory)" if p.is_dir() else ""
        raise UserError(f"{what} file not found{hint}; check the path", where=str(path))
    try:
        text = p.read_text(encoding="utf-8-sig")
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


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``a.b=VALUE`` at the first ``=``; VALUE is a YAML scalar, else the raw string."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise UserError(
            "expected KEY=VALUE with a dotted key, e.g. --set model.units=64", where=f"--set {text}"
        )
    try:
        parsed = load_yaml(value, f"--set {text}")[0] if value.strip() else value
    except UserError as e:
        if "invalid YAML" not in e.message:
            shown = text if len(text) <= 80 else f"{key}=..."
            raise UserError(
                e.message.replace("'(top)'", f"'{key}'"), where=f"--set {shown}"
            ) from None
        parsed = value
    if isinstance(parsed, dict | list) and not value.strip().startswith(("[", "{")):
        parsed = value  # "a: b" parses as a mapping; a user typing it meant text
    if isinstance(parsed, str) and _FLOAT.fullmatch(value.strip()):
        parsed = float(parsed)  # YAML 1.1 reads 1e-3 as text
    return key, parsed


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
                    where=f"--set {text}",
                )
            node = child
        node[parts[-1]] = value
        source.overridden[key] = text


# ----------------------------------------------------------------------------- validation


def _describe_value(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _raise_validation(err: ValidationError, source: Source, prefix: str, model: type) -> None:
    lines = []
    errors = err.errors(include_url=False)  # an unknown key first: the typo of a missing one
    for e in sorted(errors, key=lambda e: e["type"] != "extra_forbidden"):
        loc = [str(p) for p in e["loc"]]
        dotted = ".".join([prefix, *loc] if prefix else loc)
        if e["type"] == "extra_forbidden":
            fields = _fields_at(model, loc[:-1])
            hint = did_you_mean(loc[-1], fields)
            valid = f"; valid keys: {', '.join(fields)}" if fields and not hint else ""
            msg = f"unknown key '{dotted}'{hint}{valid}"
        elif e["type"] == "missing":
            msg = f"missing required key '{dotted}'"
        else:
            text = e["msg"].removeprefix("Value error, ")
            msg = f"{text[:1].lower()}{text[1:]}"
            if dotted:  # (a check of the whole file says what it found itself)
                msg += f" at '{dotted}'"
            if dotted and not isinstance(e.get("input"), dict):
                msg += f", got {_describe_value(e.get('input'))}"
            expected = (e.get("ctx") or {}).get("expected")
            if e["type"] == "literal_error" and isinstance(e.get("input"), str) and expected:
                msg += did_you_mean(e["input"], re.findall(r"'([^']*)'", expected))
            words = set(re.findall(r"'[^']*'", expected or ""))
            if isinstance(e.get("input"), bool) and {"'on'", "'off'"} <= words:
                quoted = "'on'" if e["input"] else "'off'"
                msg += f" (YAML reads a bare on/off as true/false: quote it, {quoted})"
        lines.append((source.where(dotted), msg))
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
        raise UserError(
            f"missing section '{key}' (it needs at least '{key}.{tag}')", where=source.path
        )
    if isinstance(data, str):  # shorthand: "encoder: embedding"
        data = {tag: data}
    if not isinstance(data, dict):
        raise UserError(
            f"expected a mapping for '{key}', got {_describe_value(data)}", where=source.where(key)
        )
    if tag not in data:
        names = ", ".join(registry.names(kind))
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
    for key in raw:
        if key not in TOP_KEYS:
            raise UserError(
                f"unknown section '{key}'{did_you_mean(str(key), TOP_KEYS)}; "
                f"valid sections: {', '.join(TOP_KEYS)}",
                where=source.where(str(key)),
            )
    data = _component_section(source, "adapter", "data", "adapter", None)
    adapter_cls = registry.get("adapter", data.adapter)
    encoder = _component_section(
        source, "encoder", "encoder", "type", getattr(adapter_cls, "default_encoder", None)
    )
    model = _component_section(source, "arch", "model", "arch", None)
    train = _validate_section(TrainConfig, raw.get("train") or {}, source, "train")
    metrics = raw.get("metrics", getattr(adapter_cls, "default_metrics", None))
    if metrics is None:
        raise UserError("missing key 'metrics' (a metric-set name)", where=source.path)
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
        raise UserError(message, where=source.where(key))
    check = getattr(adapter_cls, "check_config", None)
    if check is not None:
        problem = check(cfg)
        if problem:
            key, message = problem
            raise UserError(message, where=source.where(key))
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
