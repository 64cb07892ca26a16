"""`seqrun data describe CONFIG`: what an experiment's data looks like, without training.

Split sizes; class balance (classification) or target statistics (regression, forecasts);
text lengths and how much the sequence length truncates; how well the training vocabulary
covers dev and test; values filled by interpolation and rows dropped (weather); the time span of
each split (time series); and the leakage checks of :mod:`seqrun.engine.leakage`.

It reads every split, test included: this is a report on the data, not model selection (no
model is trained or scored, nothing is tuned on it). Pure Python, numpy and (for the weather
adapters) pandas: no TensorFlow, so it answers in about a second.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

NOTE = (
    "describe reads every split, test included: a report on the data, not model selection "
    "(no model is trained or scored)"
)
PERCENTILES = (50, 90, 95, 99)


def split_names(cfg: Any) -> tuple[str, ...]:
    """The splits of a config that hold data (no test when ``data.split.test`` is 0)."""
    split = getattr(cfg.data, "split", None)
    if split is not None and getattr(split, "test", None) == 0:
        return ("train", "dev")
    return ("train", "dev", "test")


def load(cfg: Any, names: tuple[str, ...] | None = None) -> Any:
    """The adapter's data module with the given splits (default: every non-empty one)."""
    from seqrun.data.base import open_adapter

    return open_adapter(cfg).load(names or split_names(cfg))


def describe(cfg: Any) -> dict[str, Any]:
    """The whole description as plain data (what ``--json`` prints)."""
    from seqrun.data.base import kfold_of
    from seqrun.engine import leakage

    out: dict[str, Any] = {
        "name": cfg.name,
        "adapter": cfg.data.adapter,
        "note": NOTE,
    }
    k = kfold_of(cfg)
    if k and cfg.data.split.fold is None:
        from seqrun.engine.experiment import fold_config, scheme

        folds, leaks = [], []
        detail = None
        for f in range(k):
            fcfg = fold_config(cfg, f)
            data = load(fcfg)
            info = describe_data(fcfg, data)
            leaks.append(leakage.check(data, cfg.data.leakage))
            folds.append({"fold": f, **_fold_summary(info)})
            if detail is None:
                detail = info
        out.update(detail or {})
        out["kfold"] = {
            "folds": k,
            "scheme": scheme(cfg),
            "detail": "splits below are fold 0's; data.split.fold=K shows another",
            "per_fold": folds,
        }
        out["leakage"] = leakage.merge(leaks, list(range(k)))
        return out
    data = load(cfg)
    out.update(describe_data(cfg, data))
    out["leakage"] = leakage.check(data, cfg.data.leakage)
    return out


def describe_data(cfg: Any, data: Any) -> dict[str, Any]:
    """Description of a loaded data module (text or series)."""
    from seqrun.data.series import SeriesData
    from seqrun.data.text import TextData

    if isinstance(data, TextData):
        return _text(cfg, data)
    if isinstance(data, SeriesData):
        return _series(cfg, data)
    return {"sizes": data.sizes()}


def _fold_summary(info: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"sizes": info.get("sizes")}
    splits = info.get("splits", {})
    if "dev" in splits:
        dev = splits["dev"]
        for key in ("classes", "first_time", "last_time", "row_range"):
            if key in dev:
                out[f"dev_{key}"] = dev[key]
    return out


def _stats(values: np.ndarray) -> dict[str, float]:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if not len(v):
        return {"n": 0}
    out = {
        "n": int(len(v)),
        "mean": float(v.mean()),
        "std": float(v.std()),
        "min": float(v.min()),
    }
    for p, q in zip(PERCENTILES, np.percentile(v, PERCENTILES), strict=True):
        out[f"p{p}"] = float(q)
    out["max"] = float(v.max())
    return out


# ----------------------------------------------------------------------------- text


