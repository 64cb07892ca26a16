"""The life of child processes (sweep trials, tune workers, `train --nproc` workers): they die
with their parent, even a SIGKILLed one; SIGTERM interrupts like Ctrl-C; a parent stops its
children. Linux's PR_SET_PDEATHSIG where available; nothing else imported from seqrun.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from typing import Any

PARENT_ENV = "SEQRUN_DIE_WITH"
"""A child of sweep/tune is started with this variable set to its parent's pid: it calls
:func:`die_with_parent`, so that killing the parent (even by SIGKILL) stops the child."""


_PARENT: list[int] = []  # the sweep or tune process that started this one, if one did


def death_signal() -> None:
    """Ask Linux to send SIGTERM to this process when its parent dies (a killed sweep or
    tune); exit at once if the parent is already gone."""
    import ctypes
    import signal

    expected = os.environ.pop(PARENT_ENV, None)  # grandchildren do not inherit it
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    parent = os.getppid()
    if parent == 1 or (expected and expected.isdigit() and int(expected) != parent):
        os._exit(130)  # the parent died before prctl
    _PARENT[:] = [parent]


def orphaned() -> bool:
    """Whether the sweep or tune process that started this one has died or is dying (then
    nothing reads this process's stdout and stderr any more). A multi-threaded parent killed
    with SIGKILL hands this process from thread to thread while they exit, each hand-over
    sending the death signal: until the last, ``getppid()`` still names it, so its state says."""
    return bool(_PARENT) and (os.getppid() != _PARENT[0] or dying(_PARENT[0]))


def dying(pid: int) -> bool:
    """Whether process ``pid`` is gone, a zombie, or has SIGKILL pending (Linux /proc; False
    where /proc is not there)."""
    if not os.path.isdir("/proc/self"):
        return False
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        return True  # gone
    if fields.get("State", "").strip()[:1] in ("Z", "X"):
        return True
    kill = 1 << 8  # SIGKILL (9) in the hexadecimal masks of pending signals
    return any(int(fields.get(k, "0").strip() or "0", 16) & kill for k in ("SigPnd", "ShdPnd"))


def mute_output() -> None:
    """Send stdout and stderr to /dev/null from now on (nothing reads them any more)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        with contextlib.suppress(OSError):
            os.dup2(devnull, fd)
    os.close(devnull)


def mute_if_orphaned(signum: int | None = None) -> bool:
    """When :func:`orphaned`, or on a SIGHUP ``signum`` (the terminal closed), send stdout
    and stderr to /dev/null from now on: a write to the dead parent's pipes would raise
    BrokenPipeError wherever training happens to be, one to a hung-up terminal an OSError.
    Whether the output was muted."""
    import signal

    if not orphaned() and signum != getattr(signal, "SIGHUP", None):
        return False
    mute_output()
    return True


def say_on_stderr(message: str) -> None:
    """Print ``message`` on stderr. A reader that left (`seqrun train ... 2>&1 | head -1`,
    `| grep -m1 'run directory'`) mutes stderr instead of stopping the training: the run
    goes on and finishes. A trial of a sweep or tune whose parent is gone still raises
    BrokenPipeError (the trial is interrupted, as its parent was)."""
    import sys

    try:
        print(message, file=sys.stderr, flush=True)
    except BrokenPipeError:
        if _PARENT or os.environ.get(PARENT_ENV):
            raise
        devnull = os.open(os.devnull, os.O_WRONLY)
        with contextlib.suppress(OSError, ValueError):
            os.dup2(devnull, sys.stderr.fileno())
        os.close(devnull)


def die_with_parent() -> None:
    """:func:`death_signal` when this process was started by a sweep or tune (see
    :data:`PARENT_ENV`); nothing otherwise."""
    if os.environ.get(PARENT_ENV):
        death_signal()


@contextlib.contextmanager
def sigterm_interrupts():
    """While inside: SIGTERM, and SIGHUP (a closed terminal) unless ignored, raise
    KeyboardInterrupt as Ctrl-C does (main thread only)."""
    import signal

    from seqrun.core.runs import stop_signals

    def handle(signum: int, frame: Any) -> None:
        mute_if_orphaned(signum)  # a dead sweep's SIGTERM, a SIGHUP: nothing reads our output
        raise KeyboardInterrupt

    old = {}
    try:
        for sig in stop_signals():
            if sig != signal.SIGINT:  # Python's own handler raises KeyboardInterrupt
                old[sig] = signal.signal(sig, handle)
    except ValueError:  # not the main thread: leave them alone
        pass
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def stop_children(procs: dict[int, subprocess.Popen], grace: float = 30.0) -> None:
    """SIGTERM each child (a trial marks itself interrupted), SIGKILL those still alive after
    ``grace`` seconds."""
    children = list(procs.values())
    for p in children:
        if p.poll() is None:
            with contextlib.suppress(OSError):
                p.terminate()
    end = time.time() + grace
    for p in children:
        try:
            p.wait(max(0.0, end - time.time()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                p.kill()
