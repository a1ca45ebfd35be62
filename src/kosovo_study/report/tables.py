"""Regression tables rendered from result tables to Markdown, HTML and LaTeX.

A :class:`RegressionTable` is built from the tidy coefficient and fit-statistic
tables that the models stage writes; it never refits anything.  Cells show the
estimate (incidence-rate ratio by default) with its 95% interval below; the
footer gives N, log-likelihood, AIC, pseudo-R² and the outcome source.  A table
fed by a synthetic outcome says so in its title and in every column header.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

FOOTER = (
    ("n", "N", "{:.0f}"),
    ("log_likelihood", "Log-likelihood", "{:.1f}"),
    ("aic", "AIC", "{:.1f}"),
    ("pseudo_r2", "Pseudo-R² (McFadden)", "{:.3f}"),
    ("alpha", "NB2 alpha", "{:.2f}"),
)


@dataclass(frozen=True)
class RegressionTable:
    """A rendered-ready regression table: ``body`` (terms x models) and metadata."""

    title: str
    body: pd.DataFrame
    synthetic: bool
    note: str

    @property
    def caption(self) -> str:
        flag = "SYNTHETIC DATA, not a finding. " if self.synthetic else ""
        return f"{flag}{self.title}. {self.note}"

    def to_markdown(self) -> str:
        header = ["", *self.body.columns]
        lines = [
            f"**{self.caption}**",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "---|" * len(header),
        ]
        for label, row in self.body.iterrows():
            cells = [str(label), *[str(v).replace("\n", "<br>") for v in row]]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in self.body.columns)
        rows = "".join(
            "<tr><th>"
            + html.escape(str(label))
            + "</th>"
            + "".join(f"<td>{html.escape(str(v)).replace(chr(10), '<br>')}</td>" for v in row)
            + "</tr>"
            for label, row in self.body.iterrows()
        )
        badge = '<span class="synthetic-badge">SYNTHETIC DATA</span> ' if self.synthetic else ""
        return (
            f'<table class="regression-table"><caption>{badge}'
            f"{html.escape(self.caption)}</caption><thead><tr><th></th>{head}</tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )

    def to_latex(self) -> str:
        def escape(text: object) -> str:
            value = str(text)
            for old, new in (
                ("\\", r"\textbackslash{}"),
                ("&", r"\&"),
                ("%", r"\%"),
                ("_", r"\_"),
                ("#", r"\#"),
                ("²", r"$^2$"),
            ):
                value = value.replace(old, new)
            return value.replace("\n", r" \newline ")

        columns = "l" + "r" * len(self.body.columns)
        lines = [
            r"\begin{table}[htbp]",
            r"\centering",
            rf"\caption{{{escape(self.caption)}}}",
            rf"\begin{{tabular}}{{{columns}}}",
            r"\hline",
            " & ".join(["", *[escape(c) for c in self.body.columns]]) + r" \\",
            r"\hline",
        ]
        for label, row in self.body.iterrows():
            lines.append(" & ".join([escape(label), *[escape(v) for v in row]]) + r" \\")
        lines += [r"\hline", r"\end{tabular}", r"\end{table}"]
        return "\n".join(lines) + "\n"


def _cell(row: pd.Series, estimate: str, low: str, high: str) -> str:
    return f"{row[estimate]:.2f}\n[{row[low]:.2f}, {row[high]:.2f}]"


def regression_table(
    coefficients: pd.DataFrame,
    statistics: pd.DataFrame,
    title: str,
    column: str = "family",
    estimate: str = "incidence_rate_ratio",
    interval: tuple[str, str] = ("irr_low", "irr_high"),
    labels: dict[str, str] | None = None,
    note: str = "Incidence-rate ratios with robust 95% intervals.",
) -> RegressionTable:
    """Terms as rows, one column per value of ``column`` (e.g. model family)."""
    labels = labels or {}
    body: dict[str, dict[str, str]] = {}
    synthetic = bool(coefficients.get("synthetic", pd.Series([False])).any())
    source = ", ".join(sorted(set(coefficients.get("outcome_source", pd.Series(["real"])))))
    for name, group in coefficients.groupby(column, sort=False):
        header = f"{name} (SYNTHETIC)" if synthetic else str(name)
        cells = {}
        for _, row in group[group["term"] != "const"].iterrows():
            cells[labels.get(row["term"], row["term"])] = _cell(row, estimate, *interval)
        stats_row = statistics[statistics[column] == name].iloc[0]
        for key, label, fmt in FOOTER:
            value = stats_row.get(key)
            cells[label] = "" if value is None or pd.isna(value) else fmt.format(value)
        cells["Outcome"] = source
        body[header] = cells
    frame = pd.DataFrame(body)
    return RegressionTable(title=title, body=frame.fillna(""), synthetic=synthetic, note=note)
