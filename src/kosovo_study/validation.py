"""Validation at the edges: pandera schemas turned into errors a researcher can act on.

* :func:`check` validates a table the package built and, on failure, raises
  :class:`ValidationError` naming the file, the failing rows (as 1-based CSV lines,
  header = line 1), the column, the value and the fix.
* :func:`read_validated` is the one reader of the restricted fighter counts: both
  ``kosovo-study validate`` and the ``models`` stage call it, so a file the validator
  accepts is exactly a file the models can use.
* :func:`validate_file` is what ``kosovo-study validate PATH`` runs.

The restricted table is checked against the study, not only against its columns:

* **scope**: exactly one row for each of the 38 municipalities of the register
  (``data/raw/transcribed/municipality_name_crosswalk.csv``, KAS index 1-38); missing
  municipalities are named;
* **counts**: ASCII digits only (``0``-``9``, at most :data:`MAX_COUNT_DIGITS`), so
  Arabic-Indic or full-width digits, "1_2", "+12", "12.0" and "1e3" are refused although Python's ``int``
  would read several of them as 12;
* **total** against the published national totals (``total_travelled`` rows of
  ``kosovo_fighters_national.csv`` that are not marked LOW-QUALITY: currently
  232-400 persons): outside that range is a *warning*; below
  :data:`HARD_LIMIT_FACTORS` [0] x the smallest or above [1] x the largest published
  total is an *error*, and so is a single municipality above the upper hard limit;
  all-zero files are refused;
* **periods**: ISO dates (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``) between
  :data:`EARLIEST_PERIOD` and today, start not after end (the start may be left
  empty: "since departures began");
* **definition**: one of :data:`~kosovo_study.schemas.RESTRICTED_DEFINITIONS`, the
  same in every row.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from kosovo_study.errors import KosovoStudyError, MunicipalityNameError
from kosovo_study.schemas import RESTRICTED_COLUMNS, RESTRICTED_DEFINITIONS, RESTRICTED_FIGHTERS
from kosovo_study.tablefile import (
    Problems,
    check,
    check_path,
    oddities,
    raise_problems,
    read_csv_text,
    shorten,
)

RESTRICTED_FILE = "fighters_by_municipality.csv"
#: Largest restricted file read (bytes).  38 rows take about 3 kB; 1 MB leaves room
#: for long definitions and comments while a wrong file fails before parsing.
RESTRICTED_MAX_BYTES = 1_000_000
#: Largest number of data rows read: one per municipality (38) leaves room for a few
#: duplicates to be named; a file of thousands of rows is another table.
RESTRICTED_MAX_ROWS = 200
#: Serbian Cyrillic -> Serbian Latin (the official one-to-one transliteration), so that
#: "Приштина" is matched as "Priština".  Used only for a name written wholly in Cyrillic;
#: a Cyrillic letter inside a Latin name is a look-alike and is refused.
SERBIAN_LATIN = dict(
    zip(
        "абвгдђежзијклљмнњопрстћуфхцчџш",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "đ",
            "e",
            "ž",
            "z",
            "i",
            "j",
            "k",
            "l",
            "lj",
            "m",
            "n",
            "nj",
            "o",
            "p",
            "r",
            "s",
            "t",
            "ć",
            "u",
            "f",
            "h",
            "c",
            "č",
            "dž",
            "š",
        ],
        strict=True,
    )
)
#: A municipal count has at most this many digits (the national total is in the hundreds).
MAX_COUNT_DIGITS = 6
#: Fewest municipalities with a positive count.  The municipal count models estimate
#: 5 coefficients (constant, unemployment concern, charity evidence, Muslim share, youth
#: share); with the fighters in fewer municipalities than that, the zeros are fitted
#: perfectly and the likelihood has no finite maximum (tried: with 1 or 2 such
#: municipalities the fit fails with a singular matrix in 24 of 40 random files).
MIN_MUNICIPALITIES_WITH_FIGHTERS = 5
#: Hard limits on the file's total, as factors of the smallest and largest published
#: national total.  A narrower definition (men only: 253 of 335 in UNDP 2017) or a
#: wider one (stopped en route included) moves the total within these; a total below
#: half the smallest or above 1.5 times the largest is another population or a
#: data-entry error (an extra digit).
HARD_LIMIT_FACTORS = (0.5, 1.5)
#: Earliest date a period may name: the Syrian war began in March 2011; Kosovo
#: citizens' departures are counted from 2012 (UNDP 2017).
EARLIEST_PERIOD = date(2011, 1, 1)
RESTRICTED_HINT = (
    "The columns are municipality, fighters, definition, period_start, period_end, "
    "source_key; one row for each of the 38 municipalities; see README, 'Restricted data'."
)
#: Labels of a national total row, as spreadsheets add one ("Total", Albanian
#: "Gjithsej"/"Totali", Serbian "Ukupno"/"Укупно", or the country's name).
TOTAL_ROW_LABELS = frozenset(
    {"total", "totali", "gjithsej", "ukupno", "укупно", "sum", "kosovo", "kosova", "kosovë"}
)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_PERIOD = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", re.ASCII)
_SOURCE_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,80}", re.ASCII)


def serbian_latin(label: str) -> str | None:
    """``label`` transliterated when it is written wholly in Serbian Cyrillic, else None."""
    letters = [c for c in label if c.isalpha()]
    if not letters or not all(c.lower() in SERBIAN_LATIN for c in letters):
        return None
    out = []
    for char in label:
        latin = SERBIAN_LATIN.get(char.lower(), char)
        out.append(latin.capitalize() if char.isupper() else latin)
    return "".join(out)


# --- the restricted fighter counts ----------------------------------------------------


@dataclass(frozen=True)
class NationalRange:
    """Published national totals (persons) and the bounds derived from them."""

    low: int
    high: int
    sources: tuple[str, ...]

    @property
    def hard_low(self) -> int:
        return math.floor(self.low * HARD_LIMIT_FACTORS[0])

    @property
    def hard_high(self) -> int:
        return math.ceil(self.high * HARD_LIMIT_FACTORS[1])


def national_range(transcribed: Path | None = None) -> NationalRange:
    """Smallest and largest published ``total_travelled`` (not LOW-QUALITY), read from data.

    Reads ``kosovo_fighters_national.csv`` directly with the clean stage's rule (a row
    whose definition says LOW-QUALITY is excluded), so ``validate`` works before
    ``clean`` has run and without loading the cleaning code.
    """
    from kosovo_study.paths import project_paths

    folder = transcribed if transcribed is not None else project_paths().transcribed
    path = Path(folder) / "kosovo_fighters_national.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    totals = table[
        (table["statistic"] == "total_travelled")
        & ~table["definition"].str.contains("LOW-QUALITY", regex=False)
    ]
    values = pd.to_numeric(totals["value"], errors="coerce").dropna()
    if values.empty:
        raise KosovoStudyError(
            f"{path} has no total_travelled rows: the restricted counts cannot be checked "
            "against the published totals. Restore the file from git."
        )
    return NationalRange(
        int(values.min()), int(values.max()), tuple(sorted(totals["source_key"].unique()))
    )


@dataclass(frozen=True)
class ValidatedTable:
    """The restricted counts as checked by :func:`read_validated`, with provenance."""

    path: Path
    table: pd.DataFrame
    sha256: str
    encoding: str
    national: NationalRange
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def total(self) -> int:
        return int(self.table["fighters"].sum())

    def provenance(self) -> dict[str, Any]:
        """What metadata.json and the book record about the file (no counts by name)."""
        starts = [s for s in self.table["period_start"] if isinstance(s, str) and s]
        return {
            "file": self.path.name,
            "sha256": self.sha256,
            "encoding": self.encoding,
            "rows": len(self.table),
            "total": self.total,
            "definition": str(self.table["definition"].iloc[0]),
            "definition_text": RESTRICTED_DEFINITIONS[str(self.table["definition"].iloc[0])],
            "source_keys": sorted(self.table["source_key"].unique()),
            "period_start": min(starts) if starts else None,
            "period_end": str(max(self.table["period_end"])),
            "published_total_range": [self.national.low, self.national.high],
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }


def parse_period(text: str, *, end: bool) -> date | None:
    """An ISO ``YYYY[-MM[-DD]]`` as the first (or, with ``end``, last) day it covers."""
    match = _PERIOD.fullmatch(text)
    if match is None:
        return None
    year, month, day = match.groups()
    try:
        if day is not None:
            return date(int(year), int(month), int(day))
        if month is not None:
            first = date(int(year), int(month), 1)
            if not end:
                return first
            following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return date.fromordinal(following.toordinal() - 1)
        return date(int(year), 12, 31) if end else date(int(year), 1, 1)
    except ValueError:
        return None


def _check_period(
    problems: Problems, line: int, column: str, text: str, *, end: bool
) -> date | None:
    if not text:
        if end:
            problems.add(
                f"line {line}, column {column}: empty; give the date the count refers to "
                "(YYYY, YYYY-MM or YYYY-MM-DD)"
            )
        return None
    parsed = parse_period(text, end=end)
    if parsed is None:
        problems.add(
            f"line {line}, column {column}: {shorten(text)} is not a date; write YYYY, "
            f"YYYY-MM or YYYY-MM-DD (e.g. 2015-12){oddities(text)}"
        )
        return None
    if not EARLIEST_PERIOD <= parsed <= date.today():
        problems.add(
            f"line {line}, column {column}: {text} is outside {EARLIEST_PERIOD.isoformat()} "
            "to today (departures to Syria and Iraq began in 2012)"
        )
        return None
    return parsed


def read_validated(
    path: Path, transcribed: Path | None = None, processed: Path | None = None
) -> ValidatedTable:
    """Read and check the restricted fighter counts; raise listing every problem.

    ``transcribed`` is the folder of the register and of the national figures (default:
    the project's ``data/raw/transcribed``).  The study's rules (:func:`study_checks`:
    plausibility warnings, and estimability when ``processed`` holds the clean stage's
    tables) are part of the check.
    """
    from kosovo_study.municipalities import load_register

    path = Path(path)
    text = read_csv_text(
        path,
        columns=RESTRICTED_COLUMNS,
        name="restricted fighters_by_municipality",
        hint=RESTRICTED_HINT,
        max_bytes=RESTRICTED_MAX_BYTES,
        max_records=RESTRICTED_MAX_ROWS,
    )
    register = load_register(transcribed)
    national = national_range(transcribed)
    scope = {m.municipality_id: m.name_sq for m in register.municipalities}
    problems = Problems()
    rows: list[dict[str, Any]] = []
    seen: dict[int, int] = {}
    definitions: dict[str, int] = {}
    transliterated: list[int] = []
    for line, row in text.rows():
        municipality_id: int | None = None
        label = row["municipality"]
        if problems.full:
            # 50 messages shown: the costly name lookup (closest-name suggestions) is
            # skipped, the cheap checks still count the rest.
            problems.partial = True
        elif label.casefold().strip(" .:*") in TOTAL_ROW_LABELS:
            problems.add(
                f"line {line}, column municipality: {shorten(label)} is a total row; delete it "
                "(the total is computed from the municipal rows and checked against the "
                "published national range)"
            )
        elif len(label) > 80:
            problems.add(f"line {line}, column municipality: {shorten(label)} is not a name")
        else:
            latin = serbian_latin(label)
            try:
                municipality_id = register.normalise(latin or label)
                if latin is not None:
                    transliterated.append(line)
            except MunicipalityNameError as error:
                shown = f" (read as {latin!r} from Serbian Cyrillic)" if latin else ""
                problems.add(f"line {line}, column municipality{oddities(label)}: {error}{shown}")
        if municipality_id is not None:
            if municipality_id in seen:
                problems.add(
                    f"line {line}, column municipality: {scope[municipality_id]} is already "
                    f"given on line {seen[municipality_id]}; keep one row per municipality"
                )
            seen.setdefault(municipality_id, line)
        count_text = row["fighters"]
        count: int | None = None
        if not _DIGITS.fullmatch(count_text):
            problems.add(
                f"line {line}, column fighters: {shorten(count_text)} is not a whole number of "
                "persons written with the digits 0-9 (no sign, separator, decimal or other "
                f"script; 0 where the source reports none){oddities(count_text)}"
            )
        elif len(count_text) > MAX_COUNT_DIGITS:
            problems.add(
                f"line {line}, column fighters: a {len(count_text)}-digit number; a municipal "
                f"count has at most {MAX_COUNT_DIGITS} digits (the national total is "
                f"{national.low}-{national.high} persons)"
            )
        else:
            count = int(count_text)
            if count > national.hard_high:
                problems.add(
                    f"line {line}, column fighters: {count} persons in one municipality is "
                    f"above the hard limit for the whole country ({national.hard_high} = "
                    f"{HARD_LIMIT_FACTORS[1]} x the largest published total {national.high})"
                )
        definition = row["definition"]
        if definition not in RESTRICTED_DEFINITIONS:
            problems.add(
                f"line {line}, column definition: {shorten(definition)} is not in the "
                f"vocabulary {sorted(RESTRICTED_DEFINITIONS)} (see README, 'Restricted data')"
                f"{oddities(definition)}"
            )
        else:
            definitions.setdefault(definition, line)
        start = _check_period(problems, line, "period_start", row["period_start"], end=False)
        finish = _check_period(problems, line, "period_end", row["period_end"], end=True)
        if start is not None and finish is not None and start > finish:
            problems.add(
                f"line {line}: period_start {row['period_start']} is after period_end "
                f"{row['period_end']}"
            )
        if not _SOURCE_KEY.fullmatch(row["source_key"]):
            problems.add(
                f"line {line}, column source_key: {shorten(row['source_key'])} is not a "
                "citation key (1-80 ASCII letters, digits, _ . : -, e.g. KP_2017 or UNDP2017)"
                f"{oddities(row['source_key'])}"
            )
        rows.append(
            {
                "municipality_id": municipality_id,
                "municipality": scope.get(municipality_id or 0, label),
                "fighters": count,
                "definition": definition,
                "period_start": row["period_start"] or None,
                "period_end": row["period_end"],
                "source_key": row["source_key"],
                "line": line,
            }
        )
    if not text.records:
        problems.add("the file has a header but no data rows")
    if len(definitions) > 1:
        listed = ", ".join(f"{d} (line {n})" for d, n in definitions.items())
        problems.add(
            f"the rows use several definitions ({listed}); one definition per file, so that "
            "every municipality counts the same population"
        )
    missing = [f"{name} (id {i})" for i, name in scope.items() if i not in seen]
    if missing and not problems.full:
        problems.add(
            f"no row for {len(missing)} of the {len(scope)} municipalities in scope (the "
            f"register, municipality_name_crosswalk.csv): {', '.join(missing[:12])}"
            + (f" and {len(missing) - 12} more" if len(missing) > 12 else "")
            + "; add one row each (0 where the source reports none)"
        )
    counts = [r["fighters"] for r in rows]
    warnings: list[str] = []
    if not problems and all(c is not None for c in counts):
        total = sum(c for c in counts if c is not None)
        if total == 0:
            problems.add(
                "every count is 0: the models cannot use a file with no fighters. Check that "
                "the fighters column holds the counts"
            )
        elif (with_fighters := sum(1 for c in counts if c)) < MIN_MUNICIPALITIES_WITH_FIGHTERS:
            problems.add(
                f"only {with_fighters} municipalities have a count above 0; the municipal "
                f"models need at least {MIN_MUNICIPALITIES_WITH_FIGHTERS} (one per "
                "coefficient) to be estimated. Check that the fighters column holds every "
                "municipality's count"
            )
        elif not national.hard_low <= total <= national.hard_high:
            largest = sorted(rows, key=lambda r: -int(r["fighters"]))[:3]
            shown = ", ".join(f"line {r['line']}: {r['fighters']}" for r in largest)
            problems.add(
                f"the counts add up to {total} persons, outside the hard limits "
                f"{national.hard_low}-{national.hard_high} ({HARD_LIMIT_FACTORS[0]} x the "
                f"smallest and {HARD_LIMIT_FACTORS[1]} x the largest published national total, "
                f"{national.low}-{national.high}); largest rows: {shown}"
            )
        elif not national.low <= total <= national.high:
            warnings.append(
                f"the counts add up to {total} persons, outside the published national "
                f"totals {national.low}-{national.high} ({', '.join(national.sources)}); check "
                "that the definition and period are the ones intended"
            )
    problems.raise_if_any(path, "restricted fighters_by_municipality", RESTRICTED_HINT)
    notes = text.notes
    if transliterated:
        notes += (
            f"{len(transliterated)} municipality names in Serbian Cyrillic were matched "
            f"through their Serbian Latin form (lines {', '.join(map(str, transliterated[:5]))}"
            + (" ..." if len(transliterated) > 5 else "")
            + ")",
        )
    table = pd.DataFrame(rows).sort_values("municipality_id").reset_index(drop=True)
    table = table.astype({"municipality_id": int, "fighters": int, "line": int})
    validated = check(table, RESTRICTED_FIGHTERS, file=path, hint=RESTRICTED_HINT)
    result = ValidatedTable(
        path, validated, text.sha256, text.encoding, national, tuple(warnings), notes
    )
    study_problems, study_warnings = study_checks(result, processed, transcribed)
    raise_problems(path, "restricted fighters_by_municipality", study_problems, RESTRICTED_HINT)
    return replace(result, warnings=(*warnings, *study_warnings), notes=notes)


# --- plausibility and estimability: one rule set for ``validate`` and ``models`` -------

#: Per-capita ceiling, as a multiple of the highest published municipal rate.  The
#: highest comparable published count per inhabitant (``kosovo_fighters_by_municipality_
#: confirmed.csv`` over the 2011 census population: Hani i Elezit, 11 of 9,403, about
#: 1.2 per 1,000) is computed from the data; a municipality above ten times that rate
#: (about 1 in 85 inhabitants) is not impossible but far outside anything published,
#: and more often a count typed into the wrong row (300 fighters in Partesh, 1,787
#: inhabitants) or a count of another population.
PER_CAPITA_CEILING_FACTOR = 10
#: Concentration rule: the share of the total in municipalities where Muslims are not the
#: majority (2011 census share below one half, and the four northern Serb-majority
#: municipalities that boycotted the 2011 census).  The published sources describe the
#: fighters as coming overwhelmingly from Muslim-majority municipalities, and these
#: municipalities hold about 3% of the population; more than half of the total there
#: suggests shifted rows or another population.
NON_MUSLIM_MAJORITY_SHARE_CEILING = 0.5
#: Concentration rule: the largest published comparable municipal count is under a
#: tenth of the national total; more than half of the total in one municipality
#: suggests a national or regional total typed into one row.
SINGLE_MUNICIPALITY_SHARE_CEILING = 0.5


@dataclass(frozen=True)
class CensusContext:
    """What the plausibility rules need, per municipality, from committed census files.

    ``population``: persons, census 2011 (KAS estimate for 2024 where the 2011 census was
    boycotted); ``non_muslim_majority``: 2011 Muslim share below one half, or no 2011
    census (the four northern Serb-majority municipalities); ``highest_published_rate``:
    the largest comparable published count per inhabitant.
    """

    population: dict[int, float]
    non_muslim_majority: frozenset[int]
    highest_published_rate: float
    highest_published_municipality: str


def census_context(transcribed: Path | None = None) -> CensusContext:
    """Read the census population, the religion shares and the published counts with the
    clean stage's own readers (committed files only: no fetch, no clean run needed)."""
    from kosovo_study.clean import census, fighters
    from kosovo_study.clean.io import Ledger
    from kosovo_study.municipalities import load_register
    from kosovo_study.paths import project_paths

    folder = Path(transcribed) if transcribed is not None else project_paths().transcribed
    register = load_register(folder)
    ledger = Ledger()
    population = census.population(folder, register, ledger).set_index("municipality_id")
    religion = census.religion(folder, register, ledger).set_index("municipality_id")
    confirmed = fighters.confirmed_municipal(folder, register, ledger).set_index("municipality_id")
    persons: dict[int, float] = {}
    for key, first, later in zip(
        population.index,
        population["population_2011"],
        population["population_2024"],
        strict=True,
    ):
        value = first if pd.notna(first) else later
        if pd.notna(value):
            persons[int(str(key))] = float(value)
    shares = {int(str(k)): float(v) for k, v in religion["muslim_share_2011"].items()}
    rates = {
        int(str(k)): float(v) / persons[int(str(k))]
        for k, v in confirmed["fighters_confirmed"].items()
        if pd.notna(v) and int(str(k)) in persons
    }
    top = max(rates, key=lambda k: rates[k])
    names = {m.municipality_id: m.name_sq for m in register.municipalities}
    return CensusContext(
        population=persons,
        # no 2011 census share (NaN, or no row): the four northern Serb-majority municipalities
        non_muslim_majority=frozenset(i for i in names if not shares.get(i, float("nan")) >= 0.5),
        highest_published_rate=rates[top],
        highest_published_municipality=names[top],
    )


def plausibility_warnings(table: pd.DataFrame, context: CensusContext) -> list[str]:
    """Warnings of the plausibility rules for validated counts (``municipality_id``,
    ``municipality``, ``fighters``).  A warning names the municipality and the rule,
    never a count: the messages are recorded in ``metadata.json``, which is published."""
    warnings: list[str] = []
    total = int(table["fighters"].sum())
    ceiling = PER_CAPITA_CEILING_FACTOR * context.highest_published_rate
    above = [
        str(name)
        for name, i, count in zip(
            table["municipality"], table["municipality_id"], table["fighters"], strict=True
        )
        if int(i) in context.population and int(count) / context.population[int(i)] > ceiling
    ]
    if above:
        warnings.append(
            f"per-capita ceiling: {len(above)} {'municipality' if len(above) == 1 else 'municipalities'} "
            f"({', '.join(above)}) {'has' if len(above) == 1 else 'have'} more than "
            f"{ceiling * 1000:.1f} fighters per 1,000 inhabitants (census 2011), "
            f"{PER_CAPITA_CEILING_FACTOR} times the highest published municipal rate "
            f"({context.highest_published_municipality}); check that no count sits in the "
            "wrong row"
        )
    if total:
        outside = table.loc[table["municipality_id"].isin(context.non_muslim_majority)]
        if outside["fighters"].sum() > NON_MUSLIM_MAJORITY_SHARE_CEILING * total:
            warnings.append(
                "concentration: more than half of the total is in municipalities without a "
                "Muslim majority (census 2011, or the four northern Serb-majority "
                "municipalities), where the published sources report almost no fighters; "
                "check that the rows are not shifted"
            )
        counts = [int(c) for c in table["fighters"]]
        largest = counts.index(max(counts))
        if counts[largest] > SINGLE_MUNICIPALITY_SHARE_CEILING * total:
            warnings.append(
                f"concentration: {table['municipality'].iloc[largest]} holds more than half of the total; "
                "check that no national or regional total was typed into one row"
            )
    return warnings


def estimability_problem(design: Any, fighters: Any) -> str | None:
    """Why the municipal count models cannot be estimated on these counts, or None.

    The models' requirement (``design``: :class:`kosovo_study.models.design.Design`;
    ``fighters``: counts aligned with it): (1) at least
    :data:`MIN_MUNICIPALITIES_WITH_FIGHTERS` analysed municipalities with a count above
    0; (2) the maximum-likelihood estimates exist: no combination ``b`` of the
    covariates is 0 in every municipality with fighters and at most 0 in those without
    (else the likelihood rises forever along ``b``: Santos Silva & Tenreyro 2010,
    Economics Letters 107: 310-312), checked by a linear program; (3) the Poisson and NB2
    fits converge.  Without (2) or (3) the fit, its bootstrap and its permutation test
    fail (they used to end in IndexError or ZeroDivisionError).
    """
    import numpy as np
    from scipy.linalg import null_space
    from scipy.optimize import linprog

    from kosovo_study.models import engine

    y = np.asarray(fighters, dtype=float)
    positive = y > 0
    with_fighters = int(positive.sum())
    if with_fighters < MIN_MUNICIPALITIES_WITH_FIGHTERS:
        return (
            f"only {with_fighters} of the {design.n} municipalities the models analyse (those "
            f"with covariates) have a count above 0; the count models estimate "
            f"{MIN_MUNICIPALITIES_WITH_FIGHTERS} coefficients and need at least that many"
        )
    directions = null_space(design.X[positive])
    if directions.shape[1]:
        zero_rows = design.X[~positive] @ directions
        # minimise the sum of x_i'b over the zero rows, with every x_i'b <= 0 and the sum
        # bounded below by -1: a negative optimum is a direction of separation.
        program = linprog(
            zero_rows.sum(axis=0),
            A_ub=np.vstack([zero_rows, -zero_rows.sum(axis=0)[None]]),
            b_ub=np.r_[np.zeros(len(zero_rows)), 1.0],
            bounds=[(None, None)] * directions.shape[1],
        )
        if program.status == 0 and program.fun < -1e-9:
            weights = directions @ program.x
            involved = [t for t, w in zip(design.terms, weights, strict=True) if abs(w) > 1e-6]
            return (
                "the count models have no estimate on these counts: the municipalities "
                f"with fighters are separated from the others by {', '.join(involved)} "
                "(every municipality with fighters lies on one side), so a coefficient "
                "would run off to infinity. Check the counts; fighters in more "
                "municipalities, or in municipalities on both sides, make the models "
                "estimable"
            )
    for family in ("poisson", "nb2"):
        result = engine.fit(y[None], design.X, design.offset, family=family)
        if not bool(result.converged[0]) or not np.all(np.isfinite(result.beta[0])):
            return (
                f"the {family} count model does not converge on these counts (the fighters "
                f"sit in only {with_fighters} municipalities, and the estimates run off "
                "towards infinity). Check the counts"
            )
    return None


def study_checks(
    validated: ValidatedTable, processed: Path | None, transcribed: Path | None = None
) -> tuple[list[str], list[str]]:
    """The rules the models add to the file's own checks: ``(problems, warnings)``.

    Run by ``kosovo-study validate`` and by every ``models`` run on the same validated
    table.  Plausibility warnings need only committed census files; estimability needs
    the clean stage's ``municipalities`` table in ``processed`` (when it is missing,
    ``validate`` says that this part was not checked, and ``models`` cannot run).
    """
    warnings = plausibility_warnings(validated.table, census_context(transcribed))
    table_path = None if processed is None else Path(processed) / "municipalities.parquet"
    if table_path is None or not table_path.is_file():
        return [], warnings
    from kosovo_study.models.design import municipal_design

    design = municipal_design(pd.read_parquet(table_path))
    counts = dict(zip(validated.table["municipality_id"], validated.table["fighters"], strict=True))
    aligned = [counts[i] for i in design.municipality_id]
    problem = estimability_problem(design, aligned)
    return ([problem] if problem else []), warnings


#: File names ``kosovo-study validate`` recognises, with their reader.
INPUT_FORMATS: dict[str, Callable[[Path], ValidatedTable]] = {RESTRICTED_FILE: read_validated}


def validate_path(path: Path) -> ValidatedTable:
    """Validate a file whose name identifies its format; return what was read."""
    path = Path(path)
    check_path(path)  # a folder, a missing file or a pipe is named as such, whatever its name
    if path.name not in INPUT_FORMATS:
        raise KosovoStudyError(
            f"{path}: no known format for a file named {path.name!r}. Known names: "
            f"{sorted(INPUT_FORMATS)}. Rename the file or check the path."
        )
    from kosovo_study.paths import ProjectRootNotFoundError, project_paths

    try:  # the study the file belongs to: its register, census and clean tables
        project = project_paths(path.resolve().parent)
    except ProjectRootNotFoundError:
        return INPUT_FORMATS[path.name](path)
    validated = read_validated(path, project.transcribed, project.processed)
    if not (project.processed / "municipalities.parquet").is_file():
        unchecked = (
            "whether the count models can be estimated on these counts was not checked: "
            "it needs the clean stage's municipalities table (run kosovo-study clean, then "
            "validate again; the models stage checks it in any case)"
        )
        return replace(validated, notes=(*validated.notes, unchecked))
    return validated


def validate_file(path: Path) -> int:
    """Validate a CSV whose file name identifies its format; return its row count."""
    return len(validate_path(path).table)
