"""`seqrun predict`: a trained run's predictions for new examples.

Rebuilds nothing from the training data: the run's adapter reads new examples from a file
(``DatasetAdapter.read_inputs``), its fitted encoder turns them into model inputs
(``Encoder.model_inputs``) and one of its checkpoints predicts. A classification row has
``label``, ``probability`` and ``probabilities`` (by the encoder's ``class_names``); a
regression row has ``prediction``. Each row starts with what the adapter says identifies the
example (e.g. its ``text``).
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from seqrun.core.errors import UserError
from seqrun.core.runs import Run
from seqrun.core.text import shown_as

#: the keys a prediction adds to the row of its example
PREDICTION_KEYS = ("label", "probability", "probabilities", "prediction")


def predict(
    run: Run,
    texts: list[str] | None = None,
    path: Path | None = None,
    column: str | None = None,
    checkpoint: str = "best",
    overrides: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Predictions for ``texts`` (given on the command line) and the examples of the file
    ``path`` (``column``: its column to read, for a table; ``overrides``: ``--set`` texts
    naming how the file is written, among the adapter's ``predict_keys``). ``path`` may be
    ``-`` (standard input) or a pipe such as bash's ``<(...)``."""
    with readable(path) as file:
        return _predict(run, texts, file, column, checkpoint, overrides)


#: how an error names standard input given as ``--input -``
STDIN = "<stdin>"


@contextlib.contextmanager
def readable(path: Path | None) -> Iterator[Path | None]:
    """``path`` as a regular file: standard input (``-``) or a pipe is copied to a temporary
    file first (readers open a file more than once: its encoding, then its rows), and errors
    name the input as given."""
    stdin = path is not None and str(path) == "-"
    if path is None or not (stdin or (path.exists() and not path.is_file() and not path.is_dir())):
        yield path
        return
    shown = STDIN if stdin else str(path)
    with tempfile.TemporaryDirectory(prefix="seqrun-input-") as folder:
        copy = Path(folder) / ("stdin" if stdin else path.name)
        with open(copy, "wb") as out:
            if stdin:
                shutil.copyfileobj(sys.stdin.buffer, out)
            else:
                with open(path, "rb") as source:
                    shutil.copyfileobj(source, out)
        try:
            with shown_as(str(copy), shown):
                yield copy
        except UserError as e:
            where = e.where.replace(str(copy), shown) if e.where else e.where
            raise UserError(e.message.replace(str(copy), shown), where=where) from None


def _predict(
    run: Run,
    texts: list[str] | None,
    path: Path | None,
    column: str | None,
    checkpoint: str,
    overrides: list[str] | None,
) -> list[dict[str, Any]]:
    """:func:`predict` once the input is a regular file."""
    from seqrun.core.registry import registry
    from seqrun.data.base import open_adapter
    from seqrun.engine import archive

    if run.meta().get("kind") == "cv":
        raise UserError(
            "a cross-validation has one model per fold, not one model; predict with a fold's "
            f"run, e.g. {run.path / 'fold-0'}",
            where=str(run.path),
        )
    training = archive.warn_if_training(run, checkpoint, "these predictions")
    if not training and run.status() in ("failed", "interrupted", "dead"):
        from seqrun.core.text import warn

        done = run.meta().get("epochs_completed")
        after = f" after {done} epoch(s)" if isinstance(done, int) else ""
        warn(
            f"{run.path}: the run is {run.status()}{after}: these predictions come from the "
            f"{checkpoint} checkpoint it saved before it stopped (seqrun train --resume "
            f"{run.path} continues it)"
        )
    cfg = archive.config_with_overrides(run, overrides or [], "predict")
    adapter = open_adapter(cfg)
    if hasattr(adapter, "predict_file"):  # a forecast: from the end of a whole series
        return _predict_file(run, cfg, adapter, texts, path, column, checkpoint)
    texts = list(texts or [])
    for i, t in enumerate(texts, start=1):
        if not t.strip():
            raise UserError(f"text {i} is empty; give non-empty texts", where="predict")
    rows: list[dict[str, Any]] = [{"text": t} for t in texts]
    examples: list[Any] = list(texts)
    if path is not None:
        more_rows, more = adapter.read_inputs(path, column)
        rows += more_rows
        examples += more
    encoder = archive.load_encoder(cfg, run)
    x = encoder.model_inputs(examples)  # checks the examples before TensorFlow is imported
    model = _model(run, checkpoint, encoder)
    out = np.asarray(model.predict(x, batch_size=256, verbose=0), dtype=np.float64)
    _check_finite(out, run, checkpoint)
    if registry.get("metrics", cfg.metrics).task_kind == "classification":
        names = list(encoder.class_names)
        return [{**row, **_label(p, names)} for row, p in zip(rows, out, strict=True)]
    decode = getattr(encoder, "decode_targets", None)  # scaled targets back to their units
    if decode is not None:
        out = np.asarray(decode(out), dtype=np.float64).reshape(out.shape)
    return [{**row, "prediction": _value(p)} for row, p in zip(rows, out, strict=True)]


