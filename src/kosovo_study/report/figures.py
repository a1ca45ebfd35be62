"""Figure functions: each takes result or processed tables and returns a matplotlib Figure.

No function reads files or fits models; notebooks load data and call these.
Every figure names its source; figures fed by synthetic data carry the badge.
"""

from __future__ import annotations

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from kosovo_study.report import style

TOTAL_STATISTICS = ("total_travelled", "total_travelled_with_children")


def fighters_over_time(national: pd.DataFrame) -> Figure:
    """Published national totals by date, one marker style per definition."""
    rows = national[
        national["statistic"].isin(TOTAL_STATISTICS) & national["reference_date"].notna()
    ].copy()
    rows["date"] = pd.to_datetime(rows["reference_date"].astype(str).str[:7], format="mixed")
    figure, axes = style.new_figure()
    for key, group in rows.groupby(["statistic", "low_quality"]):
        statistic, low_quality = str(key[0]), bool(key[1])
        label = (
            "harmonised: adults and children"
            if statistic == "total_travelled_with_children"
            else "total as published (definitions vary)"
        ) + (" - low quality" if low_quality else "")
        axes.scatter(group["date"], group["value"], label=label, s=40, alpha=0.85)
    axes.set_ylabel("persons")
    axes.set_xlabel("reference date")
    axes.set_title("Kosovo citizens who travelled to Syria and Iraq: published totals")
    axes.legend(loc="lower right")
    style.source_note(figure, "kosovo_national (published figures, see each source_key)")
    return figure


def composition(national: pd.DataFrame) -> Figure:
    """Men, women and children by source, for sources that publish all three."""
    parts = national[national["statistic"].isin(["men", "women", "children"])]
    table = parts.pivot_table(index="source_key", columns="statistic", values="value")
    table = table.dropna()[["men", "women", "children"]]
    figure, axes = style.new_figure(7.0, 0.6 + 0.5 * len(table))
    table.plot.barh(stacked=True, ax=axes, width=0.7)
    axes.set_xlabel("persons")
    axes.set_ylabel("")
    axes.set_title("Composition of the published totals")
    style.source_note(figure, "kosovo_national (sources that publish men, women and children)")
    return figure


def choropleth(
    polygons: gpd.GeoDataFrame, municipalities: pd.DataFrame, column: str, title: str, source: str
) -> Figure:
    """A municipality map of one covariate; missing values hatched grey, never zero."""
    merged = polygons.merge(municipalities, on="municipality_id", how="left", validate="1:1")
    figure, axes = style.new_figure(5.5, 5.5)
    merged.plot(
        column=column,
        ax=axes,
        cmap=style.SEQUENTIAL,
        legend=True,
        edgecolor="white",
        linewidth=0.4,
        missing_kwds={"color": "#dddddd", "hatch": "///", "label": "missing"},
        legend_kwds={"shrink": 0.7},
    )
    axes.set_axis_off()
    axes.set_title(title)
    style.source_note(
        figure, f"{source}; boundaries (c) OpenStreetMap contributors, via geoBoundaries"
    )
    return figure


def power_curves(power: pd.DataFrame) -> Figure:
    """Power of the NB2 Wald test and the permutation test against the true IRR."""
    figure, axes = style.new_figure()
    for key, group in power.melt(
        id_vars=["term", "true_irr"],
        value_vars=["power_nb2_wald", "power_permutation"],
        var_name="test",
        value_name="power",
    ).groupby(["term", "test"]):
        term, test = str(key[0]), str(key[1])
        label = f"{term.replace('_', ' ')}: {'NB2 Wald' if 'wald' in test else 'permutation'}"
        axes.plot(group["true_irr"], group["power"], marker="o", label=label)
    axes.axhline(0.8, color="#444", linestyle=":", linewidth=1)
    axes.axhline(0.05, color="#444", linestyle="--", linewidth=1)
    axes.set_xlabel("true incidence-rate ratio (per SD; charity: presence)")
    axes.set_ylabel("share of simulations rejecting at 5%")
    axes.set_ylim(0, 1)
    axes.set_title("Power of the municipal design")
    axes.legend(fontsize=8)
    style.source_note(figure, "simulation on the real covariates and the published national total")
    return figure


def irr_forest(coefficients: pd.DataFrame, title: str, source: str) -> Figure:
    """IRRs with 95% intervals on a log scale, one row per term and model."""
    rows = coefficients[coefficients["term"] != "const"].reset_index(drop=True)
    figure, axes = style.new_figure(7.0, 0.8 + 0.45 * len(rows))
    labels = [f"{r.term} ({r.family})" for r in rows.itertuples()]
    positions = np.arange(len(rows))
    axes.errorbar(
        rows["incidence_rate_ratio"],
        positions,
        xerr=[
            rows["incidence_rate_ratio"] - rows["irr_low"],
            rows["irr_high"] - rows["incidence_rate_ratio"],
        ],
        fmt="o",
        capsize=3,
    )
    axes.axvline(1.0, color="#444", linewidth=1)
    axes.set_xscale("log")
    axes.set_yticks(positions, labels)
    axes.invert_yaxis()
    axes.set_xlabel("incidence-rate ratio (log scale)")
    axes.set_title(title)
    style.source_note(figure, source)
    if bool(rows.get("synthetic", pd.Series([False])).any()):
        style.synthetic_badge(figure)
    return figure


