"""Tables render from result tables with labels, precision by kind and one synthetic flag."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from kosovo_study.report import style, tables
from kosovo_study.report.labels import format_value, humanise, infer_kind
from kosovo_study.report.style import is_synthetic
from kosovo_study.report.tables import regression_table, table, table_defects

from ..conftest import REPO


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
    # The rule the figures used to apply on their own disagreed here (issue 18): case,
    # spaces and a yes/no column read back from CSV as text.
    assert is_synthetic(pd.DataFrame({"x": [1], "outcome_source": [" Synthetic "]}))
    assert is_synthetic(pd.DataFrame({"x": [1], "synthetic": ["True"]}))
    assert not is_synthetic(pd.DataFrame({"x": [1], "synthetic": ["False"]}))
    assert not is_synthetic(pd.DataFrame({"x": [1], "outcome_source": ["restricted"]}))
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
    assert humanise("log_gdp_per_capita_ppp_2010_2013") == "Log GDP per capita PPP (2010-2013)"
    # ranges and numbers inside names read as a reader writes them
    assert humanise("share_adults_aged_17_30") == "Share adults aged 17-30"
    assert humanise("population_share_of_top5_municipalities") == (
        "Population share of top 5 municipalities"
    )
    assert humanise("gdp+muslim") == "GDP + Muslim"


# --- labels everywhere, code as code, tables through the renderer --------------------


def test_a_column_of_variable_names_shows_labels_whatever_its_name() -> None:
    variables = pd.DataFrame(
        {
            "variable": ["youth_unemployment_pct_2010_2013", "hdi_2015"],
            "unit": ["% of labour force 15-24", "index 0-1"],
            "description": ["", ""],
        }
    )
    covariates = pd.DataFrame(
        {
            "variable": ["youth_unemployment_pct_2010_2013", "hdi_2015", "icsr_2015_point"],
            "value": [55.3, float("nan"), 125.0],
            "unit": ["% of labour force 15-24", "index 0-1", "persons"],
        }
    )
    rendered = table(covariates, "Kosovo's covariates", variables=variables).to_html()
    assert "youth_unemployment" not in rendered
    assert "Youth unemployment % (2010-2013)" in rendered
    assert "Human Development Index (2015)" in rendered
    # values in mixed units: persons as an integer, a percentage with 2 decimals
    assert ">125<" in rendered
    assert ">55.30<" in rendered
    # the same class under another column name: every value a variable name
    renamed = covariates.rename(columns={"variable": "covariate"})
    assert "hdi_2015" not in table(renamed, "x", variables=variables).to_html()


def test_source_keys_print_as_author_and_year() -> None:
    frame = pd.DataFrame({"source_key": ["worldbank_population_datahub"], "value": [1.0]})
    rendered = table(frame, "x").to_html()
    assert "World Bank (2024b)" in rendered
    assert "worldbank_population_datahub" not in rendered


def test_file_and_code_names_print_as_code() -> None:
    frame = pd.DataFrame({"file": ["kosovo_fighters_national.csv"], "rows": [95]})
    rendered = table(frame, "x").to_html()
    assert "<code>kosovo_<wbr>fighters_<wbr>national.<wbr>csv</code>" in rendered
    latex = table(frame, "x").to_latex()
    assert r"\texttt{kosovo\_fighters\_national.csv}" in latex


def _page(tmp_path: Path, body: str) -> Path:
    site = tmp_path / "html"
    site.mkdir(exist_ok=True)
    (site / "page.html").write_text(f"<html><body><main>{body}</main></body></html>")
    return site


def test_table_defects_finds_pandas_tables_identifiers_and_missing_values(
    tmp_path: Path,
) -> None:
    raw = pd.DataFrame({"youth_share_2011": [0.1, None]}).to_html()
    problems = table_defects(_page(tmp_path, raw))
    assert any("pandas-default table" in p for p in problems)
    assert any("'youth_share_2011'" in p for p in problems)
    assert any("'NaN'" in p or "'None'" in p or "'nan'" in p for p in problems)


def test_table_defects_accepts_the_renderer_and_code_cells(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "file": ["a_b.csv"],
            "sha256": ["0" * 64],
            "url": ["https://example.org/x_y"],
            "youth_share_2011": [None],
        }
    )
    site = _page(tmp_path, table(frame, "A table").to_html())
    assert table_defects(site) == []


def test_the_interviews_page_routes_every_table_through_the_renderer() -> None:
    text = (REPO.book / "interviews.md").read_text(encoding="utf-8")
    assert ".round(" not in text
    for page in REPO.book.glob("*.md"):
        code = "\n".join(re.findall(r"```\{code-cell\}.*?```", page.read_text(), re.DOTALL))
        # a bare DataFrame as a cell's last line, or display() of one, bypasses the renderer
        assert not re.search(r"display\((?!HTML|Markdown)[^)]*\.(?:round|head)\(", code), page
        assert not re.search(r"\n[\w\[\]\"'.]+\.(?:round|head)\(\d*\)\s*\n```", code), page


def test_identifiers_inside_text_cells_are_labelled() -> None:
    from kosovo_study.report.labels import citation_text, label_identifiers

    assert label_identifiers("mosques_2021 / population_2024 x 10,000") == (
        "Mosques (2021) / Population (2024) x 10,000"
    )
    assert label_identifiers("with_hdi") == "With HDI"
    assert label_identifiers("no identifier here") == "no identifier here"
    assert label_identifiers("worldbank_gdp_datahub") == "World Bank (2024a)"
    assert citation_text("worldbank_gdp_datahub", parenthetical=True) == "World Bank, 2024a"
    assert citation_text("see fighters_confirmed_sources") == "see Fighters confirmed sources"


def test_a_unit_column_keeps_its_words_and_labels_its_one_identifier() -> None:
    frame = pd.DataFrame(
        {
            "statistic": ["children", "in_theatre_active_isis_members", "total_travelled"],
            "unit": ["persons", "per_million", "persons"],
        }
    )
    rendered = table(frame, "x").to_markdown()
    assert "| Children | persons |" in rendered
    assert "| In theatre active ISIS members | Per million |" in rendered


def test_html_is_stable_and_numbers_never_break() -> None:
    frame = pd.DataFrame({"n": [1234567], "name": ["a"]})
    first, second = table(frame, "x").to_html(), table(frame, "x").to_html()
    assert first == second  # no random table id
    assert re.search(r"#T_\w+ td\.num \{\s*white-space: nowrap !important;", first)


def test_a_printed_table_fits_the_page() -> None:
    rendered = table(pd.DataFrame({"n": [1], "name": ["a"]}), "x").to_html()
    table_id = re.search(r'<table id="(T_\w+)"', rendered).group(1)  # type: ignore[union-attr]
    assert (
        f"div.table-scroll[data-table='{table_id}'] {{ overflow: visible !important; }}" in rendered
    )
    assert f"#{table_id} td {{ min-width: 0 !important; }}" in rendered


def test_a_table_of_real_and_synthetic_rows_says_partly_synthetic() -> None:
    mixed = table(pd.DataFrame({"x": [1.5, 2.5], "synthetic": [True, False]}), "Joint tests")
    assert mixed.mixed
    rendered = mixed.to_html()
    assert "PARTLY SYNTHETIC DATA" in rendered
    assert mixed.caption.startswith("PARTLY SYNTHETIC DATA")
    whole = table(pd.DataFrame({"x": [1.5], "synthetic": [True]}), "Municipal")
    assert not whole.mixed
    assert "PARTLY" not in whole.to_html()
    assert whole.caption.startswith("SYNTHETIC DATA")


# -- one synthetic rule for every table ----------------------------------------------------

TABLE_MARKS = ("real", "attrs", "column", "column as text", "outcome_source in capitals")


def _marked(frame: pd.DataFrame, how: str) -> pd.DataFrame:
    frame = frame.copy()
    if how == "attrs":
        frame.attrs["synthetic"] = True
    elif how == "column":
        frame["synthetic"] = True
    elif how == "column as text":
        frame["synthetic"] = "True"
    elif how == "outcome_source in capitals":
        frame["outcome_source"] = "SYNTHETIC"
    return frame


#: Every table builder of the report, on a table that may be marked synthetic.
TABLE_BUILDERS = {
    "table": lambda frame: table(frame, "t"),
    "regression_table": lambda frame: regression_table(frame, _results(False)[1], "t"),
}


def test_every_table_builder_is_covered() -> None:
    builders = {
        name
        for name, value in vars(tables).items()
        if callable(value)
        and getattr(value, "__module__", "") == tables.__name__
        and "Table" in str(getattr(value, "__annotations__", {}).get("return", ""))
    }
    assert builders == set(TABLE_BUILDERS)


@pytest.mark.parametrize("how", TABLE_MARKS)
@pytest.mark.parametrize("builder", sorted(TABLE_BUILDERS))
def test_every_table_badges_by_the_one_synthetic_rule(builder: str, how: str) -> None:
    frame = _marked(_results(False)[0].drop(columns=["synthetic", "outcome_source"]), how)
    shown = TABLE_BUILDERS[builder](frame)
    expected = how != "real"
    assert shown.synthetic is expected is style.is_synthetic(frame)
    assert (tables.BADGE_HTML in shown.to_html()) is expected
    assert (tables.BADGE_TEXT in shown.to_latex()) is expected
