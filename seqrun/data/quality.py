"""Sanity checks of numeric columns (no TensorFlow, no pandas): unit mixes, constant targets."""

from __future__ import annotations

import numpy as np


def mixed_units(values: np.ndarray) -> str | None:
    """Describe two separate regimes of values in one column (e.g. kelvin and °C), or None.

    The sorted values are cut at their widest gap; the column is flagged when both sides hold
    at least 5 distinct values and 1 % of the values, and the gap is more than 5 times the
    spread (interquartile range) of either side and the width of each side: a jump in level
    that no measurement of one quantity in one unit makes.
    """
    v = np.asarray(values, dtype=np.float64)
    order = np.flatnonzero(np.isfinite(v))
    v = v[order]
    n = len(v)
    if n < 40:
        return None
    s = np.sort(v)
    gaps = np.diff(s)
    k = int(np.argmax(gaps))
    gap = float(gaps[k])
    low, high = s[: k + 1], s[k + 1 :]
    least = max(5, int(0.01 * n))
    if min(len(low), len(high)) < least:
        return None
    if min(len(np.unique(low)), len(np.unique(high))) < 5:
        return None
    spread = max(
        float(np.subtract(*np.percentile(low, [75, 25]))),
        float(np.subtract(*np.percentile(high, [75, 25]))),
        1e-12,
    )
    width = max(float(low[-1] - low[0]), float(high[-1] - high[0]))
    if gap <= 5 * spread or gap <= width:
        return None
    cut = (low[-1] + high[0]) / 2
    side = v > cut
    switch = int(np.argmax(side != side[0])) if (side != side[0]).any() else 0
    return (
        f"{len(low):,} values around {float(np.median(low)):.4g} and {len(high):,} around "
        f"{float(np.median(high)):.4g}, with nothing in between (first switch at value "
        f"{switch + 1} in time order)"
    )
