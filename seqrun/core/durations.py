"""Durations written as text (``"3h"``, ``"30min"``, ``"1d"``) and back."""

from __future__ import annotations

import re

_UNITS_S = {
    "s": 1,
    "sec": 1,
    "min": 60,
    "m": 60,
    "t": 60,
    "h": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
}
_DURATION = re.compile(r"^\s*(\d+)\s*([a-zA-Z]+)\s*$")


def duration_seconds(text: str) -> int:
    """Seconds in a duration such as ``"3h"``, ``"30min"``, ``"1d"``; ValueError otherwise."""
    m = _DURATION.match(str(text))
    unit = m.group(2).lower() if m else ""
    if not m or unit not in _UNITS_S or int(m.group(1)) <= 0:
        raise ValueError(f"expected a duration such as '1h', '3h', '30min' or '1d', got {text!r}")
    return int(m.group(1)) * _UNITS_S[unit]


def format_duration(seconds: int) -> str:
    """``10800`` -> ``"3h"`` (the largest whole unit)."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
