"""The text family's part of ``seqrun data describe`` and of the leakage checks (:class:`TextData`).

* describe: class balance, text lengths, how much the sequence length truncates, how well the
  training vocabulary covers dev and test, duplicates within each split;
* leakage: texts that occur in train and in dev or test, exactly after normalising case and
  whitespace (:func:`normalize_text`). IMDB's ``imdb.npz`` has no raw text:
  there the token-id sequences are compared (Keras already lowercased them). Splits that were
  not loaded are compared through the digests the adapter kept (``TextData.other_digests``).

A new data family copies this file: ``describe`` returns plain data (what ``--json`` prints),
``render`` turns it into a headline and table rows, ``brief`` into a few report lines, and
``leakage`` returns its findings (see :mod:`seqrun.engine.leakage` for their shape). Pure Python
and numpy: no TensorFlow.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import numpy as np

from seqrun.core.summary import PERCENTILES, num, pct, stats

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


def digests(split: Any) -> list[bytes]:
    """The digest of every example of a ``TextSplit`` (texts normalised, else token ids),
    cached in the split: what the duplicate checks compare."""
    cached = split.cache.get("digests")
    if cached is None:
        if split.texts is not None:
            cached = [text_digest(t) for t in split.texts]
        else:
            cached = [ids_digest(s) for s in split.ids or []]
        split.cache["digests"] = cached
    return cached


def describe(data: Any, cfg: Any) -> dict[str, Any]:
    """Description of a loaded :class:`~seqrun.data.text.TextData` (fits a text encoder)."""
    from seqrun.core.registry import registry
    from seqrun.encoders.text import TextEncoder, sequence_length

    bag = registry.get("encoder", cfg.encoder.type).output_kind == "bag"
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
    seq_len = None if bag else sequence_length(cfg.encoder, data.sequence_hints, train_ids)
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
            "length": stats(lengths),
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
        seen_digests = digests(split)
        entry["duplicates_within"] = len(seen_digests) - len(set(seen_digests))
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


def render(info: dict[str, Any]) -> tuple[str, list[tuple[str, ...]], list[str]]:
    """The headline, the per-split rows and (none) closing lines of a text description."""
    splits = info.get("splits", {})
    names = list(splits)
    rows: list[tuple[str, ...]] = []

    def add(label: str, fn: Any) -> None:
        rows.append((label, *(fn(splits[n]) for n in names)))

    add("examples", lambda s: str(s["examples"]))
    for c in info["class_names"]:
        add(f"  {c}", lambda s, c=c: f"{s['classes'][c]} ({pct(s['class_shares'][c])})")
    add("tokens/text mean", lambda s: num(s["length"].get("mean"), 3))
    for p in PERCENTILES:
        add(f"  p{p}", lambda s, p=p: num(s["length"].get(f"p{p}"), 4))
    add("  max", lambda s: num(s["length"].get("max"), 6))
    if info["text"]["sequence_len"] is not None:
        add(
            f"truncated (> {info['text']['sequence_len']})",
            lambda s: (
                f"{pct(s['truncated']['texts_share'])} of texts, "
                f"{pct(s['truncated']['tokens_cut_share'])} of tokens"
            ),
        )
    add("tokens in vocabulary", lambda s: pct(s["vocabulary"]["tokens_in_vocabulary"]))
    add("tokens seen in train", lambda s: pct(s["vocabulary"].get("tokens_seen_in_train")))
    add("types in vocabulary", lambda s: pct(s["vocabulary"].get("types_in_vocabulary")))
    add("duplicates within", lambda s: str(s["duplicates_within"]))
    t = info["text"]
    head = (
        f"text: encoder {t['encoder']}, vocabulary {t['vocabulary_size']} ids "
        f"({t['train_types']} distinct training tokens); truncation: {t['truncation']}"
    )
    return head, rows, []


def brief(info: dict[str, Any]) -> dict[str, Any]:
    """Class shares, truncation and vocabulary coverage per split, for the run report."""
    out: dict[str, Any] = {}
    for name, s in (info.get("splits") or {}).items():
        if "class_shares" in s:
            out[f"describe: {name} classes"] = {c: pct(v) for c, v in s["class_shares"].items()}
        if "truncated" in s:
            out[f"describe: {name} truncated"] = f"{pct(s['truncated']['texts_share'])} of texts"
        if name != "train" and "vocabulary" in s:
            out[f"describe: {name} tokens in vocabulary"] = pct(
                s["vocabulary"]["tokens_in_vocabulary"]
            )
    return out


# ----------------------------------------------------------------------------- leakage


def _short(text: str, width: int = 80) -> str:
    text = normalize_text(text)
    return text if len(text) <= width else text[: width - 3] + "..."


def _text_of(data: Any, split: str, i: int) -> str:
    s = data.splits[split]
    if s.texts is not None:
        return s.texts[i]
    vocab = data.encoder.vocab if data.encoder is not None else data.vocabulary
    return vocab.decode(s.ids[i]) if vocab is not None else " ".join(map(str, s.ids[i]))


def leakage(data: Any) -> dict[str, Any]:
    """Duplicate texts between train and dev or test: ``{"issues", "checked", "skipped"}``."""
    out: dict[str, Any] = {"issues": [], "checked": [], "skipped": list(data.leakage_notes)}
    by_ids = any(s.texts is None for s in data.splits.values())
    how = (
        "identical token-id sequences" if by_ids else "exact after normalising case and whitespace"
    )
    for a, b in TEXT_PAIRS:
        if a not in data.splits:
            continue
        if b in data.splits:
            other, b_loaded = digests(data.splits[b]), True
        elif data.other_digests.get(b):
            other, b_loaded = data.other_digests[b], False
        else:
            continue
        out["checked"].append(f"{a}/{b} duplicate texts ({how})")
        first: dict[bytes, int] = {}
        for i, h in enumerate(digests(data.splits[a])):
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
        out["issues"].append(
            {
                "check": "duplicate_texts",
                "splits": [a, b],
                "count": n,
                "of": len(other),
                "message": f"{n} of {len(other)} {b} texts also occur in {a} ({how})",
                "examples": examples,
            }
        )
    return out
