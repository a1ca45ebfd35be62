"""Citation metadata and the bibliography."""

from __future__ import annotations

import subprocess

import pandas as pd
import pytest
import yaml
from packaging.version import Version

from kosovo_study import __version__
from kosovo_study.citation import bibliography, canonical_source_keys, package_citation

from .conftest import REPO

CFF = yaml.safe_load((REPO.root / "CITATION.cff").read_text(encoding="utf-8"))


def _latest_release_tag() -> str | None:
    try:
        tags = subprocess.run(
            ["git", "-C", str(REPO.root), "describe", "--tags", "--abbrev=0", "--match", "v*"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return tags or None


def test_citation_cff_version_equals_the_package_version() -> None:
    tag = _latest_release_tag()
    if tag is None:
        pytest.skip("no release tag in this clone: the package version is a placeholder")
    # A development build after tag vX.Y.Z is X.Y.Z.postN.devM: its release part must match.
    assert Version(__version__).base_version == str(CFF["version"])
    assert tag == f"v{CFF['version']}"


def test_citation_cff_has_the_required_fields() -> None:
    for field in ("cff-version", "message", "title", "authors", "version", "license"):
        assert CFF.get(field), field
    assert CFF["cff-version"] == "1.2.0"


def test_package_citation_uses_cff_metadata() -> None:
    citation = package_citation("9.9.9")
    assert "version = {9.9.9}" in citation["bibtex"]
    assert CFF["title"].split(":")[0].replace("_", r"\_") in citation["bibtex"]
    assert "(Version 9.9.9)" in citation["apa"]


def test_book_bibliography_is_in_sync_with_sources() -> None:
    committed = REPO.bibliography.read_text(encoding="utf-8")
    assert committed == bibliography(REPO), "run `kosovo-study cite --write-bib`"


def test_every_source_key_in_the_transcribed_data_is_in_the_bibliography() -> None:
    text = bibliography(REPO)
    keys: set[str] = set()
    for csv in REPO.transcribed.glob("*.csv"):
        table = pd.read_csv(csv, dtype=str, keep_default_na=False)
        if "source_key" in table and csv.name != "sources.csv":
            keys |= set(table["source_key"])
    registry = pd.read_csv(REPO.registry_file, dtype=str)
    keys |= set(registry["citation_key"])
    # A duplicate row of sources.csv (same document) resolves to the entry kept for it.
    canonical = canonical_source_keys(REPO)
    missing = sorted(key for key in keys if f"{{{canonical.get(key, key)},\n" not in text)
    assert missing == []
