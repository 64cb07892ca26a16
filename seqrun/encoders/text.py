"""Text encoders: multi-hot bag of words, on-the-fly one-hot, trainable and pretrained embeddings.

Every text encoder owns the tokenizer settings and the vocabulary (fitted on the training split
only, or given by the dataset, e.g. IMDB's word index) and is saved into the run's
``preprocessing/encoder.json``, so that ``evaluate`` and ``predict`` encode new text exactly as
training did. No TensorFlow at module level: ``model_front`` imports Keras when a model is built.

Example:
    >>> enc = MultiHot(MultiHotConfig(type="multi_hot", vocab_size=100))
    >>> # enc.fit(data) is called by the text data module with the training split
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from seqrun.core.config import EncoderConfig
from seqrun.core.contracts import InputSize, MemoryItem
from seqrun.core.errors import UserError
from seqrun.core.text import (
    BINARY_MAGIC,
    Punctuation,
    Vocabulary,
    pad_sequences,
    tokenize,
    warn,
)

STATE_FILE = "encoder.json"
DEFAULT_VOCAB = 20000
# an apostrophe (straight or typographic) between two letters, and what stands for it while
# the other punctuation is stripped (a character that is neither punctuation nor a space)
_INNER_APOSTROPHE = re.compile(r"(?<=\w)['\u2019](?=\w)")
_APOSTROPHE_MARK = "\x00"


class TextEncoderConfig(EncoderConfig):
    """Tokenizer and vocabulary options shared by every text encoder."""

    vocab_size: int | None = Field(
        None,
        ge=3,
        description="Vocabulary size, reserved ids (padding, OOV) included; the most frequent "
        "training tokens are kept. null: the adapter's (imdb: data.num_words), else 20000.",
    )
    lowercase: bool = Field(True, description="Lowercase texts before tokenising.")
    punctuation: Punctuation = Field(
        "strip",
        description="'strip' removes punctuation (as Keras' TextVectorization: \"don't\" -> "
        "\"dont\"), 'split' makes each mark a token, 'keep' splits on whitespace only.",
    )


class SequenceEncoderConfig(TextEncoderConfig):
    """Options of encoders that feed a sequence of token ids to the model."""

    sequence_len: int | None = Field(
        None,
        ge=1,
        description="Tokens per text after padding/truncation; null: the adapter's "
        "(imdb: data.maxlen), else the length that covers 95 % of the training texts.",
    )
    padding: Literal["pre", "post"] | None = Field(
        None,
        description="Where padding goes in short texts; null: the adapter's (imdb: "
        "data.padding), else 'post'.",
    )
    truncating: Literal["pre", "post"] | None = Field(
        None,
        description="Which end of a long text is cut; null: the adapter's (imdb: "
        "data.truncating), else 'post'.",
    )
    mask_padding: bool = Field(
        True, description="Mask padding steps so that pooling and recurrent layers skip them."
    )


MIN_KEPT_TOKENS = 0.5
"""Share of the training tokens below which a sequence length's cut is warned about."""
MAX_NB_ALPHA = 1000.0
"""Largest NB smoothing count: beyond it every log-count ratio is near 0."""


class MultiHotConfig(TextEncoderConfig):
    """Options of the bag-of-words encoder."""

    type: Literal["multi_hot"] = Field("multi_hot", description="Bag-of-words vector per text.")
    ngrams: Literal[1, 2] = Field(
        1, description="2 adds the most frequent training bigrams as extra features."
    )
    max_bigrams: int | None = Field(
        None, ge=1, description="Bigram features kept when ngrams is 2; null: vocab_size."
    )
    weighting: Literal["binary", "count", "tfidf", "nb"] = Field(
        "binary",
        description="'binary' 1 if the token occurs (the course's one-hot), 'count' "
        "occurrences, 'tfidf' count x log(1 + N / (1 + document frequency)) as Keras does, 'nb' "
        "binary x the Naive-Bayes log-count ratio of the two training classes (NBSVM features, "
        "Wang & Manning 2012; two classes only).",
    )
    nb_alpha: float = Field(
        1.0,
        gt=0,
        le=MAX_NB_ALPHA,
        description="Smoothing count of the 'nb' weighting.",
        json_schema_extra={
            "limits": f"at most {MAX_NB_ALPHA:g}: a larger count outweighs the words' own counts "
            "and every NB weight is close to 0 (usual values: 0.1 to 1)"
        },
    )


