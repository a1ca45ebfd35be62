"""A small Sphinx extension for the book: provenance footer, citation style, script fixes.

Listed in ``book/_config.yml`` (``sphinx.extra_extensions``).  It

* registers the pybtex style ``kosovo_authoryear`` (author-year reference list; titles
  keep the case the bibliography gives them, so proper nouns are never lowercased);
* writes the footer of every page: package version, git commit, build date, the
  licence of the content (CC BY 4.0), and links to the PDF and to "How to cite";
* removes sphinx-thebe's scripts: the book has no live kernels, and sphinx-thebe adds its
  inline configuration once per build run, which in the browser raised "Identifier
  'THEBE_JS_URL' has already been declared" on every page.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

from pybtex.database import Entry
from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting import toplevel
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.sorting.author_year_title import SortingStyle as AuthorYearTitleSorting
from pybtex.style.template import field, join, optional, sentence, words

from kosovo_study import __version__

PDF_NAME = "kosovo_study.pdf"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"


#: LaTeX escapes that pybtex's reader (latexcodec) leaves as they are, so "US\$" showed
#: literally in the reference list: each is replaced by its character before pybtex
#: parses the field.  The others ``kosovo_study.citation`` writes (\& \% \# \_
#: \textasciitilde{} \textbackslash{}) latexcodec decodes itself; a test renders
#: every one of them.
_UNDECODED_ESCAPES = {r"\$": "$", r"\textasciicircum{}": "^"}
_UNDECODED = re.compile("|".join(re.escape(k) for k in _UNDECODED_ESCAPES))


def decode_latex(text: str) -> str:
    """A field's LaTeX with the escapes pybtex does not decode replaced by characters."""
    return _UNDECODED.sub(lambda match: _UNDECODED_ESCAPES[match.group(0)], text)


def _decoded_entry(entry: Entry) -> Entry:
    fields = {
        name: value if name in {"url", "doi"} else decode_latex(value)
        for name, value in entry.fields.items()
    }
    copy = Entry(entry.original_type, fields=fields, persons=entry.persons)
    copy.key = entry.key
    return copy


def _sortable(text: str) -> str:
    """Text as an alphabetical list orders it: no braces or escapes, no accents, no case."""
    text = decode_latex(text)
    # accent commands (\"e -> e) and any other command name drop out; the letter stays
    text = re.sub(r"\\[A-Za-z]+\s*|\\[^A-Za-z]", "", text)
    plain = unicodedata.normalize("NFKD", text.replace("{", "").replace("}", ""))
    return "".join(c for c in plain if not unicodedata.combining(c)).casefold().strip()


class ReaderSorting(AuthorYearTitleSorting):  # type: ignore[misc]
    """pybtex's author-year-title order, but one alphabet for persons and organisations.

    pybtex compares the raw keys, in which a corporate author keeps its protecting
    braces ("{World Bank}"): "{" sorts after every letter, so organisations formed a
    second A-Z run after the persons.
    """

    def sorting_key(self, entry: Entry) -> tuple[str, str, str]:
        author, year, title = super().sorting_key(entry)
        return (_sortable(author), _sortable(year), _sortable(title))


# Registered on import: the formatting style names it as its default sorting.
register_plugin("pybtex.style.sorting", "kosovo_reader_order", ReaderSorting)


class AuthorYearStyle(UnsrtStyle):  # type: ignore[misc]
    """ "Author (Year). Title. Where published. Note. URL" with the title's case kept."""

    default_sorting_style = "kosovo_reader_order"

    def format_entry(self, label: str, entry: Entry, bib_data: Any = None) -> Any:
        """Format ``entry`` after decoding the LaTeX escapes pybtex leaves as they are."""
        return super().format_entry(label, _decoded_entry(entry), bib_data=bib_data)

    def format_title(self, e: Any, which_field: str, as_sentence: bool = True) -> Any:
        del e  # the entry: pybtex's signature; the field template reads it later
        title = field(which_field)
        return sentence[title] if as_sentence else title

    def _author_year(self) -> Any:
        return sentence[
            words[self.format_names("author", as_sentence=False), join["(", field("year"), ")"]]
        ]

    def get_misc_template(self, e: Any) -> Any:
        return toplevel[
            optional[self._author_year()],
            optional[self.format_title(e, "title")],
            sentence[optional[field("howpublished")]],
            sentence[optional[field("note")]],
            self.format_web_refs(e),
        ]

    def get_techreport_template(self, e: Any) -> Any:
        """A report as its publisher issued it: "Author (Year). Title. Publisher, series."."""
        return toplevel[
            optional[self._author_year()],
            self.format_title(e, "title"),
            sentence[field("institution"), optional[field("type")]],
            sentence[optional[field("note")]],
            self.format_web_refs(e),
        ]

    def get_article_template(self, e: Any) -> Any:
        """ "Author (Year). Title. Journal, volume(number), pages."."""
        return toplevel[
            optional[self._author_year()],
            self.format_title(e, "title"),
            sentence[
                field("journal"),
                optional[join[field("volume"), optional["(", field("number"), ")"]]],
                optional[field("pages")],
            ],
            sentence[optional[field("note")]],
            self.format_web_refs(e),
        ]

    def format_url(self, e: Any) -> Any:
        del e
        from pybtex.style.template import href

        url = field("url", raw=True)
        return href(url)[url]


