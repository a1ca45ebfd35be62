"""What holds and what does not: one table of verdicts, computed once from the results.

Every chapter that states a verdict (the abstract, the cross-national chapter, the
robustness chapter, the conclusion) glues it from this table (``results/verdict.csv``),
and ``tests/report/test_verdict_prose.py`` fails when a page states one the table does
not hold.  One row per claim:

* the cross-national unemployment association in the chosen model (the multiply imputed
  hurdle): the count-part rate ratio (H3's estimand and test) and the average marginal
  effect on the expected count;
* the binary part, read as what it measures: being listed by ICSR (more than about 5);
* the cross-national multiverse, over the model families that pass the calibration rule
  only;
* designated-charity presence across countries (H4);
* the Edgerton (2023) cells (real, 14 recruits);
* the municipal tests H1 and H2 (not tested on real data while the outcome is synthetic).

**The decision rule is the plan's** (``analysis_plan.yaml``): *holds* when the p-value
(Holm-adjusted over the primary family for a primary hypothesis, unadjusted for
secondary ones, which are never confirmatory) is below alpha and the ratio is above 1;
*does not hold* when the ratio's 95% interval lies below the smallest effect of interest
(or a significant estimate runs the wrong way); *inconclusive* otherwise; *not tested*
when no real data answer it.  The Holm correction runs over the plan's whole primary
family: a primary hypothesis not tested on real data enters it with p = 1, so the
adjustment is never smaller than the plan's.

**Inputs not yet in this build** slot in through one small function each:
:func:`calibration_status` reads ``crossnational_calibration`` (in-sample and
out-of-fold passes per model) when it is there, and otherwise derives the in-sample
pass from ``crossnational_fit`` and marks the out-of-fold pass "pending";
:func:`charity_claim` reads H4's rows from ``crossnational_estimates`` when the charity
models are there; :func:`multiverse_claim` uses whatever model families the multiverse
holds (the hurdle family included once it is in the grid).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.pandas import Check, Column

from kosovo_study import plan as study_plan
from kosovo_study.models import inference
from kosovo_study.paths import ProjectPaths
from kosovo_study.storage import write_table

#: The chosen cross-national model (the main specification, hurdle, imputed).
MAIN_MODEL = "youth_unemployment:hurdle_nb2:multiple_imputation"
YOUTH = "youth_unemployment_pct_2010_2013"
CHARITY_TERM = "designated_charity_presence_pre2014"
#: The calibration threshold the verdicts use (the package's rule: 25% of the total).
CALIBRATION_THRESHOLD = 0.25
#: Multiverse family -> the estimator of the fit table that calibrates it, by how log
#: population enters.  A family with no entry has no calibration and is left out of the
#: robustness claim (Poisson, quasi-Poisson and OLS on the log rate are never calibrated).
MULTIVERSE_FAMILY_ESTIMATOR = {
    ("nb2", "offset"): "nb2_offset",
    ("nb2", "covariate"): "nb2",
    ("hurdle_nb2", "offset"): "hurdle_nb2",
    ("hurdle_nb2", "covariate"): "hurdle_nb2",
    ("hurdle", "offset"): "hurdle_nb2",
    ("hurdle", "covariate"): "hurdle_nb2",
}
VERDICTS = ("holds", "does not hold", "inconclusive", "not tested")
#: Model families in words (the basis column is printed in the book).
FAMILY_WORDS = {
    "nb2": "NB2",
    "poisson": "Poisson",
    "quasi_poisson": "quasi-Poisson",
    "ols_log_rate": "OLS on the log rate",
    "hurdle_nb2": "hurdle NB2",
    "hurdle": "hurdle NB2",
}
#: The result tables the verdict reads (those absent are "pending").
INPUT_TABLES = (
    "crossnational_estimates",
    "crossnational_fit",
    "crossnational_calibration",
    "crossnational_charity",
    "evidence_edgerton_tests",
    "municipal_coefficients",
    "multiverse_specifications",
    "multiverse_joint_test",
    "multiverse_calibrated_joint_test",
)

VERDICT_SCHEMA = pa.DataFrameSchema(
    {
        "claim": Column(str, Check.str_length(min_value=1)),
        "hypothesis": Column(str, nullable=True),
        "level": Column(str, Check.isin(list(study_plan.LEVELS))),
        "term": Column(str),
        "plan_label": Column(str, Check.isin(["primary", "secondary", "exploratory"])),
        "quantity": Column(str),
        "estimate": Column(float, nullable=True),
        "conf_low": Column(float, nullable=True),
        "conf_high": Column(float, nullable=True),
        "p_value": Column(float, Check.in_range(0, 1), nullable=True),
        "p_adjusted": Column(float, Check.in_range(0, 1), nullable=True),
        "p_adjustment": Column(str),
        "data": Column(str, Check.isin(["real", "synthetic", "pending"])),
        "calibration": Column(str),
        "verdict": Column(str, Check.isin(list(VERDICTS))),
        "basis": Column(str, Check.str_length(min_value=1)),
        "pending": Column(str),
    },
    strict=True,
    coerce=True,
    ordered=True,
    name="verdict",
)


def decide(
    ratio: float,
    low: float,  # noqa: ARG001 -- the rule reads the upper bound only; kept for the call
    high: float,
    p: float,
    alpha: float,
    smallest_effect: float,
) -> str:
    """The plan's decision rule for a ratio (see the module docstring)."""
    if not np.isfinite(ratio) or not np.isfinite(p):
        return "inconclusive"
    if np.isfinite(high) and high < smallest_effect:
        return "does not hold"
    if p < alpha:
        return "holds" if ratio > 1 else "does not hold"
    return "inconclusive"


