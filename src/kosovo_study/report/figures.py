"""Figure functions: each takes result or processed tables and returns ``(figure, plotted)``.

``plotted`` is a DataFrame of exactly what the figure draws (one row per mark), which
the book saves beside the figure as its data file.  No function reads files or fits
models; pages load data and call these.  Every figure is drawn inside the packaged
style (:func:`kosovo_study.report.style.figure_context`), names its source, keeps its
text at 8 pt or more at printed size, and carries the SYNTHETIC badge when the table of
what it plots is synthetic by the one rule (:func:`kosovo_study.report.style.is_synthetic`);
:func:`styled` applies it, so no figure decides for itself.

seaborn draws the statistical figures (published totals over time, the coefficient
plot, the specification curves and the power curves) on axes made in the house style;
the maps and the stacked composition bars are plain matplotlib (through geopandas and
pandas), where seaborn has nothing to add.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from kosovo_study.report import style
from kosovo_study.report.labels import MODEL_NAMES, citation_text, humanise, variable_units

TOTAL_STATISTICS = ("total_travelled", "total_travelled_with_children")
Plot = tuple[Figure, pd.DataFrame]
P = ParamSpec("P")


def styled(function: Callable[P, Plot]) -> Callable[P, Plot]:
    """Run a figure function inside the house style (rcParams restored afterwards), and
    badge the figure when the table of what it plots is synthetic (one rule for all)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Plot:
        with style.figure_context():
            figure, plotted = function(*args, **kwargs)
            # A table marked synthetic as a whole (``attrs``) marks all that is drawn from it,
            # also where a merge or pivot drops pandas' attrs on the way.
            given = (a for a in (*args, *kwargs.values()) if isinstance(a, pd.DataFrame))
            if any(bool(frame.attrs.get("synthetic", False)) for frame in given):
                plotted.attrs["synthetic"] = True
            if style.is_synthetic(plotted):
                style.synthetic_badge(figure)
        return figure, plotted

    return wrapper


@contextmanager
def _without_interim_draws(figure: Figure) -> Iterator[None]:
    """Skip the full draws geopandas asks for after plotting (``canvas.draw_idle()``).

    The figure is drawn anyway each time it is saved or shown; each interim draw of a map
    (constrained layout, 38 numbered municipalities, the key) costs about a second.
    """
    canvas = figure.canvas
    canvas.draw_idle = lambda *_, **__: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        del canvas.draw_idle


def _series_label(statistic: str, low_quality: bool) -> str:
    label = (
        "harmonised: adults and children"
        if statistic == "total_travelled_with_children"
        else "total as published (definitions vary)"
    )
    return label + (" - low quality" if low_quality else "")


@styled
def fighters_over_time(national: pd.DataFrame) -> Plot:
    """Published national totals by date, one marker per definition; undated ones apart.

    Totals without a reference date are not dropped: they are drawn in a separate
    "undated" strip at the right, so every total the text quotes is in the figure.
    """
    rows = national[national["statistic"].isin(TOTAL_STATISTICS)].copy()
    dates = rows["reference_date"].fillna("").astype(str).str.strip()
    rows["dated"] = dates != ""
    rows["date"] = pd.to_datetime(dates.where(rows["dated"]).str[:7], format="mixed")
    rows["series"] = [
        _series_label(str(s), bool(q))
        for s, q in zip(rows["statistic"], rows["low_quality"], strict=True)
    ]
    figure = plt.figure(figsize=(style.FULL_WIDTH, 4.2), layout="constrained")
    main, undated = figure.subplots(
        1, 2, sharey=True, gridspec_kw={"width_ratios": [6, 1], "wspace": 0.02}
    )
    series = sorted(rows["series"].unique())
    palette = {name: style.OKABE_ITO[[4, 0, 2, 5][index % 4]] for index, name in enumerate(series)}
    markers = {name: "s" if name.startswith("harmonised") else "o" for name in series}
    plotted = []
    for name in series:
        group = rows[rows["series"] == name]
        rest = group[~group["dated"]]
        # Undated totals: spread horizontally so equal values stay visible.
        x = np.linspace(-0.2, 0.2, len(rest)) + (0.1 if name.startswith("harmonised") else -0.1)
        plotted.append(group.assign(undated_x=np.nan).astype({"undated_x": float}))
        if len(rest):
            plotted[-1].loc[rest.index, "undated_x"] = x
    drawn = pd.concat(plotted)
    dated = drawn[drawn["dated"]]
    # one look for both panels: the dated totals, and the undated ones beside them
    look: dict[str, Any] = {
        "y": "value",
        "hue": "series",
        "style": "series",
        "hue_order": series,
        "style_order": series,
        "palette": palette,
        "markers": markers,
        "s": 36,
        "alpha": 0.85,
        "edgecolor": "none",
    }
    sns.scatterplot(data=dated, x="date", ax=main, **look)
    sns.scatterplot(data=drawn[~drawn["dated"]], x="undated_x", legend=False, ax=undated, **look)
    undated.set_xlabel("")
    undated.set_ylabel("")
    undated.set_xlim(-0.6, 0.6)
    undated.set_xticks([0], ["undated"])
    undated.tick_params(axis="y", left=False)
    main.set_ylabel("persons")
    main.set_xlabel("reference date")
    main.set_title("Kosovo citizens who travelled to Syria and Iraq: published totals")
    main.legend(loc="lower right", title=None)
    style.source_note(figure, "published national totals; each source in the Data chapter's table")
    table = drawn[
        [
            "statistic",
            "series",
            "value",
            "reference_date",
            "date",
            "undated_x",
            "low_quality",
            "source_key",
        ]
    ].reset_index(drop=True)
    return figure, table


