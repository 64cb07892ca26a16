"""Windowed numeric time series: the shared pipeline of the ladybug and weather adapters.

A split is a float array ``values`` of shape (T, F) plus the valid window starts. Windows are
gathered batch by batch inside tf.data from those starts, so no (windows x length x features)
array is ever materialised. A split may hold several gap-free *segments* one after another
(``SeriesSplit.segments``); window starts are chosen so that no window crosses from one
segment into the next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seqrun.core.windows import WindowGeometry
from seqrun.data.base import Shard, Task

_ALIGN = 64  # TensorFlow's CPU allocator alignment: aligned buffers can be shared, not copied
_CHUNK_ROWS = 65536  # rows encoded at a time (bounds the encoder's temporaries)


@dataclass
class SeriesSplit:
    """One split of a time series: raw values and the starts of its valid windows."""

    values: np.ndarray  # (T, F) float32, original units
    starts: np.ndarray  # int64 window starts; a window spans [s, s + sequence_len)
    times: np.ndarray | None = None  # optional timestamps, length T
    info: dict[str, Any] = field(default_factory=dict)
    segments: np.ndarray | None = None  # (K, 2) [lo, hi) bounds of gap-free stretches

    def bounds(self) -> np.ndarray:
        """The segment bounds; one segment spanning everything when none were given."""
        if self.segments is None or len(self.segments) == 0:
            return np.array([[0, len(self.values)]], dtype=np.int64)
        return np.asarray(self.segments, dtype=np.int64)

    def segment_lo_hi(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First and past-the-end row of the segment holding each row index in ``idx``."""
        b = self.bounds()
        k = np.searchsorted(b[:, 0], idx, side="right") - 1
        return b[k, 0], b[k, 1]


def aligned_empty(shape: tuple[int, ...], dtype: Any = np.float32) -> np.ndarray:
    """An uninitialised C-contiguous array whose data starts on a 64-byte boundary."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    buf = np.empty(nbytes + _ALIGN, dtype=np.uint8)
    offset = (-buf.ctypes.data) % _ALIGN
    return buf[offset : offset + nbytes].view(dtype).reshape(shape)


def encode_rows(encoder: Any, values: np.ndarray) -> np.ndarray:
    """``encoder.transform(values)`` into one aligned float32 array, a chunk of rows at a time.

    Gives the same numbers as a single call for row-wise encoders (every numeric encoder), but
    never holds more than a chunk of the encoder's temporaries (e.g. float64) at once.
    """
    out = aligned_empty(values.shape, np.float32)
    for lo in range(0, len(values), _CHUNK_ROWS):
        out[lo : lo + _CHUNK_ROWS] = encoder.transform(values[lo : lo + _CHUNK_ROWS])
    return out


def _shared_tensor(values: np.ndarray):
    """A TensorFlow tensor over ``values``: shares its memory when it can, else a copy."""
    import tensorflow as tf

    if (
        values.dtype == np.float32
        and values.flags.c_contiguous
        and values.ctypes.data % _ALIGN == 0
        and values.size > 0
    ):
        try:
            return tf.experimental.dlpack.from_dlpack(values.__dlpack__())
        except Exception:  # an older TensorFlow without DLPack import: copy instead
            pass
    return tf.constant(values)


def _no_graph_rewrite(ds):
    """Switch off tf.data's static graph rewrites for ``ds``.

    Those rewrites serialise the pipeline's graph, and with it every tensor its functions
    capture: the whole series would be copied once more. The map below is parallelised
    explicitly instead.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_optimization.apply_default_optimizations = False
    return ds.with_options(options)


CALM_NORM = 1e-3  # a circular (sine, cosine) pair shorter than this has no direction


@dataclass
class ScoredTargets:
    """The targets as scored and reported, when the model predicts them in another form.

    A circular column (degrees) is predicted as its sine and cosine and scored in degrees;
    a non-negative target gets a bounded output; a precipitation target gets rain metrics.
    """

    names: list[str]
    units: list[str]
    circular: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (sin, cos)
    nonnegative: list[str] = field(default_factory=list)
    precipitation: dict[str, float] = field(default_factory=dict)  # name -> rain threshold


