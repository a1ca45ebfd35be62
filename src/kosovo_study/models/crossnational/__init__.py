"""Cross-national models of foreign-fighter flows (ICSR, January 2015), on real data.

Sample: the 163 countries of Derpanopoulos & Sonnet (2016) (population > 500,000;
Syria and Iraq excluded), Kosovo included.  Outcome: the ICSR Jan-2015 figure under a
point rule (``low``, ``mid`` = the published point or range midpoint, ``high``);
countries ICSR did not list are coded 0, as Derpanopoulos & Sonnet do, although ICSR
omitted countries with 5 or fewer cases (so 0 means "5 or fewer"); Israel's figure is
shared with the Palestinian territories (:data:`kosovo_study.clean.countries.SHARED_FIGURES`).

Steps (:func:`run_analysis`):

1. **Model choice** on complete cases, for every specification: the estimators of
   :mod:`kosovo_study.models.crossnational.countmodels` are compared by their out-of-sample log score
   (seeded ``cv_folds``-fold cross-validation: the mean log predictive density of each
   held-out country; Gneiting & Raftery 2007), not by AIC alone.  The estimator with
   the best score on the main specification is the main estimator, provided it passes
   the calibration rule below; otherwise the next best.
2. **Calibration** of every model: predicted against observed total, predicted against
   observed share of zeros, and the data of a hanging rootogram (observed and expected
   numbers of countries by count bin; Kleiber & Zeileis 2016).
3. **The calibration rule** (:func:`usable_for_marginal_effects`): a model whose
   predicted total is off the observed total by more than ``calibration_tolerance``
   (25%), or whose widest average-marginal-effect interval is wider than the observed
   total of fighters of its sample (the "world total"), is not used for marginal
   effects; the results say which condition failed.  The totals part of the rule is
   also applied out of fold (:func:`out_of_fold_calibration`: every model refitted in
   ``oof_folds`` folds under ``oof_replicates`` fold assignments, each country's total
   predicted by the fit that did not see it) at the tolerances of
   :data:`CALIBRATION_THRESHOLDS`; :func:`calibrated_families` says which estimators
   pass.  In sample, a logit with an intercept reproduces the observed share of zeros
   by construction (its score equation), so the hurdle's share of zeros is reported
   out of fold too.
4. **Main analysis** with multiple imputation (:mod:`kosovo_study.models.crossnational.imputation`,
   chained equations, ``m >= 20``, Rubin's rules) over all 163 countries; complete
   cases are the sensitivity check.  N is stated for every model.
5. **Kosovo and the Western Balkans**: each country's observed count against the
   count the model predicts for it when it is left out of the fit, with a 95%
   prediction interval from simulation (parameter draws from the robust asymptotic
   normal, King, Tomz & Wittenberg 2000, and count noise, pooled over imputations), and
   its rank per capita.  For Kosovo, a sensitivity analysis of its labour-market
   figures (KAS survey, ages 15-64, not ILO-modelled 15+): shifted values, the
   figures imputed instead, and the variable left out.

Covariates are standardised with the mean and SD of their observed values over the
sample, so coefficients and average marginal effects (AMEs: persons per SD, central
finite differences of the predicted mean averaged over countries) are "per SD", the
scale of Derpanopoulos & Sonnet's published AMEs.  AME intervals come from parameter
draws (``simulation_draws`` per imputation) instead of a nonparametric bootstrap, so
no model is refitted for them; their Monte Carlo error is stated.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from kosovo_study.errors import KosovoStudyError, ValidationError
from kosovo_study.models.crossnational import comparison
from kosovo_study.models.crossnational import countmodels as cm
from kosovo_study.models.crossnational.imputation import ImputationSettings, impute, rubin
from kosovo_study.models.results import Z95, Fit, ModelResult

YOUTH = "youth_unemployment_pct_2010_2013"
UNEMPLOYMENT = "unemployment_pct_2010_2013"
LOG_GDP = "log_gdp_per_capita_ppp_2010_2013"
MUSLIM = "muslim_share_2010"
FRACTIONALISATION = "ethnic_fractionalisation"
HDI = "hdi_2015"
LOG_POPULATION = "log_population_2014"
OUTCOME_LOG = "log1p_fighters"
SPECIFICATIONS: dict[str, tuple[str, ...]] = {
    "youth_unemployment": (YOUTH, LOG_GDP, MUSLIM, FRACTIONALISATION),
    "unemployment": (UNEMPLOYMENT, LOG_GDP, MUSLIM, FRACTIONALISATION),
    "with_hdi": (YOUTH, LOG_GDP, MUSLIM, FRACTIONALISATION, HDI),
}
#: Kosovo's placement without any labour-market variable (sensitivity check).
WITHOUT_LABOUR = "without_labour_market"
WITHOUT_LABOUR_COVARIATES = (LOG_GDP, MUSLIM, FRACTIONALISATION)
MAIN_SPECIFICATION = "youth_unemployment"
ALL_COVARIATES = (YOUTH, UNEMPLOYMENT, LOG_GDP, MUSLIM, FRACTIONALISATION, HDI)
POINT_RULES = ("low", "mid", "high")
KOSOVO = "XKX"
#: The Western Balkan countries reported beside Kosovo (ISO3 -> name).
WESTERN_BALKANS = {
    "ALB": "Albania",
    "BIH": "Bosnia and Herzegovina",
    "MKD": "North Macedonia",
    "MNE": "Montenegro",
    "SRB": "Serbia",
    "XKX": "Kosovo",
}
#: Count bins of the rootogram: (label, lower exclusive, upper inclusive); -1 is "below 0".
ROOTOGRAM_BINS: tuple[tuple[str, float, float], ...] = (
    ("0", -1, 0),
    ("1-10", 0, 10),
    ("11-50", 10, 50),
    ("51-100", 50, 100),
    ("101-500", 100, 500),
    ("501-1000", 500, 1000),
    ("over 1000", 1000, np.inf),
)
#: Step of the central finite differences of the AMEs (in SD units).
FINITE_DIFFERENCE_STEP = 1e-4
#: Tolerances (relative error of the predicted world total) at which the calibration
#: verdicts are shown; the rule itself uses ``Settings.calibration_tolerance`` (25%).
CALIBRATION_THRESHOLDS = (0.20, 0.25, 0.30)


@dataclass(frozen=True)
class Settings:
    """Every size, seed and threshold of the cross-national analysis."""

    imputation: ImputationSettings = field(default_factory=ImputationSettings)
    cv_folds: int = 10
    #: Parameter draws per fit (per imputation) for AME and prediction intervals.
    simulation_draws: int = 200
    #: Relative error of the predicted total above which a model gives no AMEs.
    calibration_tolerance: float = 0.25
    seed: int = 2015
    #: Out-of-fold calibration: folds, number of fold assignments ("fold seeds") and
    #: the seed they are drawn from (:func:`out_of_fold_calibration`).
    oof_folds: int = 10
    oof_replicates: int = 5
    oof_seed: int = 2019
    #: Shifts (percentage points) of Kosovo's survey figures in the sensitivity check.
    #: The gap between a national 15-64 survey rate and an ILO-modelled 15+ rate for
    #: Kosovo is not published in the data used here, so these are a stated
    #: assumption (a grid around the survey value), not an estimate of that gap.
    youth_shifts: tuple[float, ...] = (-10.0, -5.0, 5.0, 10.0)
    unemployment_shifts: tuple[float, ...] = (-5.0, -2.5, 2.5, 5.0)

    def record(self) -> dict[str, Any]:
        return asdict(self)


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


def _number(value: Any) -> float:
    """A table cell as a float (pandas-stubs type cells as a union of every scalar)."""
    return float(value)


# --- the analysis frame ------------------------------------------------------------------


def country_frame(countries: pd.DataFrame, point_rule: str = "mid") -> pd.DataFrame:
    """The D&S sample indexed by ISO3: fighters, log population, every covariate (raw,
    missing where the sources have no value) and the log outcome for imputation."""
    frame = countries[countries["in_ds2016_sample"]].set_index("iso3")
    table = pd.DataFrame(index=frame.index)
    table["fighters"] = outcome(frame, point_rule).astype(float)
    table[LOG_POPULATION] = np.log(frame["population_2014"].astype(float))
    for column in ALL_COVARIATES:
        table[column] = frame[column].astype(float)
    table[OUTCOME_LOG] = np.log1p(table["fighters"])
    if table[["fighters", LOG_POPULATION]].isna().any().any():
        missing = table.index[table[["fighters", LOG_POPULATION]].isna().any(axis=1)].tolist()
        raise KosovoStudyError(f"Countries without outcome or population: {missing}.")
    return table


def standardisation(
    frame: pd.DataFrame, columns: tuple[str, ...] = (*ALL_COVARIATES, LOG_POPULATION)
) -> dict[str, tuple[float, float]]:
    """Mean and SD of the observed values of each covariate (the fixed "per SD" scale)."""
    return {
        column: (float(frame[column].mean()), float(frame[column].std(ddof=1)))
        for column in columns
    }


def term_names(covariates: tuple[str, ...], estimator: str) -> list[str]:
    names = ["const", *covariates]
    return names if estimator == "nb2_offset" else [*names, LOG_POPULATION]


def design(
    frame: pd.DataFrame,
    covariates: tuple[str, ...],
    estimator: str,
    scale: dict[str, tuple[float, float]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y, X, offset): X has a constant and standardised covariates (and log population
    unless it is the offset)."""
    names = term_names(covariates, estimator)[1:]
    z = np.column_stack([(frame[c].to_numpy() - scale[c][0]) / scale[c][1] for c in names])
    X = np.column_stack([np.ones(len(frame)), z])
    return frame["fighters"].to_numpy(), X, frame[LOG_POPULATION].to_numpy()


