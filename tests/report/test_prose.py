"""The writing checks: glued sentences an editor would return, identifiers in prose."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kosovo_study.report import prose


@pytest.mark.parametrize(
    ("sentence", "problem"),
    [
        ("the the model fits", "doubled word"),
        ("Overdispersion: overdispersed: NB2 preferred", "label repeated"),
        ("the p-value is exact (0 specifications)", "count of nothing"),
        ("316 (live-let-live.org, undated (c. 2016-2017))", "parentheses inside"),
        ("the verdict is nan here", "Python value"),
    ],
)
def test_each_pattern_finds_the_broken_sentence_it_names(sentence: str, problem: str) -> None:
    assert any(problem in p for p in prose.sentence_defects(sentence))


@pytest.mark.parametrize(
    "sentence",
    [
        "The counts are overdispersed, so NB2 is preferred to Poisson.",
        "the p-value is exact in 3 of the 512 specifications",
        "316 (live-let-live.org, undated, c. 2016-2017) and 359 (Kosovaport, 2019)",
        "None of these designs identifies a causal effect.",
        "Deaths reach 82: 79 shot and 3 of natural causes.",
    ],
)
def test_sentences_that_read_well_pass(sentence: str) -> None:
    assert prose.sentence_defects(sentence) == []


def test_glued_texts_reads_strings_not_numbers(tmp_path: Path) -> None:
    glue = {
        "a": {"data": {"text/markdown": "in 3 of 5 specifications"}},
        "b": {"data": {"text/plain": "232.0"}},
        "c": {"data": {"text/plain": "'Podujevë'"}},
        "d": {"data": {"text/plain": "True"}},
    }
    (tmp_path / "page.glue.json").write_text(json.dumps(glue), encoding="utf-8")
    assert prose.glued_texts(tmp_path) == {
        "page:a": "in 3 of 5 specifications",
        "page:c": "Podujevë",
    }


def test_identifiers_and_file_names_in_prose_are_found_outside_code_links_and_tables(
    tmp_path: Path,
) -> None:
    page = (
        "<html><body><article><p>Every finding in crossnational_comparison.csv is shown; "
        "the column unemployment_concern_2012 is used.</p>"
        "<p>Run <code>kosovo-study report</code>, see <a href='x.csv'>data_file.csv</a>.</p>"
        "<pre>book/_build/figures/a_b.csv</pre>"
        "<table><tr><td>youth_share_2011</td></tr></table></article></body></html>"
    )
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    assert prose.prose_identifiers(tmp_path) == [
        "page.html: crossnational_comparison.csv",
        "page.html: unemployment_concern_2012",
    ]


#: Pages whose own prose is exempt from the paragraph checks: none (the abstract and the
#: conclusion are checked like every page).
REWRITTEN_ELSEWHERE: frozenset[str] = frozenset()
#: Proper names written with an underscore: the package's own name.
PROPER_NAMES = frozenset({"kosovo_study"})


@pytest.mark.slow
def test_the_built_book_reads_as_prose(built_book: Any) -> None:
    """Every glued sentence of the built book passes the patterns; no paragraph of any
    page breaks them where glue meets text; no identifier or file name in the prose."""
    glued = prose.glued_texts(built_book.book_build / "jupyter_execute")
    assert len(glued) > 50
    broken = {key: prose.sentence_defects(text) for key, text in glued.items()}
    assert {key: found for key, found in broken.items() if found} == {}
    site = built_book.book_build / "html"
    pages = [
        p for p in prose.page_sentence_defects(site) if p.split(":")[0] not in REWRITTEN_ELSEWHERE
    ]
    assert pages == []
    identifiers = [
        p
        for p in prose.prose_identifiers(site)
        if p.split(": ")[1] not in PROPER_NAMES and not p.startswith("references.html")
    ]
    assert identifiers == []
