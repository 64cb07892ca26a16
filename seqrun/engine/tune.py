"""Tuning: an Optuna study over an experiment's config that learns from earlier trials and
prunes hopeless ones after any epoch.

A study file::

    base: ../ladybug-gru.yaml       # experiment file, relative to the study file
    name: ladybug                   # optional; default: the study file's stem
    space:                          # the sweep distributions
      model.units: {int: [16, 256]}
      train.learning_rate: {loguniform: [1.0e-4, 1.0e-2]}
      train.lr_schedule: {choice: [constant, cosine]}
    set: ["train.epochs=9"]         # fixed overrides
    trials: 30                      # finished (complete + pruned) trials wanted
    timeout: 3600                   # seconds; stop asking for trials after it
    sampler: tpe                    # tpe | random | cmaes | grid, or {tpe: {n_startup_trials: 5}}
    pruner: hyperband               # hyperband | median | successive_halving | none, or {...}
    seed: 0

The objective is the best dev value of the experiment's ``train.monitor`` (the checkpoint the run
keeps); its direction is the metric set's declaration (:func:`seqrun.metrics.direction`). Every
trial is an ordinary run directory whose meta names the study and trial number. State lives in
the Optuna storage: by default a journal file ``<runs>/_studies/<name>/journal.log`` that local
processes share; ``--storage`` takes any Optuna RDB URL (SQLite, PostgreSQL, MySQL) or a journal
file path. Optuna is imported inside functions, TensorFlow only when a trial trains.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import re
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

from seqrun.core.config import (
    Section,
    base_file,
    config_key,
    load_config,
    read_spec,
    shown_override,
)
from seqrun.core.errors import RunFailure, SeqrunError, UserError, did_you_mean
from seqrun.core.runs import (
    Run,
    check_folders,
    create_run,
    metric_name,
    not_writable,
    now_iso,
    pid_alive,
    read_state,
    signals_ignored,
    unwritable_folder,
    write_json,
)
from seqrun.engine.sweep import (
    TrialResources,
    check_distributions,
    command_line_fixes_varied,
    fixed_and_varied,
    format_value,
)

SAMPLERS = {
    "tpe": "TPESampler",
    "random": "RandomSampler",
    "cmaes": "CmaEsSampler",
    "grid": "GridSampler",
}
PRUNERS = {
    "hyperband": "HyperbandPruner",
    "median": "MedianPruner",
    "successive_halving": "SuccessiveHalvingPruner",
    "none": "NopPruner",
}
COUNT_OPTIONS = {
    "n_startup_trials": 0,
    "n_ei_candidates": 1,
    "popsize": 1,
    "n_warmup_steps": 0,
    "interval_steps": 1,
    "n_min_trials": 1,
    "min_resource": 1,
    "max_resource": 1,
    "reduction_factor": 2,
    "min_early_stopping_rate": 0,
    "bootstrap_count": 0,
}
"""Sampler and pruner options that are counts, and their least value ('auto' aside). Optuna
checks some of them itself, not TPE's, CMA-ES's or Hyperband's (which take -3 and fail, or
misbehave, trials later)."""
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
FINISHED = ("COMPLETE", "PRUNED")


def tpe_defaults(trials: int) -> dict[str, Any]:
    """TPE options for a budget of ``trials`` finished trials; a study file's own options win.

    Optuna's TPE draws its first 10 trials at random, a default made for budgets of a hundred or
    so; under Hyperband each bracket's sampler also sees only the trials of its own bracket, so a
    study of a dozen trials would never leave the random start. A quarter of the budget, between
    3 and 10, lets it learn from the second quarter on. ``constant_liar`` keeps parallel workers
    from all proposing the same point while the trials they wait for are still running.
    """
    return {"n_startup_trials": max(3, min(10, trials // 4)), "constant_liar": True}


def check_name(name: str, where: str) -> str:
    """``name`` if it is safe as one path component (letters, digits, '.', '_', '-'; not
    starting with '.'); a UserError otherwise, so nothing is written outside the runs dir."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name in (".", ".."):
        raise UserError(
            f"'{name}' cannot be a directory name: use letters, digits, '.', '_' or '-' "
            "(no path separators, not starting with '.')",
            where=where,
        )
    return name


def _named_option(value: Any, choices: dict[str, str], what: str) -> tuple[str, dict[str, Any]]:
    """``"tpe"`` or ``{"tpe": {kwargs}}`` -> ("tpe", kwargs); ValueError when malformed."""
    if isinstance(value, str):
        kind, kwargs = value, {}
    elif isinstance(value, dict) and len(value) == 1:
        kind, kwargs = next(iter(value.items()))
        kwargs = kwargs or {}
        if not isinstance(kwargs, dict):
            raise ValueError(f"{what} '{kind}' takes a mapping of options, got {kwargs!r}")
    else:
        raise ValueError(f"{what} must be a name or {{name: {{options}}}}, got {value!r}")
    if kind not in choices:
        raise ValueError(f"unknown {what} '{kind}'; use one of: {', '.join(choices)}")
    return kind, kwargs


def check_counts(kind: str, options: dict[str, Any], section: str) -> None:
    """A ValueError naming ``section.kind.option`` when a count option of a sampler or pruner
    (:data:`COUNT_OPTIONS`) is not a whole number at least its least value, or when Hyperband's
    min_resource is above its max_resource."""
    for name, value in options.items():
        least = COUNT_OPTIONS.get(name)
        if least is None or value == "auto" or isinstance(value, str) or value is None:
            continue  # not a count, or a name: Optuna says whether it takes it
        whole = isinstance(value, int | float) and not isinstance(value, bool)
        if not whole or not float(value).is_integer() or value < least:
            raise ValueError(
                f"{section}.{kind}.{name} must be a whole number of at least {least}, got {value!r}"
            )
    low, high = options.get("min_resource"), options.get("max_resource")
    if kind == "hyperband" and isinstance(low, int) and isinstance(high, int) and low > high:
        raise ValueError(
            f"{section}.{kind}.min_resource {low} is above max_resource {high}: lower it, "
            "or raise max_resource (the most epochs a trial trains)"
        )


