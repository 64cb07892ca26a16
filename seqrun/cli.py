"""seqrun's command line. Heavy modules (TensorFlow, pandas, matplotlib) load inside commands."""

from __future__ import annotations

import errno
import functools
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from seqrun.core.errors import (
    EXIT_INTERRUPTED,
    EXIT_USER_ERROR,
    SeqrunError,
    UserError,
    os_error_text,
)
from seqrun.engine.processes import say_on_stderr

app = typer.Typer(
    name="seqrun",
    help="Run, compare and reproduce recurrent-network experiments from YAML files.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _usage_error_line(self: Any, file: Any = None) -> None:
    """A command-line usage error as one line (exit code 2), like every other user error."""
    command = self.ctx.command_path if self.ctx is not None else "seqrun"
    typer.echo(f"error: {self.format_message()} (see {command} --help)", err=True)


def _one_line_usage_errors() -> None:
    """Make Click's usage errors (its own, or the copy newer Typers ship) one line."""
    import importlib

    for module in ("typer._click.exceptions", "click.exceptions"):
        try:
            importlib.import_module(module).UsageError.show = _usage_error_line
            return
        except (ImportError, AttributeError):
            continue


_one_line_usage_errors()

config_app = typer.Typer(help="Validate, show and document experiment files.", no_args_is_help=True)
runs_app = typer.Typer(help="List and inspect run directories.", no_args_is_help=True)
data_app = typer.Typer(help="Look at an experiment's data (no training).", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(runs_app, name="runs")
app.add_typer(data_app, name="data")

SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        "-s",
        help="Override a config key: --set model.units=64 (repeatable; VALUE is YAML).",
    ),
]
RunsDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--runs-dir",
        help="Root of the run directories (default: $SEQRUN_RUNS_DIR or ./runs).",
        callback=lambda value: value.expanduser() if value is not None else None,  # '~/runs'
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


def _show_version(value: bool) -> None:
    if value:
        from seqrun import __version__

        typer.echo(f"seqrun {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_show_version,
            is_eager=True,
            help="Print seqrun's version and exit.",
        ),
    ] = False,
) -> None:
    """Run, compare and reproduce recurrent-network experiments from YAML files."""


