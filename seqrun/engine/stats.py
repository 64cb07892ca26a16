"""Significance tests for comparing runs honestly (numpy and scipy.stats, no TensorFlow).

- McNemar's test: two classifiers on the same test items (exact binomial for few discordant
  pairs, chi-square with continuity correction otherwise).
- Diebold-Mariano test: two forecasts of the same targets (squared or absolute loss, HAC
  variance with the Harvey-Leybourne-Newbold small-sample correction).
- Paired t-test: per-seed scores of two configurations.

The distributions (binomial, chi-square, Student's t) come from ``scipy.stats``, imported
inside the functions so that importing this module stays cheap.
"""

from __future__ import annotations

import json
import math
import zipfile
from typing import Any

import numpy as np


def t_two_sided(t: float, df: float) -> float:
    """Two-sided p-value P(|T| > |t|) of Student's t with ``df`` degrees of freedom."""
    from scipy.stats import t as student_t

    if not math.isfinite(t):
        return 0.0
    return float(2.0 * student_t.sf(abs(t), df))


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> dict[str, Any]:
    """McNemar's test on paired correctness of two classifiers on the same items."""
    a, b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    if a.shape != b.shape:
        raise ValueError(f"the runs scored different items ({a.shape} vs {b.shape})")
    n01 = int(np.sum(a & ~b))  # A right, B wrong
    n10 = int(np.sum(~a & b))
    n = n01 + n10
    if n == 0:
        p, method, stat = 1.0, "exact", 0.0
    elif n < 25:
        from scipy.stats import binomtest

        k = min(n01, n10)
        p = binomtest(k, n, 0.5).pvalue  # two-sided: min(1, 2 * P(X <= k)), X ~ Bin(n, 1/2)
        method, stat = "exact binomial", float(k)
    else:
        from scipy.stats import chi2

        stat = (abs(n01 - n10) - 1) ** 2 / n
        p, method = chi2.sf(stat, 1), "chi-square, continuity corrected"
    return {
        "test": "mcnemar",
        "method": method,
        "statistic": float(stat),
        "p_value": float(p),
        "a_only_correct": n01,
        "b_only_correct": n10,
        "n": int(a.size),
        "accuracy_a": float(a.mean()),
        "accuracy_b": float(b.mean()),
    }


def diebold_mariano(
    err_a: np.ndarray, err_b: np.ndarray, horizon: int = 1, loss: str = "squared"
) -> dict[str, Any]:
    """Diebold-Mariano test of equal accuracy of two forecasts of the same targets."""
    ea, eb = np.asarray(err_a, float).ravel(), np.asarray(err_b, float).ravel()
    if ea.shape != eb.shape:
        raise ValueError(f"the runs forecast different targets ({ea.shape} vs {eb.shape})")
    la, lb = (ea**2, eb**2) if loss == "squared" else (np.abs(ea), np.abs(eb))
    d = la - lb
    n = d.size
    mean = d.mean()
    h = max(1, int(horizon))
    # sample autocovariances with the divisor n (Diebold & Mariano 1995; Harvey, Leybourne &
    # Newbold 1997; R's forecast::dm.test), not n - k
    gamma = [np.sum((d[k:] - mean) * (d[: n - k] - mean)) / n for k in range(h)]
    var = (gamma[0] + 2 * sum(gamma[1:])) / n
    if var <= 0:
        return {
            "test": "diebold_mariano",
            "statistic": 0.0,
            "p_value": 1.0,
            "n": n,
            "mean_loss_a": float(la.mean()),
            "mean_loss_b": float(lb.mean()),
            "loss": loss,
        }
    dm = mean / math.sqrt(var)
    correction = math.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    stat = dm * correction
    return {
        "test": "diebold_mariano",
        "loss": loss,
        "horizon": h,
        "statistic": float(stat),
        "p_value": t_two_sided(stat, n - 1),
        "n": n,
        "mean_loss_a": float(la.mean()),
        "mean_loss_b": float(lb.mean()),
    }


