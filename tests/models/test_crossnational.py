"""Cross-national models on the real country table, and their building blocks."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.discrete.truncated_model import TruncatedLFNegativeBinomialP
from statsmodels.imputation.mice import MICEData

from kosovo_study.models import crossnational as cn
from kosovo_study.models.crossnational import comparison as cmp
from kosovo_study.models.crossnational import countmodels as cm
from kosovo_study.models.crossnational import imputation as im
from kosovo_study.paths import ProjectPaths

from ..conftest import REPO

Tables = dict[str, pd.DataFrame]
#: Small but valid settings: m = 20 imputations (the minimum), few folds and draws.
QUICK = cn.Settings(cv_folds=3, simulation_draws=40, oof_replicates=2)


@dataclass(frozen=True)
class CountrySample:
    """Outcome, standardised covariates and offset for one specification (complete
    cases); the tests' independent sample builder."""

    iso3: list[str]
    fighters: np.ndarray
    covariates: pd.DataFrame  # standardised, no constant
    log_population: np.ndarray
    point_rule: str

    @property
    def n(self) -> int:
        return len(self.iso3)

    def exog(self, with_population: bool = False) -> np.ndarray:
        columns = self.covariates.copy()
        if with_population:
            z = (self.log_population - self.log_population.mean()) / self.log_population.std(ddof=1)
            columns[cn.LOG_POPULATION] = z
        return np.asarray(sm.add_constant(columns.to_numpy(), has_constant="add"))


def country_sample(
    countries: pd.DataFrame, covariates: tuple[str, ...], point_rule: str = "mid"
) -> CountrySample:
    """Complete cases of the D&S sample for ``covariates``."""
    frame = countries[countries["in_ds2016_sample"]].copy()
    frame["fighters"] = cn.outcome(frame, point_rule)
    frame[cn.LOG_POPULATION] = np.log(frame["population_2014"])
    frame = frame.dropna(subset=["fighters", cn.LOG_POPULATION, *covariates])
    if len(frame) <= len(covariates) + 3:
        raise ValueError(f"Only {len(frame)} countries have {covariates}.")
    values = frame[list(covariates)].astype(float)
    standardised = (values - values.mean()) / values.std(ddof=1)
    return CountrySample(
        iso3=frame["iso3"].tolist(),
        fighters=frame["fighters"].to_numpy(dtype=float),
        covariates=standardised.reset_index(drop=True),
        log_population=frame[cn.LOG_POPULATION].to_numpy(dtype=float),
        point_rule=point_rule,
    )


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


def test_complete_case_sizes_include_kosovo(clean_tables: Tables) -> None:
    youth = country_sample(clean_tables["countries"], cn.SPECIFICATIONS["youth_unemployment"])
    hdi = country_sample(clean_tables["countries"], cn.SPECIFICATIONS["with_hdi"])
    assert youth.n == 153  # 152 before Kosovo's survey figures were filled in
    assert "XKX" in youth.iso3
    # UNDP's complete HDI table (188 countries): 152 of the 153, Kosovo has no HDI 2015
    # (it is imputed in the main analysis); 112 with the 121-country teaching file.
    assert hdi.n == 152
    assert "XKX" not in hdi.iso3
    assert {"SYR", "IRQ"}.isdisjoint(youth.iso3)


@pytest.mark.parametrize("estimator", ["nb2_offset", "nb2"])
def test_nb2_matches_statsmodels(clean_tables: Tables, estimator: str) -> None:
    """The engine's NB2 estimates and the HC0 covariance are statsmodels' (``Newton``
    to a tight tolerance): coefficients to 1e-6, covariance to 1e-6 relative."""
    sample = country_sample(clean_tables["countries"], cn.SPECIFICATIONS["youth_unemployment"])
    X = sample.exog(with_population=estimator == "nb2")
    offset = sample.log_population if estimator == "nb2_offset" else None
    fit = cm.fit_model(estimator, sample.fighters, X, sample.log_population)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sm.NegativeBinomial(sample.fighters, X, offset=offset)
        rough = model.fit(method="bfgs", maxiter=5000, disp=0)
        reference = model.fit(
            start_params=rough.params,
            method="newton",
            tol=1e-14,
            maxiter=200,
            disp=0,
            cov_type="HC0",
        )
    np.testing.assert_allclose(fit.params, reference.params, rtol=0, atol=1e-6)
    np.testing.assert_allclose(fit.covariance, reference.cov_params(), rtol=1e-6, atol=1e-12)
    assert fit.llf == pytest.approx(reference.llf, rel=1e-10)
    assert fit.converged


