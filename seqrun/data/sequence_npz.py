"""Sequences from a NumPy ``.npz`` archive.

``x`` is (N, T, F) or (N, T) (one channel), cut to ``lengths[i]`` steps when ``lengths`` is
given (``data.layout: NFT`` reads a 3-D ``x`` as (N, F, T), the aeon/sktime order; a 3-D
``x`` that looks transposed for the layout gets a warning); or the ragged layout without
pickles: ``x`` of shape (sum of lengths, F) with ``lengths`` (N); or an object array of
(T_i, F) arrays (needs ``data.allow_pickle: true``: unpickling runs code from the file).
Without ``lengths``, trailing steps where every channel is NaN are padding (tslearn pads
unequal lengths so), not missing values: each series ends at its last step with a value.
``y`` holds class names or ids (classification) or numbers (regression); ``X`` and ``Y``
stand for ``x`` and ``y`` when those are absent. An optional ``classes`` array names class
ids in order, optional ``ids`` name the sequences. Byte strings (dtype ``S``) are decoded as
UTF-8.
"""

from __future__ import annotations

import gzip
import io
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from seqrun.core.errors import UserError
from seqrun.data.ts_format import SequenceSet, target_problem

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


def _check_layout(shape: tuple[int, ...], layout: str, name: str, settable: bool = False) -> None:
    """A warning when a 3-D x looks transposed for ``layout`` (few steps, many channels);
    ``settable``: data.layout is given with ``--set`` (seqrun predict, evaluate)."""
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
        f"channels (data.layout: {layout}); if it is {order}, "
        + (f"--set data.layout={other}" if settable else f"set data.layout: {other}")
    )


#: how a zip archive (what numpy.savez writes) starts: a member, or an empty archive
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
NPY_MAGIC = b"\x93NUMPY"
GZIP_MAGIC = b"\x1f\x8b"
SAVEZ_HINT = "write it with np.savez(path, x=X, y=y)"


