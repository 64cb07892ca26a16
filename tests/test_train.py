"""End to end: train, evaluate, run directory, determinism, exit codes (tiny real models)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, TINY_LADYBUG, last_json, write_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny run shared by the read-only tests of this module."""
    from typer.testing import CliRunner

    from seqrun.cli import app

    folder = tmp_path_factory.mktemp("trained")
    cfg = write_config(folder, TINY_LADYBUG)
    runs = folder / "runs"
    r = CliRunner().invoke(
        app, ["train", str(cfg), "--runs-dir", str(runs), "--json"], catch_exceptions=False
    )
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout), runs, cfg


def test_run_directory_contents(trained):
    result, runs, _ = trained
    run = Path(result["run_dir"])
    assert run.parent == runs / "tiny-ladybug"
    for rel in (
        "config.yaml",
        "meta.json",
        "history.csv",
        "metrics/dev.json",
        "checkpoints/best.keras",
        "checkpoints/last.keras",
        "preprocessing/encoder.json",
        "plots/learning_curves.png",
        "plots/dev.png",
        "model.txt",
    ):
        assert (run / rel).is_file(), rel
    meta = json.loads((run / "meta.json").read_text())
    assert meta["status"] == "completed"
    for key in ("seqrun_version", "python_version", "tensorflow_version", "keras_version"):
        assert meta[key]
    assert meta["seed"] == 3 and meta["data"]["fingerprint"]
    assert meta["data"]["sizes"] == {"train": 692, "dev": 92}
    assert yaml.safe_load((run / "config.yaml").read_text())["model"]["units"] == 8
    history = (run / "history.csv").read_text().splitlines()
    assert history[0].startswith("epoch,loss,mae,dev_loss,dev_mae") and len(history) == 3
    assert "gru_1" in (run / "model.txt").read_text()
    assert not (run / "metrics" / "test.json").exists()  # train never scores test


def test_json_result_and_regression_metrics(trained):
    result, _, _ = trained
    assert result["status"] == "completed" and result["epochs_completed"] == 2
    m = result["metrics"]
    for key in ("mae", "rmse", "persistence_mae", "skill", "mae_norm"):
        assert isinstance(m[key], float)
    assert m["skill"] == pytest.approx(1 - m["mae"] / m["persistence_mae"])
    assert len(m["recursive_mae_per_step"]) == 3


def test_evaluate_dev_reproduces_train_dev_metrics(trained, cli):
    result, _, _ = trained
    r = cli("evaluate", result["run_dir"], "--split", "dev", "--json")
    assert r.exit_code == 0, r.output
    again = json.loads(r.stdout)["metrics"]
    for key in ("mae", "rmse", "persistence_mae", "skill"):
        assert again[key] == pytest.approx(result["metrics"][key], rel=1e-6)


def test_evaluate_test_writes_metrics_and_lists(trained, cli):
    result, runs, _ = trained
    r = cli("evaluate", result["run_dir"])
    assert r.exit_code == 0
    assert r.stdout.strip().splitlines()[-1].endswith("metrics/test.json")
    test = json.loads((Path(result["run_dir"]) / "metrics" / "test.json").read_text())
    assert test["split"] == "test" and test["n"] == 192
    r = cli("runs", "list", "--runs-dir", runs, "--json")
    rows = json.loads(r.stdout)
    assert rows[0]["status"] == "completed" and "mae" in rows[0]["test"]
    r = cli("runs", "show", result["run_dir"])
    assert "Output Shape" in r.stdout and "metrics/test.json" in r.stdout


def test_same_seed_same_dev_metrics_and_last_line_is_run_dir(trained, cli, tmp_path):
    result, _, cfg = trained
    r = cli("train", cfg, "--runs-dir", tmp_path / "again", "--quiet")
    assert r.exit_code == 0, r.output
    run_dir = r.stdout.strip().splitlines()[-1]
    dev = json.loads((Path(run_dir) / "metrics" / "dev.json").read_text())
    assert dev["mae"] == result["metrics"]["mae"]
    assert run_dir != result["run_dir"]


@pytest.mark.parametrize(
    "model",
    [
        {"arch": "lstm", "units": 4, "layers": 2, "bidirectional": True, "dropout": 0.1},
        {"arch": "simple_rnn", "units": 4, "return_sequences": True},
        {"arch": "dense", "units": 8, "layers": 1},
    ],
)
def test_architectures_train(cli, tmp_path, model):
    raw = dict(TINY_LADYBUG, model=model, train=dict(TINY_LADYBUG["train"], epochs=1))
    r = cli("train", write_config(tmp_path, raw), "--runs-dir", tmp_path / "runs", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["metrics"]["mae"] > 0
    assert len(out["metrics"]["recursive_mae_per_step"]) == 3


def test_early_stopping_and_best_epoch(cli, tmp_path):
    raw = dict(
        TINY_LADYBUG,
        train=dict(
            TINY_LADYBUG["train"], epochs=30, learning_rate=5.0, early_stopping={"patience": 1}
        ),
    )
    r = cli("train", write_config(tmp_path, raw), "--runs-dir", tmp_path / "runs", "--json")
    out = json.loads(r.stdout)
    assert out["stopped_early"] and out["epochs_completed"] < 30
    assert out["best_epoch"] <= out["epochs_completed"] - 1


def test_bad_monitor_fails_cleanly(cli, tmp_path):
    raw = dict(TINY_LADYBUG, train=dict(TINY_LADYBUG["train"], monitor="accuracy"))
    runs = tmp_path / "runs"
    r = cli("train", write_config(tmp_path, raw), "--runs-dir", runs)
    assert r.exit_code == 2 and "train.monitor" in r.stderr
    assert not runs.exists()  # refused before any run directory (issue 10 section 3)


def test_unwritable_runs_dir_exit_1(cli, tmp_path, tiny_config):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    r = cli("train", tiny_config, "--runs-dir", blocker / "runs")
    assert r.exit_code == 1 and "error:" in r.stderr and "Traceback" not in r.output


def test_ctrl_c_marks_interrupted_and_exits_130(tmp_path):
    raw = dict(
        TINY_LADYBUG,
        data=dict(TINY_LADYBUG["data"], scale=0.3),
        train=dict(TINY_LADYBUG["train"], epochs=200),
    )
    cfg = write_config(tmp_path, raw)
    runs = tmp_path / "runs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "seqrun", "train", str(cfg), "--runs-dir", str(runs)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    for line in proc.stderr:
        if line.startswith("epoch 2/") or time.time() > deadline:
            break
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130
    run = Path(out.strip().splitlines()[-1])
    meta = json.loads((run / "meta.json").read_text())
    assert meta["status"] == "interrupted" and meta["epochs_completed"] >= 2
    assert (run / "checkpoints" / "last.keras").is_file()
    state = json.loads((run / "checkpoints" / "state.json").read_text())
    assert state["epoch"] == meta["epochs_completed"]


def test_runs_dir_from_environment(tmp_path, tiny_config):
    env = {**os.environ, "SEQRUN_RUNS_DIR": str(tmp_path / "envruns")}
    p = subprocess.run(
        [sys.executable, "-m", "seqrun", "train", str(tiny_config), "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    assert last_json(p.stdout)["run_dir"].startswith(str(tmp_path / "envruns"))
