"""Text classification: tokenizer, vocabularies, IMDB semantics, text tables, encoders,
classification metrics, train/evaluate/predict end to end (tiny real models, real files)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import write_config
from tests.text_fixtures import (
    POSITIVE,
    mr_lines,
    ragged,
    write_acl_imdb,
    write_glove,
    write_imdb_npz,
    write_mr_slice,
)


@pytest.fixture(scope="module", autouse=True)
def _mr_slice(tmp_path_factory):
    """900 real rows of mr_snippets.tsv, both classes, for the tiny runs of this module."""
    MR["data"]["path"] = str(write_mr_slice(tmp_path_factory.mktemp("mr") / "mr_slice.tsv"))


MR = {
    "name": "tiny-mr",
    "seed": 1,
    "data": {
        "adapter": "text_table",
        "path": None,  # set by _mr_slice
        "label_column": "score",
        "label_type": "score",
        "id_column": "id",
        "report_errors": 5,
    },
    "encoder": {"type": "multi_hot", "vocab_size": 500},
    "model": {"arch": "dense", "units": 8, "layers": 1},
    "train": {"epochs": 2, "batch_size": 64, "learning_rate": 0.01},
    "metrics": "classification",
}


def mr(**sections) -> dict:
    out = json.loads(json.dumps(MR))
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key].update(value)
        else:
            out[key] = value
    return out


def train_json(cli, tmp_path, raw, name="exp.yaml"):
    r = cli("train", write_config(tmp_path, raw, name), "--runs-dir", tmp_path / "runs", "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


# ----------------------------------------------------------------------------- pure units


def test_tokenizer_modes():
    from seqrun.core.text import tokenize

    text = "Don't miss it: a well-made, GREAT film!"
    assert tokenize(text) == ["dont", "miss", "it", "a", "wellmade", "great", "film"]
    assert tokenize(text, punctuation="split")[:4] == ["don't", "miss", "it", ":"]
    assert tokenize(text, lowercase=False, punctuation="keep")[-1] == "film!"


def test_keras_vocabulary_semantics():
    from seqrun.core.text import Vocabulary

    index = {"the": 1, "film": 2, "great": 3, "awful": 4}
    v = Vocabulary.from_word_index(
        index, num_words=7, start_id=1, oov_id=2, index_from=3, skip_below=0
    )
    # rank r -> r + 3; ids >= num_words (awful = 7) -> OOV; unknown words -> OOV
    assert v.encode(["the", "great", "awful", "zzz"]) == [1, 4, 6, 2, 2]
    assert v.decode([1, 4, 6, 2]) == "[START] the great [OOV]"
    # skip_top applies to every id below it, the start id included, as in Keras
    v2 = Vocabulary.from_word_index(index, 7, 1, 2, 3, skip_below=5)
    assert v2.encode(["the", "film", "great"]) == [2, 2, 5, 6]


def test_classification_metrics_by_hand():
    from seqrun.metrics import ClassificationMetrics, roc_auc

    y = np.array([0, 0, 0, 1, 1, 1, 1, 0])
    p = np.array([0.1, 0.6, 0.3, 0.8, 0.4, 0.9, 0.7, 0.2])
    m = ClassificationMetrics().compute(
        {"y_true": y, "proba": p, "class_names": ["neg", "pos"], "train_class_counts": [10, 3]}
    )
    assert m["confusion_matrix"] == [[3, 1], [1, 3]]
    assert m["accuracy"] == pytest.approx(0.75)
    assert m["precision"] == pytest.approx(0.75) and m["recall"] == pytest.approx(0.75)
    assert m["f1"] == pytest.approx(0.75)
    pos, neg = p[y == 1], p[y == 0]
    brute = np.mean([(a > b) + 0.5 * (a == b) for a in pos for b in neg])
    assert m["auc"] == pytest.approx(brute) == pytest.approx(roc_auc(y, p))
    expected_ll = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert m["log_loss"] == pytest.approx(expected_ll)
    # majority class comes from the training counts (neg), scored on this split
    assert m["majority_class"] == "neg" and m["majority_accuracy"] == pytest.approx(0.5)


def test_multiclass_metrics():
    from seqrun.metrics import ClassificationMetrics

    y = np.array([0, 1, 2, 2])
    p = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7], [0.5, 0.3, 0.2]])
    m = ClassificationMetrics().compute({"y_true": y, "proba": p, "class_names": ["a", "b", "c"]})
    assert m["accuracy"] == pytest.approx(0.75)
    assert m["confusion_matrix"][2] == [1, 0, 1]
    assert m["majority_class"] == "c"


# ----------------------------------------------------------------------------- IMDB files


def _imdb_cfg(path, **data):
    from seqrun.core.config import config_from_dict

    raw = {
        "name": "imdb-test",
        "data": {"adapter": "imdb", "path": None if path is None else str(path), **data},
        "model": {"arch": "dense", "units": 4},
    }
    return config_from_dict(raw)


@pytest.mark.parametrize(
    ("labels", "shown"),
    [(lambda y: y * 9 + 1, "y_train holds 1, 10:"), (lambda y: y * 0.5 + 0.2, "holds 0.2, 0.7:")],
)
def test_imdb_npz_labels_other_than_0_and_1(tmp_path, labels, shown):
    """Ratings or scores in y_train: an error naming them (10-class ratings crashed describe,
    scores were cut to 0 and reported as one class)."""
    from seqrun.core.errors import UserError
    from seqrun.data.imdb import ImdbAdapter

    npz = write_imdb_npz(tmp_path / "imdb")
    arrays = dict(np.load(npz, allow_pickle=True))
    arrays["y_train"] = labels(arrays["y_train"])
    np.savez(npz, **arrays)
    with pytest.raises(UserError) as e:
        ImdbAdapter(_imdb_cfg(tmp_path / "imdb").data).load(("train", "dev"))
    assert shown in e.value.message and "IMDB labels are 0 (negative) and 1" in e.value.message
    assert e.value.where.endswith("imdb.npz")


def test_reuters_npz_given_to_the_imdb_adapter_names_its_layout(tmp_path):
    """keras.datasets.reuters' files (reuters.npz with arrays x and y of 46 topic ids, and
    reuters_word_index.json beside it): the error names the archive's layout, not a missing
    imdb_word_index.json; the same topics laid out as imdb.npz are named as class ids, not
    as ratings to turn into 0/1."""
    from seqrun.core.errors import UserError
    from seqrun.data.imdb import ImdbAdapter

    folder = tmp_path / "reuters"
    folder.mkdir()
    rng = np.random.RandomState(0)
    x = ragged([list(rng.randint(1, 30, size=rng.randint(5, 20))) for _ in range(200)])
    y = np.arange(200) % 46
    np.savez(folder / "reuters.npz", x=x, y=y)
    (folder / "reuters_word_index.json").write_text(json.dumps({f"w{i}": i for i in range(30)}))
    with pytest.raises(UserError) as e:
        ImdbAdapter(_imdb_cfg(folder / "reuters.npz").data).load(("train", "dev"))
    assert "(it has: x, y: keras.datasets.reuters' layout" in e.value.message
    assert "text_table" in e.value.message and e.value.where.endswith("reuters.npz")
    npz = write_imdb_npz(tmp_path / "imdb")
    arrays = dict(np.load(npz, allow_pickle=True))
    arrays["y_train"] = np.arange(len(arrays["y_train"])) % 46
    np.savez(npz, **arrays)
    with pytest.raises(UserError) as e:
        ImdbAdapter(_imdb_cfg(tmp_path / "imdb").data).load(("train", "dev"))
    assert "46 class ids" in e.value.message and "turn ratings" not in e.value.message


def test_imdb_word_index_shorter_than_the_ranks_with_num_words_null_is_warned(tmp_path, capsys):
    """A word index with fewer entries than the reviews' ranks and data.num_words null: the
    ranks past the index are out of vocabulary (Keras keeps them), which is warned with the
    num_words that keeps them; that num_words keeps every rank."""
    from seqrun.data.imdb import ImdbAdapter

    npz = write_imdb_npz(tmp_path / "imdb")
    index_path = npz.with_name("imdb_word_index.json")
    words = json.loads(index_path.read_text())
    index_path.write_text(json.dumps({w: r for w, r in words.items() if r <= 10}))
    top = max(max(s) for s in np.load(npz, allow_pickle=True)["x_train"])
    ImdbAdapter(_imdb_cfg(tmp_path / "imdb", num_words=None).data).load(("train", "dev"))
    err = capsys.readouterr().err
    assert f"x_train holds word ranks up to {top}" in err and "only up to 10" in err
    assert f"data.num_words: {top + 4} to keep them" in err
    data = ImdbAdapter(_imdb_cfg(tmp_path / "imdb", num_words=top + 4).data).load(("train",))
    assert 2 not in {i for s in data.splits["train"].ids for i in s}  # no OOV id
    assert "out of vocabulary" not in capsys.readouterr().err


def test_imdb_npz_matches_keras_load_data(tmp_path, monkeypatch):
    """Our reading of imdb.npz equals keras.datasets.imdb.load_data on the same file."""
    import keras
    import keras.src.datasets.imdb as kimdb

    from seqrun.data.imdb import ImdbAdapter

    npz = write_imdb_npz(tmp_path / "imdb")
    opts = {"num_words": 12, "skip_top": 4, "index_from": 3, "seed": 7}
    cfg = _imdb_cfg(tmp_path / "imdb", **opts)
    halves, vocab = ImdbAdapter(cfg.data)._npz(npz, ("train", "test"))

    monkeypatch.setattr(
        kimdb,
        "get_file",
        lambda fname, **kw: (
            str(npz) if "npz" in fname else str(npz.with_name("imdb_word_index.json"))
        ),
    )
    (x_tr, y_tr), (x_te, y_te) = keras.datasets.imdb.load_data(**opts)
    assert [list(s) for s in x_tr] == halves["train"].ids
    assert [list(s) for s in x_te] == halves["test"].ids
    assert y_tr.tolist() == halves["train"].labels.tolist()
    # decoding through the word index gives back the words (OOV for filtered ids)
    first = ImdbAdapter(cfg.data)._npz(npz, ("train",))[0]["train"]
    assert first.ids[0][0] == 2  # start id 1 < skip_top 4 -> OOV, as in Keras
    assert set(vocab.decode(first.ids[0]).split()) <= set(vocab.tokens)
    # the download code path (Keras' dataset cache) gives the same splits
    cache = tmp_path / "keras_home" / "datasets"
    cache.mkdir(parents=True)
    for f in ("imdb.npz", "imdb_word_index.json"):
        (cache / f).write_bytes((npz.parent / f).read_bytes())
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    data_dl = ImdbAdapter(_imdb_cfg(None, **opts).data).load(("train", "dev"))
    data_np = ImdbAdapter(cfg.data).load(("train", "dev"))
    assert data_dl.splits["dev"].ids == data_np.splits["dev"].ids


def test_imdb_failed_download_is_the_error_line_alone(cli, tmp_path, monkeypatch):
    """data.path null with no reachable server: one error line, no 'Downloading data from'."""
    import seqrun.data.imdb as imdb

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(imdb, "KERAS_ORIGIN", "http://127.0.0.1:9/")  # refused at once
    cfg = tmp_path / "imdb.yaml"
    cfg.write_text("name: imdb-dl\ndata: {adapter: imdb, path: null}\nmodel: {arch: dense}\n")
    r = cli("data", "describe", cfg)
    assert r.exit_code == 2
    assert "Downloading" not in r.stdout + r.stderr
    assert r.stderr.strip().count("\n") == 0 and "cannot download" in r.stderr


def test_imdb_train_reads_no_test_and_dev_is_stratified(tmp_path):
    from seqrun.data.imdb import ImdbAdapter

    write_imdb_npz(tmp_path / "imdb", n_train=100)
    data = ImdbAdapter(_imdb_cfg(tmp_path / "imdb").data).load(("train", "dev"))
    assert set(data.splits) == {"train", "dev"}
    assert data.sizes() == {"train": 80, "dev": 20}
    assert np.bincount(data.splits["dev"].labels).tolist() == [10, 10]


def test_imdb_acl_folder_tokenised_with_train_vocabulary(tmp_path, capsys):
    from seqrun.core.config import config_from_dict
    from seqrun.data.imdb import ImdbAdapter
    from seqrun.engine.archive import make_encoder

    root = write_acl_imdb(tmp_path)
    bad = root / "train" / "pos" / "1_8.txt"
    bad.write_bytes(bad.read_bytes() + b" caf\xe9 \xff")
    raw = {
        "name": "acl",
        "data": {"adapter": "imdb", "path": str(tmp_path), "num_words": 30},
        "encoder": {"type": "embedding", "dim": 4, "sequence_len": 12},
        "model": {"arch": "pooling"},
    }
    cfg = config_from_dict(raw)
    data = ImdbAdapter(cfg.data).load(("train", "dev"))
    assert "2 undecodable byte(s)" in capsys.readouterr().err
    enc = make_encoder(cfg)
    data.fit_encoder(enc)
    assert enc.vocab.layout == "keras" and enc.vocab.size == 30
    assert enc.vocab.tokens[:3] == ["[PAD]", "[START]", "[OOV]"]
    assert "br" in enc.vocab.tokens  # '<br />' -> 'br', as the Keras word index has it
    ids = data.split_ids("train")
    assert all(s[0] == 1 for s in ids)  # the start id opens every review
    x = data.batches("train").inputs
    assert x.shape == (len(data.splits["train"]), 12) and x.dtype == np.int32


# ----------------------------------------------------------------------------- text tables


def test_mr_snippets_split_matches_the_readme():
    """The real file: 37 ties dropped, default_rng(0).permutation, 80/10/10."""
    from seqrun.core.config import config_from_dict
    from seqrun.data.text_table import TextTableAdapter

    raw = mr(
        data={
            "sample": "mr-snippets",
            "split": {"method": "random", "train": 0.8, "dev": 0.1, "test": 0.1, "seed": 0},
        }
    )
    del raw["data"]["path"]
    cfg = config_from_dict(raw)
    data = TextTableAdapter(cfg.data).load(("train", "dev", "test"))
    assert data.sizes() == {"train": 8454, "dev": 1057, "test": 1057}
    assert sum(int(s.labels.sum()) for s in data.splits.values()) == 5242
    lines = mr_lines()[1:]
    rows = [r.split("\t") for r in lines if float(r.split("\t")[1]) != 0]
    perm = np.random.default_rng(0).permutation(len(rows))
    assert data.splits["dev"].texts == [rows[i][2] for i in sorted(perm[8454:9511])]
    assert data.class_names == ["negative", "positive"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_table_formats_names_and_split_column(tmp_path, fmt):
    from seqrun.core.config import config_from_dict
    from seqrun.data.text_table import TextTableAdapter

    rows = [
        {
            "review": f"text number {i}",
            "sentiment": "pos" if i % 3 else "neg",
            "part": ["train", "train", "validation", "test"][i % 4],
        }
        for i in range(24)
    ]
    path = tmp_path / f"t.{fmt}"
    if fmt == "csv":
        lines = ["review,sentiment,part"] + [
            f'"{r["review"]}, quoted",{r["sentiment"]},{r["part"]}' for r in rows
        ]
        path.write_text("\n".join(lines) + "\n")
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = config_from_dict(
        mr(
            data={
                "path": str(path),
                "text_column": "review",
                "label_column": "sentiment",
                "label_type": "auto",
                "id_column": None,
                "split": {"method": "column", "column": "part"},
            }
        )
    )
    data = TextTableAdapter(cfg.data).load(("train", "dev", "test"))
    assert data.class_names == ["neg", "pos"]
    assert data.sizes() == {"train": 12, "dev": 6, "test": 6}
    if fmt == "csv":
        assert data.splits["train"].texts[0] == "text number 0, quoted"


def test_stratified_split_and_ties_kept(tmp_path):
    from seqrun.core.config import config_from_dict
    from seqrun.data.text_table import TextTableAdapter

    path = tmp_path / "s.tsv"
    path.write_text("text\tscore\n" + "".join(f"t{i}\t{(i % 5) - 2}\n" for i in range(100)))
    base = {"path": str(path), "id_column": None}
    drop = TextTableAdapter(config_from_dict(mr(data=base)).data).load(("train", "dev", "test"))
    assert sum(drop.sizes().values()) == 80  # score 0 dropped
    keep = TextTableAdapter(config_from_dict(mr(data={**base, "ties": "negative"})).data).load(
        ("train", "dev", "test")
    )
    assert sum(keep.sizes().values()) == 100
    # stratified: the positive share (40 %) is the same in every split
    for s in keep.splits.values():
        assert s.labels.mean() == pytest.approx(0.4)


def _table(tmp_path, name: str, content: str | bytes, **data):
    """Load every split of a table written to ``tmp_path/name`` (UserError propagates)."""
    from seqrun.core.config import config_from_dict
    from seqrun.data.text_table import TextTableAdapter

    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    section = {"path": str(path), "label_column": "label", "label_type": "auto", "id_column": None}
    cfg = config_from_dict(mr(data={**section, **data}))
    return TextTableAdapter(cfg.data).load(("train", "dev", "test"))


def _rows(labels: list, n: int = 60) -> str:
    """A CSV body of ``n`` rows cycling through ``labels``."""
    return "".join(f"review number {i},{labels[i % len(labels)]}\n" for i in range(n))


def test_auto_labels_few_whole_numbers_are_classes(tmp_path):
    """-1/0/1, 1/2, 1..5 and SST-5's 0..4 are classes (none dropped), sorted numerically."""
    for labels, names in [
        (["-1", "0", "1"], ["-1", "0", "1"]),
        (["1", "2"], ["1", "2"]),
        (["5", "4", "3", "2", "1"], ["1", "2", "3", "4", "5"]),
        (["0", "1", "2", "3", "4"], ["0", "1", "2", "3", "4"]),
        ([" positive ", "negative"], ["negative", "positive"]),  # stripped names, as before
        (["10", "2", "1"], ["1", "2", "10"]),
        (["1", "1.0", "0", "0.0", "+1"], ["0", "1"]),  # one number, one class
    ]:
        data = _table(tmp_path, "t.csv", "text,label\n" + _rows(labels))
        assert data.class_names == names, labels
        assert sum(data.sizes().values()) == 60, labels
    # JSON Lines integers 0/1 stay two classes
    path_rows = "".join(json.dumps({"text": f"t {i}", "label": i % 2}) + "\n" for i in range(40))
    assert _table(tmp_path, "t.jsonl", path_rows).class_names == ["0", "1"]


