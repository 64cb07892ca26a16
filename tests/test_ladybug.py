"""The ladybug adapter reproduces the course's trajectory; windows are right."""

from __future__ import annotations

import numpy as np
import pytest

from seqrun.core.config import config_from_dict
from seqrun.data.base import open_adapter
from seqrun.data.ladybug import ladybug_params, ladybug_trajectory
from seqrun.encoders.numeric import Standardize
from tests.conftest import TINY_LADYBUG


def test_params_match_the_course_seed_16():
    px, py = ladybug_params(16)
    assert [round(v, 3) for v in px[:4]] == [-0.738, 0.875, -0.943, 0.542]
    assert len(py) == 8


def test_trajectory_formula_and_length():
    traj = ladybug_trajectory(16)
    assert traj.shape == (50_000, 2)
    (ax1, ax2, ax3, ax4, kx1, kx2, kx3, kx4), (ay1, ay2, ay3, ay4, ky1, ky2, ky3, ky4) = (
        ladybug_params(16)
    )
    t = 0.02 * 123
    x = (
        ax1 * np.sin(t * (kx1 + 20))
        + ax2 * np.cos(t * (kx2 + 10))
        + ax3 * np.sin(t * (kx3 + 5))
        + ax4 * np.cos(t * (kx4 + 5))
    )
    y = (
        ay1 * np.cos(t * (ky1 + 20))
        + ay2 * np.sin(t * (ky2 + 10))
        + ay3 * np.cos(t * (ky3 + 5))
        + ay4 * np.sin(t * (ky4 + 5))
    )
    assert traj[123] == pytest.approx([x, y])


def _data(**overrides):
    raw = {**TINY_LADYBUG, "data": {**TINY_LADYBUG["data"], **overrides.pop("data", {})}}
    raw["model"] = {**raw["model"], **overrides.pop("model", {})}
    cfg = config_from_dict(raw)
    return cfg, open_adapter(cfg)


def test_chronological_split_and_scalar_normalisation():
    cfg, adapter = _data(data={"scale": 0.1})
    data = adapter.load(("train", "dev", "test"))
    full = ladybug_trajectory(16)[:5000].astype(np.float32)
    train, dev, test = (data.splits[s].values for s in ("train", "dev", "test"))
    assert (len(train), len(dev), len(test)) == (3500, 500, 1000)
    np.testing.assert_array_equal(np.concatenate([train, dev, test]), full)
    enc = Standardize(cfg.encoder)
    data.fit_encoder(enc)
    assert enc.mean[0] == enc.mean[1] == pytest.approx(train.mean(), rel=1e-5)
    assert enc.std[0] == pytest.approx(train.std(), rel=1e-5)


def test_train_only_loads_what_it_asks_for():
    _, adapter = _data()
    assert set(adapter.load(("train", "dev")).splits) == {"train", "dev"}


@pytest.mark.parametrize("seq2seq", [False, True])
def test_tf_windows_equal_numpy_windows(seq2seq):
    cfg, adapter = _data(model={"return_sequences": seq2seq})
    data = adapter.load(("train", "dev"))
    data.fit_encoder(Standardize(cfg.encoder))
    w = data.batches("dev")
    v = w.values
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in w.dataset(16)], strict=True)
    x, y = np.concatenate(xs), np.concatenate(ys)
    n, L = len(v) - 8, 8
    assert x.shape == (n, L, 2)
    np.testing.assert_array_equal(x[5], v[5:13])
    if seq2seq:
        assert y.shape == (n, L, 2)
        np.testing.assert_array_equal(y[5], v[6:14])
    else:
        np.testing.assert_array_equal(y[5], v[13])
    np.testing.assert_array_equal(w.targets(), v[8:])


def test_training_order_depends_on_seed_and_epoch_only():
    cfg, adapter = _data()
    data = adapter.load(("train", "dev"))
    data.fit_encoder(Standardize(cfg.encoder))
    w = data.batches("train")

    def firsts(first, last):
        return [y.numpy()[0].tolist() for _, y in w.training_dataset(64, 7, first, last)]

    steps = w.steps(64)
    both = firsts(0, 2)
    assert firsts(1, 2) == both[steps:]  # epoch 1 alone = epoch 1 after epoch 0
    assert both[:steps] != both[steps:]  # epochs differ
    assert len(both) == 2 * steps


