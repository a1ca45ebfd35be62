#!/usr/bin/env -S uv run --script
# /// script
# dependencies = ["nox>=2025.2.9"]
# ///
"""Every way to rerun this project.  ``nox -l`` lists the sessions.

Sessions use uv (and the committed ``uv.lock``) when uv is installed, and plain
virtualenv + pip otherwise.  No session downloads an interpreter: they run on the
Python that runs nox.  The only network access is package installation and
``kosovo-study fetch`` (which uses ``$KOSOVO_STUDY_MIRROR`` when it is set).
"""

from __future__ import annotations

import os

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")

PYPROJECT = nox.project.load_toml("pyproject.toml")


def install_project(session: nox.Session, *groups: str) -> None:
    """Install the package (editable) and the named dependency groups."""
    if session.venv_backend == "uv":
        session.run_install(
            "uv",
            "sync",
            "--locked",
            "--no-default-groups",
            *(f"--group={group}" for group in groups),
            # Byte-compile at install: with PYTHONDONTWRITEBYTECODE set (as on some CI
            # machines) every process would otherwise recompile every import from source,
            # about 7 CPU-seconds per process here (issue 14).
            env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location, "UV_COMPILE_BYTECODE": "1"},
        )
    else:
        session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, *groups))


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite with coverage (the docs group too: one test builds the book)."""
    install_project(session, "test", "docs")
    session.run(
        "pytest", "--cov=kosovo_study", "--cov-report=term", "--cov-report=xml", *session.posargs
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy (strict) on src/."""
    install_project(session, "dev")
    session.run("mypy")


@nox.session(default=False)
def citation(session: nox.Session) -> None:
    """Validate CITATION.cff with cffconvert (kept apart: it pins an old jsonschema)."""
    session.install("cffconvert==2.0.0")
    session.run("cffconvert", "--validate", "--infile", "CITATION.cff")


@nox.session(name="repo-review", default=False)
def repo_review(session: nox.Session) -> None:
    """Scientific Python development guide checks (sp-repo-review)."""
    session.install("sp-repo-review[cli]")
    session.run("repo-review", ".")


@nox.session(default=False)
def data(session: nox.Session) -> None:
    """Fetch the raw files (hash-checked) and clean them into data/processed."""
    install_project(session)
    session.run("kosovo-study", "fetch")
    session.run("kosovo-study", "clean", *session.posargs)


@nox.session(default=False)
def analysis(session: nox.Session) -> None:
    """Fit every model from the processed tables."""
    install_project(session)
    session.run("kosovo-study", "models", *session.posargs)
    session.run("kosovo-study", "multiverse", *session.posargs)


@nox.session(default=False)
def book(session: nox.Session) -> None:
    """Build the Jupyter Book (HTML) from the computed results; warnings are errors."""
    install_project(session, "docs")
    session.run("kosovo-study", "book", *session.posargs)


@nox.session(default=False)
def pdf(session: nox.Session) -> None:
    """Print the built book to book/_build/pdf/kosovo_study.pdf with headless Chromium.

    Chromium comes from the system (Debian/Ubuntu: `apt-get install chromium`); the
    session installs it with apt-get when it runs as root and it is missing.
    """
    import shutil

    missing = not any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome"))
    if missing and shutil.which("apt-get") and os.geteuid() == 0:
        session.run("apt-get", "install", "-y", "-q", "chromium", external=True)
    install_project(session, "docs")
    session.run("kosovo-study", "book", "--pdf")


@nox.session(default=False)
def report(session: nox.Session) -> None:
    """Everything, from raw data to the built book."""
    install_project(session, "docs")
    session.run("kosovo-study", "report", *session.posargs)


if __name__ == "__main__":
    nox.main()
