"""Count models of the cross-national outcome (statsmodels' estimators, fitted by the
package's compiled engine, see :func:`fit_model`), and what follows from a fit: predicted means, log predictive densities, count-bin probabilities,
parameter draws and simulated counts.

Estimators (every covariate standardised; log population 2014 is a covariate except
in ``nb2_offset``):

* ``nb2_offset``: NB2 (``statsmodels.discrete.NegativeBinomial``) with log population
  as the offset (rate per person), the package's earlier model;
* ``nb2``: NB2 with log population as a covariate, as Derpanopoulos & Sonnet (2016);
* ``hurdle_nb2``: a logit hurdle for "listed by ICSR (more than about 5)" (``Logit``;
  ICSR listed only countries with more than about 5 fighters, so the binary part
  models being listed, not having any fighters) and a zero-truncated
  NB2 for the count of countries with fighters (``TruncatedLFNegativeBinomialP``,
  ``p=2``).  The two parts have separate parameters, so the joint likelihood is the
  sum of the two and their covariance is block-diagonal (Mullahy 1986; Cameron &
  Trivedi 2013, sec. 4.5).

Standard errors are robust (HC0 sandwich).  NB2's dispersion ``alpha`` is the last
parameter (variance ``mu + alpha mu^2``).  Outcomes may be non-integer (range
midpoints); the log densities use the gamma-function form that statsmodels' NB2
likelihood uses, so they are defined for any non-negative value.
"""

from __future__ import annotations

import numpy as np
import statsmodels.api as sm
from scipy import special, stats
from statsmodels.tools.numdiff import approx_fprime, approx_hess3

from kosovo_study.errors import KosovoStudyError
from kosovo_study.models import engine
from kosovo_study.models.results import Fit

ESTIMATORS = ("nb2_offset", "nb2", "hurdle_nb2")
ESTIMATOR_LABELS = {
    "nb2_offset": "NB2, log population as offset",
    "nb2": "NB2, log population as covariate",
    "hurdle_nb2": "hurdle: logit (listed by ICSR, more than about 5) + zero-truncated NB2 (count)",
}
#: Smallest alpha a parameter draw may take (draws are normal and may cross zero).
MIN_ALPHA = 1e-8


def _pieces(fit: Fit, params: np.ndarray) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """(logit coefficients or None, count coefficients, alpha) from a (S, p) array."""
    k = fit.k
    alpha = np.maximum(params[..., -1], MIN_ALPHA)
    if fit.family == "hurdle_nb2":
        return params[..., :k], params[..., k : 2 * k], alpha
    return None, params[..., :k], alpha


def _zero_probability(mu: np.ndarray, alpha: np.ndarray | float) -> np.ndarray:
    """NB2 P(Y = 0) = (1 + alpha mu)^(-1/alpha)."""
    result: np.ndarray = np.exp(-np.log1p(alpha * mu) / alpha)
    return result


def linear_predictors(
    fit: Fit,
    X: np.ndarray,
    offset: np.ndarray | None = None,
    params: np.ndarray | None = None,
) -> tuple[np.ndarray | None, np.ndarray]:
    """(logit linear predictor or None, count linear predictor incl. any offset) at the
    rows of X, (n,) or (S, n) for (S, p) parameter draws."""
    theta = fit.params if params is None else params
    gamma, beta, _ = _pieces(fit, theta)
    eta = np.einsum("...k,nk->...n", beta, X)
    if fit.uses_offset and offset is not None:
        eta = eta + offset
    zero = None if gamma is None else np.einsum("...k,nk->...n", gamma, X)
    return zero, eta


