"""Out-of-fold calibration of the cross-national models (issue 19): the cross-validated
world total, its verdicts at 20/25/30%, and which families pass."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from kosovo_study.config import StudyConfig
from kosovo_study.errors import KosovoStudyError
from kosovo_study.models import crossnational as cn
from kosovo_study.models.crossnational import countmodels as cm
from kosovo_study.models.crossnational.schemas import CALIBRATION

Tables = dict[str, pd.DataFrame]


def test_fold_assignment_is_balanced_and_seeded() -> None:
    first = cn.fold_assignment(163, 10, 2019, 0)
    assert np.bincount(first).tolist() == [17, 17, 17] + [16] * 7
    np.testing.assert_array_equal(first, cn.fold_assignment(163, 10, 2019, 0))
    assert not np.array_equal(first, cn.fold_assignment(163, 10, 2019, 1))


def test_out_of_fold_total_equals_statsmodels_refits(clean_tables: Tables) -> None:
    """The cross-validated total, rebuilt fold by fold with statsmodels' own NB2."""
    frame = cn.country_frame(clean_tables["countries"])
    covariates = cn.SPECIFICATIONS["youth_unemployment"]
    complete = frame.dropna(subset=list(covariates))
    scale = cn.standardisation(frame)
    settings = cn.Settings(oof_folds=5, oof_replicates=1)
    oof = cn.out_of_fold("nb2", [complete], covariates, scale, settings)
    y, X, _ = cn.design(complete, covariates, "nb2", scale)
    folds = cn.fold_assignment(len(y), 5, settings.oof_seed, 0)
    total = 0.0
    for fold in range(5):
        test = folds == fold
        model = sm.NegativeBinomial(y[~test], X[~test])
        params = model.fit(method="bfgs", maxiter=2000, disp=0).params
        total += float(np.exp(X[test] @ params[:-1]).sum())
    assert oof.failed_folds == 0
    assert oof.totals[0] == pytest.approx(total, rel=1e-4)


def test_a_correct_model_is_calibrated_out_of_fold() -> None:
    """Seeded simulation: NB2 data (n = 150, alpha = 1) fitted by NB2.  The out-of-fold
    ratio of predicted to observed total averages 1 over 40 data sets, within 3 Monte
    Carlo standard errors (the MC SE is the SD of the ratios over sqrt(40))."""
    rng = np.random.default_rng(19)
    settings = cn.Settings(oof_folds=10, oof_replicates=1)
    ratios = []
    for _ in range(40):
        x = rng.normal(size=150)
        mu = np.exp(1.5 + 0.5 * x)
        y = rng.negative_binomial(1.0, 1.0 / (1.0 + mu)).astype(float)
        data = pd.DataFrame({"fighters": y, "x": x, cn.LOG_POPULATION: 0.0})
        scale = {"x": (0.0, 1.0), cn.LOG_POPULATION: (0.0, 1.0)}
        oof = cn.out_of_fold("nb2_offset", [data], ("x",), scale, settings)
        ratios.append(oof.totals[0] / y.sum())
    ratios_arr = np.array(ratios)
    mc_se = ratios_arr.std(ddof=1) / np.sqrt(len(ratios_arr))
    assert abs(ratios_arr.mean() - 1) < 3 * mc_se + 0.01  # 0.01: Jensen bias of exp(x'b)


def _table(ratios: dict[str, tuple[float, float]]) -> pd.DataFrame:
    rows = []
    for estimator, (in_sample, oof) in ratios.items():
        for threshold in cn.CALIBRATION_THRESHOLDS:
            rows.append(
                {
                    "specification": cn.MAIN_SPECIFICATION,
                    "estimator": estimator,
                    "sample": "complete_cases",
                    "threshold": threshold,
                    "passes_in_sample": abs(in_sample - 1) <= threshold,
                    "passes_out_of_fold": abs(oof - 1) <= threshold,
                }
            )
    return pd.DataFrame(rows)


def test_calibrated_families_reads_the_verdicts() -> None:
    table = _table({"hurdle_nb2": (1.19, 1.28), "nb2": (50.0, 58.0), "nb2_offset": (1.0, 0.9)})
    assert cn.calibrated_families(table) == ("nb2_offset",)
    assert cn.calibrated_families(table, out_of_fold=False) == ("hurdle_nb2", "nb2_offset")
    assert cn.calibrated_families(table, 0.30) == ("hurdle_nb2", "nb2_offset")
    assert cn.calibrated_families(table, 0.20, out_of_fold=False) == ("hurdle_nb2", "nb2_offset")
    with pytest.raises(KosovoStudyError, match="thresholds are"):
        cn.calibrated_families(table, 0.5)


