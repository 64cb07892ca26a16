"""One run over several real worker processes (`train --nproc`, MultiWorkerMirroredStrategy on
CPU over loopback): same numbers as one process, one run directory, a dead worker stops all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seqrun.core.errors import UserError
from seqrun.engine.launch import cluster_from_env, local_tf_configs
from tests.conftest import ROOT, TINY_LADYBUG, write_config

# 3,460 training windows: 55 steps of a global batch of 64 (32 per worker) per epoch, enough
# time to kill a worker in the middle of the second epoch
CONFIG = dict(TINY_LADYBUG, data=dict(TINY_LADYBUG["data"], scale=0.1))


def _seqrun(*args, env=None, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "seqrun", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def start_two_workers(cfg: Path, runs: Path, *extra: str) -> tuple[subprocess.Popen, Path]:
    """`seqrun train CFG --nproc 2` started in the background, once its first epoch is
    checkpointed: (the launcher, that run's checkpoints/state.json)."""
    launcher = subprocess.Popen(
        [sys.executable, "-m", "seqrun", "train", str(cfg), "--runs-dir", str(runs)]
        + ["--nproc", "2", *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 240
    while time.time() < deadline and launcher.poll() is None:
        found = list(runs.glob("*/*/checkpoints/state.json"))
        if found:
            return launcher, found[0]
        time.sleep(0.05)
    launcher.kill()
    raise AssertionError(f"the first epoch never ended: {launcher.communicate()}")


def _runs(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.glob("*/*/meta.json"))


@pytest.fixture(scope="module")
def single(tmp_path_factory) -> dict:
    """The reference: the same experiment in one process (default strategy)."""
    folder = tmp_path_factory.mktemp("single")
    cfg = write_config(folder, CONFIG)
    p = _seqrun("train", cfg, "--runs-dir", folder / "runs", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    out["history"] = (Path(out["run_dir"]) / "history.csv").read_text().splitlines()
    return out


def _dev_loss(history: list[str]) -> list[float]:
    head = history[0].split(",")
    col = head.index("dev_loss")
    return [float(line.split(",")[col]) for line in history[1:]]


def test_two_workers_match_one_process_in_one_run_directory(single, tmp_path, cli):
    cfg = write_config(tmp_path, CONFIG)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    runs = tmp_path / "runs"
    p = _seqrun("train", cfg, "--runs-dir", runs, "--nproc", "2", "--json", env={"TMPDIR": scratch})
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    for key in ("mae", "rmse"):
        assert out["metrics"][key] == pytest.approx(single["metrics"][key], rel=1e-4)
    run = Path(out["run_dir"])
    history = (run / "history.csv").read_text().splitlines()
    assert _dev_loss(history) == pytest.approx(_dev_loss(single["history"]), rel=1e-4)
    assert _runs(runs) == [run]  # the chief alone wrote a run directory
    assert list(scratch.iterdir()) == []  # the launcher's and the worker's scratch are gone
    assert not list(run.rglob("*.tmp*"))
    meta = json.loads((run / "meta.json").read_text())
    cluster = meta["cluster"]
    assert cluster["workers"] == 2 and cluster["replicas"] == 2
    assert cluster["global_batch"] == 64 and cluster["per_replica_batch"] == 32
    assert all(a.startswith("127.0.0.1:") for a in cluster["addresses"])
    assert "--nproc" in cluster["launched_by"]
    assert meta["status"] == "completed"

    r = cli("evaluate", run, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["metrics"]["split"] == "test"
    assert (run / "metrics" / "test.json").is_file()


def _worker_pid(launcher: int, index: int) -> int | None:
    """The pid of local worker ``index`` started by the launcher process (Linux /proc)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid != launcher:
                continue
            env = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        for var in env:
            if var.startswith(b"TF_CONFIG=") and json.loads(var[10:])["task"]["index"] == index:
                return int(entry.name)
    return None


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds workers via /proc")
def test_killed_worker_stops_the_others_and_resume_continues(single, tmp_path):
    cfg = write_config(tmp_path, CONFIG)
    runs = tmp_path / "runs"
    launcher, state = start_two_workers(cfg, runs)
    try:
        victim = _worker_pid(launcher.pid, 1)
        assert victim is not None
        chief = _worker_pid(launcher.pid, 0)
        os.kill(victim, signal.SIGKILL)
        killed_at = time.time()
        _, err = launcher.communicate(timeout=60)
        stopped_in = time.time() - killed_at
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert launcher.returncode == 1
    assert stopped_in < 30  # the launcher's own guarantee is well under a second
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    assert "worker 1" in errors[0] and "SIGKILL" in errors[0]
    run = state.parent.parent
    assert f"seqrun train --resume {run} --nproc 2" in errors[0]
    with pytest.raises(ProcessLookupError):
        os.kill(chief, 0)  # the chief was stopped (and reaped), not left waiting on its peer
    meta = json.loads((run / "meta.json").read_text())
    assert meta["status"] == "failed" and "worker 1" in meta["error"]
    assert meta["epochs_completed"] == 1

    p = _seqrun("train", "--resume", run, "--nproc", "2", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["run_dir"] == str(run) and out["epochs_completed"] == 2
    for key in ("mae", "rmse"):  # the uninterrupted result
        assert out["metrics"][key] == pytest.approx(single["metrics"][key], rel=1e-4)
    meta = json.loads((run / "meta.json").read_text())
    assert meta["status"] == "completed" and meta["resumes"][0]["from_epoch"] == 1
    assert _runs(runs) == [run]


def test_tf_config_is_read_and_checked(monkeypatch):
    two = local_tf_configs(2)
    assert two[0]["cluster"] == two[1]["cluster"] and len(set(two[0]["cluster"]["worker"])) == 2
    c = cluster_from_env({"TF_CONFIG": json.dumps(two[1])})
    assert (c.size, c.index, c.is_chief, c.task) == (2, 1, False, "worker:1")
    assert cluster_from_env({"TF_CONFIG": json.dumps(two[0])}).is_chief
    with_chief = {"cluster": {"chief": ["a:1"], "worker": ["b:1"]}, "task": {"type": "worker"}}
    c = cluster_from_env({"TF_CONFIG": json.dumps(with_chief)})
    assert c.size == 2 and not c.is_chief and c.addresses == ["a:1", "b:1"]
    assert cluster_from_env({}) is None
    with pytest.raises(UserError, match="TF_CONFIG is not valid JSON"):
        cluster_from_env({"TF_CONFIG": "{worker"})
    bad_task = {"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}
    with pytest.raises(UserError, match="worker:3 is not in the cluster"):
        cluster_from_env({"TF_CONFIG": json.dumps(bad_task)})


def test_bad_multi_worker_input_is_one_line_and_no_run(tmp_path):
    cfg = write_config(tmp_path, CONFIG)
    runs = tmp_path / "runs"
    p = _seqrun("train", cfg, "--runs-dir", runs, "--nproc", "2", "--folds", "3")
    assert p.returncode == 2 and p.stderr.startswith("error: --folds does not run")
    p = _seqrun(
        "train",
        cfg,
        "--runs-dir",
        runs,
        "--set",
        "train.strategy=multi_worker",
        env={"TF_CONFIG": "{not json"},
    )
    assert p.returncode == 2, p.stderr
    assert p.stderr.count("\n") == 1 and "TF_CONFIG is not valid JSON" in p.stderr
    assert not runs.exists()