def test_auto_labels_names_with_a_few_numbers_are_an_error(tmp_path):
    # as a score column with a few names is: 'pos'/'neg' with a stray '1' became a third
    # class in silence
    from seqrun.core.errors import UserError

    labels = ["pos", "neg"] * 5 + ["1"] + ["neg", "pos"] * 5
    with pytest.raises(UserError) as e:
        _table(tmp_path, "t.csv", "text,label\n" + _rows(labels, 63))
    said = "label '1' in column 'label' is a number, while 60 of 63 labels are names"
    assert said in str(e.value)
    assert e.value.where == f"{tmp_path / 't.csv'}:12"
    named = _table(tmp_path, "t.csv", "text,label\n" + _rows(labels, 63), label_type="names")
    assert named.class_names == ["1", "neg", "pos"]  # said to be classes: kept


def test_two_spellings_of_a_label_and_a_one_row_class(tmp_path, capsys):
    """'pos'/'POS', 'True'/'true' or, as names, '1'/'1.0' would be separate classes: an error
    naming both and their lines, unless data.classes lists them; a class of one row among many
    (a typo) is warned."""
    from seqrun.core.errors import UserError

    for labels, needle, names in [
        (["pos", "neg", "POS"], "labels 'pos' (first on line 2) and 'POS' (first on line 4)", {}),
        (["True", "False", "true"], "'True' (first on line 2) and 'true'", {}),
        (["1", "0", "1.0"], "'1' (first on line 2) and '1.0'", {"label_type": "names"}),
    ]:
        with pytest.raises(UserError) as e:
            _table(tmp_path, "t.csv", "text,label\n" + _rows(labels), **names)
        assert needle in e.value.message and "data.classes" in e.value.message, labels
        assert e.value.where == f"{tmp_path / 't.csv'}:4"
    kept = _table(
        tmp_path,
        "t.csv",
        "text,label\n" + _rows(["pos", "neg", "POS"]),
        classes=["neg", "pos", "POS"],
    )
    assert kept.class_names == ["neg", "pos", "POS"]
    capsys.readouterr()
    body = _rows(["pos", "neg", "mixed"]) + "one more review,postive\n"
    assert _table(tmp_path, "t.csv", "text,label\n" + body).class_names[-1] == "postive"
    err = capsys.readouterr().err
    assert "class 'postive' has a single example" in err and "t.csv:62" in err


