"""The forecast metric set: per-target errors vs persistence, circular and rain scores."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


from seqrun.metrics.base import _ERRORS_MIN, _abs_err, _mean, _skill, paired_errors
from seqrun.metrics.regression import _summary


def rain_scores(y: np.ndarray, yhat: np.ndarray, threshold: float) -> dict[str, Any]:
    """Rain / no-rain verification at ``threshold``: hit rate, false alarms, frequency bias.

    ``hit_rate`` = hits / observed rain events (probability of detection), ``false_alarm_ratio``
    = false alarms / forecast rain events, ``false_alarm_rate`` = false alarms / observed dry
    cases; None where the denominator is zero.
    """
    import numpy as np

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


class ForecastMetrics:
    """Forecast errors per target in original units, against persistence and daily persistence.

    Per target (``per_target[name]``): ``unit``, ``mae``, ``rmse``, ``persistence_mae`` and
    ``persistence_rmse`` (the last observed value), ``skill = 1 - mae / persistence_mae``, and
    where the grid has whole days, ``daily_persistence_mae`` (the value at the same hour the
    previous day), ``daily_skill`` and ``daily_n`` (windows where that value exists; the
    model's error in ``daily_skill`` is taken on the same windows). Top level: the same, averaged
    over targets (``mae``, ``rmse`` in original units; ``*_norm`` in training stds; the RMSEs
    as the root of the mean of the targets' squared errors), with
    ``skill`` computed from the normalised errors (so that targets in different units weigh
    alike; for one target it equals ``1 - mae / persistence_mae``). With a recursive
    evaluation: ``recursive`` (per step and per target) and ``recursive_mae_norm_per_step``;
    with a direct multi-step model, ``direct`` (the same per lead). Circular targets (wind
    direction) are scored in circular degrees; precipitation targets add ``rain`` (hit rate,
    false alarms of rain above the threshold, model and persistence).
    """

    headline = ("mae", "rmse", "skill")
    # in training stds, as ``skill``: the mean of MAEs in different units (hPa, degrees, mm)
    # can beat persistence's while the skill is negative
    baselines = {"mae_norm": "persistence_mae_norm"}
    task_kind = "regression"
    data_kinds = ("series",)  # it needs the persistence forecast of a series
    directions = {**_ERRORS_MIN, "skill": "max", "daily_skill": "max"}

    def compute(self, p: dict[str, Any]) -> dict[str, Any]:
        """Score predictions returned by the data module's ``predictions``."""
        import numpy as np

        y, yhat, pers = (
            np.asarray(p[k], dtype=np.float64) for k in ("y_true", "y_pred", "persistence")
        )
        scale = np.asarray(p["scale"], dtype=np.float64)
        names, units = p["target_names"], p["units"]
        circ = p.get("circular")
        err, perr = paired_errors(y, yhat, pers, circ)
        mae_t, rmse_t = _mean(err), np.sqrt(_mean(err**2))
        pmae_t, prmse_t = _mean(perr), np.sqrt(_mean(perr**2))
        scored_n = np.sum(~np.isnan(err), axis=0)
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
                # items whose truth or persistence is calm have no direction to score
                per[name]["n_scored"] = int(scored_n[i])
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
                ok = ~np.isnan(daily[:, i]) & ~np.isnan(y[:, i])
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
        import numpy as np

        y, yhat = np.asarray(rec["y_true"]), np.asarray(rec["y_pred"])
        pers = np.broadcast_to(np.asarray(rec["persistence"])[:, None, :], y.shape)
        err, perr = paired_errors(y, yhat, pers, circ)
        mae_ks, pmae_ks = _mean(err), _mean(perr)  # (steps, targets)
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
    from seqrun.core.durations import duration_seconds, format_duration

    return format_duration(duration_seconds(step) * k)
