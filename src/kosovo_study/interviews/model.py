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
from scipy import stats
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

from kosovo_study.config import StudyConfig
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
    "p_crv1",
    "cr2_se",
    "cr2_df",
    "or_low_cr2",
    "or_high_cr2",
    "p_cr2",
    "p_wild_bootstrap",
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


def _estimate(
    respondents: pd.DataFrame, draws: int, seed: int
) -> tuple[pd.DataFrame, int, int, int]:
    """(terms, N, respondents dropped, clusters) of the fitted logit: CRV1 (statsmodels'
    cluster covariance), CR2 with Bell-McCaffrey df, and the score wild cluster bootstrap
    p-value (Webb weights, ``draws``, ``seed``; the null imposed) of each term but the
    constant."""
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
    y, design_matrix = data["travelled"].to_numpy(float), X.to_numpy(float)
    mu = np.asarray(result.predict(X), dtype=float)
    rng = np.random.default_rng(seed)
    few = []
    for k, term in enumerate(params.index):
        variance, df = cr2(design_matrix, y - mu, mu * (1 - mu), groups, k)
        wild = np.nan
        if term in TERMS:
            wild = score_bootstrap_p(y, design_matrix, groups, k, draws, rng, "webb")
        few.append((np.sqrt(variance), df, wild))
    cr2_se, cr2_df, wild_p = (np.array(column) for column in zip(*few, strict=True))
    critical = stats.t.ppf(0.975, cr2_df)
    terms = pd.DataFrame(
        {
            "term": params.index,
            "estimate": np.exp(params.to_numpy()),
            "conf_low": np.exp((params - Z95 * se).to_numpy()),
            "conf_high": np.exp((params + Z95 * se).to_numpy()),
            "p_value": result.pvalues.to_numpy(),
            "coef": params.to_numpy(),
            "cluster_se": se.to_numpy(),
            "cr2_se": cr2_se,
            "cr2_df": cr2_df,
            "or_low_cr2": np.exp(params.to_numpy() - critical * cr2_se),
            "or_high_cr2": np.exp(params.to_numpy() + critical * cr2_se),
            "p_cr2": 2 * stats.t.sf(np.abs(params.to_numpy()) / cr2_se, cr2_df),
            "p_wild_bootstrap": wild_p,
        }
    )
    return terms, int(result.nobs), dropped, clusters


def fit(
    respondents: pd.DataFrame,
    synthetic: bool,
    bootstrap_draws: int = StudyConfig.interview_bootstrap_draws,
    seed: int = StudyConfig.interview_bootstrap_seed,
) -> ModelResult:
    """Odds ratios with 95% intervals (CRV1, clustered by municipality), the few-cluster
    alternatives beside them (CR2 with Bell-McCaffrey df; the score wild cluster
    bootstrap's p), or a result without terms whose ``status`` says why the model is not
    computable."""
    try:
        terms, n, dropped, clusters = _estimate(respondents, bootstrap_draws, seed)
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
            "p_crv1": terms["p_value"],
            **{name: terms[name] for name in COLUMNS[7:13]},
            "n": result.n,
            "n_dropped": statistics["n_dropped"],
            "clusters": statistics["clusters"],
        }
    )
    table["synthetic"] = result.synthetic
    table["status"] = "computed"
    return table.reindex(columns=COLUMNS)


# --- few-cluster inference (issue 20, item 5) ---------------------------------------
# CRV1 over-rejects with few clusters (Cameron & Miller 2015, sec. VI).  Two
# alternatives beside it: CR2 with Bell-McCaffrey degrees of freedom (Bell & McCaffrey
# 2002; Imbens & Kolesar 2016; Pustejovsky & Tipton 2018 for GLMs), and the score wild
# cluster bootstrap with the null imposed (Kline & Santos 2012).  No Python library does
# either for a logit (wildboottest and pyfixest's wild bootstrap are for OLS only).