def test_auto_fractional_scores_warn_and_count_dropped_ties(tmp_path, capsys):
    """Fractional labels are still scores cut at data.threshold; ties dropped are warned about
    (naming data.ties) and counted in the data report."""
    labels = ["-1.5", "0", "2.5", "-0.5", "1"]
    data = _table(tmp_path, "s.csv", "text,label\n" + _rows(labels, 50))
    assert data.class_names == ["negative", "positive"]
    assert sum(data.sizes().values()) == 40
    err = capsys.readouterr().err
    assert "dropped 10 row(s) whose score equals data.threshold (0)" in err and "data.ties" in err
    assert data.report()["rows_dropped"] == {"empty_text": 0, "no_label": 0, "ties": 10}
    assert data.report()["rows_read"] == 50
    # more than 20 distinct whole numbers are scores too
    many = _table(tmp_path, "m.csv", "text,label\n" + _rows([str(i) for i in range(-20, 21)], 82))
    assert many.class_names == ["negative", "positive"]


def test_scores_of_one_class_name_the_threshold(tmp_path):
    from seqrun.core.errors import UserError

    with pytest.raises(UserError) as e:
        _table(tmp_path, "p.csv", "text,label\n" + _rows(["0.5", "3.5", "1.25"]))
    msg = str(e.value)
    assert "has one class ('positive')" in msg
    assert "scores split at data.threshold=0 (values range 0.5..3.5)" in msg
    assert "data.label_type: names" in msg and e.value.where == "data.threshold"


