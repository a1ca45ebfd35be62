"""Tests on the Edgerton (2023) cells: REAL data, 14 recruits in 5 Kosovo-coded cells.

Three procedures, each exact (by enumerating every possible table of recruits, so no
Monte Carlo error), with the caveats of :data:`kosovo_study.clean.cells.REAL_LABEL`:

* :func:`exact_multinomial_test`: do the recruits' cell shares differ from the cells'
  population shares?  Under H0 the n recruits are a multinomial draw with the population
  shares.  Statistic: the null probability of the table; the p-value is the total null
  probability of every table no more probable than the observed one (the "probability"
  ordering of exact multinomial goodness-of-fit tests).  The likelihood-ratio (G²)
  ordering is reported beside it.
* :func:`permutation_test`: the cell-level conditional Poisson (multinomial) model
  ``E[recruits_c] = population_c * exp(a + b_u u_c + b_k k_c)`` (``u`` unemployment
  concern, ``k`` charity evidence, each standardised over the cells; conditioning on the
  total makes it a multinomial logit with a population offset).  The focal covariate is
  residualised on the other (OLS with intercept) and the residual permuted across cells
  (all K! arrangements); the statistic is the studentized Rao score statistic of the
  focal term at the null fit, which exists whenever the null model can be fitted and
  needs one fit per table.  The rate ratio per SD is the maximum-likelihood estimate.
  Beside it, :func:`parametric_p_values` gives the parametric (plug-in) p-value of the
  same statistic, computed by enumerating every table under the fitted null model; with
  5 cells the permutation reference set (120 arrangements) is coarse and its exact size
  can exceed alpha, which the design table reports.  The parametric p-value and the
  exact multinomial test assume that recruits are independent draws; recruitment
  spread through networks (clustering within cells), which makes both anti-conservative.
  The permutation p-value does not rest on that assumption, and it is the one the
  analysis plan names.
* :func:`fisher_interval`: the permutation test inverted over the focal rate ratio
  (a Fisher interval): under the sharp null ``b_focal = b`` the term ``b x`` joins the
  population offset and the shifted model's score statistic is referred to the same
  120 arrangements; the interval is every ``b`` with p above alpha
  (:func:`kosovo_study.models.inference.invert`).  With 5 cells the reference set is
  coarse and a bound can be infinite (no arrangement is extreme enough to reject).
* :func:`design_analysis`: power of both tests against a focal rate ratio per SD, for
  the observed total and cells, computed exactly (the rejection region is a fixed set
  of tables, so power is its probability under the alternative), with a seeded Monte
  Carlo check and its standard error.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import gammaln

from kosovo_study.clean.cells import REAL_LABEL
from kosovo_study.models import inference
from kosovo_study.plan import AnalysisPlan

ALPHA = 0.05
FOCAL_TERMS = ("unemployment_concern_2012", "charity_evidence_pre2014")
RATE_RATIOS = (1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0)
#: Relative tolerance for ties between statistics (floating point).
TIES = 1e-9
_MAX_ETA = 50.0


def all_tables(total: int, cells: int) -> np.ndarray:
    """Every vector of ``cells`` non-negative integers summing to ``total`` (stars and bars),
    shape (C(total + cells - 1, cells - 1), cells)."""
    bars = np.array(list(itertools.combinations(range(total + cells - 1), cells - 1)), dtype=int)
    bars = bars.reshape(-1, cells - 1)
    edges = np.hstack(
        [np.full((len(bars), 1), -1), bars, np.full((len(bars), 1), total + cells - 1)]
    )
    tables: np.ndarray = np.diff(edges, axis=1) - 1
    return tables


def multinomial_logpmf(tables: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """log P(table) under Multinomial(n, probs), for each row of ``tables``."""
    tables = np.atleast_2d(tables)
    n = tables.sum(axis=1)
    with np.errstate(divide="ignore"):
        logp = np.log(probs)
    terms = np.where(tables > 0, tables * logp, 0.0)
    logpmf: np.ndarray = gammaln(n + 1) - gammaln(tables + 1).sum(axis=1) + terms.sum(axis=1)
    return logpmf


@dataclass(frozen=True)
class MultinomialTest:
    p_value: float
    p_value_g2: float
    g2: float
    log_probability: float
    tables: int


def exact_multinomial_test(observed: np.ndarray, probs: np.ndarray) -> MultinomialTest:
    """Exact test of H0: observed ~ Multinomial(sum(observed), probs); see the module."""
    observed = np.asarray(observed, dtype=int)
    probs = np.asarray(probs, dtype=float) / np.sum(probs)
    tables = all_tables(int(observed.sum()), len(observed))
    logp = multinomial_logpmf(tables, probs)
    weights = np.exp(logp)
    observed_logp = float(multinomial_logpmf(observed, probs)[0])
    p_value = float(weights[logp <= observed_logp + TIES].sum())
    g2_all = _g2(tables, probs)
    g2 = float(_g2(observed[None], probs)[0])
    p_g2 = float(weights[g2_all >= g2 * (1 - TIES) - TIES].sum())
    return MultinomialTest(min(p_value, 1.0), min(p_g2, 1.0), g2, observed_logp, len(tables))


def _g2(tables: np.ndarray, probs: np.ndarray) -> np.ndarray:
    expected = tables.sum(axis=1, keepdims=True) * probs
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(tables > 0, tables * np.log(tables / expected), 0.0)
    g2: np.ndarray = 2 * terms.sum(axis=1)
    return g2


def poisson_fit(
    y: np.ndarray, X: np.ndarray, offset: np.ndarray, iterations: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson maximum likelihood by Newton's method for a batch of outcomes.

    ``y``: (B, n) counts; ``X``: (n, p); ``offset``: (n,).  Returns (coef (B, p), mu (B, n)).
    Where the estimate does not exist (a count vector on the boundary) the iterations stop
    at a fixed cap, so the result is deterministic.
    """
    y = np.atleast_2d(y).astype(float)
    coef = np.zeros((len(y), X.shape[1]))
    coef[:, 0] = np.log(np.maximum(y.sum(axis=1), 0.5) / np.exp(offset).sum())
    for _ in range(iterations):
        mu = np.exp(np.clip(coef @ X.T + offset, -_MAX_ETA, _MAX_ETA))
        score = (y - mu) @ X
        info = np.einsum("bn,ni,nj->bij", mu, X, X) + 1e-12 * np.eye(X.shape[1])
        step = np.linalg.solve(info, score[..., None])[..., 0]
        step = np.clip(step, -5.0, 5.0)
        coef += step
        if np.max(np.abs(step)) < 1e-10:
            break
    mu = np.exp(np.clip(coef @ X.T + offset, -_MAX_ETA, _MAX_ETA))
    return coef, mu


