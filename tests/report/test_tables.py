"""Tables render from result tables with labels, precision by kind and one synthetic flag."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from kosovo_study.errors import KosovoStudyError
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
    # said once, in the caption; kept (not printed) in the table's data file
    assert "synthetic" not in [c.name for c in shown.columns]
    assert shown.frame["synthetic"].all()
    assert "Synthetic" not in shown.to_html()
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
    # two significant digits up to four decimals, never scientific notation
    assert format_value(0.00049, "ratio") == "0.0005"
    assert format_value(5e-05, "ratio") == "0.0001"
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
    site = _page(tmp_path, _numbered(table(frame, "A table").to_html()))
    assert table_defects(site) == []


def _numbered(rendered: str, number: int = 1) -> str:
    """The renderer's HTML as the book's Sphinx extension numbers it."""
    filled = f'<span class="table-number caption-number">Table {number}.</span> '
    return rendered.replace(tables.NUMBER_SLOT, filled)


def test_table_defects_fails_on_an_unnumbered_table_and_on_each_number_rule(
    tmp_path: Path,
) -> None:
    frame = pd.DataFrame({"x": [-2.5, 1.0]})
    unnumbered = table_defects(_page(tmp_path, table(frame, "A table").to_html()))
    assert unnumbered == ["page.html: an unnumbered table ('A table')"]
    good = _numbered(table(frame, "A table").to_html())
    assert table_defects(_page(tmp_path, good)) == []
    # a hyphen for the minus sign, or scientific notation, in a numeric cell
    assert any("hyphen" in p for p in table_defects(_page(tmp_path, good.replace("\u2212", "-"))))
    scientific = good.replace("1.00", "5e-05")
    assert any("scientific" in p for p in table_defects(_page(tmp_path, scientific)))
    # a synthetic count beside a municipality name, however the page built the table
    badge = tables.BADGE_HTML
    names = (
        f'<table class="kosovo-table"><caption>{good.split("<caption>")[1].split("</caption>")[0]}'
        f"{badge}</caption><thead><tr><th>Municipality</th><th>Fighters</th></tr></thead>"
        '<tbody><tr><td>Podujevë</td><td class="num">46</td></tr></tbody></table>'
    )
    assert any("beside municipality names" in p for p in table_defects(_page(tmp_path, names)))


@pytest.mark.slow  # two Sphinx builds
def test_sphinx_numbers_the_tables_of_the_book_and_numref_cites_them(tmp_path: Path) -> None:
    """The book's extension (report.numbered_tables) on a two-page project: tables are
    numbered in reading order across pages, in the HTML and the single-page edition, and
    {numref} gives "Table N" linked to the table."""
    import subprocess
    import sys
    from dataclasses import replace

    import nbformat

    source = tmp_path / "src"
    source.mkdir()

    def page(name: str, names: list[str], prose: str) -> None:
        cells = [nbformat.v4.new_markdown_cell(f"# {name}\n\n{prose}")]
        for table_name in names:
            shown = replace(
                table(pd.DataFrame({"x": [1.5]}), f"Title {table_name}"), name=table_name
            )
            cell = nbformat.v4.new_code_cell("show()")  # an empty cell is not rendered
            data = {"text/html": shown.to_html(), "text/plain": "table"}
            cell.outputs = [nbformat.v4.new_output("display_data", data=data)]
            cells.append(cell)
        nbformat.write(nbformat.v4.new_notebook(cells=cells), source / f"{name}.ipynb")

    # a heading whose id is a table's name: the table's anchor stays its own
    page("one", ["t-a", "t-b"], "See {numref}`t-b` and {numref}`t-c`.\n\n## T a")
    page("two", ["t-c"], "See {numref}`t-a`.")
    (source / "index.md").write_text("# Book\n\n```{toctree}\none\ntwo\n```\n")
    (source / "conf.py").write_text(
        "extensions = ['myst_nb', 'kosovo_study.report.numbered_tables']\n"
        "numfig = True\nnumfig_format = {'table': 'Table %s'}\nnb_execution_mode = 'off'\n"
    )
    for builder in ("html", "singlehtml"):
        out = tmp_path / builder
        subprocess.run(
            [sys.executable, "-m", "sphinx", "-q", "-b", builder, str(source), str(out)],
            check=True,
            capture_output=True,
        )
        text = "".join(p.read_text(encoding="utf-8") for p in sorted(out.glob("*.html")))
        numbers = re.findall(r'table-number caption-number">Table (\d+)\.', text)
        assert sorted(numbers) == ["1", "2", "3"]
        assert re.search(r'href="[^"]*#tbl-t-c"><span class="std std-numref">Table 3<', text)
        assert "undefined label" not in text
        assert table_defects(out) == []


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


# --- The number formatting rules (issue 21), one place: report.labels / report.tables ---


def test_person_counts_print_as_whole_persons() -> None:
    frame = pd.DataFrame(
        {
            "predicted_median": [83.5, 0.0],
            "prediction_high": [860.12, 2796.25],
            "predicted_zero_share": [0.65, 0.69],
            "fighters_per_million": [32.45, 6.26],
        }
    )
    shown = table(frame, "t")
    kinds = {c.name: c.kind for c in shown.columns}
    assert kinds["predicted_median"] == kinds["prediction_high"] == "count"
    assert kinds["predicted_zero_share"] == kinds["fighters_per_million"] == "ratio"
    text = shown.to_markdown()
    assert "2,796" in text
    assert "2,796.25" not in text
    assert "84 |" in text


def test_one_precision_per_column_and_no_scientific_notation() -> None:
    frame = pd.DataFrame({"estimate": [0.06, 0.0075, 0.10, 5e-05, 1.5]})
    shown = table(frame, "t")
    (column,) = shown.columns
    assert column.decimals == 4
    cells = [line.strip("| ") for line in shown.to_markdown().splitlines()[4:]]
    assert cells == ["0.0600", "0.0075", "0.1000", "0.0001", "1.5000"]
    assert not any("e-" in c or "e+" in c for c in cells)


def test_regression_cells_share_one_precision_per_model() -> None:
    coefficients = pd.DataFrame(
        {
            "family": ["nb2", "nb2"],
            "term": ["a", "b"],
            "incidence_rate_ratio": [0.06, 1.2],
            "irr_low": [0.0075, 0.9],
            "irr_high": [0.10, 1.6],
        }
    )
    shown = regression_table(coefficients, pd.DataFrame({"family": ["nb2"]}), "t")
    cell = shown.frame.iloc[0, 1]
    assert cell == "0.0600 [0.0075, 0.1000]"


def test_negative_numbers_carry_a_true_minus_sign() -> None:
    assert format_value(-0.48, "ratio") == "\u22120.48"
    assert format_value(-1234, "count") == "\u22121,234"
    assert format_value(-0.0000001, "ratio", 2) == "0.00"  # no signed zero
    html_text = table(pd.DataFrame({"x": [-2.7, 1.5]}), "t").to_html()
    assert "\u22122.70" in html_text
    assert ">-2.70<" not in html_text


def test_component_codes_print_in_words_and_low_mid_high_in_order() -> None:
    frame = pd.DataFrame(
        {
            "term": ["a", "a", "a", "b", "b", "b"],
            "rule": ["high", "low", "mid", "mid", "high", "low"],
            "component": ["count", "zero_hurdle", "any", "mean", "positive", "count"],
        }
    )
    shown = table(frame, "t")
    assert shown.frame["rule"].tolist() == ["low", "mid", "high"] * 2
    assert shown.frame["term"].tolist() == ["a", "a", "a", "b", "b", "b"]
    words = set(shown.frame["component"])
    assert not words & {"count", "zero_hurdle", "any", "mean", "positive"}


def test_a_synthetic_count_never_stands_beside_a_municipality_name() -> None:
    frame = pd.DataFrame({"municipality": ["Podujevë"], "fighters": [46], "cooks_distance": [0.15]})
    frame["synthetic"] = True
    with pytest.raises(KosovoStudyError, match="beside municipality names"):
        table(frame, "The five most influential municipalities")
    # the diagnostics alone, or the published (real) count, may stand beside the name
    table(frame.drop(columns="fighters"), "t")
    real = pd.DataFrame({"municipality": ["Podujevë"], "fighters": [1], "synthetic": [False]})
    table(real, "t")


@pytest.mark.parametrize("builder", ["table", "regression_table"])
def test_the_data_file_of_a_synthetic_table_keeps_its_flag(builder: str) -> None:
    coefficients = pd.DataFrame(
        {
            "family": ["nb2"],
            "term": ["a"],
            "incidence_rate_ratio": [1.2],
            "irr_low": [0.9],
            "irr_high": [1.6],
            "synthetic": [True],
        }
    )
    shown = (
        table(coefficients, "t")
        if builder == "table"
        else regression_table(coefficients, pd.DataFrame({"family": ["nb2"]}), "t")
    )
    assert shown.frame["synthetic"].astype(bool).all()
    assert tables.BADGE_HTML in shown.to_html()
    assert "Synthetic</th>" not in shown.to_html()  # said once, by the badge


def _shown_tables() -> dict[str, str]:
    """``{table name: page}`` for every table the book's pages show."""
    found: dict[str, str] = {}
    for page in sorted(REPO.book.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for name in re.findall(r"(?:show_table|\bshow)\(\s*\"([a-z0-9-]+)\"", text):
            found[name] = page.name
    return found


def test_the_prose_cites_every_table_by_its_number() -> None:
    """Each table the book shows is cited by {numref} somewhere in the prose (so its
    number is used, and a renamed table breaks the build instead of the reference)."""
    shown = _shown_tables()
    assert len(shown) >= 30
    prose = "".join(p.read_text(encoding="utf-8") for p in REPO.book.glob("*.md"))
    uncited = sorted(name for name in shown if f"{{numref}}`{name}`" not in prose)
    assert uncited == []


def test_long_tables_are_in_the_appendix(tmp_path: Path) -> None:
    long_table = _numbered(table(pd.DataFrame({"x": range(40)}), "Long").to_html())
    assert any("40 rows inline" in p for p in table_defects(_page(tmp_path, long_table)))
    appendix = tmp_path / "html" / "appendix.html"
    (tmp_path / "html" / "page.html").rename(appendix)
    assert table_defects(tmp_path / "html") == []
