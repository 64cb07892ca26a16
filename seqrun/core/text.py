"""Text basics shared by the text adapters and encoders: tokenising, vocabularies, decoding.

Pure Python and numpy (no TensorFlow), so that it is cheap to import and easy to test.

Example:
    >>> tokenize("It's a GREAT film!", lowercase=True, punctuation="strip")
    ['its', 'a', 'great', 'film']
    >>> vocab = Vocabulary.build([["a", "b", "a"]], size=4)
    >>> vocab.encode(["a", "b", "zzz"])
    [2, 3, 1]
"""

from __future__ import annotations

import codecs
import contextlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from seqrun.core.errors import UserError

Punctuation = Literal["strip", "split", "keep"]

# the characters keras.layers.TextVectorization removes by default (lower_and_strip_punctuation)
_STRIP = re.compile(r"[!\"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~']")
_SPLIT = re.compile(r"\w+(?:'\w+)*|[^\w\s]")


def tokenize(text: str, lowercase: bool = True, punctuation: Punctuation = "strip") -> list[str]:
    """Split a text into tokens.

    Args:
        text: the text.
        lowercase: lowercase it first.
        punctuation: ``strip`` removes punctuation characters (as Keras' TextVectorization does:
            "don't" -> "dont"), ``split`` makes each punctuation mark a token of its own (and keeps
            apostrophes inside words), ``keep`` splits on whitespace only.
    """
    if lowercase:
        text = text.lower()
    if punctuation == "strip":
        return _STRIP.sub("", text).split()
    if punctuation == "split":
        return _SPLIT.findall(text)
    return text.split()


def check_unique_names(names: list[str], where: str) -> None:
    """A UserError naming the first column name a header repeats (empty names may repeat,
    as a spreadsheet's trailing separators leave them)."""
    seen: dict[str, int] = {}
    for i, name in enumerate(names, start=1):
        if name and name in seen:
            raise UserError(
                f"column '{name}' appears twice in the header (columns {seen[name]} and {i}): "
                "rename one so that each column has its own name",
                where=where,
            )
        seen[name] = i


_LINE_END = re.compile(r"\r\n|\r|\n")


def file_lines(text: str) -> list[str]:
    """The lines of a text file, cut at LF, CR LF or CR only (as ``str.splitlines`` without
    its other breaks: a U+2028, U+0085 or form feed inside a comment or a review is text,
    not a line end, and would shift every line number after it)."""
    lines = _LINE_END.split(text)
    if lines and not lines[-1]:  # the line end closing the last line
        lines.pop()
    return lines


CSV_FIELD_LIMIT = 2**31 - 1
"""Longest field seqrun's readers let the csv module read: its default (131,072 characters)
raises csv.Error on a long text, or on a long field added to a row of a table of numbers."""


def allow_long_csv_fields() -> None:
    """Let the csv module read fields of up to :data:`CSV_FIELD_LIMIT` characters (a
    process-wide setting, raised once)."""
    import csv

    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)


def shown_names(names: list[str], shown: int = 20, noun: str = "") -> str:
    """Names joined by commas: the first ``shown`` of them and, past that, how many in all
    (``noun`` names what is counted, e.g. 'columns')."""
    text = ", ".join(names[:shown])
    counted = f"{len(names)} {noun}".strip()
    return text + (f", ... ({counted} in all)" if len(names) > shown else "")


NA_TEXTS = frozenset({"nan", "na", "n/a", "#n/a", "<na>", "null", "none"})
"""What pandas, R and spreadsheets write for a missing value (compared stripped, lower case)."""

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# single-byte encodings of spreadsheet exports, most common first
CANDIDATE_ENCODINGS = ("cp1252", "mac_roman", "latin-1")
_COMMON = set(
    "àâäáãåæçèéêëìíîïñòóôöõøùúûüßœšž°€£§«»‘’“”–—…·×±µ¿¡²³½¼¾©®™ÀÂÄÁÃÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÖÕØÙÚÛÜŒŠŽ"
)
_UPPER = set("ÀÂÄÁÃÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÖÕØÙÚÛÜŒŠŽ")


BINARY_MAGIC = (
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx or OpenDocument .ods file?)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls (OLE) file"),
    (b"\x1f\x8b", "a gzip file that was not decompressed"),
    (b"%PDF", "a PDF document"),
    (b"\x89HDF", "an HDF5 file"),
    (b"\x93NUMPY", "a NumPy .npy file"),
    (b"PAR1", "a Parquet file (pandas: pd.read_parquet(path).to_csv(new_path, index=False))"),
)


