"""The restricted files are never recorded by their plain sha256 (issue 22, item 1):
manifests, metadata.json and the book name them by a keyed HMAC-SHA-256 digest; the
plain sha256 only when the data holder switches it on."""

from __future__ import annotations

import hashlib
import hmac
import json
import stat
from pathlib import Path

import pytest

from kosovo_study import manifest
from kosovo_study.manifest import hash_files, run_stage
from kosovo_study.paths import ProjectPaths
from kosovo_study.report import numbers

from .restricted import write_restricted

KEY = b"0123456789abcdef0123456789abcdef-data-holder"


def test_a_restricted_input_is_recorded_by_its_keyed_digest(
    project: ProjectPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(manifest.KEY_ENV, raising=False)
    monkeypatch.delenv(manifest.KEY_FILE_ENV, raising=False)
    monkeypatch.delenv(manifest.PUBLISH_SHA256_ENV, raising=False)
    restricted = write_restricted(project)
    public = project.transcribed / "public.csv"
    public.parent.mkdir(parents=True, exist_ok=True)
    public.write_text("a\n1\n", encoding="utf-8")
    plain = hashlib.sha256(restricted.read_bytes()).hexdigest()

    recorded = hash_files([restricted, public], project.root)
    digest = recorded["data/raw/restricted/fighters_by_municipality.csv"]
    assert digest.startswith("hmac-sha256:")
    assert plain not in digest
    # the local key lives beside the restricted file, readable by its owner only
    local = project.restricted / manifest.LOCAL_KEY_FILE
    assert stat.S_IMODE(local.stat().st_mode) == 0o600
    expected = hmac.new(local.read_bytes().strip(), restricted.read_bytes(), hashlib.sha256)
    assert digest == "hmac-sha256:" + expected.hexdigest()
    assert recorded["data/raw/transcribed/public.csv"] == hashlib.sha256(b"a\n1\n").hexdigest()
    # the same file hashes the same (so an unchanged stage is skipped) ...
    assert hash_files([restricted], project.root) == {
        "data/raw/restricted/fighters_by_municipality.csv": digest
    }
    # ... under the data holder's release key when one is given
    monkeypatch.setenv(manifest.KEY_ENV, KEY.decode())
    keyed = hash_files([restricted], project.root)
    assert keyed["data/raw/restricted/fighters_by_municipality.csv"] == (
        "hmac-sha256:" + hmac.new(KEY, restricted.read_bytes(), hashlib.sha256).hexdigest()
    )
    # only the data holder's explicit switch records the plain sha256
    monkeypatch.setenv(manifest.PUBLISH_SHA256_ENV, "1")
    assert hash_files([restricted], project.root) == {
        "data/raw/restricted/fighters_by_municipality.csv": plain
    }


def test_a_stage_manifest_holds_no_plain_hash_of_a_restricted_input(
    project: ProjectPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(manifest.PUBLISH_SHA256_ENV, raising=False)
    restricted = write_restricted(project)
    plain = hashlib.sha256(restricted.read_bytes()).hexdigest()
    target = project.results / "out.csv"

    def build() -> list[Path]:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("x\n1\n", encoding="utf-8")
        return [target]

    first = run_stage("models", [restricted], build, project)
    assert plain not in json.dumps(first.manifest)
    assert plain[:12] not in (project.manifests / "models.json").read_text("utf-8")
    assert run_stage("models", [restricted], build, project).skipped


def test_the_intro_names_no_plain_hash_unless_the_data_holder_allows_it() -> None:
    provenance = {
        "definition_text": "travelled",
        "period_start": "2012",
        "period_end": "2017",
        "source_keys": [],
    }
    metadata = {"municipal_outcome_synthetic": False, "municipal_outcome_provenance": provenance}
    sentence = numbers.outcome_provenance(metadata)["outcome_sentence"]
    assert "HMAC-SHA-256 digest under the data holder's key" in sentence
    assert "sha256 `" not in sentence
    provenance["sha256"] = "cd" * 32
    assert (
        "file sha256 `cdcdcdcdcdcdcdcd`" in numbers.outcome_provenance(metadata)["outcome_sentence"]
    )


def test_metadata_records_a_restricted_input_by_name_only(
    project: ProjectPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(manifest.PUBLISH_SHA256_ENV, raising=False)
    restricted = write_restricted(project)
    recorded = manifest.published_hashes([restricted], project.root)
    assert recorded == {
        "data/raw/restricted/fighters_by_municipality.csv": (
            "restricted: keyed digest in the release record"
        )
    }
