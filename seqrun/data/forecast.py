"""The weather adapters' shared pipeline: config fields, cleaning onto a regular grid, splits.

Both front ends (``synop`` for Météo-France SYNOP exports, ``timeseries_csv`` for any CSV) read
their file into a table of numeric columns indexed by UTC time, then hand it to
:class:`ForecastAdapter`, which does the rest the same way for both:

1. sort by time, drop duplicate timestamps and rows off the regular grid;
2. put the rows on a regular grid (``freq``; inferred from the data when not given);
3. fill each column's gaps of at most ``interpolate.max_gap`` by interpolation
   (``interpolate.method``); longer gaps (and missing values at the ends) drop their rows and
   split the series into gap-free segments;
4. add optional hour-of-day / day-of-year sine and cosine features;
5. cut chronological train/dev/test splits of the kept rows and choose window starts so that
   no window crosses a segment or split boundary.

Every count (values filled per column, rows dropped and why) goes into the run's meta.json.
Pandas is imported inside functions only: validating a config never imports it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from seqrun.core.config import DataConfig, Section, set_option
from seqrun.core.contracts import InputSize, LoadOptions, MemoryItem
from seqrun.core.durations import duration_seconds, format_duration
from seqrun.core.errors import UserError, did_you_mean
from seqrun.core.splits import SplitFractions
from seqrun.data.series import SeriesData, iso_utc, series_name
from seqrun.data.times import check_time_format, check_timezone

TIME_FEATURES = {
    "hour": ("hour_sin", "hour_cos"),
    "day_of_year": ("doy_sin", "doy_cos"),
}


class Interpolation(Section):
    """How gaps in a column are filled before windowing."""

    method: Literal["linear", "time", "nearest", "ffill", "pchip", "akima"] = Field(
        "linear",
        description="pandas interpolation method for gaps of at most `max_gap` "
        "('nearest', 'pchip' and 'akima' go through scipy; 'ffill' repeats the last value).",
    )
    max_gap: int | str = Field(
        "6h",
        description="Longest gap filled, in grid steps (an integer) or as a duration ('6h'); "
        "0 fills nothing. Longer gaps drop their rows and split the series there, so that no "
        "window spans them.",
    )

    @field_validator("max_gap")
    @classmethod
    def _check_gap(cls, v: int | str) -> int | str:
        if isinstance(v, int):
            if v < 0:
                raise ValueError("max_gap must be >= 0 steps")
            return v
        duration_seconds(v)
        return v


class Neighbours(Section):
    """Columns of other series of the same source (nearby stations), as inputs."""

    series: list[str | int] = Field(
        ...,
        min_length=1,
        description="The other series (timeseries_csv: values of data.group's column; synop: "
        "station numbers or names).",
    )
    features: list[str] | None = Field(
        None,
        min_length=1,
        description="Their columns added as inputs at the main series' times (the latest "
        "observation at or up to half a step before each, never a later one), named "
        "COLUMN@SERIES (temp@JFK), gaps filled like the main columns'; null: the targets.",
    )

    @field_validator("series", "features")
    @classmethod
    def _each_once(cls, v: list[Any] | None, info: ValidationInfo) -> list[Any] | None:
        """Each series (7149 is 07149) and each column once: a repeat has nothing to add."""
        key = series_key if info.field_name == "series" else str
        keys = [key(x) for x in v or []]
        twice = sorted({str(x) for x, k in zip(v or [], keys, strict=True) if keys.count(k) > 1})
        if twice:
            raise ValueError(f"listed twice: {', '.join(twice)}; name each once")
        return v


def _default_split() -> SplitFractions:
    return SplitFractions(train=0.7, dev=0.15, test=0.15)


class ForecastConfig(DataConfig):
    """Options shared by the weather adapters (windows, targets, gaps, splits)."""

    features: list[str] | None = Field(
        None, description="Input columns; null takes the adapter's default list."
    )
    targets: str | list[str] = Field(
        "all",
        description="Predicted column(s): one name, a list, or 'all' (every feature; needed by "
        "`recursive_steps`). Targets missing from `features` are added to them.",
    )
    time_format: str | None = Field(
        None,
        description="How the times are written (timeseries_csv: time_column; synop: the "
        "date column): null = ISO 8601 ('2013-01-01 06:00', with or without 'T', seconds and "
        "an offset; synop also reads the monthly archives' YYYYMMDDHHMMSS, UTC); a strptime "
        "format such as '%d/%m/%Y %H:%M'; 'unix' or 'unix_ms' for seconds or milliseconds "
        "since 1970 (UTC).",
    )
    timezone: str | None = Field(
        None,
        description="IANA zone of the times written without an offset (e.g. "
        "'America/New_York', 'Europe/Paris', 'UTC'): read as that local time, across "
        "daylight-saving changes (the repeated autumn hour is told apart by its order in the "
        "file, oldest or newest first). Times with an offset keep theirs. null: timeseries_csv "
        "reads such times as UTC (unless they repeat the hour a daylight-saving zone's "
        "clocks go back: then an error naming this key); synop stops with an error, since a "
        "spreadsheet re-save drops the export's offset and leaves local times (the monthly "
        "archives' dates are UTC and need none).",
    )
    freq: str | None = Field(
        None,
        description="Grid step, e.g. '1h' or '3h'; null infers the most common spacing of "
        "the timestamps.",
    )
    interpolate: Interpolation = Field(
        default_factory=Interpolation, description="Gap filling before windowing."
    )
    sequence_len: int = Field(24, ge=1, description="Past grid steps in each input window.")
    horizon: int = Field(
        1, ge=1, description="The target lies this many steps after the window's last input."
    )
    stride: int = Field(1, ge=1, description="Steps between the starts of successive windows.")
    time_features: list[Literal["hour", "day_of_year"]] = Field(
        default_factory=list,
        description="Add sine/cosine of the hour of day (UTC) and/or the day of year as "
        "inputs (known in advance, never targets).",
    )
    target_mode: Literal["value", "change"] = Field(
        "value",
        description="'change': the model learns each target's change since the window's last "
        "input (added back before scoring: residual forecasting, robust when the test period's "
        "level lies outside the training range); 'value': the target itself.",
    )
    output_steps: int = Field(
        1,
        ge=1,
        description="Direct multi-step forecasting: predict the N steps horizon .. horizon+N-1 "
        "at once (an (N, targets) output; the encoder_decoder architecture, or a Dense head "
        "for the others). Every lead is scored; the headline metrics are the last one's "
        "unless `headline_step` says otherwise.",
    )
    headline_step: int | None = Field(
        None,
        ge=1,
        description="With output_steps: the lead (1 = the first, `horizon` steps ahead) whose "
        "scores are the run's headline metrics (per_target, skill, plots); null: the last. "
        "Every lead stays in the metrics' `direct` section.",
    )
    circular: list[str] | None = Field(
        None,
        description="Columns in degrees (wind direction) fed and predicted as their sine and "
        "cosine, and scored in circular degrees (359 and 1 are 2 apart); null takes the "
        "adapter's (synop: dd; the NYC sample: wind_dir), [] none.",
    )
    missing_features: Literal["error", "drop"] = Field(
        "error",
        description="A listed feature or target the file lacks, or holds in fewer than half "
        "of its rows (a station without that sensor): 'error' stops with exit 2; 'drop' leaves "
        "it out with a warning (meta.json: data.dropped_features), so that one recipe runs on "
        "every station. A target constant over the whole file (rain in a dry spell) is "
        "left out the same way. A target is dropped only while another one remains.",
    )
    calm: bool = Field(
        True,
        description="A circular column's 0 means calm, no direction (north is 360): the WMO "
        "convention of SYNOP and METAR/ASOS reports. Calm is fed as a zero sine and cosine, "
        "and a calm truth or persistence forecast has no direction to score, so those rows "
        "are left out of its circular error (for the model and persistence alike); false: 0 "
        "is north.",
    )
    nonnegative: list[str] | None = Field(
        None,
        description="Targets that cannot be negative (wind speed, gusts, precipitation, "
        "humidity): the model's output for them passes through a softplus bound at 0 in "
        "original units; null takes the adapter's, [] none.",
    )
    recursive_steps: int = Field(
        0,
        ge=0,
        description="Also score by chaining this many one-step predictions, each fed back as "
        "input (needs horizon 1 and targets 'all'); 0 disables it.",
    )
    split: SplitFractions = Field(
        default_factory=_default_split,
        description="Chronological split fractions of the cleaned rows.",
    )
    neighbours: Neighbours | None = Field(
        None,
        description="Other series' columns as inputs (e.g. {series: [JFK, LGA], features: "
        "[temp]} beside group {origin: EWR}): what the nearby stations observe at the same "
        "times. Never targets.",
    )
    valid_range: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description="Plausible [low, high] of a column (a range check, the first step of "
        "weather data quality control), e.g. {wind_speed: [0, 150]}: values outside it are "
        "missing (then filled like any gap) and counted in meta.json "
        "(data.out_of_range). Applies to the neighbours' and also_train_on series' columns "
        "of that name too. A column the file lacks is an error (skipped with "
        "missing_features: drop).",
    )
    also_train_on: list[str | int] = Field(
        default_factory=list,
        description="Other series of the same source (timeseries_csv: values of data.group's "
        "column; synop: station numbers or names) whose rows before the dev split's first time "
        "add training windows: one model learns from the neighbouring stations too. Dev and "
        "test (and every score) stay the main series'.",
    )

    @field_validator("time_format")
    @classmethod
    def _time_format(cls, v: str | None) -> str | None:
        return check_time_format(v)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str | None) -> str | None:
        return check_timezone(v)

    @field_validator("valid_range", mode="before")
    @classmethod
    def _two_bounds(cls, v: Any) -> Any:
        if isinstance(v, dict):
            for name, bounds in v.items():
                if not isinstance(bounds, list | tuple) or len(bounds) != 2:
                    raise ValueError(
                        f"valid_range of {name!r} takes [low, high], e.g. {{{name}: [0, 100]}}"
                    )
        return v

    @field_validator("valid_range")
    @classmethod
    def _check_ranges(cls, v: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for name, (low, high) in v.items():
            if not low < high:
                raise ValueError(f"valid_range of {name!r}: low {low:g} is not below high {high:g}")
        return v

    @field_validator("freq")
    @classmethod
    def _check_freq(cls, v: str | None) -> str | None:
        if v is not None:
            duration_seconds(v)
        return v

    @field_validator("targets")
    @classmethod
    def _check_targets(cls, v: str | list[str]) -> str | list[str]:
        if isinstance(v, list) and not v:
            raise ValueError("targets must name at least one column (or be 'all')")
        return v


# ----------------------------------------------------------------------------- cleaning


@dataclass
class Cleaned:
    """A series on a regular grid, gaps filled or dropped, as gap-free segments."""

    values: np.ndarray  # (R, F) float32, kept rows of every segment, one after another
    times: np.ndarray  # (R,) datetime64[ns], UTC
    segments: np.ndarray  # (K, 2) [lo, hi) row bounds
    step_s: int
    report: dict[str, Any] = field(default_factory=dict)


def nan_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends (exclusive) of the runs of True in a boolean vector."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def _infer_step_ns(ns: np.ndarray) -> int:
    diffs = np.diff(ns)
    diffs = diffs[diffs > 0]
    if len(diffs) == 0:
        raise UserError(
            f"the series has {len(np.unique(ns))} distinct time(s): too few to infer the time "
            "step (data.freq) or to cut a window; give a longer series",
            where="data.freq",
        )
    values, counts = np.unique(diffs, return_counts=True)
    return int(values[np.argmax(counts)])


def _fill_column(col: Any, method: str, max_gap: int) -> tuple[np.ndarray, int]:
    """Fill the interior NaN runs of at most ``max_gap`` rows; (values, number filled)."""
    raw = col.to_numpy(dtype=np.float64)
    miss = np.isnan(raw)
    if not miss.any() or max_gap <= 0:
        return raw, 0
    lo, hi = nan_runs(miss)
    fill = np.zeros(len(raw), dtype=bool)
    for a, b in zip(lo, hi, strict=True):
        if a > 0 and b < len(raw) and b - a <= max_gap:
            fill[a:b] = True
    if not fill.any():
        return raw, 0
    try:
        if method == "ffill":
            filled = col.ffill().to_numpy(dtype=np.float64)
        else:
            filled = col.interpolate(method=method, limit_area="inside").to_numpy(dtype=np.float64)
    except ImportError as e:
        raise UserError(
            f"interpolation method '{method}' needs scipy ({e}); pip install scipy, or use "
            "'linear' or 'time'",
            where="data.interpolate.method",
        ) from None
    except ValueError as e:
        raise UserError(
            f"interpolation method '{method}' failed on column '{col.name}': {e}",
            where="data.interpolate.method",
        ) from None
    out = raw.copy()
    out[fill] = filled[fill]
    return out, int(np.count_nonzero(fill & ~np.isnan(filled)))


def clean(
    times: Any,
    table: Any,
    freq: str | None,
    method: str,
    max_gap: int | str,
    split_starts: Callable[[int], list[int]] | None = None,
) -> Cleaned:
    """Regular grid, gap filling and segments for a table of numeric columns.

    Args:
        times: UTC timestamps (pandas datetime64[ns, UTC] Series), one per row of ``table``.
        table: pandas DataFrame of float columns (the features), rows in any order.
        freq: grid step ('3h'), or None to infer the most common spacing.
        method: pandas interpolation method.
        max_gap: longest gap filled, in steps (int) or as a duration (str).
        split_starts: given the number of kept rows, the kept-row index where each later
            split starts. A gap that straddles such a boundary is filled on its earlier side
            by repeating the last value before the gap (never from values after the
            boundary: no future information leaks into the earlier split); the other gaps
            of a split are interpolated from that split and the earlier ones only.
    """
    import pandas as pd

    report: dict[str, Any] = {"rows_read": len(table)}
    df = table.reset_index(drop=True)
    ns = times.reset_index(drop=True).astype("datetime64[ns, UTC]").array.asi8
    order = np.argsort(ns, kind="stable")
    ns, df = ns[order], df.iloc[order].reset_index(drop=True)
    dup = np.zeros(len(ns), dtype=bool)
    dup[1:] = ns[1:] == ns[:-1]
    if dup.any():  # the first row of a time is kept: do the others say something else?
        vals = df.to_numpy(dtype=np.float64)
        kept = np.maximum.accumulate(np.where(dup, 0, np.arange(len(ns))))
        a, b = vals[dup], vals[kept[dup]]
        differ = (~np.isnan(a) & ~np.isnan(b) & (a != b)).any(axis=1)
        if differ.any():
            report["duplicate_times_differing"] = int(differ.sum())
            first = ns[dup][differ][0]
            report["first_differing_duplicate"] = (
                f"{pd.Timestamp(first, tz='UTC'):%Y-%m-%dT%H:%M:%SZ}"
            )
    ns, df = ns[~dup], df.loc[~dup].reset_index(drop=True)
    step_ns = duration_seconds(freq) * 10**9 if freq else _infer_step_ns(ns)
    if step_ns % 10**9:
        raise UserError("the time step must be a whole number of seconds", where="data.freq")
    phases, counts = np.unique(ns % step_ns, return_counts=True)
    phase = phases[np.argmax(counts)]  # the grid passes through most timestamps
    on_grid = (ns % step_ns) == phase
    off_grid = int(np.count_nonzero(~on_grid))
    ns, df = ns[on_grid], df.loc[on_grid].reset_index(drop=True)
    if len(ns) == 0:
        raise UserError("no rows left to put on the time grid", where="data")
    slot = (ns - ns[0]) // step_ns
    n_grid = int(slot[-1]) + 1
    if n_grid > 20 * len(ns) + 1000:
        raise UserError(
            f"a grid step of {format_duration(step_ns // 10**9)} puts {len(ns)} observations "
            f"on {n_grid} grid rows (mostly empty); is data.freq right?",
            where="data.freq",
        )
    grid_ns = ns[0] + np.arange(n_grid, dtype=np.int64) * step_ns
    observed = np.zeros(n_grid, dtype=bool)
    observed[slot] = True
    index = pd.DatetimeIndex(grid_ns.astype("datetime64[ns]")).tz_localize("UTC")
    grid = pd.DataFrame(np.nan, index=index, columns=df.columns, dtype=np.float64)
    grid.iloc[slot] = df.to_numpy(dtype=np.float64)
    gap_steps = (
        max_gap if isinstance(max_gap, int) else duration_seconds(max_gap) * 10**9 // step_ns
    )
    filled: dict[str, int] = {}
    out = np.empty((n_grid, len(df.columns)), dtype=np.float64)
    for j, name in enumerate(df.columns):
        out[:, j], filled[name] = _fill_column(grid[name], method, int(gap_steps))
    keep = ~np.isnan(out).any(axis=1)
    at_boundary = 0
    if split_starts is not None:
        kept_rows = np.flatnonzero(keep)
        starts = split_starts(len(kept_rows))
        bounds = sorted(int(kept_rows[k]) for k in starts if 0 < k < len(kept_rows))
        for j, name in enumerate(df.columns):
            raw = grid[name].to_numpy(dtype=np.float64)
            # a split's values are filled from it and the earlier splits only: pchip, akima,
            # splines and the like look past a gap's two ends, up to the next split
            lo_row = 0
            for g in bounds:
                past, _ = _fill_column(grid[name].iloc[:g], method, int(gap_steps))
                done = ~np.isnan(past[lo_row:g])
                out[lo_row:g, j][done] = past[lo_row:g][done]
                lo_row = g
            for a, b in zip(*nan_runs(np.isnan(raw)), strict=True):
                for g in bounds:  # g: the grid row where a later split starts
                    if a < g <= b and a > 0 and not np.isnan(out[a, j]):
                        out[a:g, j] = raw[a - 1]  # forward fill up to the boundary
                        at_boundary += int(g - a)
    lo, hi = nan_runs(keep)
    seg_len = hi - lo
    new_lo = np.concatenate([[0], np.cumsum(seg_len)[:-1]]) if len(lo) else lo
    segments = np.stack([new_lo, new_lo + seg_len], axis=1).astype(np.int64)
    missing_per_column = {
        name: int(np.count_nonzero(np.isnan(out[:, j]))) for j, name in enumerate(df.columns)
    }
    report.update(
        {
            "freq": format_duration(step_ns // 10**9),
            "first_time": str(index[0]),
            "last_time": str(index[-1]),
            "grid_rows": n_grid,
            "missing_timestamps": int(n_grid - np.count_nonzero(observed)),
            "interpolation": {"method": method, "max_gap_steps": int(gap_steps)},
            "values_filled": filled,
            "values_forward_filled_at_split_boundaries": at_boundary,
            "values_still_missing": {k: v for k, v in missing_per_column.items() if v},
            "rows_dropped": {
                "duplicate_time": int(np.count_nonzero(dup)),
                "off_grid": off_grid,
                "unfilled_gap": int(np.count_nonzero(observed & ~keep)),
            },
            "grid_rows_dropped": int(np.count_nonzero(~keep)),
            "rows_kept": int(np.count_nonzero(keep)),
            "segments": len(segments),
            "longest_segment": int(seg_len.max()) if len(seg_len) else 0,
        }
    )
    report["rows_dropped_total"] = sum(report["rows_dropped"].values())
    return Cleaned(
        values=out[keep].astype(np.float32),
        times=grid_ns[keep].astype("datetime64[ns]"),
        segments=segments,
        step_s=int(step_ns // 10**9),
        report=report,
    )


def time_feature_columns(times: np.ndarray, kinds: list[str]) -> tuple[list[str], np.ndarray]:
    """Sine/cosine of the hour of day and/or day of year (UTC) for datetime64 ``times``."""
    secs = times.astype("datetime64[s]").astype(np.int64)
    names, cols = [], []
    for kind in kinds:
        if kind == "hour":
            angle = 2 * np.pi * (secs % 86400) / 86400
        else:
            year_start = times.astype("datetime64[Y]").astype("datetime64[s]").astype(np.int64)
            angle = 2 * np.pi * ((secs - year_start) / 86400) / 365.2425
        names.extend(TIME_FEATURES[kind])
        cols.extend([np.sin(angle), np.cos(angle)])
    if not cols:
        return [], np.zeros((len(times), 0), dtype=np.float32)
    return names, np.stack(cols, axis=1).astype(np.float32)


def check_columns(
    values: np.ndarray,
    features: list[str],
    targets: list[str],
    source: str,
    all_targets: bool = False,
) -> None:
    """A constant target is a UserError (``all_targets``: data.targets is 'all', the fix is
    in data.features); a column that mixes units (two separate levels of values, e.g. kelvin
    and °C) is a warning."""
    from seqrun.core.text import warn
    from seqrun.data.quality import mixed_units

    for j, name in enumerate(features):
        col = values[:, j]
        if name in targets and len(col) and float(np.nanmax(col)) == float(np.nanmin(col)):
            fix = (
                "leave it out of data.features (data.targets is all of them), or set "
                "data.missing_features: drop to leave such a column out"
                if all_targets
                else "choose other data.targets"
            )
            raise UserError(
                f"target column '{name}' of {source} is constant ({float(col[0]):g} in all "
                f"{len(col):,} rows): there is nothing to forecast; {fix}",
                where="data.features" if all_targets else "data.targets",
            )
        mix = mixed_units(col)
        if mix:
            warn(
                f"column '{name}' of {source} seems to mix units or scales: {mix}; convert it "
                "to one unit (e.g. kelvin and °C, Pa and hPa) or drop it from data.features"
            )


FEW_WINDOWS = 10
"""Fewer windows than this in a split: its scores (or its training) rest on almost nothing."""


def _warn_few_windows(split: str, n: int, d: Any) -> None:
    """Warn that a split holds only ``n`` windows, naming the keys that set how many."""
    from seqrun.core.text import warn

    stride = f"data.stride is {d.stride}: lower it, or " if d.stride > 1 else ""
    warn(
        f"the {split} split holds only {n} window(s) of {d.sequence_len} + {d.horizon} steps: "
        f"{'its training rests' if split == 'train' else 'its scores rest'} on almost nothing; "
        f"{stride}give the {split} split a larger share (data.split) or use a longer series"
    )


def _warn_constant_inputs(
    values: np.ndarray,
    columns: list[str],
    plain: list[str],
    targets: list[str],
    train: tuple[int, int],
    source: str,
) -> None:
    """Warn about an input column that holds one value in every row of the train split: the
    model learns nothing from it (its standard deviation is 0), and if it varies later, the
    dev and test windows feed values it never saw; and about a target that does (the model
    learns that value)."""
    from seqrun.core.text import warn

    lo, hi = train
    if hi <= lo:
        return
    for name in plain:
        col = values[lo:hi, columns.index(name)]
        if float(np.nanmax(col)) != float(np.nanmin(col)):
            continue
        if name in targets:  # (constant in the whole series: an error of check_columns)
            warn(
                f"target column '{name}' of {source} holds {float(col[0]):g} in all "
                f"{hi - lo:,} rows of the train split: the model learns that one value, and "
                "its errors in training stds (mae_norm, rmse_norm) divide by 1 for a std of 0; "
                "give the train split a period where it varies (data.split), or a longer series"
            )
        else:
            warn(
                f"input column '{name}' of {source} holds {float(col[0]):g} in all {hi - lo:,} "
                "rows of the train split: the model learns nothing from it; leave it out of "
                "data.features"
            )


# ----------------------------------------------------------------------------- adapter base


@dataclass
class RawSeries:
    """What a front end read: UTC times, candidate numeric columns, units, and notes."""

    times: Any  # pandas Series, datetime64[ns, UTC]
    columns: Any  # pandas DataFrame of float columns (every usable column of the file)
    units: dict[str, str]
    default_features: list[str]
    report: dict[str, Any] = field(default_factory=dict)
    all_columns: list[str] = field(default_factory=list)  # for "did you mean" in errors
    non_numeric: dict[str, str] = field(default_factory=dict)  # column -> an offending value
    circular: list[str] = field(default_factory=list)  # default circular columns (degrees)
    nonnegative: list[str] = field(default_factory=list)  # default non-negative columns
    precipitation: dict[str, float] = field(default_factory=dict)  # column -> rain threshold
    warnings: list[str] = field(default_factory=list)  # said once the columns are checked
    # column -> its values as the file writes them and how (e.g. "t, in K"), for columns the
    # reader converted (K to °C): a missing-value code such as 9999 is told as written
    source_values: dict[str, tuple[np.ndarray, str]] = field(default_factory=dict)


_DIRECTION_NAME = re.compile(
    r"(?i)(^|[_\s.])(wind_?dir(ection)?|wdir|dir|direction|dd|drct|wd)($|[_\s.(])"
)


def _hint_directions(raw: RawSeries, columns: list[str]) -> None:
    """Warn when a column named like a wind direction holds degrees (0 to 360) but is not in
    data.circular: as a number, 359 and 1 look far apart."""
    from seqrun.core.text import warn

    for name in columns:
        values = raw.columns[name].dropna() if name in raw.columns else None
        if values is None or not _DIRECTION_NAME.search(name) or values.empty:
            continue
        if values.min() >= 0 and 90 < values.max() <= 360:
            warn(
                f"column '{name}' looks like a direction in degrees (0 to {values.max():g}): "
                f"set data.circular: [{name}] to feed and score it as an angle (sine and "
                "cosine; 359 and 1 are 2 apart), or data.circular: [] to keep it a number"
            )


def _say(warnings: list[str]) -> None:
    """Print a front end's warnings (:attr:`RawSeries.warnings`)."""
    from seqrun.core.text import warn

    for text in warnings:
        warn(text)


