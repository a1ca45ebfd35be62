"""Municipal model inputs: which units, which covariates, on which scale.

The municipal analysis uses the municipalities enumerated in the 2011 census (34;
the four northern municipalities have no 2011 population or census covariates).
Continuous covariates are standardised (mean 0, SD 1 over the analysed units), so
each incidence-rate ratio is "per standard deviation"; the charity indicator stays
0/1, so its ratio compares municipalities with and without documented presence.
The offset is log population 2011 (persons): the models describe recruitment per
inhabitant.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kosovo_study.errors import KosovoStudyError

UNEMPLOYMENT = "unemployment_concern_2012"
CHARITY = "charity_evidence_pre2014"
COVARIATES: tuple[str, ...] = (UNEMPLOYMENT, CHARITY, "muslim_share_2011", "youth_share_2011")
BINARY = frozenset({CHARITY, "charity_evidence_post2014"})
POPULATION = "population_2011"


@dataclass(frozen=True)
class Design:
    """Outcome-free model inputs for the analysed municipalities."""

    municipality_id: np.ndarray
    municipality: list[str]
    X: np.ndarray
    offset: np.ndarray
    terms: list[str]
    scale: dict[str, float] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.municipality_id)

    def column(self, term: str) -> int:
        return self.terms.index(term)


def municipal_design(
    municipalities: pd.DataFrame,
    covariates: tuple[str, ...] = COVARIATES,
    population: str = POPULATION,
) -> Design:
    """The design matrix (constant first) over municipalities with every input present."""
    needed = [population, *covariates]
    unknown = [c for c in needed if c not in municipalities.columns]
    if unknown:
        raise KosovoStudyError(f"Unknown variables {unknown} for the municipal model.")
    complete = municipalities.dropna(subset=needed).sort_values("municipality_id")
    if len(complete) <= len(covariates) + 2:
        raise KosovoStudyError(
            f"Only {len(complete)} municipalities have every input {needed}: fewer than the "
            "model's parameters. Choose other covariates."
        )
    columns: list[np.ndarray] = [np.ones(len(complete))]
    scale: dict[str, float] = {}
    for name in covariates:
        values = complete[name].astype(float).to_numpy()
        if name in BINARY:
            columns.append(values)
            continue
        sd = float(values.std(ddof=1))
        scale[name] = sd
        columns.append((values - values.mean()) / sd)
    return Design(
        municipality_id=complete["municipality_id"].to_numpy(),
        municipality=complete["municipality"].tolist(),
        X=np.column_stack(columns),
        offset=np.log(complete[population].astype(float).to_numpy()),
        terms=["const", *covariates],
        scale=scale,
    )
