"""Sweeps: expand a sweep file into trials and run them (locally, in parallel, or one by index).

A sweep file::

    base: ladybug-gru.yaml          # experiment file, relative to the sweep file
    name: lr-units                  # optional; default: the sweep file's stem
    grid:                           # every combination
      model.units: [32, 64]
      train.learning_rate: [0.001, 0.003]
    random:                         # `trials` draws, seeded by `sweep_seed`
      model.dropout: {uniform: [0.0, 0.3]}
      train.batch_size: {choice: [32, 64]}
    trials: 4
    seeds: [0, 1, 2]                # each configuration once per seed
    set: ["train.epochs=3"]         # applied to every trial

Each trial is a normal run directory; ``<runs>/_sweeps/<name>/sweep.json`` records the trials,
their overrides, config keys, statuses and run directories. Imports no TensorFlow.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from seqrun.core.config import (
    Section,
    base_file,
    config_key,
    load_config,
    parse_override,
    read_spec,
)
from seqrun.core.errors import RunFailure, UserError
from seqrun.core.runs import (
    FileLock,
    Run,
    check_folders,
    check_path_name,
    inside,
    iter_runs,
    latest_run,
    lock_held,
    not_writable,
    now_iso,
    read_state,
    write_json,
)
from seqrun.engine.listing import LIVE_STATUSES, live_lock_name, sweep_owner
from seqrun.engine.processes import PARENT_ENV, sigterm_interrupts, stop_children

DISTRIBUTIONS = ("uniform", "loguniform", "int", "choice")
MAX_TRIALS = 10_000
"""Most trials one sweep file may expand to."""
ELSEWHERE = "elsewhere"
"""The status, in this process only (never written to sweep.json), of a trial that another live
process trains: two ``seqrun sweep`` of one sweep file (on one machine, or on several sharing the
runs directory) share the trials out; each waits for the other's before it ends."""
WAIT_POLL_S = 2.0
"""How often a sweep process looks at the trials that other processes train."""


class TrialResources(Section):
    """Resources one trial requests from the Ray executor."""

    cpus: float | None = Field(
        None, gt=0, description="CPUs per trial; null: the cluster's CPUs / --workers."
    )
    gpus: float = Field(0, ge=0, description="GPUs per trial (fractions share a GPU).")


def check_distributions(v: dict[str, dict[str, Any]], section: str) -> dict[str, dict[str, Any]]:
    """Check ``{key: {uniform|loguniform|int: [low, high]} | {choice: [...]}}``; ValueError."""
    for key, dist in v.items():
        if not isinstance(dist, dict) or len(dist) != 1 or next(iter(dist)) not in DISTRIBUTIONS:
            raise ValueError(
                f"{section} '{key}' must be one of {{{'|'.join(DISTRIBUTIONS)}: ...}}, got {dist}"
            )
        kind, arg = next(iter(dist.items()))
        if kind == "choice":
            if not (isinstance(arg, list) and arg):
                raise ValueError(f"{section} '{key}': choice takes a non-empty list, got {arg}")
            continue
        if not (isinstance(arg, list) and len(arg) == 2):
            raise ValueError(f"{section} '{key}': {kind} takes [low, high], got {arg}")
        low, high = arg
        for bound in arg:
            if isinstance(bound, bool) or not isinstance(bound, int | float):
                raise ValueError(f"{section} '{key}': {kind} bounds must be numbers, got {arg}")
            if not math.isfinite(bound):
                raise ValueError(f"{section} '{key}': {kind} bounds must be finite, got {arg}")
        if kind == "int" and not all(float(b).is_integer() for b in arg):
            raise ValueError(f"{section} '{key}': int takes two whole numbers, got {arg}")
        if low > high:
            raise ValueError(
                f"{section} '{key}': {kind} low {low} is above high {high}; write [{high}, {low}]"
            )
        if kind == "loguniform" and low <= 0:
            raise ValueError(f"{section} '{key}': loguniform bounds must be > 0, got {arg}")
    return v


