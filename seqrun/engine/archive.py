"""A trained run read back: its resolved config, its fitted encoder, one of its checkpoints.

The one way evaluate, predict, resume and scoring rebuild what a run trained. Importing this
module imports no TensorFlow; loading a checkpoint does (quietly).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seqrun.core.config import ExperimentConfig, apply_overrides, read_yaml, resolve
from seqrun.core.errors import UserError
from seqrun.core.registry import registry
from seqrun.core.runs import Run


def load_run_config(run: Run, overrides: list[str] | None = None) -> ExperimentConfig:
    """The resolved config saved in a run directory (``overrides``: ``--set`` texts applied
    to it); a relative data path that is not found from here but is from the directory the
    run was trained in (meta.json's ``cwd``) is read from there, so `seqrun evaluate` and
    `predict` work from any directory."""
    if not run.config_path.is_file():
        raise UserError("the run has no config.yaml", where=str(run.path))
    source = read_yaml(run.config_path)
    apply_overrides(source, overrides or [])
    data = source.raw.get("data")
    origin = run.meta().get("cwd")
    if isinstance(data, dict) and isinstance(origin, str):
        for key, value in data.items():
            if key.endswith("path") and isinstance(value, str | list):
                paths = [
                    _from_origin(v, origin) for v in ([value] if isinstance(value, str) else value)
                ]
                data[key] = paths[0] if isinstance(value, str) else paths
    return resolve(source)


#: data keys that ``seqrun evaluate --set`` takes besides the adapter's ``predict_keys``:
#: which labelled data to score the run on
SOURCE_KEYS = ("data.path", "data.sample", "data.test_path")


def config_with_overrides(run: Run, overrides: list[str], command: str) -> ExperimentConfig:
    """The run's config with ``--set`` ``overrides`` of ``command`` (predict: how the input
    file is written, the adapter's ``predict_keys``; evaluate: those and :data:`SOURCE_KEYS`);
    any other key was fixed by training and is a UserError naming the --set."""
    from seqrun.core.config import parse_override

    cfg = load_run_config(run)
    if not overrides:
        return cfg
    keys = tuple(getattr(registry.get("adapter", cfg.data.adapter), "predict_keys", ()))
    what = "how the input file is written"
    if command == "evaluate":
        keys, what = (*SOURCE_KEYS, *keys), "which data to score and how they are written"
    given = {parse_override(text)[0] for text in overrides}
    for new, old in (("data.path", "sample"), ("data.sample", "path")):
        if new in given and f"data.{old}" not in given and getattr(cfg.data, old, None):
            overrides = [*overrides, f"data.{old}=null"]  # a file instead of the sample
    for text in overrides:
        key, _ = parse_override(text)
        if ".".join(key.split(".")[:2]) not in keys:
            allowed = ", ".join(keys) if keys else "none for this kind of run"
            raise UserError(
                f"{command} cannot change {key}: --set only says {what} ({allowed}); the rest "
                "is the run's",
                where=f"--set {text}",
            )
    try:
        return load_run_config(run, overrides)
    except UserError as e:  # blame the --set, not the run's config.yaml
        where = e.where if e.where.startswith("--set") else f"--set {' '.join(overrides)}"
        raise UserError(e.message, where=where) from None


def check_data_fits(encoder: Any, data: Any, source: str) -> None:
    """A UserError when data read with other settings than the run's do not fit its encoder:
    other classes, or other input columns."""
    want = getattr(encoder, "class_names", None)
    have = getattr(data, "class_names", None)
    if want and have is not None and list(have) != list(want):
        raise UserError(
            f"the data's classes {list(have)} are not the run's {list(want)}: the model can "
            "only be scored on data labelled with its classes",
            where=source,
        )
    columns = list(getattr(encoder, "columns", None) or [])
    names = list(getattr(data, "feature_names", None) or [])
    if columns and names and names != columns:
        missing = [c for c in columns if c not in names]
        extra = [c for c in names if c not in columns]
        what = (
            f"have no values of {', '.join(missing)}"
            if missing
            else f"add {', '.join(extra)}"
            if extra
            else "hold the run's columns in another order"
        )
        report = data.report() if callable(getattr(data, "report", None)) else {}
        left_out = (report or {}).get("dropped_features") or {}  # missing_features: drop
        why = [
            f"{name} ({reason})"
            for name, reason in left_out.items()
            if any(c == name or c.startswith(f"{name}_") for c in missing)
        ]
        if why:  # e.g. a column constant in this file: it is there, but was left out
            what += f" (left out by data.missing_features: drop: {', '.join(why)})"
        raise UserError(
            f"the data {what}: the model reads {', '.join(columns)}; give data with the same "
            "columns (and neighbours)",
            where=source,
        )


def _from_origin(path: Any, origin: str) -> Any:
    """``path`` (a file, folder or glob) under ``origin`` when it is relative and matches
    nothing from the working directory but something there; else ``path`` unchanged."""
    import glob
    from pathlib import Path

    if not isinstance(path, str) or not path or Path(path).is_absolute() or glob.glob(path):
        return path
    there = str(Path(origin) / path)
    return there if glob.glob(there) else path


def make_encoder(cfg: ExperimentConfig) -> Any:
    """A fresh (unfitted) encoder for the config."""
    return registry.get("encoder", cfg.encoder.type)(cfg.encoder)


def load_encoder(cfg: ExperimentConfig, run: Run) -> Any:
    """The encoder fitted by a run, from its ``preprocessing/`` folder; a one-line UserError
    naming the folder when its files are missing or corrupt."""
    encoder = make_encoder(cfg)
    try:
        encoder.load(run.preprocessing)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as e:
        why = f"{type(e).__name__}: {str(e)[:200]}"
        raise UserError(
            f"the run's fitted preprocessing is missing or corrupt ({why})",
            where=str(run.preprocessing),
        ) from None
    return encoder


def load_model(run: Run, checkpoint: str = "best", compile: bool = False) -> Any:
    """The Keras model of ``checkpoints/<checkpoint>.keras``; a UserError when the run has no
    such checkpoint or it is damaged."""
    from seqrun.engine.backend import import_tensorflow
    from seqrun.engine.checkpoint import load_checkpoint

    path = checkpoint_file(run, checkpoint)
    import_tensorflow()
    return load_checkpoint(path, compile=compile)


def warn_if_training(run: Run, checkpoint: str, what: str) -> bool:
    """Warn, and return True, when a live process still trains ``run``: ``what`` (these
    predictions, these scores) come from its ``checkpoint`` so far, which may still change."""
    if run.status() != "running":
        return False
    from seqrun.core.text import warn

    warn(
        f"{run.path}: the run is still being trained by {run.owner() or 'a live process'}: "
        f"{what} come from its {checkpoint} checkpoint so far, which may still change"
    )
    return True


def checkpoint_file(run: Run, checkpoint: str = "best") -> Path:
    """``checkpoints/<checkpoint>.keras`` of a run; a UserError when it has none."""
    path = run.checkpoint(checkpoint)
    if not path.is_file():
        raise UserError(
            f"the run has no {checkpoint} checkpoint (status: {run.status()})", where=str(path)
        )
    return path


def load(
    run: Run, checkpoint: str = "best", cfg: ExperimentConfig | None = None
) -> tuple[ExperimentConfig, Any, Any]:
    """(config, fitted encoder, model) of a run, the model from ``checkpoint`` (best, last);
    ``cfg``: the run's config when the caller has read it already."""
    cfg = cfg if cfg is not None else load_run_config(run)
    encoder = load_encoder(cfg, run)
    model = load_model(run, checkpoint)
    check_fits(model, encoder, run, checkpoint)
    return cfg, encoder, model


def check_fits(model: Any, encoder: Any, run: Run, checkpoint: str = "best") -> None:
    """A UserError naming the checkpoint when its model reads inputs of another shape than
    the run's fitted encoder makes (a checkpoint or ``preprocessing/`` file copied from
    another run); nothing when the encoder does not declare its input shape."""
    try:
        want, _ = encoder.input_spec()
        inputs = list(getattr(model, "inputs", None) or [])
        has = tuple(inputs[0].shape[1:]) if len(inputs) == 1 else None
    except Exception:  # an encoder without input_spec, a model with several inputs
        return
    if has is None or len(has) != len(want):
        fits = has is None
    else:
        fits = all(
            a is None or b is None or int(a) == int(b) for a, b in zip(has, want, strict=True)
        )
    if not fits:
        raise UserError(
            f"the {checkpoint} checkpoint's model reads inputs of shape {_shape_text(has)} per "
            f"example, but the run's fitted preprocessing ({run.preprocessing.name}/) makes "
            f"{_shape_text(tuple(want))}: one of them comes from another run; put back this run's "
            "own files (or train it again)",
            where=str(run.checkpoint(checkpoint)),
        )


def _shape_text(shape: tuple) -> str:
    """A shape as Python writes a tuple, ``any`` for a free dimension."""
    dims = ["any" if d is None else str(d) for d in shape]
    return f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"
