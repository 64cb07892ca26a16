"""Text classification from a table: CSV, TSV or JSON Lines with a text and a label column."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from seqrun.core.config import DataConfig, set_option
from seqrun.core.contracts import InputSize, LoadOptions, MemoryItem
from seqrun.core.errors import UserError, broken_link, did_you_mean
from seqrun.core.splits import SplitFractions, fold_parts, fraction_parts
from seqrun.core.text import (
    NA_TEXTS,
    allow_long_csv_fields,
    check_unique_names,
    decode_text,
    file_lines,
    read_file_bytes,
    shown_names,
    unescape_separator,
    warn,
)
from seqrun.data.base import class_order
from seqrun.data.text import TextData, TextSplit, missing_path_error, text_fingerprint
from seqrun.data.text_describe import text_digest
from seqrun.samples import check_one_source, sample_path

# the keys each bundled sample (seqrun.samples) brings; the config may still override them
SAMPLES: dict[str, dict[str, Any]] = {
    "mr-snippets": {
        "text_column": "text",
        "label_column": "score",
        "label_type": "score",
        "id_column": "id",
    },
}
SampleName = Literal["mr-snippets"]

_DEV_NAMES = {"dev": "dev", "validation": "dev", "valid": "dev", "val": "dev"}


class TextSplitConfig(SplitFractions):
    """How rows are split into train, dev and test."""

    method: Literal["stratified", "random", "column"] = Field(
        "stratified",
        description="'stratified': seeded shuffle within each class (same class shares in every "
        "split); 'random': rows in the order of numpy default_rng(seed).permutation, cut at the "
        "fractions; 'column': the split named in data.split.column.",
    )
    train: float = Field(0.8, gt=0, lt=1, description="Fraction of the rows used for training.")
    dev: float = Field(0.1, gt=0, lt=1, description="Fraction held out for model selection.")
    test: float = Field(0.1, ge=0, lt=1, description="Fraction held out for `seqrun evaluate`.")
    seed: int = Field(0, description="Seed of the split (independent of the experiment seed).")
    column: str = Field(
        "split",
        description="With method 'column': the column whose values are train, dev (or "
        "validation/valid/val) and test.",
    )


class TextTableConfig(DataConfig):
    """Options of the text-table adapter."""

    adapter: Literal["text_table"] = Field(
        "text_table", description="Texts and labels from a CSV/TSV/JSONL file."
    )
    path: str | None = Field(
        None,
        description="The table, optionally gzip-compressed (.gz); relative paths start from the "
        "working directory.",
    )
    sample: SampleName | None = Field(
        None,
        description="A table bundled with seqrun instead of `path`: 'mr-snippets' (10,605 "
        "Rotten Tomatoes snippets with mean human sentiment scores in [-4, 4], MIT; brings "
        "label_column: score, label_type: score, id_column: id).",
    )
    format: Literal["auto", "csv", "tsv", "jsonl"] = Field(
        "auto",
        description="File format; 'auto' goes by the extension (.csv, .tsv/.tab, .jsonl, and "
        ".json: JSON Lines, as the Yelp and Amazon review dumps are named).",
    )
    separator: str | None = Field(
        None,
        min_length=1,
        max_length=1,
        description="Field separator of a CSV/TSV, e.g. ';' for a European spreadsheet export; "
        "null: ',' for CSV, a tab for TSV.",
    )
    encoding: str = Field(
        "utf-8",
        description="Text encoding (a BOM selects UTF-8/UTF-16 by itself); a file that looks "
        "like another encoding (cp1252, mac_roman) is an error naming it, stray undecodable "
        "bytes are replaced, counted and warned.",
    )
    columns: list[str] | None = Field(
        None,
        min_length=1,
        description="Names of the columns of a CSV/TSV without a header row, in order (e.g. "
        "[label, text] for the Yelp and Amazon polarity CSVs): its first line is then data; "
        "null: the first line names the columns.",
    )
    text_column: str = Field("text", description="Column holding the texts.")
    label_column: str = Field("label", description="Column holding the labels (names or scores).")
    id_column: str | None = Field(
        None, description="Column naming each row in errors.jsonl; null: the file's line number."
    )
    label_type: Literal["auto", "names", "score"] = Field(
        "auto",
        description="'names': each distinct value is a class; 'score': numbers split at "
        "data.threshold into negative/positive; 'auto': names for texts and for whole numbers "
        "with at most 20 distinct values (each value a class, sorted numerically: -1, 0, 1 or "
        "1..5), score for other numbers (fractions, or more distinct values).",
    )
    classes: list[str] | None = Field(
        None,
        description="Class names in class-id order (binary: negative first). names: the accepted "
        "labels (null: sorted distinct values); score: the two names (null: negative, positive).",
    )
    threshold: float = Field(0.0, description="With scores: above is positive, below negative.")
    ties: Literal["drop", "negative", "positive"] = Field(
        "drop",
        description="With scores: rows equal to the threshold are dropped or kept as a class.",
    )
    max_rows: int | None = Field(
        None, ge=1, description="Read only the first N data rows (quick experiments, tests)."
    )
    split: TextSplitConfig = Field(
        default_factory=TextSplitConfig, description="Train/dev/test split."
    )
    report_errors: int = Field(
        20, ge=0, description="Most confident mistakes written to errors.jsonl per scored split."
    )

    @field_validator("separator", mode="before")
    @classmethod
    def _tab(cls, value: Any) -> Any:
        return unescape_separator(value)

    @field_validator("classes")
    @classmethod
    def _classes(cls, value: list[str] | None) -> list[str] | None:
        return stripped_classes(value)

    @model_validator(mode="after")
    def _one_source(self) -> TextTableConfig:
        check_one_source(self.path, self.sample)
        if self.sample is not None:
            for key, value in SAMPLES[self.sample].items():
                if key not in self.model_fields_set:
                    setattr(self, key, value)
        if self.columns is not None:
            if table_format(self.source, self.format) == "jsonl":
                raise ValueError(
                    "data.columns names the columns of a CSV/TSV without a header row; JSON "
                    "Lines name their fields in every line: remove data.columns"
                )
            check_unique_names(self.columns, "data.columns")
        if self.text_column == self.label_column:
            raise ValueError(
                f"data.text_column and data.label_column are both {self.text_column!r}: the "
                "texts and the labels must come from two different columns; set "
                "data.text_column to the column holding the texts"
            )
        return self

    @property
    def source(self) -> str:
        """The file read: the path, or the bundled sample's file."""
        return str(sample_path(self.sample)) if self.sample else str(self.path)