def _check_degrees(raw: RawSeries, circular: list[str]) -> None:
    """Warn when a circular column does not hold degrees of a direction: values far beyond
    -180 to 360 (a pressure, a speed) or all within ±2π (radians). Its sine and cosine would
    then mean nothing, and its scores would be in circular degrees."""
    from seqrun.core.text import warn

    for name in circular:
        values = raw.columns[name].dropna() if name in raw.columns else None
        if values is None or values.empty:
            continue
        low, high = float(values.min()), float(values.max())
        if low < -180.5 or high > 360.5:
            why = "not degrees of a direction (0 to 360, or -180 to 180)"
        elif high - low > 0.5 and -2 * np.pi - 0.01 <= low and high <= 2 * np.pi + 0.01:
            why = "radians? data.circular reads degrees: multiply the column by 180/pi"
        else:
            continue
        warn(
            f"column '{name}' of data.circular holds values from {low:g} to {high:g}: {why}; "
            "read as an angle in degrees, its sine and cosine mean nothing: remove "
            f"'{name}' from data.circular unless it is a direction in degrees"
        )


def _warn_dropped_rows(report: dict[str, Any]) -> None:
    """Warn when rows off the time grid, or a column's unfilled gaps, drop more than a tenth
    of the rows, when rows repeat a time with other values, and when interpolation fills more
    than a quarter of a column's kept rows."""
    from seqrun.core.text import warn

    grid = report["grid_rows"]
    off, read = report["rows_dropped"]["off_grid"], report["rows_read"]
    if off > read / 10:
        warn(
            f"{off} of the {read} rows ({off / read:.0%}) lie off the {report['freq']} time grid "
            "and are left out: the file is observed more often than data.freq (or at other "
            "minutes); set data.freq to the file's own step to use every row"
        )
    heavy = {c: n for c, n in report["values_still_missing"].items() if n > grid / 10}
    if heavy:
        named = ", ".join(f"{c} in {n} ({n / grid:.0%})" for c, n in heavy.items())
        warn(
            f"values missing after gap filling drop rows of the {grid}-row time grid: {named}; "
            "those rows are left out and the series is split there; leave such a column out "
            "of data.features, or fill longer gaps (data.interpolate.max_gap)"
        )
    differing = report.get("duplicate_times_differing")
    if differing:  # which of two readings is right cannot be told: the file order decided
        warn(
            f"{differing} row(s) repeat the time of an earlier row with other values (first at "
            f"{report['first_differing_duplicate']}): the first row of each time is kept, the "
            "others left out; remove the wrong rows (or the file holding another version of "
            "those observations)"
        )
    kept = report["rows_kept"]
    made_up = {c: n for c, n in report["values_filled"].items() if kept and n > kept / 4}
    if made_up:  # e.g. rain reported every 6 h on a 3-hourly grid: every other value invented
        named = ", ".join(f"{c} in {n} ({n / kept:.0%})" for c, n in made_up.items())
        warn(
            f"values filled by interpolation, not observed, make up much of the {kept} rows "
            f"kept: {named}; such a column is fed and scored as if observed (reported less "
            "often than data.freq?); leave it out of data.features, lower "
            "data.interpolate.max_gap, or set data.freq to the step it is reported at"
        )