def _err(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


def handle_errors(fn):
    """Report SeqrunErrors in one line (per problem) with their exit code, no traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SeqrunError as e:
            _err(str(e))
            raise typer.Exit(e.exit_code) from None
        except BrokenPipeError:  # `seqrun ... | head`: the reader left, nothing is wrong
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None
        except OSError as e:
            if e.errno == errno.ENAMETOOLONG:  # a user's path, not a failure of the machine
                _err(str(_name_too_long(e, fn, kwargs)))
                raise typer.Exit(EXIT_USER_ERROR) from None
            if unreadable := _unreadable(e, fn, kwargs):  # a user's file: exit 2, the fix
                _err(str(unreadable))
                raise typer.Exit(EXIT_USER_ERROR) from None
            _err(os_error_text(e))
            raise typer.Exit(1) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as e:  # a bug or a library failure: one line, traceback on request
            import os

            if os.environ.get("SEQRUN_DEBUG"):
                raise
            _err(f"{type(e).__name__}: {e} (set SEQRUN_DEBUG=1 to see the traceback)")
            raise typer.Exit(1) from None

    return wrapper


NAME_MAX = 255
"""Longest file or folder name of common file systems (ext4, XFS, APFS, NTFS), in bytes."""


def _option_of(fn: Any, name: str) -> str:
    """How the user wrote the parameter ``name`` of the command ``fn``: its long option
    (``--runs-dir``) or, for an argument, its name."""
    import typing

    try:
        hint = typing.get_type_hints(fn, include_extras=True).get(name)
    except Exception:  # an unresolvable annotation: fall back on the parameter's name
        hint = None
    for info in getattr(hint, "__metadata__", ()):
        if isinstance(info, typer.models.ArgumentInfo):
            return name
        longs = [d for d in getattr(info, "param_decls", None) or () if d.startswith("--")]
        if longs:
            return longs[0]
    return "--" + name.strip("_").replace("_", "-")


def _given_as(path: str, fn: Any, kwargs: dict[str, Any]) -> str | None:
    """The option, argument or ``--set key`` of the command whose value is (part of) ``path``."""
    found: list[tuple[int, str]] = []
    for name, value in kwargs.items():
        values = value if isinstance(value, list | tuple) else [value]
        for v in values:
            if not isinstance(v, str | Path):
                continue
            text, where = str(v), _option_of(fn, name)
            if name == "set_" and "=" in text:  # --set data.path=...: name the key
                key, _, text = text.partition("=")
                text, where = text.strip().strip("'\""), f"--set {key.strip()}"
            text = os.path.expanduser(text)
            if len(text) > 1 and (text in path or path in text):
                found.append((len(text), where))
    return max(found)[1] if found else None


def _name_too_long(e: OSError, fn: Any, kwargs: dict[str, Any]) -> UserError:
    """The error for a path the file system refuses as too long (ENAMETOOLONG): which option
    or key gave it, the path cut to its ends, and the fix."""
    path = os.fsdecode(e.filename) if e.filename is not None else ""
    longest = max((len(os.fsencode(part)) for part in Path(path).parts), default=0)
    limit = (
        f"a name in it has {longest:,} bytes; the limit is {NAME_MAX} per file or folder name"
        if longest > NAME_MAX
        else "the limit is 4,095 bytes for a whole path"
    )
    shown = f"{path[:40]}...{path[-30:]}" if len(path) > 80 else path
    return UserError(
        f"the path '{shown}' ({len(path):,} characters) is too long for the file system "
        f"({limit}): give a shorter path",
        where=_given_as(path, fn, kwargs),
    )


def _unreadable(e: OSError, fn: Any, kwargs: dict[str, Any]) -> UserError | None:
    """The error for a file or folder this user may not read (a data file, a config, a run of
    another user): which option or key gave it, and the fix; None for other errors (a write
    refused is a failure of the run, exit 1)."""
    if not isinstance(e, PermissionError) or e.filename is None:
        return None
    effective = os.access in os.supports_effective_ids
    path = os.path.abspath(os.fsdecode(e.filename))
    try:
        if os.path.exists(path):  # the file itself may not be read
            if os.access(path, os.R_OK, effective_ids=effective):
                return None
        else:  # a folder on the way may not be entered
            folders = [str(p) for p in reversed(Path(path).parents)]
            path = next(
                (p for p in folders if not os.access(p, os.X_OK, effective_ids=effective)), ""
            )
            if not path:
                return None
    except (OSError, ValueError):
        return None
    what = "folder" if os.path.isdir(path) else "file"
    return UserError(
        f"{path}: permission denied: this user may not read the {what}; give it read access "
        f"(chmod a+r{'X' if what == 'folder' else ''} '{path}') or copy it to a place this "
        "user can read",
        where=_given_as(path, fn, kwargs),
    )


def _runs_dir(value: Path | None) -> Path:
    from seqrun.core.runs import default_runs_dir

    return value or default_runs_dir()


def _check_executor(executor: str) -> None:
    """--executor of sweep and tune: local, or ray with its extra installed."""
    if executor not in ("local", "ray"):
        raise UserError(f"unknown executor '{executor}'; use local or ray", where="--executor")
    if executor == "ray":
        from seqrun.engine.tracking import require

        require("ray", "ray", "--executor ray")


def _check_local_processes(n: int, option: str) -> None:
    """``option`` asks for ``n`` TensorFlow processes on this machine: more than its CPUs
    (two allowed on any machine) is an error before any starts."""
    import os

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpus = cpus or 1
    if n > max(cpus, 2):
        raise UserError(
            f"{n} processes are more than this machine's CPUs ({cpus}): each is a TensorFlow "
            f"process wanting a core and about 0.4 GB of memory; use {option} {max(cpus, 2)} "
            "or fewer",
            where=option,
        )


def _print_json(obj: Any) -> None:
    from seqrun.core.runs import to_json

    typer.echo(to_json(obj, fallback=str))


def _metrics_table(title: str, metrics: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from seqrun.engine.listing import NORM_NOTE, metric_rows

    rows = metric_rows(metrics)
    norm = any("norm" in unit for _, _, unit in rows)
    table = Table(title=title, show_header=True, caption=NORM_NOTE if norm else None)
    table.add_column("metric", overflow="fold")  # a name is never cut to …
    table.add_column("value", justify="right")
    if any(unit for _, _, unit in rows):
        table.add_column("unit")
    for row in rows:
        table.add_row(*map(escape, row[: len(table.columns)]))  # '[neg]' is a name, not markup
    Console(stderr=True).print(table)


# ----------------------------------------------------------------------------- train / evaluate


@app.command()
@handle_errors
def train(
    config: Annotated[Path | None, typer.Argument(help="Experiment YAML file.")] = None,
    set_: SetOpt = None,
    runs_dir: RunsDirOpt = None,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume",
            metavar="RUN_DIR|auto",
            help="Continue an interrupted, failed or killed run from its last epoch. 'auto' "
            "(with CONFIG): continue the latest run of this config if unfinished, report it "
            "if completed, else start one (for schedulers that rerun a killed job).",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
    folds: Annotated[
        int | None,
        typer.Option(
            "--folds",
            min=2,
            help="K-fold cross-validation (same as --set data.split.kfold=K): K runs under "
            "one parent, dev = the held-out fold, metrics as mean +- std.",
        ),
    ] = None,
    nproc: Annotated[
        int | None,
        typer.Option(
            "--nproc",
            min=1,
            help="Train on N worker processes of this machine (train.strategy multi_worker, "
            "TF_CONFIG over loopback); one run directory, written by worker 0.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Train an experiment; select on the dev split; write runs/<name>/<run-id>/."""
    import contextlib

    from seqrun.engine.resume import completed_result, plan

    if nproc is not None:
        if folds is not None:
            raise UserError("--folds does not run on several workers; leave out --nproc")
        _check_local_processes(nproc, "--nproc")
        set_ = [*(set_ or []), "train.strategy=multi_worker"]
    held = contextlib.ExitStack()  # --resume auto: this config's choice lock, until the end
    # --json: stdout is one JSON object; progress still goes to stderr (unless --quiet)
    log = None if quiet else say_on_stderr  # a reader that leaves does not stop the training
    say = log or (lambda m: None)
    todo = plan(config, set_ or [], resume, _runs_dir(runs_dir), held, say, folds, runs_dir)
    if todo.completed:
        held.close()
        _show_train_result(completed_result(todo.run), quiet, as_json)
        return
    if nproc is not None:
        _launch(todo.cfg, nproc, config, todo.overrides, runs_dir, todo.run, quiet, as_json)
        return
    with held:
        result = _train(todo, _runs_dir(runs_dir), quiet, log, as_json)
    _show_train_result(result, quiet, as_json)


def _train(todo: Any, runs_root: Path, quiet: bool, log: Any, as_json: bool) -> dict[str, Any]:
    """Train what ``plan`` chose; an interrupted run says how to resume it (exit code 130)."""
    if todo.cfg.train.strategy == "multi_worker":  # a bad TF_CONFIG: one line, before TensorFlow
        from seqrun.engine.launch import cluster_from_env

        cluster_from_env()
    from seqrun.engine import experiment
    from seqrun.engine.checkpoint import Interrupted

    try:
        return experiment.train(
            todo.cfg,
            runs_root,
            quiet=quiet,
            argv=sys.argv,
            resume=todo.run,
            log=log,
            overrides=todo.overrides,
        )
    except Interrupted as e:
        if as_json:
            _interrupted_json(str(e))
        else:
            _err(f"interrupted; resume with: seqrun train --resume {e}")
            typer.echo(str(e))
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _interrupted_json(run_dir: Any) -> None:
    """`train --json`'s one object for a run stopped by Ctrl-C or SIGTERM."""
    _print_json({"run_dir": str(run_dir), "status": "interrupted", "metrics": None})


def _show_train_result(result: dict[str, Any], quiet: bool, as_json: bool) -> None:
    """What `train` prints: the JSON result, or a metrics table on stderr and the run
    directory on stdout (nothing on a worker of a multi-worker run: the chief reports)."""
    if as_json:
        _print_json(result)
        return
    if result.get("worker"):
        return
    if not quiet and "folds" in result:
        _cv_table(result)
    elif not quiet:
        _metrics_table(f"dev metrics (best epoch {result['best_epoch']})", result["metrics"])
    typer.echo(result["run_dir"])


def _launch(
    cfg: Any,
    nproc: int,
    config: Path | None,
    set_: list[str] | None,
    runs_dir: Path | None,
    run: Any,
    quiet: bool,
    as_json: bool,
) -> None:
    """`train --nproc N`: the config (and run) were checked here; N workers train it."""
    import os

    from seqrun.engine.launch import run_local

    if os.environ.get("TF_CONFIG"):
        raise UserError(
            "TF_CONFIG is set: this process is already a worker of a cluster; run `seqrun train` "
            "without --nproc on each machine, or unset TF_CONFIG",
            where="--nproc",
        )
    args = [str(config)] if config is not None else []
    for s in set_ or []:
        args += ["--set", s]
    if runs_dir is not None:
        args += ["--runs-dir", str(runs_dir)]
    if run is not None:
        args += ["--resume", str(run.path)]
    chief = (["--json"] if as_json else []) + (["--quiet"] if quiet else [])
    code = run_local(
        nproc,
        args,
        chief_args=chief,
        resume_dir=run.path if run is not None else None,
        echo=typer.echo,
        err=_err,
        on_interrupted=_interrupted_json if as_json else None,  # as one process does
    )
    if code:
        raise typer.Exit(code)


def _cv_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from seqrun.engine.listing import headline_keys

    table = Table(
        title=f"dev = held-out fold, {result['folds']} {result['scheme']} folds", show_header=True
    )
    from seqrun.engine.listing import NORM_NOTE, metric_unit

    table.add_column("metric", overflow="fold")  # a name is never cut to …
    table.add_column("mean +- std", justify="right")
    table.add_column("unit")
    table.add_column("per fold", justify="left")
    stats = result["cv"]
    first = headline_keys()
    keys = [k for k in first if k in stats] + [
        k for k in stats if k not in first and "." not in k and k != "n"
    ]
    for k in keys:
        s = stats[k]
        table.add_row(
            escape(k),
            f"{s['mean']:.4g} +- {s['std']:.2g}",
            escape(metric_unit(k, result["metrics"])),
            " ".join(f"{v:.3g}" for v in s["values"]),
        )
    if any("_norm" in k for k in keys):
        table.caption = NORM_NOTE
    Console(stderr=True).print(table)


@app.command()
@handle_errors
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (or name/id under --runs-dir).")],
    split: Annotated[str, typer.Option("--split", help="test or dev.")] = "test",
    checkpoint: Annotated[str, typer.Option("--checkpoint", help="best or last.")] = "best",
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Score on other labelled data, read as the run's own: --set data.path=other.csv "
            "(repeatable; data.path, data.sample, data.test_path and the file's layout keys, "
            "such as data.separator, data.encoding, data.station). Nothing is written into "
            "the run.",
        ),
    ] = None,
    runs_dir: RunsDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score a saved run's checkpoint on a split rebuilt from the run's own config (or, with
    --set, from other data)."""
    from seqrun.core.runs import resolve_run

    if split not in ("test", "dev", "train"):
        raise UserError(f"unknown split '{split}'; use test, dev or train", where="--split")
    if checkpoint not in ("best", "last"):
        raise UserError(
            f"unknown checkpoint '{checkpoint}'; use best or last", where="--checkpoint"
        )
    run = resolve_run(run_dir, runs_dir)
    from seqrun.core.errors import RunFailure
    from seqrun.core.runs import run_not_writable
    from seqrun.engine import experiment

    overrides = list(set_ or [])
    problem = None if overrides else run_not_writable(run)
    if problem:  # the scores, plots and predictions go into the run
        raise RunFailure(problem)
    metrics = experiment.evaluate(run, split, checkpoint, overrides)
    status = run.status()  # a failed or interrupted run scored with --checkpoint last says so
    if as_json:
        _print_json({"run_dir": str(run.path), "status": status, "metrics": metrics})
        return
    folds = f", mean of {metrics['folds']} folds" if "folds" in metrics else ""
    state = "" if status == "completed" else f"; run status: {status}"
    other = f" on {' '.join(overrides)}" if overrides else ""
    _metrics_table(f"{split} metrics ({checkpoint} checkpoint{folds}{state}){other}", metrics)
    if overrides:
        typer.echo("note: scored on other data; nothing was written into the run", err=True)
    else:
        typer.echo(str(run.metrics_path(split, checkpoint)))


@app.command()
@handle_errors
def predict(
    run_dir: Annotated[Path, typer.Argument(help="A trained run directory.")],
    texts: Annotated[
        list[str] | None, typer.Argument(help="Texts to label, for a text run (quote each one).")
    ] = None,
    input_: Annotated[
        Path | None,
        typer.Option(
            "--input",
            "-i",
            help="File of new examples in the run's data format: one text per line or a "
            "CSV/TSV/JSONL table (text runs), a .ts, long CSV or .npz file (sequence runs); "
            "for a forecasting run, a series in the training file's layout: the forecast "
            "starts from its end. '-' reads standard input.",
        ),
    ] = None,
    column: Annotated[
        str | None,
        typer.Option("--column", help="Text column of a table (default: the run's text column)."),
    ] = None,
    checkpoint: Annotated[str, typer.Option("--checkpoint", help="best or last.")] = "best",
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="How the input file is written, when not as the training data: "
            "--set data.separator=';' (repeatable; only keys of the file's layout, such as "
            "data.separator, data.encoding, data.time_format, data.timezone, data.station).",
        ),
    ] = None,
    runs_dir: RunsDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Predict with a trained run: one line per example (label and probability, or the
    predicted value; then the example); a forecasting run forecasts from the end of --input."""
    from seqrun.core.runs import resolve_run

    if checkpoint not in ("best", "last"):
        raise UserError(
            f"unknown checkpoint '{checkpoint}'; use best or last", where="--checkpoint"
        )
    if not texts and input_ is None:
        raise UserError(
            'give --input FILE (any run), or texts to label ("a review" ...) for a text run'
        )
    from seqrun.engine.predict import predict as predict_rows

    run = resolve_run(run_dir, runs_dir)
    results = predict_rows(run, texts, input_, column, checkpoint, list(set_ or []))
    if as_json:
        _print_json({"run_dir": str(run.path), "predictions": results})
        return
    for r in results:
        typer.echo(_prediction_line(r))


