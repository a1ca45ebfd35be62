"""Tables as a journal prints them, in HTML and LaTeX from one renderer (pandas ``Styler``).

Two builders, one renderer:

* :func:`table` shows any data or result table: human headers and units from
  ``variables.csv`` and :data:`~kosovo_study.report.labels.RESULT_LABELS`, no index
  column, precision by kind (counts as integers, ratios with 2 decimals, p with 3),
  hashes in full in a copyable monospace column, links for URLs.
* :func:`regression_table` turns the tidy coefficient and fit-statistic tables the
  models stage writes into terms x models, one "estimate [95% interval]" per cell,
  with the statistics rows at the bottom and notes (estimator, SE, N, outcome).

Both return a :class:`Table`; escaping is pandas' own (``Styler.format(escape=...)``),
which covers every HTML and LaTeX special character.  Whether a table is synthetic is
read from its data by :func:`kosovo_study.report.style.is_synthetic`, the rule every
figure follows too, never from the caller, and the caption then carries one SYNTHETIC
badge.  In the browser a wide table scrolls inside its own box.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pandas.io.formats import style_render
from pandas.io.formats.style import Styler

from kosovo_study.errors import KosovoStudyError
from kosovo_study.report.labels import (
    MISSING,
    MODEL_NAMES,
    Column,
    Kind,
    column_decimals,
    describe_columns,
    format_value,
    humanise,
    term_label,
)
from kosovo_study.report.style import is_synthetic

BADGE_HTML = '<span class="synthetic-badge">SYNTHETIC DATA</span>'
#: Where "Table N." goes in an HTML caption: filled by Sphinx when the book is built
#: (:mod:`kosovo_study.report.numbered_tables`); still empty means an unnumbered table.
NUMBER_SLOT = '<span class="table-number"></span>'
BADGE_TEXT = "SYNTHETIC DATA, not a finding."
#: A table mixing real and synthetic rows keeps its yes/no ``synthetic`` column and says so.
PARTLY_BADGE_HTML = '<span class="synthetic-badge">PARTLY SYNTHETIC DATA</span>'
PARTLY_BADGE_TEXT = "PARTLY SYNTHETIC DATA: rows marked synthetic are not findings."

#: Fit statistics shown under the coefficients, in this order: (column, label, kind).
FOOTER: tuple[tuple[str, str, Kind], ...] = (
    ("n", "N", "count"),
    ("countries_with_fighters", "Units with a positive count", "count"),
    ("log_likelihood", "Log-likelihood", "ratio"),
    ("aic", "AIC", "ratio"),
    ("pseudo_r2", "Pseudo-R² (McFadden)", "ratio"),
    ("alpha", "NB2 \u03b1", "ratio"),
)


_NO_BREAK = "white-space: nowrap !important; overflow-wrap: normal !important; word-break: normal !important;"
_WORD_BREAKS_ONLY = "overflow-wrap: normal !important; word-break: normal !important;"


def _latex_escape(text: str) -> str:
    """pandas' LaTeX escaping (the one ``Styler.format(escape="latex")`` applies)."""
    escape: Callable[[str], str] = vars(style_render)["_escape_latex"]
    return escape(text)