def calibration_status(fit: pd.DataFrame, calibration: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per model (``specification, estimator, sample``): passes in sample, passes out of
    fold (None: pending) at :data:`CALIBRATION_THRESHOLD`, and the ratios.

    The slot for the calibration table: with it, both passes come from its row at the
    threshold; without it, the in-sample pass is the fit table's
    ``usable_for_marginal_effects`` and the out-of-fold pass is pending.
    """
    if calibration is not None and len(calibration):
        at = calibration[np.isclose(calibration["threshold"], CALIBRATION_THRESHOLD)]
        return pd.DataFrame(
            {
                "specification": at["specification"],
                "estimator": at["estimator"],
                "sample": at["sample"],
                "in_sample_ratio": at["in_sample_ratio"].astype(float),
                "out_of_fold_ratio": at["out_of_fold_ratio_mean"].astype(float),
                "passes_in_sample": at["passes_in_sample"].astype(bool),
                "passes_out_of_fold": at["passes_out_of_fold"].astype(object),
            }
        ).reset_index(drop=True)
    return pd.DataFrame(
        {
            "specification": fit["specification"],
            "estimator": fit["estimator"],
            "sample": fit["sample"],
            "in_sample_ratio": fit["predicted_total_ratio"].astype(float),
            "out_of_fold_ratio": np.nan,
            "passes_in_sample": fit["usable_for_marginal_effects"].astype(bool),
            "passes_out_of_fold": None,
        }
    ).reset_index(drop=True)


def _calibration_text(status: pd.DataFrame, model: str) -> tuple[str, bool | None]:
    """'in sample: passes (ratio 1.19); out of fold: pending' and the combined pass
    (False if either fails, None if out of fold is pending and in sample passes)."""
    specification, estimator, sample = model.split(":")
    rows = status[
        (status["specification"] == specification)
        & (status["estimator"] == estimator)
        & (status["sample"] == sample)
    ]
    if rows.empty:
        return "no calibration row", None
    row = rows.iloc[0]
    inside = "passes" if row["passes_in_sample"] else "fails"
    text = f"in sample: {inside} (predicted/observed total {row['in_sample_ratio']:.2f})"
    oof = row["passes_out_of_fold"]
    if oof is None or (isinstance(oof, float) and np.isnan(oof)):
        return text + "; out of fold: pending", (None if row["passes_in_sample"] else False)
    text += (
        f"; out of fold: {'passes' if oof else 'fails'} (mean ratio {row['out_of_fold_ratio']:.2f})"
    )
    return text, bool(row["passes_in_sample"]) and bool(oof)


ESTIMATE_COLUMNS = ("estimate", "conf_low", "conf_high", "p_value")


def _row(**values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "hypothesis": "",
        "estimate": np.nan,
        "conf_low": np.nan,
        "conf_high": np.nan,
        "p_value": np.nan,
        "p_adjusted": np.nan,
        "p_adjustment": "none",
        "calibration": "not applicable",
        "pending": "",
    }
    return {**base, **values}


def _estimate(
    row: pd.Series, columns: tuple[str, str, str, str] = ESTIMATE_COLUMNS
) -> dict[str, float]:
    """The estimate, its interval and its p-value from the ``columns`` of a result row."""
    return {name: float(row[c]) for name, c in zip(ESTIMATE_COLUMNS, columns, strict=True)}


def _main_rows(estimates: pd.DataFrame) -> pd.DataFrame:
    return estimates[(estimates["model"] == MAIN_MODEL) & (estimates["term"] == YOUTH)]


def unemployment_claims(
    estimates: pd.DataFrame, status: pd.DataFrame, plan: study_plan.AnalysisPlan
) -> list[dict[str, Any]]:
    """H3 (count-part ratio), its AME on the expected count, and the binary part."""
    rows = _main_rows(estimates)
    calibration, _ = _calibration_text(status, MAIN_MODEL)
    pending = "out-of-fold calibration" if "pending" in calibration else ""
    count = rows[(rows["quantity"] == "coefficient") & (rows["component"] == "count")].iloc[0]
    ame = rows[
        (rows["quantity"] == "average marginal effect") & (rows["component"] == "mean")
    ].iloc[0]
    binary = rows[(rows["quantity"] == "coefficient") & (rows["component"] == "zero_hurdle")].iloc[
        0
    ]
    common = {"level": "crossnational", "data": "real", "calibration": calibration}
    common["pending"] = pending
    youth = {
        "hypothesis": _hypothesis_id(plan, "crossnational", YOUTH),
        "term": YOUTH,
        "plan_label": plan.label(YOUTH, "crossnational"),
    }
    return [
        _row(
            claim="Youth unemployment and the number of fighters among the countries ICSR "
            "listed (count part of the chosen model)",
            quantity="rate ratio per SD (count part, multiply imputed hurdle)",
            **_estimate(count),
            **youth,
            **common,
        ),
        _row(
            claim="Youth unemployment and the expected number of fighters (both parts of "
            "the chosen model)",
            quantity="average marginal effect, persons per SD (expected count)",
            **_estimate(ame),
            **youth,
            **common,
        ),
        _row(
            claim="Youth unemployment and being listed by ICSR (more than about 5 fighters; "
            "binary part of the chosen model)",
            term="listed_by_icsr",
            plan_label=plan.label("listed_by_icsr", "crossnational"),
            quantity="odds ratio per SD of being listed (binary part)",
            **_estimate(binary),
            **common,
        ),
    ]


def _hypothesis_id(plan: study_plan.AnalysisPlan, level: str, term: str) -> str:
    for entry in plan.body["primary"]:
        if entry["level"] == level and entry["term"] == term:
            return str(entry["id"])
    return ""


def charity_claim(
    charity: pd.DataFrame | None, status: pd.DataFrame, plan: study_plan.AnalysisPlan
) -> dict[str, Any]:
    """H4: the count-part ratio of designated-charity presence in the H3 model (with
    youth unemployment), from ``crossnational_charity`` (its ``H4`` row); "pending"
    without that table.

    The charity model is not refitted out of fold; it extends the H3 model by one
    term, so it is held to the H3 model's out-of-fold verdict (a model that fails cannot
    carry "holds")."""
    hypothesis = _hypothesis_id(plan, "crossnational", CHARITY_TERM)
    found = (
        charity[(charity["analysis"] == "H4") & (charity["component"] == "count")]
        if charity is not None
        else pd.DataFrame()
    )
    common = {
        "claim": "Designated Islamic-charity presence before 2014 and the number of fighters "
        "across countries",
        "hypothesis": hypothesis,
        "level": "crossnational",
        "term": CHARITY_TERM,
        "plan_label": plan.label(CHARITY_TERM, "crossnational"),
        "quantity": "rate ratio, presence against absence (count part, multiply imputed "
        "hurdle with youth unemployment)",
    }
    if found.empty:
        return _row(
            **common,
            data="pending",
            verdict="not tested",
            basis="the cross-national charity models are not in this build",
            pending="charity models",
        )
    row = found.iloc[0]
    main_text, main_passes = _calibration_text(status, MAIN_MODEL)
    inside = "passes" if bool(row["usable_for_marginal_effects"]) else "fails"
    calibration = (
        f"in sample: {inside} (predicted/observed total {float(row['predicted_total_ratio']):.2f}); "
        "out of fold: not refitted; the H3 model it extends "
        + ("fails the rule" if main_passes is False else "passes" if main_passes else "is pending")
        + f" ({main_text})"
    )
    return _row(
        **common,
        data="real",
        **_estimate(row),
        calibration=calibration,
        pending="out-of-fold calibration" if "pending" in calibration else "",
    )


def municipal_claims(
    coefficients: pd.DataFrame | None, plan: study_plan.AnalysisPlan
) -> list[dict[str, Any]]:
    """H1 and H2: the NB2 working model's randomization p (real counts only)."""
    rows = []
    for entry in plan.body["primary"]:
        if entry["level"] != "municipal":
            continue
        term = str(entry["term"])
        base = {
            "claim": {
                "unemployment_concern_2012": "Unemployment concern and fighters per resident "
                "across Kosovo's municipalities",
                "charity_evidence_pre2014": "Documented Gulf-charity activity and fighters per "
                "resident across Kosovo's municipalities",
            }.get(term, f"{term} across Kosovo's municipalities"),
            "hypothesis": str(entry["id"]),
            "level": "municipal",
            "term": term,
            "plan_label": plan.label(term, "municipal"),
            "quantity": "rate ratio (NB2 working model, population offset)",
        }
        found = (
            coefficients[(coefficients["model"] == "nb2") & (coefficients["term"] == term)]
            if coefficients is not None
            else pd.DataFrame()
        )
        if found.empty or bool(found["synthetic"].iloc[0]):
            rows.append(
                _row(
                    **base,
                    data="synthetic",
                    verdict="not tested",
                    basis="not tested on real data: the municipal outcome is a synthetic "
                    "stand-in until the restricted counts arrive",
                )
            )
            continue
        row = found.iloc[0]
        rows.append(
            _row(
                **base,
                data="real",
                **_estimate(
                    row, ("incidence_rate_ratio", "irr_low", "irr_high", "permutation_p_value")
                ),
            )
        )
    return rows


