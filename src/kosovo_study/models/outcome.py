"""The municipal outcome: the restricted fighter counts when supplied, else a synthetic stand-in.

Restricted: ``data/raw/restricted/fighters_by_municipality.csv`` in the format that
``kosovo-study validate`` checks (see README).  It is used unchanged when present
and valid; if present and invalid, the run stops with the validator's messages.

Synthetic (when no restricted file exists): counts drawn from a negative binomial
model on the *real* covariates of the analysed municipalities, conditioned to add
up to a published national total.  The draw is Dirichlet-multinomial: gamma
heterogeneity ``g_i ~ Gamma(1/alpha, alpha)`` around ``mu_i = pop_i * exp(x_i b)``,
then ``y ~ Multinomial(T, mu_i g_i / sum)``, which is the NB2 model conditioned on
its total.  The generator's parameters (:data:`GENERATOR_IRR`, :data:`GENERATOR_ALPHA`)
are invented for the simulation, are not estimates, and every output built on this
outcome is labelled synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kosovo_study.clean.fighters import HARMONISED_STATISTIC
from kosovo_study.errors import KosovoStudyError
from kosovo_study.models.design import CHARITY, UNEMPLOYMENT, Design
from kosovo_study.paths import ProjectPaths
from kosovo_study.validation import validate_file

RESTRICTED_FILE = "fighters_by_municipality.csv"
#: Synthetic generator: incidence-rate ratios per SD (per presence for the charity flag).
GENERATOR_IRR: dict[str, float] = {
    UNEMPLOYMENT: 1.3,
    CHARITY: 1.8,
    "muslim_share_2011": 1.2,
    "youth_share_2011": 1.1,
}
GENERATOR_ALPHA = 0.8
SYNTHETIC_SEED = 20_150_126
#: The source of the national totals: Kosovo Police data in the UNDP 2017 report (Xharra
#: & Gojani), which breaks its 335 persons down into 253 men, 55 women and 27 children.
TOTAL_SOURCE_KEY = "UNDP2017_via_AP_BALKANINSIDER"
#: The two national totals of that source, by what they count.
TOTAL_DEFINITIONS: dict[str, str] = {
    "adults": "adults only (men + women who travelled); children excluded",
    "adults_and_children": "adults and the children taken with them (men + women + children)",
}
#: The total whose definition matches "fighters" (persons recruited): adults only.
#: Children were taken by their parents; they are not recruits.
FIGHTERS_TOTAL = "adults"


@dataclass(frozen=True)
class Outcome:
    """Counts aligned with a :class:`Design`, and where they come from."""

    fighters: np.ndarray
    source: str  # "restricted" or "synthetic"
    description: str

    @property
    def synthetic(self) -> bool:
        return self.source == "synthetic"


def national_totals(national: pd.DataFrame, source_key: str = TOTAL_SOURCE_KEY) -> dict[str, int]:
    """Both national totals of one source (persons), keyed by :data:`TOTAL_DEFINITIONS`.

    ``adults_and_children`` is the clean stage's harmonised total; ``adults`` subtracts
    the same source's published children count from it.  Both are read from
    ``kosovo_national`` (built from ``kosovo_fighters_national.csv``), never typed here.
    """
    rows = national[national["source_key"] == source_key]

    def one(statistic: str) -> int:
        values = rows.loc[rows["statistic"] == statistic, "value"]
        if len(values) != 1:
            raise KosovoStudyError(
                f"kosovo_national has {len(values)} rows of {statistic!r} for {source_key}; "
                "expected 1. Check data/raw/transcribed/kosovo_fighters_national.csv."
            )
        return int(values.iloc[0])

    with_children = one(HARMONISED_STATISTIC)
    return {"adults": with_children - one("children"), "adults_and_children": with_children}


def national_total(
    national: pd.DataFrame, source_key: str = TOTAL_SOURCE_KEY, definition: str = FIGHTERS_TOTAL
) -> int:
    """One national total (persons): by default the one that counts fighters (adults)."""
    if definition not in TOTAL_DEFINITIONS:
        raise KosovoStudyError(
            f"Unknown national total {definition!r}; use one of {sorted(TOTAL_DEFINITIONS)}."
        )
    return national_totals(national, source_key)[definition]


def generator_coefficients(design: Design) -> np.ndarray:
    """log IRRs of the generator, aligned with ``design.terms`` (constant set to 0)."""
    return np.array([0.0] + [np.log(GENERATOR_IRR.get(t, 1.0)) for t in design.terms[1:]])


def draw_conditional_nb(
    design: Design,
    log_irr: np.ndarray,
    alpha: float,
    total: int,
    rng: np.random.Generator,
    size: int = 1,
) -> np.ndarray:
    """NB2 counts conditioned on their total (Dirichlet-multinomial), shape (size, n)."""
    rate = np.exp(design.offset + design.X @ log_irr)
    heterogeneity = rng.gamma(1 / alpha, alpha, size=(size, design.n))
    weights = rate * heterogeneity
    probabilities = weights / weights.sum(axis=1, keepdims=True)
    return np.stack([rng.multinomial(total, p) for p in probabilities]).astype(float)


def synthetic_outcome(design: Design, total: int, seed: int = SYNTHETIC_SEED) -> Outcome:
    """The documented synthetic stand-in for the restricted counts."""
    rng = np.random.default_rng(seed)
    counts = draw_conditional_nb(
        design, generator_coefficients(design), GENERATOR_ALPHA, total, rng
    )
    return Outcome(
        counts[0],
        "synthetic",
        f"SYNTHETIC: NB2 draw (seed {seed}, alpha {GENERATOR_ALPHA}, IRRs {GENERATOR_IRR}) on "
        f"the real covariates, conditioned on the national total of {total} fighters "
        f"({TOTAL_DEFINITIONS[FIGHTERS_TOTAL]}; {TOTAL_SOURCE_KEY})",
    )


def restricted_path(paths: ProjectPaths) -> Path:
    return paths.restricted / RESTRICTED_FILE


def restricted_outcome(path: Path, design: Design) -> Outcome:
    """The researcher's counts, validated, aligned with the design's municipalities."""
    validate_file(path)  # raises with every problem listed
    from kosovo_study.schemas import INPUT_FORMATS

    spec = INPUT_FORMATS[RESTRICTED_FILE]
    assert spec.prepare is not None
    table, _ = spec.prepare(pd.read_csv(path, dtype=str, keep_default_na=False), path)
    counts = dict(zip(table["municipality_id"], table["fighters"], strict=True))
    missing = [
        name
        for i, name in zip(design.municipality_id, design.municipality, strict=True)
        if i not in counts
    ]
    if missing:
        raise KosovoStudyError(
            f"{path} has no count for {missing}. The municipal models need a count for every "
            "analysed municipality (0 where none left)."
        )
    return Outcome(
        np.array([counts[i] for i in design.municipality_id], dtype=float),
        "restricted",
        f"restricted municipal counts from {path.name}",
    )


def load_outcome(paths: ProjectPaths, design: Design, national: pd.DataFrame) -> Outcome:
    """Restricted counts when the file exists, else the synthetic stand-in."""
    path = restricted_path(paths)
    if path.exists():
        return restricted_outcome(path, design)
    return synthetic_outcome(design, national_total(national))
