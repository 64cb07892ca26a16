"""Resume at any instant: SIGKILL of real `seqrun train` processes, `--resume auto`, run locks."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seqrun.core.runs import FileLock, Run, latest_run, write_json
from tests.conftest import ROOT, TINY_LADYBUG, write_config

HOOK = Path(__file__).with_name("kill_hook.py")
RAW = dict(TINY_LADYBUG, model=dict(TINY_LADYBUG["model"], dropout=0.2, recurrent_dropout=0.1))


def _auto(cfg: Path, runs: Path, *extra: str) -> list[str]:
    return ["train", str(cfg), "--runs-dir", str(runs), "--resume", "auto", *extra]


def _killed_at(spec: str, args: list[str]) -> None:
    """Run `seqrun ARGS` under the kill hook; it must die by SIGKILL."""
    env = {**os.environ, "KILL_AT": spec, "PYTHONPATH": str(ROOT)}
    p = subprocess.run(
        [sys.executable, str(HOOK), *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert p.returncode == -9, f"{spec}: exit {p.returncode}\n{p.stderr}"


def _killed_at_startup(args: list[str], runs: Path) -> None:
    """Start `seqrun ARGS` and SIGKILL it as soon as its run directory has a meta.json."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "seqrun", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while not list(runs.glob("*/*/meta.json")) and proc.poll() is None:
        assert time.time() < deadline
        time.sleep(0.005)
    proc.kill()
    assert proc.wait() == -9


def _one_run(runs: Path) -> Path:
    (run_dir,) = [p for p in runs.glob("*/*") if p.is_dir()]
    return run_dir


