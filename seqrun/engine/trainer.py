"""One run of one experiment: TensorFlow start-up, build and compile, fit, score.

:func:`train` trains a new run (or continues one) of a config that names one split of its data
(k-fold configs go through :mod:`seqrun.engine.experiment`, which calls it once per fold);
:func:`evaluate` scores a saved checkpoint of a run. What a run keeps between epochs is in
:mod:`seqrun.engine.checkpoint`; a run is read back by :mod:`seqrun.engine.archive`.

Imports TensorFlow; the CLI only imports this module for commands that train or score.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seqrun.core.checks import MULTI_CLASS_LOSSES, TWO_CLASS_LOSSES
from seqrun.core.config import ExperimentConfig, config_key
from seqrun.core.errors import RunFailure, UserError, env_count, os_error_text
from seqrun.core.registry import registry
from seqrun.core.runs import (
    Run,
    atomic_write_bytes,
    atomic_write_text,
    base_meta,
    create_run,
    keras_key,
    lock_run,
    merged_warnings,
    metrics_name,
    now_iso,
    share_run,
    write_json,
)
from seqrun.core.text import recorded_warnings, warn
from seqrun.engine import archive, launch
from seqrun.engine.backend import framework_versions, import_tensorflow
from seqrun.engine.checkpoint import (
    Interrupted,
    SignalGuard,
    TrainState,
    checkpointer,
    clear_run,
    interrupt_cause,
    repair,
    restore_seed_states,
    resume_state,
)

_OPTIMIZERS = {
    "adam": "Adam",
    "adamw": "AdamW",
    "rmsprop": "RMSprop",
    "sgd": "SGD",
    "nadam": "Nadam",
    "adagrad": "Adagrad",
}


class LostWorker(RunFailure):
    """A worker of a multi-worker run lost contact with the others; the run is marked failed."""

    def __init__(self, message: str, peer: str = "") -> None:
        super().__init__(message)
        self.peer = peer  # what TensorFlow said about the peer, in a few words


# ----------------------------------------------------------------------------- start-up


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
    """Import TensorFlow (quietly) and the custom layers; seed every RNG, make ops
    deterministic if asked; return the distribution strategy. Called once the data are read,
    so that a data error is reported without the seconds TensorFlow takes to import."""
    import_tensorflow()
    import keras
    import tensorflow as tf

    import seqrun.models.layers  # noqa: F401  (custom layers: saved models load with them)

    strategy = make_strategy(cfg.train.strategy)  # multi-worker must come before other ops
    threads = env_count("SEQRUN_THREADS")
    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(max(1, threads // 2))
        except RuntimeError:
            pass  # already initialised in this process
    keras.utils.set_random_seed(cfg.seed)
    if cfg.train.deterministic:
        tf.config.experimental.enable_op_determinism()
    return strategy


def load_data(cfg: ExperimentConfig, splits: tuple[str, ...], command_line: bool = False) -> Any:
    """Run the dataset adapter for the given splits (``command_line``: the data keys come from
    ``--set``, see :func:`seqrun.data.base.open_adapter`)."""
    from seqrun.data.base import open_adapter

    return open_adapter(cfg, command_line).load(splits)


# ----------------------------------------------------------------------------- build / compile


def build_model(cfg: ExperimentConfig, data: Any, encoder: Any) -> Any:
    """Build and compile the model for the data's task."""
    from seqrun.models.layers import EnsembleModel

    task = data.task
    arch = registry.get("arch", cfg.model.arch)(cfg.model)
    front = encoder.model_front(task)  # (inputs, features), or None for a plain input
    model = arch.build(task, *front) if front else arch.build(task)
    ensemble = getattr(cfg.model, "ensemble", 1)  # a plugin config may not derive ModelConfig
    if ensemble > 1 and not isinstance(model, EnsembleModel):
        raise UserError(
            f"model.arch '{cfg.model.arch}' builds one network and ignores model.ensemble: "
            "drop model.ensemble, or build the architecture on seqrun.models.base.Architecture",
            where="model.ensemble",
        )
    t = cfg.train
    if task.kind == "regression":
        loss = t.loss or "mse"
        metrics: list[Any] = ["mae"]
    else:
        import keras

        binary = task.output_dim == 1
        loss = t.loss or ("binary_crossentropy" if binary else "sparse_categorical_crossentropy")
        metrics = ["accuracy"] + ([keras.metrics.AUC(name="auc")] if binary else [])
    try:
        model.compile(optimizer=make_optimizer(cfg, data), loss=loss, metrics=metrics)
    except ValueError as e:
        raise UserError(f"cannot compile the model: {e}", where="train.loss") from None
    return model