@styled
def composition(national: pd.DataFrame) -> Plot:
    """Men, women and children by source, for sources that publish all three."""
    parts = national[national["statistic"].isin(["men", "women", "children"])]
    table = parts.pivot_table(index="source_key", columns="statistic", values="value")
    table = table.dropna()[["men", "women", "children"]]
    # Each bar named as the reference list cites its source ("Kosovaport (c. 2019)").
    shown = table.rename(index=lambda key: citation_text(str(key)))
    figure, axes = style.new_figure(style.FULL_WIDTH, 1.4 + 0.45 * len(table))
    shown.plot.barh(stacked=True, ax=axes, width=0.7, color=[style.OKABE_ITO[i] for i in (4, 0, 2)])
    axes.set_xlabel("persons")
    axes.set_ylabel("")
    axes.set_title("Composition of the published totals")
    # Outside the axes, above them and their title: the legend never covers a bar.
    handles, labels = axes.get_legend_handles_labels()
    legend = axes.get_legend()
    if legend is not None:
        legend.remove()
    figure.legend(handles, labels, ncols=3, loc="outside upper left", frameon=False)
    style.source_note(
        figure, "published national totals (the sources that publish men, women and children)"
    )
    return figure, table.reset_index()


@styled
def choropleth(
    polygons: gpd.GeoDataFrame,
    municipalities: pd.DataFrame,
    column: str,
    title: str,
    source: str,
    variables: pd.DataFrame | None = None,
) -> Plot:
    """A municipality map of one covariate, each municipality numbered (key at the right).

    Missing values are hatched grey with a "no data" legend entry, never drawn as zero.
    The colour bar is labelled with the variable's unit from ``variables`` (variables.csv).
    """
    values = municipalities[["municipality_id", "municipality", column]]
    merged = polygons[["municipality_id", "geometry"]].merge(
        values, on="municipality_id", how="left", validate="1:1"
    )
    figure = plt.figure(figsize=(style.FULL_WIDTH, 5.2), layout="constrained")
    axes, key = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    unit = variable_units(variables).get(column, ("", ""))[0]
    with _without_interim_draws(figure):
        merged.plot(
            column=column,
            ax=axes,
            cmap=style.SEQUENTIAL,
            legend=True,
            edgecolor="white",
            linewidth=0.4,
            missing_kwds={"color": "#dddddd", "hatch": "///", "edgecolor": "#999999"},
            legend_kwds={"shrink": 0.6, "label": unit or humanise(column), "location": "bottom"},
        )
    points = merged.to_crs("EPSG:3857").representative_point().to_crs(merged.crs)
    values_range = merged[column].astype(float)
    low, high = values_range.min(), values_range.max()
    for (_, row), point in zip(merged.iterrows(), points, strict=True):
        value = row[column]
        # Dark text on grey (no data) and on the light (yellow) end of viridis, white on
        # the dark end: the number stays legible on every fill.
        light = pd.isna(value) or (high > low and (float(value) - low) / (high - low) > 0.6)
        axes.annotate(
            str(row["municipality_id"]),
            (point.x, point.y),
            ha="center",
            va="center",
            fontsize=style.SMALL_FONT_PT,
            color="#111" if light else "white",
            fontweight="bold",
            path_effects=None,
        )
    axes.legend(
        handles=[Patch(facecolor="#dddddd", hatch="///", edgecolor="#999999", label="no data")],
        loc="upper left",
        frameon=False,
    )
    axes.set_axis_off()
    axes.set_title(title)
    key.set_axis_off()
    names = [
        f"{i}  {n}" for i, n in zip(merged["municipality_id"], merged["municipality"], strict=True)
    ]
    half = (len(names) + 1) // 2
    for offset, chunk in ((0.0, names[:half]), (0.52, names[half:])):
        key.text(
            offset,
            1.0,
            "\n".join(chunk),
            va="top",
            ha="left",
            fontsize=style.SMALL_FONT_PT,
            linespacing=1.25,
            transform=key.transAxes,
        )
    style.source_note(
        figure, f"{source}; boundaries (c) OpenStreetMap contributors, via geoBoundaries"
    )
    plotted = merged.drop(columns="geometry").assign(
        label_lon=[p.x for p in points], label_lat=[p.y for p in points]
    )
    return figure, pd.DataFrame(plotted)