def test_kills_at_every_stage_then_resume_auto_equals_uninterrupted(cli, tmp_path):
    cfg = write_config(tmp_path, RAW)
    full = subprocess.run(
        [sys.executable, "-m", "seqrun", "train", str(cfg), "--runs-dir", str(tmp_path / "a")]
        + ["--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert full.returncode == 0, full.stderr
    expected = json.loads(full.stdout)["metrics"]

    runs = tmp_path / "b"
    # 1. start-up: the run directory exists, nothing is trained yet
    _killed_at_startup(_auto(cfg, runs), runs)
    run_dir = _one_run(runs)
    assert not (run_dir / "checkpoints" / "state.json").exists()
    assert Run(run_dir).meta()["status"] == "running" and Run(run_dir).status() == "dead"
    # 2. the first epoch, before any checkpoint: the run starts again in its own directory
    _killed_at("batch:1:2", _auto(cfg, runs))
    assert _one_run(runs) == run_dir
    assert not (run_dir / "checkpoints" / "state.json").exists()
    # 3. writing epoch 2's checkpoint: a torn temporary file, never trusted
    _killed_at("save:2", _auto(cfg, runs))
    ckpts = run_dir / "checkpoints"
    assert json.loads((ckpts / "state.json").read_text())["epoch"] == 1
    assert list(ckpts.glob(".epoch-0002.*.tmp.keras")), "the kill did not tear a checkpoint"
    # 4. the last epoch (same run killed a fourth time)
    _killed_at("batch:2:3", _auto(cfg, runs))
    assert json.loads((ckpts / "state.json").read_text())["epoch"] == 1
    assert Run(run_dir).status() == "dead"
    # scores of the unfinished run's epoch-1 checkpoint do not outlive it
    r = cli("evaluate", run_dir, "--split", "test")
    assert r.exit_code == 0 and (run_dir / "metrics" / "test.json").is_file(), r.output
    r = cli("report", run_dir)  # it shows those scores
    assert r.exit_code == 0 and (run_dir / "report.html").is_file(), r.output

    done = subprocess.run(
        [sys.executable, "-m", "seqrun", *_auto(cfg, runs, "--json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["run_dir"] == str(run_dir) and _one_run(runs) == run_dir
    assert not (run_dir / "metrics" / "test.json").exists()
    assert not (run_dir / "predictions" / "test.npz").exists()
    assert not (run_dir / "report.html").exists()
    for key in ("mae", "rmse", "skill", "mae_norm"):
        assert result["metrics"][key] == pytest.approx(expected[key], rel=1e-5)
    with open(run_dir / "history.csv") as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [1, 2]
    meta = Run(run_dir).meta()
    assert meta["status"] == "completed"
    assert [r["from_epoch"] for r in meta["resumes"]] == [0, 0, 1, 1]
    assert not list(ckpts.glob(".*")), "temporary files of killed writes were left"
    assert os.path.samefile(ckpts / "last.keras", ckpts / "epoch-0002.keras")
    # rerun once more (killed after its last write, before it exited): nothing to train
    again = cli(*_auto(cfg, runs, "--json"))
    assert again.exit_code == 0 and json.loads(again.stdout) == {**result, "run_dir": str(run_dir)}
    assert _one_run(runs) == run_dir


def text_experiment(
    tmp_path: Path,
    epochs: int = 2,
    name: str = "exp.yaml",
    stem: str = "reviews",
    bad_row: bool = False,
) -> tuple[Path, Path, list[str]]:
    """A tiny text-table experiment reading ``<stem>.csv``: (config, data file, its rows);
    ``bad_row``: the file has a row without a label (line 3), which the adapter drops with
    a warning."""
    rows = [
        f"{'superb gem' if i % 2 else 'dull mess'} {i},{'pos' if i % 2 else 'neg'}"
        for i in range(80)
    ]
    if bad_row:
        rows.insert(1, "a text without its label,")
    path = tmp_path / f"{stem}.csv"
    path.write_text("text,label\n" + "\n".join(rows) + "\n")
    raw = {
        "name": "tiny-text" if stem == "reviews" else stem,
        "seed": 0,
        "data": {"adapter": "text_table", "path": str(path), "label_column": "label"},
        "encoder": {"type": "multi_hot", "vocab_size": 50},
        "model": {"arch": "dense", "units": 4, "layers": 1},
        "train": {"epochs": epochs, "batch_size": 16},
        "metrics": "classification",
    }
    return write_config(tmp_path, raw, name), path, rows


def test_resume_on_data_changed_since_the_run_started_is_warned_and_recorded(cli, tmp_path):
    """A run killed after epoch 1 whose data file is then edited: the resume says the data
    differ from those the run started on and records it (its later scores mix two data sets);
    a resume on the same data says nothing."""
    cfg, path, rows = text_experiment(tmp_path)
    for edit in (False, True):
        runs = tmp_path / f"runs-{edit}"
        _killed_at("epoch:1", ["train", str(cfg), "--runs-dir", str(runs)])
        run_dir = _one_run(runs)
        if edit:  # a row added: rows move between the splits
            path.write_text("text,label\nfine film 99,pos\n" + "\n".join(rows) + "\n")
        r = cli("train", "--resume", run_dir)
        assert r.exit_code == 0, r.output
        warned = "the data differ from those the run started training on" in r.stderr
        resumes = Run(run_dir).meta()["resumes"]
        assert warned == edit and ("data_changed" in resumes[-1]) == edit, r.stderr


def test_resume_auto_of_a_completed_run_warns_when_its_data_file_changed_since(cli, tmp_path):
    """`--resume auto` finds the completed run of the same config and trains nothing: when
    the data file was modified after that run started, it says its results may be of the
    earlier data (and how to train on the new ones)."""
    cfg, path, rows = text_experiment(tmp_path)
    runs = tmp_path / "runs"
    first = cli(*_auto(cfg, runs, "--json"))
    assert first.exit_code == 0, first.output
    again = cli(*_auto(cfg, runs, "--json"))
    assert again.exit_code == 0 and "was modified after" not in again.stderr, again.output
    time.sleep(0.05)
    path.write_text("text,label\nfine film 99,pos\n" + "\n".join(rows) + "\n")
    r = cli(*_auto(cfg, runs, "--json"))
    assert r.exit_code == 0 and json.loads(r.stdout) == json.loads(again.stdout), r.output
    assert f"{path} was modified after" in r.stderr and "leave out --resume auto" in r.stderr


def test_resume_after_the_last_checkpoint_leaves_no_temporary_links(tmp_path):
    cfg = write_config(tmp_path, RAW)
    runs = tmp_path / "runs"
    # killed just after the final epoch's checkpoint: last.keras and best.keras already link it
    _killed_at("epoch:2", _auto(cfg, runs))
    run_dir = _one_run(runs)
    ckpts = run_dir / "checkpoints"
    assert os.path.samefile(ckpts / "last.keras", ckpts / "epoch-0002.keras")
    done = subprocess.run(
        [sys.executable, "-m", "seqrun", *_auto(cfg, runs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert Run(run_dir).meta()["status"] == "completed"
    assert not list(ckpts.glob(".*")), "temporary links were left"
    assert os.path.samefile(ckpts / "last.keras", ckpts / "epoch-0002.keras")


def test_relinking_an_already_linked_epoch_leaves_no_temporary_files(tmp_path):
    from seqrun.engine.checkpoint import TrainState, link_checkpoints

    run = Run(tmp_path / "run")
    ckpts = run.path / "checkpoints"
    ckpts.mkdir(parents=True)
    (ckpts / "epoch-0004.keras").write_bytes(b"model")
    state = TrainState(epoch=4, best=1.0, best_epoch=4, checkpoint="epoch-0004.keras")
    link_checkpoints(run, state)
    link_checkpoints(run, state)  # a resume's repair: both links already name the file
    names = sorted(p.name for p in ckpts.iterdir())
    assert names == ["best.keras", "epoch-0004.keras", "last.keras"]
    assert os.path.samefile(ckpts / "best.keras", ckpts / "epoch-0004.keras")


def _hangup_default() -> None:
    """In a child: SIGHUP's default action, as in a terminal (a suite run under nohup passes
    its ignored SIGHUP on, and an ignored SIGHUP stays ignored)."""
    import signal

    signal.signal(signal.SIGHUP, signal.SIG_DFL)


@pytest.mark.parametrize("sig", ["INT", "TERM", "HUP"])  # HUP: the terminal or SSH closed
def test_interrupt_while_the_run_directory_is_written_marks_it_interrupted(tmp_path, sig):
    cfg = write_config(tmp_path, RAW)
    runs = tmp_path / "runs"

    def signalled(where: str, *args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "KILL_AT": f"signal:{sig}:{where}", "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, str(HOOK), *args]
        return subprocess.run(
            cmd, cwd=ROOT, env=env, capture_output=True, text=True, preexec_fn=_hangup_default
        )

    p = signalled("config", *_auto(cfg, runs))  # at start-up: nothing written yet
    assert p.returncode == 130, p.stderr[-2000:]
    assert not list(runs.glob("*/*"))
    p = signalled("summary", *_auto(cfg, runs))
    assert p.returncode == 130, p.stderr[-2000:]
    run_dir = _one_run(runs)
    said = f"error: interrupted; resume with: seqrun train --resume {run_dir}"
    if sig == "HUP":  # the terminal is gone: nothing more is written to it
        assert said not in p.stderr
    else:
        assert p.stderr.strip().splitlines()[-1] == said
    assert Run(run_dir).meta()["status"] == "interrupted" and Run(run_dir).status() != "dead"
    cmd = [sys.executable, "-m", "seqrun", *_auto(cfg, runs)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert _one_run(runs) == run_dir and Run(run_dir).meta()["status"] == "completed"
    files = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    p = signalled("run_config", "evaluate", str(run_dir), "--split", "test")
    assert p.returncode == 130, p.stderr[-2000:]
    assert {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()} == files


def _fake(runs: Path, rid: str, key: str, status: str, **meta) -> Run:
    run = Run(runs / "tiny-ladybug" / rid)
    write_json(run.meta_path, {"status": status, "config_key": key, **meta})
    return run


def test_latest_run_of_a_config(tmp_path):
    _fake(tmp_path, "20260101-000001-aaaaaa", "k1", "failed")
    _fake(tmp_path, "20260101-000002-bbbbbb", "k1", "interrupted")
    _fake(tmp_path, "20260101-000004-dddddd", "k2", "completed")
    assert latest_run(tmp_path, "tiny-ladybug", "k1").path.name.endswith("bbbbbb")
    assert latest_run(tmp_path, "tiny-ladybug", "k2").status() == "completed"
    assert latest_run(tmp_path, "tiny-ladybug", "k3") is None
    assert latest_run(tmp_path, "other", "k1") is None


def test_status_follows_the_run_lock_not_a_reused_pid(tmp_path):
    # SIGKILLed: meta.json still says running, and its pid now belongs to a live process
    run = _fake(tmp_path, "r1", "k", "running", pid=os.getpid(), host=socket.gethostname())
    run.lock_path.touch()
    assert run.status() == "dead" and run.owner() is None
    with FileLock(run.lock_path) as lock:
        assert lock.acquire()
        assert run.status() == "running"
        assert run.owner() == f"pid {os.getpid()} on {socket.gethostname()}"
        assert not FileLock(run.lock_path).acquire(wait_s=0.05)  # nobody else gets it
    assert run.status() == "dead"


def test_evaluate_refuses_a_run_still_training(cli, tmp_path):
    run = _fake(tmp_path, "r1", "k", "running", pid=os.getpid(), host=socket.gethostname())
    with FileLock(run.lock_path) as lock:
        assert lock.acquire()
        r = cli("evaluate", run.path)
    assert r.exit_code == 2 and "still being trained by pid" in r.stderr, r.output
    assert not (run.path / "metrics").exists()


def _paused(where: str, barrier: Path, args: list[str]) -> subprocess.Popen:
    """`seqrun ARGS` under the kill hook's ``wait:WHERE``: it pauses at WHERE until
    ``barrier`` exists."""
    env = {**os.environ, "KILL_AT": f"wait:{where}", "BARRIER": str(barrier)}
    return subprocess.Popen(
        [sys.executable, str(HOOK), *args],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _reached(proc: subprocess.Popen, barrier: Path) -> None:
    """Wait until ``proc`` (see :func:`_paused`) has reached its pause."""
    deadline = time.time() + 180
    while not Path(f"{barrier}.reached").exists():
        assert proc.poll() is None and time.time() < deadline, proc.communicate()[1][-3000:]
        time.sleep(0.05)


def test_evaluate_refuses_a_run_whose_resume_is_starting(cli, tmp_path):
    # a resume holds the lock from its start; meta.json says running only once it has loaded
    # the data and the model: scores written meanwhile would outlive the checkpoint they score
    run = _fake(tmp_path, "r1", "k", "interrupted", pid=1, host="elsewhere")
    with FileLock(run.lock_path) as lock:
        assert lock.acquire()
        r = cli("evaluate", run.path)
    assert r.exit_code == 2 and f"still being trained by pid {os.getpid()}" in r.stderr, r.output
    assert not (run.path / "metrics").exists()


def test_no_resume_starts_while_an_evaluate_scores_the_run(cli, tmp_path):
    cfg = write_config(tmp_path, RAW)
    runs = tmp_path / "runs"
    _killed_at("epoch:1", ["train", str(cfg), "--runs-dir", str(runs)])
    run = Run(_one_run(runs))
    barrier = tmp_path / "go"
    evaluate = _paused("score", barrier, ["evaluate", str(run.path)])
    try:  # the evaluate has loaded the best checkpoint and is about to write its scores
        _reached(evaluate, barrier)
        r = cli("train", "--resume", run.path)
        assert r.exit_code == 2 and "another seqrun command (evaluate or report)" in r.stderr
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    finally:
        barrier.touch()
        _, err = evaluate.communicate(timeout=300)
    assert evaluate.returncode == 0, err
    assert run.metrics("test") is not None
    assert json.loads((run.path / "checkpoints" / "state.json").read_text())["epoch"] == 1
    r = cli("train", "--resume", run.path)  # once it has ended; the stale scores are dropped
    assert r.exit_code == 0, r.output
    assert run.metrics("test") is None and run.metrics("dev") is not None


def test_two_evaluates_of_two_splits_at_once_keep_both_splits_mistakes(cli, tmp_path):
    """errors.jsonl holds every scored split's mistakes: each evaluate reads it, drops its own
    split's records and writes it again. Two at once (test, and test with the last
    checkpoint): the second read it before the first wrote, and its write dropped the first's
    records. Now the second waits for the first."""
    rows = [f"w{i % 4} x,{'pos' if i % 3 == 0 else 'neg'}" for i in range(120)]  # no signal
    data = tmp_path / "reviews.csv"
    data.write_text("text,label\n" + "\n".join(rows) + "\n")
    raw = {
        "name": "tiny-text",
        "data": {"adapter": "text_table", "path": str(data), "label_column": "label"},
        "encoder": {"type": "multi_hot", "vocab_size": 10},
        "model": {"arch": "dense", "units": 2, "layers": 1},
        "train": {"epochs": 1, "batch_size": 32},
        "metrics": "classification",
    }
    r = cli("train", write_config(tmp_path, raw), "--runs-dir", tmp_path / "runs")
    assert r.exit_code == 0, r.output
    run = _one_run(tmp_path / "runs")
    errors = run / "errors.jsonl"
    first, second = tmp_path / "first", tmp_path / "second"
    second.touch()  # the second only marks when it reaches errors.jsonl; it does not pause
    evaluate, last = _paused("errors", first, ["evaluate", str(run)]), None
    try:
        _reached(evaluate, first)  # errors.jsonl read, the test split's records not written
        last = _paused("predictions", second, ["evaluate", str(run), "--checkpoint", "last"])
        _reached(last, second)  # its scores are written; errors.jsonl next
        end = time.time() + 3
        while time.time() < end and '"test-last"' not in errors.read_text():
            time.sleep(0.05)
        assert '"test-last"' not in errors.read_text()  # it waits for the first
    finally:
        first.touch()
        outs = [p.communicate(timeout=300) for p in (evaluate, last) if p is not None]
    assert evaluate.returncode == 0 and last is not None and last.returncode == 0, outs
    splits = [json.loads(line)["split"] for line in errors.read_text().splitlines()]
    assert set(splits) == {"dev", "test", "test-last"}, splits
    assert not list(run.glob(".errors.jsonl*"))


def test_resume_auto_never_trains_beside_a_live_owner(cli, tmp_path):
    from seqrun.core.config import config_key, load_config

    cfg = write_config(tmp_path, RAW)
    resolved = load_config(cfg)
    key = config_key(resolved)
    runs = tmp_path / "runs"
    run = _fake(runs, "20260101-000001-aaaaaa", key, "running", pid=1, host="elsewhere")
    run.config_path.write_text(resolved.to_yaml())
    with FileLock(run.lock_path) as lock:
        assert lock.acquire()
        r = cli(*_auto(cfg, runs))
        assert r.exit_code == 2 and "being trained by pid" in r.stderr
        r = cli("train", "--resume", run.path, "--runs-dir", runs)
        assert r.exit_code == 2 and "being trained by pid" in r.stderr
    auto_lock = runs / "tiny-ladybug" / f".resume-auto-{key}.lock"
    with FileLock(auto_lock) as lock:  # another `--resume auto` of this config is choosing
        assert lock.acquire()
        r = cli(*_auto(cfg, runs))
        assert r.exit_code == 2 and "another `seqrun train --resume auto`" in r.stderr
    assert [p.name for p in (runs / "tiny-ladybug").iterdir() if p.is_dir()] == [run.path.name]
    r = cli("train", "--resume", "auto", "--runs-dir", runs)
    assert r.exit_code == 2 and "needs the experiment file" in r.stderr


def test_resume_auto_with_a_bad_config_leaves_nothing(cli, tmp_path):
    data = {"adapter": "timeseries_csv", "path": "nope.csv", "time_column": "t", "targets": ["a"]}
    cfg = write_config(tmp_path, dict(RAW, data=dict(data, sequence_len=4)))
    runs = tmp_path / "runs"
    r = cli(*_auto(cfg, runs))  # the choice lock is taken, then the data is missing
    assert r.exit_code == 2 and "CSV file not found" in r.stderr, (r.output, r.exception)
    assert not runs.exists()


def test_early_stop_is_part_of_the_saved_state(cli, tmp_path):
    # min_delta so large that only epoch 1 "improves": epoch 2 exhausts patience 1
    stop = {"patience": 1, "min_delta": 1e9}
    raw = dict(RAW, train=dict(RAW["train"], epochs=3, early_stopping=stop))
    cfg = write_config(tmp_path, raw)
    r = cli("train", cfg, "--runs-dir", tmp_path / "runs", "--json")
    assert r.exit_code == 0, r.output
    run = Run(Path(json.loads(r.stdout.strip().splitlines()[-1])["run_dir"]))
    state = json.loads((run.path / "checkpoints" / "state.json").read_text())
    assert state["epoch"] == 2 and state["stopped_early"] is True and state["best_epoch"] == 1
    ckpts = run.path / "checkpoints"
    assert not os.path.samefile(ckpts / "best.keras", ckpts / "last.keras")
    # killed while scoring: the resume scores again, it does not train a third epoch
    run.update_meta(status="running")  # its .lock is free: the process is gone
    r = cli("train", "--resume", run.path, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout.strip().splitlines()[-1])["epochs_completed"] == 2
    with open(run.path / "history.csv") as f:
        assert [int(row["epoch"]) for row in csv.DictReader(f)] == [1, 2]


def test_resume_auto_with_a_runs_dir_that_is_a_file_exits_2(cli, tmp_path):
    """As a plain `train` does (it was 'Not a directory', exit 1)."""
    cfg = write_config(tmp_path, TINY_LADYBUG)
    afile = tmp_path / "afile"
    afile.write_text("x")
    r = cli("train", cfg, "--runs-dir", afile, "--resume", "auto")
    assert r.exit_code == 2, r.output
    assert r.stderr.strip() == (
        f"error: {afile}: this is a file, not a directory: choose another --runs-dir "
        "(or experiment name)"
    )
    assert afile.read_text() == "x"


def test_a_hand_edited_train_state_is_refused_and_changes_nothing(cli, tmp_path):
    """state.json with a key of the wrong type was a TypeError/ValueError (exit 1, or a run
    trained on and marked failed); a checkpoint name outside checkpoints/ was linked as
    last.keras and the run's own epoch file deleted. Now: one line naming the file, exit 2."""
    raw = dict(TINY_LADYBUG, train=dict(TINY_LADYBUG["train"], epochs=3))
    cfg = write_config(tmp_path, raw)
    runs = tmp_path / "runs"
    _killed_at("epoch:1", _auto(cfg, runs))
    run_dir = _one_run(runs)
    state_path = run_dir / "checkpoints" / "state.json"
    good = json.loads(state_path.read_text())
    outside = tmp_path / "outside.keras"
    outside.write_text("not a model")
    files = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    edits = {
        "checkpoint": [5, "../../../outside.keras", "best.keras"],
        "history": ["abc", [1, 2]],
        "seed_states": ["x"],
        "best": ["x"],
        "wait": [None, -1],
        "epoch": [True, "1"],
    }
    for key, values in edits.items():
        for value in values:
            state_path.write_text(json.dumps({**good, key: value}))
            r = cli("train", "--resume", run_dir)
            assert r.exit_code == 2, (key, value, r.output)
            assert r.stderr.strip().startswith(
                f"error: {state_path}: the resume state is incomplete or damaged ({key}: "
            ), r.stderr
            assert Run(run_dir).meta()["status"] == "running"  # as the kill left it
            assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == files
    for text in ("{}", "[]", "null"):  # was read as no state: epoch 1 again, epochs lost
        state_path.write_text(text)
        r = cli("train", "--resume", run_dir)
        assert r.exit_code == 2, (text, r.output)
        assert r.stderr.startswith(
            f"error: {state_path}: the resume state is incomplete or damaged ("
        ), r.stderr
        assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == files
    assert outside.read_text() == "not a model"
    state_path.write_text(json.dumps(good))
    r = cli("train", "--resume", run_dir, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads((run_dir / "meta.json").read_text())["epochs_completed"] == 3


def test_a_refused_resume_names_another_experiment_or_lists_a_few_keys():
    """Resuming with another experiment's config says so in one short line; many differing
    keys are counted beyond the first few; both say how to continue instead."""
    from seqrun.core.config import config_difference, load_config
    from seqrun.engine.resume import SHOWN_DIFFERENCES, resume_difference

    saved = load_config(ROOT / "configs/weather-nyc-3h.yaml")
    other = load_config(ROOT / "configs/ladybug-gru.yaml")
    line = resume_difference(saved, other, config_difference(saved, other))
    assert "another experiment ('weather-nyc-3h', data.adapter timeseries_csv)" in line
    assert "'ladybug-gru'" in line and "->" not in line and len(line) < 300
    sets = ["model.units=32", "model.layers=2", "model.dropout=0.3", "seed=4",
            "train.epochs=3", "train.batch_size=7", "train.learning_rate=0.1"]  # fmt: skip
    changed = load_config(ROOT / "configs/weather-nyc-3h.yaml", sets)
    diff = config_difference(saved, changed)
    line = resume_difference(saved, changed, diff)
    assert len(diff) == 7 and "model.units: 128 -> 32" in line
    assert f"and {7 - SHOWN_DIFFERENCES} more key(s)" in line
    assert line.endswith("(seqrun train --resume RUN_DIR), or train a new run")


def test_a_signal_once_the_run_completed_exits_with_its_code_not_the_signal(tmp_path):
    # a scheduler's SIGTERM while Python and TensorFlow tear down a completed run's process
    raw = dict(RAW, train=dict(RAW["train"], epochs=1))
    runs = tmp_path / "runs"
    args = ["train", str(write_config(tmp_path, raw)), "--runs-dir", str(runs), "--json"]
    env = {**os.environ, "KILL_AT": "signal:TERM:exit", "PYTHONPATH": str(ROOT)}
    p = subprocess.run(
        [sys.executable, str(HOOK), *args, "--quiet"], env=env, capture_output=True, text=True
    )
    assert p.returncode == 0, f"exit {p.returncode}: {p.stderr[-2000:]}"
    result = json.loads(p.stdout.strip().splitlines()[-1])  # the output was flushed first
    assert result["status"] == "completed" == Run(_one_run(runs)).meta()["status"]


@pytest.mark.parametrize("where", ["finalizer", "swallowed"])
def test_a_signal_dropped_inside_a_finalizer_while_scoring_still_interrupts(cli, tmp_path, where):
    # Python prints and drops an exception raised in a __del__ or weakref callback (Keras
    # frees many while scoring): the handler's KeyboardInterrupt fell there, and the run went
    # on to `completed`, exit 0, with a traceback on stderr
    raw = dict(RAW, train=dict(RAW["train"], epochs=1))
    runs = tmp_path / "runs"
    args = ["train", str(write_config(tmp_path, raw)), "--runs-dir", str(runs), "--quiet"]
    # swallowed: C code turned the KeyboardInterrupt into a TypeError (numpy's __array__
    # fallback on a TF Variable, in a sweep trial killed with its sweep): the run was `failed`
    env = {**os.environ, "KILL_AT": f"signal:TERM:{where}", "PYTHONPATH": str(ROOT)}
    p = subprocess.run([sys.executable, str(HOOK), *args], env=env, capture_output=True, text=True)
    run_dir = _one_run(runs)
    assert p.returncode == 130, f"exit {p.returncode}: {p.stderr[-2000:]}"
    assert "Traceback" not in p.stderr, p.stderr[-2000:]
    assert Run(run_dir).meta()["status"] == "interrupted"
    r = cli("train", "--resume", run_dir)
    assert r.exit_code == 0 and Run(run_dir).meta()["status"] == "completed", r.output


def test_a_hangup_ignored_by_nohup_stays_ignored():
    import signal

    from seqrun.core.runs import stop_signals

    old = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as `nohup seqrun train ...` starts
    try:
        assert signal.SIGHUP not in stop_signals()
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        assert stop_signals() == [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
    finally:
        signal.signal(signal.SIGHUP, old)