def parts_from_linear(
    fit: Fit,
    zero: np.ndarray | None,
    eta: np.ndarray,
    params: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """E[y], P(y > 0) and E[y | y > 0] from the linear predictors of
    :func:`linear_predictors` (``params``: the same draws, for alpha)."""
    theta = fit.params if params is None else params
    _, _, alpha = _pieces(fit, theta)
    alpha_b = alpha[..., None] if np.ndim(alpha) else alpha
    mu = np.exp(np.clip(eta, -700, 700))
    p0 = _zero_probability(mu, alpha_b)
    if zero is None:
        any_ = 1 - p0
        positive = mu / np.maximum(any_, 1e-300)
    else:
        any_ = special.expit(zero)
        positive = mu / np.maximum(1 - p0, 1e-300)
    return {"mean": any_ * positive, "any": any_, "positive": positive}


def predict_parts(
    fit: Fit,
    X: np.ndarray,
    offset: np.ndarray | None = None,
    params: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """E[y], P(y > 0) and E[y | y > 0] in one pass (see :func:`predict`)."""
    zero, eta = linear_predictors(fit, X, offset, params)
    return parts_from_linear(fit, zero, eta, params)


def predict(
    fit: Fit,
    X: np.ndarray,
    offset: np.ndarray | None = None,
    params: np.ndarray | None = None,
    part: str = "mean",
) -> np.ndarray:
    """E[y] (``part="mean"``), P(y > 0) (``"any"``) or E[y | y > 0] (``"positive"``).

    ``params`` may be a (S, p) array of draws: the result is then (S, n).
    """
    parts = predict_parts(fit, X, offset, params)
    if part not in parts:
        raise KosovoStudyError(f"Unknown part {part!r}: use 'mean', 'any' or 'positive'.")
    return parts[part]


def _nb2_logpmf(y: np.ndarray, mu: np.ndarray, alpha: float) -> np.ndarray:
    size = 1 / alpha
    result: np.ndarray = (
        special.gammaln(y + size)
        - special.gammaln(size)
        - special.gammaln(y + 1)
        + size * np.log(size / (size + mu))
        + y * np.log(mu / (size + mu))
    )
    return result


def log_density(fit: Fit, y: np.ndarray, X: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Log predictive density of each observed count under the fitted model."""
    gamma, beta, alpha = _pieces(fit, fit.params)
    eta = X @ beta + (offset if fit.uses_offset else 0.0)
    mu = np.exp(np.clip(eta, -700, 700))
    a = float(alpha)
    if gamma is None:
        return _nb2_logpmf(y, mu, a)
    any_ = special.expit(X @ gamma)
    positive = y > 0
    truncated = _nb2_logpmf(y, mu, a) - np.log1p(-_zero_probability(mu, a))
    result: np.ndarray = np.where(
        positive, np.log(np.maximum(any_, 1e-300)) + truncated, np.log1p(-any_)
    )
    return result


def cdf(fit: Fit, c: float, X: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """P(Y <= c) for every country (c a whole number >= 0, or inf)."""
    if np.isinf(c):
        return np.ones(len(X))
    gamma, beta, alpha = _pieces(fit, fit.params)
    mu = np.exp(np.clip(X @ beta + (offset if fit.uses_offset else 0.0), -700, 700))
    a = float(alpha)
    size = 1 / a
    nb_cdf = stats.nbinom.cdf(c, size, size / (size + mu))
    if gamma is None:
        result: np.ndarray = nb_cdf
        return result
    any_ = special.expit(X @ gamma)
    p0 = _zero_probability(mu, a)
    if c < 1:
        return np.asarray(1 - any_)
    return np.asarray((1 - any_) + any_ * (nb_cdf - p0) / np.maximum(1 - p0, 1e-300))


def draw_params(fit: Fit, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Parameter draws from the asymptotic normal N(params, robust cov) (King, Tomz &
    Wittenberg 2000); used for intervals of marginal effects and predictions."""
    cov = (fit.covariance + fit.covariance.T) / 2
    result: np.ndarray = rng.multivariate_normal(fit.params, cov, size=draws, method="eigh")
    return result


def simulate_counts(
    fit: Fit, X: np.ndarray, offset: np.ndarray, params: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """One simulated count per parameter draw and row: (S, n)."""
    gamma, beta, alpha = _pieces(fit, params)
    eta = np.einsum("sk,nk->sn", beta, X) + (offset if fit.uses_offset else 0.0)
    mu = np.exp(np.clip(eta, -700, 50))
    size = 1 / alpha[:, None]
    prob = size / (size + mu)
    counts = rng.negative_binomial(np.broadcast_to(size, mu.shape), prob).astype(float)
    if gamma is None:
        return counts
    # Zero-truncated draw by rejection: redraw the zeros until none is left.
    for _ in range(1000):
        zero = counts == 0
        if not zero.any():
            break
        counts[zero] = rng.negative_binomial(np.broadcast_to(size, mu.shape)[zero], prob[zero])
    counts[counts == 0] = 1.0
    any_ = rng.random(mu.shape) < special.expit(np.einsum("sk,nk->sn", gamma, X))
    result: np.ndarray = np.where(any_, counts, 0.0)
    return result


def _truncated_loglikeobs(params: np.ndarray, y: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Zero-truncated NB2 log-likelihood per observation: the function statsmodels'
    ``TruncatedLFNegativeBinomialP(p=2).loglikeobs`` computes (a test checks it), in
    plain NumPy so that numerical derivatives of it are cheap."""
    mu = np.exp(np.clip(X @ params[:-1], -700, 700))
    alpha = max(float(params[-1]), MIN_ALPHA)
    result: np.ndarray = _nb2_logpmf(y, mu, alpha) - np.log1p(-_zero_probability(mu, alpha))
    return result


def truncated_sandwich(params: np.ndarray, y: np.ndarray, X: np.ndarray) -> np.ndarray:
    """HC0 sandwich H^-1 (S'S) H^-1 of the zero-truncated NB2, with statsmodels'
    numerical derivatives (``approx_hess3``, ``approx_fprime``) of the log-likelihood:
    the matrix ``fit(cov_type="HC0")`` gives, at a fraction of the cost."""
    hessian = approx_hess3(params, lambda p: float(_truncated_loglikeobs(p, y, X).sum()))
    scores = approx_fprime(params, lambda p: _truncated_loglikeobs(p, y, X), centered=True)
    hessian_inv = np.linalg.inv(-hessian)
    result: np.ndarray = hessian_inv @ (scores.T @ scores) @ hessian_inv
    return result


def nb2_sandwich(
    params: np.ndarray, y: np.ndarray, X: np.ndarray, offset: np.ndarray | None
) -> np.ndarray:
    """HC0 sandwich H^-1 (S'S) H^-1 of NB2 in (beta, alpha), from statsmodels'
    analytic Hessian and scores (``NegativeBinomial(...).hessian`` and ``score_obs``):
    the matrix ``fit(cov_type="HC0")`` gives, evaluated at given estimates."""
    model = sm.NegativeBinomial(y, X, offset=offset)
    # A new model expects log(alpha) last (its parameter during BFGS); after a fit it
    # takes alpha itself, as here.
    model._transparams = False
    hessian_inv = np.linalg.inv(-np.asarray(model.hessian(params)))
    scores = np.asarray(model.score_obs(params))
    result: np.ndarray = hessian_inv @ (scores.T @ scores) @ hessian_inv
    return result


def logit_sandwich(params: np.ndarray, positive: np.ndarray, X: np.ndarray) -> np.ndarray:
    """HC0 sandwich of the logit (statsmodels ``Logit.fit(cov_type="HC0")``): analytic
    Hessian -X' diag(p (1 - p)) X and scores (y - p) x."""
    prob = special.expit(X @ params)
    information = (X * (prob * (1 - prob))[:, None]).T @ X
    scores = X * (positive - prob)[:, None]
    bread = np.linalg.inv(information)
    result: np.ndarray = bread @ (scores.T @ scores) @ bread
    return result


def fit_model(
    estimator: str,
    y: np.ndarray,
    X: np.ndarray,
    offset: np.ndarray,
    start: np.ndarray | None = None,
    covariance: bool = True,
) -> Fit:
    """Fit one estimator; ``X`` has a constant first (and log population for the
    covariate forms).  ``start`` (e.g. the full-sample fit) speeds up refits;
    ``covariance=False`` skips the sandwich where only the point estimate is needed
    (cross-validation), and ``cov`` is then NaN.

    The estimates come from the package's compiled engine
    (:mod:`kosovo_study.models.engine`: :func:`~kosovo_study.models.engine.fit` for NB2,
    :func:`~kosovo_study.models.engine.fit_logit` and
    :func:`~kosovo_study.models.engine.fit_truncated_nb2` for the hurdle), Newton
    iterations to a parameter change below 1e-9: the maximum-likelihood estimates of
    statsmodels' ``NegativeBinomial``, ``Logit`` and ``TruncatedLFNegativeBinomialP(p=2)``
    (the tests check 1e-6), at a fraction of statsmodels' cost.  The HC0 covariances are
    statsmodels' (analytic for NB2 and the logit; numerical derivatives for the
    truncated NB2, see :func:`truncated_sandwich`).
    """
    if estimator not in ESTIMATORS:
        raise KosovoStudyError(f"Unknown estimator {estimator!r}: use one of {ESTIMATORS}.")
    # Writable copies: pandas hands out read-only arrays, and the engine's compiled
    # functions are compiled once more (about 20 CPU-seconds on a fresh install) for
    # every new combination of read-only and writable arguments.
    y = np.array(y, dtype=float)
    X = np.array(X, dtype=float)
    offset = np.array(offset, dtype=float)
    k = X.shape[1]
    with np.errstate(all="ignore"):
        if estimator in ("nb2_offset", "nb2"):
            use = offset if estimator == "nb2_offset" else None
            warm = None if start is None else (start[:k], start[k])
            result = engine.fit(
                y[None], X, np.zeros(len(y)) if use is None else use, family="nb2", start=warm
            )
            params = np.append(result.beta[0], result.alpha[0])
            ok = bool(result.converged[0]) and bool(np.isfinite(params).all())
            nb_cov = (
                nb2_sandwich(params, y, X, use)
                if covariance and ok
                else np.full((k + 1, k + 1), np.nan)
            )
            return Fit(
                family=estimator,
                params=params,
                robust_se=np.sqrt(np.diag(nb_cov))[:k],
                llf=float(result.llf[0]),
                k=k,
                n=len(y),
                converged=ok,
                uses_offset=use is not None,
                cov=nb_cov,
            )
        positive = y > 0
        if positive.sum() <= k + 1 or (~positive).sum() < 1:
            raise KosovoStudyError(
                f"Hurdle needs more than {k + 1} countries with fighters and one without; "
                f"got {int(positive.sum())} and {int((~positive).sum())}."
            )
        logit = engine.fit_logit(y[None], X)
        count_start = None if start is None else (start[k : 2 * k], start[2 * k])
        count = engine.fit_truncated_nb2(y[None], X, start=count_start)
        count_params = np.append(count.beta[0], count.alpha[0])
        params = np.concatenate([logit.beta[0], count_params])
        ok = bool(logit.converged[0] and count.converged[0]) and bool(np.isfinite(params).all())
        cov = np.full((2 * k + 1, 2 * k + 1), np.nan)
        if covariance and ok:
            cov[:] = 0.0
            cov[:k, :k] = logit_sandwich(logit.beta[0], positive.astype(float), X)
            cov[k:, k:] = truncated_sandwich(count_params, y[positive], X[positive])
        elif covariance:
            cov[:k, k:] = cov[k:, :k] = 0.0
        return Fit(
            family=estimator,
            params=params,
            robust_se=np.sqrt(np.diag(cov))[k : 2 * k],
            llf=float(logit.llf[0] + count.llf[0]),
            k=k,
            n=len(y),
            converged=ok,
            uses_offset=False,
            cov=cov,
        )


#: Unlisted countries' upper bound: ICSR listed only countries with more than about 5
#: fighters, so an unlisted country had between 0 and 5.
UNLISTED_UPPER = 5


def censored_nb2_loglikeobs(
    params: np.ndarray, y: np.ndarray, X: np.ndarray, listed: np.ndarray, upper: float
) -> np.ndarray:
    """NB2 log-likelihood per country with the unlisted interval-censored in
    [0, ``upper``]: log f(y) for a listed country, log P(Y <= upper) for an unlisted one
    (``params``: coefficients, then alpha)."""
    mu = np.exp(np.clip(X @ params[:-1], -700, 700))
    alpha = max(float(params[-1]), MIN_ALPHA)
    size = 1 / alpha
    exact = _nb2_logpmf(np.where(listed, y, 0.0), mu, alpha)
    censored = stats.nbinom.logcdf(upper, size, size / (size + mu))
    result: np.ndarray = np.where(listed, exact, censored)
    return result


def fit_censored_nb2(
    y: np.ndarray, X: np.ndarray, listed: np.ndarray, upper: float = UNLISTED_UPPER
) -> tuple[np.ndarray, np.ndarray, float, bool]:
    """Maximum likelihood of :func:`censored_nb2_loglikeobs` (statsmodels'
    ``GenericLikelihoodModel``, Newton from the uncensored NB2 fit, then BFGS if Newton
    fails): (params, HC0 covariance, log-likelihood, converged).  The HC0 sandwich uses
    statsmodels' numerical derivatives of the per-country log-likelihood."""
    from statsmodels.base.model import GenericLikelihoodModel

    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    listed = np.asarray(listed, dtype=bool)

    class _Censored(GenericLikelihoodModel):  # type: ignore[misc]
        def loglikeobs(self, params: np.ndarray) -> np.ndarray:
            return censored_nb2_loglikeobs(params, y, X, listed, upper)

    start = fit_model("nb2", y, X, np.zeros(len(y)), covariance=False).params
    model = _Censored(y, X, extra_params_names=["alpha"])
    with np.errstate(all="ignore"):
        result = model.fit(start_params=start, method="bfgs", maxiter=5000, disp=0)
        result = model.fit(start_params=result.params, method="newton", maxiter=200, disp=0)
    params = np.asarray(result.params)
    converged = bool(result.mle_retvals.get("converged", False)) and bool(
        np.isfinite(params).all() and params[-1] > 0
    )
    hessian = approx_hess3(params, lambda p: float(model.loglike(p)))
    scores = approx_fprime(params, model.loglikeobs, centered=True)
    bread = np.linalg.inv(-hessian)
    covariance: np.ndarray = bread @ (scores.T @ scores) @ bread
    return params, covariance, float(model.loglike(params)), converged
