"""Figure functions return (figure, plotted data), name their source, flag synthetic data,
keep text readable at printed size and never change global matplotlib settings."""

from __future__ import annotations

from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from kosovo_study.clean.boundaries import read_polygons
from kosovo_study.municipalities import load_register
from kosovo_study.paths import ProjectPaths
from kosovo_study.registry import raw_path
from kosovo_study.report import figures, style

Tables = dict[str, pd.DataFrame]


def _texts(figure: Figure) -> list[str]:
    return [text.get_text() for text in figure.findobj(mpl.text.Text)]


def _readable(figure: Figure) -> None:
    figure.canvas.draw()
    assert style.smallest_font(figure) >= style.MIN_FONT_PT
    assert figure.get_figwidth() <= style.FULL_WIDTH + 1e-9  # sizes are printed sizes
    assert not any(t.lower() in {"nan", "none"} or ": nan" in t for t in _texts(figure))


def test_fighters_over_time_shows_every_total_including_undated(clean_tables: Tables) -> None:
    national = clean_tables["kosovo_national"]
    figure, plotted = figures.fighters_over_time(national)
    totals = national[national["statistic"].isin(figures.TOTAL_STATISTICS)]
    points = sum(len(c.get_offsets()) for a in figure.axes for c in a.collections)
    assert points == len(totals) == len(plotted)
    undated = totals["reference_date"].fillna("").astype(str).str.strip() == ""
    assert undated.any(), "the record has undated totals (359 and 316)"
    assert plotted["undated_x"].notna().sum() == undated.sum()
    assert set(plotted.loc[plotted["undated_x"].notna(), "value"]) == set(totals[undated]["value"])
    assert "undated" in _texts(figure)
    assert any(t.startswith("Source: published national totals") for t in _texts(figure))
    assert style.BADGE_TEXT not in _texts(figure)
    _readable(figure)
    plt.close(figure)


def test_composition_legend_does_not_cover_bars(clean_tables: Tables) -> None:
    figure, plotted = figures.composition(clean_tables["kosovo_national"])
    axes = figure.axes[0]
    labels = [t.get_text() for t in axes.get_yticklabels()]
    # sources as the reference list cites them, never by their keys
    assert "Xharra & Gojani (2017)" in labels  # the UNDP report, not the press copy
    assert not any("_" in label for label in labels)
    assert list(plotted.columns) == ["source_key", "men", "women", "children"]
    figure.canvas.draw()
    legend = figure.legends[0].get_window_extent()
    for artist in [*axes.patches, axes.title]:
        assert not legend.overlaps(artist.get_window_extent()), f"the legend covers {artist}"
    _readable(figure)
    plt.close(figure)


def test_choropleth_labels_municipalities_and_marks_missing(
    clean_tables: Tables, fetched_project: ProjectPaths
) -> None:
    polygons = read_polygons(raw_path("geoboundaries_xkx_adm2", fetched_project), load_register())
    municipalities = clean_tables["municipalities"]
    figure, plotted = figures.choropleth(
        polygons, municipalities, "muslim_share_2011", "Muslim share", "KAS 2011"
    )
    axes = figure.axes[0]
    hatched = [p for p in axes.collections if p.get_hatch()]
    assert hatched, "municipalities without a value must be drawn hatched, not as zero"
    legend_texts = [t.get_text() for t in axes.get_legend().get_texts()]
    assert legend_texts == ["no data"]
    numbers = {t.get_text() for t in axes.texts}
    assert numbers == {str(i) for i in range(1, 39)}
    assert any("Prishtinë" in t for t in _texts(figure))
    assert len(plotted) == 38
    assert plotted["muslim_share_2011"].isna().sum() == 4
    assert any("OpenStreetMap" in t for t in _texts(figure))
    _readable(figure)
    plt.close(figure)


