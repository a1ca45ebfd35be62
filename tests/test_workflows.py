"""The GitHub workflows: pinned actions, least privilege, and the commands of README.md.

zizmor (run by `nox -s lint`) audits them for security; these tests pin the project's
own rules, which zizmor does not know.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import NEEDS, REPO, expected_skips

WORKFLOWS = REPO.root / ".github" / "workflows"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")


def _load(path: Path) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def _uses_lines(path: Path) -> list[str]:
    return [
        line.split("uses:", 1)[1].strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith(("uses:", "- uses:"))
    ]


def test_the_workflows_are_ci_and_release_only() -> None:
    assert sorted(p.name for p in WORKFLOWS.glob("*.y*ml")) == ["ci.yml", "release.yml"]


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_every_action_is_pinned_by_commit_with_its_version(name: str) -> None:
    uses = _uses_lines(WORKFLOWS / name)
    assert uses
    assert [u for u in uses if not PINNED.match(u)] == []


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_least_privilege(name: str) -> None:
    workflow = _load(WORKFLOWS / name)
    assert workflow["permissions"] == {}
    for job_name, job in workflow["jobs"].items():
        assert "permissions" in job, job_name
        assert "timeout-minutes" in job, job_name
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, job_name


def test_ci_runs_the_readme_sessions_on_every_python_with_explicit_skips() -> None:
    workflow = _load(WORKFLOWS / "ci.yml")
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert {"push", "pull_request"} <= set(triggers)
    jobs = workflow["jobs"]
    assert jobs["tests"]["strategy"]["matrix"]["python-version"] == ["3.11", "3.12", "3.13"]
    allowed = expected_skips(jobs["tests"]["env"]["KOSOVO_STUDY_EXPECTED_SKIPS"])
    assert allowed is not None
    assert allowed <= {need.name for need in NEEDS}
    scripts = {
        name: "\n".join(str(step.get("run", "")) for step in job["steps"])
        for name, job in jobs.items()
    }
    assert "nox -s lint typecheck" in scripts["checks"]
    assert "nox -s tests-all" in scripts["tests"]  # the slow tests and the notebooks too
    assert "nox -s report linkcheck" in scripts["book"]
    for name, job in jobs.items():
        setup_uv = [s for s in job["steps"] if str(s.get("uses", "")).startswith("astral-sh/")]
        assert setup_uv, name
        assert setup_uv[0]["with"]["enable-cache"] is True, name


def test_release_builds_checks_installs_and_publishes() -> None:
    workflow = _load(WORKFLOWS / "release.yml")
    assert workflow[True]["push"]["branches"] == ["main"]
    text = (WORKFLOWS / "release.yml").read_text(encoding="utf-8")
    for command in (
        "uv build",
        "twine",
        "check --strict",
        'kosovo-study" --version',
        'kosovo-study" cite',
        "nox -s report pdf",
        "data/processed",
        "gh release create",
        "actions/deploy-pages@",
    ):
        assert command in text, command
    # No cache in the job that builds published files.
    build = workflow["jobs"]["build"]
    setup_uv = next(s for s in build["steps"] if str(s.get("uses", "")).startswith("astral-sh/"))
    assert setup_uv["with"]["enable-cache"] is False
    # Only the job that creates the tag and the release may write to the repository.
    writers = [
        n for n, j in workflow["jobs"].items() if j["permissions"].get("contents") == "write"
    ]
    assert writers == ["release"]


def test_release_skips_development_versions() -> None:
    """Between releases __version__ is the next .dev0 (tests/test_citation.py): the release
    workflow must neither fail on it nor tag it."""
    text = (WORKFLOWS / "release.yml").read_text(encoding="utf-8")
    skip = text.index("*.dev*)")
    assert text.index('echo "release=false"', skip) < text.index("exit 0", skip)
    assert skip < text.index('"$version" != "$cff"')
