"""The book built once per test session (the whole pipeline, the HTML and the PDF), for
every test that reads it: the end-to-end checks (test_book) and the print edition
(test_pdf)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kosovo_study import models, stages
from kosovo_study.config import StudyConfig, load_config
from kosovo_study.paths import ProjectPaths

from ..conftest import REPO

SMALL = StudyConfig(
    permutations=19,
    bootstrap_replicates=19,
    design_simulations=40,
    design_permutation_simulations=20,
    design_permutations=19,
)


def _pipeline(paths: ProjectPaths) -> None:
    stages.run("clean", paths)
    results, metadata = models.build_results(paths, SMALL, bootstrap_replicates=3)
    models.write_results(results, metadata, paths.results)
    stages.run("design", paths, SMALL)
    config = load_config(paths.root, {"multiverse_permutations": 9})
    stages.run("multiverse", paths, config, n_jobs=1)
    stages.run("interviews", paths)
    stages.run("book", paths)


def _require_jupyter_book() -> None:
    if (
        shutil.which("jupyter-book") is None
        and not (Path(__import__("sys").executable).parent / "jupyter-book").exists()
    ):
        pytest.skip("jupyter-book (docs dependency group) is not installed")


@pytest.fixture(scope="session")
def built_book(
    fetched_project: ProjectPaths, tmp_path_factory: pytest.TempPathFactory
) -> ProjectPaths:
    """One build of the whole pipeline and book for every test of this module (the build
    takes minutes; the tests only read it, or copy it before changing anything)."""
    _require_jupyter_book()
    root = tmp_path_factory.mktemp("book") / "project"
    shutil.copytree(fetched_project.root, root)
    paths = ProjectPaths(root)
    shutil.copytree(REPO.book, paths.book, ignore=shutil.ignore_patterns("_build"))
    _pipeline(paths)
    return paths
