"""Long-format tables of sequences: one row per time step (CSV/TSV, optionally gzip).

Each row carries a sequence id, an order value (time or step), feature values and the
sequence's label (or regression target), which must be the same on every row of a sequence.
Rows of a sequence need not be contiguous; they are sorted by the order column (numbers when
every value is one, else as text, which sorts ISO 8601 times).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from seqrun.core.errors import UserError
from seqrun.data.ts_format import MISSING, SequenceSet


def _float(value: Any) -> float:
    if value is None:
        return math.nan
    text = str(value).strip()
    if text.lower() in MISSING:
        return math.nan
    return float(text)


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
) -> SequenceSet:
    """The sequences of a long table; ``label_column=None`` reads unlabelled inputs."""
    from seqrun.data.text_table import column_error, read_table

    name = str(path)
    columns, rows, lines = read_table(name, fmt, encoding)
    keys = [("data.id_column", id_column)]
    if order_column:
        keys.append(("data.order_column", order_column))
    if label_column:
        keys.append(("data.label_column", label_column))
    if split_column:
        keys.append(("data.split.column", split_column))
    for key, col in keys:
        if col not in columns:
            raise column_error(name, key, col, columns)
    used = {c for _, c in keys}
    features = list(feature_columns) if feature_columns else [c for c in columns if c not in used]
    for col in features:
        if col not in columns:
            raise column_error(name, "data.feature_columns", col, columns)
    if not features:
        raise UserError(
            f"no feature column left in {name} (columns: {', '.join(columns)})",
            where="data.feature_columns",
        )
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        sid = str(row.get(id_column, "")).strip()
        if not sid:
            raise UserError(
                f"empty sequence id in column '{id_column}'", where=f"{name}:{lines[i]}"
            )
        groups.setdefault(sid, []).append(i)
    series, labels, ids, starts, split_values = [], [], [], [], []
    for sid, idx in groups.items():
        first = lines[idx[0]]
        if order_column:
            raw = [str(rows[i].get(order_column, "")).strip() for i in idx]
            try:
                keyvals: list[Any] = [float(v) for v in raw]
            except ValueError:
                keyvals = raw
            idx = [i for _, i in sorted(zip(keyvals, idx, strict=True), key=lambda t: t[0])]
        values = np.empty((len(idx), len(features)), dtype=np.float32)
        for r, i in enumerate(idx):
            for c, col in enumerate(features):
                try:
                    values[r, c] = _float(rows[i].get(col))
                except ValueError:
                    raise UserError(
                        f"value {str(rows[i].get(col))[:40]!r} in column '{col}' is not a number "
                        "(missing values: empty, ? or NaN)",
                        where=f"{name}:{lines[i]}",
                    ) from None
        label: Any = None
        if label_column:
            seen = {}
            for i in sorted(idx, key=lambda i: lines[i]):
                v = str(rows[i].get(label_column, "")).strip()
                seen.setdefault(v, lines[i])
                if len(seen) > 1:
                    (a, la), (b, lb) = list(seen.items())[:2]
                    raise UserError(
                        f"sequence '{sid}' changes its label within the sequence: {a!r} (line "
                        f"{la}) then {b!r}; a label (or target) must be constant within a sequence",
                        where=f"{name}:{lb}",
                    )
            label = next(iter(seen))
            if not label:
                raise UserError(f"sequence '{sid}' has no label", where=f"{name}:{first}")
            if regression:
                try:
                    label = float(label)
                except ValueError:
                    label = math.nan
                if not math.isfinite(label):
                    raise UserError(
                        f"target of sequence '{sid}' is not a finite number",
                        where=f"{name}:{first}",
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
    return SequenceSet(
        series=series,
        labels=labels,
        ids=ids,
        lines=starts,
        channels=features,
        source=name,
        regression=regression,
        split_values=split_values or None,
    )
