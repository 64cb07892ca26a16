"""The UEA/UCR time-series archive's ``.ts`` format (as shipped by sktime / aeon).

Header lines (case-insensitive tags) come first, then ``@data`` and one series per line::

    @problemName BasicMotions
    @timeStamps false
    @missing false
    @univariate false
    @dimensions 6
    @equalLength true
    @seriesLength 100
    @classLabel true Standing Running Walking Badminton
    @data
    0.07,0.07,...:0.39,0.39,...:...:Standing

Dimensions are separated by ``:``, values by ``,``; ``?``, ``NaN`` or ``NA`` is a missing
value (an empty value, e.g. after a trailing comma, is an error); the label comes last (a
class name with ``@classLabel true``, a number with ``@targetLabel true``, nothing when both
are false). A ``:`` ending the line is ignored (aeon's writer ends every dimension of an
unlabelled series with one). A tag and its value are separated by spaces or tabs. Lines
starting with ``#`` are comments. Every problem is a one-line UserError naming ``file:line``.

With ``@timeStamps true`` each dimension is a list of ``(time,value)`` pairs, e.g.
``(0,1.5),(1,?),(2,2.0):(0,3),(2,4):a``; times are numbers or ISO 8601 date-times (each once
per dimension). A series' values are put in time order, and dimensions with different times are
aligned on the union of their times (a time a dimension lacks is a missing value). Only the
order is kept: steps are equally spaced for the model, whatever the gaps between the times.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from seqrun.core.errors import UserError, broken_link, did_you_mean
from seqrun.core.text import NA_TEXTS, decode_text, file_lines, read_file_bytes

#: the header tags of the format (lower case); ``dimension`` is an alias some files use
TAGS = (
    "problemname",
    "timestamps",
    "missing",
    "univariate",
    "dimensions",
    "dimension",
    "equallength",
    "serieslength",
    "classlabel",
    "targetlabel",
    "data",
)
#: tags every file must have (``classlabel`` or ``targetlabel`` counts once)
REQUIRED = ("problemname", "timestamps", "univariate", "classlabel|targetlabel", "data")
_SPELLING = {
    "problemname": "@problemName",
    "timestamps": "@timeStamps",
    "univariate": "@univariate",
    "classlabel|targetlabel": "@classLabel (or @targetLabel)",
    "data": "@data",
}
#: missing-value spellings (lower case) of .ts values and long-CSV cells (as pandas reads them);
#: an empty CSV cell is missing too, an empty .ts value is an error
MISSING = {"?", "-nan", "", *NA_TEXTS}
#: the message for an ARFF file (Weka's format, also in the UEA/UCR archive)
ARFF_HELP = (
    "this is an ARFF file (@relation/@attribute/@data), which is not supported: use the .ts "
    "file of the same problem (the UEA/UCR archive ships both), or convert it to .ts or .npz"
)
#: how messages name them
MISSING_HELP = "?, NaN, NA, N/A or null"


@dataclass
class SequenceSet:
    """Series read from one file: each a (length, channels) float32 array (NaN = missing).

    ``labels`` are class names (str), numbers (float) for regression, or None (unlabelled);
    ``ids`` name each series in messages and outputs, ``lines`` where it starts in its file.
    """

    series: list[np.ndarray]
    labels: list[Any]
    ids: list[Any]
    lines: list[int]
    channels: list[str]
    source: str
    regression: bool = False
    class_names: list[str] | None = None  # the classes the file declares (in its order)
    split_values: list[str] | None = None  # a split column's value per series (CSV)
    header: dict[str, Any] = field(default_factory=dict)
    #: prediction inputs (CSV): columns left out for holding text (or an infinite value) ->
    #: (where, why) of the first such value
    text_columns: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.series)


@dataclass
class NamedSeries:
    """One new series from a table, with its column names (``seqrun predict``): the encoder
    picks the run's channels from it by name."""

    values: np.ndarray  # (length, len(columns)) float32, NaN = missing
    columns: list[str]
    source: str
    text_columns: dict[str, tuple[str, str]] = field(default_factory=dict)  # see SequenceSet

    def __len__(self) -> int:
        return len(self.values)


def _bool(value: str, tag: str, where: str) -> bool:
    v = value.strip().lower()
    if v in ("true", "false"):
        return v == "true"
    raise UserError(f"@{tag} must be true or false, not {value.strip()!r}", where=where)


