"""Significance tests against known values."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from seqrun.engine.stats import diebold_mariano, mcnemar, paired_t, t_two_sided, verdict
from tests.conftest import ROOT
from tests.test_cli_fast import _modules_after


@pytest.mark.parametrize(
    "t,df,p",
    [
        (2.0, 10, 0.07338803477),
        (2.228, 10, 0.05),
        (1.96, 1e6, 0.05),
        (0.0, 5, 1.0),
        (12.706, 1, 0.05),
    ],
)
def test_student_t_two_sided(t, df, p):
    assert t_two_sided(t, df) == pytest.approx(p, abs=2e-4)
    assert t_two_sided(-t, df) == t_two_sided(t, df)


def test_student_t_tails_and_infinity():
    # closed forms: df=1 is Cauchy, df=2 has P(|T| > t) = 1 - t / sqrt(2 + t^2)
    for t in (0.3, 1.0, 5.0, 40.0):
        cauchy = 1 - 2 * math.atan(t) / math.pi
        assert t_two_sided(t, 1) == pytest.approx(cauchy, rel=1e-12)
        assert t_two_sided(t, 2) == pytest.approx(1 - t / math.sqrt(2 + t * t), rel=1e-9)
    assert t_two_sided(math.inf, 3) == 0.0


def _pairs(n01: int, n10: int, agree: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Correctness of two classifiers: n01 items only A gets right, n10 only B, agree both."""
    a = np.array([True] * n01 + [False] * n10 + [True] * agree)
    b = np.array([False] * n01 + [True] * n10 + [True] * agree)
    return a, b


def test_mcnemar_textbook_tables():
    # 6 vs 16 discordant pairs (Wikipedia's McNemar example): exact two-sided p = 0.0525
    r = mcnemar(*_pairs(6, 16, agree=139))
    assert r["method"] == "exact binomial" and r["statistic"] == 6
    assert r["p_value"] == pytest.approx(2 * 110056 / 2**22, rel=1e-12)  # sum C(22, 0..6)
    assert round(r["p_value"], 4) == 0.0525
    # Agresti's approval table (150 vs 86 discordant): corrected chi2 = 63^2 / 236 = 16.82
    r = mcnemar(*_pairs(150, 86, agree=1364))
    assert r["method"].startswith("chi-square")
    assert r["statistic"] == pytest.approx(63**2 / 236)
    # P(chi2_1 > x) = erfc(sqrt(x / 2)) in closed form
    assert r["p_value"] == pytest.approx(math.erfc(math.sqrt(63**2 / 236 / 2)), rel=1e-12)
    assert r["p_value"] == pytest.approx(4.11e-5, rel=1e-2)
    # a tie in the exact branch is p = 1 (not above it)
    assert mcnemar(*_pairs(7, 7))["p_value"] == 1.0


def test_mcnemar_exact_and_chi2():
    a = np.array([True] * 50 + [False] * 10 + [True] * 5)
    b = np.array([True] * 50 + [True] * 10 + [False] * 5)
    r = mcnemar(a, b)
    assert (r["a_only_correct"], r["b_only_correct"]) == (5, 10)
    # exact two-sided binomial: 2 * P(X <= 5), X ~ Bin(15, 0.5)
    assert r["p_value"] == pytest.approx(2 * sum(math.comb(15, i) for i in range(6)) / 2**15)
    big_a = np.array([True] * 40 + [False] * 10)
    big_b = np.array([False] * 40 + [True] * 10)
    r = mcnemar(big_a, big_b)
    assert r["method"].startswith("chi-square")
    assert r["statistic"] == pytest.approx((abs(40 - 10) - 1) ** 2 / 50)
    assert r["p_value"] < 1e-4
    assert mcnemar(a, a)["p_value"] == 1.0
    with pytest.raises(ValueError, match="different items"):
        mcnemar(a, a[:-1])


def test_diebold_mariano_detects_a_worse_forecast_only_when_it_is():
    rng = np.random.default_rng(0)
    e = rng.normal(size=400)
    assert diebold_mariano(e, 1.3 * e)["p_value"] < 1e-6
    equally_good = diebold_mariano(e, rng.normal(size=400))  # same error distribution
    assert equally_good["p_value"] > 0.05
    assert diebold_mariano(e, 1.3 * e, horizon=3, loss="absolute")["statistic"] < 0