SPEC_DIMENSIONS = (
    "population",
    "unemployment",
    "charity",
    "family",
    "controls",
    "exclude_influential",
)


def specification_curve(table: pd.DataFrame, focal: str, outcome: str = "main") -> Figure:
    """Estimates sorted with 95% intervals (top) and the choices behind each (bottom)."""
    rows = table[(table["focal"] == focal) & (table["outcome"] == outcome)]
    rows = rows.sort_values("rate_ratio").reset_index(drop=True)
    options = [(d, str(v)) for d in SPEC_DIMENSIONS for v in sorted(rows[d].astype(str).unique())]
    style.apply()
    figure = plt.figure(figsize=(8.0, 3.0 + 0.16 * len(options)), layout="constrained")
    top, bottom = figure.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [2.2, 0.16 * len(options) + 0.6]}
    )
    x = np.arange(len(rows))
    significant = (rows["randomization_p"] < 0.05).to_numpy()
    for mask, colour, label in (
        (significant, style.OKABE_ITO[5], "randomization p < 0.05"),
        (~significant, style.OKABE_ITO[1], "p >= 0.05"),
    ):
        top.vlines(
            x[mask],
            rows["ratio_low"][mask],
            rows["ratio_high"][mask],
            color=colour,
            alpha=0.25,
            linewidth=0.6,
        )
        top.scatter(x[mask], rows["rate_ratio"][mask], color=colour, s=4, label=label)
    top.axhline(1.0, color="#444", linewidth=1)
    top.set_yscale("log")
    top.set_ylabel("rate ratio (log scale)")
    top.set_title(f"Specification curve: {focal} ({len(rows)} specifications)")
    top.legend(loc="upper left", fontsize=8)
    for position, (dimension, value) in enumerate(options):
        chosen = (rows[dimension].astype(str) == value).to_numpy()
        bottom.scatter(x[chosen], np.full(chosen.sum(), position), s=2, color="#333", marker="|")
    bottom.set_yticks(range(len(options)), [f"{d}: {v}" for d, v in options], fontsize=7)
    bottom.invert_yaxis()
    bottom.set_xlabel("specifications, sorted by estimate")
    style.source_note(
        figure,
        "multiverse of municipal models; outcome: "
        + ", ".join(sorted(set(rows["outcome_source"]))),
    )
    if bool(rows["synthetic"].any()):
        style.synthetic_badge(figure)
    return figure


def design_power_curves(power: pd.DataFrame, national_total: int) -> Figure:
    """Design analysis under stated assumptions: power against the true IRR, one panel
    per tested term, one colour per overdispersion alpha, solid = permutation test,
    dashed = size-corrected Wald test; at one national total."""
    rows = power[power["national_total"] == national_total]
    terms = sorted(rows["term"].unique())
    style.apply()
    figure = plt.figure(figsize=(8.0, 3.6), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(terms), sharey=True))
    alphas = sorted(rows["generator_alpha"].unique())
    for ax, term in zip(axes, terms, strict=True):
        for colour, alpha in zip(style.OKABE_ITO, alphas, strict=False):
            cell = rows[(rows["term"] == term) & (rows["generator_alpha"] == alpha)]
            cell = cell.sort_values("true_irr")
            ax.plot(
                cell["true_irr"],
                cell["power_permutation"],
                color=colour,
                marker="o",
                markersize=3,
                label=f"alpha {alpha:g}: permutation",
            )
            ax.plot(
                cell["true_irr"],
                cell["power_wald_size_corrected"],
                color=colour,
                linestyle="--",
                label=f"alpha {alpha:g}: Wald, size-corrected",
            )
        ax.axhline(0.8, color="#444", linestyle=":", linewidth=1)
        ax.axhline(0.05, color="#444", linestyle=":", linewidth=1)
        ax.set_ylim(0, 1)
        ax.set_title(term.replace("_", " "), fontsize=9)
        ax.set_xlabel("true incidence-rate ratio")
    axes[0].set_ylabel("share of simulations rejecting at 5%")
    axes[-1].legend(fontsize=6)
    figure.suptitle(f"Design analysis under stated assumptions (national total {national_total})")
    style.source_note(
        figure,
        "NB2 outcomes simulated on the real covariates, conditioned on the national total; "
        "alpha is assumed, not estimated",
    )
    return figure
