"""`seqrun tune`: study validation, pruning, the --json summary, the report, kill -9 and a rerun,
two processes on one storage."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from seqrun.core.errors import UserError
from tests.conftest import ROOT, TINY_LADYBUG, last_json, write_config

optuna = pytest.importorskip("optuna")


def _study(tmp_path: Path, **fields) -> Path:
    base = {**TINY_LADYBUG, "train": {**TINY_LADYBUG["train"], "epochs": 3, "monitor": "mae"}}
    write_config(tmp_path, base)
    spec = {
        "base": "exp.yaml",
        "space": {
            "train.learning_rate": {"choice": [1e-8, 0.03]},
            "model.units": {"int": [4, 8]},
        },
        "trials": 4,
        "sampler": "random",
        "pruner": {"median": {"n_startup_trials": 1}},
        **fields,
    }
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _load(storage: str, name: str = "study"):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if "://" not in storage:
        storage = JournalStorage(JournalFileBackend(storage))
    return optuna.load_study(study_name=name, storage=storage)


def _journal(runs: Path, name: str = "study") -> str:
    return str(runs / "_studies" / name / "journal.log")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"spaec": {}}, "unknown key 'spaec' (did you mean 'space'?)"),
        ({"space": {}}, "the space is empty"),
        ({"space": {"model.units": {"int": [8, 4]}}}, "int low 8 is above high 4"),
        ({"space": {"model.units": {"normal": [4, 8]}}}, "must be one of"),
        ({"space": {"model.unitz": {"int": [4, 8]}}}, "model.unitz"),
        ({"space": {"model.units": {"uniform": [4, 8]}}}, "model.units"),
        ({"sampler": "annealing"}, "unknown sampler 'annealing'"),
        ({"pruner": {"median": {"n_warmup": 1}}}, "(did you mean 'n_warmup_steps'?)"),
        ({"sampler": {"tpe": {"n_startup_trial": 5}}}, "did you mean 'n_startup_trials'"),
        (
            {"sampler": {"tpe": {"n_startup_trials": -3}}},
            "sampler: sampler.tpe.n_startup_trials must be a whole number of at least 0, got -3",
        ),
        ({"sampler": {"tpe": {"n_ei_candidates": 0}}}, "n_ei_candidates must be a whole"),
        ({"pruner": {"hyperband": {"reduction_factor": 1}}}, "reduction_factor must be a whole"),
        ({"pruner": {"hyperband": {"min_resource": -2}}}, "min_resource must be a whole"),
        ({"pruner": {"hyperband": {"min_resource": 4, "max_resource": 2}}}, "above max_resource"),
        ({"pruner": {"median": {"n_warmup_steps": 1.5}}}, "n_warmup_steps must be a whole"),
        ({"name": "../escape"}, "cannot be a directory name"),
        ({"sampler": "grid", "space": {"train.learning_rate": {"uniform": [0.1, 0.2]}}}, "grid"),
        ({"set": ["model.units=16"]}, "fixes 'model.units', which space varies"),
        ({"set": ["train.epochs=1", "model.untis=4"]}, "set[1]: unknown key 'model.untis'"),
        ({"set": ["train.epochs"]}, "set[0]: expected KEY=VALUE"),
        ("typo", "study.yaml:2 spce: unknown key 'spce' (did you mean 'space'?)"),
        ("dup", "study.yaml:4: duplicate key 'space.model.units' (lines 3 and 4)"),
        ("cp1252", "study.yaml: not UTF-8 text"),
    ],
)
def test_bad_study_files_exit_2_before_any_trial(cli, tmp_path, change, message):
    if isinstance(change, str):  # what the YAML parser sees: the text itself
        study = _study(tmp_path)
        text = {
            "dup": "base: exp.yaml\nspace:\n  model.units: {int: [4, 8]}\n"
            "  model.units: {int: [2, 3]}\n",
            "cp1252": "base: exp.yaml  # modèle\nspace: {model.units: {int: [4, 8]}}\n",
            "typo": "base: exp.yaml\nspce: {model.units: {int: [4, 8]}}\n",
        }[change]
        study.write_bytes(text.encode("cp1252"))
    else:
        study = _study(tmp_path, **change)
    runs = tmp_path / "runs"
    r = cli("tune", study, "--runs-dir", runs)
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert message in lines[0]
    assert not runs.exists()  # no study directory, no run directory


def test_sampler_and_pruner_errors_name_the_line_of_the_study_file(cli, tmp_path):
    study = _study(tmp_path, sampler={"tpe": {"n_startup_trial": 5}})
    line = next(i for i, t in enumerate(study.read_text().splitlines(), 1) if "sampler" in t)
    r = cli("tune", study, "--runs-dir", tmp_path / "runs")
    assert r.exit_code == 2 and r.stderr.startswith(f"error: {study}:{line} sampler: "), r.stderr


def test_a_study_without_trials_says_so(cli, tmp_path):
    """--timeout 0 asks for no trial: the summary says there are none, not an empty count."""
    r = cli("tune", _study(tmp_path), "--timeout", "0", "--runs-dir", tmp_path / "runs")
    assert r.exit_code == 0, r.output
    assert r.stderr.strip().splitlines()[-1] == "study study: no trials yet", r.stderr


def test_a_damaged_journal_says_how_to_start_again(cli, tmp_path):
    """A journal line that is not JSON (a copy gone wrong, a hand edit) was Optuna's bare
    "cannot open the study: Expecting value ..."; now it names the journal and the fix."""
    runs = tmp_path / "runs"
    journal = Path(_journal(runs))
    journal.parent.mkdir(parents=True)
    journal.write_text("garbage line\n")
    for extra in ([], ["--report"]):
        r = cli("tune", _study(tmp_path), "--timeout", "0", "--runs-dir", runs, *extra)
        assert r.exit_code == 2, r.output
        assert r.stderr == (
            f"error: {journal}: the journal is damaged (a line in it is not JSON); move it away "
            "to start the study again (its runs stay), or give another --storage\n"
        )


def test_a_torn_journal_line_is_cut_and_the_study_goes_on(cli, tmp_path):
    """A journal whose last line a full disk (or a kill) cut short: the next `seqrun tune`
    appended its first operation to it, a line that is not JSON, and the study could never be
    read again (JSONDecodeError, exit 1); now the torn line is cut off on opening."""
    runs = tmp_path / "runs"
    journal = Path(_journal(runs))
    journal.parent.mkdir(parents=True)
    study = optuna.create_study(study_name="study", storage=_storage(journal))
    study.tell(study.ask(), 0.5)
    whole = journal.read_bytes()
    with journal.open("ab") as f:
        f.write(b'{"op_code":5,"worker_id":"w","trial_id"')  # the write the disk refused
    spec = _study(tmp_path)
    for _ in range(2):  # the second reads what the first appended
        r = cli("tune", spec, "--timeout", "0", "--runs-dir", runs)
        assert r.exit_code == 0, r.output
    text = journal.read_bytes()
    assert text.startswith(whole) and text.endswith(b"\n")
    assert all(json.loads(line) for line in text.splitlines())
    assert len(_load(str(journal)).get_trials()) == 1


def test_a_journal_write_the_disk_refuses_leaves_no_torn_line(tmp_path):
    """A journal append the disk refuses is an OSError naming the journal (the line named no
    file), and the journal keeps its whole lines only."""
    journal = tmp_path / "journal.log"
    study = optuna.create_study(study_name="study", storage=_storage(journal))
    study.tell(study.ask(), 0.5)
    size = journal.stat().st_size
    code = (
        "import errno, resource\n"
        "from seqrun.engine.tune import journal_backend\n"
        f"backend = journal_backend({str(journal)!r})\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({size + 40}, resource.RLIM_INFINITY))\n"
        "try:\n"
        "    backend.append_logs([{'op_code': 4, 'worker_id': 'w' * 200, 'study_id': 0}])\n"
        "except OSError as e:\n"
        "    print(errno.errorcode[e.errno], e.filename)\n"
    )
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert p.stdout.split() == ["EFBIG", str(journal)], p.stdout + p.stderr
    assert journal.stat().st_size == size
    assert len(_load(str(journal)).get_trials()) == 1


def _storage(journal: Path):
    """A journal storage written through seqrun's backend."""
    from optuna.storages import JournalStorage

    from seqrun.engine.tune import journal_backend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return JournalStorage(journal_backend(str(journal)))


