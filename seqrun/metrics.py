"""Metric sets: named groups of metrics and baselines computed from a split's predictions."""

from __future__ import annotations

from typing import Any

import numpy as np


def _mae(a: np.ndarray, b: np.ndarray, axis: Any = None) -> Any:
    return np.mean(np.abs(a - b), axis=axis)


def _rmse(a: np.ndarray, b: np.ndarray, axis: Any = None) -> Any:
    return np.sqrt(np.mean((a - b) ** 2, axis=axis))


def _summary(
    mae_t: np.ndarray, rmse_t: np.ndarray, pmae_t: np.ndarray, scale: np.ndarray
) -> dict[str, float]:
    """Averages over targets of per-target errors, in original and in training-std units."""
    return {
        "mae": float(np.mean(mae_t)),
        "rmse": float(np.sqrt(np.mean(rmse_t**2))),
        "mae_norm": float(np.mean(mae_t / scale)),
        "rmse_norm": float(np.sqrt(np.mean((rmse_t / scale) ** 2))),
        "persistence_mae": float(np.mean(pmae_t)),
        "persistence_mae_norm": float(np.mean(pmae_t / scale)),
    }


class RegressionMetrics:
    """MAE/RMSE (original and normalised units), persistence baseline, skill.

    Keys: ``mae``, ``rmse`` (original units, averaged over targets), ``mae_norm``,
    ``rmse_norm`` (in units of the training std), ``persistence_mae``,
    ``persistence_mae_norm``, ``skill = 1 - mae / persistence_mae``, ``per_target``, and,
    when the data supports it, ``recursive_mae_per_step`` (feeding predictions back).
    """

    headline = ("mae", "skill")

    def compute(self, p: dict[str, Any]) -> dict[str, Any]:
        """Score predictions returned by the data module's ``predictions``."""
        y, yhat, pers, scale = p["y_true"], p["y_pred"], p["persistence"], p["scale"]
        mae_t, rmse_t = _mae(y, yhat, 0), _rmse(y, yhat, 0)
        pmae_t = _mae(y, pers, 0)
        out: dict[str, Any] = {"n": int(len(y)), **_summary(mae_t, rmse_t, pmae_t, scale)}
        out["skill"] = 1.0 - out["mae"] / out["persistence_mae"] if out["persistence_mae"] else None
        out["per_target"] = {
            name: {
                "unit": unit,
                "mae": float(mae_t[i]),
                "rmse": float(rmse_t[i]),
                "persistence_mae": float(pmae_t[i]),
                "skill": float(1 - mae_t[i] / pmae_t[i]) if pmae_t[i] else None,
            }
            for i, (name, unit) in enumerate(zip(p["target_names"], p["units"], strict=True))
        }
        rec = p.get("recursive")
        if rec is not None:
            per_step = _mae(rec["y_true"], rec["y_pred"], (0, 2))
            out["recursive_mae_per_step"] = [float(v) for v in per_step]
            out["recursive_mae_norm_per_step"] = [
                float(v)
                for v in np.mean(np.abs(rec["y_true"] - rec["y_pred"]) / scale, axis=(0, 2))
            ]
        return out


# ----------------------------------------------------------------------------- classification