def paired_t(a: list[float], b: list[float]) -> dict[str, Any]:
    """Paired t-test of per-seed scores of two configurations."""
    x, y = np.asarray(a, float), np.asarray(b, float)
    if x.shape != y.shape or x.size < 2:
        raise ValueError("a paired test needs the same seeds, at least two, on both sides")
    d = x - y
    sd = d.std(ddof=1)
    stat = (
        math.inf
        if sd == 0 and d.mean() != 0
        else (0.0 if sd == 0 else d.mean() / (sd / math.sqrt(d.size)))
    )
    return {
        "test": "paired_t",
        "statistic": float(stat),
        "p_value": t_two_sided(stat, d.size - 1),
        "n": int(d.size),
        "mean_a": float(x.mean()),
        "mean_b": float(y.mean()),
    }


def verdict(p_value: float, alpha: float = 0.05) -> str:
    """The result in words."""
    if p_value < alpha:
        return (
            f"p = {p_value:.3g} < {alpha}: the difference is unlikely to be noise "
            "(distinguishable at this level)"
        )
    return (
        f"p = {p_value:.3g} >= {alpha}: the difference is not distinguishable from noise "
        "on this data"
    )


def _load_predictions(run: Any, split: str) -> dict[str, np.ndarray]:
    from seqrun.core.errors import UserError

    path = run.path / "predictions" / f"{split}.npz"
    if not path.is_file() and split != "dev" and run.meta().get("kind") == "cv":
        raise UserError(
            f"a cross-validation has no per-item {split} predictions of its own (every fold's "
            f"model scored the same {split} items); compare a fold's run, e.g. "
            f"{run.path / 'fold-0'}, or use --split dev (the out-of-fold predictions)",
            where=str(run.path),
        )
    best = run.path / "checkpoints" / "best.keras"
    if not path.is_file() and not best.is_file() and run.meta().get("kind") != "cv":
        status = run.meta().get("status", "unfinished")  # a diverged run: evaluate fails too
        raise UserError(
            f"no per-item predictions for {split}, and no best checkpoint to score (status: "
            f"{status}); leave this run out of the comparison",
            where=str(run.path),
        )
    if not path.is_file():
        raise UserError(
            f"no per-item predictions for {split}; "
            f"run `seqrun evaluate {run.path} --split {split}`",
            where=str(run.path),
        )
    try:  # no pickles: a file seqrun wrote holds plain arrays
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise UserError(
            f"the {split} predictions are truncated or corrupt ({type(e).__name__}: "
            f"{str(e)[:80]}); write them again with `seqrun evaluate {run.path} --split {split}`",
            where=str(path),
        ) from None


def _horizon(run: Any) -> int:
    """Steps ahead of the forecasts in the run's predictions: ``data.horizon``, and with
    ``output_steps`` the headline lead's (``headline_step``, else the last)."""
    from seqrun.core.config import read_saved_config

    data = read_saved_config(run.config_path).get("data") or {}
    steps = int(data.get("output_steps") or 1)
    lead = int(data.get("headline_step") or steps) if steps > 1 else 1
    return int(data.get("horizon") or 1) + min(lead, steps) - 1


