"""The numbers the book's prose quotes, computed from processed data and results.

Each function returns a flat ``{name: value}`` dict; the book glues every entry
(``myst_nb.glue``) and the text refers to them by name, so no number is typed.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from kosovo_study.clean.fighters import HARMONISED_STATISTIC
from kosovo_study.models.design import CHARITY, UNEMPLOYMENT


def fighters(national: pd.DataFrame) -> dict[str, Any]:
    """Range of published totals, the harmonised series and its latest composition."""
    totals = national[(national["statistic"] == "total_travelled") & ~national["low_quality"]]
    harmonised = national[national["statistic"] == HARMONISED_STATISTIC]
    dead = national[national["statistic"] == "dead"]
    returned = national[national["statistic"] == "returned"]
    return {
        "total_min": float(totals["value"].min()),
        "total_max": float(totals["value"].max()),
        "total_sources": int(totals["source_key"].nunique()),
        "published_rows": int((~national["derived"]).sum()),
        "derived_rows": int(national["derived"].sum()),
        "national_rows": len(national),
        "harmonised_points": len(harmonised),
        "harmonised_max": float(harmonised["value"].max()),
        "dead_max": float(dead["value"].max()),
        "returned_max": float(returned["value"].max()),
    }


def undated_totals(national: pd.DataFrame) -> dict[str, Any]:
    """Totals published without a reference date, listed in words for the prose.

    They are shown apart in the figure ("undated"); the text names them so a reader
    sees every total the range quotes.
    """
    totals = national[national["statistic"] == "total_travelled"]
    undated = totals[totals["reference_date"].fillna("").astype(str).str.strip() == ""]
    values = [
        f"{v:.0f} ({k})" for v, k in zip(undated["value"], undated["source_key"], strict=True)
    ]
    text = " and ".join([", ".join(values[:-1]), values[-1]] if len(values) > 1 else values)
    return {
        "undated_count": len(undated),
        "undated_list": text or "none",
        "dated_total_max": float(totals.loc[totals.index.difference(undated.index), "value"].max()),
    }


def kosovo_place(countries: pd.DataFrame) -> dict[str, Any]:
    """Kosovo among the countries ICSR listed in January 2015: fighters per million.

    Per capita = ICSR Jan-2015 point estimate / population 2014 x 1e6 (World Bank; for
    Kosovo as the countries table gives it).  Empty dict when Kosovo or the columns are
    absent, so the page can say the comparison is unavailable.
    """
    needed = {"iso3", "icsr_2015_point", "icsr_2015_listed", "population_2014"}
    if not needed <= set(countries.columns):
        return {}
    listed = countries[countries["icsr_2015_listed"].fillna(False).astype(bool)].copy()
    listed = listed[listed["population_2014"] > 0]
    listed["per_million"] = listed["icsr_2015_point"] / listed["population_2014"] * 1e6
    listed = listed.sort_values("per_million", ascending=False).reset_index(drop=True)
    kosovo = listed.index[listed["iso3"] == "XKX"]
    if len(kosovo) == 0:
        return {}
    row = listed.loc[kosovo[0]]
    return {
        "xk_fighters_icsr": float(row["icsr_2015_point"]),
        "xk_per_million": float(row["per_million"]),
        "xk_rank_per_capita": int(kosovo[0]) + 1,
        "xk_listed_countries": len(listed),
    }


def crossnational_findings(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """The unemployment finding across countries as a sentence, from the result tables.

    Reads ``crossnational_coefficients`` (NB2, mid point rule, every term whose name
    contains "unemployment") and writes one clause per model, e.g. "youth unemployment:
    IRR 2.11 per SD (95% interval 1.41 to 3.16)".  When the table or its columns are
    missing, the text says so instead of showing a number.
    """
    needed = {
        "model",
        "estimator",
        "point_rule",
        "term",
        "incidence_rate_ratio",
        "irr_low",
        "irr_high",
    }
    coefficients = tables.get("crossnational_coefficients")
    if coefficients is None or not needed <= set(coefficients.columns):
        return {"cn_unemployment_finding": "not available in this build"}
    rows = coefficients[
        (coefficients["estimator"] == "nb2")
        & (coefficients["point_rule"] == "mid")
        & coefficients["term"].astype(str).str.contains("unemployment")
    ]
    clauses = []
    values: dict[str, Any] = {}
    # The first model with each unemployment term (the others add controls such as HDI).
    records: list[dict[Any, Any]] = rows.drop_duplicates("term").to_dict("records")
    for record in records:
        term = str(record["term"])
        name = "youth unemployment" if term.startswith("youth") else "unemployment"
        clauses.append(
            f"{name} {record['incidence_rate_ratio']:.2f} per SD "
            f"(95% interval {record['irr_low']:.2f} to {record['irr_high']:.2f})"
        )
        values.setdefault(f"cn_irr_{term}", float(record["incidence_rate_ratio"]))
    values["cn_unemployment_finding"] = "; ".join(clauses) or ("not available in this build")
    return values


def abstract(
    processed: dict[str, pd.DataFrame], tables: dict[str, pd.DataFrame], metadata: dict[str, Any]
) -> dict[str, Any]:
    """Sentences of the abstract, each built from data or results (or saying it is absent).

    Every number is formatted here from a result; a missing result gives a sentence
    that says so, never "nan" or an empty glue.
    """
    values: dict[str, Any] = {}
    place = kosovo_place(processed.get("countries", pd.DataFrame()))
    values["abstract_kosovo_place"] = (
        f"ICSR's January 2015 estimate for Kosovo, {place['xk_fighters_icsr']:.0f} persons, "
        f"is {place['xk_per_million']:.0f} per million inhabitants: rank "
        f"{place['xk_rank_per_capita']} of the {place['xk_listed_countries']} countries "
        "ICSR listed with a population figure"
        if place
        else "Kosovo's place among the countries ICSR listed is not available in this build"
    )
    finding = crossnational_findings(tables)["cn_unemployment_finding"]
    fit = tables.get("crossnational_fit")
    n_text = ""
    if fit is not None and {"estimator", "point_rule", "n"} <= set(fit.columns):
        nb2 = fit[(fit["estimator"] == "nb2") & (fit["point_rule"] == "mid")]
        if len(nb2):
            n_text = f"in {int(nb2['n'].max())} countries, "
    values["abstract_crossnational"] = (
        f"{n_text}the NB2 incidence-rate ratios of ICSR fighters per inhabitant are: {finding}"
    )
    mde = tables.get("municipal_mde")
    detectable: dict[str, str] = {}
    for short, term in (("unemployment", UNEMPLOYMENT), ("charity", CHARITY)):
        value = None
        if mde is not None and {"term", "test", "mde_irr"} <= set(mde.columns):
            rows = mde[(mde["term"] == term) & (mde["test"] == "power_permutation")]
            value = rows["mde_irr"].iloc[0] if len(rows) else None
        detectable[short] = (
            "no incidence-rate ratio on the simulated grid"
            if value is None or pd.isna(value)
            else f"only an incidence-rate ratio of {value:.2f} or more"
        )
        values[f"design_{short}"] = detectable[short]
    n = metadata.get("municipal_n")
    values["abstract_design"] = (
        f"with the {int(n)} municipalities enumerated in 2011, a permutation test detects "
        f"with 80% power {detectable['unemployment']} per SD of unemployment concern, and "
        f"{detectable['charity']} for charity presence"
        if n is not None and mde is not None
        else "the design analysis is not available in this build"
    )
    return values


def coverage(variables: pd.DataFrame) -> dict[str, Any]:
    """'34/38'-style coverage strings of the municipal covariates."""
    municipal: Any = variables[variables["table"] == "municipalities"].set_index("variable")
    return {f"coverage_{name}": municipal.loc[name, "coverage"] for name in municipal.index}


def municipal(tables: dict[str, pd.DataFrame], metadata: dict[str, Any]) -> dict[str, Any]:
    """Headline municipal estimates, their inference, the design analysis and the outcome."""
    coefficients = tables["municipal_coefficients"]
    # Typed Any: cells of these small result tables are scalars, which pandas-stubs cannot see.
    nb2: Any = coefficients[coefficients["family"] == "nb2"].set_index("term")
    mde = tables["municipal_mde"].set_index(["term", "test"])["mde_irr"]
    loo = tables["municipal_leave_one_out"]
    values: dict[str, Any] = {
        "municipal_n": int(metadata["municipal_n"]),
        "municipal_synthetic": bool(metadata["municipal_outcome_synthetic"]),
        "municipal_source": "SYNTHETIC"
        if metadata["municipal_outcome_synthetic"]
        else "restricted",
        "national_total": int(metadata["national_total"]),
        "permutations": int(metadata["settings"]["permutations"]),
        "power_simulations": int(metadata["settings"]["power_simulations"]),
    }
    for short, term in (("unemployment", UNEMPLOYMENT), ("charity", CHARITY)):
        row = nb2.loc[term]
        values[f"irr_{short}"] = float(row["incidence_rate_ratio"])
        values[f"irr_{short}_low"] = float(row["irr_low"])
        values[f"irr_{short}_high"] = float(row["irr_high"])
        values[f"perm_p_{short}"] = float(row["permutation_p_value"])
        values[f"perm_mcse_{short}"] = float(row["monte_carlo_se"])
        values[f"loo_min_{short}"] = float(loo[f"irr_{term}"].min())
        values[f"loo_max_{short}"] = float(loo[f"irr_{term}"].max())
        for test, label in (("power_permutation", "perm"), ("power_nb2_wald", "wald")):
            mde_value = mde.get((term, test))
            values[f"mde_{label}_{short}"] = (
                "beyond the grid" if mde_value is None or pd.isna(mde_value) else f"{mde_value:.2f}"
            )
    power: Any = tables["municipal_power"].set_index(["term", "true_irr"])
    values["size_perm_unemployment"] = float(power.loc[(UNEMPLOYMENT, 1.0), "power_permutation"])
    values["size_wald_unemployment"] = float(power.loc[(UNEMPLOYMENT, 1.0), "power_nb2_wald"])
    return values


def crossnational(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    comparison = tables["crossnational_comparison"]
    fit = tables["crossnational_fit"]
    nb2: Any = fit[(fit["estimator"] == "nb2") & (fit["point_rule"] == "mid")].set_index("model")
    return {
        "cn_n_youth": int(nb2.loc["youth_unemployment", "n"]),
        "cn_n_hdi": int(nb2.loc["with_hdi", "n"]),
        "cn_with_fighters": int(nb2.loc["youth_unemployment", "countries_with_fighters"]),
        "cn_signs_agree": int(comparison["signs_agree"].sum()),
        "cn_comparisons": len(comparison),
    }


def multiverse(summary: dict[str, Any]) -> dict[str, Any]:
    """Headline numbers of the specification curve."""
    values: dict[str, Any] = {
        "mv_specifications": int(summary["specifications"]),
        "mv_main_specifications": int(summary["main_specifications"]),
        "mv_permutations": int(summary["permutations"]),
        "mv_share_positive": float(summary["share_positive_main"]),
        "mv_share_significant": float(summary["share_significant_main"]),
        "mv_median_unemployment": float(summary["median_rate_ratio_unemployment"]),
        "mv_median_charity": float(summary["median_rate_ratio_charity"]),
    }
    for test in summary["joint_tests"]:
        key = f"mv_{test['outcome']}_{test['focal']}"
        values[f"{key}_share"] = float(test["share_significant"])
        values[f"{key}_joint_p"] = float(test["joint_p_significant"])
    return values


def interviews(processed: dict[str, pd.DataFrame], estimates: pd.DataFrame) -> dict[str, Any]:
    """Size, reliability and the interviewee-level odds ratios (synthetic unless real)."""
    segments = processed["interview_segments"]
    reliability: Any = processed["interview_reliability"].set_index("code")
    odds: Any = estimates.set_index("term")
    values: dict[str, Any] = {
        "iv_segments": len(segments),
        "iv_respondents": int(segments["respondent"].nunique()),
        "iv_synthetic": bool(segments["synthetic"].all()),
        "iv_alpha_all": float(reliability.loc["(all codes)", "krippendorff_alpha"]),
        "iv_kappa_all": float(reliability.loc["(all codes)", "cohen_kappa"]),
        "iv_clusters": int(odds["clusters"].iloc[0]),
    }
    for term in ("unemployed", "charity_contact", "producer_contact", "young"):
        values[f"iv_or_{term}"] = float(odds.loc[term, "odds_ratio"])
        values[f"iv_or_{term}_low"] = float(odds.loc[term, "or_low"])
        values[f"iv_or_{term}_high"] = float(odds.loc[term, "or_high"])
    return values
