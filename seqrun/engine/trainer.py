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
from seqrun.core.config import ExperimentConfig, config_from_dict, config_key, read_yaml, resolve  # noqa: E402
from seqrun.core.errors import RunFailure, UserError  # noqa: E402
from seqrun.core.registry import registry  # noqa: E402
from seqrun.core.runs import (  # noqa: E402
    Run,
    atomic_write_text,
    base_meta,
    create_run,
    lock_run,
    now_iso,
    read_json,
    write_json,
)
from seqrun.engine import launch  # noqa: E402

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


class LostWorker(RunFailure):
    """A worker of a multi-worker run lost contact with the others; the run is marked failed."""

    def __init__(self, message: str, peer: str = "") -> None:
        super().__init__(message)
        self.peer = peer  # what TensorFlow said about the peer, in a few words


def make_strategy(name: str) -> Any:
    """The tf.distribute strategy for ``train.strategy`` (None for the default)."""
    import tensorflow as tf

    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
        return tf.distribute.MirroredStrategy(devices=devices)
    if name == "multi_worker":
        from seqrun.engine.launch import cluster_from_env

        cluster = cluster_from_env()  # a malformed TF_CONFIG: one line, not a TF traceback
        if cluster is not None:
            _configure_coordination(cluster)
        return tf.distribute.MultiWorkerMirroredStrategy(
            communication_options=tf.distribute.experimental.CommunicationOptions()
        )
    return None


def _configure_coordination(cluster: Any) -> None:
    """Set up TensorFlow's coordination service as MultiWorkerMirroredStrategy would, with
    seqrun's timeouts: a worker whose peer stopped sending heartbeats for
    ``SEQRUN_PEER_TIMEOUT_S`` seconds (default 30) stops with an error instead of waiting."""
    from tensorflow.compiler.xla.tsl.protobuf import coordination_config_pb2
    from tensorflow.python.eager import context

    ctx = context.context()
    if ctx.coordination_service is not None:
        return
    try:
        timeout_s = float(os.environ.get("SEQRUN_PEER_TIMEOUT_S") or 30)
    except ValueError:
        raise UserError(
            "SEQRUN_PEER_TIMEOUT_S must be a number of seconds", where="SEQRUN_PEER_TIMEOUT_S"
        ) from None
    jobs = [
        coordination_config_pb2.CoordinatedJob(name=job, num_tasks=len(cluster.jobs[job]))
        for job in ("chief", "worker")
        if job in cluster.jobs
    ]
    leader = "chief" if "chief" in cluster.jobs else "worker"
    ctx.configure_coordination_service(
        service_type="standalone",
        service_leader=f"/job:{leader}/replica:0/task:0",
        heartbeat_timeout_in_ms=int(max(1.0, timeout_s) * 1000),
        coordinated_jobs=jobs,
    )


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
    from seqrun.data.base import open_adapter

    """Run the dataset adapter for the given splits."""
    return open_adapter(cfg).load(splits)


def make_encoder(cfg: ExperimentConfig) -> Any:
    """A fresh (unfitted) encoder for the config."""
    return registry.get("encoder", cfg.encoder.type)(cfg.encoder)


def load_encoder(cfg: ExperimentConfig, run: Run) -> Any:
    """The encoder fitted by a run, from its ``preprocessing/`` folder; a one-line UserError
    naming the folder when its files are missing or corrupt."""
    encoder = make_encoder(cfg)
    try:
        encoder.load(run.preprocessing)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as e:
        why = f"{type(e).__name__}: {str(e)[:200]}"
        raise UserError(
            f"the run's fitted preprocessing is missing or corrupt ({why})",
            where=str(run.preprocessing),
        ) from None
    return encoder


def build_model(cfg: ExperimentConfig, data: Any, encoder: Any) -> Any:
    """Build and compile the model for the data's task."""
    import keras

    task = data.task
    arch = registry.get("arch", cfg.model.arch)(cfg.model)
    front = encoder.model_front(task)  # (inputs, features), or None for a plain input
    model = arch.build(task, *front) if front else arch.build(task)
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


