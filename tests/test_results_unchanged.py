"""Every result file stays byte-identical unless a change says why (issue 18).

A refactor must not move a single byte of ``data/processed/results``. This test runs the
clean, models, design, multiverse and interviews stages with the default settings, once on
the seeded synthetic outcome and once on a restricted fixture (without the design stage,
which reads no outcome), and compares the sha256 of every
result file with the digests recorded in ``tests/data/results_sha256.json``.

A change that is *meant* to move results (a new estimator, a fixed bug) regenerates the
digests with ``python -m tests.test_results_unchanged ROOT`` (from the repository
root) and says in the CHANGELOG which
files moved and why. ``metadata.json`` is compared with its ``package_version`` field
blanked: the version stamp moves with every release, the results do not.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from kosovo_study import stages
from kosovo_study.models import verdict
from kosovo_study.paths import ProjectPaths
from kosovo_study.plan import load_plan
from tests.restricted import write_restricted

DIGESTS = Path(__file__).parent / "data" / "results_sha256.json"
STAGES = ("clean", "models", "design", "multiverse", "interviews")
#: The design diagnosis reads no outcome (its data are simulated, or the real cells), so
#: its results are the same on either outcome: the restricted run skips it (minutes).
OUTCOME_STAGES = tuple(name for name in STAGES if name != "design")


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


def run_and_digest(paths: ProjectPaths, names: tuple[str, ...] = STAGES) -> dict[str, str]:
    for name in names:
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
        write_restricted(paths)
    recorded = json.loads(DIGESTS.read_text("utf-8"))[outcome]
    found = run_and_digest(paths, STAGES if outcome == "synthetic" else OUTCOME_STAGES)
    moved = sorted(name for name in recorded.keys() & found.keys() if recorded[name] != found[name])
    assert not moved, f"result files changed ({outcome}): {moved}"
    assert sorted(found.keys() - recorded.keys()) == [], "new result files: record them"
    assert sorted(recorded.keys() - found.keys()) == [], "result files no longer written"
    # One verdict: the table the multiverse stage wrote is the one the result files give
    # (build_verdict on INPUT_TABLES read back from disk), so no caller sees another.
    tables = {
        name: pd.read_parquet(paths.results / f"{name}.parquet")
        for name in verdict.INPUT_TABLES
        if (paths.results / f"{name}.parquet").is_file()
    }
    rebuilt = verdict.build_verdict(tables, load_plan(paths=paths))
    written = pd.read_parquet(paths.results / "verdict.parquet")
    pd.testing.assert_frame_equal(rebuilt.reset_index(drop=True), written, check_dtype=False)


if __name__ == "__main__":  # regenerate: python -m tests.test_results_unchanged ROOT
    # ROOT is a project tree with the raw files fetched (e.g. a scratch copy of the repo).
    project = ProjectPaths(Path(sys.argv[1]).resolve())
    restricted = project.raw / "restricted" / "fighters_by_municipality.csv"
    if restricted.exists():
        sys.exit(f"{restricted} exists: run this on a scratch project without restricted data")
    digests = {"synthetic": run_and_digest(project)}
    write_restricted(project)
    try:
        restricted_run = run_and_digest(project, OUTCOME_STAGES)
        # the synthetic run's design files are still there: not the restricted run's
        digests["restricted"] = {
            name: digest
            for name, digest in restricted_run.items()
            if not name.startswith("design_")
        }
    finally:
        restricted.unlink()
    DIGESTS.write_text(json.dumps(digests, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {DIGESTS}")
