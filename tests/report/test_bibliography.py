"""references.bib parses with pybtex, and every URL, title and author field is usable."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from pybtex.database import parse_string

from kosovo_study.citation import bibliography, canonical_source_keys, duplicate_keys
from kosovo_study.paths import project_paths

from ..conftest import REPO


@pytest.fixture(scope="module")
def entries() -> dict[str, object]:
    return dict(parse_string(bibliography(project_paths()), "bibtex").entries)


def test_the_committed_bib_is_the_generated_one() -> None:
    assert REPO.bibliography.read_text(encoding="utf-8") == bibliography(REPO)


def test_urls_are_verbatim_and_well_formed(entries: dict[str, object]) -> None:
    for key, entry in entries.items():
        url = entry.fields.get("url")  # type: ignore[attr-defined]
        if url is None:
            continue
        assert re.fullmatch(r"https?://[^\s\\{}]+\.[^\s\\{}]+", url), f"{key}: {url!r}"
        assert "\\_" not in url, f"{key}: BibTeX escape in URL"


def test_titles_are_real_text(entries: dict[str, object]) -> None:
    for key, entry in entries.items():
        title = entry.fields["title"]  # type: ignore[attr-defined]
        plain = title.strip("{}")
        assert plain, key
        assert not plain.lower().startswith("[abstract]"), f"{key}: title is '[abstract]'"
        assert "same document as" not in plain, key
        # braced: BibTeX styles keep the case of proper nouns (Kosovo, ISIS, KCSS)
        assert title.startswith("{"), f"{key}: title not braced"
        assert title.endswith("}"), f"{key}: title not braced"


def test_authors_are_names_not_notes(entries: dict[str, object]) -> None:
    for key, entry in entries.items():
        people = entry.persons.get("author", [])  # type: ignore[attr-defined]
        assert people, f"{key}: no author"
        for person in people:
            text = str(person)
            assert "(study)" not in text, f"{key}: {text}"
            # an organisation is one braced last name, never split into first/last
            if not person.first_names and len(person.last_names) == 1:
                continue
            assert not any(w.startswith("(") for w in person.first_names), f"{key}: {text}"
    kosovo_agency = entries["kas_census2024_10_religion_via_gobayes"]
    (agency,) = kosovo_agency.persons["author"]  # type: ignore[attr-defined]
    assert agency.first_names == []
    assert agency.last_names[0].startswith("{Kosovo Agency")
    world_bank = entries["worldbank_gdp_datahub"].persons["author"][0]  # type: ignore[attr-defined]
    assert str(world_bank) == "{World Bank}"


def test_one_entry_per_document() -> None:
    paths = project_paths()
    sources = pd.read_csv(paths.transcribed / "sources.csv", dtype=str, keep_default_na=False)
    aliases = duplicate_keys(sources)
    assert aliases["metodieva_2018_12"] == "METODIEVA_2018"
    assert aliases["kosovo_police_2019"] == "KOSOVAPORT_2019"
    assert "ds2016_tabA_main" not in aliases  # tables of one paper stay separate items
    entries = parse_string(bibliography(paths), "bibtex").entries
    assert "metodieva_2018_12" not in entries
    assert "METODIEVA_2018" in entries
    urls = [e.fields["url"] for e in entries.values() if "url" in e.fields]
    bracketed = [
        e.fields["url"]
        for e in entries.values()
        if "url" in e.fields and e.fields["title"].startswith("{[")
    ]
    assert len(bracketed) == len(set(bracketed))
    assert len(urls) >= len(set(urls))
    assert canonical_source_keys(paths)["metodieva_2018_12"] == "METODIEVA_2018"


def test_a_study_known_through_press_reports_has_its_own_entry(
    entries: dict[str, object],
) -> None:
    report = entries["kursani_2015_report"]
    assert str(report.persons["author"][0]) == "Kursani, S."  # type: ignore[attr-defined]
    assert report.fields["year"] == "2015"  # type: ignore[attr-defined]
    assert "Report inquiring into the causes" in report.fields["title"]  # type: ignore[attr-defined]
    assert "KCSS\\_2015" in report.fields["note"]  # type: ignore[attr-defined]
    # the press report is not attributed to Kursani
    press = entries["KCSS_2015"]
    assert "Kursani" not in str(press.persons["author"][0])  # type: ignore[attr-defined]


def test_the_citation_style_keeps_title_case() -> None:
    from pybtex.plugin import find_plugin, register_plugin

    from kosovo_study.report import sphinx_ext

    register_plugin("pybtex.style.formatting", "kosovo_authoryear", sphinx_ext.AuthorYearStyle)
    style = find_plugin("pybtex.style.formatting", "kosovo_authoryear")()
    data = parse_string(
        "@misc{k, author={Gall, Carlotta}, year={2016}, title={{How Kosovo Was Turned "
        "Into Fertile Ground for ISIS}}, url={https://a.org/x_y}}",
        "bibtex",
    )
    (entry,) = style.format_entries(data.entries.values())
    text = entry.text.render_as("text")
    assert "How Kosovo Was Turned Into Fertile Ground for ISIS" in text
    assert text.startswith(("Carlotta Gall (2016).", "C. Gall (2016)."))
    assert "https://a.org/x_y" in text
