"""Long-format tables of sequences: one row per time step (CSV/TSV, optionally gzip).

Each row carries a sequence id, an order value (time or step), feature values and the
sequence's label (or regression target), which must be the same on every row of a sequence.
Rows of a sequence need not be contiguous; they are sorted by the order column, which holds
numbers (step numbers or seconds) or ISO 8601 times (what its first row holds decides which),
each once per sequence; another value (``t10``, ``01/02/2024``), an empty one or a repeated
one is an error. An empty cell, ``?``, ``NaN``, ``NA``, ``N/A`` or ``null`` is a missing value
(what R's ``write.csv`` and pandas write); an infinite value, or one beyond float32's range
(about ±3.4e38), is an error.

Files in another layout get a one-line error saying which: the UCR archive's ``.tsv`` (no
header, one series per row), ARFF, or a CSV separated by ``;`` or tabs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from seqrun.core.errors import UserError
from seqrun.core.text import NA_TEXTS
from seqrun.data.ts_format import (
    ARFF_HELP,
    MISSING,
    MISSING_HELP,
    SequenceSet,
    infinite_text,
    target_problem,
)


def _text(value: Any) -> str:
    """A cell as stripped text (a missing cell of a short row: empty)."""
    return "" if value is None else str(value).strip()


def _float(value: Any) -> float:
    if value is None:
        return math.nan
    text = str(value).strip()
    if text.lower() in MISSING:
        return math.nan
    return float(text)


#: what an order-column error suggests
_ORDER_FIX = (
    "write step numbers (0, 1, 2, ...) or ISO 8601 times (e.g. 2024-01-31T06:00:00) in every "
    "row, or set data.order_column: null to keep the rows in file order"
)


def _check_order_given(text: str, column: str, where: str) -> None:
    """A UserError when an order value is empty or a missing-value token."""
    if text.lower() in MISSING:
        what = "is empty" if not text else f"holds {text!r}, a missing value"
        raise UserError(
            f"order column '{column}' {what}: every row needs its place in its sequence; "
            + _ORDER_FIX,
            where=where,
        )


def _order_number(text: str, column: str, where: str, first: str) -> float:
    """An order value as a finite number, or a UserError (``first`` says what the first row
    holds)."""
    _check_order_given(text, column, where)
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise UserError(
            f"order column '{column}' holds {text[:40]!r}, not a number ({first}); " + _ORDER_FIX,
            where=where,
        )
    return value


def _order_times(texts: list[str]) -> list[int | None]:
    """ISO 8601 times as nanoseconds since 1970 UTC (a time without an offset is UTC); None
    for a value that is not one."""
    import pandas as pd

    times = pd.to_datetime(
        pd.Series(texts, dtype=object), format="ISO8601", utc=True, errors="coerce"
    )
    return [None if pd.isna(t) else int(t.value) for t in times]


def _order_kind(text: str, column: str, where: str) -> str:
    """'number' or 'time': what the first row's order value reads as (a UserError if neither)."""
    _check_order_given(text, column, where)
    if _is_number(text) and math.isfinite(float(text)):
        return "number"
    if _order_times([text])[0] is not None:
        return "time"
    raise UserError(
        f"order column '{column}' holds {text[:40]!r}, neither a number nor an ISO 8601 time; "
        + _ORDER_FIX,
        where=where,
    )


def _ordered(
    sid: str,
    idx: list[int],
    texts: list[str],
    times: list[int | None] | None,
    lines: list[int],
    column: str,
    name: str,
    kinds: Any = None,
) -> list[int]:
    """The rows ``idx`` of sequence ``sid`` sorted by the order column (``texts``, one per row
    of the file; ``times``: their times when the first row holds a time, else None): a
    UserError for an empty value, one of another kind than the first row's, or a repeat
    (``kinds``: :func:`_kind_hint`'s function, which explains a repeat in tsfresh's layout)."""
    first = f"line {lines[0]} holds {texts[0][:40]!r}"
    pairs: list[tuple[float | int, int]] = []
    for i in idx:
        where = f"{name}:{lines[i]}"
        if times is None:
            pairs.append((_order_number(texts[i], column, where, first), i))
            continue
        _check_order_given(texts[i], column, where)
        t = times[i]
        if t is None:
            raise UserError(
                f"order column '{column}' holds {texts[i][:40]!r}, not an ISO 8601 time "
                f"({first}); " + _ORDER_FIX,
                where=where,
            )
        pairs.append((t, i))
    pairs.sort(key=lambda p: p[0])  # stable: equal values keep the file's order
    for (a, i), (b, j) in zip(pairs, pairs[1:], strict=False):
        if a == b:
            head = (
                f"sequence '{sid}' has {column} {texts[j][:40]!r} twice (lines {lines[i]} and "
                f"{lines[j]})"
            )
            kind = kinds(i, j) if kinds is not None else None
            if kind is not None:
                raise UserError(head + kind, where=f"{name}:{lines[j]}")
            raise UserError(
                head + f": a sequence has one row per value of order column '{column}'; "
                "drop the repeated row, or give the two sequences different ids",
                where=f"{name}:{lines[j]}",
            )
    return [i for _, i in pairs]


