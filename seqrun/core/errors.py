"""Error types that map to seqrun's exit codes."""

from __future__ import annotations

import difflib
import errno
import os
import re
from collections.abc import Iterable
from pathlib import Path

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


class SeqrunError(Exception):
    """Base class of the errors seqrun reports in one line, without a traceback."""

    exit_code = EXIT_FAILURE


class UserError(SeqrunError):
    """Bad input from the user (config, file, argument): exit code 2.

    Args:
        message: what is wrong and, where it helps, how to fix it.
        where: the place of the problem, e.g. ``configs/a.yaml:12 model.units``.
    """

    exit_code = EXIT_USER_ERROR

    def __init__(self, message: str, where: str | None = None) -> None:
        self.message = message
        self.where = _printable(where) if where else where
        text = f"{self.where}: {message}" if where else message
        super().__init__(_printable(_cut_quotes(text)))  # one short line, whatever the input


MAX_QUOTED = 160
"""Longest quoted text an error line repeats in full (a long path is kept, a 5,000-character
value is cut)."""
_LONG_QUOTE = re.compile(rf"(?<!\w)'([^'\n]{{{MAX_QUOTED + 1},}})'(?!\w)")  # not "it's"


def _cut_quotes(text: str) -> str:
    """``text`` with every over-long ``'quoted'`` value cut to its start, its end (a file name)
    and its length."""
    return _LONG_QUOTE.sub(
        lambda m: f"'{m.group(1)[:60]}...{m.group(1)[-40:]}' ({len(m.group(1)):,} characters)",
        text,
    )


def _printable(text: str) -> str:
    """``text`` with control characters escaped, so that an error stays on one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class RunFailure(SeqrunError):
    """A runtime failure (disk full, training diverged, ...): exit code 1."""

    exit_code = EXIT_FAILURE


FULL_DISK = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})
"""The errors of a write that found no room: a full disk, a full quota, a file over the size
limit (``ulimit -f``)."""


def os_error_text(e: OSError, then: str = "run the command again") -> str:
    """One line for an OSError: the file it names and the cause; a write that found no room
    (:data:`FULL_DISK`) says that the file could not be written and how to go on (``then``)."""
    cause = e.strerror or str(e)
    if e.errno in FULL_DISK:
        what = f"cannot write {e.filename}" if e.filename else "cannot write a file"
        return (
            f"{what}: {cause} (the disk or quota is full, or the file is over the size "
            f"limit); free some space, then {then}"
        )
    return f"{e.filename}: {cause}" if e.filename else cause


def broken_link(path: str | Path) -> str | None:
    """What is wrong with ``path`` when it is a symbolic link that leads nowhere: "a symbolic
    link loop (a.csv -> b.csv -> a.csv)", each link's target as written (as ``ls -l`` shows
    it), or "a symbolic link to X, which does not exist"; None for any other path (a link to
    an existing file included)."""
    p = Path(path).expanduser()
    try:
        if not p.is_symlink() or p.exists():
            return None
    except OSError:  # a name too long, a path through a file
        return None
    chain, shown, seen = [p], [str(path)], {os.path.abspath(p)}
    while len(chain) <= 40:
        try:
            target = os.readlink(chain[-1])
        except OSError:  # not a link: the last name is the missing target
            break
        nxt = Path(target) if os.path.isabs(target) else chain[-1].parent / target
        chain.append(nxt)
        shown.append(target)
        if os.path.abspath(nxt) in seen:
            return f"a symbolic link loop ({' -> '.join(shown)})"
        seen.add(os.path.abspath(nxt))
        if not nxt.is_symlink():
            break
    return f"a symbolic link to {os.path.normpath(chain[-1])}, which does not exist"


def cut(text: str, most: int = 60) -> str:
    """A user's text as a message quotes it: at most ``most`` characters, ``...`` ending a
    cut one."""
    return text if len(text) <= most else text[: most - 3] + "..."


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice (case aside), or ``""``."""
    choices = list(choices)
    by_lower = {c.lower(): c for c in reversed(choices)}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean '{by_lower[close[0]]}'?)" if close else ""


def env_count(name: str) -> int | None:
    """The environment variable ``name`` as a whole number >= 1, None when unset or empty; a
    UserError naming the variable otherwise."""
    import os

    text = os.environ.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise UserError(
            f"{text!r} is not a whole number of at least 1: set one, or unset the variable",
            where=f"environment variable {name}",
        )
    return int(text)
