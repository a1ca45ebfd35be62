"""A small batched estimator for count models, compiled with Numba.

Why: permutation tests, parametric bootstraps, power simulations and bootstraps refit
the same small model thousands of times.  statsmodels refits one at a time through
layers of Python; this engine fits a whole batch (permutations, simulated outcomes,
resamples) in one compiled loop over the batch members, and matches statsmodels'
maximum-likelihood estimates (tests check 1e-6 on coefficients and standard errors).

Public API (stable; other modules and the book rely on it):

* :func:`fit` ``(y, X, offset, family="nb2" | "poisson", alpha=None, ...) -> BatchFit``:
  Poisson and NB2 (log link, offset).  NB2 is the negative binomial with variance
  ``mu + alpha * mu**2`` (Cameron & Trivedi 2013, ch. 3); ``alpha`` is estimated by
  maximum likelihood for each batch member unless it is given.
* :func:`fit_ols` ``(y, X) -> BatchFit``: least squares, e.g. OLS on the log rate.
* :func:`fit_logit` ``(y, X, weights=None) -> BatchFit``: logit, the zero part of a
  hurdle model (statsmodels ``Logit``).
* :func:`fit_truncated_nb2` ``(y, X, offset, weights=None) -> BatchFit``: zero-truncated
  NB2, the count part of a hurdle model (statsmodels ``TruncatedLFNegativeBinomialP``
  with ``p=2``).
* :func:`warm_up` ``()``: compile (or load) the code behind ``fit`` and ``fit_ols``.

Conventions: ``y`` has shape (B, n) (a batch of B outcome vectors on n units), ``X``
(n, p) shared by the batch or (B, n, p), ``offset`` (n,) or (B, n).  Bootstrap
resamples are passed as frequency ``weights`` (B, n) (how often each unit was drawn),
which gives the same estimates as refitting on the resampled rows.

Algorithms (each member on its own, so members never wait for each other):

* Poisson and NB2 with alpha fixed: Fisher scoring (IRLS) with step-halving on the
  log-likelihood kernel (the parts that depend on beta: no log-gamma per trial step).
* NB2 with alpha estimated: Poisson IRLS, a few Newton steps on log(1/alpha), then
  joint Newton-Raphson on (beta, log(1/alpha)) with step-halving; where the Hessian
  is not negative definite (far from the optimum), one alternating IRLS/alpha step.
* For an integer count y, log Gamma(y + r) - log Gamma(r), digamma(y + r) - digamma(r)
  and trigamma(y + r) - trigamma(r) are the finite sums over k < y of log(r + k),
  1/(r + k) and -1/(r + k)**2 (Abramowitz & Stegun 6.1.15, 6.3.5, 6.4.6): exact,
  cheaper than the special functions, and free of cancellation when r = 1/alpha is
  large.  Counts above 24 (cross-national counts run to thousands) take the first
  terms of the sums until r + k >= 16, then differences of the asymptotic series
  (A&S 6.1.41, 6.3.18, 6.4.12) written without cancellation: O(1) instead of O(y),
  agreeing with the sums to about 1e-13 (tested).  Non-integer or very large
  counts use the special functions.
* Convergence: the largest parameter change of a *full* Newton step below ``tol``;
  a step cut short by step-halving never counts as convergence.

Failure is flagged, never hidden: ``converged`` is False when the iteration limit was
reached, when no step improved the likelihood, or when the maximum-likelihood estimate
does not exist (a linear predictor diverging to -inf, i.e. separation, or alpha
diverging); the last iterate is returned.  An all-zero outcome (no finite Poisson or
NB2 estimate) gives NaN estimates and ``converged`` False without iterating.

The compiled code is cached on disk (``numba.njit(cache=True)``), so only the first
run after installation pays the compilation (about 18 CPU-seconds for :func:`fit` and
:func:`fit_ols`, 6 more for the hurdle parts; loading from the cache about 0.7 s).
:func:`warm_up` compiles or loads it once before threads or processes start.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numba
import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]
Buf = Any  # arrays inside compiled code (Numba types them; mypy cannot)
_MAX_LOG_R = 25.0  # 1/alpha up to ~7e10: the Poisson limit (no overdispersion)
_MIN_LOG_R = -10.0  # alpha up to ~2e4: beyond this alpha is diverging (flagged)
_CLIP = 50.0  # linear predictors are clipped to +-50 (exp overflows beyond ~709)
_DIVERGED = -30.0  # a linear predictor below this (mu < 1e-13) means separation
_EXACT_SUMS = 5000.0  # integer counts up to this are exact (sums or the asymptotic path)
_SHORT_SUMS = 24.0  # integer counts up to this use the finite sums, larger ones the
# asymptotic differences (_psi_difference, _log_gamma_difference): O(1) instead of O(y)
_ASYMPTOTIC_FROM = 16.0  # the asymptotic series are used for arguments >= this
_HALVINGS = 40  # step-halving trials per iteration (a step of 2**-40 is no step)

F = TypeVar("F", bound=Callable[..., Any])


def _compiled(function: F) -> F:
    """Compile with Numba, cached on disk; ``error_model="numpy"`` lets x/0 give inf."""
    return cast(F, numba.njit(cache=True, error_model="numpy", nogil=True)(function))


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


# ----------------------------------------------------------------------------------
# Scalar special functions (compiled)


@_compiled
def _digamma(x: float) -> float:
    """Digamma for x > 0: recurrence up to x >= 6, then the asymptotic series
    (Abramowitz & Stegun 6.3.18), truncated after x**-10: error below 1e-11."""
    total = 0.0
    while x < 6.0:
        total -= 1.0 / x
        x += 1.0
    inv2 = 1.0 / (x * x)
    series = inv2 * (
        1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 / 132)))
    )
    return total + math.log(x) - 0.5 / x - series


@_compiled
def _trigamma(x: float) -> float:
    """Trigamma for x > 0: recurrence up to x >= 6, then the asymptotic series
    (Abramowitz & Stegun 6.4.12), truncated after x**-9: relative error about 1e-9."""
    total = 0.0
    while x < 6.0:
        total += 1.0 / (x * x)
        x += 1.0
    inv = 1.0 / x
    inv2 = inv * inv
    return total + inv * (
        1.0 + inv * 0.5 + inv2 * (1.0 / 6 - inv2 * (1.0 / 30 - inv2 * (1.0 / 42 - inv2 / 30)))
    )


@_compiled
def _stirling_tail(x: float) -> float:
    """log Gamma(x) - [(x - 1/2) log x - x + log(2 pi) / 2] for x >= 16: the Stirling
    series (Abramowitz & Stegun 6.1.41) to x**-7; truncation error below 1e-13."""
    inv = 1.0 / x
    inv2 = inv * inv
    return inv * (1.0 / 12 - inv2 * (1.0 / 360 - inv2 * (1.0 / 1260 - inv2 / 1680)))


@_compiled
def _digamma_tail(x: float) -> float:
    """psi(x) - log x + 1/(2x) for x >= 16 (A&S 6.3.18 to x**-10; error below 1e-16)."""
    inv2 = 1.0 / (x * x)
    return -inv2 * (
        1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 / 132)))
    )


@_compiled
def _trigamma_tail(x: float) -> float:
    """psi'(x) - 1/x - 1/(2x**2) - 1/(6x**3) for x >= 16 (A&S 6.4.12 to x**-9)."""
    inv = 1.0 / x
    inv2 = inv * inv
    return -inv2 * inv2 * inv * (1.0 / 30 - inv2 * (1.0 / 42 - inv2 / 30))


