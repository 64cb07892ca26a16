"""Run directories: unique under concurrency, atomic writes, listing many runs, dead runs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from multiprocessing import get_context
from pathlib import Path

import pytest
import yaml

from seqrun.core.runs import Run, atomic_write_text, create_run, iter_runs, write_json
from tests.conftest import ROOT, TINY_LADYBUG, write_config


def _make(args):
    root, _ = args
    return str(create_run(Path(root), "same").path)


def test_eight_processes_same_second_get_distinct_dirs(tmp_path):
    with get_context("spawn").Pool(8) as pool:
        paths = pool.map(_make, [(str(tmp_path), i) for i in range(8)])
    assert len(set(paths)) == 8
    assert all(Path(p).is_dir() for p in paths)


def test_runs_started_in_one_second_are_listed_newest_first(tmp_path):
    """Run ids sort by start within a second too (not by a random id): runs list and the
    latest run of a config see them in the order they started."""
    made = [create_run(tmp_path, "same") for _ in range(30)]  # well within 1-2 seconds
    for run in made:
        write_json(run.meta_path, {"status": "completed"})
    made = [run.path for run in made]
    assert len(set(made)) == 30
    assert [r.path for r in iter_runs(tmp_path)] == made[::-1]


def test_atomic_write_never_leaves_partial_file(tmp_path):
    target = tmp_path / "meta.json"
    write_json(target, {"a": 1})
    with pytest.raises(TypeError):
        write_json(target, {"a": object()})  # fails while serialising
    assert json.loads(target.read_text()) == {"a": 1}
    atomic_write_text(target, "x" * 10)
    assert target.read_text() == "x" * 10
    assert [p.name for p in tmp_path.iterdir()] == ["meta.json"]  # no temp files left


def _fake_run(root: Path, name: str, i: int, status: str = "completed", pid: int | None = None):
    run = Run(root / name / f"20260101-0000{i:02d}-{i:06x}")
    meta = {"status": status, "overrides": [f"seed={i}"], "duration_s": 1.5}
    if pid is not None:
        import socket

        meta.update(pid=pid, host=socket.gethostname())
    write_json(run.meta_path, meta)
    write_json(run.metrics_path("dev"), {"mae": 0.1 + i / 1000, "skill": 0.5})
    return run


def test_runs_list_many_filters_and_formats(cli, tmp_path):
    for i in range(60):
        _fake_run(tmp_path, "a" if i % 2 else "b", i, "failed" if i % 3 == 0 else "completed")
    assert len(iter_runs(tmp_path)) == 60
    r = cli("runs", "list", "--runs-dir", tmp_path, "--json")
    rows = json.loads(r.stdout)
    assert len(rows) == 60 and rows[0]["dev"]["mae"] > 0
    r = cli("runs", "list", "--runs-dir", tmp_path, "--json", "--name", "a", "--status", "failed")
    rows = json.loads(r.stdout)
    assert rows and all(x["name"] == "a" and x["status"] == "failed" for x in rows)
    assert len(rows) == len([i for i in range(60) if i % 2 and i % 3 == 0])
    r = cli("runs", "list", "--runs-dir", tmp_path, "--csv")
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("name,id,status") and len(lines) == 61
    # an experiment's folder lists its runs (a cross-validation's folds stay in their parent);
    # a run's folder, that run
    parent = _fake_run(tmp_path, "a", 99)
    write_json(parent.path / "fold-0" / "meta.json", {"status": "completed"})
    rows = json.loads(cli("runs", "list", "--runs-dir", tmp_path / "a", "--json").stdout)
    assert len(rows) == 31 and {x["name"] for x in rows} == {"a"}
    assert parent.path.name in {x["id"] for x in rows}
    one = Path(next(x["path"] for x in rows if x["id"] != parent.path.name))
    shutil.rmtree(parent.path)
    rows = json.loads(cli("runs", "list", "--runs-dir", one, "--json").stdout)
    assert [x["id"] for x in rows] == [one.name]
    # a mistyped filter or folder is an error, not "no runs found"
    r = cli("runs", "list", "--runs-dir", tmp_path, "--status", "complted")
    assert r.exit_code == 2 and "unknown status 'complted' (did you mean 'completed'?)" in r.stderr
    r = cli("runs", "list", "--runs-dir", tmp_path / "nowhere")
    assert r.exit_code == 2 and "nowhere does not exist" in r.stderr


def _compare_run(root: Path, i: int, units: int, seed: int, mae: float | None) -> Run:
    """A finished run's files as seqrun writes them: config.yaml, meta.json, dev metrics."""
    run = Run(root / "exp" / f"20260101-0000{i:02d}-{i:06x}")
    write_json(run.meta_path, {"status": "completed", "config_key": f"k{units}-{seed}"})
    config = {"name": "exp", "seed": seed, "model": {"units": units}}
    run.config_path.write_text(yaml.safe_dump(config))
    if mae is not None:
        write_json(run.metrics_path("dev"), {"mae": mae, "skill": 0.5})
    return run


