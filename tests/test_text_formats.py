"""Text data in the layouts of real corpora: headerless polarity CSVs (Yelp/Amazon), GLUE-style
TSVs with stray quotes, IMDB's word index with apostrophes (tiny files written here)."""

from __future__ import annotations

import csv
import io
import json

import numpy as np

from tests.conftest import write_config
from tests.test_bad_inputs import one_line_error
from tests.text_fixtures import ragged


def _config(path, **data) -> dict:
    return {
        "name": "formats",
        "seed": 0,
        "data": {"adapter": "text_table", "path": str(path), **data},
        "encoder": {"type": "multi_hot", "vocab_size": 50},
        "model": {"arch": "dense", "units": 4, "layers": 1},
        "train": {"epochs": 1, "batch_size": 16},
        "metrics": "classification",
    }


def test_headerless_polarity_csv_error_is_one_line(cli, tmp_path):
    """Yelp/Amazon polarity CSVs have no header and quoted texts with line breaks: the error
    showing the first row as would-be column names stays on one line."""
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for i in range(40):
        text = f'Review {i} said ""wow"" \\n twice' if i % 3 else f"First line {i}\nsecond line"
        writer.writerow([str(1 + i % 2), text])
    path = tmp_path / "train.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    r = cli("data", "describe", write_config(tmp_path, _config(path)))
    assert r.exit_code == 2, r.output
    lines = [x for x in r.stderr.splitlines() if x.strip() and not x.startswith("warning:")]
    assert len(lines) == 1, r.stderr
    assert "no header row" in lines[0] and "First line 0 second line" in lines[0]
    assert "Traceback" not in r.output


def _polarity_csv(path, n: int = 60, header: str = "") -> list[str]:
    """A Yelp-polarity-style CSV (label 1/2, quoted text, line breaks inside some); its texts."""
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
    texts = []
    for i in range(n):
        good = i % 2 == 1
        word = "great lovely" if good else "awful boring"
        two = f"{word} place {i}\nsecond line, with a comma"
        texts.append(two if i % 5 == 0 else f"{word} {i}")
        writer.writerow(["2" if good else "1", texts[-1]])
    path.write_text(header + buf.getvalue(), encoding="utf-8")
    return texts


def test_headerless_table_read_with_data_columns(cli, tmp_path):
    """data.columns names the columns of a file without a header row: every line is a row
    (the first one too), line numbers are the file's, predict reads the same layout."""
    from seqrun.data.text_table import read_table

    path = tmp_path / "train.csv"
    texts = _polarity_csv(path)
    columns, rows, lines = read_table(str(path), names=["label", "text"])
    assert columns == ["label", "text"] and [r["text"] for r in rows] == texts
    assert lines[:3] == [1, 3, 4]  # row 0's text spans lines 1-2
    raw = _config(path, columns=["label", "text"])
    r = cli("train", write_config(tmp_path, raw), "--runs-dir", tmp_path / "runs", "--json")
    assert r.exit_code == 0, r.output
    run = json.loads(r.stdout)["run_dir"]
    new = tmp_path / "new.csv"
    _polarity_csv(new, n=4)
    r = cli("predict", run, "--input", new, "--json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)["predictions"]
    assert [g["line"] for g in got] == [1, 3, 4, 5] and got[0]["text"].startswith("awful")


def test_data_columns_mistakes_are_one_line(cli, tmp_path):
    from tests.test_bad_inputs import one_line_error

    path = tmp_path / "train.csv"
    _polarity_csv(path, header='"label","text"\n')
    config = write_config(tmp_path, _config(path, columns=["label", "text"]))
    one_line_error(cli("data", "describe", config), "train.csv:1", "remove data.columns")
    _polarity_csv(path)
    config = write_config(tmp_path, _config(path, columns=["label", "text", "extra"]))
    one_line_error(cli("data", "describe", config), "train.csv:1", "2 fields", "names 3")
    rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(rows) + '"1","a quote never closed\nand two lines\n')
    config = write_config(tmp_path, _config(path, columns=["label", "text"]))
    one_line_error(cli("data", "describe", config), f"train.csv:{len(rows) + 1}", "never closed")
    config = write_config(tmp_path, _config(path, columns=["text", "text"]))
    one_line_error(cli("config", "validate", config), "data.columns", "appears twice")
    jsonl = _config(tmp_path / "t.jsonl", columns=["label", "text"])
    one_line_error(cli("config", "validate", write_config(tmp_path, jsonl)), "JSON Lines")


def test_glue_tsv_quote_opened_and_closed_on_other_rows_keeps_the_rows(tmp_path):
    """A GLUE-style TSV (quotes are plain characters) where one sentence starts with a quote and
    a later one ends with a quote before the tab: every line stays its own row, instead of
    the rows between being swallowed into one text."""
    from seqrun.data.text_table import read_table

    sentences = [f"plain sentence {i}" for i in range(30)]
    sentences[3] = '" the emotions are raw'
    sentences[6] = 'and it ends "'
    body = "".join(f"{s}\t{i % 2}\n" for i, s in enumerate(sentences))
    path = tmp_path / "train.tsv"
    path.write_text("sentence\tlabel\n" + body, encoding="utf-8")
    columns, rows, lines = read_table(str(path))
    assert columns == ["sentence", "label"]
    assert [r["sentence"] for r in rows] == sentences
    assert [r["label"] for r in rows] == [str(i % 2) for i in range(30)]
    assert lines == list(range(2, 32))


