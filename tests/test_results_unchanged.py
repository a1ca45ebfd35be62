"""Every result file stays byte-identical unless a change says why (issue 18).

A refactor must not move a single byte of ``data/processed/results``. This test runs the
clean, models, multiverse and interviews stages with the default settings, once on the
seeded synthetic outcome and once on a restricted fixture, and compares the sha256 of every
result file with the digests recorded in ``tests/data/results_sha256.json``.

A change that is *meant* to move results (a new estimator, a fixed bug) regenerates the
digests with ``python tests/test_results_unchanged.py`` and says in the CHANGELOG which
files moved and why. ``metadata.json`` is compared with its ``package_version`` field
blanked: the version stamp moves with every release, the results do not.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import pytest

from kosovo_study import stages
from kosovo_study.paths import ProjectPaths

DIGESTS = Path(__file__).parent / "data" / "results_sha256.json"
STAGES = ("clean", "models", "multiverse", "interviews")
HEADER = "municipality,fighters,definition,period_start,period_end,source_key\n"


def restricted_fixture_counts() -> dict[int, int]:
    """Municipality id -> fighters: 312 persons, inside the published 232-400 range."""
    return {i: (i * 7) % 17 for i in range(1, 39)}


def write_restricted_fixture(paths: ProjectPaths) -> None:
    from kosovo_study.municipalities import load_register

    counts = restricted_fixture_counts()
    register = load_register(paths.transcribed)
    lines = [
        f"{'Mitrovicë/a South' if m.municipality_id == 11 else m.name_sq},"
        f"{counts[m.municipality_id]},travelled_or_stopped,2012,2017,UNDP2017_DEMO\n"
        for m in register.municipalities
    ]
    target = paths.raw / "restricted" / "fighters_by_municipality.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(HEADER + "".join(lines), encoding="utf-8")


def _file_digest(path: Path) -> str:
    if path.name == "metadata.json":
        metadata = json.loads(path.read_text("utf-8"))
        metadata["package_version"] = ""
        return hashlib.sha256(json.dumps(metadata, sort_keys=True).encode()).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def results_digests(results: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``results``."""
    return {
        path.relative_to(results).as_posix(): _file_digest(path)
        for path in sorted(results.rglob("*"))
        if path.is_file()
    }


def run_and_digest(paths: ProjectPaths) -> dict[str, str]:
    for name in STAGES:
        stages.run(name, paths, force=True)
    return results_digests(paths.results)


@pytest.mark.slow
@pytest.mark.parametrize("outcome", ["synthetic", "restricted"])
def test_every_result_file_is_byte_identical(
    outcome: str, fetched_project: ProjectPaths, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    shutil.copytree(fetched_project.root, root)
    paths = ProjectPaths(root)
    if outcome == "restricted":
        write_restricted_fixture(paths)
    recorded = json.loads(DIGESTS.read_text("utf-8"))[outcome]
    found = run_and_digest(paths)
    moved = sorted(name for name in recorded.keys() & found.keys() if recorded[name] != found[name])
    assert not moved, f"result files changed ({outcome}): {moved}"
    assert sorted(found.keys() - recorded.keys()) == [], "new result files: record them"
    assert sorted(recorded.keys() - found.keys()) == [], "result files no longer written"


if __name__ == "__main__":  # regenerate the digests: python tests/test_results_unchanged.py ROOT
    # ROOT is a project tree with the raw files fetched (e.g. a scratch copy of the repo).
    project = ProjectPaths(Path(sys.argv[1]).resolve())
    restricted = project.raw / "restricted" / "fighters_by_municipality.csv"
    if restricted.exists():
        sys.exit(f"{restricted} exists: run this on a scratch project without restricted data")
    digests = {"synthetic": run_and_digest(project)}
    write_restricted_fixture(project)
    try:
        digests["restricted"] = run_and_digest(project)
    finally:
        restricted.unlink()
    DIGESTS.write_text(json.dumps(digests, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {DIGESTS}")