def stripped_classes(names: list[str] | None) -> list[str] | None:
    """data.classes with the spaces around each name removed (labels are read stripped, so
    ' up' could never match); an empty name or one listed twice is a ValueError."""
    if names is None:
        return None
    out = [str(n).strip() for n in names]
    if any(not n for n in out):
        raise ValueError("data.classes holds an empty name: remove it")
    seen: set[str] = set()
    for n in out:
        if n in seen:
            raise ValueError(
                f"data.classes names {n!r} twice (spaces around names are ignored): each class once"
            )
        seen.add(n)
    return out


def check_train_classes(
    labels: np.ndarray, class_names: list[str], split_method: str, what: str = "rows"
) -> None:
    """A UserError when the train split holds fewer than two classes while the data has more
    (a split column, or a split too small for a rare class): a classifier cannot train."""
    present = np.unique(labels)
    if len(present) >= 2:
        return
    only = repr(class_names[int(present[0])]) if len(present) else "none"
    fix = (
        f"put {what} of every class in train in the split column"
        if split_method == "column"
        else f"use more {what}, or a larger data.split.train"
    )
    raise UserError(
        f"the train split holds one class ({only}) of the data's {len(class_names)}: a "
        f"classifier needs at least two to train; {fix}",
        where="data.split",
    )


def warn_one_class_splits(
    labels: np.ndarray, parts: dict[str, np.ndarray], class_names: list[str], fix: str
) -> None:
    """Warn when the dev or test split holds a single class of several: its accuracy says
    little and its AUC is undefined (a small sample, or rows sorted by label)."""
    from seqrun.core.text import warn

    if len(class_names) < 2:
        return
    for split in ("dev", "test"):
        idx = parts.get(split)
        present = np.unique(labels[idx]) if idx is not None and len(idx) else []
        if len(present) == 1:
            warn(
                f"the {split} split holds one class ({class_names[int(present[0])]!r}) of the "
                f"data's {len(class_names)}: its accuracy says little and its AUC is undefined; "
                f"{fix}"
            )


# a table file's extension -> its format ('auto'); any other extension reads as a CSV
_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",  # the Yelp and Amazon review dumps: JSON Lines
}


def table_format(path: str | Path, fmt: str = "auto") -> str:
    """The format of a table file: ``fmt``, or for 'auto' the one its extension names."""
    if fmt != "auto":
        return fmt
    p = Path(path)
    ext = Path(p.stem).suffix.lower() if p.suffix.lower() == ".gz" else p.suffix.lower()
    return _FORMATS.get(ext, "csv")


def read_table(
    path: str,
    fmt: str = "auto",
    encoding: str = "utf-8",
    max_rows: int | None = None,
    separator: str | None = None,
    separator_key: str | None = None,
    names: list[str] | None = None,
    settable: bool = False,
) -> tuple[list[str], list[dict[str, Any]], list[int]]:
    """Columns, rows (dicts) and the line number of each row of a CSV/TSV/JSONL file (or its
    gzip-compressed ``.gz``); ``names``: the columns of a CSV/TSV without a header row.

    A BOM selects UTF-8/UTF-16 by itself; a file in another encoding than ``encoding`` is an
    error naming data.encoding and the likely one; stray undecodable bytes are replaced by
    U+FFFD, counted and reported in one warning line. ``separator`` overrides the format's
    (',' or tab); ``separator_key`` is the config key an error about it names.
    ``settable``: the data keys come from ``--set`` (a trained run's data read anew, as by
    ``seqrun evaluate --set data.path=...``): a fix says ``--set data.KEY=VALUE``.
    """
    p = Path(path).expanduser()
    if p.is_dir():
        raise UserError(
            f"{path} is a directory, not a file: give the table's path", where="data.path"
        )
    if not p.is_file():
        raise missing_path_error(path, "file")
    data = read_file_bytes(p)
    if data[:4] == PARQUET_MAGIC:
        raise UserError(
            f"{p.name} is a Parquet file, which is not read: convert it to CSV, e.g. with "
            f"pandas: pd.read_parquet('{p.name}').to_csv('{p.stem}.csv', index=False)",
            where=str(path),
        )
    shown = {"tsv": "TSV", "jsonl": "JSON Lines"}.get(table_format(p, fmt), "CSV")
    text = decode_text(data, encoding, str(path), fixed=settable, settable=settable, fmt=shown)
    if settable and separator_key:
        separator_key = f"--set {separator_key}"
    return parse_table(
        text, str(path), table_format(p, fmt), max_rows, separator, separator_key, names
    )


PARQUET_MAGIC = b"PAR1"
_QUOTED_FIELD = re.compile(r'(?:^|\t)"', re.MULTILINE)
_SEPARATORS = {",": "','", ";": "';'", "\t": "a tab", "|": "'|'"}


