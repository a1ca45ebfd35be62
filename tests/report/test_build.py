"""The book stage's own machinery: parallel page execution and image hygiene."""

from __future__ import annotations

from pathlib import Path

import pytest

from kosovo_study.errors import KosovoStudyError
from kosovo_study.paths import ProjectPaths
from kosovo_study.report import build

HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

"""


def _page(folder: Path, name: str, code: str) -> Path:
    page = folder / f"{name}.md"
    page.write_text(HEADER + f"# {name}\n\n```{{code-cell}} ipython3\n{code}\n```\n", "utf-8")
    return page


def test_unreferenced_images_are_deleted_and_referenced_ones_kept(tmp_path: Path) -> None:
    site = tmp_path / "html"
    (site / "_images").mkdir(parents=True)
    (site / "_static" / "images").mkdir(parents=True)
    (site / "nested").mkdir()
    for name in ("kept.png", "kept two.svg", "srcset.png", "old_restricted.png"):
        (site / "_images" / name).write_bytes(b"image")
    (site / "_static" / "images" / "logo.png").write_bytes(b"theme asset")
    (site / "_static" / "style.css").write_text("a { background: url(bg.png); }")
    (site / "_static" / "bg.png").write_bytes(b"theme asset")
    (site / "loose.png").write_bytes(b"an old figure outside _images")
    (site / "page.html").write_text(
        '<img src="_images/kept.png"><img srcset="_images/srcset.png 2x, x.png 1x">',
        encoding="utf-8",
    )
    (site / "nested" / "page.html").write_text(
        '<a href="../_images/kept%20two.svg">figure</a>', encoding="utf-8"
    )
    deleted = build.prune_unreferenced(site)
    assert sorted(p.name for p in deleted) == ["loose.png", "old_restricted.png"]
    assert (site / "_images" / "kept.png").exists()
    assert (site / "_images" / "kept two.svg").exists()
    assert (site / "_images" / "srcset.png").exists()
    assert (site / "_static" / "images" / "logo.png").exists()


@pytest.mark.slow
def test_pages_execute_in_parallel_into_the_cache_sphinx_reads(tmp_path: Path) -> None:
    from jupyter_cache import get_cache

    paths = ProjectPaths(tmp_path)
    paths.book.mkdir(parents=True)
    paths.book_build.mkdir(parents=True)
    first = _page(paths.book, "first", "print(1 + 1)")
    _page(paths.book, "second", "x = 3\nx * 2")
    (paths.book / "plain.md").write_text("# Not a notebook\n", encoding="utf-8")
    executed = build.execute_pages(paths, jobs=2)
    assert sorted(p.name for p in executed) == ["first.md", "second.md"]
    cache = get_cache(str(paths.book_build / build.CACHE))
    # What myst-nb looks up during the Sphinx build finds the executed outputs.
    record = cache.match_cache_notebook(build._read_page(first))
    outputs = cache.get_cache_bundle(record.pk).nb.cells[-1].outputs
    assert outputs[0]["text"] == "2\n"
    # Nothing changed: nothing runs again.  A changed page runs again, and its old
    # cache entry (earlier outputs) is dropped.
    assert build.execute_pages(paths, jobs=2) == []
    _page(paths.book, "first", "print(2 + 2)")
    assert [p.name for p in build.execute_pages(paths, jobs=2)] == ["first.md"]
    assert len(cache.list_cache_records()) == 2


@pytest.mark.slow
def test_a_page_that_fails_names_itself(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    paths.book.mkdir(parents=True)
    paths.book_build.mkdir(parents=True)
    _page(paths.book, "broken", "raise ValueError('the results file is missing')")
    with pytest.raises(KosovoStudyError, match=r"broken\.md failed to execute.*results file"):
        build.execute_pages(paths, jobs=1)


def test_leftover_executed_images_are_deleted(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    executed = paths.book_build / "jupyter_execute"
    site = paths.book_build / "html"
    executed.mkdir(parents=True)
    (site / "_images").mkdir(parents=True)
    for name in ("current.png", "earlier_data.png", "page.ipynb"):
        (executed / name).write_bytes(b"x")
    (site / "_images" / "current.png").write_bytes(b"x")
    deleted = build.prune_executed_images(paths, site)
    assert [p.name for p in deleted] == ["earlier_data.png"]
    assert (executed / "page.ipynb").exists()
    assert (executed / "current.png").exists()


@pytest.mark.slow
def test_a_kernel_reused_for_the_next_page_starts_it_afresh(tmp_path: Path) -> None:
    """One kernel runs both pages (jobs=1); the second sees nothing the first left."""
    from jupyter_cache import get_cache

    paths = ProjectPaths(tmp_path)
    paths.book.mkdir(parents=True)
    paths.book_build.mkdir(parents=True)
    _page(
        paths.book,
        "a_first",
        "import matplotlib\nimport matplotlib.pyplot as plt\nleft_behind = 1\n"
        "matplotlib.rcParams['lines.linewidth'] = 9.0\nfigure = plt.figure()\n1",
    )
    second = _page(
        paths.book,
        "b_second",
        "import matplotlib\nimport matplotlib.pyplot as plt\n"
        "print('left_behind' in globals(), 'figure' in globals(), len(Out), "
        "matplotlib.rcParams['lines.linewidth'], plt.get_fignums())",
    )
    assert len(build.execute_pages(paths, jobs=1)) == 2
    cache = get_cache(str(paths.book_build / build.CACHE))
    cell = cache.get_cache_bundle(cache.match_cache_notebook(build._read_page(second)).pk).nb.cells[
        -1
    ]
    default_width = __import__("matplotlib").rcParamsDefault["lines.linewidth"]
    assert cell.outputs[0]["text"] == f"False False 0 {default_width} []\n"
    assert cell.execution_count == 1  # numbered as in a fresh kernel


@pytest.mark.slow
def test_pages_execute_when_called_from_a_running_event_loop(tmp_path: Path) -> None:
    """As from a Jupyter notebook, whose cells run inside an event loop."""
    import asyncio

    paths = ProjectPaths(tmp_path)
    paths.book.mkdir(parents=True)
    paths.book_build.mkdir(parents=True)
    _page(paths.book, "only", "1 + 1")

    async def inside_a_loop() -> list[Path]:
        return build.execute_pages(paths, jobs=1)

    assert [p.name for p in asyncio.run(inside_a_loop())] == ["only.md"]


def test_pages_with_more_figures_run_first(tmp_path: Path) -> None:
    short = _page(tmp_path, "a_short", "1")
    tables = _page(tmp_path, "b_tables", "# a long page of tables\n" + "x = 1\n" * 200)
    maps = _page(tmp_path, "c_maps", "book.show_figure(1)\nbook.show_figure(2)")
    chart = _page(tmp_path, "d_chart", "book.show_figure(1)")
    assert build._longest_first([short, tables, maps, chart]) == [maps, chart, tables, short]
