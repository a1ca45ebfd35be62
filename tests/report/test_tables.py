"""Tables render from result tables with labels, precision by kind and one synthetic flag."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from kosovo_study.report.labels import format_value, humanise, infer_kind
from kosovo_study.report.tables import is_synthetic, regression_table, table


def _results(synthetic: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    coefficients = pd.DataFrame(
        {
            "family": ["nb2", "nb2", "poisson", "poisson", "poisson"],
            "term": [
                "const",
                "unemployment_concern_2012",
                "const",
                "unemployment_concern_2012",
                "hdi_2015",
            ],
            "incidence_rate_ratio": [0.001, 1.5234, 0.002, 1.4, 2.0],
            "irr_low": [0.0005, 1.1, 0.001, 1.0, 1.2],
            "irr_high": [0.002, 2.004, 0.003, 2.0, 3.0],
            "outcome_source": "synthetic" if synthetic else "restricted",
            "synthetic": synthetic,
        }
    )
    statistics = pd.DataFrame(
        {
            "family": ["nb2", "poisson"],
            "n": [34, 34],
            "log_likelihood": [-88.64, -90.0],
            "aic": [189.26, 190.1],
            "pseudo_r2": [0.0497, 0.04],
            "alpha": [0.479, None],
        }
    )
    return coefficients, statistics


def test_cells_are_estimate_and_interval_and_statistics_come_last() -> None:
    table = regression_table(
        *_results(False),
        "Municipal models",
        labels={"unemployment_concern_2012": "Unemployment concern (per SD)"},
    )
    markdown = table.to_markdown()
    assert "| Unemployment concern (per SD) | 1.52 [1.10, 2.00] | 1.40 [1.00, 2.00] |" in markdown
    # a term only one model has is a coefficient row, above the statistics, never below
    rows = [line.split("|")[1].strip() for line in markdown.splitlines() if line.startswith("| ")]
    assert rows.index("Human Development Index (2015)") < rows.index("N")
    assert rows[-1] == "NB2 \u03b1"
    assert "| AIC | 189.26 | 190.10 |" in markdown
    assert "| N | 34 | 34 |" in markdown
    assert "const" not in markdown
    assert "SYNTHETIC" not in markdown
    assert "N: NB2 34; Poisson 34." in table.note
    assert table.rule_before == (2,)


def test_a_synthetic_table_has_exactly_one_badge() -> None:
    table = regression_table(*_results(True), "Municipal models")
    assert table.synthetic
    rendered = table.to_html()
    assert rendered.count("SYNTHETIC") == 2  # the badge, and the region's aria-label
    assert rendered.count('class="synthetic-badge"') == 1
    assert table.to_latex().count("SYNTHETIC") == 1
    assert table.to_markdown().count("SYNTHETIC") == 1


def test_synthetic_flag_is_read_from_the_data() -> None:
    assert is_synthetic(pd.DataFrame({"x": [1], "synthetic": [True]}))
    assert is_synthetic(pd.DataFrame({"x": [1], "outcome_source": ["synthetic"]}))
    flagged = pd.DataFrame({"x": [1]})
    flagged.attrs["synthetic"] = True
    assert is_synthetic(flagged)
    assert not is_synthetic(pd.DataFrame({"x": [1], "synthetic": [False]}))
    shown = table(pd.DataFrame({"x": [1.5], "synthetic": [True]}), "t")
    assert "synthetic" not in shown.frame.columns  # said once, in the caption
    mixed = table(pd.DataFrame({"x": [1.5, 2.5], "synthetic": [True, False]}), "t")
    assert "synthetic" in mixed.frame.columns


@pytest.mark.parametrize("special", ["$", "{", "}", "~", "^", "&", "%", "#", "_", "\\"])
def test_latex_escapes_every_special_character(special: str) -> None:
    latex = table(pd.DataFrame({"name": [f"a{special}b"]}), f"t{special}").to_latex()
    body = latex.split(r"\midrule")[1]
    assert f"a{special}b" not in body, f"{special!r} left unescaped"


def test_html_escapes_text_but_links_urls() -> None:
    html = table(
        pd.DataFrame({"note": ["<b>x</b> & y"], "url": ["https://a.org/x_y?a=1&b=2"]}), "t"
    ).to_html()
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in html
    assert '<a href="https://a.org/x_y?a=1&amp;b=2">' in html
    assert "\\_" not in html


def test_headers_units_no_index_and_precision_by_kind() -> None:
    variables = pd.DataFrame(
        {"variable": ["population_2011"], "unit": ["persons"], "description": ["census"]}
    )
    frame = pd.DataFrame(
        {
            "population_2011": [102.0, 1500000.0],
            "pseudo_r2": [0.049712, 0.5],
            "p_value": [0.01234, 0.0001],
            "sha256": ["a" * 64, "b" * 64],
            "youth_unemployment_pct_2010_2013": [12.3456, None],
        },
        index=[7, 9],
    )
    rendered = table(frame, "Counts", variables=variables).to_html()
    assert "Population (2011), persons" in rendered
    assert "Youth unemployment % (2010-2013)" in rendered
    assert ">102<" in rendered
    assert ">1,500,000<" in rendered
    assert "102.0" not in rendered
    assert ">0.05<" in rendered
    assert ">0.012<" in rendered
    assert "&lt; 0.001" in rendered
    assert "a" * 64 in rendered
    assert "..." not in rendered
    assert "\u2026" not in rendered
    assert re.search(r'class="[^"]*hash[^"]*"', rendered)
    assert ">7<" not in rendered
    assert ">9<" not in rendered
    assert "nan" not in rendered.lower().replace("nan-", "")
    assert 'class="table-scroll" role="region" tabindex="0"' in rendered


def test_kinds_and_formats() -> None:
    assert infer_kind("n", pd.Series([34, 35])) == "count"
    assert infer_kind("fitted_nb2", pd.Series([10.62, 6.5])) == "ratio"
    assert infer_kind("randomization_p", pd.Series([0.2])) == "p"
    assert infer_kind("signs_agree", pd.Series([True, False])) == "flag"
    assert infer_kind("file", pd.Series(["c" * 64])) == "hash"
    assert format_value(None, "ratio") == "\u2013"
    assert format_value(float("nan"), "count") == "\u2013"
    assert format_value(0.00049, "ratio") == "0.00049"
    assert format_value(True, "flag") == "yes"
    assert humanise("log_gdp_per_capita_ppp_2010_2013") == "Log GDP per capita ppp (2010-2013)"