@_compiled
def _shift(y: float, r: float) -> int:
    """Terms k < shift of the finite sums that bring r + k to at least 16."""
    return int(max(0.0, min(y, math.ceil(_ASYMPTOTIC_FROM - r))))


@_compiled
def _psi_difference(y: float, r: float) -> tuple[float, float]:
    """psi(y+r) - psi(r) and psi'(y+r) - psi'(r) for a large integer count y: the first
    terms of the finite sums until r + k >= 16, then differences of the asymptotic
    series written so that nothing cancels (log1p of the ratio, differences of
    reciprocals as one fraction): O(1) work, agreeing with the sums to about 1e-14."""
    k0 = _shift(y, r)
    first = 0.0
    second = 0.0
    for k in range(k0):
        inverse = 1.0 / (r + k)
        first += inverse
        second -= inverse * inverse
    a = r + k0
    m = y - k0
    b = a + m
    # log b - log a - 1/(2b) + 1/(2a); 1/(2a) - 1/(2b) = m / (2ab)
    first += math.log1p(m / a) + 0.5 * m / (a * b) + _digamma_tail(b) - _digamma_tail(a)
    # 1/b - 1/a + (1/b**2 - 1/a**2) / 2 + (1/b**3 - 1/a**3) / 6, factored by -m/(ab)
    ab = a * b
    second -= m / ab * (1.0 + (a + b) / (2.0 * ab) + (a * a + ab + b * b) / (6.0 * ab * ab))
    second += _trigamma_tail(b) - _trigamma_tail(a)
    return first, second


@_compiled
def _log_gamma_difference(y: float, r: float, r_mu: float) -> float:
    """log G(y+r) - log G(r) - y log(r_mu) for a large integer count y (see
    :func:`_psi_difference`): Stirling's series for the remaining ratio,
    (a - 1/2) log(b/a) + m (log(b / r_mu) - 1) + tail(b) - tail(a)."""
    k0 = _shift(y, r)
    product = 1.0
    inverse = 1.0 / r_mu
    log_sum = 0.0
    for k in range(k0):
        product *= (r + k) * inverse
        if product > 1e250 or product < 1e-250:
            log_sum += math.log(product)
            product = 1.0
    a = r + k0
    m = y - k0
    b = a + m
    return (
        log_sum
        + math.log(product)
        + (a - 0.5) * math.log1p(m / a)
        + m * (math.log(b / r_mu) - 1.0)
        + _stirling_tail(b)
        - _stirling_tail(a)
    )


@_compiled
def _gamma_parts(y: float, r: float) -> tuple[float, float, float]:
    """log G(y+r) - log G(r), psi(y+r) - psi(r), psi'(y+r) - psi'(r)."""
    if y == 0.0:
        return 0.0, 0.0, 0.0
    if y == math.floor(y) and y <= _EXACT_SUMS:
        log_sum = 0.0
        product = 1.0
        first = 0.0
        second = 0.0
        for k in range(int(y)):
            term = r + k
            product *= term
            if product > 1e250:
                log_sum += math.log(product)
                product = 1.0
            inverse = 1.0 / term
            first += inverse
            second -= inverse * inverse
        return log_sum + math.log(product), first, second
    return (
        math.lgamma(y + r) - math.lgamma(r),
        _digamma(y + r) - _digamma(r),
        _trigamma(y + r) - _trigamma(r),
    )


@_compiled
def _psi_parts(y: float, r: float) -> tuple[float, float]:
    """psi(y+r) - psi(r) and psi'(y+r) - psi'(r) (the Newton steps need no log-gamma)."""
    if y == 0.0:
        return 0.0, 0.0
    if y == math.floor(y) and y <= _EXACT_SUMS:
        if y > _SHORT_SUMS:
            return _psi_difference(y, r)
        first = 0.0
        second = 0.0
        for k in range(int(y)):
            inverse = 1.0 / (r + k)
            first += inverse
            second -= inverse * inverse
        return first, second
    return _digamma(y + r) - _digamma(r), _trigamma(y + r) - _trigamma(r)


@_compiled
def _log_gamma_term(y: float, r: float, r_mu: float) -> float:
    """log G(y+r) - log G(r) - y log(r + mu): one log of a product of ratios
    (r + k) / (r + mu) for an integer count, rescaled to stay within range."""
    if y == 0.0:
        return 0.0
    if y == math.floor(y) and y <= _EXACT_SUMS:
        if y > _SHORT_SUMS:
            return _log_gamma_difference(y, r, r_mu)
        log_sum = 0.0
        product = 1.0
        inverse = 1.0 / r_mu
        for k in range(int(y)):
            product *= (r + k) * inverse
            if product > 1e250 or product < 1e-250:
                log_sum += math.log(product)
                product = 1.0
        return log_sum + math.log(product)
    return math.lgamma(y + r) - math.lgamma(r) - y * math.log(r_mu)


