"""`seqrun predict`: label new texts with a trained text-classification run.

Rebuilds nothing from the training data: the run's own encoder state (vocabulary, sequence
length, TF-IDF weights, class names) and its best checkpoint are enough.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seqrun.core.errors import UserError
from seqrun.core.text import decode_bytes, warn

TABLE_EXTS = (".csv", ".tsv", ".tab", ".jsonl", ".ndjson")


def read_inputs(path: Path, column: str | None, default_column: str = "text") -> list[str]:
    """Texts of ``--input FILE``: one per line, or a CSV/TSV/JSONL table's text column."""
    p = Path(path)
    if not p.is_file():
        hint = " (it is a directory)" if p.is_dir() else ""
        raise UserError(f"input file not found{hint}", where=f"--input {path}")
    if p.suffix.lower() in TABLE_EXTS:
        from seqrun.data.text_table import column_error, read_table

        columns, rows, lines = read_table(str(p))
        name = column or default_column
        if name not in columns:
            raise column_error(str(p), "--column", name, columns)
        texts = [("" if r.get(name) is None else str(r.get(name))) for r in rows]
    else:
        text, bad = decode_bytes(p.read_bytes())
        if bad:
            warn(f"{path}: {bad} undecodable byte(s) (not utf-8) replaced by U+FFFD")
        texts = text.splitlines()
    blank = sum(1 for t in texts if not t.strip())
    if blank:
        warn(f"{path}: skipped {blank} empty line(s)/text(s)")
    texts = [t for t in texts if t.strip()]
    if not texts:
        raise UserError("no text to label in the file", where=f"--input {path}")
    return texts


def predict_texts(run: Any, texts: list[str], checkpoint: str = "best") -> list[dict[str, Any]]:
    """Label and class probabilities for each text."""
    from seqrun.engine import trainer as training

    for i, t in enumerate(texts, start=1):
        if not t.strip():
            raise UserError(f"text {i} is empty; give non-empty texts", where="predict")
    cfg = training.load_run_config(run)
    encoder = training.make_encoder(cfg)  # kind check first; load_encoder reads its files
    if not hasattr(encoder, "model_inputs"):
        raise UserError(
            f"seqrun predict labels texts; this run's encoder is '{cfg.encoder.type}', "
            "not a text encoder",
            where=str(run.path),
        )
    encoder = training.load_encoder(cfg, run)
    path = run.checkpoint(checkpoint)
    if not path.is_file():
        raise UserError(
            f"the run has no {checkpoint} checkpoint (status: {run.status()})", where=str(path)
        )
    model = training.load_checkpoint(path, compile=False)
    x = encoder.model_inputs(texts)
    proba = np.asarray(model.predict(x, batch_size=256, verbose=0), dtype=np.float64)
    names = encoder.class_names
    out = []
    for i, text in enumerate(texts):
        if proba.shape[-1] == 1:
            p1 = float(proba[i, 0])
            probs = {names[0]: 1.0 - p1, names[1]: p1}
        else:
            probs = {n: float(v) for n, v in zip(names, proba[i], strict=True)}
        label = max(probs, key=probs.get)
        out.append(
            {
                "text": text,
                "label": label,
                "probability": round(probs[label], 6),
                "probabilities": {k: round(v, 6) for k, v in probs.items()},
            }
        )
    return out
