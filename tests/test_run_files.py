"""The JSON files of a run are strict JSON (NaN and infinities written as null), and every
reader takes that null as the NaN that older run folders hold: the tables, `runs compare`
(sorting, means, the paired test), `runs show`, `report`, a resume and a sweep's summary give
the same answers for both. A read-only runs directory is one line that says so, and how to
fix it, for every command that writes."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from seqrun.core.runs import Run, to_json, write_json
from tests.conftest import TINY_LADYBUG, write_config


def strict(text: str):
    """``text`` parsed as strict JSON: NaN and Infinity (not JSON) fail."""

    def refuse(constant: str):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def strict_files(root: Path) -> list[Path]:
    """Every JSON file under ``root``, each checked to be strict JSON."""
    files = sorted(root.rglob("*.json"))
    for path in files:
        try:
            strict(path.read_text(encoding="utf-8"))
        except ValueError as e:
            raise AssertionError(f"{path}: {e}") from None
    return files


def test_write_json_writes_nan_and_infinities_of_python_and_numpy_as_null(tmp_path):
    path = tmp_path / "m.json"
    write_json(
        path,
        {
            "mae": float("nan"),
            "rmse": float("inf"),
            "f32": np.float32("nan"),
            "f64": np.float64("-inf"),
            "steps": np.array([0.5, np.nan, np.inf], dtype=np.float32),
            "nested": {"x": [1, float("nan")], "n": np.int64(3)},
            "path": Path("a/b"),
        },
    )
    assert strict(path.read_text()) == {
        "mae": None,
        "rmse": None,
        "f32": None,
        "f64": None,
        "steps": [0.5, None, None],
        "nested": {"x": [1, None], "n": 3},
        "path": "a/b",
    }
    with pytest.raises(ValueError):  # a case json_safe would miss fails loudly, no NaN written
        to_json({"x": object()}, fallback=lambda o: float("nan"))


# ----------------------------------------------------------------------------- readers

UNITS_SEEDS_MAE = [(8, 0, 0.20), (8, 1, 0.22), (16, 0, 0.10), (16, 1, math.nan)]


def _runs(root: Path, style: str) -> list[Run]:
    """Four finished runs (units 8 and 16, seeds 0 and 1), the last one's dev metrics not a
    number (a diverged model), written as seqrun writes them now (``null``) or as older
    seqruns did (``NaN``)."""

    def write(path: Path, obj: dict) -> None:
        if style == "null":
            write_json(path, obj)
        else:  # Python's json default: literal NaN
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(obj, indent=2) + "\n")

    runs = []
    for i, (units, seed, mae) in enumerate(UNITS_SEEDS_MAE):
        run = Run(root / "exp" / f"20260101-0000{i:02d}-{i:06x}")
        write(
            run.meta_path,
            {
                "status": "completed",
                "config_key": f"k{units}-{seed}",
                "overrides": [f"model.units={units}"],
                "duration_s": 2.0,
                "best_epoch": 1,
            },
        )
        run.config_path.write_text(
            yaml.safe_dump({"name": "exp", "seed": seed, "model": {"units": units}})
        )
        skill = 1 - mae / 0.3
        write(
            run.metrics_path("dev"),
            {
                "split": "dev",
                "checkpoint": "best",
                "n": 10,
                "mae": mae,
                "rmse": mae * 1.2,
                "persistence_mae": 0.3,
                "skill": skill,
                "per_target": {
                    "x": {"unit": "", "mae": mae, "rmse": mae * 1.2, "skill": skill},
                    "y": {"unit": "", "mae": mae, "rmse": mae * 1.2, "skill": skill},
                },
                "recursive_mae_per_step": [mae, 0.1],
            },
        )
        runs.append(run)
    return runs


def _outputs(cli, root: Path, runs: list[Run]) -> dict[str, str]:
    """What every reader of the runs' files prints (and the report holds), with ``root``
    written as ROOT."""
    paths = [str(r.path) for r in runs]
    nan_run = paths[-1]
    results = {
        "list": cli("runs", "list", "--runs-dir", root),
        "list-json": cli("runs", "list", "--runs-dir", root, "--json"),
        "list-csv": cli("runs", "list", "--runs-dir", root, "--csv"),
        "show": cli("runs", "show", nan_run),
        "compare": cli("runs", "compare", *paths),
        "compare-json": cli("runs", "compare", *paths, "--sort", "mae", "--json"),
        "compare-desc": cli("runs", "compare", *paths, "--sort", "-mae"),
        "paired": cli("runs", "compare", *paths, "--test", "--split", "dev"),
        "report": cli("report", nan_run),
    }
    out = {}
    for name, r in results.items():
        assert r.exit_code == (2 if name == "paired" else 0), (name, r.output)
        for key, text in ((name, r.stdout), (f"{name} (stderr)", r.stderr)):
            text = text.replace(str(root), "ROOT")
            out[key] = re.sub(r"\(\d+ bytes\)", "(N bytes)", text)  # null is longer than NaN
    html = (Path(nan_run) / "report.html").read_text(encoding="utf-8")
    out["report.html"] = html.replace(str(root), "ROOT")
    return out


def test_readers_take_null_as_the_nan_of_older_run_folders(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    new_root, old_root = tmp_path / "new", tmp_path / "old"
    new, old = _runs(new_root, "null"), _runs(old_root, "NaN")
    assert "NaN" in old[-1].metrics_path("dev").read_text()
    assert all(strict_files(new_root))  # what seqrun writes now: strict JSON
    got, before = _outputs(cli, new_root, new), _outputs(cli, old_root, old)
    for name in before:
        assert got[name] == before[name], name
    # and what they say: a metric that is not a number is shown as such, null in JSON,
    # empty in CSV, sorted last either way, left out of the mean, refused by the paired test
    assert "mae=nan" in got["list"]
    rows = strict(got["list-json"])
    assert rows[0]["dev"]["mae"] is None and rows[0]["dev"]["skill"] is None
    csv_text = got["list-csv"]
    assert "nan" not in csv_text.lower()
    raw = cli("runs", "list", "--runs-dir", new_root, "--csv").stdout_bytes
    assert raw.count(b"\n") == 5 and b"\r" not in raw  # lines end in \n (was \r\n)
    assert csv_text.splitlines()[1].split(",")[4] == ""  # every dev metric of the run is NaN
    assert "mae=0.2" in csv_text
    compare = strict(got["compare-json"])
    assert Path(compare["rows"][-1]["run"]).name == new[-1].path.name
    assert compare["rows"][-1]["metrics"]["mae"] is None
    desc = [line for line in got["compare-desc"].splitlines() if line.startswith("2026")]
    assert desc[-1].startswith(new[-1].path.name)  # last in descending order too
    groups = {g["config"]["model.units"]: g for g in compare["groups"]}
    assert groups[16]["metrics"]["mae"] == {"mean": 0.1, "std": None, "n": 1}
    assert "the dev mae of seed(s) 1 is not a number" in got["paired (stderr)"]
    assert "nan" in got["show"] and "<td class='num'>nan</td>" in got["report.html"]


@pytest.mark.parametrize("style", ["null", "NaN"])
def test_fold_table_and_a_trial_another_sweep_completed_take_null_as_nan(tmp_path, style):
    from seqrun.cli import _sweep_line
    from seqrun.engine.experiment import fold_table
    from seqrun.engine.sweep import Elsewhere, Trial

    parent = Run(tmp_path / "cv" / "20260101-000000-000000")
    folds = {"folds": 1, "runs": [{"fold": 0, "run_dir": "fold-0", "metrics": {"mae": math.nan}}]}
    text = to_json(folds) if style == "null" else json.dumps(folds)
    (parent.path).mkdir(parents=True)
    (parent.path / "folds.json").write_text(text)
    assert math.isnan(fold_table(parent)[0]["metrics"]["mae"])
    # a trial that another sweep process completed, as its entry in sweep.json says: the
    # line of its end (it was a TypeError on the null)
    run = Run(tmp_path / "exp" / "20260101-000001-000001")
    write_json(run.meta_path, {"status": "completed"})
    entry = {"status": "completed", "run_dir": str(run.path), "duration_s": 3.0}
    entry["metrics"] = {"mae": math.nan, "skill": 0.5}
    entry = json.loads(to_json(entry) if style == "null" else json.dumps(entry))
    lines = []
    watch = Elsewhere(None, lambda kind, t: lines.append(_sweep_line(kind, t, 1)))
    assert watch.claimed(Trial(0, ["model.units=8"], "k", "exp"), entry)
    assert lines == [f"[1/1] model.units=8: completed in 3s  mae=nan skill=0.5  {run.path}"]


# ----------------------------------------------------------------------------- real runs

DIVERGING = dict(
    TINY_LADYBUG,
    name="diverging",
    model={"arch": "gru", "units": 8, "activation": "relu"},
    train=dict(TINY_LADYBUG["train"], optimizer="sgd", learning_rate=10.0, epochs=3),
)


def test_a_diverged_run_is_strict_json_and_its_readers_and_resume_still_work(cli, tmp_path):
    """A training whose loss is NaN from the first epoch: every JSON file it writes is strict,
    `evaluate --checkpoint last` reports the run's status (was "completed") with its NaN
    metrics as null, and a resume reads state.json's nulls back as NaN (history.csv keeps
    its `nan` rows; no best epoch yet: the same divergence error). Training stops at the first
    epoch whose loss is NaN (the weights are NaN from then on), and the error says which."""
    runs = tmp_path / "runs"
    r = cli("train", write_config(tmp_path, DIVERGING), "--runs-dir", runs, "--quiet")
    assert r.exit_code == 1 and "no epoch gave a finite dev loss" in r.stderr, r.output
    assert "the training loss became nan at epoch 1" in r.stderr
    assert "lower train.learning_rate (now 10)" in r.stderr and len(r.stderr.splitlines()) == 1
    (run_dir,) = runs.glob("diverging/*")
    state = strict((run_dir / "checkpoints" / "state.json").read_text())
    assert state["best"] is None and state["history"][0]["loss"] is None
    assert state["epoch"] == 1 and Run(run_dir).meta()["epochs_completed"] == 1
    history = (run_dir / "history.csv").read_text()
    assert history.splitlines()[1].startswith("1,nan,") and len(history.splitlines()) == 2

    r = cli("evaluate", run_dir, "--split", "dev", "--checkpoint", "last", "--json")
    assert r.exit_code == 0, r.output
    out = strict(r.stdout)
    assert out["status"] == "failed" and out["metrics"]["mae"] is None
    assert strict((run_dir / "metrics" / "dev-last.json").read_text())["mae"] is None
    r = cli("evaluate", run_dir, "--split", "dev", "--checkpoint", "last")
    assert r.exit_code == 0 and "run status: failed" in r.stderr, r.output

    for args in (["runs", "list", "--runs-dir", runs], ["runs", "show", run_dir]):
        assert cli(*args).exit_code == 0
    assert cli("runs", "list", "--runs-dir", runs, "--csv").stdout.count("nan") == 0
    assert cli("report", run_dir).exit_code == 0

    r = cli("train", "--resume", run_dir, "--quiet")
    assert r.exit_code == 1 and "no epoch gave a finite dev loss" in r.stderr, r.output
    assert "Traceback" not in r.output
    assert (run_dir / "history.csv").read_text() == history  # nulls read back as NaN
    assert Run(run_dir).meta()["status"] == "failed"
    strict_files(run_dir)


def test_train_state_reads_null_history_values_as_nan_and_a_null_best_as_none():
    from seqrun.engine.checkpoint import TrainState

    raw = strict(to_json({"epoch": 1, "best": None, "history": [{"epoch": 1, "loss": math.nan}]}))
    state = TrainState.from_json(raw)
    assert math.isnan(state.history[0]["loss"]) and state.best is None
    state.end_epoch(2, 0.5, "min", 0.0, patience=None)  # no best yet: the first finite one is
    assert state.best == 0.5 and state.best_epoch == 2


# ----------------------------------------------------------------------------- read-only


def _read_only(folder: Path) -> None:
    """chmod ``folder`` 0o555; skip the test where permissions are not enforced (root)."""
    folder.chmod(0o555)
    probe = folder / "probe"
    try:
        probe.touch()
    except PermissionError:
        return
    probe.unlink()
    folder.chmod(0o755)
    pytest.skip(f"permissions are not enforced for this user (euid {os.geteuid()})")


@pytest.fixture
def read_only(tmp_path):
    """A runs directory with permissions 0o555 (made writable again afterwards)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    _read_only(folder)
    yield folder
    folder.chmod(0o755)


