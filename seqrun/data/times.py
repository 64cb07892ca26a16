"""Reading timestamps: ISO 8601, a strptime layout or seconds since 1970, in UTC or in a local
time zone across daylight-saving changes; and what to set when a time column does not read.

Shared by the weather adapters (``data.time_format``, ``data.timezone``). Pandas is imported
inside functions only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

DIRECTIVES = set("aAwdbBmyYHIpMSfzZjUWcxXGuV%")  # what strptime reads
# a UTC offset after a time of day (not the '-29' that ends the date 2023-10-29)
OFFSET = re.compile(r"\d:?\d\d(?::?\d\d(?:\.\d+)?)?\s*(?:Z|UTC|[+-]\d\d(?::?\d\d)?)$", re.I)
_SCIENTIFIC = re.compile(r"[-+]?\d[.,]\d+[eE][-+]?\d+")  # 2,02301E+13: a spreadsheet's rounding
_UTC_WORD = re.compile(r"(?i)(?<=\d)\s*UTC$")  # a time's trailing ' UTC', an offset in words
# layouts tried when a time does not read, to suggest data.time_format
_COMMON_FORMATS = (
    "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S",
    "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S", "%Y%m%d%H%M%S", "%Y%m%d%H%M", "%d/%m/%y %H:%M", "%m/%d/%y %H:%M",
    "%d/%m/%Y", "%m/%d/%Y", "%Y%m%d",
)  # fmt: skip


def parse_times(column: Any, time_format: str | None, timezone: str | None) -> tuple[Any, Any]:
    """UTC timestamps of a time column, and a mask of the local times that ``timezone``
    skips or repeats ambiguously (NaT too, but not errors); unreadable values are NaT."""
    import numpy as np
    import pandas as pd

    n = len(column)
    dropped = np.zeros(n, dtype=bool)
    if time_format in ("unix", "unix_ms"):
        number = pd.to_numeric(column, errors="coerce")
        unit = "s" if time_format == "unix" else "ms"
        times = pd.to_datetime(number, unit=unit, utc=True, errors="coerce")
        return pd.Series(times, index=column.index), dropped
    text = column.astype(str).str.strip()
    if time_format is None:  # '2013-01-01 06:00:00 UTC' (BigQuery, many loggers): +00:00
        text = text.str.replace(_UTC_WORD, "+00:00", regex=True)
    fmt = time_format or "ISO8601"
    if timezone is None:
        return pd.to_datetime(text, utc=True, format=fmt, errors="coerce"), dropped
    has_offset = text.str.contains(OFFSET).to_numpy()
    times = pd.Series(pd.NaT, index=column.index, dtype="datetime64[ns, UTC]")
    if has_offset.any():
        times[has_offset] = pd.to_datetime(text[has_offset], utc=True, format=fmt, errors="coerce")
    naive = ~has_offset
    if naive.any():
        local = pd.to_datetime(text[naive], format=fmt, errors="coerce")
        # 'infer' needs time order; a repeated hour keeps the file's order, oldest first
        # (the file read backwards when it is newest first, as many exports are)
        stamps = local.to_numpy()
        step = np.diff(stamps[~np.isnat(stamps)]).astype(np.int64)
        if np.count_nonzero(step < 0) > np.count_nonzero(step > 0):
            order = len(stamps) - 1 - np.argsort(stamps[::-1], kind="stable")
        else:
            order = np.argsort(stamps, kind="stable")
        index = pd.DatetimeIndex(local.to_numpy()[order])
        try:
            zoned = index.tz_localize(timezone, ambiguous="infer", nonexistent="NaT")
        except (ValueError, TypeError):  # pytz/pandas AmbiguousTimeError is a ValueError
            zoned = index.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
        utc = np.empty(len(order), dtype="datetime64[ns]")
        utc[order] = zoned.tz_convert("UTC").tz_localize(None).to_numpy()
        values = pd.Series(utc, index=text[naive].index).dt.tz_localize("UTC")
        times[naive] = values
        lost = np.zeros(n, dtype=bool)
        lost[np.flatnonzero(naive)] = values.isna().to_numpy() & local.notna().to_numpy()
        dropped |= lost
    return times, dropped


# one zone per daylight-saving rule and local hour of change (the US zones all change at
# 02:00 local on the same days, so New York stands for Chicago or Denver too)
_DST_ZONES = (
    "America/New_York", "Europe/London", "Europe/Paris", "Europe/Helsinki",
    "Australia/Sydney", "Pacific/Auckland", "America/Santiago", "America/Sao_Paulo",
    "America/Mexico_City", "America/Havana", "Asia/Jerusalem", "Asia/Tehran",
)  # fmt: skip


def repeated_local_hour(times: Any) -> tuple[str, Any] | None:
    """For times written without an offset and read as UTC: a zone (of ``_DST_ZONES``) whose
    autumn daylight-saving change repeats a time the series holds twice, while the series
    holds no time its spring change skips, and that repeated time; None when there is none.
    Such times are local ones: read as UTC, they are hours off, and a step crosses two hours
    at each change."""
    import numpy as np
    import pandas as pd

    counts = times.dropna().value_counts()
    repeated = counts.index[counts > 1]
    if len(repeated) == 0 or len(repeated) > max(24, len(counts) // 100):
        return None  # none, or too many for a clock change (a file joined to itself)
    twice = pd.DatetimeIndex(repeated).tz_convert(None).sort_values()
    every = pd.DatetimeIndex(counts.index).tz_convert(None)
    for zone in _DST_ZONES:
        early = twice.tz_localize(zone, ambiguous=np.ones(len(twice), bool), nonexistent="NaT")
        late = twice.tz_localize(zone, ambiguous=np.zeros(len(twice), bool), nonexistent="NaT")
        ambiguous = ~early.isna() & (early.asi8 != late.asi8)
        if not ambiguous.any():
            continue
        flags = np.ones(len(every), bool)
        if every.tz_localize(zone, ambiguous=flags, nonexistent="NaT").isna().any():
            continue  # it holds a time this zone skips: not its local times
        return zone, pd.Timestamp(twice[ambiguous][0]).tz_localize("UTC")
    return None


def outside_years(times: Any) -> Any:
    """A boolean mask of the UTC ``times`` outside the years pandas' nanosecond times hold
    (1678-2261): year 1 or 9999 is a placeholder or a misread layout, not an observation."""
    import pandas as pd

    low, high = pd.Timestamp("1678-01-01", tz="UTC"), pd.Timestamp("2262-01-01", tz="UTC")
    return ((times < low) | (times >= high)).to_numpy()


def local_times_dropped(
    stamps: Any, dropped: Any, lines: Any, timezone: str | None, source: str
) -> str:
    """The warning that the local times ``timezone`` skips or repeats ambiguously
    (``dropped``, a mask over ``stamps``) are left out: rows a daylight-saving change costs,
    which would otherwise go only into meta.json. ``lines`` gives each row's line."""
    import numpy as np

    at = np.flatnonzero(np.asarray(dropped))
    i = int(at[0])
    return (
        f"{source}: {len(at)} row(s) left out, whose local time {timezone} skips or repeats "
        f"at a daylight-saving change (first {str(stamps.iloc[i]).strip()!r} on line "
        f"{np.asarray(lines)[i]}): that time is not one UTC time; write the times with their "
        "UTC offset (e.g. +01:00) to keep those rows"
    )