def test_nb2_average_marginal_effect_equals_the_analytic_formula(clean_tables: Tables) -> None:
    sample = country_sample(clean_tables["countries"], cn.SPECIFICATIONS["youth_unemployment"])
    X = sample.exog(with_population=True)
    fit = cm.fit_model("nb2", sample.fighters, X, sample.log_population)
    beta = fit.params[:-1]
    mu = np.exp(X @ beta)
    draws = cm.draw_params(fit, 50, np.random.default_rng(1))
    points, variances = cn.marginal_effects(fit, X, sample.log_population, draws)["mean"]
    np.testing.assert_allclose(points, [np.mean(mu * b) for b in beta[1:]], rtol=1e-6)
    assert (variances > 0).all()


def test_hurdle_pieces_agree_with_statsmodels(clean_tables: Tables) -> None:
    """Both hurdle parts are statsmodels' estimators (Logit, TruncatedLFNegativeBinomialP
    with p=2) fitted to a tight tolerance: coefficients to 1e-6 (statsmodels' default
    BFGS stops about 1e-5 short, with a lower log-likelihood)."""
    sample = country_sample(clean_tables["countries"], cn.SPECIFICATIONS["youth_unemployment"])
    X, y = sample.exog(with_population=True), sample.fighters
    fit = cm.fit_model("hurdle_nb2", y, X, sample.log_population)
    positive = y > 0
    k = X.shape[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logit = sm.Logit(positive.astype(float), X).fit(disp=0, cov_type="HC0", tol=1e-14)
        model = TruncatedLFNegativeBinomialP(y[positive], X[positive], p=2)
        default = model.fit(disp=0, maxiter=2000)
        rough = model.fit(disp=0, maxiter=5000, method="bfgs", gtol=1e-12)
        reference = model.fit(
            start_params=rough.params,
            disp=0,
            method="newton",
            tol=1e-14,
            maxiter=200,
            cov_type="HC0",
        )
    np.testing.assert_allclose(fit.params[:k], logit.params, rtol=0, atol=1e-8)
    np.testing.assert_allclose(fit.covariance[:k, :k], logit.cov_params(), rtol=1e-6)
    np.testing.assert_allclose(fit.params[k:], reference.params, rtol=0, atol=1e-6)
    assert fit.llf == pytest.approx(logit.llf + reference.llf, abs=1e-8)
    assert fit.llf >= logit.llf + default.llf - 1e-12  # at least as good as the default
    np.testing.assert_allclose(
        cm._truncated_loglikeobs(fit.params[k:], y[positive], X[positive]),
        model.loglikeobs(fit.params[k:]),
        atol=1e-9,
    )
    # Our sandwich (NumPy log-likelihood, statsmodels' numerical derivatives) = HC0.
    np.testing.assert_allclose(fit.covariance[k:, k:], reference.cov_params(), rtol=0.02)
    assert (fit.covariance[:k, k:] == 0).all()  # separate likelihoods: block-diagonal
    # Log densities add up to the log-likelihood; probabilities add up to one.
    density = cm.log_density(fit, y, X, sample.log_population)
    assert density.sum() == pytest.approx(fit.llf, rel=1e-8)
    expected = cn.rootogram_expected(fit, X, sample.log_population)
    assert expected.sum() == pytest.approx(len(y), rel=1e-9)
    # The hurdle reproduces the share of zeros exactly (a logit with a constant).
    assert cm.cdf(fit, 0, X, sample.log_population).mean() == pytest.approx((y == 0).mean())


@pytest.mark.parametrize(
    ("predicted", "width", "usable", "reason"),
    [
        (1_190.0, 900.0, True, "within 25%"),
        (1_260.0, 900.0, False, "+26% off"),
        (740.0, 900.0, False, "-26% off"),
        (1_000.0, 1_001.0, False, "wider than the observed total"),
        (34_000.0, 400_000.0, False, "off the observed"),
        (float("inf"), 10.0, False, "not positive and finite"),
    ],
)
def test_calibration_rule(predicted: float, width: float, usable: bool, reason: str) -> None:
    ok, why = cn.usable_for_marginal_effects(predicted, 1_000.0, width, tolerance=0.25)
    assert ok is usable
    assert reason in why


def test_barnard_rubin_as_mice_reports_it() -> None:
    """Hand-computed: q = (1.0, 1.2, 0.9, 1.1, 1.3), U = 0.04 each, nu_com = 100.
    B = 0.1 / 4 = 0.025, T = 0.04 + 1.2 x 0.025 = 0.07, lambda = 0.03 / 0.07 = 0.428571,
    RIV = 0.03 / 0.04 = 0.75, nu_old = 4 / lambda^2 = 21.7778, nu_obs = 101 / 103 x 100 x
    (1 - lambda) = 56.0333, nu = 21.7778 x 56.0333 / 77.8111 = 15.6826,
    FMI = (0.75 + 2 / 18.6826) / 1.75 = 0.489744 (mice::pool gives the same formulas)."""
    pooled = im.rubin(np.array([1.0, 1.2, 0.9, 1.1, 1.3]), np.full(5, 0.04), df_complete=100)
    assert pooled.variance == pytest.approx(0.07)
    assert pooled.lambda_missing == pytest.approx(0.428571, abs=1e-6)
    assert pooled.relative_increase_in_variance == pytest.approx(0.75)
    assert pooled.df == pytest.approx(15.6826, abs=1e-4)
    assert pooled.fraction_missing_information == pytest.approx(0.489744, abs=1e-6)
    # Without complete-data df, Barnard-Rubin reduces to Rubin's classical df.
    classical = im.rubin(np.array([1.0, 1.2, 0.9, 1.1, 1.3]), np.full(5, 0.04))
    assert classical.df == pytest.approx(4 * (1 + 0.04 / 0.03) ** 2)
    # The df never exceed the complete-data df (the reason for Barnard-Rubin).
    assert pooled.df < 100


def test_rubin_rules_by_hand() -> None:
    q = np.array([1.0, 2.0, 3.0, 4.0])
    u = np.array([0.5, 0.5, 0.5, 0.5])
    pooled = im.rubin(q, u)
    # W = 0.5, B = var(q) = 5/3, T = 0.5 + 1.25 * 5/3 = 2.5833; df = 3 (1 + 0.5/2.0833)^2.
    assert pooled.estimate == 2.5
    assert pooled.variance == pytest.approx(0.5 + 1.25 * 5 / 3)
    assert pooled.df == pytest.approx(3 * (1 + 0.5 / (1.25 * 5 / 3)) ** 2)
    # lambda = (1 + 1/m) B / T; RIV = (1 + 1/m) B / W; FMI = (RIV + 2 / (df + 3)) / (1 + RIV)
    assert pooled.lambda_missing == pytest.approx((1.25 * 5 / 3) / 2.583333, 1e-5)
    riv = 1.25 * 5 / 3 / 0.5
    assert pooled.relative_increase_in_variance == pytest.approx(riv)
    assert pooled.fraction_missing_information == pytest.approx(
        (riv + 2 / (pooled.df + 3)) / (1 + riv)
    )
    single = im.rubin(np.array([2.0]), np.array([4.0]))
    assert (single.conf_low, single.conf_high) == pytest.approx(
        (2 - 1.959964 * 2, 2 + 1.959964 * 2)
    )


def test_fast_mice_data_equals_statsmodels_formula_version(clean_tables: Tables) -> None:
    frame = cn.country_frame(clean_tables["countries"])
    columns = [*cn.ALL_COVARIATES, cn.LOG_POPULATION, cn.OUTCOME_LOG]
    data = frame[columns].reset_index(drop=True)
    reference = MICEData(data.copy(), k_pmm=10, rng=np.random.default_rng(3))
    ours = im._LinearMICEData(data.copy(), k_pmm=10, rng=np.random.default_rng(3))
    reference.update_all(2)
    ours.update_all(2)
    np.testing.assert_allclose(ours.data.to_numpy(), reference.data.to_numpy())


def test_imputation_keeps_observed_values_and_fills_every_gap(clean_tables: Tables) -> None:
    frame = cn.country_frame(clean_tables["countries"])
    columns = [*cn.ALL_COVARIATES, cn.LOG_POPULATION, cn.OUTCOME_LOG]
    copies = im.impute(frame[columns], im.ImputationSettings())
    assert len(copies) == im.MIN_IMPUTATIONS == 20
    observed = frame[columns].notna()
    for copy in copies:
        assert not copy.isna().any().any()
        pd.testing.assert_frame_equal(
            copy[observed].dropna(how="all"), frame[columns][observed].dropna(how="all")
        )
    hdi = np.array([c.loc["XKX", cn.HDI] for c in copies])
    assert hdi.std() > 0  # Kosovo's HDI is drawn anew in each copy
    again = im.impute(frame[columns], im.ImputationSettings())
    pd.testing.assert_frame_equal(copies[5], again[5])  # seeded


# --- verdicts and the comparison table ----------------------------------------------------


@pytest.mark.parametrize(
    ("sign", "published", "ours", "verdict"),
    [
        # same sign, both exclude 0, ratio 5 / 4 = 1.25 within [0.5, 2]: agree
        ("+", (4.0, 2.0, 9.0), (5.0, 1.0, 9.0), "agree"),
        # same sign, ratio 50 / 4 = 12.5 and 50 outside [2, 9]: differ in size
        ("+", (4.0, 2.0, 9.0), (50.0, 10.0, 90.0), "differ in size"),
        # ratio 10 / 3 = 3.3, but each point inside the other's interval: agree in size
        ("+", (3.0, 1.0, 12.0), (10.0, 2.0, 18.0), "agree"),
        # ratio 1.5 but only one point inside the other's interval: still agree (ratio)
        ("+", (4.0, 3.0, 5.0), (6.0, 5.5, 6.5), "agree"),
        # ratio 0.4 (below 0.5) and neither point in the other's interval
        ("+", (10.0, 9.0, 11.0), (4.0, 3.0, 5.0), "differ in size"),
        ("+", (4.0, 2.0, 9.0), (-5.0, -9.0, -1.0), "disagree"),
        ("+", (4.0, -2.0, 9.0), (5.0, 1.0, 9.0), "inconclusive"),
        ("+", (4.0, 2.0, 9.0), (5.0, -1.0, 9.0), "inconclusive"),
        ("0", (0.0, -0.03, 0.03), (5.0, 1.0, 9.0), "inconclusive"),
        # interval published but no point estimate: the size cannot be judged
        ("+", (np.nan, 2.0, 9.0), (5.0, 1.0, 9.0), "agree in sign only"),
        ("+", (np.nan, np.nan, np.nan), (5.0, 1.0, 9.0), "agree in sign only"),
        ("-", (np.nan, np.nan, np.nan), (5.0, 1.0, 9.0), "disagree"),
        ("+", (np.nan, np.nan, np.nan), (5.0, -1.0, 9.0), "inconclusive"),
        ("no positive effect", (np.nan, np.nan, np.nan), (5.0, 1.0, 9.0), "disagree"),
        ("no positive effect", (np.nan,) * 3, (-5.0, -9.0, -1.0), "agree in sign only"),
        ("no positive effect", (np.nan, np.nan, np.nan), (5.0, -1.0, 9.0), "inconclusive"),
        ("+ (but negative far away)", (np.nan,) * 3, (5.0, 1.0, 9.0), "not compared"),
    ],
)
def test_verdict_rule(
    sign: str,
    published: tuple[float, float, float],
    ours: tuple[float, float, float],
    verdict: str,
) -> None:
    point, low, high = published
    assert cmp.verdict(sign, low, high, *ours, published_estimate=point)[0] == verdict
    assert verdict in cmp.VERDICTS


def test_magnitude_states_the_ratio_and_both_containments() -> None:
    # The example: youth unemployment 54.4 against D&S's 2.73 (made-up intervals)
    found = cmp.magnitude(2.73, 1.0, 5.0, 54.4, -8.0, 117.0)
    assert found["ratio_to_published"] == pytest.approx(54.4 / 2.73)
    assert found["our_point_in_published_interval"] is False
    assert found["published_point_in_our_interval"] is True
    assert np.isnan(cmp.magnitude(0.0, -1.0, 1.0, 5.0, 1.0, 9.0)["ratio_to_published"])
    assert (
        cmp.magnitude(np.nan, np.nan, np.nan, 5.0, 1.0, 9.0)["our_point_in_published_interval"]
        is None
    )


def _estimates(frac_ame: tuple[float, float, float]) -> pd.DataFrame:
    rows = []
    for model, term, value in (
        ("youth_unemployment", cn.LOG_GDP, (50.0, 30.0, 70.0)),
        ("youth_unemployment", cn.FRACTIONALISATION, frac_ame),
        ("youth_unemployment", cn.MUSLIM, (10.0, -5.0, 30.0)),
    ):
        rows.append(
            {
                "model": f"{model}:hurdle_nb2:multiple_imputation",
                "term": term,
                "component": "mean",
                "quantity": "average marginal effect",
                "estimate": value[0],
                "conf_low": value[1],
                "conf_high": value[2],
                "n": 163,
                "scale": "AME",
                "usable_for_marginal_effects": True,
            }
        )
    return pd.DataFrame(rows)


def test_comparison_reads_signs_from_the_transcribed_file(tmp_path: Path) -> None:
    published = cmp.read_published(REPO.transcribed / cmp.PUBLISHED_FILE)
    term_map = cmp.read_term_map(REPO.transcribed / cmp.TERM_MAP_FILE)
    table = cmp.compare(published, term_map, _estimates((-20.0, -35.0, -5.0)), "hurdle_nb2")
    # Every transcribed finding is in the table (unmapped ones as "not compared").
    keys = set(zip(published["source_key"], published["variable"], strict=True))
    assert keys == set(zip(table["source_key"], table["published_variable"], strict=True))
    bk = table[table["source_key"] == "bk2016_abstract"].set_index("published_variable")
    homogeneity = bk.loc["ethnic homogeneity (i.e. low ethnic fractionalization)"]
    # Our fractionalisation AME -20 [-35, -5] is +20 [5, 35] per SD of homogeneity.
    assert homogeneity["direction"] == -1
    assert (homogeneity["our_estimate"], homogeneity["our_low"], homogeneity["our_high"]) == (
        20.0,
        5.0,
        35.0,
    )
    # published "+" for homogeneity, from an abstract: no size, so sign only
    assert homogeneity["verdict"] == "agree in sign only"
    assert bool(homogeneity["published_from_abstract_only"])
    assert bk.loc["GDP per capita", "verdict"] == "agree in sign only"
    assert bk.loc["size of Muslim population", "verdict"] == "inconclusive"
    assert "poor economic conditions (general)" in bk.index

    # Flip the published sign in a copy of the file: the verdict follows the file.
    altered = tmp_path / cmp.PUBLISHED_FILE
    text = (REPO.transcribed / cmp.PUBLISHED_FILE).read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if ",ethnic homogeneity" in x)
    altered.write_text(text.replace(line, line.replace(",+,", ",-,")), encoding="utf-8")
    flipped = cmp.compare(
        cmp.read_published(altered), term_map, _estimates((-20.0, -35.0, -5.0)), "hurdle_nb2"
    )
    row = flipped[flipped["published_variable"].str.startswith("ethnic homogeneity")].iloc[0]
    assert row["published_sign"] == "-"
    assert row["verdict"] == "disagree"