class OneHotConfig(SequenceEncoderConfig):
    """Options of the per-token one-hot encoder."""

    type: Literal["one_hot"] = Field("one_hot", description="One-hot vector per token.")


class EmbeddingConfig(SequenceEncoderConfig):
    """Options of the trainable embedding."""

    type: Literal["embedding"] = Field("embedding", description="Trainable word vectors.")
    dim: int = Field(32, ge=1, description="Size of each word vector.")


class PretrainedEmbeddingConfig(SequenceEncoderConfig):
    """Options of the pretrained embedding."""

    type: Literal["pretrained_embedding"] = Field(
        "pretrained_embedding", description="Word vectors read from a text file."
    )
    path: str = Field(
        description="GloVe ('word v1 ... vd' per line) or word2vec text file (a 'count dim' "
        "header line first); only the vectors of vocabulary words are kept."
    )
    trainable: bool = Field(False, description="Fine-tune the vectors (false: frozen).")
    missing: Literal["random", "zeros"] = Field(
        "random",
        description="Vectors of words absent from the file: seeded random (same scale as the "
        "file's vectors) or zeros.",
    )


# ----------------------------------------------------------------------------- base


class TextEncoder:
    """Shared part: tokenizer, vocabulary, class names, save/load."""

    Config = TextEncoderConfig
    accepts = ("text",)
    output_kind = "bag"
    sequence = False

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg
        self.vocab: Vocabulary | None = None
        self.class_names: list[str] = []
        self.class_counts: list[int] = []
        self.info: dict[str, Any] = {}

    # -- tokens and ids
    def tokenize(self, text: str) -> list[str]:
        """Tokens of one text with the configured lowercasing and punctuation handling.

        A vocabulary read from a word index whose words keep their apostrophes (IMDB's
        ``imdb_word_index.json``: "don't", "it's") keeps an apostrophe between two letters
        when punctuation is stripped, so that "don't" is that word, not "dont" (or "it's" the
        word "its"); a word the index lacks with its apostrophe is looked up without it.
        """
        if not (self.info.get("keep_apostrophes") and self.cfg.punctuation == "strip"):
            return tokenize(text, self.cfg.lowercase, self.cfg.punctuation)
        kept = _INNER_APOSTROPHE.sub(_APOSTROPHE_MARK, text)
        index = self.vocab.index if self.vocab is not None else {}
        out = []
        for t in tokenize(kept, self.cfg.lowercase, self.cfg.punctuation):
            if _APOSTROPHE_MARK in t:
                word = t.replace(_APOSTROPHE_MARK, "'")
                t = word if word in index else t.replace(_APOSTROPHE_MARK, "")
            if t:
                out.append(t)
        return out

    def text_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids of raw texts (unknown tokens -> OOV)."""
        encode, tok = self.vocab.encode, self.tokenize
        return [encode(tok(t)) for t in texts]

    # -- fitting
    def fit(self, data: Any) -> None:
        """Fit on the training split of a text data module (vocabulary, then the rest)."""
        labels = data.splits["train"].labels
        self.class_names = list(data.class_names)
        self.class_counts = np.bincount(labels, minlength=len(self.class_names)).tolist()
        spec = data.vocab_spec
        if data.vocabulary is not None:
            self.vocab = data.vocabulary
            if spec.get("apostrophes") == "kept":  # words of the index such as "don't"
                self.info["keep_apostrophes"] = True
        else:
            size = self.cfg.vocab_size or spec.get("num_words") or DEFAULT_VOCAB
            layout = spec.get("layout", "plain")
            keys = ("start_id", "oov_id", "index_from", "skip_below")
            kwargs = {k: spec[k] for k in keys} if layout == "keras" else {}
            self.vocab = Vocabulary.build(data.split_tokens("train"), size, layout, **kwargs)
        words = sum(1 for t in self.vocab.tokens if t and not t.startswith("["))
        if self.vocab.size < 3 or words < 1:
            raise UserError(
                f"the vocabulary has {self.vocab.size} ids ({words} words from the training "
                "texts); a text model needs at least 3 (padding, OOV and one word): use more "
                "or longer texts, or a larger encoder.vocab_size",
                where="encoder.vocab_size",
            )
        self.info["vocab_size"] = self.vocab.size
        self._fit(data.split_ids("train"), labels, data)

    def _fit(self, ids: list[list[int]], labels: np.ndarray, data: Any) -> None:
        """Encoder-specific fitting on training ids."""

    # -- persistence
    def state(self) -> dict[str, Any]:
        """JSON-serialisable fitted state."""
        return {
            "type": self.cfg.type,
            "class_names": self.class_names,
            "class_counts": self.class_counts,
            "info": self.info,
            "vocabulary": self.vocab.state(),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state`."""
        self.class_names = state["class_names"]
        self.class_counts = state.get("class_counts", [])
        self.info = state.get("info", {})
        self.vocab = Vocabulary.from_state(state["vocabulary"])

    def save(self, folder: Path) -> None:
        """Write the fitted state into ``folder``."""
        from seqrun.core.runs import atomic_write_text, to_json

        atomic_write_text(Path(folder) / STATE_FILE, to_json(self.state()))  # strict JSON

    def load(self, folder: Path) -> None:
        """Restore the fitted state written by :meth:`save`."""
        path = Path(folder) / STATE_FILE
        if not path.is_file():
            raise UserError("the run has no fitted encoder (preprocessing/encoder.json)", str(path))
        self.set_state(json.loads(path.read_text(encoding="utf-8")))

    # -- model inputs
    def model_front(self, task: Any) -> tuple[Any, Any] | None:
        """No front of its own: the model reads the encoded vectors directly."""
        return None

    #: distinct training tokens assumed by the memory check when the vocabulary is not capped
    SIZE_VOCAB_CAP = 20_000

    @classmethod
    def input_size(cls, cfg: Any, size: InputSize) -> tuple[InputSize, list[MemoryItem]]:
        """The vocabulary (``vocab_size``, else the adapter's) and ``sequence_len``, if given;
        the vocabulary keeps at most the distinct training tokens: count 20,000 at most."""
        vocab, key = size.vocab, size.vocab_key
        if cfg.vocab_size:
            vocab, key = cfg.vocab_size, "encoder.vocab_size"
        size = size.with_(vocab=min(vocab, cls.SIZE_VOCAB_CAP) if vocab else None, vocab_key=key)
        steps = getattr(cfg, "sequence_len", None)  # sequence encoders only
        if steps:
            size = size.with_(steps=steps, steps_key="encoder.sequence_len")
        return cls._width(cfg, size)

    @classmethod
    def _width(cls, cfg: Any, size: InputSize) -> tuple[InputSize, list[MemoryItem]]:
        """One vector of vocabulary width per step (multi-hot, one-hot), when it is known."""
        if size.vocab:
            return size.with_(width=size.vocab, width_key=size.vocab_key), []
        return size, []

    def encode(self, ids: list[list[int]]) -> Any:
        """Model inputs for id sequences (a matrix, or a sparse bag of words)."""
        raise NotImplementedError

    def model_inputs(self, texts: list[str]) -> np.ndarray:
        """Dense numpy model inputs for raw texts (``seqrun predict``)."""
        return np.asarray(self.encode(self.text_ids(texts)))

    def input_spec(self) -> tuple[tuple[int, ...], str]:
        """(input shape, dtype) of the model inputs."""
        raise NotImplementedError