def _text(cfg: Any, data: Any) -> dict[str, Any]:
    from seqrun.encoders.text import TextEncoder, encoder_kind, sequence_length
    from seqrun.engine import leakage

    kind = encoder_kind(cfg.encoder)
    enc = TextEncoder(cfg.encoder)  # the shared part only: tokenizer and training vocabulary
    data.fit_encoder(enc)
    vocab = enc.vocab
    raw = all(s.texts is not None for s in data.splits.values())
    tokens: dict[str, Counter] = {}
    for name in data.splits:
        if raw:
            tokens[name] = Counter(t for toks in data.split_tokens(name) for t in toks)
    ids = {name: data.split_ids(name) for name in data.splits}
    train_ids = ids["train"]
    seq_len = (
        sequence_length(cfg.encoder, data.sequence_hints, train_ids) if kind == "sequence" else None
    )
    train_types = set(tokens["train"]) if raw else {w for s in train_ids for w in s}
    oov = vocab.oov_id
    splits: dict[str, Any] = {}
    for name, split in data.splits.items():
        lengths = np.fromiter((len(s) for s in ids[name]), dtype=np.int64, count=len(split))
        counts = np.bincount(split.labels, minlength=len(data.class_names))
        entry: dict[str, Any] = {
            "examples": len(split),
            "classes": dict(zip(data.class_names, counts.tolist(), strict=True)),
            "class_shares": {
                c: round(float(n) / max(len(split), 1), 4)
                for c, n in zip(data.class_names, counts, strict=True)
            },
            "length": _stats(lengths),
        }
        n_tok = int(lengths.sum())
        if seq_len is not None:
            longer = lengths > seq_len
            entry["truncated"] = {
                "texts": int(longer.sum()),
                "texts_share": round(float(longer.mean()), 4) if len(lengths) else 0.0,
                "tokens_cut_share": round(float(np.maximum(lengths - seq_len, 0).sum()) / n_tok, 4)
                if n_tok
                else 0.0,
            }
        n_oov = sum(s.count(oov) for s in ids[name]) if oov is not None else 0
        cov: dict[str, Any] = {
            "tokens_in_vocabulary": round(1 - n_oov / n_tok, 4) if n_tok else 0.0
        }
        if raw and name != "train":
            counter = tokens[name]
            total = sum(counter.values())
            seen = sum(n for t, n in counter.items() if t in train_types)
            in_vocab = sum(1 for t in counter if t in vocab.index)
            cov["types"] = len(counter)
            cov["types_in_vocabulary"] = round(in_vocab / len(counter), 4) if counter else 0.0
            cov["tokens_seen_in_train"] = round(seen / total, 4) if total else 0.0
        entry["vocabulary"] = cov
        digests = leakage._digests(split)
        entry["duplicates_within"] = len(digests) - len(set(digests))
        splits[name] = entry
    text_info: dict[str, Any] = {
        "encoder": cfg.encoder.type,
        "tokenizer": {"lowercase": cfg.encoder.lowercase, "punctuation": cfg.encoder.punctuation}
        if raw
        else "ids given by the data set",
        "vocabulary_size": vocab.size,
        "train_types": len(train_types),
        "sequence_len": seq_len,
        "truncation": (
            f"texts longer than {seq_len} tokens are cut"
            if seq_len is not None
            else "none: a bag of words reads whole texts"
        ),
    }
    return {
        "task": "classification",
        "source": data.source,
        "sizes": data.sizes(),
        "class_names": data.class_names,
        "text": text_info,
        "splits": splits,
    }


# ----------------------------------------------------------------------------- series


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


def _series(cfg: Any, data: Any) -> dict[str, Any]:
    splits: dict[str, Any] = {}
    for name, s in data.splits.items():
        w_targets = s.values[s.starts + data.sequence_len - 1 + data.horizon][:, data.target_idx]
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
                t: {**_stats(w_targets[:, j]), "unit": data.units[j]}
                for j, t in enumerate(data.target_names)
            },
        }
        if "t" in b:
            entry["t_range"] = b["t"]
        splits[name] = entry
    report = data.report()
    gaps = {
        k: report[k]
        for k in (
            "freq",
            "interpolation",
            "values_filled",
            "values_still_missing",
            "missing_timestamps",
            "rows_dropped",
            "grid_rows_dropped",
            "segments",
            "longest_segment",
        )
        if k in report
    }
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
        "gaps": gaps,
        "splits": splits,
    }


