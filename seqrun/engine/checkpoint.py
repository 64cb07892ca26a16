"""What a run keeps between epochs: the train state, the epoch-file protocol, the signal guard.

On disk (``<run>/checkpoints/``)::

    epoch-NNNN.keras   the model at the end of epoch NNNN (only the newest is kept)
    state.json         the train state (:class:`TrainState`); names that file
    last.keras         hard link to the newest epoch file
    best.keras         hard link to the epoch file of the best dev value

Every epoch the model is written to ``epoch-NNNN.keras`` (a temporary name, fsync, rename),
then ``state.json`` (atomic) names it, and only then do ``last.keras`` (and ``best.keras`` when
the epoch is the best) become links to it. A kill at any instant leaves ``state.json`` naming a
complete file; a resume loads that file and :func:`repair` redoes the links a kill left undone.

Imports TensorFlow only inside the functions that save or load a model.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqrun.core.errors import RunFailure, UserError
from seqrun.core.runs import (
    Run,
    atomic_write_text,
    dev_key,
    metric_name,
    null_as_nan,
    read_json,
    stop_signals,
    write_json,
)
from seqrun.engine.processes import mute_if_orphaned, orphaned

STATE_FILE = "state.json"


class Interrupted(Exception):
    """Training stopped by Ctrl-C or SIGTERM; the run is marked ``interrupted``. The message
    is the run directory to resume."""


BY_THE_USER = "interrupted by the user (Ctrl-C / SIGTERM / SIGHUP)"
"""The error recorded in meta.json of a run stopped by Ctrl-C or SIGTERM."""

PARENT_ENDED = "interrupted: the sweep or tune process that started it ended"
"""The error recorded in meta.json of a trial stopped because its sweep or tune died."""


def interrupt_cause(otherwise: str = BY_THE_USER) -> str:
    """What stopped a run: the death of the sweep or tune that started it, else ``otherwise``
    (Ctrl-C or SIGTERM from the user by default)."""
    return PARENT_ENDED if orphaned() else otherwise


@dataclass
class TrainState:
    """How far a run trained and what selection and early stopping saw so far."""

    epoch: int = 0  # epochs completed
    best: float | None = None  # best finite dev value of the monitored metric
    best_epoch: int | None = None
    wait: int = 0  # epochs since the best one (early stopping)
    history: list[dict[str, Any]] = field(default_factory=list)  # one row per epoch
    monitor: str = ""  # the Keras log key of the monitored dev metric (``val_loss``)
    seed_states: dict[str, list[int]] = field(default_factory=dict)  # dropout RNGs
    stopped_early: bool = False  # saved: a resume of a run that stopped early stops, too
    checkpoint: str = "last.keras"  # the epoch file this state belongs to
    pruned: bool = False  # stopped by ``on_epoch`` (a tune trial); not saved

    def to_json(self) -> dict[str, Any]:
        """The content of ``state.json``."""
        out: dict[str, Any] = {
            "epoch": self.epoch,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "history": self.history,
            "monitor": self.monitor,
            "seed_states": self.seed_states,
        }
        if self.stopped_early:
            out["stopped_early"] = True
        out["checkpoint"] = self.checkpoint
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> TrainState:
        """A state read from ``state.json`` (older files may lack the newer keys). A null in
        a history row is NaN (a diverged epoch's loss), as older files wrote it; a null
        ``best`` is no best epoch yet (the best is always a finite value)."""
        return cls(
            epoch=raw["epoch"],
            best=raw.get("best"),
            best_epoch=raw.get("best_epoch"),
            wait=raw.get("wait", 0),
            history=[null_as_nan(row) for row in raw.get("history", [])],
            monitor=raw.get("monitor", ""),
            seed_states=dict(raw.get("seed_states", {})),
            stopped_early=bool(raw.get("stopped_early", False)),
            checkpoint=raw.get("checkpoint") or "last.keras",
        )

    def end_epoch(self, epoch: int, value: float, mode: str, min_delta: float, patience: Any):
        """Count epoch ``epoch`` (1-based) with dev value ``value``: best, wait, early stop."""
        best = self.best
        improved = best is None or (
            value < best - min_delta if mode == "min" else value > best + min_delta
        )
        if not math.isfinite(value):
            improved = False
        if improved:
            self.best, self.best_epoch, self.wait = value, epoch, 0
        else:
            self.wait += 1
        self.epoch = epoch
        if patience is not None and self.wait >= patience:
            self.stopped_early = True

    def result(self, run_dir: str | None, metrics: Any) -> dict[str, Any]:
        """What ``train`` returns for a run that ended with this state."""
        return {
            "run_dir": run_dir,
            "status": "pruned" if self.pruned else "completed",
            "metrics": metrics,
            "best_epoch": self.best_epoch,
            "epochs_completed": self.epoch,
            "stopped_early": self.stopped_early,
        }


def history_csv(rows: list[dict[str, Any]]) -> str:
    """``history.csv``: one row per epoch, every column any row has."""
    buf = io.StringIO()
    fields: list[str] = []
    for r in rows:
        fields.extend(k for k in r if k not in fields)
    w = csv.DictWriter(buf, fieldnames=fields)
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def seed_states(model: Any) -> dict[str, list[int]]:
    """Current values of the model's random seed generators (dropout masks)."""
    return {
        v.path: np.asarray(v.numpy()).tolist()
        for v in model.variables
        if "seed_generator" in v.path
    }


def restore_seed_states(model: Any, states: dict[str, list[int]]) -> None:
    """Assign seed-generator values saved by :func:`seed_states`, in the order they were
    saved (the model's variable order). Keras numbers the generators per process
    (``seed_generator_2`` in a process that built two models before, ``seed_generator`` in a
    fresh one), so the paths of a fold of a cross-validation, or of any model not the first of
    its process, differ in the process that resumes it; the paths decide only when the counts
    differ."""
    own = [v for v in model.variables if "seed_generator" in v.path]
    if len(own) == len(states):
        for v, value in zip(own, states.values(), strict=True):
            v.assign(np.asarray(value, dtype=v.dtype))
        return
    for v in model.variables:
        if v.path in states:
            v.assign(np.asarray(states[v.path], dtype=v.dtype))


def epoch_row(epoch: int, logs: dict[str, Any], model: Any, seconds: float) -> dict[str, Any]:
    """The history row of an epoch: its Keras logs under seqrun's names, lr, seconds."""
    row: dict[str, Any] = {"epoch": epoch}
    for k, v in logs.items():
        row[dev_key(k)] = float(v)
    lr = getattr(model.optimizer, "learning_rate", None)
    if lr is not None:
        row["lr"] = float(np.asarray(lr))
    row["seconds"] = round(seconds, 3)
    return row


def checkpointer(
    run: Run,
    state: TrainState,
    train: Any,
    mode: str,
    guard: SignalGuard | None = None,
    on_epoch: Any = None,
) -> Any:
    """Keras callback: history.csv, best/last checkpoints, early stopping, resumable state.

    ``train`` is the config's ``train`` section (monitor, early stopping); ``mode`` whether
    the monitored metric is minimised or maximised. ``on_epoch(epoch, row)`` runs after each
    epoch is saved, with that epoch's history row; when it returns True training stops there
    and the run ends ``pruned``.
    """
    import keras

    key = state.monitor
    es = train.early_stopping

    class Checkpointer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.time()

        def on_epoch_end(self, epoch, logs=None):
            if guard is not None and guard.requested:
                raise KeyboardInterrupt  # a partial epoch is never checkpointed
            logs = logs or {}
            if key not in logs:
                known = ", ".join(metric_name(k) for k in logs if dev_key(k) != k)
                raise UserError(
                    f"train.monitor '{train.monitor}' is not a dev metric of this model; "
                    f"choose one of: {known}",
                    where="train.monitor",
                )
            run.check_present()  # moved or deleted meanwhile: never write a new one
            row = epoch_row(epoch + 1, logs, self.model, time.time() - self.t0)
            state.history.append(row)
            state.end_epoch(epoch + 1, float(logs[key]), mode, es.min_delta, es.patience)
            state.seed_states = seed_states(self.model)
            save_epoch(self.model, run, state)
            atomic_write_text(run.path / "history.csv", history_csv(state.history))
            run.update_meta(epochs_completed=epoch + 1, best_epoch=state.best_epoch)
            if state.stopped_early or not math.isfinite(float(logs.get("loss", 0.0))):
                self.model.stop_training = True  # a NaN loss: the weights are NaN from now on
            if on_epoch is not None and on_epoch(epoch + 1, row):
                state.pruned = True
                self.model.stop_training = True

    return Checkpointer()


def save_epoch(model: Any, run: Run, state: TrainState) -> None:
    """Save the end-of-epoch model so that a kill at any instant leaves a consistent pair.

    The model goes to ``epoch-NNNN.keras`` (temporary name, then rename); then ``state.json``
    (atomic) names that file; only then do ``last.keras`` (and ``best.keras`` when this epoch
    is the best) become hard links to it, and older epoch files are removed. A resume loads
    the file that ``state.json`` names, never a model newer or older than the state, and
    :func:`link_checkpoints` redoes the links a kill may have left undone.
    """
    folder = run.path / "checkpoints"
    current = folder / f"epoch-{state.epoch:04d}.keras"
    save_model(model, current)
    state.checkpoint = current.name
    write_json(folder / STATE_FILE, state.to_json())
    link_checkpoints(run, state)


def link_checkpoints(run: Run, state: TrainState) -> None:
    """Make ``last.keras`` (and ``best.keras`` if the state's epoch is the best) the file that
    ``state.json`` names; remove older epoch files."""
    folder = run.path / "checkpoints"
    current = folder / state.checkpoint
    names = ["last"] + (["best"] if state.best_epoch == state.epoch else [])
    for name in names:
        target = run.checkpoint(name)
        if _same_file(current, target):  # already linked (a resume after the last save)
            continue
        tmp = folder / f".{name}.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        try:
            os.link(current, tmp)
        except OSError:  # file systems without hard links
            import shutil

            shutil.copyfile(current, tmp)
        os.replace(tmp, target)
        # rename() of two links to one file does nothing and leaves the source behind
        tmp.unlink(missing_ok=True)
    for old in folder.glob("epoch-*.keras"):
        if old.name != current.name:
            old.unlink(missing_ok=True)


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` both exist and are the same file (hard links to one inode)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def repair(run: Run, state: TrainState) -> None:
    """After a kill (the caller holds the run's lock): remove the dead process's temporary
    files, redo the links of the state's epoch, rewrite history.csv from the state."""
    folder = run.path / "checkpoints"
    for tmp in folder.glob(".*.tmp*"):
        tmp.unlink(missing_ok=True)
    if state.checkpoint != "last.keras":
        link_checkpoints(run, state)
    atomic_write_text(run.path / "history.csv", history_csv(state.history))


def _state_problem(raw: dict[str, Any]) -> str | None:
    """What makes a state.json unusable (a hand edit, a bug): a key of the wrong type, or a
    checkpoint that is not an epoch file of the run's own folder; None when it is sound."""

    def whole(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= 0

    def number(v: Any) -> bool:
        return v is None or isinstance(v, int | float) and not isinstance(v, bool)

    checks = {
        "epoch": whole(raw.get("epoch")),
        "best": number(raw.get("best")),
        "best_epoch": raw.get("best_epoch") is None or whole(raw.get("best_epoch")),
        "wait": whole(raw.get("wait", 0)),
        "history": isinstance(raw.get("history", []), list)
        and all(isinstance(row, dict) for row in raw.get("history", [])),
        "monitor": isinstance(raw.get("monitor", ""), str),
        "seed_states": isinstance(raw.get("seed_states", {}), dict)
        and all(isinstance(v, list) for v in raw.get("seed_states", {}).values()),
        "stopped_early": isinstance(raw.get("stopped_early", False), bool),
        "checkpoint": raw.get("checkpoint") is None
        or isinstance(raw.get("checkpoint"), str)
        and re.fullmatch(r"epoch-\d{4,}\.keras|last\.keras", raw["checkpoint"]) is not None,
    }
    bad = [key for key, ok in checks.items() if not ok]
    if not bad:
        return None
    return "; ".join(f"{key}: {json.dumps(raw.get(key))[:40]}" for key in bad)


def resume_state(run: Run) -> TrainState | None:
    """The saved train state of ``run``, or None when no epoch was checkpointed yet."""
    path = run.path / "checkpoints" / STATE_FILE
    try:
        raw = read_json(path)
    except (OSError, ValueError) as e:
        raise UserError(
            f"the train state is unreadable ({e}); the run cannot be resumed, start it again "
            "with seqrun train CONFIG",
            where=str(path),
        ) from None
    if raw is None and not path.is_file():  # {}, [] or null is a damaged state, not none
        return None
    problem = "it is not a JSON object" if not isinstance(raw, dict) else _state_problem(raw)
    if problem:
        raise UserError(
            f"the resume state is incomplete or damaged ({problem}); the run cannot be "
            "resumed, start it again with seqrun train CONFIG",
            where=str(path),
        )
    state = TrainState.from_json(raw)
    if not (path.parent / state.checkpoint).is_file():
        raise UserError(
            f"the checkpoint {state.checkpoint} named by state.json is missing; the run "
            "cannot continue (start a new run)",
            where=str(path),
        )
    return state


def stopped_early(run: Run) -> bool:
    """Whether the saved state of ``run`` says early stopping ended it (False if unreadable)."""
    try:
        raw = read_json(run.path / "checkpoints" / STATE_FILE)
    except (OSError, ValueError):
        return False
    return bool((raw or {}).get("stopped_early")) if isinstance(raw, dict) else False


def clear_run(run: Run) -> None:
    """Remove everything a run started without finishing an epoch wrote, but its meta.json."""
    import shutil

    for entry in run.path.iterdir():
        if entry.name in ("meta.json", run.lock_path.name):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink(missing_ok=True)


def save_model(model: Any, path: Path) -> None:
    """Save a .keras file atomically (temporary name, fsync, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.keras")
    try:
        model.save(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)  # the rename never names a file whose bytes are still in flight
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BrokenPipeError:  # our output's reader died (a killed sweep), not the disk
        tmp.unlink(missing_ok=True)
        raise
    except OSError as e:  # the run fails naming the checkpoint (a full disk: how to go on)
        tmp.unlink(missing_ok=True)
        raise type(e)(e.errno, e.strerror or str(e), str(path)) from None
    except ValueError as e:  # Keras wraps some write errors
        tmp.unlink(missing_ok=True)
        raise RunFailure(f"cannot write checkpoint {path}: {e}") from None


def load_checkpoint(path: Path, compile: bool = False) -> Any:
    """Load a ``.keras`` checkpoint; a one-line UserError naming the file when it is absent,
    truncated or corrupt (the run's files and status are left as they are)."""
    path = Path(path)
    if not path.is_file():
        raise UserError("checkpoint file not found", where=str(path))
    why = _archive_problem(path)
    if why is None:
        import keras

        import seqrun.models.layers  # noqa: F401  (custom layers of saved models)

        try:
            return keras.saving.load_model(path, compile=compile)
        except Exception as e:  # a damaged member that the CRC check did not catch
            first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
            why = f"Keras cannot load it ({type(e).__name__}: {first})"
    hint = (
        "use the other checkpoint (--checkpoint best|last)"
        if path.stem in ("best", "last")
        else "start the run again"
    )
    raise UserError(
        f"checkpoint {path.name} is truncated or corrupt: {why}; {hint}", where=str(path)
    )


def _archive_problem(path: Path) -> str | None:
    """Why ``path`` is not a complete .keras zip archive with a model, or None."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
            names = set(archive.namelist())
    except PermissionError:  # not damaged: the user's to fix (one line, exit 2)
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        return f"it is not a complete .keras archive ({str(e) or type(e).__name__})"
    if broken is not None:
        return f"its member {broken} is corrupt"
    if "config.json" not in names:
        return "it holds no model (no config.json inside)"
    return None


class SignalGuard:
    """Ctrl-C / SIGTERM / SIGHUP while training: stop after the current batch, then interrupt.

    The first signal sets ``model.stop_training`` (Keras checks it after every batch) and
    the checkpointer raises KeyboardInterrupt at that epoch's end *before* saving, so the
    partial epoch never becomes a checkpoint and TensorFlow is left between steps, not torn
    mid-op. A second signal interrupts at once. ``at_once``: the first signal interrupts (a
    worker of several cannot finish its batch alone: the others would not stop at the same one).
    """

    def __init__(self, model: Any, at_once: bool = False) -> None:
        self.model = model
        self.requested = False
        self.raised = False  # the handler raised KeyboardInterrupt
        self.at_once = at_once
        self.old: dict[int, Any] = {}
        self.old_hook: Any = None

    def __enter__(self) -> SignalGuard:
        import contextlib

        for sig in stop_signals():
            with contextlib.suppress(ValueError):  # not in the main thread: leave them alone
                self.old[sig] = signal.signal(sig, self._handle)
        self.old_hook = sys.unraisablehook
        sys.unraisablehook = self._unraisable
        return self

    def _unraisable(self, unraisable: Any) -> None:
        """The handler's KeyboardInterrupt raised inside a finalizer (``__del__``, a weakref
        callback), which Python drops: not printed, __exit__ raises it again."""
        if not (self.requested and isinstance(unraisable.exc_value, KeyboardInterrupt)):
            self.old_hook(unraisable)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested or self.at_once:
            mute_if_orphaned(signum)
            self.requested = self.raised = True
            raise KeyboardInterrupt
        self.requested = True
        self.model.stop_training = True
        if not mute_if_orphaned(signum):  # a dead sweep's SIGTERM, a SIGHUP: no reader
            with contextlib.suppress(OSError):
                sys.stderr.write("\nstopping after this batch (press Ctrl-C again to stop now)\n")

    def __exit__(self, exc_type: Any, *exc: Any) -> bool:
        for sig, old in self.old.items():
            signal.signal(sig, old)
        sys.unraisablehook = self.old_hook
        if exc_type is None and self.requested:  # its KeyboardInterrupt fell in a finalizer
            raise KeyboardInterrupt
        if self.raised and exc_type is not None and not issubclass(exc_type, KeyboardInterrupt):
            # C code that caught the handler's KeyboardInterrupt raised its own error instead
            # (numpy's __array__ fallback on a TF Variable: a TypeError): still an interruption
            raise KeyboardInterrupt from exc[0]
        return False