def parse_table(
    text: str,
    path: str,
    fmt: str,
    max_rows: int | None = None,
    separator: str | None = None,
    separator_key: str | None = None,
    names: list[str] | None = None,
) -> tuple[list[str], list[dict[str, Any]], list[int]]:
    """Columns, rows (dicts) and line numbers of a decoded CSV/TSV/JSONL text (see
    :func:`read_table`); ``names``: the columns of a CSV/TSV without a header row (data.columns).

    Tab-separated text is read with standard CSV quoting when it has quoted fields (pandas'
    ``to_csv(sep='\\t')`` quotes texts with newlines or tabs) that give every row the header's
    field count, else with quotes as plain characters (GLUE-style TSVs with unbalanced quotes).
    """
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    if fmt == "jsonl":
        columns: list[str] = []
        for n, line in enumerate(_jsonl_lines(text), start=1):
            if not line.strip():
                continue
            if not rows and line.lstrip().startswith("["):
                raise UserError(
                    "a JSON array (one document), not JSON Lines (one object per line): "
                    "convert it, e.g. with pandas: pd.read_json(path).to_json(new_path, "
                    "orient='records', lines=True)",
                    where=f"{path}:{n}",
                )
            try:
                obj = json.loads(line)
            except ValueError as e:
                raise UserError(f"not a JSON object ({e.msg})", where=f"{path}:{n}") from None
            if not isinstance(obj, dict):
                raise UserError("each line must be a JSON object", where=f"{path}:{n}")
            columns.extend(k for k in obj if k not in columns)
            rows.append(obj)
            lines.append(n)
            if max_rows and len(rows) >= max_rows:
                break
        return columns, rows, lines
    allow_long_csv_fields()  # csv's default (131,072 characters) rejects long texts
    text = stray_carriage_returns(text)
    sep = separator or ("\t" if fmt == "tsv" else ",")
    if names is not None:  # no header row: the names stand for one, the first line is data
        text = sep.join(_quote_name(n, sep) for n in names) + "\n" + text
    quoting = csv.QUOTE_MINIMAL
    plain_quotes = not _quoted_tsv(text) if sep == "\t" else _quotes_join_rows(text, sep)
    if plain_quotes:
        quoting = csv.QUOTE_NONE
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quoting=quoting)
    try:  # blank lines before the header are skipped
        header = next((r for r in reader if any(v.strip() for v in r)), None)
    except csv.Error as e:
        raise UserError(f"unreadable {fmt.upper()}: {e}", where=f"{path}:1") from None
    if header is None:
        what = "empty" if not text else "blank (only spaces and line breaks)"
        raise UserError(f"the file is {what} (no header row)", where=str(path))
    columns = [h.strip() for h in header]
    shift = 0 if names is None else 1  # the line of names put before the file's first line
    head_line = reader.line_num
    if len(columns) == 1 and not shift:
        raw = _raw_lines(text)
        first = next(
            (n for n, x in enumerate(raw[head_line:], start=head_line + 1) if x.strip()), None
        )
        other = _other_separator(raw, [head_line, first] if first else [], sep)
        if other:
            raise UserError(
                f"the header has one column ({columns[0]!r}): the separator is probably "
                f"{_SEPARATORS[other]}, not {_SEPARATORS[sep]}: "
                f"{_separator_fix(other, separator_key)}",
                where=f"{path}:{head_line}",
            )
    check_unique_names(columns, f"{path}:{head_line}")
    end = reader.line_num  # the last line read: a quoted field may span several
    try:
        for values in reader:
            start, end = end + 1, reader.line_num  # the row's first and last lines
            if not values:
                continue
            if shift:
                hint = ""
                if len(values) != len(columns):  # the file's first line, read with another sep
                    line = _raw_lines(text)[start - 1]
                    hint = _separator_hint(line, len(columns), sep, separator_key)
                where = f"{path}:{start - shift}"
                _check_headerless_row(values, columns, not rows, where, hint)
            elif len(values) > len(columns):
                raw = _raw_lines(text)
                other = _other_separator(raw, [head_line, reader.line_num], sep)
                hint = (
                    f"; the separator is probably {_SEPARATORS[other]}, not "
                    f"{_SEPARATORS[sep]}: {_separator_fix(other, separator_key)}"
                    if other
                    else _extra_fields_hint(raw[head_line - 1], values, len(columns), sep, quoting)
                )
                raise UserError(
                    f"{len(values)} fields, the header has {len(columns)}{hint}",
                    where=f"{path}:{reader.line_num}",
                )
            rows.append(dict(zip(columns, values, strict=False)))
            lines.append(start - shift)
            if max_rows and len(rows) >= max_rows:
                break
    except csv.Error as e:
        raise UserError(
            f"unreadable {fmt.upper()}: {e}", where=f"{path}:{reader.line_num - shift}"
        ) from None
    if (
        rows
        and quoting != csv.QUOTE_NONE
        and (
            lines[-1] < end - shift  # a row of several lines
            or '"' in text.rstrip("\r\n").rsplit("\n", 1)[-1]  # a last line with a quote
        )
    ):
        _check_closed_quote(text, lines[-1], end - shift, sep, str(path), shift)
    return columns, rows, lines


_STRAY_CR = re.compile(r"\r(?!\n)")


def stray_carriage_returns(text: str) -> str:
    """``text`` with each carriage return that does not end a line (one not followed by a line
    feed, in a file whose lines end in LF or CR LF) made a space: a tweet or a review pasted
    with a stray CR would otherwise be cut into two rows (the csv reader, like
    ``str.splitlines``, ends a line at a lone CR), shifting every later line number. A file
    whose lines all end in CR (classic Mac) is left as it is, and so is one with more lone CRs
    than line feeds (files of both kinds joined: its CRs end lines)."""
    if "\r" not in text or "\n" not in text:
        return text
    stray = len(_STRAY_CR.findall(text))
    return _STRAY_CR.sub(" ", text) if stray <= text.count("\n") else text


def _jsonl_lines(text: str) -> list[str]:
    """The lines of a JSON Lines text: cut at line feeds only (a JSON string may hold U+2028,
    U+0085 or a form feed written as such, which ``str.splitlines`` would cut at), CR LF line
    ends read as LF; a file of CR line ends only (classic Mac) is cut at its CRs."""
    if "\n" not in text:
        return text.split("\r")
    return [line.removesuffix("\r") for line in text.split("\n")]


def _extra_fields_hint(header: str, values: list[str], width: int, sep: str, quoting: int) -> str:
    """What a row (``values``) with more fields than the header's ``width`` suggests when no
    other separator explains it: a header written with another separator than the rows, a
    separator ending the row, or a text holding the separator without quotes."""
    fields = len(values)
    for cand in _SEPARATORS:
        if cand != sep and cand in header:
            try:
                n = len(next(csv.reader([header], delimiter=cand)))
            except (csv.Error, StopIteration):
                continue
            if n == fields:
                return (
                    f"; the header is separated by {_SEPARATORS[cand]} and this row by "
                    f"{_SEPARATORS[sep]}: write every line with one separator"
                )
    shown = _SEPARATORS.get(sep, repr(sep))
    if not any(v.strip() for v in values[width:]):
        return (
            f"; the field(s) past the header's are empty: does the row end with {shown}? "
            f"remove the separator ending the rows, or name that column in the header (a "
            f"text holding {shown} can cause it too)"
        )
    if sep == "\t" or quoting == csv.QUOTE_NONE:
        return "; a text holding a tab splits its row: replace the tabs inside texts by spaces"
    return (
        f"; a text holding {_SEPARATORS.get(sep, repr(sep))} must be in double quotes "
        '("...", a quote inside it doubled: "")'
    )