PLACEHOLDERS = ["NaN", "NA", "nan", "N/A", "null", "None", " none "]


def test_placeholder_labels_are_missing_like_empty_ones(tmp_path, capsys):
    """NaN/NA/nan/N/A/null/None labels (and JSON null or NaN) are dropped with the warning and
    count of empty labels, not made a class; data.classes listing one keeps it as a class."""
    body = _rows(["neg", "pos"], 40) + "".join(f"odd {i},{x}\n" for i, x in enumerate(PLACEHOLDERS))
    data = _table(tmp_path, "t.csv", "text,label\n" + body + "empty,\n")
    assert data.class_names == ["neg", "pos"]
    assert sum(data.sizes().values()) == 40
    assert data.report()["rows_dropped"] == {"empty_text": 0, "no_label": 8, "ties": 0}
    err = capsys.readouterr().err
    assert "dropped 8 row(s) with no label (lines 42, 43, 44, 45, 46, ...)" in err
    assert "'NaN'" in err and "data.classes" in err
    # numbers with a NaN are still scores (the NaN row dropped, not an error)
    scores = _table(tmp_path, "s.csv", "text,label\n" + _rows(["-1.5", "2.5", "NaN"], 60))
    assert scores.class_names == ["negative", "positive"]
    assert scores.report()["rows_dropped"]["no_label"] == 20
    # JSON Lines: null and NaN labels
    rows = [{"text": f"t {i}", "label": ["neg", "pos", None][i % 3]} for i in range(60)]
    jsonl = "".join(json.dumps(r) + "\n" for r in rows)
    jsonl += '{"text": "nan label", "label": NaN}\n{"text": "str", "label": "null"}\n'
    data = _table(tmp_path, "t.jsonl", jsonl)
    assert data.class_names == ["neg", "pos"]
    assert data.report()["rows_dropped"]["no_label"] == 22
    # a placeholder that data.classes names is a class
    kept = _table(
        tmp_path,
        "k.csv",
        "text,label\n" + _rows(["neg", "pos", "None"]),
        classes=["neg", "None", "pos"],
    )
    assert kept.class_names == ["neg", "None", "pos"] and sum(kept.sizes().values()) == 60
    assert kept.report()["rows_dropped"]["no_label"] == 0
    # JSON booleans stay two classes
    rows = "".join(json.dumps({"text": f"t {i}", "label": i % 2 == 1}) + "\n" for i in range(40))
    assert _table(tmp_path, "b.jsonl", rows).class_names == ["False", "True"]


@pytest.mark.parametrize(
    ("row", "needles"),
    [
        ({"label": ["neg"]}, ["column 'label'", 'is an array (["neg"])', 'write it as "neg"']),
        ({"label": {"a": "neg"}}, ["column 'label'", "is an object", "one label"]),
        ({"label": ["neg", "pos"]}, ["column 'label'", "is an array", "one label"]),
        ({"text": ["a", "b"]}, ["the text in column 'text'", "is an array", "one text"]),
        ({"text": {"t": "x"}}, ["the text in column 'text'", "is an object"]),
    ],
)
def test_jsonl_list_or_object_labels_and_texts_are_errors(tmp_path, row, needles):
    from seqrun.core.errors import UserError

    rows = [{"text": f"t {i}", "label": ["neg", "pos"][i % 2]} for i in range(40)]
    rows[6] = {**rows[6], **row}
    with pytest.raises(UserError) as e:
        _table(tmp_path, "t.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    assert e.value.where == f"{tmp_path / 't.jsonl'}:7"
    assert "\n" not in str(e.value)
    for needle in needles:
        assert needle in e.value.message, (needle, e.value.message)


@pytest.mark.parametrize(
    ("value", "needle"),
    [('["a", "b"]', "column 'text'"), ("true", "JSON boolean true")],  # true: was "True"
)
def test_predict_input_with_list_or_boolean_texts_is_an_error(tmp_path, value, needle):
    from seqrun.core.errors import UserError
    from seqrun.data.text_table import read_text_inputs

    path = tmp_path / "in.jsonl"
    path.write_text(f'{{"text": "fine"}}\n{{"text": {value}}}\n')
    with pytest.raises(UserError) as e:
        read_text_inputs(path, None)
    assert e.value.where == f"{path}:2" and needle in e.value.message


def test_predict_input_of_one_text_a_line_cuts_at_line_ends_only(tmp_path):
    from seqrun.data.text_table import read_text_inputs

    # a scraped review holding U+2028, U+0085 or a form feed is still one text
    path = tmp_path / "in.txt"
    path.write_bytes("great\u2028film\r\nbad\x0cplot\x85here\r\n\nfun\n".encode())
    rows, texts = read_text_inputs(path, None)
    assert texts == ["great\u2028film", "bad\x0cplot\x85here", "fun"]
    assert [r["line"] for r in rows] == [1, 2, 4]


def test_text_column_equal_to_label_column_fails_config_validate(cli, tmp_path):
    raw = mr(data={"text_column": "score"})
    r = cli("config", "validate", write_config(tmp_path, raw))
    _assert_one_line_error(r, "data.text_column and data.label_column are both 'score'")
    # the sample's label column counts too
    raw = mr(data={"sample": "mr-snippets", "text_column": "score"})
    del raw["data"]["path"], raw["data"]["label_column"]
    r = cli("config", "validate", write_config(tmp_path, raw))
    _assert_one_line_error(r, "data.text_column", "data.label_column")


def test_tsv_quoted_multiline_fields_and_plain_quotes(tmp_path):
    """pandas' to_csv(sep='\\t') quotes texts holding newlines or tabs; GLUE-style TSVs hold
    unbalanced quotes as plain characters: both read row by row."""
    import csv
    import io

    texts = [
        f'film {i}: "fine"' + ("\nsecond line\twith a tab" if i % 4 == 0 else "") for i in range(40)
    ]
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter="\t", lineterminator="\n")  # pandas' quoting
    writer.writerow(["text", "label"])
    writer.writerows([t, "pos" if i % 2 else "neg"] for i, t in enumerate(texts))
    assert '"film 0: ""fine""\nsecond line\twith a tab"\tneg' in buf.getvalue()
    data = _table(tmp_path, "q.tsv", buf.getvalue())
    assert sum(data.sizes().values()) == 40 and data.class_names == ["neg", "pos"]
    read = {t for s in data.splits.values() for t in s.texts}
    assert read == set(texts)
    glue = ['he said "wow', '"great" movie', 'a "bad film', '"dull']
    body = "".join(f"{t} {i}\t{i % 2}\n" for i in range(40) for t in [glue[i % 4]])
    data = _table(tmp_path, "g.tsv", "text\tlabel\n" + body)
    read = {t for s in data.splits.values() for t in s.texts}
    assert read == {f"{glue[i % 4]} {i}" for i in range(40)}


