"""The release archives rebuild the results: the sdist and a ``git archive`` tarball,
unpacked where there is no ``.git``, give every result file byte-identical to a build
from a git clone.  The version comes from the source; nothing needs git (the manifests
record the missing commit as ``null``)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from kosovo_study import __version__
from kosovo_study.paths import ROOT_ENV, ProjectPaths

from .conftest import REPO

pytestmark = pytest.mark.slow

#: Small simulation sizes: the three builds must agree, whatever the sizes.
SMALL = (
    "permutations=19",
    "bootstrap_replicates=9",
    "design_simulations=20",
    "design_permutation_simulations=10",
    "design_permutations=19",
    "crossnational_simulation_draws=20",
    "multiverse_permutations=9",
)


def _unpack(archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    (top,) = [p for p in into.iterdir() if p.is_dir()]
    return top


def _build(tree: Path, fetched: ProjectPaths) -> dict[str, str]:
    """Run every data stage in ``tree`` with its own source (PYTHONPATH=src) and return
    the sha256 of every file under data/processed except the manifests."""
    for folder in fetched.raw.iterdir():  # the fetched raw files (never in an archive)
        if folder.is_dir() and not (tree / "data" / "raw" / folder.name).exists():
            shutil.copytree(folder, tree / "data" / "raw" / folder.name)
    env = {k: v for k, v in os.environ.items() if k != ROOT_ENV}
    env["PYTHONPATH"] = str(tree / "src")
    # git must not find a repository above the unpacked tree (a tmp folder inside a clone).
    env["GIT_CEILING_DIRECTORIES"] = str(tree.parent)
    command = [sys.executable, "-m", "kosovo_study", "report", "--to", "interviews"]
    for assignment in SMALL:
        command += ["--set", assignment]
    subprocess.run(command, cwd=tree, env=env, check=True, capture_output=True, text=True)
    processed = tree / "data" / "processed"
    return {
        path.relative_to(processed).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(processed.rglob("*"))
        if path.is_file() and "manifests" not in path.parts
    }


def test_the_release_archives_rebuild_the_results(
    fetched_project: ProjectPaths, tmp_path: Path
) -> None:
    if not (REPO.root / ".git").exists():
        pytest.skip("not a git clone: the git build needs one (mirror tests run from a clone)")
    # The git build: a clone of the committed tree.
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO.root), str(clone)], check=True)
    # The archives: the sdist (offline, with the locked backend) and git archive.
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(dist)],
        cwd=clone,
        check=True,
        capture_output=True,
    )
    (sdist,) = dist.glob("*.tar.gz")
    assert sdist.name == f"kosovo_study-{__version__}.tar.gz"
    tarball = tmp_path / "git-archive.tar.gz"
    subprocess.run(
        [
            "git",
            "-C",
            str(clone),
            "archive",
            "--format=tar.gz",
            "--prefix=kosovo_study/",
            "-o",
            str(tarball),
            "HEAD",
        ],
        check=True,
    )
    trees = {
        "sdist": _unpack(sdist, tmp_path / "from-sdist"),
        "git archive": _unpack(tarball, tmp_path / "from-git-archive"),
    }
    for tree in trees.values():
        assert not (tree / ".git").exists()
    reference = _build(clone, fetched_project)
    assert any(name.startswith("results/") for name in reference)
    for label, tree in trees.items():
        built = _build(tree, fetched_project)
        different = sorted(
            n for n in reference.keys() | built.keys() if reference.get(n) != built.get(n)
        )
        assert different == [], f"{label}: {different}"
        manifest = json.loads((tree / "data/processed/manifests/models.json").read_text("utf-8"))
        assert manifest["git_commit"] is None  # said, not guessed: no git here
        assert manifest["package_version"] == __version__
    manifest = json.loads((clone / "data/processed/manifests/models.json").read_text("utf-8"))
    assert manifest["git_commit"]
