"""Citation metadata, the release version, Zenodo metadata and the bibliography.

None of these tests skips: the version lives in the source, not in git tags.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import re
from typing import Any
from urllib.parse import urlsplit

import latexcodec  # noqa: F401  (registers the "latex" codec used to decode BibTeX fields)
import pandas as pd
import pytest
import yaml
from packaging.version import Version
from pybtex.database import parse_string

import kosovo_study
from kosovo_study import __version__
from kosovo_study.citation import (
    bibliography,
    canonical_source_keys,
    citation_doi,
    citation_key,
    package_citation,
)
from kosovo_study.errors import ValidationError

from .conftest import REPO

CFF = yaml.safe_load((REPO.root / "CITATION.cff").read_text(encoding="utf-8"))
ZENODO = json.loads((REPO.root / ".zenodo.json").read_text(encoding="utf-8"))
CHANGELOG = (REPO.root / "CHANGELOG.md").read_text(encoding="utf-8")


def _released() -> dt.date:
    value = CFF["date-released"]
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _unlatex(text: str) -> str:
    return text.encode("utf-8").decode("latex")


# -- one version everywhere ---------------------------------------------------------------


def next_development_versions(release: str) -> set[str]:
    """The versions the source may carry after ``release``: the next patch, minor or major
    release's ``.dev0`` (0.2.0 -> 0.2.1.dev0, 0.3.0.dev0 or 1.0.0.dev0)."""
    major, minor, patch = Version(release).release
    return {
        f"{major}.{minor}.{patch + 1}.dev0",
        f"{major}.{minor + 1}.0.dev0",
        f"{major + 1}.0.0.dev0",
    }


def test_next_development_versions_follow_the_release() -> None:
    assert next_development_versions("0.2.0") == {"0.2.1.dev0", "0.3.0.dev0", "1.0.0.dev0"}
    assert "0.2.0.dev0" not in next_development_versions("0.2.0")  # before the release