def _power_table() -> pd.DataFrame:
    """A design-diagnosis table: three tests, two terms, two alphas, two totals."""
    rows = [
        {
            "study": "municipal",
            "term": term,
            "test": test,
            "diagnosand": diagnosand,
            "generator_alpha": alpha,
            "true_irr": irr,
            "national_total": total,
            "estimate": 0.05 + slope * (irr - 1),
            "mc_se": 0.01,
        }
        for term in ("unemployment_concern_2012", "charity_evidence_pre2014")
        for test, slope in (("permutation", 0.3), ("wald_size_corrected", 0.35), ("wald", 0.4))
        for diagnosand in ("power", "coverage")
        for alpha in (0.25, 2.0)
        for irr in (1.0, 2.0, 3.0)
        for total in (308, 335)
    ]
    return pd.DataFrame(rows)


def test_design_power_mc_draws_both_tests_per_alpha_with_bands() -> None:
    figure, plotted = figures.design_power_mc(_power_table(), 308)
    panels = [axes for axes in figure.axes if axes.get_title(loc="left")]
    assert len(panels) == 4  # two tests x two terms
    # per panel: 2 alphas + two reference lines; one band per alpha
    for axes in panels:
        assert len([line for line in axes.get_lines() if len(line.get_xdata())]) == 4
        assert len(axes.collections) == 2
    assert len(plotted) == 2 * 2 * 2 * 3  # terms x tests x alphas x rate ratios, power only
    assert set(plotted["national_total"]) == {308}
    assert set(plotted["test"]) == {"permutation", "wald_size_corrected"}
    assert any("Monte Carlo" in t for t in _texts(figure))
    _readable(figure)
    plt.close(figure)


@pytest.mark.parametrize("synthetic", [True, False])
def test_forest_plot_badge_follows_the_synthetic_flag(synthetic: bool) -> None:
    coefficients = pd.DataFrame(
        {
            "family": "nb2",
            "term": ["const", "x"],
            "incidence_rate_ratio": [0.1, 1.5],
            "irr_low": [0.05, 1.1],
            "irr_high": [0.2, 2.0],
            "synthetic": synthetic,
        }
    )
    figure, plotted = figures.irr_forest(coefficients, "t", "s")
    assert (style.BADGE_TEXT in _texts(figure)) is synthetic
    assert list(plotted["term"]) == ["x"]
    plt.close(figure)


def _specifications(outcome: str, placebos: int, charity: str | None) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 24 + placebos
    ratio = np.exp(rng.normal(0, 0.3, n))
    return pd.DataFrame(
        {
            "outcome": outcome,
            "focal": "charity",
            "population": "population_2011",
            "unemployment": rng.choice(
                ["unemployment_concern_2012", "unemployment_concern_2015"], n
            ),
            "charity": (
                [charity] * n
                if charity is not None
                else ["charity_evidence_pre2014"] * 24 + ["charity_evidence_post2014"] * placebos
            ),
            "family": rng.choice(["poisson", "nb2"], n),
            "controls": "none",
            "exclude_influential": False,
            "placebo": [False] * 24 + [True] * placebos,
            "rate_ratio": ratio,
            "ratio_low": ratio / 1.5,
            "ratio_high": ratio * 1.5,
            "randomization_p": rng.uniform(0, 1, n),
            "outcome_source": "synthetic" if outcome == "main" else "published",
            "synthetic": outcome == "main",
        }
    )


def test_specification_curve_keeps_placebos_apart_and_counts_them() -> None:
    table = _specifications("main", placebos=8, charity=None)
    figure, plotted = figures.specification_curve(table, "charity")
    title = figure.axes[0].get_title(loc="left")
    assert "24 specifications" in title
    assert "8 placebo" in title
    main_x = plotted.loc[~plotted["placebo"], "x"]
    assert plotted.loc[plotted["placebo"], "x"].min() > main_x.max() + 1  # a gap between
    assert style.BADGE_TEXT in _texts(figure)
    _readable(figure)
    plt.close(figure)


