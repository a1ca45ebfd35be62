"""The book's analysis-plan page and its real sub-national evidence: tables, figure, numbers.

Everything here reads the committed plan (:mod:`kosovo_study.plan`) or the result tables
of :mod:`kosovo_study.models.evidence`; nothing is typed.  Tables use
:func:`kosovo_study.report.tables.table` and the figure the house style, like every
other page.  Number functions return flat ``{name: value}`` dicts that the pages glue
(:func:`kosovo_study.report.book.glue_numbers`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from kosovo_study.plan import AnalysisPlan, amendments_table
from kosovo_study.report import style
from kosovo_study.report.figures import Plot, styled
from kosovo_study.report.labels import humanise
from kosovo_study.report.tables import Table, table


def real_cells_note(recruits: int) -> str:
    """The REAL label of the Edgerton tables, with the number of recruits they hold."""
    return (
        "REAL data: Edgerton (2023), recruits geolocated from leaked Islamic State entry "
        f"records; {recruits} of the Kosovo travellers in the published national totals "
        "(their range is given above, computed from data/raw/transcribed), IS entries only, "
        "2013-2014, in 0.5-degree PRIO-GRID cells that cross municipal and national "
        "borders. Not a substitute for the restricted municipal counts."
    )


REAL_CHARITY_NOTE = (
    "REAL data: OFAC SDN list (April 2021) and UN Al-Qaida list (2014-11-19). The measure "
    "counts designated, terror-linked charitable, relief or da'wa entities with an address "
    "or office in the country before 2014; undesignated charities score 0."
)
SHARES_TERM = "multinomial_population_shares"
FOCAL = ("unemployment_concern_2012", "charity_evidence_pre2014")
#: Labels of the designated-charity measures (kosovo_study.clean.designations.MEASURES).
MEASURE_LABELS = {
    "designated_charity_presence_pre2014": "Any designated charity (main measure, H4)",
    "designated_charity_count_pre2014": "Number of designated charities",
    "designated_gulf_charity_presence_pre2014": "Any Gulf-linked designated charity",
    "designated_gulf_charity_count_pre2014": "Number of Gulf-linked designated charities",
    "designated_charity_presence_un_pre2014": "Any charity on the UN list before 2014",
    "designated_charity_count_un_pre2014": "Number of charities on the UN list before 2014",
}
#: Rate ratio per SD at which the design analysis is quoted in the text (one of its grid).
QUOTED_RATE_RATIO = 2.0


# --- the analysis plan ------------------------------------------------------------------


def _commitment_and_amendments(entries: int) -> str:
    """The plan's record as words: its commitment, then each amendment."""
    amendments = entries - 1
    if amendments <= 0:
        return "its commitment and no amendment"
    return f"its commitment and {amendments} amendment{'s' if amendments > 1 else ''}"


def plan_numbers(plan: AnalysisPlan) -> dict[str, Any]:
    """The plan's digest, date, alpha, correction and decision rules, for the prose."""
    body = plan.body
    rule = body["decision_rule"]
    return {
        "plan_sha256": plan.sha256,
        "plan_date": plan.date.isoformat(),
        "plan_amendments": len(plan.amendments),
        # the first entry of the record is the plan's own commitment, not an amendment
        "plan_record_text": _commitment_and_amendments(len(plan.amendments)),
        "plan_alpha": plan.alpha,
        "plan_multiplicity": body["multiplicity"]["method"].capitalize(),
        "plan_multiplicity_note": body["multiplicity"]["note"],
        "plan_primary_count": len(body["primary"]),
        "plan_sesoi": float(body["smallest_effect_of_interest"]["rate_ratio"]),
        "plan_sesoi_note": body["smallest_effect_of_interest"]["note"],
        "plan_support": rule["support"],
        "plan_against": rule["evidence_against"],
        "plan_inconclusive": rule["inconclusive"],
        "plan_exploratory": body["exploratory_note"],
        "plan_caveats": "\n".join(f"- {c}" for c in body["caveats"]),
        "plan_hypotheses": hypotheses_markdown(plan),
    }