@_compiled
def _cholesky(A: Buf, L: Buf, q: int) -> bool:
    """Lower Cholesky factor of the leading q x q block of A; False if not positive
    definite."""
    for j in range(q):
        s = A[j, j]
        for k in range(j):
            s -= L[j, k] * L[j, k]
        if not s > 0.0:
            return False
        L[j, j] = math.sqrt(s)
        for i in range(j + 1, q):
            s = A[i, j]
            for k in range(j):
                s -= L[i, k] * L[j, k]
            L[i, j] = s / L[j, j]
    return True


@_compiled
def _cholesky_solve(L: Buf, b: Buf, x: Buf, q: int) -> None:
    for i in range(q):
        s = b[i]
        for k in range(i):
            s -= L[i, k] * x[k]
        x[i] = s / L[i, i]
    for i in range(q - 1, -1, -1):
        s = x[i]
        for k in range(i + 1, q):
            s -= L[k, i] * x[k]
        x[i] = s / L[i, i]


@_compiled
def _cholesky_inverse(L: Buf, inverse: Buf, q: int) -> None:
    """Inverse of L L' column by column, solved in place (no work arrays: this runs
    once per fit, and an allocation costs as much as a small solve)."""
    for j in range(q):
        for i in range(q):
            s = 1.0 if i == j else 0.0
            for k in range(i):
                s -= L[i, k] * inverse[k, j]
            inverse[i, j] = s / L[i, i]
        for i in range(q - 1, -1, -1):
            s = inverse[i, j]
            for k in range(i + 1, q):
                s -= L[k, i] * inverse[k, j]
            inverse[i, j] = s / L[i, i]


@_compiled
def _sandwich_se(inverse: Buf, scores: Buf, n: int, q: int, p: int, se: Buf, robust: Buf) -> None:
    """Model-based and HC0 sandwich standard errors of the first p parameters.

    The sandwich's diagonal is sum_i (row j of the inverse . score_i)**2: no meat
    matrix to allocate, n q flops per parameter."""
    for j in range(p):
        se[j] = math.sqrt(inverse[j, j]) if inverse[j, j] >= 0.0 else np.nan
        total = 0.0
        for i in range(n):
            projected = 0.0
            for a in range(q):
                projected += inverse[j, a] * scores[i, a]
            total += projected * projected
        robust[j] = math.sqrt(total)


@_compiled
def _standard_errors(
    negative: Buf, L: Buf, inverse: Buf, scores: Buf, n: int, q: int, p: int, se: Buf, robust: Buf
) -> bool:
    """Model-based and HC0 standard errors of the first p parameters from the q x q
    information ``negative`` (minus the Hessian) and the per-unit ``scores``; False, and
    NaN errors, where the information is not positive definite."""
    if not _cholesky(negative, L, q):
        se[:] = np.nan
        robust[:] = np.nan
        return False
    _cholesky_inverse(L, inverse, q)
    _sandwich_se(inverse, scores, n, q, p, se, robust)
    return True


# ----------------------------------------------------------------------------------
# Poisson and NB2 (compiled)


@_compiled
def _linear(X: Buf, xi: int, off: Buf, oi: int, beta: Buf, eta: Buf, mu: Buf) -> None:
    n, p = X.shape[1], X.shape[2]
    for i in range(n):
        s = off[oi, i]
        for j in range(p):
            s += X[xi, i, j] * beta[j]
        if s > _CLIP:
            s = _CLIP
        elif s < -_CLIP:
            s = -_CLIP
        eta[i] = s
        mu[i] = math.exp(s)


@_compiled
def _kernel(y: Buf, w: Buf, eta: Buf, mu: Buf, alpha: float) -> float:
    """Log-likelihood up to terms constant in beta (Poisson if alpha == 0)."""
    total = 0.0
    if alpha > 0.0:
        r = 1.0 / alpha
        for i in range(y.shape[0]):
            total += w[i] * (y[i] * eta[i] - (y[i] + r) * math.log1p(alpha * mu[i]))
    else:
        for i in range(y.shape[0]):
            total += w[i] * (y[i] * eta[i] - mu[i])
    return total


@_compiled
def _nb2_kernel(y: Buf, w: Buf, eta: Buf, mu: Buf, log_r: float) -> float:
    """NB2 log-likelihood in (beta, log r) without the constant -log(y!)."""
    r = math.exp(log_r)
    total = 0.0
    for i in range(y.shape[0]):
        yi = y[i]
        term = -r * math.log1p(mu[i] / r)
        if yi != 0.0:
            term += _log_gamma_term(yi, r, r + mu[i]) + yi * eta[i]
        total += w[i] * term
    return total


@_compiled
def _alpha_newton(y: Buf, w: Buf, mu: Buf, log_r: float, steps: int) -> float:
    """Newton steps on t = log(1/alpha) for the NB2 likelihood with mu held fixed."""
    for _ in range(steps):
        r = math.exp(log_r)
        score = 0.0
        hess = 0.0
        for i in range(y.shape[0]):
            first, second = _psi_parts(y[i], r)
            ratio = r + mu[i]
            score += w[i] * (first - math.log1p(mu[i] / r) + (mu[i] - y[i]) / ratio)
            hess += w[i] * (second + mu[i] / (r * ratio) - (mu[i] - y[i]) / (ratio * ratio))
        grad_t = score * r
        hess_t = hess * r * r + score * r
        step = -grad_t / hess_t if hess_t < 0.0 else math.copysign(1.0, grad_t)
        step = min(max(step, -2.0), 2.0)
        log_r = min(max(log_r + step, _MIN_LOG_R), _MAX_LOG_R)
    return log_r