def test_a_model_failing_the_calibration_rule_is_not_compared() -> None:
    published = cmp.read_published(REPO.transcribed / cmp.PUBLISHED_FILE)
    term_map = cmp.read_term_map(REPO.transcribed / cmp.TERM_MAP_FILE)
    estimates = _estimates((-20.0, -35.0, -5.0))
    estimates["usable_for_marginal_effects"] = False
    table = cmp.compare(published, term_map, estimates, "hurdle_nb2")
    mapped = table[table["our_estimate"].notna()]
    assert len(mapped)
    assert (mapped["verdict"] == "not compared").all()
    assert mapped["verdict_rule"].str.contains("calibration").all()
    # The numbers stay in the table, so a reader still sees what was set aside.
    assert mapped["ratio_to_published"].notna().any() or mapped["published_estimate"].isna().all()
    # A model named as failing (e.g. out of fold) is set aside the same way.
    usable = _estimates((-20.0, -35.0, -5.0))
    named = cmp.compare(
        published,
        term_map,
        usable,
        "hurdle_nb2",
        failing_models={"youth_unemployment:hurdle_nb2:multiple_imputation"},
    )
    youth = named[named["our_model"] == "youth_unemployment:hurdle_nb2:multiple_imputation"]
    assert len(youth)
    assert (youth["verdict"] == "not compared").all()


