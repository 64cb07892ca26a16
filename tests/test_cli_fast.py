"""Commands that do not train: fast, no TensorFlow import, clear errors with exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

from tests.conftest import ROOT, TINY_LADYBUG, write_config


def _modules_after(args: list[str]) -> set[str]:
    code = (
        "import sys\nfrom seqrun.cli import app\n"
        f"try:\n    app({args!r})\nexcept SystemExit:\n    pass\n"
        "print('\\n'.join(sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(out.stdout.split())


def test_fast_commands_do_not_import_tensorflow(tmp_path):
    for args in (
        ["--help"],
        ["config", "validate", "configs/ladybug-gru.yaml"],
        ["config", "validate", "configs/studies/ladybug.yaml"],
        ["config", "validate", "configs/sweeps/ladybug-units.yaml"],
        ["config", "show", "configs/ladybug-gru.yaml"],
        ["config", "schema"],
        ["list"],
        ["runs", "list", "--runs-dir", str(tmp_path)],
    ):
        mods = _modules_after(args)
        assert "tensorflow" not in mods and "keras" not in mods, args
        assert "pandas" not in mods and "matplotlib" not in mods, args


def test_runs_list_reads_headline_metrics_from_the_metric_sets_without_numpy(tmp_path):
    run = tmp_path / "exp" / "20260101-000000-abcd"
    (run / "metrics").mkdir(parents=True)
    (run / "meta.json").write_text(json.dumps({"status": "completed"}))
    (run / "metrics" / "dev.json").write_text(json.dumps({"accuracy": 0.8, "mae": 1.5, "n": 3}))
    mods = _modules_after(["runs", "list", "--runs-dir", str(tmp_path)])
    assert "numpy" not in mods and "tensorflow" not in mods
    assert "seqrun.metrics.classification" in mods  # the headline comes from the metric sets
    out = subprocess.run(
        [sys.executable, "-m", "seqrun", "runs", "list", "--runs-dir", str(tmp_path), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    (row,) = json.loads(out.stdout)
    assert row["dev"] == {"accuracy": 0.8, "mae": 1.5}  # "n" is not a headline metric


def test_validate_ok_and_show_resolved(cli, tiny_config):
    r = cli("config", "validate", tiny_config)
    assert r.exit_code == 0 and "ok:" in r.stdout
    r = cli("config", "show", tiny_config, "--set", "model.units=7")
    shown = yaml.safe_load(r.stdout)
    assert shown["model"]["units"] == 7 and shown["train"]["shuffle"] is True


def test_validate_checks_sweep_and_study_files(cli, tmp_path):
    r = cli("config", "validate", ROOT / "configs/studies/ladybug.yaml")
    assert r.exit_code == 0, r.output
    assert "(study ladybug, base ../ladybug-gru.yaml, 4 key(s) searched" in r.stdout
    assert "objective dev_mae, minimize" in r.stdout
    r = cli("config", "validate", ROOT / "configs/sweeps/ladybug-units.yaml")
    assert r.exit_code == 0 and "(sweep ladybug-units, base ../ladybug-gru.yaml" in r.stdout
    # each trial's config is checked, as `seqrun sweep` does before any trial
    r = cli("config", "validate", ROOT / "configs/sweeps/ladybug-units.yaml", "--set", "x.y=1")
    assert r.exit_code == 2 and "trial 0" in r.stderr and "unknown section 'x'" in r.stderr
    # train and config show name the command a sweep or study file is run with
    r = cli("train", ROOT / "configs/studies/ladybug.yaml", "--runs-dir", tmp_path)
    assert r.exit_code == 2 and "this is a study file" in r.stderr
    assert "run it with seqrun tune" in r.stderr and not (tmp_path / "ladybug").exists()
    r = cli("config", "show", ROOT / "configs/sweeps/ladybug-units.yaml")
    assert r.exit_code == 2 and "this is a sweep file" in r.stderr and ":4 base" in r.stderr


def test_user_errors_exit_2_one_line_no_traceback(cli, tmp_path):
    bad = write_config(tmp_path, dict(TINY_LADYBUG, model={"arch": "gru", "unitz": 3}))
    for args in (
        ("config", "validate", bad),
        ("config", "validate", tmp_path / "missing.yaml"),
        ("train", bad),
        ("train", tmp_path / "missing.yaml"),
        ("evaluate", tmp_path),
    ):
        r = cli(*args)
        assert r.exit_code == 2, (args, r.output)
        assert "Traceback" not in r.output
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr


def test_list_shows_every_kind(cli):
    r = cli("list")
    assert r.exit_code == 0
    for name in ("ladybug", "standardize", "simple_rnn", "lstm", "gru", "dense", "regression"):
        assert name in r.stdout


def test_list_fits_the_terminal_and_keeps_every_name_whole():
    """COLUMNS=60: `seqrun list` was always 160 columns wide (lines the terminal wraps into
    each other); now it fits COLUMNS: one component a line, its description wrapped below."""
    from seqrun.core.registry import KINDS, registry

    p = subprocess.run(
        [sys.executable, "-m", "seqrun", "list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "COLUMNS": "60"},
    )
    assert p.returncode == 0, p.stderr
    assert all(len(line) <= 60 for line in p.stdout.splitlines()), p.stdout
    names = {line.split()[1] for line in p.stdout.splitlines() if not line.startswith("  ")}
    for kind in KINDS:
        for e in registry.entries(kind):
            assert e.name in names, (e.name, p.stdout)


def test_schema_is_json(cli):
    r = cli("config", "schema")
    schema = json.loads(r.stdout)
    assert schema["title"] == "seqrun experiment"


def test_plugin_registration_via_registry(cli, tmp_path, monkeypatch):
    # a third-party architecture registered at run time shows up and validates
    from seqrun.core.registry import registry

    registry.register("arch", "my_dense", "seqrun.models.dense:DenseArch", "plugin test")
    try:
        r = cli("list")
        assert "my_dense" in r.stdout
    finally:
        registry._entries["arch"].pop("my_dense")


def test_entry_point_plugin_is_discovered(tmp_path, monkeypatch):
    """A third-party package registers an architecture through the entry-point group."""
    import importlib

    dist = tmp_path / "myplugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: myplugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[seqrun.architectures]\nmy_mlp = myplugin_arch:MyMLP\n")
    (tmp_path / "myplugin_arch.py").write_text(
        "from typing import Literal\n"
        "from seqrun.models.dense import DenseArch, DenseConfig\n\n"
        "class MyConfig(DenseConfig):\n"
        "    arch: Literal['my_mlp'] = 'my_mlp'\n\n"
        "class MyMLP(DenseArch):\n"
        '    """A plugin MLP."""\n\n'
        "    Config = MyConfig\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    from seqrun.core.registry import Registry

    fresh = Registry()
    entry = fresh.entry("arch", "my_mlp")
    assert entry.source == "myplugin" and entry.describe() == "A plugin MLP."
    assert entry.load().Config(arch="my_mlp").units == 64


def test_version_and_short_help(cli):
    from seqrun import __version__

    r = cli("--version")
    assert r.exit_code == 0 and r.stdout.strip() == f"seqrun {__version__}"
    import tomllib  # the version an install records (pyproject) is the one --version prints

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == __version__
    for args in (["-h"], ["train", "-h"], ["runs", "list", "-h"]):
        r = cli(*args)
        assert r.exit_code == 0 and r.stdout.startswith("Usage: "), args


def test_usage_errors_are_one_line_exit_2():
    for args, needle in (
        (["runs", "list", "--sort", "x"], "No such option: --sort (Possible options: --json)"),
        (["train", "x.yaml", "--folds", "1"], "'--folds'"),
        (["nope"], "No such command 'nope'. (see python -m seqrun --help)"),
    ):
        p = subprocess.run(
            [sys.executable, "-m", "seqrun", *args], capture_output=True, text=True, cwd=ROOT
        )
        assert p.returncode == 2 and p.stdout == "", (args, p.stdout)
        assert p.stderr.count("\n") == 1 and p.stderr.startswith("error: "), p.stderr
        assert needle in p.stderr, p.stderr


def test_tensorboard_without_its_package_is_a_config_error(cli, tmp_path, monkeypatch):
    """Where tensorboard is not installed, train.tensorboard: true fails before any run dir."""
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # what find_spec sees when it is absent
    raw = dict(TINY_LADYBUG, train={**TINY_LADYBUG["train"], "tensorboard": True})
    cfg = write_config(tmp_path, raw)
    r = cli("config", "validate", cfg)
    assert r.exit_code == 2 and "pip install tensorboard" in r.output
    r = cli("train", cfg, "--runs-dir", tmp_path / "runs")
    assert r.exit_code == 2 and "train.tensorboard" in r.output
    assert not (tmp_path / "runs").exists()


def test_evaluate_unknown_split_lists_every_split_it_takes(cli, tmp_path):
    r = cli("evaluate", tmp_path, "--split", "validation")
    assert r.exit_code == 2 and "use test, dev or train" in r.stderr, r.output


def test_a_config_read_from_a_pipe_or_dev_null(tmp_path):
    """`seqrun config validate <(...)` reads the pipe (is_file() is false for it); /dev/null
    is an empty config, not a missing file."""
    cfg = write_config(tmp_path, TINY_LADYBUG)
    cmd = f'"{sys.executable}" -m seqrun config validate <(cat "{cfg}")'
    piped = subprocess.run(["bash", "-c", cmd], cwd=ROOT, capture_output=True, text=True)
    assert piped.returncode == 0 and "ok: /dev/fd/" in piped.stdout, piped.stderr
    empty = subprocess.run(
        [sys.executable, "-m", "seqrun", "config", "validate", "/dev/null"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert empty.returncode == 2 and "holds no settings" in empty.stderr