def test_crossnational_curve_has_no_nan_row_and_names_its_models() -> None:
    table = _specifications("crossnational_mid", placebos=0, charity="")
    table["focal"] = "unemployment"
    figure, _ = figures.specification_curve(table, "unemployment", outcome="crossnational_mid")
    labels = [t.get_text() for t in figure.axes[1].get_yticklabels()]
    assert not any(label.startswith("charity") for label in labels)
    assert any("cross-national" in t for t in _texts(figure))
    assert not any("municipal models" in t for t in _texts(figure))
    assert style.BADGE_TEXT not in _texts(figure)
    _readable(figure)
    plt.close(figure)


def test_figures_do_not_change_global_matplotlib_settings() -> None:
    before = dict(mpl.rcParams)
    figure, _ = figures.design_power_mc(_power_table(), 308)
    plt.close(figure)
    changed = {k for k, v in mpl.rcParams.items() if before.get(k) != v and k != "backend"}
    assert changed == set()


# -- one synthetic rule for every figure ---------------------------------------------------


def _national() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "statistic": ["total_travelled", "total_travelled", "men", "women", "children"],
            "value": [300, 316, 200, 50, 40],
            "reference_date": ["2015-01", "", "2016", "2016", "2016"],
            "low_quality": False,
            "source_key": ["A_2015", "B_2016", "C_2016", "C_2016", "C_2016"],
        }
    )


def _polygons_and_values() -> tuple[object, pd.DataFrame]:
    import geopandas as gpd
    from shapely.geometry import box

    polygons = gpd.GeoDataFrame(
        {"municipality_id": [1, 2]}, geometry=[box(20, 42, 21, 43), box(21, 42, 22, 43)]
    ).set_crs("EPSG:4326")
    values = pd.DataFrame({"municipality_id": [1, 2], "municipality": ["A", "B"], "v": [1.0, 2.0]})
    return polygons, values


def _forest(flag: object = False) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "family": "nb2",
            "term": ["const", "x"],
            "incidence_rate_ratio": [0.1, 1.5],
            "irr_low": [0.05, 1.1],
            "irr_high": [0.2, 2.0],
            "synthetic": flag,
        }
    )


#: Every figure function, called on a small table; ``frame`` is the table that may be marked.
FIGURE_CALLS: dict[str, Any] = {
    "fighters_over_time": figures.fighters_over_time,
    "composition": figures.composition,
    "choropleth": lambda frame: figures.choropleth(
        _polygons_and_values()[0], frame, "v", "title", "source"
    ),
    "design_power_mc": lambda frame: figures.design_power_mc(frame, 308),
    "irr_forest": lambda frame: figures.irr_forest(frame, "t", "s"),
    "specification_curve": lambda frame: figures.specification_curve(frame, "charity"),
    "hanging_rootogram": lambda frame: figures.hanging_rootogram(frame, {"m": "M"}, "s"),
    "pit_histogram": lambda frame: figures.pit_histogram(frame, {"m": "M"}, "s"),
    "imputation_trace": lambda frame: figures.imputation_trace(frame, 2, "s"),
    "imputation_densities": lambda frame: figures.imputation_densities(frame, "s"),
}
FIGURE_INPUTS: dict[str, Any] = {
    "fighters_over_time": _national,
    "composition": _national,
    "choropleth": lambda: _polygons_and_values()[1],
    "design_power_mc": _power_table,
    "irr_forest": _forest,
    "specification_curve": lambda: _specifications("crossnational", 0, "x").assign(
        outcome="main", outcome_source="restricted", synthetic=False
    ),
    "hanging_rootogram": lambda: pd.DataFrame(
        {
            "model": "m",
            "bin": ["0", "1-2", "3-5"],
            "observed": [3.0, 5.0, 1.0],
            "expected": [2.5, 4.0, 2.0],
            "band_low": [0.0, 1.0, 0.0],
            "band_high": [6.0, 8.0, 5.0],
        }
    ),
    "pit_histogram": lambda: pd.DataFrame(
        {
            "model": "m",
            "bin_low": np.linspace(0, 0.9, 10),
            "bin_high": np.linspace(0.1, 1, 10),
            "observed": [3.0, 4, 2, 5, 3, 4, 3, 2, 4, 4],
            "expected": 3.4,
            "band_low": 0.0,
            "band_high": 7.0,
        }
    ),
    "imputation_trace": lambda: pd.DataFrame(
        {
            "chain": np.repeat([0, 1], 12),
            "cycle": np.tile(np.repeat(np.arange(1, 7), 2), 2),
            "variable": np.tile(["a", "b"], 12),
            "imputed": np.tile([1, 3], 12),
            "mean": np.linspace(0, 1, 24),
            "sd": np.tile([np.nan, 0.5], 12),
            "kept": np.tile(np.repeat([False, False, True, False, True, True], 2), 2),
            "copy": -1,
        }
    ),
    "imputation_densities": lambda: pd.DataFrame(
        {
            "variable": np.repeat(["a", "b"], 8),
            "iso3": ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GGG", "HHH"] * 2,
            "status": np.tile(["observed"] * 6 + ["imputed"] * 2, 2),
            "copy": np.tile([-1] * 6 + [0, 1], 2),
            "value": np.linspace(0, 3, 16),
        }
    ),
}


