"""Significance tests against known values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seqrun.engine.stats import betainc, diebold_mariano, mcnemar, paired_t, t_sf2, verdict


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
    assert t_sf2(t, df) == pytest.approx(p, abs=2e-4)


def test_betainc_symmetry():
    assert betainc(2.5, 1.5, 0.3) == pytest.approx(1 - betainc(1.5, 2.5, 0.7), rel=1e-10)


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
