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
has at most :data:`EXACT_LIMIT` (10^5) distinct arrangements (ties, e.g. a 0/1
covariate without controls, or a handful of units), every distinct arrangement is
enumerated and the p-value is exact: ``p = #{|t*| >= |t|} / M`` over all ``M``
arrangements, the observed one included (:func:`orderings` with ``limit``).

Fisher intervals (:func:`fisher_interval`): the test is inverted over the
coefficient.  Under the sharp null ``H0: beta = b`` the focal term's contribution
``b x`` is moved into the offset (``offset + b x``, so the offset is respected and the
population exposure is never permuted), and the shifted model is tested for a zero
focal coefficient with the same construction and the same orderings.  The interval is
the set of ``b`` whose randomization p-value exceeds alpha, reported as rate ratios
``exp(b)`` (Rosenbaum 2002, Observational Studies, ch. 2; ri2 and ritest do the
same for linear models).  Its coverage is checked by seeded simulation in the tests.

Multiplicity (:func:`holm`, :func:`step_down_min_p`): Holm's (1979) step-down
correction needs only the p-values; the Romano & Wolf (2005, Econometrica 73:
1237-1282) step-down correction uses the joint randomization distribution (the same
draw is one null world for every member of the family) in its min-p form
(Westfall & Young 1993), which accounts for the dependence between the tests.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
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
#: Enumerate every distinct arrangement (an exact test) when there are at most this
#: many; above it, random draws.
EXACT_LIMIT = 100_000


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


def orderings(
    residuals: Array, draws: int, rng: np.random.Generator, limit: int | None = None
) -> tuple[Array, bool]:
    """Index orders to permute ``residuals`` by, and whether they are exhaustive.

    All distinct arrangements when there are at most ``limit`` of them (exact test;
    ``limit`` defaults to ``draws``, the municipal analysis passes :data:`EXACT_LIMIT`),
    else ``draws`` uniformly random permutations (Monte Carlo test).  ``rng`` is not
    used when the test is exact.
    """
    limit = draws if limit is None else max(limit, draws)
    if distinct_arrangements(residuals) <= limit:
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
            y[failed],
            X[failed] if X.ndim == 3 else X,
            offset[failed] if np.ndim(offset) == 2 else offset,
            family=base,
            start=None,
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


