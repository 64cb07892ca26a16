"""Regenerate the README's config reference: ``python -m seqrun.core.docs``."""

from __future__ import annotations

import sys
from pathlib import Path

START, END = "<!-- config-reference:start -->", "<!-- config-reference:end -->"


def readme_with_reference(text: str) -> str:
    """``text`` with the block between the reference markers regenerated."""
    from seqrun.core.config import reference_markdown

    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{reference_markdown()}{END}{tail}"


def main(path: str = "README.md") -> int:
    """Rewrite the README in place; 1 if it had no markers."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    if START not in text or END not in text:
        print(f"{path}: no {START} ... {END} block", file=sys.stderr)
        return 1
    p.write_text(readme_with_reference(text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
