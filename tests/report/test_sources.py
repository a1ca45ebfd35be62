"""Every reference cites its publisher: no mirror or shop/blog host, and every entry has
the fields its type needs (issue 21, "Primary sources")."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pybtex.database import parse_string

from kosovo_study.citation import (
    BANNED_HOSTS,
    banned_host,
    bibliography,
    canonical_source_keys,
    publications,
)
from kosovo_study.errors import ValidationError
from kosovo_study.paths import ProjectPaths, project_paths

#: Fields each BibTeX type must carry (beyond author, year and title).
REQUIRED = {
    "article": ("journal", "volume", "pages"),
    "techreport": ("institution",),
    "misc": (),
}


@pytest.fixture(scope="module")
def entries() -> dict[str, object]:
    return dict(parse_string(bibliography(project_paths()), "bibtex").entries)


def test_no_entry_cites_a_banned_host(entries: dict[str, object]) -> None:
    cited = {
        key: [
            value
            for name, value in entry.fields.items()  # type: ignore[attr-defined]
            if name == "url" or "://" in value
        ]
        for key, entry in entries.items()
    }
    bad = {
        key: [u for u in urls if banned_host(u) or any(b in u for b in BANNED_HOSTS)]
        for key, urls in cited.items()
    }
    assert {k: v for k, v in bad.items() if v} == {}


def test_every_entry_has_the_fields_of_its_type(entries: dict[str, object]) -> None:
    missing = {}
    for key, entry in entries.items():
        fields = entry.fields  # type: ignore[attr-defined]
        kind = entry.type  # type: ignore[attr-defined]
        assert kind in REQUIRED, f"{key}: unexpected type {kind}"
        needed = ["year", "title", *REQUIRED[kind]]
        absent = [name for name in needed if not fields.get(name, "").strip()]
        if not entry.persons.get("author"):  # type: ignore[attr-defined]
            absent.append("author")
        if not any(fields.get(name) for name in ("url", "doi", "howpublished", "institution")):
            absent.append("url, doi or publisher")
        if absent:
            missing[key] = absent
    assert missing == {}


def test_people_are_cited_with_full_first_names_where_known(entries: dict[str, object]) -> None:
    for key, first in {
        "soufan_2017_10": "Richard",
        "kursani_2015_report": "Shpend",
        "SHTUNI_2016": "Adrian",
        "METODIEVA_2018": "Asya",
        "xharra_gojani_2017_understanding": "Behar",
    }.items():
        person = entries[key].persons["author"][0]  # type: ignore[attr-defined]
        assert person.first_names == [first], key


def test_the_four_reports_are_cited_at_their_publishers(entries: dict[str, object]) -> None:
    publisher = {
        "kursani_2015_report": "Kosovar Center for Security Studies",
        "xharra_gojani_2017_understanding": "United Nations Development Programme",
        "SHTUNI_2016": "United States Institute of Peace",
        "METODIEVA_2018": "LSE IDEAS",
    }
    for key, name in publisher.items():
        entry = entries[key]
        assert entry.type == "techreport", key  # type: ignore[attr-defined]
        assert name in entry.fields["institution"], key  # type: ignore[attr-defined]
    assert (
        entries["METODIEVA_2018"]
        .fields["url"]
        .startswith(  # type: ignore[attr-defined]
            "https://www.lse.ac.uk/"
        )
    )
    assert "qkss.org" in entries["kursani_2015_report"].fields["url"]  # type: ignore[attr-defined]


def test_data_are_credited_to_their_producers(entries: dict[str, object]) -> None:
    hdi = entries["unidx_hdi_cpi_2015"]
    authors = " ".join(str(p) for p in hdi.persons["author"])  # type: ignore[attr-defined]
    assert "United Nations Development Programme" in authors
    assert "OmaymaS" not in authors  # the repository is the access route, not the author


def test_one_paper_is_one_entry_and_its_tables_still_resolve(entries: dict[str, object]) -> None:
    keys = canonical_source_keys(project_paths())
    for part in ("ds2016_tabA_main", "ds2016_tabA_listwise", "ds2016_table_features"):
        assert part not in entries
        assert keys[part] == "derpanopoulos_sonnet_2016"
    assert "derpanopoulos_sonnet_2016" in entries


def test_every_source_key_still_resolves(entries: dict[str, object]) -> None:
    keys = canonical_source_keys(project_paths())
    assert {k: v for k, v in keys.items() if v not in entries} == {}


def _copy_raw(tmp_path: Path) -> ProjectPaths:
    root = tmp_path / "project"
    for folder in ("data/raw/transcribed", "data/raw/bibliography"):
        shutil.copytree(project_paths().root / folder, root / folder)
    return ProjectPaths(root)


def test_a_record_on_a_banned_host_is_refused(tmp_path: Path) -> None:
    paths = _copy_raw(tmp_path)
    path = paths.raw / "bibliography" / "publications.csv"
    text = path.read_text("utf-8").replace(
        "https://www.lse.ac.uk/ideas/publications/updates/foreign-fighters,,",
        "https://docslib.org/doc/588439,,",
        1,
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match=r"publications\.csv: METODIEVA_2018: url on docslib"):
        publications(paths)


def test_a_report_without_its_publisher_is_refused(tmp_path: Path) -> None:
    paths = _copy_raw(tmp_path)
    path = paths.raw / "bibliography" / "publications.csv"
    text = path.read_text("utf-8").replace(",United States Institute of Peace (USIP),", ",,", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match=r"publications\.csv: .*invalid"):
        publications(paths)


#: Fields that name who published an entry.
PUBLISHER_FIELDS = ("howpublished", "institution", "publisher", "journal", "organization")


def test_no_entry_names_a_copy_as_its_publisher(entries: dict[str, object]) -> None:
    """Every entry credits its publisher: no author or publisher field names a press
    copy, a mirror or a summary ("reproducing", "via", "mirror", "copy"): the copy a fact
    was read in is named in the note, as the route (issue 21)."""
    from kosovo_study.citation import ROUTE_WORDS

    named = {}
    for key, entry in entries.items():
        fields = entry.fields  # type: ignore[attr-defined]
        people = " ".join(str(p) for p in entry.persons.get("author", []))  # type: ignore[attr-defined]
        publisher = " ".join([people, *(fields.get(n, "") for n in PUBLISHER_FIELDS)])
        if ROUTE_WORDS.search(publisher):
            named[key] = publisher
    assert named == {}


def test_no_field_of_any_entry_links_a_banned_host(entries: dict[str, object]) -> None:
    """Not in the URL, nor in a note: a copy on a banned host is named as text only."""
    import re

    links = {
        key: [
            url
            for value in entry.fields.values()  # type: ignore[attr-defined]
            for url in re.findall(r"https?://\S+", value)
            if banned_host(url)
        ]
        for key, entry in entries.items()
    }
    assert {k: v for k, v in links.items() if v} == {}


@pytest.mark.parametrize(
    ("outlet", "publisher", "route"),
    [
        ("The News (Pakistan), reproducing AFP", "AFP", "The News (Pakistan)"),
        ("Al-Jazirah (via sauress.com)", "Al-Jazirah", "sauress.com"),
        ("RFE/RL (mirror on angelfire.com)", "RFE/RL", "angelfire.com"),
        ("naslovi.net (aggregating RTS)", "RTS", "naslovi.net"),
        (
            "US Department of State (Refworld copy), July 2017",
            "US Department of State, July 2017",
            "Refworld",
        ),
        ("Al Bayan", "Al Bayan", ""),
    ],
)
def test_a_copy_is_told_from_its_publisher(outlet: str, publisher: str, route: str) -> None:
    from kosovo_study.citation import publisher_and_route

    assert publisher_and_route(outlet) == (publisher, route)


def test_the_reports_read_in_press_copies_resolve_to_their_publishers() -> None:
    keys = canonical_source_keys(project_paths())
    for row in ("KCSS_2015", "kcss_2015_04", "KCSS_2015_via_RIMSE"):
        assert keys[row] == "kursani_2015_report", row
    assert keys["UNDP2017_via_AP_BALKANINSIDER"] == "xharra_gojani_2017_understanding"
    assert keys["RFERL_2000_NAEGELE"] == "naegele_2000_saudi"
