"""What every dataset adapter provides to the trainer."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from seqrun.core.config import Section

SPLITS = ("train", "dev", "test")


class SplitFractions(Section):
    """Fractions of the data in each split (chronological or stratified, per adapter)."""

    train: float = Field(0.7, gt=0, lt=1, description="Fraction of the data used for training.")
    dev: float = Field(0.1, gt=0, lt=1, description="Fraction held out for model selection.")
    test: float = Field(0.2, ge=0, lt=1, description="Fraction held out for `seqrun evaluate`.")
    kfold: int | None = Field(
        None,
        ge=2,
        le=100,
        description="K-fold cross-validation: `seqrun train` runs K folds under one parent run; "
        "in each, dev is the held-out fold and the rest trains. The test fraction is set aside "
        "first and never folded (test: 0 folds everything: the held-out folds are then the "
        "evaluation set); train/dev fractions are ignored. Classification folds are "
        "stratified; time series use forward-chaining folds (dev always after train, never "
        "shuffled).",
    )
    fold: int | None = Field(
        None,
        ge=0,
        description="With kfold: the held-out fold (0 to kfold-1) of this run; set by "
        "`seqrun train` in each fold's config. null runs every fold.",
    )

    @model_validator(mode="after")
    def _sum_to_one(self) -> SplitFractions:
        if self.fold is not None and self.kfold is None:
            raise ValueError("split.fold needs split.kfold")
        if self.kfold is not None:
            if self.fold is not None and self.fold >= self.kfold:
                raise ValueError(f"split.fold must be below split.kfold ({self.kfold})")
            return self  # the folds replace the train/dev fractions
        total = self.train + self.dev + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"split fractions must add up to 1, they add up to {total:g}")
        return self


def open_adapter(cfg: Any) -> Any:
    """The config's dataset adapter, given its own ``data:`` section and what it must know of
    the model (whether the architecture returns one output per step)."""
    from seqrun.core.contracts import LoadOptions
    from seqrun.core.registry import registry

    arch = registry.get("arch", cfg.model.arch)(cfg.model)
    options = LoadOptions(sequence_outputs=bool(arch.returns_sequences))
    return registry.get("adapter", cfg.data.adapter)(cfg.data, options)


def kfold_of(cfg: Any) -> int | None:
    """``data.split.kfold`` of an experiment config (None when absent or unset)."""
    split = getattr(cfg.data, "split", None)
    return getattr(split, "kfold", None)


def no_fold_error() -> Exception:
    """The error of an adapter asked for splits of a k-fold config without a fold."""
    from seqrun.core.errors import UserError

    return UserError(
        "data.split.kfold is set but not data.split.fold: `seqrun train` runs every fold, "
        "`seqrun data describe` describes them; to load one fold set data.split.fold",
        where="data.split.fold",
    )


def stratified_folds(labels: np.ndarray, k: int, seed: int) -> np.ndarray:
    """The fold (0..k-1) of each row: a seeded shuffle within each class, dealt round-robin.

    Every fold gets the same share of each class (to within one row per class), and fold
    sizes differ by at most the number of classes.
    """
    rng = np.random.default_rng(seed)
    fold = np.empty(len(labels), dtype=np.int64)
    offset = 0
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        idx = idx[rng.permutation(len(idx))]
        fold[idx] = (np.arange(len(idx)) + offset) % k
        offset += len(idx)  # the next class starts where this one stopped: balanced sizes
    return fold


def fold_parts(
    labels: np.ndarray, pool: np.ndarray, test: np.ndarray, split: Any
) -> dict[str, np.ndarray]:
    """Train/dev/test row indices of fold ``split.fold``: stratified folds of ``pool``."""
    if split.fold is None:
        raise no_fold_error()
    pool = np.sort(np.asarray(pool, dtype=np.int64))
    folds = stratified_folds(labels[pool], split.kfold, getattr(split, "seed", 0))
    return {
        "train": pool[folds != split.fold],
        "dev": pool[folds == split.fold],
        "test": np.sort(np.asarray(test, dtype=np.int64)),
    }


def series_cuts(n: int, split: SplitFractions) -> dict[str, tuple[int, int]]:
    """Row ranges [lo, hi) of train/dev/test in a series of ``n`` points, in time order.

    Without kfold: chronological fractions. With kfold: the last ``test`` fraction is set
    aside (the same rows as without kfold when the fractions add up to 1); the rest is cut
    into kfold + 1 consecutive blocks and fold f trains on blocks 0..f and holds out block
    f + 1 (forward chaining: dev always follows train, nothing is shuffled).
    """
    n_train = math.floor(n * split.train)
    n_dev = math.floor(n * split.dev)
    if split.kfold is None:
        return {
            "train": (0, n_train),
            "dev": (n_train, n_train + n_dev),
            "test": (n_train + n_dev, n),
        }
    if split.fold is None:
        raise no_fold_error()
    if split.test == 0:
        test_lo = n
    elif abs(split.train + split.dev + split.test - 1.0) <= 1e-6:
        test_lo = n_train + n_dev
    else:
        test_lo = n - math.floor(n * split.test)
    k = split.kfold
    edges = [math.floor(i * test_lo / (k + 1)) for i in range(k + 2)]
    f = split.fold
    return {"train": (0, edges[f + 1]), "dev": (edges[f + 1], edges[f + 2]), "test": (test_lo, n)}


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
