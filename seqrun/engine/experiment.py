"""K-fold cross-validation: K runs of one experiment grouped under a parent run directory.

``data.split.kfold: K`` (or ``seqrun train CONFIG --folds K``) trains one run per fold; in fold
``k`` the dev split is the held-out fold ``k`` and the other folds train. Classification folds
are stratified; time series use forward-chaining folds (fold ``k`` trains on blocks ``0..k`` of
the series and holds out block ``k + 1``; nothing is shuffled). The test fraction of
``data.split`` is set aside before folding and is the same for every fold (``seqrun evaluate
PARENT`` scores each fold's model on it); with ``test: 0`` the folds cover the whole data set
(the literature's 10-fold protocol on small corpora such as the movie-review snippets) and the
held-out folds are the evaluation set: there is then no test split.

Layout (the parent is a run directory of its own, so `runs list`, `runs show`, `runs compare`
and `evaluate` take it like any run)::

    runs/<name>/<parent-id>/
        config.yaml           resolved config (data.split.kfold K, data.split.fold null)
        meta.json             kind "cv", folds, scheme, status, times, every fold's leakage check
                              and the warnings of every fold
        folds.json            per fold: run directory, status, sizes, best epoch, dev metrics
        metrics/cv.json       mean, std (n - 1), min, max and per-fold values of each dev metric
        metrics/dev.json      the means (what `runs list` shows)
        predictions/dev.npz   every fold's out-of-fold dev predictions, fold after fold
        fold-0/ ... fold-<K-1>/   ordinary run directories (config.yaml has data.split.fold)

Imports TensorFlow only through :mod:`seqrun.engine.trainer`, when a fold is trained or scored.
"""

from __future__ import annotations

import io
import math
import os
import shutil
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seqrun.core.config import config_key
from seqrun.core.errors import SeqrunError, UserError
from seqrun.core.runs import (
    Run,
    atomic_write_bytes,
    atomic_write_text,
    base_meta,
    create_run,
    lock_run,
    metrics_name,
    now_iso,
    null_as_nan,
    read_json,
    write_json,
)
from seqrun.core.text import recorded_warnings
from seqrun.engine import launch
from seqrun.engine.backend import framework_versions
from seqrun.engine.checkpoint import Interrupted

FOLDS_FILE = "folds.json"


def is_cv_run(run: Run) -> bool:
    """Whether a run directory is a cross-validation parent."""
    return run.meta().get("kind") == "cv"


def is_kfold(cfg: Any) -> bool:
    """Whether ``cfg`` trains every fold (``data.split.kfold`` set, ``data.split.fold`` not)."""
    from seqrun.data.base import kfold_of

    return bool(kfold_of(cfg)) and cfg.data.split.fold is None


def scheme(cfg: Any) -> str | None:
    """How the folds are cut, as the config's adapter declares it (``fold_scheme``):
    ``stratified``, ``forward-chaining``, or None (no k-fold split)."""
    from seqrun.core.registry import registry

    return registry.get("adapter", cfg.data.adapter).fold_scheme


def fold_config(cfg: Any, fold: int) -> Any:
    """The experiment config of one fold (``data.split.fold`` set)."""
    from seqrun.core.config import config_from_dict

    raw = cfg.to_dict()
    raw["data"]["split"]["fold"] = fold
    return config_from_dict(raw, origin=f"fold {fold}")


def kfold_adapters() -> list[str]:
    """The registered adapters that declare a k-fold scheme."""
    from seqrun.core.registry import registry

    names = []
    for name in registry.names("adapter"):
        try:
            if registry.get("adapter", name).fold_scheme is not None:
                names.append(name)
        except Exception:  # noqa: BLE001 - a plugin that does not load is not offered
            continue
    return names


def supports_kfold(adapter: str, where: str = "data.split.kfold") -> None:
    """A UserError unless the adapter declares a k-fold scheme (``fold_scheme``)."""
    from seqrun.core.registry import registry

    if registry.get("adapter", adapter).fold_scheme is None:
        raise UserError(
            f"adapter '{adapter}' has no k-fold split; cross-validation works with "
            f"{', '.join(kfold_adapters())}",
            where=where,
        )