def read_file_bytes(path: str | Path) -> bytes:
    """The bytes of a data file, decompressed when it is gzip (by content, whatever its name).

    A truncated or corrupt gzip file, a spreadsheet workbook or a zip archive is a one-line
    UserError naming the file.
    """
    import gzip
    import zlib

    data = Path(path).read_bytes()
    if data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        suffix = Path(path).suffix.lower()
        if data[:2] != b"PK":
            what, fix = "an Excel .xls workbook", "save the sheet as CSV"
        elif suffix in (".xlsx", ".xlsm", ".ods"):
            what, fix = f"a {suffix} workbook (a zip archive)", "save the sheet as CSV"
        elif suffix == ".npz":
            what, fix = "a NumPy .npz archive", "this reads text: give a CSV, TSV or text file"
        else:
            what, fix = (
                "a zip archive (an .xlsx or .ods workbook?)",
                "save the sheet as CSV, or unzip it",
            )
        raise UserError(f"{Path(path).name} is {what}, not a text file: {fix}", where=str(path))
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as e:
        why = (
            "cut short (an interrupted copy or download?)" if isinstance(e, EOFError) else "damaged"
        )
        raise UserError(
            f"not a readable gzip file ({e}): it is {why}; copy or download it again",
            where=str(path),
        ) from None