# ----------------------------------------------------------------------------- multi-hot


class SparseRows:
    """A bag-of-words matrix in CSR form; densified batch by batch (inside tf.data)."""

    def __init__(self, cols: np.ndarray, vals: np.ndarray, splits: np.ndarray, width: int) -> None:
        self.cols, self.vals, self.splits, self.width = cols, vals, splits, width

    def __len__(self) -> int:
        return len(self.splits) - 1

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = np.zeros((len(self), self.width), dtype=np.float32)
        rows = np.repeat(np.arange(len(self)), np.diff(self.splits))
        out[rows, self.cols] = self.vals
        return out if dtype is None else out.astype(dtype)


class MultiHot(TextEncoder):
    """Bag-of-words vector over the vocabulary (binary, counts or TF-IDF; optional bigrams)."""

    Config = MultiHotConfig

    def __init__(self, cfg: MultiHotConfig) -> None:
        super().__init__(cfg)
        self.bigrams: dict[int, int] = {}  # (a * V + b) -> feature index
        self.idf: np.ndarray | None = None

    def _keys(self, ids: list[int]) -> list[int]:
        v = self.vocab.size
        oov = self.vocab.oov_id
        return [
            a * v + b for a, b in zip(ids, ids[1:], strict=False) if a and b and oov not in (a, b)
        ]

    def _fit(self, ids: list[list[int]], labels: np.ndarray, data: Any) -> None:
        c = self.cfg
        self.bigrams = {}
        if c.ngrams == 2:
            df: Counter[int] = Counter()
            for s in ids:
                df.update(set(self._keys(s)))
            keep = c.max_bigrams or self.vocab.size
            ranked = sorted(df.items(), key=lambda kv: (-kv[1], kv[0]))[:keep]
            self.bigrams = {k: self.vocab.size + i for i, (k, _) in enumerate(ranked)}
        self.idf = None
        if c.weighting == "tfidf":
            rows = self._sparse(ids, weighted=False)
            df_feat = np.bincount(rows.cols, minlength=rows.width).astype(np.float64)
            self.idf = np.log1p(len(ids) / (1.0 + df_feat)).astype(np.float32)
        elif c.weighting == "nb":
            if len(self.class_names) != 2:
                raise UserError(
                    f"weighting 'nb' needs two classes, the labels have {len(self.class_names)}",
                    where="encoder.weighting",
                )
            rows = self._sparse(ids, weighted=False)
            doc = np.repeat(np.arange(len(rows)), np.diff(rows.splits))
            pos = labels[doc] == 1
            p = c.nb_alpha + np.bincount(rows.cols[pos], minlength=rows.width)
            q = c.nb_alpha + np.bincount(rows.cols[~pos], minlength=rows.width)
            self.idf = np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)
        self.info["features"] = self.width

    @property
    def width(self) -> int:
        """Number of features: vocabulary plus bigrams."""
        return self.vocab.size + len(self.bigrams)

    def _sparse(self, ids: list[list[int]], weighted: bool = True) -> SparseRows:
        counting = self.cfg.weighting in ("count", "tfidf")
        cols_all: list[np.ndarray] = []
        vals_all: list[np.ndarray] = []
        splits = np.zeros(len(ids) + 1, dtype=np.int64)
        big = self.bigrams
        for i, s in enumerate(ids):
            feats = [w for w in s if w]
            if big:
                get = big.get
                feats.extend(f for f in (get(k) for k in self._keys(s)) if f is not None)
            cols, counts = np.unique(np.asarray(feats, dtype=np.int64), return_counts=True)
            cols_all.append(cols)
            vals_all.append(counts.astype(np.float32) if counting else np.ones(len(cols), "f4"))
            splits[i + 1] = splits[i] + len(cols)
        cols = np.concatenate(cols_all) if cols_all else np.zeros(0, np.int64)
        vals = np.concatenate(vals_all) if vals_all else np.zeros(0, np.float32)
        if weighted and self.idf is not None:
            vals = vals * self.idf[cols]
        return SparseRows(cols, vals.astype(np.float32), splits, self.width)

    def encode(self, ids: list[list[int]]) -> SparseRows:
        """The bag-of-words rows of id sequences."""
        return self._sparse(ids)

    def input_spec(self) -> tuple[tuple[int, ...], str]:
        return (self.width,), "float32"

    def state(self) -> dict[str, Any]:
        out = super().state()
        out["bigrams"] = [[int(k), int(f)] for k, f in self.bigrams.items()]
        out["idf"] = None if self.idf is None else self.idf.tolist()
        return out

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.bigrams = {int(k): int(f) for k, f in state.get("bigrams", [])}
        idf = state.get("idf")
        self.idf = None if idf is None else np.asarray(idf, dtype=np.float32)


