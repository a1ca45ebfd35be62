"""Every path the package reads or writes, from one place.

The project root is found by walking up from the working directory to the
folder holding ``pyproject.toml`` with ``name = "kosovo-study"``; the
environment variable ``KOSOVO_STUDY_ROOT`` overrides the search (for an
installed package used outside a clone).  Commands therefore work from any
sub-directory of a clone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT_ENV = "KOSOVO_STUDY_ROOT"
MIRROR_ENV = "KOSOVO_STUDY_MIRROR"


class ProjectRootNotFoundError(RuntimeError):
    """Raised when no kosovo_study project root can be found."""


def _is_project_root(folder: Path) -> bool:
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        return False
    return 'name = "kosovo-study"' in pyproject.read_text(encoding="utf-8")


def find_root(start: Path | None = None) -> Path:
    """Return the project root: ``$KOSOVO_STUDY_ROOT`` or the nearest parent with our pyproject."""
    if env_root := os.environ.get(ROOT_ENV):
        return Path(env_root).resolve()
    candidates = [Path(start or Path.cwd()).resolve(), Path(__file__).resolve()]
    for candidate in candidates:
        for folder in (candidate, *candidate.parents):
            if _is_project_root(folder):
                return folder
    raise ProjectRootNotFoundError(
        "Could not find the kosovo_study project folder (a pyproject.toml naming "
        "'kosovo-study'). Run the command inside a clone of the repository, or set "
        f"{ROOT_ENV} to the clone's path."
    )


@dataclass(frozen=True)
class ProjectPaths:
    """The fixed layout of a kosovo_study project, relative to its root."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def raw(self) -> Path:
        """Third-party files fetched by the registry (git-ignored)."""
        return self.data / "raw"

    @property
    def registry_file(self) -> Path:
        return self.raw / "registry.csv"

    @property
    def transcribed(self) -> Path:
        """Published facts transcribed by hand, committed, each row with a source_key."""
        return self.raw / "transcribed"

    @property
    def restricted(self) -> Path:
        """Confidential inputs a researcher supplies (git-ignored, never published)."""
        return self.raw / "restricted"

    def interview_export(self) -> Path | None:
        """The restricted interview export a researcher supplied
        (``restricted/interviews.{qdpx,csv,xlsx}``, the first that exists), or None.
        Here, not in the interviews package, so that the replication record and
        ``verify`` can find it without importing the interview pipeline."""
        for suffix in (".qdpx", ".csv", ".xlsx"):
            candidate = self.restricted / f"interviews{suffix}"
            if candidate.exists():
                return candidate
        return None

    @property
    def processed(self) -> Path:
        return self.data / "processed"

    @property
    def results(self) -> Path:
        return self.processed / "results"

    @property
    def manifests(self) -> Path:
        return self.processed / "manifests"

    @property
    def book(self) -> Path:
        return self.root / "book"

    @property
    def book_build(self) -> Path:
        return self.book / "_build"

    @property
    def bibliography(self) -> Path:
        return self.book / "references.bib"


def project_paths(start: Path | None = None) -> ProjectPaths:
    """The layout of the project that contains ``start`` (default: the working directory)."""
    return ProjectPaths(find_root(start))


def mirror_dir() -> Path | None:
    """The local mirror of third-party files named by ``$KOSOVO_STUDY_MIRROR``, if set."""
    value = os.environ.get(MIRROR_ENV)
    return Path(value).expanduser().resolve() if value else None
