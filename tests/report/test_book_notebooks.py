"""The book build executes the research notebooks in a scratch copy of the project
(issue 22, item 5): executing them changes no file of the project (last time notebook
03 reran the models stage on the project and rewrote result files mid-build)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from kosovo_study.paths import ProjectPaths
from kosovo_study.report.build import research_notebooks

NOTEBOOKS = sorted(p.name for p in research_notebooks(ProjectPaths(Path(__file__).parents[2])))


def _digests(paths: ProjectPaths) -> dict[str, str]:
    return {
        str(p.relative_to(paths.root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(paths.data.rglob("*"))
        if p.is_file() and ".lock" not in p.name
    }


@pytest.mark.slow
def test_executing_the_notebooks_changes_no_file_of_the_project(
    built_book: ProjectPaths, tmp_path: Path
) -> None:
    """The book executes the notebooks in a scratch copy: every data, processed and result
    file has the same sha256 before and after, and the notebooks are cached with
    outputs (their book pages show them)."""
    from jupyter_cache import get_cache

    from kosovo_study.report.build import CACHE, _read_page, execute_pages

    root = tmp_path / "project"
    shutil.copytree(built_book.root, root, symlinks=True)
    paths = ProjectPaths(root)
    cache = get_cache(str(paths.book_build / CACHE))
    for notebook in research_notebooks(paths):  # forget them: the next run executes them
        cache.remove_cache(cache.match_cache_notebook(_read_page(notebook)).pk)
    before = _digests(paths)
    executed = execute_pages(paths, jobs=2)
    assert sorted(p.name for p in executed) == NOTEBOOKS
    assert _digests(paths) == before
    for notebook in research_notebooks(paths):
        cached = cache.get_cache_bundle(cache.match_cache_notebook(_read_page(notebook)).pk).nb
        assert any(cell.get("outputs") for cell in cached.cells), notebook.name
    html = built_book.book_build / "html" / "notebooks" / f"{NOTEBOOKS[2][:-6]}.html"
    assert "cell_output" in html.read_text("utf-8")
