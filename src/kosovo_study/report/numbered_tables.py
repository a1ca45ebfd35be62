"""Sphinx numbers the book's tables: "Table N." in each caption, ``{numref}`` in the prose.

A table shown by :func:`kosovo_study.report.book.show_table` reaches Sphinx as a code
cell's output (a MyST-NB mime bundle holding the renderer's HTML), which Sphinx's numfig
does not count: it numbers ``table`` nodes, and the output is raw HTML.  This extension
(listed in ``book/_config.yml``) wraps each such output in a ``numbered_table`` node, an
enumerable node of Sphinx's own ``table`` type, named after the table (``show_table``'s
``name``).  So Sphinx numbers the tables of the whole book in reading order, in the HTML
and in the single-page edition the PDF is printed from, and the prose cites a table with
``{numref}`kosovo-national``` ("Table 3", a link), which never goes stale.

The renderer leaves an empty ``<span class="table-number"></span>`` at the start of every
caption (:data:`kosovo_study.report.tables.NUMBER_SLOT`); the HTML writer fills it with
"Table N.".  A caption whose slot is still empty on the built site is an unnumbered
table (:func:`kosovo_study.report.tables.table_defects` reports it).
"""

from __future__ import annotations

import html
import re
from typing import Any

from docutils import nodes  # type: ignore[import-untyped]
from docutils.transforms import Transform  # type: ignore[import-untyped]

from kosovo_study.report.tables import NUMBER_SLOT

#: The renderer's block: its name and caption (see ``Table.to_html``).
_BLOCK = re.compile(r'<div class="kosovo-table-block(?: [\w -]+)?" data-name="([^"]+)"')
_CAPTION = re.compile(r"<caption>(.*?)</caption>", re.DOTALL)


class numbered_table(nodes.General, nodes.Element):  # type: ignore[misc]
    """A table shown from a code cell, numbered by Sphinx as a ``table``."""


def _title(node: nodes.Element) -> str:
    return str(node.get("title", ""))


def _html_of(bundle: nodes.Element) -> nodes.raw | None:
    for child in bundle.findall(nodes.raw):
        if child.get("format") == "html" and _BLOCK.search(child.astext()):
            return child
    return None


class WrapTables(Transform):  # type: ignore[misc]
    """Wrap every rendered table's output in a named ``numbered_table`` node."""

    # Before Sphinx's SphinxDomains transform (850), where the standard domain collects
    # the labels that {numref} resolves.
    default_priority = 840

    def apply(self, **kwargs: Any) -> None:  # noqa: ARG002 (docutils' signature)
        bundles = [
            node
            for node in self.document.findall(nodes.container)
            if node.get("nb_element") == "mime_bundle"
        ]
        for bundle in bundles:
            raw = _html_of(bundle)
            if raw is None:
                continue
            text = raw.astext()
            name = html.unescape(_BLOCK.search(text).group(1))  # type: ignore[union-attr]
            caption = _CAPTION.search(text)
            title = html.unescape(re.sub(r"<[^>]+>", "", caption.group(1))) if caption else name
            wrapper = numbered_table(title=" ".join(title.split()))
            wrapper["names"].append(name)
            # "tbl-" keeps the anchor apart from a heading's id ("## Third-party files"
            # and the table "third-party-files" would share one, and numref would find
            # the section)
            wrapper["ids"].append(f"tbl-{name}")
            bundle.replace_self(wrapper)
            wrapper.append(bundle)
            self.document.note_explicit_target(wrapper, wrapper)


def _visit_html(translator: Any, node: numbered_table) -> None:
    builder = translator.builder
    key = f"{translator.docnames[-1]}/table" if builder.name == "singlehtml" else "table"
    numbers = builder.fignumbers.get(key, {}).get(node["ids"][0])
    if numbers:
        label = translator.config.numfig_format.get("table", "Table %s") % ".".join(
            map(str, numbers)
        )
        filled = f'<span class="table-number caption-number">{html.escape(label)}.</span> '
        for raw in list(node.findall(nodes.raw)):
            text = raw.astext()
            if NUMBER_SLOT in text:
                raw.replace(raw.children[0], nodes.Text(text.replace(NUMBER_SLOT, filled, 1)))
    translator.body.append(translator.starttag(node, "div", CLASS="numbered-table"))


def _depart_html(translator: Any, node: numbered_table) -> None:  # noqa: ARG001
    translator.body.append("</div>")


def _pass(translator: Any, node: numbered_table) -> None:  # noqa: ARG001 (other writers)
    return None


def setup(app: Any) -> dict[str, Any]:
    app.add_enumerable_node(
        numbered_table,
        "table",
        _title,
        html=(_visit_html, _depart_html),
        latex=(_pass, _pass),
        text=(_pass, _pass),
        man=(_pass, _pass),
        texinfo=(_pass, _pass),
    )
    app.add_transform(WrapTables)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
