"""Municipal count models: does recruitment per inhabitant rise with unemployment concern
and Gulf-charity presence?  Poisson and NB2 with a log-population offset, with
small-sample inference.

Everything here takes a :class:`~kosovo_study.models.design.Design` and a count vector
and returns tidy tables (one row per model-term or per replicate); :func:`analyse`
runs the whole municipal analysis and :func:`model_results` returns the fitted
models as :class:`~kosovo_study.models.results.ModelResult` objects.  Asymptotic
p-values are reported but are not trusted alone with about 34 units:

* randomization (permutation) inference (:mod:`kosovo_study.models.inference`): the
  covariate of interest is residualised on the model's other covariates (not on the
  log-population offset), its residuals are permuted, the NB2 model is refitted with
  alpha re-estimated, and the statistic is the robust z (studentized).  Exact
  enumeration when the residual has at most 10^5 arrangements.  The test is inverted
  into a Fisher interval of the rate ratio (sharp nulls shifted through the offset),
  and the p-values are adjusted over the analysis plan's primary family (Holm and
  Romano-Wolf; :func:`randomization_inference`).  Its size at IRR = 1, the
  intervals' coverage and the family-wise error are checked by seeded simulation in
  the tests;
* a parametric bootstrap of the IRRs: outcomes drawn from the fitted NB2 model and
  refitted; percentile intervals;
* leave-one-municipality-out estimates, and influence diagnostics (Cook's distance
  and DFBETA of the NB2 fit; Cook's distance of the Cameron-Trivedi auxiliary
  regression) so that one overdispersion verdict can name the unit that drives a
  disagreement between tests;
* the design diagnosis (power, coverage, bias, RMSE, type S and M of these tests under
  stated assumptions) is the ``design`` stage's: :mod:`kosovo_study.models.diagnosis`.

Every model refuses to fit on fewer than :data:`~kosovo_study.models.design.MIN_UNITS`
units.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pandera.pandas as pa
import statsmodels.api as sm
from pandera.pandas import Check, Column
from scipy import stats

from kosovo_study import disclosure
from kosovo_study.config import StudyConfig
from kosovo_study.models import engine, inference
from kosovo_study.models.design import BINARY, CHARITY, UNEMPLOYMENT, Design, require_units
from kosovo_study.models.outcome import Outcome
from kosovo_study.models.results import Z95, Fit, ModelResult, stack_tidy
from kosovo_study.plan import AnalysisPlan
from kosovo_study.tablefile import check

#: The municipal models (both fitted by :func:`fit`).
MODELS = ("poisson", "nb2")
TESTED_TERMS = (UNEMPLOYMENT, CHARITY)
#: Significance level of every test.
LEVEL = 0.05


def fit(design: Design, fighters: np.ndarray, family: str) -> Fit:
    """Fit with the engine (checked against statsmodels in the tests)."""
    require_units(design.n, f"Municipal {family} model")
    result = engine.fit(fighters[None], design.X, design.offset, family=family)
    null = engine.fit(fighters[None], design.X[:, :1], design.offset, family=family)
    params = result.beta[0] if family == "poisson" else np.append(result.beta[0], result.alpha[0])
    return Fit(
        family=family,
        params=params,
        robust_se=result.robust_se[0],
        llf=float(result.llf[0]),
        k=design.X.shape[1],
        n=design.n,
        converged=bool(result.converged[0]),
        llf_null=float(null.llf[0]),
        terms=tuple(design.terms),
    )


def _scale(term: str) -> str:
    return "presence vs none" if term in BINARY else "per SD"


def coefficients(model: str, fitted: Fit, outcome: Outcome) -> pd.DataFrame:
    """One row per term: coefficient, robust SE, z, p, IRR and its 95% interval."""
    z = fitted.beta / fitted.robust_se
    return pd.DataFrame(
        {
            "model": model,
            "family": fitted.family,
            "term": list(fitted.terms),
            "scale": ["" if t == "const" else _scale(t) for t in fitted.terms],
            "coef": fitted.beta,
            "robust_se": fitted.robust_se,
            "z": z,
            "p_value": 2 * stats.norm.sf(np.abs(z)),
            "incidence_rate_ratio": np.exp(fitted.beta),
            "irr_low": np.exp(fitted.beta - Z95 * fitted.robust_se),
            "irr_high": np.exp(fitted.beta + Z95 * fitted.robust_se),
            "outcome_source": outcome.source,
            "synthetic": outcome.synthetic,
        }
    )


def overdispersion(
    design: Design, fighters: np.ndarray, poisson: Fit, nb2: Fit
) -> dict[str, object]:
    """One overdispersion verdict from three statistics, with the unit that drives any
    disagreement.

    * the likelihood-ratio test of alpha = 0 (Poisson within NB2).  alpha = 0 lies on
      the boundary of the parameter space, so the statistic's null distribution is
      the chi-bar-squared 50:50 mixture of chi2(0) and chi2(1) and
      p = 0.5 P(chi2_1 > LR) (Self & Liang 1987; Cameron & Trivedi 2013, sec. 3.4).
      This test decides the verdict;
    * the Cameron & Trivedi (1990) auxiliary regression of ((y - mu)^2 - y) / mu on
      mu (one-sided t test).  OLS on a handful of large auxiliary values, it can be
      driven by a single municipality: the unit whose omission moves the test's t
      statistic most is named, with the test's p-value without it (not its auxiliary
      value or Cook's distance: with the published coefficients either one gives the
      unit's count, see :mod:`kosovo_study.disclosure`);
    * the Pearson dispersion sum((y - mu)^2 / mu) / (n - p) of the Poisson fit (1
      under the Poisson model).
    """
    mu = np.exp(design.offset + design.X @ poisson.beta)
    auxiliary = ((fighters - mu) ** 2 - fighters) / mu
    ols = sm.OLS(auxiliary, mu).fit()
    ct_p = float(stats.t.sf(ols.tvalues[0], ols.df_resid))
    # The unit that drives the test: the one whose omission moves its t statistic most.
    t_without = np.array(
        [
            sm.OLS(auxiliary[np.arange(design.n) != i], mu[np.arange(design.n) != i])
            .fit()
            .tvalues[0]
            for i in range(design.n)
        ]
    )
    top = int(np.argmax(np.abs(t_without - ols.tvalues[0])))
    ct_p_without = float(stats.t.sf(t_without[top], ols.df_resid - 1))
    lr = max(0.0, 2 * (nb2.llf - poisson.llf))
    lr_p = float(0.5 * stats.chi2.sf(lr, 1))
    dispersion = float(np.sum((fighters - mu) ** 2 / mu) / (design.n - design.X.shape[1]))
    overdispersed = lr_p < LEVEL
    agree = (ct_p < LEVEL) == overdispersed
    unit = design.municipality[top]
    verdict = (
        "overdispersed: NB2 preferred (LR test of alpha = 0, chi-bar-squared null)"
        if overdispersed
        else "no evidence of overdispersion (LR test of alpha = 0, chi-bar-squared null)"
    )
    if not agree:
        verdict += (
            f"; the Cameron-Trivedi test disagrees (p = {ct_p:.3g}) because of one unit, "
            f"{unit}; "
            f"without it p = {ct_p_without:.3g}"
        )
    return {
        "cameron_trivedi_coef": float(ols.params[0]),
        "cameron_trivedi_t": float(ols.tvalues[0]),
        "cameron_trivedi_p_one_sided": ct_p,
        "cameron_trivedi_influential_unit": unit,
        "cameron_trivedi_p_without_influential": ct_p_without,
        "lr_statistic": lr,
        "lr_p_value": lr_p,
        "pearson_dispersion": dispersion,
        "overdispersed": overdispersed,
        "overdispersion_tests_agree": agree,
        "overdispersion_verdict": verdict,
    }


def influence(design: Design, fighters: np.ndarray, nb2: Fit, outcome: Outcome) -> pd.DataFrame:
    """Cook's distance and DFBETA (tested terms) of every municipality in the NB2 fit.

    Computed by statsmodels' GLM influence at the estimated alpha (the NB2 estimates
    of beta at fixed alpha equal the joint ML estimates); DFBETA is the change in the
    coefficient, in standard errors, when the unit is left out (one-step
    approximation).  Cook's distance above 4 / n is the usual flag.
    """
    glm = sm.GLM(
        fighters,
        design.X,
        family=sm.families.NegativeBinomial(alpha=max(nb2.alpha, 1e-8)),
        offset=design.offset,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = glm.fit(start_params=nb2.beta, tol=1e-12, maxiter=100)
        summary = fitted.get_influence().summary_frame()
    # No count and no fitted value: with restricted counts either one (the count, or the
    # fitted value beside its residual) would disclose a cell (kosovo_study.disclosure).
    table = pd.DataFrame(
        {
            "municipality_id": design.municipality_id,
            "municipality": design.municipality,
            "cooks_distance": summary["cooks_d"].to_numpy(),
        }
    )
    table["cooks_flag"] = table["cooks_distance"] > 4 / design.n
    for term in TESTED_TERMS:
        table[f"dfbeta_{term}"] = summary[f"dfb_x{design.column(term)}"].to_numpy()
    table["outcome_source"], table["synthetic"] = outcome.source, outcome.synthetic
    return table


def fit_statistics(model: str, fitted: Fit, outcome: Outcome) -> dict[str, object]:
    return {
        "model": model,
        "family": fitted.family,
        "n": fitted.n,
        "log_likelihood": fitted.llf,
        "aic": fitted.aic,
        "pseudo_r2": fitted.pseudo_r2,
        "alpha": fitted.alpha if fitted.family == "nb2" else np.nan,
        "outcome_source": outcome.source,
        "synthetic": outcome.synthetic,
    }


def leave_one_out(design: Design, fighters: np.ndarray, terms: tuple[str, ...]) -> pd.DataFrame:
    """NB2 IRRs with each municipality left out in turn (all refits in one batch)."""
    result = engine.fit(*inference.leave_one_out(fighters, design.X, design.offset), family="nb2")
    table = pd.DataFrame(
        {"municipality_id": design.municipality_id, "left_out": design.municipality}
    )
    for term in terms:
        table[f"irr_{term}"] = np.exp(result.beta[:, design.column(term)])
    table["converged"] = result.converged
    return table


def permutation_test(
    design: Design, fighters: np.ndarray, term: str, permutations: int, seed: int
) -> dict[str, object]:
    """Two-sided randomization p-value of one NB2 coefficient (robust z statistic), with
    Monte Carlo error; exact when the residual has at most ``permutations`` arrangements."""
    rng = np.random.default_rng(seed)
    column = design.column(term)
    _, residuals = inference.residual_split(design.X, column)
    orders, exact = inference.orderings(residuals, permutations, rng, inference.EXACT_LIMIT)
    test = inference.randomization_test(
        "nb2", fighters, design.X, design.offset, column, orders, exact=exact
    )
    return {"term": term, "seed": seed, **test.as_row()}


_P = Column(float, Check.in_range(0, 1))
_RATIO = Column(float, Check.ge(0))
#: ``municipal_randomization``: one row per focal term (:func:`randomization_inference`).
RANDOMIZATION_SCHEMA = pa.DataFrameSchema(
    {
        "term": Column(str, Check.isin(list(TESTED_TERMS)), unique=True),
        "scale": Column(str),
        "family": Column(str, Check.isin(["nb2"])),
        "statistic": Column(str),
        "coef": Column(float),
        "incidence_rate_ratio": _RATIO,
        "observed_z": Column(float),
        "permutation_p_value": _P,
        "monte_carlo_se": Column(float, Check.ge(0)),
        "permutations": Column(int, Check.gt(0)),
        "exact_enumeration": Column(bool),
        # inf when the p-value stays above alpha over the whole search (no bound)
        "fisher_irr_low": _RATIO,
        "fisher_irr_high": _RATIO,
        "fisher_level": Column(float, Check.in_range(0, 1)),
        "fisher_evaluations": Column(int, Check.ge(0)),
        "wald_irr_low": _RATIO,
        "wald_irr_high": _RATIO,
        "hypothesis": Column(str),
        "plan_label": Column(str, Check.isin(["primary", "secondary", "exploratory"])),
        "p_holm": _P,
        "p_romano_wolf": _P,
        "outcome_source": Column(str, Check.isin(["synthetic", "restricted"])),
        "synthetic": Column(bool),
    },
    strict=True,
    ordered=True,
)
#: ``municipal_family_adjustment``: one row per member of the plan's primary family.
FAMILY_SCHEMA = pa.DataFrameSchema(
    {
        "hypothesis": Column(str, unique=True),
        "level": Column(str),
        "term": Column(str),
        "test": Column(str),
        "p_value": Column(float, Check.in_range(0, 1), nullable=True),
        "available": Column(bool),
        "synthetic": Column(bool),
        "p_holm": _P,
        "p_romano_wolf": _P,
        "family": Column(str),
        "members": Column(int, Check.gt(0)),
        "plan_method": Column(str),
        "alpha": Column(float, Check.in_range(0, 1)),
        "outcome_source": Column(str, Check.isin(["synthetic", "restricted", "public"])),
    },
    strict=True,
    ordered=True,
)

#: The cross-national row that answers a primary hypothesis at that level: the count
#: part of the multiply imputed hurdle NB2 model of the main specification (the plan's
#: estimand for H3 and H4).
CROSSNATIONAL_PRIMARY = {
    "specification": "youth_unemployment",
    "estimator": "hurdle_nb2",
    "sample": "multiple_imputation",
    "component": "count",
    "quantity": "coefficient",
}


def crossnational_p_value(estimates: pd.DataFrame | None, term: str) -> float:
    """The plan's cross-national p-value for ``term`` (:data:`CROSSNATIONAL_PRIMARY`), or
    NaN when the cross-national results have no such row (e.g. a term not yet
    estimated).  ``estimates`` may also hold the rows of ``crossnational_charity``
    (its ``H4`` rows, the charity measure in the H3 model), as
    :func:`kosovo_study.models.crossnational.primary_rows` stacks them."""
    if estimates is None or not set(CROSSNATIONAL_PRIMARY) <= set(estimates.columns):
        return np.nan
    rows = estimates[estimates["term"] == term]
    for column, value in CROSSNATIONAL_PRIMARY.items():
        rows = rows[rows[column] == value]
    return float(rows["p_value"].iloc[0]) if len(rows) == 1 else np.nan


def randomization_inference(
    design: Design,
    fighters: np.ndarray,
    outcome: Outcome,
    settings: StudyConfig,
    plan: AnalysisPlan | None = None,
    crossnational_estimates: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The randomization tests of the focal terms with Fisher intervals, and the
    family-wise adjustment over the plan's primary family.

    Returns ``municipal_randomization`` (one row per focal term: studentized
    statistic, randomization p, exact or Monte Carlo with its error, the 95% Fisher
    interval of the rate ratio beside the robust Wald interval, and the adjusted
    p-values) and ``municipal_family_adjustment`` (one row per member of the plan's
    primary family).  Holm needs only the p-values; Romano-Wolf (step-down min-p)
    uses the joint null: the municipal members share their permutation draws (the same
    ordering is one null world for both), and members tested on other data (the
    cross-national Wald tests) enter with independent uniform null p-values (seed
    ``settings.family_seed``).  A member without a p-value (not estimated here) is
    counted with p = 1, so the correction runs over the whole family.  Without a
    ``plan`` the family is the tested municipal terms.
    """
    rows, null_z = [], {}
    for term in TESTED_TERMS:
        column = design.column(term)
        _, residuals = inference.residual_split(design.X, column)
        rng = np.random.default_rng(settings.permutation_seed)
        orders, exact = inference.orderings(
            residuals, settings.permutations, rng, inference.EXACT_LIMIT
        )
        test = inference.randomization_test(
            "nb2", fighters, design.X, design.offset, column, orders, exact=exact
        )
        interval = inference.fisher_interval(
            "nb2", fighters, design.X, design.offset, column, orders, exact, LEVEL
        )
        if exact:  # the joint null of the family needs the shared random orderings
            shared = inference.random_orderings(
                settings.permutations, design.n, np.random.default_rng(settings.permutation_seed)
            )
            null_z[term] = inference.randomization_test(
                "nb2", fighters, design.X, design.offset, column, shared
            ).null_z
        else:
            null_z[term] = test.null_z
        low, high = interval.rate_ratio
        rows.append(
            {
                "term": term,
                "scale": _scale(term),
                "family": "nb2",
                "statistic": "robust (HC0) z of the focal coefficient",
                "coef": test.observed_coef,
                "incidence_rate_ratio": float(np.exp(test.observed_coef)),
                "observed_z": test.observed_z,
                "permutation_p_value": test.p_value,
                "monte_carlo_se": test.monte_carlo_se,
                "permutations": test.draws,
                "exact_enumeration": test.exact,
                "fisher_irr_low": low,
                "fisher_irr_high": high,
                "fisher_level": interval.level,
                "fisher_evaluations": interval.evaluations,
                "wald_irr_low": float(np.exp(test.observed_coef - Z95 * test.observed_se)),
                "wald_irr_high": float(np.exp(test.observed_coef + Z95 * test.observed_se)),
            }
        )
    table = pd.DataFrame(rows)
    family = family_adjustment(table, null_z, outcome, settings, plan, crossnational_estimates)
    municipal = family[family["level"] == "municipal"].set_index("term")
    table["hypothesis"] = table["term"].map(municipal["hypothesis"]).fillna("")
    table["plan_label"] = [
        plan.label(term, "municipal") if plan is not None else "primary" for term in table["term"]
    ]
    table["p_holm"] = table["term"].map(municipal["p_holm"])
    table["p_romano_wolf"] = table["term"].map(municipal["p_romano_wolf"])
    table["outcome_source"], table["synthetic"] = outcome.source, outcome.synthetic
    where = "data/processed/results/"
    return (
        check(table, RANDOMIZATION_SCHEMA, file=where + "municipal_randomization"),
        check(family, FAMILY_SCHEMA, file=where + "municipal_family_adjustment"),
    )


