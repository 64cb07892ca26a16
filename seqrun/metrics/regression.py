"""The regression metric set: MAE/RMSE, persistence baseline and skill."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


from seqrun.metrics.base import _ERRORS_MIN, _abs_err, _mean, paired_errors


def _summary(
    mae_t: np.ndarray, rmse_t: np.ndarray, pmae_t: np.ndarray, scale: np.ndarray
) -> dict[str, float]:
    """Averages over targets of per-target errors, in original and in training-std units."""
    import numpy as np

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

    Keys: ``mae``, ``rmse`` (original units, averaged over targets: ``rmse`` is the root of
    the mean of the targets' squared errors, not the mean of their RMSEs), ``mae_norm``,
    ``rmse_norm`` (in units of the training std), ``persistence_mae``,
    ``persistence_mae_norm``, ``skill = 1 - mae / persistence_mae``, ``per_target``, and,
    when the data supports it, ``recursive_mae_per_step`` (feeding predictions back).
    """

    headline = ("mae", "rmse", "skill")
    baselines = {"mae": "persistence_mae"}
    task_kind = "regression"
    data_kinds = ("series",)  # it needs the persistence forecast of a series
    directions = {**_ERRORS_MIN, "persistence_mae": "min", "skill": "max"}

    def compute(self, p: dict[str, Any]) -> dict[str, Any]:
        """Score predictions returned by the data module's ``predictions``."""
        import numpy as np

        y, yhat, pers = (
            np.asarray(p[k], dtype=np.float64) for k in ("y_true", "y_pred", "persistence")
        )
        scale = np.asarray(p["scale"], dtype=np.float64)
        # a circular target (wind direction) in circular degrees, without its calm items,
        # as the forecast metric set scores it
        circ = p.get("circular")
        err, perr = paired_errors(y, yhat, pers, circ)
        mae_t, rmse_t, pmae_t = _mean(err), np.sqrt(_mean(err**2)), _mean(perr)
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
            # per step: the mean over targets of each target's MAE, as ``mae``
            per = _mean(_abs_err(rec["y_true"], rec["y_pred"], circ))  # (steps, targets)
            out["recursive_mae_per_step"] = [float(v) for v in np.mean(per, axis=1)]
            out["recursive_mae_norm_per_step"] = [float(v) for v in np.mean(per / scale, axis=1)]
        return out


# ----------------------------------------------------------------------------- classification