def test_tune_help_and_a_bad_study_import_neither_tensorflow_nor_optuna_at_start(tmp_path):
    from tests.test_cli_fast import _modules_after

    mods = _modules_after(["tune", "--help"])
    assert not {"tensorflow", "keras", "optuna", "plotly"} & mods
    bad = _study(tmp_path, space={})
    mods = _modules_after(["tune", str(bad), "--runs-dir", str(tmp_path / "runs")])
    assert "tensorflow" not in mods and "keras" not in mods


@pytest.mark.parametrize("name", ["../out", "/tmp/abs", "a/b", ".hidden"])
def test_experiment_names_that_would_leave_the_runs_dir_are_refused(cli, tmp_path, name):
    study = _study(tmp_path)
    write_config(tmp_path, {**TINY_LADYBUG, "name": name})
    r = cli("tune", study, "--runs-dir", tmp_path / "runs")
    assert r.exit_code == 2 and "name" in r.stderr and r.stderr.count("\n") == 1, r.output
    assert not (tmp_path / "runs").exists()


def test_direction_is_declared_by_the_metric_set():
    from seqrun.metrics import ClassificationMetrics, ForecastMetrics, RegressionMetrics, direction

    assert direction(ClassificationMetrics, "accuracy") == "max"
    assert direction(ClassificationMetrics(), "dev_auc") == "max"
    assert direction(ClassificationMetrics, "loss") == "min"
    assert direction(RegressionMetrics, "mae") == "min"
    assert direction(ForecastMetrics, "skill") == "max"

    class Plugin:  # a metric set that declares nothing
        headline = ("accuracy",)

    with pytest.raises(UserError, match="does not declare"):
        direction(Plugin, "accuracy")  # no guess from the name


