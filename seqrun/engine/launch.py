"""One run over several worker processes: the cluster of ``TF_CONFIG`` and ``train --nproc N``.

``train.strategy: multi_worker`` trains with ``MultiWorkerMirroredStrategy``: every worker runs
the same ``seqrun train``, reads its part of every global batch, and the gradients are summed
over the cluster. The chief (task ``chief``, else worker 0) writes the run directory; the other
workers write their checkpoints to a scratch folder outside it, removed at the end.

``seqrun train CONFIG --nproc N`` starts N workers on this machine (loopback ports, one
``TF_CONFIG`` each) and watches them: when one dies, it stops the others at once, marks the run
failed and says how to resume. Imports no TensorFlow.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqrun.core.errors import EXIT_FAILURE, EXIT_INTERRUPTED, UserError

LAUNCH_DIR_ENV = "SEQRUN_LAUNCH_DIR"  # set by the launcher: its scratch folder
LAUNCH_CMD_ENV = "SEQRUN_LAUNCH_COMMAND"  # set by the launcher: its command line (JSON)
RUN_DIR_FILE = "run_dir"  # the chief writes its run directory here, for the launcher
EXIT_LOST_PEER = 75  # a launched worker that lost a peer exits with this, silently


@dataclass
class Cluster:
    """The workers of ``TF_CONFIG`` and this process' place among them."""

    jobs: dict[str, list[str]]
    task_type: str
    index: int

    @property
    def addresses(self) -> list[str]:
        """Every task's address, chief first."""
        order = ["chief", "worker"] + sorted(set(self.jobs) - {"chief", "worker"})
        return [a for job in order for a in self.jobs.get(job, [])]

    @property
    def size(self) -> int:
        """How many workers train (the chief included)."""
        return len(self.jobs.get("chief", [])) + len(self.jobs.get("worker", []))

    @property
    def is_chief(self) -> bool:
        """Whether this process writes the run directory."""
        if "chief" in self.jobs:
            return self.task_type == "chief"
        return self.task_type == "worker" and self.index == 0

    @property
    def task(self) -> str:
        """``worker:1``-style name of this process' task."""
        return f"{self.task_type}:{self.index}"


def cluster_from_env(environ: Any = None) -> Cluster | None:
    """The cluster that ``TF_CONFIG`` describes (None when it is unset or empty)."""
    raw = (os.environ if environ is None else environ).get("TF_CONFIG", "").strip()
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError as e:
        raise UserError(f"TF_CONFIG is not valid JSON: {e}", where="TF_CONFIG") from None
    cluster = data.get("cluster") if isinstance(data, dict) else None
    task = data.get("task") if isinstance(data, dict) else None
    example = (
        '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
        '"task": {"type": "worker", "index": 0}}'
    )
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        raise UserError(f"TF_CONFIG needs 'cluster' and 'task', e.g. {example}", where="TF_CONFIG")
    jobs = {k: list(v) for k, v in cluster.items() if isinstance(v, list)}
    ttype, index = task.get("type"), task.get("index", 0)
    if not jobs.get("worker") and not jobs.get("chief"):
        raise UserError(f"TF_CONFIG lists no worker, e.g. {example}", where="TF_CONFIG cluster")
    if ttype not in jobs or not isinstance(index, int) or not 0 <= index < len(jobs[ttype]):
        raise UserError(
            f"task {ttype}:{index} is not in the cluster ({', '.join(sorted(jobs))})",
            where="TF_CONFIG task",
        )
    if ttype not in ("chief", "worker"):
        raise UserError(
            f"task type '{ttype}' does not train; MultiWorkerMirroredStrategy runs 'chief' "
            "and 'worker' tasks",
            where="TF_CONFIG task",
        )
    return Cluster(jobs, ttype, index)


def cluster_of(cfg: Any) -> Cluster | None:
    """The TF_CONFIG cluster of a multi-worker config (None otherwise, or without TF_CONFIG);
    a UserError for a k-fold config, whose folds train on one worker."""
    if cfg.train.strategy != "multi_worker":
        return None
    from seqrun.data.base import kfold_of

    cluster = cluster_from_env()
    if cluster is not None and kfold_of(cfg):
        raise UserError(
            "cross-validation does not run on several workers; train the folds one at a time "
            "(data.split.fold) or use train.strategy: default",
            where="train.strategy",
        )
    return cluster


