"""Shared fixtures: a throw-away project tree and the raw files fetched into it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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
    paths = ProjectPaths(root)
    paths.raw.mkdir(parents=True)
    shutil.copy(REPO.registry_file, paths.registry_file)
    shutil.copytree(REPO.transcribed, paths.transcribed)
    return paths


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
