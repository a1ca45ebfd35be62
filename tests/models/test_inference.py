"""Randomization inference with intervals: exact enumeration, Fisher intervals by test
inversion (sharp nulls shifted through the offset), Holm and Romano-Wolf adjustment.

Hand-computed cases, then seeded simulations on the real municipal design (34 units,
log-population offset, NB2 outcomes conditioned on the national total) with their
Monte Carlo (MC) standard errors stated."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kosovo_study import simulation_evidence
from kosovo_study.config import StudyConfig
from kosovo_study.models import cells, inference, municipal
from kosovo_study.models.design import CHARITY, UNEMPLOYMENT, Design, municipal_design
from kosovo_study.models.outcome import draw_conditional_nb, national_total, synthetic_outcome
from kosovo_study.plan import load_plan

Tables = dict[str, pd.DataFrame]


@pytest.fixture(scope="module")
def design(clean_tables: Tables) -> Design:
    return municipal_design(clean_tables["municipalities"])


@pytest.fixture(scope="module")
def total(clean_tables: Tables) -> int:
    return national_total(clean_tables["kosovo_national"])


# --- hand-computed ------------------------------------------------------------------------


def test_holm_by_hand() -> None:
    # sorted 0.01, 0.03, 0.04 (m = 3): 3 x 0.01 = 0.03, 2 x 0.03 = 0.06, max(0.06, 0.04)
    adjusted = inference.holm(np.array([0.01, 0.04, 0.03, np.nan]))
    np.testing.assert_allclose(adjusted[:3], [0.03, 0.06, 0.06])
    assert np.isnan(adjusted[3])


def test_draw_p_values_by_hand() -> None:
    # draws |t| = 3, 1, 2 and the observed 2.5: each draw's p counts the members of the
    # reference set (draws and observed) at least as extreme as it, itself included
    np.testing.assert_allclose(
        inference.draw_p_values(np.array([[3.0, -1.0, 2.0]]), np.array([2.5])),
        [[1 / 4, 4 / 4, 3 / 4]],
    )
    # under the null the observed p and the draws' p are exchangeable: ranked alike
    observed_p = inference.randomization_p(np.array([3.0, -1.0, 2.0]), 2.5)[0]
    assert observed_p == 2 / 4


def test_step_down_min_p_by_hand() -> None:
    # two members, four joint draws of their per-draw p-values
    null_p = np.array([[0.2, 0.8, 0.4, 1.0], [0.6, 0.2, 1.0, 0.4]])
    # member 0 (p = 0.2) first: min over both members per draw = 0.2, 0.2, 0.4, 0.4;
    # 2 of 4 <= 0.2 -> (1 + 2) / 5.  Member 1 (p = 0.4): its own draws <= 0.4: 2 -> 3/5.
    np.testing.assert_allclose(
        inference.step_down_min_p(np.array([0.2, 0.4]), null_p), [3 / 5, 3 / 5]
    )
    # it is never below Holm's single-step bound's one-member version (the raw p)
    assert (inference.step_down_min_p(np.array([0.2, 0.4]), null_p) >= [0.2, 0.4]).all()


def test_inversion_recovers_a_known_interval() -> None:
    # p(b) of a two-sided z test with estimate 1, SE 0.5: the interval is 1 +- 1.96 x 0.5
    def p_at(values: np.ndarray) -> np.ndarray:
        return np.asarray(2 * stats.norm.sf(np.abs(values - 1.0) / 0.5))

    interval = inference.invert(p_at, 1.0, 0.5, alpha=0.05, tolerance=0.001)
    half = stats.norm.ppf(0.975) * 0.5
    assert interval.low == pytest.approx(1 - half, abs=0.001)
    assert interval.high == pytest.approx(1 + half, abs=0.001)


def test_inversion_reports_an_open_side_as_infinite() -> None:
    interval = inference.invert(lambda v: np.where(np.asarray(v) < 0, 0.0, 0.5), 1.0, 0.5)
    assert interval.low == pytest.approx(0.0, abs=0.01)
    assert interval.high == np.inf


def test_exact_enumeration_up_to_the_limit() -> None:
    values = np.arange(8.0)  # 8! = 40,320 arrangements: at most 10^5, so exact
    orders, exact = inference.orderings(values, 99, np.random.default_rng(0), limit=100_000)
    assert exact
    assert len(orders) == math.factorial(8)
    assert len({tuple(o) for o in orders}) == math.factorial(8)
    many = np.arange(9.0)  # 9! = 362,880 > 10^5: Monte Carlo
    orders, exact = inference.orderings(many, 99, np.random.default_rng(0), limit=100_000)
    assert not exact
    assert orders.shape == (99, 9)
    # without a limit the old rule holds (exact only when arrangements <= draws)
    assert not inference.orderings(values, 99, np.random.default_rng(0))[1]


@pytest.mark.parametrize("family", sorted(inference.FAMILIES))
def test_shifted_null_is_the_offset_reparametrisation(
    design: Design, total: int, family: str
) -> None:
    """Under H0: beta = b, fitting with b x in the offset gives beta_hat - b and the same
    SE, so the observed statistic is (beta_hat - b) / se; at b = beta_hat it is 0 and
    nothing is less extreme than it (p = 1)."""
    y = synthetic_outcome(design, total, seed=5).fighters.astype(float)
    column = design.column(UNEMPLOYMENT)
    observed = inference.focal_statistics(family, y[None], design.X, design.offset, column)
    b = 0.3
    shifted_offset = design.offset + b * design.X[:, column]
    shifted = inference.focal_statistics(family, y[None], design.X, shifted_offset, column)
    assert shifted.coef[0] == pytest.approx(observed.coef[0] - b, abs=1e-6)
    assert shifted.se[0] == pytest.approx(observed.se[0], rel=1e-5)
    orders = inference.random_orderings(49, design.n, np.random.default_rng(1))
    p = inference.shifted_null_p(
        family, y, design.X, design.offset, column, orders, np.array([observed.coef[0]])
    )
    assert p[0] == 1.0


def test_fisher_interval_brackets_the_estimate_and_crosses_alpha(
    design: Design, total: int
) -> None:
    y = synthetic_outcome(design, total, seed=5).fighters.astype(float)
    column = design.column(CHARITY)
    orders = inference.random_orderings(199, design.n, np.random.default_rng(2))
    interval = inference.fisher_interval("nb2", y, design.X, design.offset, column, orders)
    coef = inference.focal_statistics("nb2", y[None], design.X, design.offset, column).coef[0]
    assert interval.low < coef < interval.high
    se_step = 0.05  # a little beyond the tolerance (0.01 SE) on the outside of each end
    fit = inference.focal_statistics("nb2", y[None], design.X, design.offset, column)
    step = se_step * float(fit.se[0])
    p = inference.shifted_null_p(
        "nb2",
        y,
        design.X,
        design.offset,
        column,
        orders,
        np.array([interval.low + step, interval.high - step, interval.low - step]),
    )
    assert p[0] > 0.05
    assert p[1] > 0.05
    assert p[2] <= 0.05


def test_randomization_table_and_family_follow_the_plan(design: Design, total: int) -> None:
    outcome = synthetic_outcome(design, total)
    settings = StudyConfig(permutations=99)
    estimates = pd.DataFrame(
        {
            "term": ["youth_unemployment_pct_2010_2013"],
            "p_value": [0.01],
            **{k: [v] for k, v in municipal.CROSSNATIONAL_PRIMARY.items()},
        }
    )
    table, family = municipal.randomization_inference(
        design, outcome.fighters, outcome, settings, load_plan(), estimates
    )
    assert list(table["hypothesis"]) == ["H1", "H2"]
    assert (table["fisher_irr_low"] < table["incidence_rate_ratio"]).all()
    assert (table["incidence_rate_ratio"] < table["fisher_irr_high"]).all()
    assert table["synthetic"].all()
    assert list(family["hypothesis"]) == ["H1", "H2", "H3", "H4"]
    # H4 is not estimated: counted with p = 1, so Holm runs over all four members
    assert family["available"].tolist() == [True, True, True, False]
    counted = family["p_value"].fillna(1.0).to_numpy()
    synthetic = family["synthetic"].to_numpy(dtype=bool)
    # the synthetic members are adjusted among themselves as a demonstration...
    np.testing.assert_allclose(family["p_holm"][synthetic], inference.holm(counted)[synthetic])
    # ...but never enter a real member's adjustment: they count as not tested (p = 1)
    real = inference.holm(np.where(synthetic, 1.0, counted))
    np.testing.assert_allclose(family["p_holm"][~synthetic], real[~synthetic])
    assert family.loc[2, "p_holm"] == pytest.approx(min(1.0, 4 * 0.01))
    # Romano-Wolf is never above Holm by more than the draws' granularity
    assert (family["p_romano_wolf"] <= family["p_holm"] + 2 / 100).all()


def test_cell_fisher_interval_contains_the_estimate_and_respects_the_offset() -> None:
    population = np.array([120_000.0, 300_000.0, 80_000.0, 200_000.0, 150_000.0])
    focal = cells.standardise(np.array([0.2, 0.5, 0.3, 0.8, 0.4]))
    other = cells.standardise(np.array([0.0, 1.0, 0.0, 1.0, 1.0]))
    recruits = np.array([1.0, 3.0, 1.0, 6.0, 3.0])
    offset = np.log(population)
    coef, _ = cells.poisson_fit(recruits[None], np.column_stack([np.ones(5), focal, other]), offset)
    interval = cells.fisher_interval(recruits, focal, other, offset, float(coef[0, 1]))
    assert interval.low < coef[0, 1] < interval.high
    # at the estimate the shifted score is 0: every arrangement is as extreme (p = 1)
    p = cells.permutation_p_values(recruits[None], focal, other, offset + coef[0, 1] * focal)
    assert p[0] == 1.0


# --- simulations (seeded; MC SE stated) ---------------------------------------------------

# sizes and bands from kosovo_study.simulation_evidence (the book quotes the same records)
SIZE = simulation_evidence.check("randomization_size")
SHIFTED = simulation_evidence.check("shifted_null_size")
COVERAGE = simulation_evidence.check("fisher_coverage")
FAMILY_WISE = simulation_evidence.check("family_wise_error")
DRAWS = 99


def _null_outcomes(
    design: Design, total: int, term: str, log_irr: float, data_sets: int, seed: int
) -> np.ndarray:
    """NB2 outcomes (alpha 0.8) with every covariate's effect set: the focal term's to
    ``log_irr`` (the null under test) and the others' to 0.2 per SD, so that the test must
    separate the focal term from correlated controls."""
    coefficients = np.full(len(design.terms), 0.2)
    coefficients[0] = 0.0
    coefficients[design.column(term)] = log_irr
    return draw_conditional_nb(
        design, coefficients, 0.8, total, np.random.default_rng(seed), size=data_sets
    )


@pytest.mark.slow
@pytest.mark.parametrize("family", ["nb2", "quasi_poisson", "ols_log_rate"])
@pytest.mark.parametrize("term", [UNEMPLOYMENT, CHARITY])
def test_randomization_null_has_size_five_percent(
    design: Design, total: int, family: str, term: str
) -> None:
    """H0: beta = 0 (the focal term has no effect; the others do)."""
    y = _null_outcomes(design, total, term, 0.0, SIZE.data_sets, seed=31)
    orders = inference.random_orderings(DRAWS, design.n, np.random.default_rng(32))
    column = design.column(term)
    p = inference.batched_permutation_p(family, y, design.X, design.offset, column, orders)
    rate = float(np.mean(p <= 0.05))
    assert SIZE.accepts(rate), SIZE.failure(rate, f"{family}, {term}")


@pytest.mark.slow
@pytest.mark.parametrize("term", [UNEMPLOYMENT, CHARITY])
def test_shifted_null_has_size_five_percent(design: Design, total: int, term: str) -> None:
    """H0: beta = log 1.5 (true), tested through the offset: the null each point of a
    Fisher interval tests.  Its rejection rate is 1 - the interval's coverage."""
    b = float(np.log(1.5))
    y = _null_outcomes(design, total, term, b, SHIFTED.data_sets, seed=41)
    orders = inference.random_orderings(DRAWS, design.n, np.random.default_rng(42))
    column = design.column(term)
    shifted = design.offset + b * design.X[:, column]
    # the shifted null of beta = b is the zero null of the model with b x in the offset
    p = inference.batched_permutation_p("nb2", y, design.X, shifted, column, orders)
    rate = float(np.mean(p <= 0.05))
    assert SHIFTED.accepts(rate), SHIFTED.failure(rate, term)


