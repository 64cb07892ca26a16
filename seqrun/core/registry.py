"""Name -> component lookup for dataset adapters, encoders, architectures and metric sets.

Built-in components are listed here as ``"module:attr"`` strings, so that listing them imports
nothing heavy. Third-party packages add components through the entry-point groups
``seqrun.adapters``, ``seqrun.encoders``, ``seqrun.architectures`` and ``seqrun.metrics``
(entry-point name = component name, value = ``"package.module:Class"``).

Example:
    >>> from seqrun.core.registry import registry
    >>> registry.names("arch")[:3]
    ['dense', 'gru', 'lstm']
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cached_property
from importlib.metadata import entry_points
from typing import Any

from seqrun.core.errors import UserError, cut, did_you_mean

KINDS: dict[str, tuple[str, str]] = {
    # kind: (config key that names it, entry-point group)
    "adapter": ("data.adapter", "seqrun.adapters"),
    "encoder": ("encoder.type", "seqrun.encoders"),
    "arch": ("model.arch", "seqrun.architectures"),
    "metrics": ("metrics", "seqrun.metrics"),
}

BUILTINS: dict[str, dict[str, tuple[str, str]]] = {
    "adapter": {
        "ladybug": (
            "seqrun.data.ladybug:LadybugAdapter",
            "The course's 2D ladybug trajectory (LADYB1), generated from a seed.",
        ),
        "synop": (
            "seqrun.data.synop:SynopAdapter",
            "Météo-France SYNOP export (';' CSV, labels or codes, one station, Pa/K converted).",
        ),
        "timeseries_csv": (
            "seqrun.data.timeseries_csv:TimeseriesCsvAdapter",
            "Any CSV time series (time, features, targets, group filter) or a bundled sample.",
        ),
        "imdb": (
            "seqrun.data.imdb:ImdbAdapter",
            "IMDB film reviews, keras.datasets.imdb semantics (imdb.npz, aclImdb/ or download).",
        ),
        "text_table": (
            "seqrun.data.text_table:TextTableAdapter",
            "Texts and labels (names or thresholded scores) from a CSV/TSV/JSONL table.",
        ),
        "sequences": (
            "seqrun.data.sequence_files:SequencesAdapter",
            "Numeric sequences with one class each: UEA/UCR .ts, long CSV or .npz.",
        ),
        "sequence_regression": (
            "seqrun.data.sequence_files:SequenceRegressionAdapter",
            "Numeric sequences with one number each: .ts @targetLabel, long CSV or .npz.",
        ),
    },
    "encoder": {
        "multi_hot": (
            "seqrun.encoders.text:MultiHot",
            "Bag-of-words vector per text (binary, counts or TF-IDF; optional bigrams).",
        ),
        "one_hot": (
            "seqrun.encoders.text:OneHot",
            "One-hot vector per token, computed inside the model batch by batch.",
        ),
        "embedding": (
            "seqrun.encoders.text:Embedding",
            "Trainable word vectors (dim), padding masked.",
        ),
        "pretrained_embedding": (
            "seqrun.encoders.text:PretrainedEmbedding",
            "GloVe/word2vec text-file vectors, frozen or fine-tuned; reports vocabulary coverage.",
        ),
        "standardize": (
            "seqrun.encoders.numeric:Standardize",
            "Mean/std scaling fitted on train (one scalar, or one per column).",
        ),
        "identity": (
            "seqrun.encoders.numeric:Identity",
            "Feeds numeric series to the model unchanged.",
        ),
        "sequence_standardize": (
            "seqrun.encoders.sequences:SequenceStandardize",
            "Whole sequences: per-channel mean/std from train, padding masked, optional buckets.",
        ),
        "sequence_znorm": (
            "seqrun.encoders.sequences:SequenceZNorm",
            "Whole sequences: each series z-normalised (UCR), padding masked, optional buckets.",
        ),
    },
    "arch": {
        "simple_rnn": (
            "seqrun.models.recurrent:SimpleRNNArch",
            "Stacked (optionally bidirectional) SimpleRNN layers and a Dense head.",
        ),
        "lstm": (
            "seqrun.models.recurrent:LSTMArch",
            "Stacked (optionally bidirectional) LSTM layers and a Dense head.",
        ),
        "gru": (
            "seqrun.models.recurrent:GRUArch",
            "Stacked (optionally bidirectional) GRU layers and a Dense head.",
        ),
        "encoder_decoder": (
            "seqrun.models.encoder_decoder:EncoderDecoderArch",
            "Recurrent encoder (return_state) whose states start a decoder emitting H steps.",
        ),
        "dense": (
            "seqrun.models.dense:DenseArch",
            "Baseline without recurrence: flattened input window -> MLP.",
        ),
        "pooling": (
            "seqrun.models.pooling:PoolingArch",
            "Word vectors averaged (or max-pooled) over the text -> Dense head (course IMDB2).",
        ),
        "fcn": (
            "seqrun.models.conv:FCNArch",
            "Fully Convolutional Network (Wang et al. 2017): 3 Conv1D blocks, global pooling.",
        ),
        "conv_gru": (
            "seqrun.models.conv:ConvGRUArch",
            "Conv1D blocks -> GRU (padding skipped).",
        ),
    },
    "metrics": {
        "regression": (
            "seqrun.metrics.regression:RegressionMetrics",
            "MAE/RMSE (original and normalised units), persistence baseline, skill.",
        ),
        "forecast": (
            "seqrun.metrics.forecast:ForecastMetrics",
            "Per-target MAE/RMSE in original units vs persistence and daily persistence.",
        ),
        "classification": (
            "seqrun.metrics.classification:ClassificationMetrics",
            "Accuracy, precision, recall, F1, ROC AUC, log loss, confusion matrix, majority class.",
        ),
        "sequence_classification": (
            "seqrun.metrics.sequence_classification:SequenceClassificationMetrics",
            "Accuracy, balanced accuracy, macro F1, per class, confusion, majority baseline.",
        ),
        "sequence_regression": (
            "seqrun.metrics.sequence_regression:SequenceRegressionMetrics",
            "RMSE, MAE, the train-mean baseline and skill.",
        ),
    },
}


@dataclass(frozen=True)
class Entry:
    """One registered component."""

    kind: str
    name: str
    target: str
    description: str | None
    source: str  # "builtin" or the distribution that provides it

    def load(self) -> Any:
        """Import and return the component class."""
        module, _, attr = self.target.partition(":")
        obj = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj

    def describe(self) -> str:
        """One-line description (loads third-party components to read their docstring)."""
        if self.description:
            return self.description
        doc = (self.load().__doc__ or "").strip().splitlines()
        return doc[0] if doc else ""


class Registry:
    """All known components, built-in first, then those from entry points."""

    @cached_property
    def _entries(self) -> dict[str, dict[str, Entry]]:
        table: dict[str, dict[str, Entry]] = {}
        for kind, items in BUILTINS.items():
            table[kind] = {
                name: Entry(kind, name, target, desc, "builtin")
                for name, (target, desc) in items.items()
            }
        for kind, (_, group) in KINDS.items():
            for ep in entry_points(group=group):
                if ep.name in table[kind]:
                    continue  # built-ins win; a plugin cannot shadow them silently
                dist = getattr(ep, "dist", None)
                table[kind][ep.name] = Entry(
                    kind, ep.name, ep.value, None, dist.name if dist else "plugin"
                )
        return table

    def register(self, kind: str, name: str, target: str, description: str) -> None:
        """Add a component at run time (tests, notebooks)."""
        self._entries[kind][name] = Entry(kind, name, target, description, "runtime")

    def names(self, kind: str) -> list[str]:
        """Sorted names of one kind of component."""
        return sorted(self._entries[kind])

    def entries(self, kind: str) -> list[Entry]:
        """Entries of one kind, sorted by name."""
        return [self._entries[kind][n] for n in self.names(kind)]

    def entry(self, kind: str, name: str) -> Entry:
        """The entry for ``name``; a UserError naming the config key and the choices if absent."""
        key = KINDS[kind][0]
        known = ", ".join(self.names(kind))
        if not isinstance(name, str):  # a list or mapping from YAML: not a name
            given = "nothing (null)" if name is None else f"{type(name).__name__} {name!r}"
            raise UserError(
                f"expected a{'n' if kind[0] in 'aeiou' else ''} {kind} name, got "
                f"{given[:60]}; one of: {known}",
                where=key,
            )
        try:
            return self._entries[kind][name]
        except KeyError:
            raise UserError(
                f"unknown {kind} '{cut(name)}'{did_you_mean(name, self.names(kind))}; "
                f"known: {known} (see `seqrun list`)",
                where=key,
            ) from None

    def get(self, kind: str, name: str) -> Any:
        """Load the component class registered as ``name``."""
        return self.entry(kind, name).load()


registry = Registry()
