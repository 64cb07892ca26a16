"""Sequences from a NumPy ``.npz`` archive.

``x`` is (N, T, F) or (N, T) (one channel), cut to ``lengths[i]`` steps when ``lengths`` is
given (``data.layout: NFT`` reads a 3-D ``x`` as (N, F, T), the aeon/sktime order; a 3-D
``x`` that looks transposed for the layout gets a warning); or the ragged layout without
pickles: ``x`` of shape (sum of lengths, F) with ``lengths`` (N); or an object array of
(T_i, F) arrays (needs ``data.allow_pickle: true``: unpickling runs code from the file).
``y`` holds class names or ids (classification) or numbers (regression); an optional
``classes`` array names class ids in order, optional ``ids`` name the sequences. Byte strings
(dtype ``S``) are decoded as UTF-8.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from seqrun.core.errors import UserError
from seqrun.data.ts_format import SequenceSet

#: a 3-D x of shape (N, A, B) with A <= SHORT_AXIS and B >= WIDE_RATIO * A looks like
#: (series, channels, steps): few channels, many steps
SHORT_AXIS = 64
WIDE_RATIO = 4


def _text(value: object) -> str:
    """An array element as text (bytes decoded as UTF-8)."""
    v = value.item() if isinstance(value, np.generic) else value
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    return str(v)


def _check_layout(shape: tuple[int, ...], layout: str, name: str) -> None:
    """A warning when a 3-D x looks transposed for ``layout`` (few steps, many channels)."""
    from seqrun.core.text import warn

    n, a, b = shape
    steps, channels = (a, b) if layout == "NTF" else (b, a)
    if steps > SHORT_AXIS or channels < WIDE_RATIO * steps:
        return
    other = "NFT" if layout == "NTF" else "NTF"
    order = (
        "(series, channels, steps), as aeon/sktime write it"
        if other == "NFT"
        else "(series, steps, channels)"
    )
    warn(
        f"{name}: 'x' of shape {shape} is read as {n} series of {steps} steps x {channels} "
        f"channels (data.layout: {layout}); if it is {order}, set data.layout: {other}"
    )


def read_npz(
    path: str | Path,
    regression: bool = False,
    labelled: bool = True,
    allow_pickle: bool = False,
    max_series: int | None = None,
    layout: str = "NTF",
) -> SequenceSet:
    """The sequences of an ``.npz`` file (keys ``x``, ``y``, optional ``lengths``, ``classes``,
    ``ids``); ``layout``: the axis order of a 3-D ``x`` (NTF or NFT)."""
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
        keys = ", ".join(list(arrays)[:10]) or "none"
        raise UserError(
            f"no array 'x' in the archive (arrays: {keys}); the keys must be x (series), y "
            "(labels), optional lengths, classes, ids: save one file per split, e.g. "
            "np.savez('train.npz', x=X_train, y=y_train) and the test one for data.test_path",
            where=name,
        )
    x = arrays["x"]
    lengths = arrays.get("lengths")
    series: list[np.ndarray] = []
    if x.dtype == object:
        for s in x:
            a = np.asarray(s, dtype=np.float32)
            a = a[:, None] if a.ndim == 1 else a.T if layout == "NFT" else a
            series.append(a)
    elif lengths is not None and x.ndim in (1, 2) and int(np.sum(lengths)) == len(x):
        flat = x.astype(np.float32).reshape(len(x), -1)
        edges = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        series = [flat[edges[i] : edges[i + 1]] for i in range(len(lengths))]
    elif x.ndim in (2, 3):
        full = x.astype(np.float32)
        if full.ndim == 3:
            _check_layout(full.shape, layout, name)
            full = full.transpose(0, 2, 1) if layout == "NFT" else full
        else:
            full = full[:, :, None]
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
            class_names = [_text(c) for c in arrays["classes"]]
            for i, v in enumerate(y):
                if not 0 <= int(v) < len(class_names):
                    raise UserError(
                        f"y[{i}] = {v} is not a class id below {len(class_names)}", where=name
                    )
            labels = [class_names[int(v)] for v in y]
        else:
            labels = [_text(v) for v in y]
    elif labelled:
        raise UserError("no array 'y' (the labels) in the archive", where=name)
    ids = [_text(v) for v in arrays["ids"]] if "ids" in arrays else list(range(len(series)))
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