def test_paired_t_and_words():
    r = paired_t([0.80, 0.82, 0.81, 0.83], [0.78, 0.80, 0.80, 0.81])
    assert r["p_value"] < 0.05 and r["mean_a"] > r["mean_b"]
    assert "unlikely to be noise" in verdict(r["p_value"])
    assert "not distinguishable" in verdict(0.4)


def test_paired_t_student_sleep_data_and_scipy_ttest_rel():
    # Cushny & Peebles (Student 1908): extra sleep under two drugs, the same ten patients;
    # R's t.test(paired = TRUE) gives t = -4.0621, df = 9, p = 0.002833
    drug1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    drug2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    r = paired_t(drug1, drug2)
    assert r["statistic"] == pytest.approx(-4.0621, abs=1e-4)
    assert r["p_value"] == pytest.approx(0.002833, abs=1e-6)
    from scipy.stats import ttest_rel

    rng = np.random.default_rng(3)
    for n in (2, 3, 7, 20):
        x = rng.normal(0.8, 0.02, size=n)
        y = x - rng.normal(0.005, 0.01, size=n)
        ref = ttest_rel(x, y)
        r = paired_t(list(x), list(y))
        assert r["statistic"] == pytest.approx(ref.statistic, rel=1e-12)
        assert r["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    # no spread: a constant difference is certain, no difference is p = 1
    assert paired_t([1, 2, 3], [0, 1, 2])["p_value"] == 0.0
    assert paired_t([1, 2, 3], [1, 2, 3])["p_value"] == 1.0


def test_diebold_mariano_one_step_is_the_paired_t_on_losses():
    # with horizon 1 the HLN-corrected DM statistic equals the paired t-test of the losses
    from scipy.stats import ttest_rel

    rng = np.random.default_rng(7)
    ea, eb = rng.normal(size=60), 1.1 * rng.normal(size=60)
    r = diebold_mariano(ea, eb, horizon=1)
    ref = ttest_rel(ea**2, eb**2)
    assert r["statistic"] == pytest.approx(ref.statistic, rel=1e-10)
    assert r["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)


def test_diebold_mariano_autocovariances_divide_by_n():
    # losses d = 1, 2, 3, 4 (B's are 0), h = 2: deviations -1.5 -0.5 0.5 1.5, gamma0 = 5/4,
    # gamma1 = (0.75 - 0.25 + 0.75) / n = 5/16 (divisor n, as Diebold-Mariano, HLN and R's
    # dm.test have it), V = (5/4 + 2 * 5/16) / 4 = 15/32; DM^2 = 6.25 / V = 40/3, times the HLN
    # factor (n + 1 - 2h + h(h - 1)/n) / n = 3/8: 5
    r = diebold_mariano(np.array([1.0, 2, 3, 4]), np.zeros(4), horizon=2, loss="absolute")
    assert r["statistic"] == pytest.approx(math.sqrt(5), rel=1e-12)


@pytest.mark.parametrize(
    "data,lead",
    [
        ({"horizon": 3}, 3),
        ({"horizon": 1, "output_steps": 4, "headline_step": None}, 4),  # headline: the last
        ({"horizon": 1, "output_steps": 4, "headline_step": 1}, 1),
        ({"horizon": 2, "output_steps": 4, "headline_step": 3}, 4),
    ],
)
def test_forecast_comparison_uses_the_headline_leads_horizon(tmp_path, data, lead):
    # the saved predictions are the headline lead's: their errors overlap over that many steps
    import types

    import yaml

    from seqrun.engine import stats

    rng = np.random.default_rng(2)
    y = rng.normal(size=(50, 1))
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"data": data}), encoding="utf-8")
    runs = []
    for name in ("a", "b"):
        (tmp_path / name / "predictions").mkdir(parents=True)
        np.savez(
            tmp_path / name / "predictions" / "test.npz",
            y_true=y,
            y_pred=y + rng.normal(size=y.shape),
            circular_targets=np.array([False]),
        )
        runs.append(
            types.SimpleNamespace(path=tmp_path / name, config_path=tmp_path / "config.yaml")
        )
    assert stats.compare_two(*runs)["horizon"] == lead