class SweepSpec(Section):
    """A sweep file."""

    base: str = Field(description="Experiment file, relative to the sweep file.")
    name: str | None = Field(None, description="Sweep name; default: the sweep file's stem.")
    grid: dict[str, list[Any]] = Field(
        default_factory=dict, description="Dotted key -> list of values; every combination."
    )
    random: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Dotted key -> {uniform: [a, b]} | {loguniform: [a, b]} | {int: [a, b]} "
        "| {choice: [...]}, drawn `trials` times.",
    )
    trials: int = Field(
        1, ge=1, le=MAX_TRIALS, description="Random draws; required with `random:`."
    )
    seeds: list[int] | None = Field(None, description="Run each configuration once per seed.")
    resources: TrialResources = Field(
        default_factory=lambda: TrialResources(),
        description="What each trial asks of a Ray cluster (`--executor ray`).",
    )
    sweep_seed: int = Field(0, description="Seed of the random draws.")
    set: list[str] = Field(default_factory=list, description="Overrides for every trial.")

    @field_validator("grid")
    @classmethod
    def _non_empty(cls, v: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in v.items():
            if not values:
                raise ValueError(f"grid '{key}' has no values")
            shown = [json.dumps(x, sort_keys=True, default=str) for x in values]
            twice = next(
                (x for x, t in zip(values, shown, strict=True) if shown.count(t) > 1), None
            )
            if twice is not None:
                raise ValueError(f"grid '{key}' lists {format_value(twice)} twice: {values}")
        return v

    @field_validator("random")
    @classmethod
    def _distributions(cls, v: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return check_distributions(v, "random")

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: list[int] | None, info: ValidationInfo) -> list[int] | None:
        for where in ("grid", "random"):
            if v is not None and "seed" in (info.data.get(where) or {}):
                raise ValueError(
                    f"{where} varies seed too: keep one (seeds: [0, 1, 2] runs every "
                    "configuration once per seed)"
                )
        if v is not None and not v:
            raise ValueError("seeds is an empty list: give at least one seed, or leave it out")
        for seed in v or []:
            if not 0 <= seed <= 2**32 - 1:
                raise ValueError(f"seed {seed} is outside 0..{2**32 - 1}")
        if v is not None and len(set(v)) != len(v):
            raise ValueError(f"seeds lists a seed twice: {v}")
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                check_path_name(v, "name")
            except UserError as e:
                raise ValueError(e.message) from None
        return v

    @model_validator(mode="after")
    def _one_place_per_key(self) -> SweepSpec:
        both = [k for k in self.grid if k in self.random]
        if both:
            raise ValueError(f"'{both[0]}' is in both grid and random: keep it in one")
        fixed_and_varied(self.set, {**self.grid, **self.random}, "grid or random")
        if "grid" in self.model_fields_set and not self.grid and not self.random:
            raise ValueError("grid is empty: give a key and its values, or leave grid out")
        if "random" in self.model_fields_set and not self.random:
            raise ValueError("random is empty: give a key and its distribution, or leave it out")
        if self.random and "trials" not in self.model_fields_set:
            raise ValueError("random: needs trials: N, the number of draws")
        if "trials" in self.model_fields_set and not self.random:
            raise ValueError("trials counts the draws of random:, which the file lacks")
        return self

    def trial_count(self) -> int:
        """How many trials the file expands to."""
        n = math.prod(len(values) for values in self.grid.values())
        if self.random:
            n *= self.trials
        return n * (len(self.seeds) if self.seeds is not None else 1)


def fixed_and_varied(fixed: list[str], varied: dict[str, Any], section: str) -> None:
    """A ValueError when an override of ``set:`` names a key that ``section`` varies."""
    found = _varied_override(fixed, varied)
    if found:
        text, key = found
        raise ValueError(
            f"set: '{text}' fixes '{key}', which {section} varies: keep it in one of them"
        )


def _varied_override(overrides: list[str], varied: Any) -> tuple[str, str] | None:
    """The first override ``KEY=VALUE`` whose key is in ``varied``, and that key (a malformed
    override is reported where the overrides are applied)."""
    for text in overrides:
        key = _override_key(text)
        if key in varied:
            return text, key
    return None


def command_line_fixes_varied(extra: list[str], varied: set[str], what: str, where: str) -> None:
    """A UserError when a ``--set`` of the command line names a key that the sweep or study
    file varies: each trial's own value would silently win over it."""
    found = _varied_override(extra, varied)
    if found:
        text, key = found
        raise UserError(
            f"--set {text} fixes '{key}', which the {what} varies (each trial sets its own "
            f"value): drop the --set, or take '{key}' out of the {what} file",
            where=where,
        )


def _override_key(text: str) -> str | None:
    """The key of an override ``KEY=VALUE``; None when it is malformed."""
    try:
        return parse_override(text)[0]
    except UserError:
        return None


def format_value(value: Any) -> str:
    """A value as the VALUE of ``--set KEY=VALUE`` that parses back to itself."""
    if isinstance(value, str) and parse_override(f"k={value}")[1] == value:
        return value
    return json.dumps(value)


def _draw(rng: random.Random, dist: dict[str, Any]) -> Any:
    kind, arg = next(iter(dist.items()))
    if kind == "uniform":
        return rng.uniform(*arg)
    if kind == "loguniform":
        return math.exp(rng.uniform(math.log(arg[0]), math.log(arg[1])))
    if kind == "int":
        return rng.randint(int(arg[0]), int(arg[1]))
    return rng.choice(arg)


def expand(spec: SweepSpec) -> list[list[str]]:
    """The overrides of every trial: grid x random draws x seeds (seeds innermost)."""
    keys = list(spec.grid)
    grid = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*spec.grid.values())]
    rng = random.Random(spec.sweep_seed)
    draws = (
        [{k: _draw(rng, d) for k, d in spec.random.items()} for _ in range(spec.trials)]
        if spec.random
        else [{}]
    )
    seeds = spec.seeds if spec.seeds is not None else [None]
    trials = []
    for point, draw, seed in itertools.product(grid, draws, seeds):
        values = {**point, **draw}
        overrides = [f"{k}={format_value(v)}" for k, v in values.items()]
        if seed is not None:
            overrides.append(f"seed={seed}")
        trials.append(overrides)
    return trials