def cr2(
    X: np.ndarray, residuals: np.ndarray, weights: np.ndarray, clusters: np.ndarray, term: int
) -> tuple[float, float]:
    """(CR2 variance, Bell-McCaffrey degrees of freedom) of coefficient ``term``.

    A GLM at its estimate: ``X`` (n, p), ``residuals`` y - mu, ``weights`` the working
    weights (logit: p (1 - p); OLS: 1), ``clusters`` (n,) labels.  With X~ = W^1/2 X and
    the Pearson residuals e~ = W^-1/2 (y - mu), the cluster blocks H_gg of the hat matrix
    of X~ are adjusted by A_g = (I - H_gg)^-1/2 (the bias-reduced linearization): the
    variance is sum_g (a_g' e~_g)^2 with a_g = A_g X~_g (X~'X~)^-1 c, and the degrees
    of freedom (tr G)^2 / tr(G^2) with G_gh = a_g' (I - H)_gh a_h (working independence).
    """
    root = np.sqrt(weights)
    Xw = X * root[:, None]
    pearson = residuals / root
    bread = np.linalg.inv(Xw.T @ Xw)
    hat = Xw @ bread @ Xw.T
    labels = np.unique(clusters)
    members = [np.flatnonzero(clusters == g) for g in labels]
    a = []
    for rows in members:
        values, vectors = np.linalg.eigh(np.eye(len(rows)) - hat[np.ix_(rows, rows)])
        adjust = vectors @ np.diag(1 / np.sqrt(np.clip(values, 1e-12, None))) @ vectors.T
        a.append(adjust @ Xw[rows] @ bread[:, term])
    variance = float(sum((ag @ pearson[rows]) ** 2 for ag, rows in zip(a, members, strict=True)))
    residual_maker = np.eye(len(X)) - hat
    gram = np.array(
        [
            [ag @ residual_maker[np.ix_(rg, rh)] @ ah for ah, rh in zip(a, members, strict=True)]
            for ag, rg in zip(a, members, strict=True)
        ]
    )
    return variance, float(np.trace(gram) ** 2 / np.sum(gram * gram))


