"""The sequences family (issue 12): .ts / long CSV / .npz readers on real and hand-written
files, the data module, encoders, FCN and Conv1D->GRU, metric sets, bad inputs, and train +
evaluate through the CLI on a slice of GunPoint. Tiny real models, 1-2 epochs."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import matplotlib.figure
import numpy as np
import pytest
from typer.testing import CliRunner

from seqrun.cli import app
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


def test_test_file_beside_a_train_file_in_any_case(tmp_path):
    from seqrun.data.ts_format import test_path_of

    for train, test in (("A_TRAIN.ts", "A_TEST.ts"), ("B_Train.ts.gz", "B_Test.ts.gz"),
                        ("c_train.ts", "c_test.ts")):  # fmt: skip
        (tmp_path / train).touch()
        assert test_path_of(tmp_path / train) is None
        (tmp_path / test).touch()
        assert test_path_of(tmp_path / train) == tmp_path / test
    assert test_path_of(tmp_path / "A_TEST.ts") is None


def test_numeric_class_labels_are_ordered_as_numbers():
    from seqrun.data.base import class_order

    assert class_order(["10", "2", "1", "3", "2"]) == ["1", "2", "3", "10"]
    assert class_order([-1, 0, 1]) == ["-1", "0", "1"]
    assert class_order(["b", "a", "10"]) == ["10", "a", "b"]


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
    (
        TS_HEAD.replace("@equalLength false", "@equalLength true\n@seriesLength 2"),
        ["1,2:3,4:a", "1,2,3:3,4,5:b"],
        ":12",
        "(@seriesLength: 2); correct @seriesLength, or set @equalLength false",
    ),
    # a class name holding a space, written by a tool that joins the names by spaces
    (
        TS_HEAD.replace("true a b", "true Gun Draw Point"),
        ["1,2:3,4:Point", "1,2:3,4:Gun Draw"],
        ":11",
        "so a name cannot hold one; write it without (e.g. 'Gun_Draw')",
    ),
    (TS_HEAD, ["1,2:3,4:a", ":1,2:b"], ":11", "empty series"),
    (TS_HEAD, ["1,x:3,4:a"], ":10", "is not a number"),
    (
        TS_HEAD.replace("@univariate false", "@univariate true"),
        TS_ROWS,
        ":6",
        "@univariate true but @dimensions 2: set @univariate false if the series have 2 "
        "dimensions, else @dimensions 1",
    ),
    (TS_HEAD, ["1,2,3:3,4:a"], ":10", "different lengths ([2, 3]): give each dimension as many"),
    # binary: told to export as the format read (was: 'as CSV')
    (TS_HEAD, ["1,2\x00:3,4:a"], "", "not text: export the data as a .ts text file"),
    # two files joined (cat X_TRAIN.ts X_TEST.ts): the second header is not a series
    (TS_HEAD, TS_ROWS[:1] + TS_HEAD.splitlines()[1:3], ":11", "header line '@problemName Tiny'"),
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
    one_line_error(  # YAML 1.1 reads a bare on as true
        cli("config", "validate", config, "--set", "encoder.mask=on"),
        "got true (YAML reads a bare on/off as true/false: quote it, 'on')",
    )
    data = {"adapter": "sequence_regression", "path": str(_npz(tmp_path, "reg.npz"))}
    regression = seq_config(tmp_path, data)
    for metrics in ("regression", "forecast"):  # they read a series' persistence forecast
        one_line_error(
            cli("config", "validate", regression, "--set", f"metrics={metrics}"),
            "metrics",
            "gives sequences; use metrics: sequence_regression",
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


def test_a_constant_regression_target_is_an_error_before_training(cli, tmp_path):
    # as a one-class training file is for classification: it trained and scored skill null
    head = TS_HEAD.replace("@classLabel true a b", "@targetLabel true")
    rows = [f"{i},{i + 1},{i + 2}:1,2,{i}:5.0" for i in range(12)]
    path = write_ts(tmp_path, rows, head, "R.ts")
    cfg = {"name": "r", "data": {"adapter": "sequence_regression", "path": str(path)}}
    cfg |= {"model": {"arch": "gru", "units": 2}, "train": {"epochs": 1}}
    r = cli("data", "describe", write_config(tmp_path, cfg))
    one_line_error(r, f"{path}: the target is 5 in all 12 series of the training file")
    rows[3] = rows[3].replace(":5.0", ":5.5")
    write_ts(tmp_path, rows, head, "R.ts")
    assert cli("data", "describe", write_config(tmp_path, cfg)).exit_code == 0


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


def test_test_split_hash_is_recorded_at_training_as_evaluate_computes_it(tmp_path):
    """Training reads the test series (a test file, or the test fraction of one file) without
    scoring them: their hash goes into split_fingerprints (meta.json) and equals the one an
    evaluate computes from the same file, so a file changed since training is warned about
    instead of scored in silence."""
    src = gzip.decompress(sample_path("gunpoint").read_bytes()).decode()
    rows = [ln for ln in src.splitlines() if ln and ln[0] not in "@#"]
    head = "\n".join(ln for ln in src.splitlines() if ln.startswith("@")) + "\n"
    write_ts(tmp_path, rows[:20], head, "P_TRAIN.ts")
    write_ts(tmp_path, rows[30:40], head, "P_TEST.ts")
    write_ts(tmp_path, rows[:40], head, "whole.ts")  # no test file: split by fractions
    for name, test_file in (("P_TRAIN.ts", "P_TEST.ts"), ("whole.ts", "whole.ts")):
        data = {"path": str(tmp_path / name)}
        _, trained = _load(tmp_path, data, ("train", "dev"))
        _, scored = _load(tmp_path, data, ("test",))
        assert set(trained.split_fingerprints) == {"train", "dev", "test"}, name
        assert trained.split_fingerprints["test"] == scored.split_fingerprints["test"], name
        edited = (tmp_path / test_file).read_text().replace(rows[35], rows[36], 1)
        (tmp_path / test_file).write_text(edited)
        _, changed = _load(tmp_path, data, ("test",))
        assert changed.split_fingerprints["test"] != trained.split_fingerprints["test"], name


@pytest.mark.parametrize("adapter", ["sequence_regression", "sequences"])
def test_random_split_beside_a_test_file_loses_no_training_series(tmp_path, adapter):
    """train / (train + dev) + dev / (train + dev) is 0.999... in floating point (0.6/0.8 +
    0.2/0.8): the random cut (regression's default, as for every TSER TRAIN/TEST pair) left
    the last series of the TRAIN file in no split."""
    label = "@targetLabel true" if adapter == "sequence_regression" else "@classLabel true a b"
    head = TS_HEAD.replace("@classLabel true a b", label)
    rows = [
        f"{i},{i + 1},2:1,{i},3:" + (f"{i / 10}" if label[1] == "t" else "ab"[i % 2])
        for i in range(40)
    ]
    path = write_ts(tmp_path, rows, head, "R_TRAIN.ts")
    write_ts(tmp_path, rows[:6], head, "R_TEST.ts")
    data = {"adapter": adapter, "path": str(path), "split": {"method": "random"}}
    _, d = _load(tmp_path, data)
    assert d.sizes()["train"] + d.sizes()["dev"] == 40 and d.sizes()["test"] == 6
    ids = sorted(d.splits["train"].ids + d.splits["dev"].ids)
    assert ids == list(range(40))


def test_stratified_split_of_many_small_classes_says_why_dev_is_empty(cli, tmp_path):
    """26 classes of 3 series (an archive set of letters): each class's dev share rounds to
    none, so the message names the per-class rounding and the fixes, not only data.split."""
    head = TS_HEAD.replace(
        "@classLabel true a b", "@classLabel true " + " ".join("abcdefghijklmnopqrstuvwxyz")
    )
    rows = [f"{i},{i + 1},2:1,{i},3:{c}" for i in range(3) for c in "abcdefghijklmnopqrstuvwxyz"]
    split = {"method": "stratified", "train": 0.7, "dev": 0.1, "test": 0.2}
    config = seq_config(tmp_path, {"path": str(write_ts(tmp_path, rows, head)), "split": split})
    text = one_line_error(cli("data", "describe", config), "the dev split is empty")
    assert "26 classes have 3 series each" in text and "data.split.method: random" in text
    split = {"method": "stratified", "train": 0.1, "dev": 0.7, "test": 0.2}  # train rounds to none
    config = seq_config(tmp_path, {"path": str(write_ts(tmp_path, rows, head)), "split": split})
    text = one_line_error(cli("data", "describe", config), "the train split is empty")
    assert "raise data.split.train" in text and "(none)" not in text


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


def test_znorm_of_flat_training_series_is_an_error_or_a_warning(capsys):
    # series of one step, or constant, are all zeros after per-series z-normalisation: a run
    # of such series trained on zeros and scored chance (log loss 0.6931) without a word
    from seqrun.core.errors import UserError
    from seqrun.encoders.sequences import SequenceZNorm

    z = SequenceZNorm(SequenceZNorm.Config(type="sequence_znorm"))
    y = np.array([0, 1, 0, 1])
    one_step = [np.array([[v]]) for v in (1.0, 5.0, 2.0, 7.0)]
    with pytest.raises(UserError, match="4 of 4 training series are one step long") as e:
        z.fit(one_step, y, ["a", "b"], ["x"])
    assert e.value.where == "encoder.type" and "sequence_standardize" in str(e.value)
    flat = [np.full((5, 2), v) for v in (1.0, 5.0, 2.0)] + [np.arange(10.0).reshape(5, 2)]
    z.fit(flat, y, ["a", "b"], ["x", "y"])  # 3 of 4: warned
    assert "3 of 4 training series are constant" in capsys.readouterr().err
    z.fit(flat[2:], y[2:], ["a", "b"], ["x", "y"])  # 1 of 2: warned; fewer: not
    z.fit(flat[2:] + flat[3:], y[1:], ["a", "b"], ["x", "y"])
    assert capsys.readouterr().err.count("warning:") == 1


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
    assert m["majority_balanced_accuracy"] == pytest.approx(1 / 3)
    # a split without the training majority class: predicting it for every series scores 0
    absent = SequenceClassificationMetrics().compute(
        {"y_true": [0, 1], "proba": proba[:2], "class_names": list("abc"),
         "train_class_counts": [1, 1, 5]}
    )  # fmt: skip
    assert absent["majority_accuracy"] == absent["majority_balanced_accuracy"] == 0.0
    # a class neither in the truth nor predicted does not count (scikit-learn's macro F1)
    perfect = SequenceClassificationMetrics().compute(
        {"y_true": [0, 0, 1, 1, 2, 2], "proba": np.eye(4)[[0, 0, 1, 1, 2, 2]],
         "class_names": list("abcd")}
    )  # fmt: skip
    assert perfect["macro_f1"] == perfect["balanced_accuracy"] == 1.0
    r = SequenceRegressionMetrics().compute(
        {"y_true": [1.0, 3.0], "y_pred": [1.0, 2.0], "train_mean": 2.0}
    )
    assert r["rmse"] == pytest.approx(np.sqrt(0.5)) and r["baseline_rmse"] == 1.0
    assert r["skill"] == pytest.approx(1 - np.sqrt(0.5))


def test_plot_of_a_split_lacking_a_class_warns_nothing(tmp_path):
    import warnings

    from seqrun.data.sequences import SeqSplit, SequenceData

    series = [np.arange(5, dtype=np.float32).reshape(5, 1) + i for i in range(4)]
    y = np.array([0, 1, 0, 1])  # class 'c' has no series in this split
    data = SequenceData({"dev": SeqSplit(series, y, ids=list(range(4)))}, list("abc"), ["x"])
    preds = {"split": "dev", "y_true": y, "proba": np.eye(3)[[0, 1, 1, 1]]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib: 'No artists with labels found'
        data.plot(preds, tmp_path / "dev.png", "dev")
    assert (tmp_path / "dev.png").stat().st_size > 0


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
    # a plot cut short (a kill, a full disk) leaves the earlier one whole
    before = (run / "plots" / "test.png").read_bytes()

    def torn(fig, fname, *args, **kwargs):
        if hasattr(fname, "write"):
            fname.write(before[:100])
        else:
            Path(fname).write_bytes(before[:100])
        raise OSError(28, "No space left on device")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(matplotlib.figure.Figure, "savefig", torn)
        r = cli("evaluate", run)
    assert r.exit_code == 0, r.output
    assert (run / "plots" / "test.png").read_bytes() == before
    assert "No space left" in json.loads((run / "meta.json").read_text())["plot_error"]
    # seqrun predict on a new .ts file: the adapter reads it, the run's encoder encodes it
    r = cli("predict", run, "--input", sample_path("gunpoint-test"), "--json")
    assert r.exit_code == 0, r.output
    preds = json.loads(r.stdout)["predictions"]
    assert len(preds) == 150 and preds[0]["id"] == 0
    assert {p["label"] for p in preds} <= {"1", "2"}
    assert all(set(p["probabilities"]) == {"1", "2"} for p in preds)
    # the same .ts on standard input (no name, no extension): read as a .ts, not as a CSV
    ts = gzip.decompress(sample_path("gunpoint-test").read_bytes()).decode()
    r = CliRunner().invoke(app, ["predict", str(run), "--input", "-", "--json"], input=ts)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["predictions"] == preds
    # the gzip file piped as it is (cat X_TEST.ts.gz | ...): sniffed by its decompressed start
    gz = sample_path("gunpoint-test").read_bytes()
    r = CliRunner().invoke(app, ["predict", str(run), "--input", "-", "--json"], input=gz)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["predictions"] == preds
    # a text argument is not a series: one line pointing at --input, not a ValueError
    one_line_error(cli("predict", run, "1 2 3"), "predict:", "not texts", "--input FILE")
    (tmp_path / "trunc.npz").write_bytes(b"PK\x03\x04" + b"\0" * 40)  # cut short
    one_line_error(cli("predict", run, "--input", tmp_path / "trunc.npz"), "a damaged .npz archive")


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
        y=np.array([1000 + 10 * s.mean() for s in series]),  # far from 0: units show
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
    # predict answers in the target's units, as evaluate scores (it printed standardized values)
    run = next((runs / "reg").iterdir())
    r = cli("predict", run, "--input", tmp_path / "r.npz", "--json")
    assert r.exit_code == 0, r.output
    preds = [row["prediction"] for row in json.loads(r.stdout)["predictions"]]
    assert len(preds) == 40 and all(990 < p < 1010 for p in preds), preds[:5]


@pytest.mark.parametrize(
    "model",
    [
        {"arch": "fcn", "filters": [3, 3], "kernels": [3, 3]},
        {"arch": "conv_gru", "filters": [3, 3], "kernel": 3, "units": 3},
        {"arch": "gru", "units": 3, "ensemble": 2},
    ],
    ids=["fcn", "conv_gru", "gru-ensemble"],
)
def test_padding_added_to_a_series_changes_no_output(tmp_path, model):
    """A masked model gives a series the same output however much padding follows it. The
    second conv block read the first one's padded steps (ReLU of its bias and BatchNorm
    shift, not zeros: an FCN output moved by 3.7e-3, a conv_gru one by 0.24), and an ensemble
    behind the Masking front did not build ("padding_mask" used 2 times)."""
    import keras

    from seqrun.core.config import load_config
    from seqrun.data.base import open_adapter
    from seqrun.engine import archive
    from seqrun.engine.trainer import build_model

    rng = np.random.default_rng(0)
    series = [rng.normal(size=(int(rng.integers(5, 12)), 2)).astype(np.float32) for _ in range(30)]
    x = np.empty(30, dtype=object)
    x[:] = series
    np.savez(tmp_path / "s.npz", x=x, y=np.array(["up", "down"] * 15))
    data = {"path": str(tmp_path / "s.npz"), "allow_pickle": True}
    encoder = {"type": "sequence_standardize", "bucketing": True}  # the model takes any length
    cfg = load_config(seq_config(tmp_path, data, model, encoder=encoder))
    d = open_adapter(cfg).load(("train", "dev"))
    enc = archive.make_encoder(cfg)
    d.fit_encoder(enc)
    keras.utils.set_random_seed(0)
    net = build_model(cfg, d, enc)
    for w in net.weights:  # as after training: biases, shifts and moving statistics not 0 / 1
        v = np.asarray(w) + rng.normal(0, 0.5, w.shape).astype("float32")
        w.assign(np.abs(v) + 0.1 if "variance" in w.path else v)
    xs, lengths = enc.encode(d.splits["train"].series[:4])
    for i in range(4):
        n = int(lengths[i])
        own = net.predict(xs[i : i + 1, :n], verbose=0)
        padded = np.zeros((1, n + 6, 2), np.float32)
        padded[0, :n] = xs[i, :n]
        np.testing.assert_allclose(net.predict(padded, verbose=0), own, rtol=1e-5, atol=1e-6)
    # a series scaled to zeros everywhere (constant under sequence_znorm, all missing) is all
    # masked: a finite output, not the 0 / 0 of an average over no step (NaN from the FCN)
    assert np.isfinite(net.predict(np.zeros((1, 6, 2), np.float32), verbose=0)).all()


# ----------------------------------------------------------------------------- tester's report


LONG_HEAD = "id,step,x,y,label"


def write_long(path: Path, n: int = 12, head: str = LONG_HEAD, sep: str = ",") -> Path:
    """A long CSV of ``n`` 2-channel series of 4-6 steps, classes 'up' and 'down'."""
    rng = np.random.default_rng(1)
    lines = [head.replace(",", sep)]
    for i in range(n):
        label = "up" if i % 2 else "down"
        for t in range(4 + i % 3):
            x, y = rng.normal(size=2) + (1 if label == "up" else -1)
            lines.append(sep.join([f"s{i}", str(t), f"{x:.4f}", f"{y:.4f}", label]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _fitted_encoder(channels: list[str]):
    from seqrun.encoders.sequences import SequenceStandardize

    enc = SequenceStandardize(SequenceStandardize.Config(type="sequence_standardize"))
    rng = np.random.default_rng(0)
    series = [rng.normal(size=(5, len(channels))) for _ in range(4)]
    enc.fit(series, np.array([0, 1, 0, 1]), ["a", "b"], channels)
    return enc


def test_encoder_checks_channel_count_before_scaling_and_picks_names():
    from seqrun.core.errors import UserError
    from seqrun.data.ts_format import NamedSeries

    enc = _fitted_encoder(["x", "y"])
    with pytest.raises(UserError, match=r"series 0 has 1 channel\(s\), the model was trained on 2"):
        enc.model_inputs([np.ones((5, 1))])  # (T, 1) would broadcast to (T, 2) when scaled
    values = np.array([[1.0, 10.0, 7.0], [2.0, 20.0, 7.0]], np.float32)
    swapped = NamedSeries(values, ["y", "x", "extra"], "in.csv")
    direct = enc.model_inputs([values[:, [1, 0]]])
    np.testing.assert_array_equal(enc.model_inputs([swapped]), direct)  # by name, extra ignored
    renamed = NamedSeries(values[:, :2], ["a", "b"], "in.csv")
    with pytest.raises(UserError, match="no column x, y .*other columns: a, b") as e:
        enc.model_inputs([renamed])
    assert e.value.where == "in.csv"


def test_series_cut_or_padded_without_masking_are_warned(capsys):
    enc = _fitted_encoder(["x"])  # four training series of 5 steps: no masking
    assert not enc.masking
    enc.model_inputs([np.ones((5, 1)), np.ones((6, 1))])
    err = capsys.readouterr().err
    assert "--input: 1 of 2 series are longer than the model's 5 steps" in err
    assert "shorter" not in err
    enc.model_inputs([np.ones((3, 1)), np.ones((2, 1)), np.ones((5, 1))])
    err = capsys.readouterr().err
    assert "2 of 3 series are shorter than the 5 steps" in err and "encoder.mask: 'on'" in err
    enc.masking = True  # a masked model skips the padding: nothing to say
    enc.model_inputs([np.ones((3, 1))])
    assert capsys.readouterr().err == ""


def test_missing_values_read_as_zero_are_warned(tmp_path, capsys):
    """A ? or NaN is read as 0 after scaling: training, scoring and predicting say so with the
    count (UEA/UCR files with @missing true, timestamped dimensions aligned on their times)."""
    _, d = _load(tmp_path, {"path": str(write_ts(tmp_path, TS_ROWS * 3))}, ("train", "dev"))
    capsys.readouterr()
    from seqrun.encoders.sequences import SequenceZNorm

    enc = SequenceZNorm(SequenceZNorm.Config(type="sequence_znorm"))
    d.fit_encoder(enc)
    err = capsys.readouterr().err
    n = sum(int(np.isnan(x).sum()) for x in d.splits["train"].series)
    assert n and f"the train split: {n} missing value(s)" in err and "series' own mean" in err
    enc.model_inputs([np.array([[1.0, 2.0], [np.nan, 3.0], [2.0, 1.0]])])
    err = capsys.readouterr().err
    assert "--input: 1 missing value(s) (16.7%) in 1 of 1 series are read as 0" in err
    enc.model_inputs([np.ones((5, 2))])  # nothing missing: nothing to say
    assert "missing" not in capsys.readouterr().err
    # NaN padding at the end (UCR's .tsv layout, converted) under a model without masking
    flat = _fitted_encoder(["x"])
    assert not flat.masking
    flat.model_inputs([np.array([[1.0], [2.0], [3.0], [np.nan], [np.nan]])])
    err = capsys.readouterr().err
    assert "1 series end in steps missing in every channel" in err and "mask: 'on'" in err


def test_prediction_input_with_a_series_of_no_value_is_an_error(tmp_path):
    """A new series whose every value is ? (a dead sensor, a blank recording) would be read as
    zeros and still get a prediction: an error naming its line, as in a training file."""
    from seqrun.core.config import load_config
    from seqrun.core.errors import UserError
    from seqrun.data.base import open_adapter

    adapter = open_adapter(
        load_config(seq_config(tmp_path, {"path": str(write_ts(tmp_path, TS_ROWS))}))
    )
    rows, series = adapter.read_inputs(write_ts(tmp_path, TS_ROWS[1:3], name="new.ts"))
    assert len(series) == 2  # some values missing: read
    with pytest.raises(UserError, match="series 1 has no value") as e:
        adapter.read_inputs(write_ts(tmp_path, [TS_ROWS[0], "?,NaN:?,?:a"], name="new.ts"))
    assert e.value.where.endswith("new.ts:11")


def test_predict_on_long_csv_matches_channels_by_name(cli, tmp_path):
    runs = tmp_path / "runs"
    train = write_long(tmp_path / "long.csv")
    config = seq_config(tmp_path, {"path": str(train)})
    assert cli("train", config, "--runs-dir", runs, "--quiet").exit_code == 0
    run = next((runs / "seq").iterdir())

    def predict(path: Path) -> list:
        r = cli("predict", run, "--input", path, "--json")
        assert r.exit_code == 0, r.output
        return json.loads(r.stdout)["predictions"]

    own = predict(train)  # the training file itself: the label column is not a feature
    rows = [ln.split(",") for ln in train.read_text().splitlines()]
    numbers = {"label": "label", "up": "1", "down": "0"}  # numeric labels, as a feature would be
    order = [4, 3, 0, 2, 1]  # label, y, id, x, step: permuted columns
    perm_rows = [[numbers.get(r[i], r[i]) for i in order] for r in rows]
    (tmp_path / "perm.csv").write_text("\n".join(",".join(r) for r in perm_rows) + "\n")
    perm = predict(tmp_path / "perm.csv")
    assert len(own) == 12 and [p["probabilities"] for p in perm] == [
        p["probabilities"] for p in own
    ]
    renamed = train.read_text().replace(LONG_HEAD, "id,step,a,b,label", 1)
    (tmp_path / "renamed.csv").write_text(renamed)
    one_line_error(cli("predict", run, "--input", tmp_path / "renamed.csv"), "no column x, y")
    one_line_error(  # one channel into a two-channel model
        cli("predict", run, "--input", sample_path("gunpoint-test")),
        "1 channel(s), the model was trained on 2",
    )


def test_ts_reads_the_configured_encoding(tmp_path):
    path = tmp_path / "Cp_TRAIN.ts"
    head = TS_HEAD.replace("# a comment", "# mesur\u00e9 en \u00b0C")
    path.write_bytes((head + "\n".join(TS_ROWS) + "\n").encode("cp1252"))
    _, data = _load(tmp_path, {"path": str(path), "encoding": "cp1252"}, ("train",))
    assert len(data.splits["train"]) >= 1


def test_npz_layout_bytes_labels_and_foreign_keys(tmp_path, capsys):
    from seqrun.core.errors import UserError
    from seqrun.data.sequence_npz import read_npz

    rng = np.random.default_rng(0)
    ntf = rng.normal(size=(8, 50, 3)).astype(np.float32)
    y = np.array([b"Badminton", b"Running"] * 4)  # dtype S, as h5py/old pickles give
    np.savez(tmp_path / "nft.npz", x=ntf.transpose(0, 2, 1), y=y)
    s = read_npz(tmp_path / "nft.npz")  # default NTF: 3 steps x 50 channels, with a warning
    assert s.series[0].shape == (3, 50) and "set data.layout: NFT" in capsys.readouterr().err
    s = read_npz(tmp_path / "nft.npz", layout="NFT")
    np.testing.assert_array_equal(s.series[2], ntf[2])
    assert s.labels[:2] == ["Badminton", "Running"] and capsys.readouterr().err == ""
    read_npz(tmp_path / "nft.npz", layout="NFT")  # a plausible (N, T, F) array: no warning
    np.savez(tmp_path / "ok.npz", x=ntf, y=y)
    read_npz(tmp_path / "ok.npz")
    assert capsys.readouterr().err == ""
    _, data = _load(tmp_path, {"path": str(tmp_path / "nft.npz"), "layout": "NFT"}, ("train",))
    assert data.class_names == ["Badminton", "Running"] and len(data.channels) == 3
    np.savez(tmp_path / "aeon.npz", X_train=ntf, y_train=y, X_test=ntf, y_test=y)
    with pytest.raises(UserError, match="arrays: X_train, y_train, X_test, y_test.*x=X_train"):
        read_npz(tmp_path / "aeon.npz")


def test_fixes_for_data_given_with_set_say_set(tmp_path, capsys):
    """A run's data read anew (seqrun evaluate --set data.path=..., predict --input): the
    layout and encoding fixes are --set options; the config's form otherwise."""
    from seqrun.core.config import load_config
    from seqrun.core.contracts import LoadOptions
    from seqrun.core.errors import UserError
    from seqrun.core.registry import registry

    ntf = np.random.default_rng(0).normal(size=(8, 50, 3)).astype(np.float32)
    np.savez(tmp_path / "nft.npz", x=ntf.transpose(0, 2, 1), y=np.array(["a", "b"] * 4))
    latin = tmp_path / "latin.csv"
    rows = "".join(
        f"{i},{t},{t / 2},{'café' if i % 2 else 'b'}\n" for i in range(8) for t in range(4)
    )
    latin.write_bytes(("id,step,v,label\n" + rows).encode("cp1252"))
    for command_line, layout, encoding in (
        (False, "set data.layout: NFT", "set data.encoding: cp1252"),
        (True, "--set data.layout=NFT", "add --set data.encoding=cp1252"),
    ):
        for path, fix in ((tmp_path / "nft.npz", layout), (latin, encoding)):
            cfg = load_config(seq_config(tmp_path, {"path": str(path)}))
            adapter = registry.get("adapter", cfg.data.adapter)
            try:
                adapter(cfg.data, LoadOptions(command_line=command_line)).load(("train",))
                said = capsys.readouterr().err
            except UserError as e:
                said = str(e)
            assert fix in said, said


