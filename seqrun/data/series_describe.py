"""The time-series family's part of ``seqrun data describe`` and of the leakage checks
(:class:`~seqrun.data.series.SeriesData`).

* describe: rows, windows and gap-free segments per split, where each split lies (rows, times),
  statistics of the scored window targets, and what the adapter did to gaps (weather);
* leakage: windows of a split whose target(s) fall in another split's rows, and a dev or test
  period that starts before the end of the training data. Both compare split boundaries
  (``SeriesData.bounds``), which the adapters know for every split without building its
  windows; the target rows come from the data's :class:`~seqrun.core.windows.WindowGeometry`.

Pure Python and numpy: no TensorFlow.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seqrun.core.summary import mean_std, min_mid_max, num, row_range, stats

EXAMPLES = 3
GAP_KEYS = (
    "freq",
    "interpolation",
    "values_filled",
    "values_still_missing",
    "missing_values",
    "spreadsheet_na",
    "text_values",
    "local_times_dropped",
    "rows_without_station",
    "station_absent_from",
    "out_of_range",
    "missing_timestamps",
    "rows_dropped",
    "duplicate_times_differing",
    "first_differing_duplicate",
    "grid_rows_dropped",
    "segments",
    "longest_segment",
)


def _duration(first: str | None, last: str | None) -> str | None:
    if not first or not last:
        return None
    secs = (
        (np.datetime64(last.rstrip("Z")) - np.datetime64(first.rstrip("Z")))
        .astype("timedelta64[s]")
        .astype(np.int64)
    )
    days, rest = divmod(int(secs), 86400)
    return f"{days} d {rest // 3600} h" if days else f"{rest // 3600} h"


def describe(data: Any, cfg: Any) -> dict[str, Any]:
    """Description of a loaded :class:`~seqrun.data.series.SeriesData`."""
    splits: dict[str, Any] = {}
    for name, s in data.splits.items():
        w_targets = s.values[data.geometry.target_offset(s.starts)][:, data.target_idx]
        b = data.bounds.get(name, {})
        entry: dict[str, Any] = {
            "rows": int(len(s.values)),
            "windows": int(len(s.starts)),
            "segments": int(len(s.bounds())),
            "row_range": b.get("rows"),
            "first_time": b.get("first_time"),
            "last_time": b.get("last_time"),
            "span": _duration(b.get("first_time"), b.get("last_time")),
            "targets": {
                t: {**stats(w_targets[:, j]), "unit": data.units[j]}
                for j, t in enumerate(data.target_names)
            },
        }
        if "t" in b:
            entry["t_range"] = b["t"]
        splits[name] = entry
    report = data.report()
    return {
        "task": "regression",
        "source": report.get("source", cfg.data.adapter),
        "sizes": data.sizes(),
        "series": {
            "features": data.feature_names,
            "targets": data.target_names,
            "sequence_len": data.sequence_len,
            "horizon": data.horizon,
            "stride": getattr(cfg.data, "stride", 1),
            "step": data.step or None,
            "window_targets": "statistics below are of the scored window targets",
        },
        "gaps": {k: report[k] for k in GAP_KEYS if k in report},
        "splits": splits,
    }


def render(info: dict[str, Any]) -> tuple[str, list[tuple[str, ...]], list[str]]:
    """The headline, the per-split rows and the gap lines of a series description."""
    splits = info.get("splits", {})
    names = list(splits)
    rows: list[tuple[str, ...]] = []

    def add(label: str, fn: Any) -> None:
        rows.append((label, *(fn(splits[n]) for n in names)))

    add("rows", lambda s: str(s["rows"]))
    add("windows", lambda s: str(s["windows"]))
    add("gap-free segments", lambda s: str(s["segments"]))
    add("row range", lambda s: row_range(s["row_range"]))
    if any(splits[n].get("first_time") for n in names):
        add("first time", lambda s: s.get("first_time") or "")
        add("last time", lambda s: s.get("last_time") or "")
        add("span", lambda s: s.get("span") or "")
    if any("t_range" in splits[n] for n in names):
        add("t range", lambda s: " - ".join(num(x, 6) for x in s.get("t_range", [])))
    for target in info["series"]["targets"]:
        unit = splits[names[0]]["targets"][target]["unit"]
        label = f"{target}{f' ({unit})' if unit else ''}"
        add(f"{label} mean +- std", lambda s, t=target: mean_std(s["targets"][t]))
        add("  min / p50 / max", lambda s, t=target: min_mid_max(s["targets"][t]))
    sr = info["series"]
    head = (
        f"series: {len(sr['features'])} features, targets {', '.join(sr['targets'])}; "
        f"windows of {sr['sequence_len']} steps, target {sr['horizon']} step(s) ahead"
        + (f", step {sr['step']}" if sr.get("step") else "")
    )
    return head, rows, _gap_lines(info.get("gaps"))


def _gap_lines(gaps: dict[str, Any] | None) -> list[str]:
    if not gaps:
        return []
    filled = gaps.get("values_filled") or {}
    interp = gaps.get("interpolation") or {}
    lines = [
        f"gaps: {gaps.get('missing_timestamps', 0)} missing timestamps on the "
        f"{gaps.get('freq', '')} grid; values filled by {interp.get('method')} interpolation "
        f"(gaps up to {interp.get('max_gap_steps')} steps): "
        + (", ".join(f"{k} {v}" for k, v in filled.items()) or "none")
    ]
    for key, what in (
        ("missing_values", "read as missing (data.missing_values)"),
        ("spreadsheet_na", "#N/A, NA, NaN, null, ... (texts for no value) read as missing"),
        ("text_values", "text read as numbers (data.text_values)"),
        ("out_of_range", "outside data.valid_range, made missing"),
    ):
        if gaps.get(key):
            lines.append(f"  {what}: " + ", ".join(f"{k} {v}" for k, v in gaps[key].items()))
    at_boundary = gaps.get("values_forward_filled_at_split_boundaries")
    if at_boundary:
        lines.append(
            f"  values of a gap that crosses a split boundary, carried forward from before it "
            f"(nothing from the later split is used): {at_boundary}"
        )
    still = gaps.get("values_still_missing") or {}
    if still:
        lines.append(
            "  still missing (rows dropped, series split there): "
            + ", ".join(f"{k} {v}" for k, v in still.items())
        )
    if gaps.get("station_absent_from"):
        absent = gaps["station_absent_from"]
        shown = ", ".join(absent[:6]) + (", ..." if len(absent) > 6 else "")
        lines.append(f"  files without a row of the station: {len(absent)} ({shown})")
    if gaps.get("rows_without_station"):
        lines.append(f"  rows dropped: {gaps['rows_without_station']} without a station number")
    if gaps.get("local_times_dropped"):
        lines.append(
            f"  rows dropped: {gaps['local_times_dropped']} whose local time (data.timezone) a "
            "daylight-saving change skips or repeats"
        )
    dropped = gaps.get("rows_dropped") or {}
    if dropped.get("duplicate_time") or dropped.get("off_grid"):
        text = f"  rows dropped: {dropped.get('duplicate_time', 0)} repeating a time"
        if gaps.get("duplicate_times_differing"):
            text += (
                f" ({gaps['duplicate_times_differing']} with other values than the first row "
                f"of their time, which is kept; first at {gaps['first_differing_duplicate']})"
            )
        lines.append(text + f", {dropped.get('off_grid', 0)} off the time grid")
    lines.append(
        f"  grid rows dropped {gaps.get('grid_rows_dropped', 0)}; "
        f"{gaps.get('segments')} gap-free segments, the longest {gaps.get('longest_segment')}"
    )
    return lines


def brief(info: dict[str, Any]) -> dict[str, Any]:
    """Target statistics and the period of each split, for the run report."""
    out: dict[str, Any] = {}
    for name, s in (info.get("splits") or {}).items():
        if "targets" in s:
            out[f"describe: {name} targets"] = {t: mean_std(v) for t, v in s["targets"].items()}
        if s.get("first_time"):
            out[f"describe: {name} period"] = f"{s['first_time']} .. {s['last_time']}"
    return out


# ----------------------------------------------------------------------------- leakage


def leakage(data: Any) -> dict[str, Any]:
    """Windows reaching into another split, periods before the training data: ``{"issues",
    "checked", "skipped"}``."""
    out: dict[str, Any] = {"issues": [], "checked": [], "skipped": []}
    bounds = {k: v for k, v in data.bounds.items() if v["rows"][1] > v["rows"][0]}
    if not bounds:
        out["skipped"].append("time-series checks (the adapter gave no split boundaries)")
        return out
    geo = data.geometry
    out["checked"].append("time-series windows whose targets fall in another split")
    for name, split in data.splits.items():
        if name not in bounds:
            continue
        lo, hi = bounds[name]["rows"]
        # the split's own windows: data.also_train_on appends other series' windows after
        # its rows, numbered past them (before the dev split in time, in no split's rows)
        starts = split.starts[split.starts < hi - lo]
        t_first = lo + starts + geo.first_target
        t_last = lo + geo.last_rows(starts)
        for other, ob in bounds.items():
            if other == name:
                continue
            olo, ohi = ob["rows"]
            hit = np.flatnonzero((t_first < ohi) & (t_last >= olo))
            if not len(hit):
                continue
            examples = [
                {
                    "window_start_row": int(lo + starts[i]),
                    "target_row": int(t_last[i]),
                    f"{other}_rows": [int(olo), int(ohi)],
                }
                for i in hit[:EXAMPLES]
            ]
            out["issues"].append(
                {
                    "check": "window_targets_in_other_split",
                    "splits": [name, other],
                    "count": int(len(hit)),
                    "of": int(len(starts)),
                    "message": f"{len(hit)} of {len(starts)} {name} windows have targets "
                    f"in the {other} split (rows {olo}-{ohi - 1})",
                    "examples": examples,
                }
            )
    train = bounds.get("train")
    if train is not None:
        out["checked"].append("dev/test periods after the training data")
        out["issues"].extend(_periods_before_training(bounds, train))
    return out


def _periods_before_training(bounds: dict[str, Any], train: dict[str, Any]) -> list[dict]:
    issues = []
    tlo, thi = train["rows"]
    for other in ("dev", "test"):
        ob = bounds.get(other)
        if ob is None:
            continue
        olo, ohi = ob["rows"]
        before = max(0, min(ohi, thi) - olo)
        if olo >= thi or before == 0:
            continue
        when = ""
        if ob.get("first_time") and train.get("last_time"):
            when = f" ({other} starts {ob['first_time']}, training data ends {train['last_time']})"
        issues.append(
            {
                "check": "period_before_training",
                "splits": [other, "train"],
                "count": int(before),
                "of": int(ohi - olo),
                "message": f"{before} of {ohi - olo} {other} rows precede the end of the "
                f"training data{when}",
                "examples": [
                    {
                        f"{other}_rows": [int(olo), int(ohi)],
                        "train_rows": [int(tlo), int(thi)],
                        f"{other}_first_time": ob.get("first_time"),
                        "train_last_time": train.get("last_time"),
                    }
                ],
            }
        )
    return issues
