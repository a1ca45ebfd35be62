"""Checks of the book's writing: glued sentences an editor would return, identifiers in prose.

Numbers and clauses glued into the prose (``report/numbers.py``) are written by code, so
a sentence can come out broken in ways no reader of the page source sees: a doubled word,
parentheses inside parentheses, "the p-value is exact (0 specifications)", a label
repeated after its colon ("Overdispersion: overdispersed").  :func:`sentence_defects`
finds these in one text; :func:`glued_texts` reads every glued value of a built book (the
``*.glue.json`` files MyST-NB writes beside the executed pages).

:func:`prose_identifiers` finds snake_case identifiers and file names in the prose of the
built pages: the text a reader reads, outside code, links, tables (checked by
:func:`kosovo_study.report.tables.table_defects`) and the figures' download chips.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

#: A word written twice ("the the"); numbers and single letters are left alone.
_DOUBLED = re.compile(r"\b([A-Za-z]{2,})\s+\1\b", re.IGNORECASE)
#: An opening parenthesis before the previous one closed.
_NESTED = re.compile(r"\([^()]*\(")
#: A count of nothing given as a count: "(0 specifications)", "0 of 0".
_ZERO_COUNT = re.compile(r"\(0 [a-z]+\)|\b0 of 0\b|\bexact \(0\b")
#: "Label: label-ish" (the same stem on both sides of a colon).
_STUTTER = re.compile(r"\b([A-Za-z]{5,}):\s+([A-Za-z]{5,})")
#: A Python or pandas value leaking into prose.
_REPR = re.compile(r"\b(?:nan|NaN)\b|(?<=[a-z,:=] )(?:None|True|False)\b|\[\]|\{\}")


def sentence_defects(text: str) -> list[str]:
    """What an editor would strike in one glued sentence (empty when it reads well)."""
    problems: list[str] = []
    plain = " ".join(re.sub(r"<[^>]+>", " ", text).split())
    plain = re.sub(r"\{[a-z:]+\}`[^`]*`", "X", plain)  # MyST roles inside a glued clause
    for match in _DOUBLED.finditer(plain):
        problems.append(f"doubled word {match.group(0)!r}")
    if _NESTED.search(plain):
        problems.append("parentheses inside parentheses")
    if _ZERO_COUNT.search(plain):
        problems.append(f"a count of nothing ({_ZERO_COUNT.search(plain).group(0)!r})")  # type: ignore[union-attr]
    for match in _STUTTER.finditer(plain):
        first, second = match.group(1).lower(), match.group(2).lower()
        if first[:6] == second[:6]:
            problems.append(f"a label repeated after its colon ({match.group(0)!r})")
    if _REPR.search(plain):
        problems.append(f"a Python value in prose ({_REPR.search(plain).group(0)!r})")  # type: ignore[union-attr]
    return problems


def glued_texts(execute_dir: Path) -> dict[str, str]:
    """``{"page:key": text}`` for every glued text value of a built book (Markdown or
    plain text that is not a bare number)."""
    texts: dict[str, str] = {}
    for path in sorted(execute_dir.glob("*.glue.json")):
        page = path.name.removesuffix(".glue.json")
        for key, output in json.loads(path.read_text(encoding="utf-8")).items():
            data = output.get("data", {})
            text = data.get("text/markdown") or data.get("text/plain") or ""
            if isinstance(text, list):
                text = "".join(text)
            if data.get("text/markdown") is None:
                # a glued str shows as its repr ('...'); numbers and flags are not prose
                if not re.fullmatch(r"(['\"]).*\1", text, re.DOTALL):
                    continue
                text = text[1:-1]
            if not text or "image/" in " ".join(data):
                continue
            texts[f"{page}:{key}"] = text
    return texts


#: Parts of a page that are not prose.
_NOT_PROSE = re.compile(
    r"<(script|style|pre|code|a|table|nav|header|footer|svg|math|kbd|dt)\b.*?</\1>"
    r"|<div[^>]*class=\"[^\"]*(?:cell_input|highlight|bd-sidebar|bd-header|"
    r"prev-next|bd-toc|sidebar)[^\"]*\"",
    re.DOTALL | re.IGNORECASE,
)
_ARTICLE = re.compile(r"<article\b.*?</article>", re.DOTALL | re.IGNORECASE)
#: snake_case (two lower-case words joined by "_") or a file name with its extension.
_SNAKE = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/-]|\.\w)")
_FILE = re.compile(
    r"(?<![\w/-])[\w-]+\.(?:csv|parquet|json|ya?ml|py|md|ipynb|xlsx|txt|qdpx)\b", re.IGNORECASE
)
#: Generated pages (indices, the API reference) and the notebooks shown as code.
_NOT_PROSE_PAGES = frozenset({"genindex.html", "search.html", "py-modindex.html", "api.html"})


def without_source_chains(body: str) -> str:
    """A built page without the source-chain popovers of its glued numbers (each number's
    file, row, stage run and parameters: a record, not prose; hidden until opened)."""
    if "kosovo-source" not in body:
        return body
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(body, "html.parser")
    for popover in soup.select(".kosovo-source"):
        popover.decompose()
    return str(soup)


def page_prose(body: str) -> str:
    """The prose of one built page: its article without code, links and tables."""
    body = without_source_chains(body)
    article = _ARTICLE.search(body)
    text = article.group(0) if article else body
    previous = None
    while previous != text:
        previous, text = text, _NOT_PROSE.sub(" ", text)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def prose_identifiers(html_dir: Path) -> list[str]:
    """ "page: token" for each snake_case identifier or file name in a page's prose."""
    problems: list[str] = []
    for page in sorted(html_dir.glob("*.html")):
        if page.name in _NOT_PROSE_PAGES:
            continue
        prose = page_prose(page.read_text(encoding="utf-8"))
        tokens = set(_SNAKE.findall(prose)) | set(_FILE.findall(prose))
        problems += [f"{page.name}: {token}" for token in sorted(tokens)]
    return problems


_PARAGRAPH = re.compile(r"<(p|li)\b[^>]*>(.*?)</\1>", re.DOTALL | re.IGNORECASE)


def page_sentence_defects(html_dir: Path) -> list[str]:
    """:func:`sentence_defects` over every paragraph and list item of the built pages,
    where glued clauses meet the prose around them."""
    problems: list[str] = []
    for page in sorted(html_dir.glob("*.html")):
        if page.name in _NOT_PROSE_PAGES or page.name == "references.html":
            continue
        body = without_source_chains(page.read_text(encoding="utf-8"))
        article = _ARTICLE.search(body)
        for _, paragraph in _PARAGRAPH.findall(article.group(0) if article else body):
            text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", paragraph)).split())
            text = re.sub(r"\s+([.,;:)])", r"\1", text).replace("( ", "(")
            problems += [f"{page.name}: {d} in {text[:80]!r}" for d in sentence_defects(text)]
    return problems
