"""Derpanopoulos & Sonnet (2016)'s imputed country features, as a processed table.

Source [``ds2016_foreignfightersimputed``]: ``foreignFightersImputed.csv`` of their
replication data (Derpanopoulos & Sonnet 2016, Harvard Dataverse): 163 countries, one
row each, their outcome ``icsrMean`` (ICSR January 2015 midpoints, Israel's figure
shared with the Palestinian territories) and their 23 features after their own
imputation, plus ``lnarea`` (in the file, not among the features of their Table A).
The models rebuild their hurdle on this table
(:func:`kosovo_study.models.crossnational.rebuild_ds2016`); cleaning only checks it
(:data:`FEATURES_SCHEMA`: every column, no missing value, one row per country) and
keeps it as published.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandera.pandas import Check, Column

from kosovo_study.clean.io import Ledger
from kosovo_study.tablefile import check

TABLE = "ds2016_features"
#: Their 23 features, in the file's order (Derpanopoulos & Sonnet 2016, Table A).
FEATURES = (
    "lifeExp",
    "contig",
    "dist",
    "internetUserPer100",
    "migrantStockPctPop",
    "lfpMale",
    "unempYthTotILO",
    "fh_cl",
    "fh_pr",
    "sunnipct",
    "shiapct",
    "govt.reg.relig",
    "govt.fav.relig",
    "soc.reg.relig",
    "pctpop15.24",
    "religious.frac",
    "lnHomicidesPer100k",
    "lnpopDensity",
    "lnpop",
    "lngdppcPPP",
    "lnrefugeesUnhcr",
    "lnrefugeeOrigin",
    "europe",
)
#: The sample size of their models.
COUNTRIES = 163

FEATURES_SCHEMA = pa.DataFrameSchema(
    {
        "ctryCode": Column(str, Check.str_matches(r"^[A-Z]{3}$"), unique=True),
        "ctryName": Column(str, Check.str_length(min_value=1)),
        "icsrMean": Column(float, Check.ge(0)),
        "lnarea": Column(float),
        **{name: Column(float) for name in FEATURES},
    },
    checks=[Check(lambda t: len(t) == COUNTRIES, error=f"{COUNTRIES} countries")],
    strict="filter",
    ordered=False,
    coerce=True,
    name=TABLE,
)


def read_features(path: Path, ledger: Ledger | None = None) -> pd.DataFrame:
    """Their imputed features, validated (a missing value or column names the file and
    the column)."""
    table = pd.read_csv(path)
    if ledger is not None:
        ledger.count_in(TABLE, path.name, len(table))
    columns = ["ctryCode", "ctryName", "icsrMean", *FEATURES, "lnarea"]
    return check(table, FEATURES_SCHEMA, file=str(path)).reindex(columns=columns)