def _mark(frame: pd.DataFrame, how: str) -> pd.DataFrame:
    """The ways a table says it is synthetic (``real`` says nothing)."""
    frame = frame.copy()
    if how == "attrs":
        frame.attrs["synthetic"] = True
    elif how == "column":
        frame["synthetic"] = True
    elif how == "column as text":
        frame["synthetic"] = "True"
    elif how == "outcome_source in capitals":
        frame["outcome_source"] = " Synthetic "
    elif how == "text false":
        frame["synthetic"] = "False"
    return frame


MARKS = ("real", "attrs", "column", "column as text", "outcome_source in capitals", "text false")


def test_every_figure_function_is_covered() -> None:
    public = {
        name
        for name, value in vars(figures).items()
        if not name.startswith("_")
        and callable(value)
        and hasattr(value, "__wrapped__")  # every figure function is @styled
        and value.__module__ == figures.__name__
    }
    assert public == set(FIGURE_CALLS) == set(FIGURE_INPUTS)


@pytest.mark.parametrize("how", MARKS)
@pytest.mark.parametrize("name", sorted(FIGURE_CALLS))
def test_every_figure_badges_by_the_one_synthetic_rule(name: str, how: str) -> None:
    frame = _mark(FIGURE_INPUTS[name](), how)
    figure, plotted = FIGURE_CALLS[name](frame)
    badged = style.BADGE_TEXT in _texts(figure)
    # The figure says what the table of what it draws says, by the one rule ...
    assert badged is style.is_synthetic(plotted)
    assert _texts(figure).count(style.BADGE_TEXT) <= 1
    # ... and a table marked synthetic in its metadata is badged whatever the figure drops.
    if how == "attrs":
        assert badged
    if how in {"real", "text false"}:
        assert not badged
    if (how != "attrs" and "synthetic" in plotted.columns) or "outcome_source" in plotted.columns:
        assert badged is style.is_synthetic(frame)
    plt.close(figure)


def test_exponents_count_at_their_printed_size_and_log_axes_print_plain_decimals() -> None:
    """A mathtext exponent prints at 70% of its label (an 8 pt "10⁻¹" has a 5.6 pt
    exponent): style.smallest_font counts it so, and the log axes avoid it."""
    with style.figure_context():
        figure, axes = style.new_figure(height=2.0)
        axes.set_xscale("log")
        axes.set_xlim(0.05, 20)
        figure.canvas.draw()
        assert style.smallest_font(figure) < style.MIN_FONT_PT  # matplotlib's default
        style.plain_log_ticks(axes.xaxis)
        figure.canvas.draw()
        labels = [t.get_text() for t in axes.get_xticklabels() if t.get_text()]
        assert {"0.1", "1", "10"} <= set(labels)
        assert not any("$" in label or "e-" in label for label in labels)
        assert style.smallest_font(figure) >= style.MIN_FONT_PT
    mpl.pyplot.close(figure)
