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


def die_with_parent() -> None:
    """:func:`death_signal` when this process was started by a sweep or tune (see
    :data:`PARENT_ENV`); nothing otherwise."""
    if os.environ.get(PARENT_ENV):
        death_signal()


@contextlib.contextmanager
def sigterm_interrupts():
    """While inside: SIGTERM raises KeyboardInterrupt as Ctrl-C does (main thread only)."""
    import signal

    def handle(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        old = signal.signal(signal.SIGTERM, handle)
    except ValueError:  # not the main thread: leave it alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


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