@dataclass
class Trial:
    """One trial: its overrides and what is known of its run."""

    index: int
    overrides: list[str]
    key: str
    name: str
    status: str = "pending"
    run_dir: str | None = None
    error: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    duration_s: float | None = None


class Sweep:
    """A sweep file resolved into trials, with its state directory."""

    def __init__(self, path: str | Path, runs_dir: Path, extra_set: list[str] | None = None):
        self.path = Path(path)
        self.spec, self.source = read_spec(path, SweepSpec, "sweep")
        total = self.spec.trial_count()
        if total > MAX_TRIALS:
            raise UserError(
                f"the sweep expands to {total:,} trials, more than {MAX_TRIALS:,}; use fewer "
                "grid values, trials or seeds",
                where=str(path),
            )
        self.base = base_file(path, self.spec.base, self.source, "sweep")
        self.runs_dir = Path(runs_dir)
        if self.spec.name is None:
            try:
                check_path_name(self.path.stem, "name")
            except UserError as e:
                raise UserError(
                    f"{e.message}; the file name gives the sweep name: set 'name' or rename it",
                    where=str(path),
                ) from None
        self.name = self.spec.name or self.path.stem
        self.dir = inside(self.runs_dir, self.runs_dir / "_sweeps" / self.name)
        check_folders(self.runs_dir, self.dir.parent, self.dir, what="sweep name")
        varied = {*self.spec.grid, *self.spec.random}
        command_line_fixes_varied(
            extra_set or [], varied | ({"seed"} if self.spec.seeds else set()), "sweep", str(path)
        )
        self.common = [*self.spec.set, *(extra_set or [])]
        self._live: FileLock | None = None
        self.trials: list[Trial] = []
        for i, overrides in enumerate(expand(self.spec)):
            all_overrides = [*self.common, *overrides]
            try:
                cfg = load_config(self.base, all_overrides)
            except UserError as e:
                raise self._trial_error(i, overrides, e) from None
            self.trials.append(Trial(i, overrides, config_key(cfg), cfg.name))

    def _trial_error(self, index: int, overrides: list[str], e: UserError) -> UserError:
        """A trial's bad config, placed at the line of the sweep file that gave the bad value
        (its grid or random key, set: or seeds:) when one did."""
        trial = f"trial {index} ({' '.join(overrides)})"
        m = re.search(r"--set ([^=\s]+)=", e.where or "")
        key = m.group(1) if m else None
        fixed = {_override_key(t): t for t in self.spec.set}
        given = {_override_key(t) for t in self.common[len(self.spec.set) :]}
        if key in given:  # the command line's --set wins over set:
            return UserError(f"{trial}: {e}")
        if key in self.spec.grid or key in self.spec.random:
            section = "grid" if key in self.spec.grid else "random"
            where = self.source.where(f"{section}.{key}")
        elif key in fixed:  # None: a malformed set: entry (KEY=VALUE expected)
            where = self.source.where(f"set[{self.spec.set.index(fixed[key])}]")
        elif key == "seed" and self.spec.seeds is not None:
            where = self.source.where("seeds")
        else:  # the experiment file itself, or a --set of the command line
            return UserError(f"{trial}: {e}")
        detail = e.message if (e.where or "").startswith("--set") else str(e)
        return UserError(f"{trial}: {detail}", where=where)

    # -- state
    @property
    def state_path(self) -> Path:
        return self.dir / "sweep.json"

    def check_writable(self) -> None:
        """A RunFailure (exit code 1, as for `train`) when the runs directory, or the sweep's
        folder in it, cannot be written: the sweep records its trials in sweep.json there
        and trains their runs beside it."""
        why = "a sweep records its trials in sweep.json there and trains their runs beside it"
        problem = not_writable(self.dir, self.runs_dir, why) or not_writable(
            self.runs_dir, self.runs_dir, why
        )
        if problem:
            raise RunFailure(problem)

    def __getstate__(self) -> dict[str, Any]:  # a copy (a Ray task's) holds no lock
        return {**self.__dict__, "_live": None}

    def live_lock_path(self, pid: int, host: str | None = None) -> Path:
        """The lock that sweep process ``pid`` (on ``host``, default this one) holds while it
        owns running trials."""
        return self.dir / live_lock_name(pid, host or socket.gethostname())

    def close(self) -> None:
        """Drop this process's live lock (its trials, if still recorded running, read as
        dead once the process is gone)."""
        if self._live is not None:
            self._live.release()
            self._live = None

    def record(self, trial: Trial, keep: Any = None) -> dict[str, Any] | None:
        """Merge one trial's status into sweep.json (safe across threads and processes).

        ``keep(entry)``, called with the trial's entry in sweep.json (or None) while the file
        is locked, may leave the entry as it is: then nothing is written, and the entry is
        returned (None when written)."""
        import filelock

        self.dir.mkdir(parents=True, exist_ok=True)
        live = trial.status in LIVE_STATUSES
        if live and self._live is None:  # held until close() or this process ends
            for old in self.dir.glob(".live-*.lock"):  # left by killed sweep processes
                if lock_held(old) is False:
                    old.unlink(missing_ok=True)
            lock = FileLock(self.live_lock_path(os.getpid()), remove=True)
            if lock.acquire(wait_s=0):
                self._live = lock
        with filelock.FileLock(self.dir / ".lock"):
            from seqrun.engine.listing import SWEEP_STATE_FIX

            state = read_state(self.state_path, SWEEP_STATE_FIX) or {}
            state.update(
                name=self.name,
                sweep_file=str(self.path.resolve()),
                base=str(self.base),
                common_overrides=self.common,
                updated_at=now_iso(),
            )
            trials = state.setdefault("trials", {})
            if keep is not None and keep(trials.get(str(trial.index))):
                return trials[str(trial.index)]
            for t in self.trials:  # list every trial, keep known statuses
                trials.setdefault(str(t.index), {"overrides": t.overrides, "status": "pending"})
            trials[str(trial.index)] = {
                "overrides": trial.overrides,
                "config_key": trial.key,
                "status": trial.status,
                # absolute: sweep.json is read from other working directories too
                "run_dir": str(Path(trial.run_dir).resolve()) if trial.run_dir else None,
                "error": trial.error,
                "metrics": trial.metrics,
                "duration_s": trial.duration_s,
            }
            if live:  # who owns it: a reader shows it dead once that process is gone
                trials[str(trial.index)].update(
                    pid=os.getpid(), host=socket.gethostname(), name=trial.name
                )
            write_json(self.state_path, state)
        return None

    def taken(self, entry: Any) -> bool:
        """Whether the sweep.json entry of a trial belongs to another process: a live sweep
        process other than this one owns it, or it is completed (its run too)."""
        if sweep_owner(self.dir, entry) is not None:
            return True
        return _completed_entry(entry)

    def claim(self, trial: Trial) -> dict[str, Any] | None:
        """Record ``trial`` with its (live) status as owned by this process, unless
        :meth:`taken`: then nothing is written, and its entry is returned."""
        return self.record(trial, keep=self.taken)

    def find_completed(self) -> None:
        """Mark trials whose exact config already has a completed run (skipped on rerun)."""
        done: dict[str, str] = {}
        for run in iter_runs(self.runs_dir):
            meta = run.meta()
            if meta.get("config_key") and run.status() == "completed":
                done.setdefault(meta["config_key"], str(run.path))
        for t in self.trials:
            if t.key in done:
                t.status, t.run_dir = "skipped", done[t.key]
                t.metrics = _headline(Run(Path(done[t.key])).metrics("dev"))

    # -- commands
    def command(self, trial: Trial, runs_dir_flag: bool = False) -> list[str]:
        """The `seqrun train ...` command line of one trial; ``--resume auto`` continues
        the trial's run where a kill (or a preempted job) left it."""
        cmd = ["seqrun", "train", str(self.base)]
        for o in [*self.common, *trial.overrides]:
            cmd += ["--set", o]
        if runs_dir_flag:
            cmd += ["--runs-dir", str(self.runs_dir)]
        return [*cmd, "--resume", "auto"]


