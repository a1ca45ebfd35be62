"""The result object shared by every model family (municipal, cross-national, interviewee).

It lives outside ``kosovo_study.models`` so that the interviews stage, which returns one,
does not import the models package (and rerun whenever a municipal model changes).

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