def _open_archive(path: str | Path, name: str, allow_pickle: bool) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` archive (a gzip-compressed one is unpacked first), or a
    UserError saying what the file is instead."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as e:
        raise UserError(f"cannot be read ({e.strerror or e})", where=name) from None
    source: Any = path
    if head.startswith(GZIP_MAGIC):
        try:
            with gzip.open(path, "rb") as f:
                source = io.BytesIO(f.read())
        except (OSError, EOFError, zlib.error) as e:
            raise UserError(f"a damaged gzip file ({e}); compress it again", where=name) from None
        head = source.getvalue()[:8]
    if not head:
        raise UserError(f"the file is empty, not an .npz archive; {SAVEZ_HINT}", where=name)
    if head.startswith(NPY_MAGIC):
        raise UserError(
            f"a .npy file (numpy.save: one array), not an .npz archive (numpy.savez); {SAVEZ_HINT}",
            where=name,
        )
    if not head.startswith(ZIP_MAGIC):
        text = not any(b < 9 or 13 < b < 32 for b in head)
        what = (
            "it holds text: give a .ts/.csv/.tsv file under its own extension, with "
            "data.format: auto"
            if text
            else SAVEZ_HINT
        )
        raise UserError(f"not an .npz archive (numpy.savez); {what}", where=name)
    try:
        fid = open(path, "rb") if isinstance(source, str | Path) else source  # noqa: SIM115
        with fid, np.load(fid, allow_pickle=allow_pickle) as archive:  # a zip: an NpzFile
            return {k: archive[k] for k in archive.files}
    except ValueError as e:
        if "pickle" in str(e).lower() and not allow_pickle:
            raise UserError(
                "the archive holds object arrays (pickles): store x as (N, T, F), or as (sum "
                "of lengths, F) with lengths, and save it again with np.savez; or, to train on "
                "a file you trust, set data.allow_pickle: true in the config",
                where=name,
            ) from None
        raise UserError(
            f"a damaged .npz archive ({e}); write it again with np.savez", where=name
        ) from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, KeyError) as e:
        raise UserError(
            f"a damaged .npz archive ({e}); write it again with np.savez", where=name
        ) from None
    except MemoryError:
        raise
    except Exception as e:  # numpy's header parser (tokenize), or unpickling (allow_pickle)
        if allow_pickle and "pickle" in f"{type(e).__name__} {e}".lower():
            raise UserError(
                f"an object array could not be unpickled ({type(e).__name__}: {e})", where=name
            ) from None
        raise UserError(
            f"a damaged .npz archive ({type(e).__name__}: {e}); write it again with np.savez",
            where=name,
        ) from None


def _at(shape: tuple[int, ...], flat: int) -> str:
    """The index of the ``flat``-th element of an array of ``shape``, as ``i, j, k``."""
    return ", ".join(str(int(i)) for i in np.unravel_index(flat, shape)) if shape else ""


def _numbers(a: np.ndarray, key: str, name: str, hint: str, dtype: Any = np.float32) -> np.ndarray:
    """``a`` as numbers, or a UserError naming the array ``key`` and its first non-number
    (text that reads as a number, e.g. '1.5', is accepted)."""
    if a.dtype.kind in "biuf":
        with np.errstate(over="ignore"):  # beyond float32's range: inf, an error later
            return a.astype(dtype)
    if a.dtype.kind in "USO":
        try:
            with np.errstate(over="ignore"):
                return a.astype(dtype)
        except (TypeError, ValueError):
            pass
        flat = a.reshape(-1)
        for i, v in enumerate(flat):
            try:
                float(_text(v) if a.dtype.kind != "O" else v)
            except (TypeError, ValueError):
                raise UserError(
                    f"'{key}' holds text, not numbers ({key}[{_at(a.shape, i)}] = "
                    f"{_text(v)[:40]!r}); {hint}",
                    where=name,
                ) from None
        with np.errstate(over="ignore"):
            return np.asarray([float(_text(v)) for v in flat], dtype=dtype).reshape(a.shape)
    raise UserError(f"'{key}' has dtype {a.dtype}, not numbers; {hint}", where=name)


def _unpadded(series: np.ndarray) -> np.ndarray:
    """A (T, F) series without its trailing steps where every channel is NaN: the padding of
    unequal lengths in a NaN-filled (N, T, F) array (tslearn's to_time_series_dataset, and
    numpy code written like it); a NaN inside the series stays a missing value."""
    seen = np.flatnonzero(~np.isnan(series).all(axis=1))
    end = int(seen[-1]) + 1 if len(seen) else 0
    return series if end == len(series) else series[:end]


def _lengths(lengths: np.ndarray, name: str) -> np.ndarray:
    """``lengths`` as whole numbers (one per series), or a UserError."""
    if lengths.ndim != 1:
        raise UserError(
            f"'lengths' has shape {lengths.shape}: expected one number per series", where=name
        )
    values = _numbers(lengths, "lengths", name, "store the step count of each series", np.float64)
    bad = np.flatnonzero(~np.isfinite(values) | (values != np.round(values)))
    if len(bad):
        i = int(bad[0])
        raise UserError(f"lengths[{i}]={lengths[i]} is not a whole number of steps", where=name)
    return values.astype(np.int64)


def _check_range(lengths: np.ndarray, name: str, steps: int | None) -> None:
    """Each length between 1 and ``steps`` (None: no upper bound, the ragged layout)."""
    too_big = lengths > steps if steps is not None else np.zeros(len(lengths), dtype=bool)
    bad = np.flatnonzero((lengths < 1) | too_big)
    if len(bad):
        i = int(bad[0])
        bound = f"between 1 and {steps} (the steps of x)" if steps is not None else "at least 1"
        raise UserError(f"lengths[{i}]={lengths[i]} must be {bound}", where=name)


def _check_values(series: list[np.ndarray], name: str, labelled: bool) -> None:
    """No infinity in x; some value in x (and, for training data, in each channel)."""
    flat = np.concatenate([s.reshape(-1, s.shape[1]) for s in series])
    inf = np.argwhere(np.isinf(flat))
    if len(inf):
        i, c = (int(k) for k in inf[0])
        first = next(j for j, n in enumerate(np.cumsum([len(s) for s in series])) if n > i)
        raise UserError(
            f"series {first} of 'x' holds an infinite value in channel x{c} (or one beyond "
            "float32's range, about ±3.4e38, which values are read as); store missing values "
            "as NaN, rescale values that large",
            where=name,
        )
    seen = ~np.isnan(flat).all(axis=0)
    if not seen.any():
        raise UserError("'x' has no values (every value is NaN)", where=name)
    if labelled and not seen.all():
        c = int(np.flatnonzero(~seen)[0])
        raise UserError(
            f"channel x{c} of 'x' has no values (every value is NaN); drop it from the file",
            where=name,
        )


def _labels_of(
    y: np.ndarray, arrays: dict[str, np.ndarray], regression: bool, name: str
) -> tuple[list, list[str] | None]:
    """The label of each series (class names, or numbers for regression) and the archive's
    class names (None without a ``classes`` array)."""
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.dtype.kind in "cmMV":
        raise UserError(
            f"'y' has dtype {y.dtype}: store class names (text), class ids (integers) or, for "
            "sequence_regression, numbers (float)",
            where=name,
        )
    if y.ndim != 1:
        raise UserError(
            f"'y' has shape {y.shape}: expected one label per series (one-hot labels: store "
            "y.argmax(axis=1) and the class names as 'classes')",
            where=name,
        )
    if regression:
        hint = "sequence_regression needs a number per series (classes: data.adapter: sequences)"
        labels = [float(v) for v in _numbers(y, "y", name, hint, np.float64)]
        bad = [(i, p) for i, v in enumerate(labels) if (p := target_problem(v))]
        if bad:
            raise UserError(f"y[{bad[0][0]}] {bad[0][1]}", where=name)
        return labels, None
    if y.dtype.kind == "f" and np.isnan(y).any():
        first = int(np.flatnonzero(np.isnan(y))[0])
        raise UserError(
            f"y holds NaN labels (first y[{first}]); give every series a class, or leave the "
            "unlabelled ones out",
            where=name,
        )
    if "classes" not in arrays:
        if y.dtype.kind == "f" and bool((y == np.round(y)).all()):
            # class ids stored as floats (0.0, 1.0): named as the ids they are ('0', '1'),
            # the names an int y, a CSV or a .ts file give the same classes
            return [str(int(v)) for v in y], None
        labels = [_text(v).strip() for v in y]  # as CSV and .ts labels are read
        if "" in labels:
            raise UserError(
                f"y[{labels.index('')}] is an empty label; give every series a class, or leave "
                "the unlabelled ones out",
                where=name,
            )
        return labels, None
    classes = arrays["classes"]
    if classes.ndim != 1:
        raise UserError(
            f"'classes' has shape {classes.shape}: expected one name per class id, in order",
            where=name,
        )
    class_names = [_text(c).strip() for c in classes]
    twice = next((c for i, c in enumerate(class_names) if c in class_names[:i]), None)
    if twice is not None:
        raise UserError(f"'classes' names {twice!r} twice: name each class once", where=name)
    whole = y.dtype.kind in "iu" or (y.dtype.kind == "f" and bool((y == np.round(y)).all()))
    if not whole:
        raise UserError(
            f"'y' must hold class ids (0 to {len(class_names) - 1}) with a 'classes' array "
            f"(y[0] = {_text(y[0])[:40]!r}); store the ids, or leave 'classes' out",
            where=name,
        )
    for i, v in enumerate(y):
        if not 0 <= int(v) < len(class_names):
            raise UserError(f"y[{i}] = {v} is not a class id below {len(class_names)}", where=name)
    return [class_names[int(v)] for v in y], class_names


def _ids(ids: np.ndarray, name: str) -> list[str]:
    """The ``ids`` array as texts, one per series: a UserError for another shape or a missing
    value (NaN, empty)."""
    if ids.ndim != 1:
        raise UserError(f"'ids' has shape {ids.shape}: expected one id per series", where=name)
    out = [_text(v).strip() for v in ids]
    for i, (v, t) in enumerate(zip(ids, out, strict=True)):
        if not t or (isinstance(v, float | np.floating) and np.isnan(v)):
            raise UserError(
                f"ids[{i}] is {'empty' if not t else 'NaN'}: give every series an id (or leave "
                "'ids' out: series are then named by their index)",
                where=name,
            )
    return out


def read_npz(
    path: str | Path,
    regression: bool = False,
    labelled: bool = True,
    allow_pickle: bool = False,
    max_series: int | None = None,
    layout: str = "NTF",
    settable: bool = False,
) -> SequenceSet:
    """The sequences of an ``.npz`` file (keys ``x``, ``y``, optional ``lengths``, ``classes``,
    ``ids``); ``layout``: the axis order of a 3-D ``x`` (NTF or NFT); ``settable``: it is
    given with ``--set`` (seqrun predict, evaluate), which a fix names."""
    name = str(path)
    arrays = _open_archive(path, name, allow_pickle)
    for key in ("x", "y"):  # np.savez(path, X=X, y=y), the scikit-learn spelling
        if key not in arrays and key.upper() in arrays:
            arrays[key] = arrays.pop(key.upper())
    if "x" not in arrays:
        keys = ", ".join(list(arrays)[:10]) or "none"
        raise UserError(
            f"no array 'x' in the archive (arrays: {keys}); the keys must be x (series), y "
            "(labels), optional lengths, classes, ids: save one file per split, e.g. "
            "np.savez('train.npz', x=X_train, y=y_train) and the test one for data.test_path",
            where=name,
        )
    x = arrays["x"]
    lengths = _lengths(arrays["lengths"], name) if "lengths" in arrays else None
    hint = "store the series as numbers (float), missing values as NaN"
    series: list[np.ndarray] = []
    if x.dtype == object:
        for i, s in enumerate(x):
            a = _numbers(np.asarray(s), f"x[{i}]", name, hint) if s is not None else None
            if a is None or a.ndim not in (1, 2):
                shape = None if a is None else a.shape
                raise UserError(
                    f"x[{i}] has shape {shape}: each series must be (T, F) or (T,)", where=name
                )
            a = a[:, None] if a.ndim == 1 else a.T if layout == "NFT" else a
            series.append(a)
    elif lengths is not None and x.ndim in (1, 2) and int(np.sum(lengths)) == len(x):
        _check_range(lengths, name, None)
        flat = _numbers(x, "x", name, hint).reshape(len(x), -1)
        edges = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        series = [flat[edges[i] : edges[i + 1]] for i in range(len(lengths))]
    elif lengths is not None and x.dtype != object and x.ndim in (1, 2) and len(lengths) != len(x):
        raise UserError(  # neither (N, T) with a length each nor the ragged layout
            f"'lengths' has {len(lengths)} entries summing to {int(np.sum(lengths))}, while "
            f"'x' has {len(x)} rows: for the ragged layout (sum of lengths, F) they must be "
            "equal; for (N, T) give one length per series",
            where=name,
        )
    elif x.ndim in (2, 3):
        full = _numbers(x, "x", name, hint)
        if full.ndim == 3:
            _check_layout(full.shape, layout, name, settable)
            full = full.transpose(0, 2, 1) if layout == "NFT" else full
        else:
            full = full[:, :, None]
        if lengths is not None:
            if len(lengths) != len(full):
                raise UserError(
                    f"'lengths' has {len(lengths)} entries, 'x' {len(full)} series", where=name
                )
            _check_range(lengths, name, full.shape[1])
            series = [full[i, : int(n)] for i, n in enumerate(lengths)]
        else:
            series = list(full)
    else:
        raise UserError(
            f"'x' has shape {x.shape}: expected (N, T, F), (N, T), (sum of lengths, F) with "
            "'lengths', or an object array of series",
            where=name,
        )
    if not series:
        raise UserError(f"the file holds no series ('x' has shape {x.shape})", where=name)
    widths = {s.shape[1] for s in series}
    if 0 in widths:
        raise UserError(
            f"the series have no channel ('x' has shape {x.shape}): each step needs at least "
            "one value",
            where=name,
        )
    if len(widths) != 1:
        raise UserError(f"the series have different channel counts ({sorted(widths)})", where=name)
    for i, s in enumerate(series):
        if len(s) == 0:
            raise UserError(f"series {i} is empty (no step)", where=name)
    _check_values(series, name, labelled)
    if lengths is None:  # tslearn pads shorter series with NaN steps at the end: not values
        series = [_unpadded(s) for s in series]
        for i, s in enumerate(series):
            if len(s) == 0:
                raise UserError(
                    f"series {i} of 'x' has no value (every step is NaN); leave it out of the file",
                    where=name,
                )
    labels: list = [None] * len(series)
    class_names = None
    if "y" in arrays:
        y = arrays["y"]
        if y.ndim == 0:
            raise UserError(
                f"'y' is a single value ({_text(y)[:40]!r}), not one label per series", where=name
            )
        if len(y) != len(series):
            raise UserError(f"'y' has {len(y)} entries, 'x' {len(series)} series", where=name)
        labels, class_names = _labels_of(y, arrays, regression, name)
    elif labelled:
        raise UserError("no array 'y' (the labels) in the archive", where=name)
    ids = _ids(arrays["ids"], name) if "ids" in arrays else list(range(len(series)))
    if len(ids) != len(series):
        raise UserError(f"'ids' has {len(ids)} entries, 'x' {len(series)} series", where=name)
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