@pytest.mark.slow
def test_fisher_intervals_cover_the_true_rate_ratio(design: Design, total: int) -> None:
    """``COVERAGE.data_sets`` data sets with a true rate ratio of 1.5 per SD of unemployment concern; the
    95% Fisher interval (99 draws) computed in full for each."""
    b = float(np.log(1.5))
    y = _null_outcomes(design, total, UNEMPLOYMENT, b, COVERAGE.data_sets, seed=51)
    orders = inference.random_orderings(DRAWS, design.n, np.random.default_rng(52))
    column = design.column(UNEMPLOYMENT)
    covered = []
    for row in y:
        interval = inference.fisher_interval(
            "nb2", row, design.X, design.offset, column, orders, tolerance=0.05
        )
        covered.append(interval.low <= b <= interval.high)
    coverage = float(np.mean(covered))
    assert COVERAGE.accepts(coverage), COVERAGE.failure(coverage)


@pytest.mark.slow
def test_family_wise_error_of_holm_and_romano_wolf(design: Design, total: int) -> None:
    """Global null over three terms (unemployment, charity, Muslim share), tested on the
    same permutation draws: the probability of any rejection at 5%."""
    data_sets = FAMILY_WISE.data_sets
    coefficients = np.zeros(len(design.terms))
    rng = np.random.default_rng(61)
    y = draw_conditional_nb(design, coefficients, 0.8, total, rng, size=data_sets)
    orders = inference.random_orderings(DRAWS, design.n, np.random.default_rng(62))
    columns = [1, 2, 3]
    z_observed, z_null = [], []
    for column in columns:
        designs = inference.permuted_designs(design.X, column, orders)
        observed = inference.focal_statistics("nb2", y, design.X, design.offset, column)
        batch = np.repeat(y, DRAWS, axis=0)
        refit = inference.focal_statistics(
            "nb2", batch, np.tile(designs, (data_sets, 1, 1)), design.offset, column
        )
        z_observed.append(observed.z)
        z_null.append(np.where(refit.converged, refit.z, np.nan).reshape(data_sets, DRAWS))
    any_holm, any_rw = 0, 0
    for k in range(data_sets):
        null = np.stack([z[k] for z in z_null])
        p = np.array([inference.randomization_p(null[j], z_observed[j][k])[0] for j in range(3)])
        any_holm += bool((inference.holm(p) <= 0.05).any())
        observed_z = np.array([z_observed[j][k] for j in range(3)])
        null_p = inference.draw_p_values(null, observed_z)
        any_rw += bool((inference.step_down_min_p(p, null_p) <= 0.05).any())
    for name, count in (("Holm", any_holm), ("Romano-Wolf", any_rw)):
        rate = count / data_sets
        assert FAMILY_WISE.accepts(rate), FAMILY_WISE.failure(rate, name)
    # Romano-Wolf uses the dependence between the tests: never less often rejecting
    assert any_rw >= any_holm
