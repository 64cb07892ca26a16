"""Machine-readable output: with --json, stdout is one strict JSON document and nothing
else, the human messages stay on stderr, and a reader that leaves early is not an error."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from tests.conftest import ROOT, TINY_LADYBUG, write_config
from tests.test_multiworker import start_two_workers


def strict_json(text: str):
    """The one JSON document of ``text``; NaN/Infinity (not JSON) and any extra line fail."""

    def refuse(constant: str):
        raise ValueError(f"{constant} is not JSON")

    assert text.endswith("\n") and text.count("\n") == 1, text[:500]
    return json.loads(text, parse_constant=refuse)


def _sweep(tmp_path, grid):
    raw = dict(TINY_LADYBUG, train=dict(TINY_LADYBUG["train"], epochs=1))
    base = write_config(tmp_path, raw, "base.yaml")
    path = tmp_path / "sw.yaml"
    path.write_text(yaml.safe_dump({"base": base.name, "grid": grid}))
    return path


def test_sweep_list_json_prints_one_object(cli, tmp_path):
    # before: --list ignored --json and printed one shell line per trial
    sw = _sweep(tmp_path, {"model.units": [3, 5]})
    r = cli("sweep", sw, "--list", "--json", "--runs-dir", tmp_path / "runs")
    assert r.exit_code == 0, r.output
    out = strict_json(r.stdout)
    assert [t["index"] for t in out["trials"]] == [0, 1]
    assert out["trials"][1]["overrides"] == ["model.units=5"]
    assert out["trials"][1]["command"].startswith("seqrun train ")
    assert "model.units=5" in out["trials"][1]["command"]
    assert out["sweep_dir"].endswith("sw")
    plain = cli("sweep", sw, "--list", "--runs-dir", tmp_path / "runs")
    lines = plain.stdout.splitlines()
    assert lines == [t["command"] for t in out["trials"]]  # the same commands either way


def test_sweep_index_json_still_says_why_a_trial_failed_on_stderr(cli, tmp_path):
    # before: --index with --json was silent on stderr (the failure only inside the JSON)
    sw = _sweep(tmp_path, {"data.sequence_len": [400]})  # longer than the tiny dev split
    r = cli("sweep", sw, "--index", "0", "--json", "--runs-dir", tmp_path / "runs")
    assert r.exit_code == 1, r.output
    out = strict_json(r.stdout)
    (trial,) = out["trials"]
    assert out["status"] == "failed" and trial["status"] == "failed"
    assert "error: trial 0: failed:" in r.stderr
    assert trial["error"] and trial["error"] in r.stderr


def test_tune_json_keeps_the_trial_lines_on_stderr(cli, tmp_path):
    # before: --json silenced the per-trial lines as --quiet does; only --quiet should
    base = {**TINY_LADYBUG, "train": {**TINY_LADYBUG["train"], "epochs": 1, "monitor": "mae"}}
    write_config(tmp_path, base)
    study = tmp_path / "study.yaml"
    spec = {
        "base": "exp.yaml",
        "space": {"model.units": {"choice": [4]}},
        "trials": 1,
        "sampler": "random",
        "pruner": "none",
    }
    study.write_text(yaml.safe_dump(spec))
    r = cli("tune", study, "--runs-dir", tmp_path / "runs", "--json")
    assert r.exit_code == 0, r.output
    out = strict_json(r.stdout)
    assert out["counts"] == {"complete": 1}
    assert "trial 0: complete after 1 epoch dev_mae=" in r.stderr
    assert out["best_run_dir"] in r.stderr


def test_a_reader_that_leaves_early_is_not_a_failure():
    # `seqrun list | head -1` under `set -o pipefail`: rich's Console (list, runs show) and
    # click (--help, --version) exited 1 on the broken pipe, unlike every other command (0)
    for args in (["list"], ["--version"], ["config", "--help"]):
        p = subprocess.Popen(
            [sys.executable, "-m", "seqrun", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        p.stdout.close()  # the reader is gone before seqrun writes anything
        err = p.stderr.read().decode()
        assert p.wait(timeout=60) == 0, (args, err)
        assert err == "", (args, err)


def test_train_whose_reader_leaves_early_still_completes(tmp_path):
    """`seqrun train cfg 2>&1 | head -1` (or `| grep -m1 'run directory'`): the reader
    leaves after the first line; the training goes on to a completed run (it was marked
    interrupted after the first line, exit 0: the run lost with no error)."""
    import os

    cfg = write_config(tmp_path, TINY_LADYBUG)
    runs = tmp_path / "runs"
    read, write = os.pipe()
    p = subprocess.Popen(
        [sys.executable, "-m", "seqrun", "train", str(cfg), "--runs-dir", str(runs)],
        cwd=ROOT,
        stdout=write,
        stderr=write,
    )
    os.close(write)
    with os.fdopen(read, "rb") as reader:
        assert reader.readline().startswith(b"run directory: ")
    assert p.wait(timeout=300) == 0
    (meta,) = runs.glob("*/*/meta.json")
    assert json.loads(meta.read_text())["status"] == "completed"


def test_train_nproc_json_interrupted_prints_its_object_as_one_process_does(tmp_path):
    # before: `train --json` stopped by SIGTERM printed {"status": "interrupted", ...} in one
    # process, but nothing on stdout with --nproc 2 (exit 130 either way)
    import signal

    cfg = write_config(tmp_path, dict(TINY_LADYBUG, train=dict(TINY_LADYBUG["train"], epochs=50)))
    runs = tmp_path / "runs"
    launcher, _ = start_two_workers(cfg, runs, "--json")  # once an epoch is done
    try:
        assert launcher.poll() is None, launcher.communicate()
        launcher.send_signal(signal.SIGTERM)
        out, err = launcher.communicate(timeout=60)
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert launcher.returncode == 130, err
    (run,) = [p.parent for p in runs.glob("*/*/meta.json")]
    assert strict_json(out) == {"run_dir": str(run), "status": "interrupted", "metrics": None}
    assert "error: interrupted; every worker was stopped" in err


def test_metric_tables_print_bracketed_names_as_written(cli, tmp_path):
    # before: rich read '[good]' as markup (the class name vanished from the table) and
    # '[/bad]' as a closing tag: MarkupError, exit 1 after a completed run
    rows = ["text,label"] + [
        f"{'fine lovely great' if i % 2 else 'dull awful boring'} {i},"
        f"{'[good]' if i % 2 else '[/bad]'}"
        for i in range(40)
    ]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    cfg = {
        "name": "brackets",
        "data": {"adapter": "text_table", "path": str(tmp_path / "t.csv")},
        "encoder": {"type": "multi_hot", "vocab_size": 20},
        "model": {"arch": "dense", "units": 4},
        "train": {"epochs": 1, "batch_size": 16},
        "metrics": "classification",
    }
    r = cli("train", write_config(tmp_path, cfg), "--runs-dir", tmp_path / "runs")
    assert r.exit_code == 0, r.output
    (dev,) = (tmp_path / "runs" / "brackets").glob("*/metrics/dev.json")
    majority = json.loads(dev.read_text())["majority_class"]
    assert majority in ("[good]", "[/bad]")
    (line,) = [x for x in r.stderr.splitlines() if "majority_class " in x]
    assert majority in line