# ----------------------------------------------------------------------------- sequences


class _SequenceEncoder(TextEncoder):
    """Pads/truncates id sequences to ``sequence_len``; the model front turns ids to vectors."""

    output_kind = "token_ids"
    sequence = True

    def _fit(self, ids: list[list[int]], labels: np.ndarray, data: Any) -> None:
        hints = getattr(data, "sequence_hints", {}) or {}
        c = self.cfg
        length = sequence_length(c, hints, ids)
        self.info["sequence_len"] = int(length)
        self.info["padding"] = c.padding or hints.get("padding") or "post"
        self.info["truncating"] = c.truncating or hints.get("truncating") or "post"
        longer = sum(1 for s in ids if len(s) > length)
        self.info["truncated_train_texts"] = int(longer)
        total = sum(len(s) for s in ids)
        kept = sum(min(len(s), length) for s in ids) / total if total else 1.0
        if kept < MIN_KEPT_TOKENS:
            from seqrun.core.text import warn

            key = "encoder.sequence_len" if c.sequence_len else "data.maxlen"
            warn(
                f"{key} {length} cuts {longer} of {len(ids)} training texts (median "
                f"{int(np.median([len(s) for s in ids]))} tokens): the model reads {kept:.0%} of "
                f"the training tokens; raise {key}, or null for the length that covers 95 % of "
                "the texts"
            )

    def encode(self, ids: list[list[int]]) -> np.ndarray:
        """An (N, sequence_len) int32 matrix of ids, 0 = padding."""
        i = self.info
        return pad_sequences(ids, i["sequence_len"], i["padding"], i["truncating"])

    def input_spec(self) -> tuple[tuple[int, ...], str]:
        return (self.info["sequence_len"],), "int32"

    def _input(self):
        import keras

        return keras.Input(shape=(self.info["sequence_len"],), dtype="int32", name="token_ids")