def _check_years(raw: RawSeries) -> None:
    """A UserError for a time outside the years pandas' nanosecond times hold (1678-2261):
    year 1 or 9999 is a placeholder or a misread layout, not an observation."""
    from seqrun.data.times import outside_years

    bad = outside_years(raw.times)
    if bad.any():
        i = int(bad.argmax())
        raise UserError(
            f"the time {raw.times.iloc[i].isoformat()[:16]} (data row {i + 1}, {int(bad.sum())} "
            "such rows) is outside the years seqrun reads, 1678 to 2261: a placeholder date or "
            "a misread layout; fix those rows, or set data.time_format to the file's layout",
            where=str(raw.report.get("source", "data.path")),
        )


class ForecastAdapter:
    """Base of the weather adapters: subclasses implement :meth:`read`."""

    Config = ForecastConfig
    default_encoder = {"type": "standardize", "mode": "per_column"}
    default_metrics = "forecast"
    data_module = SeriesData
    provides = "series"
    fold_scheme = "forward-chaining"
    sequence_outputs = True
    #: what ``seqrun predict --set`` may change: how a new file is written (each front end
    #: adds its own keys, e.g. the series to read)
    predict_keys: tuple[str, ...] = ("data.encoding", "data.time_format", "data.timezone")

    def __init__(self, section: Any, options: LoadOptions | None = None) -> None:
        self.data_cfg = section
        self.options = options or LoadOptions()
        self._files: Any = None
        self.input_paths: list[Path] | None = None  # seqrun predict: read these instead
        self.trained_offsets = False  # seqrun predict: the run's times had UTC offsets

    @property
    def keys_on_command_line(self) -> bool:
        """Whether the data keys come on the command line (predict's input, evaluate --set)
        rather than from the config file: a fix then says ``--set data.KEY=VALUE``."""
        return bool(self.input_paths) or self.options.command_line

    def set_key(self, key: str, value: str) -> str:
        """How an error tells to set ``data.<key>`` to ``value`` (YAML text, e.g. ``';'``):
        ``--set data.KEY=VALUE``, quoted for a shell where needed, when
        :attr:`keys_on_command_line` and --set takes the key (:attr:`predict_keys`), else the
        config's ``set data.KEY: VALUE``."""
        if self.keys_on_command_line and f"data.{key}" in self.predict_keys:
            return set_option(f"data.{key}", value)
        return f"set data.{key}: {value}"

    def _enough(self, share: float) -> bool:
        """Whether a column with values in ``share`` of the rows is kept under
        ``missing_features: drop``: half of them when training; any value for a forecast
        (``seqrun predict``: only its window must be filled)."""
        return share > 0 if self.input_paths else share >= 0.5

    def _read_once(self, parse: Callable[[], tuple[Any, dict]]) -> tuple[Any, dict]:
        """``parse()``'s table and report, parsed once per adapter: the main series, its
        neighbours and its also_train_on series come from the same file(s). The table is
        shared (not to be changed in place); the report is a fresh copy each time."""
        if self._files is None:
            self._files = parse()
        table, report = self._files
        return table, copy.deepcopy(report)

    def read_inputs(self, path: Any, column: str | None = None) -> tuple[list[dict], list[Any]]:
        """A UserError: a forecast is made from the end of a whole series (see
        :meth:`predict_file`), not from independent examples."""
        raise UserError(
            "a forecasting run forecasts from the end of a series, not from independent "
            "examples: seqrun predict RUN_DIR --input FILE (a file in the run's data format)",
            where="predict",
        )

    def predict_file(
        self, path: Path, model: Any, encoder: Any, meta: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """``seqrun predict --input FILE``: the forecast from the end of FILE (a file in the
        run's format, read and cleaned with the run's data section), one row per lead time:
        ``series``, ``issued`` (the last input's time), ``valid``, ``lead`` and ``prediction``
        (each target in its units; circular ones in degrees). ``meta`` is the run's meta.json
        (its grid step when ``data.freq`` was inferred). ``model`` may be a function that
        returns the model: it is called once the file is read and checked (a bad file fails
        before TensorFlow is imported)."""
        from seqrun.data.series import forecast_rows

        d = self.data_cfg
        trained = meta.get("data") if isinstance(meta.get("data"), dict) else {}  # hand edits
        update: dict[str, Any] = {"also_train_on": [], "freq": d.freq or trained.get("freq")}
        if getattr(d, "station", "") is None and trained.get("station"):
            update["station"] = str(trained["station"])  # the station the model learnt
        self.data_cfg = d.model_copy(update=update)
        self.input_paths = [Path(path)]
        self.trained_offsets = trained.get("time_offsets") is True
        try:
            data = self._build(("input",), whole=True)
        except UserError as e:  # the run's config is fixed: the file is what to change
            hint = _predict_hint(e.message, e.where, self.predict_keys)
            at = e.where if e.where and e.where.startswith(f"{path}:") else str(path)  # a line
            raise UserError(f"{e.message}{hint}", where=f"--input {at}") from None
        wanted = list(getattr(encoder, "columns", []) or [])
        if wanted and wanted != data.feature_names:
            missing = [c for c in wanted if c not in data.feature_names]
            extra = [c for c in data.feature_names if c not in wanted]
            shown = ", ".join(missing or extra)
            why = data.report().get("dropped_features") or {}
            said = "; ".join(f"{c}: {why[c]}" for c in missing if c in why and why[c] != "absent")
            shown += f" ({said})" if said else ""
            what = f"has no values of {shown}" if missing else f"adds {shown}"
            raise UserError(
                f"{path} {what}: the model reads {', '.join(wanted)}; give a file with the "
                "same columns (and neighbours) as the run's training data",
                where="--input",
            )
        self._check_grid(data, trained, path)
        _check_scale(data, encoder, path)
        data.set_encoder(encoder)
        if not hasattr(model, "predict"):  # its loader
            model = model()
        return forecast_rows(data, model, "input", self._known_at())

    def _check_grid(self, data: Any, trained: dict[str, Any], path: Path) -> None:
        """Warnings when the file's forecast times are off the run's grid (other hours than
        the model learnt from, e.g. 01, 04, ... UTC for a run on 00, 03, ...)."""
        import pandas as pd

        from seqrun.core.text import warn

        first = trained.get("first_time")
        if not first:
            return
        step = pd.Timedelta(data.step)
        s = data.splits["input"]
        issued = pd.Timestamp(s.times[int(s.starts[-1]) + data.sequence_len - 1], tz="UTC")
        if (issued - pd.Timestamp(first)) % step != pd.Timedelta(0):
            warn(
                f"{path}: the forecast is issued at {issued:%Y-%m-%dT%H:%M}Z, off the run's "
                f"{data.step} grid (its training times were {pd.Timestamp(first):%H:%M} UTC "
                f"+ k x {data.step}): the model learnt from other hours of the day"
            )

    def _known_at(self) -> Callable[[np.ndarray], np.ndarray]:
        """The clock's input columns (time features) at given times, for recursive forecasts."""
        kinds = list(self.data_cfg.time_features)
        return lambda times: time_feature_columns(times, kinds)[1]

    def _gap_before(self, c: Cleaned, lo: int, raw: RawSeries) -> str:
        """What ends the stretch that starts at cleaned row ``lo`` on its left: the listed
        columns missing at the grid time just before it, or no row there ("" at the start)."""
        import pandas as pd

        if lo == 0 and c.times[0] <= np.datetime64(raw.times.min().tz_convert(None), "ns"):
            return ""
        before = pd.Timestamp(c.times[lo] - np.timedelta64(c.step_s, "s"), tz="UTC")
        at = (raw.times == before).to_numpy()
        if not at.any():
            return f"; before it the file has no row at {before:%Y-%m-%dT%H:%M}Z"
        row = raw.columns.loc[at].iloc[-1]
        listed = self.data_cfg.features or raw.default_features
        missing = [n for n in listed if n in row.index and pd.isna(row[n])]
        if not missing:
            return ""
        return f"; before it {', '.join(missing)} is missing at {before:%Y-%m-%dT%H:%M}Z"

    def _last_window(self, segments: np.ndarray, c: Cleaned, raw: RawSeries) -> np.ndarray:
        """The start of the window made of the last ``sequence_len`` rows of the last gap-free
        stretch (a UserError when it is shorter); a warning when the file's last rows could
        not be used (missing values at its end)."""
        from seqrun.core.text import warn

        d = self.data_cfg
        source = raw.report.get("source", "the file")
        lo, hi = (int(v) for v in segments[-1]) if len(segments) else (0, 0)
        if hi - lo < d.sequence_len:
            span = f" ({iso_utc(c.times[lo])} to {iso_utc(c.times[hi - 1])})" if hi > lo else ""
            raise UserError(
                f"the last gap-free stretch of {source} holds {hi - lo} row(s) on the "
                f"{c.report.get('freq', '')} grid{span}; the model reads data.sequence_len = "
                f"{d.sequence_len} steps: give at least {d.sequence_len} consecutive rows "
                f"(gaps up to data.interpolate.max_gap = {d.interpolate.max_gap} are filled)"
                f"{self._gap_before(c, lo, raw) if hi > lo else ''}",
                where="--input",
            )
        last_read = np.datetime64(raw.times.max().tz_convert(None), "ns")
        if c.times[hi - 1] < last_read:
            step = np.timedelta64(c.step_s, "s")
            why = (
                f"lie off the {c.report.get('freq', '')} grid"
                if (last_read - c.times[hi - 1]) % step
                else "lack values"
            )
            warn(
                f"{source}: the forecast starts from {iso_utc(c.times[hi - 1])}, the last time "
                f"with every input on the grid; later rows (up to {iso_utc(last_read)}) {why}"
            )
        return np.array([hi - d.sequence_len], dtype=np.int64)

    def _check_window(self, c: Cleaned, raw: RawSeries, table: Any, near: dict) -> None:
        """Warnings about the window a forecast reads (``seqrun predict``), each a way the
        forecast differs from one made on a complete file: values filled by interpolation,
        times given twice with different values (the first row kept), neighbours that report
        later than the main series (the forecast is issued from the main series' last row)."""
        import pandas as pd

        from seqrun.core.text import warn

        source = raw.report.get("source", "the file")
        window = c.times[-self.data_cfg.sequence_len :]
        frame = table.set_axis(pd.DatetimeIndex(raw.times).tz_convert(None).as_unit("ns"))
        names = list(frame.columns)
        pairs = {
            n: n[: -len("_sin")] for n in names if n.endswith("_sin") and f"{n[:-4]}_cos" in names
        }
        frame = frame.drop(columns=[f"{b}_cos" for b in pairs.values()]).rename(columns=pairs)
        shown = f"the {len(window)} steps up to {iso_utc(window[-1])} the model reads"
        repeated = frame[frame.index.duplicated(keep=False) & frame.index.isin(window)]
        differ = [t for t, rows in repeated.groupby(level=0) if (rows.nunique() > 1).any()]
        if differ:
            warn(
                f"{source}: {len(differ)} time(s) of {shown} are on several rows with different "
                f"values (first {iso_utc(np.datetime64(differ[0], 'ns'))}); the first row of "
                "each is used: keep one row per time"
            )
        at = frame[~frame.index.duplicated()].reindex(window)
        gaps = {n: int(k) for n, k in at.isna().sum().items() if k}
        if gaps:
            counts = ", ".join(f"{n} {k}" for n, k in gaps.items())
            warn(
                f"{source}: {sum(gaps.values())} value(s) of {shown} are missing from the file "
                f"and filled by interpolation ({counts}; data.interpolate)"
            )
        later = [
            (v["last_time"], k) for k, v in near.items() if isinstance(v, dict) and "last_time" in v
        ]
        if later and max(later)[0] > iso_utc(window[-1]):
            when, key = max(later)
            warn(
                f"{source}: the forecast is issued from {iso_utc(window[-1])}, the main series' "
                f"last time with every input; series {key} goes on to {when}"
            )

    @classmethod
    def check_config(cls, cfg: Any) -> tuple[str, str] | None:
        """Cross-field checks done by `seqrun config validate` (no file is read)."""
        d = cfg.data
        if d.headline_step is not None and d.headline_step > d.output_steps:
            return (
                "data.headline_step",
                f"headline_step {d.headline_step} is beyond the {d.output_steps} step(s) the "
                "model predicts (data.output_steps): use 1 to output_steps, or null for the last",
            )
        if d.neighbours is not None and d.recursive_steps:
            return (
                "data.neighbours",
                "recursive_steps feeds the model's forecasts back as inputs, and the "
                "neighbours' columns are not forecast: use data.horizon or data.output_steps",
            )
        if d.neighbours is not None and d.also_train_on:
            return (
                "data.also_train_on",
                "also_train_on and neighbours do not combine (the other series have no "
                "neighbours of their own): keep one of them",
            )
        if d.output_steps > 1 and getattr(cfg.model, "return_sequences", False):
            return (
                "model.return_sequences",
                "a model with data.output_steps > 1 emits its steps from one output; "
                "return_sequences (one output per input step) does not combine with it: set "
                "model.return_sequences to false",
            )
        if d.recursive_steps and d.output_steps > 1:
            return (
                "data.recursive_steps",
                "recursive_steps chains one-step predictions; a model with data.output_steps "
                f"{d.output_steps} already predicts several steps: set one of them",
            )
        if d.recursive_steps:
            if d.horizon != 1:
                return (
                    "data.recursive_steps",
                    f"recursive_steps chains one-step predictions: it needs data.horizon 1, "
                    f"not {d.horizon} (or set recursive_steps: 0 for a direct model)",
                )
            if d.targets != "all":
                return (
                    "data.recursive_steps",
                    "recursive_steps feeds predictions back as inputs: it needs "
                    "data.targets 'all' (every input column predicted)",
                )
        return None

    def read(self, series: str | int | None = None) -> RawSeries:  # pragma: no cover
        """The main series, or the one named ``series`` (an entry of data.also_train_on)."""
        raise NotImplementedError

    def _features_and_targets(self, raw: RawSeries) -> tuple[list[str], list[str]]:
        d = self.data_cfg
        available = list(raw.columns.columns)
        names = raw.all_columns or available
        features = list(d.features) if d.features is not None else list(raw.default_features)
        targets = list(features) if d.targets == "all" else _as_list(d.targets)
        if d.missing_features == "drop":
            features, targets = self._drop_missing(raw, features, targets)
        checks = [("data.targets", targets), ("data.features", features)]
        if d.targets == "all":  # the targets are the features: name the key that lists them
            checks.reverse()
        for key, wanted in checks:
            for name in wanted:
                if name in available:
                    continue
                kind = "target" if key == "data.targets" else "feature"
                if name in raw.non_numeric:
                    why = f"is not numeric (e.g. {raw.non_numeric[name]})"
                else:
                    why = "is not numeric" if name in names else "is absent"
                hint = "" if name in names else did_you_mean(name, names)
                if name not in names and d.missing_features == "error" and not self.input_paths:
                    hint += (  # a station without that sensor (predict: the model reads it)
                        f": train without it (leave it out of {key}), or with "
                        "data.missing_features: drop, which leaves out the columns a file lacks"
                    )
                elif name not in names and kind == "target":
                    hint += " (data.missing_features: drop leaves a target out only while "
                    hint += "another one remains)"
                shown = ", ".join(available[:40]) + (" ..." if len(available) > 40 else "")
                shown = shown or "none"
                raise UserError(
                    f"{kind} column '{name}' {why}{hint}; numeric columns of "
                    f"{raw.report.get('source', 'the file')}: {shown}",
                    where=key,
                )
        if len(set(targets)) != len(targets):
            dup = sorted({t for t in targets if targets.count(t) > 1})
            raise UserError(f"targets listed twice: {', '.join(dup)}", where="data.targets")
        features += [t for t in targets if t not in features]
        if len(set(features)) != len(features):
            dup = sorted({f for f in features if features.count(f) > 1})
            raise UserError(f"features listed twice: {', '.join(dup)}", where="data.features")
        return features, targets

    def _read_series(self, series: str | int | None = None) -> RawSeries:
        """:meth:`read`, then ``data.valid_range``: values outside a column's range made
        missing and counted (``out_of_range`` in the report)."""
        raw = self.read(series)
        _check_years(raw)
        counts: dict[str, int] = {}
        d = self.data_cfg
        listed = {*(d.features or ()), *([] if d.targets == "all" else _as_list(d.targets))}
        for name, (low, high) in d.valid_range.items():
            if name in raw.non_numeric and (name in listed or d.features is None):
                continue  # the feature and target checks say how to read it, under their key
            if name in raw.non_numeric:  # (its example says how to read it)
                raise UserError(
                    f"column '{name}' of {raw.report.get('source', 'the file')} is not numeric "
                    f"(e.g. {raw.non_numeric[name]})",
                    where=f"data.valid_range.{name}",
                )
            if name not in raw.columns:
                if series is not None or self.data_cfg.missing_features == "drop":
                    continue  # a station without that column: the feature checks report it
                known = list(raw.columns.columns)
                raise UserError(
                    f"'{name}' is not a numeric column of {raw.report.get('source', 'the file')}"
                    f"{did_you_mean(name, known)}; numeric columns: {', '.join(known[:40])}",
                    where=f"data.valid_range.{name}",
                )
            col = raw.columns[name]
            out = (col < low) | (col > high)
            if out.any():
                counts[name] = int(out.sum())
                raw.columns[name] = col.mask(out)
        if counts:
            raw.report["out_of_range"] = counts
        return raw

    def _check_values(
        self, raw: RawSeries, name: str, source: str = "", where: str = "data.features"
    ) -> None:
        """A missing-value code such as -9999 read as a measurement is a UserError naming the
        code, where it first occurs and the fix; a value far beyond all others (a 1048 mph
        wind) is a warning naming data.valid_range. ``source`` names the series in messages
        (default: the file), ``where`` the key of the error."""
        from seqrun.core.text import warn
        from seqrun.data.quality import gross_outliers, missing_code

        values = raw.columns[name].to_numpy(dtype="float64")
        source = source or raw.report.get("source", "the file")
        with np.errstate(invalid="ignore"):  # NaN is a missing value
            infinite = np.abs(values) > np.finfo(np.float32).max  # the model's floats
        if infinite.any():
            at = int(infinite.argmax())
            what = (
                "not a finite measurement"
                if np.isinf(values[at])
                else "a number beyond the range of the model's 32-bit floats (3.4e38)"
            )
            raise UserError(
                f"column '{name}' of {source} holds {values[at]:g} in {int(infinite.sum())} "
                f"row(s) (first at {raw.times.iloc[at]:%Y-%m-%dT%H:%M}Z): {what}; "
                f"{self._missing_code_fix(name, values[at])}",
                where=where,
            )
        read = values  # in the units data.valid_range takes (hPa, °C)
        written = raw.source_values.get(name)
        if written is not None:  # as written in the file (9999 K is 9725.85 °C: no code)
            values = np.where(np.isnan(values), np.nan, written[0])  # after valid_range
        found = missing_code(values)
        if found is None:
            outliers = gross_outliers(read)  # the same values as in the file's units
            if outliers is not None:
                first, what, low, high = outliers
                unit = raw.units.get(name, "")
                warn(
                    f"column '{name}' of {source} holds {what} (first at "
                    f"{raw.times.iloc[first]:%Y-%m-%dT%H:%M}Z): a measurement error? To "
                    f"treat such values as missing, set data.valid_range: {{{name}: [LOW, "
                    f"HIGH]}} with this quantity's plausible limits (every other value lies in "
                    f"{low:.4g} to {high:.4g}{f' {unit}' if unit else ''})"
                )
            return
        at, code, what = found
        first = raw.times.iloc[at]
        if written is not None:
            source += f" (as the file writes it: {written[1]})"
        raise UserError(
            f"column '{name}' of {source} holds {what} (first at {first:%Y-%m-%dT%H:%M}Z): "
            f"a missing-value code, not a measurement; {self._missing_code_fix(name, code)}",
            where=where,
        )

    def _missing_code_fix(self, name: str, code: float) -> str:
        """How to make the missing-value ``code`` of column ``name`` read as missing."""
        return (
            f"blank those values in the file (an empty field is missing), or set "
            f"data.valid_range: {{{name}: [LOW, HIGH]}} with the quantity's plausible limits"
        )

    def _drop_missing(
        self, raw: RawSeries, features: list[str], targets: list[str]
    ) -> tuple[list[str], list[str]]:
        """``missing_features: drop``: leave out the listed columns that the file lacks or
        holds in fewer than half of its rows, with a warning; keep at least one target."""
        from seqrun.core.text import warn

        source = raw.report.get("source", "the file")
        dropped: dict[str, str] = {}
        for name in dict.fromkeys([*features, *targets]):
            if name in raw.non_numeric:
                continue  # text where numbers are expected: an input error, reported as such
            if name not in raw.columns.columns:
                dropped[name] = "absent"
                continue
            share = float(raw.columns[name].notna().mean()) if len(raw.columns) else 0.0
            if not self._enough(share):
                dropped[name] = f"values in {share:.0%} of the rows"
                out = raw.report.get("out_of_range", {}).get(name)
                if out and name in self.data_cfg.valid_range:
                    low, high = self.data_cfg.valid_range[name]
                    dropped[name] += f", {out} outside data.valid_range [{low:g}, {high:g}]"
            elif name in targets and not self.input_paths:  # (a forecast's input may be)
                values = raw.columns[name].dropna()
                if values.min() == values.max():  # a dry spell's rain: nothing to forecast
                    dropped[name] = f"constant: {float(values.iloc[0]):g} in every row"
        if dropped and all(t in dropped for t in targets):
            return features, targets  # nothing left to forecast: the usual errors say why
        if dropped:
            shown = ", ".join(f"{k} ({v})" for k, v in dropped.items())
            warn(f"{source}: left out {shown} (data.missing_features: drop)")
            raw.report["dropped_features"] = dropped
        keep = [f for f in features if f not in dropped]
        return keep, [t for t in targets if t not in dropped]

    @classmethod
    def input_size(cls, section: ForecastConfig) -> InputSize:
        """Windows of ``sequence_len`` steps of the listed features (all columns: unknown)."""
        if isinstance(section.features, list):
            near = section.neighbours
            more = len(near.series) * len(near.features) if near and near.features else 0
            n = max(1, len(section.features)) + more
            return InputSize(n, "data.features", section.sequence_len)
        return InputSize(steps=section.sequence_len)

    @classmethod
    def memory(cls, section: ForecastConfig, size: InputSize) -> list[MemoryItem]:
        """Nothing known before the file is read."""
        return []

    def load(self, splits: tuple[str, ...] = ("train", "dev")) -> Any:
        """Read, clean and cut the requested chronological splits."""
        return self._build(splits)

    def _build(self, splits: tuple[str, ...], whole: bool = False) -> Any:
        """:meth:`load`; with ``whole`` (``seqrun predict``) the file is one split named
        ``input`` with one window, the last ``sequence_len`` rows of its last gap-free stretch
        (no target needed), and nothing is cut."""
        import pandas as pd

        from seqrun.core.splits import series_cuts
        from seqrun.core.windows import WindowGeometry
        from seqrun.data.base import fingerprint
        from seqrun.data.series import ScoredTargets, SeriesSplit

        d = self.data_cfg
        raw = self._read_series()
        features, targets = self._features_and_targets(raw)
        source = raw.report.get("source", "the file")
        if len(raw.columns) == 0:
            raise UserError(f"{source} has no data rows, only its header", where="data.path")
        empty = [f for f in features if raw.columns[f].notna().sum() == 0]
        who = series_name(raw.report)
        whose = f"the {len(raw.columns)} row(s) of {who} in {source}" if who else source
        if len(features) > 1 and len(empty) == len(features) and "out_of_range" not in raw.report:
            # (a station whose every row is 'mq', as in the monthly archives): naming one
            # column to drop would only move the error to the next
            key = "data.station" if "station" in raw.report else "data.group"
            raise UserError(
                f"none of the {len(features)} listed columns ({', '.join(features[:6])}"
                f"{', ...' if len(features) > 6 else ''}) has a value in {whose}: every field "
                "is empty or a missing mark; choose another "
                + (f"series ({key})" if who else "file, or other data.features"),
                where=key if who else "data.features",
            )
        for name in features:
            if raw.columns[name].notna().sum() == 0:
                excluded = raw.report.get("out_of_range", {}).get(name)
                if excluded:
                    low, high = d.valid_range[name]
                    raise UserError(
                        f"every value of '{name}' in {source} ({excluded} of them) lies outside "
                        f"data.valid_range [{low:g}, {high:g}]: widen it (in the column's "
                        "units) or remove it",
                        where=f"data.valid_range.{name}",
                    )
                raise UserError(
                    f"column '{name}' has no values in {whose}; drop it from data.features",
                    where="data.features",
                )
            self._check_values(raw, name)
        _say(raw.warnings)
        circular = self._kind_list("circular", raw, features)
        if not whole:
            _check_degrees(raw, circular)
        if "train" in splits and self.data_cfg.circular is None:  # a user's file's columns
            _hint_directions(raw, [c for c in features if c not in circular])
        nonneg = [t for t in self._kind_list("nonnegative", raw, features) if t in targets]
        nonneg = [t for t in nonneg if t not in circular]
        if not whole:
            nonneg = self._check_nonnegative(raw, nonneg)
        table, pairs, calm_rows = self._as_sin_cos(raw.columns[features], circular)
        columns = [n for f in features for n in pairs.get(f, (f,))]
        model_targets = [n for t in targets for n in pairs.get(t, (t,))]
        near_units: dict[str, str] = {}
        if d.neighbours is not None:
            near, near_units, near_report = self._neighbour_columns(raw, targets)
            table = pd.concat([table, near], axis=1)
            columns += list(near.columns)
        geometry = WindowGeometry(d.sequence_len, d.horizon, d.stride, output_steps=d.output_steps)

        def split_starts(n: int) -> list[int]:
            return [lo for name, (lo, _) in series_cuts(n, d.split).items() if name != "train"]

        cleaned = clean(
            raw.times,
            table,
            d.freq,
            d.interpolate.method,
            d.interpolate.max_gap,
            None if whole else split_starts,
        )
        if not whole and len(cleaned.values) <= geometry.last_needed:  # (not "constant")
            raise UserError(*self._too_short(len(cleaned.values), cleaned, source))
        plain = [f for f in features if f not in pairs]  # sine/cosine pairs are not checked
        if not whole:  # a few hours of new input may well hold a constant column
            check_columns(
                cleaned.values[:, [columns.index(f) for f in plain]],
                plain,
                targets,
                raw.report.get("source", "the file"),
                all_targets=d.targets == "all" and d.missing_features == "error",
            )
        known, extra = time_feature_columns(cleaned.times, list(d.time_features))
        values = np.concatenate([cleaned.values, extra], axis=1) if known else cleaned.values
        names = columns + known
        n = len(values)
        cuts = {"input": (0, n)} if whole else series_cuts(n, d.split)
        if "train" in splits and not whole:
            _warn_constant_inputs(cleaned.values, columns, plain, targets, cuts["train"], source)
        report = {**raw.report, **cleaned.report}
        report["features"] = names
        report["targets"] = targets
        report["units"] = {**{c: raw.units.get(c, "") for c in features}, **near_units}
        if pairs:
            report["circular"] = {c: list(v) for c, v in pairs.items()}
        if calm_rows:
            report["calm_rows"] = calm_rows
        if d.neighbours is not None:
            report["neighbours"] = near_report
        if nonneg:
            report["nonnegative_targets"] = nonneg
        report["split_rows"] = {k: hi - lo for k, (lo, hi) in cuts.items()}
        out: dict[str, SeriesSplit] = {}
        for name in splits:
            lo, hi = cuts[name]
            seg = cleaned.segments
            sub = np.stack(
                [np.clip(seg[:, 0], lo, hi) - lo, np.clip(seg[:, 1], lo, hi) - lo], axis=1
            )
            sub = sub[sub[:, 1] > sub[:, 0]]
            if whole:
                starts = self._last_window(sub, cleaned, raw)
                self._check_window(cleaned, raw, table, near_report if d.neighbours else {})
            else:
                starts = geometry.segment_starts(sub)
            if len(starts) == 0:
                raise UserError(*self._no_window_message(name, hi - lo, sub, cleaned))
            if not whole and len(starts) < FEW_WINDOWS:
                _warn_few_windows(name, len(starts), d)
            longest = int((sub[:, 1] - sub[:, 0]).max())
            if not whole and name != "train" and d.recursive_steps > longest - d.sequence_len:
                # the recursive evaluation chains its steps inside one gap-free segment
                raise UserError(
                    f"the {name} split's longest gap-free stretch has {longest} rows, too few "
                    f"for the recursive evaluation of {d.recursive_steps} steps after a window "
                    f"of {d.sequence_len}; lower data.recursive_steps to at most "
                    f"{longest - d.sequence_len} (0 turns it off)",
                    where="data.recursive_steps",
                )
            info = {"rows": int(hi - lo), "segments": len(sub), "from": int(lo)}
            split_values, split_times = values[lo:hi], cleaned.times[lo:hi]
            if name == "train" and d.also_train_on:
                later = [a for k, (a, b) in cuts.items() if k != "train" and b > a]
                before = cleaned.times[min(later)] if later else cleaned.times[-1] + 1
                more, more_times, more_segs, pooled = self._pooled_train(
                    features, circular, before, cleaned.step_s, raw
                )
                offsets = np.cumsum([len(split_values)] + [len(v) for v in more[:-1]])
                sub = np.concatenate(
                    [sub] + [s + o for s, o in zip(more_segs, offsets, strict=True)]
                )
                split_values = np.concatenate([split_values, *more])
                split_times = np.concatenate([split_times, *more_times])
                starts = geometry.segment_starts(sub)
                info["also_train_on"] = {k: v["rows"] for k, v in pooled.items()}
                report["also_train_on"] = pooled
            out[name] = SeriesSplit(
                split_values,
                starts,
                times=split_times,
                info=info,
                segments=sub,
            )
        if "train" in splits:  # (when windows fit; else the error names the columns)
            _warn_dropped_rows(cleaned.report)
        period = 86400 // cleaned.step_s if 86400 % cleaned.step_s == 0 else 0
        seq2seq = self.options.sequence_outputs
        unit_of = {**raw.units, **{s: "" for p in pairs.values() for s in p}, **near_units}
        return SeriesData(
            out,
            feature_names=names,
            target_names=model_targets,
            sequence_len=d.sequence_len,
            horizon=d.horizon,
            seq2seq=seq2seq,
            recursive_steps=d.recursive_steps,
            units=[unit_of.get(t, "") for t in model_targets],
            fingerprint=fingerprint(values, cleaned.times.astype(np.int64)),
            known_names=known,
            period=period,
            step=cleaned.report["freq"],
            report=report,
            residual=d.target_mode == "change",
            bounds={
                name: {
                    "rows": [lo, hi],
                    "first_time": iso_utc(cleaned.times[lo]) if hi > lo else None,
                    "last_time": iso_utc(cleaned.times[hi - 1]) if hi > lo else None,
                }
                for name, (lo, hi) in cuts.items()
            },
            output_steps=d.output_steps,
            headline_step=d.headline_step,
            scored=ScoredTargets(
                names=targets,
                units=[raw.units.get(t, "°" if t in pairs else "") for t in targets],
                circular={c: pairs[c] for c in targets if c in pairs},
                nonnegative=nonneg,
                precipitation={t: v for t, v in raw.precipitation.items() if t in targets},
            ),
        )

    def _as_sin_cos(self, columns: Any, circular: list[str]) -> tuple[Any, dict, dict[str, int]]:
        """The feature table with each circular column (degrees) as its sine and cosine."""
        table = columns.copy()
        pairs: dict[str, tuple[str, str]] = {}
        calm_rows: dict[str, int] = {}
        for c in circular:  # degrees -> sine and cosine, before gap filling
            deg = table[c].to_numpy(dtype=np.float64)
            sin, cos = np.sin(np.deg2rad(deg)), np.cos(np.deg2rad(deg))
            if self.data_cfg.calm:  # no direction: a zero vector (undefined angle when scored)
                calm = deg == 0
                sin[calm], cos[calm] = 0.0, 0.0
                calm_rows[c] = int(calm.sum())
            pairs[c] = (f"{c}_sin", f"{c}_cos")
            at = list(table.columns).index(c)
            table = table.drop(columns=[c])
            table.insert(at, pairs[c][0], sin)
            table.insert(at + 1, pairs[c][1], cos)
        return table, pairs, calm_rows

    def _read_other(self, key: str | int, option: str, main: RawSeries) -> RawSeries:
        """The series ``key`` of data.also_train_on or data.neighbours (not ``main`` itself);
        an error about which series to keep names ``option``."""
        try:
            other = self._read_series(key)
        except UserError as e:
            if e.where in ("data.group", "data.station"):
                raise UserError(e.message, where=option) from None
            raise
        if _series_id(other) == _series_id(main):
            raise UserError(
                f"{key!r} is the main series itself; {option} lists other ones", where=option
            )
        _say(other.warnings)
        return other

    def _neighbour_columns(
        self, raw: RawSeries, targets: list[str]
    ) -> tuple[Any, dict[str, str], dict[str, Any]]:
        """``data.neighbours``: the other series' columns at ``raw``'s times (NaN where they
        did not report), named COLUMN@SERIES; their units; a report entry per series. With
        ``missing_features: drop``, a series or column that is not there (or holds values at
        fewer than half of the times) is left out with a warning instead of an error."""
        import pandas as pd

        from seqrun.core.text import warn

        d = self.data_cfg
        near = d.neighbours
        lenient = d.missing_features == "drop"
        wanted = list(near.features) if near.features is not None else list(targets)
        at = pd.DatetimeIndex(raw.times).as_unit("ns")  # pandas 3 parses to microseconds
        step = duration_seconds(d.freq) * 10**9 if d.freq else _infer_step_ns(np.unique(at.asi8))
        half = pd.Timedelta(int(step // 2), "ns")

        def align(frame: Any, times: Any) -> Any:
            """The latest observation at or up to half a step before each main time (never
            a later one: no future value)."""
            frame = frame.set_axis(pd.DatetimeIndex(times).as_unit("ns"))
            frame = frame[~frame.index.duplicated()].sort_index()
            return frame.reindex(at, method="ffill", tolerance=half)

        parts, units, report, left_out = [], {}, {}, {}
        for key in near.series:
            try:
                other = self._read_other(key, "data.neighbours.series", raw)
            except UserError as e:
                if not lenient or e.where != "data.neighbours.series":
                    raise
                left_out[str(key)] = e.message.split(";")[0]
                continue
            key = _series_label(key, other)
            source = f"{other.report.get('source', 'the file')} ({key})"
            columns = list(other.columns.columns)
            given = d.circular
            degrees = [c for c in (other.circular if given is None else given) if c in wanted]
            for name in wanted:  # text where numbers are expected: an input error
                if name in other.non_numeric:
                    raise UserError(
                        f"column '{name}' of series {key!r} is not numeric (e.g. "
                        f"{other.non_numeric[name]}); numeric columns of {source}: "
                        f"{', '.join(columns[:40])}",
                        where="data.neighbours.features",
                    )
            present = [n for n in wanted if n in columns and other.columns[n].notna().any()]
            for name in present:
                self._check_values(other, name, source, "data.neighbours.features")
            aligned = align(other.columns[present], other.times)  # degrees, then sine/cosine
            keep = []
            for name in wanted:
                if name in present:
                    share = float(aligned[name].notna().mean())
                    if self._enough(share):
                        keep.append(name)
                        continue
                    if not lenient:
                        raise UserError(
                            f"column '{name}' of series {key!r} has values at {share:.0%} of "
                            "the main series' times (at them or up to half a step before): "
                            "too few to be an input; remove it, or set data.missing_features: "
                            "drop to leave it out",
                            where="data.neighbours.features",
                        )
                    left_out[f"{name}@{key}"] = f"values at {share:.0%} of the times"
                elif lenient:
                    left_out[f"{name}@{key}"] = "absent"
                else:
                    why = "is absent" if name not in columns else "has no values"
                    raise UserError(
                        f"column '{name}' {why} in series {key!r}{did_you_mean(name, columns)}; "
                        f"numeric columns of {source}: {', '.join(columns[:40])}",
                        where="data.neighbours.features",
                    )
            if not keep:
                continue
            table, pairs, _ = self._as_sin_cos(aligned[keep], [c for c in degrees if c in keep])
            table.index = raw.columns.index
            table.columns = [f"{c}@{key}" for c in table.columns]
            for name in keep:
                for c in pairs.get(name, (name,)):
                    units[f"{c}@{key}"] = "" if name in pairs else other.units.get(name, "")
            parts.append(table)
            report[str(key)] = {
                "series": _series_id(other),
                "columns": list(table.columns),
                "rows_without_a_value": int(table.isna().all(axis=1).sum()),
                "last_time": iso_utc(np.datetime64(other.times.max().tz_convert(None), "ns")),
            }
        if left_out:
            shown = ", ".join(f"{k} ({v})" for k, v in left_out.items())
            warn(f"neighbours left out: {shown} (data.missing_features: drop)")
            report["left_out"] = left_out
        table = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=raw.columns.index)
        return table, units, report

    def _pooled_train(
        self,
        features: list[str],
        circular: list[str],
        before: np.datetime64,
        step_s: int,
        main: RawSeries,
    ) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], dict[str, Any]]:
        """``data.also_train_on``: each other series' rows before ``before``, cleaned like the
        main one; returns their values, times, segments and a report entry per series."""
        d = self.data_cfg
        values, times, segments, report = [], [], [], {}
        for key in d.also_train_on:
            raw = self._read_other(key, "data.also_train_on", main)
            key = _series_label(key, raw)
            source = f"{raw.report.get('source', 'the file')} ({key})"
            columns = raw.columns
            missing = [f for f in features if f not in columns or columns[f].notna().sum() == 0]
            if missing:
                raise UserError(
                    f"series {key!r} has no values of {', '.join(missing)} in {source}; "
                    "remove it from data.also_train_on or those columns from data.features",
                    where="data.also_train_on",
                )
            for name in features:
                self._check_values(raw, name, source, "data.also_train_on")
            table, _, _ = self._as_sin_cos(raw.columns[features], circular)
            early = (raw.times < _pd_utc(before)).to_numpy()
            if not early.any():
                raise UserError(
                    f"series {key!r} has no row before the dev split's first time "
                    f"{iso_utc(before)}; remove it from data.also_train_on",
                    where="data.also_train_on",
                )
            c = clean(
                raw.times[early],
                table.loc[early],
                format_duration(step_s),
                d.interpolate.method,
                d.interpolate.max_gap,
            )
            known, extra = time_feature_columns(c.times, list(d.time_features))
            v = np.concatenate([c.values, extra], axis=1) if known else c.values
            values.append(v)
            times.append(c.times)
            segments.append(c.segments)
            report[str(key)] = {
                "series": _series_id(raw),
                "rows": len(v),
                "first_time": iso_utc(c.times[0]),
                "last_time": iso_utc(c.times[-1]),
            }
        return values, times, segments, report

    def _check_nonnegative(self, raw: RawSeries, targets: list[str]) -> list[str]:
        """The non-negative targets that hold no negative value: one listed in
        ``data.nonnegative`` that does is an error (the softplus bound could never predict
        those values); one the adapter lists by default is warned and left unbounded."""
        from seqrun.core.text import warn

        kept = []
        for name in targets:
            values = raw.columns[name].to_numpy(dtype="float64")
            below = values < 0  # NaN: False
            if not below.any():
                kept.append(name)
                continue
            unit = raw.units.get(name, "")
            what = (
                f"column '{name}' holds {int(below.sum())} negative value(s) (min "
                f"{np.nanmin(values):g}{' ' + unit if unit else ''}, first at "
                f"{raw.times.iloc[int(below.argmax())]:%Y-%m-%dT%H:%M}Z)"
            )
            if self.data_cfg.nonnegative is not None:
                raise UserError(
                    f"{what}: a target bounded at 0 could never be predicted there; drop "
                    f"'{name}' from data.nonnegative",
                    where="data.nonnegative",
                )
            warn(f"{what}, so it is not bounded at 0 (data.nonnegative)")
        return kept

    def _kind_list(self, key: str, raw: RawSeries, features: list[str]) -> list[str]:
        """``data.circular`` / ``data.nonnegative``, or the adapter's default, among features."""
        given = getattr(self.data_cfg, key)
        if given is None:
            return [c for c in getattr(raw, key) if c in features]
        for name in given:
            if name not in features:
                raise UserError(
                    f"'{name}' is not a feature{did_you_mean(name, features)}; features: "
                    f"{', '.join(features)}",
                    where=f"data.{key}",
                )
        return list(given)

    def _too_short(self, rows: int, c: Cleaned, source: str) -> tuple[str, str]:
        """Why no window fits in the whole series (a file of a few rows, or a window longer
        than the series), and the key to change: the longest part of the window."""
        d = self.data_cfg
        need = d.sequence_len + d.horizon + d.output_steps - 1
        keys = {"data.sequence_len": d.sequence_len, "data.horizon": d.horizon}
        keys["data.output_steps"] = d.output_steps - 1
        parts = f"{d.sequence_len} past + {d.horizon} ahead" + (
            f" + {d.output_steps - 1} more outputs" if d.output_steps > 1 else ""
        )
        span = f" ({iso_utc(c.times[0])} to {iso_utc(c.times[-1])})" if rows else ""
        return (
            f"a window needs {need} steps ({parts}) and {source} holds {rows} usable row(s) on "
            f"the {c.report.get('freq', '')} grid{span}: give a longer series, or shorten "
            f"{' / '.join(k for k, v in keys.items() if v)}",
            max(keys, key=keys.get),
        )

    def _no_window_message(
        self, split: str, rows: int, sub: np.ndarray, c: Cleaned
    ) -> tuple[str, str]:
        """Why no window fits in a split, and the key to change: the window is longer than the
        split (its geometry or the split's share), or gaps cut the split too short."""
        d = self.data_cfg
        need = d.sequence_len + d.horizon + d.output_steps - 1
        parts = f"{d.sequence_len} past + {d.horizon} ahead" + (
            f" + {d.output_steps - 1} more outputs" if d.output_steps > 1 else ""
        )
        if rows < need:
            keys = {"data.sequence_len": d.sequence_len, "data.horizon": d.horizon}
            keys["data.output_steps"] = d.output_steps - 1
            longest_key = max(keys, key=keys.get)
            total = int(c.report["grid_rows"])
            where = longest_key if need > total else "data.split"
            return (
                f"a window needs {need} steps ({parts}) and the {split} split has {rows} rows "
                f"(the series {total}): shorten {' / '.join(k for k, v in keys.items() if v)}"
                f", give the {split} split a larger share (data.split), or use a longer series",
                where,
            )
        longest = int((sub[:, 1] - sub[:, 0]).max()) if len(sub) else 0
        worst = sorted(
            c.report["values_still_missing"].items(), key=lambda kv: kv[1], reverse=True
        )[:3]
        cols = ", ".join(f"{k} ({v} of {c.report['grid_rows']} steps)" for k, v in worst)
        gappy = f"; columns with unfilled gaps: {cols}" if cols else ""
        return (
            f"no window of {need} steps ({parts}) fits in the {split} split: after gap filling "
            f"it has {rows} rows in {len(sub)} gap-free segments, the longest {longest}"
            f"{gappy}; raise data.interpolate.max_gap (now {d.interpolate.max_gap!r}), drop "
            "the gappiest features, or shorten data.sequence_len / data.horizon",
            "data.interpolate.max_gap",
        )