@_compiled
def _irls(
    y: Buf,
    w: Buf,
    X: Buf,
    xi: int,
    off: Buf,
    oi: int,
    alpha: float,
    beta: Buf,
    max_iter: int,
    tol: float,
    work: Buf,
) -> tuple[bool, int]:
    """Fisher scoring for beta with alpha fixed (0: Poisson), step-halving on the kernel.

    ``beta`` is updated in place; returns (converged, iterations)."""
    n, p = X.shape[1], X.shape[2]
    eta = work[0]
    mu = work[1]
    A = np.empty((p, p))
    L = np.zeros((p, p))
    g = np.empty(p)
    delta = np.empty(p)
    candidate = np.empty(p)
    _linear(X, xi, off, oi, beta, eta, mu)
    current = _kernel(y, w, eta, mu, alpha)
    for iteration in range(1, max_iter + 1):
        # Newton/Fisher step: (X'WX) delta = X' w (y - mu) / (1 + alpha mu).
        A[:, :] = 0.0
        g[:] = 0.0
        for i in range(n):
            weight = w[i] * mu[i] / (1.0 + alpha * mu[i])
            resid = w[i] * (y[i] - mu[i]) / (1.0 + alpha * mu[i])
            for a in range(p):
                xa = X[xi, i, a]
                g[a] += xa * resid
                wa = weight * xa
                for c in range(a + 1):
                    A[a, c] += wa * X[xi, i, c]
        for a in range(p):
            for c in range(a):
                A[c, a] = A[a, c]
        if not _cholesky(A, L, p):
            return False, iteration
        _cholesky_solve(L, g, delta, p)
        size = 0.0
        for j in range(p):
            size = max(size, abs(delta[j]))
        if size < tol:  # converged: a step this small needs no likelihood check
            for j in range(p):
                beta[j] += delta[j]
            return True, iteration
        step = 1.0
        accepted = False
        for _ in range(_HALVINGS):
            for j in range(p):
                candidate[j] = beta[j] + step * delta[j]
            _linear(X, xi, off, oi, candidate, eta, mu)
            trial = _kernel(y, w, eta, mu, alpha)
            if trial >= current - 1e-11 * abs(current):
                accepted = True
                break
            step *= 0.5
        if not accepted:
            _linear(X, xi, off, oi, beta, eta, mu)
            return False, iteration
        change = 0.0
        for j in range(p):
            change = max(change, abs(candidate[j] - beta[j]))
            beta[j] = candidate[j]
        current = trial
        if change < tol:
            return True, iteration
    return False, max_iter


@_compiled
def _nb2_parts(
    y: Buf,
    w: Buf,
    X: Buf,
    xi: int,
    mu: Buf,
    log_r: float,
    gradient: Buf,
    hessian: Buf,
    scores: Buf,
    with_scores: bool,
) -> None:
    """Gradient, Hessian and (``with_scores``) per-unit scores in (beta, log(1/alpha))
    at fitted mu."""
    n, p = X.shape[1], X.shape[2]
    r = math.exp(log_r)
    gradient[:] = 0.0
    hessian[:, :] = 0.0
    for i in range(n):
        yi = y[i]
        m = mu[i]
        inverse = 1.0 / (r + m)
        inverse2 = inverse * inverse
        first, second = _psi_parts(yi, r)
        d_eta = r * (yi - m) * inverse
        dd_eta = -r * m * (r + yi) * inverse2
        score_r = first - math.log1p(m / r) + (m - yi) * inverse
        hess_r = second + m * inverse / r - (m - yi) * inverse2
        cross = r * (yi - m) * m * inverse2
        wi = w[i]
        for a in range(p):
            xa = X[xi, i, a]
            gradient[a] += wi * d_eta * xa
            hessian[a, p] += wi * cross * xa
            for c in range(a + 1):
                hessian[a, c] += wi * dd_eta * xa * X[xi, i, c]
        gradient[p] += wi * score_r * r
        hessian[p, p] += wi * (hess_r * r * r + score_r * r)
        if with_scores:  # frequency weights: unit i's score counts w_i times
            root = math.sqrt(wi)
            for a in range(p):
                scores[i, a] = root * d_eta * X[xi, i, a]
            scores[i, p] = root * score_r * r
    for a in range(p):
        hessian[p, a] = hessian[a, p]
        for c in range(a):
            hessian[c, a] = hessian[a, c]


@_compiled
def _nb2_newton(
    y: Buf,
    w: Buf,
    X: Buf,
    xi: int,
    off: Buf,
    oi: int,
    theta: Buf,
    max_iter: int,
    tol: float,
    work: Buf,
) -> tuple[bool, int]:
    """Joint Newton-Raphson on theta = (beta, log(1/alpha)) with step-halving.

    Alternating IRLS and alpha updates crawls along the beta-alpha ridge of small
    samples; the joint step converges quadratically.  Where the Hessian is not
    negative definite (far from the optimum), the alternating step is used instead.
    """
    n, p = X.shape[1], X.shape[2]
    q = p + 1
    # Integer and boolean constants passed to compiled functions are typed as literals,
    # and each literal value compiles its own copy of the callee; ``zero`` and ``never``
    # are runtime values, so each callee is compiled once (a cold clone compiles less).
    zero = n - n
    never = n < 0
    eta = work[0]
    mu = work[1]
    gradient = np.empty(q)
    hessian = np.empty((q, q))
    negative = np.empty((q, q))
    L = np.zeros((q, q))
    newton = np.empty(q)
    candidate = np.empty(q)
    scores = np.empty((n, q))
    _linear(X, xi, off, oi, theta[:p], eta, mu)
    current = _nb2_kernel(y, w, eta, mu, theta[p])
    for iteration in range(1, max_iter + 1):
        _nb2_parts(y, w, X, xi, mu, theta[p], gradient, hessian, scores, never)
        for a in range(q):
            for c in range(q):
                negative[a, c] = -hessian[a, c]
        if _cholesky(negative, L, q):
            _cholesky_solve(L, gradient, newton, q)
            size = 0.0
            for j in range(q):
                size = max(size, abs(newton[j]))
            if size < tol:  # converged: a step this small needs no likelihood check
                for j in range(q):
                    theta[j] += newton[j]
                return True, iteration
        else:
            # Alternating fallback: one Fisher step for beta at this alpha, then two
            # Newton steps for log(1/alpha) at the new mu.
            for j in range(q):
                candidate[j] = theta[j]
            alpha = math.exp(-theta[p])
            _irls(y, w, X, xi, off, oi, alpha, candidate[:p], zero + 1, 0.0, work)
            _linear(X, xi, off, oi, candidate[:p], eta, mu)
            log_r = _alpha_newton(y, w, mu, theta[p], zero + 2)
            for j in range(p):
                newton[j] = candidate[j] - theta[j]
            newton[p] = log_r - theta[p]
        newton[p] = min(max(newton[p], -2.0), 2.0)
        gradient_size = 0.0
        for j in range(q):
            gradient_size = max(gradient_size, abs(gradient[j]))
        step = 1.0
        accepted = False
        for _ in range(_HALVINGS):
            for j in range(q):
                candidate[j] = theta[j] + step * newton[j]
            candidate[p] = min(max(candidate[p], _MIN_LOG_R), _MAX_LOG_R)
            _linear(X, xi, off, oi, candidate[:p], eta, mu)
            trial = _nb2_kernel(y, w, eta, mu, candidate[p])
            if trial >= current - 1e-11 * abs(current):
                accepted = True
                break
            step *= 0.5
        if not accepted:
            _linear(X, xi, off, oi, theta[:p], eta, mu)
            return gradient_size < tol * 1e-2, iteration
        change = 0.0
        for j in range(q):
            change = max(change, abs(candidate[j] - theta[j]))
            theta[j] = candidate[j]
        current = trial
        # A small change after step-halving is no convergence: the step was cut
        # because the quadratic model was poor there (seen from warm starts on
        # permuted designs: "converged" in 2 iterations at a lower likelihood).
        if (change < tol and step == 1.0) or gradient_size < tol * 1e-2:
            return True, iteration
    return False, max_iter


