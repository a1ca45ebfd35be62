"""references.bib parses with pybtex, and every URL, title and author field is usable."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from pybtex.database import parse_string

from kosovo_study.citation import (
    _bib_text,
    author_parts,
    bibliography,
    canonical_source_keys,
    disambiguate_years,
    duplicate_keys,
    original_titles,
    publications,
)
from kosovo_study.errors import ValidationError
from kosovo_study.paths import ProjectPaths, project_paths

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


def test_every_person_has_a_first_name_or_initials() -> None:
    """A person is written "Last, First" (Barrett, Richard), an organisation in words or
    braces ({OECD}): a bare surname ("Zelin") is a person cited without initials.  Rows
    whose entry comes from original_titles.csv or publications.csv are checked there."""
    sources = pd.read_csv(REPO.transcribed / "sources.csv", dtype=str, keep_default_na=False)
    registry = pd.read_csv(REPO.registry_file, dtype=str, keep_default_na=False)
    replaced = set(original_titles(REPO)) | set(publications(REPO))
    cells = [(row.source_key, row.authors) for row in sources.itertuples()]
    cells += [(row.citation_key, row.author) for row in registry.itertuples()]
    bare = []
    for key, authors in cells:
        if key in replaced:
            continue
        for part in author_parts(re.sub(r"\((?:study|ed\.?)\)", "", authors)):
            if part.startswith("{") or part.lower() in {"others", "et al."}:
                continue
            if "," in part:
                assert part.split(",", 1)[1].strip(), f"{key}: {part!r} has no first name"
            elif " " not in part:
                bare.append(f"{key}: {part!r}")
    assert bare == [], "write persons as 'Last, First' and brace one-word organisations"


def test_one_entry_per_document() -> None:
    paths = project_paths()
    sources = pd.read_csv(paths.transcribed / "sources.csv", dtype=str, keep_default_na=False)
    aliases = duplicate_keys(sources)
    assert aliases["metodieva_2018_12"] == "METODIEVA_2018"
    assert aliases["kosovo_police_2019"] == "KOSOVAPORT_2019"
    # tables of one paper are one entry (data/raw/bibliography/publications.csv, covers)
    assert "ds2016_tabA_main" not in aliases
    assert canonical_source_keys(paths)["ds2016_tabA_main"] == "derpanopoulos_sonnet_2016"
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
    # the study as KCSS published it (publications.csv), its press reports in the note
    assert str(report.persons["author"][0]) == "Kursani, Shpend"  # type: ignore[attr-defined]
    assert report.fields["year"] == "2015"  # type: ignore[attr-defined]
    assert "Report inquiring into the causes" in report.fields["title"]  # type: ignore[attr-defined]
    # the reporting items as the list names them (outlet and year), never by their keys
    note = report.fields["note"]  # type: ignore[attr-defined]
    assert "erfan.ir / ABNA (2015)" in note
    assert "KCSS" not in note
    # the press reports its figures were read in resolve to the study, not entries of
    # their own (they are copies, not the publisher)
    assert "KCSS_2015" not in entries


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


# --- original titles, LaTeX specials, same author and year ---------------------------

ORIGINAL = {
    # key: (title start, first author surname, year) as on the stored page cited in
    # data/raw/bibliography/original_titles.csv
    "bk2016_abstract": ("What Explains the Flow of Foreign Fighters to ISIS?", "Benmelech", "2016"),
    "gm2017_abstract": ("Muslim Youth Unemployment and Expat Jihadism", "Gouda", "2017"),
    "pokalova2019_abstract": ("Driving Factors behind Foreign Fighters", "Pokalova", "2019"),
    "verwimp2016_abstract": ("Foreign Fighters in Syria and Iraq and the Socio", "Verwimp", "2016"),
    "wb2018_abstract": ("Unemployment and Violent Extremism", "Abdel Jelil", "2018"),
}


@pytest.mark.parametrize("key", sorted(ORIGINAL))
def test_studies_known_by_abstract_carry_their_original_title(
    entries: dict[str, object], key: str
) -> None:
    title, surname, year = ORIGINAL[key]
    entry = entries[key]
    fields = entry.fields  # type: ignore[attr-defined]
    assert fields["title"].strip("{}").startswith(title)
    assert not fields["title"].strip("{}").startswith("[")
    first = entry.persons["author"][0]  # type: ignore[attr-defined]
    assert " ".join(first.last_names) == surname
    assert first.first_names, f"{key}: full first name expected"
    assert fields["year"] == year
    assert fields.get("howpublished")


def test_pokalova_has_the_doi_econpapers_states(entries: dict[str, object]) -> None:
    assert entries["pokalova2019_abstract"].fields["doi"] == "10.1080/1057610X.2018.1427842"  # type: ignore[attr-defined]


def test_a_bad_original_titles_file_is_refused_with_file_and_row(tmp_path: Path) -> None:
    paths = _copy_raw(tmp_path)
    target = paths.raw / "bibliography" / "original_titles.csv"
    frame = pd.read_csv(target, dtype=str, keep_default_na=False)
    frame.loc[1, "title"] = "[Abstract] a description"
    frame.to_csv(target, index=False)
    with pytest.raises(ValidationError, match=r"original_titles\.csv.*\n(?s:.*)title"):
        original_titles(paths)
    frame.loc[1, "title"] = "A title"
    frame.loc[2, "source_key"] = "no_such_source"
    frame.to_csv(target, index=False)
    with pytest.raises(ValidationError, match="no_such_source"):
        original_titles(paths)


def test_without_a_record_the_bracketed_description_stays_a_description(tmp_path: Path) -> None:
    paths = _copy_raw(tmp_path)
    titles = paths.raw / "bibliography" / "original_titles.csv"
    kept = [line for line in titles.read_text("utf-8").splitlines() if "verwimp2016" not in line]
    titles.write_text("\n".join(kept) + "\n", encoding="utf-8")
    entry = parse_string(bibliography(paths), "bibtex").entries["verwimp2016_abstract"]
    assert entry.fields["title"].startswith("{[")
    assert "Original title not recorded" in entry.fields["note"]


def test_a_missing_original_titles_file_is_an_error_naming_it(tmp_path: Path) -> None:
    paths = _copy_raw(tmp_path)
    (paths.raw / "bibliography" / "original_titles.csv").unlink()
    with pytest.raises(ValidationError, match=r"original_titles\.csv: missing"):
        bibliography(paths)


def _copy_raw(tmp_path: Path) -> ProjectPaths:
    import shutil

    for name in ("transcribed", "bibliography"):
        shutil.copytree(REPO.raw / name, tmp_path / "data" / "raw" / name)
    shutil.copy(REPO.registry_file, tmp_path / "data" / "raw" / "registry.csv")
    return ProjectPaths(tmp_path)


SPECIALS = "GDP (current US$), 50% & #1: a_b ~x^2 back\\slash"


def _render(bib: str) -> tuple[str, str]:
    from pybtex.plugin import find_plugin, register_plugin

    from kosovo_study.report import sphinx_ext

    register_plugin("pybtex.style.formatting", "kosovo_authoryear", sphinx_ext.AuthorYearStyle)
    style = find_plugin("pybtex.style.formatting", "kosovo_authoryear")()
    (entry,) = style.format_entries(parse_string(bib, "bibtex").entries.values())
    return entry.text.render_as("text"), entry.text.render_as("html")


def test_every_latex_special_is_escaped_in_the_bib_and_rendered_as_itself() -> None:
    escaped = _bib_text(SPECIALS)
    # the .bib is valid LaTeX: no bare special character is left in a text field
    bare = re.sub(
        r"\\(?:[&%#_$]|textbackslash\{\}|textasciitilde\{\}|textasciicircum\{\})", "", escaped
    )
    assert not re.search(r"[&%#_$~^\\]", bare), bare
    bib = f"@misc{{k, author={{{{World Bank}}}}, year={{2024}}, title={{{{{escaped}}}}}, note={{{escaped}}}}}"
    text, html_text = _render(bib)
    assert text.count(SPECIALS) == 2, text
    assert "\\$" not in html_text
    assert "textasciicircum" not in html_text
    assert "US$" in html_text
    assert "a_b" in html_text
    assert "x^2" in html_text


def test_the_world_bank_titles_render_with_a_dollar_sign(entries: dict[str, object]) -> None:
    gdp = entries["worldbank_gdp_datahub"]
    assert "US\\$" in gdp.fields["title"]  # type: ignore[attr-defined]
    bib = bibliography(project_paths())
    start = bib.index("@misc{worldbank_gdp_datahub")
    text, _ = _render(bib[start : bib.index("\n}\n", start) + 3])
    assert "GDP (current US$)" in text
    assert "US\\$" not in text


def test_same_author_and_year_are_told_apart_by_a_letter(entries: dict[str, object]) -> None:
    years = {
        k: entries[k].fields["year"]
        for k in ("worldbank_gdp_datahub", "worldbank_population_datahub")
    }  # type: ignore[attr-defined]
    assert sorted(years.values()) == ["2024a", "2024b"]
    # letters follow the reference list's order (by title): GDP before Population
    assert years["worldbank_gdp_datahub"] == "2024a"
    # no two entries print the same first author and year
    seen: dict[tuple[str, str, int], str] = {}
    for key, entry in entries.items():
        if "year" not in entry.fields:  # type: ignore[attr-defined]
            continue  # an undated compilation cites by title
        people = entry.persons.get("author", [])  # type: ignore[attr-defined]
        cite = (str(people[0]).strip("{}").split(",")[0], entry.fields["year"], min(len(people), 3))  # type: ignore[attr-defined]
        assert cite not in seen, f"{key} and {seen[cite]} both cite as {cite}"
        seen[cite] = key


def test_disambiguation_letters_unit() -> None:
    entries = [
        ("misc", "b", {"author": "{Agency}", "year": "2020", "title": "{Zeta}"}),
        ("misc", "a", {"author": "{Agency}", "year": "2020", "title": "{Alpha}"}),
        ("misc", "c", {"author": "{Agency}", "year": "2021", "title": "{Beta}"}),
        ("misc", "d", {"author": "{Agency}", "year": "undated", "title": "{X}"}),
        ("misc", "e", {"author": "{Agency}", "year": "undated", "title": "{Y}"}),
        ("misc", "f", {"author": "Smith, J. and Doe, A.", "year": "2020", "title": "{Q}"}),
        ("misc", "g", {"author": "{Outlet}", "year": "c. 2016", "title": "{A}"}),
        ("misc", "h", {"author": "{Outlet}", "year": "c. 2016", "title": "{B}"}),
    ]
    disambiguate_years(entries)
    years = {key: fields["year"] for _, key, fields in entries}
    assert years == {
        "a": "2020a",
        "b": "2020b",
        "c": "2021",
        "d": "undated-a",
        "e": "undated-b",
        "g": "c. 2016a",
        "h": "c. 2016b",
        "f": "2020",
    }


def test_persons_and_organisations_share_one_alphabet() -> None:
    from kosovo_study.report.sphinx_ext import ReaderSorting

    bib = parse_string(
        "@misc{z, author = {Zelin, Aaron}, year = {2013}, title = {Z}}\n"
        "@misc{wb, author = {{World Bank}}, year = {2024}, title = {W}}\n"
        "@misc{ab, author = {{Al Bayan}}, year = {2020}, title = {A}}\n"
        "@misc{aj, author = {Abdel Jelil, Mohamed}, year = {2018}, title = {U}}\n"
        '@misc{ze, author = {{Z{\\"e}ri i Amerik{\\"e}s}}, year = {2016}, title = {R}}\n',
        "bibtex",
    )
    ordered = [entry.key for entry in ReaderSorting().sort(list(bib.entries.values()))]
    assert ordered == ["aj", "ab", "wb", "z", "ze"]


def test_methods_papers_are_entries_with_checked_fields(entries: dict[str, object]) -> None:
    for key in ("freedman_lane_1983", "anderson_legendre_1999", "winkler_2014"):
        assert key in entries
    winkler = entries["winkler_2014"]
    assert winkler.fields["doi"] == "10.1016/j.neuroimage.2014.01.060"  # type: ignore[attr-defined]
    assert len(winkler.persons["author"]) == 5  # type: ignore[attr-defined]


def test_a_bad_methods_file_is_refused_with_file_and_row(tmp_path: Path) -> None:
    from kosovo_study.citation import methods_papers

    paths = _copy_raw(tmp_path)
    path = paths.raw / "bibliography" / "methods.csv"
    lines = path.read_text("utf-8").splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if ",2014," in line)
    lines[first] = lines[first].replace(",2014,", ",14,")  # one bad year, one row
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ValidationError, match=r"methods\.csv: 1 invalid value"):
        methods_papers(paths)


def test_data_are_credited_to_their_producers_not_to_a_repository_host(
    entries: dict[str, object],
) -> None:
    """A data set is published by its producer (World Bank, UNDP, ICSR, KAS); a GitHub
    copy is the route, named in the note ("Copy read: ...").  Only the authors' own
    replication repositories are their publisher: a new entry crediting a repository
    host fails here until that is decided."""
    # D&S's and Edgerton's replication data; DataHub's own compilation of country codes
    own_repositories = {
        "derpanopoulos_sonnet_2016_data",
        "edgerton_2023_data",
        "datahub_country_codes",
    }
    credited_to_host = {
        key
        for key, entry in entries.items()
        if re.match(r"(?i)github\b", entry.fields.get("howpublished", ""))  # type: ignore[attr-defined]
    }
    assert credited_to_host == own_repositories
