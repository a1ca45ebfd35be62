"""The numbers the book's prose quotes, computed from processed data and results.

Each function returns a flat ``{name: value}`` dict; the book glues every entry
(``myst_nb.glue``) and the text refers to them by name, so no number is typed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from kosovo_study.clean.fighters import HARMONISED_STATISTIC
from kosovo_study.models.design import CHARITY, UNEMPLOYMENT
from kosovo_study.report.labels import citation_text


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
        # "359 (KosovaPort, 2019)": the source as the reference list cites it, not its key
        f"{v:.0f} ({citation_text(k, parenthetical=True)})"
        for v, k in zip(undated["value"], undated["source_key"], strict=True)
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


def crossnational_sentences(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """The abstract's cross-national sentences, from :func:`crossnational_findings` (the
    chosen, calibrated model under multiple imputation); when the result tables are
    missing, the sentences say so instead of showing a number."""
    try:
        cn = crossnational_findings(tables)
    except (KeyError, IndexError):
        return {
            "cn_unemployment_finding": "not available in this build",
            "abstract_crossnational": "the cross-national results are not available in this build",
            "abstract_kosovo_prediction": "Kosovo's predicted count is not available in this build",
        }
    finding = (
        f"youth unemployment: {cn['cn_ame_youth']:,.0f} fighters per SD "
        f"(95% interval {cn['cn_ame_youth_low']:,.0f} to {cn['cn_ame_youth_high']:,.0f})"
    )
    if "cn_or_youth" in cn:
        finding += (
            f", and an odds ratio of {cn['cn_or_youth']:.2f} per SD for having any fighters "
            f"(95% interval {cn['cn_or_youth_low']:.2f} to {cn['cn_or_youth_high']:.2f})"
        )
    return {
        "cn_unemployment_finding": finding,
        "abstract_crossnational": (
            f"in {cn['cn_n']} countries (multiple imputation, m = {cn['cn_imputations']}), the "
            f"best-predicting calibrated model ({cn['cn_main_estimator']}) gives average "
            f"marginal effects on ICSR's January 2015 counts of {finding}; for log GDP per "
            f"capita {cn['cn_ame_gdp']:,.0f} ({cn['cn_ame_gdp_low']:,.0f} to "
            f"{cn['cn_ame_gdp_high']:,.0f}) and for the Muslim share {cn['cn_ame_muslim']:,.0f} "
            f"({cn['cn_ame_muslim_low']:,.0f} to {cn['cn_ame_muslim_high']:,.0f})"
        ),
        "abstract_kosovo_prediction": (
            f"predicted out of sample, Kosovo's count has a median of "
            f"{cn['cn_kosovo_median']:,.0f} (95% prediction interval {cn['cn_kosovo_low']:,.0f} "
            f"to {cn['cn_kosovo_high']:,.0f}) against {cn['cn_kosovo_observed']:,.0f} observed: "
            + _kosovo_position_clause(cn["cn_kosovo_position"])
        ),
    }


def _kosovo_position_clause(position: str) -> str:
    """What the observed count's place in its prediction interval does and does not say."""
    if position == "within":
        # An interval this wide cannot single Kosovo out; it does not show that the
        # covariates explain its count either.
        return (
            "within the interval, which is too wide either to single Kosovo out or to show "
            "that its unemployment, income and religious composition explain its count"
        )
    more_or_fewer = "more" if position == "above" else "fewer"
    return (
        f"{position} the interval: {more_or_fewer} fighters than its unemployment, income "
        "and religious composition predict"
    )


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
    values.update(crossnational_sentences(tables))
    mde = tables.get("municipal_mde")
    total = metadata.get("national_total")
    detectable: dict[str, str] = {}
    for short, term in (("unemployment", UNEMPLOYMENT), ("charity", CHARITY)):
        text = "reaches 80% power at no incidence-rate ratio on the simulated grid"
        needed = {"term", "test", "mde_irr", "national_total", "generator_alpha"}
        if mde is not None and needed <= set(mde.columns) and total is not None:
            rows = mde[
                (mde["term"] == term)
                & (mde["test"] == "power_permutation")
                & (mde["national_total"] == total)
            ].sort_values("generator_alpha")
            found = rows.dropna(subset=["mde_irr"])
            if len(found):
                low = found.iloc[0]
                text = (
                    f"needs an incidence-rate ratio of at least {low['mde_irr']:.2f} for 80% "
                    f"power at the smallest assumed overdispersion "
                    f"(alpha {low['generator_alpha']:g})"
                )
                if len(found) < len(rows):
                    text += ", and no ratio on the grid suffices at the largest"
        detectable[short] = text
        values[f"design_{short}"] = text
    n = metadata.get("municipal_n")
    values["abstract_design"] = (
        f"with the {int(n)} municipalities enumerated in 2011 and the national total of "
        f"{int(total)} adult fighters, a permutation test of unemployment concern (per SD) "
        f"{detectable['unemployment']}; one of charity presence {detectable['charity']} "
        "(a design analysis under stated assumptions, not a finding)"
        if n is not None and mde is not None and total is not None
        else "the design analysis is not available in this build"
    )
    return values


