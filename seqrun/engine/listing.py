"""`seqrun runs list` and `seqrun runs show`: read small metadata files only, never TensorFlow."""

from __future__ import annotations

import contextlib
import csv
import functools
import json
import math
import sys
from pathlib import Path
from typing import Any

import yaml

from seqrun.core.errors import UserError, did_you_mean
from seqrun.core.runs import Run, iter_runs, null_as_nan, to_json


@functools.cache
def _metric_sets() -> tuple[Any, ...]:
    """Every registered metric set class that imports (a broken plugin is left out)."""
    from seqrun.core.registry import registry

    sets = []
    for entry in registry.entries("metrics"):
        try:
            sets.append(entry.load())
        except Exception:  # noqa: BLE001 - a runs table must not fail on someone's plugin
            continue
    return tuple(sets)


def headline_keys(metric_set: str | None = None) -> tuple[str, ...]:
    """The headline metrics the metric set ``metric_set`` declares; without a name (a table of
    runs of several experiments), every registered set's, in registry order."""
    if metric_set:
        from seqrun.core.errors import UserError
        from seqrun.core.registry import registry

        try:
            return tuple(registry.get("metrics", metric_set).headline)
        except (UserError, ImportError, AttributeError):
            pass
    return _every_headline()


@functools.cache
def _every_headline() -> tuple[str, ...]:
    keys: dict[str, None] = {}
    for cls in _metric_sets():
        keys.update(dict.fromkeys(cls.headline))
    return tuple(keys)


def baselines(metric_set: str | None = None) -> dict[str, tuple[str, str]]:
    """metric -> (the baseline it is compared with, "min" or "max"), as the metric set
    ``metric_set`` declares them; without a name (or an unknown one), every registered set's
    (the first set naming a metric wins)."""
    sets = _metric_sets()
    if metric_set:
        from seqrun.core.registry import registry

        with contextlib.suppress(UserError, ImportError, AttributeError):
            sets = (registry.get("metrics", metric_set),)
    out: dict[str, tuple[str, str]] = {}
    for cls in sets:
        for metric, base in cls.baselines.items():
            out.setdefault(metric, (base, cls.directions[metric]))
    return out


def headline(metrics: dict[str, Any] | None, metric_set: str | None = None) -> dict[str, float]:
    """The numeric headline metrics found in ``metrics`` (see :func:`headline_keys`); a null
    (how JSON writes NaN: a metrics file, a sweep.json, `train --json`) is NaN."""
    if not metrics or not isinstance(metrics, dict):
        return {}
    found = {k: null_as_nan(metrics[k]) for k in headline_keys(metric_set) if k in metrics}
    return {k: v for k, v in found.items() if isinstance(v, int | float)}


_headline = headline  # the name other engine modules import


def effective_overrides(overrides: list[str]) -> list[str]:
    """The overrides that shape the resolved config, each once: one that a later override of
    the same key, or of a section above it, replaces is left out (the last one wins, as when
    they are applied). A text without ``=`` is kept as it is."""

    def key(text: str) -> str | None:
        name, sep, _ = text.partition("=")
        return name.strip() if sep and name.strip() else None

    out = []
    for i, text in enumerate(overrides):
        k = key(text)
        later = [key(t) for t in overrides[i + 1 :]]
        if k is None or not any(lk and (k == lk or k.startswith(lk + ".")) for lk in later):
            out.append(text)
    return out


def run_row(run: Run) -> dict[str, Any]:
    """The summary of one run shown by `runs list`."""
    meta = run.meta()
    dev, test = run.metrics("dev"), run.metrics("test")
    row: dict[str, Any] = {
        "name": run.path.parent.name,
        "id": run.path.name,
        "status": run.status(),
        "overrides": effective_overrides([str(o) for o in meta.get("overrides") or []])
        if isinstance(meta.get("overrides"), list)
        else [],
        "started_at": meta.get("started_at"),
        "duration_s": meta.get("duration_s"),
        "epochs": meta.get("epochs_completed"),
        "dev": headline(dev),
        "test": headline(test),
        "units": headline_units(dev or test),
        "path": str(run.path),
    }
    if meta.get("kind") == "cv":  # a cross-validation parent: metrics are means over folds
        row["folds"] = meta.get("folds")
    return row


