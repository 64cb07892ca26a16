"""The newcomer's exercise: a data family, an encoder and an architecture defined outside the
package (tests/toy_family.py), registered through the public registry API, go through every
generic command with no edit to a generic module."""

from __future__ import annotations

import json

import pytest

from seqrun.core.contracts import conformance
from seqrun.core.registry import registry
from tests import toy_family
from tests.conftest import last_json, write_config

TOY = {
    "name": "toy",
    "seed": 1,
    "data": {"adapter": "toy_signs", "examples": 96, "length": 6},
    "encoder": {"type": "toy_scale"},
    "model": {"arch": "toy_mean"},
    "train": {"epochs": 8, "batch_size": 16, "optimizer": "adam", "learning_rate": 0.1},
    "metrics": "classification",
}


@pytest.fixture
def toy_registered():
    added = []
    for kind, (name, target) in toy_family.COMPONENTS.items():
        if name not in registry.names(kind):
            registry.register(kind, name, target, f"toy {kind}")
            added.append((kind, name))
    yield
    for kind, name in added:
        del registry._entries[kind][name]


def test_toy_components_conform(toy_registered):
    for kind, (name, _) in toy_family.COMPONENTS.items():
        assert conformance(kind, registry.get(kind, name)) == [], kind


def test_toy_family_through_every_generic_command(toy_registered, cli, tmp_path):
    config = write_config(tmp_path, TOY)
    runs = tmp_path / "runs"

    r = cli("config", "validate", config)
    assert r.exit_code == 0 and "adapter toy_signs" in r.stdout, r.output

    r = cli("data", "describe", config)
    assert r.exit_code == 0, r.output
    assert "toy: sequences of 6 steps" in r.stdout and "positive" in r.stdout
    info = json.loads(cli("data", "describe", config, "--json").stdout)
    assert info["sizes"] == {"train": 48, "dev": 24, "test": 24}
    assert info["leakage"]["checked"] and not info["leakage"]["found"]

    r = cli("train", config, "--runs-dir", runs, "--json")
    assert r.exit_code == 0, r.output
    result = last_json(r.stdout)
    assert result["status"] == "completed"
    assert result["metrics"]["accuracy"] >= 0.8  # the sign of a mean is easy to learn

    r = cli("evaluate", result["run_dir"], "--json")
    assert r.exit_code == 0, r.output
    scored = last_json(r.stdout)
    assert 0.0 <= scored["metrics"]["accuracy"] <= 1.0 and scored["metrics"]["n"] == 24

    r = cli("train", config, "--runs-dir", runs, "--folds", "2", "--json")
    assert r.exit_code == 0, r.output
    cv = last_json(r.stdout)
    assert cv["folds"] == 2 and len(cv["fold_runs"]) == 2 and "accuracy" in cv["metrics"]


def test_toy_encoder_with_a_text_adapter_is_refused_from_declarations(
    toy_registered, cli, tmp_path
):
    raw = {**TOY, "data": {"adapter": "text_table", "sample": "mr-snippets"}}
    r = cli("config", "validate", write_config(tmp_path, raw))
    assert r.exit_code == 2
    assert "encoder 'toy_scale' reads toy data but adapter 'text_table' gives text" in r.stderr


def test_an_architecture_that_builds_one_network_refuses_model_ensemble(
    toy_registered, cli, tmp_path
):
    raw = {**TOY, "model": {"arch": "toy_mean", "ensemble": 3}}
    r = cli("train", write_config(tmp_path, raw), "--runs-dir", tmp_path / "runs")
    assert r.exit_code == 2, r.output
    assert "model.arch 'toy_mean' builds one network and ignores model.ensemble" in r.stderr
    assert "Traceback" not in r.output
