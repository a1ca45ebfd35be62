"""Shared fixtures (a throw-away project tree, the raw files fetched into it) and skips
that speak.

A test may skip only when something outside the repository is missing: the data mirror,
the REFI-QDA conformance files, headless Chromium or the docs dependency group. The
summary at the end of every run lists each skip with its reason and how to provide what
it needs. Setting ``KOSOVO_STUDY_EXPECTED_SKIPS`` (a comma-separated list of the needs
below, or ``none``) turns every other skip into a failure of the run: CI sets it, so a
test that should run there cannot skip unnoticed.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from kosovo_study.paths import MIRROR_ENV, ProjectPaths, mirror_dir, project_paths
from kosovo_study.registry import fetch

REPO = project_paths(Path(__file__).parent)


def mirror_or_skip() -> Path:
    """The shared byte-exact mirror named by $KOSOVO_STUDY_MIRROR (CI sets it)."""
    value = os.environ.get(MIRROR_ENV)
    if not value:
        pytest.skip(f"{MIRROR_ENV} is not set: no local mirror of the raw files to test against")
    return Path(value)


def make_project(root: Path) -> ProjectPaths:
    """A minimal project tree: pyproject, registry and transcribed facts."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO.root / "pyproject.toml", root / "pyproject.toml")
    shutil.copy(REPO.root / "analysis_plan.yaml", root / "analysis_plan.yaml")
    paths = ProjectPaths(root)
    paths.raw.mkdir(parents=True)
    shutil.copy(REPO.registry_file, paths.registry_file)
    shutil.copytree(REPO.transcribed, paths.transcribed)
    # checked bibliographic records (original titles) the bibliography reads
    shutil.copytree(REPO.raw / "bibliography", paths.raw / "bibliography")
    return paths


@pytest.fixture(scope="session", autouse=True)
def compiled_engine() -> None:
    """Compile the Numba engine once per test session, before the first test needs it.

    Only when a collected test imports the models layer (``tests/test_readme.py`` alone
    compiles nothing). Numba caches the compiled code on disk beside the source
    (``numba.njit(cache=True)``), so later sessions, the book's page kernels and the
    notebooks, which import the same source, load it (about 1 s) instead of compiling
    it again (about 20 CPU-s); set ``NUMBA_CACHE_DIR`` to move that cache.
    """
    if "kosovo_study.models.engine" in sys.modules:
        from kosovo_study.models import engine

        engine.warm_up()


@pytest.fixture
def project(tmp_path: Path) -> ProjectPaths:
    return make_project(tmp_path / "project")


