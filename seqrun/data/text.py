"""Text classification data: the data module shared by the ``imdb`` and ``text_table`` adapters.

A split holds labels plus either raw texts (tokenised by the encoder's tokenizer and vocabulary)
or ready-made token ids (IMDB's ``imdb.npz``). The encoder turns ids into model inputs: a padded
(N, length) id matrix for sequence encoders, or a sparse bag of words that tf.data densifies batch
by batch for ``multi_hot`` (no samples x vocabulary array in memory).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqrun.core.errors import UserError, broken_link
from seqrun.data.base import IndexedBatches, class_counts, split_fingerprints


@dataclass
class TextSplit:
    """One split: integer labels and texts or token ids; ``row_ids`` name the source rows."""

    labels: np.ndarray
    texts: list[str] | None = None
    ids: list[list[int]] | None = None
    row_ids: list[Any] | None = None
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.labels)


def text_fingerprint(splits: dict[str, TextSplit]) -> str:
    """A short content hash of the loaded splits (texts or ids, and labels)."""
    h = hashlib.sha256()
    for name in sorted(splits):
        s = splits[name]
        h.update(name.encode())
        h.update(np.ascontiguousarray(s.labels, dtype=np.int64).tobytes())
        if s.texts is not None:
            for t in s.texts:
                h.update(t.encode("utf-8", "replace"))
                h.update(b"\0")
        else:
            for ids in s.ids or []:
                h.update(np.asarray(ids, dtype=np.int64).tobytes())
                h.update(b"\0")
    return h.hexdigest()[:16]


class TextBatches(IndexedBatches):
    """tf.data pipelines over one encoded split (same contract as ``SeriesWindows``)."""

    def __init__(self, inputs: Any, labels: np.ndarray, binary: bool) -> None:
        self.inputs = inputs
        self.labels = labels
        self.binary = binary

    def __len__(self) -> int:
        return len(self.labels)

    def _gather_fn(self):
        import tensorflow as tf

        from seqrun.encoders.text import SparseRows

        if self.binary:
            y_all = tf.constant(self.labels.astype(np.float32).reshape(-1, 1))
        else:
            y_all = tf.constant(self.labels.astype(np.int32))
        x = self.inputs
        if isinstance(x, SparseRows):
            splits = tf.constant(x.splits)
            cols = tf.RaggedTensor.from_row_splits(tf.constant(x.cols.astype(np.int64)), splits)
            vals = tf.RaggedTensor.from_row_splits(tf.constant(x.vals), splits)
            width = tf.constant(x.width, tf.int64)

            def gather(idx):
                c = tf.gather(cols, idx)
                v = tf.gather(vals, idx)
                where = tf.stack([c.value_rowids(), c.flat_values], axis=1)
                shape = tf.stack([tf.shape(idx, out_type=tf.int64)[0], width])
                return tf.scatter_nd(where, v.flat_values, shape), tf.gather(y_all, idx)

            return gather
        x_all = tf.constant(np.asarray(x))

        def gather(idx):
            return tf.gather(x_all, idx), tf.gather(y_all, idx)

        return gather


class TextData:
    """A text-classification dataset: splits, classes, encoder, batches, evaluation outputs.

    Args:
        splits: the loaded splits by name (``train`` never loads ``test``).
        class_names: label names by class id (binary: negative first).
        vocab_spec: how a vocabulary is built from texts (``layout`` plain or keras, and for
            keras ``num_words``, ``start_id``, ``oov_id``, ``index_from``, ``skip_below``).
        vocabulary: a fixed vocabulary given by the dataset (IMDB's word index), or None.
        sequence_hints: default ``length``/``padding``/``truncating`` for sequence encoders.
        report_errors: how many confident mistakes go to ``errors.jsonl``.
        source: where the data came from (for messages).
    """

    fingerprint: str  # a short content hash of the texts and labels (meta.json)

    def __init__(
        self,
        splits: dict[str, TextSplit],
        class_names: list[str],
        vocab_spec: dict[str, Any] | None = None,
        vocabulary: Any = None,
        sequence_hints: dict[str, Any] | None = None,
        report_errors: int = 20,
        source: str = "",
    ) -> None:
        self.splits = splits
        self.class_names = list(class_names)
        self.vocab_spec = vocab_spec or {"layout": "plain"}
        self.vocabulary = vocabulary
        self.sequence_hints = sequence_hints or {}
        self.report_errors = report_errors
        self.source = source
        self.fingerprint, self.split_fingerprints = split_fingerprints(splits, text_fingerprint)
        self.encoder: Any = None
        # leakage check inputs for splits that were not loaded: normalised-text digests (cheap
        # to get when the adapter reads the whole file anyway) and notes on what was skipped
        self.other_digests: dict[str, list[bytes]] = {}
        self.leakage_notes: list[str] = []
        # what the adapter did while loading (rows read, rows dropped and why), for meta.json
        self.load_report: dict[str, Any] = {}

    # -- task
    @property
    def binary(self) -> bool:
        return len(self.class_names) == 2

    @property
    def task(self):
        from seqrun.data.base import Task

        shape, dtype = self.encoder.input_spec() if self.encoder is not None else ((1,), "int32")
        return Task(
            kind="classification",
            input_shape=shape,
            output_dim=1 if self.binary else len(self.class_names),
            target_names=self.class_names,
            input_dtype=dtype,
            extra={"text": True},
        )

    def sizes(self) -> dict[str, int]:
        """Examples per loaded split."""
        return {name: len(s) for name, s in self.splits.items()}

    def report(self) -> dict[str, Any]:
        """What meta.json records about the data: rows read and dropped, class counts per
        split, encoder facts."""
        out: dict[str, Any] = {
            "source": self.source,
            **self.load_report,
            "classes": class_counts(
                self.class_names, {name: sp.labels for name, sp in self.splits.items()}
            ),
        }
        if self.encoder is not None:
            out["encoder"] = dict(self.encoder.info)
        return out

    # -- encoder
    def fit_encoder(self, encoder: Any) -> None:
        """Fit the encoder (vocabulary, sequence length, TF-IDF, ...) on the training split."""
        self.encoder = encoder
        encoder.fit(self)

    def set_encoder(self, encoder: Any) -> None:
        """Use an encoder restored from a run."""
        self.encoder = encoder

    def split_tokens(self, name: str) -> list[list[str]]:
        """Tokens of a split's texts (cached)."""
        s = self.splits[name]
        if "tokens" not in s.cache:
            tok = self.encoder.tokenize
            s.cache["tokens"] = [tok(t) for t in s.texts]
        return s.cache["tokens"]

    def split_ids(self, name: str) -> list[list[int]]:
        """Token ids of a split under the encoder's vocabulary (cached)."""
        s = self.splits[name]
        if s.ids is not None:
            return s.ids
        if "ids" not in s.cache:
            encode = self.encoder.vocab.encode
            s.cache["ids"] = [encode(t) for t in self.split_tokens(name)]
            s.cache.pop("tokens", None)
        return s.cache["ids"]

    def batches(self, name: str) -> TextBatches:
        """A split encoded and ready to batch."""
        s = self.splits[name]
        if "batches" not in s.cache:
            x = self.encoder.encode(self.split_ids(name))
            s.cache["batches"] = TextBatches(x, s.labels, self.binary)
        return s.cache["batches"]

    # -- evaluation
    def decode(self, name: str, i: int) -> str:
        """The text of example ``i`` of a split (decoded from ids when there is no raw text)."""
        s = self.splits[name]
        if s.texts is not None:
            return s.texts[i]
        return self.encoder.vocab.decode(s.ids[i])

    def predictions(self, model: Any, split: str, batch_size: int = 256) -> dict[str, Any]:
        """Probabilities and everything the classification metric set and reports need."""
        b = self.batches(split)
        p = model.predict(b.dataset(batch_size), verbose=0)
        proba = p.reshape(-1) if self.binary else p
        counts = np.asarray(self.encoder.class_counts or [], dtype=np.int64)
        ids = self.split_ids(split)
        oov = self.encoder.vocab.oov_id
        n_tok = sum(len(s) for s in ids)
        n_oov = sum(s.count(oov) for s in ids) if oov is not None else 0
        info: dict[str, Any] = {
            "size": self.encoder.vocab.size,
            "oov_rate": round(n_oov / n_tok, 4) if n_tok else 0.0,
        }
        for k in ("coverage", "sequence_len", "truncated_train_texts", "features"):
            if k in self.encoder.info:
                info[k] = self.encoder.info[k]
        if "sequence_len" in info:
            info["truncated"] = int(sum(1 for s in ids if len(s) > info["sequence_len"]))
        return {
            "y_true": self.splits[split].labels.astype(np.int64),
            "proba": np.asarray(proba, dtype=np.float64),
            "class_names": self.class_names,
            "train_class_counts": counts.tolist(),
            "vocabulary": info,
            "split": split,
        }

    def write_artifacts(self, preds: dict[str, Any], run: Any, name: str) -> None:
        """``errors.jsonl``: the most confident mistakes of the split, with decoded text.

        One file per run; records carry ``split`` and scoring a split again replaces its
        records.
        """
        from seqrun.core.runs import replace_records, to_json
        from seqrun.metrics import predicted_labels

        y = preds["y_true"]
        proba = preds["proba"]
        pred, conf = predicted_labels(proba)
        wrong = np.flatnonzero(pred != y)
        order = wrong[np.argsort(-conf[wrong], kind="stable")][: self.report_errors]
        split = preds.get("split", name)
        row_ids = self.splits[split].row_ids
        records = []
        for rank, i in enumerate(order, start=1):
            rec: dict[str, Any] = {
                "split": name,
                "rank": rank,
                "index": int(i),
                "id": row_ids[i] if row_ids is not None else int(i),
                "label": self.class_names[int(y[i])],
                "predicted": self.class_names[int(pred[i])],
                "probability": round(float(conf[i]), 6),
            }
            if self.binary:
                rec["p_" + self.class_names[1]] = round(float(proba[i]), 6)
            rec["text"] = self.decode(split, int(i))
            records.append(rec)
        lines = [to_json(r, ensure_ascii=False) for r in records]
        replace_records(Path(run.path) / "errors.jsonl", name, lines)

    def plot(self, preds: dict[str, Any], path: Any, title: str = "") -> None:
        """Confusion matrix (and, for two classes, the predicted-probability histogram)."""
        from seqrun.data import plots

        plots.confusion(preds, path, title)

    # -- description and leakage (seqrun.data.text_describe)
    def describe(self, cfg: Any) -> dict[str, Any]:
        """Class balance, text lengths, truncation and vocabulary coverage of every split."""
        from seqrun.data import text_describe

        return text_describe.describe(self, cfg)

    def leakage(self, mode: str) -> dict[str, Any]:
        """Texts of train that occur again in dev or test."""
        from seqrun.data import text_describe

        return text_describe.leakage(self)

    @staticmethod
    def render_description(info: dict[str, Any]) -> tuple[str, list[tuple[str, ...]], list[str]]:
        """The headline, per-split rows and closing lines of a text description."""
        from seqrun.data import text_describe

        return text_describe.render(info)

    @staticmethod
    def brief_description(info: dict[str, Any]) -> dict[str, Any]:
        """Class shares, truncation and vocabulary coverage, for the run report."""
        from seqrun.data import text_describe

        return text_describe.brief(info)


def missing_path_error(path: str | Path, what: str, key: str = "data.path") -> UserError:
    """The one-line error for a data file or folder that is not there to read: missing, a
    symbolic link leading nowhere (a loop, or a missing target), or something that is not a
    regular file (a FIFO, a device such as /dev/null, a socket)."""
    p = Path(path).expanduser()
    if link := broken_link(p):
        return UserError(
            f"{what} not found: {path} is {link}; point it at the data, or give the data's own "
            "path",
            where=key,
        )
    try:
        there = p.exists()
    except OSError:  # e.g. a name too long, or a path through a file
        there = False
    if there and not p.is_dir() and not p.is_file():
        return UserError(
            f"{path} is not a regular file (a FIFO, a device or a socket): give the path of "
            f"the data {what}",
            where=key,
        )
    return UserError(f"{what} not found: {path}", where=key)
