"""Convergence of the cross-national imputation, as mice shows it (van Buuren 2018,
sec. 6.5.2): trace plots of the chain means and SDs, observed against imputed values.

The main analysis imputes with one chain (:func:`kosovo_study.models.crossnational.
imputation.impute`: burn-in, then a copy kept every ``skip + 1`` cycles).
:func:`chains` reruns that chain with its trace (:func:`~kosovo_study.models.
crossnational.imputation.impute_traced`, the same code and seed, so its copies are the
analysis's) and runs ``chains - 1`` further chains from their own seeds
(``[seed, c]``), because mice's check compares several chains: where they mix, their
means by cycle overlap.  :func:`convergence` gives each imputed variable's
Gelman-Rubin potential scale reduction (R-hat; Gelman & Rubin 1992, the form of Gelman
et al. 2013, eq. 11.4) of the mean (and SD) of its imputed cells over the cycles after
the burn-in.

What this cannot show: R-hat near 1 says the chains forget their start and agree, not
that the imputation model is right; a chain can mix well around values that a
misspecified model makes.  The observed-vs-imputed densities show whether imputed
values look like observed ones, which under MAR they need not.

Three tables, all real public data: ``crossnational_imputation_chains`` (per chain,
cycle and variable: mean and SD of the imputed cells; aggregates only),
``crossnational_imputation_convergence`` (R-hat per variable and statistic) and
``crossnational_imputation_values`` (the observed values and the main chain's imputed
values of each imputed variable, for the densities).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.pandas import Check, Column

from kosovo_study.errors import KosovoStudyError
from kosovo_study.models.crossnational.imputation import ImputationSettings, impute_traced

#: The ``chain`` of the analysis's own chain (the others are diagnostic only).
MAIN_CHAIN = 0
STATISTICS = ("mean", "sd")
#: R-hat above this is read as "not converged" (Gelman et al. 2013, sec. 11.4: 1.1).
RHAT_THRESHOLD = 1.1


@dataclass(frozen=True)
class ChainSettings:
    """Chains in all (the main one included) and cycles of each further chain."""

    chains: int = 5
    cycles: int = 70

    @classmethod
    def from_config(cls, config: Any) -> ChainSettings:
        return cls(
            chains=config.crossnational_imputation_chains,
            cycles=config.crossnational_imputation_chain_cycles,
        )


def chains(
    table: pd.DataFrame,
    settings: ImputationSettings,
    chain_settings: ChainSettings,
    hide: dict[str, list[Any]] | None = None,
) -> tuple[list[pd.DataFrame], pd.DataFrame]:
    """The main chain's copies and every chain's trace (a ``chain`` and a ``seed``
    column added; further chains keep no copy)."""
    if chain_settings.chains < 2:
        raise KosovoStudyError(
            f"crossnational_imputation_chains = {chain_settings.chains}: R-hat compares at "
            "least 2 chains."
        )
    if chain_settings.cycles < settings.burn_in + 2:
        raise KosovoStudyError(
            f"crossnational_imputation_chain_cycles = {chain_settings.cycles}: at least the "
            f"burn-in ({settings.burn_in}) + 2 cycles are needed."
        )
    copies, trace = impute_traced(table, settings, hide)
    traces = [trace.assign(chain=MAIN_CHAIN, seed=str(settings.seed))]
    # a further chain: the same model and donors, its own stream, no copies kept
    further = replace(settings, burn_in=chain_settings.cycles - 1, imputations=1, skip=0)
    for chain in range(1, chain_settings.chains):
        _, extra = impute_traced(
            table, further, hide, rng=np.random.default_rng([settings.seed, chain])
        )
        traces.append(
            extra.assign(kept=False, copy=-1, chain=chain, seed=f"[{settings.seed}, {chain}]")
        )
    return copies, pd.concat(traces, ignore_index=True)


def gelman_rubin(series: np.ndarray) -> float:
    """Potential scale reduction of ``series`` (chains x draws): sqrt of ((n - 1) / n W
    + B / n) / W, W the mean within-chain variance, B / n the variance of the chain
    means (Gelman et al. 2013, eq. 11.3-11.4).  NaN when W is 0."""
    x = np.asarray(series, dtype=float)
    n = x.shape[1]
    within = float(np.mean(np.var(x, axis=1, ddof=1)))
    between_over_n = float(np.var(np.mean(x, axis=1), ddof=1))
    if not within > 0:
        return float("nan")
    return float(np.sqrt(((n - 1) / n * within + between_over_n) / within))


def convergence(trace: pd.DataFrame, burn_in: int) -> pd.DataFrame:
    """R-hat per imputed variable and statistic over the cycles after ``burn_in`` that
    every chain ran."""
    rows = []
    last = int(trace.groupby("chain")["cycle"].max().min())
    used = trace[(trace["cycle"] > burn_in) & (trace["cycle"] <= last)]
    for variable, group in used.groupby("variable", sort=False):
        for statistic in STATISTICS:
            ordered = group.sort_values(["chain", "cycle"])
            wide = ordered[statistic].to_numpy(dtype=float).reshape(group["chain"].nunique(), -1)
            defined = bool(np.isfinite(wide).all())
            rhat = gelman_rubin(wide) if defined else float("nan")
            rows.append(
                {
                    "variable": str(variable),
                    "statistic": statistic,
                    "imputed": int(group["imputed"].iloc[0]),
                    "chains": wide.shape[0],
                    "cycles_used": wide.shape[1],
                    "first_cycle": burn_in + 1,
                    "rhat": rhat,
                    "converged": bool(np.isfinite(rhat) and rhat < RHAT_THRESHOLD),
                    "rhat_threshold": RHAT_THRESHOLD,
                }
            )
    return pd.DataFrame(rows)


def imputed_values(table: pd.DataFrame, copies: list[pd.DataFrame]) -> pd.DataFrame:
    """Each imputed variable's observed values (``copy`` -1) and its imputed values in
    every copy, one row per country and copy (long)."""
    rows = []
    for variable in [c for c in table.columns if table[c].isna().any()]:
        missing = table[variable].isna()
        for iso3, value in table.loc[~missing, variable].items():
            rows.append((variable, iso3, "observed", -1, float(value)))
        for index, copy in enumerate(copies):
            for iso3, value in copy.loc[missing, variable].items():
                rows.append((variable, iso3, "imputed", index, float(value)))
    return pd.DataFrame(rows, columns=["variable", "iso3", "status", "copy", "value"])


_REAL = {
    "outcome_source": Column(str, Check.isin(["published"])),
    "synthetic": Column(bool, Check.isin([False])),
}
CHAINS_SCHEMA = pa.DataFrameSchema(
    {
        "chain": Column(int, Check.ge(0)),
        "seed": Column(str),
        "cycle": Column(int, Check.ge(1)),
        "variable": Column(str),
        "imputed": Column(int, Check.ge(1)),
        "mean": Column(float),
        "sd": Column(float, Check.ge(0), nullable=True),
        "kept": Column(bool),
        "copy": Column(int, Check.ge(-1)),
        **_REAL,
    },
    strict=True,
    ordered=True,
    unique=["chain", "cycle", "variable"],
    name="crossnational_imputation_chains",
)
CONVERGENCE_SCHEMA = pa.DataFrameSchema(
    {
        "variable": Column(str),
        "statistic": Column(str, Check.isin(list(STATISTICS))),
        "imputed": Column(int, Check.ge(1)),
        "chains": Column(int, Check.ge(2)),
        "cycles_used": Column(int, Check.ge(2)),
        "first_cycle": Column(int, Check.ge(1)),
        "rhat": Column(float, Check.ge(0), nullable=True),
        "converged": Column(bool),
        "rhat_threshold": Column(float),
        **_REAL,
    },
    strict=True,
    ordered=True,
    unique=["variable", "statistic"],
    name="crossnational_imputation_convergence",
)
VALUES_SCHEMA = pa.DataFrameSchema(
    {
        "variable": Column(str),
        "iso3": Column(str, Check.str_length(3, 3)),
        "status": Column(str, Check.isin(["observed", "imputed"])),
        "copy": Column(int, Check.ge(-1)),
        "value": Column(float),
        **_REAL,
    },
    strict=True,
    ordered=True,
    name="crossnational_imputation_values",
)
SCHEMAS = {
    "crossnational_imputation_chains": CHAINS_SCHEMA,
    "crossnational_imputation_convergence": CONVERGENCE_SCHEMA,
    "crossnational_imputation_values": VALUES_SCHEMA,
}


def analysis_table(countries: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, list[Any]]]:
    """The table the main analysis imputes and the cells it hides (Kosovo's outcome),
    as :func:`kosovo_study.models.crossnational.run_analysis` builds them."""
    from kosovo_study.models import crossnational as cn

    frame = cn.country_frame(countries, "mid")
    columns = [*cn.ALL_COVARIATES, cn.LOG_POPULATION, cn.OUTCOME_LOG]
    hide = {cn.OUTCOME_LOG: [cn.KOSOVO]} if cn.KOSOVO in frame.index else {}
    return frame[columns], hide


def analyse(
    countries: pd.DataFrame, settings: ImputationSettings, chain_settings: ChainSettings
) -> dict[str, pd.DataFrame]:
    """The three tables of the module docstring, validated."""
    from kosovo_study.tablefile import check

    table, hide = analysis_table(countries)
    copies, trace = chains(table, settings, chain_settings, hide)
    tables = {
        "crossnational_imputation_chains": trace,
        "crossnational_imputation_convergence": convergence(trace, settings.burn_in),
        "crossnational_imputation_values": imputed_values(table, copies),
    }
    for frame in tables.values():
        frame["outcome_source"] = "published"  # real public data only
        frame["synthetic"] = False
    return {
        name: check(
            frame.reindex(columns=list(SCHEMAS[name].columns)),
            SCHEMAS[name],
            file=f"data/processed/results/{name}",
        )
        for name, frame in tables.items()
    }


def glue_values(convergence_table: pd.DataFrame) -> dict[str, Any]:
    """Numbers the book glues: the largest R-hat of the chain means, the number of
    imputed variables and chains, and each variable's R-hat (``cn_rhat_<variable>``)."""
    means = convergence_table[convergence_table["statistic"] == "mean"]
    values: dict[str, Any] = {
        "cn_rhat_max": float(means["rhat"].max()),
        "cn_rhat_min": float(means["rhat"].min()),
        "cn_rhat_variables": len(means),
        "cn_rhat_chains": int(means["chains"].iloc[0]),
        "cn_rhat_cycles": int(means["cycles_used"].iloc[0]),
        "cn_rhat_first_cycle": int(means["first_cycle"].iloc[0]),
        "cn_rhat_threshold": float(means["rhat_threshold"].iloc[0]),
        "cn_rhat_converged": int(means["converged"].sum()),
    }
    for variable, rhat in zip(means["variable"], means["rhat"], strict=True):
        values[f"cn_rhat_{variable}"] = float(rhat)
    return values
