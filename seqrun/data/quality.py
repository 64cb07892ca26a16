"""Sanity checks of numeric columns (no TensorFlow; pandas only through the columns given):
texts that mean "no value", missing-value codes, gross outliers, unit mixes."""

from __future__ import annotations

from typing import Any

import numpy as np

# texts that stand for "no value" in a numeric column: pandas' default NA strings (what R,
# pandas and databases write) and a spreadsheet's #N/A; both weather readers take them as
# missing and count them (meta.json's data.spreadsheet_na)
NA_TEXTS = frozenset(
    {"#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
     "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
)  # fmt: skip


def without_na_texts(column: Any) -> tuple[Any, int]:
    """``column`` (a pandas Series) with its :data:`NA_TEXTS` and its blank fields (spaces
    only) made missing, and how many NA texts there were (a reader counts them in its report's
    ``spreadsheet_na``; blank fields are plain empty fields)."""
    if column.dtype.kind in "biufcmM":
        return column, 0  # numbers only: pandas read every field
    text = column.astype(str).str.strip()
    present = column.notna()
    na = present & text.isin(NA_TEXTS)
    blank = present & text.eq("")
    if na.any() or blank.any():
        column = column.mask(na | blank)
    return column, int(na.sum())


# |value| of the codes that loggers and exports write for "missing" (-9999, 999.9, ...)
_CODES = (999.0, 9999.0, 99999.0, 999999.0, 99.99, 999.9, 9999.9, 99999.9)


def nines(values: np.ndarray) -> np.ndarray:
    """Where ``values`` are a run of nines (±999, ±9999, ±999.9, ...): the form of the
    missing-value codes that loggers and exports write."""
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.isin(np.round(np.abs(v), 6), _CODES)


def missing_code(values: np.ndarray) -> tuple[int, float, str] | None:
    """A missing-value code in a numeric column, or None; else the position of its first
    occurrence, the code and a description.

    A value is taken for a code when it is a run of nines (±999, ±9999, ±999.9, ...) and lies
    farther beyond the column's other values than twice their whole range: -9999 among wind
    speeds of 0 to 20, not 9999 m among visibilities of 100 to 9000 m.
    """
    all_values = np.asarray(values, dtype=np.float64)
    v = all_values[np.isfinite(all_values)]
    for code in np.unique(v[nines(v)]):
        others = v[v != code]
        if len(others) < 10:
            continue
        lo, hi = float(others.min()), float(others.max())
        span = max(hi - lo, 1e-9)
        if code > hi + 2 * span or code < lo - 2 * span:
            n = int((v == code).sum())
            rows = "row" if n == 1 else "rows"
            what = f"{code:g} in {n:,} {rows}, far outside its other values "
            what += f"({lo:.4g} to {hi:.4g})"
            return int(np.flatnonzero(all_values == code)[0]), float(code), what
    return None


def gross_outliers(values: np.ndarray) -> tuple[int, str, float, float] | None:
    """Values far beyond all the others of a column (a measurement or transcription error,
    such as a 1048 mph wind among winds of 0 to 40), or None; else the position of the first,
    a description, and the plausible range that excludes them.

    Far means more than 20 times the 1st-99th percentile width beyond those percentiles, so
    heavy-tailed variables (rain, gusts) are not flagged.
    """
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    if finite.sum() < 100:
        return None
    p1, p99 = (float(x) for x in np.percentile(v[finite], [1, 99]))
    width = p99 - p1
    if width <= 0:
        return None
    low, high = p1 - 20 * width, p99 + 20 * width
    out = finite & ((v < low) | (v > high))
    if not out.any():
        return None
    n = int(out.sum())
    worst = v[out][np.argmax(np.abs(v[out] - (p1 + p99) / 2))]
    rows = "value" if n == 1 else "values"
    what = f"{n:,} {rows} (e.g. {worst:.4g}) far beyond its others (1st-99th percentile "
    what += f"{p1:.4g} to {p99:.4g})"
    inner = v[finite & ~out]
    return int(np.flatnonzero(out)[0]), what, float(inner.min()), float(inner.max())


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