def _completed_entry(entry: Any) -> bool:
    """Whether a sweep.json entry says completed, and its run does."""
    if not isinstance(entry, dict) or entry.get("status") != "completed":
        return False
    run_dir = entry.get("run_dir")
    return isinstance(run_dir, str) and Run(Path(run_dir)).status() == "completed"


def _duration(entry: Any, run_dir: Path) -> float:
    """Seconds a trial trained by another process took: as its sweep.json ``entry`` records,
    else as its run's meta.json does (0 when neither says)."""
    for source in (entry if isinstance(entry, dict) else {}, Run(run_dir).meta()):
        value = source.get("duration_s")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return 0.0


def _headline(metrics: dict[str, Any] | None) -> dict[str, Any]:
    from seqrun.engine.listing import headline

    return headline(metrics)


def _pending(sweep: Sweep, say: Any) -> list[Trial]:
    """Record the trials already completed elsewhere as skipped; return the others."""
    sweep.find_completed()
    for t in sweep.trials:
        if t.status == "skipped":
            sweep.record(t, keep=sweep.taken)  # an entry saying completed stays as it is
            say("skip", t)
            _warn_modified_data(sweep, t)
    return [t for t in sweep.trials if t.status != "skipped"]


def _warn_modified_data(sweep: Sweep, trial: Trial) -> None:
    """A warning when a data file of a trial skipped as completed was modified after its run
    started training (the run's results may be of the earlier data)."""
    from seqrun.core.text import warn
    from seqrun.engine.resume import data_modified_since

    if trial.run_dir is None:
        return
    cfg = load_config(sweep.base, [*sweep.common, *trial.overrides])
    changed = data_modified_since(cfg, Run(Path(trial.run_dir)))
    if changed:
        warn(
            f"trial {trial.index}: {changed} was modified after its run {trial.run_dir} started "
            "training: its results may be of the earlier data; to train on the data as they "
            "are now, move that run out of the runs directory and rerun the sweep"
        )


