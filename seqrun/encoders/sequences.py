"""Encoders of whole sequences: scaling, padding with a mask, optional length bucketing.

``sequence_standardize`` scales each channel by the mean and std of the training values;
``sequence_znorm`` z-normalises each series on its own, channel by channel (the UCR archive's
convention: only the shape of a series counts, not its level or amplitude). Both then fill
missing values with 0 (the mean), cut series longer than the padded length, and pad shorter
ones with zeros at the end; with masking, the model's first layer (``Masking``) tells
recurrent layers to skip the padding. With ``bucketing``, training batches group series of
similar length and each batch is only as long as its longest series.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from seqrun.core.config import EncoderConfig
from seqrun.core.contracts import InputSize, MemoryItem
from seqrun.core.errors import UserError
from seqrun.core.text import shown_names, warn

STATE_FILE = "encoder.json"
MIN_KEPT_STEPS = 0.5
"""Share of the training steps below which a ``max_length`` cut is warned about."""


class _SequenceConfig(EncoderConfig):
    max_length: int | None = Field(
        None,
        ge=1,
        description="Padded length: longer series are cut (see truncating); null: the longest "
        "training series.",
    )
    truncating: Literal["pre", "post"] = Field(
        "pre",
        description="Where a series longer than max_length is cut: 'pre' keeps its end, 'post' "
        "its beginning.",
    )
    mask: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Masking of padded steps (all channels 0) for recurrent layers: 'auto' "
        "when training lengths differ or with bucketing.",
    )
    bucketing: bool = Field(
        False,
        description="Group training batches by length and cut each batch to its longest "
        "series (unequal lengths; the model then takes any length).",
    )


class SequenceStandardizeConfig(_SequenceConfig):
    """Options of per-channel standardisation."""

    type: Literal["sequence_standardize"] = Field(
        "sequence_standardize", description="Per-channel mean/std fitted on train."
    )


class SequenceZNormConfig(_SequenceConfig):
    """Options of per-series z-normalisation."""

    type: Literal["sequence_znorm"] = Field(
        "sequence_znorm", description="Each series z-normalised on its own, per channel."
    )


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """numpy's nanmean/nanstd of an all-missing channel: NaN without a RuntimeWarning (it
    would print "Mean of empty slice" lines in the middle of a run's output)."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _check_flat(series: list[np.ndarray]) -> None:
    """Per-series z-normalisation makes a series whose every channel is constant (one step
    long, say) all zeros: an error when every training series is such, a warning when half
    are."""
    flat = 0
    for s in series:
        x = np.asarray(s, dtype=np.float64)
        with _quiet():
            sd = np.nanstd(x.reshape(len(x), -1), axis=0)
        flat += bool(np.all(~np.isfinite(sd) | (sd <= 1e-8)))
    if not flat or flat * 2 < len(series):
        return
    lengths = [len(s) for s in series]
    what = "one step long" if max(lengths) == 1 else "constant"
    text = (
        f"{flat} of {len(series)} training series are {what}: encoder sequence_znorm "
        "z-normalises each series on its own and makes such a series all zeros"
    )
    if flat == len(series):
        raise UserError(
            f"{text}, so the model would see nothing; use encoder.type: sequence_standardize "
            "(one mean and std per channel over the training set)",
            where="encoder.type",
        )
    warn(f"{text}; encoder.type: sequence_standardize keeps their level")