def test_other_table_layouts_get_a_specific_message(cli, tmp_path):
    ucr = tmp_path / "GunPoint_TRAIN.tsv"  # UCR 2018: no header, the label first
    ucr.write_text("1\t0.1\t0.2\t0.3\n2\t0.4\t0.5\t0.6\n")
    arff = tmp_path / "GunPoint_TRAIN.arff"
    arff.write_text("@relation GunPoint\n@attribute att0 numeric\n@attribute target {1,2}\n")
    semi = write_long(tmp_path / "semi.csv", sep=";")
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(30)) + "\n" + ",".join("1" * 30) + "\n")
    cases = [
        (ucr, "the UCR archive's .tsv/.csv layout"),
        (arff, "this is an ARFF file"),
        (semi, "the separator is probably ';'"),
        (wide, "c19, ... (30 columns in all)"),
    ]
    for path, needle in cases:
        config = seq_config(tmp_path, {"path": str(path)})
        text = one_line_error(cli("data", "describe", config), needle)
        assert len(text) < 400 and "c25" not in text


def test_long_csv_accepts_na_as_missing(tmp_path):
    from seqrun.data.sequence_csv import read_long_csv

    path = tmp_path / "r.csv"  # as R's write.csv writes it
    path.write_text('"id","step","x","label"\n"a",0,NA,"u"\n"a",1,2,"u"\n"b",0,n/a,"v"\n')
    s = read_long_csv(path, "id", "step", None, "label")
    assert np.isnan(s.series[0][0, 0]) and s.series[0][1, 0] == 2 and np.isnan(s.series[1][0, 0])