def family_adjustment(
    tests: pd.DataFrame,
    null_z: dict[str, np.ndarray],
    outcome: Outcome,
    settings: StudyConfig,
    plan: AnalysisPlan | None,
    crossnational_estimates: pd.DataFrame | None,
) -> pd.DataFrame:
    """Holm and Romano-Wolf adjusted p-values over the plan's primary family (see
    :func:`randomization_inference`).

    A synthetic outcome never enters a real member's adjustment: the members tested on
    real data are adjusted with every synthetic member counted as not tested (p = 1,
    null draws that are never small), as the verdict table does; the synthetic members'
    own adjusted p-values (labelled synthetic) show the method on the stand-in."""
    p_by_term = dict(zip(tests["term"], tests["permutation_p_value"], strict=True))
    if plan is not None:
        members = [(h["id"], h["level"], h["term"]) for h in plan.body["primary"]]
        method = str(plan.body["multiplicity"]["method"])
    else:
        members = [(f"municipal {t}", "municipal", t) for t in TESTED_TERMS]
        method = "holm"
    draws = settings.permutations
    uniform = np.random.default_rng(settings.family_seed)
    rows, null_p = [], []
    for hypothesis, level, term in members:
        if level == "municipal" and term in null_z:
            p_value = float(p_by_term[term])
            test = "randomization (studentized NB2 z, permuted residualised covariate)"
            observed_z = tests.loc[tests["term"] == term, "observed_z"].to_numpy()
            member_null = inference.draw_p_values(null_z[term][None], observed_z)[0]
            synthetic = outcome.synthetic
        else:
            p_value = (
                crossnational_p_value(crossnational_estimates, term)
                if level == "crossnational"
                else np.nan
            )
            test = (
                "Wald, multiply imputed hurdle NB2 count part (Rubin's rules)"
                if level == "crossnational"
                else "not tested in this stage"
            )
            # a test on other data: independent of the municipal draws, uniform under H0
            member_null = uniform.uniform(size=draws)
            synthetic = False
        rows.append(
            {
                "hypothesis": hypothesis,
                "level": level,
                "term": term,
                "test": test,
                "p_value": p_value,
                "available": bool(np.isfinite(p_value)),
                "synthetic": synthetic,
            }
        )
        null_p.append(member_null)
    family = pd.DataFrame(rows)
    # a member without a p-value counts as p = 1: the family keeps its full size
    counted = family["p_value"].fillna(1.0).to_numpy()
    nulls = np.stack(null_p)
    holm = inference.holm(counted)
    romano_wolf = inference.step_down_min_p(counted, nulls)
    stand_in = family["synthetic"].to_numpy(dtype=bool)
    if stand_in.any():
        real_counted = np.where(stand_in, 1.0, counted)
        real_nulls = np.where(stand_in[:, None], 1.0, nulls)
        holm = np.where(stand_in, holm, inference.holm(real_counted))
        romano_wolf = np.where(
            stand_in, romano_wolf, inference.step_down_min_p(real_counted, real_nulls)
        )
    family["p_holm"] = holm
    family["p_romano_wolf"] = romano_wolf
    family["family"] = "primary hypotheses of the analysis plan" if plan else "focal terms"
    family["members"] = len(family)
    family["plan_method"] = method
    family["alpha"] = plan.alpha if plan is not None else LEVEL
    family["outcome_source"] = [
        outcome.source if level == "municipal" else "public" for level in family["level"]
    ]
    return family


