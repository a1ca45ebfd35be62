"""The ``book`` stage: processed data and results -> ``book/_build/html`` (and a PDF).

Pages are MyST notebooks executed with jupyter-cache, which re-executes a page only
when its code changes.  Pages also read data and results, which jupyter-cache cannot
see, so this stage fingerprints those inputs and clears the cache when they change:
a rebuild with nothing changed reuses every executed page, and a rebuild after a
change in the data re-executes them.  Sphinx warnings are errors, so a broken
reference, a missing citation or a missing figure fails the build.

Speed: Sphinx executes pages one after the other.  Before it runs, this stage executes
the pages missing from the cache in parallel (one kernel per page, ``jobs`` at a time),
reading each page with myst-nb's own reader so that the cache entries are exactly the
ones Sphinx then looks up; Sphinx then only reads and renders.

Hygiene: after an incremental build, images that no page references any more are
deleted (``prune_unreferenced``), as are cache entries of pages that no longer exist in
that form: they may hold figures of earlier (e.g. restricted) data.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from kosovo_study.citation import write_bibliography
from kosovo_study.errors import KosovoStudyError
from kosovo_study.interviews.privacy import guard_book
from kosovo_study.manifest import code_fingerprint
from kosovo_study.paths import ProjectPaths, project_paths
from kosovo_study.report.check import run_chromium
from kosovo_study.report.sphinx_ext import PDF_NAME
from kosovo_study.storage import write_text_atomic

CACHE = ".jupyter_cache"
FINGERPRINT = ".data_fingerprint"
#: Seconds of each part of the last build (read by benchmarks/report.py).
TIMINGS = "timings.json"


class _Clock:
    """Wall-clock seconds of the parts of one build, in order."""

    def __init__(self) -> None:
        import time

        self._now = time.perf_counter
        self._last = self._now()
        self.parts: dict[str, float] = {}

    def lap(self, part: str) -> None:
        now = self._now()
        self.parts[part] = round(now - self._last, 3)
        self._last = now

    def write(self, path: Path) -> None:
        import json

        write_text_atomic(path, json.dumps(self.parts, indent=2) + "\n")


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
        if p.is_file()
        and "_build" not in p.parts
        and p.suffix in {".md", ".yml", ".bib", ".css", ".ipynb"}
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


def _notebook_pages(paths: ProjectPaths) -> list[Path]:
    """Book pages that are MyST notebooks (text with a jupytext/kernelspec header)."""
    from myst_nb.core.read import is_myst_markdown_notebook

    return [
        page
        for page in sorted(paths.book.glob("*.md"))
        if is_myst_markdown_notebook(page.read_text(encoding="utf-8"))
    ]


def research_notebooks(paths: ProjectPaths) -> list[Path]:
    """The research notebooks the book shows (``book/notebooks/*.ipynb``, links to
    ``notebooks/``), executed by the book stage in a scratch copy of the project."""
    return sorted(paths.book.glob("notebooks/*.ipynb"))


def scratch_project(paths: ProjectPaths) -> Path:
    """A throw-away copy of the project for the research notebooks: its settings, the
    analysis plan and ``data/`` without the restricted files.

    Why: notebooks run pipeline stages on the project they find (03 runs the models
    stage, 01 and 03 fetch and clean).  Executed on the project itself while the book
    builds, a notebook rewrote the result files the pages were reading (with the
    project's settings, not the ones the results were made with).  In the copy they
    change nothing the book reads, and no restricted file reaches a published notebook
    output.  The copy's manifests are the project's, so its stages are skipped when the
    project's are up to date.
    """
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="kosovo_study_notebooks_"))
    for name in ("pyproject.toml", "analysis_plan.yaml", "uv.lock"):
        if (paths.root / name).is_file():
            shutil.copy2(paths.root / name, root / name)
    shutil.copytree(
        paths.data,
        root / "data",
        symlinks=True,
        ignore=shutil.ignore_patterns("restricted", ".staging*", "*.partial*", "*.lock"),
    )
    return root


def _read_page(page: Path) -> Any:
    """The notebook myst-nb makes of a page (same reader and options as in the build)."""
    from myst_nb.core.read import read_myst_markdown_notebook
    from myst_parser.config.main import MdParserConfig

    if page.suffix == ".ipynb":
        from myst_nb.core.read import standard_nb_read

        return standard_nb_read(page.read_text(encoding="utf-8"))

    return read_myst_markdown_notebook(
        page.read_text(encoding="utf-8"),
        config=MdParserConfig(),
        add_source_map=True,
        path=str(page),
    )


#: Run silently in a kernel before it executes its first page: the matplotlib settings a
#: fresh kernel has once pyplot is imported, kept to restore between pages.
_KERNEL_SNAPSHOT = """\
import matplotlib
import matplotlib.pyplot
get_ipython()._kosovo_study_rc = dict(matplotlib.rcParams)
del matplotlib
"""

#: Run silently in a kernel between two pages: the next page starts as in a fresh kernel
#: (no names, no output history, no open figures, the same matplotlib settings, and cell
#: numbers from 1) but finds the imported modules already loaded.
_KERNEL_RESET = """\
get_ipython().run_line_magic("reset", "-f")
import matplotlib
import matplotlib.pyplot
matplotlib.pyplot.close("all")
dict.update(matplotlib.rcParams, get_ipython()._kosovo_study_rc)
get_ipython().execution_count = 1
del matplotlib
"""


class _Kernel:
    """One ipykernel that executes pages one after the other (reset between pages).

    A page's own run time is a few seconds; starting a kernel and importing pandas,
    matplotlib and this package costs as much again, so each kernel runs several pages.
    """

    def __init__(self, name: str, cwd: str, root: str | None = None) -> None:
        #: ``root``: the project the kernel's code sees (``$KOSOVO_STUDY_ROOT``), for the
        #: research notebooks a scratch copy (:func:`scratch_project`)
        self.key = (name, cwd, root)
        self.used = False
        self.manager: Any = None

    async def start(self) -> None:
        from jupyter_client.manager import AsyncKernelManager

        from kosovo_study.paths import ROOT_ENV

        self.manager = AsyncKernelManager(kernel_name=self.key[0])
        env = dict(os.environ)
        if self.key[2] is not None:
            env[ROOT_ENV] = self.key[2]
        # As nbclient starts a kernel: history in memory, not in the user's profile.
        await self.manager.start_kernel(
            cwd=self.key[1], env=env, extra_arguments=["--HistoryManager.hist_file=:memory:"]
        )

    async def run_silently(self, code: str, timeout: int) -> None:
        client = self.manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=timeout)
            reply = await client.execute_interactive(
                code, silent=True, store_history=False, timeout=timeout, allow_stdin=False
            )
        finally:
            client.stop_channels()
        if reply["content"]["status"] != "ok":
            raise KosovoStudyError(
                "Could not reset the kernel between two book pages: "
                f"{reply['content'].get('ename')}: {reply['content'].get('evalue')}. "
                "Rerun `kosovo-study book`; if it persists, report it as a bug."
            )

    async def execute(self, page: Path, timeout: int) -> tuple[Any, float, str | None]:
        """Execute ``page`` as jupyter-cache would (same client options); returns the
        executed notebook, the seconds and the traceback of a failed cell (or None)."""
        import time
        import traceback

        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError

        notebook = _read_page(page)
        allow_errors = False
        execution = notebook.metadata.get("execution", {})
        timeout = execution.get("timeout", timeout)  # jupyter-cache's meta_override
        allow_errors = execution.get("allow_errors", allow_errors)
        await self.run_silently(_KERNEL_RESET if self.used else _KERNEL_SNAPSHOT, timeout)
        self.used = True
        client = NotebookClient(
            notebook,
            km=self.manager,
            timeout=timeout,
            allow_errors=allow_errors,
            record_timing=False,
            resources={"metadata": {"path": self.key[1]}},
        )
        started = time.perf_counter()
        error = None
        try:
            await client.async_execute()
        except (CellExecutionError, CellTimeoutError):
            error = traceback.format_exc()
        finally:
            if client.kc is not None:
                client.kc.stop_channels()
        return notebook, time.perf_counter() - started, error

    async def shutdown(self) -> None:
        if self.manager is not None and self.manager.has_kernel:
            await self.manager.shutdown_kernel(now=True)
        self.manager = None


async def _execute_all(
    pages: list[Path], jobs: int, timeout: int, scratch: Path | None = None
) -> dict[Path, tuple[Any, float, str | None]]:
    """Execute ``pages`` on ``jobs`` kernels, each taking the next page when it is free
    (research notebooks in ``scratch``, see :func:`scratch_project`)."""
    import asyncio

    queue = list(pages)
    outcomes: dict[Path, tuple[Any, float, str | None]] = {}

    async def worker() -> None:
        kernel: _Kernel | None = None
        try:
            while queue:
                page = queue.pop(0)
                name = _read_page(page).metadata.get("kernelspec", {}).get("name", "python3")
                notebook = page.suffix == ".ipynb" and scratch is not None
                place = (str(scratch), str(scratch)) if notebook else (str(page.parent), None)
                if kernel is not None and kernel.key != (name, *place):
                    await kernel.shutdown()
                    kernel = None
                if kernel is None:
                    kernel = _Kernel(name, *place)
                    await kernel.start()
                outcomes[page] = await kernel.execute(page, timeout)
                # A research notebook gets a kernel of its own, as in Jupyter: the reset
                # between pages clears __main__ (its __spec__ too, which Dask's worker
                # processes need), and notebooks are written for a fresh kernel.
                if outcomes[page][2] is not None or notebook:
                    # A failed page may have left anything behind: the next gets a new kernel.
                    await kernel.shutdown()
                    kernel = None
        finally:
            if kernel is not None:
                await kernel.shutdown()

    await asyncio.gather(*(worker() for _ in range(max(1, min(jobs, len(pages))))))
    return outcomes


def _longest_first(pages: list[Path]) -> list[Path]:
    """``pages`` with the likely longest first, so that no long page starts last while
    the other kernel idles (longest-processing-time-first scheduling).

    Drawing and saving figures dominates a page's run time (about 3 s per map, 1 s per
    chart on 2 busy cores), so pages are ordered by their ``show_figure`` calls, then by
    their size; the order changes no output (each page starts as in a fresh kernel).
    """
    return sorted(
        pages,
        key=lambda page: (
            -page.read_text(encoding="utf-8").count("show_figure("),
            -page.stat().st_size,
            page.name,
        ),
    )


def _run_coroutine(coroutine: Any) -> Any:
    """Run ``coroutine`` to completion, also when called from a running event loop (a
    Jupyter notebook calling the book stage): there, in a thread with its own loop."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def execute_pages(paths: ProjectPaths, jobs: int = 2, timeout: int = 600) -> list[Path]:
    """Execute, in parallel, the pages whose code is not in the execution cache; store
    them in the cache Sphinx reads, and drop cache entries no current page matches.

    ``jobs`` kernels run at a time; each executes several pages in turn, reset between
    pages (see :class:`_Kernel`), so the kernel start-up and the imports are paid once
    per kernel rather than once per page.  Returns the pages executed.  A page that
    raises stops the build with its traceback (the book's pages must run cleanly).
    """
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(paths.book_build / CACHE))
    pending: list[Path] = []
    current: set[int] = set()
    for page in [*_notebook_pages(paths), *research_notebooks(paths)]:
        try:
            current.add(cache.match_cache_notebook(_read_page(page)).pk)
        except KeyError:
            pending.append(page)
    scratch = scratch_project(paths) if any(p.suffix == ".ipynb" for p in pending) else None
    if pending:
        try:
            # the research notebooks last: pages first, so that a failing page stops early
            order = _longest_first([p for p in pending if p.suffix != ".ipynb"]) + [
                p for p in pending if p.suffix == ".ipynb"
            ]
            outcomes = _run_coroutine(_execute_all(order, jobs, timeout, scratch))
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
        for source in pending:  # in page order: the first failing page is reported
            notebook, seconds, error = outcomes[source]
            if error is not None:
                log = paths.book_build / f"execute-{source.stem}.log"
                log.write_text(error, encoding="utf-8")
                raise KosovoStudyError(
                    f"The book page {source} failed to execute: "
                    f"{error.strip().splitlines()[-1]} The traceback is in {log}. Fix the "
                    "page (or the results it reads) and rerun `kosovo-study book`."
                )
            if source.suffix == ".ipynb":
                _drop_stderr(notebook)
            record = cache.cache_notebook_bundle(
                CacheBundleIn(notebook, str(source), data={"execution_seconds": seconds}),
                check_validity=False,
                overwrite=True,
            )
            current.add(record.pk)
    for record in cache.list_cache_records():
        if record.pk not in current:
            cache.remove_cache(record.pk)
    return pending


def _drop_stderr(notebook: Any) -> None:
    """Remove a research notebook's stderr streams (Dask's worker shutdown log,
    statsmodels' convergence warning in the engine comparison): the book treats a page's
    stderr as an error, and for a notebook they are log noise, not results."""
    for cell in notebook.cells:
        if cell.get("outputs"):
            cell.outputs = [
                output
                for output in cell.outputs
                if not (output.get("output_type") == "stream" and output.get("name") == "stderr")
            ]


_REFERENCE = re.compile(r"""(?:src|href|srcset|data-src)\s*=\s*["']([^"']+)["']|url\(([^)]+)\)""")
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".pdf"}


def prune_unreferenced(site: Path) -> list[Path]:
    """Delete images under ``site`` that no HTML page or stylesheet references.

    Sphinx copies each figure into ``_images`` but never deletes one: after the data or a
    page changes, the old figure would stay published.  Theme assets under ``_static``
    are kept.  Returns the files deleted.
    """
    referenced: set[Path] = set()
    for document in [*site.rglob("*.html"), *site.rglob("*.css")]:
        text = document.read_text(encoding="utf-8", errors="replace")
        for match in _REFERENCE.finditer(text):
            for item in (match.group(1) or match.group(2) or "").split(","):
                target = unquote(urlsplit(item.strip().strip("'\"").split(" ")[0]).path)
                if target:
                    referenced.add((document.parent / target).resolve())
    deleted = []
    for path in sorted(site.rglob("*")):
        if (
            path.is_file()
            and path.suffix.lower() in _IMAGE_SUFFIXES
            and "_static" not in path.relative_to(site).parts
            and path.resolve() not in referenced
        ):
            path.unlink()
            deleted.append(path)
    return deleted


def prune_executed_images(paths: ProjectPaths, site: Path) -> list[Path]:
    """Delete figures in ``_build/jupyter_execute`` that the built site no longer uses.

    myst-nb writes each page output image there (named by its hash) and Sphinx copies
    the ones pages reference into ``_images`` under the same name; the rest are left
    over from earlier builds.  Run after :func:`prune_unreferenced`.
    """
    folder = paths.book_build / "jupyter_execute"
    published = {path.name for path in (site / "_images").glob("*")}
    deleted = []
    for path in sorted(folder.rglob("*")) if folder.exists() else []:
        if path.is_file() and path.suffix.lower() in _IMAGE_SUFFIXES and path.name not in published:
            path.unlink()
            deleted.append(path)
    return deleted


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


def built_files(paths: ProjectPaths) -> list[Path]:
    """Every built page (HTML), every image the pages show, and every figure and table
    file beside them (``_build/figures``): the book stage's outputs, all in its manifest,
    so that a deleted or edited page or figure reruns the stage."""
    html = paths.book_build / "html"
    figures = paths.book_build / "figures"
    pages = sorted(html.rglob("*.html")) if html.is_dir() else []
    images = sorted(p for p in (html / "_images").glob("*") if p.is_file())
    saved = sorted(p for p in figures.glob("*") if p.is_file()) if figures.is_dir() else []
    printed = [p for p in (paths.book_build / "pdf" / PDF_NAME,) if p.is_file()]
    return [*pages, *images, *saved, *printed]


def prepare(paths: ProjectPaths) -> None:
    """Regenerate ``book/references.bib`` (a page source: before the stage key is taken)."""
    write_bibliography(paths)


def build_html(
    paths: ProjectPaths | None = None, jobs: int | None = None, pdf: bool = False
) -> list[Path]:
    """Build the HTML book; returns :func:`built_files`.  Run it as the ``book`` stage
    (``kosovo_study.stages.run("book")``), which skips it when nothing changed.

    ``jobs`` pages are executed at a time (default: the number of processors, at most 4).
    With ``pdf`` (the report stage's book step) the PDF is printed in the same run, so
    the footer's "PDF of the whole book" link of every HTML page resolves.
    """
    jobs = jobs or min(4, os.cpu_count() or 1)
    paths = paths or project_paths()
    clock = _Clock()
    everything = refresh_cache(paths)
    clock.lap("fingerprint")
    executed = execute_pages(paths, jobs=jobs)
    clock.lap(f"execute ({len(executed)} pages, {jobs} kernels)")
    jupyter_book(paths, "html", everything=everything)
    clock.lap("sphinx (jupyter-book build)")
    prune_unreferenced(paths.book_build / "html")
    prune_executed_images(paths, paths.book_build / "html")
    clock.lap("prune")
    guard_book(paths.book_build / "html")
    clock.lap("privacy guard")
    if pdf:
        _single_page_and_print(paths, everything)
        clock.lap("pdf (single-page build and Chromium print)")
    clock.write(paths.book_build / TIMINGS)
    return built_files(paths)


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


#: Chapters left out of the print edition: the API reference is for readers of the code
#: and is published with the HTML book (issue 21: 17 of 72 printed pages).
#: Pages left out of the print edition: the API reference and the executed notebooks
#: (60 pages of code and output; the Notebooks page that lists them is printed, and
#: the notebooks themselves are files of the repository).
PRINT_OMITS = (
    "api",
    "notebooks/01-explore-municipal-data",
    "notebooks/02-supply-restricted-data",
    "notebooks/03-crossnational-replication",
    "notebooks/04-multiverse-on-a-dask-cluster",
    "notebooks/05-engine-against-statsmodels",
)
#: Chapters printed without a number (the title page is the root document).
PRINT_UNNUMBERED = ("references",)
#: Width (pt) of the text column of a portrait page: A4 (595 pt) less the print
#: stylesheet's side margins (12 mm each, book/_static/custom.css).  A figure wider
#: than this is printed turned a quarter on a page of its own rather than shrunk, so
#: that its text keeps the size it was drawn at (report.style: at least 8 pt).
PRINT_COLUMN_PT = 595.0 - 2 * 12 / 25.4 * 72


def _svg_size_pt(svg: Path) -> tuple[float, float]:
    """The width and height (pt) of a matplotlib SVG, from its root element."""
    head = svg.read_text(encoding="utf-8", errors="replace")[:4000]
    sizes = []
    for attribute in ("width", "height"):
        match = re.search(rf'<svg[^>]*\s{attribute}="([\d.]+)(pt|px)?"', head)
        if match is None:
            raise KosovoStudyError(f"{svg}: no {attribute} on its <svg> element; rebuild it.")
        value = float(match.group(1))
        sizes.append(value if match.group(2) in (None, "pt") else value * 0.75)
    return sizes[0], sizes[1]


def print_edition(
    page: Path, numbers: dict[str, int] | None = None
) -> tuple[str, list[tuple[str, str, str]]]:
    """The single-page book as the PDF prints it (HTML text), and its chapters as
    (section id, number, title).

    * chapters numbered (1, 2, ...), the contents page listing them with the page each
      starts on (``numbers``: chapter id -> page, from a first print) and linking to it;
    * the API reference and the executed notebooks left out (:data:`PRINT_OMITS`);
    * each figure printed from the SVG the report wrote, at the size it was drawn (a
      figure wider than the text column turned a quarter on a page of its own);
    * no link to a file of the build folder: download chips (PNG, SVG, data) and links
      into the left-out API reference are dropped; links to other parts of the book are
      anchors inside the PDF.
    """
    from bs4 import BeautifulSoup
    from bs4.element import NavigableString

    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    # The printed book is one document: "intro.html#x" is "#x" (else Chromium writes a
    # file:// link to the build folder).
    for link in soup.find_all("a", href=True):
        href = str(link["href"])
        if href.startswith(f"{page.name}#"):
            link["href"] = href[len(page.name) :]
    for name in PRINT_OMITS:
        anchor = soup.find("span", id=f"document-{name}")
        if anchor is not None:
            following = anchor.find_next_sibling("section")
            if following is not None:
                following.decompose()
            anchor.decompose()
    _print_figures(soup, page.parent)
    known = {str(tag["id"]) for tag in soup.find_all(id=True)}
    for link in soup.find_all("a", href=True):
        if link.decomposed:  # dropped with a chip before it
            continue
        href = str(link["href"])
        if "download" in (link.get("class") or []) or href.startswith("_downloads/"):
            _drop_chip(link, NavigableString)
        elif href.startswith("#") and href[1:] not in known:
            link.unwrap()  # into the left-out API reference: the text stays
    chapters = _number_chapters(soup)
    _contents(soup, chapters, numbers or {})
    return str(soup), chapters


def _drop_chip(link: Any, text_type: Any) -> None:
    """Remove a download link and the " · " that joins it to its neighbours; a
    paragraph left with only a "code" link or nothing is removed too."""
    parent = link.parent
    for sibling in (link.previous_sibling, link.next_sibling):
        if isinstance(sibling, text_type) and sibling.strip() in {"·", ""}:
            sibling.extract()
    link.decompose()
    if parent is not None and parent.name == "p":
        remaining = parent.get_text(" ", strip=True).replace("·", "").split()
        if remaining in ([], ["code"]):
            parent.decompose()
    elif parent is not None:
        # a caption: a "code" link left alone after the chips goes too
        for code in parent.find_all("a", href=True):
            if code.get_text(strip=True) == "code":
                previous = code.previous_sibling
                if isinstance(previous, text_type) and previous.strip() in {"·", ""}:
                    previous.extract()
                code.decompose()


def _print_figures(soup: Any, site: Path) -> None:
    """Point each figure at the SVG the report wrote (its caption's SVG download) and
    give it its drawn width; a figure wider than the text column goes landscape."""
    for figure in soup.find_all("figure"):
        image = figure.find("img")
        vector = figure.find("a", href=re.compile(r"\.svg$"))
        if image is None or vector is None:
            continue
        svg = site / unquote(str(vector["href"]))
        if not svg.exists():
            continue
        width, height = _svg_size_pt(svg)
        image["src"] = str(vector["href"])
        image["style"] = f"width: {width:.2f}pt; height: {height:.2f}pt; max-width: none"
        classes = list(figure.get("class") or [])
        classes.append("kosovo-print-figure")
        if width > PRINT_COLUMN_PT:
            # Turned a quarter clockwise on a page of its own: a box as tall as the
            # figure is wide, the image rotated about its top-left corner and moved
            # right by its height (a rotation keeps the text size).
            classes.append("kosovo-wide")
            box = soup.new_tag(
                "div",
                attrs={
                    "class": "kosovo-turn",
                    "style": f"position: relative; width: {height:.2f}pt; height: {width:.2f}pt",
                },
            )
            image.wrap(box)
            image["style"] += (
                "; position: absolute; top: 0; left: 0; transform-origin: 0 0; "
                f"transform: translateX({height:.2f}pt) rotate(90deg)"
            )
        figure["class"] = classes


def _number_chapters(soup: Any) -> list[tuple[str, str, str]]:
    """Number the chapters' headings; returns (id, number, title) per chapter."""
    chapters = []
    number = 0
    for anchor in soup.select('span[id^="document-"]'):
        section = anchor.find_next_sibling("section")
        # the single-page build nests every chapter under the title: its heading is h2
        heading = section.find(["h1", "h2"]) if section is not None else None
        if heading is None:
            continue
        name = str(anchor["id"]).removeprefix("document-")
        for mark in heading.select("a.headerlink"):
            mark.decompose()
        title = heading.get_text(" ", strip=True)
        label = ""
        if name not in PRINT_UNNUMBERED:
            number += 1
            label = str(number)
            heading.insert(0, f"{label} ")
        chapters.append((str(section.get("id") or name), label, title))
    return chapters


def _contents(soup: Any, chapters: list[tuple[str, str, str]], pages: dict[str, int]) -> None:
    """The contents page: every printed chapter, its number and the page it starts on."""
    box = soup.select_one(".kosovo-contents")
    if box is None:
        return
    for old in box.find_all(["ol", "ul", "div"]):
        old.decompose()
    listing = soup.new_tag("ol", attrs={"class": "kosovo-print-contents"})
    for ident, label, title in chapters:
        item = soup.new_tag("li")
        link = soup.new_tag("a", href=f"#{ident}")
        link.append(f"{label} {title}".strip())
        item.append(link)
        page_number = soup.new_tag("span", attrs={"class": "kosovo-page"})
        # A placeholder of the same width keeps the first print's pagination.
        page_number.append(str(pages[ident]) if ident in pages else "00")
        item.append(page_number)
        listing.append(item)
    box.append(listing)


def outline_title(title: str) -> str:
    """A bookmark's title as the heading reads: Chromium writes the text of some
    headings twice ("Robustness: the multiverseRobustness: the multiverse"); the second
    copy is kept."""
    title = " ".join(title.split())
    head = title[: min(12, len(title) // 2)]
    if head:
        again = title.find(head, 1)
        if again > 0 and len(title) - again >= again:
            return title[again:]
    return title


def _clean_outline(pdf: Path) -> None:
    """Rewrite the PDF's bookmark titles with :func:`outline_title` (in place)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject, TextStringObject

    writer = PdfWriter(clone_from=PdfReader(pdf))
    outlines = writer.root_object.get("/Outlines")
    pending = [outlines.get_object().get("/First")] if outlines is not None else []
    while pending:
        node = pending.pop()
        if node is None:
            continue
        item = node.get_object()
        item[NameObject("/Title")] = TextStringObject(outline_title(str(item["/Title"])))
        pending.extend([item.get("/Next"), item.get("/First")])
    staged = pdf.with_suffix(".outline.pdf")
    with staged.open("wb") as handle:
        writer.write(handle)
    staged.replace(pdf)


def chapter_pages(pdf: Path, chapters: list[tuple[str, str, str]]) -> dict[str, int]:
    """``{chapter id: first page (1-based)}`` from the PDF's outline (Chromium's
    ``--generate-pdf-document-outline``), matching the numbered chapter headings (the
    first bookmark of that title, at any level)."""
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    top: dict[str, int] = {}
    pending: list[Any] = list(reader.outline)
    while pending:  # every level: chapters are nested under the title
        item = pending.pop(0)
        if isinstance(item, list):
            pending[:0] = item
            continue
        # Chromium drops the space where a long heading wraps ("Edgerton(2023)"): match
        # titles without their whitespace
        title = "".join(outline_title(str(item.title)).split())
        top.setdefault(title, (reader.get_destination_page_number(item) or 0) + 1)
    pages = {}
    for ident, label, title in chapters:
        heading = "".join(f"{label} {title}".split())
        if heading not in top:
            raise KosovoStudyError(
                f"{pdf}: no bookmark for the chapter {heading!r}; the PDF has "
                f"{sorted(top)}. Rerun with a Chromium that writes a document outline."
            )
        pages[ident] = top[heading]
    return pages


def _print(chromium: str, page: Path, target: Path) -> None:
    try:
        run_chromium(
            chromium,
            "--no-pdf-header-footer",
            "--generate-pdf-document-outline",
            f"--print-to-pdf={target}",
            page.as_uri(),
            timeout=600,
        )
    except subprocess.CalledProcessError as error:
        target.unlink(missing_ok=True)
        raise KosovoStudyError(
            f"Chromium could not print {page} to PDF: {error.stderr[-300:]}"
        ) from None
    if not target.exists() or target.read_bytes()[:4] != b"%PDF":
        target.unlink(missing_ok=True)
        raise KosovoStudyError(f"Chromium wrote no PDF for {page}. Rerun with a newer Chromium.")


def build_pdf(paths: ProjectPaths | None = None) -> Path:
    """Print the single-page HTML book to ``book/_build/pdf/kosovo_study.pdf`` with Chromium.

    Offline: no LaTeX, no download; the single-page build reuses the execution cache.
    The page is printed twice: the first print gives the page each chapter starts on
    (from the PDF's bookmarks), which the second writes into the contents page; the
    placeholders keep the pagination, and a third print runs if it moved all the same.
    """
    paths = paths or project_paths()
    chromium = find_chromium()
    everything = refresh_cache(paths)
    execute_pages(paths)
    return _single_page_and_print(paths, everything, chromium)


def _single_page_and_print(
    paths: ProjectPaths, everything: bool, chromium: str | None = None
) -> Path:
    """The single-page build (from the executed pages) and its print: the PDF's path."""
    jupyter_book(paths, "singlehtml", everything=everything)
    prune_unreferenced(paths.book_build / "singlehtml")
    return print_pdf(paths, chromium)


def print_pdf(paths: ProjectPaths, chromium: str | None = None) -> Path:
    """Print the built single-page book (``_build/singlehtml``) to the PDF; see
    :func:`build_pdf` (this is its last step, which needs no Sphinx run)."""
    chromium = chromium or find_chromium()
    # index.html is only a redirect to the root document named in _toc.yml.
    root = yaml.safe_load((paths.book / "_toc.yml").read_text(encoding="utf-8"))["root"]
    page = paths.book_build / "singlehtml" / f"{root}.html"
    printable = page.with_name(f"{root}.print.html")
    target = paths.book_build / "pdf" / PDF_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial.pdf")
    pages: dict[str, int] = {}
    for _ in range(3):
        text, chapters = print_edition(page, pages)
        write_text_atomic(printable, text)
        _print(chromium, printable, partial)
        found = chapter_pages(partial, chapters)
        if found == pages:
            break
        pages = found
    else:
        raise KosovoStudyError(
            f"The contents page numbers of {target} did not settle after three prints; "
            "report it as a bug."
        )
    _clean_outline(partial)
    partial.replace(target)
    # Every HTML page's footer links _static/kosovo_study.pdf: publish the new PDF there
    # too, so the link works without another HTML build.
    html_static = paths.book_build / "html" / "_static"
    if html_static.is_dir():
        copy = html_static / target.name
        staged = copy.with_suffix(".partial.pdf")
        shutil.copyfile(target, staged)
        staged.replace(copy)
    return target
