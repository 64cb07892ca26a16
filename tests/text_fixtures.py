"""Small text datasets written in the exact formats of the real ones (imdb.npz, aclImdb/, TSV)."""

from __future__ import annotations

import gzip
import json
import random
from collections import Counter
from pathlib import Path

import numpy as np

from seqrun.samples import sample_path

MR_PATH = sample_path("mr-snippets")  # the real mr_snippets.tsv, gzip-compressed


def mr_lines() -> list[str]:
    """The lines of the real movie-review table (header first)."""
    return gzip.decompress(MR_PATH.read_bytes()).decode("utf-8").splitlines()


POSITIVE = [
    "great",
    "superb",
    "moving",
    "brilliant",
    "wonderful",
    "fine",
    "touching",
    "funny",
    "delight",
    "gem",
]
NEGATIVE = ["awful", "dull", "boring", "tedious", "mess", "bad", "waste", "poor", "lame", "flat"]
NEUTRAL = [
    "the",
    "a",
    "film",
    "movie",
    "story",
    "plot",
    "actor",
    "scene",
    "it",
    "is",
    "and",
    "of",
    "this",
    "was",
]


def write_mr_slice(path: Path, per_half: int = 450) -> Path:
    """Rows of the real mr_snippets.tsv (same header and format), from its mostly-positive first
    part and its mostly-negative middle part, so that a small slice has both classes."""
    lines = mr_lines()
    body = lines[1 : 1 + per_half] + lines[6001 : 6001 + per_half]
    path.write_text("\n".join([lines[0], *body]) + "\n", encoding="utf-8")
    return path


def reviews(n: int, seed: int) -> list[tuple[list[str], int]]:
    """``n`` synthetic reviews (token lists, label), half positive, with a clear signal."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        label = i % 2
        words = POSITIVE if label else NEGATIVE
        toks = [rng.choice(NEUTRAL) for _ in range(rng.randint(6, 14))]
        for _ in range(rng.randint(1, 3)):
            toks.insert(rng.randrange(len(toks) + 1), rng.choice(words))
        out.append((toks, label))
    return out


def word_index(corpus: list[tuple[list[str], int]]) -> dict[str, int]:
    """Word -> frequency rank from 1, as imdb_word_index.json."""
    counts = Counter(t for toks, _ in corpus for t in toks)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return {w: r for r, (w, _) in enumerate(ranked, start=1)}


def ragged(seqs: list[list[int]]) -> np.ndarray:
    arr = np.empty(len(seqs), dtype=object)
    arr[:] = [list(s) for s in seqs]
    return arr


def write_imdb_npz(folder: Path, n_train: int = 80, n_test: int = 40) -> Path:
    """imdb.npz (x_train/y_train/x_test/y_test ragged rank lists) + imdb_word_index.json."""
    folder.mkdir(parents=True, exist_ok=True)
    train, test = reviews(n_train, 1), reviews(n_test, 2)
    index = word_index(train + test)
    enc = [[index[t] for t in toks] for toks, _ in train]
    enc_test = [[index[t] for t in toks] for toks, _ in test]
    path = folder / "imdb.npz"
    np.savez(
        path,
        x_train=ragged(enc),
        y_train=np.array([y for _, y in train], dtype=np.int64),
        x_test=ragged(enc_test),
        y_test=np.array([y for _, y in test], dtype=np.int64),
    )
    (folder / "imdb_word_index.json").write_text(json.dumps(index))
    return path


def write_acl_imdb(folder: Path, n_train: int = 60, n_test: int = 20) -> Path:
    """aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt with raw review text."""
    root = folder / "aclImdb"
    for half, n, seed in (("train", n_train, 3), ("test", n_test, 4)):
        for i, (toks, label) in enumerate(reviews(n, seed)):
            sub = root / half / ("pos" if label else "neg")
            sub.mkdir(parents=True, exist_ok=True)
            text = " ".join(toks).capitalize() + ". <br /><br />A " + toks[-1] + "!"
            (sub / f"{i}_{8 if label else 2}.txt").write_text(text, encoding="utf-8")
    return root


def write_glove(path: Path, words: list[str], dim: int = 8) -> Path:
    """A GloVe text file ('word v1 ... vd') with vectors for ``words``."""
    rng = np.random.default_rng(0)
    lines = [w + " " + " ".join(f"{v:.4f}" for v in rng.normal(size=dim)) for w in words]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