class _SequenceEncoder:
    """Shared state: padded length, channel moments, classes or target scaling."""

    accepts = ("sequences",)
    output_kind = "numeric_sequence"
    per_series = False

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg
        self.length = 0
        self.channels: list[str] = []
        self.mean = np.zeros(0)
        self.std = np.ones(0)
        self.masking = False
        self.class_names: list[str] | None = None
        self.class_counts: list[int] | None = None
        self.target_mean = 0.0
        self.target_std = 1.0
        self.info: dict[str, Any] = {}

    @property
    def bucketing(self) -> bool:
        return bool(self.cfg.bucketing)

    # -- fitting
    def fit(
        self,
        series: list[np.ndarray],
        y: np.ndarray,
        class_names: list[str] | None,
        channels: list[str],
    ) -> None:
        """Padded length, scaling, masking and target facts from the training split."""
        lengths = [len(s) for s in series]
        self.length = int(self.cfg.max_length or max(lengths))
        self.channels = list(channels)
        values = np.concatenate(series).astype(np.float64)
        if self.per_series:
            self.mean, self.std = np.zeros(len(channels)), np.ones(len(channels))
            _check_flat(series)
        else:
            with _quiet():  # a channel with no value: 0 and 1 below
                mean = np.nanmean(values, axis=0)
                std = np.nanstd(values, axis=0)
            self.mean = np.nan_to_num(mean, nan=0.0)
            self.std = np.where(np.isfinite(std) & (std > 0), std, 1.0)
        mode = self.cfg.mask
        self.masking = mode == "on" or (
            mode == "auto" and (len(set(lengths)) > 1 or self.bucketing)
        )
        if class_names is None:
            yy = np.asarray(y, dtype=np.float64)
            self.target_mean = float(yy.mean())
            self.target_std = float(yy.std()) or 1.0
            self.class_names, self.class_counts = None, None
        else:
            self.class_names = list(class_names)
            self.class_counts = np.bincount(y, minlength=len(class_names)).tolist()
        cut = sum(n > self.length for n in lengths)
        kept = sum(min(n, self.length) for n in lengths) / max(sum(lengths), 1)
        if kept < MIN_KEPT_STEPS:
            from seqrun.core.text import warn

            warn(
                f"encoder.max_length {self.length} cuts {cut} of {len(lengths)} training series "
                f"(median length {int(np.median(lengths))}): the model sees {kept:.0%} of the "
                "training steps; raise encoder.max_length, or null for the longest series"
            )
        self.warn_missing(series, "the train split")
        self.info = {
            "length": self.length,
            "channels": len(channels),
            "masking": self.masking,
            "bucketing": self.bucketing,
            "truncated_train_series": int(cut),
            "missing_train_values": int(np.isnan(values).sum()),
        }

    # -- encoding
    def scale(self, s: np.ndarray) -> np.ndarray:
        """One (length, channels) series scaled, missing values 0."""
        x = np.asarray(s, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        if self.per_series:
            with _quiet():  # a channel missing in the whole series: 0 and 1 below
                m = np.nanmean(x, axis=0)
                sd = np.nanstd(x, axis=0)
            m = np.nan_to_num(m, nan=0.0)
            sd = np.where(np.isfinite(sd) & (sd > 1e-8), sd, 1.0)
            x = (x - m) / sd
        else:
            x = (x - self.mean) / self.std
        return np.nan_to_num(x, nan=0.0).astype(np.float32)

    def encode(self, series: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(N, length, channels) post-padded array and each series' kept length."""
        f = len(self.channels)
        out = np.zeros((len(series), self.length, f), dtype=np.float32)
        lengths = np.zeros(len(series), dtype=np.int64)
        for i, s in enumerate(series):
            width = 1 if np.ndim(s) == 1 else int(np.shape(s)[1])
            if width != f:  # before scaling, which would broadcast one channel to f
                raise UserError(
                    f"series {i} has {width} channel(s), the model was trained on {f} "
                    f"({shown_names(self.channels)}); give series with the training file's "
                    "channels",
                    where="--input",
                )
            x = self.scale(s)
            if len(x) > self.length:
                x = x[-self.length :] if self.cfg.truncating == "pre" else x[: self.length]
            out[i, : len(x)] = x
            lengths[i] = max(len(x), 1)
        return out, lengths

    def warn_missing(self, series: list[Any], what: str) -> None:
        """Warn when series of ``what`` (a split, an input file) hold missing values: the
        model reads each as 0 after scaling, which is not the value that was not measured."""
        counts = [int(np.isnan(np.asarray(s, dtype=np.float64)).sum()) for s in series]
        missing = sum(counts)
        if not missing:
            return
        total = sum(int(np.size(s)) for s in series)
        mean = "the series' own mean" if self.per_series else "the channel's training mean"
        skipped = "; a step missing in every channel is skipped as padding" if self.masking else ""
        # a file padding unequal lengths with NaN (UCR's .tsv, converted): the tail is no value
        padded = sum(
            len(s) > 0 and bool(np.isnan(np.asarray(s, dtype=np.float64)[-1]).all()) for s in series
        )
        if padded and not self.masking:
            skipped = (
                f"; {padded} series end in steps missing in every channel (NaN padding of "
                "unequal lengths?), which encoder.mask: 'on' at training skips as padding"
            )
        warn(
            f"{what}: {missing} missing value(s) ({missing / max(total, 1):.1%}) in "
            f"{sum(c > 0 for c in counts)} of {len(series)} series are read as 0 after scaling "
            f"({mean}){skipped}; fill them in beforehand if another value fits better"
        )

    def warn_lengths(self, series: list[Any], what: str) -> None:
        """Warn when series of ``what`` (a split, an input file) are cut to the model's
        length, or padded with zeros that a model without masking reads as values."""
        from seqrun.core.text import warn

        lengths = np.asarray([len(s) for s in series])
        longer = int(np.count_nonzero(lengths > self.length))
        if longer:
            kept = "last" if self.cfg.truncating == "pre" else "first"
            warn(
                f"{what}: {longer} of {len(lengths)} series are longer than the model's "
                f"{self.length} steps and keep only their {kept} {self.length} "
                "(encoder.max_length and encoder.truncating of the training config)"
            )
        shorter = int(np.count_nonzero(lengths < self.length))
        if shorter and not self.masking:
            warn(
                f"{what}: {shorter} of {len(lengths)} series are shorter than the "
                f"{self.length} steps of every training series and are padded with zeros, "
                "which this model (trained without masking) reads as values; to skip "
                "padding, train with encoder.mask: 'on' (quoted: YAML reads a bare on as true)"
            )

    def model_targets(self, y: np.ndarray) -> np.ndarray:
        """Targets as the model is trained on them."""
        if self.class_names is None:
            z = (np.asarray(y, dtype=np.float64) - self.target_mean) / self.target_std
            return z.astype(np.float32).reshape(-1, 1)
        if len(self.class_names) == 2:
            return np.asarray(y, dtype=np.float32).reshape(-1, 1)
        return np.asarray(y, dtype=np.int32)

    def decode_targets(self, z: np.ndarray) -> np.ndarray:
        """Regression outputs back to the target's units."""
        return np.asarray(z, dtype=np.float64) * self.target_std + self.target_mean

    def input_spec(self) -> tuple[tuple[int | None, int], str]:
        """The model input's shape (any length with bucketing) and dtype."""
        return ((None if self.bucketing else self.length), len(self.channels)), "float32"

    @classmethod
    def input_size(cls, cfg: Any, size: InputSize) -> tuple[InputSize, list[MemoryItem]]:
        """``max_length`` steps when it is set (longer series are cut); a few numbers of state."""
        if cfg.max_length:
            size = size.with_(steps=cfg.max_length, steps_key="encoder.max_length")
        return size, []

    def model_front(self, task: Any) -> tuple[Any, Any] | None:
        """An Input and, when masking, a Masking layer (padding = every channel 0)."""
        if not self.masking:
            return None
        import keras

        inputs = keras.Input(shape=task.input_shape, name="inputs", dtype="float32")
        return inputs, keras.layers.Masking(mask_value=0.0, name="padding_mask")(inputs)

    def model_inputs(self, examples: list[Any]) -> np.ndarray:
        """Model inputs for new series (``seqrun predict``)."""
        if not examples:
            raise UserError("no series to predict", where="--input")
        texts = [e for e in examples if isinstance(e, str)]
        if texts:
            raise UserError(
                f"a sequence run predicts from numeric series, not texts (got {texts[0][:40]!r}): "
                "give them with --input FILE (a .ts, long CSV or .npz file like the training one)",
                where="predict",
            )
        series = self.by_name(list(examples))
        self.warn_lengths(series, "--input")
        self.warn_missing(series, "--input")
        x, lengths = self.encode(series)
        if self.bucketing:
            x = x[:, : int(lengths.max())]
        return x

    def by_name(self, examples: list[Any]) -> list[Any]:
        """Series read from a table with their column names (``values``, ``columns``,
        ``source``, ``text_columns``: the data layer's ``NamedSeries``) cut to the model's
        channels, matched by name in the training order; other series as given."""
        named = [e for e in examples if _is_named(e)]
        if not named:
            return examples
        first = named[0]  # the series of one file share its columns
        missing = [c for c in self.channels if c not in first.columns]
        for c in missing:
            if c in first.text_columns:
                where, why = first.text_columns[c]
                raise UserError(why, where=where)
        if missing:
            extra = [c for c in first.columns if c not in self.channels]
            raise UserError(
                f"the input has no column {shown_names(missing)} (channels of the model, matched "
                f"by name); its other columns: {shown_names(extra) or '(none)'}; rename the "
                "columns as in the training file",
                where=first.source,
            )
        extra = [c for c in first.columns if c not in self.channels]
        if extra:
            warn(
                f"{first.source}: {shown_names(extra)} "
                f"{'is not a channel' if len(extra) == 1 else 'are not channels'} of the "
                "model: left out"
            )
        out = []
        for e in examples:
            if _is_named(e):
                idx = [list(e.columns).index(c) for c in self.channels]
                out.append(np.asarray(e.values)[:, idx])
            else:
                out.append(e)
        return out

    # -- state
    def save(self, folder: Path) -> None:
        """Write the fitted state into ``folder``."""
        from seqrun.core.runs import write_json

        state = {
            "type": type(self).__name__,
            "length": self.length,
            "channels": self.channels,
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "masking": self.masking,
            "class_names": self.class_names,
            "class_counts": self.class_counts,
            "target_mean": self.target_mean,
            "target_std": self.target_std,
            "info": self.info,
        }
        write_json(Path(folder) / STATE_FILE, state)  # strict JSON: NaN is null

    def load(self, folder: Path) -> None:
        """Restore the state written by :meth:`save` (a null number read as NaN)."""
        from seqrun.core.runs import null_as_nan

        state = json.loads((Path(folder) / STATE_FILE).read_text(encoding="utf-8"))
        self.length = int(state["length"])
        self.channels = list(state["channels"])
        self.mean = np.asarray(null_as_nan(state["mean"]), dtype=np.float64)
        self.std = np.asarray(null_as_nan(state["std"]), dtype=np.float64)
        self.masking = bool(state["masking"])
        self.class_names = state["class_names"]
        self.class_counts = state["class_counts"]
        self.target_mean = float(null_as_nan(state["target_mean"]))
        self.target_std = float(null_as_nan(state["target_std"]))
        self.info = dict(state.get("info", {}))


def _is_named(example: Any) -> bool:
    """Whether a prediction input carries its column names (a series from a table)."""
    return hasattr(example, "columns") and hasattr(example, "values")


class SequenceStandardize(_SequenceEncoder):
    """Per-channel mean/std scaling fitted on train; padding masked; optional bucketing."""

    Config = SequenceStandardizeConfig


class SequenceZNorm(_SequenceEncoder):
    """Each series z-normalised per channel (UCR convention); padding masked; optional
    bucketing."""

    Config = SequenceZNormConfig
    per_series = True