def test_runs_compare_groups_sorts_and_refuses_what_it_cannot_pair(cli, tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    a = [_compare_run(runs, i, 8, i, 0.2 + i / 100) for i in range(3)]
    b = [_compare_run(runs, 3 + i, 16, i, 0.1 + i / 100) for i in range(3)]
    lone = _compare_run(runs, 6, 32, 0, float("nan"))
    failed = _compare_run(runs, 7, 64, 0, None)
    paths = [str(r.path) for r in (*a, *b, lone, failed)]
    r = cli("runs", "compare", *paths, "--sort", "-mae", "--json")
    out = json.loads(r.stdout)  # strict JSON: NaN is null
    order = [Path(x["run"]).name for x in out["rows"]]
    assert order[:6] == [x.path.name for x in (a[2], a[1], a[0], b[2], b[1], b[0])]
    assert set(order[6:]) == {lone.path.name, failed.path.name}  # no value: last either way
    groups = {g["config"]["model.units"]: g for g in out["groups"]}
    assert groups[8]["metrics"]["mae"]["mean"] == pytest.approx(0.21)
    assert groups[8]["metrics"]["mae"]["std"] == pytest.approx(0.01)  # sample std (n - 1)
    assert "mae" not in groups[32]["metrics"] and groups[32]["metrics"]["skill"]["std"] is None
    r = cli("runs", "compare", *paths[:6], paths[0])
    assert r.exit_code == 0 and "a run given twice counts once in the mean" in r.stderr
    assert "0.21 +- 0.01" in r.stdout
    r = cli("runs", "compare", *paths[:6], "--test")
    assert r.exit_code == 2 and "have no test metrics: score them with seqrun evaluate" in r.stderr
    r = cli("runs", "compare", *paths[:6], "--test", "--split", "dev", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["seeds"] == [0, 1, 2], r.output
    again = _compare_run(runs, 8, 16, 0, 0.3)  # a second run of units 16 with seed 0
    r = cli("runs", "compare", *paths[:6], str(again.path), "--test", "--split", "dev")
    assert r.exit_code == 2 and "two runs of one configuration have seed 0" in r.stderr
    write_json(b[1].metrics_path("dev"), {"mae": float("nan"), "skill": 0.5})
    r = cli("runs", "compare", *paths[:6], "--test", "--split", "dev")
    assert r.exit_code == 2 and "the dev mae of seed(s) 1 is not a number" in r.stderr
    # a sweep.json written elsewhere (run directories relative to that working directory)
    sweep = runs / "_sweeps" / "s"
    trials = {str(i): {"run_dir": f"runs/exp/{x.path.name}"} for i, x in enumerate(a + b)}
    write_json(sweep / "sweep.json", {"trials": trials})
    monkeypatch.chdir(tmp_path.parent)
    r = cli("runs", "compare", "--sweep", sweep, "--json")
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.stdout)["rows"]) == 6


