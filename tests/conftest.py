"""Shared fixtures: tiny experiment files and a CLI runner."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

# A shell that starts the suite in the background (`pytest &`, nohup, some CI runners) ignores
# SIGINT, and the processes the tests start would inherit that: the Ctrl-C tests need SIGINT
# delivered. A handler here (not inherited through exec) gives the children the default.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"  # small real files and fixtures (tests/data/README.md)

TINY_LADYBUG = {
    "name": "tiny-ladybug",
    "seed": 3,
    "data": {"adapter": "ladybug", "scale": 0.02, "sequence_len": 8, "predict_len": 3},
    "encoder": {"type": "standardize", "mode": "scalar"},
    "model": {"arch": "gru", "units": 8, "activation": "tanh"},
    "train": {"epochs": 2, "batch_size": 64, "optimizer": "adam", "learning_rate": 0.01},
    "metrics": "regression",
}


def write_config(folder: Path, cfg: dict, name: str = "exp.yaml") -> Path:
    path = Path(folder) / name
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


@pytest.fixture
def tiny_config(tmp_path: Path) -> Path:
    return write_config(tmp_path, TINY_LADYBUG)


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    return tmp_path / "runs"


@pytest.fixture
def cli():
    """Invoke the Typer app in-process: cli(args) -> Result (exit_code, stdout, stderr)."""
    from seqrun.cli import app

    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return invoke


def last_json(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])
