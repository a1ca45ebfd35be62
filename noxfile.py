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
    """The quick loop: every test not marked ``slow``, with coverage (about 4 minutes on 2
    cores). ``nox -s tests-all`` runs the slow ones and the notebooks too.

    The summary lists every skipped test, why, and how to provide what it needs. Set
    KOSOVO_STUDY_EXPECTED_SKIPS (e.g. ``mirror,qda``, or ``none``) to make any other skip
    fail the run, as CI does. Arguments go to pytest (``nox -s tests -- tests/test_cli.py``).
    """
    install_project(session, "test", "docs")
    session.run(
        "pytest",
        "-m",
        "not slow",
        "--cov=kosovo_study",
        "--cov-report=term",
        "--cov-report=xml",
        *session.posargs,
    )


@nox.session(name="tests-all", default=False)
def tests_all(session: nox.Session) -> None:
    """Every test, the slow ones included (the end-to-end book, the wheel, real fetches),
    with coverage, then every notebook: what CI and `.ci/run` run.

    The docs group is installed too: the end-to-end test builds the book.
    """
    install_project(session, "test", "docs")
    session.run(
        "pytest", "--cov=kosovo_study", "--cov-report=term", "--cov-report=xml", *session.posargs
    )
    if not session.posargs:
        session.notify("notebooks")


@nox.session
def notebooks(session: nox.Session) -> None:
    """Execute every notebook in notebooks/ with nbmake (each .ipynb, paired with its .py).

    nbmake does not write outputs back: the committed notebooks stay without outputs
    (tests/test_notebooks.py). The notebooks fetch and clean the raw data into data/ like
    any stage run (from $KOSOVO_STUDY_MIRROR when set); the ones that change data work in
    a scratch copy of the project.
    """
    install_project(session, "test")
    session.run(
        "pytest",
        "--nbmake",
        "--nbmake-timeout=1800",
        "-p",
        "no:cacheprovider",
        "notebooks",
        *session.posargs,
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check; zizmor on the GitHub workflows."""
    session.install("ruff>=0.6", "zizmor==1.32.0")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    # Offline: CI needs no GitHub token. The audits that query the GitHub API (impostor
    # commits, known-vulnerable actions) run with `GH_TOKEN=... zizmor .github/workflows`.
    session.run("zizmor", "--offline", ".github/workflows")


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
    # The stage list lives in kosovo_study.stages.STAGES; `report --to` runs a prefix of it.
    session.run("kosovo-study", "report", "--to", "clean", *session.posargs)


@nox.session(default=False)
def analysis(session: nox.Session) -> None:
    """Fit every model from the processed tables."""
    install_project(session)
    session.run(
        "kosovo-study", "report", "--from", "models", "--to", "multiverse", *session.posargs
    )


@nox.session(default=False)
def book(session: nox.Session) -> None:
    """Build the Jupyter Book (HTML) from the computed results; warnings are errors."""
    install_project(session, "docs")
    session.run("kosovo-study", "book", *session.posargs)


@nox.session(default=False)
def linkcheck(session: nox.Session) -> None:
    """Check every link of the built book (run after `report`; reuses its execution cache)."""
    install_project(session, "docs")
    session.run("jupyter-book", "build", "book", "--builder", "linkcheck", "--keep-going")


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


@nox.session(default=False)
def verify(session: nox.Session) -> None:
    """Rerun on the restricted data and compare every published number with the release
    (`nox -s verify -- --restricted FILE --key-file KEY`); exit status 2 without the file."""
    install_project(session, "docs")
    session.run("kosovo-study", "verify", *session.posargs)


if __name__ == "__main__":
    nox.main()