def test_out_of_fold_sizes_are_study_parameters() -> None:
    config = StudyConfig(crossnational_oof_folds=4, crossnational_oof_replicates=3)
    settings = cn.settings_from_config(config)
    assert (settings.oof_folds, settings.oof_replicates) == (4, 3)
    assert settings.oof_seed == config.crossnational_oof_seed
    assert "crossnational_oof_seed" in config.models_parameters()
    with pytest.raises(KosovoStudyError, match="at least 2 folds"):
        cn.settings_from_config(StudyConfig(crossnational_oof_folds=1))


def test_calibration_schema_refuses_an_inconsistent_row() -> None:
    row = {
        "model": "m",
        "specification": "s",
        "estimator": "nb2",
        "sample": "complete_cases",
        "n": 153,
        "threshold": 0.25,
        "observed_total": 100.0,
        "in_sample_ratio": 1.0,
        "out_of_fold_ratio_mean": 2.0,
        "out_of_fold_ratio_min": 1.0,
        "out_of_fold_ratio_max": 1.5,  # below the mean: impossible
        "passes_in_sample": True,
        "passes_out_of_fold": False,
        "passes_out_of_fold_every_replicate": False,
        "observed_zero_share": 0.7,
        "in_sample_zero_share": 0.7,
        "out_of_fold_zero_share_mean": 0.7,
        "folds": 10,
        "fold_replicates": 5,
        "failed_folds": 0,
        "imputations": 0,
        "synthetic": False,
    }
    with pytest.raises(Exception, match="min <= mean <= max"):
        CALIBRATION.validate(pd.DataFrame([row]))
    CALIBRATION.validate(pd.DataFrame([{**row, "out_of_fold_ratio_max": 2.5}]))


def test_real_calibration_table(clean_tables: Tables) -> None:
    """On the real data (complete cases, main specification): the NB2 forms are far off
    in and out of fold; the hurdle passes in sample at 25%, and its in-sample share of
    zeros equals the observed one (the logit's score equation), which out of fold it
    need not."""
    frame = cn.country_frame(clean_tables["countries"])
    covariates = cn.SPECIFICATIONS[cn.MAIN_SPECIFICATION]
    complete = frame.dropna(subset=list(covariates))
    scale = cn.standardisation(frame)
    settings = cn.Settings(simulation_draws=20, oof_replicates=2)
    rows = []
    for estimator in cm.ESTIMATORS:
        model = cn.fit_specification(
            cn.MAIN_SPECIFICATION,
            covariates,
            estimator,
            [complete],
            scale,
            settings,
            "complete_cases",
            len(complete),
        )
        oof = cn.out_of_fold(estimator, [complete], covariates, scale, settings)
        rows += cn.calibration_rows(model, oof, settings)
    table = CALIBRATION.validate(pd.DataFrame(rows))
    assert len(table) == 3 * len(cn.CALIBRATION_THRESHOLDS)
    at25 = table[table["threshold"] == 0.25].set_index("estimator")
    assert at25.loc["hurdle_nb2", "passes_in_sample"]
    assert at25.loc["hurdle_nb2", "in_sample_zero_share"] == pytest.approx(
        at25.loc["hurdle_nb2", "observed_zero_share"], abs=1e-6
    )
    assert not at25.loc[["nb2", "nb2_offset"], "passes_out_of_fold"].any()
    assert (at25.loc[["nb2", "nb2_offset"], "out_of_fold_ratio_min"] > 10).all()
    assert "nb2" not in cn.calibrated_families(table, 0.30)


def test_every_crossnational_size_and_seed_comes_from_the_config() -> None:
    """crossnational.Settings and the imputation settings are built from StudyConfig:
    the defaults agree, an override reaches the analysis, and a bad value is refused."""
    default = cn.settings_from_config(StudyConfig())
    assert default.imputation == cn.Settings().imputation
    assert default.imputation.seed == 2016
    changed = cn.settings_from_config(
        StudyConfig(crossnational_imputation_seed=7, crossnational_cv_folds=5)
    )
    assert (changed.imputation.seed, changed.cv_folds) == (7, 5)
    assert "crossnational_imputation_seed" in StudyConfig().models_parameters()
    with pytest.raises(KosovoStudyError, match="at least 20 imputations"):
        cn.settings_from_config(StudyConfig(crossnational_imputations=5))