def test_ts_tab_after_tag_and_trailing_comma(cli, tmp_path):
    from seqrun.data.ts_format import read_ts

    head = TS_HEAD.replace("@problemName Tiny", "@problemName\tTiny").replace(
        "@classLabel true a b", "@classLabel\ttrue\ta\tb"
    )
    s = read_ts(write_ts(tmp_path, TS_ROWS, head))
    assert s.header["problem"] == "Tiny" and s.class_names == ["a", "b"]
    path = write_ts(tmp_path, ["1,2:3,4:a", "1,2,3,:4,5,6:b"])
    config = seq_config(tmp_path, {"path": str(path)})
    one_line_error(
        cli("data", "describe", config), "X_TRAIN.ts:11", "value 4 of dimension 1 is empty"
    )


# ----------------------------------------------------------------------------- bad .npz files


def _npz(folder: Path, name: str = "bad.npz", **arrays) -> Path:
    rng = np.random.default_rng(0)
    arrays.setdefault("x", rng.normal(size=(6, 30, 2)).astype(np.float32))
    arrays.setdefault("y", np.array([0, 1] * 3))
    path = folder / name
    np.savez(path, **arrays)
    return path


LENGTHS = np.full(6, 10)
ALL_NAN = np.full((6, 30, 2), np.nan, np.float32)
ONE_NAN_CHANNEL = np.random.default_rng(1).normal(size=(6, 30, 2)).astype(np.float32)
ONE_NAN_CHANNEL[:, :, 1] = np.nan
BAD_NPZ = [  # arrays, read_npz options, message
    ({"lengths": np.array([-1, 5, 5, 5, 5, 5])}, {}, "lengths[0]=-1 must be between 1 and 30"),
    ({"lengths": np.array([10, 35, 5, 5, 5, 5])}, {}, "lengths[1]=35 must be between 1 and 30"),
    ({"lengths": np.array([0, 5, 5, 5, 5, 5])}, {}, "lengths[0]=0 must be between 1 and 30"),
    ({"lengths": LENGTHS + 0.5}, {}, "lengths[0]=10.5 is not a whole number"),
    ({"x": np.zeros((12, 2)), "lengths": np.array([-1, 13])}, {}, "lengths[0]=-1 must be at"),
    ({"y": np.array([0.0, np.nan, 1, 0, 1, np.nan])}, {}, "y holds NaN labels (first y[1])"),
    ({"x": ALL_NAN}, {}, "'x' has no values (every value is NaN)"),
    ({"x": ONE_NAN_CHANNEL}, {}, "channel x1 of 'x' has no values"),
    ({"x": np.zeros((0, 30, 2)), "y": np.zeros(0)}, {}, "the file holds no series"),
    ({"x": np.full((6, 30), "a")}, {}, "'x' holds text, not numbers (x[0, 0] = 'a')"),
    ({"y": np.array(list("abcabc"))}, {"regression": True}, "'y' holds text, not numbers"),
    ({"y": np.eye(2)[[0, 1] * 3]}, {}, "'y' has shape (6, 2)"),
    ({"y": np.array(list("abcabc")), "classes": np.array(["a", "b"])}, {}, "class ids"),
    ({"x": np.full((6, 30), np.inf)}, {}, "series 0 of 'x' holds an infinite value"),
    ({"y": np.array([0.5, 1, 2, 3, -1e39, 4])}, {"regression": True}, "y[4] is beyond float32"),
    ({"y": np.array([0.5, np.nan, 2, 3, 3, 4])}, {"regression": True}, "y[1] is not a finite"),
]