def _check_headerless_row(
    values: list[str], columns: list[str], first: bool, where: str, hint: str = ""
) -> None:
    """A UserError for a row of a file read with data.columns whose field count differs (with
    ``hint``, what explains it, instead of the advice to name every column), or for a first
    row that repeats the names (the file has a header row)."""
    if len(values) != len(columns):
        raise UserError(
            f"{len(values)} fields, data.columns names {len(columns)} "
            f"({', '.join(columns)})" + (hint or ": name every column of the file, in order"),
            where=where,
        )
    if first and [v.strip().lower() for v in values] == [c.lower() for c in columns]:
        raise UserError(
            f"the first line names the columns ({', '.join(values)}): the file has a header "
            "row, so remove data.columns",
            where=where,
        )


def _separator_hint(line: str, width: int, sep: str, key: str | None) -> str:
    """'; the separator is probably X ...' when another separator than ``sep`` splits
    ``line`` into ``width`` fields (a tab-separated .txt read as a CSV), else ''."""
    for cand in _SEPARATORS:
        if cand == sep or cand not in line:
            continue
        try:
            fields = next(csv.reader([line.rstrip("\r\n")], delimiter=cand))
        except (csv.Error, StopIteration):
            continue
        if len(fields) == width:
            return (
                f"; the separator is probably {_SEPARATORS[cand]}, not "
                f"{_SEPARATORS.get(sep, repr(sep))}: {_separator_fix(cand, key)}"
            )
    return ""


def _quote_name(name: str, sep: str) -> str:
    """A data.columns name as a header field (quoted when it holds the separator)."""
    if sep in name or '"' in name:
        return '"' + name.replace('"', '""') + '"'
    return name


def _check_closed_quote(
    text: str, start: int, end: int, sep: str, path: str, shift: int = 0
) -> None:
    """A UserError when the row from line ``start`` to the end of the file is a quote that is
    never closed (the csv reader then reads the rest of the file as one field); ``text`` holds
    ``shift`` lines before the file's first (the data.columns names)."""
    rest = "".join(_raw_lines(text)[start - 1 + shift :])
    try:
        for _ in csv.reader(io.StringIO(rest, newline=""), delimiter=sep, strict=True):
            pass
    except csv.Error as e:
        if "end of data" not in str(e):  # another strictness (text after a closing quote)
            return
        swallowed = (
            f": the {end - start + 1} lines to the end of the file would be one text"
            if end > start
            else ""
        )
        raise UserError(
            f"a quote opened on this line is never closed{swallowed}; close the quote (or "
            'double it, "", for a quote inside a quoted text)',
            where=f"{path}:{start}",
        ) from None


def _quoted_tsv(text: str) -> bool:
    """Whether tab-separated ``text`` has quoted fields that standard CSV quoting reads into
    rows of the header's field count (else quotes are plain characters).

    When quoting would join several lines into one row while every line, read with quotes
    as plain characters, already is a row of the header's field count, the quotes are plain
    characters: a GLUE-style text that starts with a quote and a later one that ends with a
    quote would otherwise swallow the rows between them.
    """
    if not _QUOTED_FIELD.search(text):
        return False
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", strict=True)
    multiline = False
    try:
        header = next(reader, None)
        if header is None:
            return False
        last = reader.line_num
        for r in reader:
            if r and len(r) != len(header):
                return False
            multiline = multiline or reader.line_num > last + 1
            last = reader.line_num
    except csv.Error:
        return False
    return not multiline or not _lines_are_rows(text, "\t", len(header))


def _quotes_join_rows(text: str, sep: str) -> bool:
    """Whether standard CSV quoting reads a row of ``text`` over several lines while every
    line, read with quotes as plain characters, already is a row of the header's field count:
    a file written without CSV quoting where a text opens a quote that it never closes (a
    tweet starting with '"') and a later text ends with one would otherwise be read as one
    field swallowing the rows between. A quote left open to the end of the file stays the
    error it was; a file that quotes fields elsewhere (a field wholly in
    quotes, as csv writers write "1" or a text holding a quote) uses CSV quoting, which
    stands."""
    if '"' not in text:
        return False
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    try:
        header = next(reader, None)
        if not header:
            return False
        last = reader.line_num
        for _ in reader:
            if reader.line_num > last + 1:
                break
            last = reader.line_num
        else:
            return False
    except csv.Error:
        return False
    try:  # a quote still open at the end of the file stays an error (_check_closed_quote)
        for _ in csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True):
            pass
    except csv.Error as e:
        if "end of data" in str(e):
            return False
    plain = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quoting=csv.QUOTE_NONE)
    for r in plain:
        if r and len(r) != len(header):
            return False
        if any(len(v) > 1 and v[0] == v[-1] == '"' for v in r):  # a quoted field
            return False
    return True


def _lines_are_rows(text: str, sep: str, width: int) -> bool:
    """Whether every non-empty line of ``text``, split at ``sep`` with quotes as plain
    characters, has ``width`` fields."""
    plain = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quoting=csv.QUOTE_NONE)
    return all(len(r) == width for r in plain if r)


def _raw_lines(text: str) -> list[str]:
    """The lines of a table as the csv reader numbers them."""
    return io.StringIO(text, newline="").readlines()


def _other_separator(all_lines: list[str], line_numbers: list[int], sep: str) -> str | None:
    """A separator other than ``sep`` that splits each of the given lines (1-based; the first
    is the header) into the same number (two or more) of fields, or None."""
    if len(line_numbers) < 2:
        return None
    if max(line_numbers) > len(all_lines):
        return None
    for cand in _SEPARATORS:
        if cand == sep:
            continue
        counts = set()
        for n in line_numbers:
            try:
                counts.add(len(next(csv.reader([all_lines[n - 1]], delimiter=cand))))
            except (csv.Error, StopIteration):
                counts.add(0)
        if len(counts) == 1 and min(counts) >= 2:
            return cand
    return None


def _separator_fix(sep: str, key: str | None) -> str:
    """How to read a table whose fields are separated by ``sep``."""
    if key and key.startswith("--set"):
        return f"add {set_option(key.removeprefix('--set '), repr(sep))}"
    if key:
        return f"set {key}: {sep!r}"
    if sep == "\t":
        return "name the file .tsv (or set data.format: tsv)"
    return "re-save it comma-separated, with '.' as the decimal point"


