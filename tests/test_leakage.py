"""Leakage checks: duplicate texts across splits (train and describe), time-series windows
and periods across splits, warn/error/off, meta.json (real files, tiny real models)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import write_config
from tests.text_fixtures import write_acl_imdb

# rows: (id, label, split, text); the duplicates differ from their train original only by
# case and whitespace
ROWS = [
    ("t1", "pos", "train", "A great film, and a moving one."),
    ("t2", "neg", "train", "A dull, boring mess."),
    ("t3", "pos", "train", "Superb acting and a fine story."),
    ("t4", "neg", "train", "Tedious plot, lame jokes."),
    ("t5", "pos", "train", "Brilliant and funny."),
    ("t6", "neg", "train", "Awful from start to end."),
    ("d1", "pos", "dev", "a  GREAT film, and a moving one. "),  # = t1
    ("d2", "neg", "dev", "Poor and flat."),
    ("d3", "pos", "dev", "Wonderful, touching."),
    ("s1", "neg", "test", "a dull,\tboring MESS."),  # = t2
    ("s2", "pos", "test", "A gem of a film."),
    ("s3", "neg", "test", "A waste of time."),
]


def table(folder: Path) -> Path:
    import csv

    path = folder / "reviews.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "label", "split", "text"])
        w.writerows(ROWS)
    return path


def config(folder: Path, **data) -> dict:
    return {
        "name": "leaky",
        "seed": 0,
        "data": {
            "adapter": "text_table",
            "path": str(table(folder)),
            "id_column": "id",
            "split": {"method": "column"},
            **data,
        },
        "encoder": {"type": "multi_hot", "vocab_size": 50},
        "model": {"arch": "dense", "units": 4},
        "train": {"epochs": 1, "batch_size": 4},
    }


def test_normalisation_is_case_and_whitespace_only():
    from seqrun.data.text_describe import normalize_text, text_digest

    assert normalize_text("  A\tGREAT\n film ") == "a great film"
    assert text_digest("A great film") == text_digest("a  great\tFILM ")
    assert text_digest("A great film") != text_digest("A great film!")  # punctuation counts


def test_describe_finds_train_dev_and_train_test_duplicates(cli, tmp_path):
    r = cli("data", "describe", write_config(tmp_path, config(tmp_path)), "--json")
    assert r.exit_code == 0, r.output
    leak = json.loads(r.stdout)["leakage"]
    assert leak["found"] and leak["mode"] == "warn"
    by_pair = {tuple(i["splits"]): i for i in leak["issues"]}
    assert set(by_pair) == {("train", "dev"), ("train", "test")}
    dev, test = by_pair[("train", "dev")], by_pair[("train", "test")]
    assert (dev["count"], dev["of"]) == (1, 3) and (test["count"], test["of"]) == (1, 3)
    first = {"text": "a great film, and a moving one.", "train_id": "t1", "dev_id": "d1"}
    assert dev["examples"][0] == first
    assert test["examples"][0]["train_id"] == "t2" and test["examples"][0]["test_id"] == "s1"
    text = cli("data", "describe", write_config(tmp_path, config(tmp_path))).stdout
    assert "leakage: FOUND" in text and "1 of 3 test texts also occur in train" in text


def test_train_warns_records_in_meta_and_never_scores_test(cli, tmp_path, runs_dir):
    r = cli("train", write_config(tmp_path, config(tmp_path)), "--runs-dir", runs_dir, "--json")
    assert r.exit_code == 0, r.output
    assert "warning: data leakage: 1 of 3 dev texts also occur in train" in r.stderr
    assert "1 of 3 test texts also occur in train" in r.stderr
    run = Path(json.loads(r.stdout)["run_dir"])
    leak = json.loads((run / "meta.json").read_text())["leakage"]
    assert leak["found"] and len(leak["issues"]) == 2
    test_issue = next(i for i in leak["issues"] if i["splits"] == ["train", "test"])
    # the test texts were only hashed: the example names the training row, not a test row
    assert test_issue["examples"] == [{"text": "a dull, boring mess.", "train_id": "t2"}]
    assert not (run / "metrics" / "test.json").exists()
    assert not (run / "predictions" / "test.npz").exists()


def test_error_mode_stops_before_a_run_directory_exists(cli, tmp_path, runs_dir):
    cfg = write_config(tmp_path, config(tmp_path, leakage="error"))
    r = cli("train", cfg, "--runs-dir", runs_dir)
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: data.leakage: leakage found: ")
    assert "1 of 3 dev texts also occur in train" in lines[0] and "train id t1" in lines[0]
    assert not runs_dir.exists()


def test_off_written_unquoted_in_yaml_skips_the_checks(cli, tmp_path, runs_dir):
    path = tmp_path / "off.yaml"
    raw = write_config(tmp_path, config(tmp_path)).read_text()
    path.write_text(raw.replace("adapter: text_table", "adapter: text_table\n  leakage: off"))
    r = cli("train", path, "--runs-dir", runs_dir, "--json")
    assert r.exit_code == 0, r.output
    assert "data leakage" not in r.stderr
    meta = json.loads((Path(json.loads(r.stdout)["run_dir"]) / "meta.json").read_text())
    assert meta["leakage"]["mode"] == "off" and not meta["leakage"]["found"]
    r = cli("config", "validate", write_config(tmp_path, config(tmp_path, leakage="never")))
    assert r.exit_code == 2 and "data.leakage" in r.stderr


def test_imdb_train_skips_test_reviews_describe_checks_them(cli, tmp_path):
    from seqrun.core.config import config_from_dict
    from seqrun.engine import leakage
    from seqrun.engine.describe import load

    root = write_acl_imdb(tmp_path)
    for i, original in enumerate(sorted((root / "train" / "pos").glob("*.txt"))[:5]):
        # 5 copies (some originals fall in the dev part of the train half), case changed
        (root / "test" / "pos" / f"99{i}_9.txt").write_text(original.read_text().upper() + " ")
    raw = {
        "name": "imdb-leak",
        "data": {"adapter": "imdb", "path": str(root), "num_words": 100},
        "encoder": {"type": "multi_hot"},
        "model": {"arch": "dense", "units": 4},
    }
    cfg = config_from_dict(raw)
    at_train = leakage.check(load(cfg, ("train", "dev")), "warn")
    assert not any("test" in c for c in at_train["checked"])
    assert any("imdb's test half" in s for s in at_train["skipped"])
    r = cli("data", "describe", write_config(tmp_path, raw), "--json")
    assert r.exit_code == 0, r.output
    issues = json.loads(r.stdout)["leakage"]["issues"]
    test_issue = next(i for i in issues if i["splits"] == ["train", "test"])
    assert 1 <= test_issue["count"] <= 5
    assert all(ex["test_id"].startswith("test/pos/99") for ex in test_issue["examples"])


# ----------------------------------------------------------------------------- time series


def series(bounds: dict, starts: dict, seq: int = 4, horizon: int = 1, seq2seq=False):
    from seqrun.data.series import SeriesData, SeriesSplit

    splits = {
        name: SeriesSplit(
            np.zeros((bounds[name]["rows"][1] - bounds[name]["rows"][0], 1), np.float32),
            np.asarray(s, dtype=np.int64),
        )
        for name, s in starts.items()
    }
    return SeriesData(splits, ["x"], ["x"], seq, horizon=horizon, seq2seq=seq2seq, bounds=bounds)


def rows(lo: int, hi: int, first: str | None = None, last: str | None = None) -> dict:
    return {"rows": [lo, hi], "first_time": first, "last_time": last}


def test_series_windows_whose_targets_fall_in_another_split():
    from seqrun.engine.leakage import check

    bounds = {"train": rows(0, 100), "dev": rows(100, 130), "test": rows(130, 160)}
    ok = series(bounds, {"train": np.arange(0, 96), "dev": np.arange(0, 26)})
    assert not check(ok)["found"]
    # train windows up to start 99: the targets of starts 96..99 are rows 100..103 (dev)
    leaky = series(bounds, {"train": np.arange(0, 100), "dev": np.arange(0, 26)})
    result = check(leaky)
    (issue,) = result["issues"]
    assert issue["check"] == "window_targets_in_other_split"
    assert issue["splits"] == ["train", "dev"] and issue["count"] == 4 and issue["of"] == 100
    first = {"window_start_row": 96, "target_row": 100, "dev_rows": [100, 130]}
    assert issue["examples"][0] == first
    # seq2seq: every step is a target; horizon 3 reaches 3 rows further
    starts = {"train": np.arange(0, 95), "dev": np.arange(0, 20)}
    s2s = series(bounds, starts, horizon=3, seq2seq=True)
    assert check(s2s)["issues"][0]["count"] == 1  # start 94: last target row 94 + 3 + 3


def test_series_test_period_before_the_training_data():
    from seqrun.engine.leakage import check, enforce

    bounds = {
        "train": rows(50, 150, "2013-03-01T00:00:00Z", "2013-07-01T00:00:00Z"),
        "dev": rows(150, 170, "2013-07-01T01:00:00Z", "2013-08-01T00:00:00Z"),
        "test": rows(0, 50, "2013-01-01T00:00:00Z", "2013-02-28T00:00:00Z"),
    }
    data = series(bounds, {"train": np.arange(0, 90), "dev": np.arange(0, 10)})
    result = check(data, "error")
    (issue,) = result["issues"]
    assert issue["check"] == "period_before_training" and issue["splits"] == ["test", "train"]
    assert issue["count"] == 50 and "test starts 2013-01-01T00:00:00Z" in issue["message"]
    from seqrun.core.errors import UserError

    with pytest.raises(UserError, match="50 of 50 test rows precede the end of the training"):
        enforce(result)


def test_real_series_adapters_have_no_leakage(cli, tmp_path):
    for config_file in ("configs/weather-nyc-3h.yaml", "configs/ladybug-gru.yaml"):
        r = cli("data", "describe", config_file, "--set", "data.split.kfold=3", "--json")
        assert r.exit_code == 0, r.output
        leak = json.loads(r.stdout)["leakage"]
        assert not leak["found"] and len(leak["checked"]) == 2, leak