def list_runs(
    runs_dir: Path, name: str | None = None, status: str | None = None, given: bool = False
) -> list[dict]:
    """Rows for every readable run under ``runs_dir``, newest first, filtered; ``given``: the
    user named ``runs_dir`` (then it must exist; the default may not exist yet).

    A run whose meta.json is unreadable (truncated, corrupt, not an object) is reported in one
    warning line on stderr and left out.
    """
    from seqrun.core.runs import STATUSES

    if status is not None and status not in STATUSES:
        raise UserError(
            f"unknown status {status!r}{did_you_mean(status, list(STATUSES))}; one of "
            f"{', '.join(STATUSES)}",
            where="--status",
        )
    if runs_dir.exists() and not runs_dir.is_dir() or given and not runs_dir.exists():
        what = "does not exist" if not runs_dir.exists() else "is a file, not a directory"
        raise UserError(
            f"the runs directory {runs_dir} {what}: give the folder `seqrun train` wrote its "
            "runs into (--runs-dir or SEQRUN_RUNS_DIR; default runs/)",
            where="--runs-dir",
        )
    if (runs_dir / "meta.json").is_file():
        runs = [Run(runs_dir)]  # a run directory itself
    elif (runs_dir / "sweep.json").is_file():  # a sweep's directory: its trials' runs
        runs = sweep_runs(runs_dir)
    elif any(runs_dir.glob("*/meta.json")):  # an experiment's folder: its runs (a
        runs = iter_runs(runs_dir.parent)  # cross-validation's folds stay inside their parent)
        name = name or runs_dir.name
    else:
        runs = iter_runs(runs_dir)
    rows = []
    for run in runs:
        if name and run.path.parent.name != name:
            continue
        problem = run.meta_problem(record=False)  # an incomplete record is still listed
        if problem:
            print(f"warning: {run.path}: {problem}; run skipped", file=sys.stderr)
            continue
        row = run_row(run)
        if status and row["status"] != status:
            continue
        damage = run.damage() if row["status"] == "completed" else []
        if damage:  # still listed: its record and metrics may be all that is wanted
            print(f"warning: {run.path}: completed, but {', '.join(damage)}", file=sys.stderr)
        rows.append(row)
    return rows


def _fmt_metrics(
    m: dict[str, float], units: dict[str, str] | None = None, finite: bool = False
) -> str:
    """``mae=0.1234 °F skill=0.5``; with ``finite``, a metric that is not a number is left out
    (a run none of whose metrics is a number gives an empty text)."""
    units = units or {}
    return " ".join(
        f"{k}={v:.4g}" + (f" {units[k]}" if k in units and " " not in units[k] else "")
        for k, v in m.items()
        if not finite or _finite(v)
    )


def render_runs(rows: list[dict[str, Any]], fmt: str = "table") -> None:
    """Print rows as a table, JSON (one array) or CSV."""
    if fmt == "json":
        print(to_json(rows))
        return
    if fmt == "csv":  # lines end in \n, as every other output; a missing value is empty
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["name", "id", "status", "overrides", "dev", "test", "duration_s", "path"])
        for r in rows:
            duration = r["duration_s"]
            w.writerow(
                [
                    r["name"],
                    r["id"],
                    r["status"],
                    " ".join(r["overrides"]),
                    _fmt_metrics(r["dev"], finite=True),
                    _fmt_metrics(r["test"], finite=True),
                    duration if _finite(duration) else "",
                    r["path"],
                ]
            )
        return
    cols = ("name", "id", "status", "overrides", "dev", "test", "duration")

    def fold_note(r: dict[str, Any], m: dict[str, float]) -> str:
        return f" (mean of {r['folds']} folds)" if r.get("folds") and m else ""

    cells = [
        (
            r["name"],
            r["id"],
            r["status"],
            " ".join(r["overrides"]),
            _fmt_metrics(r["dev"], r.get("units")) + fold_note(r, r["dev"]),
            _fmt_metrics(r["test"], r.get("units")) + fold_note(r, r["test"]),
            f"{r['duration_s']:.0f}s" if isinstance(r["duration_s"], int | float) else "",
        )
        for r in rows
    ]
    if not rows:
        print("no runs found")
        return
    shrink = ("overrides", "dev", "test", "name")
    drop = ("duration", "overrides", "test", "name", "status")
    print(plain_table(cols, cells, terminal_width(None), shrink, drop))