TABLE_EXTS = tuple(_FORMATS)  # the extensions that name a table


def read_text_inputs(
    path: Path,
    column: str | None,
    default_column: str = "text",
    encoding: str = "utf-8",
    separator: str | None = None,
    fmt: str = "auto",
    id_column: str | None = None,
    settable: bool = False,
    names: list[str] | None = None,
) -> tuple[list[dict], list[str]]:
    """(output rows, texts) of ``seqrun predict --input FILE``: one text per line, or a
    table's text column (``column``, else ``default_column``); empty ones are skipped with a
    warning. Each row names where its text is: ``line`` of the file, and a table's
    ``id_column`` value when it has one.

    A .csv/.tsv/.jsonl file (or its .gz) is a table of that format; another file is one too
    when ``fmt`` (the run's data.format) is not 'auto', else one text per line. The file is
    read as ``encoding`` (the run's data.encoding; a BOM selects UTF-8/16 by itself; a
    ``settable`` one can be changed with --set); ``separator`` (the run's data.separator)
    applies to a CSV input; ``names`` (the run's data.columns) reads a table whose first line
    does not name the text column as one without a header row.
    """
    p = Path(path)
    if p.is_dir() or not p.exists():
        hint = " (it is a directory)" if p.is_dir() else ""
        if link := broken_link(p):
            hint = f": it is {link}"
        raise UserError(f"input file not found{hint}", where=f"--input {path}")
    data = read_file_bytes(p)
    if max(data, default=0) > 127:
        try:  # valid UTF-8 with accents is UTF-8, whatever the training file's encoding
            data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            pass
    text = decode_text(data, encoding, f"--input {path}", fixed=True, settable=settable)
    ext = Path(p.stem).suffix.lower() if p.suffix.lower() == ".gz" else p.suffix.lower()
    if ext not in TABLE_EXTS and fmt == "auto":
        # standard input, a pipe, a .txt: a table when its header says so, or when each line
        # splits at a tab into the run's data.columns (a headerless TSV named .txt, as VADER's)
        name = column or default_column
        fmt = _sniffed_table(text, name, separator) or _headerless_tsv(text, names, separator)
    if ext in TABLE_EXTS or fmt != "auto":
        fmt = table_format(p) if ext in TABLE_EXTS else fmt
        columns, rows, lines = parse_table(
            text,
            str(p),
            fmt,
            separator=separator if fmt == "csv" else None,
            separator_key="--set data.separator" if settable else None,
        )
        name = column or default_column
        if name not in columns and names is not None and fmt != "jsonl":
            columns, rows, lines = parse_table(
                text, str(p), fmt, separator=separator if fmt == "csv" else None, names=names
            )
        if name not in columns:
            error = column_error(str(p), "--column", name, columns)
            if column is None and ext in TABLE_EXTS and not _looks_like_data(columns):
                error = UserError(
                    f"{error.message}; '{name}' is the run's text column: name the file's "
                    "with --column NAME",
                    where=error.where,
                )
            if ext not in TABLE_EXTS:  # read as a table because the run's data was one
                error = UserError(
                    f"{error.message}; the run's data.format is {fmt}: for a file of one "
                    "text per line, add --set data.format=auto",
                    where=error.where,
                )
            raise error
        values = [
            _scalar(r.get(name), name, "text", f"{p}:{n}") for r, n in zip(rows, lines, strict=True)
        ]
        ids = [r.get(id_column) for r in rows] if id_column in columns else None
        out = [
            {"line": n, **({"id": ids[i]} if ids else {}), "text": "" if v is None else str(v)}
            for i, (v, n) in enumerate(zip(values, lines, strict=True))
        ]
    else:
        if column is not None:  # a table's column, but the file is read line by line
            raise UserError(
                f"{path} is read as one text per line (not a .csv, .tsv or .jsonl table), "
                f"so it has no column '{column}': leave --column out, or "
                + (
                    "give the table its format's extension"
                    if ext
                    else "say its format with --set data.format=csv (tsv, jsonl)"
                ),
                where="--column",
            )
        lines = file_lines(stray_carriage_returns(text))
        out = [{"line": n, "text": t} for n, t in enumerate(lines, start=1)]
    blank = [r["line"] for r in out if not r["text"].strip()]
    if blank:
        warn(
            f"{path}: skipped {len(blank)} empty line(s)/text(s) (line {blank[0]}"
            + (" and others)" if len(blank) > 1 else ")")
        )
    out = [r for r in out if r["text"].strip()]
    if not out:
        raise UserError("no text to label in the file", where=f"--input {path}")
    return out, [r["text"] for r in out]


def _headerless_tsv(text: str, names: list[str] | None, separator: str | None) -> str:
    """'tsv' when every non-empty line of ``text`` holds one tab fewer than ``names`` (the
    run's data.columns, two or more) and the run's separator is a tab or unset; else 'auto'."""
    if not names or len(names) < 2 or separator not in (None, "\t"):
        return "auto"
    lines = [x for x in file_lines(stray_carriage_returns(text)) if x.strip()]
    if lines and all(x.count("\t") == len(names) - 1 for x in lines):
        return "tsv"
    return "auto"


def _sniffed_table(text: str, name: str, separator: str | None) -> str | None:
    """jsonl, tsv or csv when a text with no file extension to say its format (standard
    input, a pipe) is a table whose first line names the text column ``name`` (a JSON object
    with that key, or a header of several fields, one of them ``name``); None: one text per
    line."""
    first = next((line for line in text.splitlines() if line.strip()), "").strip()
    if first.startswith("{"):
        try:
            obj = json.loads(first)
        except ValueError:
            return None
        return "jsonl" if isinstance(obj, dict) and name in obj else None
    for fmt, sep in (("tsv", "\t"), ("csv", separator or ",")):
        fields = [f.strip().strip('"') for f in first.split(sep)]
        if len(fields) > 1 and name in fields:
            return fmt
    return None


SHOWN_COLUMNS = 20
"""Columns named in full by a "no column" error; the rest are counted."""


