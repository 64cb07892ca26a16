"""Training and evaluation of one experiment: data -> encoder -> model -> fit -> metrics -> run.

Imports TensorFlow; the CLI only imports this module for commands that train or score.
"""

from __future__ import annotations

import csv
import io
import math
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np


def quiet_tf_logs() -> None:
    """Keep TensorFlow's C++ log lines (``E0000 ... oneDNN supports DT_BOOL``, ``I0000 ...``,
    CUDA probes) off the terminal unless SEQRUN_TF_LOGS=1 (or TF_CPP_MIN_LOG_LEVEL is set).

    Must run before TensorFlow is imported: its C++ logger reads the level once.
    """
    if os.environ.get("SEQRUN_TF_LOGS", "") not in ("", "0"):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")
    else:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # 3: ERROR lines too (they are notes)


quiet_tf_logs()


def import_tensorflow() -> None:
    """Import TensorFlow and Keras with the C++ start-up chatter (CUDA probes, oneDNN notes)
    sent to /dev/null; set SEQRUN_TF_LOGS=1 to see it."""
    if "keras" in sys.modules or os.environ.get("SEQRUN_TF_LOGS", "") not in ("", "0"):
        return
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
        os.dup2(devnull, 2)
        import keras  # noqa: F401
        import tensorflow as tf

        cpus = tf.config.list_physical_devices("CPU")  # device probing logs here, too
        split = int(os.environ.get("SEQRUN_CPU_DEVICES") or 0)
        if split > 1:  # logical CPUs, to exercise tf.distribute without GPUs
            tf.config.set_logical_device_configuration(
                cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(split)]
            )
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


import_tensorflow()

import seqrun.models.layers  # noqa: E402, F401  (custom layers: saved models load without them)
from seqrun.config import ExperimentConfig, config_from_dict, config_key, read_yaml, resolve  # noqa: E402
from seqrun.errors import RunFailure, UserError  # noqa: E402
from seqrun.registry import registry  # noqa: E402
from seqrun.runs import (  # noqa: E402
    Run,
    atomic_write_text,
    base_meta,
    create_run,
    lock_run,
    now_iso,
    read_json,
    write_json,
)

_OPTIMIZERS = {
    "adam": "Adam",
    "adamw": "AdamW",
    "rmsprop": "RMSprop",
    "sgd": "SGD",
    "nadam": "Nadam",
    "adagrad": "Adagrad",
}
_MAXIMISE = ("acc", "auc", "precision", "recall", "f1", "skill")


class Interrupted(Exception):
    """Training stopped by Ctrl-C or SIGTERM; the run is marked ``interrupted``."""


def make_strategy(name: str) -> Any:
    """The tf.distribute strategy for ``train.strategy`` (None for the default)."""
    import tensorflow as tf

    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
        return tf.distribute.MirroredStrategy(devices=devices)
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return None


