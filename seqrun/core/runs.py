"""Run directories: creation, atomic writes, metadata, listing. Imports no TensorFlow.

Layout of one run::

    runs/<name>/<YYYYmmdd-HHMMSS>-<id>/
        config.yaml        resolved config (overrides applied)
        meta.json          status, versions, command, git commit, seed, host, times, data,
                           the warnings the training printed
        history.csv        one row per epoch
        metrics/dev.json   metrics/test.json (written by `seqrun evaluate`)
        checkpoints/best.keras  checkpoints/last.keras  checkpoints/state.json
        preprocessing/     fitted encoder state
        plots/             learning curves and task plots
        .lock              held (flock) by the process training the run; its pid and host
                           (shared by evaluate and report while they write into the run)
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from seqrun.core.errors import RunFailure, UserError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

STATUSES = ("running", "completed", "pruned", "failed", "interrupted", "dead")
LOCK_NAME = ".lock"
_UMASK = os.umask(0o022)
os.umask(_UMASK)


MAX_NAME_LEN = 100
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


def check_path_name(name: Any, key: str = "name") -> str:
    """Validate a name that becomes a directory under the runs directory; return it.

    Every name that becomes a path (experiment names, sweep names, study names) goes through
    this one check, so that nothing is ever written outside ``--runs-dir``: letters, digits,
    '.', '_' and '-', starting with a letter or digit, at most MAX_NAME_LEN characters (no
    '/', '..', absolute paths, empty names or control characters). Raises UserError naming
    ``key``.
    """
    if not isinstance(name, str):
        raise UserError(f"'{key}' must be a text name, got {type(name).__name__}", where=key)
    shown = repr(name) if len(name) <= 60 else repr(name[:57]) + "..."
    rule = (
        "use letters, digits, '.', '_' and '-', starting with a letter or digit "
        "(it becomes a directory under the runs directory)"
    )
    if not name:
        raise UserError(f"'{key}' is empty; {rule}", where=key)
    if len(name) > MAX_NAME_LEN:
        raise UserError(
            f"'{key}' {shown} has {len(name)} characters, more than {MAX_NAME_LEN}", where=key
        )
    bad = sorted({c for c in name if c not in _NAME_CHARS})
    if bad or not name[0].isalnum():
        what = ", ".join(repr(c) for c in bad[:5]) if bad else repr(name[0]) + " first"
        raise UserError(f"'{key}' {shown} is not a valid name ({what}); {rule}", where=key)
    return name


def inside(root: Path, path: Path) -> Path:
    """``path``, after checking that it lies inside ``root`` (RunFailure otherwise)."""
    real_root, real = Path(os.path.abspath(root)), Path(os.path.abspath(path))
    if real != real_root and real_root not in real.parents:
        raise RunFailure(f"refusing to write {path}: it is outside the runs directory {root}")
    return path


def default_runs_dir() -> Path:
    """``$SEQRUN_RUNS_DIR`` or ``./runs``."""
    return Path(os.environ.get("SEQRUN_RUNS_DIR") or "runs").expanduser()


def active_seconds(meta: dict[str, Any], now: float) -> float:
    """Seconds a run has spent running up to ``now``: its earlier attempts
    (``active_s_before``, kept by :meth:`Run.resumed`) and the current one since it started
    (``attempt_ts``, else ``started_ts``)."""
    start = meta.get("attempt_ts", meta.get("started_ts", now))
    before = meta.get("active_s_before") or 0.0
    if not isinstance(start, int | float) or not isinstance(before, int | float):
        return 0.0
    return float(before) + max(0.0, now - start)


def merged_warnings(recorded: Any, new: list[str]) -> list[str]:
    """meta.json's ``warnings``: those ``recorded`` (earlier attempts of a resumed run; a
    value that is not a list of texts, hand-edited, is dropped) followed by the ``new`` ones
    not among them, each once, in order."""
    earlier = recorded if isinstance(recorded, list) else []
    return list(dict.fromkeys([*(w for w in earlier if isinstance(w, str)), *new]))


def now_iso() -> str:
    """The current UTC time, ISO 8601 with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename; an OSError (the
    temporary file cannot be created, a full disk fails the write) names ``path``, not the
    temporary name, and leaves no temporary file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise type(e)(e.errno, e.strerror, str(path)) from None
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp creates 0600; keep the usual permissions
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:  # a full disk fails the write: name the file, not the temporary one
        Path(tmp).unlink(missing_ok=True)
        raise type(e)(e.errno, e.strerror, str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 text atomically; a path that is not UTF-8 (a folder named in another
    encoding, which Python holds as surrogates) keeps its own bytes, not a UnicodeEncodeError."""
    atomic_write_bytes(path, text.encode("utf-8", errors="surrogateescape"))


def write_json(path: Path, obj: Any) -> None:
    """Write strict JSON atomically (keys in insertion order, indented): NaN and infinities,
    numpy's too, are written as null (see :func:`to_json`)."""
    atomic_write_text(path, to_json(obj, indent=2) + "\n")


def to_json(
    obj: Any, indent: int | None = None, fallback: Any = None, ensure_ascii: bool = True
) -> str:
    """``obj`` as strict JSON text, which every parser reads (JavaScript, jq, ``json.loads``
    with ``parse_constant``): NaN and infinities as null, numpy scalars and arrays as numbers
    and lists, paths as text; any other object goes through ``fallback`` (e.g. ``str``), or
    is a TypeError without one."""

    def default(o: Any) -> Any:
        if fallback is not None and not (hasattr(o, "tolist") or isinstance(o, Path)):
            return fallback(o)
        return _json_default(o)

    return json.dumps(
        json_safe(obj), indent=indent, default=default, allow_nan=False, ensure_ascii=ensure_ascii
    )


def _json_default(o: Any) -> Any:
    if hasattr(o, "tolist"):  # numpy values: NaN inside an array is null too
        return json_safe(o.tolist())
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def read_json(path: Path) -> Any:
    """Read a JSON file; None when absent. Files of older seqruns that hold ``NaN`` or
    ``Infinity`` still read (as floats)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def json_safe(obj: Any) -> Any:
    """``obj`` with NaN and infinities as null (JSON has no NaN; strict parsers refuse it)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj


def null_as_nan(obj: Any) -> Any:
    """``obj`` with every null as NaN, in dicts and lists at any depth: what a metrics file's
    null means (a value that is not a number: seqrun writes NaN as null, older files hold
    ``NaN`` itself), so that readers treat both alike."""
    if obj is None:
        return math.nan
    if isinstance(obj, dict):
        return {k: null_as_nan(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [null_as_nan(v) for v in obj]
    return obj


def read_state(path: Path, fix: str) -> dict[str, Any] | None:
    """A JSON object seqrun wrote (sweep.json, study.json); None when absent. An unreadable
    file, or one not holding an object, is a UserError naming it and ``fix``."""
    try:
        data = read_json(path)
    except (OSError, ValueError) as e:
        problem = f"{type(e).__name__}: {str(e)[:80]}"
        raise UserError(f"unreadable ({problem}); {fix}", where=str(path)) from None
    if data is not None and not isinstance(data, dict):
        raise UserError(f"does not hold a JSON object; {fix}", where=str(path))
    return data


def git_commit(cwd: Path | None = None) -> str | None:
    """The HEAD commit of the git checkout around ``cwd`` (with ``+dirty``), or None."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def metrics_name(split: str, checkpoint: str = "best", cv: bool = False) -> str:
    """The file stem of a split's metrics (also of its plot and predictions): ``test``,
    ``test-last`` for the last checkpoint; a cross-validation's spread over its folds is ``cv``
    (dev) or ``cv-<name>``."""
    name = split if checkpoint == "best" else f"{split}-{checkpoint}"
    if cv:
        return "cv" if name == "dev" else f"cv-{name}"
    return name


def metric_name(key: str) -> str:
    """A metric's bare name: ``dev_loss``, ``val_loss`` (Keras) and ``loss`` are ``loss``."""
    return key.removeprefix("dev_").removeprefix("val_")


def dev_key(keras_key: str) -> str:
    """seqrun's name of a Keras log key: ``val_<m>`` (the validation data) is ``dev_<m>``;
    other keys are kept."""
    return "dev_" + keras_key[4:] if keras_key.startswith("val_") else keras_key


def keras_key(monitor: str) -> str:
    """The Keras log key of a dev metric (``dev_loss`` or ``loss`` -> ``val_loss``)."""
    return "val_" + metric_name(monitor)


def stop_signals() -> list[int]:
    """The signals that stop a command and leave its run ``interrupted``: Ctrl-C (SIGINT),
    SIGTERM, and SIGHUP (the terminal or SSH session closed) unless this process was started
    to ignore it (``nohup``)."""
    import signal

    sigs = [signal.SIGINT, signal.SIGTERM]
    hup = getattr(signal, "SIGHUP", None)  # not on Windows
    if hup is not None and signal.getsignal(hup) is not signal.SIG_IGN:
        sigs.append(hup)
    return sigs


@contextlib.contextmanager
def signals_ignored():
    """Meanwhile the :func:`stop_signals` are ignored (main thread only), so that the record of how
    a run ended is not cut short by the next signal. A parent killed with SIGKILL sends its
    child one SIGTERM per thread it had (the child is handed from dying thread to thread,
    PR_SET_PDEATHSIG firing each time): a second signal is the rule, not a user's second
    Ctrl-C."""
    import signal

    old = {}
    try:
        for sig in stop_signals():
            old[sig] = signal.signal(sig, signal.SIG_IGN)
    except ValueError:  # not the main thread: leave them alone
        pass
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


class Run:
    """One run directory and its metadata."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        # the warnings this process printed for the run (a list that
        # core.text.recorded_warnings fills as it trains): every meta.json write through this
        # object adds those not yet recorded to meta's ``warnings`` (see merged_warnings)
        self.warnings: list[str] | None = None

    # -- paths
    @property
    def meta_path(self) -> Path:
        return self.path / "meta.json"

    @property
    def config_path(self) -> Path:
        return self.path / "config.yaml"

    @property
    def lock_path(self) -> Path:
        return self.path / LOCK_NAME

    def checkpoint(self, which: str = "best") -> Path:
        """Path of ``checkpoints/<which>.keras``."""
        return self.path / "checkpoints" / f"{which}.keras"

    @property
    def preprocessing(self) -> Path:
        return self.path / "preprocessing"

    @property
    def plots(self) -> Path:
        return self.path / "plots"

    def metrics_path(self, split: str, checkpoint: str = "best", cv: bool = False) -> Path:
        """``metrics/<name>.json`` of a split scored with a checkpoint (:func:`metrics_name`)."""
        return self.path / "metrics" / f"{metrics_name(split, checkpoint, cv)}.json"

    # -- metadata
    def meta(self) -> dict[str, Any]:
        """meta.json (empty dict when unreadable)."""
        try:
            meta = read_json(self.meta_path) or {}
        except (OSError, ValueError):
            return {}
        return meta if isinstance(meta, dict) else {}

    def meta_problem(self, record: bool = True) -> str | None:
        """What is wrong with meta.json (absent, unreadable, not an object; with ``record``,
        lacking the run's status or config key), or None."""
        try:
            meta = read_json(self.meta_path)
        except (OSError, ValueError) as e:
            return f"meta.json is unreadable ({type(e).__name__}: {str(e)[:80]})"
        if meta is None:
            return "the run has no meta.json"
        if not isinstance(meta, dict):
            return "meta.json does not hold a JSON object"
        if record and (not isinstance(meta.get("status"), str) or "config_key" not in meta):
            return "meta.json lacks the run's record (its status and config key)"
        return None

    def update_meta(self, **fields: Any) -> dict[str, Any]:
        """Merge ``fields`` into meta.json atomically (and :attr:`warnings`, when set)."""
        meta = self.meta()
        meta.update(fields)
        if self.warnings is not None:
            meta["warnings"] = merged_warnings(meta.get("warnings"), self.warnings)
        write_json(self.meta_path, meta)
        return meta

    def metrics(
        self, split: str, checkpoint: str = "best", cv: bool = False
    ) -> dict[str, Any] | None:
        """metrics/<name>.json (see :func:`metrics_name`), or None. A null in it is NaN (a
        metric that is not a number, e.g. of a diverged model), as older seqruns wrote it."""
        try:
            metrics = read_json(self.metrics_path(split, checkpoint, cv))
        except (OSError, ValueError):
            return None
        return null_as_nan(metrics) if isinstance(metrics, dict) else None

    def damage(self) -> list[str]:
        """What a completed run lacks of what evaluate, predict and the tables read: missing
        files (config.yaml, the best checkpoint, the fitted preprocessing; a cross-validation
        parent keeps no model of its own) and unreadable metrics files."""
        needed = [self.config_path]
        if self.meta().get("kind") != "cv":
            needed += [self.checkpoint("best"), self.preprocessing]
        found = [f"{p.relative_to(self.path)} is missing" for p in needed if not p.exists()]
        for split in ("dev", "test"):
            path = self.metrics_path(split, "best")
            if path.is_file() and self.metrics(split) is None:
                found.append(f"{path.relative_to(self.path)} is unreadable")
        return found

    def status(self) -> str:
        """The recorded status, or ``dead`` for a 'running' run whose process is gone.

        A run's ``.lock`` is held by the process training it (the kernel drops it when that
        process dies, SIGKILL included), so a free lock means dead even when the recorded pid
        was reused; runs without a lock file fall back to the pid on this host.
        """
        meta = self.meta()
        status = meta.get("status", "unknown")
        if not isinstance(status, str):
            return "unknown"
        if status == "running":
            held = lock_held(self.lock_path)
            if held is False:
                return "dead"
            if held is None and meta.get("host") == socket.gethostname():
                pid = meta.get("pid")
                if isinstance(pid, int) and pid > 0 and not pid_alive(pid):
                    return "dead"
        return status

    def check_present(self) -> None:
        """A RunFailure when the run directory is gone (moved or deleted while this process
        writes it), so that its files are not written again into a new folder of the old
        name (a run without its config, preprocessing or record)."""
        if not self.path.is_dir():
            raise RunFailure(
                f"the run directory {self.path} was moved or deleted while the run was being "
                "written; stopped without writing it again: resume the run where it now is "
                "(seqrun train --resume PATH), or train again"
            )

    def finish(self, status: str, error: str | None = None) -> None:
        """Record how the run ended: status, end time, duration (the time spent running, over
        every attempt of a resumed run), error (best effort unless ``completed``: the disk
        itself may be why it failed), with SIGINT and SIGTERM ignored while it is written
        (:func:`signals_ignored`). A run directory that is gone (moved, deleted) is not made
        again to hold the record; a completed run's is a RunFailure."""
        if not self.path.is_dir():
            if status == "completed":
                self.check_present()
            return
        ended = time.time()
        try:
            with signals_ignored():
                self.update_meta(
                    status=status,
                    ended_at=now_iso(),
                    ended_ts=ended,
                    duration_s=round(active_seconds(self.meta(), ended), 3),
                    error=error,
                )
        except OSError:
            if status == "completed":
                raise

    def attempt(self) -> dict[str, float]:
        """The meta.json fields of a new attempt of this run (a resume, read before it changes
        anything): the seconds its earlier attempts ran (``active_s_before``; up to a recorded
        end, or for a killed run up to its last sign of life: the newest of meta.json,
        history.csv and checkpoints/) and when this one starts. The time the run sat stopped
        or dead is not counted in its ``duration_s``."""
        meta = self.meta()
        if meta.get("status") == "running":  # killed
            files = [self.meta_path, self.path / "history.csv", self.path / "checkpoints"]
            times = [p.stat().st_mtime for p in files if p.exists()]
            before = active_seconds(meta, max(times, default=time.time()))
        else:  # it ended with a recorded duration
            recorded = meta.get("duration_s")
            before = float(recorded) if isinstance(recorded, int | float) else 0.0
        return {"active_s_before": round(before, 3), "attempt_ts": time.time()}

    def owner(self) -> str | None:
        """``pid N on HOST`` of the live process training this run, or None."""
        return lock_owner(self.lock_path)


def lock_owner(path: Path) -> str | None:
    """``pid N on HOST`` of the live process holding the lock file ``path``, or None when no
    process holds it."""
    return _holder_text(path) if lock_held(path) else None


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host lives (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie still answers kill(0); read its state where /proc exists
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


class FileLock:
    """An exclusive advisory lock (``flock``) on a file that records the holder's pid and host.

    The kernel releases it when the holding process ends, however it ends (SIGKILL included),
    so a free lock proves that nobody works under it. ``remove=True`` deletes the file on
    release (safely: a lock taken on a file that was meanwhile unlinked is retried).
    """

    def __init__(self, path: Path, remove: bool = False, shared: bool = False) -> None:
        self.path = Path(path)
        self.remove = remove
        self.shared = shared  # a shared hold (several at once; none beside an exclusive one)
        self.fd: int | None = None

    def acquire(self, wait_s: float = 1.0) -> bool:
        """Take the lock, retrying for ``wait_s`` seconds; False when another process holds it."""
        if fcntl is None:  # no flock (Windows): nothing to lock with
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + wait_s
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666 & ~_UMASK)
            try:
                fcntl.flock(fd, (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.02)  # a probe (lock_held) holds it for microseconds
                continue
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # unlinked by its last holder between our open and our lock
                os.close(fd)
                continue
            if not self.shared:  # the holder's name is the exclusive holder's alone
                os.ftruncate(fd, 0)
                os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode())
            self.fd = fd
            return True

    def release(self) -> None:
        """Drop the lock (and the file, with ``remove=True``)."""
        if self.fd is None:
            return
        if self.remove:
            self.path.unlink(missing_ok=True)
        os.close(self.fd)
        self.fd = None

    def holder(self) -> str:
        """What the holder wrote (``pid N on HOST``), or ``another process``."""
        return _holder_text(self.path)

    def __enter__(self) -> FileLock:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def lock_held(path: Path) -> bool | None:
    """Whether a live process holds the lock ``path``; None when there is no such file."""
    if fcntl is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops our probe
    return False


def _holder_text(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip() or "another process"
    except OSError:
        return "another process"


def replace_records(path: Path, split: str, lines: list[str]) -> None:
    """Replace the records of ``split`` in the JSON-lines file ``path`` (``errors.jsonl``: one
    object a line, each with its ``split``) by ``lines``, keeping the other splits' records.

    The file is read, then written again: under a lock, so that two commands scoring two
    splits of one run at once (two ``seqrun evaluate``) keep both splits' records (the second
    read what the first had not yet written, and its write dropped the first's)."""
    path = Path(path)
    with FileLock(path.with_name(f".{path.name}.lock"), remove=True) as lock:
        lock.acquire(wait_s=120)  # best effort past that: a lost record is not worth failing
        kept = []
        if path.is_file():
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    old = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(old, dict) or old.get("split") != split:
                    kept.append(line)
        atomic_write_text(path, "".join(line + "\n" for line in [*kept, *lines]))


def lock_run(run: Run) -> FileLock:
    """Lock ``run`` for this process (held until released or the process ends).

    Raises UserError when a live process already trains it, RunFailure when the run directory
    cannot be written.
    """
    lock = FileLock(run.lock_path)
    problem = run_not_writable(run)
    if problem:
        raise RunFailure(problem)
    if not lock.acquire():
        if lock_held(run.lock_path) is False:  # only shared holds: see share_run
            raise UserError(
                "another seqrun command (evaluate or report) is reading the run and writing "
                "its scores; not training it meanwhile (train again when that command has "
                "ended)",
                where=str(run.path),
            )
        raise UserError(
            f"the run is being trained by {lock.holder()}; not training it twice (stop that "
            "process first, or wait for it)",
            where=str(run.path),
        )
    return lock


def share_run(run: Run) -> FileLock | None:
    """A shared hold on the lock of ``run``, for a command that reads the run and writes its
    scores or report (evaluate, report) while it does: no process starts training the run
    meanwhile (a resume takes the lock exclusively, so it refuses), and several such commands
    share it. None when a live process trains the run (it holds the lock, perhaps while its
    meta.json still records how it ended before: a resume starting). A run whose folder
    cannot be written gets a hold of nothing (no file to lock; nothing trains it either)."""
    if run.status() == "running":
        return None
    lock = FileLock(run.lock_path, shared=True)
    try:
        return lock if lock.acquire(wait_s=0.2) else None
    except OSError:
        return FileLock(run.lock_path, shared=True)


def latest_run(runs_dir: Path, name: str, key: str) -> Run | None:
    """The newest run of experiment ``name`` whose resolved config has the key ``key``."""
    folder = Path(runs_dir) / name
    if not folder.is_dir():
        return None
    ids = sorted(
        (p for p in folder.iterdir() if p.is_dir() and (p / "meta.json").is_file()),
        key=lambda p: p.name,
        reverse=True,
    )
    for path in ids:
        run = Run(path)
        if run.meta().get("config_key") == key:
            return run
    return None


def check_folders(*folders: Path, what: str = "experiment name") -> None:
    """A UserError (exit 2) naming the first of ``folders`` (the runs directory, then folders
    inside it) that exists but is not a directory; ``what`` names the other way out."""
    for folder in folders:
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise UserError(
                f"this is a file, not a directory: choose another --runs-dir (or {what})",
                where=str(folder),
            )


def unwritable_folder(folder: Path) -> Path | None:
    """The nearest existing folder at or above ``folder`` when this process may not create
    files in it (read-only permissions or file system), else None."""
    path = Path(os.path.abspath(folder))
    while not path.exists():
        if path.parent == path:
            return None
        path = path.parent
    if not path.is_dir():
        return None  # a file where a folder should be: check_folders says so
    effective = os.access in os.supports_effective_ids
    return None if os.access(path, os.W_OK | os.X_OK, effective_ids=effective) else path


def not_writable(folder: Path, runs_dir: Path, why: str = "") -> str | None:
    """One line saying that ``folder`` (the runs directory, or a folder in it) cannot be
    written, what needs it (``why``) and how to fix it; None when it can be written."""
    blocked = unwritable_folder(folder)
    if blocked is None:
        return None
    root = Path(os.path.abspath(runs_dir))
    if blocked == root:
        what = f"the runs directory {runs_dir} is not writable"
    elif root in blocked.parents:
        what = f"{blocked} in the runs directory {runs_dir} is not writable"
    else:
        what = f"the runs directory {runs_dir} cannot be created: {blocked} is not writable"
    return (
        f"{what}{f' ({why})' if why else ''}; make it writable (chmod u+w {blocked}) or choose "
        "a writable --runs-dir (or SEQRUN_RUNS_DIR)"
    )


def run_not_writable(run: Run) -> str | None:
    """One line saying that the folder of ``run`` cannot be written (a resume writes its
    checkpoints, history and metrics there) and how to fix it; None when it can be."""
    blocked = unwritable_folder(run.path)
    if blocked is None:
        return None
    return (
        f"the run directory {run.path} is not writable (training and scoring write its "
        f"checkpoints, history and metrics there); make it writable (chmod -R u+w {blocked}) "
        "or copy the run into a writable runs directory"
    )


def create_run(runs_dir: Path, name: str) -> Run:
    """Create ``runs_dir/name/<timestamp>-<id>/``, unique even under concurrent starts; names
    sort by start time, to a fraction of a second."""
    parent = inside(runs_dir, Path(runs_dir) / check_path_name(name))
    check_folders(Path(runs_dir), parent)
    problem = not_writable(parent, runs_dir)
    if problem:
        raise RunFailure(problem)
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunFailure(f"cannot create the runs directory {parent}: {e.strerror}") from None
    now = datetime.now()
    stamp = now.strftime("%Y%m%d-%H%M%S")
    # the id starts with the fraction of the second (in 1/65536 s), so that runs started in
    # the same second sort by start too (runs list, the latest run); a random byte ends it
    tick = now.microsecond * 65536 // 1_000_000
    for _ in range(100):
        path = parent / f"{stamp}-{tick:04x}{secrets.token_hex(1)}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as e:
            raise RunFailure(f"cannot create a run directory in {parent}: {e.strerror}") from None
        return Run(path)
    raise RunFailure(f"could not find a free run directory name in {parent}")


def base_meta(seed: int, argv: list[str] | None = None) -> dict[str, Any]:
    """Metadata known before training starts (no TensorFlow versions yet)."""
    from seqrun import __version__

    return {
        "status": "running",
        "seqrun_version": __version__,
        "python_version": platform.python_version(),
        "command": argv if argv is not None else sys.argv,
        "cwd": os.getcwd(),
        "git_commit": git_commit(),
        "seed": seed,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started_at": now_iso(),
        "started_ts": time.time(),
    }


def resolve_run(ref: str | Path, runs_dir: Path | None = None, quiet: bool = False) -> Run:
    """A run from a path, or from ``name/id`` or ``id`` under the runs directory; a warning
    when its meta.json is unreadable (unless ``quiet``: the caller refuses such a run)."""
    p = Path(ref)
    if (p / "meta.json").is_file() or (p / "config.yaml").is_file():
        run = Run(p)
        problem = None if quiet else run.meta_problem()
        if problem:  # evaluate and predict still work from config.yaml and a checkpoint
            from seqrun.core.text import warn

            warn(f"{p}: {problem}: its status and provenance are unknown")
        return run
    root = runs_dir or default_runs_dir()
    if (root / p / "meta.json").is_file():
        return Run(root / p)
    matches = [m.parent for m in root.glob(f"*/{ref}*/meta.json")] if root.is_dir() else []
    if len(matches) == 1:
        return Run(matches[0])
    if len(matches) > 1:
        names = ", ".join(str(m) for m in matches[:5])
        raise UserError(f"'{ref}' matches {len(matches)} runs ({names}); give more of the id")
    raise UserError(
        "not a run directory (no meta.json); give runs/<name>/<run-id> or see `seqrun runs list`",
        where=str(ref),
    )


def iter_runs(runs_dir: Path) -> list[Run]:
    """Every run under ``runs_dir`` (two levels: name/run-id), newest first."""
    root = Path(runs_dir)
    if not root.is_dir():
        return []
    found = []
    with os.scandir(root) as names:
        for name in names:
            if not name.is_dir() or name.name.startswith("."):
                continue
            try:
                with os.scandir(name.path) as ids:
                    for rid in ids:
                        if rid.is_dir() and os.path.exists(os.path.join(rid.path, "meta.json")):
                            found.append(Run(Path(rid.path)))
            except OSError as e:  # an unreadable folder hides its runs, not the others
                print(f"warning: {name.path}: unreadable ({e.strerror or e})", file=sys.stderr)
    found.sort(key=lambda r: r.path.name, reverse=True)
    return found