def bom_encoding(data: bytes) -> str | None:
    """The encoding a byte-order mark at the start of ``data`` selects (None without one)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    return None


def _plausibility(text: str) -> tuple[int, int]:
    """(plausible, total) non-ASCII characters of a decoded text (Western European letters,
    usual symbols), an accented capital right after a small letter counting as implausible."""
    plausible = total = 0
    prev = ""
    for ch in text:
        if ord(ch) > 127:
            total += 1
            if ch in _COMMON and not (ch in _UPPER and prev.isalpha() and prev.islower()):
                plausible += 1
        prev = ch
    return plausible, total


def guess_encoding(data: bytes) -> str | None:
    """The likely text encoding of ``data`` from its BOM or byte statistics, or None.

    UTF-16 without a BOM shows as NUL bytes on every other position; otherwise the first of
    UTF-8, cp1252, mac_roman and latin-1 that decodes ``data`` with the most plausible
    non-ASCII characters (accented letters, °, €, quotes) is returned when at least 80 % of
    them are plausible.
    """
    bom = bom_encoding(data)
    if bom:
        return bom
    sample = data[: 1 << 20]
    if len(sample) >= 4:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        half = len(sample) // 2
        if odd > 0.3 * half and even < 0.05 * half:
            return "utf-16-le"
        if even > 0.3 * half and odd < 0.05 * half:
            return "utf-16-be"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as e:
        if e.start >= len(sample) - 3 and len(data) > len(sample):
            return "utf-8"  # a character cut by the sample's end
    best, best_score = None, 0.0
    for name in CANDIDATE_ENCODINGS:
        try:
            text = sample.decode(name)
        except UnicodeDecodeError:
            continue
        plausible, total = _plausibility(text)
        if total and plausible >= 0.8 * total and plausible / total > best_score:
            best, best_score = name, plausible / total
    return best


def decode_text(
    data: bytes,
    encoding: str,
    source: str,
    key: str = "data.encoding",
    fixed: bool = False,
    settable: bool = False,
    fmt: str = "CSV",
) -> str:
    """Decode a data file: a BOM selects UTF-8/16/32 by itself, else ``encoding``.

    When bytes do not decode and the file looks like another encoding (a cp1252 or Mac Roman
    spreadsheet export), a UserError names ``key`` and that encoding. Stray undecodable bytes
    without a likely encoding are replaced by U+FFFD and reported in one warning line naming
    ``key``. ``fixed``: the encoding is a trained run's (`seqrun predict`), so the advice is to
    re-save the file in it, or (``settable``) to give ``--set key=...``, rather than to set
    ``key``. ``fmt``: the text format the reader wants, which a binary file is told to be
    exported as (e.g. "a .ts text file").
    """

    def resave(guess: str = "ENCODING") -> str:
        also = f", or add --set {key}={guess}" if settable else ""
        return f"re-save it as {encoding} (the run's {key}){also}"

    bom = bom_encoding(data)
    for magic, what in BINARY_MAGIC:
        if data.startswith(magic):
            raise UserError(
                f"this is {what}, not a text file: export the data as {fmt}", where=source
            )
    try:
        wide = codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))
    except LookupError:
        wide = False
    if not bom and not wide and b"\x00" in data[:65536]:
        guess = guess_encoding(data) or ""
        if guess.startswith("utf-16"):
            raise UserError(
                f"the file looks like {guess} text without a byte-order mark: set {key}: {guess}",
                where=source,
            )
        raise UserError(
            f"this looks like a binary file (NUL bytes), not text: export the data as {fmt}, or "
            f"set {key} if it is UTF-16/UTF-32 without a BOM",
            where=source,
        )
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UserError(
            f"unknown text encoding '{encoding}' (e.g. utf-8, cp1252, mac_roman, utf-16)",
            where=key,
        ) from None
    try:
        text = data.decode(bom or encoding)
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        guess = guess_encoding(data)
        if (
            guess
            and not bom
            and codecs.lookup(guess).name
            not in (
                codecs.lookup(encoding).name,
                codecs.lookup(bom or encoding).name,
            )
        ):
            raise UserError(
                f"byte 0x{data[e.start]:02x} is not valid {bom or encoding} text; the file looks "
                f"like {guess}: {resave(guess) if fixed else f'set {key}: {guess}'}",
                where=f"{source}:{line}",
            ) from None
        text, bad = decode_bytes(data, bom or encoding)
        warn(
            f"{source}: {bad} undecodable byte(s) (not {bom or encoding}) replaced by U+FFFD, "
            f"the first on line {line}; if the file has another encoding, "
            + (resave() if fixed else f"set {key} (spreadsheets often write cp1252 or mac_roman)")
        )
        return text
    if text.startswith("\ufeff"):
        text = text[1:]
    if not bom and codecs.lookup(encoding).name != "utf-8" and max(data, default=0) > 127:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            warn(
                f"{source}: the file is valid UTF-8 but is read as {encoding}: accented "
                f"characters will be garbled; {resave('utf-8') if fixed else f'set {key}: utf-8'}"
            )
    return text


def decode_bytes(data: bytes, encoding: str = "utf-8") -> tuple[str, int]:
    """Decode ``data`` (a BOM selects UTF-8/16/32 by itself), replacing undecodable bytes
    with U+FFFD; (text, bytes replaced)."""
    encoding = bom_encoding(data) or encoding
    bad = 0

    def count(err: UnicodeDecodeError) -> tuple[str, int]:
        nonlocal bad
        bad += err.end - err.start
        return "\ufffd", err.end

    name = f"seqrun-count-{id(count)}"
    codecs.register_error(name, count)
    try:
        text = data.decode(encoding, errors=name)
    except LookupError:
        raise UserError(f"unknown text encoding '{encoding}'", where="data.encoding") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, bad


#: paths that warnings show under another name (see :func:`shown_as`)
_SHOWN_AS: dict[str, str] = {}


@contextlib.contextmanager
def shown_as(path: str, name: str) -> Iterator[None]:
    """Meanwhile, warnings name ``path`` (e.g. a temporary copy of standard input) ``name``."""
    _SHOWN_AS[path] = name
    try:
        yield
    finally:
        _SHOWN_AS.pop(path, None)


#: the lists of :func:`recorded_warnings` open now (innermost last)
_RECORDERS: list[list[str]] = []


@contextlib.contextmanager
def recorded_warnings() -> Iterator[list[str]]:
    """Meanwhile, the text of each warning :func:`warn` prints (without ``warning: ``) is also
    appended to the list yielded, unless it is already there (first occurrence kept, in
    order): what a run writes into its meta.json. Recorders nest (each open one gets every
    warning) and are process-wide (a warning of any thread is recorded)."""
    seen: list[str] = []
    _RECORDERS.append(seen)
    try:
        yield seen
    finally:  # by identity: two recorders with the same warnings are equal lists
        for i in range(len(_RECORDERS) - 1, -1, -1):
            if _RECORDERS[i] is seen:
                del _RECORDERS[i]
                break


def warn(message: str) -> None:
    """A one-line warning on stderr (stdout stays clean for --json), recorded by every open
    :func:`recorded_warnings`."""
    import sys

    for path, name in _SHOWN_AS.items():
        message = message.replace(path, name)
    for seen in list(_RECORDERS):
        if message not in seen:
            seen.append(message)
    print(f"warning: {message}", file=sys.stderr, flush=True)


@dataclass
class Vocabulary:
    """Token <-> id mapping with reserved ids.

    Two layouts are used:

    * ``plain`` (text tables): 0 = padding, 1 = out-of-vocabulary (OOV), words from 2 by
      decreasing training frequency; ``size`` counts the two reserved ids (like the
      ``max_tokens`` of Keras' TextVectorization).
    * ``keras`` (IMDB): the conventions of ``keras.datasets.imdb``: 0 = padding,
      ``start_id`` (1) opens every review, ``oov_id`` (2) replaces dropped words, the word of
      frequency rank r (1 = most frequent) has id ``r + index_from``; ids ``>= size``
      (``num_words``) and ids ``< skip_below`` (``skip_top``) become ``oov_id`` (or are
      dropped when ``oov_id`` is None), exactly as Keras applies them.

    Args:
        tokens: ``tokens[i]`` is the token of id ``i`` for every id below ``size``.
        oov_id: id of unknown words (None: drop them).
        start_id: id put first in every sequence (None: none).
        skip_below: ids below this (padding excepted) are treated as OOV.
        layout: ``plain`` or ``keras``.
    """

    tokens: list[str]
    oov_id: int | None = 1
    start_id: int | None = None
    skip_below: int = 0
    layout: str = "plain"
    index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.index:
            first = 2 if self.layout == "plain" else 0
            reserved = {0, self.oov_id, self.start_id}
            self.index = {
                t: i
                for i, t in enumerate(self.tokens)
                if i >= first and i not in reserved and not t.startswith("[UNUSED")
            }

    @property
    def size(self) -> int:
        """Number of ids (reserved ones included): the input dimension of a model."""
        return len(self.tokens)

    @classmethod
    def build(
        cls,
        token_lists: Iterable[Sequence[str]],
        size: int,
        layout: str = "plain",
        start_id: int | None = None,
        oov_id: int | None = 1,
        index_from: int = 2,
        skip_below: int = 0,
    ) -> Vocabulary:
        """Count tokens (training texts only) and keep the most frequent that fit in ``size``.

        Ties in frequency are broken alphabetically, so the vocabulary is deterministic.
        """
        counts: Counter[str] = Counter()
        for toks in token_lists:
            counts.update(toks)
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if layout == "keras":
            size = min(size, index_from + 1 + len(ranked))  # no unused ids past the last word
            room = max(size - index_from - 1, 0)  # rank r (from 1) -> id r + index_from
            word_index = {t: r for r, (t, _) in enumerate(ranked[:room], start=1)}
            return cls.from_word_index(word_index, size, start_id, oov_id, index_from, skip_below)
        tokens = ["", "[UNK]"] + [t for t, _ in ranked[: max(size - 2, 0)]]
        return cls(tokens, 1, None, 0, "plain")

    @classmethod
    def from_word_index(
        cls,
        word_index: dict[str, int],
        num_words: int,
        start_id: int | None,
        oov_id: int | None,
        index_from: int,
        skip_below: int,
    ) -> Vocabulary:
        """The vocabulary of a Keras-style word index (word -> frequency rank from 1)."""
        tokens: list[Any] = [f"[UNUSED{i}]" for i in range(num_words)]
        if num_words:
            tokens[0] = "[PAD]"
        if start_id is not None and start_id < num_words:
            tokens[start_id] = "[START]"
        if oov_id is not None and oov_id < num_words:
            tokens[oov_id] = "[OOV]"
        for word, rank in word_index.items():
            i = int(rank) + index_from
            if index_from <= i < num_words:
                tokens[i] = word
        return cls(tokens, oov_id, start_id, skip_below, "keras")

    def filter_ids(self, ids: Sequence[int]) -> list[int]:
        """Apply Keras' ``num_words`` / ``skip_top`` rule to a sequence of ids."""
        lo, hi, oov = self.skip_below, self.size, self.oov_id
        if oov is None:
            return [w for w in ids if lo <= w < hi]
        return [w if lo <= w < hi else oov for w in ids]

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Ids of ``tokens`` (unknown ones -> OOV), with the start id first if there is one."""
        get, oov = self.index.get, self.oov_id
        ids = [get(t, oov) for t in tokens]
        if oov is None:
            ids = [w for w in ids if w is not None]
        if self.start_id is not None:
            ids.insert(0, self.start_id)
        if self.layout == "keras":
            return self.filter_ids(ids)
        return ids

    def decode(self, ids: Iterable[int], skip_padding: bool = True) -> str:
        """Words of a sequence of ids, joined by spaces (padding left out)."""
        n = self.size
        words = []
        for w in ids:
            w = int(w)
            if w == 0 and skip_padding:
                continue
            words.append(self.tokens[w] if 0 <= w < n else "[OOV]")
        return " ".join(words)

    def state(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {
            "layout": self.layout,
            "oov_id": self.oov_id,
            "start_id": self.start_id,
            "skip_below": self.skip_below,
            "tokens": self.tokens,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Vocabulary:
        """Inverse of :meth:`state`."""
        return cls(
            list(state["tokens"]),
            state["oov_id"],
            state["start_id"],
            int(state["skip_below"]),
            state["layout"],
        )


def pad_sequences(
    seqs: Sequence[Sequence[int]], length: int, padding: str = "post", truncating: str = "post"
) -> np.ndarray:
    """An (N, length) int32 matrix, like ``keras.utils.pad_sequences`` with value 0."""
    out = np.zeros((len(seqs), length), dtype=np.int32)
    for i, s in enumerate(seqs):
        if not len(s):
            continue
        s = s[-length:] if truncating == "pre" else s[:length]
        if padding == "post":
            out[i, : len(s)] = s
        else:
            out[i, length - len(s) :] = s
    return out


def unescape_separator(value: object) -> object:
    """A field separator as typed in YAML: ``'\\t'`` (single quotes keep the backslash) and
    ``\\t`` given on the command line mean a tab, as in ``"\\t"``."""
    return "\t" if value == "\\t" else value
