"""Multiple imputation by chained equations and Rubin's rules, for the country models.

:func:`impute` draws ``m`` completed copies of a table with statsmodels' ``MICEData``
(chained linear models with predictive mean matching, van Buuren 2018, ch. 4; the
imputed values are observed values of similar countries, so they stay in range).
After ``burn_in`` cycles one copy is kept every ``skip + 1`` cycles, so successive
copies are less correlated than consecutive cycles would be.  Everything is seeded.

:func:`rubin` pools ``m`` estimates and their within-imputation variances as mice's
``pool()`` reports them (Rubin 1987, eq. 3.1.2-3.1.8; Barnard & Rubin 1999; van Buuren
2018, sec. 2.3-2.4): total variance ``T = W + (1 + 1/m) B``; the proportion of the
variance due to missingness ``lambda = (1 + 1/m) B / T``; the relative increase in
variance ``r = (1 + 1/m) B / W``; Barnard-Rubin degrees of freedom
``nu = nu_old nu_obs / (nu_old + nu_obs)`` with ``nu_old = (m - 1) / lambda^2`` and
``nu_obs = (nu_com + 1) / (nu_com + 3) nu_com (1 - lambda)`` for ``nu_com`` complete-data
degrees of freedom (``n`` minus the number of parameters; infinite gives Rubin's
classical df); and the fraction of missing information
``FMI = (r + 2 / (nu + 3)) / (1 + r)`` (not lambda, which it approaches as m grows).
With ``m = 1`` it returns the single estimate with a normal interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.imputation.mice import MICEData

from kosovo_study.errors import KosovoStudyError

#: Rubin (1987) and van Buuren (2018, sec. 2.8) advise m >= 20 when the fraction of
#: missing information is moderate; the study's main analysis uses at least this many.
MIN_IMPUTATIONS = 20


@dataclass(frozen=True)
class ImputationSettings:
    """Sizes and seed of the chained-equations run (recorded in the results metadata)."""

    imputations: int = MIN_IMPUTATIONS
    #: Cycles before the first kept copy (statsmodels' ``MICE`` default burn-in is 10).
    burn_in: int = 10
    #: Cycles skipped between kept copies, so that copies are less correlated.
    skip: int = 2
    #: Donors for predictive mean matching.  statsmodels' default is 20; with about 160
    #: countries, 10 keeps donors closer to the country imputed (van Buuren 2018, sec.
    #: 3.4.2, finds 5-10 donors work well).  Since HDI comes from UNDP's complete table,
    #: only a handful of cells are missing (crossnational_imputation_convergence counts them).
    k_pmm: int = 10
    seed: int = 2016


class _LinearMICEData(MICEData):  # type: ignore[misc]
    """``MICEData`` with each conditional model "variable ~ all other columns + 1" built
    in NumPy: the same design statsmodels' default formula gives, without evaluating a
    patsy formula at every update (which is about 95% of its run time here)."""

    def _design(self, vname: str) -> tuple[np.ndarray, np.ndarray]:
        values = self.data.to_numpy(dtype=float)
        j = self.data.columns.get_loc(vname)
        exog = np.column_stack([np.ones(len(values)), np.delete(values, j, axis=1)])
        return values[:, j], exog

    def get_split_data(self, vname: str) -> tuple[Any, ...]:
        endog, exog = self._design(vname)
        obs, miss = self.ix_obs[vname], self.ix_miss[vname]
        return endog[obs].copy(), exog[obs].copy(), exog[miss].copy(), {}, {}

    def get_fitting_data(self, vname: str) -> tuple[Any, ...]:
        endog, exog = self._design(vname)
        obs = self.ix_obs[vname]
        return endog[obs].copy(), exog[obs].copy(), {}, {}


def impute(
    table: pd.DataFrame,
    settings: ImputationSettings,
    hide: Mapping[str, Sequence[Any]] | None = None,
) -> list[pd.DataFrame]:
    """``settings.imputations`` completed copies of ``table`` (numeric columns only).

    Columns without missing values are predictors only.  The index is kept.
    ``hide`` (column -> index labels) names observed cells that the imputation must not
    see: they are treated as missing while imputing (so no imputed value depends on
    them) and restored, as observed, in every copy.  The analysis hides Kosovo's own
    outcome, which it predicts out of sample.  The chain itself is :func:`impute_traced`'s.
    """
    return impute_traced(table, settings, hide)[0]


#: Columns of the chain's trace (:func:`impute_traced`).
TRACE_COLUMNS = ("cycle", "variable", "imputed", "mean", "sd", "kept", "copy")


def impute_traced(
    table: pd.DataFrame,
    settings: ImputationSettings,
    hide: Mapping[str, Sequence[Any]] | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[list[pd.DataFrame], pd.DataFrame]:
    """:func:`impute`'s copies and the chain's trace, as mice's ``plot(imp)`` shows it.

    One row per cycle (1, 2, ...) and per variable with missing values in ``table``: the
    number of ``imputed`` cells, their mean and SD (ddof 1) after the cycle, whether the
    cycle's state was ``kept`` as a copy and which (``copy``, 0-based; -1 if not).  Cells
    hidden by ``hide`` are not in it (they are restored as observed in every copy), so
    a kept cycle's mean is the mean of that copy's imputed cells.  ``rng`` replaces the
    generator seeded with ``settings.seed`` (the diagnostic chains' own streams); the
    default is exactly :func:`impute`'s chain, one cycle at a time (``update_all(n)`` is
    ``n`` single cycles).
    """
    if settings.imputations < 1:
        raise KosovoStudyError("At least one imputation is needed.")
    observed = table.astype(float)
    working = observed.copy()
    for column, labels in (hide or {}).items():
        working.loc[list(labels), column] = np.nan
    data = working.reset_index(drop=True)
    missing = observed.isna().to_numpy()
    traced = [j for j in range(observed.shape[1]) if missing[:, j].any()]
    if not data.isna().any().any():
        return [observed.copy() for _ in range(settings.imputations)], pd.DataFrame(
            columns=list(TRACE_COLUMNS)
        )
    generator = rng if rng is not None else np.random.default_rng(settings.seed)
    engine = _LinearMICEData(data, k_pmm=settings.k_pmm, rng=generator)
    trace: list[dict[str, Any]] = []
    cycles = [0]

    def cycle(kept: int) -> None:
        engine.update_all(1)
        cycles[0] += 1
        values = engine.data.to_numpy(dtype=float)
        for j in traced:
            cells = values[missing[:, j], j]
            trace.append(
                {
                    "cycle": cycles[0],
                    "variable": str(observed.columns[j]),
                    "imputed": len(cells),
                    "mean": float(cells.mean()),
                    "sd": float(cells.std(ddof=1)) if len(cells) > 1 else float("nan"),
                    "kept": kept >= 0,
                    "copy": kept,
                }
            )

    for _ in range(settings.burn_in):
        cycle(-1)
    copies = []
    for index in range(settings.imputations):
        for step in range(settings.skip + 1):
            cycle(index if step == settings.skip else -1)
        copy = engine.data.copy()
        copy.index = table.index
        for column, labels in (hide or {}).items():
            copy.loc[list(labels), column] = observed.loc[list(labels), column]
        copies.append(copy)
    return copies, pd.DataFrame(trace, columns=list(TRACE_COLUMNS))


@dataclass(frozen=True)
class Pooled:
    """Rubin-pooled estimate as mice's ``pool()`` reports it: point, total variance,
    Barnard-Rubin df, interval, p, FMI, RIV, lambda, and the variance components."""

    estimate: float
    variance: float
    df: float
    conf_low: float
    conf_high: float
    p_value: float
    #: fraction of missing information (van Buuren 2018, eq. 2.24), not lambda
    fraction_missing_information: float
    #: relative increase in variance due to nonresponse, (1 + 1/m) B / W
    relative_increase_in_variance: float = 0.0
    #: proportion of the total variance due to missingness, (1 + 1/m) B / T
    lambda_missing: float = 0.0
    within_variance: float = 0.0
    between_variance: float = 0.0


def barnard_rubin_df(m: int, lam: float, df_complete: float) -> float:
    """Barnard & Rubin's (1999) degrees of freedom, as mice's ``barnard.rubin``."""
    lam = max(lam, 1e-4)  # mice's floor: no division by zero when B = 0
    df_old = (m - 1) / lam**2
    if not np.isfinite(df_complete):
        return float(df_old)
    df_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - lam)
    return float(df_old * df_obs / (df_old + df_obs))


def rubin(
    estimates: np.ndarray,
    variances: np.ndarray,
    level: float = 0.95,
    df_complete: float = np.inf,
) -> Pooled:
    """Pool ``m`` estimates with their within-imputation variances (Rubin 1987), with
    Barnard-Rubin df for ``df_complete`` complete-data degrees of freedom."""
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    m = len(q)
    if m == 0 or len(u) != m:
        raise KosovoStudyError("rubin() needs one variance per estimate.")
    estimate = float(q.mean())
    within = float(u.mean())
    between = float(q.var(ddof=1)) if m > 1 else 0.0
    total = within + (1 + 1 / m) * between
    if m > 1:
        lam = (1 + 1 / m) * between / total if total > 0 else 0.0
        riv = (1 + 1 / m) * between / within if within > 0 else float("inf")
        df = barnard_rubin_df(m, lam, df_complete)
        fmi = (riv + 2 / (df + 3)) / (1 + riv) if np.isfinite(riv) else 1.0
    else:
        lam, riv, df, fmi = 0.0, 0.0, np.inf, 0.0
    se = np.sqrt(total)
    quantile = stats.t.ppf(0.5 + level / 2, df)
    p_value = float(2 * stats.t.sf(abs(estimate) / se, df)) if se > 0 else float("nan")
    return Pooled(
        estimate=estimate,
        variance=total,
        df=float(df),
        conf_low=float(estimate - quantile * se),
        conf_high=float(estimate + quantile * se),
        p_value=p_value,
        fraction_missing_information=float(fmi),
        relative_increase_in_variance=float(riv),
        lambda_missing=float(lam),
        within_variance=within,
        between_variance=between,
    )