def make_optimizer(cfg: ExperimentConfig, data: Any) -> Any:
    """The Keras optimizer of ``train`` (learning rate, cosine schedule, clipping)."""
    import keras

    t = cfg.train
    kind = getattr(keras.optimizers, _OPTIMIZERS[t.optimizer])
    kwargs: dict[str, Any] = {}
    if t.learning_rate is not None:
        kwargs["learning_rate"] = t.learning_rate
    if t.lr_schedule == "cosine":
        initial = kwargs.get("learning_rate") or kind().learning_rate
        total = t.epochs * data.batches("train").steps(t.batch_size)
        kwargs["learning_rate"] = keras.optimizers.schedules.CosineDecay(
            float(np.asarray(initial)), decay_steps=total
        )
    if t.clipnorm is not None:
        kwargs["clipnorm"] = t.clipnorm
    return kind(**kwargs)


def check_monitor(cfg: ExperimentConfig, task: Any) -> None:
    """``train.monitor`` must be a dev metric compiled for this task, whose direction the
    metric set declares (before any run exists)."""
    from seqrun.core.checks import compiled_metrics
    from seqrun.core.runs import metric_name

    allowed = compiled_metrics(task.kind, task.output_dim == 1)
    if metric_name(cfg.train.monitor) not in allowed:
        what = f"{task.kind} model"
        if task.kind == "classification":
            what = f"{max(task.output_dim, 2)}-class model"
        raise UserError(
            f"train.monitor '{cfg.train.monitor}' is not a dev metric of this {what}; "
            f"choose one of: {', '.join(allowed)}",
            where="train.monitor",
        )
    monitor_mode(cfg)


def monitor_mode(cfg: ExperimentConfig) -> str:
    """Whether the monitored dev metric is minimised or maximised ('min'/'max'), as the
    config's metric set declares it."""
    from seqrun.metrics import direction

    return direction(registry.get("metrics", cfg.metrics), cfg.train.monitor)


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


