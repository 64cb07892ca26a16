"""`seqrun data describe`: split sizes, classes, lengths and truncation, vocabulary coverage,
weather gaps and time spans, k-fold summaries; never imports TensorFlow (real files)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from tests.conftest import ROOT, write_config
from tests.text_fixtures import write_mr_slice


@pytest.fixture(scope="module")
def mr_path(tmp_path_factory):
    return write_mr_slice(tmp_path_factory.mktemp("mr") / "mr.tsv")


def mr_cfg(path, **encoder) -> dict:
    return {
        "name": "mr-describe",
        "data": {
            "adapter": "text_table",
            "path": str(path),
            "label_column": "score",
            "id_column": "id",
            "split": {"method": "random", "train": 0.8, "dev": 0.1, "test": 0.1, "seed": 0},
        },
        "encoder": {"type": "embedding", "vocab_size": 300, "sequence_len": 12, **encoder},
        "model": {"arch": "gru", "units": 4},
    }


def test_text_description_matches_the_data(cli, tmp_path, mr_path):
    from seqrun.core.config import config_from_dict
    from seqrun.core.text import tokenize
    from seqrun.engine.describe import load

    raw = mr_cfg(mr_path)
    r = cli("data", "describe", write_config(tmp_path, raw), "--json")
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert "test included" in info["note"] and "not model selection" in info["note"]
    data = load(config_from_dict(raw))
    assert info["sizes"] == {name: len(s) for name, s in data.splits.items()}
    assert sum(info["sizes"].values()) == 895  # 900 rows, 5 with score 0 dropped
    train_tokens = [tokenize(t) for t in data.splits["train"].texts]
    counts = Counter(t for ts in train_tokens for t in ts)
    vocab = {t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:298]}
    for name, split in data.splits.items():
        d = info["splits"][name]
        counts = np.bincount(split.labels).tolist()
        assert d["classes"] == dict(zip(["negative", "positive"], counts, strict=True))
        lengths = np.array([len(tokenize(t)) for t in split.texts])
        assert d["length"]["max"] == lengths.max() and d["length"]["p50"] == np.median(lengths)
        assert d["truncated"]["texts"] == int((lengths > 12).sum())
        cut = np.maximum(lengths - 12, 0).sum() / lengths.sum()
        assert d["truncated"]["tokens_cut_share"] == pytest.approx(cut, abs=1e-4)
        tokens = [t for t in (tokenize(x) for x in split.texts) for t in t]
        share = sum(t in vocab for t in tokens) / len(tokens)
        assert d["vocabulary"]["tokens_in_vocabulary"] == pytest.approx(share, abs=1e-4)
    assert (
        info["splits"]["train"]["vocabulary"]["tokens_in_vocabulary"]
        > (info["splits"]["test"]["vocabulary"]["tokens_in_vocabulary"])
    )
    assert info["text"]["vocabulary_size"] == 300 and info["text"]["sequence_len"] == 12
    text = cli("data", "describe", write_config(tmp_path, raw)).stdout
    assert "truncated (> 12)" in text and "tokens in vocabulary" in text
    assert "leakage: none found" in text


def test_sequence_length_default_and_bag_of_words(cli, tmp_path, mr_path):
    raw = mr_cfg(mr_path, sequence_len=None)
    info = json.loads(cli("data", "describe", write_config(tmp_path, raw), "--json").stdout)
    p95 = info["splits"]["train"]["length"]["p95"]
    assert info["text"]["sequence_len"] == int(np.ceil(p95))  # what the encoder would choose
    assert info["splits"]["train"]["truncated"]["texts_share"] <= 0.05
    raw["encoder"] = {"type": "multi_hot", "vocab_size": 300}
    raw["model"] = {"arch": "dense", "units": 4}
    info = json.loads(cli("data", "describe", write_config(tmp_path, raw), "--json").stdout)
    assert info["text"]["sequence_len"] is None and "truncated" not in info["splits"]["dev"]
    assert "bag of words" in info["text"]["truncation"]


def test_weather_description(cli):
    r = cli("data", "describe", "configs/weather-nyc-3h.yaml", "--json")
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    s = info["splits"]
    assert info["gaps"]["values_filled"]["pressure"] > 900  # EWR misses many pressures
    assert info["gaps"]["missing_timestamps"] == 27  # README: 27 missing hours at EWR
    assert s["train"]["first_time"] == "2013-01-01T06:00:00Z"  # 01:00 EST
    assert s["train"]["last_time"] < s["dev"]["first_time"] <= s["dev"]["last_time"]
    assert s["dev"]["last_time"] < s["test"]["first_time"]
    assert s["test"]["last_time"].startswith("2013-12-3")
    for name in ("train", "dev", "test"):
        assert s[name]["windows"] == info["sizes"][name]
        assert s[name]["windows"] == s[name]["rows"] - 24 - 3 + 1  # one segment each
        t = s[name]["targets"]["temp"]
        assert t["unit"] == "°F" and t["min"] <= t["p50"] <= t["max"]
    assert s["test"]["targets"]["temp"]["mean"] < s["dev"]["targets"]["temp"]["mean"]  # winter
    text = cli("data", "describe", "configs/weather-nyc-3h.yaml").stdout
    assert "values filled by time interpolation" in text and "span" in text


def test_kfold_description_lists_every_fold(cli, tmp_path, mr_path):
    raw = mr_cfg(mr_path)
    raw["data"]["split"] = {"kfold": 4, "test": 0, "seed": 1}
    info = json.loads(cli("data", "describe", write_config(tmp_path, raw), "--json").stdout)
    folds = info["kfold"]["per_fold"]
    assert info["kfold"]["scheme"] == "stratified" and len(folds) == 4
    assert sum(f["sizes"]["dev"] for f in folds) == 895
    assert all(f["sizes"]["train"] + f["sizes"]["dev"] == 895 for f in folds)
    assert "test" not in info["sizes"]  # test: 0 folds every row


def test_describe_never_imports_tensorflow(mr_path, tmp_path):
    cfg = write_config(tmp_path, mr_cfg(mr_path))
    code = (
        "import sys\n"
        "from seqrun.cli import app\n"
        "for args in sys.argv[1:]:\n"
        "    try:\n"
        "        app(['data', 'describe', *args.split()], standalone_mode=False)\n"
        "    except SystemExit as e:\n"
        "        assert not e.code, e.code\n"
        "print('HEAVY', sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    configs = [
        str(cfg),
        "configs/weather-nyc-3h.yaml",
        "configs/ladybug-gru.yaml",
        "configs/mr-best.yaml",
        "configs/gunpoint-gru.yaml",
        "configs/weather-synop-3h.yaml",
    ]  # every family: `train` reads its data before importing TensorFlow too
    out = subprocess.run(
        [sys.executable, "-c", code, *configs], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stdout