def parametric_bootstrap(design: Design, fitted: Fit, replicates: int, seed: int) -> pd.DataFrame:
    """Percentile 95% intervals of the NB2 IRRs from outcomes drawn from the fitted model."""
    rng = np.random.default_rng(seed)
    mu = np.exp(design.offset + design.X @ fitted.beta)
    r = 1 / max(fitted.alpha, 1e-8)
    draws = rng.negative_binomial(r, r / (r + mu), size=(replicates, design.n)).astype(float)
    refit = engine.fit(draws, design.X, design.offset)
    ok = refit.converged
    irr = np.exp(refit.beta[ok])
    return pd.DataFrame(
        {
            "term": design.terms,
            "bootstrap_irr_low": np.percentile(irr, 2.5, axis=0),
            "bootstrap_irr_high": np.percentile(irr, 97.5, axis=0),
            "bootstrap_replicates": int(ok.sum()),
            "bootstrap_seed": seed,
        }
    )


def confirmed_versus_fitted(
    design: Design, fitted: Fit, municipalities: pd.DataFrame, outcome: Outcome
) -> pd.DataFrame:
    """Published confirmed counts beside the NB2 fitted means: a plausibility check on a
    small sample selected on the outcome (hot spots and 'resilient' contrasts)."""
    mean = np.exp(design.offset + design.X @ fitted.beta)
    fitted_by_id = dict(zip(design.municipality_id, mean, strict=True))
    confirmed = municipalities.dropna(subset=["fighters_confirmed"])
    return pd.DataFrame(
        {
            "municipality_id": confirmed["municipality_id"].to_numpy(),
            "municipality": confirmed["municipality"].to_numpy(),
            "fighters_confirmed": confirmed["fighters_confirmed"].astype(int).to_numpy(),
            "fitted_nb2": [fitted_by_id.get(i, np.nan) for i in confirmed["municipality_id"]],
            "definition": confirmed["fighters_confirmed_definition"].to_numpy(),
            "sources": confirmed["fighters_confirmed_sources"].to_numpy(),
            "note": "confirmed published counts: small sample selected on the outcome",
            "outcome_source": outcome.source,
            "synthetic": outcome.synthetic,
        }
    )


