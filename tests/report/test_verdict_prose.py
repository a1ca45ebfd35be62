"""No chapter states a verdict the verdict table does not hold (issue 19, item 4).

Verdicts reach the prose only as glued sentences computed from ``results/verdict``
(:func:`kosovo_study.report.numbers.verdict_sentences`).  This test reads every book
page's source, code cells included (a cell can print Markdown), and fails on verdict
vocabulary typed into it: "is robust", "robust to", "significant association", "the
hypothesis holds", "supported", "confirms".  A page that needs a verdict glues it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[2] / "book"
#: Typed verdicts: each pattern states that something holds, is robust or is supported.
VERDICT_PATTERNS = (
    r"\b(?:is|are|remains?|was|were) robust\b",
    r"\brobust (?:to|across)\b",
    r"\bsignificant (?:positive |negative )?(?:association|relationship|effect)\b",
    (
        r"\b(?:hypothes[ie]s|association|finding|result|relationship|claim|effect)s? "
        r"(?:holds?|(?:is|are) supported)\b"
    ),
    r"\bsupports? (?:the|our|this) (?:hypothesis|claim|finding)\b",
    r"\bconfirm(?:s|ed)? (?:the|our|that)\b",
)
_GLUE = re.compile(r"\{glue:(?:md|text)\}`[^`]*`")


def typed_verdicts(text: str) -> list[str]:
    """Every typed verdict phrase in a page's source (glue references removed)."""
    stripped = _GLUE.sub(" ", text)
    found = []
    for pattern in VERDICT_PATTERNS:
        found += [m.group(0) for m in re.finditer(pattern, stripped, re.IGNORECASE)]
    return found


@pytest.mark.parametrize("page", sorted(BOOK.glob("*.md")), ids=lambda p: p.name)
def test_no_page_types_a_verdict(page: Path) -> None:
    found = typed_verdicts(page.read_text(encoding="utf-8"))
    assert not found, (
        f"{page.name} states a verdict in its own words: {found}. Glue the verdict from "
        "the verdict table (numbers.verdict_sentences) instead."
    )


def test_the_check_catches_the_old_robustness_sentence() -> None:
    old = (
        '"median rate ratio per SD is 1.91 to 1.94. The cross-national association is robust "'
        '"to these analytic choices"'
    )
    assert "is robust" in typed_verdicts(old)
    assert typed_verdicts("The association is robust to these choices") == [
        "is robust",
        "robust to",
    ]
    assert typed_verdicts("The hypothesis holds.") == ["hypothesis holds"]
    assert typed_verdicts("a significant association with unemployment") == [
        "significant association"
    ]
    # Glued sentences are the table's, so they are not typed verdicts.
    assert typed_verdicts("so {glue:md}`verdict_unemployment` and robust (HC0) errors") == []


def test_the_pages_glue_the_verdicts() -> None:
    """The abstract, the two chapters and the conclusion each glue a verdict sentence."""
    for name in ("intro.md", "crossnational.md", "robustness.md", "conclusion.md"):
        text = (BOOK / name).read_text(encoding="utf-8")
        assert "numbers.verdict_sentences" in text, name
        assert re.search(r"\{glue:md\}`verdict_\w+`", text), name
