"""The municipal outcome: the restricted fighter counts when supplied, else a synthetic stand-in.

Restricted: ``data/raw/restricted/fighters_by_municipality.csv`` in the format that
``kosovo-study validate`` checks (see README), read by the same function
(:func:`kosovo_study.validation.read_validated`).  It is used unchanged when present
and valid; if present and invalid, the run stops with the validator's messages; if
anything else sits at or near the path (:func:`locate_restricted`), the run stops and
says what it found.  The synthetic stand-in is used only when nothing is there.

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

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kosovo_study.clean.fighters import HARMONISED_STATISTIC
from kosovo_study.config import StudyConfig
from kosovo_study.errors import KosovoStudyError
from kosovo_study.manifest import publishes_restricted_sha256
from kosovo_study.models.design import CHARITY, UNEMPLOYMENT, Design
from kosovo_study.paths import ProjectPaths
from kosovo_study.tablefile import check_path
from kosovo_study.validation import RESTRICTED_FILE, estimability_problem, read_validated

#: Synthetic generator: incidence-rate ratios per SD (per presence for the charity flag).
GENERATOR_IRR: dict[str, float] = {
    UNEMPLOYMENT: 1.3,
    CHARITY: 1.8,
    "muslim_share_2011": 1.2,
    "youth_share_2011": 1.1,
}
GENERATOR_ALPHA = 0.8
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
    #: For restricted counts: the file's sha256, source keys, definition and period.
    provenance: dict[str, Any] = field(default_factory=dict)

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


def synthetic_outcome(
    design: Design, total: int, seed: int = StudyConfig.synthetic_outcome_seed
) -> Outcome:
    """The documented synthetic stand-in for the restricted counts (``seed``: the study's
    ``synthetic_outcome_seed``)."""
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
    """Where the restricted counts must be: ``data/raw/restricted/fighters_by_municipality.csv``."""
    return paths.restricted / RESTRICTED_FILE


#: Extensions of tables, workbooks and archives: such a file in the restricted folder
#: may be the counts under another name ("data.csv", "luftetaret.xlsx"), so the run
#: stops rather than guess (compared case-insensitively, after a backup "~").
TABLE_EXTENSIONS = frozenset(
    {
        "csv", "tsv", "tab", "psv", "dat", "txt", "xlsx", "xlsm", "xls", "xlsb", "ods",
        "numbers", "parquet", "feather", "arrow", "sav", "dta", "rds", "rdata", "json",
        "gz", "bz2", "xz", "zip", "7z", "zst", "sql", "db", "sqlite",
    }
)  # fmt: skip
#: Other restricted inputs that live in the same folder (the interviews stage reads
#: ``interviews.{qdpx,csv,xlsx}``) and files that are never data: these are ignored.
OTHER_RESTRICTED_INPUTS = frozenset({"interviews.qdpx", "interviews.csv", "interviews.xlsx"})
#: Notes and system files that a harmless folder holds (a README, Finder's .DS_Store).
HARMLESS = re.compile(
    r"(readme|licen[cs]e|notes?|changelog)(\.(md|txt|rst|pdf|docx?|odt|html?))?"
    r"|\.ds_store|thumbs\.db|desktop\.ini|\.git(keep|ignore|attributes)|\.keep|.*\.key|.*key.*\.txt",
    re.IGNORECASE,
)
#: Words for "fighter" and "municipality" in English, Albanian and Serbian (Latin).
_NEAR_WORDS = ("fighter", "luftetar", "luftëtar", "borac", "borci", "boraca", "komun", "opstin",
               "opštin", "municip")  # fmt: skip


def _near_restricted(name: str) -> bool:
    """True for a file name that looks meant as the restricted counts (but is not it).

    Near: a name with "fighter" (or the Albanian or Serbian word, or "municipality"), the
    same stem in another case or with another extension, a name within edit distance of
    the right one, and any table, workbook or archive (:data:`TABLE_EXTENSIONS`) other
    than the interviews export.  Not near: :data:`HARMLESS` notes, key and system files.
    """
    folded = name.casefold()
    stem = folded.split(".", 1)[0].lstrip("._~$")
    target = RESTRICTED_FILE.split(".", 1)[0]
    if (
        any(word in folded for word in _NEAR_WORDS)
        or stem == target
        or difflib.SequenceMatcher(None, stem, target).ratio() >= 0.75
    ):
        return True
    if name in OTHER_RESTRICTED_INPUTS or HARMLESS.fullmatch(name):
        return False
    suffixes = {part.rstrip("~#") for part in folded.split(".")[1:]}
    return bool(suffixes & TABLE_EXTENSIONS)


def locate_restricted(paths: ProjectPaths) -> Path | None:
    """The restricted file, or None when nothing is at or near its path.

    Raises when anything sits at or near the path that is not exactly a regular file
    named ``fighters_by_municipality.csv`` (another case or extension, a misspelled or
    other file of fighters, a symbolic link that dangles or leads to a system file, a
    directory), or when such a file sits beside the right one: the run never falls
    back to the synthetic outcome while a restricted file may have been meant.
    """
    path = restricted_path(paths)
    folder = paths.restricted
    if folder.is_symlink() and not folder.exists():
        raise KosovoStudyError(
            f"{folder} is a symbolic link to {folder.readlink()}, which does not exist. "
            "Mount or restore the restricted folder, or remove the link to run on the "
            "synthetic outcome."
        )
    if folder.exists() and not folder.is_dir():
        raise KosovoStudyError(
            f"{folder} is a file, not the folder of restricted data. Move it away and put "
            f"the counts at {path}."
        )
    exact = path.is_symlink() or path.exists()
    try:
        near = (
            sorted(
                entry.name
                for entry in folder.iterdir()
                if entry.name != RESTRICTED_FILE and _near_restricted(entry.name)
            )
            if folder.is_dir()
            else []
        )
    except PermissionError:
        raise KosovoStudyError(
            f"{folder} cannot be listed: permission denied. Give your user read and execute "
            "permission on the folder (chmod u+rx), so that the run can tell whether "
            "restricted counts are there."
        ) from None
    if near:
        found = ", ".join(near)
        raise KosovoStudyError(
            f"{folder} holds {found}, which looks like the restricted fighter counts but is "
            f"not {RESTRICTED_FILE} (the exact name, lower case, comma-separated UTF-8 CSV)"
            + (" beside the file of that name" if exact else "")
            + ". The run stops rather than guess: rename or convert the file to "
            f"{path} (Excel: 'Save As > CSV UTF-8'), or move the other files out of "
            f"{folder} (e.g. into {folder / 'originals'}/)."
        )
    if not exact:
        return None
    check_path(path)  # dangling or system-file links, directories, permissions
    return path


def restricted_outcome(
    path: Path, design: Design, transcribed: Path | None = None, processed: Path | None = None
) -> Outcome:
    """The researcher's counts, validated, aligned with the design's municipalities.

    The checks are ``kosovo-study validate``'s (:func:`read_validated`, with the study's
    plausibility and estimability rules); estimability is checked again here on this
    ``design`` whether or not ``processed`` is given.
    """
    validated = read_validated(path, transcribed, processed)  # raises with every problem
    counts = dict(zip(validated.table["municipality_id"], validated.table["fighters"], strict=True))
    aligned = np.array([counts[i] for i in design.municipality_id], dtype=float)
    problem = estimability_problem(design, aligned)
    if problem is not None:
        raise KosovoStudyError(
            f"{path}: {problem}. Or run without the file for the synthetic outcome."
        )
    # Published (metadata.json, the book): never the plain sha256, from which 38 small
    # counts with a known total could be recovered, unless the data holder decided it
    # is safe; the keyed digest is in the release record (replication.record).
    provenance = {k: v for k, v in validated.provenance().items() if k != "sha256"}
    if publishes_restricted_sha256():
        provenance["sha256"] = validated.sha256
    return Outcome(
        aligned,
        "restricted",
        f"restricted municipal counts from {path.name}",
        provenance=provenance,
    )


def load_outcome(
    paths: ProjectPaths,
    design: Design,
    national: pd.DataFrame,
    seed: int = StudyConfig.synthetic_outcome_seed,
) -> Outcome:
    """Restricted counts when the file is there, else the synthetic stand-in (``seed``).

    Stops (see :func:`locate_restricted`) when anything odd is at or near the path.
    """
    path = locate_restricted(paths)
    if path is not None:
        return restricted_outcome(path, design, paths.transcribed, paths.processed)
    return synthetic_outcome(design, national_total(national), seed)
