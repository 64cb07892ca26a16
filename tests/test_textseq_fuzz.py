"""Mutated inputs of the text and sequences readers (a systematic mutation pass: truncated,
blank, binary, mis-encoded, ragged, mislabelled and mis-shaped files): each is read right or
is one `error:` line with exit code 2. Readers and `data describe` only (no training)."""

from __future__ import annotations

import gzip
import json
import os

import numpy as np
import pytest

from tests.conftest import write_config
from tests.test_bad_inputs import one_line_error
from tests.text_fixtures import write_acl_imdb, write_imdb_npz

# ----------------------------------------------------------------------------- helpers


def _text_config(tmp_path, path, **data):
    cfg = {
        "name": "fuzz",
        "seed": 0,
        "data": {"adapter": "text_table", "path": str(path), **data},
        "encoder": {"type": "multi_hot", "vocab_size": 100},
        "model": {"arch": "dense", "units": 4},
        "train": {"epochs": 1, "batch_size": 8},
    }
    return write_config(tmp_path, cfg)


def _seq_config(tmp_path, path, adapter="sequences", **data):
    cfg = {
        "name": "fuzz",
        "seed": 0,
        "data": {"adapter": adapter, "path": str(path), **data},
        "encoder": {"type": "sequence_standardize"},
        "model": {"arch": "gru", "units": 4},
        "train": {"epochs": 1, "batch_size": 8},
    }
    return write_config(tmp_path, cfg)


def _imdb_config(tmp_path, path):
    cfg = {
        "name": "fuzz",
        "seed": 0,
        "data": {"adapter": "imdb", "path": str(path), "num_words": 100},
        "encoder": {"type": "multi_hot", "weighting": "binary"},
        "model": {"arch": "dense", "units": 4},
        "train": {"epochs": 1, "batch_size": 8},
    }
    return write_config(tmp_path, cfg)


def _rows(n: int = 40) -> list[tuple[str, str]]:
    return [
        ("pos" if i % 2 else "neg", f"{'great' if i % 2 else 'dull'} film {i}") for i in range(n)
    ]


def _csv(path, rows, header="label,text", sep=","):
    path.write_text("\n".join([header, *(sep.join(r) for r in rows)]) + "\n", encoding="utf-8")
    return path


LONG_HEAD = "id,step,x,label"


def _long(path, ids=None, labels=None, head=LONG_HEAD, steps=4, extra=None):
    """A long CSV of 8 one-channel sequences s0..s7 (or ``ids``), classes up/down."""
    ids = ids or [f"s{i}" for i in range(8)]
    labels = labels or ["up" if i % 2 else "down" for i in range(len(ids))]
    lines = [head]
    for k, (sid, label) in enumerate(zip(ids, labels, strict=True)):
        for t in range(steps):
            lines.append(f"{sid},{t},{k + t * 0.5},{label}")
    lines += extra or []
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _describe(cli, config):
    return cli("data", "describe", config)


# ----------------------------------------------------------------------------- text tables