@styled
def irr_forest(coefficients: pd.DataFrame, title: str, source: str) -> Plot:
    """IRRs with 95% intervals on a log scale, one row per term and model."""
    rows = coefficients[coefficients["term"] != "const"].reset_index(drop=True)
    figure, axes = style.new_figure(style.FULL_WIDTH, 1.2 + 0.4 * len(rows))
    family = rows["family"] if "family" in rows.columns else pd.Series([""] * len(rows))
    labels = [
        f"{humanise(str(t))} ({MODEL_NAMES.get(str(f), f)})" if str(f) else humanise(str(t))
        for t, f in zip(rows["term"], family, strict=True)
    ]
    positions = np.arange(len(rows))
    drawn = rows.assign(label=labels, y_position=positions)
    # The 95% interval as a range and the estimate as a dot, one row per term and model.
    axes.hlines(
        drawn["y_position"],
        drawn["irr_low"],
        drawn["irr_high"],
        color=style.OKABE_ITO[4],
        linewidth=1.4,
    )
    sns.scatterplot(
        data=drawn,
        x="incidence_rate_ratio",
        y="y_position",
        color=style.OKABE_ITO[4],
        s=36,
        edgecolor="none",
        legend=False,
        ax=axes,
    )
    axes.axvline(1.0, color="#444", linewidth=1)
    axes.set_xscale("log")
    style.plain_log_ticks(axes.xaxis)  # "0.5", not "10⁻¹" (its exponent prints at 5.6 pt)
    axes.set_yticks(positions, labels)
    axes.set_ylim(len(rows) - 0.5, -0.5)
    axes.set_ylabel("")
    axes.set_xlabel("incidence-rate ratio (log scale)")
    axes.set_title(title)
    style.source_note(figure, source)
    return figure, rows.assign(y_position=positions)


SPEC_DIMENSIONS = (
    "population",
    "unemployment",
    "charity",
    "family",
    "controls",
    "exclude_influential",
)


def _present(value: Any) -> bool:
    return not (pd.isna(value) or str(value).strip() in {"", "nan", "None"})


def _model_description(outcome: str) -> str:
    if outcome.startswith("crossnational"):
        return "multiverse of cross-national models (ICSR January 2015, real data)"
    return "multiverse of municipal models"


def _option_label(value: str) -> str:
    """A choice as a reader reads it: model names, yes/no for switches, labels."""
    if value in {"True", "False"}:
        return "yes" if value == "True" else "no"
    if value == "none":
        return "none"
    return MODEL_NAMES.get(value) or humanise(value)