def _int(value: str, tag: str, where: str) -> int:
    try:
        n = int(value.strip())
    except ValueError:
        n = -1
    if n < 1:
        raise UserError(f"@{tag} must be a positive integer, not {value.strip()!r}", where=where)
    return n


FLOAT32_MAX = float(np.finfo(np.float32).max)


def target_problem(value: float) -> str | None:
    """What is wrong with a regression target, or None: not a finite number, or one beyond
    float32's range (the model's, where it would be infinite)."""
    if not math.isfinite(value):
        return "is not a finite number"
    if abs(value) > FLOAT32_MAX:
        return "is beyond float32's range (about ±3.4e38), which the model computes in; rescale it"
    return None


def infinite_text(text: str, missing: str) -> str:
    """What is wrong with a value ``text`` that is infinite as float32, and what to do:
    ``missing`` says how the format writes a missing value."""
    try:
        value = float(text)
    except ValueError:
        value = math.inf
    if math.isinf(value):
        return f"infinite; write a missing value as {missing}"
    return "beyond float32's range (about ±3.4e38), which values are read as; rescale the values"


def _values(text: str, where: str, dim: int) -> np.ndarray:
    parts = text.split(",")
    out = np.empty(len(parts), dtype=np.float32)
    with np.errstate(over="ignore"):  # beyond float32's range: inf, an error below
        for i, v in enumerate(parts):
            v = v.strip()
            if not v:
                what = "a trailing comma" if i == len(parts) - 1 else "two commas in a row"
                raise UserError(
                    f"value {i + 1} of dimension {dim + 1} is empty ({what}?): remove the "
                    "comma, or write ? for a missing value",
                    where=where,
                )
            if v.lower() in MISSING:
                out[i] = np.nan
                continue
            try:
                out[i] = float(v)
            except ValueError:
                raise UserError(
                    f"value {v[:40]!r} (value {i + 1} of dimension {dim + 1}) is not a number "
                    f"(missing values: {MISSING_HELP})",
                    where=where,
                ) from None
    infinite = np.flatnonzero(np.isinf(out))
    if len(infinite):
        i = int(infinite[0])
        v = parts[i].strip()
        raise UserError(
            f"value {v[:40]!r} (value {i + 1} of dimension {dim + 1}) is "
            + infinite_text(v, "? or NaN"),
            where=where,
        )
    return out


#: one ``(time,value)`` pair of a ``@timeStamps true`` file, and the comma after it
_PAIR = re.compile(r"\s*\(([^(),]*),([^(),]*)\)\s*(,|$)")


