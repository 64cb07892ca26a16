"""How rows are split into train, dev and test: fractions, k-fold folds, stratified draws.

One stratified draw (:func:`class_orders`: each class's rows in a seeded random order) is dealt
out three ways: fixed fractions per class (:func:`fraction_parts`), round-robin folds
(:func:`stratified_folds`) and a per-class holdout (:func:`stratified_holdout`). Time series are
cut in time order instead (:func:`series_cuts`). Same labels and seed, same rows, always.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from seqrun.core.config import Section


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
            raise ValueError(
                f"split fractions must add up to 1, they add up to {total:g} (train "
                f"{self.train:g} + dev {self.dev:g} + test {self.test:g})"
            )
        return self


def no_fold_error() -> Exception:
    """The error of an adapter asked for splits of a k-fold config without a fold."""
    from seqrun.core.errors import UserError

    return UserError(
        "data.split.kfold is set but not data.split.fold: `seqrun train` runs every fold, "
        "`seqrun data describe` describes them; to load one fold set data.split.fold",
        where="data.split.fold",
    )


def class_orders(
    labels: np.ndarray, seed: int, take: Callable[[int], int] | None = None
) -> list[np.ndarray]:
    """The row indices of each class (classes in sorted order), each in a seeded random order.

    One generator seeded with ``seed`` draws the classes one after another. With ``take``
    (rows of a class -> how many to keep), only that many rows of each class are drawn,
    without replacement (numpy's ``Generator.choice``: cheaper than a full shuffle).
    """
    rng = np.random.default_rng(seed)
    out = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if take is None:
            out.append(idx[rng.permutation(len(idx))])
        else:
            out.append(rng.choice(idx, size=take(len(idx)), replace=False))
    return out


def stratified_folds(labels: np.ndarray, k: int, seed: int) -> np.ndarray:
    """The fold (0..k-1) of each row: each class's rows in a seeded order, dealt round-robin.

    Every fold gets the same share of each class (to within one row per class), and fold
    sizes differ by at most the number of classes (each class starts where the last stopped).
    """
    fold = np.empty(len(labels), dtype=np.int64)
    orders = class_orders(labels, seed)
    if orders:
        order = np.concatenate(orders)
        fold[order] = np.arange(len(order)) % k
    return fold


def stratified_holdout(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of a seeded, per-class ``fraction`` of the rows."""
    mask = np.zeros(len(labels), dtype=bool)
    for rows in class_orders(labels, seed, take=lambda n: int(round(n * fraction))):
        mask[rows] = True
    return mask


def fraction_parts(
    labels: np.ndarray, method: str, fractions: tuple[float, float], seed: int
) -> dict[str, np.ndarray]:
    """Row indices of train/dev/test, sorted: the (train, dev) fractions of every class
    (``stratified``) or of all rows in the order of ``default_rng(seed).permutation``
    (``random``); test gets the rest."""
    f_train, f_dev = fractions
    if method == "random":
        n = len(labels)
        perm = np.random.default_rng(seed).permutation(n)
        a, b = int(n * f_train), int(n * (f_train + f_dev))
        parts = {"train": perm[:a], "dev": perm[a:b], "test": perm[b:]}
    else:
        lists: dict[str, list[np.ndarray]] = {"train": [], "dev": [], "test": []}
        for idx in class_orders(labels, seed):
            a = int(round(len(idx) * f_train))
            b = int(round(len(idx) * (f_train + f_dev)))
            lists["train"].append(idx[:a])
            lists["dev"].append(idx[a:b])
            lists["test"].append(idx[b:])
        parts = {k: np.concatenate(v) for k, v in lists.items()}
    return {k: np.sort(np.asarray(v, dtype=np.int64)) for k, v in parts.items()}


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