def test_study_prunes_reports_json_and_writes_report(cli, tmp_path):
    study = _study(tmp_path)
    runs = tmp_path / "runs"
    r = cli("tune", study, "--runs-dir", runs, "--json")
    assert r.exit_code == 0, r.output
    summary = last_json(r.stdout)
    stored = _load(_journal(runs))
    trials = stored.get_trials()
    states = [t.state.name for t in trials]
    assert states.count("PRUNED") >= 1 and states.count("COMPLETE") >= 1, states
    assert len(trials) == 4
    expected = {s.lower(): states.count(s) for s in set(states)}
    assert summary["counts"] == expected
    assert summary["direction"] == "minimize" and summary["monitor"] == "dev_mae"
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    best = min(complete, key=lambda t: t.value)
    assert summary["best_value"] == pytest.approx(best.value)
    assert summary["best_params"] == best.params
    assert summary["epochs"] == sum(len(t.intermediate_values) for t in trials)

    pruned = next(t for t in trials if t.state.name == "PRUNED")
    run = Path(pruned.user_attrs["run_dir"])
    meta = json.loads((run / "meta.json").read_text())
    assert meta["status"] == "pruned"
    assert meta["study"] == "study" and meta["trial"] == pruned.number
    with open(run / "history.csv") as f:
        history = list(csv.DictReader(f))
    assert len(history) == len(pruned.intermediate_values) < 3  # stopped after that epoch
    # the values the pruner saw are the ones in history.csv
    assert [float(row["dev_mae"]) for row in history] == [
        pytest.approx(pruned.intermediate_values[e]) for e in sorted(pruned.intermediate_values)
    ]
    assert (run / "checkpoints" / "best.keras").is_file()
    assert (run / "metrics" / "dev.json").is_file()

    listed = cli("runs", "list", "--runs-dir", runs, "--status", "pruned", "--json")
    assert {row["path"] for row in json.loads(listed.stdout)} >= {str(run)}

    # the best trial's best dev value is the objective: the value in its history
    best_run = Path(best.user_attrs["run_dir"])
    with open(best_run / "history.csv") as f:
        values = [float(row["dev_mae"]) for row in csv.DictReader(f)]
    assert best.value == pytest.approx(min(values))

    r = cli("tune", study, "--runs-dir", runs, "--report", "--json")
    assert r.exit_code == 0, r.output
    report = Path(last_json(r.stdout)["report"])
    page = report.read_text()
    assert "Optimisation history" in page and "Parallel coordinates" in page
    assert "Pruned vs complete trials per epoch" in page
    assert "Plotly.newPlot" in page and len(page) > 1_000_000  # plotly.js is inline
    assert not re.search(r"<script[^>]*\bsrc=", page)  # nothing loaded from the network
    assert page.count("<script") >= 3
    from seqrun.core.config import config_key, load_config

    best_yaml = report.parent / "best.yaml"
    best_meta = json.loads((best_run / "meta.json").read_text())
    assert config_key(load_config(best_yaml)) == best_meta["config_key"]

    r = cli("report", report.parent)  # `seqrun report` on the study directory
    assert r.exit_code == 0 and r.stdout.strip() == str(report), r.output

    # rerunning the finished study trains nothing more
    r = cli("tune", study, "--runs-dir", runs, "--json")
    assert last_json(r.stdout)["counts"] == expected