# ----------------------------------------------------------------------------- train


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
    """Train one run of ``cfg`` into a new run directory (or continue ``resume``).

    Returns a dict with ``run_dir``, ``status``, ``metrics`` (dev), ``best_epoch``,
    ``epochs_completed`` and ``stopped_early``. Raises Interrupted (run marked interrupted) on
    Ctrl-C. The data leakage checks run first; with ``data.leakage: error`` a finding stops
    here, before any run directory exists. ``make_run`` (no arguments -> Run) replaces the
    default ``runs_dir/<name>/<run-id>/`` directory (the folds of a cross-validation).
    ``on_epoch`` (see :func:`seqrun.engine.checkpoint.checkpointer`) may stop training after
    an epoch: the status is then ``pruned``.

    The process training a run holds its lock (:func:`seqrun.core.runs.lock_run`), so two live
    processes never train the same run. A ``resume`` killed before its first epoch was
    checkpointed starts again from epoch 1 in its own directory: with the same seed, data
    order and initial weights, it ends as an uninterrupted run would.
    """
    from seqrun.engine import tracking
    from seqrun.engine.processes import die_with_parent, sigterm_interrupts

    die_with_parent()  # a trial of a sweep: it stops with the sweep
    locks: list[Any] = []  # released when this run ends (the process may train others)
    started: dict[str, Run] = {}  # the run this process writes, once it exists
    # what the run prints from the data's loading on: kept in its meta.json (Run.warnings)
    with recorded_warnings() as seen:
        try:
            try:
                with sigterm_interrupts():  # before the fit's guard, SIGTERM is Ctrl-C as well
                    cluster = launch.cluster_of(cfg)
                    chief = cluster is None or cluster.is_chief
                    if resume is not None and chief:
                        locks.append(lock_run(resume))  # before anything is read or changed
                        started["run"] = resume
                        resume.warnings = seen  # kept with the earlier attempts' warnings
                    if cfg.tracking.mlflow is not None:
                        tracking.require("mlflow", "mlflow", "tracking.mlflow")
                    job = _prepare(cfg, cluster, log, seen)
                    if resume is not None and (state := resume_state(resume)) is not None:
                        run, model = _continue(job, resume, state)
                    else:
                        run, model, state = _start(
                            job, runs_dir, locks, resume, make_run, argv, overrides, started
                        )
                    if job.chief:
                        job.say(f"run directory: {run.path}")
                        launch.announce_run_dir(run.path)
                    else:
                        job.say(
                            f"{cluster.task} of {cluster.size} workers: the chief writes the run "
                            "directory"
                        )
            except KeyboardInterrupt:  # writing the run directory, before the first batch
                run = started.get("run")
                if run is None:
                    raise
                run.finish("interrupted", error=interrupt_cause())
                raise Interrupted(str(run.path)) from None
            except OSError as e:  # writing a new run's directory (a full disk): the run failed
                run = started.get("run")
                if run is None or run is resume or isinstance(e, BrokenPipeError):
                    raise  # a resume's run keeps its status; a gone reader is no disk failure
                raise _write_failed(run, e) from None
            with sigterm_interrupts():  # never SIGTERM's default (a silent death) while it lives
                return _fit_guarded(job, run, model, state, runs_dir, quiet, on_epoch)
        finally:
            for lock in locks:
                lock.release()


@dataclass
class _Job:
    """What a run is trained with, set up before its run directory exists."""

    cfg: ExperimentConfig
    cluster: Any  # the TF_CONFIG cluster of a multi-worker run, else None
    strategy: Any  # the tf.distribute strategy, None for the default one
    data: Any  # the train and dev splits (a DataModule)
    leak: dict[str, Any]  # the leakage check of the splits
    say: Any  # one line of progress for the user
    warnings: list[str]  # the warnings printed for the run so far (recorded_warnings)

    @property
    def chief(self) -> bool:
        """Whether this process writes the run directory."""
        return self.cluster is None or self.cluster.is_chief

    @property
    def several(self) -> bool:
        """Whether several workers train the run together."""
        return self.cluster is not None and self.cluster.size > 1

    def scope(self) -> Any:
        """The strategy's scope (variables are created in it)."""
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()


def _prepare(cfg: ExperimentConfig, cluster: Any, log: Any, seen: list[str]) -> _Job:
    """TensorFlow, the data and its leakage check (a finding with ``data.leakage: error``
    stops here, before any run directory exists); ``seen``: the list that records the run's
    warnings."""
    from seqrun.data.base import warn_untrained_classes
    from seqrun.engine import leakage

    data = load_data(cfg, ("train", "dev"))  # before TensorFlow: a data error comes at once
    _check_loss_classes(cfg, data.task)
    strategy = setup_tf(cfg)
    warn_untrained_classes(data)
    leak = leakage.check(data, cfg.data.leakage)
    leakage.enforce(leak)
    return _Job(cfg, cluster, strategy, data, leak, log or (lambda msg: None), seen)


def _check_loss_classes(cfg: ExperimentConfig, task: Any) -> None:
    """A classification loss that does not fit the number of classes the data hold (known once
    they are read): one sigmoid output for two classes, a softmax for more."""
    loss = cfg.train.loss
    if task.kind != "classification" or not isinstance(loss, str):
        return
    two = task.output_dim == 1
    if two and loss in MULTI_CLASS_LOSSES:
        fix = "use binary_crossentropy, or leave train.loss unset"
        why = "a two-class model has one sigmoid output, not one output per class"
    elif not two and loss in TWO_CLASS_LOSSES:
        fix = "use sparse_categorical_crossentropy, or leave train.loss unset"
        why = f"a {task.output_dim}-class model has one softmax output per class"
    else:
        return
    raise UserError(f"'{loss}' does not fit the data: {why}; {fix}", where="train.loss")


