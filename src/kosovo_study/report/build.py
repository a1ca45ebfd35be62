"""The ``book`` stage: processed data and results -> ``book/_build/html`` (and a PDF).

Pages are MyST notebooks executed with jupyter-cache, which re-executes a page only
when its code changes.  Pages also read data and results, which jupyter-cache cannot
see, so this stage fingerprints those inputs and clears the cache when they change:
a rebuild with nothing changed reuses every executed page, and a rebuild after a
change in the data re-executes them.  Sphinx warnings are errors, so a broken
reference, a missing citation or a missing figure fails the build.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from kosovo_study.citation import write_bibliography
from kosovo_study.errors import KosovoStudyError
from kosovo_study.interviews.privacy import guard_book
from kosovo_study.manifest import StageResult, code_fingerprint, run_stage
from kosovo_study.paths import ProjectPaths, project_paths
from kosovo_study.report.check import run_chromium

CACHE = ".jupyter_cache"
FINGERPRINT = ".data_fingerprint"


def data_inputs(paths: ProjectPaths) -> list[Path]:
    """Data and results the pages read (not the page sources)."""
    return sorted(
        [
            *paths.processed.glob("*.parquet"),
            *paths.results.glob("*.csv"),
            paths.results / "metadata.json",
        ]
    )


def book_sources(paths: ProjectPaths) -> list[Path]:
    return sorted(
        p
        for p in paths.book.rglob("*")
        if p.is_file() and "_build" not in p.parts and p.suffix in {".md", ".yml", ".bib", ".css"}
    )


def fingerprint(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def refresh_cache(paths: ProjectPaths) -> bool:
    """Clear the execution cache if the data or package code changed; True if cleared."""
    paths.book_build.mkdir(parents=True, exist_ok=True)
    marker = paths.book_build / FINGERPRINT
    # The pages call package code too: a change in it must re-execute them as well.
    current = fingerprint(data_inputs(paths)) + code_fingerprint()
    if marker.exists() and marker.read_text() == current:
        return False
    shutil.rmtree(paths.book_build / CACHE, ignore_errors=True)
    marker.write_text(current)
    return True


def jupyter_book(paths: ProjectPaths, builder: str = "html", everything: bool = False) -> None:
    # The console script installed beside this interpreter (the docs dependency group).
    executable = Path(sys.executable).parent / "jupyter-book"
    if not executable.exists():
        raise KosovoStudyError(
            "jupyter-book is not installed in this environment. Install the docs group "
            "(`uv sync --group docs`) or run `nox -s book`."
        )
    command = [
        str(executable),
        "build",
        str(paths.book),
        "--builder",
        builder,
        "--warningiserror",
        "--keep-going",
        # Sphinx re-reads only changed sources; after a data change every page must be
        # re-read (and so re-executed) even though its source is the same.
        *(["--all"] if everything else []),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        log = paths.book_build / f"build-{builder}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(completed.stdout + completed.stderr, encoding="utf-8")
        tail = " ".join((completed.stdout + completed.stderr).strip().splitlines()[-3:])
        raise KosovoStudyError(
            f"jupyter-book ({builder}) failed: {tail} The full log is in {log}. Fix the "
            "page or reference it names and rerun `kosovo-study book`."
        )


def build(paths: ProjectPaths | None = None, force: bool = False) -> StageResult:
    """Build the HTML book (skipped when sources, data and code are unchanged)."""
    paths = paths or project_paths()
    write_bibliography(paths)

    def run() -> list[Path]:
        jupyter_book(paths, "html", everything=refresh_cache(paths))
        guard_book(paths.book_build / "html")
        return [paths.book_build / "html" / "index.html"]

    return run_stage("book", [*data_inputs(paths), *book_sources(paths)], run, paths, force=force)


CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise KosovoStudyError(
        "The PDF is printed by headless Chromium, which is not installed. Install it "
        "(Debian/Ubuntu: `apt-get install chromium`) and rerun `kosovo-study book --pdf`."
    )


def build_pdf(paths: ProjectPaths | None = None) -> Path:
    """Print the single-page HTML book to ``book/_build/pdf/kosovo_study.pdf`` with Chromium.

    Offline: no LaTeX, no download; the single-page build reuses the execution cache.
    """
    paths = paths or project_paths()
    chromium = find_chromium()
    jupyter_book(paths, "singlehtml", everything=refresh_cache(paths))
    # index.html is only a redirect to the root document named in _toc.yml.
    root = yaml.safe_load((paths.book / "_toc.yml").read_text(encoding="utf-8"))["root"]
    page = paths.book_build / "singlehtml" / f"{root}.html"
    target = paths.book_build / "pdf" / "kosovo_study.pdf"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial.pdf")
    try:
        run_chromium(
            chromium,
            "--no-pdf-header-footer",
            f"--print-to-pdf={partial}",
            page.as_uri(),
            timeout=600,
        )
    except subprocess.CalledProcessError as error:
        partial.unlink(missing_ok=True)
        raise KosovoStudyError(
            f"Chromium could not print {page} to PDF: {error.stderr[-300:]}"
        ) from None
    if not partial.exists() or partial.read_bytes()[:4] != b"%PDF":
        partial.unlink(missing_ok=True)
        raise KosovoStudyError(f"Chromium wrote no PDF for {page}. Rerun with a newer Chromium.")
    partial.replace(target)
    return target
