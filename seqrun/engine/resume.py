"""Which run ``seqrun train`` trains: a new one, one given by ``--resume RUN_DIR``, or with
``--resume auto`` the latest run of the same resolved config (continued when unfinished,
reported when completed). Imports no TensorFlow.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqrun.core.config import (
    ExperimentConfig,
    apply_overrides,
    config_difference,
    config_key,
    load_config,
    read_yaml,
    resolve,
)
from seqrun.core.errors import RunFailure, UserError
from seqrun.core.runs import FileLock, Run, check_folders, latest_run, not_writable, resolve_run


@dataclass
class Plan:
    """What ``seqrun train`` does: train ``cfg`` into ``run`` (None: a new run) with
    ``overrides``; or, when ``completed``, only report ``run``."""

    cfg: ExperimentConfig
    run: Run | None
    overrides: list[str]
    completed: bool = False


def plan(
    config: Path | None,
    overrides: list[str],
    resume: str | None,
    runs_root: Path,
    held: contextlib.ExitStack,
    say: Any,
    folds: int | None = None,
    runs_dir: Path | None = None,
) -> Plan:
    """The config and the run of ``seqrun train [CONFIG] [--resume RUN_DIR|auto] [--folds K]``.

    ``--resume auto`` holds this config's choice lock in ``held`` (the caller closes it when
    training ends), so that two such processes never both start a run. ``runs_dir``: the
    ``--runs-dir`` option (a ``--resume`` reference may be a name/id under it).
    """
    auto = resume == "auto"
    if config is None and resume is None:
        raise UserError("give an experiment file, or --resume RUN_DIR")
    if auto and config is None:
        raise UserError(
            "--resume auto needs the experiment file: seqrun train CONFIG --resume auto",
            where="--resume",
        )
    cfg = None
    if folds is not None:
        if resume is not None and not auto:
            raise UserError("--folds starts a new cross-validation; leave it out with --resume")
        from seqrun.engine.experiment import folds_config

        cfg, overrides = folds_config(config, overrides, folds)
    if auto:
        cfg = cfg or load_config(config, overrides)
        run = choose_auto(cfg, runs_root, held, say)
        completed = run is not None and run.status() == "completed"
        return Plan(cfg, run, overrides, completed)
    if resume is not None:
        run = resolve_run(resume, runs_dir, quiet=True)
        return Plan(resumed_config(run, config, overrides), run, overrides)
    return Plan(cfg or load_config(config, overrides), None, overrides)


def resumed_config(run: Run, config: Path | None, overrides: list[str]) -> ExperimentConfig:
    """The config to continue ``run`` with (CONFIG, else the run's own with ``overrides``),
    after checking that the run can be continued with it."""
    cfg = load_config(config, overrides) if config is not None else None
    if cfg is None or run.config_path.is_file():
        saved = saved_config(run)
        if cfg is None:
            cfg = saved
            if overrides:
                source = read_yaml(run.config_path)
                apply_overrides(source, overrides)
                cfg = resolve(source)
    else:  # killed before it wrote config.yaml: meta.json has the config's key
        saved = cfg if run.meta().get("config_key") == config_key(cfg) else saved_config(run)
    if launched_helper(cfg):  # the chief checked the run and now marks it running
        if config_difference(saved, cfg):
            check_resumable(run, saved, cfg)
    else:
        check_resumable(run, saved, cfg)
    return cfg


def launched_helper(cfg: ExperimentConfig) -> bool:
    """Whether this process is a non-chief worker of a multi-worker run."""
    if cfg.train.strategy != "multi_worker":
        return False
    from seqrun.engine.launch import cluster_from_env

    cluster = cluster_from_env()
    return cluster is not None and not cluster.is_chief


def saved_config(run: Run) -> ExperimentConfig:
    """The resolved config a run was trained with (its config.yaml)."""
    from seqrun.engine.archive import load_run_config

    if not run.config_path.is_file():
        raise UserError("the run has no config.yaml to resume from", str(run.path))
    return load_run_config(run)


#: differences a refused resume lists before it counts the rest
SHOWN_DIFFERENCES = 6


def resume_difference(saved: ExperimentConfig, cfg: ExperimentConfig, diff: list[str]) -> str:
    """Why a run trained with ``saved`` is not continued with ``cfg`` (``diff``: their
    :func:`config_difference`): another experiment is named as such, a few keys are listed."""
    fix = (
        "leave out CONFIG and --set to continue with the run's own config "
        "(seqrun train --resume RUN_DIR), or train a new run"
    )
    if (saved.name, saved.data.adapter) != (cfg.name, cfg.data.adapter):
        return (
            f"the run is of another experiment ({saved.name!r}, data.adapter "
            f"{saved.data.adapter}) than the config ({cfg.name!r}, data.adapter "
            f"{cfg.data.adapter}), refusing to resume; {fix}"
        )
    shown = "; ".join(diff[:SHOWN_DIFFERENCES])
    if len(diff) > SHOWN_DIFFERENCES:
        shown += f"; and {len(diff) - SHOWN_DIFFERENCES} more key(s)"
    return f"the config differs from the run's, refusing to resume: {shown}; {fix}"


def check_resumable(run: Run, saved: ExperimentConfig, cfg: ExperimentConfig) -> None:
    """A UserError unless ``run`` (trained with ``saved``) can continue with ``cfg``: the same
    resolved config, and a run that is neither completed nor trained by a live process."""
    diff = config_difference(saved, cfg)
    if diff:
        raise UserError(resume_difference(saved, cfg, diff), str(run.path))
    problem = run.meta_problem()
    if problem:
        raise UserError(
            f"{problem}: what the run did is unknown, so it cannot be continued; train a new "
            "run (seqrun train CONFIG)",
            str(run.path),
        )
    status = run.status()
    if run.meta().get("kind") == "cv":  # a cross-validation: its unfinished folds continue
        if status in ("completed", "running"):
            raise UserError(f"the cross-validation is {status}; nothing to resume", str(run.path))
        return
    if status == "completed":
        raise UserError("the run is already completed; nothing to resume", str(run.path))
    if status == "running":
        owner = run.owner() or "its process, which is alive"
        raise UserError(f"the run is still being trained by {owner}; stop it first", str(run.path))


def auto_lock_path(runs_root: Path, name: str, key: str) -> Path:
    """The lock that a ``--resume auto`` process holds while it chooses and trains the run of
    the config ``key`` of experiment ``name``."""
    return Path(runs_root) / name / f".resume-auto-{key}.lock"


def trained_elsewhere(runs_root: Path, name: str, key: str) -> str | None:
    """``pid N on HOST`` of a live process that trains (or chooses) the run of the config
    ``key`` of experiment ``name`` under ``runs_root``, or None."""
    from seqrun.core.runs import lock_owner

    owner = lock_owner(auto_lock_path(runs_root, name, key))
    if owner is not None:
        return owner
    run = latest_run(runs_root, name, key)
    return run.owner() if run is not None else None


def choose_auto(cfg: ExperimentConfig, runs_root: Path, held: Any, say: Any) -> Run | None:
    """``--resume auto``: the latest run of ``cfg`` (same resolved config) if it is unfinished
    (to continue) or completed (nothing to train), or None for a new run. Holds the config's
    choice lock in ``held`` so that two ``--resume auto`` processes never both start a run."""
    key = config_key(cfg)
    check_folders(runs_root, runs_root / cfg.name)
    problem = not_writable(runs_root / cfg.name, runs_root, "--resume auto locks the config there")
    if problem:  # exit code 1, as `train` into an unwritable runs directory
        raise RunFailure(problem)
    created = [p for p in (runs_root, runs_root / cfg.name) if not p.exists()]
    lock = FileLock(auto_lock_path(runs_root, cfg.name, key), remove=True)
    acquired = lock.acquire()

    def release() -> None:
        lock.release()
        for p in reversed(created):  # leave no folder behind when nothing was trained
            with contextlib.suppress(OSError):
                p.rmdir()

    held.callback(release)
    try:
        if not acquired:
            raise UserError(
                "another `seqrun train --resume auto` of this config is running "
                f"({lock.holder()}); not starting a second run",
                where=str(runs_root / cfg.name),
            )
        run = latest_run(runs_root, cfg.name, key)
        if run is None:
            say(f"--resume auto: no run of this config under {runs_root} yet; a new run")
            return None
        if run.status() == "completed":  # e.g. killed after its last write, before its exit
            say(f"--resume auto: {run.path} is already completed; nothing to train")
            changed = data_modified_since(cfg, run)
            if changed:
                from seqrun.core.text import warn

                warn(
                    f"--resume auto: {changed} was modified after {run.path} started training: "
                    "its results may be of the earlier data; to train on the data as they are "
                    "now, leave out --resume auto (a new run)"
                )
            return run
        owner = run.owner()
        if owner is not None:
            raise UserError(
                f"the unfinished run of this config is being trained by {owner}; not "
                "starting a second run",
                where=str(run.path),
            )
        saved = saved_config(run) if run.config_path.is_file() else cfg
        check_resumable(run, saved, cfg)
    except BaseException:
        held.close()
        raise
    say(f"--resume auto: continuing {run.path} (status {run.status()})")
    return run


def data_modified_since(cfg: ExperimentConfig, run: Run) -> str | None:
    """The first data file (or folder) of ``cfg`` (its ``data.*path`` keys; bundled samples
    never change) modified after ``run`` started training, or None: a completed run of the
    same config found again by ``--resume auto`` may be of other data."""
    import glob
    import os

    started = run.meta().get("started_ts")
    if not isinstance(started, int | float) or isinstance(started, bool):
        return None
    data = cfg.to_dict().get("data") or {}
    for key, value in data.items():
        if not key.endswith("path") or not value:
            continue
        for text in [value] if isinstance(value, str) else list(value):
            if not isinstance(text, str):
                continue
            for found in glob.glob(os.path.expanduser(text))[:1000] or [text]:
                with contextlib.suppress(OSError):
                    if os.stat(found).st_mtime > started:
                        return found
    return None


def completed_result(run: Run) -> dict[str, Any]:
    """What ``train`` returned for a completed run, read back from its files."""
    from seqrun.engine.checkpoint import stopped_early

    meta = run.meta()
    return {
        "run_dir": str(run.path),
        "status": "completed",
        "metrics": run.metrics("dev") or {},
        "best_epoch": meta.get("best_epoch"),
        "epochs_completed": meta.get("epochs_completed"),
        "stopped_early": stopped_early(run),
    }