def _kind_hint(
    rows: list[dict[str, Any]], columns: list[str], id_column: str, order_column: str, label: str
) -> Any:
    """A function of two rows with the same id and order value: the end of the error message
    when a text column tells them apart (tsfresh's/sktime's long layout ``id, time, kind,
    value``: one row per id, time and channel), else None."""

    def hint(i: int, j: int) -> str | None:
        for col in columns:
            a, b = _text(rows[i].get(col)), _text(rows[j].get(col))
            if a == b or _is_number(a) or _is_number(b) or a.lower() in MISSING:
                continue
            values = [c for c in columns if c not in (id_column, order_column, col, label)]
            value = values[0] if len(values) == 1 else "value"
            index = ", ".join(repr(c) for c in (id_column, order_column, label) if c)
            return (
                f", with {col} {a[:40]!r} and {b[:40]!r}: this is the long layout of "
                f"tsfresh/sktime (one row per id, time and {col}), not one row per step; pivot "
                f"it to one column per {col}, e.g. with pandas: df.pivot_table(index=[{index}], "
                f"columns={col!r}, values={value!r}).reset_index().to_csv(path, index=False)"
            )
        return None

    return hint


def _unnamed(column: str) -> bool:
    """Whether a header cell names no column: empty, or pandas' ``Unnamed: 0``."""
    text = column.strip()
    return not text or (text.startswith("Unnamed: ") and text[9:].isdigit())


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _warn_short_rows(
    rows: list[dict[str, Any]], lines: list[int], columns: list[str], name: str
) -> None:
    """One warning for rows with fewer fields than the header (their missing cells are
    read as missing values): a hand-edited row, or a file cut short."""
    width = len(set(columns))  # a row is a dict: columns without a name share one key
    short = [n for r, n in zip(rows, lines, strict=True) if len(r) < width]
    if short:
        from seqrun.core.text import warn

        fields = len(rows[lines.index(short[0])]) + len(columns) - width
        warn(
            f"{name}: {len(short)} row(s) have fewer fields than the header's {len(columns)} "
            f"(the first on line {short[0]}, {fields} field(s)): their missing cells are read "
            "as missing values; check those lines (a file cut short ends so)"
        )


def _groups(
    rows: list[dict[str, Any]], lines: list[int], id_column: str, name: str
) -> dict[str, list[int]]:
    """The row indices of each sequence id, in first-seen order.

    An empty id is an error. A missing-value word (NA, nan, null, ...) is an error too in a
    column whose other ids are all numbers (a missing number there, as R and pandas write
    one), else a literal id, warned once. Ids that are one number written two ways (3 and
    3.0) are an error: they would be two sequences.
    """
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        sid = _text(row.get(id_column))
        if not sid:
            raise UserError(
                f"empty sequence id in column '{id_column}': every row needs the id of its "
                "sequence",
                where=f"{name}:{lines[i]}",
            )
        groups.setdefault(sid, []).append(i)
    words = [sid for sid in groups if sid.lower() in NA_TEXTS]
    if words:
        others = [sid for sid in groups if sid.lower() not in NA_TEXTS]
        line = lines[groups[words[0]][0]]
        if others and all(_is_number(sid) for sid in others):
            raise UserError(
                f"sequence id {words[0]!r} in column '{id_column}' is a missing value among "
                "numeric ids (R and pandas write NA or nan for a missing number): every row "
                "needs the id of its sequence",
                where=f"{name}:{line}",
            )
        from seqrun.core.text import warn

        warn(
            f"{name}:{line}: sequence id {words[0]!r} in column '{id_column}' is read as an "
            "id (the other ids are text); if it marks a missing id, write the row's id"
        )
    numbers: dict[float, str] = {}
    for sid, idx in groups.items():
        if not _is_number(sid) or sid.lower() in NA_TEXTS:
            continue
        other = numbers.setdefault(float(sid), sid)
        if other != sid:
            raise UserError(
                f"sequence ids {other!r} (line {lines[groups[other][0]]}) and {sid!r} are one "
                "number written two ways: they would be two sequences; write each id one way",
                where=f"{name}:{lines[idx[0]]}",
            )
    return groups


