"""Sweeps: expansion, parallel workers with a failing trial, skip on rerun, --list, --index."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import pytest
import yaml

from seqrun.core.config import parse_override
from seqrun.core.errors import UserError
from seqrun.engine.checkpoint import PARENT_ENDED
from seqrun.engine.sweep import Sweep, SweepSpec, expand, format_value
from tests.conftest import TINY_LADYBUG, write_config


def test_grid_times_seeds():
    spec = SweepSpec(
        base="x.yaml", grid={"model.units": [4, 8], "model.arch": ["gru", "lstm"]}, seeds=[0, 1, 2]
    )
    trials = expand(spec)
    assert len(trials) == 12
    assert trials[0] == ["model.units=4", "model.arch=gru", "seed=0"]
    assert trials[-1] == ["model.units=8", "model.arch=lstm", "seed=2"]
    assert len({tuple(t) for t in trials}) == 12


def test_random_is_seeded_and_in_bounds():
    spec = SweepSpec(
        base="x.yaml",
        random={
            "train.learning_rate": {"loguniform": [1e-4, 1e-2]},
            "model.units": {"int": [4, 16]},
            "train.optimizer": {"choice": ["adam", "rmsprop"]},
        },
        trials=5,
        sweep_seed=7,
    )
    a, b = expand(spec), expand(spec)
    assert a == b and len(a) == 5
    for overrides in a:
        values = dict(parse_override(o) for o in overrides)
        assert 1e-4 <= values["train.learning_rate"] <= 1e-2
        assert 4 <= values["model.units"] <= 16
        assert values["train.optimizer"] in ("adam", "rmsprop")
    spec2 = spec.model_copy(update={"sweep_seed": 8})
    assert expand(spec2) != a


@pytest.mark.parametrize("value", [3, 0.5, True, None, "a=b", "50%", "x y", "[1]", "1e-3", "yes"])
def test_format_value_round_trips(value):
    assert parse_override(f"k={format_value(value)}")[1] == value


def test_bad_distribution_and_bad_trial_are_user_errors(tmp_path):
    base = write_config(tmp_path, TINY_LADYBUG)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"base": base.name, "random": {"x": {"normal": [0, 1]}}}))
    with pytest.raises(UserError, match="random"):
        Sweep(bad, tmp_path / "runs")
    bad.write_text(yaml.safe_dump({"base": base.name, "grid": {"model.unitz": [1]}}))
    with pytest.raises(UserError, match="trial 0 .*did you mean 'units'"):
        Sweep(bad, tmp_path / "runs")


@pytest.mark.parametrize(
    ("body", "where", "problem"),
    [
        (
            "grid:\n  train.epochs: [1]\n  model.units: [4, -1]",
            ":4 grid.model.units: trial 1 ",
            "greater than or equal to 1",
        ),
        (
            "random:\n  model.dropout: {uniform: [2, 3]}\ntrials: 2",
            ":3 random.model.dropout: trial 0 ",
            "less than 1",
        ),
        (
            "grid: {model.units: [4]}\nset:\n  - train.epochs=1\n  - train.batch_size=0",
            ":3 set[1]: trial 0 ",
            "greater than or equal to 1",
        ),
    ],
)
def test_a_trial_with_a_bad_value_names_the_sweep_file_line(cli, tmp_path, body, where, problem):
    """The bad value came from the sweep file: the line names it (file:line key), as the
    sweep file's own errors do, not a --set the user never typed."""
    write_config(tmp_path, TINY_LADYBUG, "base.yaml")
    sweep = tmp_path / "sw.yaml"
    sweep.write_text(f"base: base.yaml\n{body}\n")
    r = cli("sweep", sweep, "--runs-dir", tmp_path / "runs")
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith(f"error: {sweep}{where}"), r.stderr
    assert problem in r.stderr and "--set" not in r.stderr and r.stderr.count("\n") == 1