def _start(
    job: _Job,
    runs_dir: Path,
    locks: list[Any],
    resume: Run | None,
    make_run: Any,
    argv: list[str] | None,
    overrides: list[str] | None,
    started: dict[str, Run] | None = None,
) -> tuple[Run, Any, TrainState]:
    """A run from epoch 1: fit the encoder, build the model, write the run directory (a new
    one, or ``resume``'s when it was killed before its first checkpoint). ``started["run"]``
    is the new run as soon as it exists (an interrupt marks it interrupted)."""
    cfg = job.cfg
    encoder = archive.make_encoder(cfg)
    job.data.fit_encoder(encoder)
    with job.scope():
        model = build_model(cfg, job.data, encoder)
    check_monitor(cfg, job.data.task)
    before: dict[str, Any] = {}
    if not job.chief:  # the chief writes the run directory; this worker's copies go to scratch
        run = Run(launch.scratch_dir(job.cluster))
    elif resume is None:
        run = make_run() if make_run is not None else create_run(runs_dir, cfg.name)
        run.warnings = job.warnings
        if started is not None:
            started["run"] = run
        locks.append(lock_run(run))
    else:
        run = resume
        before = {**run.meta(), **run.attempt()}
        clear_run(run)
        job.say(f"no epoch was checkpointed yet: starting again from epoch 1 in {run.path}")
    write_json(run.meta_path, _new_meta(job, argv, overrides, before if resume else None))
    atomic_write_text(run.config_path, cfg.to_yaml())
    encoder.save(run.preprocessing)
    atomic_write_text(run.path / "model.txt", model_summary(model))
    return run, model, TrainState(monitor=keras_key(cfg.train.monitor))


def _new_meta(
    job: _Job, argv: list[str] | None, overrides: list[str] | None, before: dict | None
) -> dict[str, Any]:
    """meta.json of a run starting at epoch 1 (``before``: the meta of the run it restarts)."""
    cfg, data = job.cfg, job.data
    meta = base_meta(cfg.seed, argv)
    meta["config_key"] = config_key(cfg)
    meta["overrides"] = list(overrides or [])
    meta.update(framework_versions())
    meta["data"] = {"fingerprint": data.fingerprint, "sizes": data.sizes()}
    if hasattr(data, "split_fingerprints"):
        meta["data"]["split_fingerprints"] = dict(data.split_fingerprints)
    meta["data"].update(data.report())  # what the adapter did: values filled, rows dropped...
    meta["leakage"] = job.leak
    meta["epochs_completed"] = 0
    meta["warnings"] = merged_warnings((before or {}).get("warnings"), job.warnings)
    if job.cluster is not None or cfg.train.strategy == "multi_worker":
        meta["cluster"] = _cluster_meta(cfg, job.cluster, job.strategy)
    if before is not None:  # keep how and when the run first started
        keep = ("command", "cwd", "overrides", "started_at", "started_ts", "cv_parent")
        for k in (*keep, "active_s_before", "attempt_ts"):
            if k in before:
                meta[k] = before[k]
        meta["resumes"] = [*before.get("resumes", []), {"at": now_iso(), "from_epoch": 0}]
    return meta


def _drop_stale_scores(run: Run) -> None:
    """Scores of the run's checkpoints before it trains on (``seqrun evaluate`` of an
    unfinished run) and the report that shows them: the best checkpoint will change, so they
    would outlive it. The end of training writes the dev scores again; other splits need a
    new evaluate, the report a new ``seqrun report``."""
    stale = [*run.path.glob("metrics/*.json"), *run.path.glob("predictions/*.npz")]
    stale += [p for p in run.plots.glob("*.png") if p.name != "learning_curves.png"]
    stale += [run.path / "errors.jsonl", run.path / "report.html"]  # the report shows them
    for path in stale:
        path.unlink(missing_ok=True)