@styled
def specification_curve(table: pd.DataFrame, focal: str, outcome: str = "main") -> Plot:
    """Estimates sorted with 95% intervals (top) and the choices behind each (bottom).

    Placebo specifications (a ``placebo`` column, e.g. post-2014 charity measures) are
    drawn apart, to the right of a gap and with hollow markers, and counted separately
    in the title.  A dimension with no value for these specifications (the charity
    measure across countries) is left out of the lower panel.
    """
    rows = table[(table["focal"] == focal) & (table["outcome"] == outcome)].copy()
    placebo = (
        rows["placebo"].fillna(False).astype(bool)
        if "placebo" in rows.columns
        else pd.Series(False, index=rows.index)
    )
    rows["placebo"] = placebo
    rows = rows.sort_values(["placebo", "rate_ratio"]).reset_index(drop=True)
    n_main = int((~rows["placebo"]).sum())
    n_placebo = int(rows["placebo"].sum())
    gap = max(2, len(rows) // 40) if n_placebo else 0
    rows["x"] = np.arange(len(rows)) + np.where(rows["placebo"], gap, 0)
    options = []
    for dimension in SPEC_DIMENSIONS:
        if dimension not in rows.columns:
            continue
        present = sorted({str(v) for v in rows[dimension] if _present(v)})
        if not present:
            continue  # e.g. no charity measure across countries: no "charity: nan" row
        options += [(dimension, value) for value in present]
    height_options = 0.17 * len(options) + 0.5
    figure = plt.figure(figsize=(style.FULL_WIDTH, 2.8 + height_options), layout="constrained")
    top, bottom = figure.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [2.4, height_options]}
    )
    significant = (rows["randomization_p"] < 0.05).to_numpy()
    is_placebo = rows["placebo"].to_numpy()
    x = rows["x"].to_numpy()
    labels = {
        "significant": "randomization p < 0.05",
        "not significant": "randomization p ≥ 0.05",
        "placebo": "placebo (post-2014 charity)",
    }
    palette = {
        labels["significant"]: style.OKABE_ITO[5],
        labels["not significant"]: style.OKABE_ITO[4],
        labels["placebo"]: "#555555",
    }
    group = np.where(
        is_placebo,
        labels["placebo"],
        np.where(significant, labels["significant"], labels["not significant"]),
    )
    drawn = rows.assign(group=group)
    # Each specification's 95% interval, then its estimate (placebos hollow).
    top.vlines(
        x,
        rows["ratio_low"],
        rows["ratio_high"],
        colors=[palette[g] for g in group],
        alpha=0.3,
        linewidth=0.7,
    )
    main_rows = drawn[~is_placebo]
    if len(main_rows):
        sns.scatterplot(
            data=main_rows,
            x="x",
            y="rate_ratio",
            hue="group",
            hue_order=[g for g in palette if g in set(main_rows["group"])],
            palette=palette,
            s=10,
            edgecolor="none",
            ax=top,
        )
    if n_placebo:
        sns.scatterplot(
            data=drawn[is_placebo],
            x="x",
            y="rate_ratio",
            s=10,
            facecolors="none",
            edgecolor=palette[labels["placebo"]],
            linewidth=0.6,
            label=labels["placebo"],
            ax=top,
        )
    top.set_xlabel("")
    if n_placebo:
        boundary = x[~is_placebo].max() + gap / 2 if n_main else 0
        for axes in (top, bottom):
            axes.axvline(boundary, color="#999", linewidth=0.8, linestyle=":")
    top.axhline(1.0, color="#444", linewidth=1)
    top.set_yscale("log")
    style.plain_log_ticks(top.yaxis)  # "0.5", not "10⁻¹" (its exponent prints at 5.6 pt)
    top.set_ylabel("rate ratio (log scale)")
    counted = f"{n_main} specifications" + (
        f", and {n_placebo} placebo specifications at the right" if n_placebo else ""
    )
    top.set_title(f"Specification curve, {humanise(focal).lower()}: {counted}")
    top.legend(loc="upper left", title=None)
    for position, (dimension, value) in enumerate(options):
        chosen = (rows[dimension].astype(str) == value).to_numpy()
        bottom.scatter(x[chosen], np.full(chosen.sum(), position), s=6, color="#333", marker="|")
    bottom.set_yticks(
        range(len(options)),
        [f"{dimension.replace('_', ' ')}: {_option_label(value)}" for dimension, value in options],
    )
    bottom.set_ylim(len(options) - 0.5, -0.5)
    bottom.grid(False)
    bottom.set_xlabel("specifications, sorted by estimate")
    sources = ", ".join(sorted(set(rows["outcome_source"].astype(str))))
    style.source_note(figure, f"{_model_description(outcome)}; outcome: {sources}")
    keep = [
        c
        for c in (
            *SPEC_DIMENSIONS,
            "outcome",
            "focal",
            "placebo",
            "rate_ratio",
            "ratio_low",
            "ratio_high",
            "randomization_p",
            "outcome_source",
            "synthetic",
            "x",
        )
        if c in rows.columns
    ]
    return figure, rows[keep]


