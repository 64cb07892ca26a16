"""What every metric set shares: directions, error helpers, skill."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


_ERRORS_MIN = {k: "min" for k in ("loss", "mae", "mse", "rmse", "mae_norm", "rmse_norm")}


def direction(metric_set: Any, metric: str) -> str:
    """'max' or 'min': which way ``metric`` (a dev metric or Keras log name) improves, as the
    metric set declares it in ``directions``; a UserError when it is not declared."""
    from seqrun.core.errors import UserError
    from seqrun.core.runs import metric_name

    name = metric_name(metric)
    declared = getattr(metric_set, "directions", {}) or {}
    if name not in declared:
        known = ", ".join(sorted(declared)) or "none"
        raise UserError(
            f"the metric set does not declare whether '{name}' is maximised or minimised "
            f"(declared: {known})",
            where="train.monitor",
        )
    return declared[name]


def _mae(a: np.ndarray, b: np.ndarray, axis: Any = None) -> Any:
    import numpy as np

    return np.mean(np.abs(a - b), axis=axis)


def _rmse(a: np.ndarray, b: np.ndarray, axis: Any = None) -> Any:
    import numpy as np

    return np.sqrt(np.mean((a - b) ** 2, axis=axis))


def _skill(model_err: float, base_err: float) -> float | None:
    """``1 - model_err / base_err``; None when the baseline's error is 0 or undefined (NaN:
    nothing was scored)."""
    if not base_err or base_err != base_err or model_err != model_err:
        return None
    return float(1.0 - model_err / base_err)


def _abs_err(a: np.ndarray, b: np.ndarray, circular: list[bool] | None) -> np.ndarray:
    """|a - b| per element; in circular degrees (at most 180) on the flagged last-axis columns."""
    import numpy as np

    d = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))
    if circular and any(circular):
        flag = np.asarray(circular, dtype=bool)
        wrapped = np.minimum(np.mod(d, 360.0), 360.0 - np.mod(d, 360.0))
        d = np.where(flag, wrapped, d)
    return d


def paired_errors(
    y: np.ndarray, yhat: np.ndarray, pers: np.ndarray, circular: list[bool] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Absolute errors of the model and of persistence, NaN in both where either has no
    defined truth or forecast (a calm wind's direction), so that they score the same items."""
    import numpy as np

    err, perr = _abs_err(y, yhat, circular), _abs_err(y, pers, circular)
    undefined = np.isnan(err) | np.isnan(perr)
    if undefined.any():
        err, perr = np.where(undefined, np.nan, err), np.where(undefined, np.nan, perr)
    return err, perr


def _mean(a: np.ndarray, axis: int = 0) -> np.ndarray:
    """Mean over ``axis`` leaving out NaN (items with nothing to score); NaN if none is left."""
    import warnings

    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(a, axis=axis)
