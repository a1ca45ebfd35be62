"""Interviewee-level model: logistic regression of travel on unemployment, charity contact,
identity-producer contact and age, with standard errors clustered by municipality.

Municipalities are clustered on the register's ``municipality_id`` (the importer maps
every label through :func:`kosovo_study.municipalities.normalise_municipality`), so
"Prishtinë" and "Pristina" are one cluster.  Respondents with a missing value in any
model variable are left out (complete cases) and counted in ``n_dropped``.

:func:`fit` returns a :class:`~kosovo_study.results.ModelResult` like every other
model (odds ratios with their 95% intervals; ``tidy()``, ``summary()``); :func:`table`
lays it out as ``interview_model.csv``.  When the data cannot support the model (a
required attribute is absent, too few respondents or clusters, an outcome or predictor
without variation, perfect separation) the result has no terms and its ``status`` says
"not computable (reason)" instead of stale or meaningless estimates.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

from kosovo_study.results import Z95, ModelResult

TERMS = ("unemployed", "charity_contact", "producer_contact", "young")
#: Attributes the model needs (values validated against the codebook by the importer).
REQUIRED = ("travelled", "employment_status", "age_band", "municipality_id")
#: Smallest sample and number of clusters for which the estimates are reported.  With
#: fewer than 10 clusters, cluster-robust standard errors are badly biased downwards
#: (Cameron & Miller 2015, J. Human Resources 50(2), section VI); 10 events per
#: parameter is the usual floor for logistic regression (Peduzzi et al. 1996).
MIN_CLUSTERS = 10
MIN_EVENTS_PER_TERM = 10
MODEL = "interviewee_logit"
#: Columns of ``interview_model.csv`` (:func:`table`).
COLUMNS = [
    "term",
    "coef",
    "cluster_se",
    "odds_ratio",
    "or_low",
    "or_high",
    "n",
    "n_dropped",
    "clusters",
    "synthetic",
    "status",
]


class NotComputable(Exception):
    """The model cannot be fitted on these data; the message is the reason."""


def design(respondents: pd.DataFrame) -> pd.DataFrame:
    """0/1 predictors from the respondent table (attributes and code presence)."""
    charity = respondents.filter(like="has_charity").sum(axis=1) > 0
    producer = respondents.filter(like="has_producer").sum(axis=1) > 0

    def indicator(values: pd.Series, true: set[str]) -> pd.Series:
        # missing stays missing (dropped later), never 0
        return values.isin(true).astype(float).where(values.notna())

    return pd.DataFrame(
        {
            "travelled": indicator(respondents["travelled"], {"yes"}),
            "unemployed": indicator(respondents["employment_status"], {"unemployed"}),
            "charity_contact": charity.astype(float),
            "producer_contact": producer.astype(float),
            "young": indicator(respondents["age_band"], {"15-19", "20-24", "25-29"}),
            "municipality_id": respondents["municipality_id"],
        }
    )


def _estimate(respondents: pd.DataFrame) -> tuple[pd.DataFrame, int, int, int]:
    """(terms, N, respondents dropped, clusters) of the fitted logit."""
    missing = [c for c in REQUIRED if c not in respondents.columns]
    if missing:
        named = [c.removesuffix("_id") for c in missing]  # municipality_id comes from municipality
        raise NotComputable(f"the export has no respondent attribute {', '.join(named)}")
    full = design(respondents)
    data = full.dropna()
    dropped = len(full) - len(data)
    events = int(min(data["travelled"].sum(), len(data) - data["travelled"].sum()))
    clusters = int(data["municipality_id"].nunique())
    if events < MIN_EVENTS_PER_TERM * len(TERMS):
        raise NotComputable(
            f"{events} respondents in the rarer outcome group; at least "
            f"{MIN_EVENTS_PER_TERM * len(TERMS)} are needed"
        )
    if clusters < MIN_CLUSTERS:
        raise NotComputable(f"{clusters} municipalities; at least {MIN_CLUSTERS} are needed")
    constant = [t for t in TERMS if data[t].nunique() < 2]
    if constant:
        raise NotComputable(f"no variation in {', '.join(constant)}")
    groups = pd.factorize(data["municipality_id"])[0]
    X = sm.add_constant(data[list(TERMS)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("error", PerfectSeparationWarning)
        try:
            result = sm.Logit(data["travelled"], X).fit(
                disp=0, cov_type="cluster", cov_kwds={"groups": groups}
            )
        except (ConvergenceWarning, PerfectSeparationWarning, np.linalg.LinAlgError) as error:
            raise NotComputable(f"the fit failed ({type(error).__name__})") from None
    params, se = result.params, result.bse
    terms = pd.DataFrame(
        {
            "term": params.index,
            "estimate": np.exp(params.to_numpy()),
            "conf_low": np.exp((params - Z95 * se).to_numpy()),
            "conf_high": np.exp((params + Z95 * se).to_numpy()),
            "p_value": result.pvalues.to_numpy(),
            "coef": params.to_numpy(),
            "cluster_se": se.to_numpy(),
        }
    )
    return terms, int(result.nobs), dropped, clusters


def fit(respondents: pd.DataFrame, synthetic: bool) -> ModelResult:
    """Odds ratios with 95% intervals (CRV1, clustered by municipality), or a result
    without terms whose ``status`` says why the model is not computable."""
    try:
        terms, n, dropped, clusters = _estimate(respondents)
        status = "computed"
    except NotComputable as reason:
        terms = pd.DataFrame(columns=["term", "estimate", "conf_low", "conf_high", "p_value"])
        n, dropped, clusters, status = len(respondents), 0, 0, f"not computable ({reason})"
    return ModelResult(
        model=MODEL,
        family="logit",
        outcome="travelled",
        n=n,
        terms=terms,
        scale="odds ratio",
        synthetic=synthetic,
        statistics={"n_dropped": dropped, "clusters": clusters, "status": status},
    )


def table(result: ModelResult) -> pd.DataFrame:
    """``result`` as ``interview_model.csv``: one row per term (log-odds coefficient,
    cluster-robust SE, odds ratio and interval, N, dropped, clusters), or one row saying
    why the model is not computable."""
    statistics = result.statistics
    if statistics["status"] != "computed":
        row = {"term": "", "n": result.n, "n_dropped": 0, "clusters": 0}
        table = pd.DataFrame(
            [{**row, "synthetic": result.synthetic, "status": statistics["status"]}]
        )
        return table.reindex(columns=COLUMNS)
    terms = result.terms
    table = pd.DataFrame(
        {
            "term": terms["term"],
            "coef": terms["coef"],
            "cluster_se": terms["cluster_se"],
            "odds_ratio": terms["estimate"],
            "or_low": terms["conf_low"],
            "or_high": terms["conf_high"],
            "n": result.n,
            "n_dropped": statistics["n_dropped"],
            "clusters": statistics["clusters"],
        }
    )
    table["synthetic"] = result.synthetic
    table["status"] = "computed"
    return table.reindex(columns=COLUMNS)
