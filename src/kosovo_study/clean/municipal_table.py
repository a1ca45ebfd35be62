"""Assemble the ``municipalities`` table: one row per municipality, every covariate documented.

:data:`VARIABLES` is the codebook of the table: unit, year and source of each
column.  :func:`coverage` reports how many of the 38 municipalities have a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from pathlib import Path

import pandas as pd

from kosovo_study.clean import boundaries, census, charities, fighters, mosaic, mosques
from kosovo_study.clean.io import Ledger
from kosovo_study.municipalities import MunicipalityRegister


@dataclass(frozen=True)
class Variable:
    """Documentation of one column of a processed table."""

    name: str
    unit: str
    year: str
    source_key: str
    description: str


VARIABLES: tuple[Variable, ...] = (
    Variable("municipality_id", "KAS index 1-38", "", "crosswalk_compiled", "canonical key"),
    Variable("municipality", "name", "", "crosswalk_compiled", "Albanian name as KAS writes it"),
    Variable(
        "boycotted_2011_census",
        "flag",
        "2011",
        "crosswalk_compiled",
        "northern municipality not enumerated in the 2011 census",
    ),
    Variable(
        "created_in_decentralisation_2008_2013",
        "flag",
        "2008-2013",
        "crosswalk_compiled",
        "created under Law 03/L-041 on Administrative Municipal Boundaries (KAS ids 31-38)",
    ),
    Variable(
        "population_2011",
        "persons",
        "2011",
        "kas_census2024_00_totals_via_platorpk",
        "census population; missing for the 4 boycotting municipalities (never 0)",
    ),
    Variable(
        "population_2024",
        "persons",
        "2024",
        "kas_census2024_00_totals_via_platorpk",
        "census population; KAS estimate for the 4 northern municipalities",
    ),
    Variable(
        "youth_share_2011",
        "share 0-1",
        "2011",
        "kas_census2024_00_age_via_platorpk",
        "persons aged 15-29 / population",
    ),
    Variable(
        "muslim_share_2011",
        "share 0-1",
        "2011",
        "kas_census2024_10_religion_via_gobayes",
        "persons declaring Islam / population",
    ),
    Variable(
        "unemployment_concern_2012",
        "share 0-1",
        "2012",
        "undp_kosovo_mosaic",
        "share naming unemployment the municipality's most important problem (measured only)",
    ),
    Variable(
        "unemployment_concern_2012_status",
        "code",
        "2012",
        "undp_kosovo_mosaic",
        "how the 2012 value is coded (see kosovo_study.clean.mosaic)",
    ),
    Variable(
        "unemployment_concern_2012_upper_bound",
        "share 0-1",
        "2012",
        "undp_kosovo_mosaic",
        "inferred: upper bound where unemployment was not among the top problems",
    ),
    Variable(
        "unemployment_concern_2015",
        "share 0-1",
        "2015",
        "undp_kosovo_mosaic",
        "share naming unemployment the municipality's most important problem (measured only)",
    ),
    Variable(
        "unemployment_concern_2015_status",
        "code",
        "2015",
        "undp_kosovo_mosaic",
        "how the 2015 value is coded (see kosovo_study.clean.mosaic)",
    ),
    Variable(
        "unemployment_concern_2015_upper_bound",
        "share 0-1",
        "2015",
        "undp_kosovo_mosaic",
        "inferred: upper bound where unemployment was not among the top problems",
    ),
    Variable(
        "mosques_2021",
        "count",
        "2021",
        "TETOVASOT_2021_BIK",
        "mosques counted by BIK (all kinds); after the recruitment period",
    ),
    Variable(
        "mosques_per_10k_2021",
        "per 10,000 persons",
        "2021/2024",
        "TETOVASOT_2021_BIK",
        "mosques_2021 / population_2024 x 10,000",
    ),
    Variable(
        "charity_evidence_pre2014",
        "0/1",
        "1999-2013",
        "see gulf_charity_presence_events.csv",
        "any reported Gulf-charity activity before 2014; 0 = no evidence found, not absence",
    ),
    Variable(
        "charity_organisations_pre2014",
        "count",
        "1999-2013",
        "see gulf_charity_presence_events.csv",
        "distinct Gulf organisations reported before 2014 (lower bound)",
    ),
    Variable(
        "charity_evidence_post2014",
        "0/1",
        "2014-2024",
        "see gulf_charity_presence_events.csv",
        "placebo: any reported Gulf-charity activity from 2014 on",
    ),
    Variable(
        "charity_organisations_post2014",
        "count",
        "2014-2024",
        "see gulf_charity_presence_events.csv",
        "placebo: distinct Gulf organisations from 2014 on",
    ),
    Variable(
        "area_km2",
        "km2",
        "2017",
        "geoboundaries_xkx_adm2",
        "polygon area in EPSG:3035 (simplified boundaries)",
    ),
    Variable("centroid_lon", "degrees", "2017", "geoboundaries_xkx_adm2", "centroid longitude"),
    Variable("centroid_lat", "degrees", "2017", "geoboundaries_xkx_adm2", "centroid latitude"),
    Variable(
        "fighters_confirmed",
        "persons",
        "2012-2017",
        "see fighters_confirmed_sources",
        "published count of people who left, where a comparable one exists (selected sample)",
    ),
    Variable(
        "fighters_confirmed_definition",
        "text",
        "",
        "see fighters_confirmed_sources",
        "definition of the confirmed count as published",
    ),
    Variable(
        "fighters_confirmed_sources",
        "source keys",
        "",
        "sources.csv",
        "source keys of the confirmed count",
    ),
)


def build(
    transcribed: Path,
    topojson: Path,
    mosaic_workbook: Path,
    register: MunicipalityRegister,
    ledger: Ledger,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``municipalities`` table and the tidy ``mosaic_top_problems`` table."""
    base = register.to_frame()[
        [
            "municipality_id",
            "municipality",
            "boycotted_2011_census",
            "created_in_decentralisation_2008_2013",
        ]
    ]
    cells = mosaic.top_problems(mosaic_workbook, register, ledger)
    events = charities.located_events(transcribed, register, ledger)
    parts = [
        base,
        census.population(transcribed, register, ledger),
        census.youth_share(transcribed, register, ledger),
        census.religion(transcribed, register, ledger),
        mosaic.unemployment_concern(cells),
        mosques.mosque_counts(transcribed, register, ledger),
        charities.presence(events),
        boundaries.area_and_centroid(boundaries.read_polygons(topojson, register)),
        fighters.confirmed_municipal(transcribed, register, ledger),
    ]
    table = reduce(
        lambda left, right: left.merge(right, on="municipality_id", how="left", validate="1:1"),
        parts,
    )
    table["mosques_per_10k_2021"] = table["mosques_2021"] / table["population_2024"] * 1e4
    for column in ("population_2011", "population_2024", "mosques_2021", "fighters_confirmed"):
        table[column] = table[column].astype("Int64")
    for column in ("youth_share_2011", "muslim_share_2011", "mosques_per_10k_2021"):
        table[column] = table[column].astype(float).round(6)
    for column in table.columns:
        if column.startswith("unemployment_concern_") and not column.endswith("_status"):
            table[column] = table[column].astype("float64")
    order = [v.name for v in VARIABLES]
    tidy_cells = cells[["municipality_id", "wave", "problem", "share", "cell", "label_in_source"]]
    return table[order], tidy_cells.reset_index(drop=True)


def coverage(table: pd.DataFrame, variables: tuple[Variable, ...] = VARIABLES) -> pd.DataFrame:
    """Per variable: documentation and how many rows have a value, e.g. 34/38."""
    rows = []
    for variable in variables:
        present = int(table[variable.name].notna().sum())
        rows.append(
            {
                "table": "municipalities",
                "variable": variable.name,
                "unit": variable.unit,
                "year": variable.year,
                "source_key": variable.source_key,
                "description": variable.description,
                "non_missing": present,
                "rows": len(table),
                "coverage": f"{present}/{len(table)}",
            }
        )
    return pd.DataFrame(rows)