def _study(tmp_path: Path) -> Path:
    write_config(tmp_path, dict(TINY_LADYBUG, train=dict(TINY_LADYBUG["train"], monitor="mae")))
    path = tmp_path / "study.yaml"
    spec = {"base": "exp.yaml", "space": {"model.units": {"int": [4, 8]}}, "trials": 2}
    path.write_text(yaml.safe_dump(spec))
    return path


def test_a_read_only_runs_dir_is_named_for_tune_and_the_others(cli, tmp_path, read_only):
    pytest.importorskip("optuna")
    study = _study(tmp_path)
    for args in (["tune", study], ["tune", study, "--report"]):
        r = cli(*args, "--runs-dir", read_only)
        assert r.exit_code == 1, r.output  # was: "--storage: cannot open the storage"
        line = r.stderr.strip()
        assert line.startswith(f"error: the runs directory {read_only} is not writable")
        assert "lock file" in line and f"chmod u+w {read_only}" in line
        assert "--storage" not in line and "\n" not in line
    journal = read_only / "journal.log"  # a journal path given: --storage is to blame
    r = cli("tune", study, "--runs-dir", tmp_path / "runs", "--storage", journal)
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith(f"error: --storage: the journal's folder {read_only} is not")
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({"base": "exp.yaml", "grid": {"model.units": [4, 5]}}))
    for args in (
        ["train", tmp_path / "exp.yaml"],
        ["train", tmp_path / "exp.yaml", "--resume", "auto"],
        ["sweep", sweep],
        ["sweep", sweep, "--index", "0"],
    ):
        r = cli(*args, "--runs-dir", read_only, "--quiet" if args[0] == "train" else "--json")
        assert r.exit_code == 1, (args, r.output)  # as documented for train: a runtime failure
        line = r.stderr.strip().splitlines()[-1]
        assert line.startswith(f"error: the runs directory {read_only} is not writable"), args
        assert "--runs-dir" in line
    assert cli("sweep", sweep, "--list", "--runs-dir", read_only).exit_code == 0  # no writes