def _logit(y: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Maximum-likelihood logit coefficients (statsmodels ``Logit``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(sm.Logit(y, X).fit(disp=0, maxiter=100).params)


def webb_weights(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Webb's (2014) six-point weights: +-sqrt(1/2), +-1, +-sqrt(3/2), equally likely
    (mean 0, variance 1); many more distinct draws than Rademacher's 2**G at small G."""
    points = np.sqrt(np.array([0.5, 1.0, 1.5]))
    return rng.choice(np.concatenate([-points, points]), size=size)


def score_bootstrap_p(
    y: np.ndarray,
    X: np.ndarray,
    clusters: np.ndarray,
    term: int,
    draws: int,
    rng: np.random.Generator,
    weights: str = "rademacher",
) -> float:
    """Score wild cluster bootstrap p-value of coefficient ``term`` = 0 (Kline & Santos
    2012), the null imposed: the logit is fitted without ``term``; each cluster's score
    at that restricted estimate, projected on ``term`` through the inverse information
    (a_g = e_k' H^-1 S_g), is multiplied by a cluster weight v_g.  The statistic is the
    studentized sum, sum a_g / sqrt(sum a_g^2), against sum v_g a_g / sqrt(sum v_g^2
    a_g^2).  Rademacher weights are enumerated exactly when 2**G <= ``draws``."""
    others = [j for j in range(X.shape[1]) if j != term]
    restricted = np.zeros(X.shape[1])
    restricted[others] = _logit(y, X[:, others])
    mu = 1 / (1 + np.exp(-X @ restricted))
    information = X.T @ (X * (mu * (1 - mu))[:, None])
    projection = np.linalg.solve(information, np.eye(X.shape[1])[term])
    labels, index = np.unique(clusters, return_inverse=True)
    scores = np.zeros((len(labels), X.shape[1]))
    np.add.at(scores, index, X * (y - mu)[:, None])
    a = scores @ projection
    observed = abs(a.sum()) / np.sqrt(np.sum(a * a))
    if weights == "rademacher" and 2 ** len(labels) <= draws:
        grid = np.array(np.meshgrid(*[[-1.0, 1.0]] * len(labels))).reshape(len(labels), -1).T
    elif weights == "rademacher":
        grid = rng.choice([-1.0, 1.0], size=(draws, len(labels)))
    else:
        grid = webb_weights(rng, (draws, len(labels)))
    perturbed = grid * a
    statistics = np.abs(perturbed.sum(1)) / np.sqrt(np.sum(perturbed * perturbed, axis=1))
    return float(np.mean(statistics >= observed - 1e-12))


def few_cluster_size(
    clusters: tuple[int, ...] = (8, 16, 38),
    simulations: int = 500,
    per_cluster: int = 20,
    draws: int = 399,
    seed: int = 20,
) -> pd.DataFrame:
    """Rejection rates at 5% under the null of CRV1, CR2 (Bell-McCaffrey df) and the
    score wild cluster bootstrap (Rademacher, Webb), with their Monte Carlo SE.

    The design: ``per_cluster`` respondents in each of G municipalities; the tested
    binary regressor is assigned by municipality with probability 0.5 plus a
    respondent-level indicator, and travel follows a logit with a municipal random
    intercept (SD 1) and no effect of the regressor: the intra-cluster correlation of
    both regressor and outcome is what makes CRV1 over-reject at small G."""
    rng = np.random.default_rng(seed)
    rows = []
    for G in clusters:
        rejected = {"CRV1": 0, "CR2 (Bell-McCaffrey)": 0, "score bootstrap (Rademacher)": 0}
        rejected["score bootstrap (Webb)"] = 0
        done = 0
        while done < simulations:
            cluster = np.repeat(np.arange(G), per_cluster)
            treated = (rng.random(G) < 0.5)[cluster].astype(float)
            other = rng.random(G * per_cluster) < 0.4
            eta = -0.5 + rng.normal(0, 1, G)[cluster] + 0.5 * other
            y = (rng.random(G * per_cluster) < 1 / (1 + np.exp(-eta))).astype(float)
            if treated.min() == treated.max() or y.min() == y.max():
                continue  # no variation: the model is not computable
            X = np.column_stack([np.ones_like(y), treated, other])
            beta = _logit(y, X)
            mu = 1 / (1 + np.exp(-X @ beta))
            bread = np.linalg.inv(X.T @ (X * (mu * (1 - mu))[:, None]))
            scores = np.zeros((G, 3))
            np.add.at(scores, cluster, X * (y - mu)[:, None])
            n = len(y)
            crv1 = (bread @ scores.T @ scores @ bread)[1, 1] * G / (G - 1) * (n - 1) / (n - 3)
            rejected["CRV1"] += abs(beta[1]) / np.sqrt(crv1) > stats.norm.ppf(0.975)
            variance, df = cr2(X, y - mu, mu * (1 - mu), cluster, 1)
            rejected["CR2 (Bell-McCaffrey)"] += abs(beta[1]) / np.sqrt(variance) > stats.t.ppf(
                0.975, df
            )
            for name, kind in (("Rademacher", "rademacher"), ("Webb", "webb")):
                p = score_bootstrap_p(y, X, cluster, 1, draws, rng, kind)
                rejected[f"score bootstrap ({name})"] += p <= 0.05
            done += 1
        for procedure, count in rejected.items():
            rate = count / simulations
            rows.append(
                {
                    "clusters": G,
                    "procedure": procedure,
                    "size": rate,
                    "mc_se": float(np.sqrt(rate * (1 - rate) / simulations)),
                    "simulations": simulations,
                }
            )
    return pd.DataFrame(rows)
