"""The book's Notebooks page: every notebook of ``notebooks/`` is listed, included in the
table of contents (a page each, shown without outputs), and its links resolve."""

from __future__ import annotations

import re

import yaml

from kosovo_study.replication.notebooks import notebook_index, notebooks_markdown

from .conftest import REPO

NOTEBOOKS = sorted(p.name for p in (REPO.root / "notebooks").glob("*.ipynb"))


def test_every_notebook_is_in_the_book_and_not_executed_by_it() -> None:
    config = yaml.safe_load((REPO.book / "_config.yml").read_text(encoding="utf-8"))
    assert "notebooks/*" in config["execute"]["exclude_patterns"]
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
