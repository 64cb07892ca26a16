"""What every dataset adapter provides to the trainer."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

SPLITS = ("train", "dev", "test")


def open_adapter(cfg: Any, command_line: bool = False) -> Any:
    """The config's dataset adapter, given its own ``data:`` section and what it must know of
    the model (whether the architecture returns one output per step); ``command_line``: the
    data keys come from ``--set`` (its errors say ``--set data.KEY=VALUE``)."""
    from seqrun.core.contracts import LoadOptions
    from seqrun.core.registry import registry

    arch = registry.get("arch", cfg.model.arch)(cfg.model)
    options = LoadOptions(sequence_outputs=bool(arch.returns_sequences), command_line=command_line)
    return registry.get("adapter", cfg.data.adapter)(cfg.data, options)


def kfold_of(cfg: Any) -> int | None:
    """``data.split.kfold`` of an experiment config (None when absent or unset)."""
    split = getattr(cfg.data, "split", None)
    return getattr(split, "kfold", None)


@dataclass
class Task:
    """What the model must do, as far as building and scoring it is concerned."""

    kind: Literal["regression", "classification"]
    input_shape: tuple[int, ...]
    output_dim: int
    target_names: list[str]
    feature_names: list[str] = field(default_factory=list)
    seq2seq: bool = False
    input_dtype: str = "float32"
    extra: dict[str, Any] = field(default_factory=dict)


def fingerprint(*arrays: np.ndarray) -> str:
    """A short content hash of the data a run saw (recorded in meta.json)."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str(a.dtype).encode())
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def split_fingerprints(splits: dict[str, Any], one: Any) -> tuple[str, dict[str, str]]:
    """The hash ``one({name: split})`` of each split, and one hash of them all (for a family
    whose data hash depends on the splits loaded: text, sequences)."""
    each = {name: one({name: s}) for name, s in splits.items()}
    whole = hashlib.sha256("".join(f"{k}={each[k]};" for k in sorted(each)).encode())
    return whole.hexdigest()[:16], each


def epoch_batches(
    index: Any, batch_size: int, seed: int, first_epoch: int, last_epoch: int, shuffle: bool
):
    """tf.data batches of ``index`` (a 1-D tensor) for epochs ``first_epoch``..``last_epoch - 1``.

    Each epoch's order comes from ``stateless_shuffle`` keyed by (seed, epoch) alone, so a
    resumed run sees the same batches as an uninterrupted one, whatever the global RNG state.
    """
    import tensorflow as tf

    def one_epoch(epoch):
        order = index
        if shuffle:
            key = tf.stack([tf.constant(seed, tf.int64), epoch])
            order = tf.random.experimental.stateless_shuffle(index, seed=key)
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

    return tf.data.Dataset.range(first_epoch, last_epoch).flat_map(one_epoch)


Shard = tuple[int, int, int]  # (first replica of this worker, its replicas, all replicas)


def shard_batches(ds: Any, shard: Shard | None) -> Any:
    """This worker's part of every batch of indices in ``ds``.

    The batches are those of one process (the global batch); replica ``r`` of ``total`` keeps
    elements ``r, r + total, ...`` of each one, so the replicas of every worker together see
    exactly the global batch. A worker with several replicas yields one element per replica,
    in replica order. ``None`` (or one replica in all) keeps the batches whole.
    """
    import tensorflow as tf

    if shard is None or shard[2] == 1:
        return ds
    first, local, total = shard
    if local == 1:
        return ds.map(lambda idx: idx[first::total])
    return ds.flat_map(
        lambda idx: tf.data.Dataset.range(first, first + local).map(lambda r: idx[r::total])
    )


class IndexedBatches:
    """tf.data pipelines over one split whose examples are gathered by index: subclasses give
    ``__len__`` and ``_gather_fn`` (a batch of indices -> (inputs, targets)); a subclass may
    change the order of training batches in ``_training_index``."""

    def __len__(self) -> int:
        raise NotImplementedError

    def _gather_fn(self) -> Any:
        raise NotImplementedError

    def steps(self, batch_size: int) -> int:
        """Batches per epoch."""
        return -(-len(self) // batch_size)

    def dataset(self, batch_size: int, shard: Shard | None = None) -> Any:
        """Examples in order, batched (evaluation, prediction); ``shard``: this worker's part
        of every batch."""
        import tensorflow as tf

        ds = tf.data.Dataset.range(len(self)).batch(batch_size)
        ds = shard_batches(ds, shard)
        return ds.map(self._gather_fn()).prefetch(2)

    def _training_index(
        self, batch_size: int, seed: int, first_epoch: int, last_epoch: int, shuffle: bool
    ) -> Any:
        """The index batches of the epochs, each epoch's order from (seed, epoch)."""
        import tensorflow as tf

        index = tf.range(len(self), dtype=tf.int64)
        return epoch_batches(index, batch_size, seed, first_epoch, last_epoch, shuffle)

    def training_dataset(
        self,
        batch_size: int,
        seed: int,
        first_epoch: int,
        last_epoch: int,
        shuffle: bool = True,
        shard: Shard | None = None,
    ) -> Any:
        """Batches of epochs ``first_epoch``..``last_epoch - 1``; each order from (seed, epoch).

        ``shard`` keeps this worker's part of every batch (several workers, one global batch).
        """
        ds = self._training_index(batch_size, seed, first_epoch, last_epoch, shuffle)
        ds = shard_batches(ds, shard)
        return ds.map(self._gather_fn()).prefetch(2)


def class_counts(class_names: list[str], labels_by_split: dict[str, Any]) -> dict[str, dict]:
    """{split: {class name: examples}} from each split's integer labels."""
    import numpy as np

    k = len(class_names)
    return {
        name: dict(zip(class_names, np.bincount(labels, minlength=k).tolist(), strict=True))
        for name, labels in labels_by_split.items()
    }


def class_order(labels: Any) -> list[str]:
    """Distinct labels as class names in class-id order: numerically when every label is a
    number (-1, 0, 1; 1, 2, 10), else alphabetically."""
    names = sorted({str(v) for v in labels})
    try:
        values = {v: float(v) for v in names}
    except ValueError:
        return names
    if all(np.isfinite(x) for x in values.values()):
        names.sort(key=lambda v: (values[v], v))
    return names


def warn_untrained_classes(data: Any) -> None:
    """Warn about classes with no training example (listed in data.classes, or found only
    in other splits): the model cannot learn them."""
    from seqrun.core.text import shown_names, warn

    counts = (data.report().get("classes") or {}).get("train") or {}
    empty = [name for name, n in counts.items() if n == 0]
    if empty:
        one = len(empty) == 1
        warn(
            f"{'class' if one else 'classes'} {shown_names(empty)} "
            f"{'has' if one else 'have'} no training example ({len(empty)} of {len(counts)} "
            f"classes): the model cannot learn {'it' if one else 'them'}; check the labels, "
            f"or leave {'it' if one else 'them'} out of data.classes"
        )