def cell_claims(tests: pd.DataFrame | None, plan: study_plan.AnalysisPlan) -> list[dict[str, Any]]:
    """The Edgerton (2023) cells: the exact multinomial test and the two covariates."""
    if tests is None:
        return []
    rows = []
    claims = {
        "multinomial_population_shares": (
            (
                "Recruits' shares across Edgerton's cells differ from population shares "
                "(if recruits are independent of one another)"
            ),
            (
                "exact multinomial test (null probability ordering); recruitment through "
                "peers or family would cluster recruits and make it anti-conservative"
            ),
        ),
        "unemployment_concern_2012": (
            "Unemployment concern and recruits across Edgerton's cells",
            "rate ratio per SD (conditional Poisson, population offset)",
        ),
        "charity_evidence_pre2014": (
            "Charity evidence and recruits across Edgerton's cells",
            "rate ratio per SD (conditional Poisson, population offset)",
        ),
    }
    for term, (claim, quantity) in claims.items():
        found = tests[tests["term"] == term]
        if found.empty:
            continue
        row = found.iloc[0]
        rows.append(
            _row(
                claim=claim,
                level="cells",
                term=term,
                plan_label=plan.label(term, "cells"),
                quantity=quantity,
                estimate=float(row["estimate"]) if pd.notna(row["estimate"]) else np.nan,
                p_value=float(row["p_value"]),
                data="real",
            )
        )
    return rows


