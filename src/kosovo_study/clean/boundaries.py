"""Area and centroid of each municipality from the geoBoundaries polygons.

Source: ``geoboundaries/geoBoundaries-XKX-ADM2_simplified.topojson`` (registry
``geoboundaries_xkx_adm2``; gbOpen ADM2, boundary year 2017, © OpenStreetMap
contributors via geoBoundaries, CC BY-SA 2.0).  Areas are computed in the ETRS89
Lambert Azimuthal Equal-Area projection (EPSG:3035) in km²; centroids are computed
there and returned as WGS84 longitude/latitude (degrees).  The polygons are
simplified, so areas are approximate (the North Mitrovica polygon, about 5.5 km²,
omits part of the urban north bank).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from kosovo_study.errors import MunicipalityNameError, ValidationError
from kosovo_study.municipalities import MunicipalityRegister

EQUAL_AREA_CRS = "EPSG:3035"


def read_polygons(path: Path, register: MunicipalityRegister) -> gpd.GeoDataFrame:
    """The 38 polygons with ``municipality_id``, in WGS84."""
    polygons = gpd.read_file(path)
    if "shapeName" not in polygons.columns:
        raise ValidationError(f"{path}: no shapeName property. Fetch the registered file again.")
    if polygons.crs is None:
        polygons = polygons.set_crs("EPSG:4326")
    ids = []
    for i, name in enumerate(polygons["shapeName"]):
        try:
            ids.append(register.normalise(str(name), source="geoboundaries"))
        except MunicipalityNameError as error:
            raise ValidationError(f"{path} feature {i}: {error}") from None
    polygons["municipality_id"] = ids
    if sorted(ids) != list(range(1, 39)):
        raise ValidationError(f"{path}: expected one polygon for each of the 38 municipalities.")
    return polygons.sort_values("municipality_id").reset_index(drop=True)


def area_and_centroid(polygons: gpd.GeoDataFrame) -> pd.DataFrame:
    """``area_km2``, ``centroid_lon``, ``centroid_lat`` per municipality."""
    projected = polygons.to_crs(EQUAL_AREA_CRS)
    centroids = gpd.GeoSeries(projected.geometry.centroid, crs=EQUAL_AREA_CRS).to_crs("EPSG:4326")
    return pd.DataFrame(
        {
            "municipality_id": polygons["municipality_id"].to_numpy(),
            "area_km2": (projected.geometry.area / 1e6).round(3).to_numpy(),
            "centroid_lon": centroids.x.round(5).to_numpy(),
            "centroid_lat": centroids.y.round(5).to_numpy(),
        }
    )


#: The processed polygons (GeoParquet, WGS84), written by the clean stage; the book
#: reads them from here and never from ``data/raw``.
POLYGONS_FILE = "municipality_polygons.parquet"


def write_polygons(polygons: gpd.GeoDataFrame, folder: Path) -> Path:
    """Write ``municipality_id``, ``municipality`` and geometry as GeoParquet (atomically)."""
    from kosovo_study.storage import write_with

    table = polygons[["municipality_id", "shapeName", "geometry"]].rename(
        columns={"shapeName": "geoboundaries_name"}
    )
    table = gpd.GeoDataFrame(table, geometry="geometry", crs=polygons.crs).to_crs("EPSG:4326")
    destination = Path(folder) / POLYGONS_FILE
    write_with(destination, lambda path: table.to_parquet(path, index=False))
    return destination


def read_processed_polygons(processed: Path) -> gpd.GeoDataFrame:
    """The polygons the clean stage wrote to ``processed`` (run ``kosovo-study clean``)."""
    path = Path(processed) / POLYGONS_FILE
    if not path.is_file():
        raise ValidationError(
            f"{path} does not exist: the municipality polygons are written by the clean "
            "stage. Run `kosovo-study clean`."
        )
    return gpd.read_parquet(path)