def check_monitor(cfg: ExperimentConfig, task: Any) -> None:
    """``train.monitor`` must be a dev metric compiled for this task (before any run exists)."""
    from seqrun.core.checks import compiled_metrics, monitor_name

    allowed = compiled_metrics(task.kind, task.output_dim == 1)
    if monitor_name(cfg.train.monitor) not in allowed:
        what = f"{task.kind} model"
        if task.kind == "classification":
            what = f"{max(task.output_dim, 2)}-class model"
        raise UserError(
            f"train.monitor '{cfg.train.monitor}' is not a dev metric of this {what}; "
            f"choose one of: {', '.join(allowed)}",
            where="train.monitor",
        )


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


def _checkpointer(
    run: Run, cfg: ExperimentConfig, state: dict[str, Any], guard: Any = None, on_epoch: Any = None
):
    """Keras callback: history.csv, best/last checkpoints, early stopping, resumable state.

    ``on_epoch(epoch, row)`` runs after each epoch is saved, with that epoch's history row;
    when it returns True training stops there and the run ends ``pruned``.
    """
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
            if on_epoch is not None and on_epoch(epoch + 1, row):
                state["pruned"] = True
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
        raise UserError(
            f"the train state is unreadable ({e}); the run cannot be resumed, start it again "
            "with seqrun train CONFIG",
            where=str(path),
        ) from None
    if not state:
        return None
    if not isinstance(state, dict) or not isinstance(state.get("epoch"), int):
        raise UserError(
            "the resume state is incomplete; the run cannot be resumed, start it again with "
            "seqrun train CONFIG",
            where=str(path),
        )
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