def plain_table(
    cols: tuple[str, ...],
    cells: list[tuple[str, ...]],
    width: int | None = None,
    shrink: tuple[str, ...] = (),
    drop: tuple[str, ...] = (),
) -> str:
    """Fixed-width columns (fast for thousands of rows, unlike a rich Table).

    With ``width``, every line fits in it: empty columns named in ``drop`` go first, then the
    ``shrink`` columns are abbreviated (widest first, cut at a space, ending in "…"), then the
    ``drop`` columns go in that order; a line still too long is cut.
    """
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(cols)]
    keep = list(range(len(cols)))
    if width is not None:
        keep, widths = _fit_columns(cols, cells, widths, width, shrink, drop)
    lines = ["  ".join(cols[i].ljust(widths[i]) for i in keep).rstrip()]
    for row in cells:
        lines.append("  ".join(_abbrev(row[i], widths[i]).ljust(widths[i]) for i in keep).rstrip())
    if width is not None:
        lines = [line if len(line) <= width else line[: width - 1] + "…" for line in lines]
    return "\n".join(lines)


_MIN_COL = 8  # an abbreviated column keeps at least this many characters
_MIN_METRICS = 16  # ... and a column of metrics at least this many


def _fit_columns(
    cols: tuple[str, ...],
    cells: list[tuple[str, ...]],
    widths: list[int],
    width: int,
    shrink: tuple[str, ...],
    drop: tuple[str, ...],
) -> tuple[list[int], list[int]]:
    """Which columns to show, and their widths, for lines of at most ``width`` characters."""
    widths = list(widths)
    keep = list(range(len(cols)))

    def total() -> int:
        return sum(widths[i] for i in keep) + 2 * (len(keep) - 1)

    def floor(i: int) -> int:
        least = _MIN_METRICS if cols[i] in ("dev", "test") else _MIN_COL
        return min(widths[i], max(least, len(cols[i])))

    for name in drop:  # a column with nothing in it is the first to go
        i = cols.index(name)
        if total() > width and not any(row[i] for row in cells):
            keep.remove(i)
    shrinkable = [cols.index(c) for c in shrink if c in cols]
    while total() > width:
        movable = [i for i in shrinkable if i in keep and widths[i] > floor(i)]
        if movable:
            wide = max(movable, key=lambda i: widths[i] - floor(i))
            widths[wide] = max(floor(wide), widths[wide] - (total() - width))
            continue
        gone = [cols.index(c) for c in drop if cols.index(c) in keep]
        if not gone:
            break
        keep.remove(gone[0])
    return keep, widths