def compare_two(run_a: Any, run_b: Any, split: str = "test") -> dict[str, Any]:
    """McNemar (classifiers) or Diebold-Mariano (forecasts) on the same items of ``split``."""
    from seqrun.core.errors import UserError

    a, b = _load_predictions(run_a, split), _load_predictions(run_b, split)
    same = a["y_true"].shape == b["y_true"].shape and np.array_equal(
        a["y_true"], b["y_true"], equal_nan=a["y_true"].dtype.kind == "f"
    )
    if not same:
        raise UserError(
            f"the two runs were scored on different {split} items (other data, split or "
            "config); a paired test needs the same items",
            where=f"{run_a.path} vs {run_b.path}",
        )
    if "proba" in a and "proba" in b:
        from seqrun.metrics import predicted_labels

        result = mcnemar(
            predicted_labels(a["proba"])[0] == a["y_true"],
            predicted_labels(b["proba"])[0] == b["y_true"],
        )
    elif "y_pred" in a and "y_pred" in b:
        from seqrun.metrics.forecast import paired_errors

        # circular targets (wind direction) in circular degrees; items without a defined
        # truth (a calm wind's direction) count over the other targets only
        circ = [bool(v) for v in a.get("circular_targets", [])] or None
        err_a, err_b = paired_errors(a["y_true"], a["y_pred"], b["y_pred"], circ)
        err_a = err_a.reshape(len(err_a), -1)
        err_b = err_b.reshape(len(err_b), -1)
        keep = ~np.all(np.isnan(err_a), axis=1)
        # one loss per item: root mean squared error over the targets, in original units
        result = diebold_mariano(
            np.sqrt(np.nanmean(err_a[keep] ** 2, axis=1)),
            np.sqrt(np.nanmean(err_b[keep] ** 2, axis=1)),
            horizon=_horizon(run_a),
        )
    else:
        raise UserError("the runs' predictions are of different kinds; nothing to test")
    result.update(split=split, a=str(run_a.path), b=str(run_b.path))
    result["verdict"] = verdict(result["p_value"])
    return result


def compare_seed_groups(comparison: dict[str, Any], metric: str | None = None) -> dict[str, Any]:
    """Paired t-test between two configurations run with the same seeds.

    ``comparison`` is the output of ``seqrun.engine.listing.compare_runs``.
    """
    from seqrun.core.errors import UserError

    keys = [k for k in comparison["keys"] if k != "seed"]
    groups: dict[str, dict[Any, dict[str, float]]] = {}
    runs: dict[tuple[str, Any], str] = {}
    for row in comparison["rows"]:
        label = json.dumps({k: row["config"].get(k) for k in keys})
        seed = row["seed"]  # compare_runs gives every row its seed
        group = groups.setdefault(label, {})
        if group.get(seed) and row["metrics"] and runs[label, seed] != row["run"]:
            raise UserError(
                f"two runs of one configuration have seed {seed} ({runs[label, seed]}, "
                f"{row['run']}): give one run per seed to pair them"
            )
        if not group.get(seed):  # a run with metrics wins over one without (interrupted)
            group[seed], runs[label, seed] = row["metrics"], row["run"]
    if len(groups) != 2:
        raise UserError(
            f"a seed-group test needs exactly two configurations, found {len(groups)} "
            f"(differing keys besides seed: {', '.join(keys) or 'none'})"
        )
    (la, ga), (lb, gb) = groups.items()
    seeds = sorted(set(ga) & set(gb), key=str)
    if len(seeds) < 2:
        raise UserError("the two configurations share fewer than two seeds; nothing to pair")
    split = comparison.get("split", "dev")
    missing = [s for s in seeds if not ga[s] or not gb[s]]
    if missing:
        raise UserError(
            f"runs of seed(s) {', '.join(map(str, missing))} have no {split} metrics: score "
            f"them with seqrun evaluate RUN --split {split}, or compare another split"
        )
    if metric is None:
        metric = next((m for m in ("accuracy", "mae") if m in ga[seeds[0]]), None)
    if metric is None or any(metric not in ga[s] or metric not in gb[s] for s in seeds):
        raise UserError(
            f"no {metric or 'accuracy or mae'} in every run's {split} metrics to pair",
            where="runs compare",
        )
    bad = [s for s in seeds if not all(math.isfinite(float(g[s][metric])) for g in (ga, gb))]
    if bad:
        raise UserError(
            f"the {split} {metric} of seed(s) {', '.join(map(str, bad))} is not a number (a "
            "diverged run?): leave those runs out to pair the others",
            where="runs compare",
        )
    result = paired_t([ga[s][metric] for s in seeds], [gb[s][metric] for s in seeds])
    result.update(metric=metric, a=json.loads(la), b=json.loads(lb), seeds=seeds)
    result["verdict"] = verdict(result["p_value"])
    return result