@pytest.mark.parametrize(("arrays", "options", "needle"), BAD_NPZ)
def test_npz_contents_are_checked(tmp_path, arrays, options, needle):
    from seqrun.core.errors import UserError
    from seqrun.data.sequence_npz import read_npz

    with pytest.raises(UserError) as e:
        read_npz(_npz(tmp_path, **arrays), **options)
    assert needle in str(e.value) and e.value.where.endswith("bad.npz")


def test_npz_text_x_regression_and_lengths_through_the_cli(cli, tmp_path):
    good = _npz(tmp_path, "good.npz", lengths=np.array([30, 20, 10, 30, 30, 1]))
    from seqrun.data.sequence_npz import read_npz

    assert [len(x) for x in read_npz(good).series] == [30, 20, 10, 30, 30, 1]  # still read
    cases = [
        ({"path": str(_npz(tmp_path, "neg.npz", lengths=np.full(6, -1)))}, "lengths[0]=-1"),
        ({"path": str(_npz(tmp_path, "xs.npz", x=np.full((6, 30), "a")))}, "'x' holds text"),
        (
            {
                "adapter": "sequence_regression",
                "path": str(_npz(tmp_path, "ys.npz", y=np.array(list("abcabc")))),
            },
            "'y' holds text",
        ),
    ]
    for data_cfg, needle in cases:
        one_line_error(cli("data", "describe", seq_config(tmp_path, data_cfg)), needle)