def test_duplicate_header_name_is_an_error(tmp_path):
    from seqrun.core.errors import UserError

    with pytest.raises(UserError) as e:
        _table(tmp_path, "d.csv", "text,text,label\n" + "".join(f"a{i},b{i},x\n" for i in range(9)))
    assert "column 'text' appears twice" in str(e.value)
    assert e.value.where == f"{tmp_path / 'd.csv'}:1"


def test_headerless_table_semicolons_and_long_fields(tmp_path):
    from seqrun.core.errors import UserError

    sentence = "The Rock is destined to be the 21st Century's new Conan and a splash"
    body = "".join(f'{i},"{sentence} {i}",{"pos" if i % 2 else "neg"}\n' for i in range(30))
    with pytest.raises(UserError) as e:
        _table(tmp_path, "h.csv", body)
    assert "no header row" in str(e.value) and "name its 3 columns" in str(e.value)
    assert "data.columns" in str(e.value)
    semi = "text;label\n" + "".join(f"film, number {i};{i % 2}\n" for i in range(30))
    with pytest.raises(UserError) as e:
        _table(tmp_path, "s.csv", semi)
    assert "separator is probably ';'" in str(e.value) and "data.separator: ';'" in str(e.value)
    semi2 = "text;label\n" + "".join(f"film {i};{i % 2}\n" for i in range(30))
    with pytest.raises(UserError) as e:  # no comma at all: one column, the header tells
        _table(tmp_path, "s2.csv", semi2)
    assert "separator is probably ';'" in str(e.value)
    data = _table(tmp_path, "s.csv", semi, separator=";")
    assert data.splits["train"].texts[0].startswith("film, number ")
    long = "word " * 40_000  # 200,000 characters: over csv's default field limit
    rows = "".join(f'"{long if i == 3 else "short"} {i}",{i % 2}\n' for i in range(30))
    data = _table(tmp_path, "l.csv", "text,label\n" + rows)
    assert max(len(t) for s in data.splits.values() for t in s.texts) > 200_000


# ----------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def mr_run(tmp_path_factory):
    from typer.testing import CliRunner

    from seqrun.cli import app

    folder = tmp_path_factory.mktemp("mr")
    raw = mr(encoder={"type": "multi_hot", "vocab_size": 500, "ngrams": 2, "weighting": "tfidf"})
    cfg = write_config(folder, raw)
    r = CliRunner().invoke(
        app,
        ["train", str(cfg), "--runs-dir", str(folder / "runs"), "--json"],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout), folder


def test_multi_hot_run_contents_and_metrics(mr_run):
    result, _ = mr_run
    run = Path(result["run_dir"])
    m = result["metrics"]
    for key in ("accuracy", "f1", "auc", "majority_accuracy", "precision", "recall", "log_loss"):
        assert isinstance(m[key], float), key
    assert m["n"] == result["sizes"]["dev"] if "sizes" in result else m["n"] > 80
    assert sum(map(sum, m["confusion_matrix"])) == m["n"]
    assert m["accuracy"] > m["majority_accuracy"]  # the model learnt something
    assert (run / "plots" / "dev.png").stat().st_size > 1000
    errors = [json.loads(x) for x in (run / "errors.jsonl").read_text().splitlines()]
    assert 0 < len(errors) <= 5 and errors[0]["split"] == "dev"
    probs = [e["probability"] for e in errors]
    assert probs == sorted(probs, reverse=True) and all(p >= 0.5 for p in probs)
    assert all(e["label"] != e["predicted"] and e["text"] for e in errors)
    state = json.loads((run / "preprocessing" / "encoder.json").read_text())
    assert state["vocabulary"]["tokens"][:2] == ["", "[UNK]"] and len(state["idf"]) > 500
    assert state["bigrams"]  # bigram features were added
    meta = json.loads((run / "meta.json").read_text())
    sizes = meta["data"]["sizes"]
    assert meta["status"] == "completed" and set(sizes) == {"train", "dev"}  # test never read
    assert sizes["dev"] == m["n"] and 700 < sizes["train"] < 730


def test_evaluate_test_and_errors_by_split(mr_run, cli):
    result, _ = mr_run
    r = cli("evaluate", result["run_dir"], "--json")
    assert r.exit_code == 0, r.output
    m = json.loads(r.stdout)["metrics"]
    assert m["split"] == "test" and 80 < m["n"] < 95
    splits = {
        json.loads(x)["split"]
        for x in (Path(result["run_dir"]) / "errors.jsonl").read_text().splitlines()
    }
    assert splits == {"dev", "test"}
    r = cli("evaluate", result["run_dir"], "--split", "dev", "--json")
    again = json.loads(r.stdout)["metrics"]
    assert again["accuracy"] == pytest.approx(result["metrics"]["accuracy"])


def test_predict_texts_file_and_json(mr_run, cli, tmp_path):
    result, _ = mr_run
    run = result["run_dir"]
    r = cli(
        "predict", run, "A gorgeous, funny and moving film.", "Dull, tedious and stupid.", "--json"
    )
    assert r.exit_code == 0, r.output
    preds = json.loads(r.stdout)["predictions"]
    assert [p["label"] for p in preds] == ["positive", "negative"]
    for p in preds:
        assert p["probability"] == pytest.approx(p["probabilities"][p["label"]])
        assert sum(p["probabilities"].values()) == pytest.approx(1.0)
    lines = tmp_path / "in.txt"
    lines.write_text("A gorgeous, funny and moving film.\n\nDull, tedious and stupid.\n")
    r = cli("predict", run, "--input", lines)
    out = r.stdout.strip().splitlines()
    assert r.exit_code == 0 and len(out) == 2 and out[0].startswith("positive\t")
    table = tmp_path / "in.jsonl"
    table.write_text(json.dumps({"text": "Dull, tedious and stupid."}) + "\n")
    r = cli("predict", run, "--input", table, "--json")
    assert json.loads(r.stdout)["predictions"][0]["label"] == "negative"
    r = cli("predict", run, "--input", table, "--column", "body")
    assert r.exit_code == 2 and "available columns: text" in r.stderr
    r = cli("predict", run, "   ")
    assert r.exit_code == 2 and "empty" in r.stderr


def test_predict_reads_a_table_as_the_run_did_and_names_each_row(cli, tmp_path):
    """A run trained on a table with another extension (data.format: csv) reads --input
    files as such tables; each prediction names its line and id."""
    rows = [f"{i},{'superb gem' if i % 2 else 'dull mess'} {i},{'pos' if i % 2 else 'neg'}"
            for i in range(60)]  # fmt: skip
    train = tmp_path / "reviews.txt"
    train.write_text("id,text,label\n" + "\n".join(rows) + "\n")
    data = {"path": str(train), "format": "csv", "label_column": "label"}
    data |= {"label_type": "names", "id_column": "id"}
    run = train_json(cli, tmp_path, mr(data=data, train={"epochs": 1}))["run_dir"]
    new = tmp_path / "new.txt"
    new.write_text('id,text\n101,"superb gem,\nreally"\n102,\n103,dull mess\n')
    r = cli("predict", run, "--input", new, "--json")
    assert r.exit_code == 0, r.output
    preds = json.loads(r.stdout)["predictions"]
    assert [(p["line"], p["id"], p["text"]) for p in preds] == [
        (2, "101", "superb gem,\nreally"), (5, "103", "dull mess")
    ]  # fmt: skip
    assert "skipped 1 empty line(s)/text(s) (line 4)" in r.stderr
    plain = tmp_path / "plain.txt"
    plain.write_text("superb gem\ndull mess\n")
    r = cli("predict", run, "--input", plain)
    assert r.exit_code == 2 and "add --set data.format=auto" in r.stderr
    r = cli("predict", run, "--input", plain, "--set", "data.format=auto", "--json")
    preds = json.loads(r.stdout)["predictions"]
    assert [(p["line"], p["text"]) for p in preds] == [(1, "superb gem"), (2, "dull mess")]
    latin = tmp_path / "latin.csv"
    latin.write_bytes("text\ncafé naïve\n".encode("cp1252"))
    r = cli("predict", run, "--input", latin)
    assert r.exit_code == 2 and "or add --set data.encoding=cp1252" in r.stderr