def _split_dimensions(line: str) -> list[str]:
    """A ``@timeStamps true`` data line cut at the ``:`` outside parentheses (a date-time's
    ``:`` is inside its pair)."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(line):
        if c == "(":
            depth += 1
        elif c == ")":
            depth = max(depth - 1, 0)
        elif c == ":" and depth == 0:
            parts.append(line[start:i])
            start = i + 1
    parts.append(line[start:])
    return parts


def _time(text: str, where: str, i: int, dim: int) -> float:
    """A timestamp as a number (date-times: seconds since 1970, naive ones read as UTC)."""
    t = text.strip()
    try:
        value = float(t)
    except ValueError:
        try:
            moment = datetime.fromisoformat(t)
        except ValueError:
            raise UserError(
                f"time {t[:40]!r} (pair {i + 1} of dimension {dim + 1}) is neither a number "
                "nor an ISO 8601 date-time (@timeStamps true)",
                where=where,
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    if not math.isfinite(value):
        raise UserError(
            f"time {t[:40]!r} (pair {i + 1} of dimension {dim + 1}) is not a finite number",
            where=where,
        )
    return value


def _stamped(text: str, where: str, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """One dimension of a ``@timeStamps true`` line: its times and values, in time order."""
    times: list[float] = []
    stamps: list[str] = []  # as written, for messages
    values: list[str] = []
    pos = 0
    while pos < len(text):
        m = _PAIR.match(text, pos)
        if m is not None and m.group(3) == "," and m.end() == len(text):
            raise UserError(
                f"a trailing comma after pair {len(times) + 1} of dimension {dim + 1}: remove it",
                where=where,
            )
        if m is None:
            got = text[pos:].strip()[:30]
            raise UserError(
                f"expected a (time,value) pair at {got!r} (pair {len(times) + 1} of dimension "
                f"{dim + 1}): with @timeStamps true every value is written (time,value), pairs "
                "separated by commas",
                where=where,
            )
        i = len(times)
        if not m.group(2).strip():
            raise UserError(
                f"pair {i + 1} of dimension {dim + 1} has no value; write ? for a missing value",
                where=where,
            )
        times.append(_time(m.group(1), where, i, dim))
        stamps.append(m.group(1).strip())
        values.append(m.group(2))
        pos = m.end()
    t = np.asarray(times, dtype=np.float64)
    order = np.argsort(t, kind="stable")
    t = t[order]
    repeated = np.flatnonzero(np.diff(t) == 0)
    if len(repeated):
        first = int(order[repeated[0] + 1])
        raise UserError(
            f"time {stamps[first][:40]!r} appears twice in dimension {dim + 1} (pair "
            f"{first + 1}); each time once per dimension",
            where=where,
        )
    return t, _values(",".join(values), where, dim)[order]


def _align(dims: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """The values of each dimension on the union of their times (NaN where one has none)."""
    times = [t for t, _ in dims]
    if all(len(t) == len(times[0]) and np.array_equal(t, times[0]) for t in times):
        return [v for _, v in dims]
    union = np.unique(np.concatenate(times))
    out = []
    for t, v in dims:
        full = np.full(len(union), np.nan, dtype=np.float32)
        full[np.searchsorted(union, t)] = v
        out.append(full)
    return out


@dataclass
class _Header:
    """The header of a ``.ts`` file, tag by tag, then checked at ``@data``."""

    values: dict[str, Any] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    given: dict[str, tuple[str, str]] = field(default_factory=dict)  # tag -> (value, where)
    declared: list[str] | None = None  # @classLabel true's classes
    regression: bool = False
    has_label: bool = False
    dims: int | None = None
    dims_from: str = "@dimensions says"  # what set ``dims``, for messages
    done: bool = False  # @data reached

    def read(self, line: str, where: str) -> None:
        """One header line (``@tag value``)."""
        if not line.startswith("@"):
            raise UserError(
                f"expected a header tag (@...) or @data before the series, got {line[:30]!r}",
                where=where,
            )
        parts = line[1:].split(None, 1)  # spaces or tabs after the tag
        tag, value = (parts[0] if parts else ""), (parts[1] if len(parts) > 1 else "")
        key = tag.lower()
        if key in ("relation", "attribute"):
            raise UserError(ARFF_HELP, where=where)
        if key not in TAGS:
            raise UserError(
                f"unknown header tag '@{tag}'{did_you_mean(key, TAGS)}; known tags: "
                "@problemName, @timeStamps, @missing, @univariate, @dimensions, "
                "@equalLength, @seriesLength, @classLabel, @targetLabel, @data",
                where=where,
            )
        key = "dimensions" if key == "dimension" else key
        before = self.given.setdefault(key, (value.strip(), where))
        if key != "data" and " ".join(before[0].split()) != " ".join(value.split()):
            raise UserError(
                f"@{tag} appears twice in the header with different values ({before[0]!r} on "
                f"line {before[1].rsplit(':', 1)[-1]}, {value.strip()!r} here): keep the right one",
                where=where,
            )
        self.seen.add(key)
        header = self.values
        if key == "problemname":
            header["problem"] = value.strip()
        elif key in ("timestamps", "missing", "univariate", "equallength"):
            header[key] = _bool(value, tag, where)
        elif key in ("dimensions", "serieslength"):
            header[key] = _int(value, tag, where)
        elif key == "classlabel":
            flag, rest = (value.split(None, 1) + ["", ""])[:2]
            if _bool(flag, tag, where):
                self.declared = rest.split()
                if not self.declared:
                    raise UserError("@classLabel true lists no class", where=where)
                twice = next(
                    (c for i, c in enumerate(self.declared) if c in self.declared[:i]), None
                )
                if twice is not None:
                    raise UserError(
                        f"@classLabel lists class {twice!r} twice: name each class once",
                        where=where,
                    )
                self.has_label = True
        elif key == "targetlabel":
            if _bool((value.split() or [""])[0], tag, where):
                self.regression = self.has_label = True
        elif key == "data":
            self._start_data(where)

    def _start_data(self, where: str) -> None:
        missing = [_SPELLING[r] for r in REQUIRED if not any(t in self.seen for t in r.split("|"))]
        if missing:
            raise UserError(
                f"missing header tag(s) before @data: {', '.join(missing)}", where=where
            )
        if self.regression and self.declared is not None:
            raise UserError(
                "the header has both @classLabel true and @targetLabel true; keep one",
                where=where,
            )
        header = self.values
        if header.get("univariate"):
            self.dims, self.dims_from = 1, "@univariate true says"
        if "dimensions" in header:
            if self.dims == 1 and header["dimensions"] != 1:
                n = header["dimensions"]
                raise UserError(
                    f"@univariate true but @dimensions {n}: set @univariate false if the series "
                    f"have {n} dimensions, else @dimensions 1",
                    where=self.given.get("dimensions", ("", where))[1],  # its line
                )
            self.dims, self.dims_from = header["dimensions"], "@dimensions says"
        self.done = True

    def series(self, line: str, where: str, first_len: int | None) -> tuple[np.ndarray, Any]:
        """One data line: the (length, channels) values and the label (None if unlabelled)."""
        if line.startswith("@"):  # values are numbers: a second header (two files joined?)
            at = self.given["data"][1].rsplit(":", 1)[-1]
            raise UserError(
                f"header line {line[:30]!r} after @data (line {at}): "
                "the header goes before @data, once per file (two .ts files joined into one?)",
                where=where,
            )
        stamped = bool(self.values.get("timestamps"))
        if stamped and line.count("(") != line.count(")"):
            raise UserError(
                f"{line.count('(')} '(' but {line.count(')')} ')': with @timeStamps true every "
                "value is a (time,value) pair",
                where=where,
            )
        parts = _split_dimensions(line) if stamped else line.split(":")
        # a ':' ending the line (aeon writes one after an unlabelled series' last dimension);
        # with labels, only where the count says that it does not stand for an empty label
        if (
            len(parts) > 1
            and not parts[-1].strip()
            and (not self.has_label or (self.dims is not None and len(parts) == self.dims + 2))
        ):
            parts.pop()
        label: Any = None
        if self.has_label:
            if len(parts) < 2:
                raise UserError(
                    "no label after the values (the header declares labels)", where=where
                )
            label = parts.pop().strip()
            if not label:
                raise UserError(
                    "the label is empty (the line ends with ':'); write the label after the "
                    "last dimension",
                    where=where,
                )
        if self.dims is None:
            self.dims = len(parts)
            self.dims_from = "the first series has"
        if len(parts) != self.dims:
            raise UserError(
                f"{len(parts)} dimension(s), {self.dims_from} {self.dims}"
                + (" (is the label missing or extra?)" if abs(len(parts) - self.dims) == 1 else ""),
                where=where,
            )
        for d, part in enumerate(parts):
            if not part.strip():
                raise UserError(f"empty series (dimension {d + 1} has no value)", where=where)
        if stamped:
            arrays = _align([_stamped(part, where, d) for d, part in enumerate(parts)])
        else:
            arrays = [_values(part, where, d) for d, part in enumerate(parts)]
        lengths = {len(a) for a in arrays}
        if len(lengths) > 1:
            raise UserError(
                f"the dimensions of this series have different lengths ({sorted(lengths)}): "
                "give each dimension as many values (write ? for a missing one)",
                where=where,
            )
        self._check_length(lengths.pop(), first_len, where)
        return np.stack(arrays, axis=1), self._label(label, where)

    def _check_length(self, length: int, first_len: int | None, where: str) -> None:
        if self.values.get("equallength"):
            expected = self.values.get("serieslength") or first_len
            if expected is not None and length != expected:
                what = "@seriesLength" if self.values.get("serieslength") else "the first series"
                fix = "correct @seriesLength, or " if self.values.get("serieslength") else ""
                raise UserError(
                    f"series of length {length} but @equalLength true ({what}: {expected}); "
                    f"{fix}set @equalLength false if the series' lengths differ",
                    where=where,
                )

    def _label(self, label: Any, where: str) -> Any:
        if label is None:
            return None
        if self.regression:
            try:
                value = float(label)
            except ValueError:
                value = math.nan
            problem = target_problem(value)
            if problem:
                raise UserError(f"target {label!r} {problem} (@targetLabel true)", where=where)
            return value
        if self.declared is not None and label not in self.declared:
            spaced = ""
            if len(label.split()) > 1:  # a writer joined class names holding spaces by spaces
                spaced = (
                    ": @classLabel separates class names by spaces, so a name cannot hold one; "
                    f"write it without (e.g. {'_'.join(label.split())!r}) in the header and the "
                    "data"
                )
            raise UserError(
                f"label {label!r} is not in @classLabel ({' '.join(self.declared)}){spaced}",
                where=where,
            )
        return label


def read_ts(
    path: str | Path,
    max_series: int | None = None,
    labelled: bool = True,
    encoding: str = "utf-8",
    settable: bool = False,
) -> SequenceSet:
    """The series and labels of a ``.ts`` file (optionally gzip-compressed) in ``encoding``
    (``data.encoding``; a BOM wins); ``settable``: the data keys come from ``--set`` (a
    trained run's, as in ``seqrun predict``/``evaluate``), which an encoding fix names.

    ``labelled=False`` (new inputs for ``seqrun predict``) reads labels when the file has them
    but does not require them.
    """
    name = str(path)
    text = decode_text(
        read_file_bytes(Path(path)),
        encoding,
        name,
        fixed=settable,
        settable=settable,
        fmt="a .ts text file",
    )
    head = _Header()
    series: list[np.ndarray] = []
    labels: list[Any] = []
    lines: list[int] = []
    rows = file_lines(text)
    # a file that ends inside its last line (no line end): a copy or download cut short there
    cut = len(rows) if rows and not text.endswith(("\n", "\r")) else 0
    for n, raw in enumerate(rows, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not head.done:
            head.read(line, f"{name}:{n}")
            continue
        try:
            values, label = head.series(line, f"{name}:{n}", len(series[0]) if series else None)
        except UserError as e:
            if n != cut:
                raise
            raise UserError(
                f"{e.message}; the file ends inside this line: is it cut short? Copy or "
                "download it again, or remove the line",
                where=e.where,
            ) from None
        series.append(values)
        labels.append(label)
        lines.append(n)
        if max_series and len(series) >= max_series:
            break
    if not head.done:
        raise UserError("no @data line: not a .ts file (or the header is incomplete)", where=name)
    if not series:
        raise UserError("no series after @data", where=name)
    if labelled and not head.has_label:
        raise UserError(
            "the file has no labels (@classLabel false and no @targetLabel true); the files "
            "read for training and scoring need them (only `seqrun predict` reads unlabelled "
            "series)",
            where=name,
        )
    return SequenceSet(
        series=series,
        labels=labels,
        ids=list(range(len(series))),
        lines=lines,
        channels=[f"dim_{d}" for d in range(head.dims or 1)],
        source=name,
        regression=head.regression,
        class_names=head.declared,
        header=head.values,
    )


def test_path_of(train: str | Path) -> Path | None:
    """The ``<Name>_TEST.ts`` beside a ``<Name>_TRAIN.ts`` (gzip suffix kept; _train/_test
    and _Train/_Test too), if it exists."""
    return _twin(Path(train), "_train", ("_TEST", "_test", "_Test"), strict=True)


def train_path_of(test: str | Path) -> Path | None:
    """The ``<Name>_TRAIN.ts`` beside a ``<Name>_TEST.ts`` (the other way round), if it
    exists: a ``data.path`` naming the test file is likely a slip."""
    return _twin(Path(test), "_test", ("_TRAIN", "_train", "_Train"))


def _twin(p: Path, this: str, others: tuple[str, ...], strict: bool = False) -> Path | None:
    """The file beside ``p`` whose name has one of ``others`` for ``this``; ``strict``: a
    UserError when such a name exists but is no readable file (a folder, a link leading
    nowhere), as the split would otherwise change silently."""
    i = p.name.lower().rfind(this)
    if i < 0:
        return None
    for name in others:  # the archive's, and what people rename to
        other = p.with_name(p.name[:i] + name + p.name[i + len(this) :])
        if other.is_file():
            return other
        if strict and (other.is_symlink() or other.exists()):
            what = broken_link(other) or ("a folder" if other.is_dir() else "not a readable file")
            raise UserError(
                f"{other.name} beside {p.name} is {what}: replace it with the file, or remove "
                "it (and set data.test_path, or let data.split make the test split)",
                where=str(other),
            )
    return None