def test_json_lines_named_json_are_read_as_json_lines(cli, tmp_path):
    """The Yelp and Amazon review dumps are JSON Lines named .json: read as such (training
    data and predict inputs), not as a CSV; a JSON array is a one-line error saying so."""
    from seqrun.core.config import load_config
    from seqrun.data.text_table import TextTableAdapter, read_text_inputs

    rows = [{"review_id": f"r{i}", "stars": 1 + i % 2, "text": f"text, {i}"} for i in range(20)]
    path = tmp_path / "reviews.json"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cfg = write_config(tmp_path, _config(path, label_column="stars"))
    data = TextTableAdapter(load_config(cfg).data).load(("train", "dev", "test"))
    assert sum(len(s) for s in data.splits.values()) == 20 and data.class_names == ["1", "2"]
    _, texts = read_text_inputs(path, None)
    assert texts == [r["text"] for r in rows]
    array = tmp_path / "array.json"
    array.write_text(json.dumps([{"text": "a", "label": 1}], indent=1), encoding="utf-8")
    r = cli("data", "describe", write_config(tmp_path, _config(array)))
    one_line_error(r, "array.json:1", "a JSON array (one document), not JSON Lines")


def test_imdb_word_index_words_with_apostrophes_are_found_in_new_texts(tmp_path):
    """imdb_word_index.json holds "don't" and "it's" (and "its"): a text to predict is
    tokenised so that "don't" gets the id of "don't" (not OOV) and "it's" that of "it's"
    (not "its"), also after the encoder is saved and restored as `seqrun predict` does."""
    from seqrun.core.config import config_from_dict
    from seqrun.data.imdb import ImdbAdapter
    from seqrun.encoders.text import MultiHot

    words = ["the", "and", "don't", "it's", "its", "like", "great", "bad", "film", "br"]
    index = {w: r for r, w in enumerate(words, start=1)}
    folder = tmp_path / "imdb"
    folder.mkdir()
    x = [[1 + (i + j) % len(words) for j in range(5)] for i in range(40)]
    y = np.array([i % 2 for i in range(40)], dtype=np.int64)
    np.savez(folder / "imdb.npz", x_train=ragged(x), y_train=y, x_test=ragged(x), y_test=y)
    (folder / "imdb_word_index.json").write_text(json.dumps(index))
    raw = {
        "name": "imdb-apostrophes",
        "data": {"adapter": "imdb", "path": str(folder), "num_words": 20},
        "model": {"arch": "dense", "units": 4},
    }
    cfg = config_from_dict(raw)
    data = ImdbAdapter(cfg.data).load(("train", "dev"))
    enc = MultiHot(cfg.encoder)
    data.fit_encoder(enc)
    text = "I DON'T like it, it\u2019s bad. <br />Its film!"
    # start, i (OOV), don't, like, it (OOV), it's, bad, br, its, film: rank + index_from 3
    want = [1, 2, 3 + 3, 6 + 3, 2, 4 + 3, 8 + 3, 10 + 3, 5 + 3, 9 + 3]
    assert enc.tokenize(text) == ["i", "don't", "like", "it", "it's", "bad", "br", "its", "film"]
    assert enc.text_ids([text]) == [want]
    enc.save(tmp_path)
    restored = MultiHot(cfg.encoder)
    restored.load(tmp_path)
    assert restored.text_ids([text]) == [want]
    assert restored.vocab.decode(want[1:]) == "[OOV] don't like [OOV] it's bad br its film"


def _vader_tweets(n: int = 40) -> list[tuple[str, str, str]]:
    """(id, score, text) rows in the layout of VADER's tweets_GroundTruth.txt: no header,
    tab-separated, emoji, @mentions, &amp;, URLs, a quote opened and never closed, scores of 0."""
    texts = [
        "Somehow I was blessed with some really amazing friends &amp; family :)",
        "@anonymous LOL.  Love that! 😍 http://url_removed",
        '"best day ever at the beach #sunshine',
        "Damn, running late sucks.",
        "Ugh. I hate hate hate getting blood drawn.",
        'Repeat after me "dcpromo is my friend... dcpromo is my friend"',
    ]
    scores = ["2.726315789", "1.443298969", "0", "-1.360824742", "-1.773195876", "0.489795918"]
    return [(str(i + 1), scores[i % 6], f"{texts[i % 6]} #{i}") for i in range(n)]