def _wait_for(predicate, timeout: float, what: str) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "SEQRUN_THREADS": "1"}


def _start_tune(tmp_path: Path, trials: int, *args: str):
    """A tiny ladybug study run by a `seqrun tune` process: (study, runs, process, journal)."""
    study = _study(tmp_path, trials=trials, pruner="none", set=["data.scale=0.05"])
    runs = tmp_path / "runs"
    cmd = [sys.executable, "-m", "seqrun", "tune", str(study), "--runs-dir", str(runs), *args]
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return study, runs, proc, _journal(runs)


def _trials_while_running(proc: subprocess.Popen, journal: str) -> list:
    """The study's trials so far ([] before the journal exists); an AssertionError with its
    stderr when the tune process has ended."""
    if proc.poll() is not None:
        raise AssertionError(proc.stderr.read().decode())
    return _load(journal).get_trials() if Path(journal).is_file() else []


def test_kill_9_then_rerun_finishes_without_losing_trials(cli, tmp_path):
    study, runs, proc, journal = _start_tune(tmp_path, 3)

    def one_done_one_running() -> bool:
        trials = _trials_while_running(proc, journal)
        training = [t for t in trials if t.state.name == "RUNNING" and "run_dir" in t.user_attrs]
        return any(t.state.name == "COMPLETE" for t in trials) and bool(training)

    try:
        _wait_for(one_done_one_running, 240, "a complete trial and one training")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    before = {t.number: t for t in _load(journal).get_trials()}
    killed = [n for n, t in before.items() if t.state.name == "RUNNING"]
    done = {n: t.value for n, t in before.items() if t.state.name == "COMPLETE"}
    assert killed and done
    # readers tell the trial of the dead process from a running one (the storage cannot)
    r = cli("tune", study, "--runs-dir", runs, "--report", "--json")
    assert r.exit_code == 0, r.output
    shown = last_json(r.stdout)["counts"]
    assert shown.get("dead") == len(killed) and "running" not in shown, shown

    r = cli("tune", study, "--runs-dir", runs, "--json")
    assert r.exit_code == 0, r.output
    after = {t.number: t for t in _load(journal).get_trials()}
    for n, value in done.items():  # no completed trial lost or changed
        assert after[n].state.name == "COMPLETE" and after[n].value == value
    for n in killed:  # the interrupted trial failed; its budget was given back
        assert after[n].state.name == "FAIL"
        run = Path(after[n].user_attrs["run_dir"])
        assert json.loads((run / "meta.json").read_text())["status"] == "failed"
    assert sum(t.state.name == "COMPLETE" for t in after.values()) == 3
    assert last_json(r.stdout)["counts"]["complete"] == 3