def test_predict_reads_inputs_with_the_runs_encoding(cli, tmp_path):
    """A run trained on a cp1252 table reads cp1252 --input tables and text files as cp1252."""
    rows = [
        f"{'superb café gem' if i % 2 else 'dull naïve mess'} {i},{'pos' if i % 2 else 'neg'}"
        for i in range(60)
    ]
    train = tmp_path / "cp.csv"
    train.write_bytes(("text,label\n" + "\n".join(rows) + "\n").encode("cp1252"))
    data = {"path": str(train), "label_column": "label", "label_type": "names", "id_column": None}
    raw = mr(data={**data, "encoding": "cp1252"}, train={"epochs": 1})
    run = train_json(cli, tmp_path, raw)["run_dir"]
    texts = ["Un café superb, gem – “oui”", "Naïve, dull mess"]
    table = tmp_path / "in.csv"
    table.write_bytes(("text\n" + "\n".join(f'"{t}"' for t in texts) + "\n").encode("cp1252"))
    plain = tmp_path / "in.txt"
    plain.write_bytes("\n".join(texts).encode("cp1252"))
    for path in (table, plain):
        r = cli("predict", run, "--input", path, "--json")
        assert r.exit_code == 0, r.output
        assert [p["text"] for p in json.loads(r.stdout)["predictions"]] == texts
    # a table written otherwise than the training data: its layout keys are given with --set
    semi = tmp_path / "semi.csv"
    semi.write_bytes(("n;text\n" + "\n".join(f"{i};{t}" for i, t in enumerate(texts))).encode())
    over = ["--set", "data.separator=;", "--set", "data.encoding=utf-8"]
    r = cli("predict", run, "--input", semi, *over, "--json")
    assert r.exit_code == 0, r.output
    assert [p["text"] for p in json.loads(r.stdout)["predictions"]] == texts
    r = cli("predict", run, "--input", semi, "--set", "data.label_type=scores")
    assert r.exit_code == 2 and "predict cannot change data.label_type" in r.output
    # a UTF-8 input is read as UTF-8 (valid UTF-8 with accents is not cp1252 text)
    utf8 = tmp_path / "utf8.txt"
    for text in texts:
        utf8.write_text(text, encoding="utf-8")
        r = cli("predict", run, "--input", utf8, "--json")
        assert r.exit_code == 0 and not r.stderr.strip(), r.output
        assert json.loads(r.stdout)["predictions"][0]["text"] == text


def test_sequence_encoders_and_architectures(cli, tmp_path):
    """embedding+pooling, one_hot+GRU, embedding+BiLSTM: each trains, evaluates, predicts."""
    import keras

    seq = {"vocab_size": 300, "sequence_len": 20}
    cases = [
        ({"type": "embedding", "dim": 8, **seq}, {"arch": "pooling", "units": 4}),
        ({"type": "one_hot", **seq}, {"arch": "gru", "units": 4}),
        (
            {"type": "embedding", "dim": 8, "padding": "pre", **seq},
            {"arch": "lstm", "units": 4, "bidirectional": True, "layers": 2},
        ),
    ]
    for i, (encoder, model) in enumerate(cases):
        raw = mr(encoder=encoder, model=model, train={"epochs": 1, "batch_size": 64})
        out = train_json(cli, tmp_path, raw, f"seq{i}.yaml")
        assert 0 <= out["metrics"]["accuracy"] <= 1 and out["metrics"]["auc"] is not None
        run = Path(out["run_dir"])
        import seqrun.models.layers  # noqa: F401

        saved = keras.saving.load_model(run / "checkpoints" / "best.keras", compile=False)
        assert saved.inputs[0].shape[1:] == (20,)  # ids go in: no length x vocab array
        if encoder["type"] == "one_hot":
            assert saved.get_layer("one_hot").compute_output_shape((None, 20)) == (None, 20, 300)
        r = cli("predict", run, "a great film", "--json")
        assert r.exit_code == 0, r.output


def test_a_loss_for_another_number_of_classes_stops_before_the_run(cli, tmp_path):
    """Two classes give one sigmoid output: sparse_categorical_crossentropy is refused once the
    data are read, before any run directory (it crashed in TensorFlow, leaving a failed run)."""
    from tests.test_bad_inputs import no_run_left, one_line_error

    raw = mr(train={"epochs": 1, "loss": "sparse_categorical_crossentropy"})
    r = cli("train", write_config(tmp_path, raw), "--runs-dir", tmp_path / "runs")
    one_line_error(r, "train.loss", "two-class model has one sigmoid output", "binary_cross")
    no_run_left(tmp_path / "runs")


@pytest.mark.parametrize(
    "model",
    [{"arch": "pooling", "pool": "max", "units": 4}, {"arch": "dense", "units": 4, "layers": 1}],
    ids=["max-pool", "dense"],
)
def test_padding_reaches_no_prediction(cli, tmp_path, model):
    """pool: max and dense's flatten read the kept steps only: the padding's embedding row
    (trainable) changes no prediction (Keras' GlobalMaxPooling1D and Flatten drop the mask:
    0.583 became 0.884 with max pooling)."""
    import keras

    import seqrun.models.layers  # noqa: F401

    enc = {"type": "embedding", "dim": 8, "vocab_size": 300, "sequence_len": 20}
    raw = mr(encoder=enc, model=model)
    r = cli("train", write_config(tmp_path, raw), "--runs-dir", tmp_path / "runs", "--json")
    assert r.exit_code == 0, r.output
    assert "destroy the mask" not in r.output and "does not support masking" not in r.output
    run = Path(json.loads(r.stdout)["run_dir"])
    model = keras.saving.load_model(run / "checkpoints" / "best.keras", compile=False)
    ids = np.zeros((1, 20), dtype="int32")
    ids[0, :3] = [5, 6, 7]  # three words, then padding (id 0)
    before = np.asarray(model.predict(ids, verbose=0))
    emb = next(w for w in model.weights if "embedding" in w.path)
    table = np.asarray(emb)
    table[0] = 50.0  # a padding vector larger than every word's
    emb.assign(table)
    assert np.asarray(model.predict(ids, verbose=0)) == pytest.approx(before, abs=1e-6)