def time_format_hint(
    column: Any,
    time_format: str | None,
    expected: str = "ISO 8601, e.g. 2013-01-01T06:00:00Z",
    zone: str = "",
    set_key: Callable[[str, str], str] | None = None,
) -> str:
    """What to set when a time column does not read: a layout that reads every value.
    ``expected`` describes what is read without data.time_format; ``zone`` follows each
    strptime layout suggested (what else the times then need, e.g. data.timezone);
    ``set_key(key, yaml_value)`` says how to set a data key (the adapter's: ``--set`` for
    keys given on the command line), by default the config's ``set data.KEY: VALUE``."""
    import pandas as pd

    def set_format(value: str) -> str:
        return set_key("time_format", value) if set_key else f"set data.time_format: {value}"

    sample = column.dropna().astype(str).str.strip().head(500)
    if len(sample) and sample.str.fullmatch(_SCIENTIFIC).all():
        return (
            ": a number in scientific notation, as a spreadsheet shows a long number "
            "(20230101000000) and writes it back when it saves the file; the digits it "
            "rounded off (days, hours) are lost: use the file as downloaded, or format the "
            "column as text before saving"
        )
    if time_format:
        given = f" with data.time_format {time_format!r}"
        iso = pd.to_datetime(sample, format="ISO8601", utc=True, errors="coerce")
        if len(sample) and iso.notna().all():
            return f"{given}: the times are ISO 8601, which null reads: remove data.time_format"
        fits = [f for f in _COMMON_FORMATS if f != time_format and _reads(sample, f)]
        if fits:
            return f"{given}: they read as '{fits[0]}': {set_format(repr(fits[0]))}{zone}"
        return given
    number = pd.to_numeric(sample, errors="coerce")
    if len(sample) and number.notna().all():
        big = float(number.abs().median())
        for unit, lo, hi in (("unix", 1e8, 1e11), ("unix_ms", 1e11, 1e14)):
            if lo <= big < hi:
                what = "seconds" if unit == "unix" else "milliseconds"
                return (
                    f" (expected ISO 8601): the numbers look like {what} since 1970: "
                    f"{set_format(unit)}"
                )
    fits = [f for f in _COMMON_FORMATS if _reads(sample, f)]
    if len(fits) > 1 and fits[1] == _month_first(fits[0]):
        return (
            f" (expected ISO 8601): it reads as '{fits[0]}' (day first) or '{fits[1]}' "
            f"(month first): {set_format(repr(fits[0]))} or {set_format(repr(fits[1]))}, the "
            "one your file uses"
        )
    if fits:
        return f" (expected ISO 8601): it reads as '{fits[0]}': {set_format(repr(fits[0]))}{zone}"
    return f" (expected {expected}; another layout: e.g. {set_format(repr('%d/%m/%Y %H:%M'))})"