def _continue(job: _Job, run: Run, state: TrainState) -> tuple[Run, Any]:
    """A killed or stopped run from its saved state: the run's encoder, the epoch file that
    ``state.json`` names, the links and history a kill left undone; the run is running again."""
    cfg = job.cfg
    attempt = run.attempt()  # before anything changes the run's files
    job.data.set_encoder(archive.load_encoder(cfg, run))
    with job.scope():
        model = archive.load_model(run, Path(state.checkpoint).stem, compile=True)
    restore_seed_states(model, state.seed_states)
    entry: dict[str, Any] = {"at": now_iso(), "from_epoch": state.epoch}
    if cfg.train.strategy == "multi_worker":
        entry["cluster"] = _cluster_meta(cfg, job.cluster, job.strategy)
    if not job.chief:  # read the chief's checkpoint, write nothing beside it
        return Run(launch.scratch_dir(job.cluster)), model
    repair(run, state)  # a kill may have come between state.json and the files that follow it
    changed = _data_changed(run, job.data, ("train", "dev", "test"))
    if changed:  # on record in meta.json's resumes too
        entry["data_changed"] = {"fingerprint": changed[0], "trained": changed[1]}
        warn(
            f"the data differ from those the run started training on (fingerprint {changed[0]}, "
            f"meta.json {changed[1]}): the file changed or another one is read; the run goes "
            "on with them, and its scores are not comparable with its earlier epochs' (restore "
            "the file, or train a new run)"
        )
    _drop_stale_scores(run)
    resumes = run.meta().get("resumes", [])
    run.update_meta(
        status="running",
        pid=os.getpid(),
        host=socket.gethostname(),
        resumes=[*resumes, entry],
        ended_at=None,
        error=None,
        leakage=job.leak,
        epochs_completed=state.epoch,
        best_epoch=state.best_epoch,
        **attempt,
    )
    return run, model


def _fit_guarded(
    job: _Job,
    run: Run,
    model: Any,
    state: TrainState,
    runs_dir: Path,
    quiet: bool,
    on_epoch: Any,
) -> dict[str, Any]:
    """Fit and score under the signal guard and the trackers; the run ends marked completed,
    pruned, interrupted or failed (with the cause), whatever happens."""
    from seqrun.engine import tracking

    cfg = job.cfg
    tracker = None
    status = "failed"
    result: dict[str, Any] = {}
    try:
        if cfg.tracking.mlflow is not None:
            tracker = tracking.MlflowTracker(cfg, run, runs_dir)
            tracker.start()
        extra = [tracker.callback()] if tracker else []
        if cfg.train.tensorboard:
            extra.append(tracking.tensorboard_callback(run))
        with SignalGuard(model, at_once=job.several) as guard:
            result = _fit_and_score(job, run, model, state, quiet, extra, guard, on_epoch)
        status = result["status"]
        run.finish(status)
    except BrokenPipeError:  # the reader of our output (a killed sweep or tune) is gone
        status = "interrupted"
        cause = interrupt_cause("interrupted: the process reading its output ended")
        run.finish("interrupted", error=cause)
        raise Interrupted(str(run.path)) from None
    except OSError as e:  # disk full, permissions: fail the run with the real cause
        raise _write_failed(run, e) from None
    except KeyboardInterrupt:
        status = "interrupted"
        run.finish("interrupted", error=interrupt_cause())
        raise Interrupted(str(run.path)) from None
    except UserError as e:
        run.finish("failed", error=str(e))
        raise
    except LostWorker as e:
        run.finish("failed", error=str(e))
        if launch.launched():  # the launcher names the worker that died, in one line
            launch.report_lost_peer(e.peer)
            sys.stderr.flush()
            os._exit(launch.EXIT_LOST_PEER)
        raise
    except Exception as e:
        run.finish("failed", error=f"{type(e).__name__}: {e}")
        raise
    finally:
        if tracker is not None:
            with contextlib.suppress(Exception):  # a tracker never changes a run's outcome
                done = status in ("completed", "pruned")
                tracker.finish(status, result.get("metrics") if done else None)
        if not job.chief:
            import shutil

            shutil.rmtree(run.path, ignore_errors=True)
    return result


