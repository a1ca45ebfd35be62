"""The randomization test's size and power, by seeded simulation (batched engine).

Size: at IRR = 1 the test must reject about 5% of null data sets at the 5% level.
With 500 data sets the Monte Carlo standard error of a 5% rejection rate is
sqrt(0.05 * 0.95 / 500) = 0.0097, so [0.03, 0.07] is about +-2 MC standard errors.
Power: must not fall as the effect grows (the defect of the former construction,
which residualised on the offset: its charity power curve went 0.015, 0.03, 0.005,
0.055 ... over IRR 1 to 3), allowing 2 MC standard errors between grid points.
The permutation test uses 39 draws per data set (reject when p = (1 + k) / 40 <= 0.05,
i.e. at most one permuted |z| at least as large): a valid level-5% test.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from kosovo_study.models import inference
from kosovo_study.models.design import CHARITY, UNEMPLOYMENT, Design, municipal_design
from kosovo_study.models.outcome import draw_conditional_nb, national_total

Tables = dict[str, pd.DataFrame]
NULL_DATA_SETS = 500
DRAWS = 39


@pytest.fixture(scope="module")
def design(clean_tables: Tables) -> Design:
    return municipal_design(clean_tables["municipalities"])


@pytest.fixture(scope="module")
def total(clean_tables: Tables) -> int:
    return national_total(clean_tables["kosovo_national"])


def _rejection_rate(
    design: Design, term: str, irr: float, total: int, data_sets: int, seed: int
) -> float:
    rng = np.random.default_rng(seed)
    column = design.column(term)
    log_irr = np.zeros(len(design.terms))
    log_irr[column] = np.log(irr)
    y = draw_conditional_nb(design, log_irr, 0.8, total, rng, size=data_sets)
    orders = rng.permuted(np.tile(np.arange(design.n), (DRAWS, 1)), axis=1)
    p = inference.batched_permutation_p("nb2", y, design.X, design.offset, column, orders)
    return float(np.mean(p <= 0.05))


@pytest.mark.parametrize("term", [UNEMPLOYMENT, CHARITY])
def test_size_at_irr_one_is_five_percent(design: Design, total: int, term: str) -> None:
    rate = _rejection_rate(design, term, 1.0, total, NULL_DATA_SETS, seed=11)
    assert 0.03 <= rate <= 0.07, f"size {rate:.3f} (MC SE 0.0097) for {term}"


def test_charity_power_does_not_fall_as_the_effect_grows(design: Design, total: int) -> None:
    grid, data_sets = (1.0, 1.5, 2.0, 3.0), 150
    power = [_rejection_rate(design, CHARITY, irr, total, data_sets, seed=21) for irr in grid]
    for lower, higher in itertools.pairwise(power):
        mc_se = np.sqrt(max(lower * (1 - lower), 0.05 * 0.95) / data_sets)
        assert higher >= lower - 2 * mc_se, power
    assert power[-1] > 0.3 > power[0], power


def test_the_offset_is_not_in_the_residualisation(design: Design) -> None:
    column = design.column(UNEMPLOYMENT)
    fitted, residuals = inference.residual_split(design.X, column)
    others = np.delete(design.X, column, axis=1)
    # Residuals are orthogonal to the other covariates, not to log population.
    assert np.abs(others.T @ residuals).max() < 1e-8
    assert abs(np.corrcoef(residuals, design.offset)[0, 1]) > 1e-3
    np.testing.assert_allclose(fitted + residuals, design.X[:, column])


def test_exact_enumeration_when_arrangements_are_few() -> None:
    values = np.array([1.0, 1.0, 0.0, 0.0, 0.0, 0.0])  # C(6, 2) = 15 arrangements
    assert inference.distinct_arrangements(values) == math.comb(6, 2)
    orders, exact = inference.orderings(values, 999, np.random.default_rng(0))
    assert exact
    assert len(orders) == 15
    arrangements = {tuple(values[o]) for o in orders}
    assert len(arrangements) == 15  # each distinct arrangement once
    many = np.arange(8.0)  # 8! = 40320 > 999: Monte Carlo
    orders, exact = inference.orderings(many, 999, np.random.default_rng(0))
    assert not exact
    assert orders.shape == (999, 8)


def test_exact_p_value_by_hand() -> None:
    # Observed |z| = 2; of 5 arrangements (observed included), 2 are at least as extreme.
    p, m = inference.exact_p(np.array([2.0, -2.5, 1.0, 0.5, -1.0]), 2.0)
    assert (p, m) == (2 / 5, 5)
    p, r = inference.randomization_p(np.array([3.0, 1.0, 0.0, np.nan]), 2.0)
    assert (p, r) == ((1 + 1) / (3 + 1), 3)