@dataclass(frozen=True)
class Table:
    """A table ready to print: the values shown, how each column is shown, caption, notes.

    ``frame`` holds the raw values (saved as the table's data file); ``rule_before``
    names the row positions that get a rule above them (the statistics block of a
    regression table).
    """

    title: str
    frame: pd.DataFrame
    columns: tuple[Column, ...]
    synthetic: bool
    notes: tuple[str, ...] = ()
    rule_before: tuple[int, ...] = ()
    label_column: bool = False
    extra_classes: tuple[str, ...] = field(default=())
    #: Anchor id of the table in HTML (set by the book, e.g. "kosovo-national").
    name: str = ""
    #: Columns of ``frame`` kept in its data file but not printed (the ``synthetic``
    #: flag of a wholly synthetic table, which the caption's badge says instead).
    hidden: tuple[str, ...] = ()

    @property
    def mixed(self) -> bool:
        """Real and synthetic rows together (the yes/no ``synthetic`` column is kept)."""
        return (
            self.synthetic and "synthetic" in self.frame.columns and "synthetic" not in self.hidden
        )

    @property
    def caption(self) -> str:
        """Plain-text caption (one SYNTHETIC flag at most)."""
        if not self.synthetic:
            return self.title
        return f"{PARTLY_BADGE_TEXT if self.mixed else BADGE_TEXT} {self.title}"

    @property
    def note(self) -> str:
        return " ".join(self.notes)

    @property
    def uuid(self) -> str:
        """pandas' table id suffix, from the table's name, title and columns."""
        key = "|".join([self.name, self.title, *map(str, self.frame.columns)])
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]

    def styler(self, target: str) -> Styler:
        """A pandas Styler for ``target`` ("html" or "latex"): formats, escaping, classes."""
        # A stable table id (pandas draws a random one): the same table prints the same
        # HTML in every build, and its scoped styles keep their selector.
        styler = self.frame.style.set_uuid(self.uuid).hide(axis="index")
        if self.hidden:
            styler = styler.hide(subset=list(self.hidden), axis="columns")
        for column in self.columns:
            styler = styler.format(
                _formatter(column.kind, target, column.decimals),
                subset=[column.name],
                escape=None,  # the formatter escapes its own output (see _formatter)
                na_rep=MISSING,
            )
        headers = [column.header for column in self.columns]
        if self.label_column:
            headers[0] = ""
        escape = html.escape if target == "html" else _latex_escape
        styler = styler.relabel_index([escape(h) for h in headers], axis="columns")
        classes = pd.DataFrame("", index=self.frame.index, columns=self.frame.columns)
        for column in self.columns:
            if column.kind in {"count", "ratio", "number", "p", "year"}:
                classes[column.name] = "num"
            elif column.kind in {"hash", "code"}:
                classes[column.name] = column.kind
        if self.label_column:
            classes[self.frame.columns[0]] = "row-label"
        for position in self.rule_before:
            classes.iloc[position, :] = classes.iloc[position, :] + " rule-above"
        styler = styler.set_td_classes(classes)
        if target == "html":
            # Numbers never break inside, headers only between words, on screen and in
            # print (the print stylesheet lets every cell wrap anywhere so that wide
            # tables fit the page; for digits and one-word headers that printed them one
            # character per line).  Scoped to this table by pandas' table id.
            styler = styler.set_table_styles(
                [
                    {"selector": "td.num", "props": _NO_BREAK},
                    {"selector": "th", "props": _WORD_BREAKS_ONLY},
                ],
                overwrite=False,
            )
        return styler

    def to_html(self) -> str:
        badge = f"{PARTLY_BADGE_HTML if self.mixed else BADGE_HTML} " if self.synthetic else ""
        styler = self.styler("html").set_caption(NUMBER_SLOT + badge + html.escape(self.title))
        classes = " ".join(("kosovo-table", *self.extra_classes))
        body = styler.to_html(table_attributes=f'class="{classes}"', cell_ids=False)
        label = html.escape(self.caption, quote=True)
        notes = (
            f'<p class="table-notes"><em>Notes:</em> {html.escape(self.note)}</p>'
            if self.notes
            else ""
        )
        # The anchor (id) is the numbered node Sphinx wraps around the block (numbered_tables).
        anchor = f' data-name="{html.escape(self.name, quote=True)}"' if self.name else ""
        table_id = f"T_{self.uuid}"
        # On paper nothing scrolls: the whole table fits the page width, text cells give
        # up their on-screen minimum width (which pushed the last columns off the page).
        printed = (
            f"<style>@media print {{ div.table-scroll[data-table='{table_id}'] "
            "{ overflow: visible !important; } "
            f"#{table_id} td {{ min-width: 0 !important; }} "
            # narrower padding: ten numeric columns and their headers then fit A4
            f"#{table_id} td, #{table_id} th {{ padding: 0.15em 0.25em !important; }} }}"
            "</style>"
        )
        # A table of five or more columns may use the page's right margin (the theme's
        # full-width block, 136% of the text column on a laptop; the page's contents list
        # there is covered while the table passes), so its last columns are not hidden
        # at 1280 px. Narrower tables keep the text column.
        block = "kosovo-table-block full-width" if len(self.columns) >= 5 else "kosovo-table-block"
        # role/tabindex/aria-label: a scrollable region must be reachable by keyboard (axe).
        return (
            f'<div class="{block}"{anchor}>{printed}'
            f'<div class="table-scroll" role="region" tabindex="0" data-table="{table_id}" '
            f'aria-label="{label}">{body}</div>{notes}</div>'
        )

    def to_latex(self) -> str:
        caption = _latex_escape(self.caption)
        styler = self.styler("latex")
        latex = styler.to_latex(caption=caption, hrules=True, environment="table")
        if self.notes:
            notes = _latex_escape(self.note)
            latex = latex.replace(
                r"\end{table}", rf"\par\footnotesize\emph{{Notes:}} {notes}" + "\n" + r"\end{table}"
            )
        return latex

    def to_markdown(self) -> str:
        """A pipe table (for terminals and READMEs): same labels and precision."""
        headers = [
            "" if self.label_column and i == 0 else c.header for i, c in enumerate(self.columns)
        ]
        lines = [f"**{self.caption}**", "", "| " + " | ".join(headers) + " |"]
        lines.append("|" + "---|" * len(headers))
        shown = self.frame[[c.name for c in self.columns]]
        for row in shown.itertuples(index=False):
            cells = [
                format_value(v, c.kind, c.decimals) for v, c in zip(row, self.columns, strict=True)
            ]
            lines.append("| " + " | ".join(c.replace("|", r"\|") for c in cells) + " |")
        if self.notes:
            lines += ["", f"Notes: {self.note}"]
        return "\n".join(lines) + "\n"

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_latex_(self) -> str:
        return self.to_latex()