def free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports free on the loopback interface right now."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def local_tf_configs(n: int) -> list[dict[str, Any]]:
    """One TF_CONFIG per local worker: a cluster of ``n`` loopback addresses."""
    workers = [f"127.0.0.1:{p}" for p in free_ports(n)]
    return [
        {"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}} for i in range(n)
    ]


def scratch_dir(cluster: Cluster) -> Path:
    """A fresh folder for a non-chief worker's files (under the launcher's, when launched)."""
    base = os.environ.get(LAUNCH_DIR_ENV) or None
    return Path(tempfile.mkdtemp(prefix=f"seqrun-{cluster.task_type}-{cluster.index}-", dir=base))


def announce_run_dir(path: Path) -> None:
    """Tell the launcher (if any) which run directory the chief writes."""
    folder = os.environ.get(LAUNCH_DIR_ENV)
    if folder and Path(folder).is_dir():
        (Path(folder) / RUN_DIR_FILE).write_text(str(Path(path).resolve()), encoding="utf-8")


def launched() -> bool:
    """Whether this process is a worker started by ``train --nproc``."""
    return bool(os.environ.get(LAUNCH_DIR_ENV))


def report_lost_peer(message: str) -> None:
    """A launched worker that lost its peers leaves the reason for the launcher's one line."""
    folder = os.environ.get(LAUNCH_DIR_ENV)
    if folder and Path(folder).is_dir():
        with contextlib.suppress(OSError):
            (Path(folder) / f"lost-{os.getpid()}.txt").write_text(message, encoding="utf-8")


def launch_command() -> list[str] | None:
    """The launcher's command line, seen from a launched worker (None otherwise)."""
    raw = os.environ.get(LAUNCH_CMD_ENV)
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the worker gets SIGKILL when the launcher dies (no orphaned training)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _last_error_line(path: Path) -> str | None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    errors = [ln for ln in lines if ln.startswith("error: ")]
    return errors[-1].removeprefix("error: ") if errors else None


def mark_run(run_dir: Path, status: str, error: str, force: bool = False) -> None:
    """Record how a launched run ended, unless the chief recorded it already (``force``: over
    the chief's own 'failed', when the launcher knows the cause better)."""
    from seqrun.core.runs import Run, active_seconds, now_iso

    run = Run(run_dir)
    meta = run.meta()
    allowed = ("running", "dead", "failed") if force else ("running", "dead")
    if not meta or run.status() not in allowed:
        return
    ended = time.time()
    with contextlib.suppress(OSError):
        run.update_meta(
            status=status,
            ended_at=now_iso(),
            duration_s=round(active_seconds(meta, ended), 3),
            error=error,
        )


def _remove_partial_files(run_dir: Path, pid: int) -> None:
    """Temporary checkpoint files a killed chief left half-written (``.<name>.<pid>.tmp*``)."""
    for f in (run_dir / "checkpoints").glob(f".*.{pid}.tmp*"):
        f.unlink(missing_ok=True)


def run_local(
    nproc: int,
    worker_args: list[str],
    *,
    chief_args: list[str],
    resume_dir: Path | None,
    echo: Any,
    err: Any,
    poll_s: float = 0.2,
    on_interrupted: Any = None,
) -> int:
    """Start ``nproc`` local workers of ``seqrun train`` and watch them; return the exit code.

    Worker 0 (the chief) gets ``chief_args`` and its output goes to this process' stderr
    (progress, messages) and, at the end, stdout (the run directory or the JSON result); the
    other workers run with ``--quiet`` and their output is only shown when they fail. When a
    worker dies, the others are killed at once (their collectives could only wait for it),
    the run is marked failed and the exit code is 1; Ctrl-C kills every worker and marks the
    run interrupted (exit code 130), then ``on_interrupted(run_dir)`` reports it (``train
    --json``: its one object). Either way the run resumes from its last completed epoch.
    """
    from seqrun.engine.processes import die_with_parent

    die_with_parent()  # a trial of a sweep: it stops with the sweep
    folder = Path(tempfile.mkdtemp(prefix="seqrun-launch-"))
    procs: list[subprocess.Popen] = []
    logs: list[Path] = []
    status, code, message = "completed", 0, None

    def _terminate(signum, frame):
        raise KeyboardInterrupt

    old_term = signal.getsignal(signal.SIGTERM)
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGTERM, _terminate)
    try:
        _start_workers(nproc, worker_args, chief_args, folder, procs, logs)
        status, code, message = _watch(procs, logs, folder, poll_s)
    except KeyboardInterrupt:
        _kill(procs)
        status, code = "interrupted", EXIT_INTERRUPTED
    finally:
        with contextlib.suppress(ValueError):
            signal.signal(signal.SIGTERM, old_term)
        run_file = folder / RUN_DIR_FILE
        run_dir = resume_dir or (
            Path(run_file.read_text(encoding="utf-8")) if run_file.is_file() else None
        )
        try:
            _report(status, code, message, run_dir, procs, nproc, logs, echo, err)
            if status == "interrupted" and run_dir is not None and on_interrupted is not None:
                on_interrupted(run_dir)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return code