@_compiled
def _fit_batch(
    y: Buf,
    w: Buf,
    X: Buf,
    off: Buf,
    alpha_fixed: Buf,
    estimate_alpha: bool,
    beta: Buf,
    log_r: Buf,
    warm: bool,
    max_iter: int,
    tol: float,
    se: Buf,
    robust: Buf,
    llf: Buf,
    converged: Buf,
    iterations: Buf,
) -> None:
    """Fit every member; ``beta`` and ``log_r`` hold the start values on entry."""
    B, n = y.shape
    p = X.shape[2]
    q = p + 1 if estimate_alpha else p
    work = np.empty((2, n))
    # Integer and boolean constants passed to compiled functions are typed as literals,
    # and each literal value compiles its own copy of the callee; ``zero`` and ``never``
    # are runtime values, so each callee is compiled once (a cold clone compiles less).
    zero = n - n
    theta = np.empty(p + 1)
    hessian = np.empty((q, q))
    gradient = np.empty(q)
    negative = np.empty((q, q))
    L = np.zeros((q, q))
    inverse = np.empty((q, q))
    scores = np.empty((n, q))
    previous = -1  # the member whose log-factorial sum is held
    previous_w = 0
    log_factorials = 0.0
    for b in range(B):
        xi = b if X.shape[0] > 1 else 0
        oi = b if off.shape[0] > 1 else 0
        wi = b if w.shape[0] > 1 else 0
        yb = y[b]
        wb = w[wi]
        eta = work[0]
        mu = work[1]
        positive = 0.0
        for i in range(n):
            positive += wb[i] * yb[i]
        if not positive > 0.0:  # all-zero outcome: no finite estimate exists
            beta[b, :] = np.nan
            log_r[b] = np.nan
            se[b, :] = np.nan
            robust[b, :] = np.nan
            llf[b] = np.nan
            converged[b] = False
            iterations[b] = 0
            continue
        done = 0
        ok = True
        if not estimate_alpha:
            ok, done = _irls(yb, wb, X, xi, off, oi, alpha_fixed[b], beta[b], max_iter, tol, work)
        else:
            if not warm:
                # A rough Poisson fit, the moment estimate of alpha (Cameron & Trivedi
                # 2013, sec. 3.2.3) and three Newton steps on it: the joint Newton
                # iterations then converge in a few steps.
                ok, done = _irls(yb, wb, X, xi, off, oi, 0.0, beta[b], max_iter, 1e-3, work)
                _linear(X, xi, off, oi, beta[b], eta, mu)
                excess = 0.0
                scale = 0.0
                for i in range(n):
                    excess += wb[i] * ((yb[i] - mu[i]) ** 2 - yb[i])
                    scale += wb[i] * mu[i] ** 2
                moment = min(max(excess / scale, 1e-2), 1e2) if scale > 0.0 else 0.5
                log_r[b] = _alpha_newton(yb, wb, mu, -math.log(moment), zero + 3)
            theta[:p] = beta[b]
            theta[p] = log_r[b]
            ok, more = _nb2_newton(yb, wb, X, xi, off, oi, theta, max_iter, tol, work)
            done += more
            beta[b] = theta[:p]
            log_r[b] = theta[p]
            if theta[p] <= _MIN_LOG_R:  # alpha diverging: no interior optimum
                ok = False
        _linear(X, xi, off, oi, beta[b], eta, mu)
        for i in range(n):
            if eta[i] <= _DIVERGED and wb[i] > 0.0:
                ok = False  # separation: a fitted mean diverging to zero
        converged[b] = ok
        iterations[b] = done
        # Log-likelihood (with the constants) and standard errors at the estimate.
        total = 0.0
        if estimate_alpha or alpha_fixed[b] > 0.0:
            current_log_r = log_r[b] if estimate_alpha else -math.log(alpha_fixed[b])
            total = _nb2_kernel(yb, wb, eta, mu, current_log_r)
        else:
            total = _kernel(yb, wb, eta, mu, 0.0)
        # -sum log(y!): the same for every member with the same outcome and weights
        # (a permutation batch repeats one outcome), so computed once for a run of them.
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
        llf[b] = total - log_factorials
        if estimate_alpha:
            _nb2_parts(yb, wb, X, xi, mu, log_r[b], gradient, hessian, scores, estimate_alpha)
            for a in range(q):
                for c in range(q):
                    negative[a, c] = -hessian[a, c]
        else:
            a0 = alpha_fixed[b]
            negative[:, :] = 0.0
            for i in range(n):
                weight = wb[i] * mu[i] / (1.0 + a0 * mu[i])
                resid = (yb[i] - mu[i]) / (1.0 + a0 * mu[i]) * math.sqrt(wb[i])
                for a in range(p):
                    scores[i, a] = X[xi, i, a] * resid
                    for c in range(p):
                        negative[a, c] += weight * X[xi, i, a] * X[xi, i, c]
        if not _standard_errors(negative, L, inverse, scores, n, q, p, se[b], robust[b]):
            converged[b] = False


# ----------------------------------------------------------------------------------
# Hurdle parts (compiled): a binary zero part and a zero-truncated NB2 count part