def brief(info: dict[str, Any]) -> dict[str, Any]:
    """A few flat lines of a description, for the run report's data table."""
    out: dict[str, Any] = {"describe: sizes": info.get("sizes")}
    for name, s in (info.get("splits") or {}).items():
        if "class_shares" in s:
            out[f"describe: {name} classes"] = {c: _pct(v) for c, v in s["class_shares"].items()}
        if "truncated" in s:
            out[f"describe: {name} truncated"] = f"{_pct(s['truncated']['texts_share'])} of texts"
        if name != "train" and "vocabulary" in s:
            out[f"describe: {name} tokens in vocabulary"] = _pct(
                s["vocabulary"]["tokens_in_vocabulary"]
            )
        if "targets" in s:
            out[f"describe: {name} targets"] = {t: _ms(v) for t, v in s["targets"].items()}
        if s.get("first_time"):
            out[f"describe: {name} period"] = f"{s['first_time']} .. {s['last_time']}"
    leak = info.get("leakage") or {}
    out["describe: leakage"] = (
        "off"
        if leak.get("mode") == "off"
        else (leakage_summary(leak) if leak.get("found") else "none found")
    )
    return out


def leakage_summary(result: dict[str, Any]) -> str:
    """The findings in one line."""
    from seqrun.engine.leakage import summary

    return summary(result)


# ----------------------------------------------------------------------------- text output


def _f(v: Any, digits: int = 4) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return str(v)


def _pct(v: float | None) -> str:
    return "" if v is None else f"{100 * v:.1f} %"


