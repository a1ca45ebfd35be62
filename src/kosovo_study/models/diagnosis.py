"""Design diagnosis (DeclareDesign's diagnosands, each with its Monte Carlo error).

What the tests of the municipal study (NB2 with a log-population offset on the
analysed municipalities) and of the Edgerton (2023) cell study (14 recruits in 5
cells) could detect, and how their estimates behave, under stated assumptions.  For
each *design* (term, true rate ratio per SD or presence, assumed overdispersion,
national total) and each *test* (Wald with the normal critical value; Wald with a
critical value calibrated under the null, "size-corrected"; the randomization test of
:mod:`kosovo_study.models.inference`) it reports the diagnosands of Blair, Cooper,
Coppock & Humphreys (2019, APSR 113: 838-859; DeclareDesign's ``diagnose_design``):

* ``power``: probability of rejecting H0 (rate ratio 1) at 5%; at rate ratio 1 the size;
* ``coverage``: probability that the test's 95% interval holds the true rate ratio.
  Wald: ``b +- z SE``; size-corrected Wald: ``b +- c SE``; randomization test: the
  Fisher interval (the set of rate ratios a sharp-null shift test does not reject, with
  the offset respected), whose coverage is the probability that the test of the *true*
  rate ratio does not reject, so it is computed without inverting the test;
* ``bias`` and ``rmse`` of the estimated rate ratio ``exp(b)`` (one estimator for the
  three tests: its ``test`` is ``estimator``);
* ``type_s_rate``: among significant results, the share with the wrong sign (Gelman &
  Carlin 2014, Perspectives on Psychological Science 9: 641-651); undefined at rate
  ratio 1;
* ``type_m_rate`` (exaggeration ratio): among significant results, the mean of
  ``|b| / |log true rate ratio|``; undefined at rate ratio 1.

Municipal study: by seeded simulation.  Outcomes are NB2 counts conditioned on the
national total (:func:`~kosovo_study.models.outcome.draw_conditional_nb`) on the real
covariates, all other effects 1.  The same simulated data sets (common random numbers)
serve every rate ratio of a design, so power rises with the effect within Monte Carlo
error.  Monte Carlo SEs: binomial for power and coverage; for the size-corrected Wald
test a bootstrap over the simulated data sets that redraws the calibration of the
critical value too (its noise is counted); the delta method for RMSE; conditional
binomial and mean SEs for type S and type M (over the significant data sets).

The randomization test is the package's own (robust z, residual permutation), with
``design_permutations`` (``B``) random orderings per data set, drawn afresh for every
data set (so the rejections are independent and the binomial SE is exact) and shared
across rate ratios (common random numbers again).  ``p = (1 + k) / (B + 1)`` rejects at
5% when ``k`` (permuted |z| at least the observed) is at most ``K = floor(0.05 (B + 1))
- 1``.  Once ``K + 1`` exceedances are seen the test cannot reject, so the draws stop
(Besag & Clifford 1991, Biometrika 78: 301-304): the decision is the one the full ``B``
draws give, at a fraction of the fits.  The diagnosand is the power of the test as run
with ``B`` draws; the analysis's test with more draws is a little more powerful.

Cell study: the cells' conditional Poisson model (:mod:`kosovo_study.models.cells`):
every table of 14 recruits in 5 cells is enumerated and weighted by its multinomial
probability, so every diagnosand is exact (Monte Carlo SE 0).  Where the maximum-
likelihood estimate does not exist (a table on the boundary: the estimate runs off to
infinity) the estimate-based diagnosands are computed over the tables where it exists,
and ``no_estimate`` gives the probability of the others.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.pandas import Check, Column
from scipy import stats

from kosovo_study.config import StudyConfig
from kosovo_study.models import cells as model_cells
from kosovo_study.models import engine, inference, read_processed
from kosovo_study.models.crossnational import mi_coverage
from kosovo_study.models.design import CHARITY, UNEMPLOYMENT, Design, municipal_design
from kosovo_study.models.outcome import TOTAL_DEFINITIONS, draw_conditional_nb, national_totals
from kosovo_study.paths import ProjectPaths
from kosovo_study.storage import write_table

#: Significance level of every test.
LEVEL = 0.05
#: Terms of the municipal study.
MUNICIPAL_TERMS = (UNEMPLOYMENT, CHARITY)
#: True rate ratios of the municipal diagnosis (per SD, or presence vs none for charity).
IRR_GRID = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0)
#: Assumed NB2 overdispersion (variance mu + alpha mu^2): from mild (0.25) to strong (2)
#: heterogeneity between municipalities; stated assumptions, not estimates (the
#: synthetic generator uses 0.8).
ALPHA_GRID = (0.25, 0.5, 1.0, 2.0)
TESTS = ("wald", "wald_size_corrected", "permutation")
DIAGNOSANDS = (
    "power",
    "coverage",
    "bias",
    "rmse",
    "type_s_rate",
    "type_m_rate",
    "no_estimate",
    "critical_value",
)
#: Diagnosands that are probabilities (their MC SE must be at most 0.02).
PROBABILITIES = ("power", "coverage")
#: A cell-model estimate with |log rate ratio| above this did not converge to a finite
#: value (the maximum-likelihood estimate does not exist for that table).
NO_ESTIMATE_BOUND = 8.0
#: Bootstrap replicates of the MC SE of the size-corrected Wald test.
BOOTSTRAP = 200


def rejection_bound(permutations: int, level: float = LEVEL) -> int:
    """Largest number of permuted |z| at least the observed one at which the
    ``permutations``-draw test still rejects: ``(1 + k) / (B + 1) <= level``."""
    bound = int(np.floor(level * (permutations + 1) + 1e-9)) - 1
    if bound < 0:
        raise ValueError(f"{permutations} permutations cannot reject at level {level}")
    return bound


def sequential_rejections(
    Y: np.ndarray,
    observed: np.ndarray,
    X: np.ndarray,
    offset: np.ndarray,
    column: int,
    orders: np.ndarray,
    chunk: int = 8,
    level: float = LEVEL,
) -> tuple[np.ndarray, int]:
    """Whether the randomization test of each row of ``Y`` (S, n) rejects at ``level``
    with its own orderings ``orders`` (S, B, n), stopping a row's draws as soon as it
    cannot reject (see the module docstring).  ``observed``: the unpermuted robust z
    (S,).  Returns the rejections (S,) and the number of permuted fits made.

    Non-converged permuted fits count as neither extreme nor valid, as in
    :func:`kosovo_study.models.inference.randomization_test`.
    """
    S, B, _ = orders.shape
    bound = rejection_bound(B, level)
    extreme = np.zeros(S, dtype=int)
    valid = np.zeros(S, dtype=int)
    fits = 0
    for first in range(0, B, chunk):
        active = np.flatnonzero((extreme <= bound) & np.isfinite(observed))
        if not active.size:
            break
        draws = orders[active, first : first + chunk]  # (A, k, n)
        k = draws.shape[1]
        designs = inference.permuted_designs(X, column, draws.reshape(-1, X.shape[0]))
        batch = np.repeat(Y[active], k, axis=0)
        null = inference.focal_statistics("nb2", batch, designs, offset, column)
        z = np.where(null.converged, null.z, np.nan).reshape(len(active), k)
        fits += z.size
        extreme[active] += (np.abs(z) >= np.abs(observed[active, None]) - 1e-10).sum(axis=1)
        valid[active] += np.isfinite(z).sum(axis=1)
    reject = np.isfinite(observed) & ((1 + extreme) / (valid + 1) <= level + 1e-12)
    return reject, fits


def _binomial_se(p: float, n: int) -> float:
    return float(np.sqrt(p * (1 - p) / n)) if n > 0 else np.nan


def _mean_and_se(values: np.ndarray) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if not values.size:
        return np.nan, np.nan
    se = float(values.std(ddof=1) / np.sqrt(values.size)) if values.size > 1 else np.nan
    return float(values.mean()), se


def _rmse_and_se(errors: np.ndarray) -> tuple[float, float]:
    errors = errors[np.isfinite(errors)]
    mse = float(np.mean(errors**2))
    rmse = float(np.sqrt(mse))
    se_mse = float(np.std(errors**2, ddof=1) / np.sqrt(errors.size))
    return rmse, se_mse / (2 * rmse) if rmse > 0 else np.nan


def _sign_and_magnitude(
    coef: np.ndarray, truth: float, significant: np.ndarray
) -> list[tuple[str, float, float, int]]:
    """Type-S rate and exaggeration ratio among the significant estimates (with their
    MC SEs and the number of significant data sets); undefined at a true effect of 0."""
    chosen = coef[significant & np.isfinite(coef)]
    if truth == 0 or not chosen.size:
        return [("type_s_rate", np.nan, np.nan, chosen.size), ("type_m_rate", np.nan, np.nan, 0)]
    wrong = float(np.mean(np.sign(chosen) != np.sign(truth)))
    ratio, ratio_se = _mean_and_se(np.abs(chosen) / abs(truth))
    return [
        ("type_s_rate", wrong, _binomial_se(wrong, chosen.size), chosen.size),
        ("type_m_rate", ratio, ratio_se, chosen.size),
    ]


@dataclass(frozen=True)
class DiagnosisSizes:
    """Simulation sizes and seed of the municipal diagnosis (``design_*`` fields of
    :class:`~kosovo_study.config.StudyConfig`): simulated data sets for the estimator and
    the Wald tests, the first ``permutation_simulations`` of them for the randomization
    test, each with ``permutations`` orderings."""

    simulations: int = 4000
    permutation_simulations: int = 700
    permutations: int = 99
    seed: int = 2019

    def __post_init__(self) -> None:
        if self.permutation_simulations > self.simulations:
            raise ValueError(
                f"permutation_simulations ({self.permutation_simulations}) must not exceed "
                f"simulations ({self.simulations}): the randomization test reuses the first "
                "data sets"
            )
        rejection_bound(self.permutations)


def _municipal_design_cell(
    design: Design,
    term: str,
    total: int,
    alpha_nb: float,
    irr_grid: tuple[float, ...],
    sizes: DiagnosisSizes,
    seed: tuple[int, ...],
) -> list[dict[str, Any]]:
    """Every diagnosand for one term, total and alpha, at every true rate ratio."""
    column = design.column(term)
    S, P = sizes.simulations, sizes.permutation_simulations
    # Orderings: fresh for every data set (independent rejections), the same for every
    # rate ratio (common random numbers).
    order_rng = np.random.default_rng([*seed, 1])
    identity = np.broadcast_to(np.arange(design.n), (P, sizes.permutations, design.n))
    orders = order_rng.permuted(identity, axis=2)
    coef: dict[float, np.ndarray] = {}
    se: dict[float, np.ndarray] = {}
    perm_reject: dict[float, np.ndarray] = {}
    perm_cover: dict[float, np.ndarray] = {}
    fits = 0
    for irr in irr_grid:
        log_irr = np.zeros(len(design.terms))
        log_irr[column] = np.log(irr)
        # The same random numbers for every rate ratio (common random numbers).
        rng = np.random.default_rng([*seed, 0])
        y = draw_conditional_nb(design, log_irr, alpha_nb, total, rng, size=S)
        fitted = inference.focal_statistics("nb2", y, design.X, design.offset, column)
        coef[irr] = np.where(fitted.converged, fitted.coef, np.nan)
        se[irr] = np.where(fitted.converged, fitted.se, np.nan)
        # the randomization test on the first P data sets (its observed z is the Wald fit's)
        perm_reject[irr], used = sequential_rejections(
            y[:P], coef[irr][:P] / se[irr][:P], design.X, design.offset, column, orders
        )
        fits += used
        if irr == 1.0:
            perm_cover[irr] = ~perm_reject[irr]
        else:
            # The sharp null of the true effect: the focal term's true contribution moves
            # into the offset, and the estimate of the remaining effect is b - log(irr)
            # with the same robust SE (the fit is the same, reparametrised).
            shifted = design.offset + np.log(irr) * design.X[:, column]
            rejected, used = sequential_rejections(
                y[:P],
                (coef[irr][:P] - np.log(irr)) / se[irr][:P],
                design.X,
                shifted,
                column,
                orders,
            )
            perm_cover[irr] = ~rejected
            fits += used
    null_z = np.abs(coef[1.0] / se[1.0])
    critical = float(np.nanquantile(null_z, 1 - LEVEL))
    nominal = float(stats.norm.ppf(1 - LEVEL / 2))
    boot = np.random.default_rng([*seed, 2]).integers(0, S, size=(BOOTSTRAP, S))
    boot_critical = np.nanquantile(null_z[boot], 1 - LEVEL, axis=1)
    rows: list[dict[str, Any]] = []

    def add(
        test: str, diagnosand: str, irr: float, value: float, mc_se: float, n: int, perms: int = 0
    ) -> None:
        rows.append(
            {
                "study": "municipal",
                "term": term,
                "test": test,
                "diagnosand": diagnosand,
                "true_irr": irr,
                "estimate": value,
                "mc_se": mc_se,
                "simulations": n,
                "permutations": perms,
                "generator_alpha": alpha_nb,
                "national_total": total,
            }
        )

    for irr in irr_grid:
        b, s = coef[irr], se[irr]
        ok = np.isfinite(b) & np.isfinite(s)
        n = int(ok.sum())
        z = np.abs(b / s)
        t = np.abs((b - np.log(irr)) / s)
        rate_ratio = np.exp(b[ok])
        bias, bias_se = _mean_and_se(rate_ratio - irr)
        add("estimator", "bias", irr, bias, bias_se, n)
        rmse, rmse_se = _rmse_and_se(rate_ratio - irr)
        add("estimator", "rmse", irr, rmse, rmse_se, n)
        add("estimator", "no_estimate", irr, 1 - n / S, _binomial_se(1 - n / S, S), S)
        first = ok[:P]
        for test, significant, covered, used_ok, perms in (
            ("wald", (z > nominal) & ok, (t <= nominal) & ok, ok, 0),
            ("wald_size_corrected", (z > critical) & ok, (t <= critical) & ok, ok, 0),
            (
                "permutation",
                perm_reject[irr] & first,
                perm_cover[irr] & first,
                first,
                sizes.permutations,
            ),
        ):
            n = int(used_ok.sum())
            power = float(significant[used_ok].mean())
            coverage = float(covered[used_ok].mean())
            if test == "wald_size_corrected":
                # bootstrap over the data sets, the critical value recalibrated each time
                with np.errstate(invalid="ignore"):
                    power_se = float(np.nanmean(z[boot] > boot_critical[:, None], axis=1).std())
                    coverage_se = float(np.nanmean(t[boot] <= boot_critical[:, None], axis=1).std())
                add(test, "critical_value", irr, critical, float(boot_critical.std()), n)
            else:
                power_se, coverage_se = _binomial_se(power, n), _binomial_se(coverage, n)
            add(test, "power", irr, power, power_se, n, perms)
            add(test, "coverage", irr, coverage, coverage_se, n, perms)
            estimates = b[: len(significant)]
            for name, value, mc_se, count in _sign_and_magnitude(
                estimates, np.log(irr), significant
            ):
                add(test, name, irr, value, mc_se, count, perms)
    for row in rows:
        row["permuted_fits"] = fits if row["test"] == "permutation" else 0
    return rows


def municipal_diagnosis(
    design: Design,
    totals: dict[str, int],
    sizes: DiagnosisSizes,
    terms: tuple[str, ...] = MUNICIPAL_TERMS,
    irr_grid: tuple[float, ...] = IRR_GRID,
    alphas: tuple[float, ...] = ALPHA_GRID,
    workers: int | None = None,
) -> pd.DataFrame:
    """The municipal design's diagnosands (see the module docstring), one row per
    design, test and diagnosand.  Seeds ``[seed, term, total, alpha]``: every design is
    reproducible alone, and the result does not depend on ``workers``."""
    if irr_grid[0] != 1.0:
        raise ValueError("the rate-ratio grid must start at 1 (the null), for the size correction")
    cells = [
        (t, term, d, definition, total, a, alpha_nb)
        for t, term in enumerate(terms)
        for d, (definition, total) in enumerate(totals.items())
        for a, alpha_nb in enumerate(alphas)
    ]

    def one(cell: tuple[int, str, int, str, int, int, float]) -> list[dict[str, Any]]:
        t, term, d, definition, total, a, alpha_nb = cell
        rows = _municipal_design_cell(
            design, term, total, alpha_nb, irr_grid, sizes, (sizes.seed, t, d, a)
        )
        for row in rows:
            row["total_definition"] = definition
        return rows

    workers = max(1, min(len(cells), workers or os.cpu_count() or 1))
    # Compile (or load) the engine in this thread first: threads that reach an
    # uncompiled function together compile it about twice as slowly.
    engine.fit(np.ones((1, design.n)), design.X, design.offset)
    if workers == 1:
        results = [one(cell) for cell in cells]
    else:
        # the compiled fits release the GIL, so threads share the cores
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(one, cells))
    table = pd.DataFrame([row for rows in results for row in rows])
    table["seed"] = sizes.seed
    table["method"] = "simulation"
    table["units"] = design.n
    return table


# --- the cell study: exact by enumeration -----------------------------------------------


def _weighted(values: np.ndarray, weights: np.ndarray) -> float:
    total = weights.sum()
    return float((values * weights).sum() / total) if total > 0 else np.nan


def cell_diagnosis(
    cells: pd.DataFrame, rate_ratios: tuple[float, ...] = model_cells.RATE_RATIOS
) -> pd.DataFrame:
    """The cell study's diagnosands, exact (see the module docstring): the conditional
    Poisson model of :mod:`kosovo_study.models.cells` on the main cells, with the
    observed total of recruits, the other covariate's effect 0.

    Wald: the focal coefficient over its model-based (Fisher information) SE; robust
    SEs are meaningless with 5 cells.  Size-corrected Wald: the smallest critical value
    whose exact size is at most 5%.  Permutation: the exact randomization test of
    :func:`kosovo_study.models.cells.permutation_p_values` (all 120 arrangements).
    """
    main = cells[cells["in_main_analysis"]].sort_values("gid")
    population = main["population"].to_numpy(dtype=float)
    total = int(main["recruits"].sum())
    tables = model_cells.all_tables(total, len(population))
    offset = np.log(population)
    rows: list[dict[str, Any]] = []
    for term in model_cells.FOCAL_TERMS:
        focal = model_cells.standardise(main[term].to_numpy())
        (other_name,) = [c for c in model_cells.FOCAL_TERMS if c != term]
        other = model_cells.standardise(main[other_name].to_numpy())
        X = np.column_stack([np.ones_like(focal), focal, other])
        coef, mu = model_cells.poisson_fit(tables, X, offset)
        info = np.einsum("bn,ni,nj->bij", mu, X, X)
        with np.errstate(invalid="ignore"):
            se = np.sqrt(np.linalg.inv(info + 1e-12 * np.eye(3))[:, 1, 1])
        b = coef[:, 1]
        exists = np.all(np.abs(coef[:, 1:]) < NO_ESTIMATE_BOUND, axis=1)
        z = np.abs(b / se)
        null_weights = np.exp(model_cells.multinomial_logpmf(tables, population / population.sum()))
        # the smallest critical value with exact size <= LEVEL (z is discrete)
        order = np.argsort(-z)
        tail = np.cumsum(null_weights[order])
        beyond = np.flatnonzero(tail > LEVEL)
        critical = float(z[order][beyond[0]]) if beyond.size else 0.0
        nominal = float(stats.norm.ppf(1 - LEVEL / 2))
        perm_p = model_cells.permutation_p_values(tables, focal, other, offset)
        for rr in rate_ratios:
            log_rr = float(np.log(rr))
            weights = np.exp(
                model_cells.multinomial_logpmf(
                    tables, population * rr**focal / (population * rr**focal).sum()
                )
            )
            t = np.abs((b - log_rr) / se)
            if rr == 1.0:
                perm_cover = perm_p > LEVEL + 1e-12
            else:
                perm_cover = (
                    model_cells.permutation_p_values(tables, focal, other, offset + log_rr * focal)
                    > LEVEL + 1e-12
                )

            def add(
                test: str, diagnosand: str, value: float, term: str = term, rr: float = rr
            ) -> None:
                rows.append(
                    {
                        "study": "cells",
                        "term": term,
                        "test": test,
                        "diagnosand": diagnosand,
                        "true_irr": rr,
                        "estimate": value,
                        "mc_se": 0.0,
                        "simulations": len(tables),
                        "generator_alpha": np.nan,
                        "national_total": total,
                        "total_definition": "edgerton_recruits",
                    }
                )

            w_ok = weights * exists
            add("estimator", "bias", _weighted(np.exp(b) - rr, w_ok))
            add("estimator", "rmse", float(np.sqrt(_weighted((np.exp(b) - rr) ** 2, w_ok))))
            add("estimator", "no_estimate", float(weights[~exists].sum()))
            for test, significant, covered in (
                ("wald", z > nominal, t <= nominal),
                ("wald_size_corrected", z > critical, t <= critical),
                ("permutation", perm_p <= LEVEL + 1e-12, perm_cover),
            ):
                if test == "wald_size_corrected":
                    add(test, "critical_value", critical)
                add(test, "power", float(weights[significant].sum()))
                add(test, "coverage", float(weights[covered].sum()))
                chosen = significant & exists
                if rr == 1.0 or weights[chosen].sum() <= 0:
                    add(test, "type_s_rate", np.nan)
                    add(test, "type_m_rate", np.nan)
                else:
                    add(
                        test,
                        "type_s_rate",
                        _weighted(np.sign(b) != np.sign(log_rr), weights * chosen),
                    )
                    add(test, "type_m_rate", _weighted(np.abs(b) / abs(log_rr), weights * chosen))
    table = pd.DataFrame(rows)
    table["permutations"] = np.where(table["test"] == "permutation", 120, 0)
    table["permuted_fits"] = 0
    table["seed"] = 0
    table["method"] = "exact enumeration"
    table["units"] = len(population)
    return table


# --- minimum detectable effects ----------------------------------------------------------


def minimum_detectable_effect(diagnosis: pd.DataFrame, target: float = 0.8) -> pd.DataFrame:
    """Smallest true rate ratio whose power reaches ``target`` (linear interpolation on
    the grid; NaN when none does), for every study, term, test, alpha and total."""
    power = diagnosis[diagnosis["diagnosand"] == "power"]
    keys = ["study", "term", "test", "total_definition", "national_total", "generator_alpha"]
    rows = []
    for values, unsorted in power.groupby(keys, sort=True, dropna=False):
        group = unsorted.sort_values("true_irr")
        irr, pw = group["true_irr"].to_numpy(), group["estimate"].to_numpy()
        above = np.flatnonzero(pw >= target)
        if above.size == 0:
            mde = np.nan
        elif above[0] == 0:
            mde = float(irr[0])
        else:
            i = above[0]
            mde = irr[i - 1] + (target - pw[i - 1]) * (irr[i] - irr[i - 1]) / (pw[i] - pw[i - 1])
        rows.append(
            {**dict(zip(keys, values, strict=True)), "target_power": target, "mde_irr": mde}
        )
    return pd.DataFrame(rows)


COLUMNS = (
    "study",
    "term",
    "test",
    "diagnosand",
    "true_irr",
    "generator_alpha",
    "national_total",
    "total_definition",
    "estimate",
    "mc_se",
    "simulations",
    "permutations",
    "permuted_fits",
    "seed",
    "method",
    "units",
)

DIAGNOSIS_SCHEMA = pa.DataFrameSchema(
    {
        "study": Column(str, Check.isin(["municipal", "cells"])),
        "term": Column(str, Check.isin([*MUNICIPAL_TERMS, *model_cells.FOCAL_TERMS])),
        "test": Column(str, Check.isin([*TESTS, "estimator"])),
        "diagnosand": Column(str, Check.isin(list(DIAGNOSANDS))),
        "true_irr": Column(float, Check.gt(0)),
        "generator_alpha": Column(float, Check.gt(0), nullable=True),
        "national_total": Column(int, Check.gt(0)),
        "total_definition": Column(str),
        "estimate": Column(float, nullable=True),
        "mc_se": Column(float, Check.ge(0), nullable=True),
        "simulations": Column(int, Check.ge(0)),
        "permutations": Column(int, Check.ge(0)),
        "permuted_fits": Column(int, Check.ge(0)),
        "seed": Column(int, Check.ge(0)),
        "method": Column(str, Check.isin(["simulation", "exact enumeration"])),
        "units": Column(int, Check.ge(2)),
        "total_description": Column(str),
    },
    # Power and coverage are probabilities (their MC SE bound, 0.02 at the default sizes,
    # is checked on the stage's result in tests/models/test_diagnosis.py).
    checks=[
        Check(
            lambda t: ~t["diagnosand"].isin(PROBABILITIES) | t["estimate"].between(0, 1),
            name="power_and_coverage_are_probabilities",
        )
    ],
    strict=True,
    ordered=True,
)

MDE_SCHEMA = pa.DataFrameSchema(
    {
        "study": Column(str, Check.isin(["municipal", "cells"])),
        "term": Column(str),
        "test": Column(str, Check.isin(list(TESTS))),
        "total_definition": Column(str),
        "national_total": Column(int, Check.gt(0)),
        "generator_alpha": Column(float, nullable=True),
        "target_power": Column(float, Check.in_range(0, 1)),
        "mde_irr": Column(float, Check.ge(1), nullable=True),
    },
    strict=True,
    ordered=True,
)


def diagnose(
    design: Design, totals: dict[str, int], cells: pd.DataFrame, sizes: DiagnosisSizes
) -> dict[str, pd.DataFrame]:
    """Both studies' diagnosis and minimum detectable effects, validated."""
    table = pd.concat(
        [municipal_diagnosis(design, totals, sizes), cell_diagnosis(cells)], ignore_index=True
    )
    table = table.reindex(columns=list(COLUMNS))
    table["total_description"] = [
        TOTAL_DEFINITIONS.get(d, "recruits in the Kosovo-coded cells (Edgerton 2023)")
        for d in table["total_definition"]
    ]
    for name in ("national_total", "simulations", "permutations", "permuted_fits", "seed", "units"):
        table[name] = table[name].astype(int)
    table = DIAGNOSIS_SCHEMA.validate(table)
    mde = minimum_detectable_effect(table[table["test"] != "estimator"])
    mde["national_total"] = mde["national_total"].astype(int)
    return {"design_diagnosis": table, "design_mde": MDE_SCHEMA.validate(mde)}