def test_jsonl_texts_holding_unicode_line_separators_are_read(cli, tmp_path):
    # json.dumps(ensure_ascii=False) writes U+2028 and U+0085 as they are: str.splitlines cut
    # every such line in two ("not a JSON object (Unterminated string ...)")
    path = tmp_path / "t.jsonl"
    lines = [
        json.dumps({"label": label, "text": f"{text} \u2028 next \u0085 end"}, ensure_ascii=False)
        for label, text in _rows()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = _describe(cli, _text_config(tmp_path, path))
    assert r.exit_code == 0, r.output


def test_a_blank_file_is_empty_not_a_field_count(cli, tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("\n\n   \n", encoding="utf-8")
    # was: "blank.csv:3: 1 fields, the header has 0"
    one_line_error(_describe(cli, _text_config(tmp_path, path)), "blank.csv", "the file is blank")


def test_blank_lines_before_the_header_are_skipped(cli, tmp_path):
    path = tmp_path / "lead.csv"
    path.write_text("\n\n" + "label,text\n" + "\n".join(",".join(r) for r in _rows()) + "\n")
    assert _describe(cli, _text_config(tmp_path, path)).exit_code == 0


def test_header_and_rows_with_different_separators(cli, tmp_path):
    path = _csv(tmp_path / "mixed.csv", _rows(), header="label;text")
    one_line_error(
        _describe(cli, _text_config(tmp_path, path)),
        "mixed.csv:2",
        "the header is separated by ';' and this row by ','",
    )


def test_unquoted_separator_in_a_text_says_to_quote_it(cli, tmp_path):
    rows = _rows()
    rows[5] = ("pos", "great, moving film")
    path = _csv(tmp_path / "q.csv", rows)
    one_line_error(
        _describe(cli, _text_config(tmp_path, path)), "q.csv:7", "3 fields", "double quotes"
    )


@pytest.mark.parametrize(
    ("name", "sep", "shown"), [("t.csv", ",", "','"), ("t.tsv", "\t", "a tab")]
)
def test_rows_ending_with_a_separator_say_so(cli, tmp_path, name, sep, shown):
    # was: "a text holding ',' must be in double quotes" for an empty field past the header's
    path = _csv(tmp_path / name, [(label, text + sep) for label, text in _rows()], sep=sep)
    path.write_text(path.read_text().replace(",", sep, 1))  # the header too
    one_line_error(
        _describe(cli, _text_config(tmp_path, path)),
        f"{name}:2",
        "3 fields, the header has 2",
        f"the field(s) past the header's are empty: does the row end with {shown}?",
    )


def test_parquet_file_is_named_as_such(cli, tmp_path):
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 32 + b"PAR1")
    one_line_error(_describe(cli, _text_config(tmp_path, path)), "Parquet file", "pd.read_parquet")


def test_train_split_with_one_class_is_an_error(cli, tmp_path):
    # a split column putting every 'neg' row in dev or test: the model trained on one class
    rows = [
        (label, text, "train" if label == "pos" else "dev" if i % 4 else "test")
        for i, (label, text) in enumerate(_rows())
    ]
    path = _csv(tmp_path / "s.csv", rows, header="label,text,split")
    config = _text_config(tmp_path, path, split={"method": "column"})
    one_line_error(_describe(cli, config), "data.split", "the train split holds one class ('pos')")


def test_data_classes_are_read_without_surrounding_spaces(cli, tmp_path):
    path = _csv(tmp_path / "c.csv", _rows())
    r = _describe(cli, _text_config(tmp_path, path, classes=[" neg", "pos "]))
    assert r.exit_code == 0, r.output  # was: "label 'pos' is not one of data.classes ( neg, pos )"
    one_line_error(
        cli("config", "validate", _text_config(tmp_path, path, classes=["neg", " neg", "pos"])),
        "names 'neg' twice",
    )


@pytest.mark.parametrize("kind", ["loop", "fifo"])
def test_a_path_that_is_no_regular_file_says_what_it_is(cli, tmp_path, kind):
    path = tmp_path / "t.csv"
    if kind == "loop":
        os.symlink(path, path)
        needle = f"symbolic link loop ({path} -> {path})"
    else:
        os.mkfifo(path)
        needle = "not a regular file"
    one_line_error(_describe(cli, _text_config(tmp_path, path)), needle)


# ----------------------------------------------------------------------------- imdb


def _imdb_variant(tmp_path, **changes):
    base = write_imdb_npz(tmp_path / "base")
    arrays = dict(np.load(base, allow_pickle=True))
    for key, value in changes.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    folder = tmp_path / "v"
    folder.mkdir()
    np.savez(folder / "imdb.npz", **arrays)
    (folder / "imdb_word_index.json").write_bytes(
        (tmp_path / "base" / "imdb_word_index.json").read_bytes()
    )
    return folder / "imdb.npz", arrays


def _ragged(seqs):
    out = np.empty(len(seqs), dtype=object)
    for i, seq in enumerate(seqs):
        out[i] = seq
    return out


@pytest.mark.parametrize(
    "mutate, needles",
    [
        # each was a Python exception (exit 1): ValueError / TypeError from int() or len()
        (
            lambda a: {"y_train": np.where(a["y_train"] == 1, "pos", "neg")},
            ["y_train holds neg, pos"],
        ),
        (lambda a: {"y_train": np.array(1)}, ["y_train has shape ()"]),
        (lambda a: {"x_train": np.arange(len(a["y_train"]))}, ["is a single number, not a review"]),
        (lambda a: {"x_train": _ragged([["the", "film"]] * len(a["y_train"]))}, ["holds 'the'"]),
        (lambda a: {"x_train": _ragged([[1.5, np.nan]] * len(a["y_train"]))}, ["holds '1.5'"]),
        (lambda a: {"x_train": _ragged([[4, -5]] * len(a["y_train"]))}, ["negative word rank -5"]),
    ],
)
def test_imdb_npz_arrays_of_the_wrong_kind_are_one_line(cli, tmp_path, mutate, needles):
    base = write_imdb_npz(tmp_path / "base")
    arrays = dict(np.load(base, allow_pickle=True))
    path, _ = _imdb_variant(tmp_path, **mutate(arrays))
    one_line_error(_describe(cli, _imdb_config(tmp_path, path)), "imdb.npz", *needles)


@pytest.mark.parametrize(
    "index, needle",
    [
        ({"the": None}, "the rank of 'the' is null"),
        ({"the": "often"}, 'is "often"'),
        ({"the": 1.5}, "is 1.5"),
        ({"the": -3}, "is -3"),
    ],
)
def test_imdb_word_index_ranks_must_be_whole_numbers(cli, tmp_path, index, needle):
    npz = write_imdb_npz(tmp_path / "d")
    words = json.loads((tmp_path / "d" / "imdb_word_index.json").read_text())
    (tmp_path / "d" / "imdb_word_index.json").write_text(json.dumps({**words, **index}))
    one_line_error(_describe(cli, _imdb_config(tmp_path, npz)), "imdb_word_index.json", needle)
    words["the"] = str(words["the"])  # a rank written as text is still a rank
    (tmp_path / "d" / "imdb_word_index.json").write_text(json.dumps(words))
    assert _describe(cli, _imdb_config(tmp_path, npz)).exit_code == 0


@pytest.mark.parametrize(
    "damage, needle",
    [
        (lambda b: b[: len(b) // 2], "a damaged .npz archive (truncated or corrupt)"),
        (gzip.compress, "gzip-compressed file, not an .npz archive: decompress it"),
        (lambda b: b"", "the file is empty"),
    ],
)
def test_imdb_npz_damaged_files_say_what_they_are(cli, tmp_path, damage, needle):
    npz = write_imdb_npz(tmp_path / "d")
    npz.write_bytes(damage(npz.read_bytes()))
    one_line_error(
        _describe(cli, _imdb_config(tmp_path, npz)), needle
    )  # was: "not an .npz archive"


@pytest.mark.parametrize(
    "content, needles",
    [
        # UTF-16 without a BOM is valid UTF-8 (ASCII and NULs): "great" was read as g, r, e, a, t
        (
            "a great film".encode("utf-16-le"),
            ["utf-16-le text without a byte-order mark", "data.encoding"],
        ),
        (gzip.compress(b"a great film"), ["gzip-compressed file, not text"]),
    ],
)
def test_acl_review_files_that_are_not_text_are_errors(cli, tmp_path, content, needles):
    root = write_acl_imdb(tmp_path)
    (root / "train" / "pos" / "900_9.txt").write_bytes(content)
    one_line_error(_describe(cli, _imdb_config(tmp_path, root)), "900_9.txt", *needles)


# ----------------------------------------------------------------------------- .ts

TS_HEAD = [
    "@problemName Fuzz",
    "@timeStamps false",
    "@missing true",
    "@univariate false",
    "@dimensions 2",
    "@equalLength true",
    "@seriesLength 3",
    "@classLabel true a b",
    "@data",
]


def _ts(path, rows, head=None):
    path.write_text("\n".join([*(head or TS_HEAD), *rows]) + "\n", encoding="utf-8")
    return path


TS_ROWS = [f"{i},{i + 1},{i + 2}:{i * 2},{i},1:{'ab'[i % 2]}" for i in range(12)]


@pytest.mark.parametrize(
    "head, line, needle",
    [
        # a header cut short after '@classLabel': was a ValueError (exit 1)
        ([*TS_HEAD[:7], "@classLabel", "@data"], 8, "@classLabel must be true or false"),
        # a class listed twice made a third, phantom class
        ([*TS_HEAD[:7], "@classLabel true a b a", "@data"], 8, "lists class 'a' twice"),
        # the second @univariate silently won
        ([*TS_HEAD[:4], "@univariate true", *TS_HEAD[4:]], 5, "@univariate appears twice"),
    ],
)
def test_ts_header_mistakes_are_one_line(cli, tmp_path, head, line, needle):
    path = _ts(tmp_path / "X_TRAIN.ts", TS_ROWS, head)
    one_line_error(_describe(cli, _seq_config(tmp_path, path)), f"X_TRAIN.ts:{line}", needle)


@pytest.mark.parametrize(
    "rows, needles",
    [
        (
            [r.split(":")[0] + ":?,?,?:" + r.split(":")[2] for r in TS_ROWS],
            ["X_TRAIN.ts:", "channel 'dim_1' has no values"],
        ),
        ([*TS_ROWS, "?,?,?:?,?,?:a"], ["X_TRAIN.ts:22", "has no value (every value is missing)"]),
    ],
)
def test_ts_channel_or_series_without_values_is_an_error(cli, tmp_path, rows, needles):
    # was read as zeros (the .npz reader already refused it)
    path = _ts(tmp_path / "X_TRAIN.ts", rows)
    one_line_error(_describe(cli, _seq_config(tmp_path, path)), *needles)


@pytest.mark.parametrize("kind", ["folder", "loop"])
def test_a_test_file_beside_that_cannot_be_read_is_an_error(cli, tmp_path, kind):
    # was: silently ignored, the TRAIN file then split into train, dev and test
    path = _ts(tmp_path / "X_TRAIN.ts", TS_ROWS)
    twin = tmp_path / "X_TEST.ts"
    if kind == "folder":
        twin.mkdir()
    else:
        os.symlink(twin, twin)
    one_line_error(_describe(cli, _seq_config(tmp_path, path)), "X_TEST.ts beside X_TRAIN.ts")


# ----------------------------------------------------------------------------- long CSV


def test_long_csv_na_labels_are_missing_unless_listed_as_classes(cli, tmp_path):
    from seqrun.data.sequence_csv import read_long_csv

    # 'NA' on some rows of a sequence labelled elsewhere: those rows carry no label
    path = _long(tmp_path / "a.csv")
    text = path.read_text().splitlines()
    text[2] = text[2].rsplit(",", 1)[0] + ",NA"  # s0's second row
    path.write_text("\n".join(text) + "\n")
    s = read_long_csv(path, "id", "step", None, "label")
    assert s.labels[0] == "down"  # was: "changes its label within the sequence"
    # a whole sequence labelled NA: no label (was: a class 'NA'), unless data.classes lists it
    labels = ["NA" if i == 0 else "up" if i % 2 else "down" for i in range(8)]
    path = _long(tmp_path / "b.csv", labels=labels)
    one_line_error(
        _describe(cli, _seq_config(tmp_path, path)),
        "b.csv:2",
        "sequence 's0' has no label",
        "'NA' is read as a missing value",
    )
    config = _seq_config(tmp_path, path, classes=["down", "up", "NA"])
    assert _describe(cli, config).exit_code == 0


def test_long_csv_regression_targets_are_compared_as_numbers(tmp_path):
    from seqrun.data.sequence_csv import read_long_csv

    rows = ["id,step,x,target", "a,0,1,2.5", "a,1,2,2.50", "b,0,1,NaN", "b,1,3,7"]
    path = tmp_path / "r.csv"
    path.write_text("\n".join(rows) + "\n")
    s = read_long_csv(path, "id", "step", None, "target", regression=True)
    assert s.labels == [2.5, 7.0]  # was: "changes its label ... '2.5' then '2.50'"


def test_long_csv_missing_ids(cli, tmp_path, capsys):
    from seqrun.data.sequence_csv import read_long_csv

    # among numeric ids, NA is a missing number (as R and pandas read it): an error
    path = _long(tmp_path / "n.csv", ids=["1", "2", "3", "NA", "5", "6", "7", "8"])
    one_line_error(
        _describe(cli, _seq_config(tmp_path, path)), "n.csv:14", "sequence id 'NA'", "numeric ids"
    )
    # among text ids, a literal id, warned once
    path = _long(tmp_path / "t.csv", ids=["s0", "s1", "NA", "s3", "s4", "s5", "s6", "s7"])
    s = read_long_csv(path, "id", "step", None, "label")
    assert "NA" in s.ids
    err = capsys.readouterr().err
    assert "t.csv:10: sequence id 'NA' in column 'id' is read as an id" in err
    # one number written two ways would be two sequences
    path = _long(tmp_path / "d.csv", ids=["1", "2", "3", "4", "5", "6", "7", "8"])
    lines = path.read_text().splitlines()
    lines[3] = "1.0" + lines[3][1:]
    path.write_text("\n".join(lines) + "\n")
    one_line_error(_describe(cli, _seq_config(tmp_path, path)), "d.csv:4", "'1' (line 2) and '1.0'")


def test_long_csv_short_rows_are_warned(tmp_path, capsys):
    from seqrun.data.sequence_csv import read_long_csv

    path = _long(tmp_path / "s.csv")
    lines = path.read_text().splitlines()
    lines[5] = "s1,0"  # id and step only: the value and the label read as missing
    path.write_text("\n".join(lines) + "\n")
    s = read_long_csv(path, "id", "step", None, "label")
    assert np.isnan(s.series[1][0, 0])
    err = capsys.readouterr().err
    assert "1 row(s) have fewer fields than the header's 4 (the first on line 6, 2 field(s))" in err


def test_sequences_data_classes_stripped_and_unique(cli, tmp_path):
    path = _long(tmp_path / "c.csv")
    assert _describe(cli, _seq_config(tmp_path, path, classes=[" down", "up "])).exit_code == 0
    # listed twice: was a phantom fifth class
    one_line_error(
        cli("config", "validate", _seq_config(tmp_path, path, classes=["down", "up", "down"])),
        "names 'down' twice",
    )


def test_long_csv_channel_without_values_is_an_error(cli, tmp_path):
    path = _long(tmp_path / "m.csv", head="id,step,x,label")
    lines = path.read_text().splitlines()
    lines = [lines[0]] + [
        ",".join(p if j != 2 else "" for j, p in enumerate(r.split(","))) for r in lines[1:]
    ]
    path.write_text("\n".join(lines) + "\n")
    one_line_error(_describe(cli, _seq_config(tmp_path, path)), "m.csv", "no values")


# ----------------------------------------------------------------------------- .npz

X = np.random.default_rng(0).normal(size=(12, 5, 1)).astype(np.float32)
Y = np.array([1, 2] * 6)


@pytest.mark.parametrize(
    "arrays, needle",
    [
        # each was a Python exception (exit 1)
        ({"x": X, "y": np.array(1)}, "'y' is a single value"),
        ({"x": X, "y": Y - 1, "classes": np.array("a")}, "'classes' has shape ()"),
        ({"x": X, "y": Y, "ids": np.array(7)}, "'ids' has shape ()"),
        ({"x": np.zeros((12, 5, 0)), "y": Y}, "the series have no channel"),
        # silently wrong before
        ({"x": X, "y": Y, "ids": np.zeros((12, 2))}, "'ids' has shape (12, 2)"),
        ({"x": X, "y": Y, "ids": np.where(np.arange(12) == 2, np.nan, 1.0)}, "ids[2] is NaN"),
        ({"x": X, "y": Y.astype(complex)}, "'y' has dtype complex128"),
        ({"x": X, "y": Y - 1, "classes": np.array(["a", "a"])}, "'classes' names 'a' twice"),
        (
            {"x": X[:, :, 0].reshape(-1, 1), "y": Y, "lengths": np.full(12, 4)},
            "'lengths' has 12 entries summing to 48, while 'x' has 60 rows",
        ),
    ],
)
def test_npz_arrays_of_the_wrong_shape_or_kind(cli, tmp_path, arrays, needle):
    np.savez(tmp_path / "d.npz", **arrays)
    one_line_error(_describe(cli, _seq_config(tmp_path, tmp_path / "d.npz")), "d.npz", needle)


def test_npz_string_labels_are_stripped_like_csv_and_ts_labels(tmp_path):
    from seqrun.data.sequence_npz import read_npz

    np.savez(tmp_path / "d.npz", x=X, y=np.array([" a", "b "] * 6))
    assert sorted(set(read_npz(tmp_path / "d.npz").labels)) == ["a", "b"]


def test_train_and_test_labels_spelled_differently_are_an_error(cli, tmp_path):
    # train ids 1, 2 and test '1.0', '2.0': four classes, no test label matching a trained one
    np.savez(tmp_path / "train.npz", x=X, y=Y)
    np.savez(tmp_path / "test.npz", x=X, y=np.array([f"{v}.0" for v in Y]))
    config = _seq_config(tmp_path, tmp_path / "train.npz", test_path=str(tmp_path / "test.npz"))
    one_line_error(
        _describe(cli, config), "test.npz (y[0])", "'1.0' here and '1' in", "train.npz (y[0])"
    )


def _garbage_npz(path, names):
    """A zip holding .npy members whose header numpy cannot parse (its tokenizer raised)."""
    import zipfile

    with zipfile.ZipFile(path, "w") as z:
        for n in names:
            z.writestr(f"{n}.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': '|O'" + b"x" * 40)
    return path


@pytest.mark.parametrize("allow_pickle", [False, True])
def test_npz_member_with_a_damaged_header(cli, tmp_path, allow_pickle):
    path = _garbage_npz(tmp_path / "g.npz", ["x", "y"])
    config = _seq_config(tmp_path, path, allow_pickle=allow_pickle)
    one_line_error(_describe(cli, config), "g.npz", "a damaged .npz archive (TokenError")


def test_imdb_npz_member_with_a_damaged_header(cli, tmp_path):
    npz = write_imdb_npz(tmp_path / "d")
    _garbage_npz(npz, ["x_train", "y_train", "x_test", "y_test"])
    one_line_error(
        _describe(cli, _imdb_config(tmp_path, npz)), "imdb.npz", "a damaged array 'y_train'"
    )


def test_a_dev_or_test_split_of_one_class_is_warned(cli):
    # was: data.max_rows=300 on the sorted movie-review sample left dev and test all positive;
    # training showed dev_accuracy 1 and dev_auc 0 with no word
    r = cli("data", "describe", "configs/mr-multihot.yaml", "--set", "data.max_rows=300")
    assert r.exit_code == 0, r.output
    for split in ("dev", "test"):
        assert f"the {split} split holds one class ('positive') of the data's 2" in r.stderr
    assert "data.max_rows reads the first 300 rows" in r.stderr
    r = cli("data", "describe", "configs/mr-multihot.yaml")
    assert r.exit_code == 0 and "holds one class" not in r.stderr, r.stderr


def test_one_class_left_by_max_series_names_it(cli):
    r = cli("data", "describe", "configs/basicmotions-fcn.yaml", "--set", "data.max_series=1")
    assert r.exit_code == 2 and "data.max_series keeps its first 1 series" in r.stderr, r.output
