"""Cross-national models on the real country table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kosovo_study.models import crossnational as cn
from kosovo_study.models import engine

Tables = dict[str, pd.DataFrame]


def test_point_rules_and_unlisted_countries(clean_tables: Tables) -> None:
    countries = clean_tables["countries"].set_index("iso3", drop=False)
    kosovo = countries.loc[["XKX"]]
    assert [cn.outcome(kosovo, rule).iloc[0] for rule in cn.POINT_RULES] == [100, 125, 150]
    belgium = countries.loc[["BEL"]]
    assert {cn.outcome(belgium, rule).iloc[0] for rule in cn.POINT_RULES} == {440}
    unlisted = countries[countries["in_ds2016_sample"] & ~countries["icsr_2015_listed"]]
    assert (cn.outcome(unlisted, "mid") == 0).all()
    with pytest.raises(Exception, match="Unknown point rule"):
        cn.outcome(kosovo, "median")


def test_sample_sizes_are_stated(clean_tables: Tables) -> None:
    youth = cn.country_sample(clean_tables["countries"], cn.SPECIFICATIONS["youth_unemployment"])
    hdi = cn.country_sample(clean_tables["countries"], cn.SPECIFICATIONS["with_hdi"])
    assert youth.n == 152
    assert hdi.n == 112
    assert "SYR" not in youth.iso3
    assert "IRQ" not in youth.iso3


def test_nb2_matches_the_engine(clean_tables: Tables) -> None:
    sample = cn.country_sample(clean_tables["countries"], cn.SPECIFICATIONS["youth_unemployment"])
    table, statistics = cn.nb2_coefficients("youth_unemployment", sample)
    independent = engine.fit(sample.fighters[None], sample.exog(), sample.log_population)
    np.testing.assert_allclose(table["coef"], independent.beta[0], atol=1e-5)
    assert statistics["alpha"] == pytest.approx(independent.alpha[0], abs=1e-5)
    np.testing.assert_allclose(table["robust_se"], independent.robust_se[0], rtol=1e-4)


def test_nb2_average_marginal_effect_equals_the_analytic_formula(clean_tables: Tables) -> None:
    sample = cn.country_sample(clean_tables["countries"], cn.SPECIFICATIONS["youth_unemployment"])
    table, _ = cn.nb2_coefficients("youth_unemployment", sample)
    beta = table["coef"].to_numpy()
    mu = np.exp(sample.exog() @ beta + sample.log_population)
    effects = cn.average_marginal_effects(
        lambda x: np.exp(x @ beta + sample.log_population),
        sample.exog(),
        list(sample.covariates.columns),
    )
    for k, name in enumerate(sample.covariates.columns, start=1):
        assert effects[name] == pytest.approx(np.mean(mu * beta[k]), rel=1e-6)


def test_comparison_flags_signs_and_overlap() -> None:
    ames = pd.DataFrame(
        {
            "model": "youth_unemployment",
            "estimator": "hurdle_nb2",
            "term": [cn.YOUTH, cn.LOG_GDP],
            "ame_per_sd": [-5.0, 50.0],
            "ame_low": [-20.0, 30.0],
            "ame_high": [-1.0, 70.0],
        }
    )
    published = pd.DataFrame(
        {
            "source_key": "ds2016_tabA_main",
            "study": "D&S",
            "component": "both_components",
            "variable": ["Youth Unemployment", "Log GDP pc, PPP"],
            "estimate": [2.73, 3.67],
            "ci_low": [-9.21, -0.75],
            "ci_high": [14.96, 20.31],
            "sign": ["+", "+"],
        }
    )
    coefficients = pd.DataFrame(
        [
            {
                "estimator": "nb2",
                "point_rule": "mid",
                "model": model,
                "term": term,
                "coef": 0.5,
                "incidence_rate_ratio": np.exp(0.5),
                "irr_low": 1.1,
                "irr_high": 2.0,
            }
            for _, _, term, _, model in cn.PUBLISHED_SIGNS
        ]
    )
    table = cn.compare_with_published(coefficients, ames, published).set_index("published_variable")
    assert not table.loc["Youth Unemployment", "signs_agree"]
    assert table.loc["Youth Unemployment", "intervals_overlap"]
    assert table.loc["Log GDP pc, PPP", "signs_agree"]
    assert not table.loc["Log GDP pc, PPP", "intervals_overlap"]
    assert not table.loc["ethnic homogeneity", "signs_agree"]  # expected '-', we gave '+'
    assert table.loc["HDI", "signs_agree"]
