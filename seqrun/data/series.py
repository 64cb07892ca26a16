"""Windowed numeric time series: the shared pipeline of the ladybug and weather adapters.

A split is a float array ``values`` of shape (T, F) plus the valid window starts. Windows are
gathered batch by batch inside tf.data from those starts, so no (windows x length x features)
array is ever materialised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class SeriesSplit:
    """One split of a time series: raw values and the starts of its valid windows."""

    values: np.ndarray  # (T, F) float32, original units
    starts: np.ndarray  # int64 window starts; a window spans [s, s + sequence_len)
    times: np.ndarray | None = None  # optional timestamps, length T
    info: dict[str, Any] = field(default_factory=dict)


def window_starts(
    length: int, sequence_len: int, horizon: int, stride: int = 1, seq2seq: bool = False
) -> np.ndarray:
    """Starts of every window whose inputs and target(s) lie inside ``length`` points."""
    last_needed = sequence_len - 1 + horizon  # offset of the (last) target from the start
    n = length - last_needed
    return np.arange(0, max(n, 0), stride, dtype=np.int64)


class SeriesWindows:
    """tf.data pipelines over one encoded split.

    Args:
        values: encoded (normalised) series, shape (T, F).
        starts: window starts.
        sequence_len: input steps per window.
        horizon: how many steps after the window's last input the target lies.
        target_idx: columns predicted.
        seq2seq: targets at every step (shifted by ``horizon``) instead of the last one.
    """

    def __init__(
        self,
        values: np.ndarray,
        starts: np.ndarray,
        sequence_len: int,
        horizon: int,
        target_idx: list[int],
        seq2seq: bool = False,
    ) -> None:
        self.values = np.ascontiguousarray(values, dtype=np.float32)
        self.starts = np.asarray(starts, dtype=np.int64)
        self.sequence_len = sequence_len
        self.horizon = horizon
        self.target_idx = list(target_idx)
        self.seq2seq = seq2seq

    def __len__(self) -> int:
        return len(self.starts)

    def _gather_fn(self):
        import tensorflow as tf

        values = tf.constant(self.values)
        targets = tf.gather(values, self.target_idx, axis=1)
        steps = tf.range(self.sequence_len, dtype=tf.int64)
        last = self.sequence_len - 1 + self.horizon

        def gather(idx):
            x = tf.gather(values, idx[:, None] + steps[None, :])
            if self.seq2seq:
                y = tf.gather(targets, idx[:, None] + steps[None, :] + self.horizon)
            else:
                y = tf.gather(targets, idx + last)
            return x, y

        return gather

    def dataset(self, batch_size: int):
        """Windows in order, batched (for evaluation and prediction)."""
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices(self.starts).batch(batch_size)
        return ds.map(self._gather_fn()).prefetch(2)

    def training_dataset(
        self, batch_size: int, seed: int, first_epoch: int, last_epoch: int, shuffle: bool = True
    ):
        """Batches for epochs ``first_epoch``..``last_epoch - 1``, one after another.

        Each epoch's order depends on (seed, epoch) alone, so a resumed run sees the same
        batches as an uninterrupted one whatever the process' global RNG state.
        """
        import tensorflow as tf

        starts = tf.constant(self.starts)

        def epoch_batches(epoch):
            order = starts
            if shuffle:
                key = tf.stack([tf.constant(seed, tf.int64), epoch])
                order = tf.random.experimental.stateless_shuffle(starts, seed=key)
            return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

        ds = tf.data.Dataset.range(first_epoch, last_epoch).flat_map(epoch_batches)
        return ds.map(self._gather_fn()).prefetch(2)

    def steps(self, batch_size: int) -> int:
        """Batches per epoch."""
        return -(-len(self.starts) // batch_size)

    def last_inputs(self) -> np.ndarray:
        """The last input step of each window (for the persistence baseline), (N, F)."""
        return self.values[self.starts + self.sequence_len - 1]

    def targets(self) -> np.ndarray:
        """The (last-step) target of each window, (N, n_targets), in encoded units."""
        idx = self.starts + self.sequence_len - 1 + self.horizon
        return self.values[idx][:, self.target_idx]


class SeriesData:
    """A time-series dataset ready for training: splits, encoder, windows, evaluation inputs.

    Args:
        splits: raw splits by name (only those loaded; ``train`` never reads ``test``).
        feature_names: one name per column of ``values``.
        target_names: the predicted columns (a subset of ``feature_names``).
        sequence_len: input steps per window.
        horizon: steps ahead of the last input that the target lies.
        seq2seq: predict at every step of the window (``return_sequences``).
        recursive_steps: steps of the recursive multi-step evaluation (0 disables it).
        units: the unit of each target column, for reports.
    """

    def __init__(
        self,
        splits: dict[str, SeriesSplit],
        feature_names: list[str],
        target_names: list[str],
        sequence_len: int,
        horizon: int = 1,
        seq2seq: bool = False,
        recursive_steps: int = 0,
        units: list[str] | None = None,
        fingerprint: str = "",
    ) -> None:
        from seqrun.data.base import Task

        self.splits = splits
        self.feature_names = feature_names
        self.target_names = target_names
        self.target_idx = [feature_names.index(t) for t in target_names]
        self.sequence_len = sequence_len
        self.horizon = horizon
        self.seq2seq = seq2seq
        self.recursive_steps = recursive_steps
        self.units = units or [""] * len(target_names)
        self.fingerprint = fingerprint
        self.encoder: Any = None
        self.task = Task(
            kind="regression",
            input_shape=(sequence_len, len(feature_names)),
            output_dim=len(target_names),
            target_names=target_names,
            feature_names=feature_names,
            seq2seq=seq2seq,
        )

    # -- encoder
    def fit_encoder(self, encoder: Any) -> None:
        """Fit the encoder on the training split only."""
        encoder.fit(self.splits["train"].values, self.feature_names)
        self.encoder = encoder

    def set_encoder(self, encoder: Any) -> None:
        """Use an encoder restored from a run."""
        self.encoder = encoder

    def windows(self, split: str) -> SeriesWindows:
        """Encoded windows of one split."""
        s = self.splits[split]
        return SeriesWindows(
            self.encoder.transform(s.values),
            s.starts,
            self.sequence_len,
            self.horizon,
            self.target_idx,
            self.seq2seq,
        )

    def sizes(self) -> dict[str, int]:
        """Number of windows per loaded split."""
        return {name: len(s.starts) for name, s in self.splits.items()}

    # -- evaluation
    def predictions(self, model: Any, split: str, batch_size: int = 256) -> dict[str, Any]:
        """Everything a regression metric set needs, in original units."""
        w = self.windows(split)
        pred = model.predict(w.dataset(batch_size), verbose=0)
        if self.seq2seq:
            pred = pred[:, -1, :]
        inv = self.encoder.inverse_transform
        out: dict[str, Any] = {
            "y_true": inv(w.targets(), self.target_idx),
            "y_pred": inv(pred, self.target_idx),
            "persistence": inv(w.last_inputs()[:, self.target_idx], self.target_idx),
            "scale": self.encoder.target_scale(self.target_idx),
            "target_names": self.target_names,
            "units": self.units,
        }
        if (
            self.recursive_steps
            and self.horizon == 1
            and len(self.target_idx) == len(self.feature_names)
        ):
            out["recursive"] = self.recursive(model, split, self.recursive_steps, batch_size)
        return out

    def recursive(
        self, model: Any, split: str, steps: int, batch_size: int = 256, max_windows: int = 20000
    ) -> dict[str, np.ndarray]:
        """Predict ``steps`` points by feeding predictions back (targets must be all features).

        Returns ``y_true`` and ``y_pred`` of shape (N, steps, F) in original units, and the
        window ``starts`` used.
        """
        import tensorflow as tf

        s = self.splits[split]
        values = self.encoder.transform(s.values).astype(np.float32)
        ok = s.starts[s.starts + self.sequence_len - 1 + steps < len(values)]
        if len(ok) > max_windows:
            ok = ok[np.linspace(0, len(ok) - 1, max_windows).astype(np.int64)]
        idx = ok[:, None] + np.arange(self.sequence_len)[None, :]
        x = values[idx]
        preds = []
        for _ in range(steps):
            # a tf.data input: Keras' numpy adapter adds a parallel map that logs a TF warning
            p = model.predict(tf.data.Dataset.from_tensor_slices(x).batch(batch_size), verbose=0)
            if self.seq2seq:
                p = p[:, -1, :]
            preds.append(p)
            x = np.concatenate([x[:, 1:, :], p[:, None, :]], axis=1)
        pred = np.stack(preds, axis=1)
        true = values[ok[:, None] + self.sequence_len + np.arange(steps)[None, :]]
        inv = self.encoder.inverse_transform
        cols = list(range(len(self.feature_names)))
        return {
            "y_true": inv(true.reshape(-1, true.shape[-1]), cols).reshape(true.shape),
            "y_pred": inv(pred.reshape(-1, pred.shape[-1]), cols).reshape(pred.shape),
            "starts": ok,
        }

    batches = windows  # the trainer's name for "a split ready to batch"

    def plot(self, preds: dict[str, Any], path: Any, title: str = "") -> None:
        """Forecast vs truth (or the 2D trajectory when the features are x and y)."""
        from seqrun import plots

        if self.feature_names == ["x", "y"] and self.target_names == ["x", "y"]:
            plots.trajectory(preds, path, title)
        else:
            plots.forecast(preds, path, title)
