"""Checks of the built book: every page, image and internal link, and no error output.

:func:`check_site` reads every built HTML page and reports images whose files are
missing, internal links whose target page or anchor does not exist, and pages that
show a Python traceback or an execution-error cell.  :func:`screenshot` opens a page
in headless Chromium (when installed) and saves a PNG, so a person can look at it.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

ERROR_MARKERS = ("Traceback (most recent call last)", "CellExecutionError", 'class="output error"')


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if tag == "img" and values.get("src"):
            self.images.append(str(values["src"]))
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))


def _parse(page: Path) -> _Collector:
    collector = _Collector()
    collector.feed(page.read_text(encoding="utf-8"))
    return collector


def check_site(html_dir: Path) -> list[str]:
    """Every problem found in the built HTML book (an empty list when all is well)."""
    pages = {p.name: _parse(p) for p in sorted(html_dir.glob("*.html"))}
    problems: list[str] = []
    for name, page in pages.items():
        text = (html_dir / name).read_text(encoding="utf-8")
        problems += [f"{name}: shows '{m}'" for m in ERROR_MARKERS if m in text]
        for source in page.images:
            if urlparse(source).scheme in {"http", "https", "data"}:
                continue
            if not (html_dir / unquote(source)).exists():
                problems.append(f"{name}: image {source} is missing")
        for link in page.links:
            parsed = urlparse(link)
            if parsed.scheme or link.startswith(("mailto:", "javascript:")):
                continue
            target = parsed.path or name
            if not target.endswith(".html"):
                continue
            if target not in pages:
                problems.append(f"{name}: link to {link} has no page")
            elif parsed.fragment and parsed.fragment not in pages[target].ids:
                problems.append(f"{name}: link to {link} has no anchor {parsed.fragment!r}")
    return problems


#: Flags for a headless Chromium that talks to no server (this machine has no network).
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def run_chromium(chromium: str, *arguments: str, timeout: int = 120) -> str:
    """Run headless Chromium with a throw-away profile; return its standard output."""
    with tempfile.TemporaryDirectory() as profile:
        completed = subprocess.run(
            [chromium, *HEADLESS_FLAGS, f"--user-data-dir={profile}", *arguments],
            capture_output=True,
            text=True,
            check=True,
            timeout=timeout,
        )
    return completed.stdout


def screenshot(
    chromium: str, page: Path, target: Path, width: int = 1280, height: int = 1600
) -> Path:
    """Save a PNG of ``page`` rendered by headless Chromium."""
    target.parent.mkdir(parents=True, exist_ok=True)
    run_chromium(
        chromium,
        "--hide-scrollbars",
        f"--window-size={width},{height}",
        f"--screenshot={target}",
        page.as_uri(),
    )
    return target


def dom_after_load(chromium: str, page: Path) -> str:
    """The page's DOM after Chromium has loaded it and run its scripts."""
    return re.sub(r"\s+", " ", run_chromium(chromium, "--dump-dom", page.as_uri()))