def test_average_pooling_of_a_text_without_words_is_zeros():
    """pool: average over the kept steps only; a text with no token left ("!!!" after
    punctuation is stripped, ids all padding) pools to zeros, where Keras'
    GlobalAveragePooling1D divided 0 by 0: a NaN probability with model.layers 0."""
    from types import SimpleNamespace

    import keras

    from seqrun.models.layers import MaskedAveragePool
    from seqrun.models.pooling import PoolingArch, PoolingConfig

    x = np.array([[[1.0, 2.0], [3.0, 4.0], [9.0, 9.0]], [[5.0, 5.0], [7.0, 7.0], [7.0, 7.0]]])
    mask = np.array([[True, True, False], [False, False, False]])
    out = np.asarray(MaskedAveragePool()(x.astype("float32"), mask=mask))
    np.testing.assert_allclose(out, [[2.0, 3.0], [0.0, 0.0]])

    keras.utils.set_random_seed(0)
    ids = keras.Input(shape=(4,), dtype="int32")
    emb = keras.layers.Embedding(10, 3, mask_zero=True)(ids)
    task = SimpleNamespace(kind="classification", output_dim=1, extra={}, seq2seq=False)
    arch = PoolingArch(PoolingConfig(arch="pooling", pool="average", layers=0))
    model = arch.build(task, ids, emb)
    p = model.predict(np.array([[0, 0, 0, 0], [3, 4, 0, 0]]), verbose=0)
    assert np.isfinite(p).all()


def test_pretrained_embedding_coverage(cli, tmp_path):
    glove = write_glove(tmp_path / "vectors.txt", ["the", "a", "film", "good", "bad"] + POSITIVE)
    enc = {
        "type": "pretrained_embedding",
        "path": str(glove),
        "vocab_size": 200,
        "sequence_len": 16,
        "trainable": False,
    }
    raw = mr(encoder=enc, model={"arch": "pooling", "units": 4}, train={"epochs": 1})
    r = cli("train", write_config(tmp_path, raw), "--runs-dir", tmp_path / "runs", "--json")
    assert r.exit_code == 0, r.output
    assert "vocabulary words" in r.stderr and "have a vector in vectors.txt" in r.stderr
    run = Path(json.loads(r.stdout)["run_dir"])
    info = json.loads((run / "preprocessing" / "encoder.json").read_text())["info"]
    assert info["dim"] == 8 and 0 < info["coverage"] < 1 and info["vectors_found"] >= 3
    import keras

    model = keras.saving.load_model(run / "checkpoints" / "best.keras", compile=False)
    layer = model.get_layer("pretrained_embedding")
    assert not layer.trainable
    vocab = json.loads((run / "preprocessing" / "encoder.json").read_text())["vocabulary"]
    row = layer.get_weights()[0][vocab["tokens"].index("the")]
    first = glove.read_text().splitlines()[0].split()
    assert np.allclose(row, np.array(first[1:], dtype=np.float32), atol=1e-4)


def test_word_vectors_gzipped_or_binary(tmp_path):
    import gzip

    from seqrun.core.errors import UserError
    from seqrun.core.text import Vocabulary
    from seqrun.encoders.text import read_vectors

    glove = write_glove(tmp_path / "vectors.txt", ["the", "film"])
    vocab = Vocabulary.build([["the", "film", "dull"]], size=10)
    plain, found, _ = read_vectors(str(glove), vocab)
    packed = tmp_path / "vectors.vec.gz"
    packed.write_bytes(gzip.compress(glove.read_bytes()))
    unpacked, found_gz, _ = read_vectors(str(packed), vocab)
    assert found == found_gz == 2 and np.array_equal(plain, unpacked)
    for payload in (b"\x00\x01binary\x00" * 20, b"PK\x03\x04" + b"\x00" * 40):
        (tmp_path / "bad.bin").write_bytes(payload)
        with pytest.raises(UserError, match="not word vectors in text form"):
            read_vectors(str(tmp_path / "bad.bin"), vocab)


def test_imdb_npz_train_evaluate_predict(cli, tmp_path):
    write_imdb_npz(tmp_path / "imdb", n_train=120, n_test=40)
    raw = {
        "name": "tiny-imdb",
        "data": {
            "adapter": "imdb",
            "path": str(tmp_path / "imdb"),
            "num_words": 40,
            "maxlen": 16,
            "padding": "post",
        },
        "encoder": {"type": "embedding", "dim": 8},
        "model": {"arch": "lstm", "units": 8},
        "train": {"epochs": 3, "batch_size": 16, "learning_rate": 0.02},
        "metrics": "classification",
    }
    out = train_json(cli, tmp_path, raw)
    run = Path(out["run_dir"])
    assert json.loads((run / "meta.json").read_text())["data"]["sizes"] == {"train": 96, "dev": 24}
    errors = (run / "errors.jsonl").read_text().splitlines()
    for e in map(json.loads, errors):
        assert e["text"].startswith("[START] ")  # decoded through the word index
    r = cli("evaluate", run, "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["metrics"]["n"] == 40
    r = cli("predict", run, "superb brilliant film", "awful boring mess", "--json")
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.stdout)["predictions"]) == 2


def test_three_classes_from_names(cli, tmp_path):
    """Softmax output, macro metrics, class names from the label column."""
    rng = np.random.default_rng(0)
    words = {"pos": POSITIVE, "neg": ["awful", "dull", "boring"], "mixed": ["fine", "ok", "so"]}
    rows = []
    for i in range(150):
        label = ["pos", "neg", "mixed"][i % 3]
        rows.append({"body": " ".join(rng.choice(words[label], 4)) + " film", "label": label})
    path = tmp_path / "three.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    raw = mr(
        data={
            "path": str(path),
            "text_column": "body",
            "label_column": "label",
            "label_type": "names",
            "id_column": None,
        },
        encoder={"type": "multi_hot", "vocab_size": 50},
        train={"epochs": 3, "batch_size": 16, "learning_rate": 0.02},
    )
    out = train_json(cli, tmp_path, raw)
    m = out["metrics"]
    assert m["class_names"] == ["mixed", "neg", "pos"] and len(m["confusion_matrix"]) == 3
    assert m["accuracy"] > 0.6 and m["auc"] > 0.7
    r = cli("predict", out["run_dir"], "awful dull film", "--json")
    pred = json.loads(r.stdout)["predictions"][0]
    assert set(pred["probabilities"]) == {"mixed", "neg", "pos"} and pred["label"] == "neg"


# ----------------------------------------------------------------------------- bad input


