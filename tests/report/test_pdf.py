"""The print edition (issue 21): read the built PDF with pypdf as a reader would.

* no ``file://`` link (a dead link that also exposes the build folder);
* a bookmark for every printed chapter, the contents page listing each chapter with its
  number and the page it starts on, and both agreeing with the bookmarks;
* the API reference left out;
* every figure printed from its SVG, its text at least 8 pt on paper (font size times
  the scale of the text and graphics matrices, inside the figure's tagged content).

Slow: builds the single-page book and prints it when no PDF is there yet.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from kosovo_study.paths import ProjectPaths
from kosovo_study.report import build, style

pytestmark = pytest.mark.slow

#: Rounding in Chromium's matrices: 8 pt prints as 7.99 pt.
TOLERANCE_PT = 0.02


@pytest.fixture(scope="module")
def pdf(built_book: ProjectPaths) -> Path:
    """The PDF the book stage printed in the session's one build (tests/report/conftest)."""
    return built_book.book_build / "pdf" / "kosovo_study.pdf"


@pytest.fixture(scope="module")
def reader(pdf: Path) -> Any:
    from pypdf import PdfReader

    return PdfReader(pdf)


def _bookmarks(reader: Any) -> dict[str, int]:
    found: dict[str, int] = {}
    pending = list(reader.outline)
    while pending:
        item = pending.pop(0)
        if isinstance(item, list):
            pending[:0] = item
            continue
        # keyed without whitespace: Chromium drops the space where a heading wraps
        key = "".join(str(item.title).split())
        found.setdefault(key, reader.get_destination_page_number(item) + 1)
    return found


def test_no_link_points_into_the_build_folder(reader: Any) -> None:
    links = [
        str(annotation.get_object().get("/A", {}).get("/URI", ""))
        for page in reader.pages
        for annotation in page.get("/Annots") or []
    ]
    assert [u for u in links if u.startswith("file:") or "/_build/" in u] == []


def test_every_chapter_is_bookmarked_and_listed_with_its_page(
    reader: Any, built_book: ProjectPaths
) -> None:
    toc = yaml.safe_load((built_book.book / "_toc.yml").read_text(encoding="utf-8"))
    printed = [c["file"] for c in toc["chapters"] if c["file"] not in build.PRINT_OMITS]
    contents = reader.pages[1].extract_text()
    assert "Contents" in contents
    lines = [
        match.groups()
        for match in re.finditer(r"^((?:\d+ )?\S.*?) (\d+)$", contents, flags=re.MULTILINE)
        if not match.group(0).startswith("Page ")
    ]
    assert len(lines) == len(printed), lines
    bookmarks = _bookmarks(reader)
    numbers = []
    for listed, page in lines:
        title = " ".join(listed.replace("ﬁ", "fi").split())
        key = "".join(title.split())
        assert key in bookmarks, (title, sorted(bookmarks))
        assert bookmarks[key] == int(page), title  # the contents give the right page
        if title[0].isdigit():
            numbers.append(int(title.split()[0]))
    # chapters are numbered 1, 2, ... in the order of the contents
    assert numbers == list(range(1, len(numbers) + 1))
    # every chapter has its sections bookmarked too
    assert len(bookmarks) > 2 * len(printed)


def test_the_api_reference_is_left_out(reader: Any, built_book: ProjectPaths) -> None:
    title = (built_book.book / "api.md").read_text(encoding="utf-8").splitlines()[0]
    assert "".join(title.lstrip("# ").split()) not in _bookmarks(reader)
    text = "".join(page.extract_text() for page in reader.pages[-12:])
    assert "kosovo_study.report.build.build_pdf" not in text


def _multiply(a: list[float], b: list[float]) -> list[float]:
    return [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]


def figure_text(reader: Any) -> list[tuple[int, list[tuple[float, str]]]]:
    """Per printed figure (Chromium tags each image /Figure): its page and every text
    run in it as (size on paper in pt, font resource name).  Size = font size x the scale of the text
    matrix x the scale of the graphics matrix (the square root of the determinant)."""
    from pypdf.generic import ContentStream

    figures: list[tuple[int, list[tuple[float, str]]]] = []
    for number, page in enumerate(reader.pages, start=1):
        ctm, saved, tags = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0], [], []
        size, font, matrix = 0.0, "", [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"q":
                saved.append(ctm)
            elif operator == b"Q" and saved:
                ctm = saved.pop()
            elif operator == b"cm":
                ctm = _multiply([float(x) for x in operands], ctm)
            elif operator in (b"BDC", b"BMC"):
                tags.append(str(operands[0]))
                if tags[-1] == "/Figure" and tags.count("/Figure") == 1:
                    figures.append((number, []))
            elif operator == b"EMC" and tags:
                tags.pop()
            elif operator == b"BT":
                matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
            elif operator == b"Tf":
                font, size = str(operands[0]), float(operands[1])
            elif operator == b"Tm":
                matrix = [float(x) for x in operands]
            elif operator in (b"Tj", b"TJ") and "/Figure" in tags:
                m = _multiply(matrix, ctm)
                scale = math.sqrt(abs(m[0] * m[3] - m[1] * m[2]))
                figures[-1][1].append((size * scale, str(font)))
    return [(page, runs) for page, runs in figures if runs]


def test_every_figure_is_printed_from_its_svg_with_text_of_at_least_8_pt(
    reader: Any, built_book: ProjectPaths
) -> None:
    figures = figure_text(reader)
    svgs = sorted((built_book.book_build / "figures").glob("*.svg"))
    # a vector figure brings its text into the PDF as text: one text figure per SVG
    assert len(figures) >= len(svgs) > 0
    small = {}
    for page, runs in figures:
        # every run counts, exponents and indices too ("10⁻¹" printed its exponent at
        # 5.6 pt until the log axes were labelled in plain decimals)
        smallest = min(size for size, _font in runs)
        if smallest < style.MIN_FONT_PT - TOLERANCE_PT:
            small[page] = round(smallest, 2)
    assert small == {}, f"figure text under {style.MIN_FONT_PT} pt on pages {small}"