def check_kfold_config(cfg: Any, where: str = "data.split.kfold") -> int:
    """K of a k-fold config; a UserError when the adapter has no k-fold split."""
    supports_kfold(cfg.data.adapter, where)
    return cfg.data.split.kfold


def folds_config(config: Path, overrides: list[str], folds: int) -> tuple[Any, list[str]]:
    """``seqrun train CONFIG --folds K``: the config with ``data.split.kfold=K`` and the
    overrides that give it; a UserError naming ``--folds`` when the adapter has no k-fold
    split."""
    from seqrun.core.config import load_config

    with_k = [*overrides, f"data.split.kfold={folds}"]
    try:
        cfg = load_config(config, with_k)
    except UserError as e:  # e.g. no split.kfold key: say why if the adapter is the cause
        try:
            base = load_config(config, overrides)
        except UserError:
            raise e from None
        supports_kfold(base.data.adapter, where="--folds")
        raise
    supports_kfold(cfg.data.adapter, where="--folds")
    return cfg, with_k


# ----------------------------------------------------------------------------- aggregation


def _numeric(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def flatten_numbers(d: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a nested metrics dict as ``a.b.c: value`` (lists left out)."""
    out: dict[str, float] = {}
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict):
            out.update(flatten_numbers(v, key))
        elif _numeric(v) and math.isfinite(float(v)):
            out[key] = float(v)
    return out


def aggregate(per_fold: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Mean, std (n - 1), min, max and values of every numeric metric present in every fold."""
    flats = [flatten_numbers(m) for m in per_fold]
    keys = [k for k in flats[0] if all(k in f for f in flats[1:])] if flats else []
    out = {}
    for k in keys:
        values = [f[k] for f in flats]
        out[k] = {
            "mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values),
            "max": max(values),
            "values": values,
        }
    return out


# counts of items in a metrics file (a split's items, a class's, a wind direction's scored
# items, the windows with a daily persistence, rain events): summed over disjoint dev folds
COUNT_KEYS = ("n", "support", "n_scored", "daily_n", "observed_events", "forecast_events")


def mean_metrics(per_fold: list[Any], key: str = "", shared: bool = False) -> Any:
    """One metrics dict for all folds: means of numbers, recursively. Item counts ``n`` and
    integer matrices such as confusion matrices are summed (the pooled out-of-fold figures),
    unless the folds scored one ``shared`` split (the test split): then counts are one fold's
    and matrices are averaged."""
    first = per_fold[0]
    if isinstance(first, dict):
        out = {}
        for k in first:
            if all(isinstance(m, dict) and k in m for m in per_fold):
                v = mean_metrics([m[k] for m in per_fold], k, shared)
                if v is not None:
                    out[k] = v
        return out
    if isinstance(first, list):
        try:
            arr = np.asarray(per_fold)
        except ValueError:
            return None
        if arr.dtype.kind in "iu" and not shared:
            return arr.sum(axis=0).tolist()
        if arr.dtype.kind in "iu":
            return arr.mean(axis=0).tolist()
        if arr.dtype.kind == "f":
            return arr.mean(axis=0).tolist()
        return first if all(m == first for m in per_fold) else None
    if _numeric(first):
        if not all(_numeric(m) for m in per_fold):
            return None
        if key in COUNT_KEYS:  # item counts: the pooled figure, or the shared split's
            return int(max(per_fold)) if shared else int(sum(per_fold))
        return statistics.fmean(float(m) for m in per_fold)
    return first if all(m == first for m in per_fold) else None


def _concat_predictions(parent: Run, children: list[Run], name: str) -> None:
    """Out-of-fold predictions of every fold in one ``predictions/<name>.npz`` (fold order)."""
    loaded = []
    for child in children:
        path = child.path / "predictions" / f"{name}.npz"
        if not path.is_file():
            return
        with np.load(path) as z:
            loaded.append({k: z[k] for k in z.files})
    if not loaded or any("y_true" not in p for p in loaded):
        return
    keys = [
        k
        for k in loaded[0]
        if all(
            k in p and p[k].ndim and len(p[k]) == len(p["y_true"]) and p[k].dtype != object
            for p in loaded
        )
    ]
    arrays = {k: np.concatenate([p[k] for p in loaded]) for k in keys}
    arrays["fold"] = np.concatenate([np.full(len(p["y_true"]), i) for i, p in enumerate(loaded)])
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(parent.path / "predictions" / f"{name}.npz", buf.getvalue())


class _QuietRetracing:
    """Silence TensorFlow's "N out of the last N calls triggered tf.function retracing"
    warning while several fold models are scored in one process: each fold's model is new,
    so its predict function is traced once, as it should be."""

    def __enter__(self) -> _QuietRetracing:
        import logging

        self.logger = logging.getLogger("tensorflow")
        self.level = self.logger.level
        self.logger.setLevel(logging.ERROR)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.logger.setLevel(self.level)


def _headline(metrics: dict[str, Any] | None, metric_set: Any) -> dict[str, float]:
    """The metric set's headline metrics that ``metrics`` has (numbers only)."""
    if not metrics:
        return {}
    return {k: metrics[k] for k in metric_set.headline if _numeric(metrics.get(k))}


def _write_summary(
    parent: Run, split: str, checkpoint: str, per_fold: list[dict], info: dict
) -> dict[str, Any]:
    """The parent's metrics file of a split (means over the folds) and its cross-validation
    file (mean, std, min, max and values of each metric)."""
    stats = aggregate(per_fold)
    means = mean_metrics(per_fold, shared=split != "dev")  # each fold scores the same test
    spread = metrics_name(split, checkpoint, cv=True)
    means.update(
        split=per_fold[0].get("split", split),
        checkpoint=per_fold[0].get("checkpoint", checkpoint),
        aggregate=f"mean over {len(per_fold)} folds (std in metrics/{spread}.json)",
    )
    write_json(parent.metrics_path(split, checkpoint), means)
    write_json(parent.metrics_path(split, checkpoint, cv=True), {**info, "metrics": stats})
    return {"metrics": means, "cv": stats}


# ----------------------------------------------------------------------------- training


def train(
    cfg: Any,
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
    """Train an experiment: every fold of a k-fold config under one parent run
    (:func:`train_folds`), else one run (:func:`seqrun.engine.trainer.train`, which explains
    the arguments and the result). ``make_run`` and ``on_epoch`` apply to one run only."""
    from seqrun.engine import trainer

    if not is_kfold(cfg):
        return trainer.train(
            cfg,
            runs_dir,
            quiet=quiet,
            argv=argv,
            resume=resume,
            log=log,
            overrides=overrides,
            make_run=make_run,
            on_epoch=on_epoch,
        )
    launch.cluster_of(cfg)  # the folds train on one worker: a cluster is refused here
    locks: list[Any] = []
    try:
        if resume is not None:
            locks.append(lock_run(resume))  # before anything is read or changed
        return train_folds(
            cfg,
            runs_dir,
            quiet=quiet,
            argv=argv,
            resume=resume,
            log=log,
            overrides=overrides,
            locks=locks,
        )
    finally:
        for lock in locks:
            lock.release()


class _Parent:
    """The parent run of a cross-validation, created when its first fold starts."""

    def __init__(self, cfg: Any, runs_dir: Path, resume: Run | None, locks: Any, **kw: Any):
        self.cfg, self.runs_dir, self.locks = cfg, runs_dir, locks
        self.argv, self.overrides, self.say = kw["argv"], kw["overrides"], kw["say"]
        self.run: Run | None = resume
        self.warnings: list[str] = kw["warnings"]  # what it printed (recorded_warnings)

    def get(self) -> Run:
        """The parent run (created now if no fold started yet)."""
        if self.run is None:
            cfg = self.cfg
            run = create_run(self.runs_dir, cfg.name)
            if self.locks is not None:  # the caller releases it once training returns
                self.locks.append(lock_run(run))
            meta = base_meta(cfg.seed, self.argv)
            meta.update(
                kind="cv",
                folds=cfg.data.split.kfold,
                scheme=scheme(cfg),
                config_key=config_key(cfg),
                overrides=list(self.overrides or []),
                **framework_versions(),
                warnings=list(self.warnings),
            )
            run.warnings = self.warnings  # the folds' later ones, at each update of meta.json
            write_json(run.meta_path, meta)
            atomic_write_text(run.config_path, cfg.to_yaml())
            self.run = run
            self.say(f"cross-validation, {meta['folds']} {meta['scheme']} folds: {run.path}")
        return self.run

    def fold_dir(self, fold: int) -> Run:
        """A new, empty run directory for fold ``fold``."""
        path = self.get().path / f"fold-{fold}"
        path.mkdir()
        return Run(path)


@dataclass
class _Fold:
    """A trained fold: its line in folds.json, what training returned, its run, its leakage."""

    record: dict[str, Any]
    result: dict[str, Any]
    run: Run
    leak: dict[str, Any]


def train_folds(
    cfg: Any,
    runs_dir: Path,
    *,
    quiet: bool = False,
    argv: list[str] | None = None,
    resume: Run | None = None,
    log: Any = None,
    overrides: list[str] | None = None,
    locks: list[Any] | None = None,
) -> dict[str, Any]:
    """Train every fold of a k-fold config under one parent run (or finish ``resume``).

    Returns the parent's ``run_dir``, ``status``, ``folds``, ``metrics`` (the parent's
    metrics/dev.json: means over the folds), ``std`` and ``cv`` (mean, std, min, max and
    values of each numeric metric, dotted keys), and ``fold_runs``. Raises
    :class:`seqrun.engine.checkpoint.Interrupted` with the parent's path on Ctrl-C.
    """
    k_folds = check_kfold_config(cfg)
    say = log or (lambda msg: None)
    how = scheme(cfg)
    # every fold's warnings (each fold keeps its own too), for the parent's meta.json
    with recorded_warnings() as seen:
        if resume is not None:
            resume.warnings = seen  # kept with the earlier attempts' warnings
            _mark_resumed(resume)
        parent = _Parent(
            cfg, runs_dir, resume, locks, argv=argv, overrides=overrides, say=say, warnings=seen
        )
        options = {"quiet": quiet, "argv": argv, "log": log}
        folds: list[_Fold] = []
        fold = 0
        with _QuietRetracing():
            try:
                for fold in range(k_folds):
                    t0 = time.time()
                    done = _train_fold(cfg, fold, parent, resume, runs_dir, options, overrides)
                    done.record["duration_s"] = round(time.time() - t0, 2)
                    folds.append(done)
                    records = [f.record for f in folds]
                    state = {"folds": k_folds, "scheme": how, "runs": records}
                    write_json(parent.get().path / FOLDS_FILE, state)
                    shown = " ".join(f"{k}={v:.4g}" for k, v in done.record["metrics"].items())
                    took = time.time() - t0
                    say(f"fold {fold + 1}/{k_folds}: {shown} ({took:.0f} s) {done.run.path}")
                return _finish_folds(parent.get(), cfg, folds, how)
            except (Interrupted, KeyboardInterrupt):
                if parent.run is None or parent.run.meta().get("status") == "completed":
                    raise  # nothing started, or the signal came after the last write
                where = f"in fold {fold}" if len(folds) < k_folds else "while summarising the folds"
                parent.run.finish("interrupted", error=f"interrupted {where}")
                raise Interrupted(str(parent.run.path)) from None
            except Exception as e:
                if parent.run is not None:
                    what = str(e) if isinstance(e, SeqrunError) else f"{type(e).__name__}: {e}"
                    where = f"fold {fold}" if len(folds) < k_folds else "summarising the folds"
                    parent.run.finish("failed", error=f"{where}: {what}")
                raise


def _mark_resumed(parent: Run) -> None:
    """A cross-validation continues: running again, one more entry in ``resumes``; a report
    of the unfinished cross-validation is deleted (it would outlive the folds it shows)."""
    (parent.path / "report.html").unlink(missing_ok=True)
    resumes = parent.meta().get("resumes", [])
    attempt = parent.attempt()
    parent.update_meta(
        **attempt,
        status="running",
        pid=os.getpid(),
        resumes=[*resumes, {"at": now_iso()}],
        ended_at=None,
        error=None,
    )


def _train_fold(
    cfg: Any,
    fold: int,
    parent: _Parent,
    resume: Run | None,
    runs_dir: Path,
    options: dict[str, Any],
    overrides: list[str] | None,
) -> _Fold:
    """Train fold ``fold`` (or continue it, or take it as it is when it was completed)."""
    from seqrun.core.registry import registry
    from seqrun.engine import leakage, trainer

    child_cfg = fold_config(cfg, fold)
    res = _resume_fold(child_cfg, fold, resume, runs_dir, options) if resume else None
    if res is None:
        res = trainer.train(
            child_cfg,
            runs_dir,
            **options,
            overrides=overrides,
            make_run=lambda: parent.fold_dir(fold),
        )
    child = Run(Path(res["run_dir"]))
    child.update_meta(cv_parent=str(parent.get().path), fold=fold)
    meta = child.meta()
    metric_set = registry.get("metrics", cfg.metrics)
    record = {
        "fold": fold,
        "run_dir": child.path.name,
        "status": "completed",
        "sizes": (meta.get("data") or {}).get("sizes"),
        "best_epoch": res.get("best_epoch"),
        "duration_s": 0.0,
        "metrics": _headline(res["metrics"], metric_set),
    }
    leak = meta.get("leakage") or leakage.empty_result(cfg.data.leakage)
    return _Fold(record, res, child, leak)


def _resume_fold(
    child_cfg: Any, fold: int, resume: Run, runs_dir: Path, options: dict[str, Any]
) -> dict[str, Any] | None:
    """Fold ``fold`` of a resumed cross-validation: its result when it was completed, the
    result of continuing it when it checkpointed an epoch, or None when it must start again
    (what it left is removed)."""
    from seqrun.engine import trainer

    path = resume.path / f"fold-{fold}"
    if not (path / "meta.json").is_file():
        if path.exists():
            shutil.rmtree(path)
        return None
    child = Run(path)
    status = child.status()
    if status == "completed" and child.metrics("dev"):
        meta = child.meta()
        say = options.get("log") or (lambda msg: None)
        say(f"fold {fold + 1}/{child_cfg.data.split.kfold}: already completed in {path}")
        return {
            "run_dir": str(path),
            "status": "completed",
            "metrics": child.metrics("dev"),
            "best_epoch": meta.get("best_epoch"),
            "epochs_completed": meta.get("epochs_completed"),
        }
    if child.checkpoint("last").is_file() and status != "running":
        return trainer.train(child_cfg, runs_dir, resume=child, **options)
    shutil.rmtree(path)  # stopped before its first epoch ended: nothing to continue from
    return None


def _finish_folds(run: Run, cfg: Any, folds: list[_Fold], how: str | None) -> dict[str, Any]:
    """The parent's summary of the dev folds (means, spread, out-of-fold predictions, plot);
    the parent is completed. What ``train_folds`` returns."""
    from seqrun.engine import leakage

    k_folds = len(folds)
    info = {"split": "dev", "folds": k_folds, "scheme": how, "held_out": "dev (the held-out fold)"}
    summary = _write_summary(run, "dev", "best", [f.result["metrics"] for f in folds], info)
    children = [f.run for f in folds]
    _concat_predictions(run, children, "dev")
    run.update_meta(
        leakage=leakage.merge([f.leak for f in folds], list(range(k_folds))),
        children=[c.path.name for c in children],
        data={"sizes": {f"fold-{f.record['fold']}": f.record["sizes"] for f in folds}},
    )
    plot_folds(run)
    run.finish("completed")
    stats = summary["cv"]
    return {
        "run_dir": str(run.path),
        "status": "completed",
        "folds": k_folds,
        "scheme": how,
        "metrics": summary["metrics"],
        "std": {k: v["std"] for k, v in stats.items()},
        "cv": stats,
        "fold_runs": [
            {"fold": f.record["fold"], "run_dir": str(f.run.path), **f.record["metrics"]}
            for f in folds
        ],
        "best_epoch": None,
        "epochs_completed": None,
        "stopped_early": False,
    }


def read_history(run: Run) -> list[dict[str, Any]]:
    """A run's history.csv as rows of numbers (empty when it has none)."""
    import csv

    path = run.path / "history.csv"
    if not path.is_file():
        return []
    rows = []
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out: dict[str, Any] = {}
            for k, v in row.items():
                try:
                    out[k] = int(v) if k == "epoch" else float(v)
                except (TypeError, ValueError):
                    out[k] = None
            rows.append(out)
    return rows


def fold_table(parent: Run) -> list[dict[str, Any]]:
    """Per fold: ``fold``, ``run_dir``, ``best_epoch``, dev ``metrics`` (headline) and
    ``history``, from folds.json and the fold runs."""
    state = read_json(parent.path / FOLDS_FILE) or {}
    out = []
    for f in state.get("runs", []):
        child = Run(parent.path / f["run_dir"])
        metrics = null_as_nan(f.get("metrics") or {})  # null: NaN, as older files wrote it
        out.append({**f, "metrics": metrics, "history": read_history(child)})
    return out


def plot_folds(parent: Run) -> Path | None:
    """``plots/cv.png`` of a cross-validation parent: every fold's learning curves and dev
    headline metric against the mean +- std (never fails the run: errors go to meta)."""
    folds = fold_table(parent)
    path = parent.plots / "cv.png"
    try:
        from seqrun.core.registry import registry
        from seqrun.data.plots import cv_summary
        from seqrun.engine.archive import load_run_config
        from seqrun.metrics import direction

        metric_set = registry.get("metrics", load_run_config(parent).metrics)
        metrics = [
            m
            for m in metric_set.headline
            if folds and all(m in f.get("metrics", {}) for f in folds)
        ]
        if not folds or not metrics:
            return None
        metric = metrics[0]
        better = "higher" if direction(metric_set, metric) == "max" else "lower"

        title = f"{parent.path.parent.name}: {len(folds)}-fold cross-validation"
        cv_summary(folds, path, metric, better, title)
    except Exception as e:  # a plot never fails a run
        parent.update_meta(plot_error=f"{type(e).__name__}: {e}")
        return None
    return path


def fold_runs(parent: Run) -> list[Run]:
    """The fold runs of a parent, in fold order."""
    state = read_json(parent.path / FOLDS_FILE) or {}
    runs = [parent.path / r["run_dir"] for r in state.get("runs", [])]
    if not runs or len(runs) != state.get("folds"):
        raise UserError(
            f"the cross-validation is incomplete ({len(runs)} of {state.get('folds', '?')} "
            f"folds); finish it with: seqrun train --resume {parent.path}",
            where=str(parent.path),
        )
    return [Run(p) for p in runs]


def evaluate_folds(parent: Run, split: str = "test", checkpoint: str = "best") -> dict[str, Any]:
    """Score every fold's checkpoint on ``split``; the parent gets the means and the spread."""
    from seqrun.engine import trainer
    from seqrun.engine.archive import load_run_config

    cfg = load_run_config(parent)
    if split == "test" and cfg.data.split.test == 0:
        raise UserError(
            "no test split: data.split.test is 0, so the folds cover the whole data set and "
            "each held-out fold (dev) is the evaluation set; see metrics/cv.json",
            where=str(parent.path),
        )
    children = fold_runs(parent)
    with _QuietRetracing():
        per_fold = [trainer.evaluate(child, split, checkpoint) for child in children]
    info = {"split": split, "checkpoint": checkpoint, "folds": len(children)}
    summary = _write_summary(parent, split, checkpoint, per_fold, info)
    if split == "dev":  # out-of-fold items; test items would repeat once per fold
        _concat_predictions(parent, children, metrics_name(split, checkpoint))
    stats = summary["cv"]
    return {
        **summary["metrics"],
        "folds": len(children),
        "std": {k: v["std"] for k, v in stats.items()},
    }


def evaluate(
    run: Run, split: str = "test", checkpoint: str = "best", overrides: list[str] | None = None
) -> dict[str, Any]:
    """Score a run's checkpoint on ``split`` rebuilt from its own config: every fold's of a
    cross-validation parent (:func:`evaluate_folds`), else the run's
    (:func:`seqrun.engine.trainer.evaluate`); with ``overrides``, on other labelled data,
    writing nothing (:func:`seqrun.engine.trainer.evaluate_on`)."""
    from seqrun.engine import trainer

    if overrides:
        if is_cv_run(run):
            raise UserError(
                "a cross-validation has one model per fold: score a fold's run on other data, "
                f"e.g. {run.path / 'fold-0'}",
                where=f"--set {' '.join(overrides)}",
            )
        return trainer.evaluate_on(run, overrides, split, checkpoint)
    if is_cv_run(run):
        return evaluate_folds(run, split, checkpoint)
    return trainer.evaluate(run, split, checkpoint)
