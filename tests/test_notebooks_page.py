"""The book's Notebooks page: every notebook of ``notebooks/`` is listed, included in the
table of contents (a page each, executed by the book build in a scratch copy of the
project), and its links resolve; executing them changes no file of the project."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

from kosovo_study.paths import ProjectPaths
from kosovo_study.replication.notebooks import notebook_index, notebooks_markdown
from kosovo_study.report.build import research_notebooks, scratch_project

from .conftest import REPO

NOTEBOOKS = sorted(p.name for p in (REPO.root / "notebooks").glob("*.ipynb"))


def test_every_notebook_is_in_the_book_and_executed_by_it() -> None:
    config = yaml.safe_load((REPO.book / "_config.yml").read_text(encoding="utf-8"))
    assert "notebooks/*" not in config["execute"].get("exclude_patterns", [])
    assert [p.name for p in research_notebooks(REPO)] == NOTEBOOKS
    toc = yaml.safe_load((REPO.book / "_toc.yml").read_text(encoding="utf-8"))
    files = [chapter["file"] for chapter in toc["chapters"]]
    start = files.index("notebooks")
    listed = files[start + 1 : start + 1 + len(NOTEBOOKS)]
    assert listed == [f"notebooks/{name.removesuffix('.ipynb')}" for name in NOTEBOOKS]
    assert not any("sections" in chapter for chapter in toc["chapters"])
    for name in NOTEBOOKS:
        link = REPO.book / "notebooks" / name
        # a link to the notebook itself, not a copy that could drift from it
        assert link.is_symlink(), name
        assert link.resolve() == (REPO.root / "notebooks" / name).resolve()


def test_the_page_lists_each_notebook_with_what_it_shows_and_its_links() -> None:
    entries = notebook_index(REPO.root)
    assert [e["name"] for e in entries] == NOTEBOOKS
    assert all(e["title"] and len(e["summary"]) > 40 for e in entries)
    text = notebooks_markdown(REPO.root, "https://github.com/kosovo-study/kosovo_study")
    for entry in entries:
        assert f"{{doc}}`read it in the book <notebooks/{entry['stem']}>`" in text
        assert f"{{download}}`download <notebooks/{entry['name']}>`" in text
        assert f"labpath=notebooks%2F{entry['name']}" in text
    # every target the page names exists in the book's source folder
    for target in re.findall(r"<(notebooks/[^>]+)>", text):
        candidates = [REPO.book / target, REPO.book / f"{target}.ipynb"]
        assert any(c.is_file() for c in candidates), target


def test_the_scratch_copy_holds_the_data_but_no_restricted_file(tmp_path: Path) -> None:
    from .conftest import make_project

    paths = make_project(tmp_path / "project")
    (paths.root / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    paths.results.mkdir(parents=True)
    (paths.results / "municipal_fit.csv").write_text("a\n1\n", encoding="utf-8")
    paths.restricted.mkdir(parents=True)
    (paths.restricted / "fighters_by_municipality.csv").write_text("secret", encoding="utf-8")
    scratch = ProjectPaths(scratch_project(paths))
    try:
        assert (scratch.results / "municipal_fit.csv").read_text("utf-8") == "a\n1\n"
        assert (scratch.root / "pyproject.toml").is_file()
        assert not scratch.restricted.exists()
    finally:
        shutil.rmtree(scratch.root)


def test_the_print_edition_leaves_the_executed_notebooks_out() -> None:
    """The PDF prints the Notebooks page, not the notebooks' code and output."""
    from kosovo_study.report.build import PRINT_OMITS

    for name in NOTEBOOKS:
        assert f"notebooks/{name.removesuffix('.ipynb')}" in PRINT_OMITS, name
