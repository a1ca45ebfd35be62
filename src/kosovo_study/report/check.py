"""Checks of the built book: every page, image and link, the text, and a real browser.

* :func:`check_site` reads every built HTML page and reports images whose files are
  missing, internal links whose target page or anchor does not exist, and pages that
  show a Python traceback or an execution-error cell.
* :func:`text_defects` finds "nan", "None" or a Python repr shown as text, and
  :func:`malformed_external_urls` links that cannot work as written.
* :func:`browser_check` opens every page at 1280 and 390 px in headless Chromium
  (Playwright driving the system's binary) and reports console errors, horizontal
  page scroll, images that did not load and serious or critical axe-core violations,
  keeping a screenshot of each page.  :func:`screenshot` saves one PNG.
"""

from __future__ import annotations

import html
import posixpath
import re
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
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
    """Every problem found in the built HTML book (an empty list when all is well).

    Pages in sub-folders (the executed notebooks, ``notebooks/*.html``) are checked too,
    and their links read relative to their folder.
    """
    pages = {
        p.relative_to(html_dir).as_posix(): _parse(p)
        for p in sorted(html_dir.rglob("*.html"))
        if not p.relative_to(html_dir).parts[0].startswith("_")
    }
    problems: list[str] = []
    for name, page in pages.items():
        folder = posixpath.dirname(name)
        text = (html_dir / name).read_text(encoding="utf-8")
        problems += [f"{name}: shows '{m}'" for m in ERROR_MARKERS if m in text]
        for source in page.images:
            if urlparse(source).scheme in {"http", "https", "data"}:
                continue
            if not (html_dir / folder / unquote(source)).exists():
                problems.append(f"{name}: image {source} is missing")
        for link in page.links:
            parsed = urlparse(link)
            if parsed.scheme or link.startswith(("mailto:", "javascript:")):
                continue
            target = (
                posixpath.normpath(posixpath.join(folder, parsed.path)) if parsed.path else name
            )
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


_WRAPPER = """<!doctype html><html><body><pre id="result">pending</pre><script>
const pages = %s;
const failures = [];
let remaining = pages.length;
for (const page of pages) {
  const frame = document.createElement("iframe");
  frame.style.width = "1200px"; frame.style.height = "800px";
  frame.onload = () => {
    const images = Array.from(frame.contentDocument.images);
    Promise.all(images.map(img => img.complete ? Promise.resolve() :
        new Promise(done => { img.onload = done; img.onerror = done; }))).then(() => {
      for (const img of images) {
        if (!(img.complete && img.naturalWidth > 0)) failures.push(page + ": " + img.src);
      }
      remaining -= 1;
      if (remaining === 0) document.getElementById("result").textContent =
        "RESULT" + JSON.stringify(failures) + "END";
    });
  };
  frame.src = page;
  document.body.appendChild(frame);
}
</script></body></html>"""