def test_too_small_split_is_a_user_error():
    from seqrun.core.errors import UserError

    _, adapter = _data(data={"scale": 0.001, "sequence_len": 30})
    with pytest.raises(UserError, match="too few"):
        adapter.load(("train", "dev"))


def test_predict_len_longer_than_a_split_is_refused_before_training(cli, tmp_path):
    from tests.conftest import write_config
    from tests.test_bad_inputs import no_run_left, one_line_error

    config = write_config(tmp_path, TINY_LADYBUG)
    runs = tmp_path / "runs"
    r = cli("train", config, "--set", "data.predict_len=100000", "--runs-dir", runs)
    one_line_error(r, "data.predict_len:", "lower data.predict_len to at most 92")
    no_run_left(runs)
    _, adapter = _data(data={"predict_len": 92})  # the bound it gives works
    adapter.load(("train", "dev"))


@pytest.mark.parametrize(
    ("data", "advice", "not_advised"),
    [
        ({"scale": 1, "max_t": 0.5}, "raise data.max_t (now 0.5)", "data.scale"),
        ({"scale": 1, "sequence_len": 100000}, "lower data.sequence_len to at most", "scale"),
        ({"scale": 0.5, "sequence_len": 100000}, "raise data.max_t", "data.scale"),
        ({"scale": 0.001, "sequence_len": 30}, "raise data.scale (now 0.001", "max_t"),
        # no dev point at all: was told to raise data.max_t (0 points / scale is 0)
        ({"scale": 0.0001, "sequence_len": 8}, "raise data.scale (now 0.0001", "max_t"),
    ],
)
def test_too_small_split_advice_can_work(data, advice, not_advised):
    from seqrun.core.errors import UserError

    _, adapter = _data(data=data)
    with pytest.raises(UserError, match="too few") as e:
        adapter.load(("train", "dev"))
    assert advice in str(e.value) and not_advised not in str(e.value)


@pytest.mark.parametrize("feed_previous", [False, True])
def test_encoder_decoder_one_step_feeds_the_recursive_evaluation(cli, tmp_path, feed_previous):
    """encoder_decoder with one output step gives (batch, targets) like every architecture, so
    ladybug's recursive evaluation can feed it back (without feed_previous it gave
    (batch, 1, targets): a ValueError after training)."""
    import json
    from pathlib import Path

    from tests.conftest import last_json, write_config

    model = {"arch": "encoder_decoder", "units": 8, "feed_previous": feed_previous}
    cfg = write_config(tmp_path, dict(TINY_LADYBUG, model=model))
    r = cli("train", cfg, "--runs-dir", tmp_path / "runs", "--json")
    assert r.exit_code == 0, r.output
    dev_json = Path(last_json(r.stdout)["run_dir"]) / "metrics" / "dev.json"
    dev = json.loads(dev_json.read_text())
    assert dev["recursive_mae_per_step"] and np.isfinite(dev["mae"])


def test_poisson_loss_on_standardized_targets_names_the_loss(cli, tmp_path):
    """poisson's log of negative (standardized) predictions gives no finite dev loss: the
    error says so instead of advising a lower learning rate."""
    from tests.conftest import write_config

    raw = dict(TINY_LADYBUG, train=dict(TINY_LADYBUG["train"], epochs=1, loss="poisson"))
    r = cli("train", write_config(tmp_path, raw), "--runs-dir", tmp_path / "runs")
    assert r.exit_code == 1, r.output
    assert "train.loss 'poisson' takes the log of the predictions" in r.stderr
    assert "lower train.learning_rate" not in r.stderr


def test_progress_says_that_regression_epochs_are_in_the_model_units(cli, tiny_config, tmp_path):
    """A regression's per-epoch dev metrics are in scaled units (the summary in the target's):
    said once, before the first epoch line; --quiet says nothing."""
    r = cli("train", tiny_config, "--runs-dir", tmp_path / "runs")
    assert r.exit_code == 0, r.output
    assert r.stderr.count("note: per-epoch losses and dev metrics are in the model's units") == 1
    assert r.stderr.index("note: per-epoch") < r.stderr.index("epoch 1/2")
    r = cli("train", tiny_config, "--runs-dir", tmp_path / "runs", "--quiet")
    assert r.exit_code == 0 and "note: per-epoch" not in r.stderr, r.stderr