def test_a_file_that_is_not_an_npz_archive(cli, tmp_path):
    from seqrun.core.config import load_config
    from seqrun.data.base import open_adapter

    text = tmp_path / "text.npz"
    text.write_text("hello\n")
    good = _npz(tmp_path, "good.npz")
    trunc = tmp_path / "trunc.npz"
    trunc.write_bytes(good.read_bytes()[:300])
    npy = tmp_path / "one.npz"
    with open(npy, "wb") as f:
        np.save(f, np.zeros(3))
    ts = write_ts(tmp_path, TS_ROWS)
    cases = [
        ({"path": str(text)}, "text.npz: not an .npz archive (numpy.savez)"),
        ({"path": str(text), "allow_pickle": True}, "text.npz: not an .npz archive"),
        ({"path": str(ts), "format": "npz"}, "X_TRAIN.ts: not an .npz archive"),
        ({"path": str(trunc)}, "trunc.npz: a damaged .npz archive"),
        ({"path": str(trunc), "allow_pickle": True}, "trunc.npz: a damaged .npz archive"),
        ({"path": str(npy)}, "a .npy file (numpy.save: one array)"),
    ]
    for data_cfg, needle in cases:
        text_ = one_line_error(cli("data", "describe", seq_config(tmp_path, data_cfg)), needle)
        assert "allow_pickle" not in text_
    # seqrun predict --input reads through the same reader
    cfg = load_config(seq_config(tmp_path, {"path": str(good)}))
    with pytest.raises(Exception, match="a damaged .npz archive") as e:
        open_adapter(cfg).read_inputs(trunc)
    assert type(e.value).__name__ == "UserError"


