"""Sequences from a NumPy ``.npz`` archive.

``x`` is (N, T, F) or (N, T) (one channel), cut to ``lengths[i]`` steps when ``lengths`` is
given; or the ragged layout without pickles: ``x`` of shape (sum of lengths, F) with
``lengths`` (N); or an object array of (T_i, F) arrays (needs ``data.allow_pickle: true``:
unpickling runs code from the file). ``y`` holds class names or ids (classification) or
numbers (regression); an optional ``classes`` array names class ids in order, optional ``ids``
name the sequences.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from seqrun.core.errors import UserError
from seqrun.data.ts_format import SequenceSet


def read_npz(
    path: str | Path,
    regression: bool = False,
    labelled: bool = True,
    allow_pickle: bool = False,
    max_series: int | None = None,
) -> SequenceSet:
    """The sequences of an ``.npz`` file (keys ``x``, ``y``, optional ``lengths``, ``classes``,
    ``ids``)."""
    name = str(path)
    try:
        archive = np.load(path, allow_pickle=allow_pickle)
        arrays = {k: archive[k] for k in archive.files}
    except ValueError as e:
        if "pickle" in str(e).lower():
            raise UserError(
                "the archive holds object arrays (pickles); set data.allow_pickle: true if you "
                "trust the file, or store x as (N, T, F) or (sum of lengths, F) with lengths",
                where=name,
            ) from None
        raise UserError(f"not a readable .npz archive ({e})", where=name) from None
    except (OSError, EOFError) as e:
        raise UserError(f"not a readable .npz archive ({e})", where=name) from None
    if "x" not in arrays:
        raise UserError(f"no array 'x' in the archive (arrays: {', '.join(arrays)})", where=name)
    x = arrays["x"]
    lengths = arrays.get("lengths")
    series: list[np.ndarray] = []
    if x.dtype == object:
        for s in x:
            a = np.asarray(s, dtype=np.float32)
            series.append(a[:, None] if a.ndim == 1 else a)
    elif lengths is not None and x.ndim in (1, 2) and int(np.sum(lengths)) == len(x):
        flat = x.astype(np.float32).reshape(len(x), -1)
        edges = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        series = [flat[edges[i] : edges[i + 1]] for i in range(len(lengths))]
    elif x.ndim in (2, 3):
        full = x.astype(np.float32)
        full = full[:, :, None] if full.ndim == 2 else full
        if lengths is not None:
            if len(lengths) != len(full):
                raise UserError(
                    f"'lengths' has {len(lengths)} entries, 'x' {len(full)} series", where=name
                )
            series = [full[i, : int(n)] for i, n in enumerate(lengths)]
        else:
            series = list(full)
    else:
        raise UserError(
            f"'x' has shape {x.shape}: expected (N, T, F), (N, T), (sum of lengths, F) with "
            "'lengths', or an object array of series",
            where=name,
        )
    widths = {s.shape[1] if s.ndim == 2 else -1 for s in series}
    if len(widths) != 1 or -1 in widths:
        raise UserError(f"the series have different channel counts ({sorted(widths)})", where=name)
    for i, s in enumerate(series):
        if len(s) == 0:
            raise UserError(f"series {i} is empty (no step)", where=name)
    labels: list = [None] * len(series)
    class_names = None
    if "y" in arrays:
        y = arrays["y"]
        if len(y) != len(series):
            raise UserError(f"'y' has {len(y)} entries, 'x' {len(series)} series", where=name)
        if regression:
            labels = [float(v) for v in y.astype(np.float64)]
            bad = [i for i, v in enumerate(labels) if not math.isfinite(v)]
            if bad:
                raise UserError(f"y[{bad[0]}] is not a finite number", where=name)
        elif "classes" in arrays:
            class_names = [str(c) for c in arrays["classes"]]
            for i, v in enumerate(y):
                if not 0 <= int(v) < len(class_names):
                    raise UserError(
                        f"y[{i}] = {v} is not a class id below {len(class_names)}", where=name
                    )
            labels = [class_names[int(v)] for v in y]
        else:
            labels = [str(v.item() if hasattr(v, "item") else v) for v in y]
    elif labelled:
        raise UserError("no array 'y' (the labels) in the archive", where=name)
    ids = [str(v) for v in arrays["ids"]] if "ids" in arrays else list(range(len(series)))
    if max_series:
        series, labels, ids = series[:max_series], labels[:max_series], ids[:max_series]
    return SequenceSet(
        series=series,
        labels=labels,
        ids=ids,
        lines=list(range(len(series))),
        channels=[f"x{c}" for c in range(next(iter(widths)))],
        source=name,
        regression=regression,
        class_names=class_names,
    )