def run_trial_subprocess(
    sweep: Sweep,
    trial: Trial,
    threads: int | None,
    procs: dict[int, subprocess.Popen],
    stop: threading.Event | None = None,
) -> Trial:
    """Run one trial as a `seqrun train` child process and fill in its outcome (the child
    gets SIGTERM when this process dies; nothing starts once ``stop`` is set)."""
    cmd = [sys.executable, "-m", "seqrun", *sweep.command(trial, runs_dir_flag=True)[1:]]
    cmd += ["--json", "--quiet"]
    env = dict(os.environ)
    env[PARENT_ENV] = str(os.getpid())
    if threads:
        env["SEQRUN_THREADS"] = str(threads)
    t0 = time.time()
    if stop is not None and stop.is_set():
        trial.status, trial.error = "interrupted", "interrupted before it started"
        return trial
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    procs[trial.index] = proc
    if stop is not None and stop.is_set():  # stopped while it was starting
        proc.terminate()
    out, err = proc.communicate()
    procs.pop(trial.index, None)
    trial.duration_s = round(time.time() - t0, 2)
    result: dict[str, Any] = {}
    if out.strip():
        try:
            result = json.loads(out.strip().splitlines()[-1])
        except ValueError:
            result = {}
    trial.run_dir = result.get("run_dir")
    if proc.returncode == 0:
        trial.status = "completed"
        trial.metrics = _headline(result.get("metrics"))
    else:
        trial.status = "interrupted" if proc.returncode in (130, -2, -15) else "failed"
        lines = [line for line in err.strip().splitlines() if line.strip()]
        # the trial's own "error: ..." line, without its prefix (shown as "trial N: failed: ...")
        errors = [
            line.removeprefix("error:").strip() for line in lines if line.startswith("error:")
        ]
        if trial.status == "interrupted":  # its last line is a progress note, not a cause
            lines = ["interrupted"]
        elif proc.returncode < 0:  # killed: whatever it printed last is not the cause
            lines = [_killed_by(-proc.returncode)]
        trial.error = (errors or lines or [f"exit code {proc.returncode}"])[-1]
        owner = _refused_for_another(sweep, trial, proc.returncode)
        if owner is not None:  # not a failure: another process trains it (or just did)
            trial.status, trial.error, trial.run_dir = ELSEWHERE, elsewhere_note(owner), None
            return trial
        if not trial.run_dir:  # killed before it could say: the run it was training, if any
            run = latest_run(sweep.runs_dir, trial.name, trial.key)
            trial.run_dir = str(run.path) if run is not None else None
    return trial


def _refused_for_another(sweep: Sweep, trial: Trial, returncode: int) -> str | None:
    """Who trains ``trial`` when its `seqrun train --resume auto` refused it (exit 2) because
    another live process trains that config, or completed it meanwhile; None otherwise."""
    from seqrun.engine.resume import trained_elsewhere

    if returncode != 2:
        return None
    owner = trained_elsewhere(sweep.runs_dir, trial.name, trial.key)
    if owner is not None:
        return owner
    run = latest_run(sweep.runs_dir, trial.name, trial.key)
    return "another process" if run is not None and run.status() == "completed" else None