def test_missing_test_path_and_directory_name_their_key(cli, tmp_path):
    train = write_ts(tmp_path, TS_ROWS)
    config = seq_config(tmp_path, {"path": str(train), "test_path": "nope.ts"})
    one_line_error(cli("data", "describe", config), "data.test_path: file not found: nope.ts")
    (tmp_path / "adir.npz").mkdir()
    config = seq_config(tmp_path, {"path": str(tmp_path / "adir.npz")})
    text = one_line_error(cli("data", "describe", config), "data.path:", "is a directory, not")
    assert "not found" not in text
    # the archive's folder of a problem: its TRAIN file is named
    write_ts(tmp_path / "adir.npz", TS_ROWS, name="GunPoint_TRAIN.ts")
    text = one_line_error(cli("data", "describe", config), "is a directory, not")
    assert f"(e.g. {tmp_path / 'adir.npz' / 'GunPoint_TRAIN.ts'})" in text


# ----------------------------------------------------------------------------- long CSV order


def _long_csv(folder: Path, steps: list[str], name: str = "long.csv", values=None) -> Path:
    """Ten sequences s0..s9 (labels u, v, u, ...) with the given steps each, x = the row's
    index, or ``values`` in s0 (whose rows are lines 2 to len(steps) + 1)."""
    rows = ["id,step,x,label"]
    for n in range(10):
        for k, step in enumerate(steps):
            x = values[k] if values is not None and n == 0 else k
            rows.append(f"s{n},{step},{x},{'uv'[n % 2]}")
    path = folder / name
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("steps", "line", "needles"),
    [  # line 2 is the file's first row
        ([f"t{k}" for k in range(12)], 2, ["'t0', neither a number nor an ISO 8601 time"]),
        (["0", "1", "t2", "3"], 4, ["'t2', not a number (line 2 holds '0')"]),
        (["0", "1", "", "3"], 4, ["order column 'step' is empty"]),
        (["0", "1", "NA", "3"], 4, ["holds 'NA', a missing value"]),
        (["0", "1", "inf", "3"], 4, ["'inf', not a number"]),
        (["01/01/2024", "02/01/2024", "13/01/2024"], 2, ["'01/01/2024', neither a number"]),
        (["2024-01-01", "2024-01-02", "02/01/2024"], 4, ["'02/01/2024', not an ISO 8601 time"]),
    ],
)
def test_csv_order_column_holds_numbers_or_times(cli, tmp_path, steps, line, needles):
    config = seq_config(tmp_path, {"path": str(_long_csv(tmp_path, steps))})
    text = one_line_error(cli("data", "describe", config), f"long.csv:{line}", *needles)
    assert "data.order_column: null" in text