def _assert_one_line_error(r, *needles):
    assert r.exit_code == 2, r.output
    lines = [x for x in r.stderr.splitlines() if x.strip() and not x.startswith("warning:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])
    assert "Traceback" not in r.output


@pytest.mark.parametrize(
    ("change", "needles"),
    [
        ({"data": {"path": "no/such/file.tsv"}}, ["data.path", "file not found"]),
        ({"data": {"path": "tests"}}, ["data.path", "tests is a directory, not a file"]),
        (
            {"data": {"text_column": "body"}},
            ["no column 'body'", "available columns: id, score, text"],
        ),
        ({"data": {"label_type": "score", "threshold": 100.0}}, ["one class", "at least two"]),
        (
            {"encoder": {"type": "multi_hot", "vocab_size": 2}},
            ["encoder.vocab_size", "greater than or equal to 3"],
        ),
        ({"model": {"arch": "gru"}}, ["model.arch", "multi_hot"]),
    ],
)
def test_bad_table_input(cli, tmp_path, change, needles):
    runs = tmp_path / "runs"
    r = cli("train", write_config(tmp_path, mr(**change)), "--runs-dir", runs)
    _assert_one_line_error(r, *needles)
    assert not list(runs.glob("*/*/meta.json"))  # no run left (let alone one marked running)


def test_empty_texts_and_bad_bytes_warn_then_errors(cli, tmp_path):
    path = tmp_path / "t.tsv"
    body = "".join(f"good film {i}\t{1 if i % 2 else -1}\n" for i in range(40))
    path.write_bytes(b"text\tscore\n\t1\n   \t-1\nbad \xff\xfe bytes\t1\n" + body.encode())
    raw = mr(data={"path": str(path), "id_column": None}, train={"epochs": 1})
    r = cli("train", write_config(tmp_path, raw), "--runs-dir", tmp_path / "runs", "--json")
    assert r.exit_code == 0, r.output
    assert "2 undecodable byte(s)" in r.stderr and "line 4" in r.stderr
    assert "dropped 2 row(s) with empty text (lines 2, 3)" in r.stderr
    empty = tmp_path / "empty.tsv"
    empty.write_text("text\tscore\n\t1\n \t-1\n")
    r = cli(
        "train",
        write_config(tmp_path, mr(data={"path": str(empty), "id_column": None})),
        "--runs-dir",
        tmp_path / "runs2",
    )
    _assert_one_line_error(r, "no row with a non-empty 'text'")


def test_tiny_vocabulary_from_data_is_an_error(cli, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("text,label\n" + "".join(f"!!!,{i % 2}\n" for i in range(30)))
    raw = mr(
        data={"path": str(path), "label_column": "label", "id_column": None, "label_type": "names"}
    )
    r = cli("train", write_config(tmp_path, raw), "--runs-dir", tmp_path / "runs")
    _assert_one_line_error(r, "vocabulary", "at least 3")
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").glob("*/*"))


def test_bad_imdb_paths(cli, tmp_path):
    base = {
        "name": "i",
        "data": {"adapter": "imdb"},
        "model": {"arch": "dense"},
        "train": {"epochs": 1},
    }
    r = cli(
        "train",
        write_config(
            tmp_path, {**base, "data": {"adapter": "imdb", "path": str(tmp_path / "missing")}}
        ),
        "--runs-dir",
        tmp_path / "runs",
    )
    _assert_one_line_error(r, "not found", "missing")
    (tmp_path / "emptydir").mkdir()
    r = cli(
        "train",
        write_config(
            tmp_path, {**base, "data": {"adapter": "imdb", "path": str(tmp_path / "emptydir")}}
        ),
        "--runs-dir",
        tmp_path / "runs",
    )
    _assert_one_line_error(r, "no imdb.npz", "aclImdb")
    npz = write_imdb_npz(tmp_path / "noindex")
    npz.with_name("imdb_word_index.json").unlink()
    r = cli(
        "train",
        write_config(tmp_path, {**base, "data": {"adapter": "imdb", "path": str(npz)}}),
        "--runs-dir",
        tmp_path / "runs",
    )
    _assert_one_line_error(r, "imdb_word_index.json")
    r = cli(
        "config",
        "validate",
        write_config(
            tmp_path,
            {
                **base,
                "data": {"adapter": "imdb", "num_words": 100},
                "encoder": {"type": "multi_hot", "vocab_size": 50},
            },
        ),
    )
    _assert_one_line_error(r, "encoder.vocab_size", "data.num_words")
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").glob("*/*/meta.json"))


# ----------------------------------------------------------------------------- configs


@pytest.mark.parametrize(
    "path",
    [
        "configs/imdb-onehot.yaml",
        "configs/imdb-embedding.yaml",
        "configs/imdb-lstm.yaml",
        "configs/imdb-gru.yaml",
        "configs/mr-multihot.yaml",
        "configs/mr-pooling.yaml",
        "configs/mr-lstm.yaml",
        "configs/mr-gru.yaml",
        "configs/mr-bigru.yaml",
        "configs/mr-best.yaml",
    ],
)
def test_shipped_text_configs_validate(cli, path):
    from tests.conftest import ROOT

    r = cli("config", "validate", ROOT / path)
    assert r.exit_code == 0, r.output
    cfg = yaml.safe_load((ROOT / path).read_text())
    if "/mr-" in path:  # the movie-review recipes read the bundled sample: they run offline
        assert cfg["data"]["sample"] == "mr-snippets" and "path" not in cfg["data"]


def test_text_config_validate_imports_no_tensorflow():
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = (
        "import sys\nfrom seqrun.cli import app\n"
        "for args in (['config', 'validate', 'configs/imdb-lstm.yaml'],\n"
        "             ['config', 'validate', 'configs/mr-best.yaml']):\n"
        "    try:\n        app(args)\n    except SystemExit as e:\n        assert not e.code\n"
        "print(' '.join(m for m in ('tensorflow', 'keras', 'pandas', 'matplotlib')"
        " if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    lines = out.stdout.splitlines()
    assert lines[0].startswith("ok: configs/imdb-lstm.yaml") and lines[1].startswith(
        "ok: configs/mr-best"
    )
    assert lines[-1].strip() == ""  # none of the heavy modules was imported


def test_evaluate_warns_of_changed_data_only_when_it_changed(cli, tmp_path):
    """The texts' hash depends on the splits loaded: evaluate compares the split it scores
    with the same split at training, the test split too (the table is read whole at
    training: its test rows are hashed, never scored), so an edited file or rows added (which
    move rows of train into test) are not scored in silence."""
    rows = [
        f"{'superb gem' if i % 2 else 'dull mess'} {i},{'pos' if i % 2 else 'neg'}"
        for i in range(80)
    ]
    path = tmp_path / "reviews.csv"
    path.write_text("text,label\n" + "\n".join(rows) + "\n")
    data = {"path": str(path), "label_column": "label", "label_type": "names", "id_column": None}
    run = train_json(cli, tmp_path, mr(data=data, train={"epochs": 1}))["run_dir"]
    for split in ("test", "dev"):
        r = cli("evaluate", run, "--split", split)
        assert r.exit_code == 0, r.output
        assert "data differ" not in r.stderr, split
    meta = json.loads((Path(run) / "meta.json").read_text())
    assert set(meta["data"]["split_fingerprints"]) == {"train", "dev", "test"}
    path.write_text("text,label\n" + "\n".join(x.replace("gem", "find") for x in rows) + "\n")
    for split in ("dev", "test"):
        r = cli("evaluate", run, "--split", split)
        assert r.exit_code == 0 and "the data differ from those the run was trained on" in r.stderr
    more = [
        f"{'fine film' if i % 2 else 'bad film'} {i},{'pos' if i % 2 else 'neg'}" for i in range(9)
    ]
    path.write_text("text,label\n" + "\n".join(more + rows) + "\n")  # the split moves
    r = cli("evaluate", run, "--split", "test")
    assert r.exit_code == 0 and "the data differ from those the run was trained on" in r.stderr


def test_texts_that_are_all_numbers_are_warned_about(tmp_path, capsys):
    """An id or score column read as the texts (swapped columns, JSON numbers) is warned
    about, naming the column of sentences; ordinary texts with some numbers are not."""
    rows = "".join(
        json.dumps({"text": i, "review": f"a long enough review of film number {i}",
                    "label": "pos" if i % 2 else "neg"}) + "\n"
        for i in range(60)
    )  # fmt: skip
    _table(tmp_path, "t.jsonl", rows)
    err = capsys.readouterr().err
    assert "every text of column 'text' is a number (e.g. '0', '59')" in err
    assert "data.text_column (column 'review' holds the longest values)" in err
    _table(tmp_path, "t.csv", "text,label\n" + _rows(["pos", "neg"]) + "1984,pos\n")
    assert "is a number" not in capsys.readouterr().err
