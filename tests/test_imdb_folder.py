"""IMDB from Stanford's raw aclImdb/ folder as it is really laid out (unsup/, extra files, macOS
AppleDouble files), and the one-line errors for folders laid out wrongly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import write_config
from tests.test_bad_inputs import one_line_error

APPLEDOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02\xff\xfe"


def write_acl(folder: Path, counts=None, appledouble: bool = False) -> Path:
    """aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt, train/unsup/<id>_0.txt and the
    release's other files; ``counts[(half, cls)]`` reviews per class folder."""
    counts = counts or {("train", "pos"): 12, ("train", "neg"): 8, ("test", "pos"): 5}
    root = folder / "aclImdb"
    for half in ("train", "test"):
        for cls, words, ratings in (
            ("pos", "great superb", (7, 10)),
            ("neg", "awful dull", (1, 4)),
        ):
            sub = root / half / cls
            sub.mkdir(parents=True)
            for i in range(counts.get((half, cls), 4)):
                text = f"A {words} film number {i}.<br /><br />Truly {words.split()[0]}!"
                (sub / f"{i}_{ratings[i % 2]}.txt").write_text(text, encoding="utf-8")
                if appledouble:
                    (sub / f"._{i}_{ratings[i % 2]}.txt").write_bytes(APPLEDOUBLE)
            if appledouble:
                (sub / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
        (root / half / "labeledBow.feat").write_text("8 0:9 1:1\n")
        (root / half / "urls_pos.txt").write_text("http://www.imdb.com/title/tt0/usercomments\n")
        (root / half / "urls_neg.txt").write_text("http://www.imdb.com/title/tt1/usercomments\n")
    unsup = root / "train" / "unsup"
    unsup.mkdir()
    for i in range(30):
        (unsup / f"{i}_0.txt").write_text(f"Unlabelled zzunsup review {i}.", encoding="utf-8")
    (root / "train" / "urls_unsup.txt").write_text("http://www.imdb.com/title/tt2/usercomments\n")
    (root / "imdb.vocab").write_text("the\nand\na\n")
    (root / "imdbEr.txt").write_text("0.0490972013402\n")
    (root / "README").write_text("Large Movie Review Dataset v1.0\n")
    return root


def _cfg(path: Path, **data) -> dict:
    return {
        "name": "acl",
        "data": {"adapter": "imdb", "path": str(path), "num_words": 50, **data},
        "encoder": {"type": "multi_hot"},
        "model": {"arch": "dense", "units": 4},
        "train": {"epochs": 1},
    }


def _load(path: Path, splits=("train", "dev", "test"), **data):
    from seqrun.core.config import config_from_dict
    from seqrun.data.imdb import ImdbAdapter

    return ImdbAdapter(config_from_dict(_cfg(path, **data)).data).load(splits)


def test_appledouble_and_unsup_files_are_not_reviews(tmp_path):
    """A macOS-extracted copy reads the same reviews as a plain one: 20 train (dev from
    train), 9 test; no '._' file, no unsup review; labels from the folder."""
    write_acl(tmp_path / "plain")
    write_acl(tmp_path / "mac", appledouble=True)
    plain = _load(tmp_path / "plain")
    data = _load(tmp_path / "mac")
    assert data.sizes() == plain.sizes() == {"train": 16, "dev": 4, "test": 9}
    for name, split in data.splits.items():
        assert split.texts == plain.splits[name].texts
        assert not any("._" in r or "unsup" in r for r in split.row_ids)
        assert not any("zzunsup" in t or "Mac OS X" in t for t in split.texts)
        # label from the pos/neg folder (ratings alternate within each folder)
        assert [r.split("/")[1] for r in split.row_ids] == [["neg", "pos"][y] for y in split.labels]
    assert all(r.startswith("train/") for r in data.splits["dev"].row_ids)
    assert np.bincount(data.splits["train"].labels).tolist() == [6, 10]
    assert np.bincount(data.splits["test"].labels).tolist() == [4, 5]


def test_a_dev_or_test_split_of_one_class_is_warned(tmp_path, capsys):
    # a quick run on a few reviews: the AUC of a one-class split is undefined
    write_acl(tmp_path)
    sizes = _load(tmp_path, max_reviews=6).sizes()
    assert sizes == {"train": 5, "dev": 1, "test": 6}
    err = capsys.readouterr().err
    assert "the dev split holds one class" in err and "raise data.max_reviews" in err
    _load(tmp_path)
    assert "holds one class" not in capsys.readouterr().err


@pytest.mark.parametrize("half", ["train", "test"])
def test_empty_class_folder_is_an_error(cli, tmp_path, half):
    root = write_acl(tmp_path)
    for f in (root / half / "pos").iterdir():
        f.unlink()
    (root / half / "pos" / "._0_9.txt").write_bytes(APPLEDOUBLE)  # not a review either
    r = cli("data", "describe", write_config(tmp_path, _cfg(tmp_path)))
    one_line_error(r, "no review files", str(root / half / "pos"), "positive reviews")


def test_a_skip_top_that_hides_every_kept_word_is_an_error(cli, tmp_path):
    # ids below skip_top and from num_words on are out of vocabulary: nothing was left, and
    # describe showed "tokens in vocabulary 0.0 %" without a word of warning
    write_acl(tmp_path)
    r = cli("data", "describe", write_config(tmp_path, _cfg(tmp_path, skip_top=50)))
    one_line_error(r, "data.skip_top (50)", "data.num_words (50)", "below data.num_words")
    r = cli("data", "describe", write_config(tmp_path, _cfg(tmp_path, skip_top=5)))
    assert r.exit_code == 0, r.output


def test_missing_test_folder_trains_and_describe_says_what_is_missing(cli, tmp_path):
    import shutil

    root = write_acl(tmp_path)
    shutil.rmtree(root / "test")
    assert _load(tmp_path, ("train", "dev")).sizes() == {"train": 16, "dev": 4}
    r = cli("data", "describe", write_config(tmp_path, _cfg(tmp_path)))
    one_line_error(r, "folder not found", str(root / "test" / "neg"), "test/pos")


@pytest.mark.parametrize(
    ("target", "needles"),
    [
        ("aclImdb/train", ["one half (train/)", "set data.path to the folder"]),
        ("aclImdb/test", ["one half (test/)", "set data.path to the folder"]),
        ("aclImdb_v1.tar.gz", ["is an archive", "tar -xf aclImdb_v1.tar.gz"]),
        # Kaggle's table of the 50,000 reviews (review,sentiment)
        ("IMDB Dataset.csv", ["is a table", "data.adapter: text_table"]),
    ],
)
def test_path_at_a_half_or_at_the_tarball(cli, tmp_path, target, needles):
    import tarfile

    root = write_acl(tmp_path)
    (tmp_path / "IMDB Dataset.csv").write_text('review,sentiment\n"Great film",positive\n')
    with tarfile.open(tmp_path / "aclImdb_v1.tar.gz", "w:gz") as tar:
        tar.add(root, arcname="aclImdb")
    r = cli("data", "describe", write_config(tmp_path, _cfg(tmp_path / target)))
    one_line_error(r, *needles, "data.path")
    if "half" in needles[0]:
        assert str(root) in r.stderr


def test_one_latin1_review_among_utf8_ones_is_not_told_to_switch_encoding(cli, tmp_path):
    """Setting data.encoding to cp1252 would garble the UTF-8 reviews: the error says to
    convert the odd file instead."""
    root = write_acl(tmp_path)
    (root / "train" / "pos" / "0_7.txt").write_bytes("Très émouvant.".encode("latin-1"))
    (root / "train" / "neg" / "0_1.txt").write_text("Un navet, hélas.", encoding="utf-8")
    r = cli("data", "describe", write_config(tmp_path, _cfg(tmp_path)))
    one_line_error(r, "0_7.txt", "1 other file(s) are non-ASCII utf-8", "iconv -f cp1252")
    assert "set data.encoding" not in r.stderr