def _label(proba: np.ndarray, names: list[str]) -> dict[str, Any]:
    """Label, its probability and every class's, from one output row (one sigmoid unit
    scores the second class)."""
    if proba.shape[-1] == 1:
        p1 = float(proba[0])
        probs = {names[0]: 1.0 - p1, names[1]: p1}
    else:
        probs = {n: float(v) for n, v in zip(names, proba, strict=True)}
    label = max(probs, key=probs.get)
    return {
        "label": label,
        "probability": round(probs[label], 6),
        "probabilities": {k: round(v, 6) for k, v in probs.items()},
    }


def _value(pred: np.ndarray) -> Any:
    """A regression output: a number, or nested lists for several outputs."""
    return float(pred.reshape(-1)[0]) if pred.size == 1 else pred.tolist()


def _predict_file(
    run: Run,
    cfg: Any,
    adapter: Any,
    texts: list[str] | None,
    path: Path | None,
    column: str | None,
    checkpoint: str,
) -> list[dict[str, Any]]:
    """A family whose examples are not independent (a forecast reads the end of a series)
    predicts from a whole file itself (``DatasetAdapter.predict_file``)."""
    from seqrun.engine import archive

    if texts or path is None:
        raise UserError(
            "a forecasting run forecasts from the end of a series: give the series as "
            "--input FILE (in the run's data format), not texts",
            where="predict",
        )
    if column is not None:
        raise UserError(
            "a forecast reads the columns the run was trained on; --column is for text runs",
            where="--column",
        )
    if Path(path).is_dir():
        raise UserError(f"{path} is a directory; give a file", where="--input")
    if not Path(path).is_file():
        raise UserError(f"no such file: {path}", where="--input")
    encoder = archive.load_encoder(cfg, run)
    archive.checkpoint_file(run, checkpoint)  # a run without it fails before the file is read
    # the model (TensorFlow) is loaded once the file is read and checked: a bad file fails fast
    rows = adapter.predict_file(path, lambda: _model(run, checkpoint, encoder), encoder, run.meta())
    values = [r.get("prediction") for r in rows]
    _check_finite(
        np.array([v for p in values for v in (p.values() if isinstance(p, dict) else [p])], float),
        run,
        checkpoint,
    )
    return rows


def _check_finite(out: np.ndarray, run: Run, checkpoint: str) -> None:
    """A UserError naming the checkpoint when the model's outputs are not all numbers (the
    inputs are: the readers refuse infinities and fill missing values): its weights are not
    (a run whose training diverged), or an input is huge."""
    bad = ~np.isfinite(out)
    if bad.any():
        raise UserError(
            f"the {checkpoint} checkpoint's model outputs NaN or infinity ({int(bad.sum())} of "
            f"{bad.size} values): its weights are not finite numbers (the training diverged), "
            "or an input is far beyond the training data's range; use the other checkpoint "
            "(--checkpoint best|last), or train again with a lower train.learning_rate",
            where=str(run.checkpoint(checkpoint)),
        )


def _model(run: Run, checkpoint: str, encoder: Any) -> Any:
    """The run's model from ``checkpoint``, refused when it reads other inputs than
    ``encoder`` makes."""
    from seqrun.engine import archive

    model = archive.load_model(run, checkpoint)
    archive.check_fits(model, encoder, run, checkpoint)
    return model