def coverage(variables: pd.DataFrame) -> dict[str, Any]:
    """'34/38'-style coverage strings of the municipal covariates."""
    municipal: Any = variables[variables["table"] == "municipalities"].set_index("variable")
    return {f"coverage_{name}": municipal.loc[name, "coverage"] for name in municipal.index}


def municipal(tables: dict[str, pd.DataFrame], metadata: dict[str, Any]) -> dict[str, Any]:
    """Headline municipal numbers: see :func:`municipal_inference` (which replaced it)."""
    return municipal_inference(tables, metadata)


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


def outcome_provenance(metadata: dict[str, Any]) -> dict[str, Any]:
    """The intro's sentence on the municipal outcome, switched by ``metadata.json``.

    Synthetic: says so and that the regressions only show the machinery.  Restricted:
    names the definition, period, source keys and the sha256 of the file the models
    read (recorded by :func:`kosovo_study.models.build_results`), never the counts.
    """
    provenance = metadata.get("municipal_outcome_provenance") or {}
    if metadata.get("municipal_outcome_synthetic", True) or not provenance:
        sentence = (
            "The complete municipal counts of fighters are not public: without them the "
            "regressions run on a **synthetic** outcome and show only that the machinery works."
        )
        source = "SYNTHETIC"
    else:
        start = provenance.get("period_start") or "the first departures"
        sentence = (
            "The regressions use the **restricted** municipal counts supplied by the "
            f"researcher: {provenance['definition_text']}, from {start} to "
            f"{provenance['period_end']}, sources {citation_text('; '.join(provenance['source_keys']))} "
            f"({_digest_phrase(provenance)}). The counts are not published with this book."
        )
        warnings = provenance.get("warnings") or []
        if warnings:
            sentence += (
                " The validator's warnings, recorded with the run: " + "; ".join(warnings) + "."
            )
        source = "restricted"
    return {"outcome_sentence": sentence, "outcome_source": source}


def _digest_phrase(provenance: dict[str, Any]) -> str:
    """How the intro names the restricted file: by the release record's keyed digest
    (HMAC-SHA-256 under the data holder's key, which a replicator given the key can
    check), or by its sha256 only when the data holder chose to publish it
    (``kosovo_study.manifest.publishes_restricted_sha256``)."""
    if provenance.get("sha256"):
        return f"file sha256 `{str(provenance['sha256'])[:16]}`"
    return (
        "the file is identified by its HMAC-SHA-256 digest under the data holder's key, "
        "in the release record"
    )


#: What the municipal outcome feeds (named in the data-status sentences).
MUNICIPAL_PARTS = (
    "the municipal regressions, the leave-one-out checks and the municipal specification curves"
)


