"""What the book's pages call: load everything once, glue numbers, show tables and figures.

Pages stay thin: a hidden first cell calls :func:`load`, later cells call figure,
table and number functions from this package and :func:`glue_numbers`.
"""

from __future__ import annotations

import inspect
import json
import platform
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from kosovo_study import __version__
from kosovo_study.clean.boundaries import read_processed_polygons
from kosovo_study.errors import KosovoStudyError
from kosovo_study.manifest import complete_pending, git_commit, read_manifest
from kosovo_study.models import load_results
from kosovo_study.paths import ProjectPaths, project_paths
from kosovo_study.registry import load_registry
from kosovo_study.report import sources, style
from kosovo_study.report.tables import Table
from kosovo_study.storage import write_text_atomic


@dataclass(frozen=True)
class BookData:
    paths: ProjectPaths
    processed: dict[str, pd.DataFrame]
    results: dict[str, pd.DataFrame]
    metadata: dict[str, Any]

    def polygons(self) -> gpd.GeoDataFrame:
        """Municipality polygons from data/processed (written by the clean stage)."""
        return read_processed_polygons(self.paths.processed)


#: The processed tables the pages read, with the stage that writes each (checked
#: against ``kosovo_study.stages.STAGES`` by the tests).
BOOK_TABLES: dict[str, str] = {
    "municipalities": "clean",
    "countries": "clean",
    "kosovo_national": "clean",
    "variables": "clean",
    "cleaning_report": "clean",
    "interview_segments": "interviews",
    "interview_respondents": "interviews",
    "interview_cooccurrence": "interviews",
    "interview_reliability": "interviews",
    "interview_import_problems": "interviews",
}
#: The result files the pages read, with the stage that writes each.
BOOK_RESULTS: dict[str, str] = {
    "metadata.json": "models",
    "multiverse_summary.json": "multiverse",
    # what holds and what does not (kosovo_study.models.verdict), written by the multiverse
    "verdict.csv": "multiverse",
}


def load(paths: ProjectPaths | None = None) -> BookData:
    """Every table, result and metadata the pages read.

    An interrupted commit of any stage is first completed or rolled back, so the pages
    see whole runs only; a missing file is named with the stage that writes it.
    """
    paths = paths or project_paths()
    # Only the stages read here: the book's own run (which executes these pages) holds
    # its lock and keeps a backup until it ends.
    complete_pending(paths, sorted({*BOOK_TABLES.values(), *BOOK_RESULTS.values()}))
    wanted = [
        *((paths.processed / f"{name}.parquet", stage) for name, stage in BOOK_TABLES.items()),
        *((paths.results / name, stage) for name, stage in BOOK_RESULTS.items()),
    ]
    missing = [(path, stage) for path, stage in wanted if not path.is_file()]
    if missing:
        first = {stage: path for path, stage in reversed(missing)}  # the first per stage
        named = "; ".join(
            f"{path.relative_to(paths.root).as_posix()} (the {stage} stage)"
            for stage, path in sorted(first.items())
        )
        raise KosovoStudyError(
            f"The book reads {len(missing)} files that are missing, e.g. {named}. Run "
            "`kosovo-study report` (every stage in order), or `kosovo-study book`, which "
            "runs the missing stages first."
        )
    processed = {name: pd.read_parquet(paths.processed / f"{name}.parquet") for name in BOOK_TABLES}
    results, meta = load_results(paths)
    summary = paths.results / "multiverse_summary.json"
    meta["multiverse"] = json.loads(summary.read_text(encoding="utf-8"))
    data = BookData(paths, processed, results, meta)
    _LOADED.clear()
    _LOADED.append(data)
    return data


#: The data the page loaded last (:func:`load`): where :func:`glue_numbers` looks up
#: the source of each value it glues.
_LOADED: list[BookData] = []
_INDEX: dict[int, sources.SourceIndex] = {}


def source_index(data: BookData) -> sources.SourceIndex:
    """Every table and JSON document ``data`` holds, by the file it was read from."""
    if id(data) not in _INDEX:
        _INDEX.clear()
        root = data.paths.root

        def relative(path: Path) -> str:
            return path.resolve().relative_to(root.resolve()).as_posix()

        tables = {
            **{relative(data.paths.results / f"{n}.csv"): f for n, f in data.results.items()},
            **{
                relative(data.paths.processed / f"{n}.parquet"): f
                for n, f in data.processed.items()
            },
        }
        documents = {
            relative(path): dict(sources.flatten(json.loads(path.read_text("utf-8"))))
            for path in (data.paths.results / name for name in BOOK_RESULTS)
            if path.suffix == ".json"  # verdict.csv is a table, read with the results
        }
        _INDEX[id(data)] = sources.SourceIndex(root, tables, documents)
    return _INDEX[id(data)]


