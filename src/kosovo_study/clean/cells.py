"""Edgerton (2023) recruits per PRIO-GRID cell, overlaid on Kosovo's municipalities. REAL data.

Source [``edgerton2023_isis_count_data``]: Edgerton, J. (2023), *Journal of Conflict
Resolution*, replication file ``isis_count_data.rds`` (read with pyreadr): foreign
recruits geolocated from leaked Islamic State entry records, per PRIO-GRID 0.5° cell and
year 2012-2014, with the cell's Gleditsch-Ward country code ``gwno`` (Kosovo 347).  The
repository has no licence: the file is fetched and cited, never committed, and the
tables built here live only in ``data/processed`` (not in git).

PRIO-GRID geometry (checked against every row of the file by :func:`read_edgerton`):
``gid = (row - 1) * 720 + col`` with 1-based ``row`` (from the south pole) and ``col``
(from 180° W); the cell centre is ``xcoord = -180 + 0.5 (col - 0.5)`` and
``ycoord = -90 + 0.5 (row - 0.5)``; the cell is the 0.5° square around it.

**Border cells.**  PRIO-GRID gives each cell to one country, so cells that hold part of
Kosovo can be coded to a neighbour: the Gjakovë cell (gid 190481) is coded Albania (339)
and the Ranillug cell (gid 190484) North Macedonia (343); two cells south of Prizren and
Kaçanik are coded North Macedonia too, and the northern cells (row 267) are not in the
file.  A recruit in such a cell is counted for the neighbour, so we cannot tell a
Kosovar from a neighbour's national there.  Rule: every cell that holds part of a
municipality polygon is in the cell table with its Kosovo population and a flag; the
**main analysis uses the Kosovo-coded cells** (``in_main_analysis``; their recruits are
Kosovo's 14), and the population shares are computed over them.  Kosovo's residents of
neighbour-coded cells are reported (``population``) but left out of the main tests;
``recruits_coded_to_neighbour`` gives what Edgerton counts there for the neighbour, so a
sensitivity analysis can add them as an upper bound.

**Covariates per cell**, each municipality's population spread evenly over its area
(no finer population data): the Kosovo population of cell c is
``sum_m pop_m * area(m ∩ c) / area(m)``; the cell's unemployment concern (UNDP Mosaic
2012, share naming unemployment the main problem) and charity evidence (share of the
cell's population in municipalities with documented Gulf-charity activity before 2014)
are means over municipalities weighted by those populations (municipalities without a
value are left out and the weights renormalised; ``unemployment_coverage`` says how much
of the cell's population has a value).  Population: the 2011 census; the four northern
municipalities, which boycotted it, take KAS's 2024 figures with estimation (flagged in
``population_north_2024``).  Areas are computed in EPSG:3035 (equal area).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyreadr
from pandera.pandas import Check, Column
from shapely.geometry import box

from kosovo_study.clean.boundaries import EQUAL_AREA_CRS
from kosovo_study.clean.io import Ledger
from kosovo_study.errors import ValidationError

KOSOVO_GWNO = 347
CELL_DEGREES = 0.5
COLUMNS_PER_ROW = 720
REAL_LABEL = (
    "REAL: Edgerton (2023) recruits from leaked Islamic State entry records; 14 of roughly "
    "300-400 Kosovo travellers, IS entries only, 2013-2014, 0.5-degree cells that cross "
    "municipal and national borders"
)
EDGERTON_COLUMNS = ("gid", "xcoord", "ycoord", "row", "col", "count", "gwno", "year")

CELL_SCHEMA = pa.DataFrameSchema(
    {
        "gid": Column(int, unique=True),
        "row": Column(int),
        "col": Column(int),
        "xcoord": Column(float),
        "ycoord": Column(float),
        "edgerton_gwno": Column("Int64", nullable=True),
        "in_main_analysis": Column(bool),
        "recruits": Column("Int64", Check.ge(0), nullable=True),
        "recruits_2013": Column("Int64", Check.ge(0), nullable=True),
        "recruits_2014": Column("Int64", Check.ge(0), nullable=True),
        "recruits_coded_to_neighbour": Column("Int64", Check.ge(0), nullable=True),
        "population": Column(float, Check.ge(0)),
        "population_share_main": Column(float, Check.in_range(0, 1), nullable=True),
        "kosovo_area_km2": Column(float, Check.gt(0)),
        "cell_area_km2": Column(float, Check.gt(0)),
        "kosovo_share_of_cell_area": Column(float, Check.in_range(0, 1)),
        "unemployment_concern_2012": Column(float, Check.in_range(0, 1), nullable=True),
        "unemployment_coverage": Column(float, Check.in_range(0, 1)),
        "charity_evidence_pre2014": Column(float, Check.in_range(0, 1)),
        "municipalities": Column(str),
        "data_label": Column(str, Check.str_startswith("REAL")),
    },
    strict=True,
    ordered=True,
)
OVERLAY_SCHEMA = pa.DataFrameSchema(
    {
        "gid": Column(int),
        "municipality_id": Column(int, Check.in_range(1, 38)),
        "municipality": Column(str),
        "intersection_km2": Column(float, Check.gt(0)),
        "share_of_municipality_area": Column(float, Check.in_range(0, 1)),
        "population_in_cell": Column(float, Check.ge(0)),
        "population_north_2024": Column(bool),
    },
    strict=True,
    unique=["gid", "municipality_id"],
)


def gid(row: int, col: int) -> int:
    """PRIO-GRID cell id from 1-based row (from 90° S) and column (from 180° W)."""
    return (row - 1) * COLUMNS_PER_ROW + col


def cell_polygon(row: int, col: int) -> box:
    """The 0.5° square of a PRIO-GRID cell (WGS84 degrees)."""
    west, south = -180 + CELL_DEGREES * (col - 1), -90 + CELL_DEGREES * (row - 1)
    return box(west, south, west + CELL_DEGREES, south + CELL_DEGREES)


def read_edgerton(path: Path) -> pd.DataFrame:
    """The cell-year counts, with the PRIO-GRID scheme checked on every row."""
    frames = pyreadr.read_r(str(path))
    if len(frames) != 1:
        raise ValidationError(f"{path}: expected one R object, found {list(frames)}.")
    table = next(iter(frames.values()))
    missing = [c for c in EDGERTON_COLUMNS if c not in table.columns]
    if missing:
        raise ValidationError(
            f"{path}: missing columns {missing}. Fetch the registered file again."
        )
    table = table[list(EDGERTON_COLUMNS)].copy()
    table["gid"] = table["gid"].astype(int)
    for column in ("row", "col", "gwno", "year"):
        table[column] = table[column].astype(int)
    bad = (
        (table["gid"] != (table["row"] - 1) * COLUMNS_PER_ROW + table["col"])
        | ~np.isclose(table["xcoord"], -180 + CELL_DEGREES * (table["col"] - 0.5))
        | ~np.isclose(table["ycoord"], -90 + CELL_DEGREES * (table["row"] - 0.5))
    )
    if bad.any():
        raise ValidationError(
            f"{path}: {int(bad.sum())} rows break the PRIO-GRID scheme "
            f"(first: {table[bad].iloc[0].to_dict()})."
        )
    if (table["count"] < 0).any() or (table["count"] != table["count"].round()).any():
        raise ValidationError(f"{path}: counts must be non-negative whole numbers.")
    table["count"] = table["count"].astype(int)
    checked: pd.DataFrame = table
    return checked


def municipal_population(municipalities: pd.DataFrame) -> pd.DataFrame:
    """``population`` (2011 census; the boycotting north from KAS 2024) and its flag."""
    north = municipalities["population_2011"].isna()
    population = (
        municipalities["population_2011"]
        .astype("Float64")
        .fillna(municipalities["population_2024"].astype("Float64"))
    )
    return pd.DataFrame(
        {
            "municipality_id": municipalities["municipality_id"].to_numpy(),
            "population": population.astype(float).to_numpy(),
            "population_north_2024": north.to_numpy(),
        }
    )


def overlay(polygons: gpd.GeoDataFrame, municipalities: pd.DataFrame) -> pd.DataFrame:
    """Every (cell, municipality) intersection: area, share of the municipality, people."""
    west, south, east, north = polygons.to_crs("EPSG:4326").total_bounds
    cols = range(
        int(np.floor((west + 180) / CELL_DEGREES)) + 1,
        int(np.ceil((east + 180) / CELL_DEGREES)) + 1,
    )
    rows = range(
        int(np.floor((south + 90) / CELL_DEGREES)) + 1,
        int(np.ceil((north + 90) / CELL_DEGREES)) + 1,
    )
    # Cells are squares in longitude/latitude, so intersect there; measure areas in
    # EPSG:3035.  A municipality's shares are its pieces' areas over their sum (the
    # sum equals its own area to within projection error, checked below).
    grid = gpd.GeoDataFrame(
        {"gid": [gid(r, c) for r in rows for c in cols]},
        geometry=[cell_polygon(r, c) for r in rows for c in cols],
        crs="EPSG:4326",
    )
    shapes = polygons[["municipality_id", "geometry"]].to_crs("EPSG:4326")
    whole = shapes.to_crs(EQUAL_AREA_CRS).geometry.area.to_numpy() / 1e6
    pieces = gpd.overlay(shapes, grid, how="intersection", keep_geom_type=True)
    pieces["intersection_km2"] = pieces.to_crs(EQUAL_AREA_CRS).geometry.area / 1e6
    pieces = pieces[pieces["intersection_km2"] > 1e-6]
    totals = pieces.groupby("municipality_id")["intersection_km2"].sum()
    expected = pd.Series(whole, index=shapes["municipality_id"]).loc[totals.index]
    if len(totals) != len(shapes) or not np.allclose(totals, expected, rtol=1e-4):
        raise ValidationError("cell overlay: a municipality's pieces do not add up to its area.")
    pieces["share_of_municipality_area"] = pieces["intersection_km2"] / pieces[
        "municipality_id"
    ].map(totals)
    people = municipal_population(municipalities)
    names = municipalities.set_index("municipality_id")["municipality"]
    table = pd.DataFrame(pieces.drop(columns="geometry")).merge(people, on="municipality_id")
    table["population_in_cell"] = table["population"] * table["share_of_municipality_area"]
    table["municipality"] = table["municipality_id"].map(names)
    columns = list(OVERLAY_SCHEMA.columns)
    table = table[columns].sort_values(["gid", "municipality_id"]).reset_index(drop=True)
    return OVERLAY_SCHEMA.validate(table)


def _weighted(values: pd.Series, weights: pd.Series) -> tuple[float | None, float]:
    known = values.notna()
    total = float(weights.sum())
    if not known.any() or total == 0:
        return None, 0.0
    mean = float(np.average(values[known].astype(float), weights=weights[known]))
    return mean, float(weights[known].sum() / total)


def cell_table(
    pieces: pd.DataFrame, municipalities: pd.DataFrame, edgerton: pd.DataFrame
) -> pd.DataFrame:
    """One row per cell holding part of Kosovo: recruits, population, covariates, flags."""
    covariates = municipalities.set_index("municipality_id")[
        ["unemployment_concern_2012", "charity_evidence_pre2014"]
    ]
    yearly: dict[int, dict[int, int]] = {}
    coded: dict[int, set[int]] = {}
    for cell_id, year, count, gwno_ in zip(
        edgerton["gid"].tolist(),
        edgerton["year"].tolist(),
        edgerton["count"].tolist(),
        edgerton["gwno"].tolist(),
        strict=True,
    ):
        by_year = yearly.setdefault(int(cell_id), {})
        by_year[int(year)] = by_year.get(int(year), 0) + int(count)
        coded.setdefault(int(cell_id), set()).add(int(gwno_))
    if any(len(codes) > 1 for codes in coded.values()):
        raise ValidationError("Edgerton file: a cell is coded to two countries.")
    rows = []
    for key, group in pieces.groupby("gid"):
        cell = int(str(key))
        row_, col = (cell - 1) // COLUMNS_PER_ROW + 1, (cell - 1) % COLUMNS_PER_ROW + 1
        weights = group["population_in_cell"].reset_index(drop=True)
        values = covariates.loc[group["municipality_id"]].reset_index(drop=True)
        unemployment, coverage = _weighted(values["unemployment_concern_2012"], weights)
        charity, _ = _weighted(values["charity_evidence_pre2014"], weights)
        gwno = min(coded[cell]) if cell in coded else None
        kosovo = gwno == KOSOVO_GWNO
        counts = yearly.get(cell)
        total = sum(counts.values()) if counts is not None else None
        area = cell_polygon(row_, col)
        cell_km2 = (
            float(gpd.GeoSeries([area], crs="EPSG:4326").to_crs(EQUAL_AREA_CRS).area.iloc[0]) / 1e6
        )
        kosovo_km2 = float(group["intersection_km2"].sum())
        rows.append(
            {
                "gid": cell,
                "row": row_,
                "col": col,
                "xcoord": -180 + CELL_DEGREES * (col - 0.5),
                "ycoord": -90 + CELL_DEGREES * (row_ - 0.5),
                "edgerton_gwno": gwno,
                "in_main_analysis": kosovo,
                "recruits": total if kosovo else None,
                "recruits_2013": counts.get(2013, 0) if kosovo and counts else None,
                "recruits_2014": counts.get(2014, 0) if kosovo and counts else None,
                "recruits_coded_to_neighbour": total if (gwno is not None and not kosovo) else None,
                "population": float(weights.sum()),
                "kosovo_area_km2": kosovo_km2,
                "cell_area_km2": cell_km2,
                "kosovo_share_of_cell_area": min(kosovo_km2 / cell_km2, 1.0),
                "unemployment_concern_2012": unemployment,
                "unemployment_coverage": coverage,
                "charity_evidence_pre2014": charity if charity is not None else 0.0,
                "municipalities": ";".join(
                    f"{name}:{share:.3f}"
                    for name, share in zip(
                        group["municipality"], group["share_of_municipality_area"], strict=True
                    )
                ),
            }
        )
    table = pd.DataFrame(rows)
    main = table["in_main_analysis"]
    table["population_share_main"] = np.where(
        main, table["population"] / table.loc[main, "population"].sum(), np.nan
    )
    table["data_label"] = REAL_LABEL
    for column in (
        "edgerton_gwno",
        "recruits",
        "recruits_2013",
        "recruits_2014",
        "recruits_coded_to_neighbour",
    ):
        table[column] = table[column].astype("Int64")
    kosovo_total = int(edgerton.loc[edgerton["gwno"] == KOSOVO_GWNO, "count"].sum())
    missing = set(edgerton.loc[edgerton["gwno"] == KOSOVO_GWNO, "gid"]) - set(table["gid"])
    if missing or int(table["recruits"].sum()) != kosovo_total:
        raise ValidationError(
            f"Edgerton file: Kosovo-coded cells {sorted(missing)} do not overlap any "
            "municipality polygon, so recruits would be lost. Check the polygons."
        )
    return CELL_SCHEMA.validate(table[list(CELL_SCHEMA.columns)])


def build(
    edgerton_path: Path,
    polygons: gpd.GeoDataFrame,
    municipalities: pd.DataFrame,
    ledger: Ledger | None = None,
) -> dict[str, pd.DataFrame]:
    """``edgerton_cells`` and ``edgerton_cell_overlay`` (REAL data; never committed)."""
    edgerton = read_edgerton(edgerton_path)
    pieces = overlay(polygons, municipalities)
    cells = cell_table(pieces, municipalities, edgerton)
    if ledger is not None:
        outside = int((~edgerton["gid"].isin(cells["gid"])).sum())
        ledger.count_in("edgerton_cells", edgerton_path.name, len(edgerton))
        ledger.filter_out(
            "edgerton_cells",
            edgerton_path.name,
            outside,
            "cell-years of cells that hold no part of Kosovo",
        )
    return {"edgerton_cells": cells, "edgerton_cell_overlay": pieces}