def test_term_map_rejects_a_bad_direction(tmp_path: Path) -> None:
    path = tmp_path / cmp.TERM_MAP_FILE
    text = (REPO.transcribed / cmp.TERM_MAP_FILE).read_text(encoding="utf-8")
    path.write_text(text.replace(",-1,", ",minus,", 1), encoding="utf-8")
    with pytest.raises(Exception, match="direction 'minus' must be 1"):
        cmp.read_term_map(path)


# --- the whole analysis on the real data -------------------------------------------------


@pytest.fixture(scope="module")
def tables(clean_tables: Tables, fetched_project: ProjectPaths) -> Tables:
    published = cmp.read_published(fetched_project.transcribed / cmp.PUBLISHED_FILE)
    features = clean_tables[cn.DS2016_TABLE]
    term_map = cmp.read_term_map(fetched_project.transcribed / cmp.TERM_MAP_FILE)
    return cn.analyse(clean_tables["countries"], published, features, term_map, settings=QUICK)


def test_model_choice_and_calibration(tables: Tables) -> None:
    fit = tables["crossnational_fit"].set_index("model")
    complete = fit[fit["sample"] == "complete_cases"]
    assert set(complete["estimator"]) == set(cm.ESTIMATORS)
    assert complete["cv_folds"].eq(QUICK.cv_folds).all()
    main = fit[fit["main_estimator"]]
    assert set(main["estimator"]) == {"hurdle_nb2"}
    # The NB2 forms predict far more fighters than there are, so give no AMEs, and say why.
    nb2 = complete[complete["estimator"] != "hurdle_nb2"]
    assert (nb2["predicted_total_ratio"] > 1.25).all()
    assert not nb2["usable_for_marginal_effects"].any()
    assert nb2["reason"].str.contains("off the observed").all()
    # N is stated for every model; the main analysis has all 163 countries and m = 20.
    assert (main["n"] == 163).all()
    assert (main["imputations"] == 20).all()
    assert main.loc["youth_unemployment:hurdle_nb2:multiple_imputation", "n_complete_cases"] == 153
    estimates = tables["crossnational_estimates"]
    ames = estimates[estimates["quantity"] == "average marginal effect"]
    unusable = ames[ames["model"].isin(nb2.index)]
    assert not unusable["usable_for_marginal_effects"].any()
    rootogram = tables["crossnational_rootogram"]
    totals = rootogram.groupby("model")[["observed", "expected"]].sum()
    np.testing.assert_allclose(totals["observed"], totals["expected"], rtol=1e-6)