def _abbrev(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, at a space when one is near, ending in "…"."""
    if len(text) <= width:
        return text
    head = text[: width - 1]
    space = head.rfind(" ")
    if space >= width // 2:
        head = head[:space]
    return head.rstrip() + "…"


def _abbrev_left(text: str, width: int) -> str:
    """``text`` cut to its last ``width`` characters, starting with "…" (run ids end paths)."""
    return text if len(text) <= width else "…" + text[len(text) - width + 1 :]


def terminal_width(default: int | None = 100) -> int | None:
    """Columns of the terminal: the COLUMNS variable, else the size of the terminal on stdout,
    else ``default`` (None: no limit, e.g. for lines piped into another program)."""
    import os

    value = os.environ.get("COLUMNS", "").strip()
    if value.isdigit() and int(value) > 0:
        return max(20, int(value))
    try:
        return max(20, os.get_terminal_size(sys.stdout.fileno()).columns)
    except (OSError, ValueError, AttributeError):
        return default


# ----------------------------------------------------------------------------- units

NORM_NOTE = "norm = divided by the target's standard deviation on the training split"
_FRACTIONS = ("accuracy", "precision", "recall", "f1", "auc")


def metric_unit(key: str, metrics: dict[str, Any]) -> str:
    """The unit of one metric of a metrics dict: the targets' unit for errors in original
    units (from ``per_target``), "× train std" for normalised errors, "" when it has none."""
    name = key.rsplit(".", 1)[-1]
    if name.endswith("skill"):
        return "1 - error / baseline error"
    if "_norm" in name:
        return "norm (× train std)"
    if name in ("n", "support", "daily_n"):
        return "items"
    if name == "horizon_steps":
        return "steps"
    if "mae" in name or "rmse" in name:
        per_target = metrics.get("per_target") or {}
        if "." in key:  # per_target.<name>.mae
            target = key.split(".")[-2]
            unit = (per_target.get(target) or {}).get("unit")
            return str(unit) if unit else ""
        units = {str(t.get("unit") or "") for t in per_target.values() if isinstance(t, dict)}
        if len(units) == 1:
            return units.pop()
        if len(units) > 1:  # rmse: the root of the mean of the targets' squared errors
            return f"mixed units ({'rms' if 'rmse' in name else 'mean'} over targets)"
    if name in _FRACTIONS or name.endswith("_accuracy"):
        return "fraction"
    return ""


NO_SKILL = "no skill: the baseline's error is 0 (e.g. no rain in the split) or nothing scored"
"""The unit column of a skill that is undefined (None in metrics/*.json)."""


def metric_rows(metrics: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(metric, value, unit) rows of a metrics dict for a table: numbers, short lists, and,
    with several targets, each target's errors."""
    rows = []
    for k, v in metrics.items():
        if isinstance(v, bool):
            continue
        if isinstance(v, float):
            rows.append((k, f"{v:.5g}", metric_unit(k, metrics)))
        elif isinstance(v, int | str) and k not in ("split", "checkpoint", "aggregate"):
            rows.append((k, str(v), metric_unit(k, metrics) if isinstance(v, int) else ""))
        elif isinstance(v, list) and v and all(isinstance(x, float) for x in v):
            rows.append((k, " ".join(f"{x:.4g}" for x in v), metric_unit(k, metrics)))
        elif v is None and k.endswith("skill"):
            rows.append((k, "n/a", NO_SKILL))
    per_target = metrics.get("per_target") or {}
    if isinstance(per_target, dict) and len(per_target) > 1:
        for target, m in per_target.items():
            for k in ("mae", "rmse", "skill"):
                if isinstance(m, dict) and isinstance(m.get(k), int | float):
                    key = f"per_target.{target}.{k}"
                    rows.append((f"{target} {k}", f"{m[k]:.5g}", metric_unit(key, metrics)))
                elif k == "skill" and isinstance(m, dict) and k in m and m[k] is None:
                    rows.append((f"{target} skill", "n/a", NO_SKILL))
    return rows


def headline_units(metrics: dict[str, Any] | None) -> dict[str, str]:
    """Units of the headline metrics that have one (``{"mae": "°F"}``)."""
    if not metrics:
        return {}
    out = {}
    for k in headline(metrics):
        unit = metric_unit(k, metrics)
        if unit and unit != "fraction" and k != "skill":
            out[k] = unit
    return out


def show_run(run: Run) -> None:
    """Print a run's meta, the warnings its training printed, config, metrics (with units),
    model summary and files."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(width=terminal_width(), highlight=False, soft_wrap=True)
    title = f"[bold]{escape(str(run.path))}"  # a folder named '[x]' is no markup
    if len(str(run.path)) + 4 <= console.width:
        console.rule(title)
    else:  # a rule would cut the path to …: it is printed whole, to be copied
        console.print(title)
    meta = run.meta()
    meta["status"] = run.status()
    warnings = meta.pop("warnings", None)  # a section of their own, one line each
    console.print("[bold]meta[/bold]")
    console.print(_yaml_text(meta), markup=False)
    if warnings:
        console.print("[bold]warnings[/bold]")
        shown = warnings if isinstance(warnings, list) else [warnings]  # a hand-edited meta
        for text in shown:
            console.print(f"  - {text}", markup=False)
    if run.config_path.is_file():
        console.print("[bold]config.yaml[/bold]")
        text = run.config_path.read_text(encoding="utf-8", errors="replace")
        console.print(text.rstrip(), markup=False)
    norm = False
    for split in ("dev", "test"):
        m = run.metrics(split)
        if m:
            console.print(f"[bold]metrics/{split}.json[/bold]")
            rows = metric_rows(m)
            norm = norm or any("norm" in unit for _, _, unit in rows)
            console.print(plain_table(("metric", "value", "unit"), rows), markup=False)
    if norm:
        console.print(NORM_NOTE, markup=False)
    summary = run.path / "model.txt"
    if summary.is_file():  # printed as written: a summary is not re-wrapped
        console.print("[bold]model[/bold]")
        console.file.flush()
        sys.stdout.write(summary.read_text(encoding="utf-8", errors="replace").rstrip() + "\n")
        sys.stdout.flush()
    console.print("[bold]files[/bold]")
    for p in sorted(run.path.rglob("*")):
        if p.is_file() and not p.name.startswith("."):
            console.print(
                f"  {p.relative_to(run.path)}  ({p.stat().st_size:,} bytes)", markup=False
            )


def _yaml_text(obj: Any) -> str:
    """YAML as a person reads it: non-ASCII characters as text (°F, not "\\xB0F")."""
    return yaml.safe_dump(obj, sort_keys=False, allow_unicode=True, width=10**6).rstrip()


SWEEP_STATE_FIX = "delete it: the runs stay, and rerunning the sweep skips its completed trials"
"""What to do with an unreadable sweep.json."""


LIVE_STATUSES = ("running", "queued")
"""Sweep trial statuses that a live sweep process owns: sweep.json records that process
(``pid``, ``host``), which holds ``.live-<host>-<pid>.lock`` beside it, so that readers tell a
trial of a killed sweep (:func:`sweep_state`)."""


def live_lock_name(pid: int, host: str) -> str:
    """The file name of the lock that sweep process ``pid`` on ``host`` holds while it owns
    running trials: the host is in it, as two machines sharing a runs directory may both run a
    sweep process with the same pid (containers number their processes alike)."""
    import re

    return f".live-{re.sub(r'[^A-Za-z0-9._-]', '_', str(host))}-{pid}.lock"


SWEEP_GONE = "its sweep process ({owner}) is gone; rerun the sweep to continue"
"""The error of a trial recorded running by a sweep process that died (SIGKILL, a lost node)."""


def _sweep_owner_gone(folder: Path, entry: dict[str, Any]) -> bool:
    """Whether the sweep process that recorded ``entry`` running is known to be gone: its
    live lock is free, or, without one, its pid is dead on this host."""
    import socket

    from seqrun.core.runs import lock_held, pid_alive

    pid = entry.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False  # written by an older seqrun: nothing tells
    held = lock_held(folder / live_lock_name(pid, entry.get("host", "")))
    if held is None:  # the name a sweep of the previous seqrun held
        held = lock_held(folder / f".live-{pid}.lock")
    if held is not None:
        return not held
    return entry.get("host") == socket.gethostname() and not pid_alive(pid)


def sweep_owner(folder: Path, entry: Any) -> str | None:
    """``pid N on HOST`` of the live sweep process, other than this one, that owns the trial
    ``entry`` of sweep.json (recorded ``running`` or ``queued`` by it); None when no other
    live process does (then this process may run the trial)."""
    import os
    import socket

    if not isinstance(entry, dict) or entry.get("status") not in LIVE_STATUSES:
        return None
    pid, host = entry.get("pid"), entry.get("host")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return None  # written by an older seqrun: nothing tells who owns it
    if pid == os.getpid() and host == socket.gethostname():
        return None
    if _sweep_owner_gone(folder, entry):
        return None
    return f"pid {pid} on {host or '?'}"


def sweep_state(sweep_dir: Path) -> dict[str, Any]:
    """sweep.json of a sweep directory (or the file itself), as it stands now: a trial
    recorded ``running`` or ``queued`` by a sweep process that has died shows as ``dead`` (or
    ``interrupted`` when its run says so; its run directory filled in from the runs), with
    ``error`` saying why, and ``stale`` listing those trials. Nothing is written."""
    from seqrun.core.errors import UserError
    from seqrun.core.runs import latest_run, read_state

    path = Path(sweep_dir)
    if path.is_file() and path.name != "sweep.json":  # not ours: no advice to delete it
        raise UserError(
            "not a sweep directory; give runs/_sweeps/<name> (it holds sweep.json)", str(path)
        )
    folder = path if path.is_dir() else path.parent
    state = read_state(folder / "sweep.json" if path.is_dir() else path, SWEEP_STATE_FIX)
    if state is None:
        raise UserError("no sweep.json here; give runs/_sweeps/<name>", where=str(sweep_dir))
    trials = state.setdefault("trials", {})
    if not isinstance(trials, dict):
        raise UserError(f"sweep.json has no 'trials' object; {SWEEP_STATE_FIX}", str(sweep_dir))
    root = folder.resolve().parent.parent  # <runs>/_sweeps/<name>
    stale = []
    for index, t in trials.items():
        if not isinstance(t, dict) or t.get("status") not in LIVE_STATUSES:
            continue
        if not _sweep_owner_gone(folder, t):
            continue
        stale.append(index)
        run = None
        if not t.get("run_dir") and isinstance(t.get("name"), str) and t.get("config_key"):
            run = latest_run(root, t["name"], t["config_key"])
        elif t.get("run_dir"):
            run = Run(Path(t["run_dir"]))
        status = run.status() if run is not None else "dead"
        t.update(
            status="interrupted" if status == "interrupted" else "dead",
            run_dir=str(run.path) if run is not None else t.get("run_dir"),
            error=SWEEP_GONE.format(owner=f"pid {t['pid']} on {t.get('host', '?')}"),
        )
    state["stale"] = stale
    return state


def warn_stale(state: dict[str, Any], where: Path) -> None:
    """One warning line on stderr naming the trials of a dead sweep process, if any."""
    stale = state.get("stale") or []
    if stale:
        shown = ", ".join(stale[:10]) + (", ..." if len(stale) > 10 else "")
        from seqrun.core.text import warn

        warn(
            f"{where}: trial{'s' * (len(stale) > 1)} {shown} "
            f"{'were' if len(stale) > 1 else 'was'} running when the sweep process died; "
            "rerun the sweep to continue"
        )


def sweep_runs(sweep_dir: Path) -> list[Run]:
    """The runs recorded in a sweep directory's sweep.json (a warning names the trials that a
    dead sweep process left recorded as running)."""
    path = Path(sweep_dir)
    state = sweep_state(path)
    warn_stale(state, path)
    root = (path if path.is_dir() else path.parent).resolve().parent.parent  # <runs>/_sweeps/X
    runs = []
    trials = [
        (int(i), t)
        for i, t in state.get("trials", {}).items()
        if i.isdigit() and isinstance(t, dict)
    ]  # an entry of another shape (a hand edit) names no run: the sweep itself skips it too
    for _, t in sorted(trials, key=lambda it: it[0]):
        if not t.get("run_dir") or not isinstance(t["run_dir"], str):
            continue
        run_dir = Path(t["run_dir"])
        if not (run_dir / "meta.json").is_file():  # relative to where the sweep ran (older
            run_dir = root / run_dir.parent.name / run_dir.name  # sweep.json files)
        if (run_dir / "meta.json").is_file():
            runs.append(Run(run_dir))
    return runs


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def compare_runs(runs: list[Run], split: str = "dev") -> dict[str, Any]:
    """Config keys that differ between runs, their metrics, and mean/std over seeds.

    Returns ``{"keys": [...], "rows": [...], "groups": [...]}``: one row per run (its values of
    the differing keys and its headline metrics), and one group per configuration that differs
    only by ``seed`` (mean and std of each metric over its runs).
    """
    import statistics

    from seqrun.core.config import flatten, read_saved_config

    flat = {run: flatten(read_saved_config(run.config_path)) for run in runs}
    all_keys = sorted({k for f in flat.values() for k in f})
    differing = [k for k in all_keys if len({json.dumps(f.get(k)) for f in flat.values()}) > 1]
    rows = []
    for run in runs:
        metrics = run.metrics(split)
        rows.append(
            {
                "run": str(run.path),
                "experiment": flat[run].get("name") or run.path.parent.name,
                "status": run.status(),
                "config": {k: flat[run].get(k) for k in differing},
                "seed": flat[run].get("seed"),
                "metrics": headline(metrics),
                "units": headline_units(metrics),
            }
        )
    group_keys = [k for k in differing if k != "seed"]
    groups: dict[str, list[dict[str, Any]]] = {}
    given_twice = False
    for r in rows:
        label = json.dumps({k: r["config"][k] for k in group_keys})
        members = groups.setdefault(label, [])
        if any(Path(m["run"]).resolve() == Path(r["run"]).resolve() for m in members):
            given_twice = True  # listed, but counted once in the mean over seeds
            continue
        members.append(r)
    if given_twice:
        print("warning: a run given twice counts once in the mean over seeds", file=sys.stderr)
    summary = []
    for label, members in groups.items():
        metrics = {}
        for m in headline_keys():
            values = [r["metrics"][m] for r in members if _finite(r["metrics"].get(m))]
            if values:  # the sample std (n - 1); none for a single run
                metrics[m] = {
                    "mean": statistics.fmean(values),
                    "std": statistics.stdev(values) if len(values) > 1 else None,
                    "n": len(values),
                }
        seeds = [r["seed"] for r in members]
        twice = sorted({str(s) for s in seeds if s is not None and seeds.count(s) > 1})
        if twice:
            print(
                f"warning: runs of one configuration share seed {', '.join(twice)}: the mean "
                "over seeds counts each of those runs",
                file=sys.stderr,
            )
        summary.append({"config": json.loads(label), "runs": len(members), "metrics": metrics})
    experiments = sorted({r["experiment"] for r in rows})
    return {
        "split": split,
        "experiments": experiments,
        "keys": differing,
        "rows": rows,
        "groups": summary,
    }


def render_compare(result: dict[str, Any], sort: str | None = None, fmt: str = "table") -> None:
    """Print a comparison as tables (per run, then mean +- std per configuration) or JSON."""
    from seqrun.core.errors import UserError

    rows, groups = result["rows"], result["groups"]
    if rows and not any(r["metrics"] for r in rows):
        raise UserError(nothing_to_compare(rows, result["split"]), where="runs compare")
    if sort:
        desc = sort.startswith("-")
        key = sort.lstrip("-")
        if not any(key in r["metrics"] for r in rows):
            known = sorted({m for r in rows for m in r["metrics"]})
            raise UserError(f"no metric '{key}' to sort by; known: {', '.join(known)}", "--sort")

        def order(value: Any) -> tuple[bool, float]:  # a missing or NaN metric last either way
            return (False, -value if desc else value) if _finite(value) else (True, 0.0)

        rows.sort(key=lambda r: order(r["metrics"].get(key)))
        groups.sort(key=lambda g: order(g["metrics"].get(key, {}).get("mean")))
    if fmt == "json":
        print(to_json(result))
        return
    width = terminal_width(None)
    if len(result.get("experiments", [])) > 1:
        print(
            "warning: these runs are of different experiments ("
            + ", ".join(result["experiments"])
            + "): every config key differs and the metrics may not be comparable",
            file=sys.stderr,
        )
    metrics = [m for m in headline_keys() if any(m in r["metrics"] for r in rows)]
    heads = [_metric_head(m, rows) for m in metrics]
    print(f"{result['split']} metrics")
    names = _short_run_names([r["run"] for r in rows])
    key_cells = [[_value_text(r["config"][k]) for k in result["keys"]] for r in rows]
    metric_cells = [
        [f"{r['metrics'][m]:.4g}" if m in r["metrics"] else "" for m in metrics] for r in rows
    ]
    cols = ("run", "status", *result["keys"], *heads)
    cells = [
        (name, r["status"], *kc, *mc)
        for name, r, kc, mc in zip(names, rows, key_cells, metric_cells, strict=True)
    ]
    wide = plain_table(cols, cells)
    many = len(result.get("experiments", [])) > 1 or len(result["keys"]) > 6
    if not many and (width is None or max(map(len, wide.splitlines())) <= width):
        print(wide)
    else:  # one key per row, one column per run (in blocks that fit the width)
        first = ["status", *result["keys"], *heads]
        columns = [
            (name, [r["status"], *kc, *mc])
            for name, r, kc, mc in zip(names, rows, key_cells, metric_cells, strict=True)
        ]
        print(_blocks("key", first, columns, width))
    if any(g["runs"] > 1 for g in groups):
        gkeys = [k for k in result["keys"] if k != "seed"]
        gcols = (*gkeys, "runs", *heads)
        gcells = []
        for g in groups:
            cells_g = [_value_text(g["config"][k]) for k in gkeys] + [str(g["runs"])]
            for m in metrics:
                st = g["metrics"].get(m)
                if st and st["std"] is not None:
                    cells_g.append(f"{st['mean']:.4g} +- {st['std']:.2g}")
                else:  # one run: no spread to show
                    cells_g.append(f"{st['mean']:.4g}" if st else "")
            gcells.append(tuple(cells_g))
        print("\nmean +- std over seeds")
        print(plain_table(gcols, gcells, width, shrink=tuple(gkeys)))


UNFINISHED = ("interrupted", "dead", "failed", "unknown")


def nothing_to_compare(rows: list[dict[str, Any]], split: str) -> str:
    """Why runs of which none has ``split`` metrics cannot be compared, naming each run and its
    status, and what would give them metrics."""
    names = _short_run_names([r["run"] for r in rows])
    shown = ", ".join(f"{n} ({r['status']})" for n, r in list(zip(names, rows, strict=True))[:8])
    if len(rows) > 8:
        shown += f" and {len(rows) - 8} more"
    statuses = {r["status"] for r in rows}
    fixes = []
    if statuses & set(UNFINISHED):
        fixes.append(
            "continue an unfinished run with seqrun train --resume RUN (a sweep's trials: "
            "rerun the sweep)"
        )
    if "running" in statuses:
        fixes.append("wait for a running one to end")
    if statuses - {*UNFINISHED, "running"}:
        fixes.append(f"score a finished run with seqrun evaluate RUN --split {split}")
    return (
        f"nothing to compare: none of the {len(rows)} runs has {split} metrics "
        f"({shown}); " + "; ".join(fixes)
    )


def _value_text(value: Any) -> str:
    """A config value as text (JSON, but non-ASCII characters as they are)."""
    return json.dumps(value, ensure_ascii=False)


def _metric_head(metric: str, rows: list[dict[str, Any]]) -> str:
    """A metric's column title with its unit when the runs agree on one (``mae °F``)."""
    units = {r.get("units", {}).get(metric, "") for r in rows if metric in r["metrics"]}
    if len(units) == 1:
        unit = units.pop()
        return f"{metric} {unit}" if unit and " " not in unit else metric
    return f"{metric} (units differ)" if len(units) > 1 else metric


def _short_run_names(paths: list[str]) -> list[str]:
    """Run ids, with their experiment name when ids alone would be ambiguous or mixed."""
    ids = [Path(p).name for p in paths]
    experiments = {Path(p).parent.name for p in paths}
    if len(set(ids)) == len(ids) and len(experiments) == 1:
        return ids
    return [f"{Path(p).parent.name}/{Path(p).name}" for p in paths]


def _blocks(
    head: str, first: list[str], columns: list[tuple[str, list[str]]], width: int | None
) -> str:
    """A table with ``first`` as its row titles and one column per entry of ``columns``,
    split into blocks of columns so that each line fits ``width``."""
    first_w = max(len(head), *(len(x) for x in first))
    if width is not None:
        first_w = min(first_w, max(12, width // 3))
    col_w = [max(len(h), *(len(x) for x in c)) for h, c in columns]
    if width is not None:
        col_w = [min(w, max(8, width - first_w - 2)) for w in col_w]
    blocks: list[list[int]] = [[]]
    used = first_w
    for i, w in enumerate(col_w):
        if blocks[-1] and width is not None and used + 2 + w > width:
            blocks.append([])
            used = first_w
        blocks[-1].append(i)
        used += 2 + w
    out = []
    for block in blocks:
        lines = [
            "  ".join(
                [_abbrev(head, first_w).ljust(first_w)]
                + [_abbrev_left(columns[i][0], col_w[i]).ljust(col_w[i]) for i in block]
            ).rstrip()
        ]
        for j, title in enumerate(first):
            lines.append(
                "  ".join(
                    [_abbrev(title, first_w).ljust(first_w)]
                    + [_abbrev(columns[i][1][j], col_w[i]).ljust(col_w[i]) for i in block]
                ).rstrip()
            )
        out.append("\n".join(lines))
    return "\n\n".join(out)