def _breakable(text: str) -> str:
    """Escaped code with break opportunities after "/", "_" and "." before a letter
    (<wbr> copies as nothing), so a long file name wraps in its cell instead of widening
    the table."""
    escaped = html.escape(text)
    # Only before a letter: a break before digits ("Platform_<wbr>06122015") makes the
    # page text read "06122015" on its own, which the PII guard takes for a phone number.
    return re.sub(r"([/_.])(?=[A-Za-z])", r"\1<wbr>", escaped)


def _formatter(kind: Kind, target: str, decimals: int | None = None) -> Callable[[Any], str]:
    if kind == "url":
        if target == "latex":
            return lambda value: MISSING if pd.isna(value) else rf"\url{{{value}}}"
        return lambda value: (
            MISSING
            if pd.isna(value)
            else f'<a href="{html.escape(str(value), quote=True)}">{html.escape(str(value))}</a>'
        )
    if kind == "code":  # file names, code names: monospace, copied as they are
        if target == "latex":
            return lambda value: (
                MISSING if pd.isna(value) else rf"\texttt{{{_latex_escape(str(value))}}}"
            )
        return lambda value: MISSING if pd.isna(value) else f"<code>{_breakable(str(value))}</code>"
    # Escape the *formatted* text: Styler's own escape= applies to string inputs only,
    # and a formatted number can hold a special character ("< 0.001").
    escape = html.escape if target == "html" else _latex_escape
    return lambda value: escape(format_value(value, kind, decimals))


def table(
    frame: pd.DataFrame,
    title: str,
    *,
    variables: pd.DataFrame | None = None,
    labels: dict[str, str] | None = None,
    notes: Sequence[str] = (),
) -> Table:
    """Any data or result table, printed: no index, labelled headers, precision by kind.

    ``variables`` is ``data/processed/variables.csv`` (units of data variables);
    ``labels`` overrides headers.  A ``synthetic`` column is dropped when every row is
    synthetic (the caption says so) and kept, as yes/no, when rows are mixed.
    """
    shown = in_logical_order(coded_in_words(frame.reset_index(drop=True).copy()))
    synthetic = is_synthetic(frame)
    hidden: tuple[str, ...] = ()
    if synthetic and (
        "synthetic" not in shown.columns or shown["synthetic"].fillna(False).astype(bool).all()
    ):
        # The caption's badge says it; the data file keeps the flag (issue 21).
        shown["synthetic"] = True
        hidden = ("synthetic",)
    refuse_synthetic_counts_beside_names(shown, synthetic, title)
    printed = shown.drop(columns=list(hidden))
    columns = tuple(describe_columns(printed, variables, labels))
    extra = ("wide",) if len(columns) > 6 else ()
    return Table(title, shown, columns, synthetic, tuple(notes), extra_classes=extra, hidden=hidden)