_LOGIT = 0  # P(y > 0) = 1 / (1 + exp(-eta))
_TRUNCATED_NB2 = 2


@_compiled
def _part_eval(
    model: int,
    y: Buf,
    w: Buf,
    X: Buf,
    xi: int,
    off: Buf,
    oi: int,
    theta: Buf,
    derivatives: bool,
    gradient: Buf,
    hessian: Buf,
    scores: Buf,
) -> float:
    """Log-likelihood (without constants) of one hurdle part; with ``derivatives``,
    also its gradient, Hessian and per-unit scores in theta (beta, and log(1/alpha)
    for the truncated NB2).  Units with zero weight, and for the truncated NB2 units
    with y == 0, do not enter."""
    n, p = X.shape[1], X.shape[2]
    q = p + 1 if model == _TRUNCATED_NB2 else p
    r = math.exp(theta[p]) if model == _TRUNCATED_NB2 else 0.0
    if derivatives:
        gradient[:] = 0.0
        hessian[:, :] = 0.0
    total = 0.0
    for i in range(n):
        wi = w[i]
        yi = y[i]
        if wi == 0.0 or (model == _TRUNCATED_NB2 and yi == 0.0):
            if derivatives:
                scores[i, :] = 0.0
            continue
        eta = off[oi, i]
        for j in range(p):
            eta += X[xi, i, j] * theta[j]
        eta = min(max(eta, -_CLIP), _CLIP)
        d_t = 0.0
        dd_t = 0.0
        d_et = 0.0
        if model == _LOGIT:
            positive = 1.0 if yi > 0.0 else 0.0
            # log(1 + exp(eta)) without overflow
            softplus = eta + math.log1p(math.exp(-eta)) if eta > 0.0 else math.log1p(math.exp(eta))
            total += wi * (positive * eta - softplus)
            prob = 1.0 / (1.0 + math.exp(-eta))
            d_eta = positive - prob
            dd_eta = -prob * (1.0 - prob)
        else:
            mu = math.exp(eta)
            ratio = r + mu
            log_ratio, first, second = _gamma_parts(yi, r)
            zero = -r * math.log1p(mu / r)  # log P(y = 0) under the NB2
            total += wi * (
                log_ratio + zero + yi * (eta - math.log(ratio)) - math.log(-math.expm1(zero))
            )
            # the untruncated NB2 part
            d_eta = r * (yi - mu) / ratio
            dd_eta = -r * mu * (r + yi) / (ratio * ratio)
            score_r = first - math.log1p(mu / r) + (mu - yi) / ratio
            hess_r = second + mu / (r * ratio) - (mu - yi) / (ratio * ratio)
            d_t = score_r * r
            dd_t = hess_r * r * r + score_r * r
            d_et = r * (yi - mu) * mu / (ratio * ratio)
            # the truncation term -log(1 - P0): derivatives of l0 = log P0 times
            # g = P0 / (1 - P0), plus g / (1 - P0) times products of first derivatives
            g = -math.exp(zero) / math.expm1(zero)
            h = g / (-math.expm1(zero))
            l_e = -r * mu / ratio
            l_t = r * (-math.log1p(mu / r) + mu / ratio)
            l_ee = -r * r * mu / (ratio * ratio)
            l_et = -r * mu * mu / (ratio * ratio)
            l_tt = r * mu * mu / (ratio * ratio) + l_t
            d_eta += g * l_e
            d_t += g * l_t
            dd_eta += g * l_ee + h * l_e * l_e
            d_et += g * l_et + h * l_e * l_t
            dd_t += g * l_tt + h * l_t * l_t
        if derivatives:
            root = math.sqrt(wi)
            for a in range(p):
                xa = X[xi, i, a]
                scores[i, a] = root * d_eta * xa
                gradient[a] += wi * d_eta * xa
                for c in range(a + 1):
                    hessian[a, c] += wi * dd_eta * xa * X[xi, i, c]
                if model == _TRUNCATED_NB2:
                    hessian[p, a] += wi * d_et * xa  # lower triangle, mirrored below
            if model == _TRUNCATED_NB2:
                scores[i, p] = root * d_t
                gradient[p] += wi * d_t
                hessian[p, p] += wi * dd_t
    if derivatives:
        for a in range(q):
            for c in range(a):
                hessian[c, a] = hessian[a, c]
    return total


@_compiled
def _part_newton(
    model: int,
    y: Buf,
    w: Buf,
    X: Buf,
    xi: int,
    off: Buf,
    oi: int,
    theta: Buf,
    max_iter: int,
    tol: float,
) -> tuple[bool, int]:
    """Newton-Raphson with step-halving for one hurdle part; where the Hessian is not
    negative definite, a Levenberg-Marquardt step (the Hessian shifted by a multiple
    of its diagonal until it is).  ``theta`` is updated in place."""
    n, p = X.shape[1], X.shape[2]
    q = p + 1 if model == _TRUNCATED_NB2 else p
    gradient = np.empty(q)
    hessian = np.empty((q, q))
    negative = np.empty((q, q))
    L = np.zeros((q, q))
    newton = np.empty(q)
    candidate = np.empty(q)
    scores = np.empty((n, q))
    current = _part_eval(model, y, w, X, xi, off, oi, theta, False, gradient, hessian, scores)
    for iteration in range(1, max_iter + 1):
        _part_eval(model, y, w, X, xi, off, oi, theta, True, gradient, hessian, scores)
        shift = 0.0
        for _ in range(60):
            for a in range(q):
                for c in range(q):
                    negative[a, c] = -hessian[a, c]
                negative[a, a] += shift * (abs(hessian[a, a]) + 1e-8)
            if _cholesky(negative, L, q):
                break
            shift = 1e-3 if shift == 0.0 else shift * 4.0
        _cholesky_solve(L, gradient, newton, q)
        if model == _TRUNCATED_NB2:
            newton[p] = min(max(newton[p], -2.0), 2.0)
        gradient_size = 0.0
        for j in range(q):
            gradient_size = max(gradient_size, abs(gradient[j]))
        step = 1.0
        accepted = False
        trial = current
        for _ in range(_HALVINGS):
            for j in range(q):
                candidate[j] = theta[j] + step * newton[j]
            if model == _TRUNCATED_NB2:
                candidate[p] = min(max(candidate[p], _MIN_LOG_R), _MAX_LOG_R)
            trial = _part_eval(
                model, y, w, X, xi, off, oi, candidate, False, gradient, hessian, scores
            )
            if trial >= current - 1e-11 * abs(current):
                accepted = True
                break
            step *= 0.5
        if not accepted:
            return gradient_size < tol * 1e-2, iteration
        change = 0.0
        for j in range(q):
            change = max(change, abs(candidate[j] - theta[j]))
            theta[j] = candidate[j]
        current = trial
        if change < tol or gradient_size < tol * 1e-2:
            return True, iteration
    return False, max_iter