def model_results(
    design: Design, outcome: Outcome, fits: dict[str, Fit], table: pd.DataFrame
) -> list[ModelResult]:
    """The Poisson and NB2 models as result objects (IRRs with robust 95% intervals; the
    NB2 rows also carry the randomization p-value and bootstrap interval)."""
    results = []
    for family in MODELS:
        rows = table[(table["family"] == family) & (table["term"] != "const")]
        terms = pd.DataFrame(
            {
                "term": rows["term"],
                "estimate": rows["incidence_rate_ratio"],
                "conf_low": rows["irr_low"],
                "conf_high": rows["irr_high"],
                "p_value": rows["p_value"],
                "scale": "incidence rate ratio " + rows["scale"],
                "coef": rows["coef"],
                "robust_se": rows["robust_se"],
            }
        )
        for extra in ("permutation_p_value", "bootstrap_irr_low", "bootstrap_irr_high"):
            if extra in rows:
                terms[extra] = rows[extra].to_numpy()
        fitted = fits[family]
        notes = (f"Outcome: {outcome.description}.", *design.notes)
        results.append(
            ModelResult(
                model=f"municipal_{family}",
                family=f"{family}, log population 2011 offset, robust (HC0) intervals",
                outcome="fighters",
                n=fitted.n,
                terms=terms.reset_index(drop=True),
                scale="incidence rate ratio",
                synthetic=outcome.synthetic,
                statistics={
                    "aic": fitted.aic,
                    "log_likelihood": fitted.llf,
                    "pseudo_r2": fitted.pseudo_r2,
                    **({"alpha": fitted.alpha} if family == "nb2" else {}),
                },
                notes=notes,
            )
        )
    return results