def glue_numbers(values: dict[str, Any]) -> None:
    """Glue every value (not displayed) so the prose can cite it by name, with its
    source record (:func:`kosovo_study.report.sources.locate`: the result row it was
    read from, looked up in the data the page loaded with :func:`load`).

    Pages cite numbers with the glue:text role and a format (``name:.2f``), text with
    the glue:md role.  The record rides in the glued output's metadata, as myst-nb's
    ``glue`` stores the value, so every key glued here is traced without extra work.
    """
    from IPython.core.formatters import format_display_data
    from IPython.display import Markdown, display
    from myst_nb.ext.glue import GLUE_PREFIX

    index = source_index(_LOADED[0]) if _LOADED else None
    producer = _producer(inspect.currentframe())
    for name, value in values.items():
        shown = Markdown(value) if isinstance(value, str) else value
        bundle, metadata = format_display_data(shown)
        metadata["scrapbook"] = {"name": name, "mime_prefix": GLUE_PREFIX}
        record = sources.locate(name, value, index)
        if producer:
            record["produced_by"] = producer
        metadata[sources.RECORD_KEY] = record
        display({GLUE_PREFIX + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)


def _producer(frame: Any) -> str | None:
    """The function whose values the calling line glues ("glue_numbers(numbers.fighters(
    ...))" -> "kosovo_study.report.numbers.fighters"), or None (a dict typed in a page)."""
    caller = frame.f_back if frame is not None else None
    if caller is None:
        return None
    import linecache

    line = linecache.getline(caller.f_code.co_filename, caller.f_lineno)
    for owner, function in re.findall(r"\b([A-Za-z_]\w*)\.([A-Za-z_]\w*)\(", line):
        module = caller.f_globals.get(owner)
        if function != "glue_numbers" and inspect.ismodule(module):
            return f"{module.__name__}.{function}"
    return None


def sources_table(paths: ProjectPaths | None = None) -> pd.DataFrame:
    """Every third-party raw file: citation key, licence and sha256."""
    paths = paths or project_paths()
    return pd.DataFrame(
        [
            {
                "file": entry.path,
                "citation": entry.citation_key,
                "licence": entry.licence,
                "sha256": entry.sha256,
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
        "build_date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "packages": versions,
        "stage_seconds": stages,
        "inputs": inputs,
    }


# --- Figures and tables with their data and code (showyourwork-style) -----------------


def figures_dir(paths: ProjectPaths | None = None) -> Path:
    """``book/_build/figures``: every figure as PNG and SVG, every figure's and table's CSV."""
    paths = paths or project_paths()
    directory = paths.book_build / "figures"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _code_target(code: Callable[..., Any]) -> str:
    return f"{code.__module__}.{code.__qualname__}"


def links_markdown(name: str, code: Callable[..., Any], kinds: tuple[str, ...]) -> str:
    """MyST links to the saved files (Sphinx ``download`` role) and to the code (API page).

    The paths start with "/" (the book's source folder), so they hold on every page.
    """
    files = " · ".join(
        f"{{download}}`{kind.upper() if kind != 'csv' else 'data'} </_build/figures/{name}.{kind}>`"
        for kind in kinds
    )
    return f"{files} · {{py:func}}`code <{_code_target(inspect.unwrap(code))}>`"


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    write_text_atomic(path, frame.to_csv(index=False, lineterminator="\n"))


def show_figure(
    name: str,
    plot: tuple[Figure, pd.DataFrame],
    code: Callable[..., Any],
    paths: ProjectPaths | None = None,
) -> pd.DataFrame:
    """Save a figure (PNG, SVG) and what it plots (CSV), and glue it for ``glue:figure``.

    Glues ``name`` (the figure) and ``name-links`` (Markdown links to PNG, SVG, data
    and code, which the caption pastes with the glue:md role and the myst format).
    Returns the plotted table.
    """
    from IPython.display import Markdown
    from myst_nb import glue

    figure, plotted = plot
    directory = figures_dir(paths)
    with style.figure_context():
        for kind in ("png", "svg"):
            partial = directory / f".{name}.partial.{kind}"
            figure.savefig(partial, format=kind, metadata=_figure_metadata(kind))
            partial.replace(directory / f"{name}.{kind}")
    _write_csv(plotted, directory / f"{name}.csv")
    glue(name, figure, display=False)
    glue(
        f"{name}-links", Markdown(links_markdown(name, code, ("png", "svg", "csv"))), display=False
    )
    plt.close(figure)
    return plotted


def _figure_metadata(kind: str) -> dict[str, Any]:
    # No creation date in the files, so a rebuild with the same data writes the same bytes.
    return {"Software": None} if kind == "png" else {"Date": None, "Creator": None}


def show_table(
    name: str, table: Table, code: Callable[..., Any], paths: ProjectPaths | None = None
) -> None:
    """Display a table, then links to its data (CSV of the values shown) and its code.

    The table is displayed as itself, so the page holds both its HTML and its LaTeX.
    """
    from dataclasses import replace

    from IPython.display import Markdown, display

    _write_csv(table.frame, figures_dir(paths) / f"{name}.csv")
    display(replace(table, name=name))
    display(Markdown(links_markdown(name, code, ("csv",))))
