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
from pathlib import Path
from typing import Any

import numpy as np

from seqrun.core.errors import SeqrunError, UserError
from seqrun.core.runs import Run, atomic_write_bytes, read_json, write_json

FOLDS_FILE = "folds.json"


def is_cv_run(run: Run) -> bool:
    """Whether a run directory is a cross-validation parent."""
    return run.meta().get("kind") == "cv"


def scheme(cfg: Any) -> str:
    """How the folds are cut: ``stratified`` (classification) or ``forward-chaining``."""
    from seqrun.core.registry import registry

    adapter = registry.get("adapter", cfg.data.adapter)
    return (
        "stratified"
        if getattr(adapter, "default_metrics", "") == "classification"
        else "forward-chaining"
    )


def fold_config(cfg: Any, fold: int) -> Any:
    """The experiment config of one fold (``data.split.fold`` set)."""
    from seqrun.core.config import config_from_dict

    raw = cfg.to_dict()
    raw["data"]["split"]["fold"] = fold
    return config_from_dict(raw, origin=f"fold {fold}")


def supports_kfold(adapter: str, where: str = "data.split.kfold") -> None:
    """A UserError unless the adapter's config has ``data.split.kfold``."""
    from seqrun.core.registry import registry

    field = registry.get("adapter", adapter).Config.model_fields.get("split")
    ann = getattr(field, "annotation", None)
    if not (isinstance(ann, type) and "kfold" in getattr(ann, "model_fields", {})):
        raise UserError(
            f"adapter '{adapter}' has no k-fold split (its train/test halves are fixed); "
            "cross-validation works with text_table, ladybug, synop and timeseries_csv",
            where=where,
        )


def check_kfold_config(cfg: Any, where: str = "data.split.kfold") -> int:
    """K of a k-fold config; a UserError when the adapter has no k-fold split."""
    supports_kfold(cfg.data.adapter, where)
    return cfg.data.split.kfold


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


def mean_metrics(per_fold: list[Any], key: str = "") -> Any:
    """One metrics dict for all folds: means of numbers (item counts ``n`` and integer matrices
    such as confusion matrices are summed: the pooled out-of-fold figures), recursively."""
    first = per_fold[0]
    if isinstance(first, dict):
        out = {}
        for k in first:
            if all(isinstance(m, dict) and k in m for m in per_fold):
                v = mean_metrics([m[k] for m in per_fold], k)
                if v is not None:
                    out[k] = v
        return out
    if isinstance(first, list):
        try:
            arr = np.asarray(per_fold)
        except ValueError:
            return None
        if arr.dtype.kind in "iu":
            return arr.sum(axis=0).tolist()
        if arr.dtype.kind == "f":
            return arr.mean(axis=0).tolist()
        return first if all(m == first for m in per_fold) else None
    if _numeric(first):
        if not all(_numeric(m) for m in per_fold):
            return None
        if key in ("n", "support"):  # item counts: the pooled figure
            return int(sum(per_fold))
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


def _headline(metrics: dict[str, Any]) -> dict[str, float]:
    from seqrun.engine.listing import _headline as headline

    return headline(metrics)


def _write_summary(parent: Run, name: str, per_fold: list[dict], info: dict) -> dict[str, Any]:
    """metrics/<name>.json (means) and metrics/cv[-<name>].json (mean +- std per metric)."""
    stats = aggregate(per_fold)
    means = mean_metrics(per_fold)
    means.update(
        split=per_fold[0].get("split", name),
        checkpoint=per_fold[0].get("checkpoint", "best"),
        aggregate=f"mean over {len(per_fold)} folds (std in metrics/{_cv_name(name)}.json)",
    )
    write_json(parent.metrics_path(name), means)
    write_json(parent.metrics_path(_cv_name(name)), {**info, "metrics": stats})
    return {"metrics": means, "cv": stats}


def _cv_name(name: str) -> str:
    return "cv" if name == "dev" else f"cv-{name}"