class OneHot(_SequenceEncoder):
    """One one-hot vector per token, computed inside the model (never stored per sample)."""

    Config = OneHotConfig

    def model_front(self, task: Any):
        """Token ids -> (batch, length, vocab) one-hot, with padding masked."""
        from seqrun.models.layers import OneHotTokens

        inputs = self._input()
        x = OneHotTokens(self.vocab.size, mask_zero=self.cfg.mask_padding, name="one_hot")(inputs)
        return inputs, x


class Embedding(_SequenceEncoder):
    """Trainable word vectors (keras Embedding), padding masked."""

    Config = EmbeddingConfig

    @classmethod
    def _width(cls, cfg: Any, size: InputSize) -> tuple[InputSize, list[MemoryItem]]:
        """``dim`` values per step from one id; the embedding matrix (x3 for training)."""
        out = []
        if size.vocab:
            key = size.vocab_key if size.vocab >= cfg.dim else "encoder.dim"
            n = size.vocab * cfg.dim
            out.append(MemoryItem(key, 4.0 * 3 * n, f"{n:.3g} embedding weights"))
        return size.with_(width=cfg.dim, width_key="encoder.dim", values_per_step=1), out

    def model_front(self, task: Any):
        """Token ids -> (batch, length, dim) vectors."""
        import keras

        inputs = self._input()
        layer = keras.layers.Embedding(
            self.vocab.size, self.cfg.dim, mask_zero=self.cfg.mask_padding, name="embedding"
        )
        return inputs, layer(inputs)


class PretrainedEmbedding(_SequenceEncoder):
    """GloVe / word2vec vectors for the vocabulary, frozen or fine-tuned; reports coverage."""

    Config = PretrainedEmbeddingConfig

    @classmethod
    def _width(cls, cfg: Any, size: InputSize) -> tuple[InputSize, list[MemoryItem]]:
        """One id per step; the vectors' size is known once the file is read."""
        return size, []

    def __init__(self, cfg: PretrainedEmbeddingConfig) -> None:
        super().__init__(cfg)
        self.matrix: np.ndarray | None = None

    def _fit(self, ids: list[list[int]], labels: np.ndarray, data: Any) -> None:
        super()._fit(ids, labels, data)
        self.matrix, found, source = read_vectors(self.cfg.path, self.vocab, self.cfg.missing)
        words = sum(1 for t in self.vocab.tokens if t and not t.startswith("["))
        coverage = found / words if words else 0.0
        self.info.update(
            vectors_path=str(self.cfg.path),
            dim=int(self.matrix.shape[1]),
            vectors_found=int(found),
            vocabulary_words=int(words),
            coverage=round(coverage, 4),
        )
        level = "warning: " if coverage < 0.5 else ""
        import sys

        print(
            f"{level}pretrained_embedding: {found} of {words} vocabulary words "
            f"({coverage:.1%}) have a vector in {source}",
            file=sys.stderr,
            flush=True,
        )

    def model_front(self, task: Any):
        """Token ids -> pretrained vectors (trainable or frozen)."""
        import keras

        inputs = self._input()
        dim = self.info["dim"]
        layer = keras.layers.Embedding(
            self.vocab.size,
            dim,
            mask_zero=self.cfg.mask_padding,
            trainable=self.cfg.trainable,
            name="pretrained_embedding",
        )
        x = layer(inputs)
        if self.matrix is not None:
            layer.set_weights([self.matrix])
        return inputs, x


