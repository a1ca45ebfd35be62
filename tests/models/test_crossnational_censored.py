"""Unlisted countries as interval-censored in 0-5 (ICSR lists only more than about 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kosovo_study.models import crossnational as cn
from kosovo_study.models.crossnational import countmodels as cm
from kosovo_study.models.crossnational.schemas import CENSORED

Tables = dict[str, pd.DataFrame]


def test_censored_likelihood_by_hand() -> None:
    """An unlisted country contributes log sum_{k=0}^{5} NB(k); a listed one its pmf."""
    params = np.array([1.0, 0.5, 2.0])  # constant, slope, alpha
    X = np.array([[1.0, 0.3], [1.0, -1.0]])
    y = np.array([12.0, 0.0])
    listed = np.array([True, False])
    mu = np.exp(X @ params[:2])
    size = 1 / params[2]
    prob = size / (size + mu)
    expected = [
        stats.nbinom.logpmf(12, size, prob[0]),
        np.log(sum(stats.nbinom.pmf(k, size, prob[1]) for k in range(6))),
    ]
    got = cm.censored_nb2_loglikeobs(params, y, X, listed, 5)
    np.testing.assert_allclose(got, expected, rtol=1e-10)


@pytest.mark.slow
def test_censored_fit_recovers_the_slope() -> None:
    """Seeded simulation: NB2 counts (n = 250, slope 0.6, alpha 1.5) with every count of
    5 or fewer reported as 0 ("unlisted").  The censored fit's slope averages the truth
    over 30 data sets within 3 Monte Carlo SE (SD of the estimates / sqrt(30)), while
    coding the unlisted as 0 is biased."""
    rng = np.random.default_rng(515)
    censored, naive = [], []
    for _ in range(30):
        x = rng.normal(size=250)
        X = np.column_stack([np.ones(250), x])
        mu = np.exp(2.0 + 0.6 * x)
        y = rng.negative_binomial(1 / 1.5, (1 / 1.5) / (1 / 1.5 + mu)).astype(float)
        listed = y > 5
        reported = np.where(listed, y, 0.0)
        params, _, _, converged = cm.fit_censored_nb2(reported, X, listed)
        assert converged
        censored.append(params[1])
        naive.append(cm.fit_model("nb2", reported, X, np.zeros(250), covariance=False).params[1])
    estimates = np.array(censored)
    mc_se = estimates.std(ddof=1) / np.sqrt(len(estimates))
    assert abs(estimates.mean() - 0.6) < 3 * mc_se
    assert abs(np.mean(naive) - 0.6) > 3 * mc_se


def test_real_censored_table(clean_tables: Tables) -> None:
    table = CENSORED.validate(cn.censored_sensitivity(clean_tables["countries"]))
    assert set(table["model"]) == set(cn.CENSORED_MODELS)
    assert table["converged"].all()
    youth = table[(table["term"] == cn.YOUTH)].set_index("model")
    # Both codings give a rate ratio above 1, on the same countries.
    assert (youth["estimate"] > 1).all()
    assert (youth["listed"] + youth["unlisted"] == youth["n"]).all()
    assert youth.loc["unlisted_censored_0_5", "listed"] == (youth.loc["unlisted_as_zero", "listed"])
