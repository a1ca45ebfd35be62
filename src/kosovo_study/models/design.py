"""Model inputs: which units, which covariates, on which scale (the one design builder).

:func:`build_design` is the single design-matrix builder of the package's count
models: the municipal models, every multiverse specification and the multiverse's
cross-national analogue call it.  It keeps the units with every input present,
standardises continuous covariates (mean 0, SD 1 over the analysed units, so each
incidence-rate ratio is "per standard deviation"), keeps 0/1 indicators as they are
(the charity ratio compares units with and without documented presence), puts the
constant first and takes log population as the offset (the models describe
recruitment per inhabitant).

It refuses to build a design on fewer than :data:`MIN_UNITS` units: with fewer,
the asymptotic intervals and the NB2 overdispersion estimate are unreliable and a
regression is not a sensible summary (e.g. the five municipalities with published
confirmed counts, which are also selected on the outcome).

The municipal analysis uses the municipalities enumerated in the 2011 census (34;
the four northern municipalities have no 2011 population or census covariates).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kosovo_study.errors import KosovoStudyError

UNEMPLOYMENT = "unemployment_concern_2012"
CHARITY = "charity_evidence_pre2014"
COVARIATES: tuple[str, ...] = (UNEMPLOYMENT, CHARITY, "muslim_share_2011", "youth_share_2011")
BINARY = frozenset({CHARITY, "charity_evidence_post2014"})
POPULATION = "population_2011"
#: The smallest number of units any model of the package is fitted on (see above).
MIN_UNITS = 20
#: Status values of ``<covariate>_status`` columns that need no note.
PLAIN_STATUS = frozenset({"measured"})
#: What the other status values mean, for the notes of a design (see the clean stage's
#: ``clean/mosaic.py``).
STATUS_NOTES: dict[str, str] = {
    "measured_undivided_mitrovica": "the UNDP Mosaic 2012 value of the undivided, pre-2013 "
    "Mitrovica (which included today's North Mitrovica) is used for the south",
}


def require_units(n: int, context: str, min_units: int = MIN_UNITS) -> None:
    """Raise a clear error when a model would be fitted on fewer than ``min_units`` units."""
    if n < min_units:
        raise KosovoStudyError(
            f"{context}: only {n} units have every input, fewer than the minimum of "
            f"{min_units}. With so few units the intervals and the overdispersion estimate "
            "are unreliable, and a small set of units chosen because of their outcome (e.g. "
            "the published confirmed counts) is not a regression sample. Use more units, or "
            "report the counts descriptively."
        )


@dataclass(frozen=True)
class Design:
    """Outcome-free model inputs for the analysed units.

    ``notes`` lists values that are not a plain measurement of the unit, from the
    processed table's ``<covariate>_status`` columns (e.g. the 2012 Mosaic value of
    the undivided Mitrovica used for the south).
    """

    municipality_id: np.ndarray
    municipality: list[str]
    X: np.ndarray
    offset: np.ndarray
    terms: list[str]
    scale: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return len(self.municipality_id)

    @property
    def ids(self) -> np.ndarray:
        return self.municipality_id

    def column(self, term: str) -> int:
        return self.terms.index(term)


def _status_notes(frame: pd.DataFrame, covariates: Iterable[str], names: str) -> tuple[str, ...]:
    notes = []
    for name in covariates:
        status = f"{name}_status"
        if status not in frame.columns:
            continue
        for label, value in zip(frame[names], frame[status], strict=True):
            if isinstance(value, str) and value not in PLAIN_STATUS:
                meaning = STATUS_NOTES.get(value, value.replace("_", " "))
                notes.append(f"{label}, {name}: {meaning}")
    return tuple(notes)


def build_design(
    frame: pd.DataFrame,
    covariates: tuple[str, ...],
    population: str | None = POPULATION,
    *,
    required: tuple[str, ...] = (),
    ids: str = "municipality_id",
    names: str = "municipality",
    binary: frozenset[str] = BINARY,
    min_units: int = MIN_UNITS,
    context: str = "Model",
) -> Design:
    """The design matrix (constant first) over the units with every input present.

    ``population`` (persons) gives the offset log(population), None no offset (zero);
    ``required`` names further columns (e.g. the outcome) that must be present; ``ids``
    orders the units.
    """
    needed = [*([population] if population else []), *covariates, *required]
    unknown = [c for c in dict.fromkeys([ids, names, *needed]) if c not in frame.columns]
    if unknown:
        raise KosovoStudyError(f"Unknown variables {unknown} in {context}.")
    complete = frame.dropna(subset=needed).sort_values(ids)
    require_units(len(complete), context, min_units)
    if population and (complete[population].astype(float) <= 0).any():
        raise KosovoStudyError(f"{context}: {population} must be positive for the offset.")
    columns: list[np.ndarray] = [np.ones(len(complete))]
    scale: dict[str, float] = {}
    for name in covariates:
        values = complete[name].astype(float).to_numpy()
        if name in binary:
            columns.append(values)
            continue
        sd = float(values.std(ddof=1))
        if not sd > 0:
            raise KosovoStudyError(
                f"{context}: {name} does not vary over the {len(complete)} units; "
                "it cannot be a covariate."
            )
        scale[name] = sd
        columns.append((values - values.mean()) / sd)
    return Design(
        municipality_id=complete[ids].to_numpy(),
        municipality=complete[names].astype(str).tolist(),
        X=np.column_stack(columns),
        offset=np.log(complete[population].astype(float).to_numpy())
        if population
        else np.zeros(len(complete)),
        terms=["const", *covariates],
        scale=scale,
        notes=_status_notes(complete, covariates, names),
    )


def municipal_design(
    municipalities: pd.DataFrame,
    covariates: tuple[str, ...] = COVARIATES,
    population: str = POPULATION,
) -> Design:
    """The municipal models' design (see the module docstring)."""
    return build_design(municipalities, covariates, population, context="Municipal model")