def render(info: dict[str, Any]) -> str:
    """The description as text (what the command prints without ``--json``)."""
    from seqrun.engine.listing import plain_table

    lines = [f"{info['name']}: {info['adapter']}, {info.get('task', '')} ({info.get('source')})"]
    lines.append(f"note: {info['note']}")
    splits = info.get("splits", {})
    names = list(splits)
    rows: list[tuple[str, ...]] = []

    def add(label: str, fn: Any) -> None:
        rows.append((label, *(fn(splits[n]) for n in names)))

    if info.get("task") == "classification":
        add("examples", lambda s: str(s["examples"]))
        for c in info["class_names"]:
            add(f"  {c}", lambda s, c=c: f"{s['classes'][c]} ({_pct(s['class_shares'][c])})")
        add("tokens/text mean", lambda s: _f(s["length"].get("mean"), 3))
        for p in PERCENTILES:
            add(f"  p{p}", lambda s, p=p: _f(s["length"].get(f"p{p}"), 4))
        add("  max", lambda s: _f(s["length"].get("max"), 6))
        if info["text"]["sequence_len"] is not None:
            add(
                f"truncated (> {info['text']['sequence_len']})",
                lambda s: (
                    f"{_pct(s['truncated']['texts_share'])} of texts, "
                    f"{_pct(s['truncated']['tokens_cut_share'])} of tokens"
                ),
            )
        add("tokens in vocabulary", lambda s: _pct(s["vocabulary"]["tokens_in_vocabulary"]))
        add("tokens seen in train", lambda s: _pct(s["vocabulary"].get("tokens_seen_in_train")))
        add("types in vocabulary", lambda s: _pct(s["vocabulary"].get("types_in_vocabulary")))
        add("duplicates within", lambda s: str(s["duplicates_within"]))
        t = info["text"]
        head = (
            f"text: encoder {t['encoder']}, vocabulary {t['vocabulary_size']} ids "
            f"({t['train_types']} distinct training tokens); truncation: {t['truncation']}"
        )
    else:
        add("rows", lambda s: str(s["rows"]))
        add("windows", lambda s: str(s["windows"]))
        add("gap-free segments", lambda s: str(s["segments"]))
        add("row range", lambda s: _range(s["row_range"]))
        if any(splits[n].get("first_time") for n in names):
            add("first time", lambda s: s.get("first_time") or "")
            add("last time", lambda s: s.get("last_time") or "")
            add("span", lambda s: s.get("span") or "")
        if any("t_range" in splits[n] for n in names):
            add("t range", lambda s: " - ".join(_f(x, 6) for x in s.get("t_range", [])))
        for target in info["series"]["targets"]:
            unit = splits[names[0]]["targets"][target]["unit"]
            label = f"{target}{f' ({unit})' if unit else ''}"
            add(f"{label} mean +- std", lambda s, t=target: _ms(s["targets"][t]))
            add("  min / p50 / max", lambda s, t=target: _mmm(s["targets"][t]))
        sr = info["series"]
        head = (
            f"series: {len(sr['features'])} features, targets {', '.join(sr['targets'])}; "
            f"windows of {sr['sequence_len']} steps, target {sr['horizon']} step(s) ahead"
            + (f", step {sr['step']}" if sr.get("step") else "")
        )
    lines.append(head)
    lines.append("")
    lines.append(plain_table(("", *names), rows))
    gaps = info.get("gaps")
    if gaps:
        lines.append("")
        filled = gaps.get("values_filled") or {}
        interp = gaps.get("interpolation") or {}
        lines.append(
            f"gaps: {gaps.get('missing_timestamps', 0)} missing timestamps on the "
            f"{gaps.get('freq', '')} grid; values filled by {interp.get('method')} interpolation "
            f"(gaps up to {interp.get('max_gap_steps')} steps): "
            + (", ".join(f"{k} {v}" for k, v in filled.items()) or "none")
        )
        still = gaps.get("values_still_missing") or {}
        if still:
            lines.append(
                "  still missing (rows dropped, series split there): "
                + ", ".join(f"{k} {v}" for k, v in still.items())
            )
        lines.append(
            f"  grid rows dropped {gaps.get('grid_rows_dropped', 0)}; "
            f"{gaps.get('segments')} gap-free segments, the longest {gaps.get('longest_segment')}"
        )
    kf = info.get("kfold")
    if kf:
        lines.append("")
        lines.append(f"{kf['folds']} {kf['scheme']} folds ({kf['detail']}):")
        for f in kf["per_fold"]:
            sizes = " ".join(f"{k}={v}" for k, v in (f.get("sizes") or {}).items())
            extra = ""
            if f.get("dev_classes"):
                extra = " dev " + " ".join(f"{k}={v}" for k, v in f["dev_classes"].items())
            elif f.get("dev_first_time"):
                extra = f" dev {f['dev_first_time']} .. {f['dev_last_time']}"
            elif f.get("dev_row_range"):
                extra = f" dev rows {_range(f['dev_row_range'])}"
            lines.append(f"  fold {f['fold']}: {sizes}{extra}")
    lines.append("")
    lines.extend(leakage_lines(info.get("leakage") or {}))
    return "\n".join(lines) + "\n"


def _range(r: list[int] | None) -> str:
    return f"{r[0]}..{r[1] - 1}" if r and r[1] > r[0] else ""


def _ms(t: dict[str, Any]) -> str:
    return f"{_f(t.get('mean'))} +- {_f(t.get('std'), 3)}" if t.get("n") else ""


def _mmm(t: dict[str, Any]) -> str:
    return " / ".join(_f(t.get(k)) for k in ("min", "p50", "max")) if t.get("n") else ""


def leakage_lines(result: dict[str, Any]) -> list[str]:
    """The leakage result as text lines."""
    mode = result.get("mode", "warn")
    if mode == "off":
        return ["leakage: checks off (data.leakage: off)"]
    head = "leakage: FOUND" if result.get("found") else "leakage: none found"
    out = [f"{head} (data.leakage: {mode})"]
    for c in result.get("checked", []):
        out.append(f"  checked: {c}")
    for s in result.get("skipped", []):
        out.append(f"  skipped: {s}")
    for issue in result.get("issues", []):
        where = f"fold {issue['fold']}: " if "fold" in issue else ""
        out.append(f"  {where}{issue['message']}")
        for ex in issue.get("examples", []):
            out.append("    e.g. " + ", ".join(f"{k} {v}" for k, v in ex.items()))
    return out