def hypotheses_markdown(plan: AnalysisPlan) -> str:
    """Each primary hypothesis as a MyST block: statement, estimand, test and data."""
    blocks = []
    for entry in plan.body["primary"]:
        blocks.append(
            f"**{entry['id']} ({_level(entry['level']).lower()}).** {entry['hypothesis']}\n\n"
            f"- *Estimand:* {entry['estimand']}\n"
            f"- *Primary test:* {entry['test']}\n"
            f"- *Data:* {entry['data']}\n"
        )
    return "\n".join(blocks)


def primary_table(plan: AnalysisPlan) -> Table:
    """The primary hypotheses at a glance: level, term tested and data, one row each."""
    frame = pd.DataFrame(plan.body["primary"])[["id", "level", "term", "data"]]
    frame["level"] = frame["level"].map(_level)
    frame["term"] = [_term(t) for t in frame["term"]]
    return table(
        frame,
        "Primary hypotheses of the analysis plan",
        labels={"id": "Hypothesis", "level": "Level", "term": "Term tested", "data": "Data"},
        notes=[
            (
                f"From the analysis plan file, sha256 {plan.sha256[:12]}..., in force since "
                f"{plan.date.isoformat()}. Holm's correction runs over these "
                f"{len(plan.body['primary'])} tests together."
            )
        ],
    )


def secondary_table(plan: AnalysisPlan) -> Table:
    """The secondary analyses: level, term and what is analysed."""
    frame = pd.DataFrame(plan.body["secondary"])[["level", "term", "analysis"]]
    frame["level"] = frame["level"].map(_level)
    frame["term"] = [t if t == "any" else _term(t) for t in frame["term"]]
    return table(
        frame,
        "Secondary analyses of the analysis plan",
        labels={"level": "Level", "term": "Term", "analysis": "Analysis"},
        notes=["Reported with unadjusted p-values and never as confirmatory."],
    )


def amendments(plan: AnalysisPlan) -> Table:
    """The dated amendments, oldest first."""
    frame = pd.DataFrame(amendments_table(plan))
    return table(
        frame,
        "Amendments of the analysis plan",
        labels={"date": "Date", "reason": "What changed and why", "plan_sha256": "Plan sha256"},
        notes=[
            (
                "Each change of the plan adds a row whose hash is that of the new plan; "
                "tests/test_plan.py fails on an edit without one."
            )
        ],
    )


def _term(term: str) -> str:
    return MEASURE_LABELS.get(term) or humanise(term)


def _level(level: str) -> str:
    return {
        "municipal": "Municipal",
        "crossnational": "Cross-national",
        "cells": "Edgerton cells",
        "multiverse": "Multiverse",
    }.get(level, level)


# --- the Edgerton (2023) cells ----------------------------------------------------------


def cell_names(overlay: pd.DataFrame, top: int = 3) -> dict[int, str]:
    """Each cell named by its ``top`` most populous municipalities (population in the cell)."""
    ordered = overlay.sort_values(["gid", "population_in_cell"], ascending=[True, False])
    names: dict[int, list[str]] = {}
    for gid, municipality in zip(ordered["gid"], ordered["municipality"], strict=True):
        names.setdefault(int(gid), []).append(str(municipality))
    return {gid: ", ".join(found[:top]) for gid, found in names.items()}