#: Columns holding component codes of the hurdle model, printed in words.
COMPONENT_COLUMNS = frozenset({"component", "published_component", "our_component"})
#: The hurdle model's components as a reader reads them.
COMPONENT_WORDS: dict[str, str] = {
    "count": "count part (rate ratio)",
    "zero_hurdle": "zero hurdle (odds of any)",
    "mean": "expected count",
    "any": "probability of any",
    "positive": "count among those with any",
    "hurdle": "zero hurdle (odds of any)",
}
#: Ordinal values printed in their own order, never alphabetically.
ORDINAL_LEVELS: tuple[str, ...] = ("low", "mid", "high")


def coded_in_words(frame: pd.DataFrame) -> pd.DataFrame:
    """Component codes ("count", "zero_hurdle", "any") in words; other values as they are."""
    for column in COMPONENT_COLUMNS & set(frame.columns):
        frame[column] = frame[column].map(
            lambda v: COMPONENT_WORDS.get(v, v) if isinstance(v, str) else v
        )
    return frame


def in_logical_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows whose column holds low/mid/high in that order within each group of the
    columns before it (groups keep the order they first appear in)."""
    for position, column in enumerate(frame.columns):
        values = frame[column].dropna()
        if values.empty or not values.map(lambda v: v in ORDINAL_LEVELS).all():
            continue
        keys = []
        for before in frame.columns[:position]:
            first = {v: i for i, v in enumerate(dict.fromkeys(frame[before].astype(str)))}
            keys.append(frame[before].astype(str).map(first))
        keys.append(frame[column].map({v: i for i, v in enumerate(ORDINAL_LEVELS)}))
        names = [f"key{i}" for i in range(len(keys))]
        order = pd.DataFrame(dict(zip(names, keys, strict=True))).sort_values(names, kind="stable")
        frame = frame.loc[order.index].reset_index(drop=True)
    return frame


#: Columns naming real municipalities, and columns of counts a synthetic outcome makes up.
_NAME_COLUMNS = frozenset({"municipality", "municipality_name", "name"})
_COUNT_COLUMNS = re.compile(r"^(?:fighters|fitted|predicted|residual|expected)")


def without_synthetic_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without the counts a synthetic outcome makes up (fighters, fitted,
    predicted, residual), when it is synthetic and names municipalities: the
    diagnostics and the published counts stay."""
    if not is_synthetic(frame) or not (_NAME_COLUMNS & set(frame.columns)):
        return frame
    drop = [
        c for c in frame.columns if _COUNT_COLUMNS.match(str(c)) and str(c) != "fighters_confirmed"
    ]
    return frame.drop(columns=drop)


def refuse_synthetic_counts_beside_names(frame: pd.DataFrame, synthetic: bool, title: str) -> None:
    """While the outcome is synthetic, a table never prints a count of it beside a real
    municipality's name: such numbers get quoted (issue 21).  The published counts are
    real and may stand beside names; fitted, predicted or residual counts and the
    synthetic outcome may not.

    Raises:
        KosovoStudyError: naming the table and the columns.
    """
    if not synthetic or not (_NAME_COLUMNS & set(frame.columns)):
        return
    counts = [
        str(c)
        for c in frame.columns
        if _COUNT_COLUMNS.match(str(c)) and str(c) != "fighters_confirmed"
    ]
    if counts:
        raise KosovoStudyError(
            f"The table {title!r} puts synthetic counts ({', '.join(counts)}) beside "
            "municipality names: show the municipality ids or the diagnostics only."
        )


def _cell(row: pd.Series, estimate: str, low: str, high: str, decimals: int) -> str:
    value = format_value(row[estimate], "ratio", decimals)
    if pd.isna(row[low]) or pd.isna(row[high]):
        return value
    bounds = (format_value(row[low], "ratio", decimals), format_value(row[high], "ratio", decimals))
    return f"{value} [{bounds[0]}, {bounds[1]}]"