def test_two_processes_on_one_storage_make_distinct_trials(tmp_path):
    study = _study(tmp_path, trials=4, pruner="none", sampler="tpe", set=["train.epochs=1"])
    runs = tmp_path / "runs"
    url = f"sqlite:///{tmp_path / 'study.db'}"
    cmd = [sys.executable, "-m", "seqrun", "tune", str(study), "--runs-dir", str(runs)]
    cmd += ["--storage", url, "--json"]
    procs = [
        subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err.decode()[-2000:]
    trials = _load(url).get_trials()
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert 4 <= len(complete) <= 5  # two processes may both start the last trial
    assert len({t.number for t in trials}) == len(trials)
    run_dirs = {t.user_attrs["run_dir"] for t in complete}
    assert len(run_dirs) == len(complete)
    assert len({t.user_attrs["pid"] for t in trials}) == 2  # both processes ran trials
    for t in complete:
        meta = json.loads((Path(t.user_attrs["run_dir"]) / "meta.json").read_text())
        assert meta["trial"] == t.number and meta["status"] == "completed"
    finals = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outs]
    assert all(f["storage"] == url for f in finals)


def test_worker_command_reaches_the_same_study(tmp_path):
    from seqrun.engine.tune import Study, WorkerPool

    runs = tmp_path / "runs"
    st = Study(_study(tmp_path), runs, ["train.batch_size=32"], None)
    pool = WorkerPool(st, 2, 6, None)
    cmd = pool.command(pool.trials[1], runs_dir_flag=True)
    assert cmd[:4] == ["seqrun", "tune", str(st.path.resolve()), "--worker"]
    assert cmd[cmd.index("--storage") + 1] == st.storage_url  # one shared storage
    assert cmd[cmd.index("--set") + 1] == "train.batch_size=32"
    assert cmd[cmd.index("--trials") + 1] == "6"
    assert len(pool.trials) == 2


def test_ray_executor_runs_worker_tasks(cli, tmp_path):
    pytest.importorskip("ray")
    study = _study(tmp_path, trials=2, pruner="none", set=["train.epochs=1"])
    runs = tmp_path / "runs"
    r = cli("tune", study, "--runs-dir", runs, "--executor", "ray", "--workers", "2", "--json")
    assert r.exit_code == 0, r.output
    assert last_json(r.stdout)["counts"].get("complete", 0) >= 2


def test_grid_sampler_covers_the_grid_once_and_stops(cli, tmp_path):
    study = _study(
        tmp_path,
        space={"model.units": {"choice": [4, 6]}},
        sampler="grid",
        pruner="none",
        trials=5,
        set=["train.epochs=1"],
    )
    runs = tmp_path / "runs"
    r = cli("tune", study, "--runs-dir", runs, "--json")
    assert r.exit_code == 0, r.output
    assert last_json(r.stdout)["counts"] == {"complete": 2}  # the budget is capped at the grid
    trials = _load(_journal(runs)).get_trials()
    assert sorted(t.params["model.units"] for t in trials) == [4, 6]


def test_tpe_learns_within_a_small_budget_and_study_options_win(tmp_path):
    from seqrun.engine.tune import Study

    st = Study(_study(tmp_path, sampler="tpe"), tmp_path / "runs", [], None)
    # Optuna's default of 10 random trials would leave a 12-trial study random throughout
    assert st.make_sampler(0, 12)._n_startup_trials == 3
    assert st.make_sampler(0, 100)._n_startup_trials == 10
    assert st.make_sampler(0)._n_startup_trials == 3  # the study's own 4 trials
    own = Study(
        _study(tmp_path, sampler={"tpe": {"n_startup_trials": 7}}), tmp_path / "runs", [], None
    )
    assert own.make_sampler(0, 12)._n_startup_trials == 7


HOOK = Path(__file__).with_name("kill_hook.py")


def _hooked(spec: str, args: list[str]) -> subprocess.CompletedProcess:
    """`seqrun ARGS` under tests/kill_hook.py with KILL_AT=SPEC (a signal at an exact point)."""
    env = {**_env(), "KILL_AT": spec}
    cmd = [sys.executable, str(HOOK), *[str(a) for a in args]]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("where", ["claimed", "summary"])