def multiverse_claim(
    specifications: pd.DataFrame | None,
    joint: pd.DataFrame | None,
    status: pd.DataFrame,
    main_count_ratio: float,
    alpha: float,
    plan: study_plan.AnalysisPlan,
    calibrated_test: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The cross-national robustness claim over calibrated families only (mid point
    rule); reconciles its median rate ratio with the chosen model's count-part ratio.

    ``calibrated_test`` is ``multiverse_calibrated_joint_test``
    (:mod:`kosovo_study.models.crossnational.calibrated_joint`).  The claim holds when
    its count test (the claim's quantity: specifications significant in the expected
    direction) rejects at the plan's alpha beyond Monte Carlo error (p + 2 MC SE below
    alpha: the p-value is estimated from a finite number of null draws) and the median
    rate ratio is above 1; the minimum-p test is reported beside it."""
    common = {
        "claim": "The cross-national unemployment association across analytic choices "
        "(multiverse, calibrated model families only)",
        "level": "multiverse",
        "term": "any",
        "plan_label": plan.label("any", "multiverse"),
        "quantity": "share of specifications significant in the expected direction "
        "(randomization p < alpha)",
    }
    if specifications is None:
        return _row(**common, data="pending", verdict="not tested", basis="no multiverse")
    cn = specifications[specifications["outcome"] == "crossnational_mid"].copy()
    how = np.where(cn["population"].astype(str).str.contains("offset"), "offset", "covariate")
    estimator = [
        MULTIVERSE_FAMILY_ESTIMATOR.get((str(f), str(h)))
        for f, h in zip(cn["family"], how, strict=True)
    ]
    cn["estimator"] = estimator
    main_spec = {
        "youth_unemployment_pct_2010_2013": "youth_unemployment",
        "unemployment_pct_2010_2013": "unemployment",
    }
    if "calibrated_out_of_fold" in cn.columns:
        # The multiverse stage calibrates every specification itself (predicted world
        # total within the tolerance, in sample and out of fold): the claim covers the
        # count parts of the specifications that pass both.
        cn = cn[cn["focal"] == "unemployment"].copy()
        cn["calibrated"] = cn["calibrated_in_sample"].astype(bool) & cn[
            "calibrated_out_of_fold"
        ].astype(bool)
    else:
        passes = []
        for est, unemployment in zip(cn["estimator"], cn["unemployment"], strict=True):
            if est is None:
                passes.append(False)
                continue
            model = f"{main_spec.get(str(unemployment), str(unemployment))}:{est}:complete_cases"
            _, ok = _calibration_text(status, model)
            passes.append(ok is not False and _has_row(status, model))
        cn["calibrated"] = passes
    families = sorted(FAMILY_WORDS.get(f, f) for f in cn["family"].astype(str).unique())
    kept = cn[cn["calibrated"]]
    subset_test = None
    if calibrated_test is not None:
        tested = calibrated_test[
            (calibrated_test["outcome"] == "crossnational_mid")
            & (calibrated_test["focal"] == "unemployment")
        ]
        subset_test = tested.iloc[0] if len(tested) else None
    whole = joint[joint["outcome"] == "crossnational_mid"] if joint is not None else None
    if whole is not None and "focal" in whole.columns:
        whole = whole[whole["focal"] == "unemployment"]
    whole_text = ""
    if whole is not None and len(whole):
        w = whole.iloc[0]
        whole_text = (
            f"Over all {int(w['specifications'])} specifications of the families "
            f"{', '.join(families)} ({len(kept)} of the unemployment specifications are "
            "calibrated in sample and out of fold), "
            f"{int(w['significant_expected_direction'])} "
            f"are significant and the median rate ratio is {w['median_rate_ratio']:.2f}; "
            "that is not the robustness claim, because it includes specifications that "
            "over-predict the world total. "
        )
    one_part = kept[~kept["family"].astype(str).str.startswith("hurdle")]
    reconcile = (
        "The multiverse's median rate ratios are mostly one-part models' ratios over all "
        "countries"
        + (
            f" (the calibrated one-part specifications: median {one_part['rate_ratio'].median():.2f})"
            if len(one_part)
            else ""
        )
        + ", mixing whether a country is listed with how many it sent; the chosen model's "
        f"count-part ratio ({main_count_ratio:.2f}) is among listed countries only, so the "
        "two answer different questions."
    )
    if kept.empty:
        return _row(
            **common,
            data="real",
            verdict="not tested",
            basis=whole_text
            + "No family of this build's cross-national multiverse passes the calibration "
            "rule, so no robustness claim is made. " + reconcile,
            pending="hurdle family in the multiverse",
        )
    significant = int(((kept["randomization_p"] < alpha) & (kept["rate_ratio"] > 1)).sum())
    share = significant / len(kept)
    kept_families = "families kept: " + ", ".join(
        sorted(FAMILY_WORDS.get(f, f) for f in kept["family"].astype(str).unique())
    )
    median = float(kept["rate_ratio"].median())
    counted = f"Over the {len(kept)} calibrated specifications, {significant} are significant "
    if subset_test is None:
        return _row(
            **common,
            data="real",
            estimate=share,
            calibration=kept_families,
            verdict="inconclusive",
            basis=whole_text
            + counted
            + f"(median rate ratio {median:.2f}); no joint test over this subset yet. "
            + reconcile,
            pending="joint test over calibrated families",
        )
    p_count = float(subset_test["joint_p_count"])
    p_min = float(subset_test["joint_p_min_p"])
    draws = int(subset_test["reselection_draws"])
    mc_se = float(subset_test["joint_p_count_mc_se"])
    beyond_mc_error = p_count + 2 * mc_se < alpha
    verdict = "holds" if beyond_mc_error and median > 1 else "inconclusive"
    mc_text = (
        f" (Monte Carlo SE {mc_se:.3f}: below alpha beyond twice its Monte Carlo error)"
        if beyond_mc_error
        else f" (Monte Carlo SE {mc_se:.3f}: not below alpha beyond twice its Monte Carlo "
        "error, so no verdict that it holds)"
    )
    return _row(
        **common,
        data="real",
        estimate=share,
        p_value=p_count,
        calibration=kept_families,
        verdict=verdict,
        basis=whole_text
        + counted
        + f'(median rate ratio {median:.2f}). A joint test of "no calibrated specification '
        'has an effect", re-selecting the calibrated specifications by the same rule in '
        f"each of {draws} null draws (the rule is computed on the data, so the subset is "
        f"not held fixed): count of significant specifications p = {p_count:.3f}{mc_text}, "
        f"minimum p = {p_min:.3f}, against alpha {alpha:g}; the calibration verdicts of "
        f"{float(subset_test['selection_agreement']):.0%} of specification-draw pairs "
        "equal the observed ones (holding the subset fixed over all "
        f"{int(subset_test['fixed_subset_draws'])} draws: p = "
        f"{float(subset_test['fixed_subset_p_count']):.3f} and "
        f"{float(subset_test['fixed_subset_p_min_p']):.3f}); secondary, not confirmatory. "
        + reconcile,
    )


def _has_row(status: pd.DataFrame, model: str) -> bool:
    specification, estimator, sample = model.split(":")
    return bool(
        (
            (status["specification"] == specification)
            & (status["estimator"] == estimator)
            & (status["sample"] == sample)
        ).any()
    )


def _holm(rows: list[dict[str, Any]], plan: study_plan.AnalysisPlan) -> None:
    """Holm over the plan's primary family; untested primaries enter with p = 1."""
    family = plan.primary_family
    p_by_key: dict[tuple[str, str], float] = dict.fromkeys(family, 1.0)
    primary_rows = [
        r for r in rows if (r["level"], r["term"]) in family and "rate ratio" in r["quantity"]
    ]
    for r in primary_rows:
        if r["data"] == "real" and np.isfinite(r["p_value"]):
            p_by_key[(r["level"], r["term"])] = float(r["p_value"])
    keys = list(family)
    adjusted = inference.holm(np.array([p_by_key[k] for k in keys]))
    by_key = dict(zip(keys, adjusted, strict=True))
    untested = sum(1 for k in keys if p_by_key[k] == 1.0)
    for r in primary_rows:
        if r["data"] == "real":
            r["p_adjusted"] = float(by_key[(r["level"], r["term"])])
            r["p_adjustment"] = (
                f"Holm over the plan's {len(keys)} primary tests ({untested} not tested on "
                "real data, entered with p = 1)"
            )