def _permuted_z(
    family: str,
    Y: Array,
    offsets: Array,
    designs: Array,
    column: int,
    chunk: int,
    start: tuple[Array, Array] | None = None,
) -> Iterator[tuple[slice, Array]]:
    """The permuted statistics of every row of ``Y`` (S, n), each refitted on every
    permuted design with its own row of ``offsets`` (S, n) or the one offset (n,), in
    engine batches of about ``chunk`` fits: yields (rows, z (rows, R)), failed fits NaN."""
    draws = len(designs)
    per_chunk = max(1, chunk // draws)
    for first in range(0, len(Y), per_chunk):
        rows = slice(first, first + per_chunk)
        block = Y[rows]
        batch = np.repeat(block, draws, axis=0)
        tiled = np.tile(designs, (len(block), 1, 1))
        offset = offsets if np.ndim(offsets) == 1 else np.repeat(offsets[rows], draws, axis=0)
        null = focal_statistics(family, batch, tiled, offset, column, start)
        yield rows, np.where(null.converged, null.z, np.nan).reshape(len(block), draws)


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
    p_values = np.empty(len(Y))
    # No warm start from the observed fit: the engine's joint Newton iterations from it
    # can stop short on permuted designs (seen in testing); cold starts always
    # converged here.
    for rows, z in _permuted_z(family, Y, offset, designs, column, chunk):
        extreme = np.abs(z) >= np.abs(observed[rows, None]) - EXTREME_TOLERANCE
        valid = np.isfinite(z).sum(axis=1)
        p_values[rows] = (1 + extreme.sum(axis=1)) / (valid + 1)
    return p_values


def shifted_null_p(
    family: str,
    y: Array,
    X: Array,
    offset: Array,
    column: int,
    orders: Array,
    shifts: Array,
    exact: bool = False,
    chunk: int = 8000,
) -> Array:
    """Randomization p-values of the sharp nulls ``beta_column = b`` for each ``b`` in
    ``shifts`` (log rate ratio per unit of the column), with the same ``orders``.

    Under ``H0: beta = b`` the term ``b x`` joins the offset (``offset + b x``) and the
    shifted model is tested for a zero focal coefficient: the observed statistic is
    ``(beta_hat - b) / se`` (the shifted fit is a reparametrisation of the observed
    one: same fitted means, same robust SE), the permuted ones come from refits of the
    permuted designs on the shifted offset.  Every shift is fitted in one engine batch
    (offsets (B, n)); permuted refits start from the observed estimates with the focal
    coefficient at 0 (members that fail are refitted cold, see :func:`fit_batch`).
    """
    y = np.asarray(y, dtype=float)
    shifts = np.atleast_1d(np.asarray(shifts, dtype=float))
    observed = fit_batch(family, y[None], X, offset)
    test = focal(family, observed, y[None], X, offset, column)
    coef, se = float(test.coef[0]), float(test.se[0])
    designs = permuted_designs(X, column, orders)
    start = None
    if engine_family(family) != "ols":
        beta0 = observed.beta[0].copy()
        beta0[column] = 0.0
        start = (beta0, observed.alpha[0])
    offsets = offset[None] + shifts[:, None] * X[:, column][None]
    Y = np.repeat(y[None], len(shifts), axis=0)
    rule = exact_p if exact else randomization_p
    p_values = np.empty(len(shifts))
    for rows, z in _permuted_z(family, Y, offsets, designs, column, chunk, start):
        for k, b in enumerate(shifts[rows]):
            p_values[rows.start + k] = rule(z[k], (coef - b) / se)[0]
    return p_values


@dataclass(frozen=True)
class FisherInterval:
    """A randomization (Fisher) interval of the focal coefficient, by test inversion.

    ``low`` and ``high`` are on the coefficient (log rate ratio) scale; -inf / inf when
    the p-value stays above alpha over the whole search range (no bound from the data).
    ``evaluations`` counts the shifted nulls tested.
    """

    low: float
    high: float
    level: float
    evaluations: int

    @property
    def rate_ratio(self) -> tuple[float, float]:
        return float(np.exp(self.low)), float(np.exp(self.high))


def invert(
    p_at: Any,
    estimate: float,
    scale: float,
    alpha: float = 0.05,
    tolerance: float = 0.01,
    reach: float = 4.0,
    max_reach: float = 64.0,
) -> FisherInterval:
    """The interval ``{b: p(b) > alpha}`` around ``estimate`` by bisection on both sides.

    ``p_at`` maps an array of values of ``b`` to their p-values (one batch per call:
    both ends are bisected together).  Brackets start ``reach`` x ``scale`` (an SE)
    from the estimate and double up to ``max_reach`` SE (then the bound is infinite);
    bisection stops when each bracket is narrower than ``tolerance`` x ``scale``.  The
    endpoints are the bracket midpoints.  ``p(b)`` need not be monotone in ``b``: the
    result is the edge of the accepted region that bisection from the estimate finds,
    the standard practice of ri2 and ritest, which search a grid.
    """
    if not (np.isfinite(estimate) and np.isfinite(scale) and scale > 0):
        return FisherInterval(np.nan, np.nan, 1 - alpha, 0)
    evaluations = 0
    inner = np.array([estimate, estimate])
    width = reach
    outer = np.array([estimate - width * scale, estimate + width * scale])
    open_side = np.array([True, True])
    while True:
        p = np.asarray(p_at(outer[open_side]))
        evaluations += int(open_side.sum())
        accepted = np.zeros(2, dtype=bool)
        accepted[open_side] = p > alpha
        if not accepted.any():
            break
        if width * 2 > max_reach:
            break
        inner = np.where(accepted, outer, inner)
        width *= 2
        outer = np.where(
            accepted, np.array([estimate - width * scale, estimate + width * scale]), outer
        )
        open_side = accepted
    unbounded = accepted.copy()
    while np.any((np.abs(outer - inner) > tolerance * scale) & ~unbounded):
        middle = (inner + outer) / 2
        active = ~unbounded
        p = np.asarray(p_at(middle[active]))
        evaluations += int(active.sum())
        keep = np.zeros(2, dtype=bool)
        keep[active] = p > alpha
        inner = np.where(active & keep, middle, inner)
        outer = np.where(active & ~keep, middle, outer)
    ends = (inner + outer) / 2
    low = -np.inf if unbounded[0] else float(ends[0])
    high = np.inf if unbounded[1] else float(ends[1])
    return FisherInterval(low, high, 1 - alpha, evaluations)


def fisher_interval(
    family: str,
    y: Array,
    X: Array,
    offset: Array,
    column: int,
    orders: Array,
    exact: bool = False,
    alpha: float = 0.05,
    tolerance: float = 0.01,
) -> FisherInterval:
    """The randomization interval of coefficient ``column``: :func:`invert` of
    :func:`shifted_null_p` (see the module docstring), searched in units of the
    coefficient's robust SE from the estimate."""
    y = np.asarray(y, dtype=float)
    test = focal_statistics(family, y[None], X, offset, column)
    coef, se = float(test.coef[0]), float(test.se[0])

    def p_at(values: Array) -> Array:
        return shifted_null_p(family, y, X, offset, column, orders, values, exact)

    return invert(p_at, coef, se, alpha, tolerance)


def holm(p_values: Array) -> Array:
    """Holm's (1979) step-down adjusted p-values (missing values stay missing)."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(len(p), np.nan)
    present = np.flatnonzero(np.isfinite(p))
    m = len(present)
    order = present[np.argsort(p[present], kind="stable")]
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def draw_p_values(null: Array, observed: Array | None = None) -> Array:
    """Each draw's p-value within its row's randomization distribution, (m, R).

    Draw r is ranked in the same reference set as the observed statistic (the R draws
    and the observed one): ``p*_r = #{u in draws and observed: |t_u| >= |t*_r|} / (R + 1)``,
    so under the null the observed p-value (:func:`randomization_p`) and every draw's
    are exchangeable, which the min-p adjustment needs.  ``observed`` (m,) are the rows'
    observed statistics (without them the observed one is left out of the count).
    Failed (NaN) draws count as least extreme.
    """
    magnitude = np.where(np.isfinite(null), np.abs(null), -np.inf)
    ordered = np.sort(magnitude, axis=1)
    draws = magnitude.shape[1]
    at_least = np.stack(
        [
            draws - np.searchsorted(row, values - EXTREME_TOLERANCE, side="left")
            for row, values in zip(ordered, magnitude, strict=True)
        ]
    )
    if observed is not None:
        top = np.abs(np.asarray(observed, dtype=float))[:, None]
        at_least = at_least + (top >= magnitude - EXTREME_TOLERANCE)
    return np.asarray(at_least / (draws + 1))


def step_down_min_p(p_values: Array, null_p: Array) -> Array:
    """Romano-Wolf step-down adjusted p-values in the min-p form.

    ``p_values`` (m,) are the observed p-values; ``null_p`` (m, R) each member's
    p-value in every joint randomization draw (:func:`draw_p_values`; the same draw r
    for every member).  Members in order of increasing p: the adjusted p of the k-th
    is ``(1 + #{r: min over members k..m of null_p[., r] <= p_k}) / (R + 1)``, made
    monotone.  Controls the family-wise error rate under any dependence the joint
    draws carry (Romano & Wolf 2005; Westfall & Young 1993, Algorithm 2.8).
    """
    p = np.asarray(p_values, dtype=float)
    null_p = np.asarray(null_p, dtype=float)
    order = np.argsort(p, kind="stable")
    draws = null_p.shape[1]
    # successive minima from the least to the most significant member
    tail_min = np.minimum.accumulate(null_p[order][::-1], axis=0)[::-1]
    adjusted = np.empty(len(p))
    running = 0.0
    for rank, index in enumerate(order):
        hits = int(np.sum(tail_min[rank] <= p[index] + EXTREME_TOLERANCE))
        running = max(running, (1 + hits) / (draws + 1))
        adjusted[index] = min(running, 1.0)
    return adjusted


def freedman_lane_test(
    log_rate: Array, X: Array, column: int, orders: Array
) -> tuple[float, float, Array]:
    """Freedman & Lane's (1983) test of coefficient ``column`` in the OLS of the log rate:
    the outcome's residuals from the reduced model (without the focal column) are
    permuted and added back to its fitted values, the full model is refitted, and the
    statistic is the HC1-robust z of the focal coefficient.  Returns the observed z,
    the Monte Carlo p (:func:`randomization_p`) and the permuted z's.

    The textbook scheme for a linear model with exchangeable errors; for count models
    its response would leave the support (negative counts), so it is computed on the
    linear working model of the same design and sample (see
    :mod:`kosovo_study.models.multiverse`), beside the covariate-residual scheme."""
    log_rate = np.asarray(log_rate, dtype=float)
    reduced = np.delete(X, column, axis=1)
    coef, *_ = np.linalg.lstsq(reduced, log_rate, rcond=None)
    fitted = reduced @ coef
    residual = log_rate - fitted
    batch = fitted[None] + residual[orders]
    no_offset = np.zeros(len(log_rate))  # the log rate has the exposure in it already
    observed = focal(
        "ols_log_rate", engine.fit_ols(log_rate[None], X), log_rate[None], X, no_offset, column
    )
    null = focal("ols_log_rate", engine.fit_ols(batch, X), batch, X, no_offset, column)
    null_z = np.where(null.converged, null.z, np.nan)
    z = float(observed.z[0])
    return z, randomization_p(null_z, z)[0], null_z
