"""K-fold cross-validation: stratified and forward-chaining folds, the parent run (folds.json,
metrics/cv.json, out-of-fold predictions), runs list/evaluate/compare on it, resume."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, TINY_LADYBUG, write_config
from tests.text_fixtures import write_mr_slice

HOOK = Path(__file__).with_name("kill_hook.py")


@pytest.fixture(scope="module")
def mr_path(tmp_path_factory):
    return write_mr_slice(tmp_path_factory.mktemp("mr") / "mr.tsv", per_half=150)


def mr_cfg(path, **split) -> dict:
    return {
        "name": "mr-cv",
        "seed": 2,
        "data": {
            "adapter": "text_table",
            "path": str(path),
            "label_column": "score",
            "id_column": "id",
            "split": {"method": "random", "train": 0.8, "dev": 0.1, "test": 0.1, **split},
        },
        "encoder": {"type": "multi_hot", "vocab_size": 300},
        "model": {"arch": "dense", "units": 4},
        "train": {"epochs": 1, "batch_size": 32, "learning_rate": 0.01},
    }


def test_stratified_folds_partition_the_rows_and_keep_the_test_split(mr_path):
    from seqrun.core.config import config_from_dict
    from seqrun.engine.describe import load
    from seqrun.engine.experiment import fold_config

    plain = load(config_from_dict(mr_cfg(mr_path)), ("train", "dev", "test"))
    cfg = config_from_dict(mr_cfg(mr_path, kfold=5))
    devs, labels = [], {}
    for k in range(5):
        data = load(fold_config(cfg, k), ("train", "dev", "test"))
        train, dev, test = (data.splits[n] for n in ("train", "dev", "test"))
        assert test.row_ids == plain.splits["test"].row_ids  # the same held-out test rows
        assert not set(train.row_ids) & set(dev.row_ids)
        assert set(train.row_ids) | set(dev.row_ids) == set(plain.splits["train"].row_ids) | set(
            plain.splits["dev"].row_ids
        )
        devs.append(set(dev.row_ids))
        labels[k] = np.bincount(dev.labels, minlength=2)
    assert set().union(*devs) == set(plain.splits["train"].row_ids) | set(
        plain.splits["dev"].row_ids
    )
    assert sum(len(d) for d in devs) == len(set().union(*devs))  # each row held out once
    for c in (0, 1):  # stratified: each class shared out evenly
        per_fold = [labels[k][c] for k in range(5)]
        assert max(per_fold) - min(per_fold) <= 1


def test_forward_chaining_folds_never_look_back():
    from seqrun.core.config import config_from_dict
    from seqrun.engine.describe import load
    from seqrun.engine.experiment import fold_config

    raw = json.loads(json.dumps(TINY_LADYBUG))
    raw["data"]["split"] = {"kfold": 3, "train": 0.7, "dev": 0.1, "test": 0.2}
    cfg = config_from_dict(raw)
    plain = load(config_from_dict(TINY_LADYBUG), ("train", "dev", "test"))
    previous_dev = None
    for k in range(3):
        data = load(fold_config(cfg, k), ("train", "dev", "test"))
        b = data.bounds
        assert b["train"]["rows"][0] == 0 and b["train"]["rows"][1] == b["dev"]["rows"][0]
        assert b["dev"]["rows"][1] <= b["test"]["rows"][0]
        assert b["test"] == plain.bounds["test"]
        if previous_dev is not None:  # fold k trains on what fold k-1 held out
            assert b["train"]["rows"][1] == previous_dev[1]
        previous_dev = b["dev"]["rows"]
        # no shuffle: the dev split is the series' rows in time order
        lo, hi = b["dev"]["rows"]
        assert np.array_equal(data.splits["dev"].values, plain_values()[lo:hi])
    assert previous_dev[1] == plain.bounds["test"]["rows"][0]  # the folds reach the test split


def plain_values():
    from seqrun.data.ladybug import ladybug_trajectory

    d = TINY_LADYBUG["data"]
    full = ladybug_trajectory(16)
    return full[: int(len(full) * d["scale"])].astype(np.float32)


def test_config_errors(cli, tmp_path, mr_path):
    raw = mr_cfg(mr_path, fold=1)
    r = cli("config", "validate", write_config(tmp_path, raw))
    assert r.exit_code == 2 and "split.fold needs split.kfold" in r.stderr
    r = cli("config", "validate", write_config(tmp_path, mr_cfg(mr_path, kfold=3, fold=3)))
    assert r.exit_code == 2 and "below split.kfold" in r.stderr
    imdb = {
        "name": "imdb",
        "data": {"adapter": "imdb", "path": str(tmp_path)},
        "encoder": "multi_hot",
        "model": {"arch": "dense"},
    }
    r = cli("train", write_config(tmp_path, imdb, "imdb.yaml"), "--folds", "3")
    assert r.exit_code == 2 and "--folds: adapter 'imdb' has no k-fold split" in r.stderr


@pytest.fixture(scope="module")
def cv_run(tmp_path_factory, mr_path):
    """A 3-fold CV of a tiny text model, through --folds."""
    from typer.testing import CliRunner

    from seqrun.cli import app

    folder = tmp_path_factory.mktemp("cv")
    cfg = write_config(folder, mr_cfg(mr_path))
    runs = folder / "runs"
    r = CliRunner().invoke(
        app,
        ["train", str(cfg), "--folds", "3", "--runs-dir", str(runs), "--json"],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout), runs


def test_parent_run_layout_and_mean_std(cv_run):
    result, runs = cv_run
    parent = Path(result["run_dir"])
    assert parent.parent == runs / "mr-cv" and result["folds"] == 3
    meta = json.loads((parent / "meta.json").read_text())
    assert meta["kind"] == "cv" and meta["status"] == "completed" and meta["folds"] == 3
    assert meta["overrides"] == ["data.split.kfold=3"] and meta["scheme"] == "stratified"
    assert "leakage" in meta and meta["children"] == ["fold-0", "fold-1", "fold-2"]
    folds = json.loads((parent / "folds.json").read_text())["runs"]
    accs = []
    for k, f in enumerate(folds):
        child = parent / f"fold-{k}"
        assert f["run_dir"] == f"fold-{k}" and (child / "checkpoints" / "best.keras").is_file()
        child_cfg = (child / "config.yaml").read_text()
        assert f"fold: {k}" in child_cfg and "kfold: 3" in child_cfg
        dev = json.loads((child / "metrics" / "dev.json").read_text())
        assert dev["n"] == f["sizes"]["dev"]
        accs.append(dev["accuracy"])
        assert json.loads((child / "meta.json").read_text())["cv_parent"] == str(parent)
    cv = json.loads((parent / "metrics" / "cv.json").read_text())["metrics"]
    assert cv["accuracy"]["values"] == accs
    assert cv["accuracy"]["mean"] == pytest.approx(statistics.fmean(accs))
    assert cv["accuracy"]["std"] == pytest.approx(statistics.stdev(accs))
    assert result["metrics"]["accuracy"] == pytest.approx(statistics.fmean(accs))
    assert result["std"]["accuracy"] == pytest.approx(statistics.stdev(accs))
    dev = json.loads((parent / "metrics" / "dev.json").read_text())
    assert dev["accuracy"] == pytest.approx(statistics.fmean(accs))
    assert dev["n"] == sum(f["sizes"]["dev"] for f in folds)
    with np.load(parent / "predictions" / "dev.npz") as z:  # out-of-fold, every pooled row
        assert len(z["y_true"]) == dev["n"] and np.array_equal(np.unique(z["fold"]), [0, 1, 2])


def test_runs_list_evaluate_and_compare_take_the_parent(cv_run, cli):
    result, runs = cv_run
    parent = Path(result["run_dir"])
    rows = json.loads(cli("runs", "list", "--runs-dir", runs, "--json").stdout)
    assert len(rows) == 1 and rows[0]["folds"] == 3  # the folds are not listed one by one
    assert rows[0]["dev"]["accuracy"] == pytest.approx(result["metrics"]["accuracy"])
    assert "(mean of 3 folds)" in cli("runs", "list", "--runs-dir", runs).stdout
    r = cli("predict", parent, "a great film")
    assert r.exit_code == 2 and "predict with a fold's run" in r.stderr
    r = cli("evaluate", parent, "--json")
    assert r.exit_code == 0, r.output
    test = json.loads(r.stdout)["metrics"]
    child_tests = [
        json.loads((parent / f"fold-{k}" / "metrics" / "test.json").read_text()) for k in range(3)
    ]
    assert test["accuracy"] == pytest.approx(statistics.fmean(t["accuracy"] for t in child_tests))
    assert test["std"]["accuracy"] == pytest.approx(
        statistics.stdev(t["accuracy"] for t in child_tests)
    )
    assert {t["n"] for t in child_tests} == {30}  # every fold's model on the same test rows
    assert (parent / "metrics" / "cv-test.json").is_file()
    r = cli("runs", "compare", parent, parent, "--test", "--split", "dev", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    pooled = json.loads((parent / "metrics" / "dev.json").read_text())["n"]
    assert out["test"] == "mcnemar" and out["n"] == pooled == 299 - 30 and out["p_value"] == 1.0


def test_resume_finishes_the_missing_folds_with_the_same_results(cv_run, cli, tmp_path):
    result, runs = cv_run
    parent = Path(result["run_dir"])
    copy = tmp_path / "runs" / "mr-cv" / parent.name
    shutil.copytree(parent, copy)
    shutil.rmtree(copy / "fold-2")  # the CV stopped during its last fold
    meta = json.loads((copy / "meta.json").read_text())
    meta["status"] = "interrupted"
    (copy / "meta.json").write_text(json.dumps(meta))
    r = cli("report", copy)  # of the unfinished CV: it must not outlive the resume
    assert r.exit_code == 0 and (copy / "report.html").is_file(), r.output
    r = cli("train", "--resume", copy, "--json")
    assert r.exit_code == 0, r.output
    assert not (copy / "report.html").exists()
    again = json.loads(r.stdout)
    assert again["run_dir"] == str(copy)
    assert again["cv"]["accuracy"]["values"] == result["cv"]["accuracy"]["values"]
    meta = json.loads((copy / "meta.json").read_text())
    assert meta["status"] == "completed" and len(meta["resumes"]) == 1
    r = cli("train", "--resume", copy)
    assert r.exit_code == 2 and "cross-validation is completed" in r.stderr


def test_the_parent_and_its_folds_keep_the_warnings_printed_and_a_resume_adds_on(
    cli, tmp_path, mr_path
):
    """Each fold's meta.json has the warnings its training printed; the parent's has them
    all (`runs show PARENT` prints them); a resume of the parent keeps its earlier ones."""
    path = tmp_path / "mr.tsv"
    path.write_text(mr_path.read_text(encoding="utf-8") + "999\t\ta review without a score\n")
    line = len(path.read_text().splitlines())
    dropped = f"{path}: dropped 1 row(s) with no label (lines {line})"
    cfg = write_config(tmp_path, mr_cfg(path))
    r = cli("train", cfg, "--folds", "2", "--runs-dir", tmp_path / "runs", "--json", "--quiet")
    assert r.exit_code == 0, r.output
    parent = Path(json.loads(r.stdout)["run_dir"])
    for folder in (parent, parent / "fold-0", parent / "fold-1"):
        assert json.loads((folder / "meta.json").read_text())["warnings"] == [dropped]
    shown = cli("runs", "show", parent).stdout.splitlines()
    assert shown[shown.index("warnings") + 1] == f"  - {dropped}"
    # stopped during its last fold, after an earlier attempt's warning
    shutil.rmtree(parent / "fold-1")
    meta = json.loads((parent / "meta.json").read_text())
    meta.update(status="interrupted", warnings=["of an earlier attempt"])
    (parent / "meta.json").write_text(json.dumps(meta))
    r = cli("train", "--resume", parent, "--json", "--quiet")
    assert r.exit_code == 0, r.output
    meta = json.loads((parent / "meta.json").read_text())
    assert meta["status"] == "completed"
    assert meta["warnings"] == ["of an earlier attempt", dropped]


def test_fold_means_sum_every_item_count():
    # dev folds are disjoint: counts add up (a wind direction's scored items, rain events,
    # daily-persistence windows, as n), never a mean such as 51.5 events; one shared test
    # split keeps its own counts
    from seqrun.engine.experiment import mean_metrics

    def fold(n, scored, events, mae):
        rain = {"observed_events": events, "forecast_events": events + 1, "hit_rate": 0.5}
        return {
            "n": n,
            "horizon_steps": 1,
            "mae": mae,
            "per_target": {
                "dd": {"n_scored": scored, "mae": mae},
                "rr1": {"daily_n": n, "rain": {"model": rain}},
            },
        }

    dev = mean_metrics([fold(743, 737, 55, 1.0), fold(727, 687, 48, 2.0)])
    assert dev["n"] == 1470 and dev["horizon_steps"] == 1 and dev["mae"] == 1.5
    assert dev["per_target"]["dd"] == {"n_scored": 1424, "mae": 1.5}
    rr1 = dev["per_target"]["rr1"]
    assert rr1["daily_n"] == 1470 and rr1["rain"]["model"]["observed_events"] == 103
    assert rr1["rain"]["model"]["forecast_events"] == 105
    test = mean_metrics([fold(387, 385, 76, 1.0), fold(387, 385, 76, 3.0)], shared=True)
    assert test["n"] == 387 and test["per_target"]["dd"]["n_scored"] == 385
    assert test["per_target"]["rr1"]["rain"]["model"]["observed_events"] == 76


def test_time_series_cv_from_the_config(cli, tmp_path):
    raw = json.loads(json.dumps(TINY_LADYBUG))
    raw["data"]["split"] = {"kfold": 2, "test": 0.2}
    raw["train"]["epochs"] = 1
    r = cli("train", write_config(tmp_path, raw), "--runs-dir", tmp_path / "runs")
    assert r.exit_code == 0, r.output
    assert "forward-chaining folds" in r.stderr and "mae" in r.stderr
    parent = Path(r.stdout.strip().splitlines()[-1])
    sizes = [
        json.loads((parent / f"fold-{k}" / "meta.json").read_text())["data"]["sizes"]
        for k in range(2)
    ]
    assert sizes[0]["train"] < sizes[1]["train"] and sizes[0]["dev"] == sizes[1]["dev"]
    cv = json.loads((parent / "metrics" / "cv.json").read_text())
    assert cv["scheme"] == "forward-chaining" and len(cv["metrics"]["mae"]["values"]) == 2


def test_a_fold_killed_after_an_epoch_resumes_to_the_uninterrupted_fold(cli, tmp_path):
    # fold 1's dropout generators are numbered after fold 0's in the process that trains both
    # (seed_generator_2, ...), and from 0 in the one that resumes it: the saved states must
    # still be restored, or the resumed fold draws other dropout masks
    raw = json.loads(json.dumps(TINY_LADYBUG))
    raw["data"]["split"] = {"kfold": 2, "test": 0.2}
    raw["model"].update(dropout=0.2, recurrent_dropout=0.1)
    cfg = write_config(tmp_path, raw)
    r = cli("train", cfg, "--runs-dir", tmp_path / "a", "--json", "--quiet")
    assert r.exit_code == 0, r.output
    expected = json.loads(r.stdout)["cv"]["mae"]["values"]
    runs = tmp_path / "b"
    args = ["train", str(cfg), "--runs-dir", str(runs), "--resume", "auto", "--json", "--quiet"]
    env = {**os.environ, "KILL_AT": "epoch:1:2", "PYTHONPATH": str(ROOT)}  # fold 1, epoch 1
    p = subprocess.run([sys.executable, str(HOOK), *args], env=env, capture_output=True)
    assert p.returncode == -9, p.stderr.decode()[-2000:]
    (parent,) = runs.glob("*/*/fold-1/checkpoints/state.json")
    assert json.loads(parent.read_text())["epoch"] == 1
    r = cli(*args)
    assert r.exit_code == 0, r.output
    meta = json.loads((parent.parents[1] / "meta.json").read_text())
    assert meta["status"] == "completed" and meta["resumes"][0]["from_epoch"] == 1
    assert json.loads(r.stdout)["cv"]["mae"]["values"] == pytest.approx(expected, rel=1e-5)


def test_a_signal_while_the_folds_are_summarised_marks_the_parent_interrupted(cli, tmp_path):
    raw = json.loads(json.dumps(TINY_LADYBUG))
    raw["data"]["split"] = {"kfold": 2, "test": 0.2}
    raw["train"]["epochs"] = 1
    runs = tmp_path / "runs"
    args = ["train", str(write_config(tmp_path, raw)), "--runs-dir", str(runs), "--quiet"]
    env = {**os.environ, "KILL_AT": "signal:TERM:folds_summary", "PYTHONPATH": str(ROOT)}
    p = subprocess.run([sys.executable, str(HOOK), *args], env=env, capture_output=True)
    assert p.returncode == 130, p.stderr.decode()[-2000:]
    (meta_path,) = runs.glob("*/*/meta.json")
    meta = json.loads(meta_path.read_text())
    assert meta["status"] == "interrupted", "the parent was left running"
    assert meta["error"] == "interrupted while summarising the folds"
    r = cli("train", "--resume", meta_path.parent, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(meta_path.read_text())["status"] == "completed"
    assert len(json.loads(r.stdout)["cv"]["mae"]["values"]) == 2