def regression_table(
    coefficients: pd.DataFrame,
    statistics: pd.DataFrame,
    title: str,
    column: str = "family",
    estimate: str = "incidence_rate_ratio",
    interval: tuple[str, str] = ("irr_low", "irr_high"),
    labels: dict[str, str] | None = None,
    note: str = "Incidence-rate ratios with robust 95% intervals.",
    *,
    variables: pd.DataFrame | None = None,
    outcome: str = "",
) -> Table:
    """Terms as rows, one column per value of ``column`` (e.g. model family).

    Each cell is "estimate [low, high]"; the constant is left out; fit statistics
    (N, log-likelihood, AIC, pseudo-R², NB2 alpha) follow the terms below a rule; the
    notes give ``note`` (estimator and SE type), N per model and ``outcome`` (the
    outcome's definition).  Terms missing from a model are shown as a dash.
    """
    labels = labels or {}
    models = list(dict.fromkeys(coefficients[column].tolist()))
    terms = [t for t in dict.fromkeys(coefficients["term"].astype(str).tolist()) if t != "const"]
    rows: list[dict[str, str]] = []
    # one precision per model column: estimates and bounds of its terms alike
    decimals = {
        model: column_decimals(
            coefficients.loc[
                (coefficients[column] == model) & (coefficients["term"] != "const"),
                [estimate, *interval],
            ].melt()["value"]
        )
        for model in models
    }
    for term in terms:
        row = {"": labels.get(term) or term_label(term, variables)}
        for model in models:
            match = coefficients[(coefficients[column] == model) & (coefficients["term"] == term)]
            row[str(model)] = (
                _cell(match.iloc[0], estimate, *interval, decimals[model])
                if len(match)
                else MISSING
            )
        rows.append(row)
    n_values: list[str] = []
    for key, label, kind in FOOTER:
        if key not in statistics.columns:
            continue
        row = {"": label}
        for model in models:
            match = statistics[statistics[column] == model]
            value = match.iloc[0][key] if len(match) else None
            row[str(model)] = format_value(value, kind)
        if key == "n":
            n_values = [f"{MODEL_NAMES.get(str(m), str(m))} {row[str(m)]}" for m in models]
        if any(v != MISSING for k, v in row.items() if k):
            rows.append(row)
    frame = pd.DataFrame(rows, columns=["", *map(str, models)])
    header_labels = {str(m): MODEL_NAMES.get(str(m)) or humanise(str(m)) for m in models}
    columns = (
        Column("", "", "text"),
        *(Column(str(m), header_labels[str(m)], "text") for m in models),
    )
    notes = [note]
    if n_values:
        notes.append("N: " + "; ".join(n_values) + ".")
    sources = sorted(set(coefficients.get("outcome_source", pd.Series(dtype=str)).astype(str)))
    if outcome or sources:
        notes.append(
            "Outcome: "
            + "; ".join(
                x for x in (outcome, f"source: {', '.join(sources)}" if sources else "") if x
            )
            + "."
        )
    synthetic = is_synthetic(coefficients) or is_synthetic(statistics)
    if synthetic:  # the data file keeps the flag the caption's badge gives
        frame["synthetic"] = True
    return Table(
        title,
        frame,
        columns,
        synthetic,
        tuple(notes),
        rule_before=(len(terms),) if len(rows) > len(terms) else (),
        label_column=True,
        extra_classes=("regression-table",),
        hidden=("synthetic",) if synthetic else (),
    )


#: An identifier left in a printed table: snake_case (``abc_def``) or a key such as
#: ``KAS_LFS_2013``.  Labels replace them; code (file names, code names) is in <code>.
_IDENTIFIER = re.compile(r"(?<![\w./-])[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+(?![\w./-])")
_TABLE = re.compile(r"<table\b([^>]*)>(.*?)</table>", re.DOTALL | re.IGNORECASE)
#: Cells meant to be copied as they are: hashes, file and code names, links.
_CODE_CELLS = re.compile(
    r"<(code|pre)\b[^>]*>.*?</\1>|<td\b[^>]*class=\"[^\"]*\b(?:hash|code)\b[^\"]*\"[^>]*>.*?</td>"
    r"|<a\b[^>]*>\s*https?://.*?</a>",
    re.DOTALL | re.IGNORECASE,
)
_MISSING_SHOWN = re.compile(r"(?<![\w/.-])(?:nan|NaN|None|NaT|<NA>)(?![\w/.-])")
#: Generated pages that are not the book's prose or tables.
_NOT_BOOK_PAGES = frozenset({"genindex.html", "search.html", "py-modindex.html", "api.html"})