# ----------------------------------------------------------------------------- training


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
    ``training.Interrupted`` with the parent's path on Ctrl-C.
    """
    from seqrun.core.config import config_key
    from seqrun.core.runs import base_meta, create_run, lock_run, now_iso
    from seqrun.engine import leakage
    from seqrun.engine import trainer as training

    k_folds = check_kfold_config(cfg)
    say = log or (lambda msg: None)
    how = scheme(cfg)
    holder: dict[str, Run | None] = {"parent": resume}

    def parent() -> Run:
        if holder["parent"] is None:
            run = create_run(runs_dir, cfg.name)
            if locks is not None:  # the caller releases it once this returns
                locks.append(lock_run(run))
            meta = base_meta(cfg.seed, argv)
            meta.update(
                kind="cv",
                folds=k_folds,
                scheme=how,
                config_key=config_key(cfg),
                overrides=list(overrides or []),
                **training._versions(),
            )
            write_json(run.meta_path, meta)
            from seqrun.core.runs import atomic_write_text

            atomic_write_text(run.config_path, cfg.to_yaml())
            holder["parent"] = run
            say(f"cross-validation, {k_folds} {how} folds: {run.path}")
        return holder["parent"]

    if resume is not None:
        resumes = resume.meta().get("resumes", [])
        resume.update_meta(
            status="running",
            pid=os.getpid(),
            resumes=[*resumes, {"at": now_iso()}],
            ended_at=None,
            error=None,
        )
    folds: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    children: list[Run] = []
    leaks: list[dict[str, Any]] = []
    fold = 0
    quiet_tf = _QuietRetracing().__enter__()
    try:
        for fold in range(k_folds):
            child_cfg = fold_config(cfg, fold)
            t0 = time.time()
            res = None
            path = resume.path / f"fold-{fold}" if resume is not None else None
            if path is not None and (path / "meta.json").is_file():
                child = Run(path)
                status = child.status()
                if status == "completed" and child.metrics("dev"):
                    meta = child.meta()
                    res = {
                        "run_dir": str(path),
                        "status": "completed",
                        "metrics": child.metrics("dev"),
                        "best_epoch": meta.get("best_epoch"),
                        "epochs_completed": meta.get("epochs_completed"),
                    }
                    say(f"fold {fold + 1}/{k_folds}: already completed in {path}")
                elif child.checkpoint("last").is_file() and status != "running":
                    res = training.train(
                        child_cfg, runs_dir, quiet=quiet, argv=argv, resume=child, log=log
                    )
                else:  # stopped before its first epoch ended: nothing to continue from
                    shutil.rmtree(path)
            elif path is not None and path.exists():
                shutil.rmtree(path)
            if res is None:

                def make_child(k: int = fold) -> Run:
                    p = parent().path / f"fold-{k}"
                    p.mkdir()
                    return Run(p)

                res = training.train(
                    child_cfg,
                    runs_dir,
                    quiet=quiet,
                    argv=argv,
                    log=log,
                    overrides=overrides,
                    make_run=make_child,
                )
            child = Run(Path(res["run_dir"]))
            child.update_meta(cv_parent=str(parent().path), fold=fold)
            meta = child.meta()
            leaks.append(meta.get("leakage") or leakage.empty_result(cfg.data.leakage))
            children.append(child)
            results.append(res)
            folds.append(
                {
                    "fold": fold,
                    "run_dir": child.path.name,
                    "status": "completed",
                    "sizes": (meta.get("data") or {}).get("sizes"),
                    "best_epoch": res.get("best_epoch"),
                    "duration_s": round(time.time() - t0, 2),
                    "metrics": _headline(res["metrics"]),
                }
            )
            write_json(parent().path / FOLDS_FILE, {"folds": k_folds, "scheme": how, "runs": folds})
            shown = " ".join(f"{k}={v:.4g}" for k, v in _headline(res["metrics"]).items())
            say(f"fold {fold + 1}/{k_folds}: {shown} ({time.time() - t0:.0f} s) {child.path}")
    except training.Interrupted:
        run = holder["parent"]
        if run is None:
            raise
        training._finish(run, "interrupted", error=f"interrupted in fold {fold}")
        raise training.Interrupted(str(run.path)) from None
    except KeyboardInterrupt:
        run = holder["parent"]
        if run is None:
            raise
        training._finish(run, "interrupted", error=f"interrupted in fold {fold}")
        raise training.Interrupted(str(run.path)) from None
    except Exception as e:
        run = holder["parent"]
        if run is not None:
            what = str(e) if isinstance(e, SeqrunError) else f"{type(e).__name__}: {e}"
            training._finish(run, "failed", error=f"fold {fold}: {what}")
        raise
    finally:
        quiet_tf.__exit__()

    run = parent()
    info = {"split": "dev", "folds": k_folds, "scheme": how, "held_out": "dev (the held-out fold)"}
    summary = _write_summary(run, "dev", [r["metrics"] for r in results], info)
    _concat_predictions(run, children, "dev")
    run.update_meta(
        leakage=leakage.merge(leaks, list(range(k_folds))),
        children=[c.path.name for c in children],
        data={"sizes": {f"fold-{f['fold']}": f["sizes"] for f in folds}},
    )
    plot_folds(run)
    training._finish(run, "completed")
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
            {"fold": f["fold"], "run_dir": str(run.path / f["run_dir"]), **f["metrics"]}
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
        out.append({**f, "history": read_history(child)})
    return out


def plot_folds(parent: Run) -> Path | None:
    """``plots/cv.png`` of a cross-validation parent: every fold's learning curves and dev
    headline metric against the mean +- std (never fails the run: errors go to meta)."""
    from seqrun.engine.listing import headline_keys

    folds = fold_table(parent)
    keys = headline_keys()
    metrics = [m for m in keys if folds and all(m in f.get("metrics", {}) for f in folds)]
    if not folds or not metrics:
        return None
    metric = metrics[0]
    direction = "higher" if metric in ("accuracy", "f1", "auc", "skill") else "lower"
    path = parent.plots / "cv.png"
    try:
        from seqrun.data.plots import cv_summary

        title = f"{parent.path.parent.name}: {len(folds)}-fold cross-validation"
        cv_summary(folds, path, metric, direction, title)
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
    from seqrun.engine import trainer as training

    cfg = training.load_run_config(parent)
    if split == "test" and cfg.data.split.test == 0:
        raise UserError(
            "no test split: data.split.test is 0, so the folds cover the whole data set and "
            "each held-out fold (dev) is the evaluation set; see metrics/cv.json",
            where=str(parent.path),
        )
    children = fold_runs(parent)
    with _QuietRetracing():
        per_fold = [training.evaluate(child, split, checkpoint) for child in children]
    name = split if checkpoint == "best" else f"{split}-{checkpoint}"
    info = {"split": split, "checkpoint": checkpoint, "folds": len(children)}
    summary = _write_summary(parent, name, per_fold, info)
    if split == "dev":  # out-of-fold items; test items would repeat once per fold
        _concat_predictions(parent, children, name)
    stats = summary["cv"]
    return {
        **summary["metrics"],
        "folds": len(children),
        "std": {k: v["std"] for k, v in stats.items()},
    }