def test_a_bad_command_line_set_still_names_the_set(cli, tmp_path):
    write_config(tmp_path, TINY_LADYBUG, "base.yaml")
    sweep = tmp_path / "sw.yaml"
    sweep.write_text("base: base.yaml\ngrid: {model.units: [4]}\nset: [train.batch_size=8]\n")
    r = cli("sweep", sweep, "--runs-dir", tmp_path / "runs", "--set", "train.batch_size=0")
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith("error: trial 0 (model.units=4): --set train.batch_size=0: ")


def _sweep_file(tmp_path, grid, seeds=None):
    raw = dict(TINY_LADYBUG, train=dict(TINY_LADYBUG["train"], epochs=1))
    base = write_config(tmp_path, raw, "base.yaml")
    spec = {"base": base.name, "grid": grid}
    if seeds:
        spec["seeds"] = seeds
    path = tmp_path / "sw.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_two_workers_one_failure_then_rerun_skips_completed(cli, tmp_path):
    # learning_rate -1 passes no validation... so make one trial fail at run time instead:
    # a sequence longer than the tiny dev split has points.
    sw = _sweep_file(tmp_path, {"data.sequence_len": [4, 6, 400]})
    runs = tmp_path / "runs"
    r = cli("sweep", sw, "--runs-dir", runs, "--workers", "2", "--json")
    assert r.exit_code == 1, r.output
    out = json.loads(r.stdout)
    statuses = [t["status"] for t in out["trials"]]
    assert statuses == ["completed", "completed", "failed"]
    assert "too few" in out["trials"][2]["error"]
    assert not out["trials"][2]["error"].startswith("error:")  # was 'trial 2: failed: error: ...'
    state = json.loads((runs / "_sweeps" / "sw" / "sweep.json").read_text())
    assert [state["trials"][str(i)]["status"] for i in range(3)] == statuses
    # rerun: the completed are skipped, the failed one is run again (and fails again)
    r = cli("sweep", sw, "--runs-dir", runs, "--json")
    again = json.loads(r.stdout)
    assert [t["status"] for t in again["trials"]] == ["skipped", "skipped", "failed"]
    assert again["trials"][0]["run_dir"] == out["trials"][0]["run_dir"]
    # the runs compare over the sweep sees the two completed runs
    r = cli("runs", "compare", "--sweep", runs / "_sweeps" / "sw", "--json")
    cmp = json.loads(r.stdout)
    assert cmp["keys"] == ["data.sequence_len"] and len(cmp["rows"]) == 2