def test_kosovo_is_predicted_with_an_interval(tables: Tables) -> None:
    predictions = tables["crossnational_predictions"].set_index(["iso3", "specification"])
    kosovo = predictions.loc[("XKX", "youth_unemployment")]
    assert kosovo["observed"] == 125
    assert 0 <= kosovo["prediction_low"] <= kosovo["predicted_median"] <= kosovo["prediction_high"]
    assert kosovo["prediction_draws"] == QUICK.simulation_draws * 20
    assert 1 <= kosovo["rank_per_capita"] <= 163
    assert kosovo["fighters_per_million"] == pytest.approx(125 / 1_812_788 * 1e6, rel=1e-3)
    assert {"ALB", "BIH", "MKD", "SRB"} <= set(predictions.index.get_level_values(0))
    assert not predictions.loc[("MNE", "youth_unemployment"), "in_sample"]
    sensitivity = tables["crossnational_kosovo_sensitivity"]
    shifted = sensitivity[sensitivity["scenario"].str.contains("points")]
    assert len(shifted) == len(QUICK.youth_shifts) + len(QUICK.unemployment_shifts)
    youth = sensitivity[sensitivity["specification"] == "youth_unemployment"].set_index("scenario")
    # A higher youth-unemployment figure raises the prediction when its AME is positive.
    assert youth.loc["survey figure +10 points", "value_used"] == pytest.approx(65.3)
    covariates = tables["crossnational_kosovo_covariates"].set_index("variable")
    assert covariates.loc[cn.YOUTH, "source_key"] == "CIA_WFB_2014"
    assert covariates.loc[cn.HDI, "status"] == "imputed (missing)"


