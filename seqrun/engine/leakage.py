"""Data leakage checks, run at the start of every `train` and by `seqrun data describe`.

Each data family finds its own leakage (``DataModule.leakage``): the text family compares
normalised texts between train and dev or test (:mod:`seqrun.data.text_describe`), the
time-series family windows reaching into another split and periods before the training data
(:mod:`seqrun.data.series_describe`). This module gives the findings one shape, merges them
over folds, writes them in one line and acts on them.

What `train` reads: the text adapters hash the texts of splits they do not load (``text_table``
reads the whole table anyway, so the test texts' digests cost milliseconds; nothing of test is
scored). ``imdb`` does not read its 25,000 test reviews at every train: its train/test check is
left to `seqrun data describe` (noted in the result). Time series compare split boundaries,
which the adapters know for every split without building its windows.

Pure Python and numpy: no TensorFlow. ``data.leakage`` (every adapter) picks what a finding
does: ``warn`` (default) prints counts and examples, ``error`` stops with exit code 2, ``off``
skips the checks. The result is recorded in the run's ``meta.json`` under ``leakage``.
"""

from __future__ import annotations

from typing import Any

from seqrun.core.errors import UserError


def empty_result(mode: str) -> dict[str, Any]:
    """A result with nothing checked yet."""
    return {"mode": mode, "found": False, "issues": [], "checked": [], "skipped": []}


def check(data: Any, mode: str = "warn") -> dict[str, Any]:
    """The data module's checks (``data.leakage(mode)``); a JSON-serialisable result.

    Returns ``{"mode", "found", "issues": [...], "checked": [...], "skipped": [...]}``; each
    issue has ``check``, ``splits``, ``count``, ``of``, ``message`` and ``examples``.
    """
    result = empty_result(mode)
    if mode == "off":
        result["skipped"].append("every check (data.leakage: off)")
        return result
    found = data.leakage(mode)
    for key in ("issues", "checked", "skipped"):
        result[key].extend(found.get(key, []))
    result["found"] = bool(result["issues"])
    return result


# ----------------------------------------------------------------------------- reporting


def summary(result: dict[str, Any]) -> str:
    """The findings in one line: counts and the first example of each."""
    parts = []
    for issue in result["issues"]:
        text = (f"fold {issue['fold']}: " if "fold" in issue else "") + issue["message"]
        ex = issue["examples"][0] if issue["examples"] else None
        if ex and "text" in ex:
            ids = ", ".join(f"{k.removesuffix('_id')} id {v}" for k, v in ex.items() if k != "text")
            text += f', e.g. "{ex["text"]}" ({ids})'
        elif ex and "window_start_row" in ex:
            text += f", e.g. the window at row {ex['window_start_row']}"
        parts.append(text)
    return "; ".join(parts)


def enforce(result: dict[str, Any], say: Any = None) -> None:
    """Warn about findings (``warn``) or stop with a one-line UserError (``error``)."""
    if not result.get("found"):
        return
    text = summary(result)
    if result["mode"] == "error":
        raise UserError(
            f"leakage found: {text}; remove the duplicates or fix the split (or set "
            "data.leakage: warn)",
            where="data.leakage",
        )
    if say is None:
        from seqrun.core.text import warn as say
    say(f"data leakage: {text} (data.leakage: error stops here, off skips the checks)")


def merge(results: list[dict[str, Any]], labels: list[Any], key: str = "fold") -> dict[str, Any]:
    """One result for several (e.g. one per fold): issues tagged with their label."""
    out = empty_result(results[0]["mode"] if results else "warn")
    for label, r in zip(labels, results, strict=True):
        for issue in r["issues"]:
            out["issues"].append({key: label, **issue})
        for what in ("checked", "skipped"):
            out[what].extend(x for x in r[what] if x not in out[what])
    out["found"] = bool(out["issues"])
    return out