# --- the ``design`` stage -----------------------------------------------------------------

#: The processed tables the stage reads (Parquet, as read).
PROCESSED_INPUTS = ("municipalities", "kosovo_national", "edgerton_cells")
#: Its result tables.
TABLES = ("design_diagnosis", "design_mde", "design_mi_coverage")


def input_files(paths: ProjectPaths) -> list[Path]:
    """The processed tables the diagnosis reads.  It reads no outcome: the municipal
    outcomes are simulated on the real covariates, and the cell study uses its observed
    total and cells only."""
    return [paths.processed / f"{name}.parquet" for name in PROCESSED_INPUTS]


def sizes_from(config: StudyConfig) -> DiagnosisSizes:
    return DiagnosisSizes(
        simulations=config.design_simulations,
        permutation_simulations=config.design_permutation_simulations,
        permutations=config.design_permutations,
        seed=config.design_seed,
    )


def write_diagnosis(paths: ProjectPaths, folder: Path, config: StudyConfig) -> list[Path]:
    """Run the diagnosis with ``config``'s sizes and seed and write its tables to
    ``folder`` (the stage's staging folder for ``data/processed/results``)."""
    municipalities = read_processed(paths, "municipalities")
    national = read_processed(paths, "kosovo_national")
    cells = read_processed(paths, "edgerton_cells")
    tables = diagnose(
        municipal_design(municipalities), national_totals(national), cells, sizes_from(config)
    )
    # The imputation check (issue 20 item 4) is a design property too: coverage of the
    # pooled intervals on an imputed covariate under MCAR and outcome-dependent MAR, on
    # simulated data; it reads no outcome, so it runs here, not in the models stage.
    tables["design_mi_coverage"] = mi_coverage.simulate(
        config.design_mi_coverage_replicates,
        config.design_mi_coverage_imputations,
        config.design_mi_coverage_seed,
    )
    written: list[Path] = []
    for name, table in tables.items():
        written += write_table(table, folder, name)
    return written