def column_error(
    path: str, key: str, name: str, columns: list[str], no_header_fix: str | None = None
) -> UserError:
    """Unknown column: name the available ones (and say so when the header looks like data,
    with ``no_header_fix`` as the advice, or a text table's)."""
    if _looks_like_data(columns):
        shown = ", ".join(_one_line(c) for c in columns)
        fix = no_header_fix or (
            f"name its {len(columns)} columns in order with data.columns (e.g. [label, "
            "text]), or add a header line"
        )
        return UserError(
            f"no column '{name}' in {path}: its first line looks like data, not column names "
            f"({shown}); the file seems to have no header row: {fix}",
            where=key,
        )
    names = [_one_line(c, None) for c in columns]
    shown = shown_names(names, SHOWN_COLUMNS, "columns") or "(none)"
    return UserError(
        f"no column '{name}' in {path}{did_you_mean(name, columns)}; available columns: {shown}",
        where=key,
    )


def _one_line(name: str, width: int | None = 40) -> str:
    """A column name (or a data field read as one) as shown in a one-line error: line breaks
    and tabs as spaces, cut to ``width`` characters (None: whole)."""
    name = " ".join(name.split()) if any(c in name for c in "\r\n\t") else name
    return name if width is None or len(name) <= width else name[: width - 3] + "..."


def _looks_like_data(columns: list[str]) -> bool:
    """Whether header names look like a data row: a long text, a text of several lines, a
    fractional number, or only numbers."""
    if not columns:
        return False
    if any("\n" in c or "\r" in c for c in columns):  # a quoted text with line breaks
        return True
    numbers = [_number(c) for c in columns]
    if all(x is not None for x in numbers):
        return True
    return any(len(c) > 40 or len(c.split()) >= 6 for c in columns) or any(
        x is not None and not x.is_integer() for x in numbers
    )


MAX_CLASSES = 1000
"""Most classes a label column may hold (more is almost always the wrong column)."""


def check_class_count(d: Any, classes: int, rows: int, numeric: bool) -> None:
    """A label column with more classes than a classifier can learn from is a UserError."""
    few = classes > 20 and classes > rows / 2  # fewer than two rows per class on average
    if classes <= MAX_CLASSES and not few:
        return
    fix = (
        "its values are numbers: set data.label_type: score and data.threshold to split them "
        "into two classes"
        if numeric
        else "check data.label_column (is it a text or id column?)"
    )
    why = f"more than {MAX_CLASSES:,}" if classes > MAX_CLASSES else "fewer than 2 rows per class"
    raise UserError(
        f"the label column '{d.label_column}' has {classes:,} distinct values in {rows:,} rows "
        f"({why}): too many classes; {fix}",
        where="data.label_column",
    )


MISSING_LABELS = NA_TEXTS
"""Label texts (compared stripped, in any case) that mean 'no label', as an empty cell does."""


def spelling_key(label: str) -> str:
    """What two spellings of one label share: its number, else its case-folded text."""
    number = _number(label)
    return repr(number) if number is not None else label.strip().casefold()


def check_label_spellings(values: list[str], lines: list[int], source: str) -> None:
    """Labels that differ only in case or in how a number is written ('pos' and 'POS', '1'
    and '1.0') are an error: each would be a class of its own. A class of one row among many
    is warned (a typo such as 'postive')."""
    from collections import Counter

    from seqrun.core.text import warn

    first: dict[str, int] = {}
    for v, n in zip(values, lines, strict=True):
        first.setdefault(v, n)
    spellings: dict[str, list[str]] = {}
    for v in first:
        spellings.setdefault(spelling_key(v), []).append(v)
    for group in spellings.values():
        if len(group) > 1:
            later = max(group, key=first.get)
            shown = " and ".join(f"{v!r} (first on line {first[v]})" for v in group)
            raise UserError(
                f"labels {shown} differ only in case or in how a number is written: they "
                "would be separate classes; write each class one way, or list every class in "
                "data.classes to keep them apart",
                where=f"{source}:{first[later]}",
            )
    counts = Counter(values)
    if len(counts) > 2 and len(values) >= 50:
        for v, k in counts.items():
            if k == 1:
                others = [c for c in counts if c != v]
                warn(
                    f"class {v!r} has a single example ({source}:{first[v]}) among "
                    f"{len(values):,}{did_you_mean(v, others)}: a typo makes a class of its own"
                )


def _missing_label(label: Any, classes: list[str] | None) -> bool:
    """Whether a raw label means 'no label': None (JSON null), a float NaN, an empty text, or
    a placeholder of :data:`MISSING_LABELS` that ``classes`` (data.classes) does not list."""
    if label is None or (isinstance(label, float) and math.isnan(label)):
        return True
    if not isinstance(label, str):
        return False
    text = label.strip()
    return not text or (text.lower() in MISSING_LABELS and text not in (classes or ()))


def _scalar(value: Any, column: str, what: str, where: str) -> Any:
    """``value`` unless it is a JSON array or object (or, for a text, a JSON boolean), which
    is a UserError naming the column."""
    if isinstance(value, bool) and what == "text":
        raise UserError(
            f"the text in column '{column}' is the JSON boolean {json.dumps(value)}, not a "
            f'string: write the text in quotes ("{json.dumps(value)}")',
            where=where,
        )
    if not isinstance(value, list | dict):
        return value
    kind = "an array" if isinstance(value, list) else "an object"
    shown = json.dumps(value, ensure_ascii=False)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    fix = (
        f"write it as {json.dumps(value[0], ensure_ascii=False)}"
        if isinstance(value, list) and len(value) == 1 and not isinstance(value[0], list | dict)
        else f"give each row one {what}"
    )
    noun = "a string or a number" if what == "label" else "a single text"
    raise UserError(
        f"the {what} in column '{column}' is {kind} ({shown}), not {noun}: {fix}", where=where
    )


