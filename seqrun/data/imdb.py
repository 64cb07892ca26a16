"""The IMDB film-review dataset with the semantics of ``keras.datasets.imdb``.

Sources, by ``data.path``:

* null: the files ``keras.datasets.imdb`` uses, from Keras' cache (``$KERAS_HOME/datasets`` or
  ``~/.keras/datasets``; downloaded there once, which needs the network), read as below without
  importing TensorFlow;
* a file ``imdb.npz`` (or a folder holding it) with ``imdb_word_index.json`` beside it: the
  files Keras downloads, read here with the same shuffle (``RandomState(seed)``), start/OOV ids,
  ``index_from``, ``num_words`` and ``skip_top`` rules;
* an ``aclImdb/`` folder (``train|test/pos|neg/*.txt``, Stanford's raw release): reviews are
  tokenised by the encoder's tokenizer and given Keras-style ids by a word index counted on the
  training reviews only.

The dev split is carved out of IMDB's train half (stratified, seeded, ``dev_fraction``); the
25,000 test reviews are read only when the test split is asked for (``seqrun evaluate``).
"""

from __future__ import annotations

import contextlib
import io
import json
import pickle
import sys
import zipfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from seqrun.core.config import DataConfig
from seqrun.core.contracts import InputSize, LoadOptions, MemoryItem
from seqrun.core.errors import UserError
from seqrun.core.splits import stratified_holdout
from seqrun.core.text import Vocabulary, decode_bytes, guess_encoding, warn
from seqrun.data.text import TextData, TextSplit, missing_path_error

CLASS_NAMES = ["negative", "positive"]
_ARCHIVES = (".tar.gz", ".tgz", ".tar", ".zip", ".tar.bz2", ".tar.xz")


class ImdbConfig(DataConfig):
    """Options of the IMDB adapter (names and defaults of keras.datasets.imdb.load_data)."""

    adapter: Literal["imdb"] = Field("imdb", description="IMDB film reviews, positive/negative.")
    path: str | None = Field(
        None,
        description="imdb.npz (imdb_word_index.json beside it), a folder holding them, or a "
        "raw aclImdb/ folder; null downloads like keras.datasets.imdb (needs the network).",
    )
    num_words: int | None = Field(
        10000,
        ge=3,
        description="Keep the words whose id is below this (ids by training frequency, offset by "
        "index_from); others become oov_char. null keeps every word.",
    )
    skip_top: int = Field(
        0,
        ge=0,
        description="Ids below this become oov_char (hides the most frequent words; the course's "
        "hide_most_frequently). As in Keras it applies to the start id too.",
    )
    maxlen: int | None = Field(
        None,
        ge=1,
        description="Review length in tokens for sequence encoders: longer reviews are truncated, "
        "shorter padded. null: the encoder's sequence_len (default: 95 % of reviews fit).",
    )
    padding: Literal["pre", "post"] = Field(
        "pre", description="Pad short reviews at the start ('pre', Keras' default) or the end."
    )
    truncating: Literal["pre", "post"] = Field(
        "pre", description="Cut long reviews at the start ('pre', Keras' default) or the end."
    )
    index_from: int = Field(3, ge=0, description="Word of frequency rank r gets id r + index_from.")
    start_char: int | None = Field(1, ge=0, description="Id opening every review (null: none).")
    oov_char: int | None = Field(
        2, ge=0, description="Id of out-of-vocabulary words (null: drop them)."
    )
    seed: int = Field(113, description="Seed of Keras' shuffle of each half (RandomState).")
    dev_fraction: float = Field(
        0.2, gt=0, lt=1, description="Share of IMDB's train half held out as the dev split."
    )
    split_seed: int = Field(0, description="Seed of the stratified dev split.")
    max_reviews: int | None = Field(
        None,
        ge=2,
        description="Keep only the first N reviews of each half after the shuffle (quick runs).",
    )
    encoding: str = Field(
        "utf-8",
        description="Text encoding of aclImdb review files (a BOM selects UTF-8/UTF-16 by "
        "itself); files that look like another encoding are an error naming it.",
    )
    report_errors: int = Field(
        20, ge=0, description="Most confident mistakes written to errors.jsonl per scored split."
    )


# ----------------------------------------------------------------------------- npz reading

_ALLOWED = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }
)


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and nothing else (a tampered file cannot run code)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data file")


