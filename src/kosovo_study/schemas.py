"""pandera schemas for every table the package reads from users or writes.

This module holds declarations only and imports nothing else from the package except
errors, so :mod:`kosovo_study.validation` (which reads and checks user files) can
import it without a cycle.
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.pandas import Check, Column

#: The restricted table of fighters by municipality (Kursani 2015/2018, Shtuni 2016,
#: UNDP 2017 or police data), placed by the researcher at
#: ``data/raw/restricted/fighters_by_municipality.csv``.  These are the columns of the
#: file, in any order.
#: Municipalities in the register (rows of ``municipality_name_crosswalk.csv``, ids 1-38).
#: Declared here because this module imports nothing from the package; a test checks it
#: against the register (``tests/test_municipalities.py``).
REGISTER_SIZE = 38

RESTRICTED_COLUMNS = (
    "municipality",
    "fighters",
    "definition",
    "period_start",
    "period_end",
    "source_key",
)

#: What ``definition`` may say: who is counted.  One definition per file, so that the
#: counts of different municipalities measure the same thing.  The wording follows the
#: published national figures (data/raw/transcribed/kosovo_fighters_national.csv).
RESTRICTED_DEFINITIONS: dict[str, str] = {
    "travelled": "citizens who travelled to the conflict zones in Syria and Iraq, men, "
    "women and children (Kosovo Police; UNDP 2017)",
    "travelled_or_stopped": "citizens who travelled to, or were stopped en route to, the "
    "conflict zones (Kosovo Police data in UNDP 2017, Xharra & Gojani)",
    "travelled_adults": "adults (men and women) who travelled; children excluded",
    "travelled_men": "men who travelled (combatants; Kursani 2015/2018)",
    "confirmed_cases": "cases confirmed by the police or courts (KCSS 2015 definition)",
}

#: The validated restricted table (one row per municipality of the register), as
#: :func:`kosovo_study.validation.read_validated` returns it.  ``fighters`` counts
#: persons; periods are ISO dates (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``); ``line``
#: is the line of the CSV the row starts on.
RESTRICTED_FIGHTERS = pa.DataFrameSchema(
    {
        "municipality_id": Column(int, Check.in_range(1, REGISTER_SIZE), unique=True),
        "municipality": Column(str),
        "fighters": Column(int, Check.ge(0)),
        "definition": Column(str, Check.isin(list(RESTRICTED_DEFINITIONS))),
        "period_start": Column(str, nullable=True),
        "period_end": Column(str),
        "source_key": Column(str, Check.str_matches(r"^[A-Za-z0-9_.:-]{1,80}$")),
        "line": Column(int, Check.ge(2)),
    },
    checks=[Check(lambda t: int(t["fighters"].sum()) > 0, error="not every count is zero")],
    strict=True,
    ordered=True,
    name="restricted fighters_by_municipality",
)


# --- processed tables (written by `kosovo-study clean`) -------------------------------

_SHARE = Check.in_range(0, 1)
_STATUS = Check.isin(
    [
        "measured",
        "not_in_top_problems",
        "measured_undivided_mitrovica",
        "part_of_undivided_mitrovica",
        "not_surveyed",
    ]
)


def _unemployment_columns() -> dict[str, Column]:
    columns: dict[str, Column] = {}
    for wave in (2012, 2015):
        columns[f"unemployment_concern_{wave}"] = Column(float, _SHARE, nullable=True)
        columns[f"unemployment_concern_{wave}_status"] = Column(str, _STATUS)
        columns[f"unemployment_concern_{wave}_upper_bound"] = Column(float, _SHARE, nullable=True)
    return columns


MUNICIPALITIES = pa.DataFrameSchema(
    {
        "municipality_id": Column(int, Check.in_range(1, REGISTER_SIZE), unique=True),
        "municipality": Column(str, unique=True),
        "boycotted_2011_census": Column(bool),
        "created_in_decentralisation_2008_2013": Column(bool),
        "population_2011": Column("Int64", Check.gt(0), nullable=True),
        "population_2024": Column("Int64", Check.gt(0)),
        "youth_share_2011": Column(float, _SHARE, nullable=True),
        "muslim_share_2011": Column(float, _SHARE, nullable=True),
        **_unemployment_columns(),
        "mosques_2021": Column("Int64", Check.ge(0), nullable=True),
        "mosques_per_10k_2021": Column(float, Check.ge(0), nullable=True),
        "charity_evidence_pre2014": Column(int, Check.isin([0, 1])),
        "charity_organisations_pre2014": Column(int, Check.ge(0)),
        "charity_evidence_post2014": Column(int, Check.isin([0, 1])),
        "charity_organisations_post2014": Column(int, Check.ge(0)),
        "area_km2": Column(float, Check.gt(0)),
        "centroid_lon": Column(float, Check.in_range(20.0, 21.9)),
        "centroid_lat": Column(float, Check.in_range(41.8, 43.3)),
        "fighters_confirmed": Column("Int64", Check.ge(0), nullable=True),
        "fighters_confirmed_definition": Column(str, nullable=True),
        "fighters_confirmed_sources": Column(str, nullable=True),
    },
    checks=[
        Check(
            lambda t: len(t) == REGISTER_SIZE, error=f"one row per municipality ({REGISTER_SIZE})"
        ),
        Check(
            lambda t: t.loc[t["boycotted_2011_census"], "population_2011"].isna().all(),
            error="boycotting municipalities have no 2011 population (never zero-filled)",
        ),
    ],
    strict=True,
    ordered=True,
    name="municipalities",
)

MOSAIC_TOP_PROBLEMS = pa.DataFrameSchema(
    {
        "municipality_id": Column(int, Check.in_range(1, REGISTER_SIZE)),
        "wave": Column(int, Check.isin([2012, 2015])),
        "problem": Column(str),
        "share": Column(float, _SHARE, nullable=True),
        "cell": Column(str),
        "label_in_source": Column(str),
    },
    unique=["municipality_id", "wave", "problem"],
    strict=True,
    name="mosaic_top_problems",
)

COUNTRIES = pa.DataFrameSchema(
    {
        "iso3": Column(str, Check.str_matches(r"^[A-Z]{3}$"), unique=True),
        **{
            f"icsr_{year}_{part}": Column(float, Check.ge(0), nullable=True)
            for year in (2013, 2015)
            for part in ("low", "high", "point")
        },
        "icsr_2015_listed": Column(bool),
        "unemployment_pct_2010_2013": Column(float, Check.in_range(0, 100), nullable=True),
        "youth_unemployment_pct_2010_2013": Column(float, Check.in_range(0, 100), nullable=True),
        "gdp_per_capita_ppp_2010_2013": Column(float, Check.gt(0), nullable=True),
        "log_gdp_per_capita_ppp_2010_2013": Column(float, nullable=True),
        "population_2014": Column(float, Check.gt(0), nullable=True),
        "gdp_per_capita_usd_2014": Column(float, Check.gt(0), nullable=True),
        "muslim_share_2010": Column(float, _SHARE, nullable=True),
        "muslim_share_below_0_001": Column("boolean", nullable=True),
        "ethnic_fractionalisation": Column(float, _SHARE, nullable=True),
        "hdi_2015": Column(float, _SHARE, nullable=True),
        "ds2016_outcome": Column(float, Check.ge(0), nullable=True),
        "in_ds2016_sample": Column(bool),
        "unemployment_source_key": Column(str, nullable=True),
        "youth_unemployment_source_key": Column(str, nullable=True),
        "ethnic_fractionalisation_source_key": Column(str, nullable=True),
    },
    checks=[
        Check(lambda t: int(t["in_ds2016_sample"].sum()) == 163, error="D&S sample has 163"),
        Check(lambda t: (t["iso3"] == "XKX").sum() == 1, error="Kosovo is XKX"),
    ],
    strict=True,
    ordered=True,
    name="countries",
)

KOSOVO_NATIONAL = pa.DataFrameSchema(
    {
        "statistic": Column(str),
        "value": Column(float, Check.ge(0)),
        "unit": Column(str, Check.isin(["persons", "share", "per_million"])),
        "reference_date": Column(str, nullable=True),
        "period_start": Column(str, nullable=True),
        "period_end": Column(str, nullable=True),
        "qualifier": Column(str),
        "low_quality": Column(bool),
        "definition": Column(str),
        "source_key": Column(str, Check.str_length(min_value=1)),
        "derived": Column(bool),
    },
    checks=[
        Check(
            lambda t: (t.loc[t["unit"] == "share", "value"] <= 1).all(),
            error="shares are 0-1",
        )
    ],
    strict=True,
    name="kosovo_national",
)

REJECTS = pa.DataFrameSchema(
    {
        "table": Column(str),
        "file": Column(str),
        "line": Column(str),
        "reason": Column(str, Check.str_length(min_value=1)),
        "record": Column(str),
    },
    strict=True,
    name="rejects",
)

CLEANING_REPORT = pa.DataFrameSchema(
    {
        "table": Column(str),
        "file": Column(str),
        "rows_in": Column(int, Check.ge(0)),
        "rows_out_of_scope": Column(int, Check.ge(0)),
        "scope_rule": Column(str),
        "rows_rejected": Column(int, Check.ge(0)),
        "rows_used": Column(int, Check.ge(0)),
        "notes": Column(str),
    },
    unique=["table", "file"],
    strict=True,
    name="cleaning_report",
)

VARIABLES = pa.DataFrameSchema(
    {
        "table": Column(str),
        "variable": Column(str),
        "unit": Column(str),
        "year": Column(str),
        "source_key": Column(str),
        "description": Column(str),
        "non_missing": Column(int, Check.ge(0)),
        "rows": Column(int, Check.gt(0)),
        "coverage": Column(str, Check.str_matches(r"^\d+/\d+$")),
    },
    unique=["table", "variable"],
    strict=True,
    name="variables",
)

PROCESSED_SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "municipalities": MUNICIPALITIES,
    "mosaic_top_problems": MOSAIC_TOP_PROBLEMS,
    "countries": COUNTRIES,
    "kosovo_national": KOSOVO_NATIONAL,
    "rejects": REJECTS,
    "cleaning_report": CLEANING_REPORT,
    "variables": VARIABLES,
}
