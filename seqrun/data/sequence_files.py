"""Sequences labelled as a whole from files: the ``sequences`` (classification) and
``sequence_regression`` adapters.

Three formats (``data.format``, by default from the extension): the UEA/UCR archive's ``.ts``
(:mod:`seqrun.data.ts_format`), a long table with one row per step
(:mod:`seqrun.data.sequence_csv`) and NumPy ``.npz`` (:mod:`seqrun.data.sequence_npz`). A
``.ts`` named ``<Name>_TRAIN.ts`` takes the ``<Name>_TEST.ts`` beside it as its test split (dev
is carved from TRAIN, stratified and seeded); otherwise the file is split by fractions
(stratified, random), by a split column (CSV) or into k folds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from seqrun.core.config import DataConfig
from seqrun.core.contracts import InputSize, LoadOptions, MemoryItem
from seqrun.core.errors import UserError
from seqrun.core.splits import SplitFractions
from seqrun.data.base import class_order
from seqrun.data.sequences import SeqSplit, SequenceData, sequence_fingerprint
from seqrun.data.ts_format import NamedSeries, SequenceSet
from seqrun.samples import check_one_source, sample_path

SampleName = Literal["basicmotions", "gunpoint"]
_DEV_NAMES = {"dev": "dev", "validation": "dev", "valid": "dev", "val": "dev"}


class SequenceSplitConfig(SplitFractions):
    """How series are split into train, dev and test."""

    method: Literal["stratified", "random", "column"] = Field(
        "stratified",
        description="'stratified': seeded shuffle within each class (regression: as random); "
        "'random': numpy default_rng(seed).permutation cut at the fractions; 'column': the "
        "split named in data.split.column (CSV). With a test file (a .ts <Name>_TRAIN.ts with "
        "its _TEST.ts, or data.test_path) the test fraction is not used: dev takes "
        "dev / (train + dev) of the training file.",
    )
    train: float = Field(0.6, gt=0, lt=1, description="Fraction of the series used for training.")
    dev: float = Field(0.2, gt=0, lt=1, description="Fraction held out for model selection.")
    test: float = Field(0.2, ge=0, lt=1, description="Fraction held out for `seqrun evaluate`.")
    seed: int = Field(0, description="Seed of the split (independent of the experiment seed).")
    column: str = Field(
        "split",
        description="With method 'column': the CSV column whose values are train, dev (or "
        "validation/valid/val) and test; constant within a sequence.",
    )


class SequencesConfig(DataConfig):
    """Options of the sequence-classification adapter."""

    adapter: Literal["sequences"] = Field(
        "sequences", description="Numeric sequences with one class each (.ts, long CSV, .npz)."
    )
    path: str | None = Field(
        None,
        description="The file (.ts, .csv/.tsv, .npz; gzip allowed); a <Name>_TRAIN.ts takes "
        "the <Name>_TEST.ts beside it as the test split.",
    )
    sample: SampleName | None = Field(
        None,
        description="A bundled UEA/UCR set instead of `path`: 'basicmotions' (6 channels, "
        "length 100, 4 classes, 40/40 series) or 'gunpoint' (1 channel, length 150, 2 classes, "
        "50/150); TRAIN and TEST files of the archive.",
    )
    test_path: str | None = Field(
        None, description="A separate test file in the same format (overrides the _TEST.ts)."
    )
    format: Literal["auto", "ts", "csv", "tsv", "npz"] = Field(
        "auto", description="File format; 'auto' goes by the extension (.gz ignored)."
    )
    encoding: str = Field(
        "utf-8", description="Text encoding of a .ts or CSV/TSV file (a byte-order mark wins)."
    )
    id_column: str = Field("id", description="CSV: the column naming each sequence.")
    order_column: str | None = Field(
        "step",
        description="CSV: the column ordering the rows of a sequence: numbers or ISO 8601 "
        "times, each once per sequence (null: file order).",
    )
    feature_columns: list[str] | None = Field(
        None,
        description="CSV: the feature columns (null: every other column); an empty cell, ?, "
        "NaN, NA, N/A or null is a missing value. `seqrun predict` picks them from its input "
        "by name.",
    )
    label_column: str = Field(
        "label", description="CSV: the label (or target) column, constant within a sequence."
    )
    classes: list[str] | None = Field(
        None,
        description="Class names in class-id order (null: the .ts @classLabel order, the "
        ".npz 'classes', else sorted, numerically when all are numbers).",
    )
    allow_pickle: bool = Field(
        False, description=".npz: allow object arrays (unpickling runs code from the file)."
    )
    layout: Literal["NTF", "NFT"] = Field(
        "NTF",
        description=".npz: axis order of a 3-D 'x' (and of each series of an object array): "
        "'NTF' (series, steps, channels: Keras, tslearn) or 'NFT' (series, channels, steps: "
        "aeon, sktime).",
    )
    max_series: int | None = Field(
        None, ge=1, description="Read only the first N series of each file (tests)."
    )
    split: SequenceSplitConfig = Field(
        default_factory=SequenceSplitConfig, description="Train/dev/test split."
    )
    report_errors: int = Field(
        20, ge=0, description="Worst mistakes written to errors.jsonl per scored split."
    )

    @field_validator("classes")
    @classmethod
    def _classes(cls, value: list[str] | None) -> list[str] | None:
        from seqrun.data.text_table import stripped_classes

        return stripped_classes(value)

    @model_validator(mode="after")
    def _one_source(self) -> SequencesConfig:
        check_one_source(self.path, self.sample)
        return self

    @property
    def source(self) -> str:
        """The training file: the path, or the bundled sample's file."""
        return str(sample_path(self.sample)) if self.sample else str(self.path)


