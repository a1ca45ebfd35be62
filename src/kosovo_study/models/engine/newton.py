"""The likelihoods of the engine's families and its one Newton loop, compiled.

Families (``model``, an integer code the compiled code branches on):

* ``FIXED``: Poisson (alpha = 0) or NB2 with alpha given; Fisher scoring (IRLS) in beta,
  step-halving on the log-likelihood kernel (the parts that depend on beta: no
  log-gamma per trial step).
* ``NB2``: NB2 with alpha estimated; joint Newton-Raphson on (beta, log(1/alpha)).  Where
  the Hessian is not negative definite (far from the optimum), one alternating step: a
  Fisher step for beta at this alpha, then two Newton steps for log(1/alpha).
* ``LOGIT`` and ``TRUNCATED_NB2``: the zero and count parts of a hurdle model;
  Newton-Raphson, and a Levenberg-Marquardt step where the Hessian is not negative
  definite.
* ``OLS``: least squares, solved in closed form by the batch driver (no loop).

Each family keeps its own arithmetic (its likelihood, gradient and information in one
function each); :func:`newton` is the loop they share: the step, step-halving, the bounds
on log(1/alpha) and the convergence rules.  Convergence is the largest parameter change
of a step below ``tol``; for ``NB2`` a step cut short by step-halving never counts
(seen from warm starts on permuted designs: "converged" in 2 iterations at a lower
likelihood), and for the estimated-alpha families a gradient below ``tol / 100`` counts
too.
"""

from __future__ import annotations

import math

from kosovo_study.models.engine.compiled import Buf, compiled
from kosovo_study.models.engine.linalg import cholesky, cholesky_solve
from kosovo_study.models.engine.special import gamma_parts, log_gamma_term, psi_parts

FIXED = 0  # Poisson or NB2 with alpha given: p parameters
NB2 = 1  # NB2 with alpha estimated: (beta, log(1/alpha))
LOGIT = 2  # hurdle zero part: P(y > 0) = 1 / (1 + exp(-eta))
TRUNCATED_NB2 = 3  # hurdle count part: (beta, log(1/alpha))
OLS = 4  # least squares (closed form)
MAX_LOG_R = 25.0  # 1/alpha up to ~7e10: the Poisson limit (no overdispersion)
MIN_LOG_R = -10.0  # alpha up to ~2e4: beyond this alpha is diverging (flagged)
_CLIP = 50.0  # linear predictors are clipped to +-50 (exp overflows beyond ~709)
DIVERGED = -30.0  # a linear predictor below this (mu < 1e-13) means separation
_HALVINGS = 40  # step-halving trials per iteration (a step of 2**-40 is no step)


@compiled
def linear(X: Buf, off: Buf, beta: Buf, eta: Buf, mu: Buf) -> None:
    n, p = X.shape
    for i in range(n):
        s = off[i]
        for j in range(p):
            s += X[i, j] * beta[j]
        if s > _CLIP:
            s = _CLIP
        elif s < -_CLIP:
            s = -_CLIP
        eta[i] = s
        mu[i] = math.exp(s)


@compiled
def buffer_views(buffers: Buf, p: int) -> tuple[Buf, Buf, Buf, Buf, Buf, Buf]:
    """The work buffers of a fit (3 + 3 (p + 1), p + 1): the gradient, the step, the
    candidate, and three (p + 1) x (p + 1) matrices (Hessian, information, Cholesky
    factor)."""
    hessian = buffers[3 : p + 4]
    negative = buffers[p + 4 : 2 * p + 5]
    return buffers[0], buffers[1], buffers[2], hessian, negative, buffers[2 * p + 5 : 3 * p + 6]


@compiled
def _mirror(M: Buf, q: int) -> None:
    """Copy the lower triangle of the q x q matrix M to its upper triangle."""
    for a in range(q):
        for c in range(a):
            M[c, a] = M[a, c]


@compiled
def _negate(hessian: Buf, negative: Buf, q: int) -> None:
    """The information: minus the q x q Hessian."""
    for a in range(q):
        for c in range(q):
            negative[a, c] = -hessian[a, c]


@compiled
def kernel(y: Buf, w: Buf, eta: Buf, mu: Buf, alpha: float) -> float:
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