def standardise(values: np.ndarray) -> np.ndarray:
    """(x - mean) / SD over the cells (SD with ddof=1)."""
    values = np.asarray(values, dtype=float)
    scaled: np.ndarray = (values - values.mean()) / values.std(ddof=1)
    return scaled


def _residual(focal: np.ndarray, other: np.ndarray) -> np.ndarray:
    design = np.column_stack([np.ones_like(focal), other])
    beta, *_ = np.linalg.lstsq(design, focal, rcond=None)
    residual: np.ndarray = focal - design @ beta
    return residual


def score_statistics(
    y: np.ndarray, other: np.ndarray, offset: np.ndarray, candidates: np.ndarray
) -> np.ndarray:
    """Rao score statistic of a focal covariate for each table and each candidate vector.

    ``y``: (B, n); ``candidates``: (A, n) focal vectors (e.g. permuted residuals).  The null
    model has an intercept and ``other``.  Returns (B, A): U² / V with
    U = r'(y - mu0) and V = r'Wr - r'WX0 (X0'WX0)^-1 X0'Wr, W = diag(mu0).
    """
    X0 = np.column_stack([np.ones_like(other), other])
    _, mu = poisson_fit(y, X0, offset)
    U = (np.atleast_2d(y) - mu) @ candidates.T  # (B, A)
    info = np.einsum("bn,ni,nj->bij", mu, X0, X0)  # (B, 2, 2)
    cross = np.einsum("bn,ni,an->bia", mu, X0, candidates)  # (B, 2, A)
    solved = np.linalg.solve(info, cross)  # (B, 2, A)
    V = np.einsum("bn,an->ba", mu, candidates**2) - np.einsum("bia,bia->ba", cross, solved)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat: np.ndarray = np.where(V > 1e-12, U**2 / V, 0.0)
    return stat


