"""Cross-national models of foreign-fighter flows (ICSR, January 2015), on real data.

Sample: the 163 countries of Derpanopoulos & Sonnet (2016) (population > 500,000;
Syria and Iraq excluded) with every covariate present; the N of each model is
reported.  Outcome: the ICSR Jan-2015 figure under a point rule (``low``, ``mid`` =
the published point or range midpoint, ``high``); countries ICSR did not list are
coded 0, as Derpanopoulos & Sonnet do, although ICSR omitted countries with 5 or
fewer cases (so 0 means "5 or fewer").

Estimators:

* NB2 (statsmodels ``NegativeBinomial``) with log population 2014 as the offset and
  robust (HC0) standard errors;
* hurdle NB (statsmodels ``HurdleCountModel``: a Poisson-type zero hurdle and a
  zero-truncated NB2 count part).  statsmodels' hurdle model takes no offset, so log
  population enters as a covariate, as in Derpanopoulos & Sonnet.

Covariates are standardised over the model's sample, so coefficients and average
marginal effects (AMEs, in persons, from central finite differences of the
predicted mean, averaged over countries) are "per SD", the scale of Derpanopoulos &
Sonnet's published AMEs.  AME intervals: nonparametric bootstrap over countries.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.discrete.truncated_model import HurdleCountModel

from kosovo_study.errors import KosovoStudyError

Z95 = stats.norm.ppf(0.975)
YOUTH = "youth_unemployment_pct_2010_2013"
UNEMPLOYMENT = "unemployment_pct_2010_2013"
LOG_GDP = "log_gdp_per_capita_ppp_2010_2013"
MUSLIM = "muslim_share_2010"
FRACTIONALISATION = "ethnic_fractionalisation"
HDI = "hdi_2015"
LOG_POPULATION = "log_population_2014"
SPECIFICATIONS: dict[str, tuple[str, ...]] = {
    "youth_unemployment": (YOUTH, LOG_GDP, MUSLIM, FRACTIONALISATION),
    "unemployment": (UNEMPLOYMENT, LOG_GDP, MUSLIM, FRACTIONALISATION),
    "with_hdi": (YOUTH, LOG_GDP, MUSLIM, FRACTIONALISATION, HDI),
}
POINT_RULES = ("low", "mid", "high")


@dataclass(frozen=True)
class CountrySample:
    """Outcome, standardised covariates and offset for one specification."""

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
            columns[LOG_POPULATION] = z
        return np.asarray(sm.add_constant(columns.to_numpy(), has_constant="add"))


def outcome(countries: pd.DataFrame, point_rule: str = "mid") -> pd.Series:
    """ICSR Jan-2015 fighters by the point rule; unlisted countries 0 (D&S coding)."""
    if point_rule not in POINT_RULES:
        raise KosovoStudyError(f"Unknown point rule {point_rule!r}: use one of {POINT_RULES}.")
    point = countries["icsr_2015_point"]
    if point_rule == "low":
        point = countries["icsr_2015_low"].fillna(point)
    elif point_rule == "high":
        point = countries["icsr_2015_high"].fillna(point)
    return point.where(countries["icsr_2015_listed"], 0.0)


def country_sample(
    countries: pd.DataFrame, covariates: tuple[str, ...], point_rule: str = "mid"
) -> CountrySample:
    frame = countries[countries["in_ds2016_sample"]].copy()
    frame["fighters"] = outcome(frame, point_rule)
    frame[LOG_POPULATION] = np.log(frame["population_2014"])
    frame = frame.dropna(subset=["fighters", LOG_POPULATION, *covariates])
    if len(frame) <= len(covariates) + 3:
        raise KosovoStudyError(f"Only {len(frame)} countries have {covariates}.")
    values = frame[list(covariates)].astype(float)
    standardised = (values - values.mean()) / values.std(ddof=1)
    return CountrySample(
        iso3=frame["iso3"].tolist(),
        fighters=frame["fighters"].to_numpy(dtype=float),
        covariates=standardised.reset_index(drop=True),
        log_population=frame[LOG_POPULATION].to_numpy(dtype=float),
        point_rule=point_rule,
    )


def _fit_nb2(sample: CountrySample) -> sm.regression.linear_model.RegressionResultsWrapper:
    exog = sample.exog()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        poisson = sm.GLM(
            sample.fighters, exog, family=sm.families.Poisson(), offset=sample.log_population
        ).fit()
        model = sm.NegativeBinomial(sample.fighters, exog, offset=sample.log_population)
        rough = model.fit(
            start_params=np.append(poisson.params, 1.0), method="bfgs", maxiter=5000, disp=0
        )
        return model.fit(
            start_params=rough.params, method="newton", maxiter=200, disp=0, cov_type="HC0"
        )


def _fit_hurdle(sample: CountrySample) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return HurdleCountModel(
            sample.fighters, sample.exog(with_population=True), dist="negbin", zerodist="poisson"
        ).fit(disp=0, maxiter=1000)


def _predict_nb2(params: np.ndarray, exog: np.ndarray, offset: np.ndarray) -> np.ndarray:
    mean: np.ndarray = np.exp(exog @ params[: exog.shape[1]] + offset)
    return mean


def average_marginal_effects(
    predict: Callable[[np.ndarray], np.ndarray], exog: np.ndarray, names: list[str]
) -> dict[str, float]:
    """Mean over units of d E[y | x] / d x_k (x_k in SD units), by central differences."""
    step = 1e-4
    effects = {}
    for k, name in enumerate(names, start=1):
        up, down = exog.copy(), exog.copy()
        up[:, k] += step
        down[:, k] -= step
        effects[name] = float(np.mean((predict(up) - predict(down)) / (2 * step)))
    return effects


def _ames(sample: CountrySample, estimator: str) -> dict[str, float]:
    names = list(sample.covariates.columns)
    if estimator == "nb2":
        result = _fit_nb2(sample)
        exog = sample.exog()
        return average_marginal_effects(
            lambda x: _predict_nb2(np.asarray(result.params), x, sample.log_population), exog, names
        )
    hurdle = _fit_hurdle(sample)
    exog = sample.exog(with_population=True)
    return average_marginal_effects(
        lambda x: np.asarray(hurdle.predict(x, which="mean")),  # type: ignore[attr-defined]
        exog,
        [*names, LOG_POPULATION],
    )


def bootstrap_ames(
    sample: CountrySample, estimator: str, replicates: int, seed: int
) -> pd.DataFrame:
    """Point AMEs and percentile 95% intervals from resampling countries."""
    rng = np.random.default_rng(seed)
    point = _ames(sample, estimator)
    draws: list[dict[str, float]] = []
    for _ in range(replicates):
        rows = rng.integers(0, sample.n, sample.n)
        resampled = CountrySample(
            iso3=[sample.iso3[i] for i in rows],
            fighters=sample.fighters[rows],
            covariates=sample.covariates.iloc[rows].reset_index(drop=True),
            log_population=sample.log_population[rows],
            point_rule=sample.point_rule,
        )
        # Resamples can make a model degenerate (e.g. too few non-zero counts for the
        # hurdle); those replicates give NaN and are dropped from the percentiles.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                draws.append(_ames(resampled, estimator))
            except (np.linalg.LinAlgError, ValueError):
                continue
    table = pd.DataFrame(draws)
    return pd.DataFrame(
        {
            "term": list(point),
            "ame_per_sd": list(point.values()),
            "ame_low": [float(np.nanpercentile(table[t], 2.5)) for t in point],
            "ame_high": [float(np.nanpercentile(table[t], 97.5)) for t in point],
            "bootstrap_replicates": [int(table[t].notna().sum()) for t in point],
        }
    )


def nb2_coefficients(model: str, sample: CountrySample) -> tuple[pd.DataFrame, dict[str, object]]:
    """IRRs per SD with robust intervals, and fit statistics, for the NB2 model."""
    result = _fit_nb2(sample)
    names = ["const", *sample.covariates.columns]
    k = len(names)
    params, se = np.asarray(result.params)[:k], np.asarray(result.bse)[:k]
    coefficients = pd.DataFrame(
        {
            "model": model,
            "estimator": "nb2",
            "point_rule": sample.point_rule,
            "term": names,
            "coef": params,
            "robust_se": se,
            "p_value": 2 * stats.norm.sf(np.abs(params / se)),
            "incidence_rate_ratio": np.exp(params),
            "irr_low": np.exp(params - Z95 * se),
            "irr_high": np.exp(params + Z95 * se),
            "n": sample.n,
        }
    )
    statistics: dict[str, object] = {
        "model": model,
        "estimator": "nb2",
        "point_rule": sample.point_rule,
        "n": sample.n,
        "countries_with_fighters": int((sample.fighters > 0).sum()),
        "log_likelihood": float(result.llf),
        "aic": float(result.aic),
        "pseudo_r2": float(result.prsquared),
        "alpha": float(np.asarray(result.params)[-1]),
    }
    return coefficients, statistics


def hurdle_statistics(model: str, sample: CountrySample) -> dict[str, object]:
    result = _fit_hurdle(sample)
    return {
        "model": model,
        "estimator": "hurdle_nb2",
        "point_rule": sample.point_rule,
        "n": sample.n,
        "countries_with_fighters": int((sample.fighters > 0).sum()),
        "log_likelihood": float(result.llf),  # type: ignore[attr-defined]
        "aic": float(result.aic),  # type: ignore[attr-defined]
        "pseudo_r2": float("nan"),
        "alpha": float("nan"),
    }


#: Our term -> (study key, published variable, expected sign, how to read our estimate).
PUBLISHED_SIGNS = (
    ("Benmelech & Klor", "GDP per capita", LOG_GDP, "+", "with_hdi"),
    ("Benmelech & Klor", "HDI", HDI, "+", "with_hdi"),
    ("Benmelech & Klor", "size of Muslim population", MUSLIM, "+", "with_hdi"),
    ("Benmelech & Klor", "ethnic homogeneity", FRACTIONALISATION, "-", "with_hdi"),
    ("Pokalova", "unemployment rate", UNEMPLOYMENT, "+", "unemployment"),
)
DS2016_VARIABLES = {"Youth Unemployment": YOUTH, "Log GDP pc, PPP": LOG_GDP}


def compare_with_published(
    coefficients: pd.DataFrame, ames: pd.DataFrame, published: pd.DataFrame
) -> pd.DataFrame:
    """Sign agreement (and interval overlap for D&S AMEs) with published results."""
    rows = []
    ds = published[
        (published["source_key"] == "ds2016_tabA_main")
        & (published["component"] == "both_components")
    ]
    ours = ames[(ames["model"] == "youth_unemployment") & (ames["estimator"] == "hurdle_nb2")]
    for variable, term in DS2016_VARIABLES.items():
        theirs = ds[ds["variable"] == variable].iloc[0]
        mine = ours[ours["term"] == term].iloc[0]
        overlap = not (mine["ame_high"] < theirs["ci_low"] or mine["ame_low"] > theirs["ci_high"])
        rows.append(
            {
                "study": theirs["study"],
                "published_variable": variable,
                "our_term": term,
                "our_model": "youth_unemployment, hurdle NB2, AME per SD",
                "published_sign": theirs["sign"],
                "our_sign": "+" if mine["ame_per_sd"] > 0 else "-",
                "published_estimate": float(theirs["estimate"]),
                "published_low": float(theirs["ci_low"]),
                "published_high": float(theirs["ci_high"]),
                "our_estimate": float(mine["ame_per_sd"]),
                "our_low": float(mine["ame_low"]),
                "our_high": float(mine["ame_high"]),
                "intervals_overlap": overlap,
            }
        )
    nb = coefficients[(coefficients["estimator"] == "nb2") & (coefficients["point_rule"] == "mid")]
    for study, variable, term, sign, model in PUBLISHED_SIGNS:
        mine = nb[(nb["model"] == model) & (nb["term"] == term)].iloc[0]
        rows.append(
            {
                "study": study,
                "published_variable": variable,
                "our_term": term,
                "our_model": f"{model}, NB2 with population offset, IRR per SD",
                "published_sign": sign,
                "our_sign": "+" if mine["coef"] > 0 else "-",
                "published_estimate": np.nan,
                "published_low": np.nan,
                "published_high": np.nan,
                "our_estimate": float(mine["incidence_rate_ratio"]),
                "our_low": float(mine["irr_low"]),
                "our_high": float(mine["irr_high"]),
                "intervals_overlap": np.nan,
            }
        )
    table = pd.DataFrame(rows)
    table["signs_agree"] = table["published_sign"] == table["our_sign"]
    return table


def analyse(
    countries: pd.DataFrame, published: pd.DataFrame, replicates: int = 199, seed: int = 2015
) -> dict[str, pd.DataFrame]:
    """Every cross-national result table."""
    coefficient_tables, statistics, ame_tables = [], [], []
    for model, covariates in SPECIFICATIONS.items():
        for rule in POINT_RULES:
            sample = country_sample(countries, covariates, rule)
            table, fit_row = nb2_coefficients(model, sample)
            coefficient_tables.append(table)
            statistics.append(fit_row)
            if rule != "mid":
                continue
            statistics.append(hurdle_statistics(model, sample))
            for estimator in ("nb2", "hurdle_nb2"):
                ame = bootstrap_ames(sample, estimator, replicates, seed)
                ame.insert(0, "estimator", estimator)
                ame.insert(0, "model", model)
                ame_tables.append(ame)
    coefficients = pd.concat(coefficient_tables, ignore_index=True)
    ames = pd.concat(ame_tables, ignore_index=True)
    sensitivity = coefficients[coefficients["term"] != "const"].pivot_table(
        index=["model", "term"], columns="point_rule", values="incidence_rate_ratio"
    )
    return {
        "crossnational_coefficients": coefficients,
        "crossnational_fit": pd.DataFrame(statistics),
        "crossnational_ame": ames,
        "crossnational_comparison": compare_with_published(coefficients, ames, published),
        "crossnational_sensitivity": sensitivity.reset_index()[["model", "term", *POINT_RULES]],
    }