def test_interrupted_trial_is_failed_at_once_and_its_budget_given_back(cli, tmp_path, where):
    # SIGINT after the trial was asked (before it trains), or while its run directory is written
    study = _study(tmp_path, trials=1, pruner="none", set=["train.epochs=1"])
    runs = tmp_path / "runs"
    p = _hooked(f"signal:INT:{where}", ["tune", study, "--runs-dir", runs])
    assert p.returncode == 130, p.stderr[-2000:]
    assert p.stderr.strip().splitlines()[-1].startswith("error: tune interrupted"), p.stderr
    (trial,) = _load(_journal(runs)).get_trials()
    assert trial.state.name == "FAIL", "the interrupted trial was left running"
    assert trial.user_attrs["pid"] and trial.user_attrs["error"] == "interrupted"
    if where == "summary":
        meta = json.loads((Path(trial.user_attrs["run_dir"]) / "meta.json").read_text())
        assert meta["status"] == "interrupted"
    r = cli("tune", study, "--runs-dir", runs, "--json")  # at once: nothing waits on it
    assert r.exit_code == 0, r.output
    assert last_json(r.stdout)["counts"] == {"fail": 1, "complete": 1}


def test_ctrl_c_while_a_trial_is_scored_stops_the_study(tmp_path):
    study = _study(tmp_path, trials=3, pruner="none", set=["train.epochs=1"])
    runs = tmp_path / "runs"
    p = _hooked("signal:INT:score", ["tune", study, "--runs-dir", runs])
    assert p.returncode == 130, p.stderr[-2000:]
    states = [t.state.name for t in _load(_journal(runs)).get_trials()]
    assert states == ["FAIL"], f"tune went on after Ctrl-C: {states}"


def test_a_trial_no_process_claimed_is_not_counted_forever(cli, tmp_path):
    from seqrun.engine.tune import ASK_GRACE_S

    study = _study(tmp_path, trials=1, pruner="none", set=["train.epochs=1"])
    runs = tmp_path / "runs"
    r = cli("tune", study, "--runs-dir", runs, "--json")
    assert r.exit_code == 0, r.output
    _load(_journal(runs)).ask()  # a process interrupted inside ask: no pid was recorded
    t0 = time.time()
    r = cli("tune", study, "--runs-dir", runs, "--trials", "2", "--json")
    assert r.exit_code == 0, r.output
    assert last_json(r.stdout)["counts"] == {"complete": 2, "fail": 1}
    assert time.time() - t0 >= ASK_GRACE_S - 1  # a trial just asked is not failed at once


def test_a_dead_trial_whose_run_a_live_process_resumes_keeps_its_run_running(tmp_path):
    """A tune killed with SIGKILL leaves its trial running; the user resumes the trial's run
    (`seqrun train --resume RUN`) and a tune is started again: failing the dead trial wrote
    `failed` into the meta.json of the run that the resume was training."""
    import socket

    from seqrun.core.runs import FileLock, Run, write_json
    from seqrun.engine.tune import fail_stale

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # the killed tune's pid: no process now
    study = optuna.create_study()
    runs = []
    for name in ("resumed", "dead"):
        run = Run(tmp_path / name)
        write_json(run.meta_path, {"status": "running", "config_key": "k"})
        trial = study.ask()
        trial.set_user_attr("pid", gone.pid)
        trial.set_user_attr("host", socket.gethostname())
        trial.set_user_attr("run_dir", str(run.path))
        runs.append(run)
    with FileLock(runs[0].lock_path) as lock:  # the resume of the first trial's run
        assert lock.acquire()
        assert fail_stale(study) == [0, 1]  # both trials failed, in the study
        assert runs[0].meta()["status"] == "running"
        assert runs[1].meta()["status"] == "failed"


