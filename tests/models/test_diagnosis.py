"""The design diagnosis (issue 20 item 3): hand-computed rules, the stopped randomization
test against the full one, exact cell diagnosands against the cell module, and the
Monte Carlo precision and monotonicity of the default municipal diagnosis."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from kosovo_study.config import StudyConfig
from kosovo_study.models import cells as mc
from kosovo_study.models import diagnosis, inference
from kosovo_study.models.design import CHARITY, UNEMPLOYMENT, Design, municipal_design
from kosovo_study.models.outcome import draw_conditional_nb, national_totals

from .test_cells import COVARIATES, POPULATION, RECRUITS

Tables = dict[str, pd.DataFrame]


@pytest.fixture(scope="module")
def design(clean_tables: Tables) -> Design:
    return municipal_design(clean_tables["municipalities"])


@pytest.fixture(scope="module")
def totals(clean_tables: Tables) -> dict[str, int]:
    return national_totals(clean_tables["kosovo_national"])


def cell_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "gid": [1, 2, 3, 4, 5],
            "in_main_analysis": [True] * 5,
            "population": POPULATION,
            "recruits": RECRUITS,
            **{term: COVARIATES[term].to_numpy() for term in mc.FOCAL_TERMS},
        }
    )


# --- rules, by hand ---------------------------------------------------------------------


@pytest.mark.parametrize(("draws", "bound"), [(19, 0), (39, 1), (99, 4), (999, 49)])
def test_rejection_bound_by_hand(draws: int, bound: int) -> None:
    """(1 + k) / (B + 1) <= 0.05: k <= 0 of 19, 1 of 39, 4 of 99, 49 of 999."""
    assert diagnosis.rejection_bound(draws) == bound
    assert (1 + bound) / (draws + 1) <= 0.05 < (2 + bound) / (draws + 1)


def test_too_few_permutations_cannot_reject() -> None:
    with pytest.raises(ValueError, match="cannot reject"):
        diagnosis.rejection_bound(9)
    with pytest.raises(ValueError, match="must not exceed"):
        diagnosis.DiagnosisSizes(simulations=10, permutation_simulations=20)


def test_type_s_and_type_m_by_hand() -> None:
    """Significant estimates 0.5, -0.2, 1.0 of a true 0.25: one of three has the wrong
    sign; exaggeration (2 + 0.8 + 4) / 3."""
    coef = np.array([0.5, -0.2, 1.0, 0.1])
    significant = np.array([True, True, True, False])
    rows = {
        name: (value, se, n)
        for name, value, se, n in diagnosis._sign_and_magnitude(coef, 0.25, significant)
    }
    assert rows["type_s_rate"][0] == pytest.approx(1 / 3)
    assert rows["type_s_rate"][1] == pytest.approx(np.sqrt(1 / 3 * 2 / 3 / 3))
    assert rows["type_m_rate"][0] == pytest.approx((2 + 0.8 + 4) / 3)
    assert rows["type_m_rate"][2] == 3
    # undefined without an effect
    undefined = diagnosis._sign_and_magnitude(coef, 0.0, significant)
    assert all(np.isnan(value) for _, value, _, _ in undefined)


def test_minimum_detectable_effect_interpolates() -> None:
    power = pd.DataFrame(
        {
            "study": "municipal",
            "term": "x",
            "test": ["wald_size_corrected"] * 3 + ["permutation"] * 3,
            "total_definition": "adults",
            "national_total": 308,
            "generator_alpha": 0.5,
            "diagnosand": "power",
            "true_irr": [1.0, 1.5, 2.0] * 2,
            "estimate": [0.05, 0.6, 0.9, 0.05, 0.2, 0.4],
        }
    )
    mde = diagnosis.minimum_detectable_effect(power).set_index("test")["mde_irr"]
    assert mde["wald_size_corrected"] == pytest.approx(1.5 + 0.2 / 0.3 * 0.5)
    assert np.isnan(mde["permutation"])  # not reached on the grid


# --- the stopped randomization test is the full one -------------------------------------


def test_stopping_early_gives_the_full_tests_decisions(design: Design) -> None:
    """Each data set's decision equals that of the package's randomization test with all
    B orderings (inference.batched_permutation_p), for data with and without an effect."""
    rng = np.random.default_rng(11)
    column = design.column(CHARITY)
    draws, total = 39, 308
    decisions = []
    for irr in (1.0, 2.5):
        log_irr = np.zeros(len(design.terms))
        log_irr[column] = np.log(irr)
        y = draw_conditional_nb(design, log_irr, 0.5, total, rng, size=24)
        observed = inference.focal_statistics("nb2", y, design.X, design.offset, column).z
        orders = np.stack(
            [rng.permuted(np.tile(np.arange(design.n), (draws, 1)), axis=1) for _ in range(len(y))]
        )
        reject, fits = diagnosis.sequential_rejections(
            y, observed, design.X, design.offset, column, orders
        )
        full = np.array(
            [
                inference.batched_permutation_p(
                    "nb2",
                    y[i : i + 1],
                    design.X,
                    design.offset,
                    column,
                    orders[i],
                    observed=observed[i : i + 1],
                )[0]
                for i in range(len(y))
            ]
        )
        np.testing.assert_array_equal(reject, full <= 0.05)
        assert fits <= len(y) * draws
        decisions.extend(reject)
    # both decisions were exercised
    assert any(decisions)
    assert not all(decisions)


# --- the cell study: exact ----------------------------------------------------------------


@pytest.fixture(scope="module")
def cell_diagnosis() -> pd.DataFrame:
    return diagnosis.cell_diagnosis(cell_table(), rate_ratios=(1.0, 2.0, 6.0))


def _value(table: pd.DataFrame, term: str, test: str, diagnosand: str, rr: float) -> float:
    row = table[
        (table["term"] == term)
        & (table["test"] == test)
        & (table["diagnosand"] == diagnosand)
        & (table["true_irr"] == rr)
    ]
    assert len(row) == 1
    return float(row["estimate"].iloc[0])


def test_cell_permutation_power_is_the_cell_modules_exact_power(
    cell_diagnosis: pd.DataFrame,
) -> None:
    exact = mc.design_analysis(
        14, POPULATION, COVARIATES, rate_ratios=(1.0, 2.0, 6.0), simulations=1
    )
    for row in exact.itertuples():
        assert _value(
            cell_diagnosis, row.term, "permutation", "power", row.rate_ratio_per_sd
        ) == pytest.approx(row.power, abs=1e-12)
    assert (cell_diagnosis["mc_se"] == 0).all()
    assert (cell_diagnosis["method"] == "exact enumeration").all()


def test_cell_size_correction_and_inverted_coverage(cell_diagnosis: pd.DataFrame) -> None:
    for term in mc.FOCAL_TERMS:
        # The size-corrected Wald test's exact size is at most 5% by construction.
        assert _value(cell_diagnosis, term, "wald_size_corrected", "power", 1.0) <= 0.05 + 1e-12
        # Without an effect, covering the truth is not rejecting it.
        for test in diagnosis.TESTS:
            assert _value(cell_diagnosis, term, test, "coverage", 1.0) == pytest.approx(
                1 - _value(cell_diagnosis, term, test, "power", 1.0)
            )
            assert np.isnan(_value(cell_diagnosis, term, test, "type_s_rate", 1.0))
    probabilities = cell_diagnosis[cell_diagnosis["diagnosand"].isin(diagnosis.PROBABILITIES)]
    assert probabilities["estimate"].between(0, 1).all()


# --- the municipal diagnosis ----------------------------------------------------------------


SMALL = diagnosis.DiagnosisSizes(simulations=60, permutation_simulations=20, permutations=19)


def test_municipal_diagnosis_is_the_same_with_threads(
    design: Design, totals: dict[str, int]
) -> None:
    small: dict[str, object] = {"terms": (UNEMPLOYMENT,), "irr_grid": (1.0, 2.5), "alphas": (0.5,)}
    alone = diagnosis.municipal_diagnosis(design, totals, SMALL, **small, workers=1)  # type: ignore[arg-type]
    threads = diagnosis.municipal_diagnosis(design, totals, SMALL, **small, workers=2)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(alone, threads)
    assert set(alone["national_total"]) == {308, 335}
    assert set(alone["diagnosand"]) == set(diagnosis.DIAGNOSANDS)
    null = alone[(alone["true_irr"] == 1.0) & (alone["diagnosand"] == "power")]
    assert (null.loc[null["test"] == "wald_size_corrected", "estimate"] <= 0.05 + 1e-9).all()


@pytest.mark.slow  # the whole grid, small sizes: about 10 s on 2 cores
def test_diagnose_validates_both_tables(design: Design, totals: dict[str, int]) -> None:
    tables = diagnosis.diagnose(design, totals, cell_table(), SMALL)
    # the stage writes these two and the imputation check (design_mi_coverage)
    assert set(tables) == set(diagnosis.TABLES) - {"design_mi_coverage"}
    table = tables["design_diagnosis"]
    assert list(table.columns) == [*diagnosis.COLUMNS, "total_description"]
    assert set(table["study"]) == {"municipal", "cells"}


def test_design_stage_parameters_are_the_config_block() -> None:
    sizes = diagnosis.sizes_from(StudyConfig())
    assert (sizes.simulations, sizes.permutation_simulations, sizes.permutations) == (
        4000,
        700,
        99,
    )


@pytest.fixture(scope="module")
def default_diagnosis(design: Design, totals: dict[str, int]) -> pd.DataFrame:
    """The municipal diagnosis at the default sizes and seed: the design stage's table
    (about 155 CPU-s)."""
    return diagnosis.municipal_diagnosis(design, totals, diagnosis.sizes_from(StudyConfig()))


@pytest.mark.slow
def test_every_power_and_coverage_figure_has_mc_se_at_most_0_02(
    default_diagnosis: pd.DataFrame,
) -> None:
    precise = default_diagnosis[default_diagnosis["diagnosand"].isin(diagnosis.PROBABILITIES)]
    assert len(precise) == 2 * 2 * 4 * 6 * 3 * 2  # terms x totals x alphas x IRRs x tests
    assert (precise["mc_se"] <= 0.02).all(), precise.sort_values("mc_se").tail()
    assert (precise["mc_se"] > 0).any()  # simulated, not enumerated


@pytest.mark.slow
def test_power_rises_with_the_effect_within_2_mc_se(default_diagnosis: pd.DataFrame) -> None:
    """Common random numbers: for every test and design, power at the next larger rate
    ratio is never below this one by more than 2 combined Monte Carlo SEs."""
    power = default_diagnosis[default_diagnosis["diagnosand"] == "power"]
    pairs = 0
    for _, curve in power.groupby(["term", "test", "generator_alpha", "national_total"]):
        ordered = curve.sort_values("true_irr")
        for (lower, lower_se), (higher, higher_se) in itertools.pairwise(
            zip(ordered["estimate"], ordered["mc_se"], strict=True)
        ):
            assert higher >= lower - 2 * np.hypot(lower_se, higher_se), ordered
            pairs += 1
    assert pairs == 2 * 2 * 4 * 3 * 5


@pytest.mark.slow
def test_the_tests_keep_their_level_and_the_intervals_their_coverage(
    default_diagnosis: pd.DataFrame,
) -> None:
    """At rate ratio 1 the size-corrected Wald test rejects 5% by construction (up to one
    data set), the randomization test at most 5% + 3 MC SE in every design, and its
    inverted (Fisher) interval covers the truth at least 95% - 3 MC SE at every rate
    ratio; the nominal Wald test over-rejects (its critical value is above 1.96)."""
    table = default_diagnosis.set_index(["test", "diagnosand"]).sort_index()
    null = default_diagnosis[default_diagnosis["true_irr"] == 1.0].set_index(["test", "diagnosand"])
    corrected = null.loc[("wald_size_corrected", "power")]
    assert (corrected["estimate"] <= 0.05 + 1 / corrected["simulations"]).all()
    assert (null.loc[("wald_size_corrected", "critical_value"), "estimate"] > 1.96).all()
    assert (null.loc[("wald", "power"), "estimate"] > 0.05).all()
    size = null.loc[("permutation", "power")]
    assert (size["estimate"] <= 0.05 + 3 * size["mc_se"]).all(), size
    coverage = table.loc[("permutation", "coverage")]
    assert (coverage["estimate"] >= 0.95 - 3 * coverage["mc_se"]).all(), coverage