def _write_failed(run: Run, e: OSError) -> RunFailure:
    """Mark ``run`` failed by ``e`` (a full disk, permissions; best effort: the disk may refuse
    that too) and return the one-line error, which says how to go on."""
    resumable = run.meta_path.is_file()  # else nothing of the run was written
    then = f"resume: seqrun train --resume {run.path}" if resumable else "train again"
    text = os_error_text(e, then=then)
    run.finish("failed", error=text)
    return RunFailure(text)


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


def _fit_and_score(
    job: _Job,
    run: Run,
    model: Any,
    state: TrainState,
    quiet: bool,
    callbacks: list[Any],
    guard: SignalGuard,
    on_epoch: Any,
) -> dict[str, Any]:
    """Train the epochs left, then score the best checkpoint on dev (the chief) and plot the
    learning curves."""
    cfg, cluster = job.cfg, job.cluster
    # the checkpointer stops at an epoch whose training loss is not finite (its weights are
    # NaN from then on); a resume of such a run trains no further
    if state.epoch < cfg.train.epochs and not state.stopped_early and not _diverged(state):
        fit_callbacks = [checkpointer(run, state, cfg.train, monitor_mode(cfg), guard, on_epoch)]
        _fit(job, run, model, state.epoch, [*fit_callbacks, *callbacks], quiet)
    guard.at_once = True  # no batch left to finish: Ctrl-C while scoring interrupts at once
    if guard.requested:  # the signal came after the last batch
        raise KeyboardInterrupt
    diverged = _diverged(state)
    poisson = cfg.train.loss == "poisson" and job.data.task.kind == "regression"
    lr = cfg.train.learning_rate
    fix = (
        f"lower train.learning_rate{f' (now {lr:g})' if lr is not None else ''} or set "
        "train.clipnorm"
    )
    if state.best_epoch is None:
        why = (
            "train.loss 'poisson' takes the log of the predictions, which are standardized "
            "values (negative too): use mse, mae or huber"
            if poisson
            else f"the training diverged ({fix})"
        )
        what = f"no epoch gave a finite dev {cfg.train.monitor}"
        if diverged is not None:
            what = f"the training loss became {diverged[0]} at epoch {diverged[1]} and {what}"
        raise RunFailure(f"{what}; {why}")
    if diverged is not None and job.chief:
        what, epoch = diverged
        warn(
            f"the training loss became {what} at epoch {epoch}: training stopped there, and "
            f"epoch {state.best_epoch}, before it, is the one kept and scored; to train on, "
            + ("use mse, mae or huber (train.loss 'poisson')" if poisson else fix)
        )
    if not job.chief:  # the chief scores and plots
        _barrier(job.strategy, run, cluster)
        return {**state.result(None, None), "worker": cluster.task}
    run.check_present()  # moved or deleted meanwhile: never write a new one
    dev = score(run, cfg, job.data, "dev", "best")
    _plot_history(run, state.history, state.best_epoch, state.monitor)
    if job.several:
        _barrier(job.strategy, run, cluster)
    return state.result(str(run.path), dev)


def _diverged(state: TrainState) -> tuple[str, int] | None:
    """``('nan' or 'inf', epoch)`` of the first epoch whose training loss is not finite."""
    for row in state.history:
        loss = row.get("loss")
        if isinstance(loss, float) and not math.isfinite(loss):
            return ("nan" if math.isnan(loss) else "inf"), int(row["epoch"])
    return None


def _fit(job: _Job, run: Run, model: Any, first: int, callbacks: list[Any], quiet: bool) -> None:
    """``model.fit`` from epoch ``first`` to ``train.epochs``, with a progress display."""
    from seqrun.engine.progress import make_progress_callback

    t = job.cfg.train
    steps = job.data.batches("train").steps(t.batch_size)
    note = (
        "per-epoch losses and dev metrics are in the model's units (targets as the encoder "
        "scales them, history.csv too); the summary and metrics/*.json are in the target's units"
        if job.data.task.kind == "regression"
        else None
    )
    progress = make_progress_callback(t.epochs, steps, first_epoch=first, quiet=quiet, note=note)
    train_ds, dev_ds = _datasets(job, model, first)
    try:
        model.fit(
            train_ds,
            steps_per_epoch=steps,
            epochs=t.epochs,
            initial_epoch=first,
            validation_data=dev_ds,
            callbacks=[*callbacks, progress],
            verbose=0,
            shuffle=False,
        )
    except Exception as e:
        if job.several:
            _raise_lost_worker(e, run, job.cluster)
        raise
    finally:
        progress.close()