def predicted_labels(proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(predicted class, probability of that class) from sigmoid (N,) or softmax (N, K) outputs."""
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim == 1:
        pred = (proba >= 0.5).astype(np.int64)
        return pred, np.where(pred == 1, proba, 1.0 - proba)
    pred = proba.argmax(axis=1)
    return pred, proba[np.arange(len(pred)), pred]


def roc_auc(y: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties counted half); None with a single class."""
    y = np.asarray(y).astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if not n_pos or not n_neg:
        return None
    order = np.argsort(score, kind="mergesort")
    s = np.asarray(score)[order]
    ranks = np.empty(len(s), dtype=np.float64)
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[i : j + 1] = (i + j) / 2.0 + 1.0
        i = j + 1
    r = np.empty_like(ranks)
    r[order] = ranks
    return float((r[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


class ClassificationMetrics:
    """Accuracy, precision, recall, F1, ROC AUC, log loss, confusion matrix, majority baseline.

    Binary tasks score the second class (e.g. ``positive``) as the positive one; with more
    classes precision, recall, F1 and AUC (one-vs-rest) are macro averages. The majority-class
    baseline predicts the most frequent *training* class for every example of the split.
    Keys: ``accuracy``, ``precision``, ``recall``, ``f1``, ``auc``, ``log_loss``,
    ``majority_class``, ``majority_accuracy``, ``confusion_matrix`` (rows: true class,
    columns: predicted), ``class_names``, ``per_class``, ``n``.
    """

    headline = ("accuracy", "f1", "auc")

    def compute(self, p: dict[str, Any]) -> dict[str, Any]:
        """Score predictions returned by a text data module's ``predictions``."""
        y = np.asarray(p["y_true"], dtype=np.int64)
        proba = np.asarray(p["proba"], dtype=np.float64)
        names = list(p["class_names"])
        k = len(names)
        pred, _ = predicted_labels(proba)
        cm = np.zeros((k, k), dtype=np.int64)
        np.add.at(cm, (y, pred), 1)
        eps = 1e-7
        if proba.ndim == 1:
            q = np.clip(proba, eps, 1 - eps)
            log_loss = float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))
        else:
            q = np.clip(proba[np.arange(len(y)), y], eps, 1.0)
            log_loss = float(-np.mean(np.log(q)))
        per_class = {}
        for c, name in enumerate(names):
            tp = int(cm[c, c])
            fp = int(cm[:, c].sum() - tp)
            fn = int(cm[c, :].sum() - tp)
            prec = tp / (tp + fp) if tp + fp else 0.0
            rec = tp / (tp + fn) if tp + fn else 0.0
            f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
            score = proba if proba.ndim == 1 else proba[:, c]
            auc = roc_auc(y == c, score if proba.ndim > 1 or c == 1 else 1 - proba)
            per_class[name] = {
                "precision": prec,
                "recall": rec,
                "f1": f1,
                "auc": auc,
                "support": int(cm[c, :].sum()),
            }
        if k == 2:
            pos = per_class[names[1]]
            precision, recall, f1, auc = pos["precision"], pos["recall"], pos["f1"], pos["auc"]
        else:
            precision = float(np.mean([v["precision"] for v in per_class.values()]))
            recall = float(np.mean([v["recall"] for v in per_class.values()]))
            f1 = float(np.mean([v["f1"] for v in per_class.values()]))
            aucs = [v["auc"] for v in per_class.values() if v["auc"] is not None]
            auc = float(np.mean(aucs)) if aucs else None
        counts = np.asarray(p.get("train_class_counts") or [], dtype=np.int64)
        if len(counts) != k or not counts.sum():
            counts = np.bincount(y, minlength=k)  # no training counts: the split's own
        majority = int(np.argmax(counts))
        out: dict[str, Any] = {
            "n": int(len(y)),
            "accuracy": float(np.mean(pred == y)) if len(y) else 0.0,
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            "auc": auc,
            "log_loss": log_loss,
            "majority_class": names[majority],
            "majority_accuracy": float(np.mean(y == majority)) if len(y) else 0.0,
            "confusion_matrix": cm.tolist(),
            "class_names": names,
            "per_class": per_class,
        }
        if p.get("vocabulary"):
            out["vocabulary"] = p["vocabulary"]
        return out


def _abs_err(a: np.ndarray, b: np.ndarray, circular: list[bool] | None) -> np.ndarray:
    """|a - b| per element; in circular degrees (at most 180) on the flagged last-axis columns."""
    d = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))
    if circular and any(circular):
        flag = np.asarray(circular, dtype=bool)
        wrapped = np.minimum(np.mod(d, 360.0), 360.0 - np.mod(d, 360.0))
        d = np.where(flag, wrapped, d)
    return d


