"""The cross-national analogue of the multiverse: ICSR January 2015 on unemployment,
on the Derpanopoulos & Sonnet sample, all real data (:func:`run`).

Every point rule x population handling (offset or covariate) x unemployment measure x
family x control set (:data:`GRID`) is one specification, estimated and tested as the
municipal specifications are (:mod:`kosovo_study.models.multiverse`).

**The hurdle.** The cross-national chapter's chosen family, the logit + zero-truncated
NB2 hurdle (:mod:`kosovo_study.models.crossnational.countmodels`), is in the grid with
log population as a covariate, as the chapter fits it (its "offset" form is not a model
the chapter uses, so those combinations are left out).  Each hurdle specification gives
two rows: the count part (``part = "count"``, focal ``unemployment``: the rate ratio
among countries ICSR listed) and the binary part (``part = "listed_by_icsr"``, focal
:data:`LISTED_FOCAL`: the odds ratio of being listed by ICSR, i.e. of more than about 5
fighters).  Both are tested by the same randomization construction (the focal
residual permuted by the shared orderings, both parts refitted, robust z); both rows
carry the specification's average marginal effect on the expected count (persons per
SD, interval from parameter draws, King, Tomz & Wittenberg 2000).

**Calibration.** Every specification carries the ratio of its predicted world total to
the observed, in sample and out of fold (the cross-validated total of
:func:`kosovo_study.models.crossnational.out_of_fold`, the same fold assignments), and
whether that ratio is within the calibration tolerance (25%), so that a robustness
claim can be restricted to calibrated specifications.  Predicted totals: Poisson,
quasi-Poisson and NB2 ``sum(exp(x'b) population)``; the hurdle ``sum(P(any) E[y | any])``;
OLS of the log rate the retransformed ``exp(x'b) population`` times Duan's (1983)
smearing factor, minus the 0.5 added before the log.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kosovo_study.models import engine, inference
from kosovo_study.models import multiverse as mv
from kosovo_study.models.crossnational import (
    FRACTIONALISATION,
    LOG_GDP,
    LOG_POPULATION,
    MUSLIM,
    UNEMPLOYMENT,
    YOUTH,
    fold_assignment,
    marginal_effects,
    outcome,
)
from kosovo_study.models.crossnational import countmodels as cm
from kosovo_study.models.design import build_design, require_units
from kosovo_study.models.results import Z95

#: The cross-national specifications, each choice documented here and nowhere else.
GRID: dict[str, tuple[str, ...]] = {
    "point_rule": ("low", "mid", "high"),
    # log population 2014 as the offset, or as a covariate (Derpanopoulos & Sonnet's
    # choice; the offset model is badly miscalibrated across countries, see issue 10).
    "population": ("offset", "covariate"),
    "unemployment": (YOUTH, UNEMPLOYMENT),
    "family": ("poisson", "nb2", "quasi_poisson", "ols_log_rate", "hurdle_nb2"),
    "controls": ("none", "gdp", "gdp+muslim", "gdp+muslim+fractionalisation"),
}
#: The focal name of the hurdle's binary part (its own joint test).
LISTED_FOCAL = "unemployment_listed_by_icsr"
#: The hurdle family and its parts.
HURDLE = "hurdle_nb2"
HURDLE_PARTS = ("count", "listed_by_icsr")
CONTROL_SETS: dict[str, tuple[str, ...]] = {
    "none": (),
    "gdp": (LOG_GDP,),
    "gdp+muslim": (LOG_GDP, MUSLIM),
    "gdp+muslim+fractionalisation": (LOG_GDP, MUSLIM, FRACTIONALISATION),
}


@dataclass(frozen=True)
class Calibration:
    """Sizes of the calibration columns and the hurdle's AME draws (from
    :class:`kosovo_study.config.StudyConfig`, via the multiverse's parameters)."""

    folds: int = 10
    replicates: int = 5
    seed: int = 2019
    tolerance: float = 0.25
    ame_draws: int = 200
    ame_seed: int = 2015

    @classmethod
    def from_parameters(cls, parameters: dict[str, Any] | None) -> Calibration:
        return cls(**parameters) if parameters else cls()


def expected_counts(
    family: str, y: np.ndarray, X: np.ndarray, offset: np.ndarray, train: np.ndarray
) -> np.ndarray:
    """Expected count of every row from a fit on the ``train`` rows (NaN if the fit
    does not converge); see the module docstring for each family's prediction."""
    base = inference.engine_family(family)
    yt, Xt, ot = y[train][None], X[train], offset[train]
    if family == HURDLE:
        logit = engine.fit_logit(yt, Xt)
        count = engine.fit_truncated_nb2(yt, Xt)
        if not (logit.converged[0] and count.converged[0]):
            return np.full(len(y), np.nan)
        mu = np.exp(np.clip(X @ count.beta[0], -700, 700))
        alpha = max(float(count.alpha[0]), cm.MIN_ALPHA)
        p0 = np.exp(-np.log1p(alpha * mu) / alpha)
        any_ = 1 / (1 + np.exp(-(X @ logit.beta[0])))
        result: np.ndarray = any_ * mu / np.maximum(1 - p0, 1e-300)
        return result
    if base == "ols":
        log_rate = np.log((yt + 0.5) / np.exp(ot))
        fit = engine.fit_ols(log_rate, Xt)
        smearing = float(np.mean(np.exp(log_rate[0] - Xt @ fit.beta[0])))
        return np.asarray(np.exp(X @ fit.beta[0] + offset) * smearing - 0.5)
    fit = engine.fit(yt, Xt, ot, family=base)
    if not fit.converged[0]:
        return np.full(len(y), np.nan)
    return np.asarray(np.exp(np.clip(X @ fit.beta[0] + offset, -700, 700)))