@dataclass(frozen=True)
class PermutationTest:
    term: str
    rate_ratio_per_sd: float
    score_statistic: float
    p_value: float
    arrangements: int
    p_value_parametric: float
    interval: inference.FisherInterval | None = None


def permutations(cells: int) -> np.ndarray:
    return np.array(list(itertools.permutations(range(cells))), dtype=int)


def permutation_p_values(
    tables: np.ndarray, focal: np.ndarray, other: np.ndarray, offset: np.ndarray
) -> np.ndarray:
    """Exact permutation p-value of the focal term for each table (rows of ``tables``)."""
    residual = _residual(focal, other)
    arrangements = residual[permutations(len(focal))]
    stats = score_statistics(tables, other, offset, arrangements)  # (B, A), identity first
    observed = stats[:, :1]
    p: np.ndarray = (stats >= observed * (1 - TIES) - TIES).mean(axis=1)
    return p


def permutation_test(
    recruits: np.ndarray, population: np.ndarray, covariates: pd.DataFrame, term: str
) -> PermutationTest:
    """The conditional Poisson model's test of ``term`` (see the module docstring)."""
    focal = standardise(covariates[term].to_numpy())
    (other_name,) = [c for c in covariates.columns if c != term]
    other = standardise(covariates[other_name].to_numpy())
    offset = np.log(population)
    y = np.asarray(recruits, dtype=float)[None]
    p = float(permutation_p_values(y, focal, other, offset)[0])
    coef, _ = poisson_fit(y, np.column_stack([np.ones_like(focal), focal, other]), offset)
    stat = float(score_statistics(y, other, offset, _residual(focal, other)[None])[0, 0])
    tables = all_tables(int(np.sum(recruits)), len(focal))
    observed = int(np.flatnonzero((tables == np.asarray(recruits)).all(axis=1))[0])
    parametric = float(parametric_p_values(tables, focal, other, offset)[observed])
    interval = fisher_interval(y[0], focal, other, offset, float(coef[0, 1]))
    return PermutationTest(
        term,
        float(np.exp(coef[0, 1])),
        stat,
        p,
        len(permutations(len(focal))),
        parametric,
        interval,
    )


def fisher_interval(
    y: np.ndarray,
    focal: np.ndarray,
    other: np.ndarray,
    offset: np.ndarray,
    estimate: float,
    alpha: float = ALPHA,
) -> inference.FisherInterval:
    """Fisher interval of the focal coefficient (log rate ratio per SD): the exact
    permutation test of ``b_focal = b`` (``b x`` in the offset) inverted over ``b``,
    searched from the estimate in steps of 0.25 on the log scale, up to 16 (a rate
    ratio of about 9 million per SD: beyond it the bound is reported as infinite)."""
    y = np.asarray(y, dtype=float)[None]

    def p_at(values: np.ndarray) -> np.ndarray:
        return np.array(
            [permutation_p_values(y, focal, other, offset + b * focal)[0] for b in values]
        )

    return inference.invert(p_at, estimate, 0.25, alpha, tolerance=0.004, reach=4.0)