def test_ds2016_rebuild_uses_their_sample(tables: Tables) -> None:
    fit = tables["crossnational_fit"].set_index("model")
    rebuild = fit.loc["ds2016_rebuild:hurdle_nb2:ds2016_imputed"]
    assert rebuild["n"] == 163
    # Their outcome: mean 114.08 over 163 countries (their Table "Description of Features").
    assert rebuild["observed_total"] / 163 == pytest.approx(114.08, abs=0.005)
    comparison = tables["crossnational_comparison"]
    ds = comparison[comparison["source_key"] == "ds2016_tabA_main"]
    rebuilt = ds[ds["our_model"] == "ds2016_rebuild:hurdle_nb2:ds2016_imputed"]
    assert len(rebuilt) == 69  # 23 features x 3 components, every one set beside theirs
    # The rebuild over-predicts the total, so the calibration rule sets all 69 aside.
    if not bool(rebuild["usable_for_marginal_effects"]):
        assert (rebuilt["verdict"] == "not compared").all()
    compared = comparison[comparison["verdict"] != "not compared"]
    with_size = compared[compared["published_estimate"].notna()]
    assert with_size["ratio_to_published"].notna().all()


def test_each_model_is_a_result_object(clean_tables: Tables) -> None:
    frame = cn.country_frame(clean_tables["countries"])
    covariates = cn.SPECIFICATIONS["youth_unemployment"]
    complete = frame.dropna(subset=list(covariates))
    scale = cn.standardisation(frame)
    result = cn.fit_specification(
        "youth_unemployment", covariates, "nb2", [complete], scale, QUICK, "complete_cases", 153
    )
    tidy = result.tidy()
    assert list(tidy.columns[:9]) == [
        "model",
        "term",
        "estimate",
        "conf_low",
        "conf_high",
        "p_value",
        "scale",
        "n",
        "synthetic",
    ]
    assert (tidy["n"] == 153).all()
    assert result.statistics["usable_for_marginal_effects"] is False
    assert "NOT USED FOR MARGINAL EFFECTS" in result.summary()
    assert set(result.diagnostics) == {"calibration", "rootogram"}
    assert result.diagnostics["rootogram"]["observed"].sum() == 153