def table_defects(html_dir: Path) -> list[str]:
    """Tables on the built pages that bypass the renderer or show what a reader should not.

    One line per problem, naming the page: a pandas-default table (``class="dataframe"``
    without the renderer's ``kosovo-table`` marker); a cell that prints a missing value
    as nan/None/NaT; an identifier (snake_case or a key with underscores) outside the
    cells meant as code (``<code>``, hash and code columns, links); a table without its
    number ("Table N." in the caption, filled by Sphinx); scientific notation or a hyphen
    for a minus sign in a numeric cell; a synthetic count beside a municipality's name.
    """
    problems: list[str] = []
    for page in sorted(html_dir.glob("*.html")):
        if page.name in _NOT_BOOK_PAGES:
            continue
        body = page.read_text(encoding="utf-8")
        for attributes, inner in _TABLE.findall(body):
            classes = re.search(r'class="([^"]*)"', attributes)
            names = set(classes.group(1).split()) if classes else set()
            if "dataframe" in names and "kosovo-table" not in names:
                problems.append(f"{page.name}: a pandas-default table (not report.tables)")
            text = html.unescape(re.sub(r"<[^>]+>", " ", _CODE_CELLS.sub(" ", inner)))
            text = " ".join(text.split())
            missing = _MISSING_SHOWN.search(text)
            if missing:
                problems.append(f"{page.name}: a table shows {missing.group(0)!r}")
            for token in sorted(set(_IDENTIFIER.findall(text))):
                problems.append(f"{page.name}: a table shows the identifier {token!r}")
            if "kosovo-table" in names:
                problems += [f"{page.name}: {p}" for p in _rule_defects(inner)]
                rows = len(re.findall(r"<tr\b", inner.split("</thead>")[-1]))
                if rows > LONG_TABLE_ROWS and page.name not in LONG_TABLE_PAGES:
                    problems.append(f"{page.name}: a table of {rows} rows inline (appendix)")
    return problems


#: Longer tables go to the appendix (with a summary in their chapter), so that a reader
#: sees every key column at 1280 px without scrolling past a hundred rows.
LONG_TABLE_ROWS = 26
LONG_TABLE_PAGES = frozenset({"appendix.html"})
_CAPTION_HTML = re.compile(r"<caption>(.*?)</caption>", re.DOTALL)
_NUMBERED = re.compile(r'<span class="table-number[^"]*">\s*Table \d+\.\s*</span>')
_NUMERIC_CELL = re.compile(r'<td\b[^>]*class="[^"]*\bnum\b[^"]*"[^>]*>(.*?)</td>', re.DOTALL)
_HEADERS = re.compile(r"<th\b[^>]*>(.*?)</th>", re.DOTALL)
#: Headers of counts a synthetic outcome makes up (labels of fighters, fitted, predicted).
_SYNTHETIC_COUNT_HEADERS = re.compile(r"^(?:Fighters|Fitted|Predicted|Residual)\b(?! \(published)")


def _rule_defects(inner: str) -> list[str]:
    """The number formatting and labelling rules of issue 21, on one rendered table."""
    problems: list[str] = []
    caption = _CAPTION_HTML.search(inner)
    caption_html = caption.group(1) if caption else ""
    title = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", caption_html)).split())
    if not _NUMBERED.search(caption_html):
        problems.append(f"an unnumbered table ({title[:60]!r})")
    for cell in _NUMERIC_CELL.findall(inner):
        text = html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
        if re.search(r"\d[eE][+-]?\d", text):
            problems.append(f"scientific notation {text!r} in {title[:40]!r}")
        if re.match(r"^-\d", text) or " -" in text:
            problems.append(f"a hyphen for a minus sign {text!r} in {title[:40]!r}")
    headers = [html.unescape(re.sub(r"<[^>]+>", "", h)).strip() for h in _HEADERS.findall(inner)]
    if "SYNTHETIC DATA" in caption_html and "Municipality" in headers:
        counts = [h for h in headers if _SYNTHETIC_COUNT_HEADERS.match(h)]
        if counts:
            problems.append(
                f"synthetic counts {counts} beside municipality names in {title[:40]!r}"
            )
    return problems


