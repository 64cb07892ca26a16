"""Numbers that describe data, and how they are written: what every data family's
``describe`` and its rendering share (``seqrun data describe``, the run report)."""

from __future__ import annotations

from typing import Any

import numpy as np

#: the percentiles of :func:`stats`
PERCENTILES = (50, 90, 95, 99)


def stats(values: Any) -> dict[str, float]:
    """Count, mean, std, min, percentiles and max of the finite values (``{"n": 0}`` if none)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if not len(v):
        return {"n": 0}
    out = {
        "n": int(len(v)),
        "mean": float(v.mean()),
        "std": float(v.std()),
        "min": float(v.min()),
    }
    for p, q in zip(PERCENTILES, np.percentile(v, PERCENTILES), strict=True):
        out[f"p{p}"] = float(q)
    out["max"] = float(v.max())
    return out


def num(v: Any, digits: int = 4) -> str:
    """A number as text: floats to ``digits`` significant digits, None as ''."""
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return str(v)


def pct(v: float | None) -> str:
    """A share (0..1) as a percentage with one decimal, None as ''."""
    return "" if v is None else f"{100 * v:.1f} %"


def mean_std(t: dict[str, Any]) -> str:
    """``mean +- std`` of a :func:`stats` result ('' when it counted nothing)."""
    return f"{num(t.get('mean'))} +- {num(t.get('std'), 3)}" if t.get("n") else ""


def min_mid_max(t: dict[str, Any]) -> str:
    """``min / p50 / max`` of a :func:`stats` result ('' when it counted nothing)."""
    return " / ".join(num(t.get(k)) for k in ("min", "p50", "max")) if t.get("n") else ""


def row_range(r: list[int] | None) -> str:
    """Rows ``[lo, hi)`` as ``lo..hi-1`` ('' when empty or absent)."""
    return f"{r[0]}..{r[1] - 1}" if r and r[1] > r[0] else ""