def test_csv_order_column_sorts_numbers_and_times_by_value(tmp_path):
    from seqrun.data.sequence_csv import read_long_csv

    path = _long_csv(tmp_path, ["9", "1e1", "-1"], values=[1, 2, 3])
    s = read_long_csv(path, "id", "step", None, "label")
    assert s.series[0][:, 0].tolist() == [3, 1, 2]  # -1, 9, 1e1 (as text: -1, 1e1, 9)
    times = ["2024-01-01T01:00:00+01:00", "2024-01-01T00:30:00Z", "2024-01-01 00:45:00"]
    s = read_long_csv(_long_csv(tmp_path, times, "t.csv", [1, 2, 3]), "id", "step", None, "label")
    assert s.series[0][:, 0].tolist() == [1, 2, 3]  # 00:00Z, 00:30Z, 00:45 (UTC)


def test_csv_repeated_step_names_both_lines(cli, tmp_path):
    path = _long_csv(tmp_path, ["0", "1", "2", "2.0", "4"])
    config = seq_config(tmp_path, {"path": str(path)})
    needles = ("long.csv:5", "sequence 's0' has step '2.0' twice", "(lines 4 and 5)")
    one_line_error(cli("data", "describe", config), *needles)
    times = ["2024-01-01T00:00:00Z", "2024-01-01T01:00:00+01:00"]
    config = seq_config(tmp_path, {"path": str(_long_csv(tmp_path, times, "t.csv"))})
    one_line_error(cli("data", "describe", config), "t.csv:3", "(lines 2 and 3)")


