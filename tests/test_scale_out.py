"""Beyond one machine: tf.distribute, TensorBoard, MLflow, the Ray executor, `seqrun env`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from seqrun.core.errors import UserError
from seqrun.engine.tracking import require
from tests.conftest import ROOT, TINY_LADYBUG, write_config


def _train(cfg, runs, *extra, env=None):
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "seqrun",
            "train",
            str(cfg),
            "--runs-dir",
            str(runs),
            "--json",
            *extra,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_mirrored_on_two_logical_cpus_matches_single_device(tmp_path):
    cfg = write_config(tmp_path, TINY_LADYBUG)
    env = {"SEQRUN_CPU_DEVICES": "2"}
    single = _train(cfg, tmp_path / "a", env=env)
    mirrored = _train(cfg, tmp_path / "b", "--set", "train.strategy=mirrored", env=env)
    for key in ("mae", "rmse"):
        assert mirrored["metrics"][key] == pytest.approx(single["metrics"][key], rel=1e-4)
    with open(os.path.join(mirrored["run_dir"], "config.yaml")) as f:
        saved = yaml.safe_load(f)
    assert saved["train"]["strategy"] == "mirrored"


def test_tensorboard_scalars_per_epoch(cli, tmp_path):
    import tensorflow as tf

    cfg = write_config(tmp_path, TINY_LADYBUG)
    r = cli(
        "train", cfg, "--runs-dir", tmp_path / "runs", "--json", "--set", "train.tensorboard=true"
    )
    run = json.loads(r.stdout)["run_dir"]
    tags: dict[str, int] = {}
    for sub in ("train", "validation"):
        folder = os.path.join(run, "tensorboard", sub)
        for name in os.listdir(folder):
            for event in tf.compat.v1.train.summary_iterator(os.path.join(folder, name)):
                for value in event.summary.value:
                    tags[f"{sub}/{value.tag}"] = tags.get(f"{sub}/{value.tag}", 0) + 1
    assert tags["train/epoch_loss"] == 2 and tags["validation/epoch_loss"] == 2
    assert tags["validation/epoch_mae"] == 2


def test_mlflow_logs_params_metrics_and_artifacts(cli, tmp_path):
    mlflow = pytest.importorskip("mlflow")
    store = (tmp_path / "mlruns").as_uri()
    raw = dict(TINY_LADYBUG, tracking={"mlflow": {"uri": store, "experiment": "exp-a"}})
    cfg = write_config(tmp_path, raw)
    r = cli("train", cfg, "--runs-dir", tmp_path / "runs", "--json")
    assert r.exit_code == 0, r.output
    run_dir = json.loads(r.stdout)["run_dir"]
    assert cli("evaluate", run_dir, "--json").exit_code == 0
    with open(os.path.join(run_dir, "meta.json")) as f:
        meta = json.load(f)
    client = mlflow.tracking.MlflowClient(tracking_uri=store)
    run = client.get_run(meta["mlflow_run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.params["model.units"] == "8" and run.data.params["data.adapter"] == "ladybug"
    history = client.get_metric_history(run.info.run_id, "dev_loss")
    assert [m.step for m in history] == [1, 2]
    assert "final_dev_mae" in run.data.metrics and "test_mae" in run.data.metrics
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "run")}
    assert "run/config.yaml" in artifacts and "run/checkpoints" in artifacts
    assert client.get_experiment(run.info.experiment_id).name == "exp-a"


def test_missing_extra_is_a_user_error_naming_it():
    with pytest.raises(UserError, match=r'pip install -e "\.\[ray\]"'):
        require("no_such_module_for_seqrun", "ray", "--executor ray")


def test_missing_extra_names_its_option_once():
    with pytest.raises(UserError) as e:
        require("no_such_module_for_seqrun", "ray", "--executor ray")
    assert str(e.value).count("--executor ray") == 1, str(e.value)


@pytest.mark.parametrize("command", ["sweep", "tune"])
def test_ray_missing_is_one_clean_line(cli, tmp_path, command):
    import importlib.util

    if importlib.util.find_spec("ray") is not None:
        pytest.skip("ray is installed")
    spec = (
        "configs/sweeps/ladybug-units.yaml"
        if command == "sweep"
        else "configs/studies/ladybug.yaml"
    )
    r = cli(command, ROOT / spec, "--runs-dir", tmp_path / "runs", "--executor", "ray")
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].count("--executor ray") == 1, r.output
    assert "needs the optional 'ray' extra" in lines[0]


def test_ray_executor_runs_and_skips(cli, tmp_path):
    pytest.importorskip("ray")
    raw = dict(TINY_LADYBUG, train=dict(TINY_LADYBUG["train"], epochs=1))
    write_config(tmp_path, raw, "base.yaml")
    sw = tmp_path / "sw.yaml"
    sw.write_text(
        yaml.safe_dump(
            {"base": "base.yaml", "grid": {"model.units": [3, 5]}, "resources": {"cpus": 1}}
        )
    )
    runs = tmp_path / "runs"
    r = cli("sweep", sw, "--runs-dir", runs, "--executor", "ray", "--workers", "2", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [t["status"] for t in out["trials"]] == ["completed", "completed"]
    units = []
    for t in out["trials"]:
        with open(os.path.join(t["run_dir"], "config.yaml")) as f:
            units.append(yaml.safe_load(f)["model"]["units"])
    assert sorted(units) == [3, 5]
    r = cli("sweep", sw, "--runs-dir", runs, "--executor", "ray", "--json")
    assert [t["status"] for t in json.loads(r.stdout)["trials"]] == ["skipped", "skipped"]


def test_env_reports_versions_and_devices(cli):
    r = cli("env", "--json")
    info = json.loads(r.stdout)
    assert info["packages"]["tensorflow"] and info["devices"]["logical_cpus"]
    assert set(info["strategies"]) == {"default", "mirrored", "multi_worker"}