@styled
def design_power_mc(diagnosis: pd.DataFrame, national_total: int) -> Plot:
    """Design diagnosis: power against the true incidence-rate ratio with its Monte Carlo
    error band (+-2 MC SE), one column per tested term and one row per test
    (randomization, size-corrected Wald), one colour per assumed overdispersion alpha;
    the municipal study at one national total (persons)."""
    tests = {"permutation": "randomization test", "wald_size_corrected": "Wald, size-corrected"}
    rows = diagnosis[
        (diagnosis["study"] == "municipal")
        & (diagnosis["diagnosand"] == "power")
        & (diagnosis["national_total"] == national_total)
        & diagnosis["test"].isin(list(tests))
    ].sort_values(["term", "test", "generator_alpha", "true_irr"])
    terms = sorted(rows["term"].unique())
    alphas = sorted(rows["generator_alpha"].unique())
    palette = dict(zip(alphas, style.OKABE_ITO, strict=False))
    figure = plt.figure(figsize=(style.FULL_WIDTH, 6.2), layout="constrained")
    grid = np.atleast_2d(figure.subplots(len(tests), len(terms), sharex=True, sharey=True))
    for row, (test, test_label) in enumerate(tests.items()):
        for column, term in enumerate(terms):
            ax = grid[row, column]
            for alpha in alphas:
                line = rows[
                    (rows["test"] == test)
                    & (rows["term"] == term)
                    & (rows["generator_alpha"] == alpha)
                ]
                x, y, se = line["true_irr"], line["estimate"], line["mc_se"]
                ax.fill_between(
                    x, y - 2 * se, y + 2 * se, color=palette[alpha], alpha=0.25, linewidth=0
                )
                ax.plot(
                    x, y, color=palette[alpha], marker="o", markersize=3, label=f"alpha {alpha:g}"
                )
            ax.axhline(0.8, color="#444", linestyle=":", linewidth=1)
            ax.axhline(0.05, color="#444", linestyle=":", linewidth=1)
            ax.set_ylim(0, 1)
            ax.set_title(f"{humanise(term)}\n{test_label}", fontsize=9)
            if row == len(tests) - 1:
                ax.set_xlabel("true incidence-rate ratio")
        grid[row, 0].set_ylabel("power (share rejecting at 5%)")
    grid[0, 0].legend(
        loc="upper left",
        fontsize=style.SMALL_FONT_PT,
        title="assumed overdispersion",
        title_fontsize=style.SMALL_FONT_PT,
    )
    figure.suptitle(
        f"Design diagnosis: power with Monte Carlo error bands (national total {national_total})"
    )
    style.source_note(
        figure,
        "NB2 outcomes simulated on the real covariates, conditioned on the national total; "
        "alpha is assumed, not estimated; bands +-2 Monte Carlo SE",
    )
    keep = ["term", "test", "generator_alpha", "true_irr", "national_total", "estimate", "mc_se"]
    plotted = rows[keep].rename(columns={"estimate": "power"}).reset_index(drop=True)
    return figure, plotted


def _diagnostic_panels(models: list[str], height: float) -> tuple[Figure, np.ndarray]:
    figure = plt.figure(figsize=(style.FULL_WIDTH, height), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(models), sharey=False))
    return figure, axes


