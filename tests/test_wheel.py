"""The release artefacts: build the sdist and the wheel, install the wheel in a fresh
virtual environment, and check what a user of the wheel gets.

The build runs offline with the locked build backend (``--no-isolation``; hatchling and
build are in the test dependency group). The fresh environment gets the wheel only
(``--no-deps``); the third-party dependencies are borrowed from the test environment by a
``.pth`` line placed *after* the fresh site-packages, so the package imported is the one
from the wheel, never the editable source tree.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

from kosovo_study import __version__
from kosovo_study.citation import load_citation_cff

from .conftest import REPO

#: The last release (CITATION.cff); __version__ is it, or the next .dev0 (test_citation.py).
RELEASE = str(load_citation_cff()["version"])

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    # Default build: the sdist first, then the wheel built from the unpacked sdist, so a
    # file missing from the sdist also breaks the wheel.
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO.root)],
        check=True,
        capture_output=True,
        text=True,
    )
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return {"sdist": sdist, "wheel": wheel}


def test_artefacts_carry_the_release_version(dist: dict[str, Path]) -> None:
    assert dist["sdist"].name == f"kosovo_study-{__version__}.tar.gz"
    assert dist["wheel"].name == f"kosovo_study-{__version__}-py3-none-any.whl"


def test_the_sdist_holds_the_release_files_and_no_private_data(dist: dict[str, Path]) -> None:
    with tarfile.open(dist["sdist"]) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for required in (
        "pyproject.toml",
        "CITATION.cff",
        "CHANGELOG.md",
        "LICENSE",
        "DATA_LICENSE.md",
        ".zenodo.json",
        "src/kosovo_study/py.typed",
        "data/raw/registry.csv",
    ):
        assert required in names, required
    private = ("data/raw/restricted", "data/processed/", ".nox", "book/_build")
    leaked = sorted(n for n in names if n.startswith(private) and not n.endswith(".gitkeep"))
    assert leaked == []
    assert "src/kosovo_study/_version.py" not in names  # no generated version file


def test_the_wheel_holds_the_typed_package_codebook_and_citation(dist: dict[str, Path]) -> None:
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        names = set(wheel.namelist())
        info = f"kosovo_study-{__version__}.dist-info"
        metadata = wheel.read(f"{info}/METADATA").decode("utf-8")
        entry_points = wheel.read(f"{info}/entry_points.txt").decode("utf-8")
        citation = wheel.read("kosovo_study/CITATION.cff").decode("utf-8")
    for required in (
        "kosovo_study/__init__.py",
        "kosovo_study/py.typed",
        "kosovo_study/CITATION.cff",
        "kosovo_study/interviews/codebook.yaml",
    ):
        assert required in names, required
    assert f"\nVersion: {__version__}\n" in metadata
    assert "kosovo-study = kosovo_study.cli:main" in entry_points
    assert f"\nversion: {RELEASE}\n" in citation  # the last release, shipped with the wheel


@pytest.fixture(scope="module")
def fresh_venv(dist: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fresh") / "venv"
    venv.create(root, with_pip=True, symlinks=os.name != "nt")
    python = root / ("Scripts" if os.name == "nt" else "bin") / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(dist["wheel"])],
        check=True,
        capture_output=True,
        text=True,
    )
    fresh_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # Dependencies only: lines in a .pth file are appended to sys.path after the fresh
    # site-packages, and the .pth files inside the borrowed folder (the editable install
    # of the source tree) are not processed.
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(fresh_site) / "_test_dependencies.pth").write_text(
        "\n".join(sorted(borrowed)) + "\n", encoding="utf-8"
    )
    return root


def _run(fresh_venv: Path, *args: str) -> str:
    bindir = fresh_venv / ("Scripts" if os.name == "nt" else "bin")
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    result = subprocess.run(
        [str(bindir / args[0]), *args[1:]],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=fresh_venv,  # not the source tree: nothing is imported from there by accident
    )
    return result.stdout


def test_the_installed_wheel_imports_from_the_fresh_environment(fresh_venv: Path) -> None:
    out = _run(
        fresh_venv,
        "python",
        "-c",
        "import importlib.metadata as m, importlib.resources as r, kosovo_study;"
        "print(kosovo_study.__file__); print(kosovo_study.__version__);"
        "print(m.version('kosovo-study'));"
        "p = r.files('kosovo_study');"
        "print(p.joinpath('py.typed').is_file(), p.joinpath('CITATION.cff').is_file(),"
        " p.joinpath('interviews', 'codebook.yaml').is_file())",
    ).splitlines()
    assert Path(out[0]).resolve().is_relative_to(fresh_venv.resolve())
    assert out[1] == out[2] == __version__
    assert out[3] == "True True True"


def test_the_command_reports_the_version_and_cites_it(fresh_venv: Path) -> None:
    assert _run(fresh_venv, "kosovo-study", "--version").strip() == f"kosovo-study {__version__}"
    bibtex = _run(fresh_venv, "kosovo-study", "cite", "--format", "bibtex")
    # The last release is cited; a development build names itself in a note.
    assert bibtex.startswith("@software{kosovo_study_" + RELEASE.replace(".", "_") + ",")
    assert f"version = {{{RELEASE}}}" in bibtex
    if __version__ != RELEASE:
        assert f"note = {{Development build {__version__}, after release {RELEASE}}}" in bibtex
