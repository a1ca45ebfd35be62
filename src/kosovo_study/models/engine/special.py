"""Special functions for the NB2 likelihood: differences of log Gamma, digamma and
trigamma at y + r and r (r = 1/alpha), compiled.

For an integer count y, log Gamma(y + r) - log Gamma(r), digamma(y + r) - digamma(r) and
trigamma(y + r) - trigamma(r) are the finite sums over k < y of log(r + k), 1/(r + k) and
-1/(r + k)**2 (Abramowitz & Stegun 6.1.15, 6.3.5, 6.4.6): exact, cheaper than the special
functions, and free of cancellation when r is large.  Counts above 24 (cross-national
counts run to thousands) take the first terms of the sums until r + k >= 16, then
differences of the asymptotic series (A&S 6.1.41, 6.3.18, 6.4.12) written without
cancellation: O(1) instead of O(y), agreeing with the sums to about 1e-13 (tested).
Non-integer or very large counts use the special functions.
"""

from __future__ import annotations

import math

from kosovo_study.models.engine.compiled import compiled

_EXACT_SUMS = 5000.0  # integer counts up to this are exact (sums or the asymptotic path)
_SHORT_SUMS = 24.0  # integer counts up to this use the finite sums, larger ones the
# asymptotic differences (psi_difference, log_gamma_difference): O(1) instead of O(y)
_ASYMPTOTIC_FROM = 16.0  # the asymptotic series are used for arguments >= this


@compiled
def digamma(x: float) -> float:
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


@compiled
def trigamma(x: float) -> float:
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


@compiled
def _stirling_tail(x: float) -> float:
    """log Gamma(x) - [(x - 1/2) log x - x + log(2 pi) / 2] for x >= 16: the Stirling
    series (Abramowitz & Stegun 6.1.41) to x**-7; truncation error below 1e-13."""
    inv = 1.0 / x
    inv2 = inv * inv
    return inv * (1.0 / 12 - inv2 * (1.0 / 360 - inv2 * (1.0 / 1260 - inv2 / 1680)))


@compiled
def _digamma_tail(x: float) -> float:
    """psi(x) - log x + 1/(2x) for x >= 16 (A&S 6.3.18 to x**-10; error below 1e-16)."""
    inv2 = 1.0 / (x * x)
    return -inv2 * (
        1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 / 132)))
    )


@compiled
def _trigamma_tail(x: float) -> float:
    """psi'(x) - 1/x - 1/(2x**2) - 1/(6x**3) for x >= 16 (A&S 6.4.12 to x**-9)."""
    inv = 1.0 / x
    inv2 = inv * inv
    return -inv2 * inv2 * inv * (1.0 / 30 - inv2 * (1.0 / 42 - inv2 / 30))


@compiled
def _shift(y: float, r: float) -> int:
    """Terms k < shift of the finite sums that bring r + k to at least 16."""
    return int(max(0.0, min(y, math.ceil(_ASYMPTOTIC_FROM - r))))


@compiled
def psi_difference(y: float, r: float) -> tuple[float, float]:
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


@compiled
def log_gamma_difference(y: float, r: float, r_mu: float) -> float:
    """log G(y+r) - log G(r) - y log(r_mu) for a large integer count y (see
    :func:`psi_difference`): Stirling's series for the remaining ratio,
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


@compiled
def gamma_parts(y: float, r: float) -> tuple[float, float, float]:
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
        digamma(y + r) - digamma(r),
        trigamma(y + r) - trigamma(r),
    )


@compiled
def psi_parts(y: float, r: float) -> tuple[float, float]:
    """psi(y+r) - psi(r) and psi'(y+r) - psi'(r) (the Newton steps need no log-gamma)."""
    if y == 0.0:
        return 0.0, 0.0
    if y == math.floor(y) and y <= _EXACT_SUMS:
        if y > _SHORT_SUMS:
            return psi_difference(y, r)
        first = 0.0
        second = 0.0
        for k in range(int(y)):
            inverse = 1.0 / (r + k)
            first += inverse
            second -= inverse * inverse
        return first, second
    return digamma(y + r) - digamma(r), trigamma(y + r) - trigamma(r)


@compiled
def log_gamma_term(y: float, r: float, r_mu: float) -> float:
    """log G(y+r) - log G(r) - y log(r + mu): one log of a product of ratios
    (r + k) / (r + mu) for an integer count, rescaled to stay within range."""
    if y == 0.0:
        return 0.0
    if y == math.floor(y) and y <= _EXACT_SUMS:
        if y > _SHORT_SUMS:
            return log_gamma_difference(y, r, r_mu)
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