# ----------------------------------------------------------------------------- non-finite values


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("inf", "value 'inf' in column 'x' is infinite"),
        ("-Infinity", "value '-Infinity' in column 'x' is infinite"),
        ("1e39", "value '1e39' in column 'x' is beyond float32's range"),
    ],
)
def test_csv_infinite_or_too_large_value(cli, tmp_path, value, needle):
    path = _long_csv(tmp_path, ["0", "1", "2"], values=[1, value, "NaN"])
    config = seq_config(tmp_path, {"path": str(path)})
    one_line_error(cli("data", "describe", config), "long.csv:3", needle)
    data = {"adapter": "sequence_regression", "path": str(path), "label_column": "label"}
    reg = seq_config(tmp_path, data, metrics="sequence_regression")
    path.write_text(path.read_text().replace(",u\n", ",1.5\n").replace(",v\n", ",2\n"))
    one_line_error(cli("data", "describe", reg), "long.csv:3", needle)


def test_csv_prediction_inputs_leave_out_a_column_with_infinity(tmp_path):
    from seqrun.data.sequence_csv import read_long_csv

    path = tmp_path / "new.csv"
    path.write_text("id,step,x,extra\na,0,1,2\na,1,2,inf\n", encoding="utf-8")
    s = read_long_csv(path, "id", "step", None, None, inputs=True)
    assert s.channels == ["x"] and s.series[0][:, 0].tolist() == [1, 2]
    where, why = s.text_columns["extra"]
    assert where.endswith("new.csv:3") and "is infinite" in why


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("inf", "value 'inf' (value 2 of dimension 2) is infinite"),
        ("-1e39", "value '-1e39' (value 2 of dimension 2) is beyond float32's range"),
    ],
)
def test_ts_infinite_or_too_large_value(cli, tmp_path, value, needle):
    path = write_ts(tmp_path, [*TS_ROWS[:2], f"0.5,1.5:2,{value}:a", *TS_ROWS[3:] * 10])
    config = seq_config(tmp_path, {"path": str(path)})
    one_line_error(cli("data", "describe", config), "X_TRAIN.ts:12", needle)


def test_npz_value_beyond_float32_is_one_line(cli, tmp_path):
    x = np.random.default_rng(0).normal(size=(6, 30, 2))
    x[3, 5, 1] = 1e39  # finite as float64
    config = seq_config(tmp_path, {"path": str(_npz(tmp_path, x=x))})
    one_line_error(cli("data", "describe", config), "series 3 of 'x'", "channel x1", "float32")