def _start_workers(
    nproc: int,
    worker_args: list[str],
    chief_args: list[str],
    folder: Path,
    procs: list[subprocess.Popen],
    logs: list[Path],
) -> None:
    """Start the workers (appended to ``procs`` as they start, their logs to ``logs``)."""
    env_base = {
        **os.environ,
        LAUNCH_DIR_ENV: str(folder),
        LAUNCH_CMD_ENV: json.dumps(sys.argv),
    }
    for i, tf_config in enumerate(local_tf_configs(nproc)):
        log = folder / f"worker-{i}.log"
        logs.append(log)
        args = [*worker_args, *(chief_args if i == 0 else ["--quiet"])]
        with open(log, "wb") as out:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "seqrun", "train", *args],
                    env={**env_base, "TF_CONFIG": json.dumps(tf_config)},
                    stdout=out,
                    stderr=None if i == 0 else subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,  # Ctrl-C reaches the launcher, which stops all
                    preexec_fn=_die_with_parent if sys.platform == "linux" else None,
                )
            )


def _watch(
    procs: list[subprocess.Popen], logs: list[Path], folder: Path, poll_s: float
) -> tuple[str, int, str | None]:
    """Wait until every worker succeeded or one failed (then stop the others): (status,
    exit code, what went wrong)."""
    while True:
        codes = [p.poll() for p in procs]
        failed = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
        if failed:
            return _failure(procs, logs, folder, failed)
        if all(c == 0 for c in codes):
            return "completed", 0, None
        time.sleep(poll_s)


def _failure(
    procs: list[subprocess.Popen],
    logs: list[Path],
    folder: Path,
    failed: list[tuple[int, int]],
) -> tuple[str, int, str | None]:
    """Stop every worker after ``failed`` ones (index, exit code) ended; name the cause, rather
    than a worker that only lost contact with it."""
    i, c = next((f for f in failed if f[1] != EXIT_LOST_PEER), failed[0])
    if i != 0 and c in (1, 2):  # the same error may stop the chief: it says it best
        with contextlib.suppress(subprocess.TimeoutExpired):
            if procs[0].wait(timeout=3) in (1, 2):
                i, c = 0, procs[0].returncode
    _kill(procs)
    if i == 0 and c in (1, 2, EXIT_INTERRUPTED):
        return "chief", c, None  # the chief said why and marked the run
    if c == EXIT_LOST_PEER:
        what = "lost contact with the other workers"
        lost = folder / f"lost-{procs[i].pid}.txt"
        why = lost.read_text(encoding="utf-8") if lost.is_file() else None
    else:
        what = _describe_exit(c)
        why = _last_error_line(logs[i]) if c > 0 else None
    return (
        "failed",
        EXIT_FAILURE,
        f"worker {i} (pid {procs[i].pid}) {what}" + (f": {why}" if why else ""),
    )


def _kill(procs: list[subprocess.Popen]) -> None:
    """SIGKILL every live worker and reap it (a worker stuck in a collective ignores SIGTERM)."""
    for p in procs:
        if p.poll() is None:
            with contextlib.suppress(OSError):
                p.kill()
    for p in procs:
        with contextlib.suppress(Exception):
            p.wait(timeout=30)


def _report(
    status: str,
    code: int,
    message: str | None,
    run_dir: Path | None,
    procs: list[subprocess.Popen],
    nproc: int,
    logs: list[Path],
    echo: Any,
    err: Any,
) -> None:
    resume = f"; resume with: seqrun train --resume {run_dir} --nproc {nproc}" if run_dir else ""
    if run_dir is not None and procs and status in ("failed", "interrupted"):
        _remove_partial_files(run_dir, procs[0].pid)
    if status == "failed":
        what = f"{message}; the other workers were stopped"
        if run_dir is not None:
            mark_run(run_dir, "failed", what, force=True)
        err(f"{what}{resume}")
    elif status == "interrupted":
        from seqrun.engine.checkpoint import BY_THE_USER

        if run_dir is not None:
            mark_run(run_dir, "interrupted", BY_THE_USER)
        err(f"interrupted; every worker was stopped{resume}")
    elif procs:  # completed, or the chief reported its own failure: pass its stdout on
        with contextlib.suppress(OSError):
            out = logs[0].read_text(encoding="utf-8", errors="replace")
            if out:
                echo(out.rstrip("\n"))


__all__ = ["Cluster", "cluster_from_env", "local_tf_configs", "run_local"]