def restricted_rules(transcribed: Path | None = None) -> dict[str, Any]:
    """The thresholds of the restricted file's study rules (``kosovo_study.validation``),
    as ``book/data.md`` states them; the per-capita ceiling is computed from the census
    and the published counts in ``data/raw/transcribed``."""
    from kosovo_study import disclosure, validation

    context = validation.census_context(transcribed)
    return {
        "rule_min_municipalities": validation.MIN_MUNICIPALITIES_WITH_FIGHTERS,
        "rule_ceiling_factor": validation.PER_CAPITA_CEILING_FACTOR,
        "rule_highest_rate_per_1000": 1000 * context.highest_published_rate,
        "rule_highest_rate_municipality": context.highest_published_municipality,
        "rule_ceiling_per_1000": 1000
        * validation.PER_CAPITA_CEILING_FACTOR
        * context.highest_published_rate,
        "rule_non_muslim_share_pct": 100 * validation.NON_MUSLIM_MAJORITY_SHARE_CEILING,
        "rule_single_share_pct": 100 * validation.SINGLE_MUNICIPALITY_SHARE_CEILING,
        "rule_cooks_decimals": disclosure.DIAGNOSTIC_DECIMALS["cooks_distance"],
        "rule_dfbeta_decimals": disclosure.DIAGNOSTIC_DECIMALS["dfbeta_"],
        "rule_irr_decimals": disclosure.DIAGNOSTIC_DECIMALS["irr_"],
    }


def data_status(metadata: dict[str, Any], segments: pd.DataFrame | None = None) -> dict[str, Any]:
    """Every sentence of the book on whether its data are synthetic, restricted or real,
    switched by the state: ``metadata.json``'s ``municipal_outcome_synthetic`` and the
    interview segments' ``synthetic`` column (``None``: no interview import).

    Keys: ``status_title_note`` (title page), ``status_municipal_sentence`` (the evidence
    page), ``interview_status_sentence`` (intro),
    ``status_restricted_paragraph`` and ``status_synthetic_paragraph`` (conclusion).
    A sentence says "synthetic" only about data that are synthetic in this build.
    """
    counts_synthetic = bool(metadata.get("municipal_outcome_synthetic", True))
    interviews_synthetic = (
        True if segments is None or segments.empty else bool(segments["synthetic"].all())
    )
    total = metadata.get("national_total")
    synthetic_parts = [
        part
        for part, flag in (
            (MUNICIPAL_PARTS, counts_synthetic),
            ("the interview analysis", interviews_synthetic),
        )
        if flag
    ]  # fmt: skip
    if synthetic_parts:
        title = "chapters fed by synthetic stand-ins for restricted data say SYNTHETIC."
        verb = "run" if counts_synthetic else "runs"  # the municipal part is plural
        synthetic_paragraph = (
            f"In this build, {' and '.join(synthetic_parts)} {verb} on seeded **synthetic** "
            "stand-ins. They show that the method works end to end (the models fit, the "
            "inference is calibrated, the tables and figures follow the data) and nothing "
            "about Kosovo; every table, figure and paragraph fed by them carries the "
            "SYNTHETIC label."
        )
    else:
        title = "no chapter of this build uses synthetic stand-ins."
        synthetic_paragraph = (
            "This build uses no synthetic stand-in: the municipal models run on the "
            "restricted counts and the interview analysis on the imported transcripts."
        )
    interview_sentence = (
        "The interview transcripts are confidential too: this build's interview analysis "
        "runs on a **synthetic** corpus made by a seeded generator."
        if interviews_synthetic
        else "The interview analysis uses the researcher's confidential transcripts, "
        "imported and redacted; no transcript is published."
    )
    restricted = []
    if counts_synthetic:
        restricted.append(
            "**Complete municipal counts** (police data as reported by UNDP "
            f"{citation_text('xharra_gojani_2017_understanding')}, and "
            "the KCSS reports "
            f"{citation_text('kursani_2015_report; KURSANI_2018_ERF')}) "
            "would let the municipal "
            "regressions, the multiverse and the leave-one-out checks report findings "
            "about Kosovo rather than about a generator; their total must match the "
            f"published national total of {total} that the synthetic outcome is "
            "conditioned on. Even then the design analysis bounds what can be detected."
        )
    else:
        restricted.append(
            "The municipal regressions, the multiverse and the leave-one-out checks use "
            "the restricted counts (the introduction names their file and sources); the "
            "design analysis bounds what they can detect. The counts themselves are not "
            "published: only estimates, intervals and diagnostics are."
        )
    if interviews_synthetic:
        restricted.append(
            "**Interview transcripts** would let the coding, reliability and "
            "interviewee-level models describe real trajectories."
        )
    else:
        restricted.append(
            "The coding, reliability and interviewee-level models describe the imported interviews."
        )
    municipal_sentence = (
        "The municipal chapter's outcome is synthetic until the restricted counts arrive."
        if counts_synthetic
        else "The municipal chapter analyses the restricted counts, which are not published."
    )
    return {
        "status_title_note": title,
        "status_municipal_sentence": municipal_sentence,
        "interview_status_sentence": interview_sentence,
        "status_restricted_paragraph": " ".join(restricted),
        "status_synthetic_paragraph": synthetic_paragraph,
    }