def test_rerun_skipping_a_trial_whose_data_file_changed_since_warns(cli, tmp_path):
    """A completed trial is skipped on rerun (same resolved config); when its data file was
    modified after its run started, the rerun says its results may be of the earlier data."""
    from tests.test_resume import text_experiment

    base, path, rows = text_experiment(tmp_path, epochs=1, name="base.yaml")
    sw = tmp_path / "sw.yaml"
    sw.write_text(yaml.safe_dump({"base": base.name, "grid": {"model.units": [3]}}))
    runs = tmp_path / "runs"
    r = cli("sweep", sw, "--runs-dir", runs, "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["trials"][0]["status"] == "completed"
    r = cli("sweep", sw, "--runs-dir", runs, "--json")
    assert json.loads(r.stdout)["trials"][0]["status"] == "skipped"
    assert "was modified after" not in r.stderr
    path.write_text("text,label\nfine film 99,pos\n" + "\n".join(rows) + "\n")
    r = cli("sweep", sw, "--runs-dir", runs, "--json")
    assert json.loads(r.stdout)["trials"][0]["status"] == "skipped"
    assert f"trial 0: {path} was modified after its run" in r.stderr, r.stderr


def test_a_trial_killed_mid_training_is_continued_by_the_rerun(cli, tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    raw = dict(TINY_LADYBUG, train=dict(TINY_LADYBUG["train"], epochs=3))
    base = write_config(tmp_path, raw, "base.yaml")
    sw = tmp_path / "sw.yaml"
    sw.write_text(yaml.safe_dump({"base": base.name, "grid": {"model.units": [3]}}))
    runs = tmp_path / "runs"
    (line,) = cli("sweep", sw, "--list", "--runs-dir", runs).stdout.strip().splitlines()
    argv = shlex.split(line)
    assert argv[-2:] == ["--resume", "auto"]
    # the trial's own command killed in epoch 2 (a preempted job, a killed sweep)
    hook = Path(__file__).with_name("kill_hook.py")
    env = {**os.environ, "KILL_AT": "batch:2:2", "PYTHONPATH": str(ROOT)}
    p = subprocess.run([sys.executable, str(hook), *argv[1:]], env=env, capture_output=True)
    assert p.returncode == -9
    (partial,) = [d for d in (runs / raw["name"]).iterdir() if d.is_dir()]
    r = cli("sweep", sw, "--runs-dir", runs, "--json")
    assert r.exit_code == 0, r.output
    (trial,) = json.loads(r.stdout)["trials"]
    assert trial["status"] == "completed" and Path(trial["run_dir"]) == partial
    meta = json.loads((partial / "meta.json").read_text())
    assert meta["epochs_completed"] == 3 and meta["resumes"][0]["from_epoch"] == 1


def test_fail_fast_cancels_the_rest(cli, tmp_path):
    sw = _sweep_file(tmp_path, {"data.sequence_len": [400, 4, 6]})
    r = cli("sweep", sw, "--runs-dir", tmp_path / "runs", "--fail-fast", "--json")
    assert r.exit_code == 1
    assert [t["status"] for t in json.loads(r.stdout)["trials"]] == [
        "failed",
        "cancelled",
        "cancelled",
    ]


def test_list_and_index(cli, tmp_path):
    sw = _sweep_file(tmp_path, {"model.units": [3, 5]}, seeds=[1, 2])
    runs = tmp_path / "runs"
    r = cli("sweep", sw, "--list", "--runs-dir", runs)
    commands = r.stdout.strip().splitlines()
    assert len(commands) == 4
    argv = shlex.split(commands[3])
    assert argv[:2] == ["seqrun", "train"] and "model.units=5" in argv and "seed=2" in argv
    r = cli("sweep", sw, "--index", "3", "--runs-dir", runs, "--json")
    assert r.exit_code == 0, r.output
    (trial,) = json.loads(r.stdout)["trials"]
    assert trial["status"] == "completed"
    cfg = yaml.safe_load((Path(trial["run_dir"]) / "config.yaml").read_text())
    assert cfg["model"]["units"] == 5 and cfg["seed"] == 2
    r = cli("sweep", sw, "--index", "9", "--runs-dir", runs)
    assert r.exit_code == 2 and "out of range" in r.stderr
    # the full sweep now skips trial 3 only
    r = cli("sweep", sw, "--runs-dir", runs, "--json")
    assert [t["status"] for t in json.loads(r.stdout)["trials"]] == [
        "completed",
        "completed",
        "completed",
        "skipped",
    ]


def test_record_is_safe_across_threads_and_processes(tmp_path):
    # the local executor records from worker threads, `--index` runs from other processes:
    # every trial's status must survive the concurrent read-modify-write of sweep.json
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    from tests.conftest import ROOT

    sw = _sweep_file(tmp_path, {"model.units": list(range(1, 25))})
    runs = tmp_path / "runs"
    code = (
        "import sys\nfrom pathlib import Path\nfrom seqrun.engine.sweep import Sweep\n"
        "s = Sweep(sys.argv[1], Path(sys.argv[2]))\n"
        "for t in s.trials[int(sys.argv[3])::4]:\n"
        "    t.status = 'completed'\n    s.record(t)\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(sw), str(runs), str(k)], cwd=ROOT)
        for k in (2, 3)
    ]
    sweep = Sweep(sw, runs)

    def mark(t):
        t.status = "failed"
        sweep.record(t)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(mark, [t for t in sweep.trials if t.index % 4 < 2]))
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    state = json.loads((runs / "_sweeps" / "sw" / "sweep.json").read_text())
    expected = {str(i): "failed" if i % 4 < 2 else "completed" for i in range(24)}
    assert {k: v["status"] for k, v in state["trials"].items()} == expected


@pytest.mark.parametrize("sig", ["SIGKILL", "SIGTERM"])
def test_killing_the_sweep_stops_its_trials(tmp_path, sig):
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT

    sw = _sweep_file(tmp_path, {"train.epochs": [500]})
    runs = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SEQRUN_THREADS": "1"}
    cmd = [sys.executable, "-m", "seqrun", "sweep", str(sw), "--runs-dir", str(runs)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        end = time.time() + 240
        while not list(runs.glob("tiny-ladybug/*/history.csv")):  # the trial is training
            assert proc.poll() is None and time.time() < end, proc.stderr.read().decode()
            time.sleep(0.2)
        (meta_path,) = runs.glob("tiny-ladybug/*/meta.json")
        child = json.loads(meta_path.read_text())["pid"]
        proc.send_signal(getattr(signal, sig))
        proc.communicate(timeout=120)
    finally:
        proc.kill()
    if sig == "SIGTERM":
        assert proc.returncode == 130
    end = time.time() + 60
    while _running(child) and time.time() < end:  # its trial stops, too
        time.sleep(0.2)
    assert not _running(child), "the trial outlived its sweep"
    meta = json.loads(meta_path.read_text())
    assert meta["status"] == "interrupted", meta.get("error")
    if sig == "SIGKILL":  # the trial knows why it stopped
        assert meta["error"] == PARENT_ENDED
        # sweep.json still says running (nobody was left to write it), but readers know better
        state = json.loads((runs / "_sweeps" / "sw" / "sweep.json").read_text())
        assert state["trials"]["0"]["status"] == "running"
        assert state["trials"]["0"]["pid"] == proc.pid
        from seqrun.engine.listing import sweep_state

        now = sweep_state(runs / "_sweeps" / "sw")
        assert now["stale"] == ["0"]
        assert now["trials"]["0"]["status"] == "interrupted"
        assert now["trials"]["0"]["run_dir"] == str(meta_path.parent.resolve())
        assert f"pid {proc.pid} " in now["trials"]["0"]["error"]
    else:  # the sweep stopped it and recorded it
        state = json.loads((runs / "_sweeps" / "sw" / "sweep.json").read_text())
        assert {t["status"] for t in state["trials"].values()} == {"interrupted"}
        assert {t["error"] for t in state["trials"].values()} == {"interrupted"}


def test_an_orphaned_trial_writes_nothing_to_its_dead_parents_pipes(tmp_path):
    """A trial whose sweep was SIGKILLed gets SIGTERM; its output pipes have no reader, and
    any later write must not raise BrokenPipeError in the middle of its shutdown."""
    import os
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT

    done = tmp_path / "done"
    child = (
        "import sys, time\n"
        "from seqrun.engine.processes import die_with_parent, orphaned, sigterm_interrupts\n"
        "die_with_parent()\n"
        "try:\n"
        "    with sigterm_interrupts():\n"
        "        print('ready', flush=True)\n"
        "        time.sleep(60)\n"
        "except KeyboardInterrupt:\n"
        "    for _ in range(2000):\n"
        "        print('a line nobody reads', file=sys.stderr)\n"
        "    print('and one on stdout', flush=True)\n"
        f"    open({str(done)!r}, 'w').write(f'orphaned={{orphaned()}}')\n"
    )
    parent = (
        "import os, signal, subprocess, sys\n"
        "env = {**os.environ, 'SEQRUN_DIE_WITH': str(os.getpid())}\n"
        "p = subprocess.Popen([sys.executable, '-c', sys.argv[1]], env=env,\n"
        "                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
        "p.stdout.readline()\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", parent, child], env=env, timeout=60)
    end = time.time() + 30
    while not done.exists() and time.time() < end:
        time.sleep(0.1)
    assert done.read_text() == "orphaned=True"


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_readers_show_the_trials_of_a_dead_sweep_process_as_dead(cli, tmp_path):
    """sweep.json keeps `running` for the trials of a SIGKILLed sweep; readers (sweep_state,
    `runs list` and `runs compare --sweep` on the sweep directory) show them dead, while the
    trials of a live sweep process stay running."""
    import subprocess
    import sys

    from seqrun.engine.listing import sweep_state
    from tests.conftest import ROOT

    sw = _sweep_file(tmp_path, {"model.units": [2, 3, 4]})
    runs = tmp_path / "runs"
    folder = runs / "_sweeps" / "sw"
    code = (
        "import os, sys\nfrom pathlib import Path\nfrom seqrun.engine.sweep import Sweep\n"
        "s = Sweep(sys.argv[1], Path(sys.argv[2]))\nt = s.trials[1]\nt.status = 'running'\n"
        "s.record(t)\nos._exit(0)\n"  # dies without closing, as under SIGKILL
    )
    dead = subprocess.run([sys.executable, "-c", code, str(sw), str(runs)], cwd=ROOT, timeout=120)
    assert dead.returncode == 0
    sweep = Sweep(sw, runs)
    try:
        sweep.trials[0].status = "running"  # this (live) process's trial
        sweep.record(sweep.trials[0])
        assert sweep.live_lock_path(os.getpid()).is_file()
        assert not list(folder.glob(".live-*.lock"))[1:], "the dead process's lock is cleaned"
        raw = json.loads((folder / "sweep.json").read_text())["trials"]
        assert [raw[i]["status"] for i in "012"] == ["running", "running", "pending"]
        state = sweep_state(folder)
        assert state["stale"] == ["1"]
        assert [state["trials"][i]["status"] for i in "012"] == ["running", "dead", "pending"]
        assert "its sweep process (pid " in state["trials"]["1"]["error"]
        assert "rerun the sweep" in state["trials"]["1"]["error"]
        r = cli("runs", "list", "--runs-dir", folder)
        assert r.exit_code == 0 and "no runs found" in r.stdout
        assert "trial 1 was running when the sweep process died" in r.stderr
    finally:
        sweep.close()
    assert not list(folder.glob(".live-*.lock"))
    # without its lock file, the pid tells: this process is alive
    assert sweep_state(folder)["trials"]["0"]["status"] == "running"


def test_a_runs_dir_that_is_a_file_is_one_error_line_exit_2(cli, tmp_path):
    """`--runs-dir FILE` (or a file where the sweep's folder goes) names it and the fix,
    exit 2 (it was 'Not a directory', exit 1); `runs compare --sweep` given some other file
    does not advise deleting it."""
    sw = _sweep_file(tmp_path, {"model.units": [2, 3]})
    afile = tmp_path / "afile"
    afile.write_text("x")
    for extra in ([], ["--index", "0"]):
        r = cli("sweep", sw, "--runs-dir", afile, *extra)
        assert r.exit_code == 2, r.output
        assert r.stderr.strip() == (
            f"error: {afile}: this is a file, not a directory: choose another --runs-dir "
            "(or sweep name)"
        )
    runs = tmp_path / "runs"
    (runs / "_sweeps").mkdir(parents=True)
    (runs / "_sweeps" / "sw").write_text("x")
    r = cli("sweep", sw, "--runs-dir", runs)
    assert r.exit_code == 2 and f"{runs / '_sweeps' / 'sw'}: this is a file" in r.stderr
    r = cli("runs", "compare", "--sweep", afile)
    assert r.exit_code == 2 and "not a sweep directory" in r.stderr and "delete" not in r.stderr
    assert afile.read_text() == "x"


def test_index_continues_the_run_of_a_killed_trial(cli, tmp_path):
    """`sweep --index I` rerun after a preemption (a Slurm requeue) continues the trial's run,
    as the `--list` commands (`--resume auto`) do; it started a second run from epoch 1."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    raw = dict(TINY_LADYBUG, train=dict(TINY_LADYBUG["train"], epochs=3))
    base = write_config(tmp_path, raw, "base.yaml")
    sw = tmp_path / "sw.yaml"
    sw.write_text(yaml.safe_dump({"base": base.name, "grid": {"model.units": [3, 4]}}))
    runs = tmp_path / "runs"
    hook = Path(__file__).with_name("kill_hook.py")
    env = {**os.environ, "KILL_AT": "batch:2:2", "PYTHONPATH": str(ROOT)}
    argv = ["sweep", str(sw), "--index", "1", "--runs-dir", str(runs)]
    p = subprocess.run([sys.executable, str(hook), *argv], env=env, capture_output=True)
    assert p.returncode == -9, p.stderr.decode()[-2000:]
    (partial,) = [d for d in (runs / raw["name"]).iterdir() if d.is_dir()]
    r = cli("sweep", sw, "--index", "1", "--runs-dir", runs, "--json")
    assert r.exit_code == 0, r.output
    (trial,) = json.loads(r.stdout)["trials"]
    assert trial["status"] == "completed" and Path(trial["run_dir"]) == partial
    assert [d for d in (runs / raw["name"]).iterdir() if d.is_dir()] == [partial]
    meta = json.loads((partial / "meta.json").read_text())
    assert meta["epochs_completed"] == 3 and meta["resumes"][0]["from_epoch"] == 1
    state = json.loads((runs / "_sweeps" / "sw" / "sweep.json").read_text())
    assert state["trials"]["1"]["status"] == "completed"
    assert state["trials"]["1"]["run_dir"] == str(partial.resolve())


def test_a_trial_killed_by_sigkill_says_so_and_keeps_its_run(tmp_path, monkeypatch):
    """A trial process killed on its own (the OOM killer, a kill -9) was recorded as failed
    with 'exit code -9' and no run directory, though it had one."""
    import signal
    import threading
    import time

    from seqrun.engine.sweep import run_trial_subprocess

    sw = _sweep_file(tmp_path, {"train.epochs": [500]})
    runs = tmp_path / "runs"
    sweep = Sweep(sw, runs)
    (trial,) = sweep.trials
    procs: dict = {}

    def kill_once_training() -> None:
        end = time.time() + 240
        while not list(runs.glob("tiny-ladybug/*/history.csv")) and time.time() < end:
            time.sleep(0.2)
        procs[0].send_signal(signal.SIGKILL)

    killer = threading.Thread(target=kill_once_training)
    monkeypatch.setenv("SEQRUN_THREADS", "1")
    killer.start()
    try:
        run_trial_subprocess(sweep, trial, None, procs)
    finally:
        killer.join()
    (run_dir,) = runs.glob("tiny-ladybug/*/meta.json")
    assert trial.status == "failed"
    assert trial.error.startswith("killed by SIGKILL (out of memory, or a kill -9)")
    assert Path(trial.run_dir) == run_dir.parent


def _sweep_proc(sw: Path, runs: Path, *extra: str):
    """`seqrun sweep` as a process of its own (as on another machine), one thread each."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "PYTHONPATH": str(ROOT), "SEQRUN_THREADS": "1"}
    cmd = [sys.executable, "-m", "seqrun", "sweep", str(sw), "--runs-dir", str(runs), *extra]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_sweep_whose_reader_leaves_early_runs_every_trial(tmp_path):
    """`seqrun sweep sw.yaml 2>&1 | head -1`: the reader leaves after the first trial line;
    the sweep goes on (it stopped at the next line with exit 0, the other trials pending)."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    sw = _sweep_file(tmp_path, {"model.units": [3, 5]})
    runs = tmp_path / "runs"
    read, write = os.pipe()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SEQRUN_THREADS": "1"}
    cmd = [sys.executable, "-m", "seqrun", "sweep", str(sw), "--runs-dir", str(runs)]
    p = subprocess.Popen(cmd, env=env, stdout=write, stderr=write)
    os.close(write)
    with os.fdopen(read, "rb") as reader:
        assert b"started" in reader.readline()
    assert p.wait(timeout=300) == 0
    state = json.loads((runs / "_sweeps" / "sw" / "sweep.json").read_text())
    assert [t["status"] for t in state["trials"].values()] == ["completed", "completed"]


def test_two_sweep_processes_share_the_trials_and_neither_reports_the_others_failed(tmp_path):
    """Two `seqrun sweep` of one sweep file started at once (two machines sharing the runs
    directory) each reported the other's trials `FAILED: another seqrun train --resume auto
    ... is running` and exited 1. Now each skips a trial the other trains, waits for it, and
    both end with exit 0 and every trial completed, each trained once."""
    sw = _sweep_file(tmp_path, {"model.units": [3, 4, 5]})
    runs = tmp_path / "runs"
    procs = [_sweep_proc(sw, runs) for _ in range(2)]
    outs = [p.communicate(timeout=400) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]
        assert "FAILED" not in err and "another `seqrun train" not in err, err
        assert "sweep sw: 3 completed" in err, err  # the summary covers the whole sweep
    errs = "".join(err for _, err in outs)
    assert "trained by another process (pid " in errs, errs
    state = json.loads((runs / "_sweeps" / "sw" / "sweep.json").read_text())
    assert [state["trials"][str(i)]["status"] for i in range(3)] == ["completed"] * 3
    run_dirs = sorted(p.parent for p in runs.glob("tiny-ladybug/*/meta.json"))
    assert len(run_dirs) == 3, "a trial was trained twice"
    assert sorted(Path(t["run_dir"]) for t in state["trials"].values()) == [
        d.resolve() for d in run_dirs
    ]
    assert not list((runs / "_sweeps" / "sw").glob(".live-*.lock"))


def test_a_trial_another_process_holds_is_waited_for_then_run_here(tmp_path):
    """A `seqrun train --resume auto` of a trial's config running beside the sweep (a --list
    command, another sweep of the same config): the sweep's trial is refused; it is not a
    failure, its sweep.json entry is not marked failed, and when that process ends without a
    run the sweep trains the trial itself."""
    import time

    from seqrun.core.runs import FileLock

    sw = _sweep_file(tmp_path, {"model.units": [3]})
    runs = tmp_path / "runs"
    (trial,) = Sweep(sw, runs).trials  # the lock a `seqrun train --resume auto` holds
    lock = FileLock(runs / trial.name / f".resume-auto-{trial.key}.lock", remove=True)
    assert lock.acquire()  # this test is "the other process"
    proc = _sweep_proc(sw, runs)
    try:
        state_path = runs / "_sweeps" / "sw" / "sweep.json"
        end = time.time() + 240
        while "trained by another" not in (state_path.read_text() if state_path.exists() else ""):
            assert proc.poll() is None and time.time() < end, proc.communicate()
            time.sleep(0.2)
        entry = json.loads(state_path.read_text())["trials"]["0"]
        assert entry["status"] == "pending"
        assert f"trained by another process (pid {os.getpid()} on " in entry["error"]
        time.sleep(3)
        assert proc.poll() is None  # waiting for it
    finally:
        lock.release()
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    assert "FAILED" not in err and "model.units=3: started" in err, err
    state = json.loads(state_path.read_text())
    assert state["trials"]["0"]["status"] == "completed", state
    assert state["trials"]["0"]["error"] is None


def test_the_trials_of_a_sweep_process_that_dies_are_continued_by_the_other(cli, tmp_path):
    """A trial recorded running by another live sweep process is skipped and waited for; that
    process killed, this one trains the trial, so the sweep still ends completed."""
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT

    sw = _sweep_file(tmp_path, {"model.units": [3]})
    runs = tmp_path / "runs"
    code = (
        "import os, sys, time\nfrom pathlib import Path\nfrom seqrun.engine.sweep import Sweep\n"
        "s = Sweep(sys.argv[1], Path(sys.argv[2]))\nt = s.trials[0]\nt.status = 'running'\n"
        "s.record(t)\nprint('ready', flush=True)\ntime.sleep(6)\nos._exit(0)\n"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", code, str(sw), str(runs)], cwd=ROOT, stdout=subprocess.PIPE
    )
    try:
        assert other.stdout.readline() == b"ready\n"
        t0 = time.time()
        r = cli("sweep", sw, "--runs-dir", runs, "--json")
    finally:
        other.kill()
        other.wait()
    assert r.exit_code == 0, r.output
    assert f"trained by another process (pid {other.pid} on " in r.stderr
    assert "ELSEWHERE" not in r.stderr  # said as a note, not shouted as a failure
    assert time.time() - t0 > 3  # it waited for the other process
    (trial,) = json.loads(r.stdout)["trials"]
    assert trial["status"] == "completed"
    state = json.loads((runs / "_sweeps" / "sw" / "sweep.json").read_text())
    assert state["trials"]["0"]["status"] == "completed"


def test_runs_compare_of_runs_without_metrics_says_there_is_nothing_to_compare(cli, tmp_path):
    """Two interrupted runs (no metrics) printed an empty 'mean +- std over seeds' table."""
    import yaml as _yaml

    from seqrun.core.runs import Run, write_json

    paths = []
    for i, seed in enumerate((0, 1)):
        run = Run(tmp_path / "runs" / "exp" / f"20260101-00000{i}-00000{i}")
        write_json(run.meta_path, {"status": "interrupted", "config_key": f"k{seed}"})
        run.config_path.write_text(_yaml.safe_dump({"name": "exp", "seed": seed}))
        paths.append(str(run.path))
    for extra in ([], ["--json"], ["--sort", "mae"]):
        r = cli("runs", "compare", *paths, *extra)
        assert r.exit_code == 2, r.output
        assert r.stdout == "" and "mean +- std" not in r.output
        assert "nothing to compare: none of the 2 runs has dev metrics" in r.stderr
        assert "20260101-000000-000000 (interrupted)" in r.stderr
        assert "seqrun train --resume RUN" in r.stderr


def test_a_set_over_the_sweeps_set_is_listed_once(cli, tmp_path):
    """`runs list` showed 'train.epochs=2 train.epochs=1' for a --set over the sweep's set:."""
    sw = _sweep_file(tmp_path, {"model.units": [3]})
    spec = yaml.safe_load(sw.read_text())
    sw.write_text(yaml.safe_dump({**spec, "set": ["train.epochs=2"]}))
    runs = tmp_path / "runs"
    r = cli("sweep", sw, "--runs-dir", runs, "--set", "train.epochs=1", "--json")
    assert r.exit_code == 0, r.output
    run_dir = Path(json.loads(r.stdout)["trials"][0]["run_dir"])
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["overrides"] == ["train.epochs=2", "train.epochs=1", "model.units=3"]
    assert meta["epochs_completed"] == 1  # the last one wins
    rows = json.loads(cli("runs", "list", "--runs-dir", runs, "--json").stdout)
    assert rows[0]["overrides"] == ["train.epochs=1", "model.units=3"]


def test_a_run_is_marked_even_when_more_sigterms_follow(tmp_path):
    """A sweep killed with SIGKILL sends its trial one SIGTERM per thread it had; the SIGTERMs
    after the first must not cut the marking of the run short (it stayed 'running': the
    default action of SIGTERM killed the process inside Run.finish)."""
    import subprocess
    import sys

    from seqrun.core.runs import Run, create_run
    from tests.conftest import ROOT

    run = create_run(tmp_path, "marked")
    run.update_meta(status="running")
    code = f"""
import os, signal
from seqrun.core.runs import Run

class Signalled(Run):
    def update_meta(self, **fields):
        os.kill(os.getpid(), signal.SIGTERM)  # the next SIGTERM, while the run is marked
        os.kill(os.getpid(), signal.SIGINT)
        super().update_meta(**fields)

Signalled({str(run.path)!r}).finish("interrupted", error="the sweep ended")
print("went on")
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "went on", out.stderr
    meta = Run(run.path).meta()
    assert (meta["status"], meta["error"]) == ("interrupted", "the sweep ended")


def test_a_dying_parent_is_told_from_a_live_one():
    """orphaned() must see a parent that is being killed before the last of its threads has
    handed this process on (getppid() still names it): a zombie or a gone process is dying,
    a live one is not."""
    import subprocess
    import time

    from seqrun.engine.processes import dying

    live = subprocess.Popen(["sleep", "30"])
    ended = subprocess.Popen(["true"])
    try:
        deadline = time.time() + 10
        while not dying(ended.pid) and time.time() < deadline:  # a zombie until reaped
            time.sleep(0.05)
        assert dying(ended.pid) and not dying(live.pid)
    finally:
        live.kill()
        live.wait()
        ended.wait()
    assert dying(ended.pid)  # reaped: gone
