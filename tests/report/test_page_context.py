"""The per-page HTML context: no thebe, MathJax only where a page shows an equation."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from kosovo_study.report import sphinx_ext

MATHJAX = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"


def _script(filename: str, body: str = "") -> Any:
    return SimpleNamespace(filename=filename, attributes={"body": body} if body else {})


def _scripts_after(body: str) -> list[str]:
    context: dict[str, Any] = {
        "body": body,
        "script_files": [
            _script("_static/doctools.js"),
            _script(MATHJAX),
            _script("_static/sphinx-thebe.js"),
            _script("", body='const THEBE_JS_URL = "x"'),
        ],
    }
    sphinx_ext._page_context(SimpleNamespace(), "intro", "page.html", context, None)
    return [str(script.filename) for script in context["script_files"]]


def test_a_page_without_equations_loads_no_mathjax_and_no_thebe() -> None:
    # A table's LaTeX form sits in the notebook beside its HTML form; only what the
    # page renders counts.
    assert _scripts_after("<p>text</p><table></table>") == ["_static/doctools.js"]


def test_a_page_with_an_equation_keeps_mathjax() -> None:
    kept = _scripts_after('<p><span class="math notranslate nohighlight">\\(x\\)</span></p>')
    assert kept == ["_static/doctools.js", MATHJAX]
