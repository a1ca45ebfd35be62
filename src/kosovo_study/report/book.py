"""What the book's pages call: load everything once, glue numbers, show tables and figures.

Pages stay thin: a hidden first cell calls :func:`load`, later cells call figure,
table and number functions from this package and :func:`glue_numbers`.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from typing import Any

import geopandas as gpd
import pandas as pd

from kosovo_study import __version__
from kosovo_study.clean.boundaries import read_processed_polygons
from kosovo_study.manifest import git_commit, read_manifest
from kosovo_study.models import load_results
from kosovo_study.paths import ProjectPaths, project_paths
from kosovo_study.registry import load_registry


@dataclass(frozen=True)
class BookData:
    paths: ProjectPaths
    processed: dict[str, pd.DataFrame]
    results: dict[str, pd.DataFrame]
    metadata: dict[str, Any]

    def polygons(self) -> gpd.GeoDataFrame:
        """Municipality polygons from data/processed (written by the clean stage)."""
        return read_processed_polygons(self.paths.processed)


def load(paths: ProjectPaths | None = None) -> BookData:
    paths = paths or project_paths()
    processed = {
        name: pd.read_parquet(paths.processed / f"{name}.parquet")
        for name in (
            "municipalities",
            "countries",
            "kosovo_national",
            "variables",
            "cleaning_report",
            "interview_segments",
            "interview_respondents",
            "interview_cooccurrence",
            "interview_reliability",
            "interview_import_problems",
        )
    }
    results, meta = load_results(paths)
    summary = paths.results / "multiverse_summary.json"
    if summary.exists():
        meta["multiverse"] = json.loads(summary.read_text(encoding="utf-8"))
    return BookData(paths, processed, results, meta)


def glue_numbers(values: dict[str, Any]) -> None:
    """Glue every value (not displayed) so the prose can cite it by name.

    Numbers are cited with ``{glue:text}`name:.2f```; text with ``{glue:md}`name```.
    """
    from IPython.display import Markdown
    from myst_nb import glue

    for name, value in values.items():
        glue(name, Markdown(value) if isinstance(value, str) else value, display=False)


def sources_table(paths: ProjectPaths | None = None) -> pd.DataFrame:
    """Every third-party raw file: citation key, licence and sha256."""
    paths = paths or project_paths()
    return pd.DataFrame(
        [
            {
                "file": entry.path,
                "citation": entry.citation_key,
                "licence": entry.licence,
                "sha256": entry.sha256[:16] + "...",
            }
            for entry in load_registry(paths).values()
        ]
    )


def transcribed_table(paths: ProjectPaths | None = None) -> pd.DataFrame:
    """Every committed table of published facts, with its rows and distinct sources."""
    paths = paths or project_paths()
    rows = []
    for csv in sorted(paths.transcribed.glob("*.csv")):
        table = pd.read_csv(csv, dtype=str, keep_default_na=False)
        rows.append(
            {
                "file": csv.name,
                "rows": len(table),
                "sources": table["source_key"].nunique() if "source_key" in table else "",
            }
        )
    return pd.DataFrame(rows)


def environment(paths: ProjectPaths | None = None) -> dict[str, Any]:
    """Version, commit, Python and key package versions, stage timings and input hashes."""
    paths = paths or project_paths()
    packages = ["numpy", "pandas", "statsmodels", "scipy", "pandera", "geopandas", "jupyter-book"]
    versions = {}
    for name in packages:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    stages = {}
    inputs: dict[str, str] = {}
    for stage in ("clean", "models"):
        manifest = read_manifest(stage, paths) or {}
        stages[stage] = manifest.get("seconds")
        inputs.update(manifest.get("inputs", {}))
    return {
        "package_version": __version__,
        "git_commit": git_commit(paths.root) or "unknown",
        "python": platform.python_version(),
        "packages": versions,
        "stage_seconds": stages,
        "inputs": inputs,
    }
