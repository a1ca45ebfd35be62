"""Result objects shared by every model family (municipal, cross-national, interviewee).

A model family returns a :class:`ModelResult`: a tidy table of terms with their
estimate, interval, p-value and N (``tidy()``), model-level statistics (N, AIC,
log-likelihood, calibration figures ...) and named diagnostic tables (calibration,
rootogram, influence ...).  The models stage writes ``tidy()`` tables and the
diagnostics as data; the book renders them and never touches a raw estimator.

The shape follows statsmodels' and pyfixest's results objects, reduced to what a
reader of the report needs.  ``scale`` says what an estimate is ("incidence rate
ratio per SD", "average marginal effect (persons per SD)", "odds ratio" ...), so a
table renderer can label it without knowing the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

#: The two-sided 95% normal quantile of every Wald interval (1.959963984540054).
Z95 = float(stats.norm.ppf(0.975))

#: Columns of every ``tidy()`` table, in this order.
TIDY_COLUMNS: tuple[str, ...] = (
    "model",
    "term",
    "estimate",
    "conf_low",
    "conf_high",
    "p_value",
    "scale",
    "n",
    "synthetic",
)


#: Families whose last parameter is the NB2 dispersion alpha.
WITH_ALPHA = frozenset({"nb2", "nb2_offset", "hurdle_nb2"})


@dataclass(frozen=True)
class Fit:
    """One fitted model: one member of the engine's batch result
    (:class:`~kosovo_study.models.engine.BatchFit`), with its terms and robust errors.

    ``params``: the coefficients, then NB2's ``alpha`` (variance ``mu + alpha mu^2``)
    last; a hurdle has ``(gamma, beta, alpha)`` with ``gamma`` the logit coefficients.
    ``k`` is the number of columns of X; ``robust_se`` the HC0 standard errors of the
    count coefficients ``beta``; ``cov`` the HC0 covariance of every parameter where it
    was computed (NaN otherwise); ``llf_null`` the log-likelihood of the constant-only
    model with the same offset (NaN where not fitted).
    """

    family: str
    params: np.ndarray
    robust_se: np.ndarray
    llf: float
    k: int
    n: int
    converged: bool = True
    #: log population is the offset (else a covariate)
    uses_offset: bool = True
    cov: np.ndarray | None = None
    llf_null: float = float("nan")
    terms: tuple[str, ...] = ()

    @property
    def beta(self) -> np.ndarray:
        """The count model's coefficients."""
        first = self.k if self.family == "hurdle_nb2" else 0
        return self.params[first : first + self.k]

    @property
    def alpha(self) -> float:
        return float(self.params[-1]) if self.family in WITH_ALPHA else 0.0

    @property
    def covariance(self) -> np.ndarray:
        """``cov``, which a fit without a full covariance (the municipal fits) lacks."""
        if self.cov is None:
            raise ValueError(f"This {self.family} fit has robust standard errors only.")
        return self.cov

    @property
    def n_params(self) -> int:
        return len(self.params)

    @property
    def aic(self) -> float:
        return 2 * self.n_params - 2 * self.llf

    @property
    def pseudo_r2(self) -> float:
        """McFadden's pseudo-R² against the constant-only model with the same offset."""
        return 1 - self.llf / self.llf_null


@dataclass(frozen=True)
class ModelResult:
    """One fitted model, as a reader of the results needs it.

    ``terms`` holds one row per reported term with at least ``term``, ``estimate``,
    ``conf_low``, ``conf_high`` and ``p_value`` (NaN where a p-value does not
    apply); extra columns (standard errors, bootstrap replicates ...) are kept by
    ``tidy(extra=True)``.
    """

    model: str
    family: str
    outcome: str
    n: int
    terms: pd.DataFrame
    scale: str
    synthetic: bool = False
    statistics: Mapping[str, Any] = field(default_factory=dict)
    diagnostics: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        missing = {"term", "estimate", "conf_low", "conf_high", "p_value"} - set(self.terms)
        if missing:
            raise ValueError(f"ModelResult {self.model!r}: terms table lacks {sorted(missing)}")

    def tidy(self, extra: bool = False) -> pd.DataFrame:
        """Term, estimate, interval, p and N: one row per term, in a fixed column order."""
        table = self.terms.copy()
        table.insert(0, "model", self.model)
        if "scale" not in table:
            table["scale"] = self.scale
        table["n"] = self.n
        table["synthetic"] = self.synthetic
        ordered = list(TIDY_COLUMNS)
        rest = [c for c in table.columns if c not in ordered] if extra else []
        return table[ordered + rest].reset_index(drop=True)

    @classmethod
    def from_tidy(cls, table: pd.DataFrame, model: str | None = None) -> ModelResult:
        """The result whose ``tidy(extra=True)`` rows are ``table`` (e.g. read back from
        ``municipal_tidy.csv``): notebooks and the book rebuild results from saved tables
        without refitting.  ``model`` picks one model of a stacked table.  Family, outcome,
        statistics and notes are not in a tidy table; ``family`` is the model's name."""
        rows = table if model is None else table[table["model"] == model]
        names = rows["model"].unique()
        if len(names) != 1:
            raise ValueError(f"from_tidy needs the rows of one model; got {list(names)}")
        first = rows.iloc[0]
        return cls(
            model=str(names[0]),
            family=str(names[0]),
            outcome="",
            n=int(first["n"]),
            terms=rows.drop(columns=["model", "n", "synthetic"]).reset_index(drop=True),
            scale=str(first["scale"]),
            synthetic=bool(first["synthetic"]),
        )

    def summary(self) -> str:
        """A plain-text summary: header, one line per term, statistics and notes."""
        flag = "  [SYNTHETIC DATA: method illustration, not a finding]" if self.synthetic else ""
        lines = [
            f"{self.model}: {self.family}, outcome {self.outcome}, N = {self.n}{flag}",
            f"estimates: {self.scale} [95% interval]; p",
        ]
        for row in self.terms.itertuples(index=False):
            p = getattr(row, "p_value", np.nan)
            p_text = "" if not np.isfinite(p) else f"; p = {p:.3f}"
            lines.append(
                f"  {row.term:<40} {row.estimate:10.3g} "
                f"[{row.conf_low:.3g}, {row.conf_high:.3g}]{p_text}"
            )
        for key, value in self.statistics.items():
            lines.append(f"  {key}: {value}")
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def stack_tidy(results: list[ModelResult], extra: bool = False) -> pd.DataFrame:
    """Several results' ``tidy()`` tables, one below the other."""
    if not results:
        return pd.DataFrame(columns=list(TIDY_COLUMNS))
    return pd.concat([r.tidy(extra=extra) for r in results], ignore_index=True)
