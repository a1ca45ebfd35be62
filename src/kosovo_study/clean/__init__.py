"""The ``clean`` stage: raw data -> validated tables in ``data/processed/``.

Public API: :func:`build_tables` (in memory, validated) and :func:`run` (the stage:
skip if unchanged, write every table as CSV and Parquet, record the manifest).
Every table is built and validated before the first file is written, and each
file is written atomically, so a failure leaves the previous outputs untouched.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kosovo_study.clean import (
    boundaries,
    cells,
    countries,
    designations,
    ds2016,
    fighters,
    municipal_table,
)
from kosovo_study.clean.io import Ledger
from kosovo_study.municipalities import CROSSWALK_FILE, load_register
from kosovo_study.paths import ProjectPaths, project_paths
from kosovo_study.registry import raw_path
from kosovo_study.schemas import PROCESSED_SCHEMAS
from kosovo_study.storage import write_table
from kosovo_study.tablefile import check

RAW_INPUTS = (
    "mosaic_indicators_19112015",
    "geoboundaries_xkx_adm2",
    "ds2016_icsr",
    "ds2016_wb",
    "ds2016_muslim",
    "ds2016_fractionalization",
    "ds2016_foreignfightersimputed",
    "datahub_gdp",
    "datahub_population",
    "datahub_country_codes",
    "unidx_hdi_19002015",
    "ofac2021_sdn",
    "ofac2021_add",
    "un1267_aqlist",
    "edgerton2023_isis_count_data",
)
TRANSCRIBED_INPUTS = (
    CROSSWALK_FILE,
    "kas_census2024_population_with_estimation.csv",
    "kas_census_age15_29_by_municipality.csv",
    "kas_census_population_religion_by_municipality.csv",
    "bik_mosques_by_municipality_2021.csv",
    "gulf_charity_presence_events.csv",
    "kosovo_fighters_by_municipality_confirmed.csv",
    "kosovo_fighters_national.csv",
    "kosovo_country_covariates.csv",
    designations.REVIEWED_FILE,
)
#: The processed tables and their schemas (the evidence tables keep theirs in their modules).
SCHEMAS = {
    **PROCESSED_SCHEMAS,
    "designated_charities": designations.ENTITY_SCHEMA,
    "designated_charity_measures": designations.COUNTRY_SCHEMA,
    "edgerton_cells": cells.CELL_SCHEMA,
    "edgerton_cell_overlay": cells.OVERLAY_SCHEMA,
    ds2016.TABLE: ds2016.FEATURES_SCHEMA,
}
TABLES = tuple(SCHEMAS)


def input_files(paths: ProjectPaths) -> list[Path]:
    """Every file the stage reads (raw files are hash-checked here)."""
    raw = [raw_path(name, paths) for name in RAW_INPUTS]
    return raw + [paths.transcribed / name for name in TRANSCRIBED_INPUTS]


def _country_coverage(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for name, (unit, year, source_key) in countries.VARIABLES.items():
        present = int(table[name].notna().sum())
        rows.append(
            {
                "table": "countries",
                "variable": name,
                "unit": unit,
                "year": year,
                "source_key": source_key,
                "description": "",
                "non_missing": present,
                "rows": len(table),
                "coverage": f"{present}/{len(table)}",
            }
        )
    return pd.DataFrame(rows)


def build_tables(paths: ProjectPaths | None = None) -> dict[str, pd.DataFrame]:
    """Every processed table, validated, in memory."""
    paths = paths or project_paths()
    ledger = Ledger()
    register = load_register(paths.transcribed)
    municipalities, mosaic_cells = municipal_table.build(
        paths.transcribed,
        raw_path("geoboundaries_xkx_adm2", paths),
        raw_path("mosaic_indicators_19112015", paths),
        register,
        ledger,
    )
    tables = {
        "municipalities": municipalities,
        "mosaic_top_problems": mosaic_cells,
        "countries": countries.build(paths.raw, ledger),
        "kosovo_national": fighters.national(paths.transcribed, ledger),
        ds2016.TABLE: ds2016.read_features(
            raw_path("ds2016_foreignfightersimputed", paths), ledger
        ),
    }
    tables |= designations.build(
        paths.raw,
        paths.transcribed,
        countries.load_country_names(raw_path("datahub_country_codes", paths)),
        tables["countries"]["iso3"].tolist(),
        ledger,
    )
    polygons = boundaries.read_polygons(raw_path("geoboundaries_xkx_adm2", paths), register)
    tables |= cells.build(
        raw_path("edgerton2023_isis_count_data", paths), polygons, municipalities, ledger
    )
    tables["rejects"] = ledger.rejects_frame()
    tables["cleaning_report"] = ledger.report()
    tables["variables"] = pd.concat(
        [municipal_table.coverage(municipalities), _country_coverage(tables["countries"])],
        ignore_index=True,
    )
    return {
        name: check(table, SCHEMAS[name], file=f"data/processed/{name}")
        for name, table in tables.items()
    }


def write_tables(tables: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    """Write each table as CSV and Parquet (atomically); return the paths written."""
    written: list[Path] = []
    for name in TABLES:
        written += write_table(tables[name], folder, name)
    return written


def write_outputs(paths: ProjectPaths, folder: Path) -> list[Path]:
    """Build and validate every table, then write them and the polygons (GeoParquet) to ``folder``."""
    tables = build_tables(paths)
    polygons = boundaries.read_polygons(
        raw_path("geoboundaries_xkx_adm2", paths), load_register(paths.transcribed)
    )
    return [*write_tables(tables, folder), boundaries.write_polygons(polygons, folder)]