def _reads(sample: Any, fmt: str) -> bool:
    """Whether every time of ``sample`` reads with the strptime layout ``fmt``."""
    import pandas as pd

    try:
        times = pd.to_datetime(sample, format=fmt, errors="coerce")
    except ValueError:  # e.g. %z layouts over mixed offsets
        return False
    return bool(len(sample)) and bool(times.notna().all())


def _month_first(fmt: str) -> str:
    """A day-first strptime format with day and month swapped."""
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def check_time_format(v: str | None) -> str | None:
    """``data.time_format``: null, 'unix', 'unix_ms' or a strptime layout (ValueError)."""
    if v is None or v in ("unix", "unix_ms"):
        return v
    bad = [m for m in re.findall(r"%(:?.)", v) if m.lstrip(":") not in DIRECTIVES]
    if bad or "%" not in v:
        what = f"unknown directive %{bad[0]}" if bad else "no % directive"
        raise ValueError(
            f"time_format {v!r}: {what}; a strptime layout such as '%d/%m/%Y %H:%M' "
            "(%Y year, %m month, %d day, %H hour, %M minute, %S second, %z offset), or "
            "'unix' / 'unix_ms'"
        )
    return v


def check_timezone(v: str | None) -> str | None:
    """``data.timezone``: null or an IANA zone name (ValueError)."""
    if v is not None:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a long name
            raise ValueError(
                f"unknown time zone {v!r}: an IANA name such as 'Europe/Paris' or "
                "'America/New_York', or null for UTC"
            ) from None
    return v
