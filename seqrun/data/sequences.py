"""Whole-sequence data: numeric sequences each labelled as a whole (class or target).

The data module of the ``sequences`` and ``sequence_regression`` adapters. A split holds raw
series (each (length, channels), NaN = missing) and one label per series; the encoder (see
:mod:`seqrun.encoders.sequences`) scales and pads them into an (N, length, channels) array with
each series' true length, and :class:`SequenceBatches` batches that array with tf.data
(optionally grouping series of similar length so that short ones are not padded to the longest).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqrun.data.base import IndexedBatches, class_counts, split_fingerprints

PERCENTILES = (50, 90, 99)
EXAMPLES = 3
PLOT_PER_CLASS = 3
PLOT_CLASSES = 8


@dataclass
class SeqSplit:
    """One split: series (each (length, channels) float32), labels (class ids or targets)
    and the id of each series in its source file."""

    series: list[np.ndarray]
    y: np.ndarray
    ids: list[Any]
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.series)

    def digests(self) -> list[bytes]:
        """An 8-byte digest per series (values, NaN included, and shape): the duplicate check."""
        if "digests" not in self.cache:
            self.cache["digests"] = [series_digest(s) for s in self.series]
        return self.cache["digests"]


def series_digest(series: np.ndarray) -> bytes:
    """An 8-byte digest of one series' values and shape."""
    a = np.ascontiguousarray(series, dtype=np.float32)
    h = hashlib.blake2b(str(a.shape).encode(), digest_size=8)
    h.update(a.tobytes())
    return h.digest()


def _stats(v: np.ndarray) -> dict[str, float]:
    v = np.asarray(v, dtype=np.float64)
    v = v[np.isfinite(v)]
    if not len(v):
        return {"n": 0}
    out = {"n": int(len(v)), "mean": float(v.mean()), "std": float(v.std()), "min": float(v.min())}
    for p, q in zip(PERCENTILES, np.percentile(v, PERCENTILES), strict=True):
        out[f"p{p}"] = float(q)
    out["max"] = float(v.max())
    return out