def series_key(value: object) -> str:
    """How a station number or group value is compared: a number without its leading zeros
    (a spreadsheet writes 7149 for 07149, pandas 7149.0 for a column with a gap), text
    without case."""
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.0*)?", text):
        return text.split(".")[0].lstrip("0") or "0"
    return text.casefold()


def _series_label(key: str | int, raw: RawSeries) -> str | int:
    """How ``key`` (of data.neighbours / also_train_on) names its series in columns and
    reports: ``key`` itself, or the series' own id when YAML turned the station number into
    another number (an unquoted 07005 is read as the octal 3589)."""
    found = _series_id(raw)
    if isinstance(key, int) and found and found.isdigit() and int(found) != key:
        return found
    return key


def _series_id(raw: RawSeries) -> str | None:
    """Which series of its source ``raw`` is (station number, or group value)."""
    return series_name(raw.report)


def _pd_utc(t: np.datetime64) -> Any:
    """A naive UTC datetime64 as a pandas Timestamp in UTC (to compare with read times)."""
    import pandas as pd

    return pd.Timestamp(t).tz_localize("UTC")


def _as_list(v: str | list[str]) -> list[str]:
    return [v] if isinstance(v, str) else list(v)


def _predict_hint(message: str, where: str, keys: tuple[str, ...]) -> str:
    """What ends a predict error ``message`` about the run's data key ``where``: the keys among
    ``keys`` that the message advises (or ``where`` itself) are given to predict with --set;
    another key belongs to the run's config."""
    if where in ("data.path", "data.sample"):  # the message is about the input file itself
        return ""
    given = [k for k in keys if re.search(rf"--set [\"']?{re.escape(k)}=", message)]
    named = [
        k for k in keys if k not in given and re.search(rf"(?<![\w.]){re.escape(k)}\b", message)
    ]
    if named:
        return f" (seqrun predict takes {' and '.join(named)} with --set KEY=VALUE)"
    if given:  # the message says the --set itself
        return ""
    if ".".join(where.split(".")[:2]) in keys:
        return " (seqrun predict takes such keys with --set KEY=VALUE)"
    return f" (the run's {where})" if where.startswith("data.") else ""


