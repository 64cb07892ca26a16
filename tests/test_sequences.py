"""The sequences family (issue 12): .ts / long CSV / .npz readers on real and hand-written
files, the data module, encoders, FCN and Conv1D->GRU, metric sets, bad inputs, and train +
evaluate through the CLI on a slice of GunPoint. Tiny real models, 1-2 epochs."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from seqrun.samples import sample_path
from tests.conftest import write_config
from tests.test_bad_inputs import no_run_left, one_line_error

TS_HEAD = """# a comment
@problemName Tiny
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength false
@classLabel true a b
@data
"""
TS_ROWS = [
    "1,2,3,4:5,6,7,8:a",
    "2,?,4:6,NaN,8:b",
    "0.5,1.5:2,3:a",
    "9,8,7,6,5:1,1,1,1,1:b",
]

TINY_FCN = {"arch": "fcn", "filters": [4, 4, 4], "kernels": [3, 3, 3]}


def write_ts(folder: Path, rows: list[str], head: str = TS_HEAD, name: str = "X_TRAIN.ts") -> Path:
    path = folder / name
    path.write_text(head + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def seq_config(tmp_path: Path, data: dict, model: dict | None = None, **top) -> Path:
    cfg = {
        "name": "seq",
        "seed": 0,
        "data": {"adapter": "sequences", **data},
        "encoder": {"type": "sequence_standardize"},
        "model": model or dict(TINY_FCN),
        "train": {"epochs": 1, "batch_size": 8, "optimizer": "adam"},
        **top,
    }
    return write_config(tmp_path, cfg)


# ----------------------------------------------------------------------------- readers


def test_ts_samples_parse_with_their_archive_shapes():
    from seqrun.data.ts_format import read_ts, test_path_of

    bm = read_ts(sample_path("basicmotions"))
    assert len(bm) == 40 and bm.series[0].shape == (100, 6)
    assert bm.class_names == ["Standing", "Running", "Walking", "Badminton"]
    assert sorted(set(bm.labels)) == sorted(bm.class_names)
    gp_test = read_ts(test_path_of(sample_path("gunpoint")))
    assert len(gp_test) == 150 and gp_test.series[0].shape == (150, 1)
    assert gp_test.class_names == ["1", "2"] and not gp_test.regression


def test_ts_unequal_lengths_missing_values_and_regression(tmp_path):
    from seqrun.data.ts_format import read_ts

    s = read_ts(write_ts(tmp_path, TS_ROWS))
    assert [len(x) for x in s.series] == [4, 3, 2, 5]
    assert np.isnan(s.series[1][1]).all() and s.series[1][2, 1] == 8.0
    assert s.labels == ["a", "b", "a", "b"]
    head = TS_HEAD.replace("@classLabel true a b", "@targetLabel true")
    r = read_ts(write_ts(tmp_path, ["1,2,3:4,5,6:0.5", "7,8:9,10:-2e1"], head, "R.ts"))
    assert r.regression and r.labels == [0.5, -20.0]
    gz = tmp_path / "G_TRAIN.ts.gz"  # gzip by content, and the _TEST beside it is found
    gz.write_bytes(gzip.compress((TS_HEAD + "\n".join(TS_ROWS)).encode()))
    assert [len(x) for x in read_ts(gz).series] == [4, 3, 2, 5]


def test_long_csv_and_npz_give_the_same_series(tmp_path):
    from seqrun.data.sequence_csv import read_long_csv
    from seqrun.data.sequence_npz import read_npz

    rows = ["id,step,x,y,label"]
    series = {"s1": ([1, 2, 3], [4, 5, 6], "a"), "s2": ([7, 8], [9, 10], "b")}
    for sid, (xs, ys, lab) in series.items():
        for t in reversed(range(len(xs))):  # rows out of order: the step column orders them
            rows.append(f"{sid},{t},{xs[t]},{ys[t]},{lab}")
    (tmp_path / "long.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    c = read_long_csv(tmp_path / "long.csv", "id", "step", None, "label")
    assert c.channels == ["x", "y"] and c.ids == ["s1", "s2"] and c.labels == ["a", "b"]
    np.testing.assert_array_equal(c.series[0], [[1, 4], [2, 5], [3, 6]])
    x = np.zeros((2, 3, 2), np.float32)
    x[0] = c.series[0]
    x[1, :2] = c.series[1]
    np.savez(tmp_path / "a.npz", x=x, lengths=[3, 2], y=np.array(["a", "b"]))
    n = read_npz(tmp_path / "a.npz")
    np.testing.assert_array_equal(n.series[1], c.series[1])
    flat = np.concatenate(c.series)  # ragged without pickles: (sum of lengths, F) + lengths
    np.savez(tmp_path / "r.npz", x=flat, lengths=[3, 2], y=[0, 1], classes=["a", "b"])
    r = read_npz(tmp_path / "r.npz")
    assert [len(s) for s in r.series] == [3, 2] and r.labels == ["a", "b"]


# ----------------------------------------------------------------------------- bad inputs


BAD_TS = [
    (TS_HEAD.replace("@missing true", "@missingg true"), TS_ROWS, ":4", "unknown header tag"),
    (TS_HEAD.replace("@timeStamps false\n", ""), TS_ROWS, ":8", "missing header tag"),
    (TS_HEAD, ["1,2:3,4:5,6:a"], ":10", "3 dimension(s), @dimensions says 2"),
    (
        TS_HEAD.replace("@equalLength false", "@equalLength true"),
        TS_ROWS,
        ":11",
        "@equalLength true",
    ),
    (TS_HEAD, ["1,2:3,4:a", "1,2:3,4:c"], ":11", "label 'c' is not in @classLabel"),
    (TS_HEAD, ["1,2:3,4:a", ":1,2:b"], ":11", "empty series"),
    (TS_HEAD, ["1,x:3,4:a"], ":10", "is not a number"),
]


@pytest.mark.parametrize(("head", "rows", "line", "needle"), BAD_TS)
def test_bad_ts_files_are_one_line_errors_without_a_run(cli, tmp_path, head, rows, line, needle):
    path = write_ts(tmp_path, rows, head)
    config = seq_config(tmp_path, {"path": str(path)})
    runs = tmp_path / "runs"
    text = one_line_error(cli("train", config, "--runs-dir", runs), needle)
    assert f"X_TRAIN.ts{line}" in text  # file:line
    no_run_left(runs)


def test_csv_label_changing_within_a_sequence(cli, tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("id,step,x,label\na,0,1,u\na,1,2,u\nb,0,3,v\nb,1,4,u\n", encoding="utf-8")
    config = seq_config(tmp_path, {"path": str(path)})
    runs = tmp_path / "runs"
    text = one_line_error(
        cli("train", config, "--runs-dir", runs), "long.csv:5", "sequence 'b' changes its label"
    )
    assert "'v' (line 4)" in text
    no_run_left(runs)


def test_compatibility_is_checked_from_declarations(cli, tmp_path):
    text = tmp_path / "t.csv"
    text.write_text("text,label\ngood film,1\nbad film,0\n", encoding="utf-8")
    cfg = {
        "data": {"adapter": "text_table", "path": str(text)},
        "encoder": {"type": "embedding"},
        "model": {"arch": "fcn"},
    }
    one_line_error(cli("config", "validate", write_config(tmp_path, cfg)), "model.arch", "'fcn'")
    config = seq_config(tmp_path, {"sample": "gunpoint"})
    one_line_error(
        cli("config", "validate", config, "--set", "encoder.type=multi_hot"),
        "encoder.type",
        "sequences",
    )
    one_line_error(  # before any data is read or model built
        cli("config", "validate", config, "--set", "model.filters=[8,8]"),
        "model.kernels",
        "2 blocks (model.filters)",
    )


# ----------------------------------------------------------------------------- contracts


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("adapter", "sequences"),
        ("adapter", "sequence_regression"),
        ("encoder", "sequence_standardize"),
        ("encoder", "sequence_znorm"),
        ("arch", "fcn"),
        ("arch", "conv_gru"),
        ("metrics", "sequence_classification"),
        ("metrics", "sequence_regression"),
    ],
)
def test_every_new_component_conforms(kind, name):
    from seqrun.core.contracts import conformance
    from seqrun.core.registry import registry

    assert conformance(kind, registry.get(kind, name)) == []


# ----------------------------------------------------------------------------- data module


def _load(tmp_path: Path, data: dict, splits=("train", "dev", "test")):
    from seqrun.core.config import load_config
    from seqrun.data.base import open_adapter

    cfg = load_config(seq_config(tmp_path, data))
    return cfg, open_adapter(cfg).load(splits)


def test_gunpoint_splits_describe_and_leakage(tmp_path):
    cfg, data = _load(tmp_path, {"sample": "gunpoint"})
    assert data.sizes() == {"train": 37, "dev": 13, "test": 150}  # dev: 25 % of TRAIN
    info = data.describe(cfg)
    assert info["splits"]["test"]["classes"] == {"1": 76, "2": 74}
    assert info["splits"]["train"]["length"]["min"] == 150 and info["sequences"]["equal_length"]
    head, rows, _ = data.render_description(info)
    assert "1 channel(s), equal lengths" in head and rows[0][0] == "series"
    assert "describe: train classes" in data.brief_description(info)
    assert data.leakage("warn")["checked"]
    # a training series copied into the test file is found
    src = gzip.decompress(sample_path("gunpoint").read_bytes()).decode()
    rows_ = [ln for ln in src.splitlines() if ln and ln[0] not in "@#"]
    head_ = "\n".join(ln for ln in src.splitlines() if ln.startswith("@")) + "\n"
    write_ts(tmp_path, rows_[:20], head_, "P_TRAIN.ts")
    write_ts(tmp_path, rows_[:3] + rows_[30:40], head_, "P_TEST.ts")
    _, leaky = _load(tmp_path, {"path": str(tmp_path / "P_TRAIN.ts")}, ("train", "dev"))
    result = leaky.leakage("warn")
    issue = next(i for i in result["issues"] if i["splits"] == ["train", "test"])
    assert result["found"] and issue["count"] >= 1 and issue["check"] == "duplicate_series"


def test_kfold_is_stratified_over_train(tmp_path):
    data = {"sample": "basicmotions", "split": {"kfold": 4, "fold": 1}}
    _, d = _load(tmp_path, data)
    assert d.sizes() == {"train": 30, "dev": 10, "test": 40}
    counts = np.bincount(d.splits["dev"].y, minlength=4)
    assert set(counts.tolist()) <= {2, 3}  # 10 per class over 4 folds: within one per class


def test_encoders_scale_pad_mask_and_bucket(tmp_path):
    from seqrun.encoders.sequences import SequenceStandardize, SequenceZNorm

    _, d = _load(tmp_path, {"path": str(write_ts(tmp_path, TS_ROWS * 3))}, ("train", "dev"))
    enc = SequenceStandardize(SequenceStandardize.Config(type="sequence_standardize"))
    d.fit_encoder(enc)
    assert enc.masking and enc.length == 5  # unequal lengths: masked, padded to the longest
    x, lengths = enc.encode(d.splits["train"].series)
    assert x.shape[1:] == (5, 2) and not np.isnan(x).any()
    assert (x[lengths < 5, 4] == 0).all()  # post-padding with zeros
    z = SequenceZNorm(SequenceZNorm.Config(type="sequence_znorm"))
    one = z.scale(np.array([[1.0], [2.0], [3.0]]))
    assert abs(float(one.mean())) < 1e-6 and abs(float(one.std()) - 1) < 1e-5
    b = SequenceStandardize(SequenceStandardize.Config(type="sequence_standardize", bucketing=True))
    d.set_encoder(b)
    b.fit(d.splits["train"].series, d.splits["train"].y, d.class_names, d.channels)
    assert b.input_spec()[0] == (None, 2)
    batches = d.batches("train")
    order = batches.bucket_order(2, seed=0, epoch=0)
    assert sorted(np.concatenate(order).tolist()) == list(range(len(batches)))


def test_metric_sets_by_hand():
    from seqrun.metrics.sequence_classification import SequenceClassificationMetrics
    from seqrun.metrics.sequence_regression import SequenceRegressionMetrics

    proba = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
    m = SequenceClassificationMetrics().compute(
        {
            "y_true": [0, 1, 2, 2],
            "proba": proba,
            "class_names": list("abc"),
            "train_class_counts": [1, 1, 5],
        }
    )
    assert m["accuracy"] == 0.75 and m["confusion_matrix"][2] == [0, 1, 1]
    assert abs(m["balanced_accuracy"] - (1 + 1 + 0.5) / 3) < 1e-12
    assert m["majority_class"] == "c" and m["majority_accuracy"] == 0.5
    r = SequenceRegressionMetrics().compute(
        {"y_true": [1.0, 3.0], "y_pred": [1.0, 2.0], "train_mean": 2.0}
    )
    assert r["rmse"] == pytest.approx(np.sqrt(0.5)) and r["baseline_rmse"] == 1.0
    assert r["skill"] == pytest.approx(1 - np.sqrt(0.5))


# ----------------------------------------------------------------------------- end to end


def test_gunpoint_slice_train_evaluate_predict(cli, tmp_path):
    runs = tmp_path / "runs"
    config = seq_config(tmp_path, {"sample": "gunpoint", "max_series": 24})
    r = cli("train", config, "--runs-dir", runs, "--set", "train.epochs=2", "--quiet")
    assert r.exit_code == 0, r.output
    run = next((runs / "seq").iterdir())
    r = cli("evaluate", run)
    assert r.exit_code == 0, r.output
    test = json.loads((run / "metrics" / "test.json").read_text())
    assert test["n"] == 24 and 0 <= test["accuracy"] <= 1 and "balanced_accuracy" in test
    assert (run / "plots" / "test.png").is_file()
    assert json.loads((run / "meta.json").read_text())["data"]["format"] == "ts"
    # seqrun predict on a new .ts file: the adapter reads it, the run's encoder encodes it
    r = cli("predict", run, "--input", sample_path("gunpoint-test"), "--json")
    assert r.exit_code == 0, r.output
    preds = json.loads(r.stdout)["predictions"]
    assert len(preds) == 150 and preds[0]["id"] == 0
    assert {p["label"] for p in preds} <= {"1", "2"}
    assert all(set(p["probabilities"]) == {"1", "2"} for p in preds)


def test_unequal_lengths_recurrent_bucketed_and_regression(cli, tmp_path):
    runs = tmp_path / "runs"
    rng = np.random.default_rng(0)
    series = [rng.normal(size=(int(rng.integers(5, 30)), 2)).astype(np.float32) for _ in range(40)]
    labels = np.array(["up" if s[:, 0].sum() > 0 else "down" for s in series])
    x = np.empty(40, dtype=object)
    x[:] = series
    np.savez(tmp_path / "s.npz", x=x, y=labels)
    data = {"path": str(tmp_path / "s.npz"), "allow_pickle": True}
    config = seq_config(tmp_path, data, {"arch": "gru", "units": 4})
    sets = ["--set", "encoder.bucketing=true", "--quiet", "--runs-dir", runs]
    for arch in (["model.arch=gru"], ["model.arch=conv_gru", "model.filters=[4]"]):
        args = [a for s in arch for a in ("--set", s)]
        r = cli("train", config, *sets, *args, "--set", "model.units=4")
        assert r.exit_code == 0, r.output
    # the same series with a number each: the regression adapter and metric set
    np.savez(
        tmp_path / "r.npz",
        x=np.concatenate(series),
        lengths=[len(s) for s in series],
        y=np.array([s.mean() for s in series]),
    )
    cfg = {
        "name": "reg",
        "data": {"adapter": "sequence_regression", "path": str(tmp_path / "r.npz")},
        "model": {"arch": "gru", "units": 4},
        "train": {"epochs": 1, "batch_size": 8},
    }
    r = cli("train", write_config(tmp_path, cfg, "reg.yaml"), "--quiet", "--runs-dir", runs)
    assert r.exit_code == 0, r.output
    dev = json.loads(next((runs / "reg").iterdir()).joinpath("metrics", "dev.json").read_text())
    assert {"rmse", "mae", "baseline_rmse", "skill"} <= set(dev)