@_compiled
def _part_batch(
    model: int,
    y: Buf,
    w: Buf,
    X: Buf,
    off: Buf,
    theta: Buf,
    max_iter: int,
    tol: float,
    se: Buf,
    robust: Buf,
    llf: Buf,
    converged: Buf,
    iterations: Buf,
) -> None:
    """Fit one hurdle part to every member; ``theta`` holds the start values."""
    B, n = y.shape
    p = X.shape[2]
    q = p + 1 if model == _TRUNCATED_NB2 else p
    gradient = np.empty(q)
    hessian = np.empty((q, q))
    negative = np.empty((q, q))
    L = np.zeros((q, q))
    inverse = np.empty((q, q))
    scores = np.empty((n, q))
    for b in range(B):
        xi = b if X.shape[0] > 1 else 0
        oi = b if off.shape[0] > 1 else 0
        wb = w[b if w.shape[0] > 1 else 0]
        yb = y[b]
        positives = 0.0
        zeros = 0.0
        for i in range(n):
            if yb[i] > 0.0:
                positives += wb[i]
            else:
                zeros += wb[i]
        empty = positives == 0.0 if model == _TRUNCATED_NB2 else positives * zeros == 0.0
        if empty:  # no zeros or no positives: no finite estimate exists
            theta[b, :] = np.nan
            se[b, :] = np.nan
            robust[b, :] = np.nan
            llf[b] = np.nan
            converged[b] = False
            iterations[b] = 0
            continue
        ok, done = _part_newton(model, yb, wb, X, xi, off, oi, theta[b], max_iter, tol)
        if model == _TRUNCATED_NB2 and theta[b, p] <= _MIN_LOG_R:
            ok = False  # alpha diverging
        # Separation: fitted probabilities of exactly 0 or 1 (see fit_logit).
        for i in range(n):
            if wb[i] == 0.0 or model == _TRUNCATED_NB2:
                continue
            eta = off[oi, i]
            for j in range(p):
                eta += X[xi, i, j] * theta[b, j]
            if abs(eta) >= -_DIVERGED:
                ok = False
        total = _part_eval(model, yb, wb, X, xi, off, oi, theta[b], True, gradient, hessian, scores)
        if model == _TRUNCATED_NB2:
            for i in range(n):
                if yb[i] > 0.0:
                    total -= wb[i] * math.lgamma(yb[i] + 1.0)
        llf[b] = total
        converged[b] = ok
        iterations[b] = done
        for a in range(q):
            for c in range(q):
                negative[a, c] = -hessian[a, c]
        if not _standard_errors(negative, L, inverse, scores, n, q, p, se[b], robust[b]):
            converged[b] = False


# ----------------------------------------------------------------------------------
# Public API


def _broadcast(
    y: Array, X: Array, offset: Array, weights: Array | None = None
) -> tuple[Array, Array, Array, Array]:
    """Contiguous float arrays; a shared X, offset or weights keep a leading axis of 1."""
    y = np.ascontiguousarray(np.atleast_2d(np.asarray(y, dtype=float)))
    batch, n = y.shape
    X = np.asarray(X, dtype=float)
    if X.ndim == 2:
        X = X[None]
    if X.shape[0] not in {1, batch} or X.shape[1] != n:
        raise ValueError(f"X has shape {X.shape}; expected ({n}, p) or ({batch}, {n}, p)")
    offset = np.atleast_2d(np.asarray(offset, dtype=float))
    if offset.shape[0] not in {1, batch} or offset.shape[1] != n:
        raise ValueError(f"offset has shape {offset.shape}; expected ({n},) or ({batch}, {n})")
    w = np.ones((1, n)) if weights is None else np.atleast_2d(np.asarray(weights, dtype=float))
    if w.shape[0] not in {1, batch} or w.shape[1] != n:
        raise ValueError(f"weights have shape {w.shape}; expected ({n},) or ({batch}, {n})")
    return y, np.ascontiguousarray(X), np.ascontiguousarray(offset), np.ascontiguousarray(w)


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
    batch, _ = y.shape
    p = X.shape[2]
    if start is not None:
        beta = np.broadcast_to(np.asarray(start[0], dtype=float), (batch, p)).copy()
    else:
        beta = rate_start(y, X, offset)
    estimate_alpha = family == "nb2" and alpha is None
    if family == "poisson":
        alphas = np.zeros(batch)
    else:
        alphas = np.broadcast_to(np.asarray(alpha if alpha is not None else 0.0), (batch,))
        alphas = alphas.astype(float).copy()
    log_r = np.zeros(batch)
    warm = estimate_alpha and start is not None
    if warm:
        assert start is not None  # for mypy
        start_alpha = np.broadcast_to(np.asarray(start[1], dtype=float), (batch,))
        log_r = -np.log(np.maximum(start_alpha, np.exp(-_MAX_LOG_R)))
    se, robust, llf, converged, iterations = _batch_outputs(batch, p)
    _fit_batch(
        y,
        w,
        X,
        offset,
        alphas,
        estimate_alpha,
        beta,
        log_r,
        warm,
        int(max_iter),
        float(tol),
        se,
        robust,
        llf,
        converged,
        iterations,
    )
    if estimate_alpha:
        with np.errstate(over="ignore"):
            alphas = np.exp(-log_r)
    return BatchFit(
        beta=beta,
        alpha=alphas,
        se=se,
        robust_se=robust,
        llf=llf,
        converged=converged,
        iterations=iterations,
    )