def setup_tf(cfg: ExperimentConfig) -> Any:
    """Seed every RNG, make ops deterministic if asked; return the distribution strategy."""
    import keras
    import tensorflow as tf

    strategy = make_strategy(cfg.train.strategy)  # multi-worker must come before other ops
    threads = os.environ.get("SEQRUN_THREADS")
    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(int(threads))
            tf.config.threading.set_inter_op_parallelism_threads(max(1, int(threads) // 2))
        except RuntimeError:
            pass  # already initialised in this process
    keras.utils.set_random_seed(cfg.seed)
    if cfg.train.deterministic:
        tf.config.experimental.enable_op_determinism()
    return strategy


def load_data(cfg: ExperimentConfig, splits: tuple[str, ...]) -> Any:
    """Run the dataset adapter for the given splits."""
    adapter = registry.get("adapter", cfg.data.adapter)(cfg)
    return adapter.load(splits)


def make_encoder(cfg: ExperimentConfig) -> Any:
    """A fresh (unfitted) encoder for the config."""
    return registry.get("encoder", cfg.encoder.type)(cfg.encoder)


def build_model(cfg: ExperimentConfig, data: Any, encoder: Any) -> Any:
    """Build and compile the model for the data's task."""
    import keras

    task = data.task
    arch = registry.get("arch", cfg.model.arch)(cfg.model)
    front = getattr(encoder, "model_front", None)
    if front is not None:
        inputs, features = front(task)
        model = arch.build(task, inputs=inputs, features=features)
    else:
        model = arch.build(task)
    t = cfg.train
    kwargs: dict[str, Any] = {}
    if t.learning_rate is not None:
        kwargs["learning_rate"] = t.learning_rate
    if t.lr_schedule == "cosine":
        initial = (
            kwargs.get("learning_rate")
            or getattr(keras.optimizers, _OPTIMIZERS[t.optimizer])().learning_rate
        )
        total = t.epochs * data.batches("train").steps(t.batch_size)
        kwargs["learning_rate"] = keras.optimizers.schedules.CosineDecay(
            float(np.asarray(initial)), decay_steps=total
        )
    if t.clipnorm is not None:
        kwargs["clipnorm"] = t.clipnorm
    optimizer = getattr(keras.optimizers, _OPTIMIZERS[t.optimizer])(**kwargs)
    if task.kind == "regression":
        loss = t.loss or "mse"
        metrics: list[Any] = ["mae"]
    else:
        binary = task.output_dim == 1
        loss = t.loss or ("binary_crossentropy" if binary else "sparse_categorical_crossentropy")
        metrics = ["accuracy"] + ([keras.metrics.AUC(name="auc")] if binary else [])
    try:
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    except ValueError as e:
        raise UserError(f"cannot compile the model: {e}", where="train.loss") from None
    return model


def monitor_key(cfg: ExperimentConfig) -> tuple[str, str]:
    """The Keras log key of the monitored dev metric and its direction ('min'/'max')."""
    name = cfg.train.monitor.removeprefix("dev_").removeprefix("val_")
    mode = "max" if any(k in name for k in _MAXIMISE) else "min"
    return f"val_{name}", mode


def seed_states(model: Any) -> dict[str, list[int]]:
    """Current values of the model's random seed generators (dropout masks)."""
    return {
        v.path: np.asarray(v.numpy()).tolist()
        for v in model.variables
        if "seed_generator" in v.path
    }


def restore_seed_states(model: Any, states: dict[str, list[int]]) -> None:
    """Assign seed-generator values saved by :func:`seed_states`."""
    for v in model.variables:
        if v.path in states:
            v.assign(np.asarray(states[v.path], dtype=v.dtype))


def _history_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    fields: list[str] = []
    for r in rows:
        fields.extend(k for k in r if k not in fields)
    w = csv.DictWriter(buf, fieldnames=fields)
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _checkpointer(run: Run, cfg: ExperimentConfig, state: dict[str, Any], guard: Any = None):
    """Keras callback: history.csv, best/last checkpoints, early stopping, resumable state."""
    import keras

    key, mode = monitor_key(cfg)
    es = cfg.train.early_stopping

    class Checkpointer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.time()

        def on_epoch_end(self, epoch, logs=None):
            if guard is not None and guard.requested:
                raise KeyboardInterrupt  # a partial epoch is never checkpointed
            logs = logs or {}
            if key not in logs:
                known = ", ".join(k.removeprefix("val_") for k in logs if k.startswith("val_"))
                raise UserError(
                    f"train.monitor '{cfg.train.monitor}' is not a dev metric of this model; "
                    f"choose one of: {known}",
                    where="train.monitor",
                )
            row: dict[str, Any] = {"epoch": epoch + 1}
            for k, v in logs.items():
                row[k.replace("val_", "dev_") if k.startswith("val_") else k] = float(v)
            lr = getattr(self.model.optimizer, "learning_rate", None)
            if lr is not None:
                row["lr"] = float(np.asarray(lr))
            row["seconds"] = round(time.time() - self.t0, 3)
            state["history"].append(row)
            value = float(logs[key])
            best = state["best"]
            improved = best is None or (
                value < best - es.min_delta if mode == "min" else value > best + es.min_delta
            )
            if not math.isfinite(value):
                improved = False
            if improved:
                state.update(best=value, best_epoch=epoch + 1, wait=0)
            else:
                state["wait"] += 1
            state["epoch"] = epoch + 1
            state["seed_states"] = seed_states(self.model)
            if es.patience is not None and state["wait"] >= es.patience:
                state["stopped_early"] = True  # saved with the state: a resume stops, too
            _save_epoch_checkpoint(self.model, run, state)
            atomic_write_text(run.path / "history.csv", _history_csv(state["history"]))
            run.update_meta(epochs_completed=epoch + 1, best_epoch=state["best_epoch"])
            if state.get("stopped_early"):
                self.model.stop_training = True

    return Checkpointer()


def _save_epoch_checkpoint(model: Any, run: Run, state: dict[str, Any]) -> None:
    """Save the end-of-epoch model so that a kill at any instant leaves a consistent pair.

    The model goes to ``epoch-NNNN.keras`` (temporary name, then rename); then ``state.json``
    (atomic) names that file; only then do ``last.keras`` (and ``best.keras`` when this epoch
    is the best) become hard links to it, and older epoch files are removed. A resume loads
    the file that ``state.json`` names, never a model newer or older than the state, and
    :func:`_repair_checkpoints` redoes the links a kill may have left undone.
    """
    folder = run.path / "checkpoints"
    current = folder / f"epoch-{state['epoch']:04d}.keras"
    _save_model(model, current)
    state["checkpoint"] = current.name
    write_json(folder / "state.json", state)
    _repair_checkpoints(run, state)


def _repair_checkpoints(run: Run, state: dict[str, Any]) -> None:
    """Make ``last.keras`` (and ``best.keras`` if the state's epoch is the best) the file that
    ``state.json`` names; remove older epoch files."""
    folder = run.path / "checkpoints"
    current = folder / state["checkpoint"]
    names = ["last"] + (["best"] if state.get("best_epoch") == state["epoch"] else [])
    for name in names:
        tmp = folder / f".{name}.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        try:
            os.link(current, tmp)
        except OSError:  # file systems without hard links
            import shutil

            shutil.copyfile(current, tmp)
        os.replace(tmp, run.checkpoint(name))
    for old in folder.glob("epoch-*.keras"):
        if old.name != current.name:
            old.unlink(missing_ok=True)


def _resume_state(run: Run) -> dict[str, Any] | None:
    """The saved train state of ``run``, or None when no epoch was checkpointed yet."""
    path = run.path / "checkpoints" / "state.json"
    try:
        state = read_json(path)
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read the train state: {e}", where=str(path)) from None
    if not state:
        return None
    state.setdefault("checkpoint", "last.keras")
    if not (path.parent / state["checkpoint"]).is_file():
        raise UserError(
            f"the checkpoint {state['checkpoint']} named by state.json is missing; the run "
            "cannot continue (start a new run)",
            where=str(path),
        )
    return state


def _clear_run(run: Run) -> None:
    """Remove everything a run started without finishing an epoch wrote, but its meta.json."""
    import shutil

    for entry in run.path.iterdir():
        if entry.name in ("meta.json", run.lock_path.name):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink(missing_ok=True)


def _save_model(model: Any, path: Path) -> None:
    """Save a .keras file atomically (temporary name, then rename)."""
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
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise RunFailure(f"cannot write checkpoint {path}: {e.strerror or e}") from None
    except ValueError as e:  # Keras wraps some write errors
        tmp.unlink(missing_ok=True)
        raise RunFailure(f"cannot write checkpoint {path}: {e}") from None


def model_summary(model: Any, line_length: int = 100) -> str:
    """The Keras model summary (layers, output shapes, parameters, connections) as plain text,
    every column kept whatever the terminal's width."""
    lines: list[str] = []
    # Keras prints through a rich Console sized to the terminal (COLUMNS, else 80 when not a
    # terminal), which cuts the table's right-hand columns; give it room for the whole table
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(line_length + 4)
    try:
        model.summary(print_fn=lambda line, *a, **k: lines.append(line), line_length=line_length)
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved
    return "\n".join(line.rstrip() for line in "\n".join(lines).splitlines()) + "\n"


def _versions() -> dict[str, str]:
    import keras
    import tensorflow as tf

    return {"tensorflow_version": tf.__version__, "keras_version": keras.__version__}


class _SignalGuard:
    """Ctrl-C / SIGTERM while training: stop after the current batch, then interrupt.

    The first signal sets ``model.stop_training`` (Keras checks it after every batch) and
    the checkpointer raises KeyboardInterrupt at that epoch's end *before* saving, so the
    partial epoch never becomes a checkpoint and TensorFlow is left between steps, not torn
    mid-op. A second signal interrupts at once.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.requested = False
        self.old: dict[int, Any] = {}

    def __enter__(self):
        import contextlib

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # not in the main thread: leave them alone
                self.old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.model.stop_training = True
        sys.stderr.write("\nstopping after this batch (press Ctrl-C again to stop now)\n")

    def __exit__(self, *exc):
        for sig, old in self.old.items():
            signal.signal(sig, old)
        return False


def train(
    cfg: ExperimentConfig,
    runs_dir: Path,
    *,
    quiet: bool = False,
    argv: list[str] | None = None,
    resume: Run | None = None,
    log: Any = None,
    overrides: list[str] | None = None,
    make_run: Any = None,
) -> dict[str, Any]:
    """Train one experiment into a new run directory (or continue ``resume``).

    Returns a dict with ``run_dir``, ``status``, ``metrics`` (dev), ``best_epoch`` and
    ``epochs_completed``. Raises Interrupted (run marked interrupted) on Ctrl-C. A k-fold
    config (``data.split.kfold`` without ``fold``) trains every fold (:mod:`seqrun.cv`).
    The data leakage checks run first; with ``data.leakage: error`` a finding stops here,
    before any run directory exists. ``make_run`` (no arguments -> Run) replaces the default
    ``runs_dir/<name>/<run-id>/`` directory (the folds of a cross-validation).

    The process training a run holds its lock (:func:`seqrun.runs.lock_run`), so two live
    processes never train the same run. A ``resume`` killed before its first epoch was
    checkpointed starts again from epoch 1 in its own directory: with the same seed, data
    order and initial weights, it ends as an uninterrupted run would.
    """
    from seqrun import tracking
    from seqrun.data.base import kfold_of

    locks: list[Any] = []  # released when this run ends (the process may train others)
    try:
        if resume is not None:
            locks.append(lock_run(resume))  # before anything is read or changed
        if kfold_of(cfg) and cfg.data.split.fold is None:
            from seqrun import cv

            return cv.train_folds(
                cfg,
                runs_dir,
                quiet=quiet,
                argv=argv,
                resume=resume,
                log=log,
                overrides=overrides,
                locks=locks,
            )
        if cfg.tracking.mlflow is not None:
            tracking.require("mlflow", "mlflow", "tracking.mlflow")
        return _train_run(cfg, runs_dir, locks, quiet, argv, resume, log, overrides, make_run)
    finally:
        for lock in locks:
            lock.release()


def _train_run(
    cfg: ExperimentConfig,
    runs_dir: Path,
    locks: list[Any],
    quiet: bool,
    argv: list[str] | None,
    resume: Run | None,
    log: Any,
    overrides: list[str] | None,
    make_run: Any,
) -> dict[str, Any]:
    import contextlib

    import keras

    from seqrun import leakage, tracking

    say = log or (lambda msg: None)
    strategy = setup_tf(cfg)
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    data = load_data(cfg, ("train", "dev"))
    leak = leakage.check(data, cfg.data.leakage)
    leakage.enforce(leak)
    saved = _resume_state(resume) if resume is not None else None
    if saved is None:  # a new run, or one killed before its first checkpoint: from epoch 1
        encoder = make_encoder(cfg)
        data.fit_encoder(encoder)
        with scope:
            model = build_model(cfg, data, encoder)
        if resume is None:
            run = make_run() if make_run is not None else create_run(runs_dir, cfg.name)
            locks.append(lock_run(run))
            before: dict[str, Any] = {}
        else:
            run = resume
            before = run.meta()
            _clear_run(run)
            say(f"no epoch was checkpointed yet: starting again from epoch 1 in {run.path}")
        state: dict[str, Any] = {
            "epoch": 0,
            "best": None,
            "best_epoch": None,
            "wait": 0,
            "history": [],
            "monitor": monitor_key(cfg)[0],
        }
        meta = base_meta(cfg.seed, argv)
        meta["config_key"] = config_key(cfg)
        meta["overrides"] = list(overrides or [])
        meta.update(_versions())
        meta["data"] = {"fingerprint": data.fingerprint, "sizes": data.sizes()}
        if hasattr(data, "report"):  # what the adapter did: values filled, rows dropped...
            meta["data"].update(data.report())
        meta["leakage"] = leak
        meta["epochs_completed"] = 0
        if resume is not None:  # keep how and when the run first started
            for k in ("command", "cwd", "overrides", "started_at", "started_ts", "cv_parent"):
                if k in before:
                    meta[k] = before[k]
            meta["resumes"] = [*before.get("resumes", []), {"at": now_iso(), "from_epoch": 0}]
        write_json(run.meta_path, meta)
        atomic_write_text(run.config_path, cfg.to_yaml())
        encoder.save(run.preprocessing)
        atomic_write_text(run.path / "model.txt", model_summary(model))
    else:
        run = resume
        encoder = make_encoder(cfg)
        encoder.load(run.preprocessing)
        data.set_encoder(encoder)
        state = saved
        folder = run.path / "checkpoints"
        with scope:
            model = keras.saving.load_model(folder / state["checkpoint"], compile=True)
        restore_seed_states(model, state.get("seed_states", {}))
        # a kill may have come between state.json and the files that follow it
        for tmp in folder.glob(".*.tmp*"):  # writes of dead processes (we hold the lock)
            tmp.unlink(missing_ok=True)
        if state["checkpoint"] != "last.keras":
            _repair_checkpoints(run, state)
        atomic_write_text(run.path / "history.csv", _history_csv(state["history"]))
        resumes = run.meta().get("resumes", [])
        run.update_meta(
            status="running",
            pid=os.getpid(),
            host=socket.gethostname(),
            resumes=[*resumes, {"at": now_iso(), "from_epoch": state["epoch"]}],
            ended_at=None,
            error=None,
            leakage=leak,
            epochs_completed=state["epoch"],
            best_epoch=state["best_epoch"],
        )
    say(f"run directory: {run.path}")
    tracker = None
    status = "failed"
    try:
        if cfg.tracking.mlflow is not None:
            tracker = tracking.MlflowTracker(cfg, run, runs_dir)
            tracker.start()
        extra = [tracker.callback()] if tracker else []
        if cfg.train.tensorboard:
            extra.append(tracking.tensorboard_callback(run))
        with _SignalGuard(model) as guard:
            result = _fit_and_score(cfg, data, model, run, state, quiet, extra, guard)
        status = "completed"
        _finish(run, "completed")
    except OSError as e:  # disk full, permissions: fail the run with the real cause
        what = f"{e.filename}: " if e.filename else ""
        _finish(run, "failed", error=f"{what}{e.strerror or e}")
        raise RunFailure(f"{what}{e.strerror or e}") from None
    except KeyboardInterrupt:
        status = "interrupted"
        _finish(run, "interrupted", error="interrupted by the user (Ctrl-C / SIGTERM)")
        raise Interrupted(str(run.path)) from None
    except UserError as e:
        _finish(run, "failed", error=str(e))
        raise
    except Exception as e:
        _finish(run, "failed", error=f"{type(e).__name__}: {e}")
        raise
    finally:
        if tracker is not None:
            with contextlib.suppress(Exception):  # a tracker never changes a run's outcome
                tracker.finish(status, result["metrics"] if status == "completed" else None)
    return result


def _finish(run: Run, status: str, error: str | None = None) -> None:
    """Record how a run ended (status, end time, duration, error)."""
    meta = run.meta()
    ended = time.time()
    started = meta.get("started_ts", ended)
    try:
        run.update_meta(
            status=status,
            ended_at=now_iso(),
            duration_s=round(ended - started, 3),
            error=error,
        )
    except OSError:  # the disk itself may be the problem: marking is best effort
        if status == "completed":
            raise


def _fit_and_score(
    cfg: ExperimentConfig,
    data: Any,
    model: Any,
    run: Run,
    state: dict[str, Any],
    quiet: bool,
    callbacks: list[Any] | None = None,
    guard: _SignalGuard | None = None,
) -> dict[str, Any]:
    from seqrun.progress import make_progress_callback

    t = cfg.train
    train_w = data.batches("train")
    dev_w = data.batches("dev")
    steps = train_w.steps(t.batch_size)
    first = state["epoch"]
    progress = make_progress_callback(t.epochs, steps, first_epoch=first, quiet=quiet)
    if first < t.epochs and not state.get("stopped_early"):
        train_ds = train_w.training_dataset(t.batch_size, cfg.seed, first, t.epochs, t.shuffle)
        try:
            model.fit(
                train_ds,
                steps_per_epoch=steps,
                epochs=t.epochs,
                initial_epoch=first,
                validation_data=dev_w.dataset(t.batch_size),
                callbacks=[_checkpointer(run, cfg, state, guard), *(callbacks or []), progress],
                verbose=0,
                shuffle=False,
            )
        finally:
            progress.close()
    if guard is not None and guard.requested:  # the signal came after the last batch
        raise KeyboardInterrupt
    if state["best_epoch"] is None:
        raise RunFailure(
            f"no epoch gave a finite dev {cfg.train.monitor}; the training diverged "
            "(lower train.learning_rate or set train.clipnorm)"
        )
    dev = score(run, cfg, data, "dev", "best")
    _plot_history(run, state["history"], state["best_epoch"], state.get("monitor", ""))
    return {
        "run_dir": str(run.path),
        "status": "completed",
        "metrics": dev,
        "best_epoch": state["best_epoch"],
        "epochs_completed": state["epoch"],
        "stopped_early": bool(state.get("stopped_early")),
    }


def score(run: Run, cfg: ExperimentConfig, data: Any, split: str, checkpoint: str) -> dict:
    """Score a saved checkpoint on one split; writes metrics/<split>.json and plots."""
    import keras

    path = run.checkpoint(checkpoint)
    if not path.is_file():
        raise UserError(
            f"the run has no {checkpoint} checkpoint (status: {run.status()})", where=str(path)
        )
    model = keras.saving.load_model(path, compile=False)
    preds = data.predictions(model, split)
    metric_set = registry.get("metrics", cfg.metrics)()
    metrics = metric_set.compute(preds)
    metrics = {"split": split, "checkpoint": checkpoint, **metrics}
    name = split if checkpoint == "best" else f"{split}-{checkpoint}"
    write_json(run.metrics_path(name), metrics)
    plot = getattr(data, "plot", None)
    if plot is not None:
        try:
            plot(preds, run.plots / f"{name}.png", title=f"{cfg.name} - {split}")
        except Exception as e:  # a plot never fails a run
            run.update_meta(plot_error=f"{type(e).__name__}: {e}")
    _save_predictions(run, name, preds)
    artifacts = getattr(data, "write_artifacts", None)
    if artifacts is not None:  # e.g. errors.jsonl of the most confident mistakes
        artifacts(preds, run, name)
    return metrics


def _save_predictions(run: Run, name: str, preds: dict[str, Any]) -> None:
    """Per-item predictions of a split (``predictions/<name>.npz``), for significance tests."""
    from seqrun.runs import atomic_write_bytes

    arrays = {k: v for k, v in preds.items() if isinstance(v, np.ndarray)}
    if arrays:
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        atomic_write_bytes(run.path / "predictions" / f"{name}.npz", buf.getvalue())


def _plot_history(
    run: Run, history: list[dict[str, Any]], best_epoch: int | None = None, monitor: str = ""
) -> None:
    from seqrun.plots import learning_curves

    try:
        learning_curves(history, run.plots / "learning_curves.png", best_epoch, monitor)
    except Exception as e:
        run.update_meta(plot_error=f"{type(e).__name__}: {e}")


def load_run_config(run: Run) -> ExperimentConfig:
    """The resolved config saved in a run directory."""
    if not run.config_path.is_file():
        raise UserError("the run has no config.yaml", where=str(run.path))
    source = read_yaml(run.config_path)
    return resolve(source)


def evaluate(run: Run, split: str = "test", checkpoint: str = "best") -> dict[str, Any]:
    """Rebuild ``split`` from the run's own config and score a checkpoint on it.

    A cross-validation parent scores every fold's checkpoint (:func:`seqrun.cv.evaluate_folds`).
    """
    from seqrun import cv

    if cv.is_cv_run(run):
        return cv.evaluate_folds(run, split, checkpoint)
    cfg = load_run_config(run)
    setup_tf(cfg)
    data = load_data(cfg, (split,))
    encoder = make_encoder(cfg)
    encoder.load(run.preprocessing)
    data.set_encoder(encoder)
    metrics = score(run, cfg, data, split, checkpoint)
    if cfg.tracking.mlflow is not None and run.meta().get("mlflow_run_id"):
        from seqrun import tracking

        tracking.require("mlflow", "mlflow", "tracking.mlflow")
        name = split if checkpoint == "best" else f"{split}-{checkpoint}"
        tracking.MlflowTracker(cfg, run, run.path.parent.parent).log_split(name, metrics)
    return metrics


__all__ = ["Interrupted", "config_from_dict", "evaluate", "train"]
