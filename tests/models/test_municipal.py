"""Municipal models: estimates, randomization inference, power, synthetic outcome."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from kosovo_study.errors import ValidationError
from kosovo_study.models import engine, municipal
from kosovo_study.models.design import CHARITY, UNEMPLOYMENT, Design, municipal_design
from kosovo_study.models.outcome import (
    GENERATOR_ALPHA,
    GENERATOR_IRR,
    draw_conditional_nb,
    generator_coefficients,
    load_outcome,
    national_total,
    restricted_path,
    synthetic_outcome,
)
from kosovo_study.paths import ProjectPaths

Tables = dict[str, pd.DataFrame]


@pytest.fixture(scope="module")
def design(clean_tables: Tables) -> Design:
    return municipal_design(clean_tables["municipalities"])


@pytest.fixture(scope="module")
def total(clean_tables: Tables) -> int:
    return national_total(clean_tables["kosovo_national"])


def test_design_uses_the_34_enumerated_municipalities(design: Design) -> None:
    assert design.n == 34
    assert design.terms[:3] == ["const", UNEMPLOYMENT, CHARITY]
    # Standardised continuous covariates, 0/1 charity flag.
    assert design.X[:, 1].std(ddof=1) == pytest.approx(1.0)
    assert set(np.unique(design.X[:, 2])) == {0.0, 1.0}


def test_national_total_is_the_published_police_figure(total: int) -> None:
    assert total == 335  # 253 men + 55 women + 27 children (UNDP 2017, police data)


def test_synthetic_outcome_is_seeded_and_adds_up(design: Design, total: int) -> None:
    first, second = synthetic_outcome(design, total), synthetic_outcome(design, total)
    np.testing.assert_array_equal(first.fighters, second.fighters)
    assert first.fighters.sum() == total
    assert first.synthetic
    assert "SYNTHETIC" in first.description
    assert not np.array_equal(synthetic_outcome(design, total, seed=1).fighters, first.fighters)


@pytest.mark.parametrize("family", municipal.FAMILIES)
def test_estimates_match_statsmodels(design: Design, total: int, family: str) -> None:
    outcome = synthetic_outcome(design, total)
    ours = municipal.fit(design, outcome.fighters, family)
    theirs = municipal.fit_statsmodels(design, outcome.fighters, family)
    np.testing.assert_allclose(ours.params, theirs[: len(ours.params)], atol=1e-6)
    if family == "nb2":
        assert ours.alpha == pytest.approx(theirs[-1], abs=1e-6)


def test_coefficient_table_reports_irrs_and_labels_the_source(design: Design, total: int) -> None:
    outcome = synthetic_outcome(design, total)
    fitted = municipal.fit(design, outcome.fighters, "nb2")
    table = municipal.coefficients("nb2", fitted, outcome).set_index("term")
    row = table.loc[UNEMPLOYMENT]
    assert row["incidence_rate_ratio"] == pytest.approx(np.exp(row["coef"]))
    assert row["irr_low"] < row["incidence_rate_ratio"] < row["irr_high"]
    assert row["scale"] == "per SD"
    assert table.loc[CHARITY, "scale"] == "presence vs none"
    assert table["synthetic"].all()


def test_permutation_p_values_are_uniform_under_the_null(design: Design, total: int) -> None:
    rng = np.random.default_rng(7)
    null = np.zeros(len(design.terms))
    p_values = []
    for seed in range(40):
        y = draw_conditional_nb(design, null, GENERATOR_ALPHA, total, rng)[0]
        p_values.append(
            municipal.permutation_test(design, y, UNEMPLOYMENT, 99, seed)["permutation_p_value"]
        )
    p = np.array(p_values)
    # Uniform on (0, 1]: about 5% below 0.05 and a mean near 0.5.
    assert np.mean(p < 0.05) <= 0.15
    assert 0.35 <= p.mean() <= 0.65


def test_permutation_p_value_is_small_for_a_large_effect(design: Design, total: int) -> None:
    rng = np.random.default_rng(3)
    strong = np.zeros(len(design.terms))
    strong[design.column(UNEMPLOYMENT)] = np.log(3.0)
    y = draw_conditional_nb(design, strong, 0.3, total, rng)[0]
    result = municipal.permutation_test(design, y, UNEMPLOYMENT, 199, 0)
    assert result["permutation_p_value"] < 0.02
    assert result["monte_carlo_se"] == pytest.approx(
        np.sqrt(result["permutation_p_value"] * (1 - result["permutation_p_value"]) / 199)
    )


def test_power_is_near_the_size_at_irr_one_and_grows(design: Design, total: int) -> None:
    power = municipal.power_analysis(
        design, total, terms=(UNEMPLOYMENT,), irr_grid=(1.0, 2.5), simulations=80, permutations=39
    ).set_index("true_irr")
    assert power.loc[1.0, "power_permutation"] <= 0.12
    assert power.loc[2.5, "power_permutation"] > 0.5
    assert power.loc[2.5, "power_nb2_wald"] > power.loc[1.0, "power_nb2_wald"]


def test_minimum_detectable_effect_interpolates() -> None:
    power = pd.DataFrame(
        {
            "term": ["x"] * 3,
            "true_irr": [1.0, 1.5, 2.0],
            "power_nb2_wald": [0.05, 0.6, 0.9],
            "power_permutation": [0.05, 0.2, 0.4],
        }
    )
    mde = municipal.minimum_detectable_effect(power).set_index("test")["mde_irr"]
    assert mde["power_nb2_wald"] == pytest.approx(1.5 + 0.2 / 0.3 * 0.5)
    assert np.isnan(mde["power_permutation"])  # not reached on the grid


def test_synthetic_fit_recovers_the_generator_in_most_seeds(design: Design, total: int) -> None:
    truth = np.exp(generator_coefficients(design))
    covered = []
    for seed in range(20):
        outcome = synthetic_outcome(design, total, seed=seed)
        table = municipal.coefficients(
            "nb2", municipal.fit(design, outcome.fighters, "nb2"), outcome
        ).set_index("term")
        for term in (UNEMPLOYMENT, CHARITY):
            expected = truth[design.column(term)]
            covered.append(table.loc[term, "irr_low"] <= expected <= table.loc[term, "irr_high"])
    assert GENERATOR_IRR[UNEMPLOYMENT] > 1
    assert np.mean(covered) >= 0.7


def test_leave_one_out_refits_every_municipality(design: Design, total: int) -> None:
    outcome = synthetic_outcome(design, total)
    table = municipal.leave_one_out(design, outcome.fighters, (UNEMPLOYMENT,))
    assert len(table) == 34
    assert table["converged"].all()
    # The first row equals a fit without the first municipality.
    keep = np.arange(1, design.n)
    check = engine.fit(outcome.fighters[keep][None], design.X[keep], design.offset[keep])
    assert table[f"irr_{UNEMPLOYMENT}"].iloc[0] == pytest.approx(
        np.exp(check.beta[0, design.column(UNEMPLOYMENT)])
    )


def test_overdispersion_tests_detect_nb_data(design: Design, total: int) -> None:
    outcome = synthetic_outcome(design, total)
    poisson = municipal.fit(design, outcome.fighters, "poisson")
    nb2 = municipal.fit(design, outcome.fighters, "nb2")
    tests = municipal.overdispersion(design, outcome.fighters, poisson, nb2)
    assert tests["lr_p_value"] < 0.01
    assert nb2.aic < poisson.aic


def _write_restricted(paths: ProjectPaths, design: Design, bad: str | None = None) -> None:
    path = restricted_path(paths)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["municipality,fighters,definition,period_start,period_end,source_key"]
    for i, name in enumerate(design.municipality):
        name = "Mitrovicë/a South" if name == "Mitrovicë" else name  # noqa: PLW2901
        count = bad if (bad is not None and i == 3) else str(i % 5)
        lines.append(f"{name},{count},test counts,2012,2017,test")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_restricted_outcome_is_used_when_valid(
    scratch_project: ProjectPaths, design: Design, clean_tables: Tables
) -> None:
    _write_restricted(scratch_project, design)
    outcome = load_outcome(scratch_project, design, clean_tables["kosovo_national"])
    assert outcome.source == "restricted"
    assert not outcome.synthetic
    np.testing.assert_array_equal(outcome.fighters, np.arange(34) % 5)


def test_invalid_restricted_outcome_stops_with_the_validator_message(
    scratch_project: ProjectPaths, design: Design, clean_tables: Tables
) -> None:
    _write_restricted(scratch_project, design, bad="-4")
    with pytest.raises(ValidationError, match=r"line 5, column fighters"):
        load_outcome(scratch_project, design, clean_tables["kosovo_national"])


def test_no_warnings_leak_from_the_engine(design: Design, total: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        municipal.parametric_bootstrap(
            design, municipal.fit(design, synthetic_outcome(design, total).fighters, "nb2"), 50, 1
        )
