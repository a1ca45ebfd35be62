"""Residual diagnostics of every count model the book shows, after DHARMa (Hartig 2022).

Models: the municipal Poisson and NB2 models (log-population offset, on the outcome in
use: restricted counts or the synthetic stand-in) and the cross-national models of the
chosen estimator on complete cases, one per specification (the fits behind the model
choice; the multiple-imputation fits share their estimator).

For each model, ``simulations`` outcome vectors are drawn from the fitted model (no
parameter uncertainty, as DHARMa's ``simulateResiduals``), and:

* **scaled (simulated quantile) residuals**: the share of simulated values below the
  observed one, randomized over ties, ``u = (#{sim < y} + V #{sim = y}) / S`` with
  ``V ~ U(0, 1)`` (Dunn & Smyth 1996; DHARMa's ``integerResponse``).  Under the model
  they are uniform on (0, 1), whatever the count distribution;
* ``testUniformity``: Kolmogorov-Smirnov distance of ``u`` from U(0, 1);
* ``testDispersion``: the Pearson chi-squared statistic (ratio: observed / its mean
  over the refitted data sets);
* ``testZeroInflation``: the number of zeros;
* ``testOutliers``: the number of observations outside the simulation envelope
  (``u`` = 0 or 1);

  each against its distribution in a parametric bootstrap with refits (DHARMa's
  ``refit = TRUE``; :func:`dharma_tests` gives the details);
* ``testSpatialAutocorrelation`` (municipal models only): Moran's I of ``u`` on the
  queen-contiguity graph of the municipality polygons, row-standardised, with its
  normal-approximation two-sided p (esda's ``p_norm``; DHARMa calls ``ape::Moran.I``,
  the same statistic and test);
* a hanging rootogram with a simulation band (Kleiber & Zeileis 2016) and a PIT
  histogram (the histogram of ``u``) with a binomial band;
* the out-of-sample log score and CRPS (Gneiting & Raftery 2007): municipal models by
  leave-one-municipality-out, cross-national ones by the seeded 10-fold split of the
  model choice (the same folds, so the log score equals the model choice's).  The CRPS
  of a count distribution is ``sum_k (F(k) - 1{y <= k})^2`` summed over the support
  (Czado, Gneiting & Held 2009).

Deviations from DHARMa, stated: p-values from refits for every test (DHARMa's default
compares with simulations from the fitted model only, and its tests then reject far less
often than their level with 34 units); and the zero and outlier counts take few values,
so they are randomized: the outlier p-value over ties (``P(X > x) + V P(X = x)``), the
zero count by adding U(0, 1) (jittering), which makes the tests' size the level instead
of far below it (randomized, like the residuals themselves).  The tests' size under a correctly specified model is checked by
seeded simulation in ``tests/models/test_diagnostics.py``.

Disclosure (:mod:`kosovo_study.disclosure`): a municipality's scaled residual, with the
published coefficients, gives the interval ``[F(y - 1), F(y)]`` that its count lies in,
so no per-municipality residual is written.  Every table here is an aggregate over
municipalities (test statistics, bin frequencies, mean scores).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.pandas import Check, Column
from scipy import special, stats

#: Municipal count bins of the rootogram (label, lower exclusive, upper inclusive): fixed
#: in advance, not from the data, and coarse enough that no bin singles out a unit.
MUNICIPAL_BINS: tuple[tuple[str, float, float], ...] = (
    ("0", -1, 0),
    ("1-2", 0, 2),
    ("3-5", 2, 5),
    ("6-10", 5, 10),
    ("11-20", 10, 20),
    ("21-40", 20, 40),
    ("over 40", 40, np.inf),
)
#: Bins of the PIT histogram (of the scaled residuals).
PIT_BINS = 10
#: Significance level of every test.
LEVEL = 0.05
#: The municipal contiguity rule (stated in the tables and the book).
GRAPH_RULE = (
    "queen contiguity (a shared boundary point) of the geoBoundaries ADM2 polygons, "
    "restricted to the analysed municipalities, row-standardised; a municipality left "
    "without a neighbour by the restriction is linked to its nearest analysed "
    "municipality (centroid distance)"
)
#: Upper tail probability at which the CRPS sum over the support stops (the rest adds
#: less than this times the tail length).
CRPS_TAIL = 1e-9


# --- the predictive distribution of one fit -------------------------------------------------


def _count_logpmf(k: np.ndarray, mu: Any, size: Any) -> np.ndarray:
    """log P(Y = k) under the Poisson (``size`` None) or the NB2 of size 1/alpha, in the
    gamma-function form (defined for non-integer k)."""
    if size is None:
        return np.asarray(k * np.log(mu) - mu - special.gammaln(k + 1))
    return np.asarray(
        special.gammaln(k + size)
        - special.gammaln(size)
        - special.gammaln(k + 1)
        + size * np.log(size / (size + mu))
        + k * np.log(mu / (size + mu))
    )


@dataclass(frozen=True)
class Predictive:
    """A fitted count distribution per unit: Poisson (``alpha`` = 0), NB2 (variance
    ``mu + alpha mu^2``) or a logit/zero-truncated NB2 hurdle (``any_`` = P(y > 0),
    ``mu`` the untruncated NB2 mean of the count part).  ``alpha`` may differ by unit
    (out-of-sample predictions, each from the fit without its unit)."""

    mu: np.ndarray
    alpha: np.ndarray | float = 0.0
    any_: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.mu)

    @property
    def poisson(self) -> bool:
        return bool(np.all(np.asarray(self.alpha) <= 0))

    def _alpha(self) -> np.ndarray:
        return np.broadcast_to(
            np.maximum(np.asarray(self.alpha, dtype=float), 1e-12), self.mu.shape
        )

    def _p0(self) -> np.ndarray:
        if self.poisson:
            return np.asarray(np.exp(-self.mu))
        alpha = self._alpha()
        result: np.ndarray = np.exp(-np.log1p(alpha * self.mu) / alpha)
        return result

    def mean(self) -> np.ndarray:
        if self.any_ is None:
            return self.mu
        result: np.ndarray = self.any_ * self.mu / np.maximum(1 - self._p0(), 1e-300)
        return result

    def cdf(self, k: np.ndarray, i: int) -> np.ndarray:
        """P(Y_i <= k) on the grid ``k = 0, 1, ..., K`` for unit ``i`` (the cumulative sum
        of the probabilities, from their log-gamma form: scipy's ``nbinom.cdf`` evaluates
        an incomplete beta function per point, about 50 times slower)."""
        size = None if self.poisson else 1 / float(self._alpha()[i])
        log_pmf = _count_logpmf(k, float(self.mu[i]), size)
        base = np.minimum(np.cumsum(np.exp(log_pmf)), 1.0)
        if self.any_ is None:
            return np.asarray(base)
        p0 = float(self._p0()[i])
        pi = float(self.any_[i])
        truncated = (base - p0) / max(1 - p0, 1e-300)
        return np.asarray(np.where(k < 1, 1 - pi, (1 - pi) + pi * truncated))

    def logpmf(self, y: np.ndarray) -> np.ndarray:
        """Log probability of each observed count (gamma-function form: defined for
        non-integer outcomes such as range midpoints, as the models' likelihoods are)."""
        base = _count_logpmf(y, self.mu, None if self.poisson else 1 / self._alpha())
        if self.any_ is None:
            result: np.ndarray = base
            return result
        truncated = base - np.log1p(-self._p0())
        return np.asarray(
            np.where(y > 0, np.log(np.maximum(self.any_, 1e-300)) + truncated, np.log1p(-self.any_))
        )

    def variance(self) -> np.ndarray:
        """Var(Y) of each unit (NB2: mu + alpha mu^2; hurdle: from E[Y^2 | Y > 0])."""
        base = self.mu if self.poisson else self.mu + self._alpha() * self.mu**2
        if self.any_ is None:
            return np.asarray(base)
        second = (base + self.mu**2) / np.maximum(1 - self._p0(), 1e-300)
        return np.asarray(self.any_ * second - self.mean() ** 2)

    def cdf_at(self, k: np.ndarray) -> np.ndarray:
        """P(Y <= k) elementwise (``k`` whole numbers, broadcast against ``mu``)."""
        k = np.broadcast_to(k, self.mu.shape)
        # The regularized incomplete gamma and beta functions directly (the CDFs of
        # scipy.stats call them after argument checks that cost more than the call).
        whole = np.maximum(k, 0) + 1
        if self.poisson:
            base = np.asarray(special.gammaincc(whole, self.mu))
        else:
            size = 1 / self._alpha()
            base = np.asarray(special.betainc(size, whole, size / (size + self.mu)))
        if self.any_ is not None:
            p0 = self._p0()
            truncated = (base - p0) / np.maximum(1 - p0, 1e-300)
            base = np.where(k < 1, 1 - self.any_, (1 - self.any_) + self.any_ * truncated)
        return np.asarray(np.where(k < 0, 0.0, base))

    def pit(self, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Randomized PIT ``F(y-) + V P(Y = y)`` from the exact distribution (the limit of
        :func:`scaled_residuals` as the simulations grow; non-integer outcomes have
        ``P(Y = y) = 0``)."""
        below = self.cdf_at(np.ceil(y) - 1)
        whole = np.isclose(y, np.round(y))
        at = np.where(whole, np.exp(self.logpmf(np.round(y))), 0.0)
        result: np.ndarray = np.clip(below + rng.random(np.shape(below)) * at, 0, 1)
        return result

    def sample(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """``size`` simulated outcome vectors, (size, n), as floats."""
        shape = (size, self.n)
        mu = np.broadcast_to(self.mu, shape)
        if self.poisson:
            return rng.poisson(mu).astype(float)
        r = np.broadcast_to(1 / self._alpha(), shape)
        prob = r / (r + mu)
        counts = rng.negative_binomial(r, prob).astype(float)
        if self.any_ is None:
            return counts
        # Zero-truncated draws by rejection (as countmodels.simulate_counts): redraw the
        # zeros; P(0) of a count part is small, so a few rounds suffice.
        for _ in range(1000):
            zero = counts == 0
            if not zero.any():
                break
            counts[zero] = rng.negative_binomial(r[zero], prob[zero])
        counts[counts == 0] = 1.0
        any_ = rng.random(shape) < self.any_
        result: np.ndarray = np.where(any_, counts, 0.0)
        return result


def crps(predictive: Predictive, y: np.ndarray) -> np.ndarray:
    """CRPS of each observed count, ``integral (F(x) - 1{y <= x})^2 dx``, summed over the
    unit intervals of the support ``k = 0, 1, ...`` until the upper tail is below
    :data:`CRPS_TAIL` (and past the observed value).  For a whole ``y`` this is
    ``sum_k (F(k) - 1{y <= k})^2`` (Czado, Gneiting & Held 2009)."""
    scores = np.empty(len(y))
    for i, observed in enumerate(y):
        top = max(int(np.ceil(observed)), 10)
        while True:
            k = np.arange(top + 1, dtype=float)
            F = predictive.cdf(k, i)
            if 1 - F[-1] < CRPS_TAIL or top > 10**7:
                break
            top *= 4
        # F is a step function, constant on [k, k + 1); the indicator 1{y <= x} steps at
        # y, inside one such interval when y is not whole (range midpoints).
        below = np.clip(observed - k, 0, 1)
        scores[i] = float(np.sum(below * F**2 + (1 - below) * (1 - F) ** 2))
    return scores


# --- DHARMa's residuals and tests -----------------------------------------------------------


def scaled_residuals(y: np.ndarray, simulated: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """DHARMa's scaled residuals: the randomized share of simulated values below ``y``."""
    below = (simulated < y).sum(axis=0)
    ties = (simulated == y).sum(axis=0)
    result: np.ndarray = (below + rng.random(len(y)) * ties) / simulated.shape[0]
    return result


def _statistics(y: np.ndarray, model: Predictive, residuals: np.ndarray) -> np.ndarray:
    """(KS distance of the residuals from U(0, 1), Pearson chi-squared) of one data set
    under its own fit; one row per data set of a (B, n) batch."""
    residuals = np.atleast_2d(residuals)
    sorted_u = np.sort(residuals, axis=-1)
    n = residuals.shape[-1]
    steps = np.arange(1, n + 1) / n
    ks = np.maximum(np.max(steps - sorted_u, axis=-1), np.max(sorted_u - (steps - 1 / n), axis=-1))
    pearson = np.sum((y - model.mean()) ** 2 / model.variance(), axis=-1)
    return np.column_stack([np.atleast_1d(ks), np.atleast_1d(pearson)])


def _zero_probability(model: Predictive) -> np.ndarray:
    """P(Y = 0) of each unit."""
    return model.cdf_at(np.zeros(model.mu.shape))


def dharma_tests(
    y: np.ndarray,
    fitted: Predictive,
    simulated: np.ndarray,
    residuals: np.ndarray,
    bootstrap_y: np.ndarray,
    bootstrap_fits: Predictive,
    rng: np.random.Generator,
) -> dict[str, float]:
    """Uniformity, dispersion, zero-inflation and outlier tests of one model.

    The statistics are DHARMa's; their p-values come from a parametric bootstrap with
    refits (DHARMa's ``refit = TRUE``): ``bootstrap_y`` (B, n) are simulated from the
    fitted model and ``bootstrap_fits`` are the model refitted to each.  The statistics
    with estimated parameters are not distributed as with known ones (the residuals of
    a fitted model are too uniform, its Pearson statistic too small: the tests without
    refits reject far less often than their level at n = 34, measured in the tests);
    the refits carry the estimation into the reference distribution.

    * uniformity: Kolmogorov-Smirnov distance of the scaled residuals from U(0, 1);
      one-sided (large distances) bootstrap p;
    * dispersion: Pearson chi-squared; two-sided bootstrap p; the ratio is observed /
      mean bootstrap value (1 under the model);
    * zero-inflation: the number of zeros plus U(0, 1) (jittered) minus the number the
      data set's own fit expects; two-sided bootstrap p; the ratio is observed /
      expected zeros under the fit;
    * outliers: the number of scaled residuals outside the simulation envelope (0 or
      1; DHARMa's ``testOutliers(type = "bootstrap")``), one-sided (an excess),
      randomized over ties, ``P(X > k) + V P(X = k)`` with ``V ~ U(0, 1)``: fewer than
      one outlier is expected, and a test that never rejects at one outlier has size
      near 0.  (For counts the envelope rate is far below DHARMa's ``2 / (S + 1)``,
      which holds for continuous outcomes: a draw equal to the outcome keeps it
      inside.)

    The bootstrap data sets' residuals are the exact randomized PIT (:meth:`Predictive.pit`),
    the limit of the simulated residuals.
    """
    S = simulated.shape[0]
    observed = _statistics(y, fitted, residuals)[0]
    boot = _statistics(bootstrap_y, bootstrap_fits, bootstrap_fits.pit(bootstrap_y, rng))
    # Outliers of each bootstrap data set, drawn exactly: its unit i lies outside S draws
    # of its own fit with probability (1 - F(y))^S + F(y - 1)^S.
    outside = (1 - bootstrap_fits.cdf_at(bootstrap_y)) ** S + bootstrap_fits.cdf_at(
        bootstrap_y - 1
    ) ** S
    boot_outliers = (rng.random(outside.shape) < outside).sum(axis=1)
    finite = np.isfinite(boot).all(axis=1)
    boot, boot_outliers = boot[finite], boot_outliers[finite]
    expected_zeros = float(np.sum(_zero_probability(fitted)))
    outliers = int(np.sum((residuals == 0) | (residuals == 1)))
    v = float(rng.random())
    # Zeros: the count made continuous by adding U(0, 1) (jittering; Machado & Santos
    # Silva 2005), minus the number its own fit expects.  The jitter breaks the ties of
    # a count that takes few values (without it the test's size is near 0.02); the
    # subtraction carries the estimation (NB2's alpha partly fits the zeros: against the
    # raw count the size is near 0.015).
    observed_zeros = float(np.sum(y == 0) + rng.random() - np.sum(_zero_probability(fitted)))
    boot_zeros = (
        (bootstrap_y == 0).sum(axis=1)
        + rng.random(len(bootstrap_y))
        - _zero_probability(bootstrap_fits).sum(axis=1)
    )[finite]
    # A logit hurdle with a constant reproduces the number of zeros exactly (its score
    # equation), so the zero-inflation test has nothing to test there.
    hurdle = fitted.any_ is not None
    return {
        "uniformity_ks_statistic": float(observed[0]),
        "uniformity_p": float((1 + np.sum(boot[:, 0] >= observed[0])) / (1 + len(boot))),
        "dispersion_ratio": float(observed[1] / np.mean(boot[:, 1])),
        "dispersion_p": _two_sided(boot[:, 1], float(observed[1])),
        "zero_ratio": float(np.sum(y == 0)) / max(expected_zeros, 1e-12),
        "zero_expected": expected_zeros,
        "zero_p": np.nan if hurdle else _two_sided(boot_zeros, observed_zeros),
        "outliers": float(outliers),
        "outliers_expected": float(np.mean(boot_outliers)),
        "outlier_p": float(
            np.mean(boot_outliers > outliers) + v * np.mean(boot_outliers == outliers)
        ),
        "refits": float(len(boot)),
    }


def _two_sided(reference: np.ndarray, observed: float) -> float:
    """Two-sided bootstrap p: twice the smaller tail, counting the observed value in
    each (``(1 + #) / (1 + B)``), at most 1."""
    B = len(reference)
    upper = (1 + np.sum(reference >= observed)) / (1 + B)
    lower = (1 + np.sum(reference <= observed)) / (1 + B)
    return float(min(1.0, 2 * min(upper, lower)))


# --- the municipal contiguity graph ----------------------------------------------------------


@dataclass(frozen=True)
class Graph:
    """A row-standardised spatial weights object of the analysed units (libpysal ``W``,
    ids = municipality ids in the design's order) and how it was built."""

    weights: Any
    islands_attached: int

    def describe(self) -> dict[str, object]:
        w = self.weights
        return {
            "graph_rule": GRAPH_RULE,
            "graph_units": int(w.n),
            "graph_joins": int(w.s0 if w.transform == "B" else sum(w.cardinalities.values()) / 2),
            "graph_mean_neighbours": float(np.mean(list(w.cardinalities.values()))),
            "graph_islands_attached": self.islands_attached,
        }


def contiguity_graph(polygons: Any, ids: np.ndarray) -> Graph:
    """Queen contiguity of the polygons (``municipality_id``, geometry), restricted to
    ``ids`` in that order; islands after the restriction get their nearest neighbour."""
    import warnings

    from libpysal import weights

    projected = polygons.to_crs("EPSG:3035").set_index("municipality_id").loc[list(ids)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal warns about islands: handled below
        queen = weights.Queen.from_dataframe(
            projected.reset_index(), use_index=False, ids=[int(i) for i in ids]
        )
    islands = list(queen.islands)
    if islands:
        # each island gets a link to its nearest analysed unit (centroid distance), in
        # both directions, once (libpysal's attach_islands links a pair twice when two
        # islands are each other's nearest)
        centroids = projected.geometry.centroid
        neighbours = {int(k): set(v) for k, v in queen.neighbors.items()}
        for island in islands:
            distance = centroids.distance(centroids.loc[island]).drop(index=island)
            nearest = int(distance.idxmin())
            neighbours[int(island)].add(nearest)
            neighbours[nearest].add(int(island))
        queen = weights.W(
            {k: sorted(v) for k, v in neighbours.items()}, id_order=[int(i) for i in ids]
        )
    queen.transform = "R"
    return Graph(queen, len(islands))


def moran(residuals: np.ndarray, graph: Graph) -> dict[str, float]:
    """Moran's I of the scaled residuals, its expectation under no autocorrelation and the
    normal-approximation two-sided p (no permutations: no random numbers)."""
    import esda

    result = esda.Moran(residuals, graph.weights, transformation="r", permutations=0)
    return {
        "moran_i": float(result.I),
        "moran_expected": float(result.EI),
        "moran_z": float(result.z_norm),
        "moran_p": float(result.p_norm),
    }


# --- one model ---------------------------------------------------------------------------------


def rootogram(
    y: np.ndarray, simulated: np.ndarray, bins: tuple[tuple[str, float, float], ...]
) -> pd.DataFrame:
    """Observed and expected (mean simulated) frequency per count bin, with the 2.5% and
    97.5% quantiles of the simulated frequency (the band of the hanging rootogram)."""
    rows = []
    for label, lower, upper in bins:
        inside = ((simulated > lower) & (simulated <= upper)).sum(axis=1)
        rows.append(
            {
                "bin": label,
                "lower_exclusive": float(lower),
                "upper_inclusive": float(upper),
                "observed": float(np.sum((y > lower) & (y <= upper))),
                "expected": float(np.mean(inside)),
                "band_low": float(np.quantile(inside, 0.025)),
                "band_high": float(np.quantile(inside, 0.975)),
            }
        )
    return pd.DataFrame(rows)


def pit_histogram(residuals: np.ndarray) -> pd.DataFrame:
    """Frequencies of the scaled residuals in :data:`PIT_BINS` equal bins, with the
    expected frequency and the central 95% of Binomial(n, 1 / bins)."""
    n = len(residuals)
    edges = np.linspace(0, 1, PIT_BINS + 1)
    counts, _ = np.histogram(residuals, bins=edges)
    share = 1 / PIT_BINS
    return pd.DataFrame(
        {
            "bin_low": edges[:-1],
            "bin_high": edges[1:],
            "observed": counts.astype(float),
            "expected": n * share,
            "band_low": float(stats.binom.ppf(0.025, n, share)),
            "band_high": float(stats.binom.ppf(0.975, n, share)),
        }
    )


@dataclass(frozen=True)
class ModelDiagnostics:
    """Everything computed for one model (aggregates only: nothing per unit)."""

    tests: dict[str, object]
    rootogram: pd.DataFrame
    pit: pd.DataFrame


def diagnose(
    y: np.ndarray,
    fitted: Predictive,
    refit: Callable[[np.ndarray], tuple[Predictive, np.ndarray]],
    out_of_sample: Predictive,
    simulations: int,
    refits: int,
    rng: np.random.Generator,
    bins: tuple[tuple[str, float, float], ...],
    graph: Graph | None = None,
) -> ModelDiagnostics:
    """Residuals, tests, rootogram, PIT histogram and scores of one model.

    ``fitted``: the model fitted to all units; ``refit``: fits the model to each row of
    a (B, n) array of outcomes, returning the fits as one (B, n) Predictive and which
    rows converged; ``out_of_sample``: each unit's predictive distribution from the fit
    without it (cross-validation)."""
    simulated = fitted.sample(simulations, rng)
    residuals = scaled_residuals(y, simulated, rng)
    bootstrap_y = fitted.sample(refits, rng)
    bootstrap_fits, ok = refit(bootstrap_y)
    tests: dict[str, object] = {
        "n": len(y),
        "simulations": simulations,
        **dharma_tests(y, fitted, simulated, residuals, bootstrap_y[ok], bootstrap_fits, rng),
    }
    if graph is not None:
        tests.update(moran(residuals, graph))
    else:
        tests.update(
            {"moran_i": np.nan, "moran_expected": np.nan, "moran_z": np.nan, "moran_p": np.nan}
        )
    log_score = out_of_sample.logpmf(y)
    tests["cv_log_score"] = float(np.mean(log_score))
    tests["cv_crps"] = float(np.mean(crps(out_of_sample, y)))
    return ModelDiagnostics(tests, rootogram(y, simulated, bins), pit_histogram(residuals))


def model_rng(seed: int, model: str) -> np.random.Generator:
    """The random stream of one model: ``[seed, crc32(model)]`` (reproducible alone)."""
    return np.random.default_rng([seed, zlib.crc32(model.encode())])


# --- the municipal models ------------------------------------------------------------------


def batch_refit(
    X: np.ndarray, offset: np.ndarray, family: str
) -> Callable[[np.ndarray], tuple[Predictive, np.ndarray]]:
    """Refits of a Poisson or NB2 model with the compiled engine, all rows in one batch."""
    from kosovo_study.models import engine

    def refit(Y: np.ndarray) -> tuple[Predictive, np.ndarray]:
        result = engine.fit(Y, X, offset, family=family)
        ok = np.asarray(result.converged, bool) & np.isfinite(result.beta).all(axis=1)
        mu = np.exp(offset + result.beta[ok] @ X.T)
        alpha = np.asarray(result.alpha, float)[ok][:, None] if family == "nb2" else 0.0
        return Predictive(mu, alpha), ok

    return refit


def municipal_predictives(design: Any, y: np.ndarray, family: str) -> tuple[Predictive, Predictive]:
    """The full-sample fit and the leave-one-municipality-out predictions (one engine
    batch of n fits, each unit predicted by the fit without it) of a municipal Poisson
    or NB2 model."""
    from kosovo_study.models import engine, inference, municipal

    full = municipal.fit(design, y, family)
    mu = np.exp(design.offset + design.X @ full.beta)
    loo = engine.fit(*inference.leave_one_out(y, design.X, design.offset), family=family)
    held_mu = np.exp(design.offset + np.einsum("ik,ik->i", design.X, loo.beta))
    if family == "nb2":
        return Predictive(mu, full.alpha), Predictive(held_mu, np.asarray(loo.alpha, float))
    return Predictive(mu, 0.0), Predictive(held_mu, 0.0)


def municipal_diagnostics(
    design: Any, outcome: Any, polygons: Any, simulations: int, refits: int, seed: int
) -> tuple[list[ModelDiagnostics], list[str], Graph]:
    """Diagnostics of the municipal Poisson and NB2 models on the outcome in use."""
    from kosovo_study.models.municipal import MODELS

    graph = contiguity_graph(polygons, design.municipality_id)
    results, names = [], []
    y = np.asarray(outcome.fighters, dtype=float)
    for family in MODELS:
        name = f"municipal_{family}"
        fitted, held_out = municipal_predictives(design, y, family)
        results.append(
            diagnose(
                y,
                fitted,
                batch_refit(design.X, design.offset, family),
                held_out,
                simulations,
                refits,
                model_rng(seed, name),
                MUNICIPAL_BINS,
                graph,
            )
        )
        names.append(name)
    return results, names, graph


# --- the cross-national models --------------------------------------------------------------


def crossnational_predictive(fit: Any, X: np.ndarray, offset: np.ndarray) -> Predictive:
    """A cross-national fit (:class:`~kosovo_study.models.results.Fit` of
    :func:`~kosovo_study.models.crossnational.countmodels.fit_model`) as a Predictive."""
    from kosovo_study.models.crossnational import countmodels as cm

    zero, eta = cm.linear_predictors(fit, X, offset)
    mu = np.exp(np.clip(eta, -700, 700))
    alpha = max(float(fit.params[-1]), cm.MIN_ALPHA)
    return Predictive(mu, alpha, None if zero is None else special.expit(zero))


def _stack(members: list[Predictive]) -> Predictive:
    """Predictives of the same units (one per row) as one (B, n) Predictive."""
    any_ = None if members[0].any_ is None else np.stack([m.any_ for m in members])  # type: ignore[misc]
    return Predictive(
        np.stack([m.mu for m in members]),
        np.array([float(np.asarray(m.alpha)) for m in members])[:, None],
        any_,
    )


def crossnational_diagnostics(
    countries: pd.DataFrame,
    estimator: str,
    folds: int,
    cv_seed: int,
    simulations: int,
    refits: int,
    seed: int,
) -> tuple[list[ModelDiagnostics], list[str]]:
    """Diagnostics of the chosen estimator on complete cases, for every specification.

    Out of sample: the seeded ``folds``-fold split of the model choice
    (:func:`~kosovo_study.models.crossnational.cross_validated_log_score`'s folds).
    Refits start from the fit to the data (the engine's Newton iterations)."""
    from kosovo_study.errors import KosovoStudyError
    from kosovo_study.models import crossnational as cn
    from kosovo_study.models.crossnational import countmodels as cm

    frame = cn.country_frame(countries, "mid")
    scale = cn.standardisation(frame)
    results, names = [], []
    for specification, covariates in cn.SPECIFICATIONS.items():
        complete = frame.dropna(subset=list(covariates))
        y, X, offset = cn.design(complete, covariates, estimator, scale)
        y = np.asarray(y, dtype=float)
        full = cm.fit_model(estimator, y, X, offset)
        fitted = crossnational_predictive(full, X, offset)

        def refit(
            Y: np.ndarray, X: np.ndarray = X, offset: np.ndarray = offset, start: Any = full.params
        ) -> tuple[Predictive, np.ndarray]:
            members, ok = [], np.zeros(len(Y), bool)
            for b, row in enumerate(Y):
                try:
                    fit = cm.fit_model(estimator, row, X, offset, start=start, covariance=False)
                except (KosovoStudyError, np.linalg.LinAlgError, ValueError):
                    continue
                if fit.converged:
                    members.append(crossnational_predictive(fit, X, offset))
                    ok[b] = True
            return _stack(members), ok

        assignment = np.random.default_rng(cv_seed).permutation(np.arange(len(y)) % folds)
        mu, any_, alphas = np.empty(len(y)), np.full(len(y), np.nan), np.empty(len(y))
        for fold in range(folds):
            test = assignment == fold
            fold_fit = cm.fit_model(estimator, y[~test], X[~test], offset[~test], covariance=False)
            held = crossnational_predictive(fold_fit, X[test], offset[test])
            mu[test], alphas[test] = held.mu, held._alpha()
            if held.any_ is not None:
                any_[test] = held.any_
        held_out = Predictive(mu, alphas, None if np.isnan(any_).all() else any_)
        name = f"crossnational_{specification}_{estimator}"
        results.append(
            diagnose(
                y,
                fitted,
                refit,
                held_out,
                simulations,
                refits,
                model_rng(seed, name),
                cn.ROOTOGRAM_BINS,
            )
        )
        names.append(name)
    return results, names


# --- the stage's tables ------------------------------------------------------------------------

_P = Column(float, Check.in_range(0, 1))
TESTS_SCHEMA = pa.DataFrameSchema(
    {
        "model": Column(str),
        "level": Column(str, Check.isin(["municipal", "crossnational"])),
        "family": Column(str),
        "n": Column(int, Check.ge(20)),
        "simulations": Column(int, Check.ge(1000)),
        "seed": Column(int),
        "uniformity_ks_statistic": Column(float, Check.in_range(0, 1)),
        "uniformity_p": _P,
        "dispersion_ratio": Column(float, Check.ge(0)),
        "dispersion_p": _P,
        "zero_ratio": Column(float, Check.ge(0)),
        "zero_expected": Column(float, Check.ge(0)),
        "zero_p": Column(float, Check.in_range(0, 1), nullable=True),
        "outliers": Column(float, Check.ge(0)),
        "outliers_expected": Column(float, Check.ge(0)),
        "outlier_p": _P,
        "refits": Column(float, Check.ge(100)),
        "moran_i": Column(float, nullable=True),
        "moran_expected": Column(float, nullable=True),
        "moran_z": Column(float, nullable=True),
        "moran_p": Column(float, Check.in_range(0, 1), nullable=True),
        "cv_log_score": Column(float, Check.le(0)),
        "cv_crps": Column(float, Check.ge(0)),
        "cross_validation": Column(str),
        "graph_rule": Column(str, nullable=True),
        "graph_units": Column(float, nullable=True),
        "graph_joins": Column(float, nullable=True),
        "graph_mean_neighbours": Column(float, nullable=True),
        "graph_islands_attached": Column(float, nullable=True),
        "outcome_source": Column(str),
        "synthetic": Column(bool),
    },
    strict=True,
    ordered=True,
    name="diagnostics_tests",
)
ROOTOGRAM_SCHEMA = pa.DataFrameSchema(
    {
        "model": Column(str),
        "bin": Column(str),
        "lower_exclusive": Column(float),
        "upper_inclusive": Column(float),
        "observed": Column(float, Check.ge(0)),
        "expected": Column(float, Check.ge(0)),
        "band_low": Column(float, Check.ge(0)),
        "band_high": Column(float, Check.ge(0)),
        "outcome_source": Column(str),
        "synthetic": Column(bool),
    },
    checks=[Check(lambda t: (t["band_low"] <= t["band_high"]).all(), error="band low <= high")],
    strict=True,
    ordered=True,
    name="diagnostics_rootogram",
)
PIT_SCHEMA = pa.DataFrameSchema(
    {
        "model": Column(str),
        "bin_low": Column(float, Check.in_range(0, 1)),
        "bin_high": Column(float, Check.in_range(0, 1)),
        "observed": Column(float, Check.ge(0)),
        "expected": Column(float, Check.gt(0)),
        "band_low": Column(float, Check.ge(0)),
        "band_high": Column(float, Check.ge(0)),
        "outcome_source": Column(str),
        "synthetic": Column(bool),
    },
    strict=True,
    ordered=True,
    name="diagnostics_pit",
)
SCHEMAS = {
    "diagnostics_tests": TESTS_SCHEMA,
    "diagnostics_rootogram": ROOTOGRAM_SCHEMA,
    "diagnostics_pit": PIT_SCHEMA,
}
FAMILY_LABELS = {
    "municipal_poisson": "Poisson, log population offset",
    "municipal_nb2": "NB2, log population offset",
}


def analyse(
    design: Any,
    outcome: Any,
    polygons: Any,
    countries: pd.DataFrame,
    crossnational_fit: pd.DataFrame,
    simulations: int,
    refits: int,
    seed: int,
    cv_folds: int,
    cv_seed: int,
) -> dict[str, pd.DataFrame]:
    """Every diagnostics table, validated: ``diagnostics_tests`` (one row per model),
    ``diagnostics_rootogram`` and ``diagnostics_pit`` (one row per model and bin).

    ``crossnational_fit``: the models stage's table (its ``main_estimator`` column names
    the chosen estimator); ``cv_folds``/``cv_seed``: the cross-national model choice's."""
    from kosovo_study.models.crossnational.countmodels import ESTIMATOR_LABELS
    from kosovo_study.tablefile import check

    chosen = crossnational_fit.loc[crossnational_fit["main_estimator"].astype(bool), "estimator"]
    estimator = str(chosen.iloc[0])
    municipal, municipal_names, graph = municipal_diagnostics(
        design, outcome, polygons, simulations, refits, seed
    )
    countrywise, country_names = crossnational_diagnostics(
        countries, estimator, cv_folds, cv_seed, simulations, refits, seed
    )
    rows, rootograms, pits = [], [], []
    for level, results, names in (
        ("municipal", municipal, municipal_names),
        ("crossnational", countrywise, country_names),
    ):
        source = outcome.source if level == "municipal" else "icsr_2015"
        synthetic = bool(outcome.synthetic) if level == "municipal" else False
        for name, result in zip(names, results, strict=True):
            row = {
                "model": name,
                "level": level,
                "family": FAMILY_LABELS.get(name, ESTIMATOR_LABELS[estimator]),
                "seed": seed,
                **result.tests,
                "cross_validation": (
                    "leave one municipality out"
                    if level == "municipal"
                    else f"{cv_folds}-fold, the model choice's folds (seed {cv_seed})"
                ),
                **(
                    graph.describe()
                    if level == "municipal"
                    else dict.fromkeys(graph.describe(), None)
                ),
                "outcome_source": source,
                "synthetic": synthetic,
            }
            rows.append(row)
            extra = {"outcome_source": source, "synthetic": synthetic}
            rootograms.append(result.rootogram.assign(model=name, **extra))
            pits.append(result.pit.assign(model=name, **extra))
    tables = {
        "diagnostics_tests": pd.DataFrame(rows),
        "diagnostics_rootogram": pd.concat(rootograms, ignore_index=True),
        "diagnostics_pit": pd.concat(pits, ignore_index=True),
    }
    validated = {}
    for name, table in tables.items():
        schema = SCHEMAS[name]
        ordered = table.reindex(columns=list(schema.columns))
        for column, spec in schema.columns.items():
            if str(spec.dtype) == "float64":
                ordered[column] = pd.to_numeric(ordered[column], errors="coerce").astype(float)
        validated[name] = check(ordered, schema, file=f"data/processed/results/{name}")
    return validated