def test_the_source_version_is_the_release_or_the_next_development_version() -> None:
    """After each release __version__ moves to the next .dev0; CITATION.cff keeps the
    release. On the commit that releases, the two are equal."""
    release = str(CFF["version"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", release), release
    assert __version__ == release or __version__ in next_development_versions(release)
    assert Version(__version__) > Version(release) or __version__ == release
    # The installed metadata (what pip and `kosovo-study --version` report) agrees too.
    assert importlib.metadata.version("kosovo-study") == __version__


def test_cite_cites_the_release_and_names_a_development_build() -> None:
    release = str(CFF["version"])
    citation = package_citation()
    _, fields, _ = _parse_bibtex(citation["bibtex"])
    assert fields["version"] == release
    (item,) = json.loads(citation["csl_json"])
    assert item["version"] == release
    if __version__ == release:
        assert "note" not in fields
        assert "note" not in item
    else:
        expected = f"Development build {__version__}, after release {release}"
        assert fields["note"] == expected
        assert item["note"] == expected
    assert f"(Version {release})" in citation["apa"]


def test_the_version_is_not_derived_from_git() -> None:
    pyproject = (REPO.root / "pyproject.toml").read_text(encoding="utf-8")
    assert "hatch-vcs" not in pyproject
    assert 'path = "src/kosovo_study/__init__.py"' in pyproject
    init = (REPO.root / "src" / "kosovo_study" / "__init__.py").read_text(encoding="utf-8")
    assert f'__version__ = "{kosovo_study.__version__}"' in init


def test_citation_cff_has_the_required_fields() -> None:
    for field in ("cff-version", "message", "title", "authors", "version", "license"):
        assert CFF.get(field), field
    assert CFF["cff-version"] == "1.2.0"
    assert _released() <= dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)


def test_the_changelog_has_this_release_with_its_date() -> None:
    release = str(CFF["version"])
    heading = f"## [{release}] - {_released().isoformat()}"
    assert heading in CHANGELOG
    assert "## [Unreleased]" in CHANGELOG
    assert f"[{release}]: https://" in CHANGELOG
    # Keep a Changelog: only the standard section names under a release.
    sections = set(re.findall(r"^### (.+)$", CHANGELOG, flags=re.MULTILINE))
    assert sections <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


# -- Zenodo -------------------------------------------------------------------------------


def test_zenodo_metadata_matches_citation_cff() -> None:
    assert ZENODO["upload_type"] == "software"
    assert ZENODO["title"] == " ".join(CFF["title"].split())
    assert ZENODO["version"] == str(CFF["version"])  # the release, like CITATION.cff
    assert ZENODO["publication_date"] == _released().isoformat()
    assert ZENODO["license"] == CFF["license"]
    assert [c["name"] for c in ZENODO["creators"]] == [a["name"] for a in CFF["authors"]]
    assert ZENODO["keywords"] == CFF["keywords"]
    # No DOI is invented: Zenodo mints it; it is then written into CITATION.cff only.
    assert "doi" not in ZENODO
    assert all(item["scheme"] != "doi" for item in ZENODO["related_identifiers"])


def _repository_at_commit(raw_url: str) -> str:
    """raw.githubusercontent.com/OWNER/REPO/COMMIT/path -> github.com/OWNER/REPO/tree/COMMIT."""
    owner, repo, commit = urlsplit(raw_url).path.strip("/").split("/")[:3]
    return f"https://github.com/{owner}/{repo}/tree/{commit}"


def test_zenodo_related_identifiers_are_the_registered_sources() -> None:
    registry = pd.read_csv(REPO.registry_file, dtype=str, keep_default_na=False)
    sources = pd.read_csv(REPO.transcribed / "sources.csv", dtype=str, keep_default_na=False)
    data_sources = {_repository_at_commit(url) for url in registry["url"]}
    related = ZENODO["related_identifiers"]
    derived = {item["identifier"] for item in related if item["relation"] == "isDerivedFrom"}
    # Every upstream repository of a registered raw file, and nothing else.
    assert derived == data_sources
    studies = {item["identifier"] for item in related if item["relation"] == "references"}
    assert studies, "the studies this package replicates are listed"
    assert studies <= set(sources["url"]), "every referenced study is in sources.csv"
    assert CFF["repository-code"] in {item["identifier"] for item in related}


# -- kosovo-study cite ----------------------------------------------------------------------


def _parse_bibtex(text: str) -> tuple[str, dict[str, str], list[Any]]:
    database = parse_string(text, "bibtex")
    assert len(database.entries) == 1
    ((key, entry),) = database.entries.items()
    assert entry.type == "software"
    return key, dict(entry.fields), list(entry.persons["author"])


def test_bibtex_round_trips_to_the_citation_cff_fields() -> None:
    key, fields, authors = _parse_bibtex(package_citation()["bibtex"])
    assert key == citation_key(str(CFF["version"]))
    assert _unlatex(fields["title"]) == " ".join(CFF["title"].split())
    assert fields["version"] == str(CFF["version"])
    assert fields["year"] == str(_released().year)
    assert fields["date"] == _released().isoformat()
    assert fields["url"] == CFF["repository-code"]  # no \_ in a link
    assert "\\" not in fields["url"]
    # A corporate author is one name: BibTeX must not split it into first and last.
    assert len(authors) == 1
    (author,) = authors
    assert author.first_names == []
    assert author.last_names == ["{kosovo\\_study contributors}"]
    assert _unlatex(author.last_names[0].strip("{}")) == CFF["authors"][0]["name"]
    assert ("doi" in fields) == (citation_doi(CFF) is not None)


CFF_WITH_DOI = {
    **CFF,
    "doi": "10.5281/zenodo.0000000",  # a test value, never written to CITATION.cff
    "authors": [
        {"family-names": "Berisha", "given-names": "Arta Mira"},
        {"name": "Team_X & Partners"},
    ],
}


def test_a_doi_is_printed_in_every_format_once_it_is_set() -> None:
    citation = package_citation("1.2.3", cff=CFF_WITH_DOI)
    key, fields, authors = _parse_bibtex(citation["bibtex"])
    assert key == "kosovo_study_1_2_3"
    assert fields["doi"] == "10.5281/zenodo.0000000"
    assert [str(a) for a in authors] == ["Berisha, Arta Mira", "{Team\\_X \\& Partners}"]
    assert citation["apa"].endswith("https://doi.org/10.5281/zenodo.0000000")
    assert citation["apa"].startswith("Berisha, A. M., & Team_X & Partners. (")
    (item,) = json.loads(citation["csl_json"])
    assert item["DOI"] == "10.5281/zenodo.0000000"
    assert item["author"] == [
        {"family": "Berisha", "given": "Arta Mira"},
        {"literal": "Team_X & Partners"},
    ]


@pytest.mark.parametrize(
    "doi",
    [
        "https://doi.org/10.5281/zenodo.1",  # a URL, not a DOI
        "10.5281/zenodo.NNNNNNN",  # the placeholder in CITATION.cff's comment
        "10.52/x y",
        "TODO",
    ],
)
def test_a_malformed_or_placeholder_doi_is_refused_not_printed(doi: str) -> None:
    with pytest.raises(ValidationError, match="not a DOI"):
        package_citation(cff={**CFF, "doi": doi})


APA = re.compile(
    r"^(?P<author>.+)\. \((?P<year>\d{4})\)\. (?P<title>.+) \(Version (?P<version>[^)]+)\) "
    r"\[Computer software\]\. (?P<link>https://\S+)$"
)


def test_apa_round_trips() -> None:
    match = APA.match(package_citation()["apa"])
    assert match is not None
    assert match["author"] == CFF["authors"][0]["name"]
    assert match["year"] == str(_released().year)
    assert match["title"] == " ".join(CFF["title"].split())
    assert match["version"] == str(CFF["version"])
    assert match["link"] == CFF["repository-code"]


def test_csl_json_round_trips() -> None:
    (item,) = json.loads(package_citation()["csl_json"])
    assert item["id"] == "kosovo_study_0_2_0"
    assert item["type"] == "software"
    assert item["title"] == " ".join(CFF["title"].split())
    assert item["author"] == [{"literal": CFF["authors"][0]["name"]}]
    assert item["version"] == str(CFF["version"])
    assert item["URL"] == CFF["repository-code"]
    released = _released()
    assert item["issued"] == {"date-parts": [[released.year, released.month, released.day]]}
    assert "DOI" not in item  # no DOI has been minted yet


# -- the bibliography of sources ------------------------------------------------------------


def test_book_bibliography_is_in_sync_with_sources() -> None:
    committed = REPO.bibliography.read_text(encoding="utf-8")
    assert committed == bibliography(REPO), "run `kosovo-study cite --write-bib`"


def test_every_source_key_in_the_transcribed_data_is_in_the_bibliography() -> None:
    text = bibliography(REPO)
    keys: set[str] = set()
    for csv in REPO.transcribed.glob("*.csv"):
        table = pd.read_csv(csv, dtype=str, keep_default_na=False)
        if "source_key" in table and csv.name != "sources.csv":
            # a row may rest on several sources: "A;B" (designated_islamic_charities.csv)
            keys |= {key for cell in table["source_key"] for key in cell.split(";") if key}
    registry = pd.read_csv(REPO.registry_file, dtype=str)
    keys |= set(registry["citation_key"])
    # A duplicate row of sources.csv (same document) resolves to the entry kept for it.
    canonical = canonical_source_keys(REPO)
    missing = sorted(key for key in keys if f"{{{canonical.get(key, key)},\n" not in text)
    assert missing == []


@pytest.mark.parametrize("fmt", ["bibtex", "apa", "csl-json"])
def test_cite_prints_each_format_alone(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    from kosovo_study import cli

    assert cli.main(["cite", "--format", fmt]) == 0
    out = capsys.readouterr().out
    expected = package_citation()[fmt.replace("-", "_")]
    assert out.strip() == expected.strip()
    if fmt == "bibtex":
        assert _parse_bibtex(out)[0] == "kosovo_study_0_2_0"
    if fmt == "csl-json":
        assert json.loads(out)[0]["version"] == str(CFF["version"])


def test_cite_prints_all_three_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    from kosovo_study import cli

    assert cli.main(["cite"]) == 0
    out = capsys.readouterr().out
    citation = package_citation()
    assert out == "\n".join(citation[k].rstrip("\n") + "\n" for k in ("bibtex", "apa", "csl_json"))