def test_roc_auc_ties_against_hand_computed_value():
    from seqrun.metrics import roc_auc

    # positives score 0.4, 0.4, 0.8; negatives 0.1, 0.4. Pairs (pos > neg counts 1, tie 1/2):
    # 0.4 vs 0.1 -> 1, 0.4 vs 0.4 -> 1/2 (twice), 0.8 vs both -> 2: (2 + 1 + 2) / 6 = 5/6
    y = np.array([1, 0, 1, 1, 0])
    s = np.array([0.4, 0.1, 0.4, 0.8, 0.4])
    assert roc_auc(y, s) == pytest.approx(5 / 6, abs=1e-15)
    assert roc_auc(y, np.zeros(5)) == 0.5  # all tied: chance
    assert roc_auc(1 - y, s) == pytest.approx(1 / 6)
    assert roc_auc(np.ones(3), s[:3]) is None


def test_fast_commands_do_not_import_scipy(tmp_path):
    for args in (
        ["--help"],
        ["config", "validate", "configs/ladybug-gru.yaml"],
        ["runs", "list", "--runs-dir", str(tmp_path)],
    ):
        assert "scipy" not in _modules_after(args), args


def test_comparison_tests_do_not_import_tensorflow(tmp_path):
    # compare_two on two runs' saved predictions: numpy, scipy.stats, no TensorFlow
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=40)
    for name in ("a", "b"):
        (tmp_path / name / "predictions").mkdir(parents=True)
        np.savez(tmp_path / name / "predictions" / "test.npz", y_true=y, proba=rng.uniform(size=40))
    code = (
        "import json, sys, types, pathlib\n"
        "from seqrun.engine import stats\n"
        f"root = pathlib.Path({str(tmp_path)!r})\n"
        "runs = [types.SimpleNamespace(path=root / n, config_path=root / n / 'config.yaml')"
        " for n in 'ab']\n"
        "r = stats.compare_two(*runs)\n"
        "print(json.dumps([r['test'], r['p_value'], 'tensorflow' in sys.modules,"
        " 'keras' in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    test, p, tf, keras = json.loads(out.stdout.splitlines()[-1])
    assert test == "mcnemar" and 0 <= p <= 1 and not tf and not keras


def test_forecast_comparison_scores_directions_circularly_and_skips_calm(tmp_path):
    import types

    from seqrun.engine import stats

    rng = np.random.default_rng(1)
    n = 200
    y = np.stack([rng.uniform(0, 360, n), rng.normal(10, 3, n)], axis=1)
    y[:20, 0] = np.nan  # calm: no direction to score
    a = y + np.stack([rng.normal(0, 5, n), rng.normal(0, 1, n)], axis=1)
    b = a.copy()
    b[:, 0] = np.mod(a[:, 0] + 360, 360)  # the same directions, written another way round
    runs = []
    for name, pred in (("a", a), ("b", b)):
        (tmp_path / name / "predictions").mkdir(parents=True)
        np.savez(
            tmp_path / name / "predictions" / "test.npz",
            y_true=y,
            y_pred=np.nan_to_num(pred, nan=0.0),
            circular_targets=np.array([True, False]),
        )
        runs.append(types.SimpleNamespace(path=tmp_path / name, config_path=tmp_path / "none"))
    same = stats.compare_two(*runs)
    assert same["test"] == "diebold_mariano" and same["n"] == n
    # 350 and -10 are the same bearing
    assert same["mean_loss_a"] == pytest.approx(same["mean_loss_b"])
    b[:, 1] += 2.0  # a worse second target
    np.savez(
        tmp_path / "b" / "predictions" / "test.npz",
        y_true=y,
        y_pred=b,
        circular_targets=np.array([True, False]),
    )
    worse = stats.compare_two(*runs)
    assert np.isfinite(worse["statistic"]) and worse["p_value"] < 1e-3
