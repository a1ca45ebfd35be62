"""Regression tables render from result tables and carry the synthetic label."""

from __future__ import annotations

import pandas as pd

from kosovo_study.report.tables import regression_table


def _results(synthetic: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    coefficients = pd.DataFrame(
        {
            "family": ["nb2", "nb2"],
            "term": ["const", "unemployment_concern_2012"],
            "incidence_rate_ratio": [0.001, 1.5234],
            "irr_low": [0.0005, 1.1],
            "irr_high": [0.002, 2.004],
            "outcome_source": "synthetic" if synthetic else "restricted",
            "synthetic": synthetic,
        }
    )
    statistics = pd.DataFrame(
        {
            "family": ["nb2"],
            "n": [34],
            "log_likelihood": [-88.64],
            "aic": [189.26],
            "pseudo_r2": [0.0497],
            "alpha": [0.479],
        }
    )
    return coefficients, statistics


def test_values_and_statistics_are_rendered_from_the_results() -> None:
    table = regression_table(
        *_results(False),
        "Municipal models",
        labels={"unemployment_concern_2012": "Unemployment concern (per SD)"},
    )
    markdown = table.to_markdown()
    assert "| Unemployment concern (per SD) | 1.52<br>[1.10, 2.00] |" in markdown
    assert "| AIC | 189.3 |" in markdown
    assert "| N | 34 |" in markdown
    assert "SYNTHETIC" not in markdown
    assert "const" not in markdown


def test_synthetic_tables_say_so_in_every_format() -> None:
    table = regression_table(*_results(True), "Municipal models")
    assert table.synthetic
    for text in (table.to_markdown(), table.to_html(), table.to_latex()):
        assert "SYNTHETIC DATA, not a finding" in text
        assert "nb2 (SYNTHETIC)" in text
    assert 'class="synthetic-badge"' in table.to_html()


def test_latex_escapes_special_characters() -> None:
    latex = regression_table(*_results(False), "Models").to_latex()
    assert r"unemployment\_concern\_2012" in latex
    assert r"Pseudo-R$^2$" in latex
    assert latex.strip().endswith(r"\end{table}")