def total_ratios(
    family: str, y: np.ndarray, X: np.ndarray, offset: np.ndarray, calibration: Calibration
) -> tuple[float, np.ndarray]:
    """Predicted over observed world total: in sample, and out of fold for each fold
    assignment (:func:`kosovo_study.models.crossnational.fold_assignment`)."""
    observed = float(y.sum())
    everyone = np.ones(len(y), dtype=bool)
    in_sample = float(expected_counts(family, y, X, offset, everyone).sum()) / observed
    out = np.full(calibration.replicates, np.nan)
    for r in range(calibration.replicates):
        folds = fold_assignment(len(y), calibration.folds, calibration.seed, r)
        predicted = np.full(len(y), np.nan)
        for fold in range(calibration.folds):
            test = folds == fold
            predicted[test] = expected_counts(family, y, X, offset, ~test)[test]
        out[r] = predicted.sum() / observed
    return in_sample, out


def _hurdle_rows(
    data: mv.SpecData, orderings: np.ndarray, calibration: Calibration, stream: int
) -> list[tuple[dict[str, Any], np.ndarray]]:
    """The two parts of one hurdle specification: estimate, interval, randomization p
    and permuted robust z of the focal coefficient in each part, and the AME on the
    expected count (both rows)."""
    y, X, column = data.y, data.X, data.column
    require_units(len(y), "Multiverse specification")
    order = np.argsort(orderings[:, data.ids], axis=1)
    designs = inference.permuted_designs(X, column, order)
    batch = np.repeat(y[None], len(order), axis=0)
    logit = engine.fit_logit(y[None], X)
    count = engine.fit_truncated_nb2(y[None], X)
    permuted = {
        "listed_by_icsr": engine.fit_logit(batch, designs),
        "count": engine.fit_truncated_nb2(batch, designs, start=(count.beta[0], count.alpha[0])),
    }
    observed = {"listed_by_icsr": logit, "count": count}
    fit = cm.fit_model(HURDLE, y, X, data.offset)
    rng = np.random.default_rng([calibration.ame_seed, stream])
    draws = cm.draw_params(fit, calibration.ame_draws, rng)
    points, variances = marginal_effects(fit, X, data.offset, draws)["mean"]
    ame, ame_se = float(points[column - 1]), float(np.sqrt(variances[column - 1]))
    rows = []
    for part in HURDLE_PARTS:
        seen, null_fit = observed[part], permuted[part]
        coef = float(seen.beta[0, column])
        se = float(seen.robust_se[0, column])
        z = coef / se
        with np.errstate(divide="ignore", invalid="ignore"):
            null = np.where(
                null_fit.converged, null_fit.beta[:, column] / null_fit.robust_se[:, column], np.nan
            )
        p_value, valid = inference.randomization_p(null, z)
        rows.append(
            (
                {
                    "part": part,
                    "coef": coef,
                    "z": z,
                    "rate_ratio": float(np.exp(coef)),
                    "ratio_low": float(np.exp(coef - Z95 * se)),
                    "ratio_high": float(np.exp(coef + Z95 * se)),
                    "randomization_p": p_value,
                    "randomization_exact": False,
                    "valid_permutations": valid,
                    "ame_expected_count": ame,
                    "ame_low": ame - Z95 * ame_se,
                    "ame_high": ame + Z95 * ame_se,
                },
                null,
            )
        )
    return rows


def sample(countries: pd.DataFrame) -> pd.DataFrame:
    """The Derpanopoulos & Sonnet sample, in the order the shared orderings permute."""
    return countries[countries["in_ds2016_sample"]].reset_index(drop=True)


def shared_orderings(countries: pd.DataFrame, permutations: int, seed: int) -> np.ndarray:
    """The randomization orderings every cross-national specification shares (draw r
    is one null world for all of them), as :func:`run` draws them."""
    rng = np.random.default_rng(seed)
    return inference.random_orderings(permutations, len(sample(countries)), rng)