def main_cells(results: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The Kosovo-coded cells of the main analysis, named, with recruits' and population
    shares (percent)."""
    cells = results["evidence_edgerton_cells"]
    names = cell_names(results["evidence_edgerton_overlay"])
    main = cells[cells["in_main_analysis"].astype(bool)].sort_values("gid").copy()
    main["cell"] = [f"{gid}: {names[int(gid)]}" for gid in main["gid"]]
    main["recruits_pct"] = 100 * main["recruits"] / main["recruits"].sum()
    main["population_pct"] = 100 * main["population_share_main"]
    return main.reset_index(drop=True)


def cells_table(results: dict[str, pd.DataFrame]) -> Table:
    """The Kosovo-coded cells of the main analysis: recruits by year, population and covariates."""
    main = main_cells(results)
    frame = main[
        [
            "cell",
            "recruits",
            "recruits_2013",
            "recruits_2014",
            "recruits_pct",
            "population",
            "population_pct",
            "unemployment_concern_2012",
            "charity_evidence_pre2014",
        ]
    ].copy()
    for column in ("recruits", "recruits_2013", "recruits_2014"):
        frame[column] = frame[column].astype(int)
    frame["population"] = frame["population"].round().astype(int)
    border = results["evidence_edgerton_cells"]
    neighbour = border[~border["in_main_analysis"].astype(bool) & border["edgerton_gwno"].notna()]
    return table(
        frame,
        "Islamic State recruits from Kosovo by PRIO-GRID cell, 2013-2014 (REAL)",
        labels={
            "cell": "Cell (gid: largest municipalities)",
            "recruits": "Recruits",
            "recruits_2013": "2013",
            "recruits_2014": "2014",
            "recruits_pct": "Recruits, %",
            "population": "Kosovo population",
            "population_pct": "Population, %",
            "unemployment_concern_2012": "Unemployment concern, 2012",
            "charity_evidence_pre2014": "Charity evidence before 2014",
        },
        notes=[
            real_cells_note(int(main["recruits"].sum())),
            (
                "Population: 2011 census spread evenly over each municipality's area (the "
                "four northern municipalities: KAS 2024). Unemployment concern: population-"
                "weighted share naming unemployment the main problem (UNDP Mosaic 2012). "
                "Charity evidence: share of the cell's population in municipalities with "
                "documented Gulf-charity activity before 2014."
            ),
            (
                f"Not shown: {len(neighbour)} border cells that PRIO-GRID codes to Albania or "
                "North Macedonia (their recruits are counted for the neighbour) and the "
                "northern cells absent from the file; see the sensitivity rows of the tests."
            ),
        ],
    )


def tests_table(results: dict[str, pd.DataFrame]) -> Table:
    """The tests on the cells: estimate, exact p-values, reference set and plan label."""
    tests = results["evidence_edgerton_tests"]
    frame = pd.DataFrame(
        {
            "analysis": [_test_name(term) for term in tests["term"]],
            "estimate": tests["estimate"],
            "fisher_interval": [
                _fisher_interval(low, high)
                for low, high in zip(tests["fisher_low"], tests["fisher_high"], strict=True)
            ],
            "p_value": tests["p_value"],
            "p_value_parametric": tests["p_value_parametric"],
            "reference_set": tests["reference_set"],
            "recruits": tests["recruits"].astype(int),
            "cells": tests["cells"].astype(int),
            "plan_label": tests["plan_label"],
        }
    )
    return table(
        frame,
        "Tests on the Edgerton (2023) cells (REAL)",
        labels={
            "analysis": "Test",
            "estimate": "Rate ratio per SD",
            "fisher_interval": "Fisher 95% interval",
            "p_value": "Exact p",
            "p_value_parametric": "Parametric p",
            "reference_set": "Reference set",
            "recruits": "Recruits",
            "cells": "Cells",
            "plan_label": "Plan label",
        },
        notes=[
            real_cells_note(int(tests.loc[tests["term"] == SHARES_TERM, "recruits"].iloc[0])),
            (
                "Exact p: the exact multinomial test (probability ordering) or the permutation "
                "test of the conditional Poisson model (Rao score statistic of the covariate "
                "residualised on the other, all permutations). Parametric p: the same statistic "
                "against every table under the fitted null model. Both the multinomial test and "
                "the parametric p assume independent recruits; the permutation p does not."
            ),
            (
                "Fisher interval: every rate ratio per SD whose sharp null (its effect moved "
                "into the population offset) the permutation test does not reject at 5%; "
                "'unbounded' where no arrangement is extreme enough to reject."
            ),
            "Secondary and exploratory results: unadjusted p-values, never confirmatory.",
        ],
    )


def _fisher_interval(low: Any, high: Any) -> str:
    if pd.isna(low) or pd.isna(high):
        return "not applicable"
    ends = ["unbounded" if (math.isinf(v) or v == 0) else f"{v:.2f}" for v in (low, high)]
    if ends == ["unbounded", "unbounded"]:
        return "unbounded (no rate ratio rejected)"
    return f"{ends[0]} to {ends[1]}"


def _test_name(term: str) -> str:
    if term == SHARES_TERM:
        return "Recruits' cell shares = population shares (exact multinomial)"
    if term.startswith("multinomial_population_shares_border_"):
        bound = "as 0" if term.endswith("lower") else "as Kosovo's"
        return f"As above, with the neighbour-coded border cells, their recruits {bound}"
    return f"{humanise(term)} (conditional Poisson model)"


@styled
def cell_shares(results: dict[str, pd.DataFrame]) -> Plot:
    """Grouped bars per Kosovo-coded cell: share of the recruits against share of the
    population (percent), recruits' counts printed on their bars."""
    main = main_cells(results)
    figure, ax = style.new_figure(height=3.8)
    positions = np.arange(len(main))
    width = 0.38
    colours = style.OKABE_ITO
    ax.bar(
        positions - width / 2,
        main["population_pct"],
        width,
        color=colours[0],
        label="Kosovo population, %",
    )
    bars = ax.bar(
        positions + width / 2, main["recruits_pct"], width, color=colours[4], label="Recruits, %"
    )
    for bar, count in zip(bars, main["recruits"].astype(int), strict=True):
        ax.annotate(
            f"{count}",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=style.SMALL_FONT_PT,
        )
    ax.set_xticks(
        positions,
        [c.replace(": ", "\n", 1).replace(", ", ",\n") for c in main["cell"]],
        fontsize=style.SMALL_FONT_PT,
    )
    ax.set_ylabel("share of the Kosovo-coded cells' total, %")
    ax.set_title("Islamic State recruits and population by PRIO-GRID cell, 2013-2014 (REAL)")
    ax.legend(fontsize=style.SMALL_FONT_PT, loc="upper left")
    style.source_note(
        figure,
        f"Edgerton (2023), leaked IS entry records, {int(main['recruits'].sum())} recruits; "
        "KAS census 2011 spread over "
        "municipal areas",
    )
    plotted = main[["gid", "cell", "recruits", "recruits_pct", "population", "population_pct"]]
    return figure, plotted.reset_index(drop=True)


def _records(frame: pd.DataFrame, key: str) -> dict[Any, dict[Any, Any]]:
    """``{row[key]: row}``: plain Python values for the prose."""
    return {row[key]: row for row in frame.to_dict(orient="records")}


def cell_numbers(results: dict[str, pd.DataFrame], alpha: float = 0.05) -> dict[str, Any]:
    """The numbers the evidence page quotes (prefix ``ev_``); ``alpha``: the plan's."""
    main = main_cells(results)
    cells = results["evidence_edgerton_cells"]
    tests = _records(results["evidence_edgerton_tests"], "term")
    design = results["evidence_edgerton_design"]
    top: dict[Any, Any] = main.sort_values("recruits", ascending=False).to_dict("records")[0]
    neighbour = cells[~cells["in_main_analysis"].astype(bool) & cells["edgerton_gwno"].notna()]
    shares = tests["multinomial_population_shares"]
    values: dict[str, Any] = {
        "ev_recruits": int(main["recruits"].sum()),
        "ev_recruits_2013": int(main["recruits_2013"].sum()),
        "ev_recruits_2014": int(main["recruits_2014"].sum()),
        "ev_cells": len(main),
        "ev_arrangements": math.factorial(len(main)),  # permutations of the cells
        "ev_cells_touching": len(cells),
        "ev_border_cells": len(neighbour),
        "ev_top_recruits": int(top["recruits"]),
        "ev_top_gid": int(top["gid"]),
        "ev_top_names": str(top["cell"]).split(": ", 1)[1],
        "ev_top_recruits_pct": float(top["recruits_pct"]),
        "ev_top_population_pct": float(top["population_pct"]),
        "ev_multinomial_p": float(shares["p_value"]),
        "ev_multinomial_p_g2": float(shares["p_value_g2"]),
        "ev_border_lower_p": float(tests["multinomial_population_shares_border_lower"]["p_value"]),
        "ev_border_upper_p": float(tests["multinomial_population_shares_border_upper"]["p_value"]),
        "ev_simulations": int(design["simulations"].max()),
        "ev_power_mc_se_max": float(design["power_mc_se"].max()),
        "ev_quoted_rr": QUOTED_RATE_RATIO,
        "ev_plan_label": str(shares["plan_label"]),
    }
    significant = [humanise(t).lower() for t in FOCAL if float(tests[t]["p_value"]) < alpha]
    values["ev_covariate_verdict"] = (
        f"Of the two covariates, {' and '.join(significant)} "
        f"{'has' if len(significant) == 1 else 'have'} a permutation p-value below the "
        f"plan's alpha ({alpha:.2f})."
        if significant
        else f"Neither covariate has a permutation p-value below the plan's alpha ({alpha:.2f})."
    )
    for short, term in zip(("unemp", "charity"), FOCAL, strict=True):
        values[f"ev_{short}_rr"] = float(tests[term]["estimate"])
        values[f"ev_{short}_p"] = float(tests[term]["p_value"])
        values[f"ev_{short}_p_parametric"] = float(tests[term]["p_value_parametric"])
        rows = _records(design[design["term"] == term], "rate_ratio_per_sd")
        quoted = rows[QUOTED_RATE_RATIO]
        values[f"ev_{short}_size"] = float(rows[1.0]["power"])
        values[f"ev_{short}_power"] = float(quoted["power"])
        values[f"ev_{short}_power_max"] = max(float(r["power"]) for r in rows.values())
        values[f"ev_{short}_power_parametric"] = float(quoted["power_parametric"])
        values[f"ev_{short}_power_multinomial"] = float(quoted["power_multinomial_test"])
    return values


# --- designated-charity presence --------------------------------------------------------


def charity_table(results: dict[str, pd.DataFrame]) -> Table:
    """Kosovo's value and place in the distribution of each designated-charity measure."""
    kosovo = results["evidence_charity_kosovo"]
    frame = pd.DataFrame(
        {
            "measure": [MEASURE_LABELS[m] for m in kosovo["measure"]],
            "value": kosovo["value"].astype(int),
            "rank": kosovo["rank"].astype(int),
            "countries": kosovo["countries"].astype(int),
            "share_below": 100 * kosovo["share_below"],
            "share_equal": 100 * kosovo["share_equal"],
            "plan_label": kosovo["plan_label"],
        }
    )
    return table(
        frame,
        "Kosovo's designated Islamic-charity presence before 2014, and its place (REAL)",
        labels={
            "measure": "Measure",
            "value": "Kosovo",
            "rank": "Rank (1 = highest)",
            "countries": "Countries",
            "share_below": "Others below, %",
            "share_equal": "Others equal, %",
            "plan_label": "Plan label",
        },
        notes=[
            REAL_CHARITY_NOTE,
            (
                f"Distribution: {kosovo['distribution'].iloc[0]}. Rank: 1 + the number of "
                "countries with a larger value (ties share a rank)."
            ),
        ],
    )


def charity_numbers(results: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """The numbers the charity section quotes (prefix ``ch_``)."""
    kosovo = _records(results["evidence_charity_kosovo"], "measure")
    measures = results["evidence_charity_measures"]
    main = kosovo["designated_charity_presence_pre2014"]
    count = kosovo["designated_charity_count_pre2014"]
    return {
        "ch_presence": int(main["value"]),
        "ch_count": int(count["value"]),
        "ch_count_rank": int(count["rank"]),
        "ch_countries": int(main["countries"]),
        "ch_with_presence": int(measures["designated_charity_presence_pre2014"].sum()),
        "ch_share_below_pct": 100 * float(main["share_below"]),
        "ch_gulf_presence": int(kosovo["designated_gulf_charity_presence_pre2014"]["value"]),
        "ch_un_presence": int(kosovo["designated_charity_presence_un_pre2014"]["value"]),
        "ch_un_with_presence": int(measures["designated_charity_presence_un_pre2014"].sum()),
        "ch_plan_label": str(main["plan_label"]),
    }