def test_read_only_inputs_compile_nothing_new(clean_tables: Tables) -> None:
    """pandas hands out read-only arrays; a read-only argument would make Numba compile
    the engine once more (about 20 CPU-seconds on a fresh install)."""
    sample = country_sample(clean_tables["countries"], cn.SPECIFICATIONS["youth_unemployment"])
    X, y, offset = sample.exog(with_population=True), sample.fighters, sample.log_population
    for estimator in cm.ESTIMATORS:
        cm.fit_model(estimator, y.copy(), X.copy(), offset.copy())  # writable
    from kosovo_study.models.engine import batch

    signatures = {name: set(getattr(batch, name).signatures) for name in ("_batch",)}
    for array in (X, y, offset):
        array.setflags(write=False)
    for estimator in cm.ESTIMATORS:
        cm.fit_model(estimator, y, X, offset)
    for name, before in signatures.items():
        assert set(getattr(batch, name).signatures) == before, name


def test_kosovo_tables_print_the_same_draws(tables: Tables) -> None:
    """Kosovo's prediction with its published figures is drawn once: the predictions
    table and the first row of its sensitivity table agree exactly."""
    predictions = tables["crossnational_predictions"].set_index(["iso3", "specification"])
    sensitivity = tables["crossnational_kosovo_sensitivity"].set_index(
        ["specification", "scenario"]
    )
    for specification in (cn.MAIN_SPECIFICATION, "unemployment"):
        left = predictions.loc[("XKX", specification)]
        right = sensitivity.loc[(specification, cn.AS_PUBLISHED)]
        for column in ("predicted_median", "prediction_low", "prediction_high", "predicted_mean"):
            assert left[column] == right[column]