class StudySpec(Section):
    """A study file."""

    base: str = Field(description="Experiment file, relative to the study file.")
    name: str | None = Field(None, description="Study name; default: the study file's stem.")
    space: dict[str, dict[str, Any]] = Field(
        description="Dotted key -> {uniform: [a, b]} | {loguniform: [a, b]} | {int: [a, b]} "
        "| {choice: [...]}."
    )
    set: list[str] = Field(default_factory=list, description="Overrides for every trial.")
    trials: int = Field(20, ge=1, description="Finished (complete + pruned) trials wanted.")
    timeout: float | None = Field(
        None, gt=0, description="Seconds after which no new trial starts (per process)."
    )
    sampler: str | dict[str, Any] = Field("tpe", description="tpe | random | cmaes | grid.")
    pruner: str | dict[str, Any] = Field(
        "hyperband", description="hyperband | median | successive_halving | none."
    )
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the sampler.")
    resources: TrialResources = Field(
        default_factory=lambda: TrialResources(),
        description="What each worker asks of a Ray cluster (`--executor ray`).",
    )

    @field_validator("space")
    @classmethod
    def _space(cls, v: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        if not v:
            raise ValueError("the space is empty: give at least one key and its distribution")
        check_distributions(v, "space")
        for key, dist in v.items():
            values = dist.get("choice")
            if values is not None and not all(
                v is None or isinstance(v, bool | int | float | str) for v in values
            ):
                raise ValueError(
                    f"space '{key}': choice values must be numbers, strings, booleans or null"
                )
        return v

    @model_validator(mode="after")
    def _fixed_keys_not_searched(self) -> StudySpec:
        fixed_and_varied(self.set, self.space, "space")
        return self

    @field_validator("sampler")
    @classmethod
    def _sampler(cls, v: Any) -> Any:
        check_counts(*_named_option(v, SAMPLERS, "sampler"), "sampler")
        return v

    @field_validator("pruner")
    @classmethod
    def _pruner(cls, v: Any) -> Any:
        check_counts(*_named_option(v, PRUNERS, "pruner"), "pruner")
        return v


def _grid_values(dist: dict[str, Any]) -> list[Any] | None:
    kind, arg = next(iter(dist.items()))
    if kind == "choice":
        return list(arg)
    if kind == "int":
        return list(range(int(arg[0]), int(arg[1]) + 1))
    return None


def _corners(space: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Points that put every choice of every key in a config once, or the bounds and a point
    inside them (the others at their first value), to validate the space before any trial."""
    first = {k: (_grid_values(d) or next(iter(d.values())))[0] for k, d in space.items()}
    points = [first]
    for key, dist in space.items():
        kind, arg = next(iter(dist.items()))
        if kind == "choice":
            values = list(arg)
        elif kind == "int":
            values = [arg[0], arg[1]]
        else:  # the bounds and a point inside (a float even between integers)
            lo, hi = float(arg[0]), float(arg[1])
            inside = (
                math.exp(math.log(lo) + 0.37 * (math.log(hi) - math.log(lo)))
                if kind == "loguniform"
                else lo + 0.37 * (hi - lo)
            )
            values = [lo, hi, inside]
        for value in values:
            if kind == "int":
                value = int(value)
            if value != first[key]:
                points.append({**first, key: value})
    return points


def parse_storage(url: str) -> str:
    """A storage given on the command line: an RDB URL as is, else a journal file path."""
    return url if "://" in url else str(Path(url).resolve())


def _placed_at_set(e: UserError, spec: StudySpec, source: Any) -> UserError:
    """``e`` placed at the line of the study file's ``set:`` entry that gave the bad value,
    not at a ``--set`` the user never typed; unchanged when the value came from elsewhere."""
    for i, text in enumerate(spec.set):
        if e.where == f"--set {shown_override(text)}":
            return UserError(e.message, where=source.where(f"set[{i}]"))
    return e


class Study:
    """A study file resolved: spec, base config, storage, direction, its directory."""

    def __init__(
        self,
        path: str | Path,
        runs_dir: Path,
        extra_set: list[str] | None = None,
        storage: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.spec, source = read_spec(path, StudySpec, "study")
        self.source = source
        self.base = base_file(path, self.spec.base, source, "study")
        self.runs_dir = Path(runs_dir)
        self.name = check_name(self.spec.name or self.path.stem, f"{path}: name")
        self.dir = self.runs_dir / "_studies" / self.name
        check_folders(self.runs_dir, self.dir.parent, self.dir, what="study name")
        command_line_fixes_varied(extra_set or [], set(self.spec.space), "study", str(path))
        self.common = [*self.spec.set, *(extra_set or [])]
        self.extra_set = list(extra_set or [])
        try:
            self.cfg = load_config(self.base, self.common)
        except UserError as e:
            raise _placed_at_set(e, self.spec, source) from None
        check_name(self.cfg.name, f"{self.base}: name")
        from seqrun.data.base import kfold_of

        if kfold_of(self.cfg) and self.cfg.data.split.fold is None:
            raise UserError(
                "a study tunes on the dev split, not on cross-validation folds; remove "
                "data.split.kfold (or pick one fold with data.split.fold)",
                where=str(self.base),
            )
        for point in _corners(self.spec.space):
            try:
                load_config(self.base, [*self.common, *_overrides(point)])
            except UserError as e:
                raise UserError(f"space point {point}: {e}", where=source.where("space")) from None
        from seqrun.core.registry import registry
        from seqrun.metrics import direction

        metric_set = registry.get("metrics", self.cfg.metrics)
        self.monitor = metric_name(self.cfg.train.monitor)
        self.direction = "maximize" if direction(metric_set, self.monitor) == "max" else "minimize"
        self.sampler_kind, self.sampler_args = _named_option(self.spec.sampler, SAMPLERS, "")
        self.pruner_kind, self.pruner_args = _named_option(self.spec.pruner, PRUNERS, "")
        if self.sampler_kind == "grid":
            bad = [k for k, d in self.spec.space.items() if _grid_values(d) is None]
            if bad:
                raise UserError(
                    f"the grid sampler needs choice or int distributions; {', '.join(bad)} "
                    "is continuous",
                    where=source.where("space"),
                )
        self.storage_url = (
            parse_storage(storage) if storage else str((self.dir / "journal.log").resolve())
        )
        self.make_sampler(self.spec.seed)  # bad sampler/pruner options are errors now
        self.make_pruner()

    # -- optuna objects
    def distributions(self) -> dict[str, Any]:
        """The space as Optuna distributions."""
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        out: dict[str, Any] = {}
        for key, dist in self.spec.space.items():
            kind, arg = next(iter(dist.items()))
            if kind == "choice":
                out[key] = CategoricalDistribution(arg)
            elif kind == "int":
                out[key] = IntDistribution(int(arg[0]), int(arg[1]))
            else:
                out[key] = FloatDistribution(float(arg[0]), float(arg[1]), log=kind == "loguniform")
        return out

    def grid_size(self) -> int | None:
        """Points of the grid sampler's grid (None for other samplers)."""
        if self.sampler_kind != "grid":
            return None
        return math.prod(len(_grid_values(d) or []) for d in self.spec.space.values())

    def make_sampler(self, seed: int, trials: int | None = None) -> Any:
        """A fresh sampler of the study's kind, seeded with ``seed``; TPE's defaults follow the
        budget of ``trials`` finished trials (:func:`tpe_defaults`)."""
        import optuna

        kwargs = {"seed": seed, **self.sampler_args}
        if self.sampler_kind == "tpe":
            kwargs = {**tpe_defaults(trials or self.spec.trials), **kwargs}
        if self.sampler_kind == "grid":
            kwargs.setdefault(
                "search_space", {k: _grid_values(d) for k, d in self.spec.space.items()}
            )
        if self.sampler_kind == "cmaes":
            try:
                import cmaes  # noqa: F401
            except ImportError:
                raise UserError(
                    "the cmaes sampler needs the 'cmaes' package: pip install cmaes",
                    where=self.source.where("sampler"),
                ) from None
        cls = getattr(optuna.samplers, SAMPLERS[self.sampler_kind])
        if self.sampler_kind == "grid":
            cls = _grid_sampler_class()
        try:
            with _quiet_optuna(f"{self.path}: sampler {self.sampler_kind}"):
                return cls(**kwargs)
        except (TypeError, ValueError) as e:
            raise UserError(
                f"sampler {self.sampler_kind}: {_option_error(e, cls)}",
                where=self.source.where("sampler"),
            ) from None

    def make_pruner(self) -> Any:
        """The study's pruner (Hyperband's max_resource defaults to train.epochs)."""
        import optuna

        kwargs = dict(self.pruner_args)
        if self.pruner_kind == "hyperband" and "train.epochs" not in self.spec.space:
            kwargs.setdefault("max_resource", self.cfg.train.epochs)
        cls = getattr(optuna.pruners, PRUNERS[self.pruner_kind])
        try:
            with _quiet_optuna(f"{self.path}: pruner {self.pruner_kind}"):
                return cls(**kwargs)
        except (TypeError, ValueError) as e:
            raise UserError(
                f"pruner {self.pruner_kind}: {_option_error(e, cls)}",
                where=self.source.where("pruner"),
            ) from None

    def storage(self) -> Any:
        """The Optuna storage (a journal file is created with its folder)."""
        if "://" in self.storage_url:
            return self.storage_url
        from optuna.storages import JournalStorage

        Path(self.storage_url).parent.mkdir(parents=True, exist_ok=True)
        with _quiet_optuna(f"study {self.name}"):
            return JournalStorage(journal_backend(self.storage_url))

    def identity(self) -> dict[str, Any]:
        """What may not change between two processes of one study."""
        return {
            "base_config_key": config_key(self.cfg),
            "space": self.spec.space,
            "monitor": self.monitor,
            "direction": self.direction,
        }

    def check_writable(self) -> None:
        """A RunFailure (exit 1, as for every command) when the study's folder under the runs
        directory cannot be written, a UserError naming ``--storage`` when the folder of the
        journal file it gives cannot: Optuna's journal storage creates a lock file beside the
        journal even to read the study."""
        why = "a study keeps study.json and its report there"
        if self.storage_url == str((self.dir / "journal.log").resolve()):
            why = (
                "a study keeps study.json, its report and its journal there, and Optuna's "
                "journal needs a lock file beside it even to read the study"
            )
        problem = not_writable(self.dir, self.runs_dir, why)
        if problem:
            raise RunFailure(problem)
        if "://" in self.storage_url:
            return
        blocked = unwritable_folder(Path(self.storage_url).parent)
        if blocked is not None:
            raise UserError(
                f"the journal's folder {blocked} is not writable: Optuna's journal storage "
                "creates a lock file beside the journal even to read the study; make it "
                "writable, or give a journal path in a writable folder",
                where="--storage",
            )

    def open(self) -> Any:
        """Create or load the Optuna study; refuse one made from another space or base."""
        import optuna

        self.check_writable()
        for attempt in range(6):
            try:
                with _quiet_optuna(f"study {self.name}"):
                    study = optuna.create_study(
                        study_name=self.name,
                        storage=self.storage(),
                        sampler=self.make_sampler(self.spec.seed),
                        pruner=self.make_pruner(),
                        direction=self.direction,
                        load_if_exists=True,
                    )
                break
            except ValueError as e:  # e.g. the stored study has another direction
                if type(e).__name__ == "JSONDecodeError":  # a line of the journal is not JSON
                    raise UserError(
                        "the journal is damaged (a line in it is not JSON); move it away to "
                        "start the study again (its runs stay), or give another --storage",
                        where=self.storage_url,
                    ) from None
                raise UserError(f"cannot open the study: {e}", where=self.storage_url) from None
            except Exception as e:  # no database server, bad URL, driver missing
                if attempt < 5 and type(e).__name__ in ("IntegrityError", "OperationalError"):
                    time.sleep(0.5 + random.random())  # another process is creating the schema
                    continue
                detail = (str(e).splitlines() or [""])[0]  # SQLAlchemy adds the SQL, a URL
                raise UserError(
                    f"cannot open the storage ({type(e).__name__}: {detail}); "
                    "check the URL, its driver and the database, or leave --storage out",
                    where="--storage",
                ) from None
        ident = self.identity()
        stored = study.user_attrs.get("seqrun")
        if stored is None:
            study.set_user_attr("seqrun", ident)
        elif stored != _jsonish(ident):
            diff = [k for k in ident if _jsonish(ident[k]) != stored.get(k)]
            raise UserError(self._mismatch(diff, self._recorded_set(study)), where=self.storage_url)
        if study.user_attrs.get("seqrun_set") is None:
            study.set_user_attr("seqrun_set", self.extra_set)  # the --set it runs with
        self.dir.mkdir(parents=True, exist_ok=True)
        write_json(
            self.dir / "study.json",
            {
                "name": self.name,
                "study_file": str(self.path.resolve()),
                "base": str(self.base),
                "storage": self.storage_url,
                "extra_set": self.extra_set,
                "monitor": self.monitor,
                "direction": self.direction,
                "updated_at": now_iso(),
            },
        )
        return study

    def _recorded_set(self, study: Any) -> list[str] | None:
        """The command-line ``--set`` the study was run with, as its storage (or, for a study
        older than that record, its study.json) recorded them; None when neither did."""
        recorded = study.user_attrs.get("seqrun_set")
        if recorded is None:
            info: dict[str, Any] = {}
            with contextlib.suppress(UserError):  # unreadable: as if not recorded
                info = read_state(self.dir / "study.json", "") or {}
            if info.get("name") == self.name and info.get("storage") == self.storage_url:
                recorded = info.get("extra_set")
        return None if recorded is None else [str(o) for o in recorded]

    def _mismatch(self, diff: list[str], recorded: list[str] | None) -> str:
        """Why the stored study cannot be opened with this study file and ``--set``, and what
        to do about it."""
        import shlex

        head = f"study '{self.name}'"
        rename = "give the study another name (name: in the study file)"
        if diff != ["base_config_key"]:
            return f"{head} exists in the storage with another {', '.join(diff)}; {rename}"
        if recorded is not None and recorded != self.extra_set:
            given = " ".join(f"--set {shlex.quote(o)}" for o in recorded) or "no --set"
            now = " ".join(f"--set {shlex.quote(o)}" for o in self.extra_set) or "no --set"
            return (
                f"{head} was run with other overrides ({given}; this command gives {now}); "
                f"repeat the same --set to continue it or report on it, or {rename}"
            )
        if recorded is not None:
            return (
                f"{head} was run with the same --set but another base config: {self.base} or "
                f"the study file's set: changed since; restore them, or {rename}"
            )
        return (
            f"{head} was run with another base config: other --set overrides, or an edited "
            f"{self.base.name} or set: in the study file; repeat the --set it was run with, "
            f"or {rename}"
        )


def shown_run_dir(st: Study, run_dir: str | None) -> str | None:
    """A trial's run directory as the runs directory was given (a worker records it under
    the resolved runs directory; a single process, as given)."""
    if not run_dir:
        return run_dir
    path = Path(run_dir)
    if path.is_absolute() and not st.runs_dir.is_absolute():
        with contextlib.suppress(ValueError, OSError):
            return str(st.runs_dir / path.relative_to(st.runs_dir.resolve()))
    return run_dir


def journal_backend(path: str) -> Any:
    """Optuna's journal file backend for ``path``, never left with a torn last line: a write
    the disk refuses (full) is cut off again, and a torn line left by an earlier process (a
    full disk, a kill) is cut off on opening, both under the journal's lock. Optuna would
    otherwise append the next operation to the torn line, a line that is not JSON, and the
    study could not be read again."""
    import json

    from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock

    class _Journal(JournalFileBackend):
        def __init__(self, file_path: str) -> None:
            self._seqrun_path = file_path
            self._seqrun_lock = JournalFileSymlinkLock(file_path)
            super().__init__(file_path, lock_obj=self._seqrun_lock)
            with self._locked(), open(file_path, "rb") as f:
                size = f.seek(0, os.SEEK_END)
                if size and f.seek(size - 1) >= 0 and f.read(1) != b"\n":
                    f.seek(0)  # a torn last line: cut back to the whole lines
                    os.truncate(file_path, f.read().rfind(b"\n") + 1)

        @contextlib.contextmanager
        def _locked(self) -> Any:
            self._seqrun_lock.acquire()
            try:
                yield
            finally:
                self._seqrun_lock.release()

        def append_logs(self, logs: list[dict[str, Any]]) -> None:
            text = "".join(json.dumps(log, separators=(",", ":")) + "\n" for log in logs)
            with self._locked():
                size = os.path.getsize(self._seqrun_path)
                try:
                    with open(self._seqrun_path, "ab") as f:
                        f.write(text.encode("utf-8"))
                        f.flush()
                        os.fsync(f.fileno())
                except OSError as e:  # a full disk: no torn line for the next write to extend
                    with contextlib.suppress(OSError):
                        os.truncate(self._seqrun_path, size)
                    raise type(e)(e.errno, e.strerror, self._seqrun_path) from None

    return _Journal(path)


def _option_error(e: Exception, cls: type) -> str:
    """An Optuna constructor's error in the study file's terms: an unknown option is named
    with the closest known one and the list of them."""
    import inspect
    import re

    text = str(e)
    unknown = re.search(r"unexpected keyword argument '(\w+)'", text)
    if not unknown and isinstance(e, TypeError):  # e.g. '<' between a str and an int
        return f"an option has a value of the wrong type ({text}); options are numbers or names"
    if not unknown:
        return text
    known = [
        n for n in inspect.signature(cls.__init__).parameters if n not in ("self", "args", "kwargs")
    ]
    name = unknown.group(1)
    return f"unknown option '{name}'{did_you_mean(name, known)}; its options: {', '.join(known)}"


def _grid_sampler_class() -> type:
    """Optuna's GridSampler without its ``study.stop()`` once the grid is covered (which only
    works inside ``study.optimize``); the trial budget, capped at the grid's size, stops us."""
    import optuna

    class GridSampler(optuna.samplers.GridSampler):
        def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
            """Nothing: the budget ends the study."""

    return GridSampler


def _jsonish(obj: Any) -> Any:
    import json

    return json.loads(json.dumps(obj))


@contextlib.contextmanager
def _quiet_optuna(where: str = "optuna"):
    """Optuna calls with its logs silenced (seqrun prints each trial) and its warnings said in
    seqrun's words: each one warning line naming ``where`` (what seqrun was doing), once per
    process; none for the experimental features seqrun chose to offer. Warnings of other
    libraries pass on as they were, through the filters in force."""
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # seqrun reports trials itself
    caught: list[Any] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        _say_warnings(caught, where)


_SAID: set[str] = set()  # the Optuna warnings said already (make_sampler runs every trial)
_REGISTRY: dict[Any, Any] = {}  # "once per location" for the other warnings passed on


def _say_warnings(caught: list[Any], where: str) -> None:
    """Say the warnings recorded around Optuna calls (see :func:`_quiet_optuna`)."""
    import warnings

    import optuna

    from seqrun.core.text import warn

    for w in caught:
        if issubclass(w.category, optuna.exceptions.ExperimentalWarning):
            continue  # seqrun offers these options knowingly (TPE's constant_liar, group...)
        if not _from_optuna(w.filename, optuna.__file__):
            warnings.warn_explicit(
                w.message, w.category, w.filename, w.lineno, registry=_REGISTRY, source=w.source
            )
            continue
        line = f"{where}: {optuna_message(str(w.message))}"
        if line not in _SAID:
            _SAID.add(line)
            warn(line)


def _from_optuna(filename: str, optuna_init: str) -> bool:
    """Whether a warning came from Optuna: raised in its files, or (Python 3.12+, where Optuna
    skips its own frames) attributed to this module, which calls Optuna."""
    path = Path(filename).resolve()
    return Path(optuna_init).resolve().parent in path.parents or path == Path(__file__).resolve()


def optuna_message(message: str) -> str:
    """An Optuna warning in seqrun's words: a deprecated option (of a sampler or pruner, as
    the study file gives it) says which, since when and what to do; others are Optuna's
    text on one line, named as Optuna's."""
    text = " ".join(message.split())
    old = re.match(
        r"`?([\w.]+)`? has been deprecated in v(\d+(?:\.\d+)*)\. This feature will be "
        r"removed in v(\d+(?:\.\d+)*)",
        text,
    )
    if old:
        name, since, until = old.groups()
        return (
            f"option '{name}' is deprecated since Optuna {since} (it goes in Optuna {until}); "
            "remove it from the study file"
        )
    return f"Optuna: {text}"


def _overrides(params: dict[str, Any]) -> list[str]:
    return [f"{k}={format_value(v)}" for k, v in params.items()]


def _state(trial: Any) -> str:
    return trial.state.name


ASK_GRACE_S = 20.0
"""A running trial without a pid is taken as alive this long after it was asked (a process
records its pid right after asking); older, nothing shows it alive and it is failed."""


def process_gone(trial: Any, grace: float = ASK_GRACE_S) -> bool:
    """Whether the process of a running trial is known to be gone: its pid, on this host, is
    dead, or it recorded none ``grace`` seconds after it was asked (a trial of another host
    is taken as alive)."""
    pid, where = trial.user_attrs.get("pid"), trial.user_attrs.get("host")
    if pid is None:
        started = trial.datetime_start.timestamp() if trial.datetime_start else time.time()
        return time.time() - started >= grace  # else: between ask and its first attribute
    return where == socket.gethostname() and not pid_alive(int(pid))


def fail_stale(study: Any, grace: float = ASK_GRACE_S) -> list[int]:
    """Mark failed the running trials whose process (on this host) is gone, and those that
    never recorded a process ``grace`` seconds after they were asked; their run directories
    too. Returns their numbers."""
    from optuna.trial import TrialState

    failed = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if not process_gone(t, grace):
            continue
        with contextlib.suppress(ValueError, RuntimeError):  # another process was first
            study.tell(t.number, state=TrialState.FAIL)
            failed.append(t.number)
        run_dir = t.user_attrs.get("run_dir")
        if run_dir and Path(run_dir).is_dir():  # killed before or after its meta.json
            run = Run(Path(run_dir))
            # not a run that a live process trains again (`seqrun train --resume RUN`)
            if run.meta().get("status", "running") == "running" and run.owner() is None:
                run.update_meta(
                    status="failed", ended_at=now_iso(), error="its tune process was killed"
                )
    return failed


@dataclass
class Outcome:
    """How one trial ended."""

    number: int
    state: str
    params: dict[str, Any]
    value: float | None = None
    epochs: int = 0
    run_dir: str | None = None
    error: str | None = None
    duration_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def run_trial(st: Study, study: Any, trial: Any, quiet: bool = True) -> Outcome:
    """Train one asked trial in this process, reporting dev values per epoch; tell the result."""
    from optuna.trial import TrialState

    from seqrun.engine import experiment
    from seqrun.engine.backend import import_tensorflow
    from seqrun.engine.checkpoint import Interrupted

    import_tensorflow()  # quietly, before keras below
    import keras
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # retracing notices: every trial builds new functions

    params = dict(trial.params)
    overrides = [*st.common, *_overrides(params)]
    out = Outcome(trial.number, "RUNNING", params)
    t0 = time.time()
    key = f"dev_{st.monitor}"
    values: dict[int, float] = {}
    holder: dict[str, Run] = {}

    def make_run() -> Run:
        run = create_run(st.runs_dir, cfg.name)
        holder["run"] = run
        trial.set_user_attr("run_dir", str(run.path))
        return run

    def on_epoch(epoch: int, row: dict[str, Any]) -> bool:
        if epoch == 1 or "study" not in holder["run"].meta():
            holder["run"].update_meta(study=st.name, trial=trial.number)
        value = row.get(key)
        out.epochs = epoch
        if value is None or not math.isfinite(value):
            return False
        values[epoch] = float(value)
        trial.report(float(value), epoch)
        return trial.should_prune()

    try:
        cfg = load_config(st.base, overrides)
        keras.backend.clear_session()
        result = experiment.train(
            cfg,
            st.runs_dir,
            quiet=quiet,
            argv=sys.argv,
            overrides=overrides,
            make_run=make_run,
            on_epoch=on_epoch,
        )
    except Interrupted:  # Ctrl-C / SIGTERM: the run is marked interrupted
        with signals_ignored():  # the next SIGTERM of a killed parent: not mid-write
            trial.set_user_attr("error", "interrupted")
            study.tell(trial, state=TrialState.FAIL)
        raise KeyboardInterrupt from None
    except (SeqrunError, Exception) as e:
        out.error = str(e) if isinstance(e, SeqrunError) else f"{type(e).__name__}: {e}"
        trial.set_user_attr("error", out.error)
        if os.environ.get("SEQRUN_DEBUG"):
            import traceback

            trial.set_user_attr("traceback", traceback.format_exc())
        study.tell(trial, state=TrialState.FAIL)
        out.state = "FAIL"
    else:
        best = result["best_epoch"]
        out.value = values.get(best)
        if result["status"] == "pruned":
            study.tell(trial, state=TrialState.PRUNED)
            out.state = "PRUNED"
        else:
            study.tell(trial, out.value)
            out.state = "COMPLETE"
    finally:
        out.duration_s = round(time.time() - t0, 2)
        if "run" in holder:
            out.run_dir = str(holder["run"].path)
            with contextlib.suppress(OSError):
                holder["run"].update_meta(study=st.name, trial=trial.number)
    return out


def counts(study: Any) -> dict[str, int]:
    """Trials by state (lower case: complete, pruned, fail, running, waiting; ``dead`` for a
    trial still running in the storage whose process is gone, e.g. a `tune` killed with
    SIGKILL: a rerun fails it and gives its budget back)."""
    out: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        state = _state(t).lower()
        if state == "running" and process_gone(t):
            state = "dead"
        out[state] = out.get(state, 0) + 1
    return out


def budget(st: Study, trials: int | None) -> int:
    """How many finished trials the study aims at (the grid's size caps a grid search)."""
    n = trials or st.spec.trials
    size = st.grid_size()
    return min(n, size) if size else n


def run_worker(
    st: Study,
    trials: int | None = None,
    timeout: float | None = None,
    on_event: Any = None,
) -> Any:
    """Ask and train trials in this process until the study has its finished trials (all
    processes together) or ``timeout`` seconds have passed. Returns the Optuna study."""
    from seqrun.engine.processes import sigterm_interrupts

    with sigterm_interrupts():  # SIGTERM (a stopping `tune --workers`) is Ctrl-C here
        return _worker_loop(st, trials, timeout, on_event or (lambda outcome: None))


def _worker_loop(st: Study, trials: int | None, timeout: float | None, say: Any) -> Any:
    from optuna.trial import TrialState

    study = st.open()
    fail_stale(study)
    target = budget(st, trials)
    timeout = timeout if timeout is not None else st.spec.timeout
    t0 = time.time()
    failures, last_error = 0, None
    distributions = st.distributions()
    while True:
        if timeout is not None and time.time() - t0 >= timeout:
            break
        all_trials = study.get_trials(deepcopy=False)
        finished = sum(_state(t) in FINISHED for t in all_trials)
        running = [t for t in all_trials if t.state == TrialState.RUNNING]
        if finished < target <= finished + len(running):
            if fail_stale(study):  # trials of dead processes: their budget comes back
                continue
            if any("pid" not in t.user_attrs for t in running):
                time.sleep(1.0)  # a trial no process has claimed: counted only while it may be
                continue  # alive (ASK_GRACE_S), then failed by fail_stale
        if finished + len(running) >= target:
            break
        if failures >= target:
            raise RunFailure(
                f"{failures} trials failed in this process; the last: {last_error} "
                "(see `seqrun runs list --status failed`)"
            )
        # a seed per trial, so that processes sharing the study draw different points (the
        # grid sampler keeps one seed: it numbers its shuffled grid with it)
        seed = st.spec.seed + (0 if st.sampler_kind == "grid" else len(all_trials))
        study.sampler = st.make_sampler(seed, target)
        trial = None
        try:
            with _quiet_optuna(f"study {st.name}"):
                trial = study.ask(distributions)
            trial.set_user_attr("pid", os.getpid())  # first: the trial's process is known
            trial.set_user_attr("host", socket.gethostname())
            outcome = run_trial(st, study, trial)
        except KeyboardInterrupt:  # Ctrl-C / SIGTERM: the trial fails, its budget comes back
            if trial is not None:  # inside ask: a rerun fails it after ASK_GRACE_S
                with signals_ignored():
                    _fail_interrupted(study, trial)
            raise
        if outcome.state == "FAIL":
            failures, last_error = failures + 1, outcome.error
        say(outcome)
    return study


def _fail_interrupted(study: Any, trial: Any) -> None:
    """Mark ``trial`` (a Trial or number) failed as interrupted, unless it has ended."""
    from optuna.trial import TrialState

    number = trial if isinstance(trial, int) else trial.number
    with contextlib.suppress(Exception):
        frozen = study.get_trials(deepcopy=False)[number]
        if frozen.state != TrialState.RUNNING:
            return
        trial_id = frozen._trial_id
        study._storage.set_trial_user_attr(trial_id, "error", "interrupted")
        study.tell(number, state=TrialState.FAIL)


def _death_signal() -> None:
    """Ask Linux to send SIGTERM to this worker when its parent dies (a killed `tune`)."""
    from seqrun.engine.processes import death_signal

    death_signal()


class WorkerPool:
    """``workers`` copies of ``seqrun tune --worker`` as the 'trials' of the sweep executors
    (:func:`seqrun.engine.sweep.run_local`, :func:`seqrun.engine.sweep.run_ray`); each asks and
    trains trials of the shared study until its budget is reached."""

    def __init__(self, st: Study, workers: int, trials: int | None, timeout: float | None) -> None:
        from seqrun.engine.sweep import Trial

        self.study_file = str(st.path.resolve())
        self.runs_dir = st.runs_dir.resolve()
        self.storage = st.storage_url
        self.extra_set = st.extra_set
        self.spec = st.spec
        self.name = st.name
        self.args: list[str] = []
        if trials is not None:
            self.args += ["--trials", str(trials)]
        if timeout is not None:
            self.args += ["--timeout", str(timeout)]
        self.trials = [Trial(i, [], f"worker-{i}", st.name) for i in range(workers)]

    def find_completed(self) -> None:
        """Nothing to skip: the study's storage knows what is done."""

    def record(self, trial: Any, keep: Any = None) -> None:
        """The storage records the trials; workers need no file of their own."""

    def taken(self, entry: Any) -> bool:
        """No worker belongs to another process: the storage shares the trials out."""
        return False

    def claim(self, trial: Any) -> None:
        """Nothing to claim (see :meth:`taken`)."""

    def close(self) -> None:
        """No live lock to drop (the storage knows each trial's process)."""

    def command(self, trial: Any, runs_dir_flag: bool = False) -> list[str]:
        """The `seqrun tune --worker ...` command line of one worker."""
        cmd = ["seqrun", "tune", self.study_file, "--worker", "--storage", self.storage]
        for o in self.extra_set:
            cmd += ["--set", o]
        cmd += ["--runs-dir", str(self.runs_dir), *self.args]
        return cmd


def run_workers(
    st: Study,
    workers: int,
    trials: int | None,
    timeout: float | None,
    executor: str = "local",
    address: str | None = None,
    on_event: Any = None,
    poll_s: float = 1.0,
) -> list[Any]:
    """Run ``workers`` worker processes (local or Ray tasks) on the study's storage, reporting
    each trial that ends through ``on_event(outcome)`` while they run."""
    import threading

    from seqrun.engine.processes import sigterm_interrupts, stop_children
    from seqrun.engine.sweep import run_local, run_ray

    study = st.open()
    fail_stale(study)
    pool = WorkerPool(st, workers, trials, timeout)
    box: dict[str, Any] = {}
    procs: dict[int, Any] = {}
    stop = threading.Event()

    def go() -> None:
        try:
            if executor == "ray":
                box["trials"] = run_ray(pool, workers, address=address)
            else:
                box["trials"] = run_local(pool, workers=workers, procs=procs, stop=stop)
        except BaseException as e:  # reported by the main thread
            box["error"] = e

    thread = threading.Thread(target=go, daemon=True)
    seen = {t.number for t in study.get_trials(deepcopy=False) if t.state.is_finished()}
    with sigterm_interrupts():  # SIGTERM stops the workers as Ctrl-C does
        try:
            thread.start()
            while True:
                thread.join(poll_s)
                for t in study.get_trials(deepcopy=False):
                    if t.state.is_finished() and t.number not in seen:
                        seen.add(t.number)
                        if on_event:
                            on_event(outcome_of(t, st))
                if not thread.is_alive():
                    break
        except KeyboardInterrupt:  # each worker fails its trial and exits; none starts
            stop.set()
            stop_children(procs)
            thread.join(10)
            stop_children(procs, grace=0)  # one that was starting meanwhile
            raise
    if "error" in box:
        raise box["error"]
    return box["trials"]


def outcome_of(t: Any, st: Study | None = None) -> Outcome:
    """An Outcome from a stored trial (its run directory as ``st`` shows it)."""
    duration = t.duration.total_seconds() if t.duration else 0.0
    return Outcome(
        t.number,
        _state(t),
        dict(t.params),
        t.value,
        max(t.intermediate_values, default=0),
        shown_run_dir(st, t.user_attrs.get("run_dir")) if st else t.user_attrs.get("run_dir"),
        t.user_attrs.get("error"),
        round(duration, 2),
    )


def summary(st: Study, study: Any) -> dict[str, Any]:
    """Best value and params, counts by state, epochs trained, where things are."""
    complete = [t for t in study.get_trials(deepcopy=False) if _state(t) == "COMPLETE"]
    out: dict[str, Any] = {
        "study": st.name,
        "study_dir": str(st.dir),
        "storage": st.storage_url,
        "monitor": f"dev_{st.monitor}",
        "direction": st.direction,
        "counts": counts(study),
        "epochs": sum(len(t.intermediate_values) for t in study.get_trials(deepcopy=False)),
        "best_value": None,
        "best_params": None,
        "best_trial": None,
        "best_run_dir": None,
    }
    if complete:
        best = study.best_trial
        out.update(
            best_value=best.value,
            best_params=best.params,
            best_trial=best.number,
            best_run_dir=shown_run_dir(st, best.user_attrs.get("run_dir")),
        )
    return out


def study_from_dir(folder: Path) -> tuple[Study, Any]:
    """The Study and Optuna study of a study directory (``<runs>/_studies/<name>``)."""
    info = read_state(
        Path(folder) / "study.json", "run `seqrun tune` on the study file again to rewrite it"
    )
    if not info:
        raise UserError("not a study directory (no study.json)", where=str(folder))
    extra = info.get("extra_set")
    bad = [
        key
        for key, ok in (
            ("study_file", isinstance(info.get("study_file"), str)),
            (
                "extra_set",
                extra is None or isinstance(extra, list) and all(isinstance(x, str) for x in extra),
            ),
            ("storage", info.get("storage") is None or isinstance(info.get("storage"), str)),
        )
        if not ok
    ]
    if bad:  # a hand edit: the keys a rerun of `seqrun tune` writes
        raise UserError(
            f"study.json has no usable {' or '.join(bad)}; run `seqrun tune` on the study file "
            "again to rewrite it",
            where=str(Path(folder) / "study.json"),
        )
    runs_dir = Path(folder).resolve().parent.parent
    st = Study(info["study_file"], runs_dir, info.get("extra_set"), info.get("storage"))
    return st, st.open()


__all__ = [
    "Study",
    "StudySpec",
    "check_name",
    "run_worker",
    "run_workers",
    "summary",
    "fail_stale",
    "_death_signal",
]


# ----------------------------------------------------------------------------- report


def _trials_per_epoch(study: Any) -> Any:
    """Dev value per epoch of every finished trial, pruned ones in another colour, and how
    many trials of each state reached each epoch."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    colours = {"COMPLETE": "#1f77b4", "PRUNED": "#d62728", "FAIL": "#7f7f7f"}
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("dev value per epoch", "trials that trained each epoch"),
    )
    shown: set[str] = set()
    reached: dict[str, dict[int, int]] = {}
    for t in study.get_trials(deepcopy=False):
        state = _state(t)
        if state not in colours or not t.intermediate_values:
            continue
        steps = sorted(t.intermediate_values)
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=[t.intermediate_values[s] for s in steps],
                mode="lines+markers",
                line={"color": colours[state], "width": 1},
                name=state.lower(),
                legendgroup=state,
                showlegend=state not in shown,
                hovertext=f"trial {t.number} ({state.lower()})",
            ),
            row=1,
            col=1,
        )
        shown.add(state)
        for s in steps:
            reached.setdefault(state, {})[s] = reached.get(state, {}).get(s, 0) + 1
    for state, per in reached.items():
        xs = sorted(per)
        fig.add_trace(
            go.Bar(
                x=xs,
                y=[per[x] for x in xs],
                name=f"{state.lower()} trials",
                marker_color=colours[state],
                legendgroup=state,
                showlegend=False,
            ),
            row=1,
            col=2,
        )
    fig.update_layout(barmode="stack", title="Pruned vs complete trials per epoch")
    fig.update_xaxes(title_text="epoch")
    return fig


def write_report(st: Study, study: Any) -> Path:
    """Write ``<study dir>/report.html`` (self-contained) and ``best.yaml`` beside it."""
    import html

    import optuna.visualization as vis

    from seqrun.core.runs import atomic_write_text

    info = summary(st, study)
    sections: list[tuple[str, Any]] = []
    complete = info["counts"].get("complete", 0)
    path = st.dir / "report.html"
    with _quiet_optuna(str(path)):
        if complete:
            sections.append(("Optimisation history", vis.plot_optimization_history(study)))
            sections.append(("Parallel coordinates", vis.plot_parallel_coordinate(study)))
        if complete >= 2:
            sections.append(("Parameter importances", _importances(study, complete, path)))
        sections.append(("Pruned vs complete trials per epoch", _trials_per_epoch(study)))
    best_yaml = st.dir / "best.yaml"
    if info["best_trial"] is not None:
        run_dir = info["best_run_dir"]
        saved = Path(run_dir) / "config.yaml" if run_dir else None
        if saved is not None and saved.is_file():
            text = saved.read_text(encoding="utf-8")
        else:
            cfg = load_config(st.base, [*st.common, *_overrides(info["best_params"])])
            text = cfg.to_yaml()
        head = (
            f"# best trial {info['best_trial']} of study {st.name}: "
            f"{info['monitor']} = {info['best_value']:.6g}\n"
            f"# run: {run_dir}\n"
        )
        atomic_write_text(best_yaml, head + text)
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in info.items()
    )
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>study {html.escape(st.name)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}th{text-align:left;padding-right:1em}"
        "</style></head><body>",
        f"<h1>Study {html.escape(st.name)}</h1><table>{rows}</table>",
    ]
    if best_yaml.is_file():
        parts.append(f"<p>Best trial's config: <code>{html.escape(str(best_yaml))}</code></p>")
    first = True
    for title, fig in sections:
        parts.append(f"<h2>{html.escape(title)}</h2>")
        if isinstance(fig, str):
            parts.append(f"<p>{html.escape(fig)}</p>")
            continue
        parts.append(fig.to_html(full_html=False, include_plotlyjs=first))
        first = False
    parts.append("</body></html>\n")
    atomic_write_text(path, "\n".join(parts))
    return path


EQUAL_IMPORTANCES = "Parameter importances will be equal"
"""The end of Optuna's warnings for a study whose trials cannot rank the parameters."""


def _importances(study: Any, complete: int, path: Path) -> Any:
    """The parameter-importance figure (PED-ANOVA), or why there is none: when the completed
    trials are too few or too alike to rank the parameters (Optuna would plot them all equal,
    with a warning), the report says so, and so does one warning line."""
    import warnings

    import optuna.visualization as vis
    from optuna.importance import PedAnovaImportanceEvaluator

    from seqrun.core.text import warn

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fig = vis.plot_param_importances(study, evaluator=PedAnovaImportanceEvaluator())
        except Exception as e:  # too few distinct trials for an importance estimate
            fig = f"not available: {e}"
    equal = [w for w in caught if EQUAL_IMPORTANCES in str(w.message)]
    for w in caught:  # the others: to the caller's _quiet_optuna, which says them
        if w not in equal:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    if not equal:
        return fig
    if any("too small" in str(w.message) for w in equal):
        why = f"too few completed trials ({complete}) to rank the parameters"
    else:  # the best trials are all of them: every one reached the same dev value
        why = f"the {complete} completed trials all reached the same dev value"
    why += ", so nothing tells the parameters apart yet; run more trials"
    warn(f"{path}: no parameter importances: {why}")
    return f"not available: {why}."
