"""Every printed number carries a true minus sign (U+2212), never a hyphen-minus before a
digit: table cells, numbers pasted with glue:text and sentences pasted with glue:md
(issue 21, "Tables a paper can cite").  CSV downloads keep ASCII: they are data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from kosovo_study.report import prose
from kosovo_study.report.labels import MINUS, format_value, true_minus

BOOK = Path(__file__).resolve().parents[2] / "book"
#: A hyphen-minus signing a number (not a range "300-400", a date or a name "Covid-19").
HYPHEN_BEFORE_DIGIT = re.compile(r"(?<![\w.\-/])-(?=\.?\d)")
#: Every {glue:text}`key:spec` of the book's pages.
GLUE_TEXT = re.compile(r"\{glue:text\}`(?P<key>[^`:]+)(?::(?P<spec>[^`]+))?`")


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("-0.25", f"{MINUS}0.25"),
        ("(-1.2, 0.3)", f"({MINUS}1.2, 0.3)"),
        ("[-0.20, 0.10]", f"[{MINUS}0.20, 0.10]"),
        ("an effect of -54 fighters", f"an effect of {MINUS}54 fighters"),
        ("-1,234", f"{MINUS}1,234"),
        ("-.5", f"{MINUS}.5"),
        ("-0.00", "0.00"),  # rounds to zero: no sign
        ("300-400", "300-400"),  # a range keeps its hyphen (an en dash is the page's job)
        ("2015-01", "2015-01"),
        ("Covid-19", "Covid-19"),
        ("https://example.org/a/-1", "https://example.org/a/-1"),
    ],
)
def test_true_minus_signs_numbers_only(text: str, printed: str) -> None:
    assert true_minus(text) == printed


def test_table_cells_print_a_true_minus() -> None:
    for kind in ("count", "number", "ratio"):
        cell = format_value(-1234.5, kind)  # type: ignore[arg-type]
        assert not HYPHEN_BEFORE_DIGIT.search(cell), (kind, cell)
        assert cell.startswith(MINUS), (kind, cell)


def test_every_glued_number_of_the_book_renders_with_a_true_minus() -> None:
    """Each glue:text role of every page, given a negative value, prints it as the role
    does (its format spec, then the sign rule): no hyphen-minus before a digit."""
    specs = {
        (page.name, match["key"], match["spec"] or "s")
        for page in sorted(BOOK.glob("*.md"))
        for match in GLUE_TEXT.finditer(page.read_text(encoding="utf-8"))
    }
    assert len(specs) > 100
    bad = []
    for page, key, spec in sorted(specs):
        value: Any = "-12.5" if spec.endswith("s") else -1234.56789
        printed = true_minus(format(value, spec))
        if HYPHEN_BEFORE_DIGIT.search(printed):
            bad.append((page, key, spec, printed))
    assert bad == []


@pytest.mark.slow
def test_the_built_book_prints_no_hyphen_for_a_minus(built_book: Any) -> None:
    """Every glued value of the built book as the reader sees it: the numbers pasted
    with glue:text (their spans in the HTML) and the sentences glued with glue:md."""
    site = built_book.book_build / "html"
    spans = re.compile(
        r'<button type="button" class="kosovo-number"[^>]*>(.*?)</button>', re.DOTALL
    )
    numbers = {
        f"{page.name}:{i}": re.sub(r"<[^>]+>", "", m)
        for page in site.glob("*.html")
        for i, m in enumerate(spans.findall(page.read_text(encoding="utf-8")))
    }
    assert numbers
    assert {k: v for k, v in numbers.items() if HYPHEN_BEFORE_DIGIT.search(v)} == {}
    glued = prose.glued_texts(built_book.book_build / "jupyter_execute")
    printed = {key: true_minus(text) for key, text in glued.items()}
    assert {k: v for k, v in printed.items() if HYPHEN_BEFORE_DIGIT.search(v)} == {}