def test_a_read_only_run_is_named_for_resume_and_evaluate(cli, tmp_path):
    from seqrun.core.config import config_key, load_config

    run = Run(tmp_path / "runs" / "exp" / "20260101-000000-000000")
    run.path.mkdir(parents=True)
    run.config_path.write_text(yaml.safe_dump(TINY_LADYBUG))
    key = config_key(load_config(run.config_path))
    write_json(run.meta_path, {"status": "failed", "config_key": key})
    _read_only(run.path)
    try:
        for args in (["train", "--resume", run.path], ["evaluate", run.path, "--split", "dev"]):
            r = cli(*args)
            assert r.exit_code == 1, (args, r.output)
            line = r.stderr.strip().splitlines()[-1]
            assert line.startswith(f"error: the run directory {run.path} is not writable"), line
    finally:
        run.path.chmod(0o755)


# ----------------------------------------------------------------------------- encoder states


def _same(a, b) -> bool:
    """Equal, NaN equal to NaN (in arrays and floats)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


def test_numeric_encoder_state_with_a_nan_is_strict_and_reads_back_equal(tmp_path):
    """A column with no training value has a NaN mean: encoder.json holds null (strict JSON)
    and loads as NaN, so the run scales and predicts as before."""
    from seqrun.encoders.numeric import Standardize, StandardizeConfig

    enc = Standardize(StandardizeConfig())
    values = np.array([[1.0, np.nan], [3.0, np.nan], [2.0, np.nan]])
    enc.fit(values, ["a", "b"])
    assert math.isnan(enc.mean[1])
    enc.save(tmp_path)
    assert strict((tmp_path / "encoder.json").read_text())["mean"] == [2.0, None]
    back = Standardize(StandardizeConfig())
    back.load(tmp_path)
    assert back.columns == ["a", "b"]
    assert _same(back.mean, enc.mean) and _same(back.std, enc.std)
    assert _same(back.transform(values), enc.transform(values))


def test_sequence_and_text_encoder_states_are_strict_and_read_back_equal(tmp_path):
    from seqrun.core.text import Vocabulary
    from seqrun.encoders.sequences import SequenceStandardize, SequenceStandardizeConfig
    from seqrun.encoders.text import MultiHot, MultiHotConfig

    enc = SequenceStandardize(SequenceStandardizeConfig())
    series = [np.array([[1.0, 2.0], [3.0, np.nan]]), np.array([[2.0, 5.0]])]
    enc.fit(series, np.array([0.5, np.nan]), None, ["x", "y"])  # a NaN target: NaN moments
    assert math.isnan(enc.target_mean)
    enc.save(tmp_path / "seq")
    state = strict((tmp_path / "seq" / "encoder.json").read_text())
    assert state["target_mean"] is None and state["class_names"] is None
    back = SequenceStandardize(SequenceStandardizeConfig())
    back.load(tmp_path / "seq")
    names = ("length", "channels", "mean", "std", "masking", "class_names", "target_mean")
    for name in (*names, "target_std", "info"):
        assert _same(getattr(back, name), getattr(enc, name)), name

    text = MultiHot(MultiHotConfig(type="multi_hot", vocab_size=20))
    vocab = Vocabulary.build([["good", "film"], ["bad", "film"]], 20)
    text.set_state(
        {
            "class_names": ["neg", "pos"],
            "class_counts": [np.int64(1), 1],
            "info": {"share": float("nan")},
            "vocabulary": vocab.state(),
        }
    )
    text.save(tmp_path / "text")
    assert strict((tmp_path / "text" / "encoder.json").read_text())["info"] == {"share": None}
    again = MultiHot(MultiHotConfig(type="multi_hot", vocab_size=20))
    again.load(tmp_path / "text")
    assert again.vocab.state() == vocab.state() and again.class_counts == [1, 1]


def test_json_lines_keep_their_characters_and_write_nan_as_null():
    # errors.jsonl (the most confident mistakes) keeps texts as written; a diverged
    # classifier's NaN probability was written as a literal NaN
    from seqrun.core.runs import to_json

    line = to_json(
        {"p": float("nan"), "text": "café", "q": [1.0, float("inf")]}, ensure_ascii=False
    )
    assert line == '{"p": null, "text": "café", "q": [1.0, null]}'
