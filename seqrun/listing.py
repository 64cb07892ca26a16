"""`seqrun runs list` and `seqrun runs show`: read small metadata files only, never TensorFlow."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from seqrun.runs import Run, iter_runs

HEADLINE = ("accuracy", "f1", "auc", "mae", "rmse", "skill")


def _headline(metrics: dict[str, Any] | None) -> dict[str, float]:
    if not metrics or not isinstance(metrics, dict):
        return {}
    return {k: metrics[k] for k in HEADLINE if isinstance(metrics.get(k), int | float)}


def run_row(run: Run) -> dict[str, Any]:
    """The summary of one run shown by `runs list`."""
    meta = run.meta()
    row: dict[str, Any] = {
        "name": run.path.parent.name,
        "id": run.path.name,
        "status": run.status(),
        "overrides": [str(o) for o in meta.get("overrides") or []]
        if isinstance(meta.get("overrides"), list)
        else [],
        "started_at": meta.get("started_at"),
        "duration_s": meta.get("duration_s"),
        "epochs": meta.get("epochs_completed"),
        "dev": _headline(run.metrics("dev")),
        "test": _headline(run.metrics("test")),
        "path": str(run.path),
    }
    if meta.get("kind") == "cv":  # a cross-validation parent: metrics are means over folds
        row["folds"] = meta.get("folds")
    return row


def meta_problem(run: Run) -> str | None:
    """Why a run's meta.json cannot be read (None when it reads as a JSON object)."""
    try:
        meta = json.loads(run.meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return f"{type(e).__name__}: {e}"
    if not isinstance(meta, dict):
        return f"expected a JSON object, found {type(meta).__name__}"
    return None


def list_runs(runs_dir: Path, name: str | None = None, status: str | None = None) -> list[dict]:
    """Rows for every readable run under ``runs_dir``, newest first, filtered.

    A run whose meta.json is unreadable (truncated, corrupt, not an object) is reported in one
    warning line on stderr and left out.
    """
    rows = []
    for run in iter_runs(runs_dir):
        if name and run.path.parent.name != name:
            continue
        problem = meta_problem(run)
        if problem:
            print(
                f"warning: {run.meta_path}: unreadable meta.json ({problem[:200]}); run skipped",
                file=sys.stderr,
            )
            continue
        row = run_row(run)
        if status and row["status"] != status:
            continue
        rows.append(row)
    return rows


def _fmt_metrics(m: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.4g}" for k, v in m.items())


def render_runs(rows: list[dict[str, Any]], fmt: str = "table") -> None:
    """Print rows as a table, JSON (one array) or CSV."""
    if fmt == "json":
        print(json.dumps(rows))
        return
    if fmt == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(["name", "id", "status", "overrides", "dev", "test", "duration_s", "path"])
        for r in rows:
            w.writerow(
                [
                    r["name"],
                    r["id"],
                    r["status"],
                    " ".join(r["overrides"]),
                    _fmt_metrics(r["dev"]),
                    _fmt_metrics(r["test"]),
                    r["duration_s"],
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
            _fmt_metrics(r["dev"]) + fold_note(r, r["dev"]),
            _fmt_metrics(r["test"]) + fold_note(r, r["test"]),
            f"{r['duration_s']:.0f}s" if isinstance(r["duration_s"], int | float) else "",
        )
        for r in rows
    ]
    print(plain_table(cols, cells) if rows else "no runs found")


def plain_table(cols: tuple[str, ...], cells: list[tuple[str, ...]]) -> str:
    """Fixed-width columns (fast for thousands of rows, unlike a rich Table)."""
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(x.ljust(w) for x, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def show_run(run: Run) -> None:
    """Print a run's config, meta, metrics, model summary and files."""
    from rich.console import Console

    console = Console(width=160)
    console.rule(f"[bold]{run.path}")
    meta = run.meta()
    meta["status"] = run.status()
    console.print("[bold]meta[/bold]")
    console.print(yaml.safe_dump(meta, sort_keys=False).rstrip(), markup=False, highlight=False)
    if run.config_path.is_file():
        console.print("[bold]config.yaml[/bold]")
        console.print(run.config_path.read_text().rstrip(), markup=False, highlight=False)
    for split in ("dev", "test"):
        m = run.metrics(split)
        if m:
            console.print(f"[bold]metrics/{split}.json[/bold]  {_fmt_metrics(_headline(m))}")
    summary = run.path / "model.txt"
    if summary.is_file():
        console.print("[bold]model[/bold]")
        console.print(summary.read_text().rstrip(), markup=False, highlight=False)
    console.print("[bold]files[/bold]")
    for p in sorted(run.path.rglob("*")):
        if p.is_file() and not p.name.startswith("."):
            console.print(f"  {p.relative_to(run.path)}  ({p.stat().st_size:,} bytes)")


def sweep_runs(sweep_dir: Path) -> list[Run]:
    """The runs recorded in a sweep directory's sweep.json."""
    from seqrun.errors import UserError
    from seqrun.runs import read_json

    path = Path(sweep_dir)
    state = read_json(path / "sweep.json") if path.is_dir() else read_json(path)
    if not state:
        raise UserError("no sweep.json here; give runs/_sweeps/<name>", where=str(sweep_dir))
    runs = []
    for _, t in sorted(state.get("trials", {}).items(), key=lambda kv: int(kv[0])):
        if t.get("run_dir") and (Path(t["run_dir"]) / "meta.json").is_file():
            runs.append(Run(Path(t["run_dir"])))
    return runs


def compare_runs(runs: list[Run], split: str = "dev") -> dict[str, Any]:
    """Config keys that differ between runs, their metrics, and mean/std over seeds.

    Returns ``{"keys": [...], "rows": [...], "groups": [...]}``: one row per run (its values of
    the differing keys and its headline metrics), and one group per configuration that differs
    only by ``seed`` (mean and std of each metric over its runs).
    """
    import statistics

    from seqrun.config import flatten

    flat = {}
    for run in runs:
        try:
            flat[run] = flatten(yaml.safe_load(run.config_path.read_text()) or {})
        except OSError:
            flat[run] = {}
    all_keys = sorted({k for f in flat.values() for k in f})
    differing = [k for k in all_keys if len({json.dumps(f.get(k)) for f in flat.values()}) > 1]
    rows = []
    for run in runs:
        rows.append(
            {
                "run": str(run.path),
                "status": run.status(),
                "config": {k: flat[run].get(k) for k in differing},
                "metrics": _headline(run.metrics(split)),
            }
        )
    group_keys = [k for k in differing if k != "seed"]
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        label = json.dumps({k: r["config"][k] for k in group_keys})
        groups.setdefault(label, []).append(r)
    summary = []
    for label, members in groups.items():
        metrics = {}
        for m in HEADLINE:
            values = [r["metrics"][m] for r in members if m in r["metrics"]]
            if values:
                metrics[m] = {
                    "mean": statistics.fmean(values),
                    "std": statistics.stdev(values) if len(values) > 1 else 0.0,
                    "n": len(values),
                }
        summary.append({"config": json.loads(label), "runs": len(members), "metrics": metrics})
    return {"split": split, "keys": differing, "rows": rows, "groups": summary}


def render_compare(result: dict[str, Any], sort: str | None = None, fmt: str = "table") -> None:
    """Print a comparison as tables (per run, then mean +- std per configuration) or JSON."""
    from seqrun.errors import UserError

    rows, groups = result["rows"], result["groups"]
    if sort:
        desc = sort.startswith("-")
        key = sort.lstrip("-")
        if not any(key in r["metrics"] for r in rows):
            known = sorted({m for r in rows for m in r["metrics"]})
            raise UserError(f"no metric '{key}' to sort by; known: {', '.join(known)}", "--sort")
        missing = float("inf")
        rows.sort(key=lambda r: r["metrics"].get(key, missing), reverse=desc)
        groups.sort(key=lambda g: g["metrics"].get(key, {}).get("mean", missing), reverse=desc)
    if fmt == "json":
        print(json.dumps(result))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(width=200)
    metrics = [m for m in HEADLINE if any(m in r["metrics"] for r in rows)]
    table = Table(title=f"{result['split']} metrics", box=None)
    for col in ["run", "status", *result["keys"], *metrics]:
        table.add_column(col)
    for r in rows:
        cells = [Path(r["run"]).name, r["status"]]
        cells += [json.dumps(r["config"][k]) for k in result["keys"]]
        cells += [f"{r['metrics'][m]:.4g}" if m in r["metrics"] else "" for m in metrics]
        table.add_row(*cells)
    console.print(table)
    if any(g["runs"] > 1 for g in groups):
        gkeys = [k for k in result["keys"] if k != "seed"]
        gt = Table(title="mean +- std over seeds", box=None)
        for col in [*gkeys, "runs", *metrics]:
            gt.add_column(col)
        for g in groups:
            cells = [json.dumps(g["config"][k]) for k in gkeys] + [str(g["runs"])]
            for m in metrics:
                s = g["metrics"].get(m)
                cells.append(f"{s['mean']:.4g} +- {s['std']:.2g}" if s else "")
            gt.add_row(*cells)
        console.print(gt)
