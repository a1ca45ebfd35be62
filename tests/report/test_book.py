"""The book end to end: every number in the prose follows the raw data."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from kosovo_study import stages
from kosovo_study.paths import ProjectPaths
from kosovo_study.report import build, check, style, tables
from kosovo_study.report.labels import citation_text

from ..conftest import REPO


def _text(page: Path) -> str:
    from kosovo_study.report.prose import without_source_chains

    body = without_source_chains(page.read_text(encoding="utf-8"))
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


@pytest.mark.slow
def test_the_built_book_passes_every_check(built_book: ProjectPaths) -> None:
    fighters = built_book.book_build / "html" / "fighters.html"
    assert "They range from 232 to 400" in _text(fighters)
    robustness = _text(built_book.book_build / "html" / "robustness.html")
    assert "SYNTHETIC DATA" in robustness
    assert "Traceback" not in robustness
    assert "SYNTHETIC DATA" in _text(built_book.book_build / "html" / "interviews.html")

    site = built_book.book_build / "html"
    assert check.check_site(site) == []
    assert check.text_defects(site) == []  # no nan / None / Python repr on any page
    assert check.malformed_external_urls(site) == []
    # every figure saved as PNG and SVG, with the CSV of what it plots
    figures_dir = built_book.book_build / "figures"
    for png in figures_dir.glob("*.png"):
        assert png.with_suffix(".svg").exists(), png.name
        assert png.with_suffix(".csv").exists(), png.name
    assert (figures_dir / "fighters-over-time.png").exists()
    fighters_text = _text(fighters)
    assert "Figure 1" in fighters_text
    assert "undated" in fighters_text
    # the undated 359 is named by its source, as the reference list cites it
    assert f"359 ({citation_text('KOSOVAPORT_2019', parenthetical=True)})" in fighters_text
    references = _text(site / "references.html")
    assert references.count("Why Do Foreign Fighters Join Islamic State?") == 1
    assert "foreign\\_fighters" not in references
    # LaTeX specials render as themselves; same author and year are told apart
    assert "GDP (current US$)" in references
    assert "US\\$" not in references
    assert "World Bank (2024a)" in references
    assert "World Bank (2024b)" in references
    assert "What Explains the Flow of Foreign Fighters to ISIS?" in references
    assert "[Abstract]" not in references
    # every table through the renderer: labels, no identifiers, no nan, no pandas default
    assert tables.table_defects(site) == []
    chromium = next((shutil.which(n) for n in build.CHROMIUM_NAMES if shutil.which(n)), None)
    if chromium is not None:  # every page at 1280 and 390 px; screenshots are kept
        artifacts = REPO.root / "test-artifacts" / "screenshots"
        assert check.browser_check(chromium, site, artifacts) == []
        assert (artifacts / "municipalities-1280-light.png").stat().st_size > 10_000


@pytest.mark.slow
def test_every_figure_and_table_of_the_book_follows_the_synthetic_rule(
    built_book: ProjectPaths,
) -> None:
    """Each figure carries the badge exactly when the CSV of what it plots is synthetic
    (style.is_synthetic; the SVG keeps its text); each table whose data file is synthetic
    has the badge in its caption."""
    figures_dir = built_book.book_build / "figures"
    pages = [p.read_text(encoding="utf-8") for p in (built_book.book_build / "html").glob("*.html")]
    synthetic_tables = 0
    for data in sorted(figures_dir.glob("*.csv")):
        frame = pd.read_csv(data)
        svg = data.with_suffix(".svg")
        if svg.exists():
            badged = style.BADGE_TEXT in svg.read_text(encoding="utf-8")
            assert badged is style.is_synthetic(frame), data.name
            continue
        (page,) = [text for text in pages if f'id="tbl-{data.stem}"' in text]
        block = page[page.index(f'id="tbl-{data.stem}"') :]
        block = block[: block.index("</table>")]
        if style.is_synthetic(frame):
            synthetic_tables += 1
            assert 'class="synthetic-badge"' in block, data.name
        if 'class="synthetic-badge"' in block:
            # the downloadable data of a synthetic table carries its flag (issue 21)
            assert "synthetic" in frame.columns, data.name
            assert style.is_synthetic(frame), data.name
    assert synthetic_tables > 0  # the synthetic municipal outcome feeds some tables
    for name in ("municipal-regression", "interview-model", "interview-reliability"):
        assert "synthetic" in pd.read_csv(figures_dir / f"{name}.csv").columns, name


@pytest.mark.slow
def test_changing_a_raw_value_changes_the_text(built_book: ProjectPaths, tmp_path: Path) -> None:
    """A copy of the built project; only the stages that read the national figures rerun
    (clean, then the book: the page reads the cleaned table, not the models)."""
    paths = ProjectPaths(tmp_path / "project")
    shutil.copytree(built_book.root, paths.root, symlinks=True)
    raw = paths.transcribed / "kosovo_fighters_national.csv"
    raw.write_text(
        raw.read_text(encoding="utf-8").replace("total_travelled,232,", "total_travelled,231,", 1),
        encoding="utf-8",
    )
    stages.run("clean", paths)
    stages.run("book", paths)
    assert "They range from 231 to 400" in _text(paths.book_build / "html" / "fighters.html")