def _prediction_line(row: dict[str, Any]) -> str:
    """One prediction as a line: label and probability (or the prediction), then what the
    example is (e.g. its text, shortened to 100 characters)."""
    from seqrun.engine.predict import PREDICTION_KEYS

    if "label" in row:
        head = [str(row["label"]), f"{row['probability']:.4f}"]
    else:
        value = row["prediction"]
        if isinstance(value, dict):  # several named outputs (a forecast's targets)
            shown = [
                f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in value.items()
            ]
            head = [" ".join(shown)]
        else:
            head = [f"{value:.6g}" if isinstance(value, float) else json.dumps(value)]
    what = " ".join(str(v) for k, v in row.items() if k not in PREDICTION_KEYS)
    what = " ".join(what.split())
    what = what if len(what) <= 100 else what[:97] + "..."
    return "\t".join([*head, what])


# ----------------------------------------------------------------------------- sweep


@app.command()
@handle_errors
def sweep(
    sweep_file: Annotated[
        Path, typer.Argument(help="Sweep YAML file (base:, grid:, random:, seeds:).")
    ],
    set_: SetOpt = None,
    runs_dir: RunsDirOpt = None,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Parallel trials.")] = 1,
    fail_fast: Annotated[
        bool, typer.Option("--fail-fast", help="Stop everything at the first failed trial.")
    ] = False,
    list_: Annotated[
        bool, typer.Option("--list", help="Print one `seqrun train ...` command per trial.")
    ] = False,
    index: Annotated[
        int | None,
        typer.Option("--index", help="Run trial I alone (e.g. $SLURM_ARRAY_TASK_ID)."),
    ] = None,
    executor: Annotated[
        str, typer.Option("--executor", help="local (processes) or ray (extra 'ray').")
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option("--address", help="Ray cluster: auto or ray://host:port (default: local)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run every trial of a sweep; completed trials are skipped when the sweep is rerun."""
    import shlex

    from seqrun.engine.sweep import Sweep, run_local, run_ray

    _check_executor(executor)

    sw = Sweep(sweep_file, _runs_dir(runs_dir), set_)
    if list_:
        commands = [
            shlex.join(sw.command(t, runs_dir_flag=runs_dir is not None)) for t in sw.trials
        ]
        if as_json:  # --json: one object here too, never lines
            listed = [
                {"index": t.index, "overrides": list(t.overrides), "command": c}
                for t, c in zip(sw.trials, commands, strict=True)
            ]
            _print_json({"sweep_dir": str(sw.dir), "trials": listed})
            return
        for command in commands:
            typer.echo(command)
        return
    sw.check_writable()  # before any trial: one line saying so (--list writes nothing)
    total = len(sw.trials)
    if index is not None:
        if not 0 <= index < total:
            raise UserError(
                f"--index {index} is out of range: the sweep has {total} trials (0..{total - 1})"
            )
        trials = [_run_index(sw, index)]
    else:

        def event(kind: str, t: Any) -> None:  # on stderr: --json keeps stdout for its object
            say_on_stderr(_sweep_line(kind, t, total))  # a reader that left: muted

        try:
            if executor == "ray":
                trials = run_ray(sw, workers, fail_fast, event, address)
            else:
                _check_local_processes(workers, "--workers")
                trials = run_local(sw, workers=workers, fail_fast=fail_fast, on_event=event)
        except KeyboardInterrupt:
            _err(f"sweep interrupted; rerun the same command to continue ({sw.state_path})")
            raise typer.Exit(EXIT_INTERRUPTED) from None
    counts: dict[str, int] = {}
    for t in trials:
        counts[t.status] = counts.get(t.status, 0) + 1
    failed = [t for t in trials if t.status not in ("completed", "skipped")]
    if as_json:
        _print_json(
            {
                "sweep_dir": str(sw.dir),
                "status": "failed" if failed else "completed",
                "counts": counts,
                "trials": [t.__dict__ for t in trials],
            }
        )
    else:
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        typer.echo(f"sweep {sw.name}: {summary}", err=True)
        typer.echo(str(sw.state_path))
    if failed:
        raise typer.Exit(1)


def _sweep_line(kind: str, t: Any, total: int) -> str:
    """One event of a sweep trial: skipped, started, queued, trained by another process,
    completed or failed."""
    head = f"[{t.index + 1}/{total}] {' '.join(t.overrides) or '(base)'}"
    if kind == "skip":
        return f"{head}: skipped, already completed in {t.run_dir}"
    if kind in ("start", "queue"):
        return f"{head}: {'started' if kind == 'start' else 'queued'}"
    if kind == "elsewhere":  # another live process trains it: not a failure
        return f"{head}: {t.error}"
    if t.status == "completed":
        m = " ".join(f"{k}={v:.4g}" for k, v in t.metrics.items())
        return f"{head}: completed in {t.duration_s:.0f}s  {m}  {t.run_dir}"
    return f"{head}: {t.status.upper()}: {t.error}"


def _run_index(sw: Any, index: int) -> Any:
    """Run one trial in this process (for job arrays), recording it in sweep.json; its
    messages go to stderr, with --json too (that changes stdout only)."""
    from seqrun.engine.sweep import run_index

    t = run_index(sw, index, say=lambda m: typer.echo(m, err=True))
    if t.status not in ("completed", "skipped"):
        _err(f"trial {index}: {t.status}: {t.error}")
    return t


# ----------------------------------------------------------------------------- tune


@app.command()
@handle_errors
def tune(
    study_file: Annotated[
        Path, typer.Argument(help="Study YAML file (base:, space:, trials:, sampler:, pruner:).")
    ],
    set_: SetOpt = None,
    runs_dir: RunsDirOpt = None,
    trials: Annotated[
        int | None,
        typer.Option("--trials", min=1, help="Finished (complete + pruned) trials wanted."),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", min=0, help="Seconds after which no new trial starts."),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, help="Parallel worker processes.")
    ] = 1,
    storage: Annotated[
        str | None,
        typer.Option(
            "--storage",
            help="Optuna RDB URL (sqlite:///f.db, postgresql://...) or journal file; "
            "default: <runs>/_studies/<name>/journal.log.",
        ),
    ] = None,
    executor: Annotated[
        str, typer.Option("--executor", help="local (processes) or ray (extra 'ray').")
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option("--address", help="Ray cluster: auto or ray://host:port (default: local)."),
    ] = None,
    report_: Annotated[
        bool,
        typer.Option("--report", help="Write the study's report.html and best.yaml, no training."),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No per-trial lines.")] = False,
    worker: Annotated[bool, typer.Option("--worker", hidden=True)] = False,
    as_json: JsonOpt = False,
) -> None:
    """Search a config space with Optuna, pruning bad trials after any epoch; rerun to continue."""
    from seqrun.engine import tune as tuning

    _check_executor(executor)
    if worker:
        tuning._death_signal()
    st = tuning.Study(study_file, _runs_dir(runs_dir), set_, storage)
    if report_:
        study = st.open()
        path = tuning.write_report(st, study)
        info = {**tuning.summary(st, study), "report": str(path)}
        if as_json:
            _print_json(info)
        else:
            typer.echo(str(path))
        return

    def event(o: Any) -> None:
        if not (quiet or worker):  # on stderr: --json keeps stdout for its object
            say_on_stderr(_trial_line(o, st.monitor))  # a reader that left: muted

    try:
        if workers > 1 or executor == "ray":
            if executor == "local":
                _check_local_processes(workers, "--workers")
            results = tuning.run_workers(
                st, workers, trials, timeout, executor, address, on_event=event
            )
            broken = [t for t in results if t.status not in ("completed", "skipped")]
            if broken:
                raise typer.Exit(_worker_failed(broken))
            study = st.open()
        else:
            study = tuning.run_worker(st, trials, timeout, on_event=event)
    except KeyboardInterrupt:
        _err("tune interrupted; rerun the same command to continue the study")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    _show_study(st, tuning.summary(st, study), as_json)


def _trial_line(o: Any, monitor: str) -> str:
    """One finished tune trial: state, epochs, dev value, parameters, run directory."""
    params = " ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in o.params.items()
    )
    if o.state == "FAIL":
        return f"trial {o.number}: FAILED: {o.error}  {params}"
    value = "" if o.value is None else f" dev_{monitor}={o.value:.4g}"
    return (
        f"trial {o.number}: {o.state.lower()} after {o.epochs} epoch{'s' * (o.epochs != 1)}"
        f"{value}  {params}  "
        f"{o.run_dir}"
    )


def _show_study(st: Any, info: dict[str, Any], as_json: bool) -> None:
    """A study's summary: JSON, or counts and the best trial on stderr, its run on stdout."""
    if as_json:
        _print_json(info)
        return
    counts = ", ".join(f"{n} {s}" for s, n in sorted(info["counts"].items()) if n)
    if not counts:  # e.g. --timeout 0, or every worker stopped before asking for one
        typer.echo(f"study {st.name}: no trials yet", err=True)
    else:
        epochs = f"{info['epochs']} epoch{'s' * (info['epochs'] != 1)}"
        typer.echo(f"study {st.name}: {counts}; {epochs} trained", err=True)
    if info["best_trial"] is not None:
        typer.echo(
            f"best: trial {info['best_trial']} {info['monitor']}={info['best_value']:.5g} "
            f"{info['best_params']}",
            err=True,
        )
        typer.echo(str(info["best_run_dir"]))


def _worker_failed(broken: list[Any]) -> int:
    """Report failed tune workers; the exit code (2 when one had bad input)."""
    for t in broken:
        _err(f"tune worker {t.index}: {t.status}: {t.error}")
    return EXIT_INTERRUPTED if all(t.status == "interrupted" for t in broken) else 1


# ----------------------------------------------------------------------------- data


@data_app.command("describe")
@handle_errors
def data_describe(
    config: Annotated[Path, typer.Argument(help="Experiment YAML file.")],
    set_: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Split sizes, classes or target statistics, lengths, vocabulary, gaps, time spans and
    leakage checks of an experiment's data; reads every split, test included (no training,
    no TensorFlow)."""
    from seqrun.core.config import load_config
    from seqrun.engine.describe import describe, render

    info = describe(load_config(config, set_))
    if as_json:
        _print_json(info)
        return
    typer.echo(render(info), nl=False)


# ----------------------------------------------------------------------------- config


@config_app.command("validate")
@handle_errors
def config_validate(
    config: Annotated[Path, typer.Argument(help="Experiment, sweep or study YAML file.")],
    set_: SetOpt = None,
) -> None:
    """Check an experiment file (and overrides) without importing TensorFlow; a sweep or
    study file is checked as `seqrun sweep` and `seqrun tune` check it before any trial."""
    from seqrun.core.config import apply_overrides, read_yaml, resolve, spec_kind

    source = read_yaml(config)  # once: a pipe (bash's <(...)) reads once
    kind = spec_kind(source.raw)
    if kind == "sweep":
        from seqrun.engine.sweep import Sweep

        sw = Sweep(config, _runs_dir(None), set_)
        typer.echo(
            f"ok: {config} (sweep {sw.name}, base {sw.spec.base}, {len(sw.trials)} trial(s))"
        )
        return
    if kind == "study":
        from seqrun.engine.tune import Study, budget

        st = Study(config, _runs_dir(None), set_)
        typer.echo(
            f"ok: {config} (study {st.name}, base {st.spec.base}, {len(st.spec.space)} key(s) "
            f"searched, {budget(st, None)} trial(s), sampler {st.sampler_kind}, pruner "
            f"{st.pruner_kind}, objective dev_{st.monitor}, {st.direction})"
        )
        return
    apply_overrides(source, set_ or [])
    cfg = resolve(source)
    typer.echo(
        f"ok: {config} (name {cfg.name}, adapter {cfg.data.adapter}, "
        f"encoder {cfg.encoder.type}, arch {cfg.model.arch}, metrics {cfg.metrics})"
    )


@config_app.command("show")
@handle_errors
def config_show(
    config: Annotated[Path, typer.Argument(help="Experiment YAML file.")],
    set_: SetOpt = None,
) -> None:
    """Print the resolved config (defaults filled in, overrides applied) as YAML."""
    from seqrun.core.config import load_config

    typer.echo(load_config(config, set_).to_yaml(), nl=False)


@config_app.command("schema")
@handle_errors
def config_schema(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the config reference table instead.")
    ] = False,
) -> None:
    """Print the JSON Schema of experiment files (for the YAML language server)."""
    from seqrun.core import config

    if markdown:
        typer.echo(config.reference_markdown(), nl=False)
    else:
        typer.echo(json.dumps(config.json_schema(), indent=2))


# ----------------------------------------------------------------------------- list


@app.command("list")
@handle_errors
def list_components() -> None:
    """List registered dataset adapters, encoders, architectures and metric sets."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from seqrun.core.registry import KINDS, registry
    from seqrun.engine.listing import terminal_width

    rows = [(k, e.name, e.describe(), e.source) for k in KINDS for e in registry.entries(k)]
    width = terminal_width(160)  # COLUMNS, the terminal, else 160 (piped)
    if width < 80:  # too narrow for four columns: each component, its description below
        import textwrap

        for kind, name, text, source in rows:
            typer.echo(f"{kind} {name} ({source})")
            typer.echo(textwrap.fill(text, width, initial_indent="  ", subsequent_indent="  "))
        return
    table = Table(show_header=True, box=None)
    for i, col in enumerate(("kind", "name", "description", "source")):
        if col == "description":  # it wraps in its cell to fit the terminal
            table.add_column(col, overflow="fold")
        else:  # a name is never cut (…) nor folded: it is what a config names
            table.add_column(col, no_wrap=True, min_width=max(len(r[i]) for r in rows))
    for row in rows:
        table.add_row(*map(escape, row))
    Console(width=width).print(table)


# ----------------------------------------------------------------------------- runs


@runs_app.command("list")
@handle_errors
def runs_list(
    runs_dir: RunsDirOpt = None,
    name: Annotated[str | None, typer.Option("--name", help="Only runs of this name.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Only runs with this status.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON array on stdout (an object per run).")
    ] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
) -> None:
    """One line per run: name, id, status, dev and test headline metrics, duration."""
    from seqrun.engine.listing import list_runs, render_runs

    given = runs_dir is not None or bool(os.environ.get("SEQRUN_RUNS_DIR"))
    rows = list_runs(_runs_dir(runs_dir), name=name, status=status, given=given)
    render_runs(rows, "json" if as_json else "csv" if as_csv else "table")


@runs_app.command("show")
@handle_errors
def runs_show(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (or name/id).")],
    runs_dir: RunsDirOpt = None,
) -> None:
    """Config, meta, metrics, model summary and files of one run."""
    from seqrun.core.runs import resolve_run
    from seqrun.engine.listing import show_run

    show_run(resolve_run(run_dir, runs_dir))


@runs_app.command("compare")
@handle_errors
def runs_compare(
    runs: Annotated[list[Path] | None, typer.Argument(help="Run directories (or name/id).")] = None,
    sweep_dir: Annotated[
        Path | None, typer.Option("--sweep", help="Compare the runs of a sweep directory.")
    ] = None,
    split: Annotated[
        str | None,
        typer.Option("--split", help="dev or test (default: dev; test with --test)."),
    ] = None,
    sort: Annotated[
        str | None, typer.Option("--sort", help="Sort by a metric; prefix '-' for descending.")
    ] = None,
    test: Annotated[
        bool,
        typer.Option(
            "--test",
            help="Significance: McNemar (classifiers) or Diebold-Mariano (forecasts) for two "
            "runs on the same items; a paired t-test for two configurations over seeds.",
        ),
    ] = False,
    runs_dir: RunsDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Config keys that differ between runs and their metrics; mean +- std over seeds."""
    from seqrun.core.runs import resolve_run
    from seqrun.engine.listing import compare_runs, render_compare, sweep_runs

    chosen = [resolve_run(r, runs_dir) for r in runs or []]
    if sweep_dir is not None:
        chosen += sweep_runs(sweep_dir)
    if len(chosen) < 2 and sweep_dir is not None:
        raise UserError(
            f"the sweep has {len(chosen)} run(s) to compare (its other trials have no run "
            "directory: pending or failed before training; see sweep.json); rerun the sweep",
            where=str(sweep_dir),
        )
    if len(chosen) < 2:
        raise UserError("give at least two runs, or --sweep DIR", where="runs compare")
    split = split or ("test" if test else "dev")
    comparison = compare_runs(chosen, split)
    if not test:
        render_compare(comparison, sort, "json" if as_json else "table")
        return
    from seqrun.engine import stats

    if len(chosen) == 2:
        result = stats.compare_two(chosen[0], chosen[1], split)
    else:
        result = stats.compare_seed_groups(comparison, sort.lstrip("-") if sort else None)
    if as_json:
        _print_json(result)
        return
    shown = {k: v for k, v in result.items() if k != "verdict"}
    for k, v in shown.items():
        typer.echo(f"{k:>16}: {v}")
    typer.echo(result["verdict"])


@app.command("report")
@handle_errors
def report(
    run_dir: Annotated[
        Path, typer.Argument(help="A run directory (or name/id), or a study directory.")
    ],
    open_: Annotated[bool, typer.Option("--open", help="Open it in a web browser.")] = False,
    runs_dir: RunsDirOpt = None,
) -> None:
    """Write one self-contained report.html into the run (config, data, curves, metrics);
    for a study directory (runs/_studies/NAME), the study's report and best.yaml."""
    from seqrun.core.runs import resolve_run
    from seqrun.engine.report import write_report

    if (run_dir / "study.json").is_file():
        from seqrun.engine import tune as tuning

        st, study = tuning.study_from_dir(run_dir)
        path = tuning.write_report(st, study)
    else:
        run = resolve_run(run_dir, runs_dir)
        path = write_report(run, _describe_brief(run))
    if open_:
        import webbrowser

        webbrowser.open(path.resolve().as_uri())
    typer.echo(str(path))


def _describe_brief(run: Any) -> dict[str, Any] | None:
    """`data describe` of a run's config for its report; None when the data is not at hand."""
    import contextlib
    import io

    try:
        from seqrun.engine.archive import load_run_config
        from seqrun.engine.describe import brief, describe

        with contextlib.redirect_stderr(io.StringIO()):  # adapter warnings were shown at train
            return brief(describe(load_run_config(run)))
    except Exception:  # moved data, another machine: the report goes on without it
        return None


@app.command("env")
@handle_errors
def env_info(as_json: JsonOpt = False) -> None:
    """What a bug report needs: versions, devices, strategies, threads (imports TensorFlow)."""
    from seqrun.engine.envinfo import collect

    info = collect()
    if as_json:
        _print_json(info)
        return
    import yaml

    typer.echo(yaml.safe_dump(info, sort_keys=False, allow_unicode=True), nl=False)


def main() -> None:
    """Console-script entry point."""
    import os

    from seqrun.engine.processes import sigterm_interrupts

    # a path named in another encoding (Python holds its bytes as surrogates) prints as its
    # own bytes, as ls prints it, not as a UnicodeEncodeError once its files are written; a
    # character the stdout's encoding lacks (°F, ± on an ASCII stdout: LC_ALL=C with
    # PYTHONUTF8=0, PYTHONIOENCODING=ascii) is written as stderr writes it (\xb0F)
    errors = getattr(sys.stdout, "errors", None)  # surrogateescape: the C locale's
    if errors in ("strict", "surrogateescape") and hasattr(sys.stdout, "reconfigure"):
        import codecs

        codecs.register_error("seqrun", _escape_unencodable)
        sys.stdout.reconfigure(errors="seqrun")
    try:
        with sigterm_interrupts():  # from the start: SIGTERM is Ctrl-C (exit code 130)
            app()
    except KeyboardInterrupt:
        _err("interrupted")
        code = EXIT_INTERRUPTED
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if isinstance(e.__context__, BrokenPipeError):  # rich's and click's exit(1) when
            code = 0  # `seqrun ... | head` leaves: nothing is wrong, as in handle_errors
    else:
        code = 0
    if code == EXIT_INTERRUPTED and "tensorflow" in sys.modules:
        # leave at once: TensorFlow's worker threads may still be running, and tearing the
        # interpreter down under them can crash; every file is already written and flushed
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    _leave_on_signal(code)
    sys.exit(code)


def _escape_unencodable(exc: UnicodeError) -> tuple[str | bytes, int]:
    """Encoding error handler of seqrun's stdout: a path's undecodable bytes (surrogates) are
    written back as those bytes (surrogateescape), any other character the encoding lacks as
    a backslash escape (backslashreplace, as Python's stderr does)."""
    import codecs

    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    if all("\udc80" <= ch <= "\udcff" for ch in bad):
        try:
            return codecs.lookup_error("surrogateescape")(exc)
        except UnicodeError:
            pass
    return codecs.lookup_error("backslashreplace")(exc)


def _leave_on_signal(code: int) -> None:
    """The command has ended (its files written): flush its output, then let a late Ctrl-C or
    SIGTERM (a scheduler's, during the second or two TensorFlow takes to tear down) leave at
    once with the command's exit code, rather than kill a completed run by the signal. Once
    the exit handlers run they are ignored instead: the interpreter's finalization resets a
    Python handler to the default action (death by the signal), not an ignored signal."""
    import atexit
    import contextlib
    import os
    import signal

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()

    def leave(signum: int, frame: Any) -> None:
        os._exit(code)

    from seqrun.core.runs import stop_signals

    def set_all(handler: Any) -> None:
        for sig in stop_signals():
            with contextlib.suppress(OSError, ValueError):
                signal.signal(sig, handler)

    set_all(leave)
    atexit.register(set_all, signal.SIG_IGN)  # the last registered: run first at exit


__all__ = ["app", "main", "EXIT_USER_ERROR"]