def _mde_text(value: Any) -> str:
    return "beyond the grid" if value is None or pd.isna(value) else f"{float(value):.2f}"


def municipal_inference(
    tables: dict[str, pd.DataFrame], metadata: dict[str, Any]
) -> dict[str, Any]:
    """Municipal estimates, randomization inference, the overdispersion verdict, influence
    and the design analysis (power and MDE over the stated alpha grid and both national
    totals), as glued by ``book/municipalities.md``."""
    coefficients = tables["municipal_coefficients"]
    nb2: Any = coefficients[coefficients["family"] == "nb2"].set_index("term")
    loo = tables["municipal_leave_one_out"]
    fit: Any = tables["municipal_fit"].set_index("family")
    settings = metadata["settings"]
    totals = metadata.get("national_totals", {})
    power = tables["municipal_power"]
    values: dict[str, Any] = {
        "municipal_n": int(metadata["municipal_n"]),
        "municipal_synthetic": bool(metadata["municipal_outcome_synthetic"]),
        "municipal_source": "SYNTHETIC"
        if metadata["municipal_outcome_synthetic"]
        else "restricted",
        "national_total": int(metadata["national_total"]),
        "national_total_definition": str(metadata.get("national_total_definition", "")),
        "national_total_with_children": int(
            totals.get("adults_and_children", metadata["national_total"])
        ),
        "permutations": int(settings["permutations"]),
        "power_wald_simulations": int(power["wald_simulations"].iloc[0]),
        "power_permutation_simulations": int(power["permutation_simulations"].iloc[0]),
        "power_permutations": int(settings["power_permutations"]),
        "design_notes": "; ".join(metadata.get("municipal_design_notes", [])) or "none",
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
    tests = fit.loc["nb2"]
    values.update(
        {
            "lr_p_value": float(tests["lr_p_value"]),
            "ct_p_value": float(tests["cameron_trivedi_p_one_sided"]),
            "ct_influential_unit": str(tests["cameron_trivedi_influential_unit"]),
            "ct_p_without_influential": float(tests["cameron_trivedi_p_without_influential"]),
            "pearson_dispersion": float(tests["pearson_dispersion"]),
            "overdispersion_verdict": str(tests["overdispersion_verdict"]),
        }
    )
    influence: Any = tables["municipal_influence"]
    top = influence.loc[influence["cooks_distance"].idxmax()]
    values["most_influential_unit"] = str(top["municipality"])
    values["most_influential_cooks"] = float(top["cooks_distance"])
    values["cooks_flagged"] = int(influence["cooks_flag"].sum())
    # Design analysis on the total that counts fighters.
    main = power[power["national_total"] == values["national_total"]]
    null = main[main["true_irr"] == 1.0]
    values["alpha_grid"] = ", ".join(f"{a:g}" for a in sorted(power["generator_alpha"].unique()))
    values["size_wald_nominal_min"] = float(null["power_wald_nominal"].min())
    values["size_wald_nominal_max"] = float(null["power_wald_nominal"].max())
    values["size_perm_max"] = float(null["power_permutation"].max())
    values["wald_critical_min"] = float(null["wald_critical_value"].min())
    values["wald_critical_max"] = float(null["wald_critical_value"].max())
    mde = tables["municipal_mde"]
    mde = mde[mde["national_total"] == values["national_total"]]
    for short, term in (("unemployment", UNEMPLOYMENT), ("charity", CHARITY)):
        for test, label in (
            ("power_permutation", "perm"),
            ("power_wald_size_corrected", "wald"),
        ):
            rows: Any = mde[(mde["term"] == term) & (mde["test"] == test)].set_index(
                "generator_alpha"
            )["mde_irr"]
            for alpha in rows.index:
                key = f"mde_{label}_{short}_alpha_{str(alpha).replace('.', '_')}"
                values[key] = _mde_text(rows.loc[alpha])
            values[f"mde_{label}_{short}_lowest_alpha"] = _mde_text(rows.iloc[0])
            values[f"mde_{label}_{short}_highest_alpha"] = _mde_text(rows.iloc[-1])
    return values


def multiverse_construction(summary: dict[str, Any]) -> dict[str, Any]:
    """Multiverse numbers beyond :func:`multiverse`: exact p-values and the smallest N."""
    return {
        "mv_exact_specifications": int(summary.get("exact_specifications", 0)),
        "mv_min_n": int(summary.get("min_n", 0)),
    }


def crossnational_findings(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Numbers of the cross-national page: model choice, calibration, the main
    multiple-imputation estimates, Kosovo and the Western Balkans, and the verdicts
    against published results (all from the ``crossnational_*`` result tables)."""
    from kosovo_study.models import crossnational as cn
    from kosovo_study.models.crossnational.countmodels import ESTIMATOR_LABELS

    fit: Any = tables["crossnational_fit"].set_index("model")
    main_rows = fit[fit["main_estimator"]]
    estimator = str(main_rows["estimator"].iloc[0])
    main: Any = fit.loc[f"{cn.MAIN_SPECIFICATION}:{estimator}:multiple_imputation"]
    values: dict[str, Any] = {
        "cn_main_estimator": ESTIMATOR_LABELS[estimator],
        "cn_n": int(main["n"]),
        "cn_n_complete_youth": int(main["n_complete_cases"]),
        "cn_n_complete_hdi": int(
            fit.loc[f"with_hdi:{estimator}:multiple_imputation", "n_complete_cases"]
        ),
        "cn_imputations": int(main["imputations"]),
        "cn_with_fighters": int(main["countries_with_fighters"]),
        "cn_observed_total": float(main["observed_total"]),
        "cn_predicted_total": float(main["predicted_total"]),
        "cn_mc_rse": 100 * float(main["ame_halfwidth_mc_relative_se"]),
        "cn_models_unusable": int((~fit["usable_for_marginal_effects"]).sum()),
        "cn_models": len(fit),
    }
    for name in ESTIMATOR_LABELS:
        row: Any = fit.loc[f"{cn.MAIN_SPECIFICATION}:{name}:complete_cases"]
        values[f"cn_cv_{name}"] = float(row["cv_log_score"])
        values[f"cn_total_{name}"] = float(row["predicted_total"])
        values[f"cn_ratio_{name}"] = float(row["predicted_total_ratio"])
        values[f"cn_widest_{name}"] = float(row["widest_ame_interval"])
        values["cn_cv_folds"] = int(row["cv_folds"])
        values["cn_observed_total_cc"] = float(row["observed_total"])
        values["cn_zero_share_cc"] = float(row["observed_zero_share"])
        values[f"cn_zero_share_{name}"] = float(row["predicted_zero_share"])
    estimates = tables["crossnational_estimates"]
    main_ames: Any = estimates[
        (estimates["model"] == f"{cn.MAIN_SPECIFICATION}:{estimator}:multiple_imputation")
        & (estimates["quantity"] == "average marginal effect")
    ].set_index(["component", "term"])
    for short, term in (
        ("youth", cn.YOUTH),
        ("gdp", cn.LOG_GDP),
        ("muslim", cn.MUSLIM),
        ("frac", cn.FRACTIONALISATION),
        ("pop", cn.LOG_POPULATION),
    ):
        for part in ("mean", "any"):
            row = main_ames.loc[(part, term)]
            key = f"cn_ame_{short}" if part == "mean" else f"cn_any_{short}"
            values[key] = float(row["estimate"])
            values[f"{key}_low"] = float(row["conf_low"])
            values[f"{key}_high"] = float(row["conf_high"])
    ratios: Any = estimates[
        (estimates["model"] == f"{cn.MAIN_SPECIFICATION}:{estimator}:multiple_imputation")
        & (estimates["quantity"] == "coefficient")
    ].set_index(["component", "term"])
    for key, component in (("cn_or_youth", "zero_hurdle"), ("cn_rr_youth", "count")):
        if (component, cn.YOUTH) in ratios.index:
            row = ratios.loc[(component, cn.YOUTH)]
            values[key] = float(row["estimate"])
            values[f"{key}_low"] = float(row["conf_low"])
            values[f"{key}_high"] = float(row["conf_high"])
    predictions: Any = tables["crossnational_predictions"].set_index(["iso3", "specification"])
    kosovo = predictions.loc[("XKX", cn.MAIN_SPECIFICATION)]
    values.update(
        {
            "cn_kosovo_observed": float(kosovo["observed"]),
            "cn_kosovo_mean": float(kosovo["predicted_mean"]),
            "cn_kosovo_median": float(kosovo["predicted_median"]),
            "cn_kosovo_low": float(kosovo["prediction_low"]),
            "cn_kosovo_high": float(kosovo["prediction_high"]),
            "cn_kosovo_percentile": float(kosovo["predictive_percentile"]),
            "cn_kosovo_position": str(kosovo["observed_vs_interval"]),
            "cn_kosovo_rank": int(kosovo["rank_per_capita"]),
            "cn_kosovo_per_million": float(kosovo["fighters_per_million"]),
            "cn_countries_ranked": int(kosovo["countries_ranked"]),
        }
    )
    in_sample = tables["crossnational_predictions"][
        tables["crossnational_predictions"]["in_sample"].astype(bool)
        & (tables["crossnational_predictions"]["specification"] == cn.MAIN_SPECIFICATION)
    ]
    above = in_sample[in_sample["observed_vs_interval"] == "above"]["country"].tolist()
    below = in_sample[in_sample["observed_vs_interval"] == "below"]["country"].tolist()
    values["cn_wb_above"] = ", ".join(above) if above else "none"
    values["cn_wb_below"] = ", ".join(below) if below else "none"
    values["cn_wb_in_sample"] = len(in_sample)
    out = tables["crossnational_predictions"][
        ~tables["crossnational_predictions"]["in_sample"].astype(bool)
    ]["country"].tolist()
    values["cn_wb_not_in_sample"] = ", ".join(out) if out else "none"
    sensitivity = tables["crossnational_kosovo_sensitivity"]
    values["cn_ks_scenarios"] = len(sensitivity)
    values["cn_ks_within"] = int((sensitivity["observed_vs_interval"] == "within").sum())
    values["cn_ks_min_median"] = float(sensitivity["predicted_median"].min())
    values["cn_ks_max_median"] = float(sensitivity["predicted_median"].max())
    imputed: Any = sensitivity[
        sensitivity["scenario"].str.contains("imputed")
        & (sensitivity["specification"] == cn.MAIN_SPECIFICATION)
    ].iloc[0]
    values["cn_ks_imputed_youth"] = float(imputed["value_used"])
    values["cn_ks_imputed_median"] = float(imputed["predicted_median"])
    comparison = tables["crossnational_comparison"]
    for verdict in ("agree", "disagree", "inconclusive", "not compared"):
        key = verdict.replace(" ", "_")
        values[f"cn_verdict_{key}"] = int((comparison["verdict"] == verdict).sum())
        rebuilt = comparison["our_model"].fillna("").str.startswith("ds2016_rebuild")
        values[f"cn_rebuild_{key}"] = int((comparison.loc[rebuilt, "verdict"] == verdict).sum())
        signs = comparison["published_low"].isna() & comparison["our_model"].notna()
        values[f"cn_signs_{key}"] = int((comparison.loc[signs, "verdict"] == verdict).sum())
    values["cn_comparisons"] = len(comparison)
    values["cn_rebuild_compared"] = int(
        comparison["our_model"].fillna("").str.startswith("ds2016_rebuild").sum()
    )
    rebuild: Any = fit.loc["ds2016_rebuild:hurdle_nb2:ds2016_imputed"]
    values["cn_rebuild_ratio"] = float(rebuild["predicted_total_ratio"])
    values["cn_rebuild_usable"] = (
        "passes" if bool(rebuild["usable_for_marginal_effects"]) else "fails"
    )
    values["cn_rebuild_n"] = int(rebuild["n"])
    return values