def _decide_all(rows: list[dict[str, Any]], plan: study_plan.AnalysisPlan) -> None:
    alpha = plan.alpha
    smallest = float(plan.body["smallest_effect_of_interest"]["rate_ratio"])
    for r in rows:
        if "verdict" in r:
            continue
        p = r["p_adjusted"] if np.isfinite(r["p_adjusted"]) else r["p_value"]
        which = "Holm-adjusted p" if np.isfinite(r["p_adjusted"]) else "unadjusted p"
        if "persons" in r["quantity"]:
            # An AME in persons: the sign and the interval decide (no ratio threshold).
            excludes = r["conf_low"] > 0 or r["conf_high"] < 0
            r["verdict"] = (
                ("holds" if r["estimate"] > 0 else "does not hold") if excludes else "inconclusive"
            )
            r["basis"] = (
                f"95% interval {r['conf_low']:.0f} to {r['conf_high']:.0f} persons per SD "
                f"{'excludes' if excludes else 'includes'} 0 (p = {r['p_value']:.3f}); a "
                "description of the H3 model, not the plan's test"
            )
        elif r["level"] == "cells":
            if r["term"] == "multinomial_population_shares":
                r["verdict"] = "holds" if r["p_value"] < alpha else "inconclusive"
            else:
                r["verdict"] = decide(r["estimate"], np.nan, np.nan, r["p_value"], alpha, smallest)
            r["basis"] = (
                f"exact or permutation p = {r['p_value']:.3f} ({which}; secondary, not "
                "confirmatory); REAL but small: Islamic State entry records of 2013-2014 "
                "only, in cells that cross borders"
            )
        else:
            r["verdict"] = decide(r["estimate"], r["conf_low"], r["conf_high"], p, alpha, smallest)
            r["basis"] = (
                f"{which} = {p:.3f} against alpha {alpha:g}; 95% interval "
                f"{r['conf_low']:.2f} to {r['conf_high']:.2f} against the smallest effect of "
                f"interest {smallest:g}"
                + ("; secondary, not confirmatory" if r["plan_label"] == "secondary" else "")
            )
        if r["verdict"] == "holds" and "fails" in r["calibration"]:
            # A model that fails the calibration rule (in sample or out of fold) cannot
            # carry a verdict that something holds.
            r["verdict"] = "inconclusive"
            r["basis"] += "; the model fails the calibration rule, so no verdict that it holds"
        if r["pending"]:
            r["basis"] += f"; pending: {r['pending']}"


