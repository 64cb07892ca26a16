"""One stratified splitter and one window geometry: the same rows as before they were merged.

The digests below were computed with the three splitters that existed before
(``data.base.stratified_folds``, ``data.text_table.split_indices``,
``data.imdb.stratified_holdout``, commit 8cf3c3f) on the same labels: a change of any split
(same seed, other rows) would silently change every run's data.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from seqrun.core.splits import fraction_parts, stratified_folds, stratified_holdout
from seqrun.core.windows import WindowGeometry


def digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a, dtype=np.int64).tobytes())
    return h.hexdigest()[:16]


def labels() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(123)
    # "big": classes above 10,000 rows, where numpy's choice takes another path (tail shuffle)
    return {"small": rng.integers(0, 3, size=1000), "big": rng.integers(0, 2, size=25000)}


BEFORE = {
    ("small", 0): ("951689055f484453", "67dcc9d55b7333ca", "fab0a6ed49ac5c00", "17c61ffbaaddb149"),
    ("small", 7): ("a86744701fb2185f", "18ccfd0ddae0afbb", "53039275fcde7d7a", "7d227fbc5ad4ecc9"),
    ("big", 0): ("8c496df7d75bc1b6", "8a576492ce00e523", "6b32d837cfd1f9ed", "ad64db619f9d8f7c"),
    ("big", 7): ("06237fd8dbc955ba", "850259076cfe1205", "a985a312de2b1aa1", "9ee4fdc78da978e2"),
}


@pytest.mark.parametrize(("name", "seed"), list(BEFORE))
def test_splits_keep_their_rows(name, seed):
    y = labels()[name]
    folds, strat, rand, holdout = BEFORE[(name, seed)]
    assert digest(stratified_folds(y, 5, seed)) == folds
    p = fraction_parts(y, "stratified", (0.8, 0.1), seed)
    assert digest(p["train"], p["dev"], p["test"]) == strat
    p = fraction_parts(y, "random", (0.8, 0.1), seed)
    assert digest(p["train"], p["dev"], p["test"]) == rand
    assert digest(stratified_holdout(y, 0.1, seed)) == holdout


def test_stratified_splits_keep_class_shares():
    y = labels()["small"]
    folds = stratified_folds(y, 5, 0)
    for c in range(3):
        per_fold = np.bincount(folds[y == c], minlength=5)
        assert per_fold.max() - per_fold.min() <= 1
    mask = stratified_holdout(y, 0.1, 0)
    for c in range(3):
        assert mask[y == c].sum() == round((y == c).sum() * 0.1)
    p = fraction_parts(y, "stratified", (0.8, 0.1), 0)
    assert sorted(np.concatenate(list(p.values())).tolist()) == list(range(len(y)))


@pytest.mark.parametrize(
    ("seq", "horizon", "stride", "steps"), [(4, 1, 1, 1), (5, 3, 2, 1), (3, 2, 1, 4)]
)
def test_window_geometry_matches_the_window_arithmetic(seq, horizon, stride, steps):
    g = WindowGeometry(seq, horizon, stride, output_steps=steps)
    last = seq - 1 + horizon + steps - 1  # the last row a window reads, from its start
    assert g.starts(20).tolist() == list(range(0, 20 - last, stride))
    assert g.starts(last).tolist() == []  # too short for one window
    starts = g.starts(20)
    assert (g.last_rows(starts) < 20).all() and g.last_rows(starts)[-1] >= 20 - stride
    assert g.target_offset(7) == 7 + seq - 1 + horizon
    segments = np.array([[0, 9], [9, 30]])
    got = g.segment_starts(segments)
    assert got.tolist() == g.starts(9).tolist() + (9 + g.starts(21)).tolist()
    assert WindowGeometry(seq, horizon, seq2seq=True).first_target == horizon
    assert WindowGeometry(seq, horizon).first_target == seq - 1 + horizon
