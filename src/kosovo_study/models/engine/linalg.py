"""Dense linear algebra for the small systems of one fit (p + 1 <= about 12), compiled:
Cholesky factor, solve and inverse, and the model-based and HC0 standard errors."""

from __future__ import annotations

import math

import numpy as np

from kosovo_study.models.engine.compiled import Buf, compiled


@compiled
def cholesky(A: Buf, L: Buf, q: int) -> bool:
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


@compiled
def cholesky_solve(L: Buf, b: Buf, x: Buf, q: int) -> None:
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


@compiled
def cholesky_inverse(L: Buf, inverse: Buf, q: int) -> None:
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


@compiled
def sandwich_se(inverse: Buf, scores: Buf, n: int, q: int, p: int, se: Buf, robust: Buf) -> None:
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


@compiled
def standard_errors(
    negative: Buf, L: Buf, inverse: Buf, scores: Buf, n: int, q: int, p: int, se: Buf, robust: Buf
) -> bool:
    """Model-based and HC0 standard errors of the first p parameters from the q x q
    information ``negative`` (minus the Hessian) and the per-unit ``scores``; False, and
    NaN errors, where the information is not positive definite."""
    if not cholesky(negative, L, q):
        se[:] = np.nan
        robust[:] = np.nan
        return False
    cholesky_inverse(L, inverse, q)
    sandwich_se(inverse, scores, n, q, p, se, robust)
    return True