def parametric_p_values(
    tables: np.ndarray, focal: np.ndarray, other: np.ndarray, offset: np.ndarray
) -> np.ndarray:
    """Exact parametric (plug-in) p-value of the focal term for every possible table.

    For a table y the null model (intercept and ``other``) is fitted, and the p-value is
    the probability, under that fitted multinomial, of a table whose Rao score statistic
    is at least S(y): a parametric bootstrap computed by enumeration instead of
    simulation.  ``tables`` must be every table with the same total (:func:`all_tables`).
    """
    residual = _residual(focal, other)
    stats = score_statistics(tables, other, offset, residual[None])[:, 0]
    _, mu = poisson_fit(tables, np.column_stack([np.ones_like(other), other]), offset)
    log_probs = np.log(mu / mu.sum(axis=1, keepdims=True))
    constant = gammaln(tables.sum(axis=1) + 1) - gammaln(tables + 1).sum(axis=1)
    p = np.empty(len(tables))
    for start in range(0, len(tables), 512):  # blocks of fitted nulls keep memory small
        block = np.exp(constant[None] + log_probs[start : start + 512] @ tables.T)
        extreme = stats[None] >= stats[start : start + 512, None] * (1 - TIES) - TIES
        p[start : start + 512] = (block * extreme).sum(axis=1)
    return np.minimum(p, 1.0)


def _alternative_probs(population: np.ndarray, focal: np.ndarray, rate_ratio: float) -> np.ndarray:
    weights = population * rate_ratio**focal
    probs: np.ndarray = weights / weights.sum()
    return probs


def design_analysis(
    total: int,
    population: np.ndarray,
    covariates: pd.DataFrame,
    rate_ratios: tuple[float, ...] = RATE_RATIOS,
    alpha: float = ALPHA,
    simulations: int = 2000,
    seed: int = 20231,
) -> pd.DataFrame:
    """Power of the permutation test and of the parametric enumeration test (each focal
    term), and of the exact multinomial test, against a true rate ratio per SD of the
    focal covariate (the other's effect is 0).  At rate ratio 1 ``power`` is the exact size.

    ``power`` is exact (the probability of the fixed rejection region under the
    alternative); ``power_mc`` is a seeded Monte Carlo check with ``power_mc_se``.
    """
    population = np.asarray(population, dtype=float)
    shares = population / population.sum()
    tables = all_tables(total, len(population))
    null_logp = multinomial_logpmf(tables, shares)
    order = np.argsort(null_logp, kind="stable")
    cumulative = np.cumsum(np.exp(null_logp[order]))
    # p-value of each table under the probability ordering (ties share the larger sum)
    p_mult = np.empty(len(tables))
    p_mult[order] = cumulative
    for value in np.unique(null_logp):
        tied = np.abs(null_logp - value) <= TIES
        p_mult[tied] = p_mult[tied].max()
    reject_mult = p_mult <= alpha + 1e-12
    offset = np.log(population)
    rng = np.random.default_rng(seed)
    rows = []
    for term in covariates.columns:
        focal = standardise(covariates[term].to_numpy())
        (other_name,) = [c for c in covariates.columns if c != term]
        other = standardise(covariates[other_name].to_numpy())
        reject = permutation_p_values(tables, focal, other, offset) <= alpha + 1e-12
        reject_parametric = parametric_p_values(tables, focal, other, offset) <= alpha + 1e-12
        index = {tuple(t): i for i, t in enumerate(tables)}
        for rate_ratio in rate_ratios:
            probs = _alternative_probs(population, focal, rate_ratio)
            weights = np.exp(multinomial_logpmf(tables, probs))
            draws = rng.multinomial(total, probs, size=simulations)
            hits = reject[[index[tuple(d)] for d in draws]]
            power_mc = float(hits.mean())
            rows.append(
                {
                    "term": term,
                    "rate_ratio_per_sd": rate_ratio,
                    "power": float(weights[reject].sum()),
                    "power_mc": power_mc,
                    "power_mc_se": float(np.sqrt(power_mc * (1 - power_mc) / simulations)),
                    "power_parametric": float(weights[reject_parametric].sum()),
                    "power_multinomial_test": float(weights[reject_mult].sum()),
                    "simulations": simulations,
                    "alpha": alpha,
                    "recruits": total,
                    "cells": len(population),
                    "data_label": REAL_LABEL,
                }
            )
    return pd.DataFrame(rows)