class SequenceBatches(IndexedBatches):
    """tf.data pipelines over one encoded split: (inputs, targets) batches.

    ``x`` is (N, L, F), post-padded; with ``bucket`` each batch is cut to its longest series
    and training batches group series of similar length (within pools of ``pool`` batches
    shuffled by (seed, epoch)).
    """

    def __init__(
        self, x: np.ndarray, lengths: np.ndarray, y: np.ndarray, bucket: bool, pool: int = 8
    ) -> None:
        self.x = x
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.y = y
        self.bucket = bucket
        self.pool = pool

    def __len__(self) -> int:
        return len(self.y)

    def _gather_fn(self):
        import tensorflow as tf

        x_all = tf.constant(self.x)
        y_all = tf.constant(self.y)
        len_all = tf.constant(self.lengths)
        bucket = self.bucket

        def gather(idx):
            x = tf.gather(x_all, idx)
            if bucket:
                x = x[:, : tf.reduce_max(tf.gather(len_all, idx))]
            return x, tf.gather(y_all, idx)

        return gather

    def bucket_order(self, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
        """The batches of one epoch with length bucketing: a (seed, epoch) permutation, cut in
        pools of ``pool`` batches, each pool sorted by length and cut into batches, the batches
        shuffled."""
        rng = np.random.default_rng([seed, epoch])
        perm = rng.permutation(len(self.y))
        size = batch_size * self.pool
        batches: list[np.ndarray] = []
        for lo in range(0, len(perm), size):
            part = perm[lo : lo + size]
            part = part[np.argsort(self.lengths[part], kind="stable")]
            batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
        return [batches[i] for i in rng.permutation(len(batches))]

    def _training_index(
        self, batch_size: int, seed: int, first_epoch: int, last_epoch: int, shuffle: bool
    ) -> Any:
        """With bucketing, the batches of :meth:`bucket_order` for every epoch; otherwise
        the shared (seed, epoch) shuffle."""
        if not (self.bucket and shuffle):
            return super()._training_index(batch_size, seed, first_epoch, last_epoch, shuffle)
        import tensorflow as tf

        order = [
            b
            for e in range(first_epoch, last_epoch)
            for b in self.bucket_order(batch_size, seed, e)
        ]
        ragged = tf.ragged.constant([b.tolist() for b in order], dtype=tf.int64)
        return tf.data.Dataset.from_tensor_slices(ragged).map(lambda r: r)


def sequence_fingerprint(splits: dict[str, Any]) -> str:
    """A short content hash of the given splits (series and labels)."""
    h = hashlib.sha256()
    for name in sorted(splits):
        h.update(name.encode())
        h.update(np.ascontiguousarray(splits[name].y).tobytes())
        for d in splits[name].digests():
            h.update(d)
    return h.hexdigest()[:16]


class SequenceData:
    """Sequences labelled as a whole: splits, classes (or a target), encoder, outputs.

    Args:
        splits: the loaded splits by name.
        class_names: class names by class id (binary: the first is negative); None for
            regression.
        channels: the channel (feature) names.
        source: where the data came from.
        target_name: the regression target's name.
        report_errors: worst mistakes written to ``errors.jsonl`` per scored split.
        notes: what the adapter did (for ``meta.json``).
    """

    fingerprint: str  # a short content hash of the series and labels (meta.json)

    def __init__(
        self,
        splits: dict[str, SeqSplit],
        class_names: list[str] | None,
        channels: list[str],
        source: str = "",
        target_name: str = "target",
        report_errors: int = 20,
        notes: dict[str, Any] | None = None,
    ) -> None:
        self.splits = splits
        self.class_names = list(class_names) if class_names is not None else None
        self.channels = list(channels)
        self.source = source
        self.target_name = target_name
        self.report_errors = report_errors
        self.notes = dict(notes or {})
        self.encoder: Any = None
        self.other_digests: dict[str, list[bytes]] = {}  # splits read but not loaded
        self.fingerprint, self.split_fingerprints = split_fingerprints(splits, sequence_fingerprint)

    # -- task
    @property
    def regression(self) -> bool:
        return self.class_names is None

    @property
    def binary(self) -> bool:
        return not self.regression and len(self.class_names) == 2

    @property
    def task(self) -> Any:
        from seqrun.data.base import Task

        if self.encoder is not None:
            shape, dtype = self.encoder.input_spec()
        else:
            shape, dtype = (None, len(self.channels)), "float32"
        if self.regression:
            kind, dim, names = "regression", 1, [self.target_name]
        else:
            kind = "classification"
            dim = 1 if self.binary else len(self.class_names)
            names = list(self.class_names)
        return Task(
            kind=kind,
            input_shape=tuple(shape),
            output_dim=dim,
            target_names=names,
            feature_names=self.channels,
            input_dtype=dtype,
        )

    def sizes(self) -> dict[str, int]:
        """Series per loaded split."""
        return {name: len(s) for name, s in self.splits.items()}

    def report(self) -> dict[str, Any]:
        """What ``meta.json`` records: source, classes per split, adapter notes, encoder facts."""
        out: dict[str, Any] = {"source": self.source, **self.notes}
        if not self.regression:
            labels = {name: sp.y for name, sp in self.splits.items()}
            out["classes"] = class_counts(self.class_names, labels)
        if self.encoder is not None:
            out["encoder"] = dict(self.encoder.info)
        return out

    # -- encoder
    def fit_encoder(self, encoder: Any) -> None:
        """Fit the encoder (scaling, padded length, targets) on the train split."""
        self.encoder = encoder
        train = self.splits["train"]
        encoder.fit(train.series, train.y, self.class_names, self.channels)

    def set_encoder(self, encoder: Any) -> None:
        """Use an encoder restored from a run."""
        self.encoder = encoder

    def batches(self, split: str) -> SequenceBatches:
        """A split encoded and ready to batch."""
        s = self.splits[split]
        if "batches" not in s.cache:
            if split != "train":  # the training split set the length (and its cuts: info)
                self.encoder.warn_lengths(s.series, f"the {split} split")
                self.encoder.warn_missing(s.series, f"the {split} split")
            x, lengths = self.encoder.encode(s.series)
            s.cache["batches"] = SequenceBatches(
                x, lengths, self.encoder.model_targets(s.y), bool(self.encoder.bucketing)
            )
        return s.cache["batches"]

    # -- evaluation
    def predictions(self, model: Any, split: str, batch_size: int = 256) -> dict[str, Any]:
        """The model's outputs on a split with the truth (in what the metric sets read)."""
        b = self.batches(split)
        p = np.asarray(model.predict(b.dataset(batch_size), verbose=0), dtype=np.float64)
        s = self.splits[split]
        lengths = np.asarray([len(x) for x in s.series], dtype=np.int64)
        if self.regression:
            return {
                "y_true": s.y.astype(np.float64),
                "y_pred": self.encoder.decode_targets(p.reshape(-1)),
                "train_mean": float(self.encoder.target_mean),
                "target_name": self.target_name,
                "lengths": lengths,
                "split": split,
            }
        return {
            "y_true": s.y.astype(np.int64),
            "proba": p.reshape(-1) if self.binary else p,
            "class_names": self.class_names,
            "train_class_counts": list(self.encoder.class_counts or []),
            "lengths": lengths,
            "split": split,
        }

    def _mistakes(self, preds: dict[str, Any]) -> list[dict[str, Any]]:
        split = preds.get("split", "test")
        ids = self.splits[split].ids if split in self.splits else None
        out = []
        if self.regression:
            err = np.abs(preds["y_pred"] - preds["y_true"])
            for i in np.argsort(-err, kind="stable")[: self.report_errors]:
                out.append(
                    {
                        "index": int(i),
                        "id": ids[i] if ids else int(i),
                        "target": float(preds["y_true"][i]),
                        "predicted": float(preds["y_pred"][i]),
                        "abs_error": float(err[i]),
                    }
                )
            return out
        from seqrun.metrics import predicted_labels

        y = preds["y_true"]
        pred, conf = predicted_labels(preds["proba"])
        wrong = np.flatnonzero(pred != y)
        for i in wrong[np.argsort(-conf[wrong], kind="stable")][: self.report_errors]:
            out.append(
                {
                    "index": int(i),
                    "id": ids[i] if ids else int(i),
                    "label": self.class_names[int(y[i])],
                    "predicted": self.class_names[int(pred[i])],
                    "probability": round(float(conf[i]), 6),
                    "length": int(preds["lengths"][i]) if "lengths" in preds else None,
                }
            )
        return out

    def write_artifacts(self, preds: dict[str, Any], run: Any, name: str) -> None:
        """``errors.jsonl``: the most confident mistakes (classification) or the largest
        errors (regression) of the split; scoring a split again replaces its records."""
        from seqrun.core.runs import replace_records, to_json

        records = [
            {"split": name, "rank": r, **rec}
            for r, rec in enumerate(self._mistakes(preds), start=1)
        ]
        lines = [to_json(r, fallback=str, ensure_ascii=False) for r in records]
        replace_records(Path(run.path) / "errors.jsonl", name, lines)

    def plot(self, preds: dict[str, Any], path: Path, title: str = "") -> None:
        """A few series of each class with their predicted label, and the confusion matrix
        (classification); predicted against true targets (regression)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from seqrun.data.plots import save_figure

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        split = self.splits.get(preds.get("split", ""))
        if self.regression:
            fig, ax = plt.subplots(figsize=(5, 5))
            y, yh = preds["y_true"], preds["y_pred"]
            ax.scatter(y, yh, s=10, alpha=0.6)
            lo, hi = float(min(y.min(), yh.min())), float(max(y.max(), yh.max()))
            ax.plot([lo, hi], [lo, hi], "k--", lw=1)
            ax.axhline(preds["train_mean"], color="grey", lw=1, label="train mean")
            ax.set_xlabel(f"true {self.target_name}")
            ax.set_ylabel("predicted")
            ax.legend()
            ax.set_title(title)
            fig.tight_layout()
            save_figure(fig, path)
            return
        from seqrun.metrics import predicted_labels

        names = self.class_names
        y = preds["y_true"]
        pred, _ = predicted_labels(preds["proba"])
        shown = names[:PLOT_CLASSES]
        fig = plt.figure(figsize=(4 * len(shown) + 4, 3.6))
        grid = fig.add_gridspec(1, len(shown) + 1)
        for c, cname in enumerate(shown):
            ax = fig.add_subplot(grid[0, c])
            for i in np.flatnonzero(y == c)[:PLOT_PER_CLASS]:
                s = split.series[i] if split is not None else None
                if s is None:
                    continue
                ok = pred[i] == y[i]
                ax.plot(
                    s[:, 0],
                    lw=1,
                    ls="-" if ok else "--",
                    label=f"#{i} -> {names[int(pred[i])]}" + ("" if ok else " (wrong)"),
                )
            ax.set_title(f"true {cname}" + (" (channel 0)" if len(self.channels) > 1 else ""))
            if ax.lines:
                ax.legend(fontsize=7)
            else:  # a class the split lacks (a small dev split, a class declared but unseen)
                ax.text(0.5, 0.5, "no series", ha="center", va="center", transform=ax.transAxes)
        ax = fig.add_subplot(grid[0, len(shown)])
        k = len(names)
        cm = np.zeros((k, k), dtype=np.int64)
        np.add.at(cm, (y, pred), 1)
        ax.imshow(cm, cmap="Blues")
        for a in range(k):
            for b in range(k):
                ax.text(b, a, str(cm[a, b]), ha="center", va="center", fontsize=8)
        ax.set_xticks(range(k), names, rotation=45, fontsize=7)
        ax.set_yticks(range(k), names, fontsize=7)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title("confusion")
        fig.suptitle(title)
        fig.tight_layout()
        save_figure(fig, path)

    # -- description
    def describe(self, cfg: Any = None) -> dict[str, Any]:
        """Sizes, lengths, classes or targets, per-channel statistics, missing values and
        duplicates across splits (of every loaded split)."""
        splits: dict[str, Any] = {}
        for name, s in self.splits.items():
            lengths = np.asarray([len(x) for x in s.series])
            values = np.concatenate([x.reshape(-1, len(self.channels)) for x in s.series])
            missing = np.isnan(values)
            info: dict[str, Any] = {
                "examples": len(s),
                "length": _stats(lengths),
                "missing_values": int(missing.sum()),
                "missing_share": float(missing.mean()) if missing.size else 0.0,
                "series_with_missing": int(sum(bool(np.isnan(x).any()) for x in s.series)),
                "duplicates_within": len(s) - len(set(s.digests())),
                "channels": {
                    ch: {
                        k: v
                        for k, v in _stats(values[:, c]).items()
                        if k in ("mean", "std", "min", "max")
                    }
                    for c, ch in enumerate(self.channels)
                },
            }
            if self.regression:
                info["targets"] = {self.target_name: _stats(s.y)}
            else:
                counts = np.bincount(s.y, minlength=len(self.class_names))
                info["classes"] = dict(zip(self.class_names, counts.tolist(), strict=True))
                info["class_shares"] = {
                    c: float(n / max(len(s), 1))
                    for c, n in zip(self.class_names, counts, strict=True)
                }
            splits[name] = info
        lengths_all = [len(x) for s in self.splits.values() for x in s.series]
        return {
            "task": "regression" if self.regression else "classification",
            "source": self.source,
            "sizes": self.sizes(),
            "class_names": self.class_names,
            "sequences": {
                "channels": self.channels,
                "equal_length": len(set(lengths_all)) == 1,
                "duplicates_across": self._duplicates(),
                **self.notes,
            },
            "splits": splits,
        }

    def _duplicates(self) -> dict[str, int]:
        out = {}
        for a, b, other, _ in self._pairs():
            first = set(self.splits[a].digests())
            out[f"{a}/{b}"] = sum(1 for d in other if d in first)
        return out

    def _pairs(self) -> list[tuple[str, str, list[bytes], bool]]:
        pairs = []
        for a, b in (("train", "dev"), ("train", "test"), ("dev", "test")):
            if a not in self.splits:
                continue
            if b in self.splits:
                pairs.append((a, b, self.splits[b].digests(), True))
            elif self.other_digests.get(b):
                pairs.append((a, b, self.other_digests[b], False))
        return pairs

    def leakage(self, mode: str = "warn") -> dict[str, Any]:
        """The same series (identical values and length) in two splits."""
        result: dict[str, Any] = {
            "mode": mode,
            "found": False,
            "issues": [],
            "checked": [],
            "skipped": [],
        }
        if mode == "off":
            result["skipped"].append("every check (data.leakage: off)")
            return result
        for a, b, other, loaded in self._pairs():
            result["checked"].append(f"{a}/{b} identical series (values and length)")
            first: dict[bytes, int] = {}
            for i, d in enumerate(self.splits[a].digests()):
                first.setdefault(d, i)
            hits = [(j, first[d]) for j, d in enumerate(other) if d in first]
            if not hits:
                continue
            examples = []
            for j, i in hits[:EXAMPLES]:
                ex = {f"{a}_id": self.splits[a].ids[i]}
                if loaded:
                    ex[f"{b}_id"] = self.splits[b].ids[j]
                examples.append(ex)
            result["issues"].append(
                {
                    "check": "duplicate_series",
                    "splits": [a, b],
                    "count": len(hits),
                    "of": len(other),
                    "message": f"{len(hits)} of {len(other)} {b} series also occur in {a} "
                    "(identical values)",
                    "examples": examples,
                }
            )
        result["found"] = bool(result["issues"])
        return result

    @staticmethod
    def render_description(info: dict[str, Any]) -> tuple[str, list[tuple[str, ...]], list[str]]:
        """The headline, per-split rows and closing lines of :meth:`describe`'s result."""
        splits = info.get("splits", {})
        names = list(splits)
        rows: list[tuple[str, ...]] = []

        def add(label: str, fn: Any) -> None:
            rows.append((label, *(fn(splits[n]) for n in names)))

        def f(v: Any) -> str:
            return "" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)

        add("series", lambda s: str(s["examples"]))
        for c in info.get("class_names") or []:
            add(f"  {c}", lambda s, c=c: f"{s['classes'][c]} ({100 * s['class_shares'][c]:.1f} %)")
        for t in (splits[names[0]].get("targets") or {}) if names else {}:
            add(
                f"{t} mean +- std",
                lambda s, t=t: (
                    f"{f(s['targets'][t].get('mean'))} +- {f(s['targets'][t].get('std'))}"
                ),
            )
        add(
            "length min / p50 / max",
            lambda s: " / ".join(f(s["length"].get(k)) for k in ("min", "p50", "max")),
        )
        add("missing values", lambda s: f"{s['missing_values']} ({100 * s['missing_share']:.2f} %)")
        add("duplicates within", lambda s: str(s["duplicates_within"]))
        seq = info.get("sequences", {})
        for c in seq.get("channels", [])[:16]:
            add(
                f"{c} mean +- std",
                lambda s, c=c: (
                    f"{f(s['channels'][c].get('mean'))} +- {f(s['channels'][c].get('std'))}"
                ),
            )
        dup = ", ".join(f"{k} {v}" for k, v in (seq.get("duplicates_across") or {}).items())
        head = (
            f"sequences: {len(seq.get('channels', []))} channel(s), "
            f"{'equal' if seq.get('equal_length') else 'unequal'} lengths; "
            f"{info.get('task')}"
            + (f" ({len(info['class_names'])} classes)" if info.get("class_names") else "")
            + (f"; identical series across splits: {dup}" if dup else "")
        )
        return head, rows, []

    @staticmethod
    def brief_description(info: dict[str, Any]) -> dict[str, Any]:
        """A few flat lines for the run report."""
        out: dict[str, Any] = {"describe: sizes": info.get("sizes")}
        for name, s in (info.get("splits") or {}).items():
            if "class_shares" in s:
                out[f"describe: {name} classes"] = {
                    c: f"{100 * v:.1f} %" for c, v in s["class_shares"].items()
                }
            ln = s.get("length", {})
            out[f"describe: {name} lengths"] = f"{ln.get('min')}..{ln.get('max')}"
            if s.get("missing_values"):
                out[f"describe: {name} missing values"] = s["missing_values"]
        dup = (info.get("sequences") or {}).get("duplicates_across")
        if dup:
            out["describe: identical series across splits"] = dup
        return out