def analyse(
    design: Design,
    outcome: Outcome,
    municipalities: pd.DataFrame,
    settings: StudyConfig | None = None,
    plan: AnalysisPlan | None = None,
    crossnational_estimates: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Every municipal result table (the design diagnosis is the ``design`` stage's).
    ``plan`` and ``crossnational_estimates``: the analysis plan whose primary family the
    p-values are adjusted over, and the cross-national results that hold its
    cross-national members (:func:`randomization_inference`)."""
    settings = settings if settings is not None else StudyConfig()
    y = outcome.fighters
    fits = {family: fit(design, y, family) for family in MODELS}
    table = pd.concat(
        [coefficients(family, fits[family], outcome) for family in MODELS], ignore_index=True
    )
    bootstrap = parametric_bootstrap(
        design, fits["nb2"], settings.bootstrap_replicates, settings.bootstrap_seed
    )
    bootstrap.insert(0, "family", "nb2")
    table = table.merge(bootstrap, on=["family", "term"], how="left")
    # the randomization tests (the same as permutation_test's) with intervals and the
    # family-wise adjustment; the coefficient table carries their p-values
    randomization, family = randomization_inference(
        design, y, outcome, settings, plan, crossnational_estimates
    )
    permutation = randomization[
        ["family", "term", "permutation_p_value", "monte_carlo_se", "permutations"]
    ].assign(exact_enumeration=randomization["exact_enumeration"])
    table = table.merge(
        permutation[
            [
                "family",
                "term",
                "permutation_p_value",
                "monte_carlo_se",
                "permutations",
                "exact_enumeration",
            ]
        ],
        on=["family", "term"],
        how="left",
    )
    statistics = pd.DataFrame([fit_statistics(f, fits[f], outcome) for f in MODELS])
    tests = overdispersion(design, y, fits["poisson"], fits["nb2"])
    for name, value in tests.items():
        statistics[name] = pd.Series([value] * len(statistics), dtype=object)
    loo = leave_one_out(design, y, TESTED_TERMS)
    loo["outcome_source"], loo["synthetic"] = outcome.source, outcome.synthetic
    tidy = stack_tidy(model_results(design, outcome, fits, table), extra=True)
    tidy["outcome_source"] = outcome.source
    return {
        "municipal_randomization": randomization,
        "municipal_family_adjustment": family,
        "municipal_coefficients": table,
        "municipal_tidy": tidy,
        "municipal_fit": statistics,
        # rounded for restricted counts, so that no count can be solved from them
        "municipal_influence": disclosure.coarsen_diagnostics(
            influence(design, y, fits["nb2"], outcome), outcome.synthetic
        ),
        "municipal_leave_one_out": disclosure.coarsen_diagnostics(loo, outcome.synthetic),
        "municipal_confirmed_vs_fitted": confirmed_versus_fitted(
            design, fits["nb2"], municipalities, outcome
        ),
    }
