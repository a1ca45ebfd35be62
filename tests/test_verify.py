"""``kosovo-study verify``: the keyed digest, the comparison under tolerances, and three
reruns of the pipeline on a restricted fixture (matched, tampered, absent)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from kosovo_study import manifest
from kosovo_study.config import StudyConfig
from kosovo_study.errors import KosovoStudyError
from kosovo_study.paths import ROOT_ENV, ProjectPaths
from kosovo_study.replication import record as rec
from kosovo_study.replication import verify as ver

from .conftest import REPO
from .restricted import DEMO_COUNTS, write_restricted

KEY = b"0123456789abcdef0123456789abcdef-test-key"
#: Small simulation sizes: the rerun takes minutes, not a quarter of an hour; verify
#: reruns with whatever the release recorded.
SMALL = StudyConfig(
    permutations=19,
    bootstrap_replicates=9,
    design_simulations=20,
    design_permutation_simulations=10,
    design_permutations=19,
    crossnational_simulation_draws=20,
    multiverse_permutations=9,
)
COUNTS = DEMO_COUNTS  # 312 persons, inside the published range


# --- without the pipeline -----------------------------------------------------------------


def test_the_keyed_digest_needs_the_key_and_differs_from_sha256(tmp_path: Path) -> None:
    file = tmp_path / "counts.csv"
    file.write_bytes(b"municipality,fighters\nX,3\n")
    digest = rec.keyed_digest(file, KEY)
    assert digest != hashlib.sha256(file.read_bytes()).hexdigest()
    assert digest != rec.keyed_digest(file, KEY + b"x")
    assert digest == rec.keyed_digest(file, KEY)


def test_a_short_release_key_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(manifest.KEY_ENV, "short")
    with pytest.raises(KosovoStudyError, match="at least 32"):
        manifest.release_key()
    monkeypatch.delenv(manifest.KEY_ENV)
    assert manifest.release_key() is None
    key_file = tmp_path / "key.txt"
    key_file.write_bytes(KEY + b"\n")
    assert manifest.release_key(key_file) == KEY


def test_kinds_of_published_numbers() -> None:
    assert rec.kind_of("municipal_n", 34) == "count"
    assert rec.kind_of("total_max", 400.0) == "count"
    assert rec.kind_of("p_permutation", 0.31) == "simulated"
    assert rec.kind_of("conf_low", 0.8) == "simulated"
    assert rec.kind_of("estimate", 1.25) == "estimate"
    assert rec.kind_of("outcome_sentence", "**restricted**") == "text"


def test_compare_applies_each_tolerance() -> None:
    config = SMALL.as_dict()
    mc = rec.monte_carlo_tolerance(config)
    assert mc == pytest.approx(3 * 0.5 / 9**0.5)  # the smallest size, 9 bootstrap replicates
    release = {
        "a": {"value": 34, "kind": "count"},
        "b": {"value": 1.0, "kind": "estimate"},
        "c": {"value": 1.0, "kind": "estimate"},
        "d": {"value": 0.5, "kind": "simulated"},
        "e": {"value": "text", "kind": "text"},
        "f": {"value": 1, "kind": "count"},
    }
    rerun = {
        "a": {"value": 35, "kind": "count"},
        "b": {"value": 1.0 + 1e-9, "kind": "estimate"},
        "c": {"value": 1.001, "kind": "estimate"},
        "d": {"value": 0.5 + mc / 2, "kind": "simulated"},
        "e": {"value": "text", "kind": "text"},
        "g": {"value": 2, "kind": "count"},
    }
    status = {c.name: c.status for c in ver.compare(release, rerun, config)}
    assert status == {
        "a": "differs",
        "b": "within tolerance",
        "c": "differs",
        "d": "within tolerance",
        "e": "equal",
        "f": "missing in rerun",
        "g": "new in rerun",
    }


def test_digest_statuses(tmp_path: Path) -> None:
    file = tmp_path / ver.RESTRICTED_NAME
    file.write_text("x\n", encoding="utf-8")
    name = f"data/raw/restricted/{ver.RESTRICTED_NAME}"
    record = {"restricted_inputs": {name: {"hmac_sha256": rec.keyed_digest(file, KEY)}}}
    assert ver.check_digest(record, file, KEY)[0] == ""
    assert ver.check_digest(record, None, KEY)[0] == ver.ABSENT
    assert ver.check_digest(record, file, None)[0] == ver.NO_KEY
    file.write_text("y\n", encoding="utf-8")
    assert ver.check_digest(record, file, KEY)[0] == ver.DIGEST_MISMATCH
    assert ver.check_digest({"restricted_inputs": {}}, file, KEY)[0] == ver.DIFFERS


def test_interview_export_digest_statuses(tmp_path: Path) -> None:
    export = tmp_path / "transcripts-2019.qdpx"
    export.write_bytes(b"PK coded interviews")
    name = "data/raw/restricted/interviews.qdpx"
    record = {"restricted_inputs": {name: {"hmac_sha256": rec.keyed_digest(export, KEY)}}}
    assert ver.check_interview_digest(record, export, KEY)[0] == ""
    status, sentence = ver.check_interview_digest(record, None, KEY)
    assert status == ver.ABSENT == "not verified: restricted data absent"
    assert "the release used an interview export" in sentence
    assert ver.check_interview_digest(record, export, None)[0] == ver.NO_KEY
    export.write_bytes(b"PK coded interviews, one segment recoded")
    assert ver.check_interview_digest(record, export, KEY)[0] == ver.DIGEST_MISMATCH
    assert ver.check_interview_digest({"restricted_inputs": {}}, export, KEY)[0] == ver.DIFFERS
    synthetic = ver.check_interview_digest({"restricted_inputs": {}}, None, KEY)
    assert "synthetic interview study" in synthetic[1]


def test_the_scratch_copy_holds_the_export_under_its_kept_name(tmp_path: Path) -> None:
    from .conftest import make_project

    paths = make_project(tmp_path / "project")
    paths.book.mkdir()
    export = tmp_path / "holder" / "Transcripts.QDPX"
    export.parent.mkdir()
    export.write_bytes(b"PK")
    copy = ver.make_scratch(paths, tmp_path / "scratch", None, export)
    assert (copy.restricted / "interviews.qdpx").read_bytes() == b"PK"
    assert not (copy.restricted / ver.RESTRICTED_NAME).exists()


def test_interview_numbers_are_told_apart() -> None:
    assert ver.is_interview_number("glue:interviews:iv_or_unemployed")
    assert ver.is_interview_number("table:interview-reliability:3:krippendorff_alpha")
    assert not ver.is_interview_number("glue:municipalities:irr_unemployment")


def test_the_release_record_lists_the_interview_export(tmp_path: Path) -> None:
    from .conftest import make_project

    paths = make_project(tmp_path / "project")
    paths.restricted.mkdir(parents=True)
    (paths.restricted / "interviews.csv").write_text("respondent,text\n", encoding="utf-8")
    assert rec.restricted_digests(paths, KEY) == {
        "data/raw/restricted/interviews.csv": rec.keyed_digest(
            paths.restricted / "interviews.csv", KEY
        )
    }


# --- three reruns of the pipeline ----------------------------------------------------------


@pytest.fixture(scope="module")
def release(
    fetched_project: ProjectPaths, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ProjectPaths, Path]:
    """A project built on the restricted fixture with small sizes, with its release record
    (keyed digest under ``KEY``); returns the project and the restricted file kept aside."""
    pytest.importorskip("myst_nb", reason="the docs dependency group (jupyter-book) is needed")
    root = tmp_path_factory.mktemp("release") / "project"
    shutil.copytree(fetched_project.root, root)
    shutil.copytree(REPO.book, root / "book", ignore=shutil.ignore_patterns("_build", "notebooks"))
    for name in ("uv.lock", "CITATION.cff", "LICENSE"):
        shutil.copy(REPO.root / name, root / name)
    paths = ProjectPaths(root)
    restricted = write_restricted(paths, COUNTS, target=paths.restricted / ver.RESTRICTED_NAME)
    ver.rerun(paths, SMALL)
    record = rec.build_record(paths, SMALL, KEY)
    rec.record_path(paths).parent.mkdir(parents=True, exist_ok=True)
    rec.record_path(paths).write_text(json.dumps(record), encoding="utf-8")
    kept = tmp_path_factory.mktemp("holder") / ver.RESTRICTED_NAME
    shutil.copyfile(restricted, kept)
    return paths, kept


@pytest.mark.slow
def test_verify_matches_every_published_number(
    release: tuple[ProjectPaths, Path], tmp_path: Path
) -> None:
    paths, restricted = release
    record = rec.read_record(rec.record_path(paths))
    assert record["municipal_outcome"] == "restricted"
    assert len(record["numbers"]) > 500
    result = ver.verify(paths, restricted, KEY, out=tmp_path / "report")
    assert result.status == ver.VERIFIED, [c.name for c in result.moved][:20]
    assert result.exit_status == 0
    assert result.moved == []
    report = json.loads((tmp_path / "report" / "verification_report.json").read_text("utf-8"))
    assert report["published_numbers"] == len(record["numbers"])
    assert report["environment"]["uv_lock_sha256"]
    # The key is never written; the keyed digest of the release is checked, not shown.
    text = (tmp_path / "report" / "verification_report.json").read_text("utf-8")
    assert KEY.decode() not in text
    assert rec.keyed_digest(restricted, KEY) not in text


@pytest.mark.slow
def test_a_changed_count_fails_naming_every_number_that_moves(
    release: tuple[ProjectPaths, Path], tmp_path: Path
) -> None:
    paths, _ = release
    tampered = dict(COUNTS)
    tampered[1] += 1  # one municipality, one person more (313: still a valid file)
    file = write_restricted(paths, tampered, target=tmp_path / ver.RESTRICTED_NAME)
    result = ver.verify(paths, file, KEY, out=tmp_path / "report", scratch=tmp_path / "scratch")
    assert result.status == ver.DIGEST_MISMATCH
    assert result.exit_status == 1
    # Every published number whose value differs between the release and the rerun is
    # named, and nothing else.
    rerun = rec.published_numbers(ProjectPaths(tmp_path / "scratch" / "project"))
    release_numbers = rec.read_record(rec.record_path(paths))["numbers"]
    differing = {
        name
        for name in set(release_numbers) | set(rerun)
        if release_numbers.get(name, {}).get("value") != rerun.get(name, {}).get("value")
    }
    assert differing
    assert {c.name for c in result.moved} == differing
    assert any(name.startswith("table:municipal") for name in differing)
    markdown = (tmp_path / "report" / "verification_report.md").read_text("utf-8")
    assert all(name in markdown for name in differing)


@pytest.mark.slow
def test_verify_without_the_restricted_file_says_not_verified(
    release: tuple[ProjectPaths, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from kosovo_study.cli import main

    paths, _ = release
    copy = tmp_path / "project"
    shutil.copytree(paths.root, copy, ignore=shutil.ignore_patterns("restricted", "_build"))
    monkeypatch.setenv(ROOT_ENV, str(copy))
    status = main(["verify", "--out", str(tmp_path / "report")])
    assert status == 2
    err = capsys.readouterr().err
    assert "not verified: restricted data absent" in " ".join(err.split())
    report = json.loads((tmp_path / "report" / "verification_report.json").read_text("utf-8"))
    assert report["status"] == ver.ABSENT