def images_that_fail_to_load(chromium: str, html_dir: Path) -> list[str]:
    """Open every page in headless Chromium over HTTP (127.0.0.1) and list images that
    did not load (not complete, or zero natural width)."""
    import functools
    import http.server
    import json
    import threading

    pages = sorted(p.name for p in html_dir.glob("*.html") if not p.name.startswith("_"))
    wrapper = html_dir / "_imagecheck.html"
    wrapper.write_text(_WRAPPER % json.dumps(pages), encoding="utf-8")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            del format, args

    handler = functools.partial(Quiet, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/_imagecheck.html"
        dom = run_chromium(chromium, "--virtual-time-budget=60000", "--dump-dom", url, timeout=300)
    finally:
        server.shutdown()
        server.server_close()
        wrapper.unlink(missing_ok=True)
    match = re.search(r"RESULT(.*?)END", dom, flags=re.DOTALL)
    if match is None:
        return ["the image check did not finish in the browser"]
    failures: list[str] = json.loads(html.unescape(match.group(1)))
    return failures


# --- Checks in a real browser (Playwright driving the system's Chromium) -------------

#: Widths (CSS px) every page is checked at: a laptop and a phone.
WIDTHS = (1280, 390)
#: Colour schemes the reader may prefer; the theme follows prefers-color-scheme.
COLOR_SCHEMES = ("light", "dark")
#: axe-core impact levels that fail the check.
BLOCKING_IMPACTS = ("serious", "critical")


def malformed_external_urls(html_dir: Path) -> list[str]:
    """External links that cannot work as written: no host, spaces, BibTeX escapes."""
    problems = []
    for page in sorted(html_dir.glob("*.html")):
        for link in _parse(page).links:
            parsed = urlparse(link)
            if parsed.scheme not in {"http", "https"}:
                continue
            if not parsed.netloc or "." not in parsed.netloc:
                problems.append(f"{page.name}: {link} has no host")
            if any(bad in link for bad in (" ", "\\", "{", "}")):
                problems.append(f"{page.name}: {link} holds a space, backslash or brace")
    return problems


def text_defects(html_dir: Path) -> list[str]:
    """Pages that show "nan", "None", "NaN" or a Python repr (an object or a dict) as text."""
    patterns = {
        "a missing value printed as nan/None": re.compile(
            # "None" as the English word ("None of these ...") is prose, not a value.
            r"(?<![\w/.-])(?:nan|NaN)(?![\w/.-])|(?<![\w/.-])None(?![\w/.-])(?!\s+[a-z])"
        ),
        # with or without its address: a glued string shown through glue:text prints
        # "<IPython.core.display.Markdown object>" (strings are glued as Markdown)
        "a Python object repr": re.compile(r"<[\w.]+ object(?: at 0x[0-9a-f]+)?>"),
        "a Python dict repr": re.compile(r"\{'[^']+': "),
        "a pandas summary line": re.compile(r"\d+ rows \u00d7 \d+ columns"),
    }
    # reStructuredText printed as text: a directive or role that was not parsed (e.g.
    # autodoc output read as Markdown), on any page, the API reference included.
    unparsed = re.compile(r"(?:^|\s)\.\. [\w:-]+::|:(?:func|class|data|mod|meth|attr):`")
    problems = []
    for page in sorted(html_dir.glob("*.html")):
        body = page.read_text(encoding="utf-8")
        main = body[body.find("<main") :] if "<main" in body else body
        main = re.sub(r"<(script|style|pre)[^>]*>.*?</\1>", " ", main, flags=re.DOTALL)
        text = html.unescape(re.sub(r"<[^>]+>", " ", main))
        found = unparsed.search(text)
        if found:
            context = text[max(0, found.start() - 40) : found.end() + 40].strip()
            problems.append(f"{page.name}: shows unparsed reST: ...{' '.join(context.split())}...")
        if page.name in {"genindex.html", "search.html", "api.html"}:
            continue  # generated indexes and docstrings, not prose
        for what, pattern in patterns.items():
            found = pattern.search(text)
            if found:
                context = text[max(0, found.start() - 40) : found.end() + 40].strip()
                problems.append(f"{page.name}: shows {what}: ...{' '.join(context.split())}...")
    return problems


def browser_check(
    chromium: str,
    html_dir: Path,
    artifacts: Path | None = None,
    widths: tuple[int, ...] = WIDTHS,
    accessibility: bool = True,
    schemes: tuple[str, ...] = COLOR_SCHEMES,
) -> list[str]:
    """Open every page at each width and colour scheme in headless Chromium (over HTTP).

    Reports JavaScript console errors and uncaught exceptions, a page wider than the
    window (horizontal page scroll), images that did not load, and axe-core violations
    of serious or critical impact, at every width in both the light and the dark scheme
    (the theme follows the reader's ``prefers-color-scheme``; a footer that passed in
    light mode failed in dark).  Saves a full-page screenshot of every page, width and
    scheme under ``artifacts`` when given.  Playwright drives the given Chromium binary;
    it never downloads a browser.
    """
    import functools
    import http.server
    import threading

    from playwright.sync_api import sync_playwright

    pages = sorted(p.name for p in html_dir.glob("*.html") if not p.name.startswith("_"))

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            del format, args

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(html_dir))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    problems: list[str] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
            )
            try:
                for scheme in schemes:
                    for width in widths:
                        context = browser.new_context(
                            viewport={"width": width, "height": 900},
                            color_scheme=scheme,  # type: ignore[arg-type]
                        )
                        # The theme opens in light mode whatever the system prefers and
                        # keeps the reader's choice of its switch in localStorage: set
                        # that choice, so the dark check sees the dark pages.
                        context.add_init_script(
                            f"try {{ localStorage.setItem('mode', '{scheme}') }} catch (e) {{}}"
                        )
                        for name in pages:
                            problems += _check_page(
                                context,
                                f"{base}/{name}",
                                name,
                                f"{width}px {scheme}",
                                artifacts,
                                accessibility,
                            )
                        context.close()
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return problems


def _check_page(
    context: object,
    url: str,
    name: str,
    view: str,
    artifacts: Path | None,
    accessibility: bool,
) -> list[str]:
    from playwright.sync_api import BrowserContext

    assert isinstance(context, BrowserContext)
    page = context.new_page()
    errors: list[str] = []

    def console(message: Any) -> None:
        source = str(message.location.get("url", ""))
        # The book loads no third-party script (MathJax is dropped from pages without
        # equations), so a failed load is a defect wherever it points; only the
        # browser's own request for /favicon.ico (the book links none) is not.
        failed_load = message.text.startswith("Failed to load resource")
        if message.type == "error" and not (failed_load and source.endswith("/favicon.ico")):
            errors.append(f"{message.text} ({source})" if source else message.text)

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="load")
    page.wait_for_timeout(300)  # late scripts (theme, MathJax) log their errors too
    problems = [f"{name} @{view}: console error: {e}" for e in errors]
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    if overflow > 1:
        problems.append(f"{name} @{view}: the page scrolls sideways by {overflow}px")
    broken = page.evaluate(
        "() => Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
        ".map(i => i.src)"
    )
    problems += [f"{name} @{view}: image did not load: {src}" for src in broken]
    if accessibility:
        from axe_playwright_python.sync_playwright import Axe

        results = Axe().run(page)
        for violation in results.response.get("violations", []):
            if violation.get("impact") in BLOCKING_IMPACTS:
                targets = [", ".join(n.get("target", [])) for n in violation.get("nodes", [])]
                problems.append(
                    f"{name} @{view}: accessibility ({violation['impact']}) {violation['id']}: "
                    f"{violation['help']} at {'; '.join(targets[:3])}"
                )
    if artifacts is not None:
        artifacts.mkdir(parents=True, exist_ok=True)
        shot = artifacts / f"{Path(name).stem}-{view.replace('px ', '-')}.png"
        page.screenshot(path=str(shot), full_page=True)
    page.close()
    return problems
