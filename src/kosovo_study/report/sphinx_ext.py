"""A small Sphinx extension for the book: provenance footer, citation style, script fixes.

Listed in ``book/_config.yml`` (``sphinx.extra_extensions``).  It

* registers the pybtex style ``kosovo_authoryear`` (author-year reference list; titles
  keep the case the bibliography gives them, so proper nouns are never lowercased);
* writes the footer of every page: package version, git commit, build date, the
  licence of the content (CC BY 4.0), and links to the PDF and to "How to cite";
* links every number a page prints with the glue:text role to its source chain: the
  number becomes a button that opens a popover (keyboard, screen reader, any width;
  hidden in print) naming the result file and row, the stage run that wrote it, the
  sha256 of that run's inputs, its parameters and the commit
  (:mod:`kosovo_study.report.sources`), and every record is written to
  ``_static/glue_record.json``;
* removes sphinx-thebe's scripts: the book has no live kernels, and sphinx-thebe adds its
  inline configuration once per build run, which in the browser raised "Identifier
  'THEBE_JS_URL' has already been declared" on every page.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

from docutils import nodes  # type: ignore[import-untyped]
from pybtex.database import Entry
from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting import toplevel
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.sorting.author_year_title import SortingStyle as AuthorYearTitleSorting
from pybtex.style.template import field, join, optional, sentence, words

from kosovo_study import __version__
from kosovo_study.report.sources import RECORD_KEY

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


# --- the source chain of glued numbers --------------------------------------------------


class glued_number(nodes.inline):  # type: ignore[misc]  # docutils names nodes in lower case
    """A number pasted by the glue:text role, with its source record."""


def _sourced_text_role() -> Any:
    from myst_nb.core.variables import RetrievalError
    from myst_nb.ext.glue.roles import PasteTextRole
    from myst_nb.ext.glue.utils import retrieve_glue_data

    class SourcedTextRole(PasteTextRole):  # type: ignore[misc]
        """myst-nb's glue:text role, its number wrapped with the value's source record."""

        def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
            pasted, messages = super().run()
            _true_minus_in(pasted)
            key, _, spec = self.text.rpartition(":") if ":" in self.text else (self.text, "", "s")
            if len(pasted) != 1 or "::" in key:
                return pasted, messages
            try:
                record = retrieve_glue_data(self.document, key).metadata.get(RECORD_KEY)
            except RetrievalError:
                return pasted, messages
            node = glued_number(key=key, format=spec, record=json.dumps(record or {}))
            node += pasted[0]
            return [node], messages

    return SourcedTextRole()


def _true_minus_in(pasted: list[nodes.Node]) -> None:
    """Give every number pasted by a glue role a true minus sign
    (:func:`kosovo_study.report.labels.true_minus`), as the tables do; code is left
    as written."""
    from kosovo_study.report.labels import true_minus

    for node in pasted:
        for text in list(node.findall(nodes.Text)):
            if isinstance(text.parent, nodes.FixedTextElement | nodes.literal):
                continue
            signed = true_minus(str(text))
            if signed != str(text):
                text.parent.replace(text, nodes.Text(signed))


def _signed_markdown_role() -> Any:
    from myst_nb.ext.glue.roles import PasteMarkdownRole

    class SignedMarkdownRole(PasteMarkdownRole):  # type: ignore[misc]
        """myst-nb's glue:md role, the numbers of the pasted sentence with a true minus."""

        def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
            pasted, messages = super().run()
            _true_minus_in(pasted)
            return pasted, messages

    return SignedMarkdownRole()


def _chain_html(record: dict[str, Any], paths: Any) -> str:
    from kosovo_study.report.sources import chain, chain_lines

    if not record:
        return "<span>No source record: this value was glued outside glue_numbers.</span>"
    return "".join(
        f'<span class="kosovo-source-line"><b>{html.escape(label)}:</b> {html.escape(text)}</span>'
        for label, text in chain_lines(chain(record, paths), short=True)
    )


def _visit_glued_number(self: Any, node: glued_number) -> None:
    number = getattr(self, "_kosovo_numbers", 0) + 1
    self._kosovo_numbers = number
    target = f"glue-source-{number}"
    key = html.escape(node["key"])
    self.body.append(
        f'<button type="button" class="kosovo-number" popovertarget="{target}" '
        f'data-glue-key="{key}" data-glue-format="{html.escape(node["format"])}" '
        'title="Where this number comes from">'
    )
    node["target"] = target


def _depart_glued_number(self: Any, node: glued_number) -> None:
    from pathlib import Path

    from kosovo_study.paths import ProjectPaths

    paths = ProjectPaths(Path(self.builder.srcdir).resolve().parent)
    key = html.escape(node["key"])
    self.body.append(
        f'</button><span id="{node["target"]}" popover="auto" class="kosovo-source" '
        f'role="dialog" aria-label="Source of {key}">'
        f"<b>Source of this number</b> (<code>{key}</code>)"
        f"{_chain_html(json.loads(node['record']), paths)}"
        f'<span class="kosovo-source-line">In a terminal: <code>kosovo-study why {key}</code>'
        f'</span><button type="button" popovertarget="{node["target"]}" '
        'popovertargetaction="hide">Close</button></span>'
    )


def _skip(self: Any, node: Any) -> None:
    del self, node


def _write_glue_record(app: Any, exception: Exception | None) -> None:
    """Every glued key with its record and chain, beside the HTML (``_static``)."""
    from pathlib import Path

    from kosovo_study.paths import ProjectPaths
    from kosovo_study.report.sources import RECORD_FILE, write_glue_record

    if exception is not None or app.builder.format != "html":
        return
    paths = ProjectPaths(Path(app.srcdir).resolve().parent)
    write_glue_record(paths, Path(app.outdir) / "_static" / RECORD_FILE)


def _register_glue_role(app: Any, config: Any = None) -> None:
    del config
    app.add_role_to_domain("glue", "text", _sourced_text_role(), override=True)
    app.add_role_to_domain("glue", "md", _signed_markdown_role(), override=True)


def setup(app: Any) -> dict[str, Any]:
    register_plugin("pybtex.style.formatting", "kosovo_authoryear", AuthorYearStyle)
    app.add_node(
        glued_number,
        html=(_visit_glued_number, _depart_glued_number),
        latex=(_skip, _skip),
        text=(_skip, _skip),
        man=(_skip, _skip),
        texinfo=(_skip, _skip),
    )
    app.add_css_file("kosovo-sources.css")
    # myst-nb registers the glue domain in its own setup, which runs before this one
    # (jupyter-book lists it first); the role is replaced once the config is read.
    app.connect("config-inited", _register_glue_role)
    app.connect("build-finished", _write_glue_record)
    app.connect("config-inited", _theme_options)
    # after sphinx.ext.mathjax (priority 500), which adds its script in this event
    app.connect("html-page-context", _page_context, priority=900)
    app.connect("build-finished", _copy_pdf)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": __version__}


__all__ = ["AuthorYearStyle", "Text", "footer_html", "setup"]