def _not_npz(path: Path) -> UserError:
    """What a file that zipfile cannot open is instead: empty, gzip-compressed, a damaged
    (e.g. truncated) archive, or something else."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as e:
        return UserError(f"cannot be read ({e.strerror or e})", where=str(path))
    if not head:
        what = "the file is empty, not an .npz archive; download imdb.npz again"
    elif head.startswith(b"\x1f\x8b"):
        what = "a gzip-compressed file, not an .npz archive: decompress it (gunzip) first"
    elif head.startswith(b"PK"):
        what = "a damaged .npz archive (truncated or corrupt); download imdb.npz again"
    else:
        what = "not an .npz archive (numpy.savez)"
    return UserError(what, where=str(path))


def read_npz_member(path: Path, name: str) -> np.ndarray:
    """One array of an .npz archive; object arrays (IMDB's ragged lists) via a safe unpickler."""
    import zlib

    try:
        with zipfile.ZipFile(path) as z:
            member = f"{name}.npy"
            if member not in z.namelist():
                names = [n.removesuffix(".npy") for n in z.namelist()]
                why = (
                    ": keras.datasets.reuters' layout, not IMDB's"
                    if {"x", "y"} <= set(names)
                    else ""
                )
                raise UserError(
                    f"no array '{name}' in the archive (it has: {', '.join(names)}{why}); "
                    "imdb.npz holds x_train, y_train, x_test and y_test; for another dataset, "
                    "write its texts and labels to a table and read it with the text_table "
                    "adapter",
                    str(path),
                )
            data = z.read(member)
    except zipfile.BadZipFile as e:
        if "CRC" in str(e) or "header" in str(e).lower():
            raise UserError(
                f"a damaged .npz archive ({e}); download imdb.npz again", where=str(path)
            ) from None
        raise _not_npz(path) from None
    except (zlib.error, EOFError, OSError) as e:
        raise UserError(
            f"a damaged .npz archive ({type(e).__name__}: {e}); download imdb.npz again",
            where=str(path),
        ) from None
    fp = io.BytesIO(data)
    try:
        return np.lib.format.read_array(fp, allow_pickle=False)
    except MemoryError:
        raise
    except Exception as e:  # an object array (pickled), or a damaged header or body
        if not (isinstance(e, ValueError) and "pickle" in str(e).lower()):
            raise UserError(
                f"a damaged array '{name}' ({type(e).__name__}: {e}); download imdb.npz again",
                where=str(path),
            ) from None
        fp.seek(0)
        try:
            version = np.lib.format.read_magic(fp)
            if version[0] == 1:
                np.lib.format.read_array_header_1_0(fp)
            else:
                np.lib.format.read_array_header_2_0(fp)
            return _NumpyOnlyUnpickler(fp).load()
        except pickle.UnpicklingError as e:
            raise UserError(f"unsafe or corrupt array '{name}': {e}", where=str(path)) from None
        except MemoryError:
            raise
        except Exception as e:  # a damaged pickle: any error of the unpickler
            raise UserError(
                f"a damaged array '{name}' ({type(e).__name__}: {e}); download imdb.npz again",
                where=str(path),
            ) from None


def _binary_labels(raw: Any, name: str, npz: Path) -> np.ndarray:
    """The 0/1 labels of an imdb.npz array (0 negative, 1 positive); anything else (ratings
    1..10, scores in [0, 1), texts) is an error naming the array and its values."""
    values = np.asarray(raw)
    if values.ndim != 1:
        raise UserError(
            f"{name} has shape {values.shape}: IMDB labels are one 0 (negative) or 1 "
            "(positive) per review, a 1-D array",
            where=str(npz),
        )
    if values.dtype.kind in "iub" or values.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            ok = values.ndim == 1 and bool(np.isin(values, (0, 1)).all())
        if ok:
            return values.astype(np.int64)
    seen = np.unique(values.ravel()) if values.dtype.kind != "O" else values.ravel()
    shown = ", ".join(f"{v:g}" if isinstance(v, float | np.floating) else str(v) for v in seen[:6])
    shown += ", ..." if len(seen) > 6 else ""
    fix = "turn ratings into 0/1 first (e.g. 1-4 -> 0, 7-10 -> 1), or read"
    if values.dtype.kind in "iu" and len(seen) > 2 and seen[0] == 0:  # class ids 0..k-1
        fix = (
            f"these look like {len(seen)} class ids (e.g. keras.datasets.reuters' 46 topics), "
            "which the imdb adapter does not read: read"
        )
    raise UserError(
        f"{name} holds {shown}: IMDB labels are 0 (negative) and 1 (positive), one per review; "
        f"{fix} a table of texts and labels with the text_table adapter",
        where=str(npz),
    )


def _review(raw: Any, name: str, i: int, npz: Path) -> list[int]:
    """Review ``i`` of an imdb.npz array as word ranks (whole numbers >= 0), or a UserError
    naming the array and the review."""
    try:
        values = np.asarray(raw)
    except (ValueError, TypeError):  # e.g. lists of lists of different lengths
        raise UserError(
            f"{name}[{i}] is not a list of word ranks (whole numbers)", where=str(npz)
        ) from None
    if values.dtype == object and values.ndim == 1:
        with contextlib.suppress(ValueError, TypeError):
            values = np.asarray(values.tolist())
    where = str(npz)
    if values.ndim != 1:
        what = "a single number" if values.ndim == 0 else f"of shape {values.shape}"
        raise UserError(
            f"{name}[{i}] is {what}, not a review: IMDB reviews are lists of word ranks (an "
            "object array of lists, as keras.datasets.imdb stores them)",
            where=where,
        )
    if not len(values):
        return []
    kind = values.dtype.kind
    ok = kind in "iu" or (
        kind == "f" and bool(np.isfinite(values).all()) and bool((values == np.round(values)).all())
    )
    if not ok:
        bad = next((v for v in values.tolist() if not isinstance(v, int)), values[0])
        raise UserError(
            f"{name}[{i}] holds {str(bad)[:40]!r}, not a word rank: IMDB reviews are lists of "
            "whole numbers (word ranks)",
            where=where,
        )
    if (values < 0).any():
        raise UserError(
            f"{name}[{i}] holds the negative word rank {int(values.min())}: ranks start at 0",
            where=where,
        )
    return values.astype(np.int64).tolist()


def keras_shuffle(n_train: int, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The permutations ``keras.datasets.imdb.load_data`` applies to the train then test half."""
    rng = np.random.RandomState(seed)
    a = np.arange(n_train)
    rng.shuffle(a)
    b = np.arange(n_test)
    rng.shuffle(b)
    return a, b


class ImdbAdapter:
    """IMDB film reviews (keras.datasets.imdb semantics; local imdb.npz or aclImdb/ folder)."""

    Config = ImdbConfig
    default_encoder = {"type": "multi_hot"}
    default_metrics = "classification"
    data_module = TextData
    provides = "text"
    fold_scheme = None  # the train/test halves are fixed
    sequence_outputs = False

    def __init__(self, section: Any, options: LoadOptions | None = None) -> None:
        self.data_cfg: ImdbConfig = section
        self.options = options or LoadOptions()

    def read_inputs(self, path: Path, column: str | None = None) -> tuple[list[dict], list[str]]:
        """Reviews to predict from a file: one per line, or a table's ``text`` column."""
        from seqrun.data.text_table import read_text_inputs

        return read_text_inputs(path, column)

    @classmethod
    def check_config(cls, cfg: Any) -> tuple[str, str] | None:
        """IMDB options against encoder options."""
        d, e = cfg.data, cfg.encoder
        if e.vocab_size is not None and e.vocab_size != d.num_words:
            return (
                "encoder.vocab_size",
                f"for imdb the vocabulary is data.num_words ({d.num_words}); leave "
                "encoder.vocab_size null or set it to the same value",
            )
        for key, mine in (("sequence_len", d.maxlen),):
            theirs = getattr(e, key, None)
            if theirs is not None and mine is not None and theirs != mine:
                return (
                    f"encoder.{key}",
                    f"encoder.{key} ({theirs}) differs from data.maxlen ({mine}); set one of them",
                )
        reserved = [x for x in (d.start_char, d.oov_char) if x is not None]
        if any(x >= d.index_from for x in reserved) and d.index_from:
            return (
                "data.index_from",
                f"data.index_from ({d.index_from}) must be above start_char and oov_char "
                f"({', '.join(map(str, reserved))}), or words would share their ids",
            )
        if d.num_words is not None and d.num_words <= d.index_from + 1:
            return (
                "data.num_words",
                f"data.num_words ({d.num_words}) leaves no word above data.index_from "
                f"({d.index_from}); every word would be out of vocabulary",
            )
        if d.num_words is not None and d.skip_top >= d.num_words:
            return (
                "data.skip_top",
                f"data.skip_top ({d.skip_top}) hides every id below it and data.num_words "
                f"({d.num_words}) every id from it on: every word would be out of vocabulary; "
                "set data.skip_top below data.num_words",
            )
        return None

    # -- loading
    @classmethod
    def input_size(cls, section: ImdbConfig) -> InputSize:
        """Reviews of at most ``maxlen`` ids from a vocabulary of ``num_words``."""
        return InputSize(
            steps=section.maxlen,
            steps_key="data.maxlen",
            vocab=section.num_words,
            vocab_key="data.num_words",
        )

    @classmethod
    def memory(cls, section: ImdbConfig, size: InputSize) -> list[MemoryItem]:
        """The token ids of every review (train and test halves)."""
        if not size.steps:
            return []
        reviews = 2 * (section.max_reviews or 25000)
        ids = reviews * size.steps
        return [MemoryItem(size.steps_key, 4.0 * ids, f"{ids:.3g} token ids")]

    def load(self, splits: tuple[str, ...] = ("train", "dev")) -> TextData:
        """The requested splits; test reviews are read only when ``test`` is requested."""
        d = self.data_cfg
        hints = {"length": d.maxlen, "padding": d.padding, "truncating": d.truncating}
        spec = {
            "layout": "keras",
            "num_words": d.num_words,
            "start_id": d.start_char,
            "oov_id": d.oov_char,
            "index_from": d.index_from,
            "skip_below": d.skip_top,
        }
        if d.path is None:
            halves, vocab, source = self._download(splits)
        else:
            p = Path(d.path).expanduser()
            npz = p if p.suffix == ".npz" else p / "imdb.npz"
            raw = next(
                (q for q in (p, p / "aclImdb") if (q / "train" / "pos").is_dir()),
                None,
            )
            if p.suffix == ".npz" or npz.is_file():
                halves, vocab = self._npz(npz, splits)
                source = str(npz)
            elif raw is not None:
                halves, vocab = self._acl(raw, splits), None
                source = str(raw)
            elif not p.exists():
                raise missing_path_error(d.path, "file or folder")
            elif p.is_file() and p.name.lower().endswith(_ARCHIVES):
                tool = "unzip" if p.name.lower().endswith(".zip") else "tar -xf"
                raise UserError(
                    f"{p.name} is an archive, not read as it is: extract it ({tool} {p.name}) "
                    "and set data.path to the aclImdb folder it holds",
                    where=f"data.path {d.path}",
                )
            elif p.is_file() and _is_table(p):
                raise UserError(
                    f"{p.name} is a table, which the imdb adapter does not read (it reads "
                    "imdb.npz or an aclImdb folder): for a table of reviews and labels, e.g. "
                    "Kaggle's 'IMDB Dataset.csv', set data.adapter: text_table with "
                    "data.text_column and data.label_column naming its columns",
                    where=f"data.path {d.path}",
                )
            elif (p / "pos").is_dir() or (p / "neg").is_dir():
                raise UserError(
                    f"this is one half ({p.name}/) of an aclImdb folder: set data.path to the "
                    f"folder that holds train/ and test/ ({p.parent})",
                    where=f"data.path {d.path}",
                )
            else:
                raise UserError(
                    "no imdb.npz (with imdb_word_index.json) and no aclImdb folder "
                    "(train/pos, train/neg, test/pos, test/neg) here",
                    where=f"data.path {d.path}",
                )
        out = self._split(halves, splits)
        data = TextData(
            out,
            CLASS_NAMES,
            # imdb_word_index.json keeps apostrophes inside words ("don't", "it's"): texts to
            # predict are tokenised the same way (encoders/text.py)
            vocab_spec={
                **spec,
                "num_words": d.num_words or 10**9,
                **({"apostrophes": "kept"} if vocab is not None else {}),
            },
            vocabulary=vocab,
            sequence_hints=hints,
            report_errors=d.report_errors,
            source=source,
        )
        if "test" not in splits:
            data.leakage_notes.append(
                "train/test duplicates not checked at train time: imdb's test half (25,000 "
                "reviews) is not read by train; `seqrun data describe` checks it"
            )
        return data

    def _split(self, halves: dict[str, TextSplit], splits: tuple[str, ...]) -> dict:
        """Carve dev out of the train half (stratified, seeded)."""
        d = self.data_cfg
        out = {}
        if "train" in splits or "dev" in splits:
            tr = halves["train"]
            dev = stratified_holdout(tr.labels, d.dev_fraction, d.split_seed)
            for name, mask in (("train", ~dev), ("dev", dev)):
                if name not in splits:
                    continue
                idx = np.flatnonzero(mask)
                if not len(idx):
                    raise UserError(
                        f"the {name} split is empty; raise data.max_reviews or change "
                        "data.dev_fraction",
                        where="data.dev_fraction",
                    )
                out[name] = TextSplit(
                    labels=tr.labels[idx],
                    texts=[tr.texts[i] for i in idx] if tr.texts is not None else None,
                    ids=[tr.ids[i] for i in idx] if tr.ids is not None else None,
                    row_ids=[tr.row_ids[i] for i in idx] if tr.row_ids is not None else None,
                )
        if "test" in splits:
            out["test"] = halves["test"]
        from seqrun.data.text_table import warn_one_class_splits

        for name in ("dev", "test"):  # e.g. a small data.max_reviews
            if name in out:
                labels = out[name].labels
                warn_one_class_splits(
                    labels,
                    {name: np.arange(len(labels))},
                    CLASS_NAMES,
                    "raise data.max_reviews" + (" or data.dev_fraction" if name == "dev" else ""),
                )
        for name, s in out.items():
            present = np.unique(s.labels)
            if name == "train" and len(present) < 2:
                raise UserError(
                    f"the train split has one class ({CLASS_NAMES[int(present[0])]}); "
                    "a classifier needs both",
                    where="data.path",
                )
        return {k: out[k] for k in splits}

    def _keras_ids(self, seqs: Any) -> list[list[int]]:
        """``[start] + [w + index_from ...]``, as load_data does before filtering."""
        d = self.data_cfg
        head = [d.start_char] if d.start_char is not None else []
        off = d.index_from
        return [head + [int(w) + off for w in s] for s in seqs]

    def _npz(self, npz: Path, splits: tuple[str, ...]) -> tuple[dict, Vocabulary]:
        d = self.data_cfg
        if not npz.is_file():
            raise missing_path_error(str(npz), "file")
        y_train = _binary_labels(read_npz_member(npz, "y_train"), "y_train", npz)
        index_path = npz.with_name("imdb_word_index.json")
        if not index_path.is_file():
            raise UserError(
                f"imdb_word_index.json not found beside {npz.name} (it maps words to ids, for "
                "decoding reviews and for predict)",
                where=f"data.path {d.path}",
            )
        word_index = self._word_index(index_path)
        want_train = "train" in splits or "dev" in splits
        n_test = (
            len(_binary_labels(read_npz_member(npz, "y_test"), "y_test", npz))
            if "test" in splits
            else 0
        )
        perm_train, perm_test = keras_shuffle(len(y_train), n_test, d.seed)
        num_words = d.num_words or (max(word_index.values(), default=0) + d.index_from + 1)
        vocab = Vocabulary.from_word_index(
            word_index, num_words, d.start_char, d.oov_char, d.index_from, d.skip_top
        )
        halves: dict[str, TextSplit] = {}
        for half, wanted, perm in (("train", want_train, perm_train), ("test", n_test, perm_test)):
            if not wanted:
                continue
            x = read_npz_member(npz, f"x_{half}")
            y = _binary_labels(read_npz_member(npz, f"y_{half}"), f"y_{half}", npz)
            if len(x) != len(y):
                raise UserError(f"x_{half} has {len(x)} reviews, y_{half} {len(y)}", str(npz))
            if d.max_reviews:
                perm = perm[: d.max_reviews]
            reviews = (_review(x[i], f"x_{half}", int(i), npz) for i in perm)
            raw = self._keras_ids(reviews)
            top = max((max(s) for s in raw if s), default=0)
            if d.num_words is None and top >= num_words:
                warn(
                    f"{npz}: x_{half} holds word ranks up to {top - d.index_from}, "
                    f"{index_path.name} only up to {num_words - d.index_from - 1}: with "
                    "data.num_words null the words ranked above it are out of vocabulary "
                    "(keras.datasets.imdb keeps them); set data.num_words: "
                    f"{top + 1} to keep them, or use the word index that came with the file"
                )
            ids = [vocab.filter_ids(s) for s in raw]
            halves[half] = TextSplit(labels=y[perm], ids=ids, row_ids=[int(i) for i in perm])
        return halves, vocab

    def _word_index(self, path: Path) -> dict[str, int]:
        text, bad = decode_bytes(path.read_bytes())
        try:
            index = json.loads(text)
        except ValueError as e:
            raise UserError(f"not JSON ({e})", where=str(path)) from None
        if not isinstance(index, dict):
            raise UserError("expected a JSON object {word: rank}", where=str(path))
        out = {}
        for k, v in index.items():
            if isinstance(v, str) and v.strip().isdigit():  # a rank written as text: "12"
                v = int(v)
            if isinstance(v, bool) or not isinstance(v, int | float) or v < 0 or v != int(v):
                raise UserError(
                    f"the rank of {k!r} is {json.dumps(v)[:40]}, not a whole number >= 0: "
                    "imdb_word_index.json maps each word to its frequency rank (1 = most "
                    "frequent); download it again",
                    where=str(path),
                )
            out[str(k)] = int(v)
        return out

    def _acl(self, root: Path, splits: tuple[str, ...]) -> dict[str, TextSplit]:
        d = self.data_cfg
        want = {"train"} if ("train" in splits or "dev" in splits) else set()
        if "test" in splits:
            want.add("test")
        files: dict[str, list[tuple[Path, int]]] = {}
        for half in ("train", "test"):
            items = []
            for label, folder in ((0, "neg"), (1, "pos")):
                sub = root / half / folder
                if not sub.is_dir():
                    if half in want:
                        raise UserError(
                            f"folder not found: {sub} (an aclImdb folder has train/pos, "
                            "train/neg, test/pos and test/neg; extract the whole archive)",
                            where="data.path",
                        )
                    continue
                # macOS archives carry AppleDouble '._<name>.txt' files beside the reviews
                found = sorted(
                    f for f in sub.glob("*.txt") if not f.name.startswith(".") and f.is_file()
                )
                if not found and half in want:
                    raise UserError(
                        f"no review files (<id>_<rating>.txt) in {sub}: the {half} half needs "
                        f"{CLASS_NAMES[label]} reviews; extract the whole archive again",
                        where="data.path",
                    )
                items.extend((f, label) for f in found)
            files[half] = items
        perm_train, perm_test = keras_shuffle(len(files["train"]), len(files["test"]), d.seed)
        halves = {}
        bad_total, bad_files, other_utf8 = 0, 0, 0
        first_bad: Path | None = None
        for half, perm in (("train", perm_train), ("test", perm_test)):
            if half not in want:
                continue
            if d.max_reviews:
                perm = perm[: d.max_reviews]
            texts, labels, names = [], [], []
            for i in perm:
                f, label = files[half][i]
                data = f.read_bytes()
                _check_review_bytes(data, d.encoding, f)
                text, bad = decode_bytes(data, d.encoding)
                if bad:
                    bad_total += bad
                    bad_files += 1
                    first_bad = first_bad or f
                elif not data.isascii():
                    other_utf8 += 1
                texts.append(text)
                labels.append(label)
                names.append(f"{half}/{f.parent.name}/{f.name}")
            empty = sum(1 for t in texts if not t.strip())
            if empty:
                warn(f"{root}: {empty} empty review file(s) in {half}/ (kept as empty texts)")
            halves[half] = TextSplit(
                labels=np.asarray(labels, dtype=np.int64), texts=texts, row_ids=names
            )
        if bad_total:
            guess = guess_encoding(first_bad.read_bytes()) if first_bad else None
            if guess and guess != d.encoding and other_utf8:
                raise UserError(
                    f"{bad_files} review file(s) are not valid {d.encoding} text (they look "
                    f"like {guess}) while {other_utf8} other file(s) are non-ASCII "
                    f"{d.encoding}: one data.encoding cannot read both; convert the odd "
                    f"file(s) to {d.encoding} (e.g. iconv -f {guess} -t {d.encoding})",
                    where=str(first_bad),
                )
            if guess and guess != d.encoding:
                raise UserError(
                    f"{bad_files} review file(s) are not valid {d.encoding} text; they look "
                    f"like {guess}: set data.encoding: {guess}",
                    where=str(first_bad),
                )
            warn(
                f"{root}: {bad_total} undecodable byte(s) (not {d.encoding}) in {bad_files} "
                f"review file(s) replaced by U+FFFD (the first in {first_bad}); if the files "
                "have another encoding, set data.encoding"
            )
        return halves

    def _download(self, splits: tuple[str, ...]) -> tuple[dict, Vocabulary, str]:
        """The files keras.datasets.imdb uses (downloaded once into its cache, KERAS_HOME or
        ~/.keras/datasets), read like a local imdb.npz: the same reviews, without importing
        TensorFlow (``data describe`` stays light)."""
        npz = keras_dataset_file("imdb.npz", IMDB_NPZ_SHA256)
        keras_dataset_file("imdb_word_index.json", None)
        halves, vocab = self._npz(npz, splits)
        return halves, vocab, "keras.datasets.imdb"


def _is_table(path: Path) -> bool:
    """Whether a file's extension names a table that the text_table adapter reads."""
    from seqrun.data.text_table import TABLE_EXTS

    name = path.name.lower().removesuffix(".gz")
    return Path(name).suffix in TABLE_EXTS


def _check_review_bytes(data: bytes, encoding: str, path: Path) -> None:
    """A UserError for a review file that is no text in ``encoding``: NUL bytes without a
    byte-order mark (UTF-16 without a BOM would be read as letters between NULs, and a
    compressed or binary file as garbage)."""
    import codecs

    from seqrun.core.text import bom_encoding

    if b"\x00" not in data or bom_encoding(data):
        return
    try:
        if codecs.lookup(encoding).name.startswith(("utf-16", "utf-32")):
            return
    except LookupError:
        return  # decode_bytes names the unknown encoding
    guess = guess_encoding(data) or ""
    if guess.startswith("utf-16"):
        raise UserError(
            f"the review file looks like {guess} text without a byte-order mark: set "
            f"data.encoding: {guess} (or convert the files to UTF-8)",
            where=str(path),
        )
    what = "a gzip-compressed file" if data.startswith(b"\x1f\x8b") else "binary (NUL bytes)"
    raise UserError(
        f"the review file is {what}, not text: replace it with the review's text, or remove it",
        where=str(path),
    )


KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
IMDB_NPZ_SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"


def keras_datasets_dir() -> Path:
    """The folder where keras.utils.get_file caches datasets (KERAS_HOME/datasets, else
    ~/.keras/datasets, else /tmp/.keras/datasets when the home folder is read-only)."""
    import os

    if "KERAS_HOME" in os.environ:
        base = Path(os.environ["KERAS_HOME"]).expanduser()
    else:
        home = Path("~").expanduser()
        base = home / ".keras" if os.access(home, os.W_OK) else Path("/tmp/.keras")
    return base / "datasets"


def keras_dataset_file(name: str, sha256: str | None) -> Path:
    """A file of Keras' dataset store, downloaded into its cache on first use."""
    import hashlib
    import os
    import urllib.request

    path = keras_datasets_dir() / name
    if path.is_file():
        return path
    url = KERAS_ORIGIN + name
    tmp = path.with_name(f".{name}.{os.getpid()}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(url, timeout=60) as r, open(tmp, "wb") as f:
            # said once the server answers: a failed download is the error line alone
            print(f"Downloading data from {url}", file=sys.stderr)
            digest = hashlib.sha256()
            while chunk := r.read(1 << 20):
                digest.update(chunk)
                f.write(chunk)
        if sha256 is not None and digest.hexdigest() != sha256:
            raise OSError(f"the downloaded file's checksum is wrong ({digest.hexdigest()})")
        os.replace(tmp, path)
    except Exception as e:  # no network, proxy, full disk ...
        tmp.unlink(missing_ok=True)
        raise UserError(
            f"cannot download {url} ({type(e).__name__}: {e}); set data.path to a local "
            f"imdb.npz or aclImdb folder, or put {name} in {path.parent}",
            where="data.path",
        ) from None
    return path