def rain_scores(y: np.ndarray, yhat: np.ndarray, threshold: float) -> dict[str, Any]:
    """Rain / no-rain verification at ``threshold``: hit rate, false alarms, frequency bias.

    ``hit_rate`` = hits / observed rain events (probability of detection), ``false_alarm_ratio``
    = false alarms / forecast rain events, ``false_alarm_rate`` = false alarms / observed dry
    cases; None where the denominator is zero.
    """
    obs, fc = np.asarray(y) > threshold, np.asarray(yhat) > threshold
    hits = int(np.sum(obs & fc))
    misses = int(np.sum(obs & ~fc))
    false = int(np.sum(~obs & fc))
    dry = int(np.sum(~obs))
    return {
        "threshold": float(threshold),
        "observed_events": int(obs.sum()),
        "forecast_events": int(fc.sum()),
        "hit_rate": hits / (hits + misses) if hits + misses else None,
        "false_alarm_ratio": false / (hits + false) if hits + false else None,
        "false_alarm_rate": false / dry if dry else None,
    }


def _skill(model_err: float, base_err: float) -> float | None:
    return float(1.0 - model_err / base_err) if base_err else None


class ForecastMetrics:
    """Forecast errors per target in original units, against persistence and daily persistence.

    Per target (``per_target[name]``): ``unit``, ``mae``, ``rmse``, ``persistence_mae`` and
    ``persistence_rmse`` (the last observed value), ``skill = 1 - mae / persistence_mae``, and
    where the grid has whole days, ``daily_persistence_mae`` (the value at the same hour the
    previous day), ``daily_skill`` and ``daily_n`` (windows where that value exists; the
    model's error in ``daily_skill`` is taken on the same windows). Top level: the same, averaged
    over targets (``mae``, ``rmse`` in original units; ``*_norm`` in training stds), with
    ``skill`` computed from the normalised errors (so that targets in different units weigh
    alike; for one target it equals ``1 - mae / persistence_mae``). With a recursive
    evaluation: ``recursive`` (per step and per target) and ``recursive_mae_norm_per_step``;
    with a direct multi-step model, ``direct`` (the same per lead). Circular targets (wind
    direction) are scored in circular degrees; precipitation targets add ``rain`` (hit rate,
    false alarms of rain above the threshold, model and persistence).
    """

    headline = ("mae", "skill")

    def compute(self, p: dict[str, Any]) -> dict[str, Any]:
        """Score predictions returned by the data module's ``predictions``."""
        y, yhat, pers = (
            np.asarray(p[k], dtype=np.float64) for k in ("y_true", "y_pred", "persistence")
        )
        scale = np.asarray(p["scale"], dtype=np.float64)
        names, units = p["target_names"], p["units"]
        circ = p.get("circular")
        err, perr = _abs_err(y, yhat, circ), _abs_err(y, pers, circ)
        mae_t, rmse_t = err.mean(0), np.sqrt((err**2).mean(0))
        pmae_t, prmse_t = perr.mean(0), np.sqrt((perr**2).mean(0))
        out: dict[str, Any] = {"n": int(len(y))}
        horizon = int(p.get("horizon", 1))
        out["horizon_steps"] = horizon
        lead = _lead(p.get("step", ""), horizon)
        if lead:
            out["horizon"] = lead
        out.update(_summary(mae_t, rmse_t, pmae_t, scale))
        out["skill"] = _skill(out["mae_norm"], out["persistence_mae_norm"])
        per: dict[str, dict[str, Any]] = {}
        for i, (name, unit) in enumerate(zip(names, units, strict=True)):
            per[name] = {
                "unit": unit,
                "mae": float(mae_t[i]),
                "rmse": float(rmse_t[i]),
                "persistence_mae": float(pmae_t[i]),
                "persistence_rmse": float(prmse_t[i]),
                "skill": _skill(mae_t[i], pmae_t[i]),
            }
            if circ and circ[i]:
                per[name]["circular"] = True
            if name in (p.get("precipitation") or {}):
                th = p["precipitation"][name]
                per[name]["rain"] = {
                    "model": rain_scores(y[:, i], yhat[:, i], th),
                    "persistence": rain_scores(y[:, i], pers[:, i], th),
                }
        daily = p.get("daily_persistence")
        if daily is not None:
            daily = np.asarray(daily, dtype=np.float64)
            model_n, daily_n = [], []
            for i, name in enumerate(names):
                ok = ~np.isnan(daily[:, i])
                if not ok.any():
                    continue
                c = [bool(circ and circ[i])]
                m = float(_abs_err(y[ok, i : i + 1], yhat[ok, i : i + 1], c).mean())
                de = _abs_err(y[ok, i : i + 1], daily[ok, i : i + 1], c)
                dm = float(de.mean())
                per[name].update(
                    daily_persistence_mae=dm,
                    daily_persistence_rmse=float(np.sqrt((de**2).mean())),
                    daily_skill=_skill(m, dm),
                    daily_n=int(ok.sum()),
                )
                model_n.append(m / scale[i])
                daily_n.append(dm / scale[i])
            if daily_n:
                out["daily_persistence_mae_norm"] = float(np.mean(daily_n))
                out["daily_skill"] = _skill(float(np.mean(model_n)), float(np.mean(daily_n)))
                if len(names) == 1 and "daily_persistence_mae" in per[names[0]]:
                    out["daily_persistence_mae"] = per[names[0]]["daily_persistence_mae"]
        out["per_target"] = per
        rec = p.get("recursive")
        if rec is not None:
            out.update(self._recursive(rec, names, scale, p.get("step", ""), circ))
        direct = p.get("direct")
        if direct is not None:
            d = self._recursive(
                direct, names, scale, p.get("step", ""), circ, p.get("direct_first_step", 1)
            )
            out["direct"] = d["recursive"]
        return out

    @staticmethod
    def _recursive(
        rec: dict[str, Any],
        names: list[str],
        scale: np.ndarray,
        step: str,
        circ: list[bool] | None = None,
        first: int = 1,
    ) -> dict:
        y, yhat = np.asarray(rec["y_true"]), np.asarray(rec["y_pred"])
        pers = np.asarray(rec["persistence"])[:, None, :]
        mae_ks = _abs_err(y, yhat, circ).mean(0)  # (steps, targets)
        pmae_ks = _abs_err(y, np.broadcast_to(pers, y.shape), circ).mean(0)
        steps = y.shape[1]
        norm = np.mean(mae_ks / scale, axis=1)
        pnorm = np.mean(pmae_ks / scale, axis=1)
        detail: dict[str, Any] = {
            "steps": steps,
            "n": int(len(y)),
            "lead": [_lead(step, k + first) for k in range(steps)],
            "mae_norm_per_step": [float(v) for v in norm],
            "persistence_mae_norm_per_step": [float(v) for v in pnorm],
            "skill_per_step": [_skill(a, b) for a, b in zip(norm, pnorm, strict=True)],
            "per_target": {
                name: {
                    "mae_per_step": [float(v) for v in mae_ks[:, i]],
                    "persistence_mae_per_step": [float(v) for v in pmae_ks[:, i]],
                    "skill_per_step": [
                        _skill(a, b) for a, b in zip(mae_ks[:, i], pmae_ks[:, i], strict=True)
                    ],
                }
                for i, name in enumerate(names)
            },
        }
        return {
            "recursive": detail,
            "recursive_mae_norm_per_step": detail["mae_norm_per_step"],
            "recursive_skill_per_step": detail["skill_per_step"],
        }


def _lead(step: str, k: int) -> str:
    """``("3h", 4)`` -> ``"12h"``; empty when the step is unknown."""
    if not step:
        return ""
    from seqrun.data.forecast import duration_seconds, format_duration

    return format_duration(duration_seconds(step) * k)
