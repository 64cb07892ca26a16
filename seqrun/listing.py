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
    if not metrics:
        return {}
    return {k: metrics[k] for k in HEADLINE if isinstance(metrics.get(k), int | float)}


def run_row(run: Run) -> dict[str, Any]:
    """The summary of one run shown by `runs list`."""
    meta = run.meta()
    row: dict[str, Any] = {
        "name": run.path.parent.name,
        "id": run.path.name,
        "status": run.status(),
        "overrides": meta.get("overrides") or [],
        "started_at": meta.get("started_at"),
        "duration_s": meta.get("duration_s"),
        "epochs": meta.get("epochs_completed"),
        "dev": _headline(run.metrics("dev")),
        "test": _headline(run.metrics("test")),
        "path": str(run.path),
    }
    return row


def list_runs(runs_dir: Path, name: str | None = None, status: str | None = None) -> list[dict]:
    """Rows for every run under ``runs_dir``, newest first, filtered."""
    rows = []
    for run in iter_runs(runs_dir):
        if name and run.path.parent.name != name:
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
    from rich.console import Console
    from rich.table import Table

    table = Table(show_header=True, box=None)
    for col in ("name", "id", "status", "overrides", "dev", "test", "duration"):
        table.add_column(col)
    for r in rows:
        dur = f"{r['duration_s']:.0f}s" if isinstance(r["duration_s"], int | float) else ""
        table.add_row(
            r["name"],
            r["id"],
            r["status"],
            " ".join(r["overrides"]),
            _fmt_metrics(r["dev"]),
            _fmt_metrics(r["test"]),
            dur,
        )
    console = Console(width=200)
    console.print(table)
    if not rows:
        console.print("no runs found")


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