def _datasets(job: _Job, model: Any, first: int) -> tuple[Any, Any]:
    """The train (reshuffled per epoch, from epoch ``first``) and dev datasets; with several
    workers, each worker reads its part of every global batch."""
    cfg, strategy = job.cfg, job.strategy
    t = cfg.train
    train_w = job.data.batches("train")
    dev_w = job.data.batches("dev")
    if t.strategy != "multi_worker":
        train_ds = train_w.training_dataset(t.batch_size, cfg.seed, first, t.epochs, t.shuffle)
        return train_ds, dev_w.dataset(t.batch_size)
    train_ds = strategy.distribute_datasets_from_function(
        lambda ctx: train_w.training_dataset(
            t.batch_size, cfg.seed, first, t.epochs, t.shuffle, shard=_shard(ctx)
        )
    )
    dev_ds = strategy.distribute_datasets_from_function(
        lambda ctx: dev_w.dataset(t.batch_size, shard=_shard(ctx))
    )
    _prebuild(model, strategy, dev_w.dataset(t.batch_size))
    return train_ds, dev_ds


# ----------------------------------------------------------------------------- several workers


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


# ----------------------------------------------------------------------------- score


def score(
    run: Run, cfg: ExperimentConfig, data: Any, split: str, checkpoint: str, model: Any = None
) -> dict:
    """Score a saved checkpoint (or ``model``, loaded from it) on one split; writes its plot,
    predictions, the data module's artifacts and, last, its metrics file (what the tables
    show: a write that fails before it, a full disk, leaves the split unscored)."""
    if model is None:
        model = archive.load_model(run, checkpoint)
    preds, metrics = _scores(cfg, data, split, checkpoint, model)
    name = metrics_name(split, checkpoint)
    try:
        data.plot(preds, run.plots / f"{name}.png", title=f"{cfg.name} - {split}")
    except Exception as e:  # a plot never fails a run
        run.update_meta(plot_error=f"{type(e).__name__}: {e}")
    _save_predictions(run, name, preds)
    data.write_artifacts(preds, run, name)  # e.g. errors.jsonl of the most confident mistakes
    write_json(run.metrics_path(split, checkpoint), metrics)
    return metrics