def border_sensitivity(cells: pd.DataFrame) -> list[dict[str, object]]:
    """The exact multinomial test with the border cells that Edgerton codes to a neighbour
    (those in the file: the Gjakovë, Ranillug and southern Dragash cells) added with
    Kosovo's population there, their recruits counted as 0 (lower bound: all were the
    neighbour's nationals) or all as Kosovo's (upper bound)."""
    border = cells[~cells["in_main_analysis"] & cells["edgerton_gwno"].notna()]
    main = cells[cells["in_main_analysis"]]
    rows: list[dict[str, object]] = []
    if border.empty:
        return rows
    for bound, border_recruits in (
        ("lower", np.zeros(len(border), dtype=int)),
        ("upper", border["recruits_coded_to_neighbour"].to_numpy(dtype=int)),
    ):
        recruits = np.concatenate([main["recruits"].to_numpy(dtype=int), border_recruits])
        population = np.concatenate([main["population"], border["population"]])
        test = exact_multinomial_test(recruits, population)
        rows.append(
            {
                "analysis": f"sensitivity ({bound} bound): exact multinomial test with the "
                f"{len(border)} neighbour-coded border cells (gid "
                f"{', '.join(map(str, border['gid']))}), their recruits counted "
                + ("as 0" if bound == "lower" else "as Kosovo's"),
                "term": f"multinomial_population_shares_border_{bound}",
                "estimate": np.nan,
                "statistic": "null probability of the table (probability ordering)",
                "statistic_value": float(np.exp(test.log_probability)),
                "p_value": test.p_value,
                "p_value_g2": test.p_value_g2,
                "p_value_parametric": np.nan,
                "reference_set": f"all {test.tables} tables",
                "recruits_used": int(recruits.sum()),
                "cells_used": len(recruits),
            }
        )
    return rows


def analyse(cells: pd.DataFrame, plan: AnalysisPlan | None = None) -> dict[str, pd.DataFrame]:
    """The three analyses on the main cells of the cell table (``in_main_analysis``).

    With the analysis ``plan``, each test row carries its label (``plan_label``:
    primary, secondary or exploratory at the ``cells`` level).
    """
    main = cells[cells["in_main_analysis"]].sort_values("gid")
    recruits = main["recruits"].to_numpy(dtype=int)
    population = main["population"].to_numpy(dtype=float)
    covariates = main[list(FOCAL_TERMS)].reset_index(drop=True)
    multinomial = exact_multinomial_test(recruits, population)
    tests = [
        {
            "analysis": "exact multinomial test: recruits' cell shares = population shares",
            "term": "multinomial_population_shares",
            "estimate": np.nan,
            "statistic": "null probability of the table (probability ordering)",
            "statistic_value": float(np.exp(multinomial.log_probability)),
            "p_value": multinomial.p_value,
            "p_value_g2": multinomial.p_value_g2,
            "p_value_parametric": np.nan,
            "reference_set": f"all {multinomial.tables} tables",
        }
    ]
    for term in FOCAL_TERMS:
        test = permutation_test(recruits, population, covariates, term)
        tests.append(
            {
                "analysis": "conditional Poisson (multinomial) model, population offset",
                "term": term,
                "estimate": test.rate_ratio_per_sd,
                "statistic": "Rao score statistic of the residualised focal covariate",
                "statistic_value": test.score_statistic,
                "p_value": test.p_value,
                "p_value_g2": np.nan,
                "p_value_parametric": test.p_value_parametric,
                "reference_set": f"all {test.arrangements} permutations of the residual",
                "fisher_low": test.interval.rate_ratio[0] if test.interval else np.nan,
                "fisher_high": test.interval.rate_ratio[1] if test.interval else np.nan,
            }
        )
    tests.extend(border_sensitivity(cells))
    table = pd.DataFrame(tests)
    table = table.reindex(
        columns=[
            *table.columns.drop(["recruits_used", "cells_used"], errors="ignore"),
            "recruits_used",
            "cells_used",
        ]
    )
    table["recruits"] = table.pop("recruits_used").fillna(int(recruits.sum())).astype(int)
    table["cells"] = table.pop("cells_used").fillna(len(recruits)).astype(int)
    table["data_label"] = REAL_LABEL
    if plan is not None:
        table["plan_label"] = [plan.label(term, "cells") for term in table["term"]]
    return {
        "edgerton_cell_tests": table,
        "edgerton_cell_design": design_analysis(int(recruits.sum()), population, covariates),
    }
