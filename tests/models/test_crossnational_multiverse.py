"""The hurdle family and the calibration columns of the cross-national multiverse."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kosovo_study import simulation_evidence
from kosovo_study.models import inference
from kosovo_study.models import multiverse as mv
from kosovo_study.models.crossnational import countmodels as cm
from kosovo_study.models.crossnational import multiverse as cmv

Tables = dict[str, pd.DataFrame]
QUICK = cmv.Calibration(folds=5, replicates=2, ame_draws=40)


def _data(rng: np.random.Generator, n: int = 120, effect: float = 0.0) -> mv.SpecData:
    x = rng.normal(size=n)
    z = rng.normal(size=n)
    any_ = rng.random(n) < 1 / (1 + np.exp(-(-0.5 + effect * x)))
    mu = np.exp(2.0 + effect * x + 0.3 * z)
    counts = rng.negative_binomial(2.0, 2.0 / (2.0 + mu)) + 1.0  # positive counts
    y = np.where(any_, counts, 0.0).astype(float)
    X = np.column_stack([np.ones(n), x, z])
    return mv.SpecData(np.arange(n), y, X, np.zeros(n), 1)


def test_poisson_in_sample_total_is_exact_and_ols_is_smeared() -> None:
    """Poisson ML with a constant reproduces the observed total (its score equation for
    the constant), so its in-sample ratio is 1; OLS of the log rate retransformed with
    Duan's smearing factor is not exact."""
    data = _data(np.random.default_rng(3))
    ratio, out = cmv.total_ratios("poisson", data.y, data.X, data.offset, QUICK)
    assert ratio == pytest.approx(1.0, abs=1e-7)
    assert out.shape == (2,)
    assert np.isfinite(out).all()
    ols, _ = cmv.total_ratios("ols_log_rate", data.y, data.X, data.offset, QUICK)
    assert ols != pytest.approx(1.0, abs=1e-3)


def test_hurdle_rows_match_the_chapter_fit() -> None:
    data = _data(np.random.default_rng(5), effect=0.4)
    orderings = inference.random_orderings(49, len(data.y), np.random.default_rng(1))
    rows = cmv._hurdle_rows(data, orderings, QUICK, 0)
    fit = cm.fit_model("hurdle_nb2", data.y, data.X, data.offset)
    k = data.X.shape[1]
    (count, count_null), (listed, listed_null) = rows
    assert (count["part"], listed["part"]) == ("count", "listed_by_icsr")
    assert count["coef"] == pytest.approx(fit.params[k + 1], abs=1e-6)
    assert listed["coef"] == pytest.approx(fit.params[1], abs=1e-6)
    assert listed["rate_ratio"] == pytest.approx(np.exp(fit.params[1]), rel=1e-6)
    assert count_null.shape == listed_null.shape == (49,)
    assert count["ame_low"] < count["ame_expected_count"] < count["ame_high"]
    assert count["ame_expected_count"] == listed["ame_expected_count"]


@pytest.mark.slow
def test_hurdle_randomization_test_has_its_size() -> None:
    """Seeded simulation: with no effect in either part, each part's randomization p is
    below 0.05 in about 5% of the data sets: within 3 Monte Carlo SE of 0.05 (the
    ``hurdle_randomization_size`` record of kosovo_study.simulation_evidence)."""
    check = simulation_evidence.check("hurdle_randomization_size")
    rng = np.random.default_rng(2019)
    rejections = np.zeros(2)
    sets = check.data_sets
    for _ in range(sets):
        data = _data(rng, n=80)
        orderings = inference.random_orderings(99, 80, rng)
        rows = cmv._hurdle_rows(data, orderings, cmv.Calibration(ame_draws=20), 0)
        rejections += [row["randomization_p"] < 0.05 for row, _ in rows]
    share = rejections / sets
    for part, rate in zip(("binary", "count"), share, strict=True):
        assert check.accepts(float(rate)), check.failure(float(rate), f"{part} part")


def test_real_grid_has_the_hurdle_and_calibration_flags(
    clean_tables: Tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid = dict(cmv.GRID, point_rule=("mid",), controls=("gdp+muslim+fractionalisation",))
    monkeypatch.setattr(cmv, "GRID", grid)
    table, null = cmv.run(clean_tables["countries"], 19, 5, n_jobs=1, calibration=QUICK)
    hurdle = table[table["family"] == "hurdle_nb2"]
    # Covariate form only, two parts per specification.
    assert set(hurdle["population"]) == {"population_2014 (covariate)"}
    assert sorted(hurdle["part"]) == ["count", "count", "listed_by_icsr", "listed_by_icsr"]
    assert set(hurdle["focal"]) == {"unemployment", cmv.LISTED_FOCAL}
    assert null.shape == (len(table), 19)
    # The NB2 forms predict many times the observed total, in sample and out of fold.
    nb2 = table[table["family"] == "nb2"]
    assert not nb2["calibrated_in_sample"].any()
    assert not nb2["calibrated_out_of_fold"].any()
    assert (nb2["total_ratio_out_of_fold"] > 5).all()
    # Poisson's in-sample total is exact; quasi-Poisson shares its predictions.
    poisson = table[table["family"] == "poisson"]
    np.testing.assert_allclose(poisson["total_ratio_in_sample"], 1.0, atol=1e-6)
    quasi = table[table["family"] == "quasi_poisson"]
    np.testing.assert_allclose(
        poisson["total_ratio_out_of_fold"].to_numpy(), quasi["total_ratio_out_of_fold"].to_numpy()
    )
    # The hurdle in sample is within 25% of the observed total (as in the chapter).
    assert hurdle["calibrated_in_sample"].all()