def elsewhere_note(owner: str) -> str:
    """The line of a trial that another process trains (``owner``: ``pid N on HOST``)."""
    who = owner if owner == "another process" else f"another process ({owner})"
    return f"trained by {who}; skipped here, waiting for it to end"


class Elsewhere:
    """The trials that other live processes train, watched until they end: a completed one
    is taken as completed (recorded in sweep.json only when its process did not record it),
    a failure that the other sweep process recorded is taken as it is, and one left unfinished
    (its process killed or stopped) is handed back to be run here, continuing its run."""

    def __init__(self, sweep: Sweep, say: Any) -> None:
        self.sweep, self.say = sweep, say
        self.trials: dict[int, Trial] = {}
        self.by_sweep: set[int] = set()  # deferred to a sweep process that owns its entry

    def __bool__(self) -> bool:
        return bool(self.trials)

    def refused(self, t: Trial) -> None:
        """Watch ``t``, whose `seqrun train` refused it because another process trains it
        (``t.error`` says which): its entry in sweep.json no longer names this process."""
        t.status = "pending"
        self.sweep.record(t, keep=self.sweep.taken)
        self.add(t)

    def add(self, t: Trial, owner: str | None = None, by_sweep: bool = False) -> None:
        """Watch ``t``, trained by ``owner`` (``pid N on HOST``; None: ``t.error`` says)."""
        t.status = ELSEWHERE
        if owner is not None:
            t.error = elsewhere_note(owner)
        t.run_dir, t.metrics, t.duration_s = None, {}, None
        self.trials[t.index] = t
        if by_sweep:
            self.by_sweep.add(t.index)
        self.say(ELSEWHERE, t)

    def claimed(self, t: Trial, entry: dict[str, Any]) -> bool:
        """Take note of ``entry`` of sweep.json, found by :meth:`Sweep.claim` for ``t``: a
        trial completed (by another process, since this one started) is taken as completed
        (True), one owned by a live sweep process is watched (True); False when neither (the
        trial is this process's to run)."""
        sweep = self.sweep
        if _completed_entry(entry):
            t.status, t.run_dir, t.error = "completed", entry["run_dir"], None
            t.metrics = _headline(entry.get("metrics"))  # null in sweep.json: NaN
            t.duration_s = _duration(entry, Path(entry["run_dir"]))
            self.say("end", t)
            return True
        if not sweep.taken(entry):
            return False
        # its owner may have ended since the claim: then the next poll hands it back
        self.add(t, sweep_owner(self.sweep.dir, entry) or "another process", by_sweep=True)
        return True

    def poll(self, ended: Any = None) -> list[Trial]:
        """Settle the watched trials whose process has ended (each told to ``say`` and to
        ``ended``); return those to run here."""
        from seqrun.engine.resume import trained_elsewhere

        sweep, again = self.sweep, []
        state: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError, UserError):
            from seqrun.engine.listing import SWEEP_STATE_FIX

            state = read_state(sweep.state_path, SWEEP_STATE_FIX) or {}
        entries = state.get("trials") if isinstance(state.get("trials"), dict) else {}
        for index, t in list(self.trials.items()):
            entry = entries.get(str(index))
            if trained_elsewhere(sweep.runs_dir, t.name, t.key) or sweep_owner(sweep.dir, entry):
                continue
            del self.trials[index]
            run = latest_run(sweep.runs_dir, t.name, t.key)
            if run is not None and run.status() == "completed":
                t.status, t.run_dir, t.error = "completed", str(run.path), None
                t.metrics = _headline(run.metrics("dev"))
                recorded = isinstance(entry, dict) and entry.get("status") == "completed"
                t.duration_s = _duration(entry if recorded else None, run.path)
                sweep.record(t, keep=sweep.taken)  # where its process did not record it
            elif index in self.by_sweep and (entry or {}).get("status") == "failed":
                t.status, t.error, t.run_dir = "failed", entry.get("error"), entry.get("run_dir")
            else:  # its process stopped or died before the end: continued here
                t.status, t.error, t.run_dir = "pending", None, None
                again.append(t)
            self.by_sweep.discard(index)
            if t.status != "pending":
                self.say("end", t)
                if ended is not None:
                    ended(t)
        return again


def _killed_by(signum: int) -> str:
    """Why a trial whose process died of signal ``signum`` failed, and what to do."""
    import signal

    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    why = " (out of memory, or a kill -9)" if name == "SIGKILL" else ""
    return f"killed by {name}{why}; rerun the sweep to continue its run"