# --- what follows from one fit -------------------------------------------------------------


def marginal_effects(
    fit: Fit,
    X: np.ndarray,
    offset: np.ndarray,
    draws: np.ndarray,
    parts: tuple[str, ...] = ("mean",),
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """AME of every non-constant column (per SD) on each part of the prediction: point
    estimates and, from the parameter draws, their simulation variances."""
    h = FINITE_DIFFERENCE_STEP
    points: dict[str, list[float]] = {part: [] for part in parts}
    variances: dict[str, list[float]] = {part: [] for part in parts}
    # Moving column j by +-h moves each linear predictor by +-h times its coefficient of
    # j: the predictors are computed once, and shifted per column (the same differences
    # as predicting at X with column j moved, up to rounding).
    at_zero, at_eta = cm.linear_predictors(fit, X, offset)
    sim_zero, sim_eta = cm.linear_predictors(fit, X, offset, draws)
    k = X.shape[1]
    hurdle = fit.family == "hurdle_nb2"
    for j in range(1, k):
        shift = h * fit.params[k + j if hurdle else j]
        sim_shift = h * draws[:, k + j if hurdle else j, None]
        zero_shift = h * fit.params[j] if hurdle else 0.0
        sim_zero_shift = h * draws[:, j, None] if hurdle else 0.0

        def moved(zero: np.ndarray | None, sign: float, by: Any) -> np.ndarray | None:
            return None if zero is None else zero + sign * by

        at_up = cm.parts_from_linear(fit, moved(at_zero, 1, zero_shift), at_eta + shift)
        at_down = cm.parts_from_linear(fit, moved(at_zero, -1, zero_shift), at_eta - shift)
        sim_up = cm.parts_from_linear(
            fit, moved(sim_zero, 1, sim_zero_shift), sim_eta + sim_shift, draws
        )
        sim_down = cm.parts_from_linear(
            fit, moved(sim_zero, -1, sim_zero_shift), sim_eta - sim_shift, draws
        )
        for part in parts:
            points[part].append(float(np.mean((at_up[part] - at_down[part]) / (2 * h))))
            simulated = np.mean((sim_up[part] - sim_down[part]) / (2 * h), axis=1)
            variances[part].append(float(np.var(simulated, ddof=1)))
    return {part: (np.array(points[part]), np.array(variances[part])) for part in parts}


def rootogram_expected(fit: Fit, X: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Expected number of countries in each :data:`ROOTOGRAM_BINS` bin."""
    expected = []
    for _, lower, upper in ROOTOGRAM_BINS:
        below = np.zeros(len(X)) if lower < 0 else cm.cdf(fit, lower, X, offset)
        expected.append(float(np.sum(cm.cdf(fit, upper, X, offset) - below)))
    return np.array(expected)


def rootogram_observed(y: np.ndarray) -> np.ndarray:
    return np.array([float(np.sum((y > lo) & (y <= hi))) for _, lo, hi in ROOTOGRAM_BINS])


def cross_validated_log_score(
    estimator: str, y: np.ndarray, X: np.ndarray, offset: np.ndarray, folds: int, seed: int
) -> tuple[np.ndarray, int]:
    """Log predictive density of every country when its fold is held out, and the
    number of folds whose fit failed (their countries get NaN)."""
    rng = np.random.default_rng(seed)
    assignment = rng.permutation(np.arange(len(y)) % folds)
    scores = np.full(len(y), np.nan)
    failed = 0
    for fold in range(folds):
        test = assignment == fold
        try:
            fit = cm.fit_model(estimator, y[~test], X[~test], offset[~test], covariance=False)
        except (KosovoStudyError, np.linalg.LinAlgError, ValueError):
            failed += 1
            continue
        scores[test] = cm.log_density(fit, y[test], X[test], offset[test])
    return scores, failed


@dataclass(frozen=True)
class OutOfFold:
    """Cross-validated totals of one model: per fold assignment (replicate), the
    predicted world total and share of zeros, each country predicted by the fit that
    left its fold out, averaged over the completed data sets."""

    totals: np.ndarray
    zero_shares: np.ndarray
    failed_folds: int


def fold_assignment(n: int, folds: int, seed: int, replicate: int) -> np.ndarray:
    """Fold of each of ``n`` countries under replicate ``replicate`` (balanced sizes)."""
    rng = np.random.default_rng([seed, replicate])
    result: np.ndarray = rng.permutation(np.arange(n) % folds)
    return result


def out_of_fold(
    estimator: str,
    completed: list[pd.DataFrame],
    covariates: tuple[str, ...],
    scale: dict[str, tuple[float, float]],
    settings: Settings,
    starts: list[Fit] | None = None,
) -> OutOfFold:
    """The cross-validated world total and share of zeros of one model.

    For each completed data set and each of ``settings.oof_replicates`` fold
    assignments (the same assignments for every data set and model of the same size),
    the model is refitted ``settings.oof_folds`` times, each time without one fold, and
    the held-out countries' expected counts (and probabilities of zero) are summed.  A
    fold whose fit fails makes that replicate's total NaN for that data set (counted in
    ``failed_folds``).  ``starts``: the full-sample fit of each data set, a warm start
    that changes nothing but the number of Newton steps."""
    replicates = settings.oof_replicates
    totals = np.full((len(completed), replicates), np.nan)
    zeros = np.full((len(completed), replicates), np.nan)
    failed = 0
    for i, data in enumerate(completed):
        y, X, offset = design(data, covariates, estimator, scale)
        start = None if starts is None else starts[i].params
        for r in range(replicates):
            assignment = fold_assignment(len(y), settings.oof_folds, settings.oof_seed, r)
            mean = np.full(len(y), np.nan)
            zero = np.full(len(y), np.nan)
            for fold in range(settings.oof_folds):
                test = assignment == fold
                try:
                    fit = cm.fit_model(
                        estimator, y[~test], X[~test], offset[~test], start=start, covariance=False
                    )
                except (KosovoStudyError, np.linalg.LinAlgError, ValueError):
                    failed += 1
                    continue
                if not fit.converged:
                    failed += 1
                    continue
                mean[test] = cm.predict(fit, X[test], offset[test])
                zero[test] = cm.cdf(fit, 0, X[test], offset[test])
            totals[i, r] = mean.sum() if np.isfinite(mean).all() else np.nan
            zeros[i, r] = zero.mean() if np.isfinite(zero).all() else np.nan
    return OutOfFold(
        totals=totals.mean(axis=0), zero_shares=zeros.mean(axis=0), failed_folds=failed
    )


def calibration_rows(
    model: ModelResult, oof: OutOfFold, settings: Settings
) -> list[dict[str, Any]]:
    """Rows of ``crossnational_calibration`` for one model: its in-sample and
    out-of-fold ratio of predicted to observed world total and the verdict of the
    totals rule at each tolerance of :data:`CALIBRATION_THRESHOLDS`."""
    stats = model.statistics
    observed = float(stats["observed_total"])
    ratios = oof.totals / observed
    in_sample = float(stats["predicted_total_ratio"])
    rows = []
    for threshold in CALIBRATION_THRESHOLDS:
        within = np.abs(ratios - 1) <= threshold + 1e-12
        rows.append(
            {
                "model": model.model,
                "specification": stats["specification"],
                "estimator": stats["estimator"],
                "sample": stats["sample"],
                "n": int(stats["n"]),
                "threshold": threshold,
                "observed_total": observed,
                "in_sample_ratio": in_sample,
                "out_of_fold_ratio_mean": float(np.mean(ratios)),
                "out_of_fold_ratio_min": float(np.min(ratios)),
                "out_of_fold_ratio_max": float(np.max(ratios)),
                "passes_in_sample": bool(abs(in_sample - 1) <= threshold + 1e-12),
                "passes_out_of_fold": bool(abs(np.mean(ratios) - 1) <= threshold + 1e-12),
                "passes_out_of_fold_every_replicate": bool(within.all()),
                "observed_zero_share": float(stats["observed_zero_share"]),
                "in_sample_zero_share": float(stats["predicted_zero_share"]),
                "out_of_fold_zero_share_mean": float(np.mean(oof.zero_shares)),
                "folds": settings.oof_folds,
                "fold_replicates": settings.oof_replicates,
                "failed_folds": oof.failed_folds,
                "imputations": int(stats["imputations"]),
                "synthetic": False,
            }
        )
    return rows


def calibrated_families(
    calibration: pd.DataFrame,
    threshold: float = 0.25,
    *,
    out_of_fold: bool = True,
    specification: str = MAIN_SPECIFICATION,
    sample: str | None = None,
) -> tuple[str, ...]:
    """The estimators (families) whose predicted world total is within ``threshold``
    of the observed, out of fold (``out_of_fold=True``, the mean over fold
    assignments) or in sample, for ``specification``; a family passes only if every
    row it has there (every sample, or ``sample`` only) passes.  ``calibration`` is the
    ``crossnational_calibration`` table."""
    rows = calibration[
        np.isclose(calibration["threshold"], threshold)
        & (calibration["specification"] == specification)
    ]
    if sample is not None:
        rows = rows[rows["sample"] == sample]
    if rows.empty:
        raise KosovoStudyError(
            f"No calibration rows for {specification!r} at {threshold:.0%}"
            + (f" in sample {sample!r}" if sample else "")
            + f": thresholds are {CALIBRATION_THRESHOLDS}."
        )
    column = "passes_out_of_fold" if out_of_fold else "passes_in_sample"
    passes = rows.groupby("estimator", sort=False)[column].all()
    return tuple(str(name) for name, ok in passes.items() if bool(ok))


def usable_for_marginal_effects(
    predicted_total: float,
    observed_total: float,
    widest_ame_interval: float,
    tolerance: float = 0.25,
) -> tuple[bool, str]:
    """The calibration rule: (usable, reason).

    Not usable when the predicted total is off the observed total by more than
    ``tolerance`` (relative), or when the widest AME interval is wider than the observed
    total of fighters (an effect interval wider than all the fighters there are says
    nothing about any covariate).
    """
    reasons = []
    if not np.isfinite(predicted_total) or observed_total <= 0:
        reasons.append("predicted or observed total not positive and finite")
    else:
        error = predicted_total / observed_total - 1
        if abs(error) > tolerance:
            reasons.append(
                f"predicted total {predicted_total:,.0f} is {error:+.0%} off the observed "
                f"{observed_total:,.0f} (limit {tolerance:.0%})"
            )
    if not np.isfinite(widest_ame_interval) or widest_ame_interval > observed_total:
        reasons.append(
            f"widest AME interval ({widest_ame_interval:,.0f} persons) is wider than the "
            f"observed total ({observed_total:,.0f})"
        )
    if reasons:
        return False, "; ".join(reasons)
    return True, (
        f"predicted total within {tolerance:.0%} of the observed and every AME interval "
        "narrower than the observed total"
    )


# --- fitting one specification on one or more completed data sets --------------------------


@dataclass
class _Accumulator:
    """Per-imputation quantities of one model, pooled at the end."""

    coef: list[np.ndarray] = field(default_factory=list)
    coef_var: list[np.ndarray] = field(default_factory=list)
    ame: dict[str, list[np.ndarray]] = field(default_factory=dict)
    ame_var: dict[str, list[np.ndarray]] = field(default_factory=dict)
    predicted_total: list[float] = field(default_factory=list)
    predicted_zero_share: list[float] = field(default_factory=list)
    rootogram: list[np.ndarray] = field(default_factory=list)
    loglik: list[float] = field(default_factory=list)
    alpha: list[float] = field(default_factory=list)
    converged: list[bool] = field(default_factory=list)
    fits: list[Fit] = field(default_factory=list)


AME_PARTS = {
    "mean": "AME on E[fighters] (persons per SD)",
    "any": "AME on P(listed by ICSR, more than about 5) (per SD)",
    "positive": "AME on E[fighters | listed] (persons per SD)",
}


def _fit_one(
    acc: _Accumulator,
    estimator: str,
    frame: pd.DataFrame,
    covariates: tuple[str, ...],
    scale: dict[str, tuple[float, float]],
    rng: np.random.Generator,
    draws: int,
    parts: tuple[str, ...],
    start: np.ndarray | None,
) -> Fit:
    y, X, offset = design(frame, covariates, estimator, scale)
    fit = cm.fit_model(estimator, y, X, offset, start=start)
    theta = cm.draw_params(fit, draws, rng)
    acc.fits.append(fit)
    acc.coef.append(fit.params)
    acc.coef_var.append(np.diag(fit.covariance))
    for part, (point, variance) in marginal_effects(fit, X, offset, theta, parts).items():
        acc.ame.setdefault(part, []).append(point)
        acc.ame_var.setdefault(part, []).append(variance)
    acc.predicted_total.append(float(cm.predict(fit, X, offset).sum()))
    acc.predicted_zero_share.append(float(cm.cdf(fit, 0, X, offset).mean()))
    acc.rootogram.append(rootogram_expected(fit, X, offset))
    acc.loglik.append(fit.llf)
    acc.alpha.append(float(fit.params[-1]))
    acc.converged.append(fit.converged)
    return fit


def _coefficient_rows(
    acc: _Accumulator, covariates: tuple[str, ...], estimator: str
) -> list[dict[str, Any]]:
    names = term_names(covariates, estimator)
    k = len(names)
    coef, var = np.array(acc.coef), np.array(acc.coef_var)
    blocks = (
        [
            ("zero_hurdle", "odds ratio per SD (listed by ICSR, more than about 5)", 0),
            ("count", "rate ratio per SD", k),
        ]
        if estimator == "hurdle_nb2"
        else [("count", "rate ratio per SD", 0)]
    )
    rows = []
    # complete-data df for Barnard-Rubin: countries minus estimated parameters
    df_complete = _df_complete(acc)
    for component, quantity, first in blocks:
        for j, name in enumerate(names):
            pooled = rubin(coef[:, first + j], var[:, first + j], df_complete=df_complete)
            exponentiate = name != "const"
            transform = np.exp if exponentiate else (lambda v: v)
            rows.append(
                {
                    "term": name,
                    "component": component,
                    "quantity": "coefficient",
                    "scale": quantity if exponentiate else "log scale (constant)",
                    "estimate": float(transform(pooled.estimate)),
                    "conf_low": float(transform(pooled.conf_low)),
                    "conf_high": float(transform(pooled.conf_high)),
                    "p_value": pooled.p_value,
                    "std_error": float(np.sqrt(pooled.variance)),
                    **_mi_columns(pooled),
                }
            )
    alpha = rubin(coef[:, -1], var[:, -1], df_complete=df_complete)
    rows.append(
        {
            "term": "alpha",
            "component": "count",
            "quantity": "dispersion",
            "scale": "NB2 alpha (variance = mu + alpha mu^2)",
            "estimate": alpha.estimate,
            "conf_low": alpha.conf_low,
            "conf_high": alpha.conf_high,
            "p_value": float("nan"),
            "std_error": float(np.sqrt(alpha.variance)),
            **_mi_columns(alpha),
        }
    )
    return rows


def _df_complete(acc: _Accumulator) -> float:
    """Complete-data degrees of freedom (Barnard & Rubin 1999): n minus parameters."""
    fit = acc.fits[0]
    return float(max(fit.n - len(fit.params), 1))


def _mi_columns(pooled: Any) -> dict[str, float]:
    """What mice's pool() reports per term: FMI, RIV, lambda and Barnard-Rubin df."""
    return {
        "fraction_missing_information": pooled.fraction_missing_information,
        "relative_increase_in_variance": pooled.relative_increase_in_variance,
        "lambda_missing": pooled.lambda_missing,
        "df_barnard_rubin": pooled.df,
    }


def _ame_rows(
    acc: _Accumulator, covariates: tuple[str, ...], estimator: str
) -> list[dict[str, Any]]:
    names = term_names(covariates, estimator)[1:]
    rows = []
    for part, values in acc.ame.items():
        points, variances = np.array(values), np.array(acc.ame_var[part])
        for j, name in enumerate(names):
            pooled = rubin(points[:, j], variances[:, j], df_complete=_df_complete(acc))
            rows.append(
                {
                    "term": name,
                    "component": part,
                    "quantity": "average marginal effect",
                    "scale": AME_PARTS[part],
                    "estimate": pooled.estimate,
                    "conf_low": pooled.conf_low,
                    "conf_high": pooled.conf_high,
                    "p_value": pooled.p_value,
                    "std_error": float(np.sqrt(pooled.variance)),
                    **_mi_columns(pooled),
                }
            )
    return rows


def fit_specification(
    specification: str,
    covariates: tuple[str, ...],
    estimator: str,
    completed: list[pd.DataFrame],
    scale: dict[str, tuple[float, float]],
    settings: Settings,
    sample: str,
    n_complete_cases: int,
    cv_scores: np.ndarray | None = None,
    cv_failed: int = 0,
    parts: tuple[str, ...] = ("mean",),
    keep_fits: list[Fit] | None = None,
) -> ModelResult:
    """One model on one (complete cases) or several (imputed) data sets, as a result.

    ``keep_fits``, when given, receives the fit on each data set (for predictions)."""
    stream = zlib.crc32(f"{specification}:{estimator}:{sample}".encode())
    rng = np.random.default_rng([settings.seed, stream])
    acc = _Accumulator()
    start = None
    for data in completed:
        fit = _fit_one(
            acc, estimator, data, covariates, scale, rng, settings.simulation_draws, parts, start
        )
        start = fit.params
    if keep_fits is not None:
        keep_fits.extend(acc.fits)
    y = completed[0]["fighters"].to_numpy()
    observed_total = float(y.sum())
    terms = pd.DataFrame(
        _coefficient_rows(acc, covariates, estimator) + _ame_rows(acc, covariates, estimator)
    )
    ames = terms[(terms["quantity"] == "average marginal effect") & (terms["component"] == "mean")]
    widest = float((ames["conf_high"] - ames["conf_low"]).max())
    predicted_total = float(np.mean(acc.predicted_total))
    usable, reason = usable_for_marginal_effects(
        predicted_total, observed_total, widest, settings.calibration_tolerance
    )
    terms["usable_for_marginal_effects"] = pd.Series(pd.NA, index=terms.index, dtype="boolean")
    terms.loc[terms["quantity"] == "average marginal effect", "usable_for_marginal_effects"] = (
        usable
    )
    m = len(completed)
    n_params = acc.fits[0].n_params
    mean_loglik = float(np.mean(acc.loglik))
    statistics: dict[str, Any] = {
        "specification": specification,
        "estimator": estimator,
        "sample": sample,
        "n": len(y),
        "n_complete_cases": n_complete_cases,
        "imputations": m if sample == "multiple_imputation" else 0,
        "countries_with_fighters": int((y > 0).sum()),
        "observed_total": observed_total,
        "predicted_total": predicted_total,
        "predicted_total_ratio": predicted_total / observed_total,
        "observed_zero_share": float((y == 0).mean()),
        "predicted_zero_share": float(np.mean(acc.predicted_zero_share)),
        "log_likelihood": mean_loglik,
        "aic": 2 * n_params - 2 * mean_loglik,
        "alpha": float(np.mean(acc.alpha)),
        "converged": bool(all(acc.converged)),
        "cv_log_score": float(np.nanmean(cv_scores)) if cv_scores is not None else np.nan,
        "cv_folds": settings.cv_folds if cv_scores is not None else 0,
        "cv_failed_folds": cv_failed,
        "widest_ame_interval": widest,
        "usable_for_marginal_effects": usable,
        "reason": reason,
        "simulation_draws": settings.simulation_draws,
        # Relative Monte Carlo SE of an AME interval's half-width: the within-imputation
        # variance is a mean of m sample variances of S draws, whose relative SE is
        # sqrt(2 / (m (S - 1))); the half-width's is half that (delta method).
        "ame_halfwidth_mc_relative_se": float(
            0.5 * np.sqrt(2 / (m * (settings.simulation_draws - 1)))
        ),
    }
    rootogram = pd.DataFrame(
        {
            "bin": [label for label, _, _ in ROOTOGRAM_BINS],
            "lower_exclusive": [lo for _, lo, _ in ROOTOGRAM_BINS],
            "upper_inclusive": [hi for _, _, hi in ROOTOGRAM_BINS],
            "observed": rootogram_observed(y),
            "expected": np.mean(acc.rootogram, axis=0),
        }
    )
    rootogram["sqrt_observed"] = np.sqrt(rootogram["observed"])
    rootogram["sqrt_expected"] = np.sqrt(rootogram["expected"])
    calibration = pd.DataFrame(
        [
            {
                key: statistics[key]
                for key in (
                    "observed_total",
                    "predicted_total",
                    "predicted_total_ratio",
                    "observed_zero_share",
                    "predicted_zero_share",
                    "widest_ame_interval",
                    "usable_for_marginal_effects",
                    "reason",
                )
            }
        ]
    )
    notes = [
        f"{cm.ESTIMATOR_LABELS[estimator]}; robust (HC0) standard errors",
        "AME intervals from parameter draws"
        + (", pooled over imputations by Rubin's rules" if m > 1 else ""),
    ]
    if not usable:
        notes.append(f"NOT USED FOR MARGINAL EFFECTS: {reason}")
    return ModelResult(
        model=f"{specification}:{estimator}:{sample}",
        family=cm.ESTIMATOR_LABELS[estimator],
        outcome="ICSR Jan-2015 foreign fighters (mid point rule)",
        n=len(y),
        terms=terms,
        scale="see the scale column",
        statistics=statistics,
        diagnostics={"calibration": calibration, "rootogram": rootogram},
        notes=tuple(notes),
    )


# --- predictions for Kosovo and the Western Balkans ----------------------------------------


def leave_one_out_fits(
    estimator: str,
    completed: list[pd.DataFrame],
    covariates: tuple[str, ...],
    scale: dict[str, tuple[float, float]],
    iso3: str,
    full_fits: list[Fit],
) -> list[Fit]:
    """The model refitted without ``iso3`` on every completed data set.

    Each refit starts from the full-sample fit of the same data set and borrows its
    robust covariance (one country of 163 changes it negligibly), so no Hessian is
    evaluated again."""
    fits = []
    for data, full in zip(completed, full_fits, strict=True):
        y, X, offset = design(data.drop(index=iso3), covariates, estimator, scale)
        refit = cm.fit_model(estimator, y, X, offset, start=full.params, covariance=False)
        fits.append(replace(refit, cov=full.cov))
    return fits


def predictive_draws(
    fits: list[Fit],
    rows: list[pd.DataFrame],
    covariates: tuple[str, ...],
    scale: dict[str, tuple[float, float]],
    draws: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Draws of E[y] and of the count for one country (one row per completed data set),
    pooled over data sets: parameter uncertainty, imputation and count noise."""
    means, counts = [], []
    for fit, row in zip(fits, rows, strict=True):
        theta = cm.draw_params(fit, draws, rng)
        _, x_row, offset_row = design(row, covariates, fit.family, scale)
        means.append(cm.predict(fit, x_row, offset_row, theta)[:, 0])
        counts.append(cm.simulate_counts(fit, x_row, offset_row, theta, rng)[:, 0])
    return np.concatenate(means), np.concatenate(counts)


#: The scenario that uses a country's covariates as published (the predictions table's
#: rows and the first row of Kosovo's sensitivity table: the same draws).
AS_PUBLISHED = "survey figure as published"


def draw_stream(settings: Settings, iso3: str, specification: str, scenario: str) -> Any:
    """The random stream of one country's predictive draws under one scenario: seeded
    by the analysis seed and the names, so the same prediction is drawn identically in
    every table that shows it (and adding a scenario moves no other)."""
    key = zlib.crc32(f"{iso3}:{specification}:{scenario}".encode())
    return np.random.default_rng([settings.seed, key])


def _prediction_row(
    observed: float, mean_draws: np.ndarray, count_draws: np.ndarray
) -> dict[str, Any]:
    low, high = np.percentile(count_draws, [2.5, 97.5])
    below = float(np.mean(count_draws < observed))
    at = float(np.mean(count_draws == observed))
    position = "within" if low <= observed <= high else ("above" if observed > high else "below")
    return {
        "observed": observed,
        "predicted_mean": float(np.mean(mean_draws)),
        "predicted_median": float(np.median(count_draws)),
        "prediction_low": float(low),
        "prediction_high": float(high),
        "predictive_percentile": below + at / 2,
        "observed_vs_interval": position,
        "observed_to_predicted": observed / float(np.mean(mean_draws)),
        "prediction_draws": len(count_draws),
    }


def western_balkans(
    frame: pd.DataFrame,
    completed: list[pd.DataFrame],
    estimator: str,
    scale: dict[str, tuple[float, float]],
    settings: Settings,
    full_fits: dict[str, list[Fit]],
    kosovo_fits: dict[str, list[Fit]],
) -> pd.DataFrame:
    """Observed vs predicted (left out of the fit) for the Western Balkan countries,
    and their rank by observed fighters per million inhabitants (1 = most)."""
    per_million = frame["fighters"] / np.exp(frame[LOG_POPULATION]) * 1e6
    rank = per_million.rank(ascending=False, method="min")
    rows = []
    for iso3, name in WESTERN_BALKANS.items():
        base = {"iso3": iso3, "country": name, "countries_ranked": len(frame)}
        if iso3 not in frame.index:
            rows.append(
                {
                    **base,
                    "in_sample": False,
                    "specification": MAIN_SPECIFICATION,
                    "note": "not in the Derpanopoulos & Sonnet sample (no ICSR figure or "
                    "covariates)",
                }
            )
            continue
        specifications = [MAIN_SPECIFICATION] + (["unemployment"] if iso3 == KOSOVO else [])
        for specification in specifications:
            covariates = SPECIFICATIONS[specification]
            fits = (
                kosovo_fits[specification]
                if iso3 == KOSOVO
                else leave_one_out_fits(
                    estimator, completed, covariates, scale, iso3, full_fits[specification]
                )
            )
            means, counts = predictive_draws(
                fits,
                [data.loc[[iso3]] for data in completed],
                covariates,
                scale,
                settings.simulation_draws,
                draw_stream(settings, iso3, specification, AS_PUBLISHED),
            )
            rows.append(
                {
                    **base,
                    "in_sample": True,
                    "specification": specification,
                    "estimator": estimator,
                    "sample": "multiple_imputation",
                    "imputations": len(completed),
                    "fighters_per_million": float(per_million[iso3]),
                    "rank_per_capita": int(rank[iso3]),
                    **_prediction_row(_number(frame.loc[iso3, "fighters"]), means, counts),
                    "note": "left out of the fit; 95% prediction interval of the count",
                }
            )
    return pd.DataFrame(rows)


def kosovo_sensitivity(
    frame: pd.DataFrame,
    completed: list[pd.DataFrame],
    completed_without_kosovo_labour: list[pd.DataFrame],
    scale: dict[str, tuple[float, float]],
    settings: Settings,
    kosovo_fits: dict[str, list[Fit]],
    alternatives: list[Any] | None = None,
) -> pd.DataFrame:
    """Kosovo's predicted count under other readings of its covariates.

    The fits leave Kosovo out, so each scenario changes only Kosovo's own row: its
    survey figure shifted, its figures replaced by imputations from a chained-equations
    run in which they were set to missing, the Labour Force Survey 2014 figure, its
    fractionalisation from the ECMI composition (``alternatives``:
    :func:`kosovo_study.clean.countries.kosovo_scenario_values`, each with its source
    key), or no labour-market variable at all.  Each scenario has its own random
    stream (:func:`draw_stream`), so the first scenario's draws are those of the
    predictions table."""
    alternatives = alternatives or []
    observed = _number(frame.loc[KOSOVO, "fighters"])
    rows = []
    for specification, variable, shifts in (
        (MAIN_SPECIFICATION, YOUTH, settings.youth_shifts),
        ("unemployment", UNEMPLOYMENT, settings.unemployment_shifts),
    ):
        covariates = SPECIFICATIONS[specification]
        value = _number(frame.loc[KOSOVO, variable])
        scenarios: list[tuple[str, list[pd.DataFrame], float]] = [
            (AS_PUBLISHED, [d.loc[[KOSOVO]] for d in completed], value)
        ]
        for shift in shifts:
            shifted = [d.loc[[KOSOVO]].assign(**{variable: value + shift}) for d in completed]
            scenarios.append((f"survey figure {shift:+g} points", shifted, value + shift))
        imputed = [d.loc[[KOSOVO]] for d in completed_without_kosovo_labour]
        scenarios.append(
            (
                "survey figures set aside and imputed",
                imputed,
                float(np.mean([r[variable].iloc[0] for r in imputed])),
            )
        )
        named: list[tuple[str, str, list[pd.DataFrame], float, str]] = [
            (name, variable, kosovo_rows, used, "") for name, kosovo_rows, used in scenarios
        ]
        for alternative in alternatives:
            if alternative.column == variable:
                name = "Labour Force Survey 2014 figure"
            elif alternative.column == FRACTIONALISATION:
                name = "fractionalisation from the ECMI composition"
            else:
                continue
            moved = [
                d.loc[[KOSOVO]].assign(**{alternative.column: alternative.value}) for d in completed
            ]
            named.append(
                (name, alternative.column, moved, alternative.value, alternative.source_key)
            )
        for name, moved_variable, kosovo_rows, used, source_key in named:
            means, counts = predictive_draws(
                kosovo_fits[specification],
                kosovo_rows,
                covariates,
                scale,
                settings.simulation_draws,
                draw_stream(settings, KOSOVO, specification, name),
            )
            rows.append(
                {
                    "specification": specification,
                    "scenario": name,
                    "variable": moved_variable,
                    "value_used": used,
                    "source_key": source_key,
                    **_prediction_row(observed, means, counts),
                }
            )
    without = "no labour-market variable in the model"
    means, counts = predictive_draws(
        kosovo_fits[WITHOUT_LABOUR],
        [d.loc[[KOSOVO]] for d in completed],
        WITHOUT_LABOUR_COVARIATES,
        scale,
        settings.simulation_draws,
        draw_stream(settings, KOSOVO, WITHOUT_LABOUR, without),
    )
    rows.append(
        {
            "specification": WITHOUT_LABOUR,
            "scenario": without,
            "variable": "",
            "value_used": np.nan,
            "source_key": "",
            **_prediction_row(observed, means, counts),
        }
    )
    return pd.DataFrame(rows)


# --- the whole analysis ---------------------------------------------------------------------


@dataclass
class CrossNationalAnalysis:
    """Every cross-national result: model results and the Kosovo/Balkans tables."""

    models: list[ModelResult]
    main_estimator: str
    predictions: pd.DataFrame
    kosovo_sensitivity: pd.DataFrame
    kosovo_covariates: pd.DataFrame
    point_rules: pd.DataFrame
    settings: Settings
    #: Rows of ``crossnational_calibration`` (in-sample and out-of-fold totals).
    calibration: list[dict[str, Any]] = field(default_factory=list)

    def result(self, specification: str, estimator: str, sample: str) -> ModelResult:
        key = f"{specification}:{estimator}:{sample}"
        for model in self.models:
            if model.model == key:
                return model
        raise KosovoStudyError(f"No cross-national model {key!r}.")


def _complete(frame: pd.DataFrame, covariates: tuple[str, ...]) -> pd.DataFrame:
    return frame.dropna(subset=list(covariates))


def choose_estimator(fit_rows: list[dict[str, Any]]) -> str:
    """The estimator with the best cross-validated log score on the main specification
    among those usable for marginal effects (the best overall if none is usable)."""
    main = [r for r in fit_rows if r["specification"] == MAIN_SPECIFICATION]
    ranked = sorted(main, key=lambda r: -r["cv_log_score"])
    usable = [r for r in ranked if r["usable_for_marginal_effects"]]
    return str((usable or ranked)[0]["estimator"])


def kosovo_covariate_table(countries: pd.DataFrame) -> pd.DataFrame:
    """Kosovo's covariate values with the source of each."""
    from kosovo_study.clean.countries import SOURCED_COLUMNS, VARIABLES

    row = countries.set_index("iso3").loc[KOSOVO]
    rows = []
    for column in (*ALL_COVARIATES, "population_2014", "icsr_2015_point"):
        source_column = SOURCED_COLUMNS.get(column)
        source = row[source_column] if source_column else VARIABLES[column][2]
        rows.append(
            {
                "variable": column,
                "value": _number(row[column]) if pd.notna(row[column]) else np.nan,
                "unit": VARIABLES[column][0],
                "source_key": "" if pd.isna(source) else str(source),
                "status": "observed" if pd.notna(row[column]) else "imputed (missing)",
            }
        )
    return pd.DataFrame(rows)


def run_analysis(
    countries: pd.DataFrame,
    settings: Settings | None = None,
    kosovo_alternatives: list[Any] | None = None,
) -> CrossNationalAnalysis:
    """Model choice, calibration, imputation, Kosovo and the Western Balkans
    (``kosovo_alternatives``: Kosovo's scenario values, see :func:`kosovo_sensitivity`)."""
    settings = settings or Settings()
    frame = country_frame(countries, "mid")
    scale = standardisation(frame)
    models: list[ModelResult] = []
    calibration: list[dict[str, Any]] = []
    # 1-3: every estimator on complete cases, with its cross-validated log score.
    for specification, covariates in SPECIFICATIONS.items():
        complete = _complete(frame, covariates)
        for estimator in cm.ESTIMATORS:
            y, X, offset = design(complete, covariates, estimator, scale)
            scores, failed = cross_validated_log_score(
                estimator, y, X, offset, settings.cv_folds, settings.seed
            )
            fits: list[Fit] = []
            models.append(
                fit_specification(
                    specification,
                    covariates,
                    estimator,
                    [complete],
                    scale,
                    settings,
                    "complete_cases",
                    len(complete),
                    scores,
                    failed,
                    parts=("mean", "any", "positive") if estimator == "hurdle_nb2" else ("mean",),
                    keep_fits=fits,
                )
            )
            oof = out_of_fold(estimator, [complete], covariates, scale, settings, fits)
            calibration += calibration_rows(models[-1], oof, settings)
    main_estimator = choose_estimator([dict(m.statistics) for m in models])
    # 4: the main analysis with multiple imputation, for the chosen estimator.
    imputation_columns = [*ALL_COVARIATES, LOG_POPULATION, OUTCOME_LOG]
    completed = _completed(frame, imputation_columns, settings.imputation)
    parts = ("mean", "any", "positive") if main_estimator == "hurdle_nb2" else ("mean",)
    full_fits: dict[str, list[Fit]] = {}
    for specification, covariates in {
        **SPECIFICATIONS,
        WITHOUT_LABOUR: WITHOUT_LABOUR_COVARIATES,
    }.items():
        full_fits[specification] = []
        models.append(
            fit_specification(
                specification,
                covariates,
                main_estimator,
                completed,
                scale,
                settings,
                "multiple_imputation",
                len(_complete(frame, covariates)),
                parts=parts,
                keep_fits=full_fits[specification],
            )
        )
        oof = out_of_fold(
            main_estimator, completed, covariates, scale, settings, full_fits[specification]
        )
        calibration += calibration_rows(models[-1], oof, settings)
    # 5: Kosovo and its neighbours, left out of the fit.
    kosovo_fits = {
        specification: leave_one_out_fits(
            main_estimator,
            completed,
            covariates,
            scale,
            KOSOVO,
            full_fits[specification],
        )
        for specification, covariates in (
            (MAIN_SPECIFICATION, SPECIFICATIONS[MAIN_SPECIFICATION]),
            ("unemployment", SPECIFICATIONS["unemployment"]),
            (WITHOUT_LABOUR, WITHOUT_LABOUR_COVARIATES),
        )
    }
    blanked = frame.copy()
    blanked.loc[KOSOVO, [YOUTH, UNEMPLOYMENT]] = np.nan
    blank_settings = replace(settings.imputation, seed=settings.imputation.seed + 1)
    completed_blank = _completed(blanked, imputation_columns, blank_settings)
    predictions = western_balkans(
        frame, completed, main_estimator, scale, settings, full_fits, kosovo_fits
    )
    sensitivity = kosovo_sensitivity(
        frame, completed, completed_blank, scale, settings, kosovo_fits, kosovo_alternatives
    )
    return CrossNationalAnalysis(
        models=models,
        main_estimator=main_estimator,
        predictions=predictions,
        kosovo_sensitivity=sensitivity,
        kosovo_covariates=kosovo_covariate_table(countries),
        point_rules=point_rule_sensitivity(countries, main_estimator),
        settings=settings,
        calibration=calibration,
    )


def _completed(
    frame: pd.DataFrame, columns: list[str], settings: ImputationSettings
) -> list[pd.DataFrame]:
    # Kosovo's own outcome never informs an imputation: it is predicted out of sample,
    # and its imputed covariates must not move with its count.
    hide = {OUTCOME_LOG: [KOSOVO]} if KOSOVO in frame.index and OUTCOME_LOG in columns else None
    imputed = impute(frame[columns], settings, hide=hide)
    return [data.assign(fighters=frame["fighters"]) for data in imputed]


def point_rule_sensitivity(countries: pd.DataFrame, estimator: str) -> pd.DataFrame:
    """AMEs per SD (complete cases) under the low, mid and high point rules."""
    rows = []
    for rule in POINT_RULES:
        frame = country_frame(countries, rule)
        scale = standardisation(frame)
        for specification, covariates in SPECIFICATIONS.items():
            complete = _complete(frame, covariates)
            y, X, offset = design(complete, covariates, estimator, scale)
            fit = cm.fit_model(estimator, y, X, offset)
            no_draws = np.repeat(fit.params[None, :], 2, axis=0)
            points, _ = marginal_effects(fit, X, offset, no_draws)["mean"]
            for name, value in zip(term_names(covariates, estimator)[1:], points, strict=True):
                rows.append(
                    {"model": specification, "term": name, "point_rule": rule, "ame": value}
                )
    table = pd.DataFrame(rows).pivot_table(
        index=["model", "term"], columns="point_rule", values="ame", sort=False
    )
    return table.reset_index()[["model", "term", *POINT_RULES]].assign(estimator=estimator)


# --- unlisted countries as censored (ICSR lists only more than about 5) -------------------

#: The two codings of an unlisted country compared in ``crossnational_censored``.
CENSORED_MODELS = {
    "unlisted_as_zero": "NB2, unlisted countries coded 0 (Derpanopoulos & Sonnet)",
    "unlisted_censored_0_5": "NB2, unlisted countries interval-censored in 0-5",
}


def censored_sensitivity(countries: pd.DataFrame) -> pd.DataFrame:
    """NB2 (log population as a covariate) on complete cases of the youth and total
    unemployment specifications, with unlisted countries coded 0 as everywhere else and
    with their count interval-censored in [0, 5] (the likelihood of an unlisted country
    is P(Y <= 5); :func:`countmodels.fit_censored_nb2`).  Rate ratios per SD with HC0
    intervals; the predicted total is set against the listed countries' total (the
    unlisted countries' 0-5 each are unknown)."""
    from scipy import stats as scipy_stats

    frame = country_frame(countries, "mid")
    listed_all = countries.set_index("iso3")["icsr_2015_listed"].astype(bool)
    scale = standardisation(frame)
    rows = []
    for specification in (MAIN_SPECIFICATION, "unemployment"):
        covariates = SPECIFICATIONS[specification]
        complete = _complete(frame, covariates)
        y, X, offset = design(complete, covariates, "nb2", scale)
        listed = listed_all.reindex(complete.index).to_numpy(dtype=bool)
        names = term_names(covariates, "nb2")
        uncensored = cm.fit_model("nb2", y, X, offset)
        fits = {
            "unlisted_as_zero": (
                uncensored.params,
                uncensored.covariance,
                uncensored.llf,
                uncensored.converged,
            ),
            "unlisted_censored_0_5": cm.fit_censored_nb2(y, X, listed),
        }
        for model, (params, covariance, llf, converged) in fits.items():
            se = np.sqrt(np.diag(covariance))
            predicted = float(np.exp(X @ params[:-1]).sum())
            for j, name in enumerate([*names, "alpha"]):
                is_alpha = name == "alpha"
                exponentiate = not is_alpha and name != "const"
                z = params[j] / se[j]
                low, high = params[j] - Z95 * se[j], params[j] + Z95 * se[j]
                rows.append(
                    {
                        "specification": specification,
                        "model": model,
                        "model_label": CENSORED_MODELS[model],
                        "term": name,
                        "scale": (
                            "NB2 alpha (variance = mu + alpha mu^2)"
                            if is_alpha
                            else ("rate ratio per SD" if exponentiate else "log scale (constant)")
                        ),
                        "estimate": float(np.exp(params[j]) if exponentiate else params[j]),
                        "conf_low": float(np.exp(low) if exponentiate else low),
                        "conf_high": float(np.exp(high) if exponentiate else high),
                        "p_value": (
                            float("nan") if is_alpha else float(2 * scipy_stats.norm.sf(abs(z)))
                        ),
                        "std_error": float(se[j]),
                        "n": len(y),
                        "listed": int(listed.sum()),
                        "unlisted": int((~listed).sum()),
                        "unlisted_upper": float(cm.UNLISTED_UPPER),
                        "log_likelihood": float(llf),
                        "predicted_total": predicted,
                        "listed_total": float(y[listed].sum()),
                        "converged": bool(converged),
                        "synthetic": False,
                    }
                )
    return pd.DataFrame(rows)


# --- designated-charity presence across countries (H4) -------------------------------------

#: The designated-charity measures of :mod:`kosovo_study.clean.designations` (processed
#: table ``designated_charity_measures``) fitted here, with what each measures.
CHARITY = "designated_charity_presence_pre2014"
CHARITY_MEASURES: dict[str, str] = {
    CHARITY: "any designated entity, every class (presence)",
    "designated_gulf_charity_presence_pre2014": "Gulf-linked entities only (presence)",
    "designated_charity_presence_un_pre2014": (
        "UN Al-Qaida list only, listed before 2014 (presence)"
    ),
    "designated_charity_count_pre2014": "number of designated entities (count)",
}
CHARITY_CONTROLS = (LOG_GDP, MUSLIM, FRACTIONALISATION)
#: The processed table of the measures (written by the clean stage).
CHARITY_TABLE = "designated_charity_measures"
#: Kosovo's transcribed covariates (its scenario values are read from it).
KOSOVO_COVARIATES_FILE = "kosovo_country_covariates.csv"
#: (specification, measure, covariates, analysis): the plan's H4 (presence with youth
#: unemployment), the measure without youth unemployment (the plan's "alone": the same
#: controls, no labour-market variable), and the three sensitivities with youth
#: unemployment.
CHARITY_SPECIFICATIONS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("charity_with_youth", CHARITY, (YOUTH, *CHARITY_CONTROLS, CHARITY), "H4"),
    ("charity_without_youth", CHARITY, (*CHARITY_CONTROLS, CHARITY), "without youth unemployment"),
    *(
        (
            f"charity_{short}_with_youth",
            measure,
            (YOUTH, *CHARITY_CONTROLS, measure),
            "sensitivity",
        )
        for short, measure in (
            ("gulf", "designated_gulf_charity_presence_pre2014"),
            ("un", "designated_charity_presence_un_pre2014"),
            ("count", "designated_charity_count_pre2014"),
        )
    ),
)
#: What a charity row's ratio compares (the measures enter unstandardised).
CHARITY_SCALES = {
    "presence": "presence against absence",
    "count": "per designated entity",
}


#: The plan's term for the binary part of the hurdle (being listed by ICSR).
LISTED_BY_ICSR_TERM = "listed_by_icsr"


def _charity_plan_label(plan: Any, measure: str, analysis: str, component: str) -> str:
    """The plan's label: H4 (primary) is the count part of presence with youth
    unemployment; the binary part of any charity model is the plan's secondary
    "listed by ICSR" analysis; the plan lists the measure without youth unemployment,
    and each sensitivity measure, as secondary."""
    if component == "zero_hurdle":
        return str(plan.label(LISTED_BY_ICSR_TERM, "crossnational"))
    if analysis == "H4":
        return str(plan.label(measure, "crossnational"))
    secondary = {
        entry["term"] for entry in plan.body["secondary"] if entry["level"] == "crossnational"
    }
    return "secondary" if measure in secondary else "exploratory"


def charity_analysis(
    frame: pd.DataFrame,
    measures: pd.DataFrame,
    estimator: str,
    settings: Settings,
    plan: Any,
) -> pd.DataFrame:
    """H4 and its sensitivities in the chosen family, multiply imputed as H3.

    The measures (``designated_charity_measures``, one row per country, no missing
    values) enter unstandardised, so a ratio compares presence with absence (or one
    more designated entity); the other covariates are per SD as in H3.  They are
    fully observed predictors in their own chained-equations run (H3's imputations
    are left as they are), with ``settings.imputation.seed + 2``.  Each row also gives
    Kosovo's value and its place among the sample's countries.  Rows: the ratio of
    each part of the model for the measure (the hurdle's count part is H4's estimand).
    Threat to validity: designation follows terrorism links, so this measures
    designated, terror-linked charity presence; undesignated charities score 0."""
    from kosovo_study.models.evidence import CHARITY_LABEL

    charity = measures.set_index("iso3")[list(CHARITY_MEASURES)].reindex(frame.index)
    missing = charity.index[charity.isna().any(axis=1)].tolist()
    if missing:
        raise ValidationError(
            f"designated_charity_measures has no row for {missing}: rerun the clean stage."
        )
    data = frame.join(charity.astype(float))
    scale = {**standardisation(frame), **dict.fromkeys(CHARITY_MEASURES, (0.0, 1.0))}
    columns = [*ALL_COVARIATES, LOG_POPULATION, OUTCOME_LOG, *CHARITY_MEASURES]
    completed = _completed(
        data, columns, replace(settings.imputation, seed=settings.imputation.seed + 2)
    )
    parts = ("mean", "any", "positive") if estimator == "hurdle_nb2" else ("mean",)
    rows = []
    for specification, measure, covariates, analysis in CHARITY_SPECIFICATIONS:
        model = fit_specification(
            specification,
            covariates,
            estimator,
            completed,
            scale,
            settings,
            "multiple_imputation",
            len(_complete(data, covariates)),
            parts=parts,
        )
        values = charity[measure]
        kosovo = _number(values.loc[KOSOVO])
        kind = "count" if "count" in measure else "presence"
        # Ratios only: the AMEs of fit_specification are derivatives (central finite
        # differences), which for a 0/1 indicator are not the change from absence to
        # presence that H4's estimand names.
        terms = model.terms[
            (model.terms["term"] == measure) & (model.terms["quantity"] == "coefficient")
        ]
        for _, term in terms.iterrows():
            rows.append(
                {
                    "specification": specification,
                    "analysis": analysis,
                    "measure": measure,
                    "measure_label": CHARITY_MEASURES[measure],
                    "covariates": " + ".join(covariates),
                    "estimator": estimator,
                    "sample": "multiple_imputation",
                    "component": term["component"],
                    "quantity": term["quantity"],
                    "scale": (
                        "odds ratio of being listed by ICSR (more than about 5)"
                        if term["component"] == "zero_hurdle"
                        else "rate ratio of fighters among listed countries"
                    )
                    + ", "
                    + CHARITY_SCALES[kind],
                    "estimate": term["estimate"],
                    "conf_low": term["conf_low"],
                    "conf_high": term["conf_high"],
                    "p_value": term["p_value"],
                    "std_error": term["std_error"],
                    "fraction_missing_information": term["fraction_missing_information"],
                    "n": model.n,
                    "n_complete_cases": model.statistics["n_complete_cases"],
                    "imputations": model.statistics["imputations"],
                    "predicted_total_ratio": model.statistics["predicted_total_ratio"],
                    "usable_for_marginal_effects": model.statistics["usable_for_marginal_effects"],
                    "countries": len(values),
                    "countries_with_presence": int((values > 0).sum()),
                    "kosovo_value": kosovo,
                    "kosovo_share_below": float((values < kosovo).mean()),
                    "kosovo_share_equal": float((values == kosovo).mean()),
                    "plan_label": _charity_plan_label(
                        plan, measure, analysis, str(term["component"])
                    ),
                    "data_label": CHARITY_LABEL,
                    "synthetic": False,
                }
            )
    return pd.DataFrame(rows)


# --- Derpanopoulos & Sonnet (2016) rebuilt -------------------------------------------------

#: Column of the D&S imputed file holding their outcome, and columns that are not features
#: (``lnarea`` is in the file but not among the features of their Table A).
DS2016_OUTCOME = "icsrMean"
DS2016_NOT_FEATURES = ("ctryCode", "ctryName", DS2016_OUTCOME, "lnarea")
DS2016_POPULATION = "lnpop"
#: The processed table of their imputed features (:mod:`kosovo_study.clean.ds2016`).
DS2016_TABLE = "ds2016_features"


def ds2016_frame(features: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Their imputed data (the processed ``ds2016_features`` table, checked by its schema
    in the clean stage) as an analysis frame (index ISO-like code) and feature names."""
    columns = [c for c in features.columns if c not in DS2016_NOT_FEATURES]
    frame = features.set_index("ctryCode")[columns].astype(float)
    frame = frame.rename(columns={DS2016_POPULATION: LOG_POPULATION})
    frame["fighters"] = features.set_index("ctryCode")[DS2016_OUTCOME].astype(float)
    covariates = tuple(c for c in frame.columns if c not in ("fighters", LOG_POPULATION))
    return frame, covariates


def rebuild_ds2016(
    features: pd.DataFrame, settings: Settings
) -> tuple[ModelResult, list[dict[str, Any]]]:
    """Derpanopoulos & Sonnet (2016) rebuilt (model ``ds2016_rebuild``): their own
    imputed file (163 countries, their imputation), their outcome (``icsrMean``: ICSR
    Jan 2015 midpoints, Israel's figure shared with the Palestinian territories) and all
    23 of their features, standardised.  Their estimator is a kernel-regularised hurdle NB
    (KRHNB) that has no Python implementation; the closest parametric specification the
    data allow is the logit/zero-truncated NB2 hurdle with the same features entering
    linearly.  AMEs per SD of the three components they report (both components, the
    hurdle P(any), the count component) stand beside theirs.  Returned with its rows of
    the calibration table (in sample and out of fold).
    """
    frame, covariates = ds2016_frame(features)
    scale = standardisation(frame, (*covariates, LOG_POPULATION))
    fits: list[Fit] = []
    model = fit_specification(
        comparison.REBUILD_MODEL,
        covariates,
        "hurdle_nb2",
        [frame],
        scale,
        settings,
        "ds2016_imputed",
        len(frame),
        parts=("mean", "any", "positive"),
        keep_fits=fits,
    )
    oof = out_of_fold("hurdle_nb2", [frame], covariates, scale, settings, fits)
    return model, calibration_rows(model, oof, settings)


# --- the stage's tables ---------------------------------------------------------------------


def _split_model_id(table: pd.DataFrame) -> pd.DataFrame:
    parts = table["model"].str.split(":", expand=True)
    return table.assign(specification=parts[0], estimator=parts[1], sample=parts[2])


def analyse(
    countries: pd.DataFrame,
    published: pd.DataFrame,
    ds2016_features: pd.DataFrame,
    term_map: pd.DataFrame,
    *,
    settings: Settings | None = None,
    charity: pd.DataFrame | None = None,
    plan: Any = None,
    kosovo_alternatives: list[Any] | None = None,
) -> dict[str, pd.DataFrame]:
    """Every cross-national result table, validated (see :mod:`.schemas`); with
    ``charity`` (the ``designated_charity_measures`` table) and the analysis ``plan``,
    also the designated-charity models (``crossnational_charity``)."""
    from kosovo_study.models.crossnational.schemas import SCHEMAS
    from kosovo_study.models.results import stack_tidy
    from kosovo_study.tablefile import check

    settings = settings or Settings()
    analysis = run_analysis(countries, settings, kosovo_alternatives)
    rebuild, rebuild_calibration = rebuild_ds2016(ds2016_features, settings)
    models = [*analysis.models, rebuild]
    estimates = _split_model_id(stack_tidy(models, extra=True))
    estimates["usable_for_marginal_effects"] = estimates["usable_for_marginal_effects"].astype(
        "boolean"
    )
    fit = pd.DataFrame([{"model": m.model, **m.statistics} for m in models])
    fit["main_estimator"] = (fit["estimator"] == analysis.main_estimator) & (
        fit["sample"] == "multiple_imputation"
    )
    rootogram = pd.concat(
        [m.diagnostics["rootogram"].assign(model=m.model) for m in models], ignore_index=True
    )
    tables = {
        "crossnational_estimates": estimates,
        "crossnational_fit": fit,
        "crossnational_rootogram": rootogram,
        "crossnational_predictions": analysis.predictions,
        "crossnational_kosovo_sensitivity": analysis.kosovo_sensitivity,
        "crossnational_kosovo_covariates": analysis.kosovo_covariates,
        "crossnational_comparison": comparison.compare(
            published, term_map, estimates, analysis.main_estimator
        ),
        "crossnational_sensitivity": analysis.point_rules,
        "crossnational_calibration": pd.DataFrame([*analysis.calibration, *rebuild_calibration]),
        "crossnational_censored": censored_sensitivity(countries),
    }
    if charity is not None:
        from kosovo_study.plan import load_plan

        tables["crossnational_charity"] = charity_analysis(
            country_frame(countries, "mid"),
            charity,
            analysis.main_estimator,
            settings,
            plan if plan is not None else load_plan(),
        )
    validated = {}
    for name, table in tables.items():
        schema = SCHEMAS[name]
        ordered = table.reindex(columns=list(schema.columns))
        validated[name] = check(ordered, schema, file=f"data/processed/results/{name}")
    return validated


def stage_settings(simulation_draws: int) -> Settings:
    """The stage's settings: the defaults, with the stage's number of draws (at least
    20, so that a quick test run still gives an interval)."""
    return Settings(simulation_draws=max(int(simulation_draws), 20))


def settings_from_config(config: Any) -> Settings:
    """The analysis's settings from a :class:`kosovo_study.config.StudyConfig` (the
    models stage's call): every size and seed comes from the config (draws at least
    20); :class:`Settings` keeps only the rule's tolerance and Kosovo's shift grid."""
    from kosovo_study.models.crossnational.imputation import MIN_IMPUTATIONS

    for name in ("crossnational_oof_folds", "crossnational_cv_folds"):
        if getattr(config, name) < 2:
            raise KosovoStudyError(
                f"{name} = {getattr(config, name)}: cross-validation needs at least 2 folds."
            )
    if config.crossnational_imputations < MIN_IMPUTATIONS:
        raise KosovoStudyError(
            f"crossnational_imputations = {config.crossnational_imputations}: the main "
            f"analysis uses at least {MIN_IMPUTATIONS} imputations (Rubin 1987; van Buuren "
            "2018, sec. 2.8)."
        )
    return replace(
        stage_settings(config.crossnational_simulation_draws),
        seed=config.crossnational_seed,
        cv_folds=config.crossnational_cv_folds,
        oof_folds=config.crossnational_oof_folds,
        oof_replicates=config.crossnational_oof_replicates,
        oof_seed=config.crossnational_oof_seed,
        imputation=ImputationSettings(
            imputations=config.crossnational_imputations,
            burn_in=config.crossnational_imputation_burn_in,
            skip=config.crossnational_imputation_skip,
            k_pmm=config.crossnational_imputation_donors,
            seed=config.crossnational_imputation_seed,
        ),
    )


def analyse_from(
    paths: Any, countries: pd.DataFrame, published: pd.DataFrame, settings: Settings
) -> dict[str, pd.DataFrame]:
    """:func:`analyse` with the other inputs read from the project (the stage's call)."""
    from kosovo_study.clean.countries import kosovo_scenario_values
    from kosovo_study.plan import load_plan

    inputs = stage_inputs(paths)
    return analyse(
        countries,
        published,
        inputs["ds2016_features"],
        inputs["term_map"],
        settings=settings,
        charity=inputs["charity"],
        plan=load_plan(paths=paths),
        kosovo_alternatives=kosovo_scenario_values(paths.transcribed / KOSOVO_COVARIATES_FILE),
    )


def extra_input_files(paths: Any) -> list[Any]:
    """Files the analysis reads besides the models stage's listed inputs (their hashes
    go into the results metadata)."""
    return [
        paths.processed / f"{DS2016_TABLE}.parquet",
        paths.transcribed / comparison.TERM_MAP_FILE,
        paths.processed / f"{CHARITY_TABLE}.parquet",
        paths.transcribed / KOSOVO_COVARIATES_FILE,
    ]


def stage_inputs(paths: Any) -> dict[str, pd.DataFrame]:
    """The inputs :func:`analyse` needs besides the countries table and published
    results: the D&S imputed features (processed by the clean stage), the
    published-term map and the designated-charity measures."""
    return {
        "ds2016_features": pd.read_parquet(paths.processed / f"{DS2016_TABLE}.parquet"),
        "term_map": comparison.read_term_map(paths.transcribed / comparison.TERM_MAP_FILE),
        "charity": pd.read_parquet(paths.processed / f"{CHARITY_TABLE}.parquet"),
    }


def primary_rows(results: dict[str, pd.DataFrame]) -> pd.DataFrame | None:
    """The cross-national estimates with H4's rows stacked on: the ``H4`` rows of
    ``crossnational_charity`` (the charity measure in the H3 model, with youth
    unemployment) under the plan's term and the main specification's name, so one
    selector finds each primary hypothesis's test."""
    estimates = results.get("crossnational_estimates")
    charity = results.get("crossnational_charity")
    if estimates is None or charity is None or charity.empty:
        return estimates
    h4 = charity[charity["analysis"] == "H4"].assign(term=CHARITY, specification=MAIN_SPECIFICATION)
    return pd.concat([estimates, h4[[c for c in h4.columns if c in estimates.columns]]])
