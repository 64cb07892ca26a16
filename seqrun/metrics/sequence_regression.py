"""The regression metric set of whole sequences: RMSE, MAE, the train-mean baseline, skill."""

from __future__ import annotations

from typing import Any


class SequenceRegressionMetrics:
    """RMSE and MAE in the target's units; the baseline predicts the training mean for every
    series; ``skill = 1 - rmse / baseline_rmse`` (0: no better than the mean, 1: perfect)."""

    task_kind = "regression"
    data_kinds = ("sequences",)  # it needs the training mean of whole-sequence targets
    headline = ("rmse", "mae", "skill")
    baselines = {"rmse": "baseline_rmse", "mae": "baseline_mae"}
    directions = {
        "rmse": "min",
        "mae": "min",
        "baseline_rmse": "min",
        "baseline_mae": "min",
        "skill": "max",
        "mae_skill": "max",
        "loss": "min",
    }

    def compute(self, p: dict[str, Any]) -> dict[str, Any]:
        """Score the predictions of a sequence data module."""
        import numpy as np

        y = np.asarray(p["y_true"], dtype=np.float64)
        yhat = np.asarray(p["y_pred"], dtype=np.float64)
        base = np.full_like(y, float(p["train_mean"]))
        rmse = float(np.sqrt(np.mean((y - yhat) ** 2))) if len(y) else 0.0
        mae = float(np.mean(np.abs(y - yhat))) if len(y) else 0.0
        b_rmse = float(np.sqrt(np.mean((y - base) ** 2))) if len(y) else 0.0
        b_mae = float(np.mean(np.abs(y - base))) if len(y) else 0.0
        return {
            "n": int(len(y)),
            "target": p.get("target_name", "target"),
            "rmse": rmse,
            "mae": mae,
            "baseline_rmse": b_rmse,
            "baseline_mae": b_mae,
            "skill": 1.0 - rmse / b_rmse if b_rmse else None,
            "mae_skill": 1.0 - mae / b_mae if b_mae else None,
            "train_mean": float(p["train_mean"]),
        }