def read_vectors(path: str, vocab: Vocabulary, missing: str = "random", seed: int = 0):
    """The (vocab size, dim) matrix of a GloVe/word2vec text file; (matrix, found, name)."""
    p = Path(path).expanduser()
    if not p.is_file():
        hint = " (it is a directory)" if p.is_dir() else ""
        raise UserError(f"word-vector file not found{hint}", where=f"encoder.path {path}")
    want = vocab.index
    lower = {}
    for t, i in want.items():
        lower.setdefault(t.lower(), i)
    rows: dict[int, np.ndarray] = {}
    dim = None
    with p.open("rb") as f:
        packed = f.read(2) == b"\x1f\x8b"  # fastText's .vec.gz, a gzipped GloVe file
    import gzip

    with gzip.open(p, "rb") if packed else p.open("rb") as f:
        head = f.read(65536)
        f.seek(0)
        magic = next((what for m, what in BINARY_MAGIC if head.startswith(m)), None)
        if magic or b"\x00" in head:
            raise UserError(
                f"this is {magic or 'a binary file (NUL bytes)'}, not word vectors in text "
                "form ('word v1 v2 ...' per line, as GloVe's .txt or word2vec's text format; "
                "a word2vec .bin needs converting to text)",
                where=f"encoder.path {path}",
            )
        for n, raw in enumerate(f, start=1):
            line = raw.decode("utf-8", errors="replace").rstrip("\n\r ")
            if not line:
                continue
            word, _, rest = line.partition(" ")
            if n == 1 and rest and " " not in rest.strip() and word.isdigit() and rest.isdigit():
                dim = int(rest)  # word2vec text header: "count dim"
                continue
            i = want.get(word)
            if i is None:
                i = lower.get(word.lower())
            if dim is None:
                dim = len(rest.split())
            if i is None or i in rows:
                continue
            try:
                vec = np.array(rest.split(), dtype=np.float32)
            except ValueError:
                raise UserError(
                    "not a word-vector line ('word v1 v2 ...')", where=f"{path}:{n}"
                ) from None
            if len(vec) != dim:
                raise UserError(
                    f"vector of {len(vec)} values, the file's vectors have {dim}",
                    where=f"{path}:{n}",
                )
            rows[i] = vec
    if not dim:
        raise UserError("no word vectors in the file", where=f"encoder.path {path}")
    found = np.stack(list(rows.values())) if rows else np.zeros((0, dim), np.float32)
    scale = float(found.std()) if len(found) else 0.1
    rng = np.random.default_rng(seed)
    if missing == "random":
        matrix = rng.normal(0.0, scale, (vocab.size, dim)).astype(np.float32)
    else:
        matrix = np.zeros((vocab.size, dim), np.float32)
    matrix[0] = 0.0
    for i, v in rows.items():
        matrix[i] = v
    if not rows:
        warn(f"{path}: none of the vocabulary words has a vector")
    return matrix, len(rows), p.name


def sequence_length(cfg: Any, hints: dict[str, Any], train_ids: list[list[int]]) -> int:
    """Tokens per text of a sequence encoder: ``encoder.sequence_len``, else the adapter's
    (imdb: ``data.maxlen``), else the length that covers 95 % of the training texts."""
    length = getattr(cfg, "sequence_len", None) or (hints or {}).get("length")
    if not length:
        lengths = np.fromiter((len(s) for s in train_ids), dtype=np.int64, count=len(train_ids))
        length = max(int(np.ceil(np.percentile(lengths, 95))), 1) if len(lengths) else 1
    return int(length)


__all__ = [
    "Embedding",
    "MultiHot",
    "OneHot",
    "PretrainedEmbedding",
    "SparseRows",
    "sequence_length",
]
