"""Data leakage checks, run at the start of every `train` and by `seqrun data describe`.

* Text: texts that occur in train and in dev or test, exactly after normalising case and
  whitespace (``casefold`` and runs of whitespace -> one space). IMDB's ``imdb.npz`` has no raw
  text: there the token-id sequences are compared (Keras already lowercased them).
* Time series: windows of a split whose target(s) fall in another split's rows, and a dev or
  test period that starts before the end of the training data.

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

import hashlib
from typing import Any

import numpy as np

from seqrun.core.errors import UserError

TEXT_PAIRS = (("train", "dev"), ("train", "test"))
EXAMPLES = 3


def normalize_text(text: str) -> str:
    """Case-folded text with every run of whitespace made one space, ends stripped."""
    return " ".join(str(text).casefold().split())


def text_digest(text: str) -> bytes:
    """An 8-byte digest of the normalised text (what the duplicate check compares)."""
    return hashlib.blake2b(normalize_text(text).encode("utf-8"), digest_size=8).digest()


def ids_digest(ids: Any) -> bytes:
    """An 8-byte digest of a token-id sequence (texts given as ids, e.g. imdb.npz)."""
    return hashlib.blake2b(np.asarray(ids, dtype=np.int64).tobytes(), digest_size=8).digest()


def _short(text: str, width: int = 80) -> str:
    text = normalize_text(text)
    return text if len(text) <= width else text[: width - 3] + "..."


def empty_result(mode: str) -> dict[str, Any]:
    """A result with nothing checked yet."""
    return {"mode": mode, "found": False, "issues": [], "checked": [], "skipped": []}


def check(data: Any, mode: str = "warn") -> dict[str, Any]:
    """Run the checks that fit the data module; a JSON-serialisable result.

    Returns ``{"mode", "found", "issues": [...], "checked": [...], "skipped": [...]}``; each
    issue has ``check``, ``splits``, ``count``, ``of``, ``message`` and ``examples``.
    """
    result = empty_result(mode)
    if mode == "off":
        result["skipped"].append("every check (data.leakage: off)")
        return result
    from seqrun.data.series import SeriesData
    from seqrun.data.text import TextData

    if isinstance(data, TextData):
        _check_text(data, result)
    elif isinstance(data, SeriesData):
        _check_series(data, result)
    else:
        result["skipped"].append(f"no leakage check for {type(data).__name__}")
    result["found"] = bool(result["issues"])
    return result


# ----------------------------------------------------------------------------- text


def _digests(split: Any) -> list[bytes]:
    cached = split.cache.get("digests")
    if cached is None:
        if split.texts is not None:
            cached = [text_digest(t) for t in split.texts]
        else:
            cached = [ids_digest(s) for s in split.ids or []]
        split.cache["digests"] = cached
    return cached


def _text_of(data: Any, split: str, i: int) -> str:
    s = data.splits[split]
    if s.texts is not None:
        return s.texts[i]
    vocab = data.encoder.vocab if data.encoder is not None else data.vocabulary
    return vocab.decode(s.ids[i]) if vocab is not None else " ".join(map(str, s.ids[i]))


def _check_text(data: Any, result: dict[str, Any]) -> None:
    by_ids = any(s.texts is None for s in data.splits.values())
    how = (
        "identical token-id sequences" if by_ids else "exact after normalising case and whitespace"
    )
    result["skipped"].extend(data.leakage_notes)
    for a, b in TEXT_PAIRS:
        if a not in data.splits:
            continue
        if b in data.splits:
            other, b_loaded = _digests(data.splits[b]), True
        elif data.other_digests.get(b):
            other, b_loaded = data.other_digests[b], False
        else:
            continue
        result["checked"].append(f"{a}/{b} duplicate texts ({how})")
        first: dict[bytes, int] = {}
        for i, h in enumerate(_digests(data.splits[a])):
            first.setdefault(h, i)
        hits = [(j, first[h]) for j, h in enumerate(other) if h in first]
        if not hits:
            continue
        sa = data.splits[a]
        examples = []
        for j, i in hits[:EXAMPLES]:
            ex: dict[str, Any] = {"text": _short(_text_of(data, a, i))}
            ex[f"{a}_id"] = sa.row_ids[i] if sa.row_ids is not None else i
            if b_loaded:
                sb = data.splits[b]
                ex[f"{b}_id"] = sb.row_ids[j] if sb.row_ids is not None else j
            examples.append(ex)
        n = len(hits)
        result["issues"].append(
            {
                "check": "duplicate_texts",
                "splits": [a, b],
                "count": n,
                "of": len(other),
                "message": f"{n} of {len(other)} {b} texts also occur in {a} ({how})",
                "examples": examples,
            }
        )


# ----------------------------------------------------------------------------- time series


def _check_series(data: Any, result: dict[str, Any]) -> None:
    bounds = {k: v for k, v in data.bounds.items() if v["rows"][1] > v["rows"][0]}
    if not bounds:
        result["skipped"].append("time-series checks (the adapter gave no split boundaries)")
        return
    seq, h = data.sequence_len, data.horizon
    first_off = h if data.seq2seq else seq - 1 + h  # first target row relative to the start
    last_off = seq - 1 + h
    result["checked"].append("time-series windows whose targets fall in another split")
    for name, split in data.splits.items():
        if name not in bounds:
            continue
        lo = bounds[name]["rows"][0]
        t_first = lo + split.starts + first_off
        t_last = lo + split.starts + last_off
        for other, ob in bounds.items():
            if other == name:
                continue
            olo, ohi = ob["rows"]
            hit = np.flatnonzero((t_first < ohi) & (t_last >= olo))
            if not len(hit):
                continue
            examples = [
                {
                    "window_start_row": int(lo + split.starts[i]),
                    "target_row": int(t_last[i]),
                    f"{other}_rows": [int(olo), int(ohi)],
                }
                for i in hit[:EXAMPLES]
            ]
            result["issues"].append(
                {
                    "check": "window_targets_in_other_split",
                    "splits": [name, other],
                    "count": int(len(hit)),
                    "of": int(len(split.starts)),
                    "message": f"{len(hit)} of {len(split.starts)} {name} windows have targets "
                    f"in the {other} split (rows {olo}-{ohi - 1})",
                    "examples": examples,
                }
            )
    train = bounds.get("train")
    if train is None:
        return
    result["checked"].append("dev/test periods after the training data")
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
        result["issues"].append(
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