#: a forecast window whose median lies this many training standard deviations from the
#: training mean is out of what the model learnt (e.g. kelvin given to a run trained in °F)
FAR_FROM_TRAINING = 6.0


def _check_scale(data: Any, encoder: Any, path: Path) -> None:
    """A warning per input column whose values in the forecast window lie far outside the
    training data's (``FAR_FROM_TRAINING`` standard deviations): another unit or scale; a
    UserError for a missing-value code there (-9999 in every row leaves no other value that
    would tell it from a measurement when the file is read)."""
    from seqrun.core.text import warn
    from seqrun.data.quality import nines

    mean = np.asarray(getattr(encoder, "mean", []), dtype=np.float64).reshape(-1)
    std = np.asarray(getattr(encoder, "std", []), dtype=np.float64).reshape(-1)
    names = list(data.feature_names)
    if len(mean) != len(names) or len(std) != len(names):
        return  # one scale for every column (mode: scalar) or no scaling: nothing per column
    s = data.splits["input"]
    start = int(s.starts[-1])
    window = np.asarray(s.values[start : start + data.sequence_len], dtype=np.float64)
    known = set(getattr(data, "known_idx", []))
    far = []
    for j, name in enumerate(names):
        column = window[:, j]
        if j in known or not np.isfinite(column).any() or not std[j] > 0:
            continue
        codes = nines(column) & (np.abs(column - mean[j]) > FAR_FROM_TRAINING * std[j])
        if codes.any():  # e.g. -9999 in every row of the file: no other value to tell it by
            raise UserError(
                f"column '{name}' holds {column[codes][0]:g} in {int(codes.sum())} of the "
                f"{len(column)} steps the forecast reads, far beyond the training data "
                f"(training {mean[j]:.4g} ± {std[j]:.3g}): a missing-value code, not a "
                "measurement; blank those values in the file (an empty field is missing)",
                where=f"--input {path}",
            )
        mid = float(np.nanmedian(column))
        if abs(mid - mean[j]) > FAR_FROM_TRAINING * std[j]:
            far.append(f"{name} {mid:.4g} (training {mean[j]:.4g} ± {std[j]:.3g})")
    if far:
        warn(
            f"{path}: the window the forecast reads is far from the training data "
            f"(median vs training mean ± std): {'; '.join(far)}; the forecast is unreliable: "
            "is the file in other units or scale than the run's training data?"
        )