@styled
def hanging_rootogram(rootogram: pd.DataFrame, labels: dict[str, str], source: str) -> Plot:
    """Hanging rootograms (Kleiber & Zeileis 2016), one panel per model of ``labels``
    (model id -> panel title): the square root of the expected frequency per count bin
    (line and points), bars of the square root of the observed frequency hanging from
    it, and the band within which the bars' lower ends fall in 95% of the simulations
    from the fitted model (shaded around 0).  A bar ending below the band: fewer units
    than the model expects in that bin; above it: more."""
    models = [m for m in labels if m in set(rootogram["model"])]
    drawn = rootogram[rootogram["model"].isin(models)].copy()
    drawn["sqrt_expected"] = np.sqrt(drawn["expected"])
    drawn["bar_bottom"] = drawn["sqrt_expected"] - np.sqrt(drawn["observed"])
    drawn["band_bottom"] = drawn["sqrt_expected"] - np.sqrt(drawn["band_high"])
    drawn["band_top"] = drawn["sqrt_expected"] - np.sqrt(drawn["band_low"])
    figure, axes = _diagnostic_panels(models, 3.8)
    for ax, model in zip(axes, models, strict=True):
        rows = drawn[drawn["model"] == model].reset_index(drop=True)
        x = np.arange(len(rows))
        ax.fill_between(
            x,
            rows["band_bottom"],
            rows["band_top"],
            step="mid",
            color=style.OKABE_ITO[1],
            alpha=0.3,
            linewidth=0,
            label="95% simulation band",
        )
        ax.bar(
            x,
            np.sqrt(rows["observed"]),
            bottom=rows["bar_bottom"],
            width=0.7,
            color="#bbbbbb",
            edgecolor="#444",
            linewidth=0.6,
            label="observed (hanging)",
        )
        ax.plot(x, rows["sqrt_expected"], color=style.OKABE_ITO[5], marker="o", markersize=3)
        ax.axhline(0, color="#444", linewidth=0.8)
        ax.set_xticks(x, rows["bin"], rotation=45, ha="right")
        ax.set_xlabel("count (bin)")
        ax.set_title(labels[model].replace(", ", ",\n"), fontsize=9)
    axes[0].set_ylabel("square root of frequency")
    # one key for all panels, above them (inside a panel it hides the tallest bar)
    figure.legend(
        *axes[0].get_legend_handles_labels(),
        loc="outside upper center",
        ncols=2,
        fontsize=style.SMALL_FONT_PT,
    )
    style.source_note(figure, source)
    return figure, drawn.reset_index(drop=True)


@styled
def pit_histogram(pit: pd.DataFrame, labels: dict[str, str], source: str) -> Plot:
    """Histograms of the scaled (randomized quantile) residuals, one panel per model of
    ``labels``: flat under the model.  The dotted line is the expected frequency and the
    shaded band the central 95% of Binomial(n, 1/bins) (pointwise); a U shape means
    more extreme outcomes than the model expects (overdispersion), a hump fewer."""
    models = [m for m in labels if m in set(pit["model"])]
    drawn = pit[pit["model"].isin(models)].reset_index(drop=True)
    figure, axes = _diagnostic_panels(models, 3.0)
    for ax, model in zip(axes, models, strict=True):
        rows = drawn[drawn["model"] == model]
        ax.axhspan(
            float(rows["band_low"].iloc[0]),
            float(rows["band_high"].iloc[0]),
            color=style.OKABE_ITO[1],
            alpha=0.3,
            linewidth=0,
        )
        ax.bar(
            rows["bin_low"],
            rows["observed"],
            width=rows["bin_high"] - rows["bin_low"],
            align="edge",
            color="#bbbbbb",
            edgecolor="#444",
            linewidth=0.6,
        )
        ax.axhline(float(rows["expected"].iloc[0]), color="#444", linestyle=":", linewidth=1)
        ax.set_xlim(0, 1)
        ax.set_xlabel("scaled residual")
        ax.set_title(labels[model].replace(", ", ",\n"), fontsize=9)
    axes[0].set_ylabel("units")
    style.source_note(figure, source)
    return figure, drawn


def _imputed_variables(table: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(table["variable"].astype(str)))


