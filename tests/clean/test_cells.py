"""The Edgerton (2023) cell table: PRIO-GRID geometry, border cells, aggregation by hand."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyreadr
import pytest
from shapely.geometry import box

from kosovo_study.clean import cells
from kosovo_study.clean.boundaries import read_polygons
from kosovo_study.errors import ValidationError
from kosovo_study.municipalities import load_register
from kosovo_study.paths import ProjectPaths
from kosovo_study.registry import raw_path


def test_prio_grid_scheme_by_hand() -> None:
    # Row 265 starts at 42.0 N, column 402 at 20.5 E: gid = 264 * 720 + 402.
    assert cells.gid(265, 402) == 190482
    assert cells.cell_polygon(265, 402).bounds == (20.5, 42.0, 21.0, 42.5)
    assert cells.gid(1, 1) == 1
    assert cells.cell_polygon(1, 1).bounds == (-180.0, -90.0, -179.5, -89.5)


@pytest.fixture(scope="module")
def built(fetched_project: ProjectPaths) -> dict[str, pd.DataFrame]:
    from kosovo_study.clean import build_tables

    return build_tables(fetched_project)


def test_kosovo_cells_hold_the_14_recruits(built: dict[str, pd.DataFrame]) -> None:
    table = built["edgerton_cells"].set_index("gid")
    main = table[table["in_main_analysis"]]
    # Edgerton: Kosovo (gwno 347) has 5 cells and 14 recruits (2013: 6; 2014: 8);
    # 7 in the south-eastern cell (Ferizaj, Kaçanik, Hani i Elezit, Gjilan, Viti).
    assert sorted(main.index) == [190482, 190483, 191201, 191202, 191203]
    assert main["recruits"].sum() == 14
    assert main["recruits_2013"].sum() == 6
    assert main["recruits_2014"].sum() == 8
    assert main.loc[190483, "recruits"] == 7
    assert "Kaçanik:1.000" in str(main.loc[190483, "municipalities"])
    assert main["population_share_main"].sum() == pytest.approx(1.0)
    # Border cells: Gjakovë's coded Albania, the Ranillug cell North Macedonia; kept with
    # Kosovo's population and a flag, their recruits counted for the neighbour.
    assert table.loc[190481, "edgerton_gwno"] == 339
    assert "Gjakovë:0.789" in str(table.loc[190481, "municipalities"])
    assert table.loc[190484, "edgerton_gwno"] == 343
    assert "Ranillug" in str(table.loc[190484, "municipalities"])
    assert not table.loc[[190481, 190484], "in_main_analysis"].any()
    assert table.loc[190484, "recruits_coded_to_neighbour"] == 1
    assert table["data_label"].str.startswith("REAL").all()


def test_population_is_conserved(built: dict[str, pd.DataFrame]) -> None:
    """Every resident is in exactly one cell: cell populations add up to Kosovo's."""
    municipalities = built["municipalities"]
    expected = (
        municipalities["population_2011"]
        .astype("Float64")
        .fillna(municipalities["population_2024"].astype("Float64"))
    )
    assert built["edgerton_cells"]["population"].sum() == pytest.approx(float(expected.sum()))
    overlay = built["edgerton_cell_overlay"]
    shares = overlay.groupby("municipality_id")["share_of_municipality_area"].sum()
    assert np.allclose(shares, 1.0)
    assert overlay.loc[overlay["population_north_2024"], "municipality_id"].nunique() == 4


def _square_world() -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """Two municipalities straddling two cells, with hand-computable shares.

    A: 20.25-20.75 E (half in column 401, half in 402); B: 20.5-21.0 E (all in 402);
    both 42.0-42.5 N (row 265).  Areas on the sphere differ a little east-west only
    through projection error, so shares are 1/2 to within 1e-3.
    """
    polygons = gpd.GeoDataFrame(
        {"municipality_id": [1, 2]},
        geometry=[box(20.25, 42.0, 20.75, 42.5), box(20.5, 42.0, 21.0, 42.5)],
        crs="EPSG:4326",
    )
    municipalities = pd.DataFrame(
        {
            "municipality_id": [1, 2],
            "municipality": ["A", "B"],
            "population_2011": [1000.0, 3000.0],
            "population_2024": [900, 2800],
            "unemployment_concern_2012": [0.2, 0.6],
            "charity_evidence_pre2014": [1, 0],
        }
    )
    edgerton = pd.DataFrame(
        {
            "gid": [190481, 190482, 190482],
            "xcoord": [20.25, 20.75, 20.75],
            "ycoord": [42.25, 42.25, 42.25],
            "row": [265, 265, 265],
            "col": [401, 402, 402],
            "count": [0, 2, 1],
            "gwno": [339, 347, 347],
            "year": [2013, 2013, 2014],
        }
    )
    return polygons, municipalities, edgerton


def test_aggregation_by_hand() -> None:
    polygons, municipalities, edgerton = _square_world()
    overlay = cells.overlay(polygons, municipalities)
    table = cells.cell_table(overlay, municipalities, edgerton).set_index("gid")
    # Cell 401 holds half of A (500 people); cell 402 the other half of A and all of B.
    assert table.loc[190481, "population"] == pytest.approx(500, rel=1e-3)
    assert table.loc[190482, "population"] == pytest.approx(3500, rel=1e-3)
    # Population-weighted means in cell 402: (500 * 0.2 + 3000 * 0.6) / 3500.
    assert table.loc[190482, "unemployment_concern_2012"] == pytest.approx(1900 / 3500, rel=1e-3)
    assert table.loc[190482, "charity_evidence_pre2014"] == pytest.approx(500 / 3500, rel=1e-3)
    assert table.loc[190481, "charity_evidence_pre2014"] == pytest.approx(1.0)
    # Only the Kosovo-coded cell is in the main analysis, with all its recruits.
    assert table.loc[190482, "recruits"] == 3
    assert table.loc[190482, "population_share_main"] == pytest.approx(1.0)
    assert table["recruits"].isna().to_dict()[190481]


def test_recruits_in_a_cell_without_municipality_fail() -> None:
    polygons, municipalities, edgerton = _square_world()
    lost = edgerton.assign(
        gid=[190481, 190483, 190483], col=[401, 403, 403], xcoord=[20.25, 21.25, 21.25]
    )
    overlay = cells.overlay(polygons, municipalities)
    with pytest.raises(ValidationError, match="recruits would be lost"):
        cells.cell_table(overlay, municipalities, lost)


def test_the_file_follows_prio_grid_and_a_row_off_the_grid_fails(
    tmp_path: Path, fetched_project: ProjectPaths
) -> None:
    table = cells.read_edgerton(raw_path("edgerton2023_isis_count_data", fetched_project))
    assert (table["gid"] == (table["row"] - 1) * 720 + table["col"]).all()
    _, _, small = _square_world()
    bad = small.assign(gid=small["gid"].astype(str), year=small["year"].astype(float))
    bad.loc[1, "gid"] = "190483"  # the centre and row/col say 190482
    path = tmp_path / "bad.rds"
    pyreadr.write_rds(str(path), bad)
    with pytest.raises(ValidationError, match="1 rows break the PRIO-GRID scheme"):
        cells.read_edgerton(path)
    assert (
        read_polygons(
            raw_path("geoboundaries_xkx_adm2", fetched_project),
            load_register(fetched_project.transcribed),
        ).shape[0]
        == 38
    )