@_compiled
def _ols_batch(
    y: Buf, w: Buf, X: Buf, beta: Buf, se: Buf, robust: Buf, llf: Buf, converged: Buf
) -> None:
    B, n = y.shape
    p = X.shape[2]
    A = np.empty((p, p))
    L = np.zeros((p, p))
    g = np.empty(p)
    inverse = np.empty((p, p))
    scores = np.empty((n, p))
    for b in range(B):
        xi = b if X.shape[0] > 1 else 0
        wb = w[b if w.shape[0] > 1 else 0]
        A[:, :] = 0.0
        g[:] = 0.0
        count = 0.0
        for i in range(n):
            count += wb[i]
            for a in range(p):
                wa = wb[i] * X[xi, i, a]
                g[a] += wa * y[b, i]
                for c in range(a + 1):
                    A[a, c] += wa * X[xi, i, c]
        for a in range(p):
            for c in range(a):
                A[c, a] = A[a, c]
        if not _cholesky(A, L, p):
            beta[b, :] = np.nan
            se[b, :] = np.nan
            robust[b, :] = np.nan
            llf[b] = np.nan
            converged[b] = False
            continue
        _cholesky_solve(L, g, beta[b], p)
        rss = 0.0
        for i in range(n):
            resid = y[b, i]
            for j in range(p):
                resid -= X[xi, i, j] * beta[b, j]
            rss += wb[i] * resid * resid
            root = math.sqrt(wb[i]) * resid
            for j in range(p):
                scores[i, j] = root * X[xi, i, j]
        _cholesky_inverse(L, inverse, p)
        _sandwich_se(inverse, scores, n, p, p, se[b], robust[b])
        sigma2 = rss / (count - p)
        for j in range(p):
            se[b, j] = math.sqrt(inverse[j, j] * sigma2)
        llf[b] = -0.5 * count * (math.log(2.0 * math.pi * rss / count) + 1.0)
        converged[b] = True


def fit_ols(y: Array, X: Array, weights: Array | None = None) -> BatchFit:
    """Least squares for every outcome vector in the batch (e.g. OLS on the log rate).

    ``y`` (B, n) continuous; ``X`` (n, p) or (B, n, p); ``weights`` (n,) or (B, n)
    frequency weights.  ``se`` is the classical standard error (residual variance on
    n - p degrees of freedom, n the weighted count), ``robust_se`` HC0; ``alpha`` is 0
    and ``llf`` the Gaussian log-likelihood at the ML variance, as statsmodels ``OLS``.
    Normal equations by Cholesky, compiled; ``converged`` is False (NaN estimates)
    where X'X is singular.
    """
    y, X, _, w = _broadcast(y, X, np.zeros(np.atleast_2d(y).shape[-1]), weights)
    batch, p = y.shape[0], X.shape[2]
    beta = np.empty((batch, p))
    se, robust, llf, converged, iterations = _batch_outputs(batch, p)
    _ols_batch(y, w, X, beta, se, robust, llf, converged)
    return BatchFit(
        beta=beta,
        alpha=np.zeros(batch),
        se=se,
        robust_se=robust,
        llf=llf,
        converged=converged,
        iterations=iterations,  # OLS: closed form, no iterations (all 0)
    )


def _batch_outputs(batch: int, p: int) -> tuple[Array, Array, Array, Array, Array]:
    """The arrays a compiled batch fit writes into: standard errors, robust standard
    errors (batch x p), log-likelihood, converged flag and iterations (batch)."""
    return (
        np.empty((batch, p)),
        np.empty((batch, p)),
        np.empty(batch),
        np.zeros(batch, dtype=np.bool_),
        np.zeros(batch, dtype=np.int64),
    )


def warm_up() -> None:
    """Compile (first run) or load from the on-disk cache the compiled code behind
    :func:`fit` and :func:`fit_ols`, on a tiny problem.

    Call it once before starting threads or worker processes that fit models, so the
    compilation happens once and the others find it compiled or cached (each process
    would otherwise compile its own copy on a cold clone).  The hurdle parts are not
    touched: nothing that only needs :func:`fit` pays for compiling them.
    """
    X = np.column_stack([np.ones(4), np.arange(4.0)])
    y = np.array([[1.0, 0.0, 2.0, 3.0]])
    fit(y, X, np.zeros(4), family="nb2", max_iter=2)
    fit_ols(y, X)


def _part(
    model: int,
    y: Array,
    X: Array,
    offset: Array | None,
    weights: Array | None,
    start: Array,
    max_iter: int,
    tol: float,
) -> BatchFit:
    n = np.atleast_2d(y).shape[-1]
    y, X, off, w = _broadcast(y, X, np.zeros(n) if offset is None else offset, weights)
    batch, p = y.shape[0], X.shape[2]
    q = p + 1 if model == _TRUNCATED_NB2 else p
    theta = np.ascontiguousarray(np.broadcast_to(start, (batch, q)), dtype=float).copy()
    se, robust, llf, converged, iterations = _batch_outputs(batch, p)
    _part_batch(
        model,
        y,
        w,
        X,
        off,
        theta,
        int(max_iter),
        float(tol),
        se,
        robust,
        llf,
        converged,
        iterations,
    )
    with np.errstate(over="ignore"):
        alpha = np.exp(-theta[:, p]) if model == _TRUNCATED_NB2 else np.zeros(batch)
    return BatchFit(
        beta=theta[:, :p],
        alpha=alpha,
        se=se,
        robust_se=robust,
        llf=llf,
        converged=converged,
        iterations=iterations,
    )


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
    y2, X2, _, w = _broadcast(y, X, np.zeros(np.atleast_2d(y).shape[-1]), weights)
    share = (np.broadcast_to(w, y2.shape) * (y2 > 0)).sum(1) / np.broadcast_to(w, y2.shape).sum(1)
    share = np.clip(share, 1e-6, 1 - 1e-6)
    start = np.zeros((y2.shape[0], X2.shape[2]))
    if np.all(X2[:, :, 0] == 1.0):
        start[:, 0] = np.log(share / (1 - share))
    return _part(_LOGIT, y2, X2, offset, w, start, max_iter, tol)


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
    n = np.atleast_2d(y).shape[-1]
    y2, X2, off, w = _broadcast(y, X, np.zeros(n) if offset is None else offset, weights)
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
    return _part(_TRUNCATED_NB2, y2, X2, off, positive, theta, max_iter, tol)