class SequenceRegressionConfig(SequencesConfig):
    """Options of the sequence-regression adapter."""

    adapter: Literal["sequence_regression"] = Field(  # type: ignore[assignment]
        "sequence_regression",
        description="Numeric sequences with one number each (.ts @targetLabel, CSV, .npz).",
    )
    label_column: str = Field(
        "target", description="CSV: the target column, constant within a sequence."
    )


def file_format(path: str | Path, fmt: str = "auto") -> str:
    """ts, csv, tsv or npz: ``fmt``, or from the extension (``.gz`` ignored); a file whose
    name says none (standard input, a pipe's copy, ``series.txt``) from its first bytes."""
    if fmt != "auto":
        return fmt
    name = Path(path).name.lower().removesuffix(".gz")
    ext = Path(name).suffix
    known = {".ts": "ts", ".npz": "npz", ".tsv": "tsv", ".tab": "tsv", ".csv": "csv"}
    return known.get(ext) or _sniffed_format(Path(path))


def _sniffed_format(path: Path) -> str:
    """npz for a zip archive, ts for a text whose first line that is no comment starts
    with '@' (a .ts header), else csv; a gzip file by its decompressed start (a piped
    ``cat X_TEST.ts.gz``)."""
    import gzip
    import zlib

    try:
        with open(path, "rb") as f:
            head = f.read(4096)
        if head[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as f:
                head = f.read(4096)
    except (OSError, EOFError, zlib.error):
        return "csv"  # the reader names what is wrong with the file
    if head.startswith(b"PK\x03\x04"):
        return "npz"
    for line in head.decode("utf-8", "replace").lstrip("\ufeff").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return "ts" if line.lstrip().startswith("@") else "csv"
    return "csv"


class SequencesAdapter:
    """Numeric sequences with one class each: UEA/UCR .ts, long-format CSV or .npz."""

    Config = SequencesConfig
    data_module = SequenceData
    provides = "sequences"
    fold_scheme = "stratified"
    sequence_outputs = False
    #: what ``seqrun predict --set`` may change: how a new file is written
    #: (not data.format: a table's channels are read by name only when training read one)
    predict_keys = ("data.encoding", "data.layout", "data.id_column", "data.order_column")
    default_encoder = {"type": "sequence_standardize"}
    default_metrics = "sequence_classification"
    task_kind = "classification"

    def __init__(self, section: Any, options: LoadOptions | None = None) -> None:
        self.data_cfg = section
        self.options = options or LoadOptions()

    @property
    def regression(self) -> bool:
        return self.task_kind == "regression"

    @classmethod
    def check_config(cls, cfg: Any) -> tuple[str, str] | None:
        """A split column needs a CSV file; the label, id or split column is not a feature."""
        d = cfg.data
        roles = {
            d.label_column: ("label", "data.label_column"),
            d.id_column: ("id", "data.id_column"),
        }
        if d.split.method == "column":
            roles.setdefault(d.split.column, ("split", "data.split.column"))
        for col in d.feature_columns or []:
            if col in roles:
                what, key = roles[col]
                return "data.feature_columns", (
                    f"'{col}' is the {what} column ({key}), not an input: a model "
                    f"reading it would see each sequence's {what}; remove it from "
                    "data.feature_columns"
                )
        if (
            d.split.method == "column"
            and d.path
            and file_format(d.path, d.format)
            not in (
                "csv",
                "tsv",
            )
        ):
            return "data.split.method", "method 'column' needs a CSV/TSV file with that column"
        return None

    # -- reading
    def read(
        self,
        path: str | Path,
        labelled: bool = True,
        split_column: str | None = None,
        max_series: int | None | bool = True,
        inputs: bool = False,
        key: str = "data.path",
    ) -> SequenceSet:
        """The sequences of one file in the configured format (at most ``data.max_series`` of
        them, or ``max_series`` when it is given as a number or None); ``inputs``: new series
        for ``seqrun predict`` (a table's label column is ignored, its text columns left
        out); ``key``: where the path comes from, for messages (data.path, data.test_path,
        --input)."""
        d = self.data_cfg
        limit = d.max_series if max_series is True else max_series
        settable = inputs or self.options.command_line  # a fix says --set data.KEY=VALUE
        p = Path(path).expanduser()
        if p.is_dir():
            # the archive's folder of a problem (GunPoint/ holding GunPoint_TRAIN.ts, ...)
            try:
                names = [f.name for f in p.iterdir()]
            except OSError:  # unreadable: the message goes without a hint
                names = []
            train = sorted(n for n in names if n.lower().endswith(("_train.ts", "_train.ts.gz")))
            hint = f" (e.g. {p / train[0]})" if train else ""
            raise UserError(
                f"{path} is a directory, not a file: give the path of the data file{hint}",
                where=key,
            )
        if not p.is_file():
            from seqrun.data.text import missing_path_error

            raise missing_path_error(str(path), "file", key)
        fmt = file_format(p, d.format)
        if fmt == "ts":
            from seqrun.data.ts_format import read_ts

            s = read_ts(p, limit, labelled=labelled, encoding=d.encoding, settable=settable)
            if labelled and s.regression != self.regression:
                other = "sequence_regression" if s.regression else "sequences"
                what = "@targetLabel true (regression)" if s.regression else "@classLabel"
                raise UserError(
                    f"the file declares {what}: use data.adapter: {other}", where=str(path)
                )
            return s
        if fmt == "npz":
            from seqrun.data.sequence_npz import read_npz

            return read_npz(p, self.regression, labelled, d.allow_pickle, limit, d.layout, settable)
        from seqrun.data.sequence_csv import read_long_csv

        return read_long_csv(
            p,
            d.id_column,
            d.order_column,
            d.feature_columns,
            d.label_column if labelled else None,
            regression=self.regression,
            split_column=split_column,
            encoding=d.encoding,
            max_series=limit,
            fmt="tsv" if fmt == "tsv" else "csv",
            inputs=inputs,
            ignore=(d.label_column, *([d.split.column] if d.split.method == "column" else [])),
            classes=None if self.regression else d.classes,
            settable=settable,
        )

    @classmethod
    def input_size(cls, section: Any) -> InputSize:
        """Channels and lengths are known once the file is read: the encoder may cap steps."""
        return InputSize()

    @classmethod
    def memory(cls, section: Any, size: InputSize) -> list[MemoryItem]:
        """Nothing known before the file is read."""
        return []

    def read_inputs(self, path: Path, column: str | None = None) -> tuple[list[dict], list[Any]]:
        """New series for ``seqrun predict`` from a .ts, CSV or .npz file (labels ignored):
        ({"id": ...} per series, the raw (length, channels) arrays). A table's series come
        with their column names when the run trained on a table (the encoder picks its
        channels by name); otherwise channels go by position."""
        d = self.data_cfg
        s = self.read(path, labelled=False, max_series=None, inputs=True, key="--input")
        _check_series_values(
            s, file_format(path, d.format), ", so its prediction would come from nothing"
        )
        rows = [{"id": i} for i in s.ids]
        if file_format(path, d.format) not in ("csv", "tsv"):
            return rows, list(s.series)
        if file_format(d.source, d.format) in ("csv", "tsv"):
            return rows, [NamedSeries(x, s.channels, s.source, s.text_columns) for x in s.series]
        if s.text_columns:
            where, why = next(iter(s.text_columns.values()))
            raise UserError(why, where=where)
        return rows, list(s.series)

    # -- loading
    def _classes(self, sets: list[SequenceSet]) -> tuple[list[str], dict[str, int]]:
        d = self.data_cfg
        if d.classes:
            names = list(d.classes)
        elif sets[0].class_names:
            names = list(sets[0].class_names)
        else:
            from seqrun.data.text_table import check_label_spellings

            for s in sets:  # '1' and '1.0', 'up' and 'Up' in one file: one class each
                check_label_spellings([str(v) for v in s.labels], s.lines, s.source)
            _check_spellings_across(sets)
            names = class_order(v for s in sets for v in s.labels)
        index = {c: i for i, c in enumerate(names)}
        for s in sets:
            for v, line in zip(s.labels, s.lines, strict=True):
                if str(v) not in index:
                    every = class_order(v for s in sets for v in s.labels)
                    raise UserError(
                        f"label {v!r} is not one of the classes ({', '.join(names)}); to "
                        f"keep it, list every class in data.classes: [{', '.join(every)}]",
                        where=f"{s.source}:{line}",
                    )
        return names, index

    def load(self, splits: tuple[str, ...] = ("train", "dev")) -> SequenceData:
        """Read the file(s), split, keep the requested splits."""
        from seqrun.core.splits import fraction_parts

        d = self.data_cfg
        source = d.source
        fmt = file_format(source, d.format)
        split_col = d.split.column if d.split.method == "column" else None
        main = self.read(source, split_column=split_col)
        test_file = d.test_path
        if test_file is None and fmt == "ts":
            from seqrun.data.ts_format import test_path_of, train_path_of

            found = test_path_of(source)
            test_file = str(found) if found is not None else None
            twin = train_path_of(source) if found is None else None
            if twin is not None:
                from seqrun.core.text import warn

                warn(
                    f"data.path is {Path(source).name}, and {twin.name} is beside it: the "
                    "TEST file is split by data.split (train, dev and test all from it) and "
                    f"{twin.name} is not read; for the archive's split, set data.path to "
                    f"{twin.name}"
                )
        # the test file is read even when test is not loaded: its digests feed the leakage
        # check (the files of this family are small); nothing of it is scored
        test_key = "data.test_path" if d.test_path is not None else "data.path"
        test = self.read(test_file, key=test_key) if test_file is not None else None
        sets = [main] + ([test] if test is not None else [])
        for s in sets:
            _check_values(s, fmt if s is main else file_format(s.source, d.format))
        if len({len(s.channels) for s in sets}) > 1:
            raise UserError(
                f"the test file has {len(test.channels)} channel(s), the training file "
                f"{len(main.channels)}",
                where=str(test_file),
            )
        if self.regression:
            names, index = None, None
            y_main = np.asarray(main.labels, dtype=np.float64)
            y_test = np.asarray(test.labels, dtype=np.float64) if test is not None else None
            known = y_main[np.isfinite(y_main)]
            if len(known) and known.min() == known.max():
                raise UserError(
                    f"the target is {known[0]:g} in all {len(known)} series of the training "
                    "file: a regression has nothing to learn; give series whose targets differ",
                    where=source,
                )
        else:
            names, index = self._classes(sets)
            y_main = np.asarray([index[str(v)] for v in main.labels], dtype=np.int64)
            y_test = (
                np.asarray([index[str(v)] for v in test.labels], dtype=np.int64)
                if test is not None
                else None
            )
            if len(np.unique(y_main)) < 2:
                cut = (
                    f" (data.max_series keeps its first {d.max_series} series: raise it)"
                    if d.max_series
                    else ""
                )
                raise UserError(
                    f"the training file has one class ({names[int(y_main[0])]!r}){cut}; a "
                    "classifier needs at least two",
                    where=source,
                )
        strat = np.zeros(len(y_main), dtype=np.int64) if self.regression else y_main
        s = d.split
        method = "random" if self.regression and s.method == "stratified" else s.method
        if method == "column":
            parts = self._column_split(main.split_values or [])
        else:
            if test is not None:
                whole = s.train + s.dev
                f_train, f_dev = s.train / whole, s.dev / whole
            else:
                f_train, f_dev = s.train, s.dev
            if s.kfold:
                test_share = 0.0 if test is not None else s.test
                parts = fraction_parts(strat, method, (1 - test_share, 0.0), s.seed)
            else:
                parts = fraction_parts(strat, method, (f_train, f_dev), s.seed)
                if test is not None:
                    # the two shares add up to 0.999... in floating point (0.6/0.8 + 0.2/0.8),
                    # and a random cut leaves the last series out of both: they belong to dev
                    # (the test file is the test split)
                    leftover = parts["test"]
                    parts["dev"] = np.sort(np.concatenate([parts["dev"], leftover]))
                    parts["test"] = leftover[:0]
        if s.kfold:
            from seqrun.core.splits import fold_parts

            pool = np.concatenate([parts["train"], parts["dev"]])
            parts = fold_parts(strat, pool, parts["test"], s)
        if not len(parts["train"]) and method != "column":  # said so, not "one class (none)" below
            raise _empty_split(
                "train",
                len(main),
                source,
                "" if s.kfold else _per_class_rounding(strat, method, "train"),
            )
        if not self.regression:
            from seqrun.data.text_table import check_train_classes, warn_one_class_splits

            check_train_classes(y_main[parts["train"]], names, method, "series")
            warn_one_class_splits(
                y_main, parts, names, "use more series, or a larger share for that split"
            )
        out: dict[str, SeqSplit] = {}
        unloaded: dict[str, SeqSplit] = {}
        for name in ("train", "dev", "test"):
            if name == "test" and test is not None:
                series, y, ids = test.series, y_test, test.ids
            else:
                idx = parts[name]
                series = [main.series[i] for i in idx]
                y = y_main[idx]
                ids = [main.ids[i] for i in idx]
            if name in splits:
                if not len(series):
                    why = ""
                    if not s.kfold and not (name == "test" and test is not None):
                        why = _per_class_rounding(strat, method, name)
                    raise _empty_split(name, len(main), source, why)
                out[name] = SeqSplit(series=series, y=y, ids=ids)
            elif len(series):  # read, never scored: for the leakage check and meta.json
                unloaded[name] = SeqSplit(series=series, y=y, ids=ids)
        notes: dict[str, Any] = {"format": fmt}
        if test_file is not None:
            notes["test_file"] = Path(test_file).name
        if main.header.get("problem"):
            notes["problem"] = main.header["problem"]
        data = SequenceData(
            out,
            names,
            main.channels,
            source=d.sample or source,
            target_name=d.label_column if fmt in ("csv", "tsv") else "target",
            report_errors=d.report_errors,
            notes=notes,
        )
        data.other_digests = {name: s.digests() for name, s in unloaded.items()}
        # the hash of a split read but not loaded (test, at train time) goes into meta.json
        # too, so that `seqrun evaluate` notices a file changed since training
        data.split_fingerprints.update(
            {name: sequence_fingerprint({name: s}) for name, s in unloaded.items()}
        )
        return data

    def _column_split(self, values: list[str]) -> dict[str, np.ndarray]:
        d = self.data_cfg
        parts: dict[str, list[int]] = {"train": [], "dev": [], "test": []}
        for i, v in enumerate(values):
            name = "train" if v == "train" else "test" if v == "test" else _DEV_NAMES.get(v)
            if name is None:
                raise UserError(
                    f"split value {v!r} in column '{d.split.column}' is not train, dev "
                    "(validation, valid, val) or test",
                    where="data.split.column",
                )
            parts[name].append(i)
        return {k: np.asarray(v, dtype=np.int64) for k, v in parts.items()}


def _empty_split(name: str, n: int, source: str, why: str) -> UserError:
    """The error for an empty split of the ``n`` series of ``source``; ``why``: see
    :func:`_per_class_rounding`."""
    return UserError(
        f"the {name} split is empty ({n} series in {source})" + (why or "; adjust data.split"),
        where="data.split",
    )


def _per_class_rounding(strat: np.ndarray, method: str, name: str) -> str:
    """Why a stratified split came out empty when the whole file would fill it: each class's
    share is rounded on its own, and a class of a few series rounds to none (an archive set
    of many small classes: 26 letters of 3 series each)."""
    counts = np.bincount(strat)
    counts = counts[counts > 0]
    if method != "stratified" or len(counts) < 2:
        return ""
    lo, hi = int(counts.min()), int(counts.max())
    sizes = f"{lo}" if lo == hi else f"{lo} to {hi}"
    return (
        f": a stratified split rounds the {name} share of each class on its own, and the "
        f"{len(counts)} classes have {sizes} series each; raise data.split.{name}, or set "
        "data.split.method: random"
    )


def _check_spellings_across(sets: list[SequenceSet]) -> None:
    """Labels of the training and the test file that differ only in case or in how a number
    is written ('1' in one, '1.0' in the other) are an error: each would be a class of its
    own, and the test labels would match no trained class."""
    from seqrun.data.text_table import spelling_key

    first: dict[str, tuple[str, str]] = {}  # spelling key -> (label, where)
    for s in sets:
        npz = file_format(s.source) == "npz"  # its 'lines' are series indices
        seen: set[str] = set()
        for v, line in zip(s.labels, s.lines, strict=True):
            v = str(v)
            if v in seen:
                continue
            seen.add(v)
            key = spelling_key(v)
            where = f"{s.source} (y[{line}])" if npz else f"{s.source}:{line}"
            if key not in first:
                first[key] = (v, where)
            elif first[key][0] != v:
                other, there = first[key]
                raise UserError(
                    f"label {v!r} here and {other!r} in {there} differ only in case or in how "
                    "a number is written: they would be separate classes, and the test labels "
                    "would match no trained class; write each class one way in both files",
                    where=where,
                )


def _check_values(s: SequenceSet, fmt: str) -> None:
    """Every channel of a file read for training or scoring holds some value, and so does
    every series (a channel or series with every value missing would be read as zeros)."""
    if not s.series:
        return
    flat = np.concatenate([x.reshape(-1, x.shape[1]) for x in s.series])
    seen = ~np.isnan(flat).all(axis=0)
    if not seen.any():
        raise UserError(
            "no values: every value of every series is missing (?, NaN, empty)", where=s.source
        )
    if not seen.all():
        c = int(np.flatnonzero(~seen)[0])
        fix = (
            "leave it out of data.feature_columns"
            if fmt in ("csv", "tsv")
            else "drop it from the file"
        )
        raise UserError(
            f"channel {s.channels[c]!r} has no values (every value is missing in every "
            f"series): {fix}",
            where=s.source,
        )
    _check_series_values(s, fmt)


def _check_series_values(s: SequenceSet, fmt: str, why: str = "") -> None:
    """Every series holds some value (one with none would be read as zeros); ``why``: what
    such a series would do, for the message."""
    for i, x in enumerate(s.series):
        if np.isnan(x).all():
            where = s.source if fmt == "npz" else f"{s.source}:{s.lines[i]}"
            raise UserError(
                f"series {s.ids[i]!r} has no value (every value is missing){why}: leave it out "
                "of the file",
                where=where,
            )


class SequenceRegressionAdapter(SequencesAdapter):
    """Numeric sequences with one number each: .ts (@targetLabel), long-format CSV or .npz."""

    Config = SequenceRegressionConfig
    default_metrics = "sequence_regression"
    task_kind = "regression"
    fold_scheme = "stratified"  # shuffled folds (no classes: plain seeded k-fold)
