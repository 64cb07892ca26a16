"""`seqrun report RUN`: one self-contained report.html (images embedded, no network needed)."""

from __future__ import annotations

import base64
import contextlib
import csv
import html
import json
from pathlib import Path
from typing import Any

from seqrun.core.runs import Run, atomic_write_text, share_run

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#222;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;
margin-top:2rem} table{border-collapse:collapse;margin:.5rem 0;font-size:.92rem}
td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f5f5f5} td.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f7f7f7;padding:.8rem;overflow:auto;font-size:.85rem}
.status{display:inline-block;padding:.1rem .5rem;border-radius:.3rem;color:#fff}
.completed{background:#2a7d2a}.failed,.dead{background:#b22}.interrupted,.running{background:#c80}
img{max-width:100%;border:1px solid #eee;margin:.4rem 0} .muted{color:#777}
.better{color:#2a7d2a;font-weight:600}.worse{color:#b22;font-weight:600}
"""

# a data attribute the tests read back from the rendered page
SCRIPT = """
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-images', imgs.length);
  document.body.setAttribute('data-images-loaded', ok);
});
"""


def _e(x: Any) -> str:
    return html.escape(str(x))


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.5g}"
    return _e(v)


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return (
        f'<figure><img alt="{_e(alt)}" src="data:image/png;base64,{data}">'
        f'<figcaption class="muted">{_e(alt)}</figcaption></figure>'
    )


def _kv_table(d: dict[str, Any]) -> str:
    def cell(v: Any) -> str:
        return _e(json.dumps(v)) if isinstance(v, dict | list) else _fmt(v)

    rows = "".join(f"<tr><th>{_e(k)}</th><td>{cell(v)}</td></tr>" for k, v in d.items())
    return f"<table>{rows}</table>"


def _metrics_section(run: Run, metric_set: str | None = None) -> str:
    """Every scalar metric of each scored split, and the model against the baselines that the
    run's metric set (``metric_set``) declares."""
    from seqrun.engine.listing import baselines

    parts = []
    splits = [s for s in ("dev", "test") if run.metrics(s)]
    if not splits:
        return "<p class='muted'>No metrics yet.</p>"
    scalars = sorted(
        {k for s in splits for k, v in run.metrics(s).items() if isinstance(v, int | float)} - {"n"}
    )
    head = "".join(f"<th>{s}</th>" for s in splits)
    rows = []
    for k in scalars:
        cells = "".join(f"<td class='num'>{_fmt(run.metrics(s).get(k, ''))}</td>" for s in splits)
        rows.append(f"<tr><th>{_e(k)}</th>{cells}</tr>")
    parts.append(f"<table><tr><th>metric</th>{head}</tr>{''.join(rows)}</table>")
    # model against baseline, in words
    for s in splits:
        m = run.metrics(s)
        for key, (base, better) in baselines(metric_set).items():
            if isinstance(m.get(key), int | float) and isinstance(m.get(base), int | float):
                won = m[key] < m[base] if better == "min" else m[key] > m[base]
                cls = "better" if won else "worse"
                word = "beats" if won else "does not beat"
                parts.append(
                    f"<p>{s}: model {key} <b>{_fmt(m[key])}</b> <span class='{cls}'>{word}</span>"
                    f" the baseline ({base} {_fmt(m[base])}).</p>"
                )
    return "".join(parts)


def _history_table(run: Run) -> str:
    path = run.path / "history.csv"
    if not path.is_file():
        return ""
    try:  # a damaged file (bad bytes shown as such) is reported, not fatal
        with path.open(encoding="utf-8", errors="replace", newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, csv.Error) as e:
        return f"<p class='muted'>history.csv is unreadable ({_e(e)})</p>"
    if len(rows) < 2:
        return ""
    head = "".join(f"<th>{_e(c)}</th>" for c in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td class='num'>{_fmt(_num(c))}</td>" for c in r) + "</tr>"
        for r in rows[1:]
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _num(text: str) -> Any:
    try:
        return float(text) if "." in text or "e" in text else int(text)
    except ValueError:
        return text


def _mistakes(run: Run, limit: int = 20) -> str:
    """The most confident mistakes of each scored split (test first, once it was scored)."""
    out = []
    for path in sorted(run.path.glob("*errors*.jsonl")):
        by_split: dict[str, list[dict[str, Any]]] = {}
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except ValueError:
                    continue
                group = by_split.setdefault(str(item.get("split", "")), [])
                if len(group) < limit:
                    group.append(item)
        order = sorted(by_split, key=lambda k: (not k.startswith("test"), k))
        for split in order:
            items = by_split[split]
            keys = [k for k in items[0] if k not in ("tokens", "split")]
            head = "".join(f"<th>{_e(k)}</th>" for k in keys)
            body = "".join(
                "<tr>" + "".join(f"<td>{_fmt(it.get(k, ''))}</td>" for k in keys) + "</tr>"
                for it in items
            )
            title = f"{split} mistakes" if split else path.name
            out.append(
                f"<h3>{_e(title)} <span class='muted'>(most confident first, {_e(path.name)})"
                f"</span></h3><table><tr>{head}</tr>{body}</table>"
            )
    return "".join(out)


def _cv_section(run: Run) -> str:
    """Per-fold metrics (dev, and test once scored), mean +- std, and the folds' curves."""
    from seqrun.engine import experiment as cv
    from seqrun.engine.listing import headline_keys

    folds = cv.fold_table(run)
    if not folds:
        return "<p class='muted'>No fold has finished yet.</p>"
    plot = run.plots / "cv.png"
    if not plot.is_file():  # a cross-validation from before this plot existed
        cv.plot_folds(run)
    tests = [Run(run.path / f["run_dir"]).metrics("test") for f in folds]
    keys = headline_keys()
    dev_keys = [m for m in keys if any(m in f.get("metrics", {}) for f in folds)]
    test_keys = [m for m in keys if any(t and m in t for t in tests)]
    head = "<th>fold</th><th>run</th><th>best epoch</th>"
    head += "".join(f"<th>dev {_e(m)}</th>" for m in dev_keys)
    head += "".join(f"<th>test {_e(m)}</th>" for m in test_keys)
    rows = []
    for f, t in zip(folds, tests, strict=True):
        cells = [_e(f["fold"]), _e(f["run_dir"]), _fmt(f.get("best_epoch", ""))]
        cells += [_fmt(f.get("metrics", {}).get(m, "")) for m in dev_keys]
        cells += [_fmt((t or {}).get(m, "")) for m in test_keys]
        rows.append("<tr>" + "".join(f"<td class='num'>{c}</td>" for c in cells) + "</tr>")
    summary = []
    for name, keys, label in (("cv", dev_keys, "dev"), ("cv-test", test_keys, "test")):
        stats = (run.metrics(name) or {}).get("metrics", {})
        for m in keys:
            if m in stats:
                s = stats[m]
                summary.append(f"{label} {_e(m)} <b>{_fmt(s['mean'])} +- {_fmt(s['std'])}</b>")
    parts = [
        f"<table><tr>{head}</tr>{''.join(rows)}</table>",
        f"<p>mean +- std (n - 1) over {len(folds)} folds: {'; '.join(summary)}</p>"
        if summary
        else "",
    ]
    if plot.is_file():
        parts.append(_img(plot, "cross-validation: every fold's learning curves and metric"))
    return "".join(parts)


def build_report(run: Run, describe: dict[str, Any] | None = None) -> str:
    """The report's HTML text."""
    meta = run.meta()
    status = run.status()
    from seqrun.core.config import read_saved_config

    cfg = read_saved_config(run.config_path)  # bad YAML or bytes: a one-line error
    config = run.config_path.read_text(encoding="utf-8-sig") if run.config_path.is_file() else ""
    name = cfg.get("name", run.path.parent.name)
    facts = {
        k: meta.get(k)
        for k in (
            "started_at",
            "ended_at",
            "duration_s",
            "epochs_completed",
            "best_epoch",
            "seed",
            "git_commit",
            "host",
            "seqrun_version",
            "tensorflow_version",
            "keras_version",
            "python_version",
        )
        if meta.get(k) is not None
    }
    data_info = dict(meta["data"]) if isinstance(meta.get("data"), dict) else {}
    if describe:
        data_info.update(describe)
    plots = sorted((run.path / "plots").glob("*.png")) if (run.path / "plots").is_dir() else []
    is_cv = meta.get("kind") == "cv"
    curves = [p for p in plots if p.stem == "learning_curves"]
    others = [p for p in plots if p.stem not in ("learning_curves", "cv")]
    sections = [
        f"<h1>{_e(name)} <span class='status {_e(status)}'>{_e(status)}</span></h1>",
        f"<p class='muted'>{_e(run.path)}</p>",
        "<h2>Run</h2>",
        _kv_table(facts),
        f"<p class='muted'>command: <code>{_e(' '.join(meta.get('command') or []))}</code></p>",
        "<h2>Data</h2>",
        _kv_table(data_info) if data_info else "<p class='muted'>No data description.</p>",
        "<h2>Metrics against baselines</h2>",
        _metrics_section(run, cfg.get("metrics") if isinstance(cfg.get("metrics"), str) else None),
        *(["<h2>Cross-validation folds</h2>", _cv_section(run)] if is_cv else []),
        "<h2>Learning curves</h2>",
        "".join(_img(p, "learning curves") for p in curves)
        or ("<p class='muted'>one per fold, above</p>" if is_cv else "<p class='muted'>none</p>"),
        _history_table(run),
        "<h2>Predictions</h2>",
        "".join(_img(p, p.stem) for p in others) or "<p class='muted'>none</p>",
        _mistakes(run),
        "<h2>Config</h2>",
        f"<pre>{_e(config)}</pre>",
    ]
    if meta.get("error"):
        sections.insert(3, f"<p class='worse'>error: {_e(meta['error'])}</p>")
    body = "\n".join(sections)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>seqrun report: {_e(name)}</title><style>{CSS}</style>"
        f"<script>{SCRIPT}</script></head><body>{body}</body></html>"
    )


def write_report(run: Run, describe: dict[str, Any] | None = None) -> Path:
    """Write ``report.html`` into the run directory and return its path. A run still being
    trained is reported as it is now, with a warning (training does not write the report
    again); otherwise no resume starts while the report is written (it would drop it)."""
    path = run.path / "report.html"
    hold = share_run(run)
    if hold is None:
        from seqrun.core.text import warn

        epochs = run.meta().get("epochs_completed")
        warn(
            f"{run.path}: the run is still being trained by {run.owner() or 'a live process'}: "
            f"the report shows it after epoch {epochs or 0} and stays so when training ends; "
            "run `seqrun report` again then"
        )
    with hold or contextlib.nullcontext():
        atomic_write_text(path, build_report(run, describe))
    return path