@compiled
def nb2_kernel(y: Buf, w: Buf, eta: Buf, mu: Buf, log_r: float) -> float:
    """NB2 log-likelihood in (beta, log r) without the constant -log(y!)."""
    r = math.exp(log_r)
    total = 0.0
    for i in range(y.shape[0]):
        yi = y[i]
        term = -r * math.log1p(mu[i] / r)
        if yi != 0.0:
            term += log_gamma_term(yi, r, r + mu[i]) + yi * eta[i]
        total += w[i] * term
    return total


@compiled
def alpha_newton(y: Buf, w: Buf, mu: Buf, log_r: float, steps: int) -> float:
    """Newton steps on t = log(1/alpha) for the NB2 likelihood with mu held fixed."""
    for _ in range(steps):
        r = math.exp(log_r)
        score = 0.0
        hess = 0.0
        for i in range(y.shape[0]):
            first, second = psi_parts(y[i], r)
            ratio = r + mu[i]
            score += w[i] * (first - math.log1p(mu[i] / r) + (mu[i] - y[i]) / ratio)
            hess += w[i] * (second + mu[i] / (r * ratio) - (mu[i] - y[i]) / (ratio * ratio))
        grad_t = score * r
        hess_t = hess * r * r + score * r
        step = -grad_t / hess_t if hess_t < 0.0 else math.copysign(1.0, grad_t)
        step = min(max(step, -2.0), 2.0)
        log_r = min(max(log_r + step, MIN_LOG_R), MAX_LOG_R)
    return log_r


@compiled
def _nb2_parts(
    y: Buf,
    w: Buf,
    X: Buf,
    mu: Buf,
    log_r: float,
    gradient: Buf,
    hessian: Buf,
    scores: Buf,
    with_scores: bool,
) -> None:
    """Gradient, Hessian and (``with_scores``) per-unit scores in (beta, log(1/alpha))
    at fitted mu."""
    n, p = X.shape
    r = math.exp(log_r)
    gradient[:] = 0.0
    hessian[:, :] = 0.0
    for i in range(n):
        yi = y[i]
        m = mu[i]
        inverse = 1.0 / (r + m)
        inverse2 = inverse * inverse
        first, second = psi_parts(yi, r)
        d_eta = r * (yi - m) * inverse
        dd_eta = -r * m * (r + yi) * inverse2
        score_r = first - math.log1p(m / r) + (m - yi) * inverse
        hess_r = second + m * inverse / r - (m - yi) * inverse2
        cross = r * (yi - m) * m * inverse2
        wi = w[i]
        for a in range(p):
            xa = X[i, a]
            gradient[a] += wi * d_eta * xa
            hessian[p, a] += wi * cross * xa
            for c in range(a + 1):
                hessian[a, c] += wi * dd_eta * xa * X[i, c]
        gradient[p] += wi * score_r * r
        hessian[p, p] += wi * (hess_r * r * r + score_r * r)
        if with_scores:  # frequency weights: unit i's score counts w_i times
            root = math.sqrt(wi)
            for a in range(p):
                scores[i, a] = root * d_eta * X[i, a]
            scores[i, p] = root * score_r * r
    _mirror(hessian, p + 1)