class SeriesWindows:
    """tf.data pipelines over one encoded split.

    Args:
        values: encoded (normalised) series, shape (T, F). Shared with TensorFlow without a copy
            when it is float32, C-contiguous and 64-byte aligned (see :func:`encode_rows`).
        starts: window starts.
        sequence_len: input steps per window.
        horizon: how many steps after the window's last input the target lies.
        target_idx: columns predicted.
        seq2seq: targets at every step (shifted by ``horizon``) instead of the last one.
        residual: the targets are the change since the input step they are predicted from
            (``y - x`` on the target columns) rather than the values themselves.
        output_steps: targets at ``horizon .. horizon + output_steps - 1`` steps after the last
            input, shape (output_steps, targets), when above 1.
    """

    def __init__(
        self,
        values: np.ndarray,
        starts: np.ndarray,
        sequence_len: int,
        horizon: int,
        target_idx: list[int],
        seq2seq: bool = False,
        residual: bool = False,
        output_steps: int = 1,
    ) -> None:
        self.values = np.ascontiguousarray(values, dtype=np.float32)
        self.output_steps = output_steps
        self.starts = np.asarray(starts, dtype=np.int64)
        self.sequence_len = sequence_len
        self.horizon = horizon
        self.target_idx = list(target_idx)
        self.seq2seq = seq2seq
        self.residual = residual
        self.geometry = WindowGeometry(
            sequence_len, horizon, seq2seq=seq2seq, output_steps=output_steps
        )
        self._tensor: Any = None
        # int32 window starts inside TensorFlow while they fit: half the memory of int64
        self._idx = np.int32 if len(self.values) < 2**31 - 1 else np.int64

    def __len__(self) -> int:
        return len(self.starts)

    def _gather_fn(self):
        import tensorflow as tf

        if self._tensor is None:
            self._tensor = _shared_tensor(self.values)
        values = self._tensor
        every_column = self.target_idx == list(range(self.values.shape[1]))
        cols = tf.constant(self.target_idx, dtype=tf.int32)
        steps = tf.range(self.sequence_len, dtype=tf.as_dtype(self._idx))
        last = self.geometry.last_needed
        ahead = self.geometry.target + tf.range(self.output_steps, dtype=steps.dtype)

        def gather(idx):
            x = tf.gather(values, idx[:, None] + steps[None, :])
            if self.seq2seq:
                y = tf.gather(values, idx[:, None] + steps[None, :] + self.horizon)
                if self.residual:
                    y = y - x
            elif self.output_steps > 1:
                y = tf.gather(values, idx[:, None] + ahead[None, :])
                if self.residual:
                    y = y - x[:, -1:, :]
            else:
                y = tf.gather(values, idx + last)
                if self.residual:
                    y = y - x[:, -1, :]
            if not every_column:  # select target columns per batch: no (T, targets) copy
                y = tf.gather(y, cols, axis=-1)
            return x, y

        return gather

    def dataset(self, batch_size: int, shard: Shard | None = None):
        """Windows in order, batched (for evaluation and prediction); ``shard``: this
        worker's part of every batch (:func:`seqrun.data.base.shard_batches`)."""
        import tensorflow as tf

        from seqrun.data.base import shard_batches

        starts = self.starts.astype(self._idx)
        ds = tf.data.Dataset.from_tensor_slices(starts).batch(batch_size)
        ds = shard_batches(ds, shard)
        ds = ds.map(self._gather_fn(), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return _no_graph_rewrite(ds.prefetch(2))

    def training_dataset(
        self,
        batch_size: int,
        seed: int,
        first_epoch: int,
        last_epoch: int,
        shuffle: bool = True,
        shard: Shard | None = None,
    ):
        """Batches for epochs ``first_epoch``..``last_epoch - 1``, one after another.

        Each epoch's order depends on (seed, epoch) alone, so a resumed run sees the same
        batches as an uninterrupted one whatever the process' global RNG state. ``shard``
        keeps this worker's part of every batch (several workers, one global batch).
        """
        import tensorflow as tf

        from seqrun.data.base import epoch_batches, shard_batches

        starts = tf.constant(self.starts.astype(self._idx))
        ds = epoch_batches(starts, batch_size, seed, first_epoch, last_epoch, shuffle)
        ds = shard_batches(ds, shard)
        ds = ds.map(self._gather_fn(), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return _no_graph_rewrite(ds.prefetch(2))

    def steps(self, batch_size: int) -> int:
        """Batches per epoch."""
        return -(-len(self.starts) // batch_size)

    def last_inputs(self) -> np.ndarray:
        """The last input step of each window (for the persistence baseline), (N, F)."""
        return self.values[self.starts + self.geometry.last_input]

    def target_rows(self) -> np.ndarray:
        """Row index of the (last-step) target of each window."""
        return self.geometry.last_rows(self.starts)

    def targets(self) -> np.ndarray:
        """The (last-step) target of each window, (N, n_targets), in encoded units."""
        return self.values[self.target_rows()][:, self.target_idx]


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
        known_names: columns known in advance (e.g. hour-of-day features): never targets; the
            recursive evaluation reads them from the data instead of predicting them.
        period: steps in one day, for the daily-persistence baseline (0: no such baseline).
        step: the grid step as text (e.g. ``"3h"``), for reports and plots.
        report: what the adapter did to the data (rows dropped, values filled...), recorded
            in the run's meta.json.
        residual: the model predicts the change of the targets since the window's last
            input; predictions are added back to that input before scoring.
        bounds: where every split lies in the whole series, loaded or not: ``{name: {"rows":
            [lo, hi], "first_time": ..., "last_time": ...}}`` (rows of the cleaned series;
            times as ISO text, or None). Used by the leakage checks and ``data describe``.
        output_steps: the model predicts the ``output_steps`` steps from ``horizon`` on at
            once; metrics score the last (headline) and every lead (``direct``).
        scored: how the predicted columns map back to the reported targets (circular
            columns, non-negative and precipitation targets); None: as predicted.
        trajectory: the targets are 2D positions (x, y): plot them as a path.
    """

    task: Task  # set in __init__; the model's shapes follow the encoder
    fingerprint: str  # a short content hash of the series (meta.json)

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
        known_names: list[str] | None = None,
        period: int = 0,
        step: str = "",
        report: dict[str, Any] | None = None,
        residual: bool = False,
        bounds: dict[str, dict[str, Any]] | None = None,
        output_steps: int = 1,
        scored: ScoredTargets | None = None,
        trajectory: bool = False,
        headline_step: int | None = None,
    ) -> None:

        self.splits = splits
        self.trajectory = trajectory
        self.feature_names = feature_names
        self.target_names = target_names
        self.target_idx = [feature_names.index(t) for t in target_names]
        self.known_idx = [feature_names.index(k) for k in known_names or []]
        self.sequence_len = sequence_len
        self.horizon = horizon
        self.seq2seq = seq2seq
        self.recursive_steps = recursive_steps
        self.units = units or [""] * len(target_names)
        self.fingerprint = fingerprint
        self.period = period
        self.step = step
        self._report = report or {}
        self.residual = residual
        self.bounds = bounds or {}
        self.output_steps = output_steps
        self.headline_step = min(headline_step or output_steps, output_steps)
        self.geometry = WindowGeometry(
            sequence_len, horizon, seq2seq=seq2seq, output_steps=output_steps
        )
        self.scored = scored or ScoredTargets(list(target_names), list(self.units))
        self._circular_scale: dict[str, float] = {}
        self.encoder: Any = None
        self.task = Task(
            kind="regression",
            input_shape=(sequence_len, len(feature_names)),
            output_dim=len(target_names),
            target_names=target_names,
            feature_names=feature_names,
            seq2seq=seq2seq,
            extra={
                "output_steps": output_steps,
                "residual": residual,
                "target_idx": self.target_idx,
            },
        )

    # -- encoder
    def fit_encoder(self, encoder: Any) -> None:
        """Fit the encoder on the training split only."""
        encoder.fit(self.splits["train"].values, self.feature_names)
        self.set_encoder(encoder)

    def set_encoder(self, encoder: Any) -> None:
        """Use a fitted encoder (or one restored from a run); sets the output bounds."""
        self.encoder = encoder
        lower = {}
        for name in self.scored.nonnegative:
            j = self.target_names.index(name)
            col = self.target_idx[j]
            lower[j] = float((0.0 - encoder.mean[col]) / encoder.std[col])
        self.task.extra["lower_bounds"] = lower
        for name, (sin, cos) in self.scored.circular.items():
            # circular std (degrees) from the mean sine and cosine the encoder saw in train
            a = encoder.mean[self.feature_names.index(sin)]
            b = encoder.mean[self.feature_names.index(cos)]
            r = float(np.hypot(a, b))
            self._circular_scale[name] = float(np.degrees(np.sqrt(-2 * np.log(max(r, 1e-6)))))

    def collapse(self, arr: np.ndarray, observed: bool = False) -> np.ndarray:
        """Predicted columns (last axis, original units) -> the scored targets.

        Each circular (sine, cosine) pair becomes one angle in degrees, in [0, 360). For
        ``observed`` values (truth, persistence) a zero vector, a calm wind, has no angle:
        NaN, which the forecast metrics leave out.
        """
        sc = self.scored
        if not sc.circular:
            return arr
        cols = []
        for name in sc.names:
            if name in sc.circular:
                sin, cos = sc.circular[name]
                a = arr[..., self.target_names.index(sin)]
                b = arr[..., self.target_names.index(cos)]
                angle = np.mod(np.degrees(np.arctan2(a, b)), 360.0)
                if observed:
                    angle = np.where(np.hypot(a, b) < CALM_NORM, np.nan, angle)
                cols.append(angle)
            else:
                cols.append(arr[..., self.target_names.index(name)])
        return np.stack(cols, axis=-1)

    def _scored_scale(self) -> np.ndarray:
        scale = self.encoder.target_scale(self.target_idx)
        sc = self.scored
        return np.array(
            [
                self._circular_scale.get(n, 90.0)
                if n in sc.circular
                else scale[self.target_names.index(n)]
                for n in sc.names
            ]
        )

    def _scored_info(self) -> dict[str, Any]:
        sc = self.scored
        return {
            "target_names": list(sc.names),
            "units": list(sc.units),
            "circular": [n in sc.circular for n in sc.names],
            "circular_targets": np.array([n in sc.circular for n in sc.names]),  # saved
            "precipitation": dict(sc.precipitation),
            "scale": self._scored_scale(),
        }

    def windows(self, split: str) -> SeriesWindows:
        """Encoded windows of one split."""
        s = self.splits[split]
        return SeriesWindows(
            encode_rows(self.encoder, s.values),
            s.starts,
            self.sequence_len,
            self.horizon,
            self.target_idx,
            self.seq2seq,
            self.residual,
            self.output_steps,
        )

    def sizes(self) -> dict[str, int]:
        """Number of windows per loaded split."""
        return {name: len(s.starts) for name, s in self.splits.items()}

    def report(self) -> dict[str, Any]:
        """What the adapter did to the data (stored under ``data`` in the run's meta.json)."""
        return dict(self._report)

    def can_recurse(self) -> bool:
        """Whether predictions can be fed back: one step ahead, every unknown column predicted."""
        covered = set(self.target_idx) | set(self.known_idx)
        every = covered == set(range(len(self.feature_names)))
        return self.horizon == 1 and self.output_steps == 1 and every

    # -- evaluation
    def predictions(self, model: Any, split: str, batch_size: int = 256) -> dict[str, Any]:
        """Everything a regression metric set needs, in original units."""
        w = self.windows(split)
        pred = model.predict(w.dataset(batch_size), verbose=0)
        if self.seq2seq:
            pred = pred[:, -1, :]
        last = w.last_inputs()[:, self.target_idx]
        inv = self.encoder.inverse_transform
        t = len(self.target_idx)
        direct = None
        rows = w.target_rows()  # the headline target's row of each window
        true_head = w.targets()
        if self.output_steps > 1:  # (N, steps, targets): every lead, one of them headline
            if self.residual:
                pred = pred + last[:, None, :]
            first = self.geometry.target_offset(w.starts)
            leads = first[:, None] + np.arange(self.output_steps)[None, :]
            true = w.values[leads][..., self.target_idx]
            shape = pred.shape
            direct = {
                "y_true": self.collapse(
                    inv(true.reshape(-1, t), self.target_idx).reshape(shape), observed=True
                ),
                "y_pred": self.collapse(inv(pred.reshape(-1, t), self.target_idx).reshape(shape)),
                "persistence": self.collapse(inv(last, self.target_idx), observed=True),
            }
            k = self.headline_step - 1
            pred, true_head, rows = pred[:, k, :], true[:, k, :], leads[:, k]
        elif self.residual:
            pred = pred + last
        out: dict[str, Any] = {
            "y_true": self.collapse(inv(true_head, self.target_idx), observed=True),
            "y_pred": self.collapse(inv(pred, self.target_idx)),
            "persistence": self.collapse(inv(last, self.target_idx), observed=True),
            **self._scored_info(),
            "horizon": self.horizon + self.headline_step - 1,
            "step": self.step,
        }
        if direct is not None:
            out["direct"] = direct
            out["direct_first_step"] = self.horizon
        s = self.splits[split]
        if s.times is not None:
            out["target_times"] = s.times[rows]
        if self.period:
            # same hour the previous day: only where that row lies in the window's segment
            seg_lo, _ = s.segment_lo_hi(w.starts)
            src = rows - self.period
            ok = src >= seg_lo
            daily = np.full((len(rows), t), np.nan)
            # decoded from the encoded rows, as the truth and persistence are: a raw value would
            # differ from the truth by the encoder's float32 rounding, a nonzero error (a huge
            # negative daily_skill) where the series repeats itself exactly
            daily[ok] = inv(w.values[src[ok]][:, self.target_idx], self.target_idx)
            out["daily_persistence"] = self.collapse(daily, observed=True)
            out["period"] = self.period
        if self.recursive_steps and self.can_recurse():
            out["recursive"] = self.recursive(model, split, self.recursive_steps, batch_size)
        return out

    def recursive(
        self, model: Any, split: str, steps: int, batch_size: int = 256, max_windows: int = 20000
    ) -> dict[str, np.ndarray]:
        """Predict ``steps`` points by feeding predictions back (see :meth:`can_recurse`).

        Each new input row holds the predicted target columns and the known columns (time
        features) of that row. Returns ``y_true`` and ``y_pred`` of shape (N, steps, targets)
        in original units, ``persistence`` (the last observed values, (N, targets)) and the
        window ``starts`` used.
        """
        s = self.splits[split]
        values = encode_rows(self.encoder, s.values)
        _, seg_hi = s.segment_lo_hi(s.starts)
        ok = s.starts[s.starts + self.geometry.last_input + steps < seg_hi]
        if len(ok) > max_windows:
            ok = ok[np.linspace(0, len(ok) - 1, max_windows).astype(np.int64)]
        idx = ok[:, None] + np.arange(self.sequence_len)[None, :]
        x = values[idx]
        tgt = self.target_idx
        preds = []
        for k in range(steps):
            p = self.forecast_values(model, x, batch_size)
            preds.append(p)
            x = self.shift_in(x, p, values[ok + self.sequence_len + k])
        pred = np.stack(preds, axis=1)
        true = values[ok[:, None] + self.sequence_len + np.arange(steps)[None, :]][..., tgt]
        inv = self.encoder.inverse_transform
        n_t = len(tgt)
        return {
            "y_true": self.collapse(
                inv(true.reshape(-1, n_t), tgt).reshape(true.shape), observed=True
            ),
            "y_pred": self.collapse(inv(pred.reshape(-1, n_t), tgt).reshape(pred.shape)),
            "persistence": self.collapse(
                s.values[ok + self.geometry.last_input][:, tgt].astype(np.float64), observed=True
            ),
            "starts": ok,
        }

    def forecast_values(self, model: Any, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """The model's forecasts of the targets for encoded windows ``x`` (N, L, F), in
        encoded units: a sequence-to-sequence model's last step, and with ``residual`` the
        change added back to the last input; (N, targets) or (N, output_steps, targets)."""
        import tensorflow as tf

        # a tf.data input: Keras' numpy adapter adds a parallel map that logs a TF warning
        batches = tf.data.Dataset.from_tensor_slices(x).batch(batch_size)
        p = np.asarray(model.predict(batches, verbose=0))
        if self.seq2seq:
            p = p[:, -1, :]
        if self.residual:
            last = x[:, -1, self.target_idx]
            p = p + (last[:, None, :] if p.ndim == 3 else last)
        return p

    def shift_in(self, x: np.ndarray, p: np.ndarray, known: np.ndarray) -> np.ndarray:
        """The windows ``x`` moved one step on (recursive forecasts): the new last row holds
        the forecasts ``p`` of the targets and, from ``known`` (N, F, encoded), the known
        columns (time features) of that step; every column is one or the other."""
        row = known.copy()
        row[:, self.target_idx] = p
        return np.concatenate([x[:, 1:, :], row[:, None, :]], axis=1)

    batches = windows  # the trainer's name for "a split ready to batch"

    def write_artifacts(self, preds: dict[str, Any], run: Any, name: str) -> None:
        """Nothing besides the metrics and the plot for a series."""

    def plot(self, preds: dict[str, Any], path: Any, title: str = "") -> None:
        """Forecast vs truth (or the 2D trajectory when the features are x and y)."""
        from seqrun.data import plots

        if self.trajectory:
            plots.trajectory(preds, path, title)
        elif preds.get("target_times") is not None and self.period:
            plots.forecast_week(preds, path, title, steps_per_week=7 * self.period)
        else:
            plots.forecast(preds, path, title)

    # -- description and leakage (seqrun.data.series_describe)
    def describe(self, cfg: Any) -> dict[str, Any]:
        """Rows, windows, periods, target statistics and gaps of every split."""
        from seqrun.data import series_describe

        return series_describe.describe(self, cfg)

    def leakage(self, mode: str) -> dict[str, Any]:
        """Windows whose targets fall in another split; periods before the training data."""
        from seqrun.data import series_describe

        return series_describe.leakage(self)

    @staticmethod
    def render_description(info: dict[str, Any]) -> tuple[str, list[tuple[str, ...]], list[str]]:
        """The headline, per-split rows and gap lines of a series description."""
        from seqrun.data import series_describe

        return series_describe.render(info)

    @staticmethod
    def brief_description(info: dict[str, Any]) -> dict[str, Any]:
        """Target statistics and periods, for the run report."""
        from seqrun.data import series_describe

        return series_describe.brief(info)


def forecast_rows(
    data: SeriesData, model: Any, split: str, known_at: Callable[[np.ndarray], np.ndarray]
) -> list[dict[str, Any]]:
    """The forecast from the last window of ``split`` (no truth needed), one row per lead
    time: ``series`` (when the data names one), ``issued`` (the last input's time), ``valid``,
    ``lead`` and ``prediction`` (scored target -> value in original units, circular ones in
    degrees). A recursive run (``recursive_steps``) feeds its forecasts back for that many
    steps, reading the known columns at each new time from ``known_at(times)``."""
    from seqrun.core.durations import duration_seconds, format_duration

    s = data.splits[split]
    start = int(s.starts[-1])
    tgt = data.target_idx
    x = encode_rows(data.encoder, s.values[start : start + data.sequence_len])[None]
    step_s = duration_seconds(data.step)
    issued = s.times[start + data.sequence_len - 1]
    if data.recursive_steps and data.can_recurse():
        preds = []
        for k in range(data.recursive_steps):
            p = data.forecast_values(model, x)
            preds.append(p[0])
            when = np.array([issued + np.timedelta64((k + 1) * step_s, "s")])
            x = data.shift_in(x, p, data.encoder.transform(_fill_known(data, when, known_at)))
        pred, leads = np.stack(preds), list(range(1, data.recursive_steps + 1))
    elif data.output_steps > 1:  # (1, steps, targets)
        pred = data.forecast_values(model, x)[0]
        leads = [data.horizon + k for k in range(data.output_steps)]
    else:
        pred, leads = data.forecast_values(model, x), [data.horizon]
    values = data.collapse(data.encoder.inverse_transform(pred.astype(np.float64), tgt))
    series = series_name(data.report())
    rows = []
    for lead, vals in zip(leads, values, strict=True):
        valid = issued + np.timedelta64(lead * step_s, "s")
        row: dict[str, Any] = {"series": str(series)} if series is not None else {}
        row.update(
            issued=iso_utc(issued),
            valid=iso_utc(valid),
            lead=format_duration(lead * step_s),
            prediction={
                n: round(float(v), 4) for n, v in zip(data.scored.names, vals, strict=True)
            },
        )
        rows.append(row)
    return rows


def _fill_known(
    data: SeriesData, when: np.ndarray, known_at: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """A full (1, F) row of NaN with the known columns (time features) at ``when``."""
    row = np.full((len(when), len(data.feature_names)), np.nan)
    row[:, data.known_idx] = known_at(when)
    return row


def series_name(report: dict[str, Any]) -> str | None:
    """Which series of its source a report describes (station number, or group value)."""
    group = report.get("group")
    return report.get("station") or (str(next(iter(group.values()))) if group else None)


def iso_utc(t: np.datetime64) -> str:
    """A UTC timestamp as ISO 8601 text with seconds (``2013-01-01T05:00:00Z``)."""
    return str(np.datetime_as_string(t, unit="s")) + "Z"