@pytest.fixture(scope="session")
def manifest() -> pd.DataFrame:
    return pd.read_csv(mirror_or_skip() / "MANIFEST.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def fetched_project(tmp_path_factory: pytest.TempPathFactory) -> ProjectPaths:
    """A project with every raw file fetched: from $KOSOVO_STUDY_MIRROR, else upstream."""
    paths = make_project(tmp_path_factory.mktemp("fetched") / "project")
    fetch(paths=paths, mirror=mirror_dir())
    return paths


@pytest.fixture
def scratch_project(fetched_project: ProjectPaths, tmp_path: Path) -> ProjectPaths:
    """A private copy of the fetched project that a test may damage."""
    root = tmp_path / "scratch"
    shutil.copytree(fetched_project.root, root)
    return ProjectPaths(root)


@pytest.fixture(scope="session")
def clean_tables(fetched_project: ProjectPaths) -> dict[str, pd.DataFrame]:
    from kosovo_study.clean import build_tables

    return build_tables(fetched_project)


# -- skips that speak -------------------------------------------------------------------

EXPECTED_SKIPS_ENV = "KOSOVO_STUDY_EXPECTED_SKIPS"


@dataclass(frozen=True)
class Need:
    """Something outside the repository that some tests need, and how to provide it."""

    name: str
    pattern: re.Pattern[str]  # matched against the skip reason
    how: str


NEEDS = (
    Need(
        "mirror",
        re.compile(r"KOSOVO_STUDY_MIRROR|mirror", re.IGNORECASE),
        "set KOSOVO_STUDY_MIRROR to a folder of byte-exact raw files with its MANIFEST.csv "
        "(CI: ../shared/data/mirror beside the clone)",
    ),
    Need(
        "qda",
        re.compile(r"\bqda\b", re.IGNORECASE),
        "place the REFI-QDA schema and the three real exports in ../shared/data/qda beside "
        "the clone (see shared/data/README.md)",
    ),
    Need(
        "chromium",
        re.compile(r"chromium|chrome", re.IGNORECASE),
        "install headless Chromium (Debian/Ubuntu: apt-get install chromium; .ci/run does it "
        "as root) or put Google Chrome on PATH as `chromium`",
    ),
    Need(
        "docs",
        re.compile(r"jupyter-book|docs dependency", re.IGNORECASE),
        "install the docs dependency group (`nox -s tests` does)",
    ),
)
OTHER = Need("other", re.compile(""), "not a known external need: this skip is a test defect")


def classify_skip(reason: str) -> Need:
    """The need a skip reason names (first match), else ``OTHER``."""
    return next((need for need in NEEDS if need.pattern.search(reason)), OTHER)


def expected_skips(value: str | None) -> set[str] | None:
    """Parse ``KOSOVO_STUDY_EXPECTED_SKIPS``; None when unset (skips are then allowed)."""
    if value is None or not value.strip():
        return None
    names = {part.strip() for part in value.split(",") if part.strip()}
    if names == {"none"}:
        return set()
    unknown = names - {need.name for need in NEEDS}
    if unknown:
        raise pytest.UsageError(
            f"{EXPECTED_SKIPS_ENV}: unknown need(s) {sorted(unknown)}; use a comma-separated "
            f"list of {[need.name for need in NEEDS]}, or 'none'"
        )
    return names


_SKIPPED: list[tuple[str, str]] = []  # (test id, reason), in the order they ran


def pytest_configure() -> None:
    expected_skips(os.environ.get(EXPECTED_SKIPS_ENV))  # a typo fails at once, not at the end
    _SKIPPED.clear()


def _record_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        _SKIPPED.append((report.nodeid, reason.removeprefix("Skipped: ")))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _record_skip(report)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """A whole module skipped at collection (``pytest.importorskip`` at the top)."""
    _record_skip(report)


def _unexpected(allowed: set[str]) -> list[tuple[str, str, Need]]:
    return [
        (nodeid, reason, need)
        for nodeid, reason in _SKIPPED
        if (need := classify_skip(reason)).name not in allowed
    ]


def pytest_sessionfinish(session: pytest.Session) -> None:
    allowed = expected_skips(os.environ.get(EXPECTED_SKIPS_ENV))
    if allowed is not None and _unexpected(allowed) and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _SKIPPED:
        return
    write = terminalreporter.write_line
    terminalreporter.section("skipped tests and what they need")
    for need in (*NEEDS, OTHER):
        skipped = [(n, r) for n, r in _SKIPPED if classify_skip(r) is need]
        if skipped:
            write(f"{need.name}: {len(skipped)} skipped; to run them: {need.how}")
            for nodeid, reason in skipped:
                write(f"  {nodeid}: {reason}")
    allowed = expected_skips(os.environ.get(EXPECTED_SKIPS_ENV))
    if allowed is None:
        write(f"(set {EXPECTED_SKIPS_ENV} to make unexpected skips fail the run, as CI does)")
        return
    unexpected = _unexpected(allowed)
    if unexpected:
        terminalreporter.write_line(
            f"FAILED: {len(unexpected)} test(s) skipped that must run here "
            f"({EXPECTED_SKIPS_ENV}={os.environ[EXPECTED_SKIPS_ENV]}):",
            red=True,
            bold=True,
        )
        for nodeid, reason, need in unexpected:
            write(f"  {nodeid} [{need.name}]: {reason}")