def test_dead_process_is_not_running_forever(cli, tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    _fake_run(tmp_path, "x", 1, status="running", pid=proc.pid)
    _fake_run(tmp_path, "x", 2, status="running", pid=os.getpid())
    rows = json.loads(cli("runs", "list", "--runs-dir", tmp_path, "--json").stdout)
    assert sorted(r["status"] for r in rows) == ["dead", "running"]


def _train_cmd(cfg: Path, runs: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "seqrun", "train", str(cfg), "--runs-dir", str(runs), *extra]


def test_resume_after_sigkill_equals_uninterrupted(tmp_path):
    raw = dict(
        TINY_LADYBUG,
        data=dict(TINY_LADYBUG["data"], scale=0.08),
        model={"arch": "gru", "units": 8, "dropout": 0.2, "recurrent_dropout": 0.1},
        train=dict(TINY_LADYBUG["train"], epochs=5, lr_schedule="cosine"),
    )
    cfg = write_config(tmp_path, raw)
    full = subprocess.run(
        _train_cmd(cfg, tmp_path / "a", "--json"), cwd=ROOT, capture_output=True, text=True
    )
    assert full.returncode == 0, full.stderr
    expected = json.loads(full.stdout)["metrics"]

    runs = tmp_path / "b"
    proc = subprocess.Popen(
        _train_cmd(cfg, runs), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.time() + 120
    for line in proc.stderr:
        if line.startswith("epoch 2/") or time.time() > deadline:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (run_dir,) = runs.glob("*/*")
    assert Run(run_dir).status() == "dead"
    state = json.loads((run_dir / "checkpoints" / "state.json").read_text())
    assert 2 <= state["epoch"] < 5
    # a different config is refused, showing the difference
    other = subprocess.run(
        [*_train_cmd(cfg, runs, "--resume", str(run_dir)), "--set", "model.units=9"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert other.returncode == 2 and "model.units: 8 -> 9" in other.stderr
    resumed = subprocess.run(
        [sys.executable, "-m", "seqrun", "train", "--resume", str(run_dir), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr
    got = json.loads(resumed.stdout)["metrics"]
    for key in ("mae", "rmse", "skill"):
        assert got[key] == pytest.approx(expected[key], rel=1e-5)
    meta = Run(run_dir).meta()
    assert meta["status"] == "completed" and meta["resumes"][0]["from_epoch"] == state["epoch"]
    history = (run_dir / "history.csv").read_text().strip().splitlines()
    assert len(history) == 6  # header + 5 epochs, none repeated
    again = subprocess.run(
        [sys.executable, "-m", "seqrun", "train", "--resume", str(run_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 2 and "already completed" in again.stderr


@pytest.fixture
def tiny_disk(tmp_path):
    """A 300 KiB tmpfs (needs root and mount rights; skipped elsewhere)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    p = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mnt)], capture_output=True
    )
    if p.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mnt
    subprocess.run(["umount", str(mnt)], capture_output=True)


def test_full_disk_fails_cleanly_and_marks_the_run(tiny_disk, tmp_path):
    raw = dict(TINY_LADYBUG, model={"arch": "gru", "units": 64})
    cfg = write_config(tmp_path, raw)
    p = subprocess.run(
        _train_cmd(cfg, tiny_disk / "runs"), cwd=ROOT, capture_output=True, text=True
    )
    assert p.returncode == 1, p.stderr
    assert "No space left on device" in p.stderr and "Traceback" not in p.stderr
    (meta,) = (tiny_disk / "runs").glob("*/*/meta.json")
    meta = json.loads(meta.read_text())
    assert meta["status"] == "failed" and "No space left" in meta["error"]


def _with_file_size_limit(limit: int, code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a Python whose files may not grow past ``limit`` bytes (``ulimit -f``:
    a write past it fails with EFBIG, as a full disk fails one with ENOSPC)."""
    head = (
        "import resource\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, resource.RLIM_INFINITY))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", head + code], cwd=ROOT, capture_output=True, text=True
    )


def test_a_write_the_disk_refuses_names_the_file_and_leaves_no_temporary(tmp_path):
    """A full disk failing an atomic write is an OSError naming the file written (it named
    nothing: 'error: File too large'), and the old file stays whole."""
    target = tmp_path / "meta.json"
    write_json(target, {"a": 1})
    p = _with_file_size_limit(
        4096,
        "import errno\n"
        "from seqrun.core.runs import atomic_write_text\n"
        "try:\n"
        f"    atomic_write_text({str(target)!r}, 'x' * 10000)\n"
        "except OSError as e:\n"
        "    print(errno.errorcode[e.errno], e.filename)\n",
    )
    assert p.stdout.split() == ["EFBIG", str(target)], p.stdout + p.stderr
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["meta.json"]  # no temporary file left


def test_a_full_disk_writing_the_run_directory_fails_the_run_and_resume_finishes_it(tmp_path):
    """The disk filling up while a new run's files are written (model.txt, before the first
    epoch) is one line naming the file and how to go on; the run is marked failed (it stayed
    'running', then 'dead', and the line named no file), and a resume with space finishes it."""
    cfg = write_config(tmp_path, TINY_LADYBUG)
    runs = tmp_path / "runs"
    p = _with_file_size_limit(
        32768,
        "import sys\n"
        "import seqrun.engine.trainer as trainer\n"
        "trainer.model_summary = lambda model: 'x' * 65536  # the one file past the limit\n"
        "from seqrun.cli import main\n"
        f"sys.argv = ['seqrun', 'train', {str(cfg)!r}, '--runs-dir', {str(runs)!r}, '--quiet']\n"
        "main()\n",
    )
    (run_dir,) = runs.glob("*/*")
    assert p.returncode == 1, p.stderr
    assert "Traceback" not in p.stderr
    line = p.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: cannot write {run_dir / 'model.txt'}: File too large"), line
    assert line.endswith(f"free some space, then resume: seqrun train --resume {run_dir}")
    meta = Run(run_dir).meta()
    assert meta["status"] == "failed" and "model.txt" in meta["error"]
    assert not list(run_dir.glob(".*.tmp"))
    p = subprocess.run(
        [sys.executable, "-m", "seqrun", "train", "--resume", str(run_dir), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    assert Run(run_dir).meta()["status"] == "completed"


@pytest.mark.parametrize("how", ["moved", "deleted"])
def test_a_run_directory_moved_or_deleted_while_training_is_not_written_again(tmp_path, how):
    """The run directory renamed or deleted during training: the run stops with one error
    naming it (it made the old path again and wrote a 'completed' run there without its
    config, preprocessing or record, exit 0), and nothing is written at the old path."""
    from seqrun.core.config import config_from_dict
    from seqrun.core.errors import RunFailure
    from seqrun.engine.trainer import train

    runs = tmp_path / "runs"
    moved = tmp_path / "moved"

    def on_epoch(epoch: int, row: dict) -> bool:
        (path,) = runs.glob("*/*")
        if how == "moved":
            path.rename(moved)
        else:
            shutil.rmtree(path)
        return False

    raw = dict(TINY_LADYBUG, train=dict(TINY_LADYBUG["train"], epochs=3))
    with pytest.raises(RunFailure, match="was moved or deleted while the run was being written"):
        train(config_from_dict(raw), runs, quiet=True, on_epoch=on_epoch)
    assert list(runs.glob("*/*")) == []
    if how == "moved":  # the run stays where it was moved, resumable from its first epoch
        assert Run(moved).meta()["epochs_completed"] == 1
        assert Run(moved).status() == "dead"


def test_written_files_keep_usual_permissions(tmp_path):
    write_json(tmp_path / "m.json", {})
    assert (tmp_path / "m.json").stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_duration_counts_the_time_running_not_the_time_dead(tmp_path):
    """A run killed 90 s after it started, resumed an hour later and ending 5 s after that
    has a duration of about 95 s, not 3,695 s; an interrupted one keeps its recorded time."""
    from seqrun.core.runs import Run, write_json

    now = time.time()
    run = Run(tmp_path / "x" / "20240101-000000-abcdef")
    (run.path / "checkpoints").mkdir(parents=True)
    (run.path / "history.csv").write_text("epoch\n1\n", encoding="utf-8")
    write_json(run.meta_path, {"status": "running", "started_ts": now - 3690})
    for p in (run.meta_path, run.path / "history.csv", run.path / "checkpoints"):
        os.utime(p, (now - 3600, now - 3600))  # its last sign of life: 90 s after the start
    attempt = run.attempt()
    assert abs(attempt["active_s_before"] - 90) < 1 and attempt["attempt_ts"] >= now
    run.update_meta(status="running", **{**attempt, "attempt_ts": attempt["attempt_ts"] - 5})
    run.finish("completed")
    meta = run.meta()
    assert abs(meta["duration_s"] - 95) < 2, meta
    # stopped by Ctrl-C after 95 s, resumed later: the recorded 95 s carry over
    assert run.attempt()["active_s_before"] == meta["duration_s"]


def test_runs_show_copes_with_bytes_that_are_not_utf8(cli, tmp_path):
    """A config.yaml or model.txt damaged by a hand edit or a disk error is shown with its bad
    bytes replaced (it was a UnicodeDecodeError, exit 1)."""
    run = _fake_run(tmp_path, "a", 1)
    run.config_path.write_bytes(b"name: a\nseed: \xff1\n")
    (run.path / "model.txt").write_bytes(b"Model: \xfe\xffgru\n")
    r = cli("runs", "show", run.path)
    assert r.exit_code == 0, r.output
    assert "seed: \ufffd1" in r.stdout and "Model: \ufffd\ufffdgru" in r.stdout


@pytest.mark.parametrize("content", [b"PK\x03\x04 torn", b"\x93NUMPY garbage", b""])
def test_runs_compare_test_names_damaged_predictions(cli, tmp_path, content):
    """A truncated or corrupt predictions/<split>.npz is one error line naming it and the fix
    (it was 'error: BadZipFile: File is not a zip file', exit 1)."""
    import numpy as np

    a, b = _fake_run(tmp_path, "a", 1), _fake_run(tmp_path, "a", 2)
    for run in (a, b):
        run.config_path.write_text(yaml.safe_dump(TINY_LADYBUG))
        (run.path / "predictions").mkdir()
        np.savez(run.path / "predictions" / "dev.npz", y_true=np.ones(4), y_pred=np.ones(4))
    bad = b.path / "predictions" / "dev.npz"
    bad.write_bytes(content)
    r = cli("runs", "compare", "--test", "--split", "dev", a.path, b.path)
    assert r.exit_code == 2, r.output
    line = r.stderr.strip().splitlines()[-1]  # after the fake runs' meta.json warnings
    assert line.startswith(f"error: {bad}: the dev predictions are truncated or corrupt")
    assert line.endswith(f"`seqrun evaluate {b.path} --split dev`")


def test_runs_compare_test_leaves_out_a_run_without_a_best_checkpoint(cli, tmp_path):
    """A diverged run (status failed, no best.keras) has nothing to score: the error says so,
    instead of advising `seqrun evaluate`, which then fails on the missing checkpoint; a run
    that has its checkpoint is still told to run evaluate."""
    import numpy as np

    a, b = _fake_run(tmp_path, "a", 1), _fake_run(tmp_path, "a", 2, "failed")
    for run in (a, b):
        run.config_path.write_text(yaml.safe_dump(TINY_LADYBUG))
    (a.path / "predictions").mkdir()
    np.savez(a.path / "predictions" / "dev.npz", y_true=np.ones(4), y_pred=np.ones(4))
    r = cli("runs", "compare", "--test", "--split", "dev", a.path, b.path)
    assert r.exit_code == 2, r.output
    line = r.stderr.strip().splitlines()[-1]
    assert line == (
        f"error: {b.path}: no per-item predictions for dev, and no best checkpoint to score "
        "(status: failed); leave this run out of the comparison"
    )
    (b.path / "checkpoints").mkdir()
    (b.path / "checkpoints" / "best.keras").write_bytes(b"")
    r = cli("runs", "compare", "--test", "--split", "dev", a.path, b.path)
    assert r.stderr.strip().endswith(f"run `seqrun evaluate {b.path} --split dev`"), r.output


def test_runs_list_shows_each_effective_override_once(cli, tmp_path):
    """A --set over a sweep's set: of the same key was listed twice ('train.epochs=3
    train.epochs=1'); meta.json keeps the list as applied."""
    from seqrun.engine.listing import effective_overrides

    given = ["train.epochs=3", "model.units=4", "train.epochs=1", "seed=2"]
    run = Run(tmp_path / "exp" / "20260101-000000-000001")
    write_json(run.meta_path, {"status": "completed", "overrides": given})
    write_json(run.metrics_path("dev"), {"mae": 0.1})
    rows = json.loads(cli("runs", "list", "--runs-dir", tmp_path, "--json").stdout)
    assert rows[0]["overrides"] == ["model.units=4", "train.epochs=1", "seed=2"]
    csv_lines = cli("runs", "list", "--runs-dir", tmp_path, "--csv").stdout.splitlines()
    assert ",model.units=4 train.epochs=1 seed=2," in csv_lines[1]
    table = cli("runs", "list", "--runs-dir", tmp_path).stdout
    assert "train.epochs=3" not in table and table.count("train.epochs=1") == 1
    assert json.loads(run.meta_path.read_text())["overrides"] == given
    # a later section replaces what was set inside it; a later key inside it does not
    assert effective_overrides(["model.units=4", "model={arch: gru}", "model.units=5"]) == [
        "model={arch: gru}",
        "model.units=5",
    ]
    assert effective_overrides(["model.units_x=4", "model.units=5", "odd"]) == [
        "model.units_x=4",
        "model.units=5",
        "odd",
    ]


def test_every_meta_json_update_adds_the_warnings_recorded_since(tmp_path, capsys):
    """A training process records what warn() prints (nested recorders each get all of it,
    once, in order); every meta.json write through its Run adds those not yet recorded after
    the earlier attempts' (a warning of the fit or of scoring reaches the final meta)."""
    from seqrun.core.text import recorded_warnings, warn

    run = Run(tmp_path / "exp" / "20260101-000000-000001")
    write_json(run.meta_path, {"status": "interrupted", "warnings": ["of an earlier attempt"]})
    with recorded_warnings() as seen:
        run.warnings = seen
        warn("while loading")
        warn("of an earlier attempt")
        run.update_meta(status="running")
        assert run.meta()["warnings"] == ["of an earlier attempt", "while loading"]
        with recorded_warnings() as inner:
            warn("while scoring")
            warn("while loading")
        run.finish("completed")
    warn("after the run")
    assert inner == ["while scoring", "while loading"]
    assert seen == ["while loading", "of an earlier attempt", "while scoring"]
    assert run.meta()["warnings"] == ["of an earlier attempt", "while loading", "while scoring"]
    assert capsys.readouterr().err.count("warning: while loading\n") == 2  # still printed
    write_json(run.meta_path, {"status": "completed", "warnings": "hand-edited"})
    run.update_meta(status="completed")  # a value that is no list is replaced
    assert run.meta()["warnings"] == seen


def _warning_experiment(tmp_path: Path, name: str, bad_row: bool, epochs: int = 1) -> Path:
    """test_resume's tiny text-table experiment, reading ``<name>.csv`` (``bad_row``: with a
    row the adapter drops with a warning)."""
    from tests.test_resume import text_experiment

    return text_experiment(tmp_path, epochs, f"{name}.yaml", name, bad_row)[0]


def test_a_run_keeps_the_warnings_it_printed_and_runs_show_prints_them(cli, tmp_path):
    """The warnings a training prints (here while the data load, before the run directory
    exists) are meta.json's ``warnings`` and a section of `runs show`; a run that printed none
    has an empty list and no such section."""
    runs = tmp_path / "runs"
    r = cli("train", _warning_experiment(tmp_path, "warned", True), "--runs-dir", runs, "--json")
    assert r.exit_code == 0, r.output
    run = Run(Path(json.loads(r.stdout)["run_dir"]))
    dropped = f"{tmp_path / 'warned.csv'}: dropped 1 row(s) with no label (lines 3)"
    assert f"warning: {dropped}\n" in r.stderr
    meta = run.meta()
    assert meta["status"] == "completed" and meta["warnings"] == [dropped]
    shown = cli("runs", "show", run.path)
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[lines.index("warnings") + 1] == f"  - {dropped}"
    assert "warnings:" not in shown.stdout  # not in the meta section as well

    r = cli("train", _warning_experiment(tmp_path, "clean", False), "--runs-dir", runs, "--json")
    assert r.exit_code == 0 and "warning:" not in r.stderr, r.output
    run = Run(Path(json.loads(r.stdout)["run_dir"]))
    assert run.meta()["warnings"] == []
    assert "warnings" not in cli("runs", "show", run.path).stdout.splitlines()


def test_a_resumed_run_keeps_its_earlier_warnings_and_adds_its_new_ones(cli, tmp_path):
    """A run killed after epoch 1 kept the warnings of its start; its resume, on a data file
    changed meanwhile, prints the same one again (kept once) and a new one (added after)."""
    cfg = _warning_experiment(tmp_path, "warned", True, epochs=2)
    runs = tmp_path / "runs"
    env = {**os.environ, "KILL_AT": "epoch:1", "PYTHONPATH": str(ROOT)}
    hook = Path(__file__).with_name("kill_hook.py")
    args = ["train", str(cfg), "--runs-dir", str(runs), "--quiet"]
    p = subprocess.run([sys.executable, str(hook), *args], env=env, capture_output=True)
    assert p.returncode == -9, p.stderr.decode()[-2000:]
    (run_dir,) = runs.glob("*/*")
    dropped = f"{tmp_path / 'warned.csv'}: dropped 1 row(s) with no label (lines 3)"
    assert Run(run_dir).meta()["warnings"] == [dropped]
    data = tmp_path / "warned.csv"
    data.write_text(data.read_text() + "one more superb gem,pos\n")  # the bad row stays line 3
    r = cli("train", "--resume", run_dir, "--quiet")
    assert r.exit_code == 0, r.output
    changed = [w[len("warning: ") :] for w in r.stderr.splitlines() if "data differ" in w]
    assert len(changed) == 1 and f"warning: {dropped}" in r.stderr, r.stderr
    meta = Run(run_dir).meta()
    assert meta["status"] == "completed" and meta["warnings"] == [dropped, changed[0]]