def build_verdict(
    tables: dict[str, pd.DataFrame], plan: study_plan.AnalysisPlan | None = None
) -> pd.DataFrame:
    """The table of verdicts from the result tables (``INPUT_TABLES``; absent ones are
    treated as pending)."""
    plan = plan or study_plan.load_plan()
    estimates = tables["crossnational_estimates"]
    status = calibration_status(
        tables["crossnational_fit"], tables.get("crossnational_calibration")
    )
    rows = unemployment_claims(estimates, status, plan)
    rows.append(charity_claim(tables.get("crossnational_charity"), status, plan))
    rows.extend(municipal_claims(tables.get("municipal_coefficients"), plan))
    rows.extend(cell_claims(tables.get("evidence_edgerton_tests"), plan))
    rows.append(
        multiverse_claim(
            tables.get("multiverse_specifications"),
            tables.get("multiverse_joint_test"),
            status,
            float(rows[0]["estimate"]),
            plan.alpha,
            plan,
            tables.get("multiverse_calibrated_joint_test"),
        )
    )
    _holm(rows, plan)
    _decide_all(rows, plan)
    table = pd.DataFrame(rows)[list(VERDICT_SCHEMA.columns)]
    return VERDICT_SCHEMA.validate(table)


def input_files(paths: ProjectPaths) -> list[Path]:
    """The files the verdict reads: the plan and the models' result tables (those
    present; the multiverse's own tables are written in the same run)."""
    files = [
        paths.root / study_plan.PLAN_FILE,
        *(paths.results / f"{name}.parquet" for name in INPUT_TABLES),
    ]
    return [f for f in files if f.is_file() and not f.name.startswith("multiverse_")]


def write_verdict(
    paths: ProjectPaths, folder: Path, multiverse: dict[str, pd.DataFrame]
) -> list[Path]:
    """Read the models' result tables (and the multiverse's, given), write
    ``verdict.csv`` and ``.parquet`` to ``folder``."""
    tables = {
        name: pd.read_parquet(paths.results / f"{name}.parquet")
        for name in INPUT_TABLES
        if (paths.results / f"{name}.parquet").is_file()
    }
    tables.update(multiverse)
    table = build_verdict(tables, study_plan.load_plan(paths=paths))
    return write_table(table, folder, "verdict")
