"""What a person sees: units as text, whole model summaries, tables that fit the terminal,
quiet TensorFlow, --json on stdout only, readable plots, cross-validation and mistake reports."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import ROOT, TINY_LADYBUG, write_config
from tests.text_fixtures import write_imdb_npz

TF_LOG_LINE = re.compile(r"^[EIWF]\d{4} ", re.MULTILINE)


def _nyc(seed: int) -> dict:
    return {
        "name": "tiny-nyc",
        "seed": seed,
        "data": {
            "adapter": "timeseries_csv",
            "sample": "nyc-weather-2013",
            "group": {"origin": "EWR"},
            "features": ["temp", "dewp"],
            "targets": "temp",
            "sequence_len": 8,
            "horizon": 3,
            "interpolate": {"method": "time", "max_gap": "12h"},
        },
        "model": {"arch": "gru", "units": 4},
        "train": {"epochs": 1, "batch_size": 256, "learning_rate": 0.01},
        "metrics": "forecast",
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two tiny NYC weather runs (°F) and one ladybug run, trained in this process with a
    narrow terminal (COLUMNS=60) in force."""
    from typer.testing import CliRunner

    from seqrun.cli import app

    tmp = tmp_path_factory.mktemp("display")
    runs_dir = tmp / "runs"
    runner = CliRunner()
    out = {"runs_dir": runs_dir, "nyc": []}
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "60"
    try:
        for seed in (1, 2):
            cfg = write_config(tmp, _nyc(seed), f"nyc{seed}.yaml")
            r = runner.invoke(app, ["train", str(cfg), "--runs-dir", str(runs_dir), "--json"])
            assert r.exit_code == 0, r.output
            out["nyc"].append(Path(json.loads(r.stdout)["run_dir"]))
        lady = {**TINY_LADYBUG, "train": {**TINY_LADYBUG["train"], "epochs": 3}}
        cfg = write_config(tmp, lady, "lady.yaml")
        r = runner.invoke(app, ["train", str(cfg), "--runs-dir", str(runs_dir), "--json"])
        assert r.exit_code == 0, r.output
        out["ladybug"] = Path(json.loads(r.stdout)["run_dir"])
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved
    return out


def test_runs_show_prints_units_as_text(cli, runs):
    r = cli("runs", "show", runs["nyc"][0])
    assert r.exit_code == 0, r.output
    assert "temp: °F" in r.stdout  # meta.data.units, not "\xB0F"
    assert "\\xB0" not in r.stdout and "\\u00b0" not in r.stdout
    # the metrics table has a unit column and says what "norm" means
    assert re.search(r"^mae\s+\S+\s+°F$", r.stdout, re.MULTILINE), r.stdout
    assert re.search(r"^mae_norm\s+\S+\s+norm", r.stdout, re.MULTILINE)
    assert "standard deviation on the training split" in r.stdout


def test_runs_show_prints_the_whole_run_path_on_a_narrow_terminal(cli, runs, monkeypatch):
    """COLUMNS=40: the heading rule cut the path to '/tmp/.../202612…', and no other line
    of runs show gives it (a run named by its id alone)."""
    monkeypatch.setenv("COLUMNS", "40")
    run = runs["nyc"][0]
    r = cli("runs", "show", run.name, "--runs-dir", runs["runs_dir"])
    assert r.exit_code == 0, r.output
    assert str(run) in r.stdout.replace("\n", ""), r.stdout[:300]