def run_local(
    sweep: Sweep,
    workers: int = 1,
    fail_fast: bool = False,
    on_event: Any = None,
    procs: dict[int, subprocess.Popen] | None = None,
    stop: threading.Event | None = None,
) -> list[Trial]:
    """Run the sweep's pending trials with ``workers`` parallel processes.

    ``on_event(kind, trial)`` is called with kind 'skip', 'start', 'elsewhere' (another live
    process trains the trial: it is not run here; ``trial.error`` says who) or 'end' as things
    happen. Trials that other processes train are waited for, so that the outcome covers the
    whole sweep (one such process killed: its trials are continued here). Ctrl-C or SIGTERM
    stops the children (each marks its run interrupted), then raises KeyboardInterrupt.
    ``procs`` and ``stop`` let a caller that runs this in another thread stop the children
    itself (:func:`stop_children`, after setting ``stop``).
    """
    say = on_event or (lambda kind, trial: None)
    pending = _pending(sweep, say)
    cores = os.cpu_count() or 1
    threads = max(1, cores // workers) if workers > 1 else None
    procs = {} if procs is None else procs
    stop = threading.Event() if stop is None else stop
    try:
        return _run_local(sweep, pending, workers, threads, fail_fast, say, procs, stop)
    finally:
        sweep.close()


def _run_local(
    sweep: Sweep,
    pending: list[Trial],
    workers: int,
    threads: int | None,
    fail_fast: bool,
    say: Any,
    procs: dict[int, subprocess.Popen],
    stop: threading.Event,
) -> list[Trial]:
    with sigterm_interrupts(), ThreadPoolExecutor(max_workers=workers) as pool:
        futures: dict[Future, Trial] = {}
        queue = list(pending)
        elsewhere = Elsewhere(sweep, say)

        def launch() -> None:
            while queue and len(futures) < workers and not stop.is_set():
                t = queue.pop(0)
                t.status = "running"
                entry = sweep.claim(t)
                if entry is not None and elsewhere.claimed(t, entry):
                    continue  # another process trains it, or completed it
                say("start", t)
                futures[pool.submit(run_trial_subprocess, sweep, t, threads, procs, stop)] = t

        def failed(t: Trial) -> None:
            if t.status == "failed" and fail_fast:
                stop.set()
                for p in list(procs.values()):
                    p.terminate()

        try:
            launch()
            while futures or (elsewhere and not stop.is_set()):
                if not futures:
                    time.sleep(WAIT_POLL_S)
                timeout = WAIT_POLL_S if elsewhere else None
                done = wait(list(futures), timeout, FIRST_COMPLETED)[0] if futures else set()
                for f in done:
                    t = futures.pop(f)
                    f.result()
                    if t.status == ELSEWHERE:  # refused: another process trains it
                        elsewhere.refused(t)
                        continue
                    sweep.record(t, keep=sweep.taken)
                    say("end", t)
                    failed(t)
                if elsewhere:
                    queue[:0] = elsewhere.poll(failed)
                launch()
        except KeyboardInterrupt:
            stop.set()
            stop_children(procs)
            done, _ = wait(list(futures), timeout=10)
            for f in done:  # the children stopped: their trials are interrupted
                t = futures.pop(f)
                if f.exception() is None and t.status != ELSEWHERE:
                    sweep.record(t, keep=sweep.taken)
            raise
    for t in queue:  # not started because of --fail-fast
        t.status = "cancelled"
        sweep.record(t, keep=sweep.taken)
    return sweep.trials


def _ray_trial(sweep: Sweep, trial: Trial, threads: int | None) -> Trial:
    """Body of one Ray task: the trial as a `seqrun train` child process of the Ray worker."""
    return run_trial_subprocess(sweep, trial, threads, {})


def run_ray(
    sweep: Sweep,
    workers: int = 1,
    fail_fast: bool = False,
    on_event: Any = None,
    address: str | None = None,
) -> list[Trial]:
    """Run the sweep's pending trials as Ray tasks (a local Ray instance without ``address``).

    Each trial requests ``resources.cpus`` (default: the cluster's CPUs / ``workers``) and
    ``resources.gpus``; the runs directory must be shared by every node that runs trials.
    """
    import ray

    say = on_event or (lambda kind, trial: None)
    pending = _pending(sweep, say)
    refs: dict[Any, Trial] = {}
    started_here = not ray.is_initialized()
    if started_here:
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if address:
            kwargs["address"] = address
        else:
            kwargs["num_cpus"] = os.cpu_count() or 1
        ray.init(**kwargs)
    try:
        total_cpus = float(ray.cluster_resources().get("CPU", 1))
        cpus = sweep.spec.resources.cpus or max(1.0, total_cpus // workers)
        threads = max(1, int(cpus))
        task = ray.remote(num_cpus=cpus, num_gpus=sweep.spec.resources.gpus, max_retries=0)(
            _ray_trial
        )
        elsewhere = Elsewhere(sweep, say)
        stopped = False

        def submit(trials: list[Trial]) -> None:
            for t in trials:
                t.status = "queued"
                entry = sweep.claim(t)
                if entry is not None and elsewhere.claimed(t, entry):
                    continue  # another process trains it, or completed it
                say("queue", t)
                refs[task.remote(sweep, t, threads)] = t

        def failed(t: Trial) -> None:
            nonlocal stopped
            if t.status == "failed" and fail_fast and not stopped:
                stopped = True
                for r, other in refs.items():
                    ray.cancel(r, force=True)
                    other.status = "cancelled"
                    sweep.record(other, keep=sweep.taken)
                refs.clear()

        submit(pending)
        while refs or (elsewhere and not stopped):
            done: list[Any] = []
            if refs:
                timeout = WAIT_POLL_S if elsewhere else None
                done, _ = ray.wait(list(refs), num_returns=1, timeout=timeout)
            else:
                time.sleep(WAIT_POLL_S)
            for ref in done:
                t = refs.pop(ref)
                try:
                    result = ray.get(ref)
                    t.status, t.run_dir, t.error = result.status, result.run_dir, result.error
                    t.metrics, t.duration_s = result.metrics, result.duration_s
                except Exception as e:  # the task itself died (node lost, OOM)
                    t.status, t.error = "failed", f"ray task failed: {type(e).__name__}: {e}"
                if t.status == ELSEWHERE:  # refused: another process trains it
                    elsewhere.refused(t)
                    continue
                sweep.record(t, keep=sweep.taken)
                say("end", t)
                failed(t)
            if elsewhere:
                again = elsewhere.poll(failed)
                if not stopped:
                    submit(again)
    except KeyboardInterrupt:
        for r in list(refs):
            ray.cancel(r, force=True)
        raise
    finally:
        sweep.close()
        if started_here:
            ray.shutdown()
    return sweep.trials


def run_index(sweep: Sweep, index: int, say: Any = None) -> Trial:
    """Run trial ``index`` in this process (``seqrun sweep --index I``, for job arrays),
    recording it in sweep.json; ``say`` gets the line of a trial skipped as completed, or
    continued. Like the `--list` commands (``--resume auto``), a rerun of a killed or preempted
    trial continues its run, and a trial that another live process trains is refused."""
    from seqrun.engine.resume import choose_auto

    t = sweep.trials[index]
    sweep.find_completed()
    if t.status == "skipped":
        sweep.record(t)
        if say is not None:
            say(f"trial {index}: already completed in {t.run_dir}")
        return t
    overrides = [*sweep.common, *t.overrides]
    cfg = load_config(sweep.base, overrides)
    with contextlib.ExitStack() as held:  # as `--resume auto` (the --list commands) does
        run = choose_auto(cfg, sweep.runs_dir, held, say or (lambda m: None))
        if run is not None and run.status() == "completed":  # finished since find_completed
            t.status, t.run_dir = "skipped", str(run.path)
            t.metrics = _headline(run.metrics("dev"))
            sweep.record(t)
            return t
        return _train_index(sweep, t, cfg, overrides, run)


def _train_index(sweep: Sweep, t: Trial, cfg: Any, overrides: list[str], run: Any) -> Trial:
    """Train trial ``t`` in this process, continuing ``run`` (a killed or preempted attempt)
    when given; record how it ended."""
    from seqrun.core.errors import SeqrunError
    from seqrun.engine import experiment
    from seqrun.engine.checkpoint import Interrupted

    t.status = "running"
    sweep.record(t)
    t0 = time.time()
    try:
        result = experiment.train(
            cfg, sweep.runs_dir, quiet=True, argv=sys.argv, resume=run, overrides=overrides
        )
        t.status, t.run_dir = "completed", result["run_dir"]
        t.metrics = _headline(result["metrics"])
    except Interrupted as e:
        t.status, t.run_dir, t.error = "interrupted", str(e), "interrupted"
    except SeqrunError as e:
        t.status, t.error = "failed", str(e)
    except KeyboardInterrupt:  # before training could catch it: not left 'running'
        t.status, t.error = "interrupted", "interrupted"
        raise
    except BaseException as e:
        t.status, t.error = "failed", f"{type(e).__name__}: {e}"
        raise
    finally:
        t.duration_s = round(time.time() - t0, 2)
        sweep.record(t)
        sweep.close()
    return t
