"""`seqrun predict` and `seqrun evaluate` on odd inputs and damaged runs: one clear line (or a
warning), never a traceback, never a silent garbage prediction."""

from __future__ import annotations

import fcntl
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqrun.cli import app
from tests.conftest import last_json, write_config
from tests.test_forecast_predict import cut_sample, nyc
from tests.text_fixtures import write_mr_slice


def _train(folder: Path, cfg: dict) -> Path:
    r = CliRunner().invoke(
        app,
        ["train", str(write_config(folder, cfg)), "--runs-dir", str(folder / "runs"), "--json"],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    return Path(last_json(r.stdout)["run_dir"])


def _text_run(folder: Path, encoder: dict, model: dict) -> Path:
    return _train(
        folder,
        {
            "name": "fuzz-text",
            "seed": 0,
            "data": {
                "adapter": "text_table",
                "path": str(write_mr_slice(folder / "mr.tsv", per_half=100)),
                "label_column": "score",
                "label_type": "score",
            },
            "encoder": encoder,
            "model": model,
            "train": {"epochs": 1, "batch_size": 64},
            "metrics": "classification",
        },
    )


@pytest.fixture(scope="module")
def text_runs(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny multi-hot run and a tiny embedding/GRU run on the same slice."""
    hot = _text_run(
        tmp_path_factory.mktemp("hot"),
        {"type": "multi_hot", "vocab_size": 200},
        {"arch": "dense", "units": 4, "layers": 1},
    )
    gru = _text_run(
        tmp_path_factory.mktemp("gru"),
        {"type": "embedding", "vocab_size": 200, "sequence_len": 20, "dim": 4},
        {"arch": "gru", "units": 4},
    )
    return hot, gru


def test_a_checkpoint_of_another_run_is_named_not_a_keras_error(cli, text_runs, tmp_path):
    hot, gru = text_runs
    run = tmp_path / "copied"
    shutil.copytree(hot, run)
    shutil.copy(gru / "checkpoints" / "best.keras", run / "checkpoints" / "best.keras")
    for args in (("predict", run, "a fine film"), ("evaluate", run, "--split", "dev")):
        r = cli(*args)
        assert r.exit_code == 2, r.output
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in r.output
        assert str(run / "checkpoints" / "best.keras") in lines[0]
        assert "(20,)" in lines[0] and "(200,)" in lines[0] and "another run" in lines[0]
    r = cli("predict", hot, "a fine film")  # the run's own files still fit
    assert r.exit_code == 0, r.output


def test_a_checkpoint_with_nan_weights_is_an_error_not_a_label(cli, text_runs, tmp_path):
    import numpy as np

    from seqrun.engine.checkpoint import load_checkpoint

    hot, _ = text_runs
    run = tmp_path / "diverged"
    shutil.copytree(hot, run)
    best = run / "checkpoints" / "best.keras"
    model = load_checkpoint(best, compile=False)
    model.set_weights([np.full_like(w, np.nan) for w in model.get_weights()])
    model.save(best)
    r = cli("predict", run, "a fine film", "a dull film")
    assert r.exit_code == 2 and "Traceback" not in r.output and r.stdout == ""
    assert r.stderr.strip().splitlines() == [r.stderr.strip()]
    assert f"{best}: the best checkpoint's model outputs NaN or infinity (2 of 2" in r.stderr
    assert cli("predict", run, "a fine film", "--checkpoint", "last").exit_code == 0


def test_column_on_a_one_text_per_line_file_is_an_error(cli, text_runs, tmp_path):
    hot, _ = text_runs
    lines = tmp_path / "new.txt"
    lines.write_text("a fine film\na dull film\n")
    r = cli("predict", hot, "--input", lines, "--column", "review")
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert r.stderr.strip().splitlines() == [r.stderr.strip()]
    assert "--column" in r.stderr and "one text per line" in r.stderr
    assert cli("predict", hot, "--input", lines).exit_code == 0


def test_a_table_without_the_runs_text_column_says_to_name_it(cli, text_runs, tmp_path):
    hot, _ = text_runs
    table = tmp_path / "new.csv"  # the run's text column is 'text'
    table.write_text('review,id\n"a fine, moving film",1\na dull film,2\n')
    r = cli("predict", hot, "--input", table)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert r.stderr.strip().splitlines() == [r.stderr.strip()]
    assert "no column 'text'" in r.stderr and "available columns: review, id" in r.stderr
    assert "name the file's with --column NAME" in r.stderr
    r = cli("predict", hot, "--input", table, "--column", "review", "--json")
    assert r.exit_code == 0, r.output
    assert [p["text"] for p in last_json(r.stdout)["predictions"]] == [
        "a fine, moving film",
        "a dull film",
    ]


def test_predict_on_a_run_still_training_warns(cli, text_runs, tmp_path):
    hot, _ = text_runs
    run = tmp_path / "live"
    shutil.copytree(hot, run)
    meta = json.loads((run / "meta.json").read_text())
    (run / "meta.json").write_text(json.dumps({**meta, "status": "running"}))
    with open(run / ".lock", "w") as lock:  # held as the training process holds it
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        r = cli("predict", run, "a fine film")
    assert r.exit_code == 0, r.output
    assert "still being trained" in r.stderr and "best checkpoint so far" in r.stderr


def test_predict_on_a_run_that_stopped_early_warns(cli, text_runs, tmp_path):
    hot, _ = text_runs
    r = cli("predict", hot, "a fine film")
    assert r.exit_code == 0 and "warning" not in r.stderr  # a completed run
    for status in ("failed", "interrupted"):
        run = tmp_path / status
        shutil.copytree(hot, run)
        meta = json.loads((run / "meta.json").read_text())
        (run / "meta.json").write_text(json.dumps({**meta, "status": status}))
        r = cli("predict", run, "a fine film")
        assert r.exit_code == 0, r.output
        assert f"the run is {status} after 1 epoch(s)" in r.stderr
        assert f"seqrun train --resume {run} continues it" in r.stderr


def test_a_forecast_from_values_in_other_units_is_warned_about(cli, tmp_path):
    run = _train(tmp_path, nyc())
    plain = cut_sample(tmp_path, "2013-06-01", "2013-06-04")
    r = cli("predict", run, "--input", plain)
    assert r.exit_code == 0 and "far from the training data" not in r.stderr
    kelvin = tmp_path / "kelvin.csv"
    head, *rows = plain.read_text().splitlines()
    t = head.split(",").index("temp")
    out = []
    for row in rows:
        cells = row.split(",")
        if cells[t]:
            cells[t] = f"{(float(cells[t]) - 32) * 5 / 9 + 273.15:.2f}"
        out.append(",".join(cells))
    kelvin.write_text("\n".join([head, *out]) + "\n")
    r = cli("predict", run, "--input", kelvin)
    assert r.exit_code == 0, r.output
    assert "far from the training data" in r.stderr and "other units" in r.stderr
    assert "temp " in r.stderr and "dewp" not in r.stderr.split("far from")[1]
    r = CliRunner().invoke(app, ["predict", str(run), "--input", "-"], input=kelvin.read_text())
    assert r.exit_code == 0 and "warning: <stdin>: the window the forecast reads" in r.stderr
    # a missing-value code in every row: the file alone cannot tell it from a measurement
    coded = tmp_path / "coded.csv"
    cells = [row.split(",") for row in rows]
    coded.write_text("\n".join([head, *(",".join([*c[:t], "-9999", *c[t + 1 :]]) for c in cells)]))
    r = cli("predict", run, "--input", coded)
    error = r.stderr.strip().splitlines()[-1]
    assert r.exit_code == 2 and r.stderr.count("error:") == 1 and "Traceback" not in r.output
    assert error.startswith("error:") and "column 'temp' holds -9999 in 12 of the 12 steps" in error
    assert "a missing-value code" in error and f"--input {coded}" in error


def test_bad_input_fails_before_tensorflow_is_imported(tmp_path):
    """A forecast's file is read and checked, and a run's examples encoded, before the model
    is loaded: a bad input is refused in a second, not after TensorFlow's start-up (they
    were checked only after it)."""
    import subprocess
    import sys

    from tests.conftest import ROOT, TINY_LADYBUG

    forecast = _train(tmp_path, nyc())
    ladybug = _train(tmp_path, TINY_LADYBUG)
    short = cut_sample(tmp_path, "2013-03-01T00:00:00Z", "2013-03-01T05:00:00Z")
    code = (
        "import sys\nfrom seqrun.cli import app\n"
        "try:\n    app(sys.argv[1:])\nexcept SystemExit as e:\n    print('exit', e.code)\n"
        "print('heavy', sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    )
    for args, said in (
        ((forecast, "--input", short), "holds 6 row(s)"),
        ((ladybug, "1, 2, 3"), "seqrun predict encodes texts"),
    ):
        out = subprocess.run(
            [sys.executable, "-c", code, "predict", *map(str, args)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert out.stdout.splitlines() == ["exit 2", "heavy []"], out.stdout + out.stderr
        assert said in out.stderr and "Traceback" not in out.stderr


def test_input_from_standard_input_or_a_pipe(text_runs, tmp_path):
    """`--input -` reads standard input and `--input <(...)` a pipe (read once, though the
    readers open a file twice): the same predictions as from the file; errors and warnings
    name the input as given, not a temporary copy."""
    import os
    import threading

    hot, _ = text_runs
    runner = CliRunner()
    texts = tmp_path / "new.txt"
    texts.write_text("a fine film\na dull film\n")

    def run(*args, stdin: str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=stdin, catch_exceptions=False)

    from_file = run("predict", hot, "--input", texts, "--json")
    from_stdin = run("predict", hot, "--input", "-", "--json", stdin=texts.read_text())
    assert from_stdin.exit_code == 0, from_stdin.output
    assert last_json(from_stdin.stdout)["predictions"] == last_json(from_file.stdout)["predictions"]
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_text, args=(texts.read_text(),))
    writer.start()
    from_pipe = run("predict", hot, "--input", fifo, "--json")
    writer.join()
    assert from_pipe.exit_code == 0, from_pipe.output
    assert last_json(from_pipe.stdout)["predictions"] == last_json(from_file.stdout)["predictions"]
    empty = run("predict", hot, "--input", "-", stdin="")
    assert empty.exit_code == 2 and "--input <stdin>: no text to label" in empty.stderr
    # a table on standard input (no extension to say so): its header names the text column
    for table, texts in (
        ('id,text\n1,a fine film\n2,"a dull, long film"\n', ["a fine film", "a dull, long film"]),
        ('{"text": "a fine film"}\n', ["a fine film"]),
    ):
        r = run("predict", hot, "--input", "-", "--json", stdin=table)
        assert r.exit_code == 0, r.output
        assert [p["text"] for p in last_json(r.stdout)["predictions"]] == texts
    r = run("predict", hot, "--input", "-", "--column", "review", stdin="a fine film\n")
    assert r.exit_code == 2 and "--input <stdin>" not in r.stderr
    assert "<stdin> is read as one text per line" in r.stderr and "data.format=csv" in r.stderr
    assert "seqrun-input-" not in empty.output