@compiled
def _hurdle_part(
    model: int,
    y: Buf,
    w: Buf,
    X: Buf,
    off: Buf,
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
    n, p = X.shape
    q = p + 1 if model == TRUNCATED_NB2 else p
    r = math.exp(theta[p]) if model == TRUNCATED_NB2 else 0.0
    if derivatives:
        gradient[:] = 0.0
        hessian[:, :] = 0.0
    total = 0.0
    for i in range(n):
        wi = w[i]
        yi = y[i]
        if wi == 0.0 or (model == TRUNCATED_NB2 and yi == 0.0):
            if derivatives:
                scores[i, :] = 0.0
            continue
        eta = off[i]
        for j in range(p):
            eta += X[i, j] * theta[j]
        eta = min(max(eta, -_CLIP), _CLIP)
        d_t = 0.0
        dd_t = 0.0
        d_et = 0.0
        if model == LOGIT:
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
            log_ratio, first, second = gamma_parts(yi, r)
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
                xa = X[i, a]
                scores[i, a] = root * d_eta * xa
                gradient[a] += wi * d_eta * xa
                for c in range(a + 1):
                    hessian[a, c] += wi * dd_eta * xa * X[i, c]
                if model == TRUNCATED_NB2:
                    hessian[p, a] += wi * d_et * xa  # lower triangle, mirrored below
            if model == TRUNCATED_NB2:
                scores[i, p] = root * d_t
                gradient[p] += wi * d_t
                hessian[p, p] += wi * dd_t
    if derivatives:
        _mirror(hessian, q)
    return total


@compiled
def _fisher(
    y: Buf,
    w: Buf,
    X: Buf,
    alpha: float,
    mu: Buf,
    gradient: Buf,
    negative: Buf,
    scores: Buf,
    with_scores: bool,
) -> None:
    """Fisher information X'WX (weights mu / (1 + alpha mu)), the gradient X' w (y - mu)
    / (1 + alpha mu) and (``with_scores``) the per-unit scores of ``FIXED`` at mu."""
    n, p = X.shape
    negative[:, :] = 0.0
    gradient[:] = 0.0
    for i in range(n):
        weight = w[i] * mu[i] / (1.0 + alpha * mu[i])
        resid = w[i] * (y[i] - mu[i]) / (1.0 + alpha * mu[i])
        for a in range(p):
            xa = X[i, a]
            gradient[a] += xa * resid
            wa = weight * xa
            for c in range(a + 1):
                negative[a, c] += wa * X[i, c]
    _mirror(negative, p)
    if with_scores:
        for i in range(n):
            root = (y[i] - mu[i]) / (1.0 + alpha * mu[i]) * math.sqrt(w[i])
            for a in range(p):
                scores[i, a] = X[i, a] * root


@compiled
def information(
    model: int,
    data: Buf,
    theta: Buf,
    alpha: float,
    mu: Buf,
    buffers: Buf,
    scores: Buf,
    with_scores: bool,
) -> float:
    """The gradient and the information (minus the Hessian; its lower triangle is what
    the Cholesky factor reads) at theta in ``buffers`` (see :func:`buffer_views`), and with
    ``with_scores`` the per-unit scores (frequency weights: unit i's score counts w_i
    times).  ``data`` is (y, w, X, offset).  ``FIXED`` and ``NB2`` read the fitted
    ``mu`` at theta; the hurdle parts compute their own and return their log-likelihood
    (the others return 0)."""
    y, w, X, off = data
    p = X.shape[1]
    gradient, _, _, hessian, negative, _ = buffer_views(buffers, p)
    if model == FIXED:
        _fisher(y, w, X, alpha, mu, gradient, negative, scores, with_scores)
        return 0.0
    total = 0.0
    if model == NB2:
        _nb2_parts(y, w, X, mu, theta[p], gradient, hessian, scores, with_scores)
    else:
        total = _hurdle_part(model, y, w, X, off, theta, True, gradient, hessian, scores)
    _negate(hessian, negative, p + 1 if model in (NB2, TRUNCATED_NB2) else p)
    return total


@compiled
def objective(
    model: int, data: Buf, theta: Buf, alpha: float, work: Buf, buffers: Buf, scores: Buf
) -> float:
    """What step-halving compares: the log-likelihood kernel at theta (``FIXED``: the
    parts that depend on beta; ``NB2``: without -log(y!)), leaving eta and mu at theta
    in ``work`` (``FIXED``, ``NB2``)."""
    y, w, X, off = data
    p = X.shape[1]
    if model in (FIXED, NB2):
        linear(X, off, theta[:p], work[0], work[1])
        if model == FIXED:
            return kernel(y, w, work[0], work[1], alpha)
        return nb2_kernel(y, w, work[0], work[1], theta[p])
    gradient, _, _, hessian, _, _ = buffer_views(buffers, p)
    return _hurdle_part(model, y, w, X, off, theta, False, gradient, hessian, scores)


@compiled
def _halve(
    model: int,
    data: Buf,
    theta: Buf,
    direction: Buf,
    current: float,
    alpha: float,
    work: Buf,
    buffers: Buf,
    scores: Buf,
) -> tuple[bool, float, float]:
    """Step-halving from theta along ``direction`` until the objective does not fall;
    returns (accepted, step, objective), the accepted point in the candidate buffer."""
    p = data[2].shape[1]
    q = p + 1 if model in (NB2, TRUNCATED_NB2) else p
    candidate = buffers[2]
    step = 1.0
    trial = current
    for _ in range(_HALVINGS):
        for j in range(q):
            candidate[j] = theta[j] + step * direction[j]
        if q > p:
            candidate[p] = min(max(candidate[p], MIN_LOG_R), MAX_LOG_R)
        trial = objective(model, data, candidate, alpha, work, buffers, scores)
        if trial >= current - 1e-11 * abs(current):
            return True, step, trial
        step *= 0.5
    return False, step, trial


@compiled
def newton(
    model: int,
    data: Buf,
    theta: Buf,
    alpha: float,
    max_iter: int,
    tol: float,
    work: Buf,
    buffers: Buf,
    scores: Buf,
) -> tuple[bool, int]:
    """Newton-Raphson (Fisher scoring for ``FIXED``) with step-halving on ``data`` = (y,
    w, X, offset), ``theta`` updated in place; returns (converged, iterations).  ``work``
    (2, n) holds eta and mu, ``buffers`` the work buffers of :func:`buffer_views`."""
    y, w, X, off = data
    n, p = X.shape
    q = p + 1 if model in (NB2, TRUNCATED_NB2) else p
    hurdle = model in (LOGIT, TRUNCATED_NB2)
    # Integer and boolean constants passed to compiled functions are typed as literals,
    # and each literal value compiles its own copy of the callee; ``fixed`` and
    # ``never`` are runtime values, so each callee is compiled once.
    fixed = n - n + FIXED
    never = n < 0
    gradient, newton_step, candidate, hessian, negative, L = buffer_views(buffers, p)
    current = objective(model, data, theta, alpha, work, buffers, scores)
    for iteration in range(1, max_iter + 1):
        information(model, data, theta, alpha, work[1], buffers, scores, never)
        solved = cholesky(negative, L, q)
        if not solved and hurdle:
            # Levenberg-Marquardt: shift the diagonal by a growing multiple of itself.
            shift = 1e-3
            for _ in range(59):
                _negate(hessian, negative, q)
                for a in range(q):
                    negative[a, a] += shift * (abs(hessian[a, a]) + 1e-8)
                if cholesky(negative, L, q):
                    break
                shift *= 4.0
        if not solved and model == FIXED:
            return False, iteration
        gradient_size = 0.0
        for j in range(q):
            gradient_size = max(gradient_size, abs(gradient[j]))
        if solved or hurdle:
            cholesky_solve(L, gradient, newton_step, q)
            size = 0.0
            for j in range(q):
                size = max(size, abs(newton_step[j]))
            if solved and not hurdle and size < tol:
                # converged: a step this small needs no likelihood check
                for j in range(q):
                    theta[j] += newton_step[j]
                return True, iteration
        else:
            # NB2, alternating fallback: one Fisher step for beta at this alpha (the
            # gradient and information buffers reused), then two Newton steps for
            # log(1/alpha) at the new mu.
            alpha_t = math.exp(-theta[p])
            base = objective(fixed, data, theta, alpha_t, work, buffers, scores)
            information(fixed, data, theta, alpha_t, work[1], buffers, scores, never)
            moved = False
            if cholesky(negative, L, p):
                cholesky_solve(L, gradient, newton_step, p)
                moved, _, _ = _halve(
                    fixed, data, theta, newton_step, base, alpha_t, work, buffers, scores
                )
            if not moved:
                for j in range(p):
                    candidate[j] = theta[j]
            linear(X, off, candidate[:p], work[0], work[1])
            log_r = alpha_newton(y, w, work[1], theta[p], n - n + 2)
            for j in range(p):
                newton_step[j] = candidate[j] - theta[j]
            newton_step[p] = log_r - theta[p]
        if q > p:
            newton_step[p] = min(max(newton_step[p], -2.0), 2.0)
        accepted, step, trial = _halve(
            model, data, theta, newton_step, current, alpha, work, buffers, scores
        )
        if not accepted:
            linear(X, off, theta[:p], work[0], work[1])
            return model != FIXED and gradient_size < tol * 1e-2, iteration
        change = 0.0
        for j in range(q):
            change = max(change, abs(candidate[j] - theta[j]))
            theta[j] = candidate[j]
        current = trial
        if model == FIXED:
            done = change < tol
        elif model == NB2:
            done = (change < tol and step == 1.0) or gradient_size < tol * 1e-2
        else:
            done = change < tol or gradient_size < tol * 1e-2
        if done:
            return True, iteration
    return False, max_iter
