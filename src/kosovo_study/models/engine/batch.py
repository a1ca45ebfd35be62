"""The batch driver: every member of a batch fitted in one compiled loop, and the public
fitting functions built on it (see the package docstring)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kosovo_study.models.engine.compiled import Buf, compiled
from kosovo_study.models.engine.linalg import (
    cholesky,
    cholesky_inverse,
    cholesky_solve,
    sandwich_se,
    standard_errors,
)
from kosovo_study.models.engine.newton import (
    DIVERGED,
    FIXED,
    LOGIT,
    MAX_LOG_R,
    MIN_LOG_R,
    NB2,
    OLS,
    TRUNCATED_NB2,
    alpha_newton,
    buffer_views,
    information,
    kernel,
    linear,
    nb2_kernel,
    newton,
)

Array = NDArray[Any]


@dataclass(frozen=True)
class BatchFit:
    """Estimates for a batch of B data sets.

    ``beta`` (B, p); ``alpha`` (B,) NB2 dispersion (0 for Poisson, logit, OLS; the
    residual variance for OLS); ``se`` (B, p) model-based (inverse information);
    ``robust_se`` (B, p) sandwich (HC0); ``llf`` (B,) log-likelihood; ``converged`` (B,);
    ``iterations`` (B,) Newton/IRLS iterations used (0 for OLS and all-zero outcomes).
    """

    beta: Array
    alpha: Array
    se: Array
    robust_se: Array
    llf: Array
    converged: NDArray[np.bool_]
    iterations: NDArray[np.int64] | None = None


@compiled
def _no_estimate(model: int, y: Buf, w: Buf) -> bool:
    """No finite estimate exists: an all-zero outcome (Poisson, NB2), no zeros or no
    positives (logit), no positive count (truncated NB2)."""
    if model == OLS:
        return False
    if model in (FIXED, NB2):
        positive = 0.0
        for i in range(y.shape[0]):
            positive += w[i] * y[i]
        return not positive > 0.0
    positives = 0.0
    zeros = 0.0
    for i in range(y.shape[0]):
        if y[i] > 0.0:
            positives += w[i]
        else:
            zeros += w[i]
    return positives == 0.0 if model == TRUNCATED_NB2 else positives * zeros == 0.0


@compiled
def _no_fit(b: int, theta: Buf, se: Buf, robust: Buf, llf: Buf, converged: Buf) -> None:
    """Member b has no estimate: NaN estimates, standard errors and llf, not converged."""
    theta[b, :] = np.nan
    se[b, :] = np.nan
    robust[b, :] = np.nan
    llf[b] = np.nan
    converged[b] = False


@compiled
def _batch(
    model: int,
    y: Buf,
    w: Buf,
    X: Buf,
    off: Buf,
    alpha_fixed: Buf,
    theta: Buf,
    warm: bool,
    max_iter: int,
    tol: float,
    se: Buf,
    robust: Buf,
    llf: Buf,
    converged: Buf,
    iterations: Buf,
) -> None:
    """Fit every member; ``theta`` (B, q) holds the start values on entry, the estimates
    on exit (beta, and log(1/alpha) for ``NB2`` and ``TRUNCATED_NB2``)."""
    B, n = y.shape
    p = X.shape[2]
    q = theta.shape[1]
    work = np.empty((2, n))
    eta = work[0]
    mu = work[1]
    # Integer and boolean constants passed to compiled functions are typed as literals,
    # and each literal value compiles its own copy of the callee; these are runtime
    # values, so each callee is compiled once (a cold clone compiles less).
    zero = n - n
    always = n >= 0
    buffers = np.zeros((3 * p + 6, p + 1))
    gradient, _, _, _, negative, L = buffer_views(buffers, p)
    inverse = np.empty((q, q))
    scores = np.empty((n, p + 1))
    previous = -1  # the member whose log-factorial sum is held
    previous_w = 0
    log_factorials = 0.0
    for b in range(B):
        xi = b if X.shape[0] > 1 else 0
        oi = b if off.shape[0] > 1 else 0
        wi = b if w.shape[0] > 1 else 0
        yb = y[b]
        wb = w[wi]
        Xb = X[xi]  # this member's design and offset
        ob = off[oi]
        data = (yb, wb, Xb, ob)
        if _no_estimate(model, yb, wb):
            _no_fit(b, theta, se, robust, llf, converged)
            continue
        if model == OLS:
            # Normal equations by Cholesky; the classical standard error on n - p
            # degrees of freedom (n the weighted count), HC0, the Gaussian llf at the
            # ML variance (statsmodels OLS).
            negative[:, :] = 0.0
            gradient[:] = 0.0
            for i in range(n):
                for a in range(p):
                    wa = wb[i] * Xb[i, a]
                    gradient[a] += wa * yb[i]
                    for c in range(a + 1):
                        negative[a, c] += wa * Xb[i, c]
            if not cholesky(negative, L, p):
                _no_fit(b, theta, se, robust, llf, converged)
                continue
            cholesky_solve(L, gradient, theta[b], p)
            count = 0.0
            rss = 0.0
            for i in range(n):
                count += wb[i]
                resid = yb[i]
                for j in range(p):
                    resid -= Xb[i, j] * theta[b, j]
                rss += wb[i] * resid * resid
                root = math.sqrt(wb[i]) * resid
                for j in range(p):
                    scores[i, j] = root * Xb[i, j]
            cholesky_inverse(L, inverse, p)
            sandwich_se(inverse, scores, n, p, p, se[b], robust[b])
            sigma2 = rss / (count - p)
            for j in range(p):
                se[b, j] = math.sqrt(inverse[j, j] * sigma2)
            llf[b] = -0.5 * count * (math.log(2.0 * math.pi * rss / count) + 1.0)
            converged[b] = True
            continue
        done = 0
        if model == NB2 and not warm:
            # A rough Poisson fit, the moment estimate of alpha (Cameron & Trivedi 2013,
            # sec. 3.2.3) and three Newton steps on it: the joint Newton iterations then
            # converge in a few steps.
            done = newton(zero + FIXED, data, theta[b], 0.0, max_iter, 1e-3, work, buffers, scores)[
                1
            ]
            linear(Xb, ob, theta[b, :p], eta, mu)
            excess = 0.0
            scale = 0.0
            for i in range(n):
                excess += wb[i] * ((yb[i] - mu[i]) ** 2 - yb[i])
                scale += wb[i] * mu[i] ** 2
            moment = min(max(excess / scale, 1e-2), 1e2) if scale > 0.0 else 0.5
            theta[b, p] = alpha_newton(yb, wb, mu, -math.log(moment), zero + 3)
        ok, more = newton(
            model, data, theta[b], alpha_fixed[b], max_iter, tol, work, buffers, scores
        )
        iterations[b] = done + more
        if q > p and theta[b, p] <= MIN_LOG_R:  # alpha diverging: no interior optimum
            ok = False
        if model in (FIXED, NB2):
            linear(Xb, ob, theta[b, :p], eta, mu)
            for i in range(n):
                if eta[i] <= DIVERGED and wb[i] > 0.0:
                    ok = False  # separation: a fitted mean diverging to zero
        elif model == LOGIT:
            # Separation: fitted probabilities of exactly 0 or 1 (see fit_logit).
            for i in range(n):
                if wb[i] == 0.0:
                    continue
                value = ob[i]
                for j in range(p):
                    value += Xb[i, j] * theta[b, j]
                if abs(value) >= -DIVERGED:
                    ok = False
        converged[b] = ok
        # Log-likelihood (with the constants) and standard errors at the estimate.
        total = information(model, data, theta[b], alpha_fixed[b], mu, buffers, scores, always)
        if model == TRUNCATED_NB2:
            for i in range(n):
                if yb[i] > 0.0:
                    total -= wb[i] * math.lgamma(yb[i] + 1.0)
        elif model in (FIXED, NB2):
            if model == NB2 or alpha_fixed[b] > 0.0:
                log_r = theta[b, p] if model == NB2 else -math.log(alpha_fixed[b])
                total = nb2_kernel(yb, wb, eta, mu, log_r)
            else:
                total = kernel(yb, wb, eta, mu, 0.0)
            # -sum log(y!): the same for every member with the same outcome and weights
            # (a permutation batch repeats one outcome), so computed once for a run.
            same = previous >= 0
            if same:
                for i in range(n):
                    if yb[i] != y[previous, i] or wb[i] != w[previous_w, i]:
                        same = False
                        break
            if not same:
                log_factorials = 0.0
                for i in range(n):
                    log_factorials += wb[i] * math.lgamma(yb[i] + 1.0)
                previous = b
                previous_w = wi
            total -= log_factorials
        llf[b] = total
        if not standard_errors(negative, L, inverse, scores, n, q, p, se[b], robust[b]):
            converged[b] = False


def _broadcast(
    y: Array, X: Array, offset: Array | None = None, weights: Array | None = None
) -> tuple[Array, Array, Array, Array]:
    """Contiguous float arrays; a shared X, offset or weights keep a leading axis of 1
    (no offset: zeros)."""
    y = np.ascontiguousarray(np.atleast_2d(np.asarray(y, dtype=float)))
    batch, n = y.shape
    X = np.asarray(X, dtype=float)
    if X.ndim == 2:
        X = X[None]
    if X.shape[0] not in {1, batch} or X.shape[1] != n:
        raise ValueError(f"X has shape {X.shape}; expected ({n}, p) or ({batch}, {n}, p)")
    offset = np.atleast_2d(np.zeros(n) if offset is None else np.asarray(offset, dtype=float))
    if offset.shape[0] not in {1, batch} or offset.shape[1] != n:
        raise ValueError(f"offset has shape {offset.shape}; expected ({n},) or ({batch}, {n})")
    w = np.ones((1, n)) if weights is None else np.atleast_2d(np.asarray(weights, dtype=float))
    if w.shape[0] not in {1, batch} or w.shape[1] != n:
        raise ValueError(f"weights have shape {w.shape}; expected ({n},) or ({batch}, {n})")
    return y, np.ascontiguousarray(X), np.ascontiguousarray(offset), np.ascontiguousarray(w)


def _run(
    model: int,
    y: Array,
    X: Array,
    offset: Array,
    w: Array,
    theta: Array,
    alpha: Array | None = None,
    warm: bool = False,
    max_iter: int = 200,
    tol: float = 1e-9,
) -> BatchFit:
    """Run the compiled batch on broadcast arrays from the start values ``theta``."""
    batch, p = y.shape[0], X.shape[2]
    theta = np.ascontiguousarray(theta, dtype=float).copy()
    se = np.empty((batch, p))
    robust = np.empty((batch, p))
    llf = np.empty(batch)
    converged = np.zeros(batch, dtype=np.bool_)
    iterations = np.zeros(batch, dtype=np.int64)
    alphas = np.zeros(batch) if alpha is None else alpha
    _batch(
        model,
        y,
        w,
        X,
        offset,
        alphas,
        theta,
        warm,
        int(max_iter),
        float(tol),
        se,
        robust,
        llf,
        converged,
        iterations,
    )
    if theta.shape[1] > p:
        with np.errstate(over="ignore"):
            alphas = np.exp(-theta[:, p])
    return BatchFit(
        beta=theta[:, :p],
        alpha=alphas,
        se=se,
        robust_se=robust,
        llf=llf,
        converged=converged,
        iterations=iterations,
    )


def rate_start(y: Array, X: Array, offset: Array) -> Array:
    """The engine's default start: the intercept at the overall rate, slopes at zero.

    ``y`` (B, n), ``X`` (n, p) or (B, n, p), ``offset`` (n,) or (B, n); returns (B, p).
    Benchmarks start statsmodels from the same values (a fair comparison).
    """
    y, X, offset, _ = _broadcast(y, X, offset)
    batch, p = y.shape[0], X.shape[2]
    beta = np.zeros((batch, p))
    if np.all(X[:, :, 0] == 1.0):
        total = np.exp(np.broadcast_to(offset, y.shape)).sum(1)
        beta[:, 0] = np.log(np.maximum(y.sum(1), 0.5) / total)
    return beta


def fit(
    y: Array,
    X: Array,
    offset: Array,
    family: str = "nb2",
    alpha: float | Array | None = None,
    max_iter: int = 200,
    tol: float = 1e-9,
    start: tuple[Array, Array] | None = None,
    weights: Array | None = None,
) -> BatchFit:
    """Fit Poisson (``family="poisson"``) or NB2 to every outcome vector in the batch.

    ``y`` (B, n) counts; ``X`` (n, p) or (B, n, p); ``offset`` (n,) or (B, n) (log
    exposure); ``alpha`` fixes the NB2 dispersion (scalar or (B,)) instead of estimating
    it; ``tol`` is the largest change in any parameter at convergence; ``start`` =
    (beta (p,) or (B, p), alpha) warm-starts the iterations, e.g. from the fit to the
    observed data when refitting permuted data (the optimum is the same); ``weights``
    (n,) or (B, n) are frequency weights (bootstrap counts).
    """
    if family not in {"poisson", "nb2"}:
        raise ValueError(f"unknown family {family!r}: use 'poisson' or 'nb2'")
    y, X, offset, w = _broadcast(y, X, offset, weights)
    batch, p = y.shape[0], X.shape[2]
    if start is not None:
        beta = np.broadcast_to(np.asarray(start[0], dtype=float), (batch, p))
    else:
        beta = rate_start(y, X, offset)
    if family == "nb2" and alpha is None:
        log_r = np.zeros(batch)
        if start is not None:  # warm: from the given alpha
            start_alpha = np.broadcast_to(np.asarray(start[1], dtype=float), (batch,))
            log_r = -np.log(np.maximum(start_alpha, np.exp(-MAX_LOG_R)))
        theta = np.column_stack([beta, log_r])
        return _run(NB2, y, X, offset, w, theta, None, start is not None, max_iter, tol)
    alphas = (
        np.zeros(batch) if family == "poisson" else np.broadcast_to(np.asarray(alpha), (batch,))
    )
    return _run(FIXED, y, X, offset, w, beta, alphas.astype(float).copy(), False, max_iter, tol)


def fit_ols(y: Array, X: Array, weights: Array | None = None) -> BatchFit:
    """Least squares for every outcome vector in the batch (e.g. OLS on the log rate).

    ``y`` (B, n) continuous; ``X`` (n, p) or (B, n, p); ``weights`` (n,) or (B, n)
    frequency weights.  ``se`` is the classical standard error (residual variance on
    n - p degrees of freedom, n the weighted count), ``robust_se`` HC0; ``alpha`` is 0
    and ``llf`` the Gaussian log-likelihood at the ML variance, as statsmodels ``OLS``.
    Normal equations by Cholesky, compiled; ``converged`` is False (NaN estimates)
    where X'X is singular.
    """
    y, X, offset, w = _broadcast(y, X, None, weights)
    return _run(OLS, y, X, offset, w, np.zeros((y.shape[0], X.shape[2])))


def fit_logit(
    y: Array,
    X: Array,
    offset: Array | None = None,
    weights: Array | None = None,
    max_iter: int = 200,
    tol: float = 1e-9,
) -> BatchFit:
    """The zero part of a hurdle model: a logit of y > 0 (statsmodels ``Logit``), batched.

    ``y`` (B, n) counts (only y > 0 matters), ``X`` (n, p) or (B, n, p), ``offset``
    optional, ``weights`` frequency weights (bootstrap counts).  Newton-Raphson with
    step-halving from the constant-only estimate.  ``converged`` is False where a data
    set has no zeros or no positives (NaN estimates), or separation drives a fitted
    probability to 0 or 1 (|x'b| >= 30).  ``se`` inverse observed information,
    ``robust_se`` HC0.
    """
    y2, X2, off, w = _broadcast(y, X, offset, weights)
    share = (np.broadcast_to(w, y2.shape) * (y2 > 0)).sum(1) / np.broadcast_to(w, y2.shape).sum(1)
    share = np.clip(share, 1e-6, 1 - 1e-6)
    start = np.zeros((y2.shape[0], X2.shape[2]))
    if np.all(X2[:, :, 0] == 1.0):
        start[:, 0] = np.log(share / (1 - share))
    return _run(LOGIT, y2, X2, off, w, start, max_iter=max_iter, tol=tol)


def fit_truncated_nb2(
    y: Array,
    X: Array,
    offset: Array | None = None,
    weights: Array | None = None,
    max_iter: int = 200,
    tol: float = 1e-9,
    start: tuple[Array, Array] | None = None,
) -> BatchFit:
    """The count part of a hurdle model: zero-truncated NB2 on the units with y > 0,
    batched (statsmodels ``TruncatedLFNegativeBinomialP(p=2)``).

    Log-likelihood per unit: the NB2 log-likelihood minus log(1 - P(y = 0)), with
    P(y = 0) = (1 + alpha mu)**(-1/alpha).  Units with y == 0 are ignored.  Start:
    the NB2 fit to the positive counts (or ``start`` = (beta, alpha)); then joint
    Newton-Raphson on (beta, log(1/alpha)) with step-halving (Levenberg-Marquardt
    where the Hessian is not negative definite).  ``converged`` is False where a data
    set has no positive count or alpha diverges (beyond ~2e4).
    """
    y2, X2, off, w = _broadcast(y, X, offset, weights)
    positive = np.broadcast_to(w, y2.shape) * (y2 > 0)
    if start is None:
        untruncated = fit(y2, X2, off, family="nb2", weights=positive)
        beta0 = untruncated.beta
        alpha0 = np.clip(untruncated.alpha, 1e-6, 1e3)
        rough = ~np.isfinite(beta0).all(1) | ~np.isfinite(alpha0)
        beta0 = np.where(rough[:, None], rate_start(y2, X2, off), beta0)
        alpha0 = np.where(rough, 1.0, alpha0)
    else:
        beta0 = np.broadcast_to(np.asarray(start[0], dtype=float), (y2.shape[0], X2.shape[2]))
        alpha0 = np.broadcast_to(np.asarray(start[1], dtype=float), (y2.shape[0],))
    theta = np.column_stack([beta0, -np.log(alpha0)])
    positive = np.ascontiguousarray(positive)
    return _run(TRUNCATED_NB2, y2, X2, off, positive, theta, max_iter=max_iter, tol=tol)


def warm_up() -> None:
    """Compile (first run) or load from the on-disk cache the compiled batch driver
    behind every fitting function, on a tiny problem.

    Call it once before starting threads or worker processes that fit models, so the
    compilation happens once and the others find it compiled or cached (each process
    would otherwise compile its own copy on a cold clone).
    """
    X = np.column_stack([np.ones(4), np.arange(4.0)])
    y = np.array([[1.0, 0.0, 2.0, 3.0]])
    fit(y, X, np.zeros(4), family="nb2", max_iter=2)