def test_sigint_to_the_parent_of_workers_stops_them(tmp_path):
    _, _, proc, journal = _start_tune(tmp_path, 6, "--workers", "2")

    def training() -> bool:
        trials = _trials_while_running(proc, journal)
        return any(t.state.name == "RUNNING" and "run_dir" in t.user_attrs for t in trials)

    try:
        _wait_for(training, 240, "a trial training")
        asked = len(_load(journal).get_trials())
        proc.send_signal(signal.SIGINT)  # to the parent only, not its process group
        t0 = time.time()
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err.decode()[-2000:]
    assert time.time() - t0 < 60
    trials = _load(journal).get_trials()
    assert not [t.number for t in trials if t.state.name == "RUNNING"]
    assert len(trials) <= asked + 1, "the workers went on asking for trials"
    for t in trials:
        assert not _alive(t.user_attrs["pid"]), "a worker outlived its tune"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_runs_dir_that_is_a_file_is_named_not_the_storage(cli, tmp_path):
    """It blamed --storage ('cannot open the storage: NotADirectoryError')."""
    afile = tmp_path / "afile"
    afile.write_text("x")
    for extra in ([], ["--report"]):
        r = cli("tune", _study(tmp_path), "--runs-dir", afile, *extra)
        assert r.exit_code == 2, r.output
        assert r.stderr.strip() == (
            f"error: {afile}: this is a file, not a directory: choose another --runs-dir "
            "(or study name)"
        )


def test_a_storage_that_cannot_be_opened_is_one_short_line_with_a_fix(cli, tmp_path):
    """SQLAlchemy's message went in whole: the SQL statement and a web link, on escaped
    line breaks, and no word on what to do."""
    notdb = tmp_path / "not.db"
    notdb.write_text("not a database\n" * 50)
    r = cli("tune", _study(tmp_path), "--runs-dir", tmp_path / "runs", "--storage",
            f"sqlite:///{notdb}", "--timeout", "0")  # fmt: skip
    assert r.exit_code == 2, r.output
    assert r.stderr == (
        "error: --storage: cannot open the storage (DatabaseError: "
        "(sqlite3.DatabaseError) file is not a database); check the URL, its driver and the "
        "database, or leave --storage out\n"
    )


def _seqrun(*args: object) -> subprocess.CompletedProcess:
    """`seqrun ARGS` in a process of its own (Python shows a warning once per process)."""
    cmd = [sys.executable, "-m", "seqrun", *map(str, args)]
    return subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True)


def _add_complete_trials(journal: str, values: list[float]) -> None:
    """Complete trials with these dev values, as a `seqrun tune` of the ``_study`` space
    would have told them (no training)."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    stored = _load(journal)
    space = {
        "train.learning_rate": CategoricalDistribution([1e-8, 0.03]),
        "model.units": IntDistribution(4, 8),
    }
    for value in values:
        params = {"train.learning_rate": 0.03, "model.units": 4}
        stored.add_trial(
            optuna.trial.create_trial(
                params=params, distributions=space, value=value, intermediate_values={1: value}
            )
        )


def test_optuna_warnings_of_the_report_are_one_line_in_seqruns_words(tmp_path):
    """Two complete trials with the same dev value: Optuna's PED-ANOVA printed a raw
    'UserWarning: Target and region quantiles select the same set of trials' with a
    site-packages path on stderr of `tune --report` and `seqrun report`."""
    study, runs = _study(tmp_path), tmp_path / "runs"
    p = _seqrun("tune", study, "--runs-dir", runs, "--report")  # creates the empty study
    assert p.returncode == 0 and p.stderr == "", p.stderr
    _add_complete_trials(_journal(runs), [0.5, 0.5])
    folder = runs / "_studies" / "study"
    for args in (["tune", study, "--runs-dir", runs, "--report"], ["report", folder]):
        p = _seqrun(*args)
        assert p.returncode == 0, p.stderr
        assert "Warning" not in p.stderr and "site-packages" not in p.stderr, p.stderr
        (line,) = p.stderr.splitlines()
        assert line.startswith("warning: ") and line.endswith(
            "no parameter importances: the 2 completed trials all reached the same dev value, "
            "so nothing tells the parameters apart yet; run more trials"
        )
        page = (folder / "report.html").read_text()
        assert "Parameter importances</h2>\n<p>not available: the 2 completed trials" in page
    _add_complete_trials(_journal(runs), [0.7, 0.9])  # values that rank: the figure, silently
    p = _seqrun("report", folder)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert "Parameter importances</h2>\n<p>" not in (folder / "report.html").read_text()


def test_a_deprecated_sampler_option_is_one_warning_line_naming_it(tmp_path):
    """Optuna's raw FutureWarning (a site-packages path and its source line, twice) became one
    line that names the study file's option and what to do."""
    if int(optuna.__version__.split(".")[0]) >= 6:
        pytest.skip("consider_prior is gone in Optuna 6")
    study = _study(tmp_path, sampler={"tpe": {"consider_prior": True}})
    p = _seqrun("tune", study, "--runs-dir", tmp_path / "runs", "--report")
    assert p.returncode == 0, p.stderr
    assert p.stderr.splitlines() == [
        f"warning: {study}: sampler tpe: option 'consider_prior' is deprecated since Optuna "
        "4.3.0 (it goes in Optuna 6.0.0); remove it from the study file"
    ]