def _scores(
    cfg: ExperimentConfig, data: Any, split: str, checkpoint: str, model: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The model's predictions on one split and the metric set's scores of them."""
    preds = data.predictions(model, split)
    metric_set = registry.get("metrics", cfg.metrics)()
    return preds, {"split": split, "checkpoint": checkpoint, **metric_set.compute(preds)}


def _save_predictions(run: Run, name: str, preds: dict[str, Any]) -> None:
    """Per-item predictions of a split (``predictions/<name>.npz``), for significance tests;
    a multi-step forecast's every lead as ``direct_*`` and ``recursive_*`` arrays."""

    arrays = {k: v for k, v in preds.items() if isinstance(v, np.ndarray)}
    for key, part in preds.items():
        if isinstance(part, dict):
            arrays.update({f"{key}_{k}": v for k, v in part.items() if isinstance(v, np.ndarray)})
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


def _data_changed(run: Run, data: Any, splits: tuple[str, ...]) -> tuple[str, str] | None:
    """(hash now, hash in meta.json) when the data now read differ from those the run was
    trained on: the whole series' hash, or, for a family whose hash depends on the splits
    loaded, the hash of each of ``splits`` as training recorded it (the adapters that read the
    whole file record the test split's too; a test split never read by training, imdb's, is
    not compared); None when they are the same or cannot be compared."""
    trained = run.meta().get("data")
    trained = trained if isinstance(trained, dict) else {}  # a hand-edited meta.json
    if hasattr(data, "split_fingerprints"):
        recorded = trained.get("split_fingerprints")
        recorded = recorded if isinstance(recorded, dict) else {}
        pairs = [(data.split_fingerprints.get(s), recorded.get(s)) for s in splits]
    else:
        pairs = [(getattr(data, "fingerprint", None), trained.get("fingerprint"))]
    return next(((now, before) for now, before in pairs if now and before and now != before), None)


def _check_fingerprint(run: Run, data: Any, split: str) -> None:
    """A warning when the ``split`` now read differs from the one the run was trained on."""
    changed = _data_changed(run, data, (split,))
    if changed:
        warn(
            f"the data differ from those the run was trained on (fingerprint {changed[0]}, "
            f"meta.json {changed[1]}): the file changed or another one is read; these scores "
            "are not comparable with the run's others"
        )


def evaluate_on(
    run: Run, overrides: list[str], split: str = "test", checkpoint: str = "best"
) -> dict[str, Any]:
    """Score a checkpoint on ``split`` of other labelled data: the run's config with
    ``overrides`` (``data.path``, ``data.sample``, ``data.test_path`` and the file's layout
    keys), read and encoded as the run's own data. Writes nothing into the run (its own scores
    stay); the metrics come back with ``data`` (the overrides) and ``warnings`` (those printed
    meanwhile, e.g. of the data read). A run still being trained is scored with a warning, as
    ``seqrun predict`` does: its checkpoint may still change."""
    with recorded_warnings() as seen:
        cfg = archive.config_with_overrides(run, overrides, "evaluate")
        archive.warn_if_training(run, checkpoint, "these scores")
        where = f"--set {' '.join(overrides)}"
        try:
            data = load_data(cfg, (split,), command_line=True)  # before TensorFlow: at once
        except UserError as e:
            where_e = f"{where} ({e.where})" if e.where else where
            raise UserError(e.message, where=where_e) from None
        setup_tf(cfg)
        _, encoder, model = archive.load(run, checkpoint, cfg=cfg)
        archive.check_data_fits(encoder, data, where)
        data.set_encoder(encoder)
        _, metrics = _scores(cfg, data, split, checkpoint, model)
    return {**metrics, "data": list(overrides), "warnings": seen}


def evaluate(run: Run, split: str = "test", checkpoint: str = "best") -> dict[str, Any]:
    """Rebuild ``split`` from the run's own config and score a checkpoint on it (one run; a
    cross-validation goes through :func:`seqrun.engine.experiment.evaluate`)."""
    # a shared hold on the run's lock: no resume starts while the checkpoint is scored, and
    # one starting (its meta.json not yet marked running) holds the lock: it is refused
    hold = share_run(run)
    if hold is None:
        raise UserError(
            f"the run is still being trained by {run.owner() or 'a live process'}: its "
            f"{checkpoint} checkpoint may still change; evaluate it when training has ended",
            where=str(run.path),
        )
    with hold:
        return _evaluate(run, split, checkpoint)


def _evaluate(run: Run, split: str, checkpoint: str) -> dict[str, Any]:
    """:func:`evaluate` once no process trains the run (and none can start)."""
    cfg = archive.load_run_config(run)
    data = load_data(cfg, (split,))  # before TensorFlow: a data error comes at once
    setup_tf(cfg)
    _check_fingerprint(run, data, split)
    _, encoder, model = archive.load(run, checkpoint, cfg=cfg)
    data.set_encoder(encoder)
    metrics = score(run, cfg, data, split, checkpoint, model)
    if cfg.tracking.mlflow is not None and run.meta().get("mlflow_run_id"):
        from seqrun.engine import tracking

        tracking.require("mlflow", "mlflow", "tracking.mlflow")
        name = metrics_name(split, checkpoint)
        tracking.MlflowTracker(cfg, run, run.path.parent.parent).log_split(name, metrics)
    return metrics


__all__ = ["Interrupted", "LostWorker", "evaluate", "evaluate_on", "score", "train"]