def layout_problem(columns: list[str]) -> str | None:
    """What is wrong with a header row that shows another layout than a long table (UCR
    ``.tsv``, ARFF), or None (another separator is named by the table reader itself)."""
    first = columns[0].strip().lower() if columns else ""
    if first.startswith(("@relation", "@attribute", "@data", "%")):
        return ARFF_HELP
    if len(columns) >= 2 and all(_is_number(c) for c in columns):
        return (
            f"the first row is all numbers ({len(columns)} of them), not a header: this looks "
            "like the UCR archive's .tsv/.csv layout (no header, the label first, one series per "
            "row), which is not supported; use the archive's .ts file of the problem, or a long "
            "table with a header (id, step, value columns, label)"
        )
    return None


def _first_row(name: str, fmt: str, encoding: str) -> list[str]:
    """The first non-empty line of a table split at its separator (for error messages; []
    when the file does not decode: the reader's own error says why)."""
    from seqrun.core.text import decode_text, read_file_bytes

    try:
        text = decode_text(read_file_bytes(Path(name)), encoding, name)
    except UserError:
        return []
    for line in text.splitlines():
        if line.strip():
            return line.split("\t" if fmt == "tsv" else ",")
    return []


def _no_header_fix(inputs: bool) -> str:
    """What to do about a long table without a header row (it has no data.columns key; a
    predict input, ``inputs``, takes the training file's header)."""
    if inputs:
        return "add the training file's header line (its id, order and channel column names)"
    return "add a header line (id, step, value columns, label)"