def warn_numeric_texts(
    texts: list[str], rows: list[dict[str, Any]], columns: list[str], column: str, source: str
) -> None:
    """A warning when every text is a number (an id or score column read as the texts, e.g.
    swapped columns), naming the column whose values are the longest words instead."""
    from seqrun.core.text import warn

    if len(texts) < 10 or any(_number(t) is None for t in texts):
        return
    sample = rows[:500]
    lengths = {
        c: sum(len(str(r.get(c) or "")) for r in sample)
        for c in columns
        if c != column and any(_number(r.get(c)) is None for r in sample if r.get(c) is not None)
    }
    longest = max(lengths, key=lengths.__getitem__, default=None)
    hint = ""
    if longest and lengths[longest] >= 20 * len(sample):  # 20 characters a row: sentences
        hint = f" (column '{longest}' holds the longest values)"
    warn(
        f"{source}: every text of column '{column}' is a number (e.g. {texts[0]!r}, "
        f"{texts[-1]!r}): is it an id or score column? Name the texts' column with "
        f"data.text_column{hint}"
    )


def _number(value: Any) -> float | None:
    """A label as a finite number, or None (texts, empty cells, nan, inf)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        x = float(value)
    else:
        try:
            x = float(str(value).strip())
        except ValueError:
            return None
    return x if math.isfinite(x) else None


class TextTableAdapter:
    """Texts and labels from a CSV / TSV / JSONL table (names or thresholded scores)."""

    Config = TextTableConfig
    default_encoder = {"type": "multi_hot"}
    default_metrics = "classification"
    data_module = TextData
    provides = "text"
    fold_scheme = "stratified"
    sequence_outputs = False
    #: what ``seqrun predict --set`` may change: how a new file is written
    predict_keys = ("data.format", "data.separator", "data.encoding", "data.text_column")

    def __init__(self, section: Any, options: LoadOptions | None = None) -> None:
        self.data_cfg: TextTableConfig = section
        self.options = options or LoadOptions()

    @classmethod
    def check_config(cls, cfg: Any) -> tuple[str, str] | None:
        """Nothing beyond the generic checks."""
        return None

    @classmethod
    def input_size(cls, section: TextTableConfig) -> InputSize:
        """Nothing known before the table is read: the encoder decides the input."""
        return InputSize()

    @classmethod
    def memory(cls, section: TextTableConfig, size: InputSize) -> list[MemoryItem]:
        """Nothing known before the table is read."""
        return []

    def read_inputs(self, path: Path, column: str | None = None) -> tuple[list[dict], list[str]]:
        """Texts to predict from a file (default column: ``data.text_column``), read with the
        run's data.encoding, data.separator and data.format."""
        d = self.data_cfg
        return read_text_inputs(
            path,
            column,
            d.text_column,
            d.encoding,
            d.separator,
            fmt=d.format,
            id_column=d.id_column,
            settable=True,
            names=d.columns,
        )

    def load(self, splits: tuple[str, ...] = ("train", "dev")) -> TextData:
        """Read the table, turn labels into classes, split; keep only the requested splits."""
        d = self.data_cfg
        source = d.source
        columns, rows, lines = read_table(
            source,
            d.format,
            d.encoding,
            d.max_rows,
            d.separator,
            "data.separator",
            d.columns,
            settable=self.options.command_line,  # seqrun evaluate --set data.path=...
        )
        for key, name in (
            ("data.text_column", d.text_column),
            ("data.label_column", d.label_column),
            ("data.id_column", d.id_column),
        ):
            if name is not None and name not in columns:
                raise column_error(source, key, name, columns)
        if d.split.method == "column" and d.split.column not in columns:
            raise column_error(source, "data.split.column", d.split.column, columns)

        texts: list[str] = []
        raw_labels: list[Any] = []
        keep_lines: list[int] = []
        row_ids: list[Any] = []
        split_values: list[str] = []
        empty, unlabelled = [], []
        placeholders: set[str] = set()
        for row, n in zip(rows, lines, strict=True):
            text = _scalar(row.get(d.text_column), d.text_column, "text", f"{source}:{n}")
            text = "" if text is None else str(text)
            if not text.strip():
                empty.append(n)
                continue
            label = _scalar(row.get(d.label_column), d.label_column, "label", f"{source}:{n}")
            if _missing_label(label, d.classes):
                unlabelled.append(n)
                if isinstance(label, str) and label.strip():
                    placeholders.add(label.strip())
                continue
            texts.append(text)
            raw_labels.append(label)
            keep_lines.append(n)
            row_ids.append(row.get(d.id_column) if d.id_column else n)
            if d.split.method == "column":
                split_values.append(str(row.get(d.split.column, "")).strip().lower())
        for what, found in (("empty text", empty), ("no label", unlabelled)):
            if found:
                shown = ", ".join(map(str, found[:5])) + (", ..." if len(found) > 5 else "")
                hint = ""
                if what == "no label" and placeholders and d.label_type != "score":
                    names = ", ".join(repr(x) for x in sorted(placeholders))
                    hint = (
                        f"; {names} read as missing (to keep such a label as a class, list it "
                        "in data.classes)"
                    )
                warn(f"{source}: dropped {len(found)} row(s) with {what} (lines {shown}){hint}")
        if not texts:
            raise UserError(
                f"no row with a non-empty '{d.text_column}' and '{d.label_column}'",
                where=f"data.path {source}",
            )
        warn_numeric_texts(texts, rows, columns, d.text_column, source)

        labels, class_names, keep, score_range = self._classes(raw_labels, keep_lines)
        ties = 0
        if keep is not None:
            ties = len(keep) - sum(keep)
            if "ties" not in d.model_fields_set:  # a config that says ties: drop knows it
                warn(
                    f"{source}: dropped {ties} row(s) whose score equals data.threshold "
                    f"({d.threshold:g}) (data.ties is drop; set data.ties: negative or "
                    "positive to keep them)"
                )
            texts = [t for t, k in zip(texts, keep, strict=True) if k]
            row_ids = [r for r, k in zip(row_ids, keep, strict=True) if k]
            if split_values:
                split_values = [s for s, k in zip(split_values, keep, strict=True) if k]
        present = np.unique(labels)
        if len(present) < 2:
            only = class_names[int(present[0])] if len(present) else "none"
            message = (
                f"the label column '{d.label_column}' has one class ({only!r}) in {len(labels)} "
                "rows; a classifier needs at least two"
            )
            where = "data.label_column"
            if score_range is not None:
                lo, hi = score_range
                message += (
                    f": its values were read as scores split at data.threshold={d.threshold:g} "
                    f"(values range {lo:g}..{hi:g}); set data.threshold inside that range, or "
                    "data.label_type: names if each value is a class"
                )
                where = "data.threshold"
            raise UserError(message, where=where)

        parts = self._parts(labels, split_values)
        check_train_classes(labels[parts["train"]], class_names, d.split.method)
        fix = "use more rows, or a larger share for that split (data.split)"
        if d.max_rows:
            fix += f"; data.max_rows reads the first {d.max_rows} rows of the file"
        warn_one_class_splits(labels, parts, class_names, fix)
        out = {}
        for name in splits:
            idx = parts[name]
            if len(idx) == 0:
                why = ""
                if name == "test" and d.split.kfold:
                    why = (
                        " (data.split.test is 0: the k folds cover every row and each "
                        "held-out fold, the dev split, is the evaluation set)"
                    )
                raise UserError(
                    f"the {name} split is empty ({len(labels)} rows){why}; adjust data.split",
                    where="data.split",
                )
            out[name] = TextSplit(
                labels=labels[idx],
                texts=[texts[i] for i in idx],
                row_ids=[row_ids[i] for i in idx],
            )
        data = TextData(out, class_names, report_errors=d.report_errors, source=d.sample or source)
        data.load_report = {
            "rows_read": len(rows),
            "rows_dropped": {"empty_text": len(empty), "no_label": len(unlabelled), "ties": ties},
        }
        # the leakage check compares loaded splits with the others by hash only: the table is
        # read whole anyway, so hashing the rows of an unloaded split (test, at train time)
        # costs milliseconds and never scores them
        for name, idx in parts.items():
            if name not in out and len(idx):
                data.other_digests[name] = [text_digest(texts[i]) for i in idx]
                # its hash goes into meta.json too, so that `seqrun evaluate` notices a file
                # changed since training (rows added or edited move rows between splits)
                unloaded = TextSplit(labels=labels[idx], texts=[texts[i] for i in idx])
                data.split_fingerprints[name] = text_fingerprint({name: unloaded})
        return data

    def _parts(self, labels: np.ndarray, split_values: list[str]) -> dict[str, np.ndarray]:
        """Row indices of each split (fixed fractions, the split column, or one k-fold fold)."""
        s = self.data_cfg.split
        if s.method == "column":
            parts = self._column_split(split_values)
        elif s.kfold:
            whole = s.train + s.dev if abs(s.train + s.dev + s.test - 1) <= 1e-6 else 1 - s.test
            parts = fraction_parts(labels, s.method, (whole, 0.0), s.seed)
        else:
            return fraction_parts(labels, s.method, (s.train, s.dev), s.seed)
        if s.kfold:
            pool = np.concatenate([parts["train"], parts["dev"]])
            return fold_parts(labels, pool, parts["test"], s)
        return parts

    def _classes(
        self, raw: list[Any], lines: list[int]
    ) -> tuple[np.ndarray, list[str], list[bool] | None, tuple[float, float] | None]:
        """Class ids, class names, the rows kept (None: all) and, when the labels were read
        as scores, their (min, max) (else None), from the raw labels."""
        d = self.data_cfg
        numbers = [_number(v) for v in raw]
        kind = d.label_type
        if kind == "auto":
            numeric = all(x is not None for x in numbers)
            odd = [i for i, x in enumerate(numbers) if x is None]
            if odd and len(odd) <= 0.1 * len(numbers):  # a score column with a few non-numbers
                i = odd[0]
                raise UserError(
                    f"label {raw[i]!r} in column '{d.label_column}' is not a number, while "
                    f"{len(numbers) - len(odd):,} of {len(numbers):,} labels are "
                    f"({len(odd)} such row(s)); fix or remove those rows, or set "
                    "data.label_type: names if each value is a class name",
                    where=f"{d.source}:{lines[i]}",
                )
            few = [i for i, x in enumerate(numbers) if x is not None]
            if odd and few and len(few) <= 0.1 * len(numbers):  # names with a few numbers
                i = few[0]
                raise UserError(
                    f"label {raw[i]!r} in column '{d.label_column}' is a number, while "
                    f"{len(odd):,} of {len(numbers):,} labels are names ({len(few)} such "
                    "row(s)): two labelings mixed? Fix or remove those rows, or set "
                    "data.label_type: names if each value is a class",
                    where=f"{d.source}:{lines[i]}",
                )
            classes = numeric and all(x.is_integer() for x in numbers)
            kind = "names" if not numeric or (classes and len(set(numbers)) <= 20) else "score"
        if kind == "score":
            for x, v, n in zip(numbers, raw, lines, strict=True):
                if x is None:
                    raise UserError(
                        f"label {v!r} is not a number (data.label_type is score)",
                        where=f"{d.source}:{n}",
                    )
            names = list(d.classes) if d.classes else ["negative", "positive"]
            if len(names) != 2:
                raise UserError(
                    "with scores, data.classes names exactly two classes", where="data.classes"
                )
            x = np.asarray(numbers, dtype=np.float64)
            labels = (x > d.threshold).astype(np.int64)
            tie = x == d.threshold
            keep = None
            if tie.any():
                if d.ties == "drop":
                    keep = (~tie).tolist()
                    labels = labels[~tie]
                else:
                    labels[tie] = 1 if d.ties == "positive" else 0
            return labels, names, keep, (float(x.min()), float(x.max()))
        whole = all(
            x is not None and x.is_integer() and not isinstance(v, bool)
            for x, v in zip(numbers, raw, strict=True)
        )
        if d.label_type == "auto" and whole:
            values = [str(int(x)) for x in numbers]  # 1 and 1.0 (or +1) are one class: '1'
        else:
            values = [
                str(v).strip() if not isinstance(v, float) or not v.is_integer() else str(int(v))
                for v in raw
            ]
        if d.classes:
            names = list(d.classes)
            if len(set(names)) != len(names):
                raise UserError(f"data.classes names a class twice: {names}", where="data.classes")
            index = {c: i for i, c in enumerate(names)}
            for v, n in zip(values, lines, strict=True):
                if v not in index:
                    raise UserError(
                        f"label {v!r} is not one of data.classes ({', '.join(names)})",
                        where=f"{d.source}:{n}",
                    )
        else:
            names = class_order(values)
            index = {c: i for i, c in enumerate(names)}
            check_class_count(d, len(names), len(values), numeric=None not in numbers)
            check_label_spellings(values, lines, d.source)
        return np.asarray([index[v] for v in values], dtype=np.int64), names, None, None

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