@styled
def imputation_trace(chains: pd.DataFrame, burn_in: int, source: str) -> Plot:
    """Trace plots of the multiple imputation, as mice's ``plot(imp)`` draws them: the
    mean (left) and SD (right) of each variable's imputed cells after every cycle, one
    line per chain (chain 0 is the analysis's own; its kept copies are the dots), the
    burn-in shaded.  Chains that mix overlap after the burn-in; a trend or a chain
    apart from the others says the imputation has not converged.  A variable with one
    imputed cell has no SD."""
    variables = _imputed_variables(chains)
    drawn = chains.assign(chain=chains["chain"].astype(int)).reset_index(drop=True)
    figure = plt.figure(
        # at most about 7 in tall: a figure wider than the print column is printed turned
        # a quarter, and its height then has to fit the column's width
        figsize=(style.FULL_WIDTH, min(1.55 * len(variables) + 0.9, 6.6)),
        layout="constrained",
    )
    axes = np.atleast_2d(figure.subplots(len(variables), 2, sharex=True))
    palette = dict(zip(sorted(drawn["chain"].unique()), style.OKABE_ITO, strict=False))
    for row, variable in enumerate(variables):
        rows = drawn[drawn["variable"] == variable]
        for column, statistic in enumerate(("mean", "sd")):
            ax = axes[row, column]
            ax.axvspan(0.5, burn_in + 0.5, color="#dddddd", linewidth=0)
            if rows[statistic].notna().any():
                sns.lineplot(
                    data=rows,
                    x="cycle",
                    y=statistic,
                    hue="chain",
                    palette=palette,
                    linewidth=0.9,
                    legend=row == 0 and column == 0,
                    ax=ax,
                )
                kept = rows[rows["kept"]]
                ax.plot(kept["cycle"], kept[statistic], "o", color=palette[0], markersize=2.5)
            else:
                ax.text(
                    0.5,
                    0.5,
                    "one imputed cell: no SD",
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                    fontsize=style.SMALL_FONT_PT,
                )
            if row == 0:
                ax.set_title("mean of the imputed values" if column == 0 else "their SD")
            imputed = int(rows["imputed"].iloc[0])
            name = textwrap.fill(humanise(variable), 22)
            ax.set_ylabel(f"{name}\n({imputed} imputed)" if column == 0 else "", fontsize=9)
            ax.set_xlabel("cycle" if row == len(variables) - 1 else "")
    legend = axes[0, 0].get_legend()
    if legend is not None:
        legend.set_title("chain")
        for text in legend.get_texts():
            text.set_fontsize(style.SMALL_FONT_PT)
        legend.get_title().set_fontsize(style.SMALL_FONT_PT)
    figure.suptitle("Imputation chains by cycle (burn-in shaded)")
    style.source_note(figure, source)
    return figure, drawn


@styled
def imputation_densities(values: pd.DataFrame, source: str) -> Plot:
    """Observed against imputed values per imputed variable, as mice's
    ``densityplot(imp)``: the kernel density of the observed values and of the imputed
    values pooled over the copies (each marked below the axis).  Imputed values by
    predictive mean matching are observed values of similar countries; under MAR they
    need not look like the observed ones."""
    variables = _imputed_variables(values)
    drawn = values.reset_index(drop=True)
    columns = 3
    rows_n = int(np.ceil(len(variables) / columns))
    figure = plt.figure(figsize=(style.FULL_WIDTH, 2.2 * rows_n + 0.8), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows_n, columns)).ravel()
    colours = {"observed": "#555555", "imputed": style.OKABE_ITO[5]}
    for ax, variable in zip(axes, variables, strict=False):
        rows = drawn[drawn["variable"] == variable]
        sns.kdeplot(
            data=rows,
            x="value",
            hue="status",
            hue_order=["observed", "imputed"],
            palette=colours,
            common_norm=False,
            warn_singular=False,
            legend=False,
            ax=ax,
        )
        sns.rugplot(
            data=rows[rows["status"] == "imputed"],
            x="value",
            color=colours["imputed"],
            height=0.06,
            ax=ax,
        )
        imputed = rows[rows["status"] == "imputed"]
        ax.set_title(
            textwrap.fill(humanise(variable), 24)
            + f"\n({imputed['iso3'].nunique()} imputed x {imputed['copy'].nunique()} copies)",
            fontsize=9,
        )
        ax.set_xlabel("")
        ax.set_ylabel("density")
    for ax in axes[len(variables) :]:
        ax.axis("off")
    figure.legend(
        handles=[Patch(color=c, label=label) for label, c in colours.items()],
        loc="outside upper center",
        ncols=2,
        fontsize=style.SMALL_FONT_PT,
    )
    style.source_note(figure, source)
    return figure, drawn