def load_checkpoint(path: Path, compile: bool = False) -> Any:
    """Load a ``.keras`` checkpoint; a one-line UserError naming the file when it is absent,
    truncated or corrupt (the run's files and status are left as they are)."""
    import zipfile

    import keras

    path = Path(path)
    if not path.is_file():
        raise UserError("checkpoint file not found", where=str(path))
    why = None
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
            names = set(archive.namelist())
        if broken is not None:
            why = f"its member {broken} is corrupt"
        elif "config.json" not in names:
            why = "it holds no model (no config.json inside)"
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        why = f"it is not a complete .keras archive ({str(e) or type(e).__name__})"
    if why is None:
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
    mid-op. A second signal interrupts at once. ``at_once``: the first signal interrupts (a
    worker of several cannot finish its batch alone: the others would not stop at the same one).
    """

    def __init__(self, model: Any, at_once: bool = False) -> None:
        self.model = model
        self.requested = False
        self.at_once = at_once
        self.old: dict[int, Any] = {}

    def __enter__(self):
        import contextlib

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # not in the main thread: leave them alone
                self.old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested or self.at_once:
            self.requested = True
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
    on_epoch: Any = None,
) -> dict[str, Any]:
    """Train one experiment into a new run directory (or continue ``resume``).

    Returns a dict with ``run_dir``, ``status``, ``metrics`` (dev), ``best_epoch`` and
    ``epochs_completed``. Raises Interrupted (run marked interrupted) on Ctrl-C. A k-fold
    config (``data.split.kfold`` without ``fold``) trains every fold
    (:mod:`seqrun.engine.experiment`).
    The data leakage checks run first; with ``data.leakage: error`` a finding stops here,
    before any run directory exists. ``make_run`` (no arguments -> Run) replaces the default
    ``runs_dir/<name>/<run-id>/`` directory (the folds of a cross-validation). ``on_epoch``
    (see :func:`_checkpointer`) may stop training after an epoch: the status is then ``pruned``.

    The process training a run holds its lock (:func:`seqrun.core.runs.lock_run`), so two live
    processes never train the same run. A ``resume`` killed before its first epoch was
    checkpointed starts again from epoch 1 in its own directory: with the same seed, data
    order and initial weights, it ends as an uninterrupted run would.
    """
    from seqrun.data.base import kfold_of
    from seqrun.engine import tracking

    locks: list[Any] = []  # released when this run ends (the process may train others)
    try:
        cluster = _cluster(cfg)
        if resume is not None and (cluster is None or cluster.is_chief):
            locks.append(lock_run(resume))  # before anything is read or changed
        if kfold_of(cfg) and cfg.data.split.fold is None:
            from seqrun.engine import experiment as cv

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
        return _train_run(
            cfg, runs_dir, locks, quiet, argv, resume, log, overrides, make_run, on_epoch
        )
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
    on_epoch: Any = None,
) -> dict[str, Any]:
    import contextlib

    from seqrun.engine import leakage, tracking

    say = log or (lambda msg: None)
    cluster = _cluster(cfg)
    chief = cluster is None or cluster.is_chief
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
        check_monitor(cfg, data.task)
        before: dict[str, Any] = {}
        if not chief:  # the chief writes the run directory; this worker's copies go to scratch
            run = Run(launch.scratch_dir(cluster))
        elif resume is None:
            run = make_run() if make_run is not None else create_run(runs_dir, cfg.name)
            locks.append(lock_run(run))
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
        if cluster is not None or cfg.train.strategy == "multi_worker":
            meta["cluster"] = _cluster_meta(cfg, cluster, strategy)
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
        encoder = load_encoder(cfg, run)
        data.set_encoder(encoder)
        state = saved
        folder = run.path / "checkpoints"
        with scope:
            model = load_checkpoint(folder / state["checkpoint"], compile=True)
        restore_seed_states(model, state.get("seed_states", {}))
        entry: dict[str, Any] = {"at": now_iso(), "from_epoch": state["epoch"]}
        if cfg.train.strategy == "multi_worker":
            entry["cluster"] = _cluster_meta(cfg, cluster, strategy)
        if not chief:  # read the chief's checkpoint, write nothing beside it
            run = Run(launch.scratch_dir(cluster))
        else:
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
                resumes=[*resumes, entry],
                ended_at=None,
                error=None,
                leakage=leak,
                epochs_completed=state["epoch"],
                best_epoch=state["best_epoch"],
            )
    if chief:
        say(f"run directory: {run.path}")
        launch.announce_run_dir(run.path)
    else:
        say(f"{cluster.task} of {cluster.size} workers: the chief writes the run directory")
    tracker = None
    status = "failed"
    try:
        if cfg.tracking.mlflow is not None:
            tracker = tracking.MlflowTracker(cfg, run, runs_dir)
            tracker.start()
        extra = [tracker.callback()] if tracker else []
        if cfg.train.tensorboard:
            extra.append(tracking.tensorboard_callback(run))
        at_once = cluster is not None and cluster.size > 1
        with _SignalGuard(model, at_once=at_once) as guard:
            result = _fit_and_score(
                cfg, data, model, run, state, quiet, extra, guard, on_epoch, strategy, cluster
            )
        status = result["status"]
        _finish(run, status)
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
    except LostWorker as e:
        _finish(run, "failed", error=str(e))
        if launch.launched():  # the launcher names the worker that died, in one line
            launch.report_lost_peer(e.peer)
            sys.stderr.flush()
            os._exit(launch.EXIT_LOST_PEER)
        raise
    except Exception as e:
        _finish(run, "failed", error=f"{type(e).__name__}: {e}")
        raise
    finally:
        if tracker is not None:
            with contextlib.suppress(Exception):  # a tracker never changes a run's outcome
                tracker.finish(
                    status, result["metrics"] if status in ("completed", "pruned") else None
                )
        if not chief:
            import shutil

            shutil.rmtree(run.path, ignore_errors=True)
    return result


def _cluster(cfg: ExperimentConfig) -> Any:
    """The TF_CONFIG cluster of a multi-worker run (None otherwise, or without TF_CONFIG)."""
    if cfg.train.strategy != "multi_worker":
        return None
    from seqrun.data.base import kfold_of

    cluster = launch.cluster_from_env()
    if cluster is not None and kfold_of(cfg):
        raise UserError(
            "cross-validation does not run on several workers; train the folds one at a time "
            "(data.split.fold) or use train.strategy: default",
            where="train.strategy",
        )
    return cluster


def _cluster_meta(cfg: ExperimentConfig, cluster: Any, strategy: Any) -> dict[str, Any]:
    """What meta.json records about the workers of a multi-worker run."""
    replicas = int(strategy.num_replicas_in_sync)
    batch = cfg.train.batch_size
    out: dict[str, Any] = {
        "workers": cluster.size if cluster is not None else 1,
        "addresses": cluster.addresses if cluster is not None else [],
        "chief": "chief:0" if cluster is not None and "chief" in cluster.jobs else "worker:0",
        "replicas": replicas,
        "global_batch": batch,
        "per_replica_batch": batch // replicas,
        "even_split": batch % replicas == 0,
    }
    command = launch.launch_command()
    if command is not None:
        out["launched_by"] = command
    return out


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
    on_epoch: Any = None,
    strategy: Any = None,
    cluster: Any = None,
) -> dict[str, Any]:
    from seqrun.engine.progress import make_progress_callback

    t = cfg.train
    train_w = data.batches("train")
    dev_w = data.batches("dev")
    steps = train_w.steps(t.batch_size)
    first = state["epoch"]
    progress = make_progress_callback(t.epochs, steps, first_epoch=first, quiet=quiet)
    if first < t.epochs and not state.get("stopped_early"):
        if t.strategy == "multi_worker":  # each worker reads its part of every global batch
            train_ds = strategy.distribute_datasets_from_function(
                lambda ctx: train_w.training_dataset(
                    t.batch_size, cfg.seed, first, t.epochs, t.shuffle, shard=_shard(ctx)
                )
            )
            dev_ds = strategy.distribute_datasets_from_function(
                lambda ctx: dev_w.dataset(t.batch_size, shard=_shard(ctx))
            )
            _prebuild(model, strategy, dev_w.dataset(t.batch_size))
        else:
            train_ds = train_w.training_dataset(t.batch_size, cfg.seed, first, t.epochs, t.shuffle)
            dev_ds = dev_w.dataset(t.batch_size)
        try:
            model.fit(
                train_ds,
                steps_per_epoch=steps,
                epochs=t.epochs,
                initial_epoch=first,
                validation_data=dev_ds,
                callbacks=[
                    _checkpointer(run, cfg, state, guard, on_epoch),
                    *(callbacks or []),
                    progress,
                ],
                verbose=0,
                shuffle=False,
            )
        except Exception as e:
            if cluster is not None and cluster.size > 1:
                _raise_lost_worker(e, run, cluster)
            raise
        finally:
            progress.close()
    if guard is not None and guard.requested:  # the signal came after the last batch
        raise KeyboardInterrupt
    if state["best_epoch"] is None:
        raise RunFailure(
            f"no epoch gave a finite dev {cfg.train.monitor}; the training diverged "
            "(lower train.learning_rate or set train.clipnorm)"
        )
    if cluster is not None and not cluster.is_chief:  # the chief scores and plots
        _barrier(strategy, run, cluster)
        return {
            "run_dir": None,
            "status": "pruned" if state.get("pruned") else "completed",
            "metrics": None,
            "best_epoch": state["best_epoch"],
            "epochs_completed": state["epoch"],
            "stopped_early": bool(state.get("stopped_early")),
            "worker": cluster.task,
        }
    dev = score(run, cfg, data, "dev", "best")
    _plot_history(run, state["history"], state["best_epoch"], state.get("monitor", ""))
    if cluster is not None and cluster.size > 1:
        _barrier(strategy, run, cluster)
    return {
        "run_dir": str(run.path),
        "status": "pruned" if state.get("pruned") else "completed",
        "metrics": dev,
        "best_epoch": state["best_epoch"],
        "epochs_completed": state["epoch"],
        "stopped_early": bool(state.get("stopped_early")),
    }


def _prebuild(model: Any, strategy: Any, local_batches: Any) -> None:
    """Build the model's metrics and optimizer from one local batch before a multi-worker fit.

    Keras 3 builds them at the start of ``fit`` from the first distributed batch averaged over
    the replicas, which fails under MultiWorkerMirroredStrategy ("Attempt to convert a value
    (PerReplica...)", keras-team/keras#20585). Only shapes matter, so one local batch does.
    Also makes the reduction of the step logs work with several workers.
    """
    batch = next(iter(local_batches))
    with strategy.scope():
        model._symbolic_build(data_batch=batch)
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None
    _patch_step_logs()


def _patch_step_logs() -> None:
    """Keras 3 reduces a multi-worker step's logs with ``strategy.reduce("MEAN", v, axis=0)``,
    which fails on the scalar logs ("Invalid reduction dimension 0 for input with 0
    dimensions"). Those logs (loss and metrics) are already equal on every replica, because
    Keras' metric variables sum their updates over the whole cluster: take the first local one.
    """
    from keras.src.backend.tensorflow import trainer as tf_trainer

    original = tf_trainer.reduce_per_replica
    if getattr(original, "_seqrun", False):
        return

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and tf_trainer._collective_all_reduce_multi_worker(
            strategy
        ):
            return original(values, strategy, "first")
        return original(values, strategy, reduction)

    reduce_per_replica._seqrun = True  # type: ignore[attr-defined]
    tf_trainer.reduce_per_replica = reduce_per_replica


def _barrier(strategy: Any, run: Run, cluster: Any) -> None:
    """Wait until every worker got here (the others wait while the chief scores: a worker that
    left early would look dead to the chief)."""
    import tensorflow as tf

    try:

        @tf.function
        def count():
            one = strategy.run(lambda: tf.constant(1.0))
            return strategy.reduce(tf.distribute.ReduceOp.SUM, one, axis=None)

        count().numpy()
    except Exception as e:
        _raise_lost_worker(e, run, cluster)
        raise


def _shard(ctx: Any) -> tuple[int, int, int]:
    """(first replica, replicas, all replicas) of this worker, from a tf.distribute InputContext."""
    local = ctx.num_replicas_in_sync // ctx.num_input_pipelines
    return ctx.input_pipeline_id * local, local, ctx.num_replicas_in_sync


def _raise_lost_worker(e: Exception, run: Run, cluster: Any) -> None:
    """Turn TensorFlow's error for an unreachable peer into one line that says what to do."""
    import tensorflow as tf

    lost = (
        tf.errors.UnavailableError,
        tf.errors.DeadlineExceededError,
        tf.errors.CancelledError,
        tf.errors.AbortedError,
        tf.errors.InternalError,
        tf.errors.FailedPreconditionError,
    )
    if not isinstance(e, lost):
        return
    import re

    text = getattr(e, "message", "") or str(e)
    found = re.findall(r"/job:(\w+)/replica:\d+/task:(\d+)", text)
    peers = sorted({f"{job}:{task}" for job, task in found} - {cluster.task})
    if "heartbeat" in text:
        peer = f"no heartbeat from {', '.join(peers) or 'a peer'}"
    elif peers:
        peer = f"{', '.join(peers)} unreachable ({type(e).__name__})"
    else:
        peer = f"{type(e).__name__}: {text.strip().splitlines()[0][:120] if text.strip() else ''}"
    where = run.path if cluster.is_chief else "RUN_DIR"
    raise LostWorker(
        f"{cluster.task} lost contact with the other workers ({peer}); a worker died or the "
        f"network failed; resume with: seqrun train --resume {where} (on every worker)",
        peer=peer,
    ) from None


def score(run: Run, cfg: ExperimentConfig, data: Any, split: str, checkpoint: str) -> dict:
    """Score a saved checkpoint on one split; writes metrics/<split>.json and plots."""

    path = run.checkpoint(checkpoint)
    if not path.is_file():
        raise UserError(
            f"the run has no {checkpoint} checkpoint (status: {run.status()})", where=str(path)
        )
    model = load_checkpoint(path, compile=False)
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
    from seqrun.core.runs import atomic_write_bytes

    arrays = {k: v for k, v in preds.items() if isinstance(v, np.ndarray)}
    if arrays:
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        atomic_write_bytes(run.path / "predictions" / f"{name}.npz", buf.getvalue())


def _plot_history(
    run: Run, history: list[dict[str, Any]], best_epoch: int | None = None, monitor: str = ""
) -> None:
    from seqrun.data.plots import learning_curves

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

    A cross-validation parent scores every fold's checkpoint
    (:func:`seqrun.engine.experiment.evaluate_folds`).
    """
    from seqrun.engine import experiment as cv

    if cv.is_cv_run(run):
        return cv.evaluate_folds(run, split, checkpoint)
    cfg = load_run_config(run)
    setup_tf(cfg)
    data = load_data(cfg, (split,))
    encoder = load_encoder(cfg, run)
    data.set_encoder(encoder)
    metrics = score(run, cfg, data, split, checkpoint)
    if cfg.tracking.mlflow is not None and run.meta().get("mlflow_run_id"):
        from seqrun.engine import tracking

        tracking.require("mlflow", "mlflow", "tracking.mlflow")
        name = split if checkpoint == "best" else f"{split}-{checkpoint}"
        tracking.MlflowTracker(cfg, run, run.path.parent.parent).log_split(name, metrics)
    return metrics


__all__ = ["Interrupted", "config_from_dict", "evaluate", "train"]