@pytest.mark.parametrize(
    "env",
    [{"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""}],
    ids=["ascii", "c-locale"],
)
def test_units_print_on_an_ascii_stdout(runs, env):
    """A stdout that cannot encode ° or × (LC_ALL=C without UTF-8 mode, PYTHONIOENCODING=ascii,
    an old CI runner): runs list and runs show write \\xb0F as stderr does (both were
    'error: UnicodeEncodeError ...', exit 1)."""
    for args in (["runs", "list"], ["runs", "show", str(runs["nyc"][0])]):
        p = subprocess.run(
            [sys.executable, "-m", "seqrun", *args, "--runs-dir", str(runs["runs_dir"])],
            cwd=ROOT,
            capture_output=True,
            env={**os.environ, **env},
        )
        assert p.returncode == 0, p.stderr
        assert b"\\xb0F" in p.stdout and p.stderr == b"", (args, p.stdout)


def test_model_txt_keeps_every_column(runs):
    """Trained under COLUMNS=60, the summary still has its Param # column."""
    text = (runs["nyc"][0] / "model.txt").read_text(encoding="utf-8")
    assert "Param #" in text and "Output Shape" in text
    assert "Total params:" in text
    header = next(line for line in text.splitlines() if "Layer (type)" in line)
    assert header.rstrip().endswith("┃")  # the table's right border: no column was cut


def test_runs_list_fits_columns(runs):
    for width in (60, 80, 40):
        out = subprocess.run(
            [sys.executable, "-m", "seqrun", "runs", "list", "--runs-dir", str(runs["runs_dir"])],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": str(width)},
            check=True,
        ).stdout
        lines = out.splitlines()
        assert len(lines) == 4, out  # header + 3 runs
        assert all(len(line) <= width for line in lines), (width, out)
        for run in [*runs["nyc"], runs["ladybug"]]:
            assert run.name in out  # the run id is never abbreviated
    # wide: units beside the metrics in original units
    out = subprocess.run(
        [sys.executable, "-m", "seqrun", "runs", "list", "--runs-dir", str(runs["runs_dir"])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        check=True,
    ).stdout
    assert "mae=" in out and " °F" in out


@pytest.mark.parametrize("width", ["40", "80"])
def test_metrics_table_never_cuts_a_metric_name(capsys, monkeypatch, width):
    """train's and evaluate's metrics table (stderr): a long name wraps onto a second line
    instead of ending in … ('recursive_mae_norm_per…' in an 80-column CI log,
    'persisten…' twice at 40 columns: two rows that could not be told apart)."""
    from seqrun.cli import _metrics_table

    monkeypatch.setenv("COLUMNS", width)
    names = ["persistence_mae", "persistence_mae_norm", "recursive_mae_norm_per_step"]
    _metrics_table("t", {"mae": 1.0, **dict.fromkeys(names, 0.5)})
    err = capsys.readouterr().err
    assert "…" not in err, err
    first = "".join(line.split("│")[1].strip() for line in err.splitlines() if "│" in line)
    for name in names:
        assert name in first, err


def test_metrics_table_says_why_a_skill_is_missing(capsys, monkeypatch):
    """A test split without rain: persistence's rr1 error is 0, its skill undefined (null in
    test.json). The table left the 'rr1 skill' row out without a word, beside every other
    target's skill."""
    from seqrun.cli import _metrics_table

    monkeypatch.setenv("COLUMNS", "200")
    per_target = {
        "tc": {"unit": "°C", "mae": 1.2, "rmse": 1.5, "skill": 0.1},
        "rr1": {"unit": "mm", "mae": 0.06, "rmse": 0.07, "persistence_mae": 0.0, "skill": None},
    }
    _metrics_table("t", {"mae": 0.6, "skill": 0.2, "per_target": per_target})
    rows = [
        [c.strip() for c in line.split("│")[1:4]]
        for line in capsys.readouterr().err.splitlines()
        if "│" in line
    ]
    assert ["tc skill", "0.1", "1 - error / baseline error"] in rows
    rr1 = [r for r in rows if r[0] == "rr1 skill"]
    assert rr1 and rr1[0][1] == "n/a" and "baseline's error is 0" in rr1[0][2], rows


def test_runs_compare_units_width_and_different_experiments(cli, runs, monkeypatch):
    a, b = runs["nyc"]
    monkeypatch.setenv("COLUMNS", "200")
    r = cli("runs", "compare", a, b)
    assert r.exit_code == 0, r.output
    assert "mae °F" in r.stdout  # the unit the two runs share, in the column title
    assert "different experiments" not in r.stderr
    # different experiments: a warning, one key per row
    for width in ("60", "200"):
        monkeypatch.setenv("COLUMNS", width)
        r = cli("runs", "compare", a, runs["ladybug"])
        assert r.exit_code == 0, r.output
        assert "warning: these runs are of different experiments" in r.stderr
        assert "tiny-ladybug" in r.stderr and "tiny-nyc" in r.stderr
        rows = r.stdout.splitlines()
        assert any(line.startswith("data.adapter ") for line in rows), r.stdout
        assert any(line.startswith("seed ") for line in rows)
        assert all(len(line) <= int(width) for line in rows), r.stdout
    # many runs in a narrow terminal: blocks of runs, every line fits
    monkeypatch.setenv("COLUMNS", "50")
    r = cli("runs", "compare", a, b, runs["ladybug"])
    assert r.exit_code == 0 and all(len(line) <= 50 for line in r.stdout.splitlines())
    for run in (a, b, runs["ladybug"]):
        assert run.name in r.stdout


def test_learning_curves_mark_the_selected_epoch_and_use_log_scale():
    from seqrun.data.plots import learning_curves_figure

    history = [
        {"epoch": e, "loss": 10 ** (-e / 2), "dev_loss": 3 * 10 ** (-e / 3), "mae": 1 / e}
        for e in range(1, 9)
    ]
    for r in history:
        r["dev_mae"] = r["mae"] * 1.1
    fig = learning_curves_figure(history, best_epoch=6, monitor="val_loss")
    loss_ax, mae_ax = fig.axes
    assert loss_ax.get_yscale() == "log"  # 0.316 .. 1e-4: decades
    assert mae_ax.get_yscale() == "linear"  # 1 .. 0.125 x 1.1: under a decade
    for ax in (loss_ax, mae_ax):
        stars = [line for line in ax.get_lines() if "epoch 6" in line.get_label()]
        assert len(stars) == 1 and list(stars[0].get_xdata()) == [6]
        vlines = [line for line in ax.get_lines() if list(line.get_xdata()) == [6, 6]]
        assert vlines, "a vertical line at the selected epoch"
    star = next(line for line in loss_ax.get_lines() if "epoch 6" in line.get_label())
    assert "dev loss" in star.get_label()
    assert np.isclose(star.get_ydata()[0], history[5]["dev_loss"])
    assert "log" in loss_ax.get_ylabel()


def test_ladybug_trajectory_has_axis_labels_and_recursive_panels(runs):
    from seqrun.data.plots import trajectory_figure

    assert (runs["ladybug"] / "plots" / "dev.png").is_file()
    rng = np.random.default_rng(0)
    y = np.cumsum(rng.normal(size=(50, 2)), axis=0)
    rec = {
        "starts": np.arange(20),
        "persistence": y[:20],
        "y_true": np.stack([y[i + 1 : i + 4] for i in range(20)]),
        "y_pred": np.stack([y[i + 1 : i + 4] + 0.1 for i in range(20)]),
    }
    fig = trajectory_figure({"y_true": y, "y_pred": y + 0.05, "recursive": rec}, "t")
    assert len(fig.axes) == 7  # the trajectory + 6 recursive examples
    for ax in fig.axes:
        assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y"
    # every recursive panel starts at its last observed point and draws both paths from it
    for ax in fig.axes[1:]:
        true, pred, start = ax.get_lines()[:3]
        assert np.allclose(true.get_xydata()[0], start.get_xydata()[0])
        assert np.allclose(pred.get_xydata()[0], start.get_xydata()[0])
        assert len(true.get_xydata()) == 4  # the start + 3 steps


def test_cv_parent_has_plot_and_report_with_folds(cli, tmp_path):
    cfg = write_config(tmp_path, TINY_LADYBUG)
    r = cli("train", cfg, "--folds", "2", "--runs-dir", tmp_path / "runs", "--json")
    assert r.exit_code == 0, r.output
    parent = Path(json.loads(r.stdout)["run_dir"])
    assert (parent / "plots" / "cv.png").stat().st_size > 10_000
    r = cli("report", parent)
    assert r.exit_code == 0, r.output
    html = (parent / "report.html").read_text(encoding="utf-8")
    assert "Cross-validation folds" in html
    assert html.count("<td class='num'>fold-") == 2  # one row per fold
    assert "mean +- std" in html and "cross-validation: every fold" in html
    folds = json.loads((parent / "folds.json").read_text())["runs"]
    assert f"{folds[1]['metrics']['mae']:.5g}" in html


def _tiny_imdb(tmp_path: Path) -> Path:
    write_imdb_npz(tmp_path / "imdb", n_train=120, n_test=60)
    raw = {
        "name": "tiny-imdb",
        "data": {"adapter": "imdb", "path": str(tmp_path / "imdb"), "num_words": 40, "maxlen": 16},
        "encoder": {"type": "embedding", "dim": 4, "mask_padding": True},
        "model": {"arch": "gru", "units": 4},
        "train": {"epochs": 1, "batch_size": 32, "learning_rate": 0.001},
        "metrics": "classification",
    }
    return write_config(tmp_path, raw)


def test_live_progress_on_a_narrow_terminal_keeps_every_epoch_line_whole(tmp_path):
    """On a terminal (a pty, COLUMNS=40) each epoch's line is printed above the bars and
    wraps; it was only the epoch bar's info, cut to the width ('dev_loss 0.6783 dev_m…'),
    and earlier epochs' lines were overwritten."""
    import pty

    cfg = write_config(tmp_path, TINY_LADYBUG)
    main, sub = pty.openpty()
    p = subprocess.Popen(
        [sys.executable, "-m", "seqrun", "train", str(cfg), "--runs-dir", str(tmp_path / "r")],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=sub,
        stderr=sub,
        env={**os.environ, "COLUMNS": "40", "TERM": "xterm"},
    )
    os.close(sub)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the child closed the pty
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert p.wait(timeout=60) == 0
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", b"".join(chunks).decode("utf-8", "replace"))
    flat = re.sub(r"\s+", " ", text)
    for epoch in (1, 2):
        assert re.search(rf"epoch {epoch}/2 loss \S+ dev_loss \S+ dev_mae [\d.]+ \(", flat), flat


def test_json_train_is_one_object_progress_on_stderr_no_tf_logs(cli, tmp_path):
    """A real train in a fresh process (a masked GRU: the op that logs oneDNN's DT_BOOL note)."""
    cfg = _tiny_imdb(tmp_path)
    env = {
        k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "SEQRUN_TF_LOGS")
    }
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "seqrun",
            "train",
            str(cfg),
            "--runs-dir",
            str(tmp_path / "runs"),
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout)  # the whole stdout is exactly one JSON object
    assert isinstance(result, dict) and result["status"] == "completed"
    assert "epoch 1/1" in p.stderr and "run directory:" in p.stderr  # progress: stderr
    assert not TF_LOG_LINE.search(p.stderr), p.stderr
    assert "absl::InitializeLog" not in p.stderr

    # the test split scored: the report's mistakes section shows test mistakes
    run = Path(result["run_dir"])
    r = cli("evaluate", run, "--json")
    assert r.exit_code == 0, r.output
    records = [json.loads(x) for x in (run / "errors.jsonl").read_text().splitlines()]
    assert {"dev", "test"} <= {x["split"] for x in records}
    assert sum(x["split"] == "dev" for x in records) >= 1
    r = cli("report", run)
    assert r.exit_code == 0
    html = (run / "report.html").read_text(encoding="utf-8")
    assert "test mistakes" in html and "dev mistakes" in html
    assert html.index("test mistakes") < html.index("dev mistakes")
    # model.txt of a functional model keeps its Connected to column
    assert "Connected to" in (run / "model.txt").read_text(encoding="utf-8")


def test_tf_log_level_follows_seqrun_tf_logs():
    code = "import os, seqrun.engine.trainer; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"
    base = {
        k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "SEQRUN_TF_LOGS")
    }
    for extra, level in (({}, "3"), ({"SEQRUN_TF_LOGS": "1"}, "0")):
        out = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**base, **extra},
            check=True,
        )
        assert out.stdout.strip() == level, (extra, out.stderr)
        if extra:  # asked for: TensorFlow's start-up lines are not hidden any more
            assert "absl" in out.stderr or TF_LOG_LINE.search(out.stderr) or out.stderr == ""
        else:
            assert not TF_LOG_LINE.search(out.stderr), out.stderr


def test_describe_imdb_without_path_never_imports_tensorflow(tmp_path):
    """data.path null reads Keras' dataset cache (KERAS_HOME) without importing TensorFlow."""
    folder = tmp_path / "keras_home" / "datasets"
    write_imdb_npz(folder, n_train=80, n_test=40)
    cfg = write_config(
        tmp_path,
        {
            "name": "imdb-cache",
            "data": {"adapter": "imdb", "path": None, "num_words": 40, "maxlen": 16},
            "encoder": {"type": "embedding", "dim": 4},
            "model": {"arch": "gru", "units": 4},
        },
    )
    code = (
        "import sys\nfrom seqrun.cli import app\n"
        f"try:\n    app(['data', 'describe', {str(cfg)!r}, '--json'])\nexcept SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "print('MODULES', ' '.join(sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "KERAS_HOME": str(tmp_path / "keras_home")},
    )
    assert out.returncode == 0, out.stderr
    info_text, modules = out.stdout.rsplit("MODULES", 1)
    info = json.loads(info_text)
    assert "tensorflow" not in modules.split() and "keras" not in modules.split()
    assert "keras.datasets.imdb" in json.dumps(info)  # the source it read
    assert yaml.safe_load(info_text)  # and it is a real description