#: The design diagnosis's tests and diagnosands as the book names them (DeclareDesign's
#: diagnosands; the estimator's rows carry bias and RMSE, the tests' the rest).
DESIGN_TESTS = {
    "estimator": "NB2 estimate (every test)",
    "wald": "Wald, 1.96",
    "wald_size_corrected": "Wald, size-corrected",
    "permutation": "Randomization test",
}
DESIGN_DIAGNOSANDS = {
    "power": "Power",
    "coverage": "Coverage",
    "bias": "Bias of the IRR",
    "rmse": "RMSE of the IRR",
    "type_s_rate": "Type S",
    "type_m_rate": "Type M (exaggeration)",
}


def _with_mc_se(estimate: Any, mc_se: Any, exact: bool) -> str:
    """'0.46 (0.019)': the estimate and, in parentheses, its Monte Carlo SE (DeclareDesign's
    notation); exact figures (enumerated, MC SE 0) print alone.  A dash when undefined."""
    if pd.isna(estimate):
        return "-"
    if exact or pd.isna(mc_se):
        # exact, or a figure with no Monte Carlo SE of its own (the size-corrected
        # critical value): the estimate alone
        return f"{estimate:.3f}"
    return f"{estimate:.3f} ({mc_se:.3f})"


def design_diagnosis_table(
    diagnosis: pd.DataFrame,
    study: str,
    national_total: int,
    alpha: float | None = None,
    rate_ratios: Sequence[float] | None = None,
) -> pd.DataFrame:
    """One study's diagnosands, one row per term, true IRR and test, one column per
    diagnosand, each 'estimate (MC SE)' (see :func:`_with_mc_se`); the municipal study at
    one assumed ``alpha`` and one national total, the cell study exact."""
    rows = diagnosis[
        (diagnosis["study"] == study)
        & (diagnosis["national_total"] == national_total)
        & diagnosis["diagnosand"].isin(list(DESIGN_DIAGNOSANDS))
    ]
    if alpha is not None:
        rows = rows[rows["generator_alpha"] == alpha]
    if rate_ratios is not None:
        rows = rows[rows["true_irr"].isin(list(rate_ratios))]
    rows = rows.assign(
        cell=[
            _with_mc_se(e, s, m == "exact enumeration")
            for e, s, m in zip(rows["estimate"], rows["mc_se"], rows["method"], strict=True)
        ],
        test_order=rows["test"].map(list(DESIGN_TESTS).index),
    )
    wide = rows.pivot_table(
        index=["term", "true_irr", "test_order", "test"],
        columns="diagnosand",
        values="cell",
        aggfunc="first",
    ).reset_index()
    wide = wide.sort_values(["term", "true_irr", "test_order"]).drop(columns="test_order")
    wide["test"] = wide["test"].map(DESIGN_TESTS)
    present = [d for d in DESIGN_DIAGNOSANDS if d in wide.columns]
    wide = wide[["term", "true_irr", "test", *present]].fillna("")
    return wide.rename(
        columns={"true_irr": "True IRR", "test": "Test", **DESIGN_DIAGNOSANDS}
    ).reset_index(drop=True)


def verdict_table(verdict: pd.DataFrame) -> pd.DataFrame:
    """The verdict table as the conclusion prints it: the claim (with its hypothesis and
    the quantity its estimate measures), the verdict beside it, then the plan's label,
    the estimate with its 95% interval, the p-value and the Holm-adjusted p-value; six
    columns, so the verdict is visible at any width.  The basis of each verdict stays in
    the data file and in the prose."""
    claims = [
        (f"{row.hypothesis}: " if isinstance(row.hypothesis, str) and row.hypothesis else "")
        + f"{row.claim} (estimate: {row.quantity})"
        for row in verdict.itertuples()
    ]
    return pd.DataFrame(
        {
            "claim": claims,
            "verdict": verdict["verdict"].to_numpy(),
            "plan_label": verdict["plan_label"].to_numpy(),
            "estimate_interval": [
                MISSING
                if pd.isna(row["estimate"])
                else _cell(row, "estimate", "conf_low", "conf_high", 2)
                for _, row in verdict.iterrows()
            ],
            "p_value": verdict["p_value"].to_numpy(),
            "p_adjusted": verdict["p_adjusted"].to_numpy(),
        }
    )
