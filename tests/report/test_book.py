"""The book end to end: every number in the prose follows the raw data."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest

from kosovo_study import clean, models
from kosovo_study.config import StudyConfig
from kosovo_study.interviews import stage as interview_stage
from kosovo_study.paths import ProjectPaths
from kosovo_study.report import build, check, tables
from kosovo_study.report.labels import citation_text

from ..conftest import REPO

SMALL = StudyConfig(
    permutations=19, bootstrap_replicates=19, power_simulations=10, power_permutations=9
)


def _text(page: Path) -> str:
    body = page.read_text(encoding="utf-8")
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def _pipeline(paths: ProjectPaths) -> None:
    clean.run(paths)
    results, metadata = models.build_results(paths, SMALL, bootstrap_replicates=3)
    models.write_results(results, metadata, paths.results)
    models.run_multiverse(paths, permutations=9, n_jobs=1)
    interview_stage.run(paths)
    build.build(paths)


@pytest.mark.slow
def test_changing_a_raw_value_changes_the_text(scratch_project: ProjectPaths) -> None:
    if (
        shutil.which("jupyter-book") is None
        and not (Path(__import__("sys").executable).parent / "jupyter-book").exists()
    ):
        pytest.skip("jupyter-book (docs dependency group) is not installed")
    shutil.copytree(REPO.book, scratch_project.book, ignore=shutil.ignore_patterns("_build"))
    _pipeline(scratch_project)
    fighters = scratch_project.book_build / "html" / "fighters.html"
    assert "They range from 232 to 400" in _text(fighters)
    robustness = _text(scratch_project.book_build / "html" / "robustness.html")
    assert "SYNTHETIC DATA" in robustness
    assert "Traceback" not in robustness
    assert "SYNTHETIC DATA" in _text(scratch_project.book_build / "html" / "interviews.html")

    site = scratch_project.book_build / "html"
    assert check.check_site(site) == []
    assert check.text_defects(site) == []  # no nan / None / Python repr on any page
    assert check.malformed_external_urls(site) == []
    # every figure saved as PNG and SVG, with the CSV of what it plots
    figures_dir = scratch_project.book_build / "figures"
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
        assert (artifacts / "municipalities-1280.png").stat().st_size > 10_000

    raw = scratch_project.transcribed / "kosovo_fighters_national.csv"
    raw.write_text(
        raw.read_text(encoding="utf-8").replace("total_travelled,232,", "total_travelled,231,", 1),
        encoding="utf-8",
    )
    _pipeline(scratch_project)
    assert "They range from 231 to 400" in _text(fighters)
