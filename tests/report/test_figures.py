"""Figure functions return Figures that name their source and flag synthetic data."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from kosovo_study.clean.boundaries import read_polygons
from kosovo_study.municipalities import load_register
from kosovo_study.paths import ProjectPaths
from kosovo_study.registry import raw_path
from kosovo_study.report import figures, style

Tables = dict[str, pd.DataFrame]


def _texts(figure: plt.Figure) -> list[str]:
    return [text.get_text() for text in figure.texts]


def test_fighters_over_time_plots_every_dated_total(clean_tables: Tables) -> None:
    national = clean_tables["kosovo_national"]
    figure = figures.fighters_over_time(national)
    points = sum(len(c.get_offsets()) for c in figure.axes[0].collections)
    dated = national[
        national["statistic"].isin(figures.TOTAL_STATISTICS) & national["reference_date"].notna()
    ]
    assert points == len(dated)
    assert any(t.startswith("Source: kosovo_national") for t in _texts(figure))
    assert style.BADGE_TEXT not in _texts(figure)
    plt.close(figure)


def test_composition_stacks_men_women_children(clean_tables: Tables) -> None:
    figure = figures.composition(clean_tables["kosovo_national"])
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert "UNDP2017_via_AP_BALKANINSIDER" in labels
    plt.close(figure)


def test_choropleth_marks_missing_values(
    clean_tables: Tables, fetched_project: ProjectPaths
) -> None:
    polygons = read_polygons(raw_path("geoboundaries_xkx_adm2", fetched_project), load_register())
    figure = figures.choropleth(
        polygons, clean_tables["municipalities"], "muslim_share_2011", "Muslim share", "KAS 2011"
    )
    hatched = [p for p in figure.axes[0].collections if p.get_hatch()]
    assert hatched, "municipalities without a value must be drawn hatched, not as zero"
    assert any("OpenStreetMap" in t for t in _texts(figure))
    plt.close(figure)


def test_power_curves_draw_both_tests() -> None:
    power = pd.DataFrame(
        {
            "term": ["x", "x"],
            "true_irr": [1.0, 2.0],
            "power_nb2_wald": [0.1, 0.9],
            "power_permutation": [0.05, 0.8],
        }
    )
    figure = figures.power_curves(power)
    assert len(figure.axes[0].get_lines()) == 4  # two curves + two reference lines
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
    figure = figures.irr_forest(coefficients, "t", "s")
    assert (style.BADGE_TEXT in _texts(figure)) is synthetic
    plt.close(figure)