def test_vader_tweets_with_a_stray_carriage_return_keep_one_row_per_line(tmp_path):
    """VADER's ground-truth files end lines in CR LF; a tweet holding a lone CR inside its
    line stays one row (the CR is read as a space), instead of being cut into two rows that
    shift every later line number; predict's one-text-per-line reading does the same."""
    from seqrun.data.text_table import read_table, read_text_inputs

    rows = _vader_tweets()
    rows[4] = (rows[4][0], rows[4][1], "@bob you ruined everything\r #4")
    path = tmp_path / "tweets_GroundTruth.txt"
    path.write_bytes("\r\n".join("\t".join(r) for r in rows).encode("utf-8"))  # no final EOL
    columns, got, lines = read_table(str(path), "tsv", names=["id", "score", "text"])
    assert len(got) == len(rows) and lines == list(range(1, len(rows) + 1))
    assert [g["id"] for g in got] == [r[0] for r in rows]
    assert got[4]["text"] == "@bob you ruined everything  #4"
    assert got[2]["text"] == rows[2][2]  # the unclosed quote swallows no row
    plain = tmp_path / "tweets.txt"
    plain.write_bytes("\n".join(r[2] for r in rows).encode("utf-8"))
    out, texts = read_text_inputs(plain, None)
    assert len(texts) == len(rows) and [o["line"] for o in out] == list(range(1, len(rows) + 1))


def test_csv_written_without_quoting_keeps_rows_between_an_opened_and_a_closed_quote(tmp_path):
    """Tweets saved as a CSV by joining fields with commas (no CSV quoting): a text opening a
    quote it never closes and a later one ending with a quote no longer swallow the rows
    between them into one text; a quoted text with a real line break still spans lines."""
    from seqrun.data.text_table import read_table

    rows = [r for r in _vader_tweets() if "," not in r[2] and '"' not in r[2]]
    rows[2] = (rows[2][0], rows[2][1], '"best day ever at the beach')
    rows[6] = (rows[6][0], rows[6][1], 'and it ends here "')
    path = tmp_path / "tweets.csv"
    path.write_text("".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    columns, got, lines = read_table(str(path), names=["id", "score", "text"])
    assert [g["text"] for g in got] == [r[2] for r in rows]
    assert lines == list(range(1, len(rows) + 1))
    path.write_text('id,score,text\n1,1.5,"a text, on\ntwo lines"\n2,-1,plain\n', encoding="utf-8")
    columns, got, lines = read_table(str(path))
    assert [g["text"] for g in got] == ["a text, on\ntwo lines", "plain"] and lines == [2, 4]


def test_vader_ground_truth_txt_with_data_columns_names_the_tab_separator(cli, tmp_path):
    """VADER's *_GroundTruth.txt files are tab-separated but named .txt (read as a CSV): with
    data.columns, a field-count error names the tab separator as the fix (not 'name every
    column'), and with it the file reads one row per line, scores of 0 dropped as ties."""
    rows = _vader_tweets()
    path = tmp_path / "tweets_GroundTruth.txt"
    path.write_bytes("\r\n".join("\t".join(r) for r in rows).encode("utf-8"))
    columns = ["id", "score", "text"]
    data = {"columns": columns, "label_column": "score", "label_type": "score", "ties": "drop"}
    config = write_config(tmp_path, _config(path, **data))
    one_line_error(
        cli("data", "describe", config), "tweets_GroundTruth.txt:1", "data.separator: '\\t'"
    )
    config = write_config(tmp_path, _config(path, separator="\t", **data))
    r = cli("data", "describe", config, "--json")
    assert r.exit_code == 0, r.output
    counts = {k: v["examples"] for k, v in json.loads(r.stdout)["splits"].items()}
    assert sum(counts.values()) == sum(score != "0" for _, score, _ in rows)


def test_predict_reads_a_headerless_vader_txt_like_the_training_file(cli, tmp_path):
    """A run trained on a headerless tab-separated .txt (data.columns, data.separator: tab)
    predicts another such .txt from its text column, not from whole lines with the id and the
    score in them; a .txt of one sentence per line is still read line by line."""
    rows = _vader_tweets()
    path = tmp_path / "tweets_GroundTruth.txt"
    path.write_bytes("\r\n".join("\t".join(r) for r in rows).encode("utf-8"))
    data = {"columns": ["id", "score", "text"], "label_column": "score", "separator": "\t"}
    config = write_config(tmp_path, _config(path, label_type="score", id_column="id", **data))
    r = cli("train", config, "--runs-dir", tmp_path / "runs", "--json")
    assert r.exit_code == 0, r.output
    run = json.loads(r.stdout)["run_dir"]
    r = cli("predict", run, "--input", path, "--json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)["predictions"]
    assert [g["text"] for g in got] == [t for _, _, t in rows]
    assert [g["id"] for g in got] == [i for i, _, _ in rows]
    plain = tmp_path / "sentences.txt"
    plain.write_text("a fine film\ndull, and far too long\n", encoding="utf-8")
    r = cli("predict", run, "--input", plain, "--json")
    assert r.exit_code == 0, r.output
    assert [g["text"] for g in json.loads(r.stdout)["predictions"]] == [
        "a fine film",
        "dull, and far too long",
    ]
