"""The cross-national analogue of the multiverse: ICSR January 2015 on unemployment,
on the Derpanopoulos & Sonnet sample, all real data (:func:`run`).

Every point rule x population handling (offset or covariate) x unemployment measure x
family x control set (:data:`GRID`) is one specification, estimated and tested as the
municipal specifications are (:mod:`kosovo_study.models.multiverse`).
"""

from __future__ import annotations

import itertools
import warnings
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
    outcome,
)
from kosovo_study.models.design import build_design

#: The cross-national specifications, each choice documented here and nowhere else.
GRID: dict[str, tuple[str, ...]] = {
    "point_rule": ("low", "mid", "high"),
    # log population 2014 as the offset, or as a covariate (Derpanopoulos & Sonnet's
    # choice; the offset model is badly miscalibrated across countries, see issue 10).
    "population": ("offset", "covariate"),
    "unemployment": (YOUTH, UNEMPLOYMENT),
    "family": ("poisson", "nb2", "quasi_poisson", "ols_log_rate"),
    "controls": ("none", "gdp", "gdp+muslim", "gdp+muslim+fractionalisation"),
}
CONTROL_SETS: dict[str, tuple[str, ...]] = {
    "none": (),
    "gdp": (LOG_GDP,),
    "gdp+muslim": (LOG_GDP, MUSLIM),
    "gdp+muslim+fractionalisation": (LOG_GDP, MUSLIM, FRACTIONALISATION),
}


def run(
    countries: pd.DataFrame, permutations: int, seed: int, n_jobs: int = 2
) -> tuple[pd.DataFrame, np.ndarray]:
    """The cross-national analogue: every point rule x population handling (offset or
    covariate) x unemployment measure x family x control set, on the Derpanopoulos &
    Sonnet sample, with the same randomization construction as the municipal
    specifications (log population, when a covariate, is one of the "other
    covariates" the focal residual is taken on); its own shared orderings of the
    sample's countries.  The designs are built here; the refits run on ``n_jobs``
    threads (results do not depend on it), Poisson and quasi-Poisson sharing theirs."""
    from joblib import Parallel, delayed

    sample_all = countries[countries["in_ds2016_sample"]].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    orderings = inference.random_orderings(permutations, len(sample_all), rng)
    position = {iso3: i for i, iso3 in enumerate(sample_all["iso3"])}
    rows: list[dict[str, Any]] = []
    tasks: dict[Any, list[tuple[int, str, mv.SpecData]]] = {}
    combinations = itertools.product(*GRID.values())
    for rule, population, unemployment, family, controls in combinations:
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
        # Specifications that share an engine fit (Poisson, quasi-Poisson) go together.
        key = (rule, population, unemployment, controls, inference.engine_family(family))
        tasks.setdefault(key, []).append((len(rows), family, data))
        rows.append(
            {
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
            }
        )

    def estimate(
        group: list[tuple[int, str, mv.SpecData]],
    ) -> list[tuple[int, dict[str, Any], Any]]:
        memo: inference.Memo = {}
        with np.errstate(all="ignore"):
            return [
                (row, *mv._estimate(family, data, orderings, memo)) for row, family, data in group
            ]

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
