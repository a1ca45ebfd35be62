"""The book's authors and identifiers come from one place: CITATION.cff (issue 21)."""

from __future__ import annotations

import re

import yaml

from kosovo_study.citation import book_authors, book_citation, load_citation_cff

from ..conftest import REPO


def _config() -> dict[str, object]:
    return dict(yaml.safe_load((REPO.book / "_config.yml").read_text(encoding="utf-8")))


def test_the_book_names_the_authors_of_citation_cff() -> None:
    config = _config()
    authors = book_authors(load_citation_cff())
    assert config["author"] == authors
    assert authors in str(config["copyright"])


def test_the_book_config_invents_no_identifier() -> None:
    """An ORCID, a DOI or an affiliation in the book's configuration must be one of
    CITATION.cff's: nothing is typed in a second place."""
    cff_text = (REPO.root / "CITATION.cff").read_text(encoding="utf-8")
    config_text = (REPO.book / "_config.yml").read_text(encoding="utf-8")
    for pattern in (r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]", r"10\.\d{4,9}/[^\s\"']+"):
        for found in re.findall(pattern, config_text):
            assert found in cff_text, found
    assert "affiliation" not in config_text or "affiliation" in cff_text


def test_orcids_and_affiliations_follow_the_names_when_citation_cff_has_them() -> None:
    cff = {
        "authors": [
            {
                "given-names": "Ana",
                "family-names": "Krasniqi",
                "orcid": "https://orcid.org/0000-0002-1825-0097",
                "affiliation": "University of Prishtina",
            },
            {"name": "kosovo_study contributors"},
        ],
        "version": "0.2.0",
        "date-released": "2026-11-30",
        "repository-code": "https://github.com/kosovo-study/kosovo_study",
        "doi": "10.5281/zenodo.1234567",
    }
    assert book_authors(cff) == (
        "Ana Krasniqi (University of Prishtina, https://orcid.org/0000-0002-1825-0097); "
        "kosovo_study contributors"
    )
    cited = book_citation("Identity seekers: a book", cff=cff)
    assert cited["apa"].startswith("Krasniqi, A., & kosovo_study contributors. (2026).")
    assert "https://doi.org/10.5281/zenodo.1234567" in cited["apa"]
    assert "@report{kosovo_study_0_2_0_book," in cited["bibtex"]
    assert "doi = {10.5281/zenodo.1234567}" in cited["bibtex"]


def test_how_to_cite_cites_the_book_and_the_software() -> None:
    intro = (REPO.book / "intro.md").read_text(encoding="utf-8")
    section = intro[intro.index("## How to cite") :]
    assert "book_apa" in section
    assert "{glue:md}`apa`" in section
