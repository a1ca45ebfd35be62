"""Randomization inference shared by the municipal models, the multiverse and its
cross-national analogue: one construction, one statistic, one p-value rule.

Construction (the test of one covariate ``x`` in a count model with covariates
``Z`` and an offset): ``x`` is regressed (OLS) on the model's *other covariates*
``Z`` (the constant and the controls) and only its residual ``e`` is permuted;
each permuted design has ``x* = Z g + e[pi]``.  The offset is *not* a covariate and
is never in ``Z``: residualising on log population as well (the construction used
before) keeps in ``x*`` the part of ``x`` that moves with population, so the
permuted estimates move with the true effect and the test loses power as the effect
grows.  Permuting the residualised covariate is the covariate-side counterpart of
Freedman & Lane (1983, J. Business & Economic Statistics 1: 292-298), which permutes
the outcome's residuals from the reduced model; that scheme needs exchangeable
outcome residuals, which a count model with an offset does not give.  Anderson &
Legendre (1999, J. Statistical Computation and Simulation 62: 271-303) and Winkler et
al. (2014, NeuroImage 92: 381-397) compare the residual-permutation schemes.  The
size of this one is checked by seeded simulation in the tests.

Statistic: the robust (sandwich) z of the focal coefficient, not the coefficient
itself; a studentized statistic is asymptotically pivotal, which keeps the
permutation test's size when units differ in leverage (Winkler et al. 2014;
DiCiccio & Romano 2017, JASA 112: 1211-1220).

p-values: with ``R`` random draws, ``p = (1 + #{|t*| >= |t|}) / (R + 1)`` (the
observed ordering counted once; Phipson & Smyth 2010).  When the residual vector
has at most ``R`` distinct arrangements (ties, e.g. a 0/1 covariate without
controls, or a handful of units), every distinct arrangement is enumerated and the
p-value is exact: ``p = #{|t*| >= |t|} / M`` over all ``M`` arrangements, the
observed one included.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kosovo_study.models import engine

Array = NDArray[Any]
#: Families of the focal statistic (:func:`focal`), the multiverse's model families.
FAMILIES = frozenset({"poisson", "nb2", "quasi_poisson", "ols_log_rate"})
#: Residuals equal to this many decimals count as tied (one arrangement).
TIE_DECIMALS = 10
#: Tolerance for "at least as extreme": a draw equal to the observed statistic up to
#: rounding counts as extreme (the conservative side).
EXTREME_TOLERANCE = 1e-10


def randomization_p(null: Array, observed: float) -> tuple[float, int]:
    """Monte Carlo two-sided p = (1 + #{|t*| >= |t|}) / (R + 1) over the finite draws; R.

    Draws that failed (non-finite) are dropped, and R counts only the valid ones.
    """
    valid = null[np.isfinite(null)]
    extreme = int(np.sum(np.abs(valid) >= abs(observed) - EXTREME_TOLERANCE))
    return (1 + extreme) / (len(valid) + 1), len(valid)


def exact_p(null: Array, observed: float) -> tuple[float, int]:
    """Exact two-sided p = #{|t*| >= |t|} / M over all M arrangements (observed included)."""
    valid = null[np.isfinite(null)]
    extreme = int(np.sum(np.abs(valid) >= abs(observed) - EXTREME_TOLERANCE))
    return max(extreme, 1) / max(len(valid), 1), len(valid)


def monte_carlo_se(p_value: float, draws: int, exact: bool) -> float:
    """Monte Carlo standard error of a randomization p-value (0 when enumerated)."""
    return 0.0 if exact else float(np.sqrt(p_value * (1 - p_value) / draws))


def residual_split(X: Array, column: int) -> tuple[Array, Array]:
    """Fitted part ``Z g`` and residual ``e`` of column ``column`` on the other columns
    of ``X`` (the constant and the other covariates; never the offset)."""
    others = np.delete(X, column, axis=1)
    target = X[:, column]
    coef, *_ = np.linalg.lstsq(others, target, rcond=None)
    fitted = others @ coef
    return fitted, target - fitted


def distinct_arrangements(values: Array) -> int:
    """Number of distinct orderings of ``values`` (multinomial n! / prod(m_k!) over ties)."""
    counts = Counter(np.round(values, TIE_DECIMALS).tolist())
    total = math.factorial(len(values))
    for multiplicity in counts.values():
        total //= math.factorial(multiplicity)
    return total


def enumerate_arrangements(values: Array) -> Array:
    """Index orders giving every distinct arrangement of ``values`` once, shape (M, n).

    Row ``m`` is an order ``o`` such that ``values[o]`` is the m-th distinct
    arrangement (lexicographic next-permutation over the tie classes).  Meant for
    small M only (see :func:`orderings`).
    """
    rounded = np.round(values, TIE_DECIMALS)
    classes, labels = np.unique(rounded, return_inverse=True)
    members = [list(np.flatnonzero(labels == k)) for k in range(len(classes))]
    sequence = sorted(labels.tolist())
    rows: list[list[int]] = []
    while True:
        pools = [list(m) for m in members]
        rows.append([pools[k].pop() for k in sequence])
        # next lexicographic permutation of the multiset ``sequence``
        i = len(sequence) - 2
        while i >= 0 and sequence[i] >= sequence[i + 1]:
            i -= 1
        if i < 0:
            break
        j = len(sequence) - 1
        while sequence[j] <= sequence[i]:
            j -= 1
        sequence[i], sequence[j] = sequence[j], sequence[i]
        sequence[i + 1 :] = reversed(sequence[i + 1 :])
    return np.asarray(rows, dtype=int)


def random_orderings(draws: int, n: int, rng: np.random.Generator) -> Array:
    """``draws`` uniformly random permutations of ``range(n)``, shape (draws, n): the one
    way the package draws random orderings."""
    return np.stack([rng.permutation(n) for _ in range(draws)])


def orderings(residuals: Array, draws: int, rng: np.random.Generator) -> tuple[Array, bool]:
    """Index orders to permute ``residuals`` by, and whether they are exhaustive.

    All distinct arrangements when there are at most ``draws`` of them (exact test),
    else ``draws`` uniformly random permutations (Monte Carlo test).
    """
    if distinct_arrangements(residuals) <= draws:
        return enumerate_arrangements(residuals), True
    return random_orderings(draws, len(residuals), rng), False


def permuted_designs(X: Array, column: int, orders: Array) -> Array:
    """Copies of ``X`` (one per row of ``orders``) whose ``column`` is ``Z g + e[order]``."""
    fitted, residuals = residual_split(X, column)
    designs = np.repeat(X[None], len(orders), axis=0)
    designs[:, :, column] = fitted + residuals[orders]
    return designs


def leave_one_out(y: Array, X: Array, offset: Array) -> tuple[Array, Array, Array]:
    """The data with each unit left out in turn, as one batch: y (n, n - 1), X (n, n - 1,
    p) and offset (n, n - 1); member i lacks unit i."""
    keep = ~np.eye(len(y), dtype=bool)
    return (
        np.stack([y[row] for row in keep]),
        np.stack([X[row] for row in keep]),
        np.stack([offset[row] for row in keep]),
    )


def engine_family(family: str) -> str:
    """The engine fit behind a family: quasi-Poisson shares Poisson's estimates."""
    return {"quasi_poisson": "poisson", "ols_log_rate": "ols"}.get(family, family)


def fit_batch(
    family: str,
    y: Array,
    X: Array,
    offset: Array,
    start: tuple[Array, Array] | None = None,
) -> engine.BatchFit:
    """One engine call for a batch ``y`` (B, n): OLS of the log rate
    ``log((y + 0.5) / population)``, or Poisson / NB2 maximum likelihood.

    With ``start`` (e.g. the estimates on the observed data) the iterations are
    warm-started; members that do not converge from it are refitted from the engine's
    default start, so a warm start never loses a member the default start would keep.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}: use one of {sorted(FAMILIES)}")
    y = np.atleast_2d(np.asarray(y, dtype=float))
    base = engine_family(family)
    if base == "ols":
        return engine.fit_ols(np.log((y + 0.5) / np.exp(offset)), X)
    result = engine.fit(y, X, offset, family=base, start=start)
    failed = np.flatnonzero(~result.converged)
    if start is not None and len(failed):
        cold = engine.fit(
            y[failed], X[failed] if X.ndim == 3 else X, offset, family=base, start=None
        )
        for name in ("beta", "alpha", "se", "robust_se", "llf", "converged", "iterations"):
            getattr(result, name)[failed] = getattr(cold, name)
    return result


@dataclass(frozen=True)
class FocalFit:
    """Batched focal estimates: coefficient, standard error and convergence, each (B,)."""

    coef: Array
    se: Array
    converged: Array

    @property
    def z(self) -> Array:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(self.coef / self.se)


def focal(
    family: str, fit: engine.BatchFit, y: Array, X: Array, offset: Array, column: int
) -> FocalFit:
    """The focal coefficient and its standard error, the one definition per family:
    ``poisson`` and ``nb2``: ML with robust (HC0 sandwich) SE; ``quasi_poisson``:
    Poisson estimates with model SE scaled by the Pearson dispersion
    ``sum((y - mu)^2 / mu) / (n - p)``; ``ols_log_rate``: OLS of the log rate with HC1 SE.
    """
    coef = fit.beta[:, column]
    if family == "ols_log_rate":
        n, p = X.shape[-2], X.shape[-1]
        return FocalFit(coef, fit.robust_se[:, column] * np.sqrt(n / (n - p)), fit.converged)
    if family == "quasi_poisson":
        design = np.broadcast_to(X, (len(y), *np.shape(X)[-2:]))
        n, p = design.shape[1], design.shape[2]
        mu = np.exp(np.einsum("bnp,bp->bn", design, fit.beta) + offset)
        dispersion = np.sum((y - mu) ** 2 / mu, axis=1) / (n - p)
        return FocalFit(coef, fit.se[:, column] * np.sqrt(dispersion), fit.converged)
    return FocalFit(coef, fit.robust_se[:, column], fit.converged)


def focal_statistics(
    family: str,
    y: Array,
    X: Array,
    offset: Array,
    column: int,
    start: tuple[Array, Array] | None = None,
) -> FocalFit:
    """:func:`focal` of :func:`fit_batch`: the focal statistic for a batch ``y`` (B, n)."""
    y = np.atleast_2d(np.asarray(y, dtype=float))
    return focal(family, fit_batch(family, y, X, offset, start), y, X, offset, column)


@dataclass(frozen=True)
class RandomizationTest:
    """A randomization test of one coefficient (see the module docstring)."""

    observed_coef: float
    observed_se: float
    observed_z: float
    p_value: float
    draws: int  # valid permuted refits (M when exact)
    exact: bool
    monte_carlo_se: float
    not_converged: int
    null_z: Array  # the permuted statistics, one per draw

    def as_row(self) -> dict[str, Any]:
        return {
            "observed_coef": self.observed_coef,
            "observed_z": self.observed_z,
            "permutation_p_value": self.p_value,
            "monte_carlo_se": self.monte_carlo_se,
            "permutations": self.draws,
            "exact_enumeration": self.exact,
            "not_converged": self.not_converged,
        }


#: Engine fits of one data set and focal column, shared by the families that share an
#: engine fit (Poisson and quasi-Poisson): (engine family, exact) -> fits.
Memo = dict[Any, Any]


def randomization_test(
    family: str,
    y: Array,
    X: Array,
    offset: Array,
    column: int,
    orders: Array,
    exact: bool = False,
    memo: Memo | None = None,
) -> RandomizationTest:
    """Test coefficient ``column`` by permuting its residual on the other covariates.

    ``orders`` (R, n) are index orders (from :func:`orderings`, or induced from
    orderings shared across specifications); ``exact`` says they enumerate every
    distinct arrangement.  The permuted refits are warm-started from the observed-data
    estimates (see :func:`fit_batch`); ``memo`` shares the engine fits between the
    families that share one (Poisson and quasi-Poisson: same estimates, different
    standard errors).
    """
    y = np.asarray(y, dtype=float)
    base = engine_family(family)
    key = (base, exact)
    if memo is not None and key in memo:
        observed, permuted, designs, batch = memo[key]
    else:
        observed = fit_batch(family, y[None], X, offset)
        designs = permuted_designs(X, column, orders)
        batch = np.repeat(y[None], len(orders), axis=0)
        start = None if base == "ols" else (observed.beta[0], observed.alpha[0])
        permuted = fit_batch(family, batch, designs, offset, start)
        if memo is not None:
            memo[key] = (observed, permuted, designs, batch)
    test = focal(family, observed, y[None], X, offset, column)
    null_fit = focal(family, permuted, batch, designs, offset, column)
    null = np.where(null_fit.converged, null_fit.z, np.nan)
    z = float(test.z[0])
    p_value, draws = exact_p(null, z) if exact else randomization_p(null, z)
    return RandomizationTest(
        observed_coef=float(test.coef[0]),
        observed_se=float(test.se[0]),
        observed_z=z,
        p_value=p_value,
        draws=draws,
        exact=exact,
        monte_carlo_se=monte_carlo_se(p_value, draws, exact),
        not_converged=int((~null_fit.converged).sum()),
        null_z=null,
    )


def batched_permutation_p(
    family: str,
    Y: Array,
    X: Array,
    offset: Array,
    column: int,
    orders: Array,
    chunk: int = 4000,
    observed: Array | None = None,
) -> Array:
    """Monte Carlo randomization p-values for many outcome vectors ``Y`` (S, n) on one
    design (the power simulations): each row is tested with the same ``orders``.

    ``observed`` (S,) are the statistics of the unpermuted fits when the caller has them
    already (the power simulation fits the same data sets for its Wald test): passing
    them saves refitting S models whose result would be identical."""
    designs = permuted_designs(X, column, orders)
    if observed is None:
        observed = focal_statistics(family, Y, X, offset, column).z
    observed = np.asarray(observed, dtype=float)
    if observed.shape != (len(Y),):
        raise ValueError(f"observed has shape {observed.shape}; expected ({len(Y)},)")
    draws = len(orders)
    per_chunk = max(1, chunk // draws)
    p_values = np.empty(len(Y))
    for first in range(0, len(Y), per_chunk):
        rows = slice(first, first + per_chunk)
        block = Y[rows]
        batch = np.repeat(block, draws, axis=0)
        tiled = np.tile(designs, (len(block), 1, 1))
        # No warm start from the observed fit: the engine's joint Newton iterations
        # from it can stop short on permuted designs (seen in testing); cold starts
        # always converged here.
        null = focal_statistics(family, batch, tiled, offset, column)
        z = np.where(null.converged, null.z, np.nan).reshape(len(block), draws)
        extreme = np.abs(z) >= np.abs(observed[rows, None]) - EXTREME_TOLERANCE
        valid = np.isfinite(z).sum(axis=1)
        p_values[rows] = (1 + extreme.sum(axis=1)) / (valid + 1)
    return p_values