def read_long_csv(
    path: str | Path,
    id_column: str,
    order_column: str | None,
    feature_columns: list[str] | None,
    label_column: str | None,
    regression: bool = False,
    split_column: str | None = None,
    encoding: str = "utf-8",
    max_series: int | None = None,
    fmt: str = "auto",
    inputs: bool = False,
    ignore: tuple[str, ...] = (),
    classes: list[str] | None = None,
    settable: bool = False,
) -> SequenceSet:
    """The sequences of a long table; ``label_column=None`` reads unlabelled inputs;
    ``settable``: the data keys come from ``--set`` (a trained run's, as in ``seqrun
    predict``/``evaluate``), which an encoding fix names.

    A label cell holding a missing-value word (NA, NaN, null, ...) is empty, as in text
    tables, unless ``classes`` (data.classes) lists it. An empty id is an error; an id
    holding a missing-value word is one too in a column of numeric ids (R and pandas write
    NA or nan for a missing number), and a literal id (warned once) among text ids.

    ``inputs=True`` (new inputs for ``seqrun predict``): every column but the id, order and
    ``ignore`` columns is read, and a column holding text (or an infinite value) is left out of
    the channels and noted in ``text_columns`` instead of being an error (the run's channels
    are picked by name later).
    """
    from seqrun.core.text import shown_names
    from seqrun.data.text_table import column_error, read_table

    name = str(path)
    try:
        columns, rows, lines = read_table(name, fmt, encoding, settable=settable)
    except UserError:
        problem = layout_problem(_first_row(name, fmt, encoding))
        if problem:
            raise UserError(problem, where=name) from None
        raise
    problem = layout_problem(columns)
    if problem:
        raise UserError(problem, where=name)
    keys = [("data.id_column", id_column)]
    if order_column:
        keys.append(("data.order_column", order_column))
    if label_column:
        keys.append(("data.label_column", label_column))
    if split_column:
        keys.append(("data.split.column", split_column))
    for key, col in keys:
        if col not in columns:
            raise column_error(name, key, col, columns, _no_header_fix(inputs))
    used = {c for _, c in keys}
    # a column without a name: a spreadsheet's empty trailing column, or the row index that
    # pandas' to_csv writes first (read back and written again: 'Unnamed: 0')
    unnamed = [c for c in columns if _unnamed(c) and c not in used]
    if inputs:
        features = [c for c in columns if c not in used and c not in ignore and c not in unnamed]
    elif feature_columns:
        features = list(feature_columns)
    else:
        features = [c for c in columns if c not in used and c not in unnamed]
        if unnamed:
            from seqrun.core.text import warn

            at = ", ".join(str(k + 1) for k, c in enumerate(columns) if c in unnamed)
            warn(
                f"{name}: column(s) {at} have no header name (a spreadsheet's empty columns, "
                "or the row index pandas' to_csv writes) and are not read as features; to read "
                "one, give it a name in the header"
            )
    for col in features:
        if col not in columns:
            raise column_error(name, "data.feature_columns", col, columns, _no_header_fix(inputs))
    if not features:
        raise UserError(
            f"no feature column left in {name} (columns: {shown_names(columns)})",
            where="data.feature_columns",
        )
    _warn_short_rows(rows, lines, columns, name)
    text_columns: dict[str, tuple[str, str]] = {}
    groups = _groups(rows, lines, id_column, name)
    order: list[str] = []
    times: list[int | None] | None = None
    if order_column:
        order = [_text(row.get(order_column)) for row in rows]
        if rows and _order_kind(order[0], order_column, f"{name}:{lines[0]}") == "time":
            times = _order_times(order)
    series, labels, ids, starts, split_values = [], [], [], [], []
    kinds = (
        _kind_hint(rows, columns, id_column, order_column, label_column or "")
        if order_column
        else None
    )
    for sid, idx in groups.items():
        first = lines[idx[0]]
        if order_column:
            idx = _ordered(sid, idx, order, times, lines, order_column, name, kinds)
        values = np.empty((len(idx), len(features)), dtype=np.float32)
        with np.errstate(over="ignore"):  # beyond float32's range: inf, an error below
            for r, i in enumerate(idx):
                for c, col in enumerate(features):
                    try:
                        values[r, c] = _float(rows[i].get(col))
                    except ValueError:
                        message = (
                            f"value {str(rows[i].get(col))[:40]!r} in column '{col}' is not a "
                            f"number (missing values: empty, {MISSING_HELP})"
                        )
                        if not inputs:
                            raise UserError(message, where=f"{name}:{lines[i]}") from None
                        text_columns.setdefault(col, (f"{name}:{lines[i]}", message))
                        values[r, c] = math.nan
        for r, c in np.argwhere(np.isinf(values)).tolist():
            col, i = features[c], idx[r]
            text = _text(rows[i].get(col))
            message = f"value {text[:40]!r} in column '{col}' is " + infinite_text(
                text, f"an empty cell or {MISSING_HELP}"
            )
            if not inputs:
                raise UserError(message, where=f"{name}:{lines[i]}")
            text_columns.setdefault(col, (f"{name}:{lines[i]}", message))
        label: Any = None
        if label_column:
            seen = {}
            for i in sorted(idx, key=lambda i: lines[i]):
                v = _text(rows[i].get(label_column))
                if not v or (v.lower() in NA_TEXTS and v not in (classes or ())):
                    continue  # the label written on some rows only (e.g. the first): theirs
                if regression and _is_number(v):  # 2.5 and 2.50 are one target
                    v = next((k for k in seen if _is_number(k) and float(k) == float(v)), v)
                seen.setdefault(v, lines[i])
                if len(seen) > 1:
                    (a, la), (b, lb) = list(seen.items())[:2]
                    raise UserError(
                        f"sequence '{sid}' changes its label within the sequence: {a!r} (line "
                        f"{la}) then {b!r}; a label (or target) must be constant within a sequence",
                        where=f"{name}:{lb}",
                    )
            if not seen:
                words = sorted(
                    {_text(rows[i].get(label_column)) for i in idx} - {""}, key=str.lower
                )
                kept = (
                    f" ({', '.join(map(repr, words))} is read as a missing value; to keep it as "
                    "a class, list every class in data.classes)"
                    if words and not regression
                    else ""
                )
                raise UserError(
                    f"sequence '{sid}' has no label: column '{label_column}' is empty on each "
                    f"of its rows{kept}; write its label (or target) on its rows, or leave the "
                    "sequence out",
                    where=f"{name}:{first}",
                )
            label = next(iter(seen))
            if regression:
                try:
                    label = float(label)
                except ValueError:
                    label = math.nan
                problem = target_problem(label)
                if problem:
                    raise UserError(
                        f"target of sequence '{sid}' {problem}", where=f"{name}:{first}"
                    )
        if split_column:
            vals = {str(rows[i].get(split_column, "")).strip().lower() for i in idx}
            if len(vals) > 1:
                raise UserError(
                    f"sequence '{sid}' has rows in several splits ({', '.join(sorted(vals))})",
                    where=f"{name}:{first}",
                )
            split_values.append(vals.pop())
        series.append(values)
        labels.append(label)
        ids.append(sid)
        starts.append(first)
        if max_series and len(series) >= max_series:
            break
    if not series:
        raise UserError("no sequence in the file (no data row)", where=name)
    if not inputs and len(series) > 1 and all(len(x) == 1 for x in series):
        raise UserError(
            f"every sequence has a single row ({len(series)} ids in column '{id_column}', one "
            "row each): a sequence needs one row per step. If each row is a whole series with "
            "a column per step (a wide table), reshape it to one row per step, e.g. with "
            f"pandas: df.melt(id_vars=['{id_column}', '{label_column}'], var_name='step'); if "
            "the rows of a sequence carry different ids, set data.id_column to the column "
            "naming the sequence",
            where=name,
        )
    if text_columns:  # inputs: keep the numeric columns only
        keep = [c for c, col in enumerate(features) if col not in text_columns]
        series = [s[:, keep] for s in series]
        features = [features[c] for c in keep]
    return SequenceSet(
        series=series,
        labels=labels,
        ids=ids,
        lines=starts,
        channels=features,
        source=name,
        regression=regression,
        split_values=split_values or None,
        text_columns=text_columns,
    )
