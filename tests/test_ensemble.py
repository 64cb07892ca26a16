"""`model.ensemble: K`: K members after the encoder's front, each trained on its own loss, used
as their mean (series regression, text classification behind an embedding front)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import TINY_LADYBUG, write_config
from tests.test_text import MR, mr, train_json
from tests.text_fixtures import write_mr_slice


def test_member_losses_are_independent_and_evaluation_scores_the_mean():
    import keras

    from seqrun.models.layers import EnsembleModel, StackMembers

    x = keras.Input(shape=(2,))
    members = [keras.layers.Dense(1, name=f"d{i}")(x) for i in range(3)]
    model = EnsembleModel(x, StackMembers()(members))
    model.compile(loss="mse")
    y = np.array([[1.0], [2.0]], dtype="float32")
    pred = np.array([[[0.0], [1.0], [5.0]], [[2.0], [2.0], [2.0]]], dtype="float32")  # (2, 3, 1)
    train = float(model.compute_loss(y=y, y_pred=pred, training=True))
    each = [np.mean((pred[:, k, 0] - y[:, 0]) ** 2) for k in range(3)]
    assert train == pytest.approx(np.mean(each))  # 9/2 ... not the loss of the mean
    dev = float(model.compute_loss(y=y, y_pred=pred, training=False))
    assert dev == pytest.approx(np.mean((pred.mean(axis=1)[:, 0] - y[:, 0]) ** 2))
    assert train != pytest.approx(dev)
    out = model.predict(np.ones((4, 2), "float32"), verbose=0)
    assert out.shape == (4, 1)  # predict gives the members' mean, not the stack


def test_series_ensemble_trains_saves_and_predicts_the_members_mean(cli, tmp_path):
    import keras

    import seqrun.models.layers  # noqa: F401  (registers the saved classes)
    from seqrun.core.runs import Run
    from seqrun.engine import archive
    from seqrun.engine.trainer import load_data

    raw = {**TINY_LADYBUG, "model": {**TINY_LADYBUG["model"], "ensemble": 3}}
    runs = tmp_path / "runs"
    r = cli("train", write_config(tmp_path, raw), "--runs-dir", runs, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    run = Run(out["run_dir"])
    model = keras.saving.load_model(run.checkpoint("best"))
    names = [layer.name for layer in model.layers]
    assert [n for n in names if n.startswith("member_")] == ["member_0", "member_1", "member_2"]
    first = [model.get_layer(f"member_{i}").get_weights()[0] for i in range(3)]
    assert not np.allclose(first[0], first[1])  # own initial weights, own training

    cfg, encoder, _ = archive.load(run)
    data = load_data(cfg, ("dev",))
    data.set_encoder(encoder)
    ds = data.batches("dev").dataset(256)
    mean = np.mean([model.get_layer(f"member_{i}").predict(ds, verbose=0) for i in range(3)], 0)
    np.testing.assert_allclose(model.predict(ds, verbose=0), mean, rtol=1e-5, atol=1e-6)

    r = cli("evaluate", run.path, "--split", "dev", "--runs-dir", runs, "--json")
    assert r.exit_code == 0, r.output
    again = json.loads(r.stdout)
    assert again.get("metrics", again)["mae"] == pytest.approx(out["metrics"]["mae"], rel=1e-6)


def test_text_ensemble_behind_an_embedding_front(cli, tmp_path):
    MR["data"]["path"] = str(write_mr_slice(tmp_path / "mr_slice.tsv"))
    raw = mr(
        encoder={"type": "embedding", "vocab_size": 500, "dim": 8, "sequence_len": 20},
        model={"arch": "gru", "units": 4, "ensemble": 2},
    )
    out = train_json(cli, tmp_path, raw)
    assert 0.0 <= out["metrics"]["accuracy"] <= 1.0
    r = cli("predict", out["run_dir"], "a moving, funny film", "--json")
    assert r.exit_code == 0, r.output
    p = json.loads(r.stdout)["predictions"][0]
    assert 0.0 <= p["probability"] <= 1.0

    # the padding mask reaches every member: the padding id's vector changes nothing
    import keras

    import seqrun.models.layers  # noqa: F401

    model = keras.saving.load_model(Path(out["run_dir"]) / "checkpoints" / "best.keras")
    ids = np.array([[3, 4, 5] + [0] * 17, [6, 7, 8, 9, 10] + [0] * 15])
    before = model.predict(ids, verbose=0)
    emb = model.get_layer("embedding")
    weights = emb.get_weights()[0]
    weights[0] = 10.0
    emb.set_weights([weights])
    np.testing.assert_allclose(model.predict(ids, verbose=0), before, rtol=1e-5, atol=1e-6)


def test_memory_check_counts_every_member(tmp_path):
    from seqrun.core.checks import _sizes
    from seqrun.core.config import load_config

    one = load_config(write_config(tmp_path, TINY_LADYBUG, "one.yaml"))
    raw = {**TINY_LADYBUG, "model": {**TINY_LADYBUG["model"], "ensemble": 4}}
    four = load_config(write_config(tmp_path, raw, "four.yaml"))
    weights = [i for i in _sizes(one) if "recurrent weights" in i.what]
    weights4 = [i for i in _sizes(four) if "recurrent weights" in i.what]
    assert weights4[0].nbytes == 4 * weights[0].nbytes
    assert weights4[0].what.startswith("4 x ")


def test_an_ensemble_killed_mid_epoch_resumes_to_the_uninterrupted_result(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT
    from tests.test_resume import _auto, _killed_at, _one_run

    raw = {**TINY_LADYBUG, "model": {**TINY_LADYBUG["model"], "ensemble": 2, "dropout": 0.2}}
    cfg = write_config(tmp_path, raw)

    def train(*args: str) -> dict:
        p = subprocess.run(
            [sys.executable, "-m", "seqrun", *args, "--json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    expected = train("train", str(cfg), "--runs-dir", str(tmp_path / "a"))["metrics"]
    runs = tmp_path / "b"
    _killed_at("batch:2:1", _auto(cfg, runs))  # after epoch 1's checkpoint, inside epoch 2
    state = json.loads((_one_run(runs) / "checkpoints" / "state.json").read_text())
    assert state["epoch"] == 1
    result = train(*_auto(cfg, runs))
    assert result["run_dir"] == str(_one_run(runs))
    for key in ("mae", "rmse", "mae_norm"):
        assert result["metrics"][key] == pytest.approx(expected[key], rel=1e-5)
