"""Metric sets: named groups of metrics and baselines computed from a split's predictions."""

from __future__ import annotations

from typing import Any

import numpy as np


def _mae(a: np.ndarray, b: np.ndarray, axis: Any = None) -> Any:
    return np.mean(np.abs(a - b), axis=axis)


def _rmse(a: np.ndarray, b: np.ndarray, axis: Any = None) -> Any:
    return np.sqrt(np.mean((a - b) ** 2, axis=axis))


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
        out: dict[str, Any] = {
            "n": int(len(y)),
            "mae": float(np.mean(mae_t)),
            "rmse": float(np.sqrt(np.mean(rmse_t**2))),
            "mae_norm": float(np.mean(mae_t / scale)),
            "rmse_norm": float(np.sqrt(np.mean((rmse_t / scale) ** 2))),
            "persistence_mae": float(np.mean(pmae_t)),
            "persistence_mae_norm": float(np.mean(pmae_t / scale)),
        }
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