def test_report_without_the_set_the_study_ran_with_names_them(cli, tmp_path):
    """It said only 'exists in the storage with another base_config_key; give the study
    another name'."""
    from seqrun.engine.tune import Study

    study = _study(tmp_path)
    runs = tmp_path / "runs"
    Study(study, runs, ["train.epochs=1", "model.dropout=0.1"]).open()
    r = cli("tune", study, "--runs-dir", runs, "--report")
    assert r.exit_code == 2, r.output
    line = r.stderr.strip()
    assert "\n" not in line and "Traceback" not in r.output
    assert "was run with other overrides (--set train.epochs=1 --set model.dropout=0.1;" in line
    assert "this command gives no --set" in line and "repeat the same --set" in line
    r = cli("tune", study, "--runs-dir", runs, "--report", "--set", "train.epochs=2")
    assert r.exit_code == 2 and "this command gives --set train.epochs=2)" in r.stderr
    # the same --set reaches the study again
    Study(study, runs, ["train.epochs=1", "model.dropout=0.1"]).open()
    # the same --set but an edited base: restore it, or rename
    base = yaml.safe_load((tmp_path / "exp.yaml").read_text())
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump({**base, "seed": 4}))
    with pytest.raises(UserError, match="same --set but another base config"):
        Study(study, runs, ["train.epochs=1", "model.dropout=0.1"]).open()


def test_a_study_older_than_its_set_record_is_told_the_set_of_its_study_json(tmp_path):
    from seqrun.engine.tune import Study

    study, runs = _study(tmp_path), tmp_path / "runs"
    old = Study(study, runs, ["train.epochs=1"])
    old.dir.mkdir(parents=True)
    stored = optuna.create_study(study_name="study", storage=old.storage(), direction=old.direction)
    stored.set_user_attr("seqrun", json.loads(json.dumps(old.identity())))  # no seqrun_set
    info = {"name": "study", "storage": old.storage_url, "extra_set": ["train.epochs=1"]}
    (old.dir / "study.json").write_text(json.dumps(info))
    with pytest.raises(UserError, match=r"other overrides \(--set train.epochs=1;"):
        Study(study, runs).open()


def test_worker_trial_lines_show_run_dirs_as_the_runs_dir_was_given(cli, tmp_path, monkeypatch):
    """With --workers 2 they were absolute, relative without."""
    study = _study(tmp_path, trials=2, pruner="none", set=["train.epochs=1"])
    monkeypatch.chdir(tmp_path)
    r = cli("tune", study, "--runs-dir", "runs", "--workers", "2")
    assert r.exit_code == 0, r.output
    lines = [x for x in r.stderr.splitlines() if x.startswith("trial ")]
    assert len(lines) >= 2, r.stderr
    for line in lines:
        assert line.split()[-1].startswith("runs/tiny-ladybug/"), line
    assert r.stdout.strip().startswith("runs/tiny-ladybug/")  # the best run, likewise
