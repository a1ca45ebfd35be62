"""Stage manifests: what a stage read and wrote, with which code, and how long it took.

Each stage writes ``data/processed/manifests/<stage>.json`` beside its outputs:
the sha256 of every input and output, the package version, the git commit, a
fingerprint of the package's source code, and the wall-clock seconds it took.
A stage is skipped when its manifest shows the same inputs, the same code
fingerprint and untouched outputs; ``force=True`` reruns it.

The code fingerprint (sha256 over the package's own source files) decides
whether code changed; the git commit is recorded for the reader only, so that a
commit touching just the book does not invalidate the data stages.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from kosovo_study import __version__
from kosovo_study.paths import ProjectPaths, project_paths
from kosovo_study.storage import sha256_file, write_text_atomic

PACKAGE_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 over the package's source and data files, in a fixed order."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.suffix in {".py", ".yaml", ".yml", ".csv", ".json"} and "__pycache__" not in str(
            path
        ):
            digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def git_commit(root: Path) -> str | None:
    """The commit checked out in ``root`` (with ``-dirty`` if modified), or None."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty", "--abbrev=40"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit or None


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return Path(path).resolve().as_posix()


def hash_files(files: Sequence[Path], root: Path) -> dict[str, str]:
    """Relative path -> sha256, sorted by path."""
    return {_relative(f, root): sha256_file(f) for f in sorted(files, key=str)}


@dataclass(frozen=True)
class StageResult:
    """What happened when a stage was asked to run."""

    stage: str
    skipped: bool
    manifest: dict[str, Any]
    outputs: list[Path]


def manifest_path(stage: str, paths: ProjectPaths) -> Path:
    return paths.manifests / f"{stage}.json"


def read_manifest(stage: str, paths: ProjectPaths | None = None) -> dict[str, Any] | None:
    """The last manifest written by ``stage``, or None."""
    location = manifest_path(stage, paths or project_paths())
    if not location.is_file():
        return None
    loaded: dict[str, Any] = json.loads(location.read_text(encoding="utf-8"))
    return loaded


def is_up_to_date(stage: str, inputs: Sequence[Path], paths: ProjectPaths) -> bool:
    """True when the recorded inputs, code and outputs all still match."""
    recorded = read_manifest(stage, paths)
    if recorded is None or recorded.get("code_fingerprint") != code_fingerprint():
        return False
    if recorded.get("inputs") != hash_files(inputs, paths.root):
        return False
    for relative, expected in recorded.get("outputs", {}).items():
        output = paths.root / relative
        if not output.is_file() or sha256_file(output) != expected:
            return False
    return True


def run_stage(
    stage: str,
    inputs: Sequence[Path],
    build: Callable[[], Sequence[Path]],
    paths: ProjectPaths | None = None,
    force: bool = False,
) -> StageResult:
    """Run ``build`` unless the stage is up to date; write its manifest afterwards.

    ``build`` returns the paths it wrote.  The manifest is written only after
    ``build`` succeeded, so a failed stage is rerun next time.
    """
    paths = paths or project_paths()
    if not force and is_up_to_date(stage, inputs, paths):
        recorded = read_manifest(stage, paths) or {}
        return StageResult(
            stage, True, recorded, [paths.root / p for p in recorded.get("outputs", {})]
        )
    started = time.perf_counter()
    outputs = list(build())
    manifest = {
        "stage": stage,
        "package_version": __version__,
        "git_commit": git_commit(paths.root),
        "code_fingerprint": code_fingerprint(),
        "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 3),
        "inputs": hash_files(inputs, paths.root),
        "outputs": hash_files(outputs, paths.root),
    }
    write_text_atomic(manifest_path(stage, paths), json.dumps(manifest, indent=2) + "\n")
    return StageResult(stage, False, manifest, outputs)