def _commit() -> str:
    from kosovo_study.manifest import git_commit
    from kosovo_study.paths import project_paths

    return git_commit(project_paths().root) or "unknown"


def footer_html(root: str = "") -> str:
    """The footer every page shows (``root`` is the relative path to the book's root)."""
    commit = _commit()
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    short = html.escape(commit[:12])
    return (
        '<div class="kosovo-footer">'
        f"<p>kosovo_study {html.escape(__version__)} · commit <code>{short}</code> · "
        f"built {date} (UTC).</p>"
        f'<p>Text, figures and tables: <a href="{LICENCE_URL}">CC BY 4.0</a>; code: see '
        "the repository's licence; third-party data: as each source states. "
        f'<a href="{root}_static/{PDF_NAME}">PDF of the whole book</a> · '
        f'<a href="{root}intro.html#how-to-cite">How to cite</a></p></div>'
    )


def _page_context(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    del templatename, doctree
    # myst-nb asks Sphinx to put MathJax on every page; a page without an equation
    # then fetches it from a CDN for nothing (a third-party request for every reader,
    # and a console error offline).  Only pages with equations keep it.
    # Judged by the rendered body: the math domain also counts LaTeX outputs that the
    # HTML page does not show (a table's text/latex form beside its text/html).
    del app
    has_math = 'class="math' in str(context.get("body", ""))
    scripts = context.get("script_files", [])
    context["script_files"] = [
        script
        for script in scripts
        if "thebe" not in str(getattr(script, "filename", "") or "")
        and "THEBE_JS_URL" not in str(getattr(script, "attributes", {}).get("body", ""))
        and (has_math or "mathjax" not in str(getattr(script, "filename", "") or "").lower())
    ]
    if "body" in context:
        # docutils marks the citation list role="list" without listitem children, which
        # axe-core reports as a critical violation (aria-required-children).
        context["body"] = context["body"].replace(
            '<div role="list" class="citation-list">', '<div class="citation-list">'
        )
    root = "../" * pagename.count("/")
    options = context.get("theme_extra_footer")
    if options is not None or "theme_extra_footer" in context:
        context["theme_extra_footer"] = footer_html(root)


def _theme_options(app: Any, config: Any) -> None:
    """One search box (the sidebar's; not a second one in the header) and an explicit
    colour mode (an empty one made the theme log "Got invalid theme mode" on load)."""
    del app
    options = dict(config.html_theme_options or {})
    options["navbar_persistent"] = []
    config.html_theme_options = options
    # pydata-sphinx-theme reads the default colour mode from html_context, not options.
    context = dict(config.html_context or {})
    context.setdefault("default_mode", "light")
    config.html_context = context


def _copy_pdf(app: Any, exception: Exception | None) -> None:
    """Put the printed PDF (``_build/pdf``, made by ``kosovo-study book --pdf``) beside the
    HTML, so the footer's PDF link works wherever the HTML is published."""
    import shutil
    from pathlib import Path

    if exception is not None or app.builder.format != "html":
        return
    printed = Path(app.srcdir) / "_build" / "pdf" / PDF_NAME
    if printed.exists():
        target = Path(app.outdir) / "_static" / PDF_NAME
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(printed, target)


def setup(app: Any) -> dict[str, Any]:
    register_plugin("pybtex.style.formatting", "kosovo_authoryear", AuthorYearStyle)
    app.connect("config-inited", _theme_options)
    # after sphinx.ext.mathjax (priority 500), which adds its script in this event
    app.connect("html-page-context", _page_context, priority=900)
    app.connect("build-finished", _copy_pdf)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": __version__}


__all__ = ["AuthorYearStyle", "Text", "footer_html", "setup"]
