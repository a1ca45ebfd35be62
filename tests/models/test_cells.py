"""Tests on the Edgerton cells: hand-computed exact p-values, size by seeded simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from kosovo_study.models import cells as mc

#: The five Kosovo-coded cells' populations and covariates (rounded from the cell table;
#: fixed here so these tests need no data).
POPULATION = np.array([376095.0, 265150.0, 166176.0, 314563.0, 427975.0])
COVARIATES = pd.DataFrame(
    {
        "unemployment_concern_2012": [0.5796, 0.6187, 0.6185, 0.5585, 0.5178],
        "charity_evidence_pre2014": [0.5121, 0.5143, 0.2731, 0.4403, 0.7714],
    }
)
RECRUITS = np.array([1, 7, 1, 0, 5])


def test_all_tables_by_hand() -> None:
    assert sorted(map(tuple, mc.all_tables(2, 2))) == [(0, 2), (1, 1), (2, 0)]
    tables = mc.all_tables(14, 5)
    assert len(tables) == 3060  # C(18, 4)
    assert (tables.sum(axis=1) == 14).all()
    assert len({tuple(t) for t in tables}) == 3060


def test_exact_multinomial_p_by_hand() -> None:
    # n = 2, p = (1/2, 1/2): P(2,0) = P(0,2) = 1/4, P(1,1) = 1/2; table (2,0) -> p = 1/2.
    assert mc.exact_multinomial_test(np.array([2, 0]), np.array([0.5, 0.5])).p_value == (
        pytest.approx(0.5)
    )
    # n = 3, p = (0.2, 0.8): P(3,0) = .008, P(2,1) = .096, P(1,2) = .384, P(0,3) = .512.
    probs = np.array([0.2, 0.8])
    assert mc.exact_multinomial_test(np.array([3, 0]), probs).p_value == pytest.approx(0.008)
    test = mc.exact_multinomial_test(np.array([2, 1]), probs)
    assert test.p_value == pytest.approx(0.104)
    # G² of (2,1): expected (0.6, 2.4); 2 (2 ln(2/0.6) + ln(1/2.4)) = 3.0650; the tables at
    # least as extreme are (2,1) and (3,0) (G² 9.657), so the G² p-value is also 0.104.
    assert test.g2 == pytest.approx(2 * (2 * np.log(2 / 0.6) + np.log(1 / 2.4)))
    assert test.p_value_g2 == pytest.approx(0.104)
    assert mc.exact_multinomial_test(np.array([1, 2]), probs).p_value == pytest.approx(0.488)


def test_the_observed_cells_differ_from_population_shares() -> None:
    test = mc.exact_multinomial_test(RECRUITS, POPULATION)
    assert test.tables == 3060
    assert test.p_value == pytest.approx(0.0077, abs=5e-4)


def test_exact_multinomial_size_by_seeded_simulation() -> None:
    """Reject at 5% in 4,000 null draws: the rate matches the exact size (enumerated) within
    3 Monte Carlo SE, and the exact size is at most 5%."""
    shares = POPULATION / POPULATION.sum()
    tables = mc.all_tables(14, 5)
    weights = np.exp(mc.multinomial_logpmf(tables, shares))
    p_values = np.array([mc.exact_multinomial_test(t, shares).p_value for t in tables])
    exact_size = float(weights[p_values <= 0.05].sum())
    assert exact_size <= 0.05
    assert exact_size > 0.04  # not needlessly conservative
    rng = np.random.default_rng(7)
    draws = rng.multinomial(14, shares, size=4000)
    lookup = {tuple(t): p for t, p in zip(tables, p_values, strict=True)}
    rate = np.mean([lookup[tuple(d)] <= 0.05 for d in draws])
    se = np.sqrt(exact_size * (1 - exact_size) / 4000)  # about 0.0035
    assert abs(rate - exact_size) < 3 * se


def test_poisson_fit_matches_statsmodels() -> None:
    X = np.column_stack([np.ones(5), mc.standardise(COVARIATES.iloc[:, 0].to_numpy())])
    offset = np.log(POPULATION)
    coef, _ = mc.poisson_fit(RECRUITS[None], X, offset)
    reference = sm.GLM(RECRUITS, X, family=sm.families.Poisson(), offset=offset).fit()
    assert coef[0] == pytest.approx(reference.params, abs=1e-8)


def test_score_statistic_matches_statsmodels() -> None:
    focal = mc.standardise(COVARIATES.iloc[:, 0].to_numpy())
    other = mc.standardise(COVARIATES.iloc[:, 1].to_numpy())
    offset = np.log(POPULATION)
    null = sm.GLM(
        RECRUITS, np.column_stack([np.ones(5), other]), family=sm.families.Poisson(), offset=offset
    ).fit()
    statistic = null.score_test(exog_extra=focal[:, None])[0]
    ours = mc.score_statistics(RECRUITS[None], other, offset, focal[None])[0, 0]
    assert ours == pytest.approx(float(np.ravel(statistic)[0]), rel=1e-6)


def test_permutation_p_is_a_multiple_of_one_over_120() -> None:
    for term in mc.FOCAL_TERMS:
        test = mc.permutation_test(RECRUITS, POPULATION, COVARIATES, term)
        assert test.arrangements == 120
        assert round(test.p_value * 120) == pytest.approx(test.p_value * 120)
        assert 1 / 120 <= test.p_value <= 1


def test_permutation_size_by_seeded_simulation() -> None:
    """Under H0 (recruits follow population shares) the rejection rate at 5% matches the
    exact size from enumeration within 3 MC SE.  The exact size is what the design table
    reports; with 5 cells it is not guaranteed to be at most 5%."""
    design = mc.design_analysis(14, POPULATION, COVARIATES, rate_ratios=(1.0,), simulations=3000)
    for power, power_mc in zip(design["power"], design["power_mc"], strict=True):
        assert abs(power_mc - power) < 3 * np.sqrt(power * (1 - power) / 3000)
        assert 0.02 < power < 0.08


def test_design_analysis_is_exact_and_reports_mc_error() -> None:
    design = mc.design_analysis(14, POPULATION, COVARIATES, rate_ratios=(1.0, 3.0), simulations=500)
    assert set(design["term"]) == set(mc.FOCAL_TERMS)
    assert (design["power_mc_se"] <= 0.03).all()
    strong = design[design["rate_ratio_per_sd"] == 3.0]
    # The omnibus multinomial test has power against a strong focal effect; the focal
    # permutation test with 5 cells has little (this is the design analysis' point).
    assert (strong["power_multinomial_test"] > 0.5).all()
    assert (strong["power"] < 0.5).all()
    null = design[design["rate_ratio_per_sd"] == 1.0]
    assert null["power_multinomial_test"].iloc[0] <= 0.05


def test_border_sensitivity_by_hand() -> None:
    """Main cells A, B (population 1 each; recruits 2, 0); border cell C (population 2;
    1 recruit coded to the neighbour).  Lower bound: table (2,0,0) with shares
    (1/4, 1/4, 1/2): P = 1/16; tables no more probable: (2,0,0), (0,2,0) -> p = 1/8.
    Upper bound: (2,0,1), P = 3/32; no more probable: (3,0,0), (0,3,0) (1/64 each),
    (2,1,0), (1,2,0) (3/64 each), (2,0,1), (0,2,1) (3/32 each) -> p = 5/16."""
    cells = pd.DataFrame(
        {
            "gid": [1, 2, 3],
            "in_main_analysis": [True, True, False],
            "edgerton_gwno": pd.array([347, 347, 343], dtype="Int64"),
            "population": [1.0, 1.0, 2.0],
            "recruits": pd.array([2, 0, None], dtype="Int64"),
            "recruits_coded_to_neighbour": pd.array([None, None, 1], dtype="Int64"),
        }
    )
    lower, upper = mc.border_sensitivity(cells)
    assert lower["p_value"] == pytest.approx(1 / 8)
    assert lower["recruits_used"] == 2
    assert upper["p_value"] == pytest.approx(5 / 16)
    assert upper["recruits_used"] == 3
    assert upper["cells_used"] == 3


def test_parametric_p_matches_a_seeded_parametric_bootstrap() -> None:
    """The enumerated parametric p-value equals a simulated parametric bootstrap (4,000
    draws from the fitted null, seeded) within 3 Monte Carlo SE."""
    term = mc.FOCAL_TERMS[1]
    focal = mc.standardise(COVARIATES[term].to_numpy())
    other = mc.standardise(COVARIATES[mc.FOCAL_TERMS[0]].to_numpy())
    offset = np.log(POPULATION)
    test = mc.permutation_test(RECRUITS, POPULATION, COVARIATES, term)
    _, mu = mc.poisson_fit(RECRUITS[None], np.column_stack([np.ones(5), other]), offset)
    draws = np.random.default_rng(11).multinomial(14, mu[0] / mu[0].sum(), size=4000)
    observed = mc.score_statistics(RECRUITS[None], other, offset, focal[None])[0, 0]
    simulated = mc.score_statistics(draws, other, offset, focal[None])[:, 0]
    rate = float(np.mean(simulated >= observed * (1 - 1e-9)))
    se = np.sqrt(max(rate * (1 - rate), 1e-4) / 4000)
    assert abs(rate - test.p_value_parametric) < 3 * se + 1e-3


def test_parametric_size_is_exactly_near_alpha() -> None:
    design = mc.design_analysis(14, POPULATION, COVARIATES, rate_ratios=(1.0,), simulations=10)
    assert ((design["power_parametric"] > 0.04) & (design["power_parametric"] < 0.06)).all()


def test_analyse_labels_rows_from_the_plan() -> None:
    from kosovo_study.plan import load_plan

    from ..conftest import REPO

    cells = pd.DataFrame(
        {
            "gid": [1, 2, 3, 4, 5],
            "in_main_analysis": [True] * 5,
            "edgerton_gwno": pd.array([347] * 5, dtype="Int64"),
            "population": POPULATION,
            "recruits": pd.array(RECRUITS, dtype="Int64"),
            "recruits_coded_to_neighbour": pd.array([None] * 5, dtype="Int64"),
            **{term: COVARIATES[term].to_numpy() for term in mc.FOCAL_TERMS},
        }
    )
    tests = mc.analyse(cells, load_plan(REPO.root / "analysis_plan.yaml"))["edgerton_cell_tests"]
    labels = dict(zip(tests["term"], tests["plan_label"], strict=True))
    assert labels["multinomial_population_shares"] == "secondary"
    assert labels["unemployment_concern_2012"] == "secondary"
    assert len(labels) == 3  # no border cell, so no border sensitivity rows
    assert mc.border_sensitivity(cells) == []
    assert tests["data_label"].str.startswith("REAL").all()