def specifications(countries: pd.DataFrame) -> list[tuple[dict[str, Any], str, mv.SpecData]]:
    """Every specification of :data:`GRID` (the hurdle with log population as a
    covariate only): its descriptive columns, family and design (``ids`` index the
    shared orderings' countries)."""
    sample_all = sample(countries)
    position = {iso3: i for i, iso3 in enumerate(sample_all["iso3"])}
    out: list[tuple[dict[str, Any], str, mv.SpecData]] = []
    combinations = itertools.product(*GRID.values())
    for rule, population, unemployment, family, controls in combinations:
        if family == HURDLE and population == "offset":
            continue  # the chapter's hurdle has log population as a covariate
        covariates: tuple[str, ...] = (unemployment, *CONTROL_SETS[controls])
        frame = sample_all.assign(fighters=outcome(sample_all, rule))
        if population == "covariate":
            frame[LOG_POPULATION] = np.log(frame["population_2014"])
            covariates = (*covariates, LOG_POPULATION)
        design = build_design(
            frame,
            covariates,
            "population_2014" if population == "offset" else None,
            required=("fighters",),
            ids="iso3",
            names="iso3",
            binary=frozenset(),
            context=f"Cross-national analogue ({rule}, {population}, {unemployment}, "
            f"{family}, {controls})",
        )
        fighters = frame.set_index("iso3").loc[design.ids, "fighters"].to_numpy(dtype=float)
        data = mv.SpecData(
            ids=np.array([position[c] for c in design.ids]),
            y=fighters,
            X=design.X,
            offset=design.offset,
            column=1,
        )
        base = {
            "outcome": f"crossnational_{rule}",
            "population": f"population_2014 ({population})",
            "unemployment": unemployment,
            "charity": "",
            "family": family,
            "controls": controls,
            "exclude_influential": False,
            "focal": "unemployment",
            "focal_variable": unemployment,
            "placebo": False,
            "outcome_source": "published",
            "synthetic": False,
            "n": design.n,
            "excluded_municipality_id": "",
            "part": "",
        }
        out.append((base, family, data))
    return out


def run(
    countries: pd.DataFrame,
    permutations: int,
    seed: int,
    n_jobs: int = 2,
    calibration: Calibration | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The cross-national analogue: every point rule x population handling (offset or
    covariate) x unemployment measure x family x control set, on the Derpanopoulos &
    Sonnet sample, with the same randomization construction as the municipal
    specifications (log population, when a covariate, is one of the "other
    covariates" the focal residual is taken on); its own shared orderings of the
    sample's countries.  The designs are built here; the refits run on ``n_jobs``
    threads (results do not depend on it), Poisson and quasi-Poisson sharing theirs.
    Every row says whether its specification is calibrated in sample and out of fold
    (see the module docstring); the hurdle gives two rows per specification."""
    from joblib import Parallel, delayed

    calibration = calibration or Calibration()
    orderings = shared_orderings(countries, permutations, seed)
    rows: list[dict[str, Any]] = []
    tasks: dict[Any, list[tuple[int, str, mv.SpecData]]] = {}
    for base, family, data in specifications(countries):
        # Specifications that share an engine fit (Poisson, quasi-Poisson) go together.
        rule = base["outcome"].removeprefix("crossnational_")
        population = "offset" if "offset" in base["population"] else "covariate"
        key = (
            rule,
            population,
            base["unemployment"],
            base["controls"],
            inference.engine_family(family),
        )
        tasks.setdefault(key, []).append((len(rows), family, data))
        if family == HURDLE:
            rows.append({**base, "part": "count"})
            rows.append({**base, "part": "listed_by_icsr", "focal": LISTED_FOCAL})
        else:
            rows.append(base)

    def estimate(
        group: list[tuple[int, str, mv.SpecData]],
    ) -> list[tuple[int, dict[str, Any], Any]]:
        memo: inference.Memo = {}
        out: list[tuple[int, dict[str, Any], Any]] = []
        ratios: dict[str, tuple[float, np.ndarray]] = {}
        with np.errstate(all="ignore"):
            for row, family, data in group:
                base = inference.engine_family(family)
                if base not in ratios:
                    ratios[base] = total_ratios(family, data.y, data.X, data.offset, calibration)
                in_sample, out_of_fold = ratios[base]
                flags = {
                    "total_ratio_in_sample": in_sample,
                    "total_ratio_out_of_fold": float(np.mean(out_of_fold)),
                    "total_ratio_out_of_fold_min": float(np.min(out_of_fold)),
                    "total_ratio_out_of_fold_max": float(np.max(out_of_fold)),
                    "calibration_tolerance": calibration.tolerance,
                    "calibrated_in_sample": bool(abs(in_sample - 1) <= calibration.tolerance),
                    "calibrated_out_of_fold": bool(
                        abs(np.mean(out_of_fold) - 1) <= calibration.tolerance
                    ),
                }
                if family == HURDLE:
                    for offset_row, (values, null) in enumerate(
                        _hurdle_rows(data, orderings, calibration, row)
                    ):
                        out.append((row + offset_row, {**values, **flags}, null))
                    continue
                values, null = mv._estimate(family, data, orderings, memo)
                out.append((row, {**values, **flags}, null))
        return out

    nulls: list[Any] = [None] * len(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if n_jobs > 1:
            engine.warm_up()
        parallel = Parallel(n_jobs=n_jobs, backend="threading")
        for done in parallel(delayed(estimate)(group) for group in tasks.values()):
            for row, estimate_row, null in done:
                rows[row].update(estimate_row)
                nulls[row] = null
    return pd.DataFrame(rows), np.stack(nulls)
