"""Tables and glued numbers of the randomization inference (Fisher intervals, the plan's
family-wise adjustment) and of the multiverse inference (family-wise p per
specification, the Freedman-Lane null, the decomposition by analytic choice).

Each builder reads result tables (:mod:`kosovo_study.models.municipal`,
:mod:`kosovo_study.models.cells`, :mod:`kosovo_study.models.multiverse`) and fits
nothing; synthetic rows keep their ``synthetic`` column, so the tables carry the badge.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from kosovo_study.report.labels import humanise
from kosovo_study.report.tables import Table, table

_ROMANO_WOLF = "Romano-Wolf (step-down min-p)"


def _bound(value: Any) -> str:
    """A rate-ratio bound as printed: 2 decimals, or 'unbounded' (no bound from the data)."""
    value = float(value)
    if math.isnan(value):
        return "not computed"
    if math.isinf(value) or value == 0:
        return "unbounded"
    return f"{value:.2f}"


def _interval(low: Any, high: Any) -> str:
    if _bound(low) == _bound(high) == "unbounded":
        return "unbounded on both sides (no rate ratio is rejected at 5%)"
    return f"{_bound(low)} to {_bound(high)}"


def randomization_table(results: dict[str, pd.DataFrame]) -> Table:
    """The municipal focal terms: rate ratio, Fisher and Wald 95% intervals, randomization
    p (with its Monte Carlo error) and the plan's family-wise adjusted p-values."""
    tests = results["municipal_randomization"]
    frame = pd.DataFrame(
        {
            "hypothesis": tests["hypothesis"],
            "term": [
                f"{humanise(t)} ({s})" for t, s in zip(tests["term"], tests["scale"], strict=True)
            ],
            "incidence_rate_ratio": tests["incidence_rate_ratio"],
            "fisher_interval": [
                _interval(lo, hi)
                for lo, hi in zip(tests["fisher_irr_low"], tests["fisher_irr_high"], strict=True)
            ],
            "wald_interval": [
                _interval(lo, hi)
                for lo, hi in zip(tests["wald_irr_low"], tests["wald_irr_high"], strict=True)
            ],
            "permutation_p_value": tests["permutation_p_value"],
            "monte_carlo_se": tests["monte_carlo_se"],
            "p_holm": tests["p_holm"],
            "p_romano_wolf": tests["p_romano_wolf"],
            "synthetic": tests["synthetic"],
            "outcome_source": tests["outcome_source"],
        }
    )
    draws = int(tests["permutations"].iloc[0])
    return table(
        frame.drop(columns="outcome_source"),
        "Randomization inference on the municipal NB2 model: Fisher intervals and the "
        "plan's family-wise adjustment",
        labels={
            "hypothesis": "Plan",
            "term": "Term",
            "incidence_rate_ratio": "Rate ratio",
            "fisher_interval": "Fisher 95% interval",
            "wald_interval": "Robust Wald 95% interval",
            "permutation_p_value": "Randomization p",
            "monte_carlo_se": "Monte Carlo SE of p",
            "p_holm": "Holm p",
            "p_romano_wolf": "Romano-Wolf p",
        },
        notes=[
            (
                f"Randomization test: studentized statistic (robust z), {draws:,} permutations of "
                "the covariate's residual on the other covariates (exact enumeration when there "
                "are at most 100,000 arrangements)."
            ),
            (
                "Fisher interval: every rate ratio whose sharp null (its effect moved into the "
                "log-population offset) the same test does not reject at 5%."
            ),
            (
                "Holm and Romano-Wolf: adjusted over the four primary hypotheses of the analysis "
                "plan (see the family table); members not yet estimated count with p = 1."
            ),
        ],
    )


def family_table(results: dict[str, pd.DataFrame]) -> Table:
    """The plan's primary family: each member's test, p-value and adjusted p-values."""
    family = results["municipal_family_adjustment"]
    frame = pd.DataFrame(
        {
            "hypothesis": family["hypothesis"],
            "level": family["level"]
            .map({"municipal": "Municipal", "crossnational": "Cross-national"})
            .fillna(family["level"]),
            "term": [humanise(t) for t in family["term"]],
            "test": family["test"],
            "p_value": family["p_value"],
            "p_holm": family["p_holm"],
            "p_romano_wolf": family["p_romano_wolf"],
            "synthetic": family["synthetic"],
        }
    )
    frame["p_value"] = [
        f"{p:.3f}" if pd.notna(p) else "not estimated (counted as 1)" for p in frame["p_value"]
    ]
    return table(
        frame,
        "The analysis plan's primary family: unadjusted, Holm and Romano-Wolf p-values",
        labels={
            "hypothesis": "Plan",
            "level": "Level",
            "term": "Term",
            "test": "Test",
            "p_value": "p",
            "p_holm": "Holm p",
            "p_romano_wolf": "Romano-Wolf p",
        },
        notes=[
            (
                "Holm's step-down correction needs only the p-values. Romano-Wolf's step-down "
                "min-p uses the joint null: the municipal tests share their permutations; the "
                "cross-national Wald tests, on other data, enter with independent uniform null "
                "p-values."
            ),
            (
                "The municipal rows are synthetic until the restricted counts arrive; the "
                "cross-national rows are real."
            ),
        ],
    )


def randomization_numbers(results: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Glued numbers of the municipal randomization inference (``ri_*``)."""
    tests = results["municipal_randomization"].set_index("term")
    family = results["municipal_family_adjustment"]
    values: dict[str, Any] = {
        "ri_family_members": len(family),
        "ri_family_estimated": int(family["available"].sum()),
        "ri_permutations": int(tests["permutations"].iloc[0]),
        "ri_synthetic": "SYNTHETIC" if bool(tests["synthetic"].all()) else "restricted",
    }
    for key, term in (("unemployment", tests.index[0]), ("charity", tests.index[1])):
        row = tests.loc[term]
        values[f"ri_{key}_fisher"] = _interval(row["fisher_irr_low"], row["fisher_irr_high"])
        values[f"ri_{key}_wald"] = _interval(row["wald_irr_low"], row["wald_irr_high"])
        values[f"ri_{key}_p"] = float(row["permutation_p_value"])
        values[f"ri_{key}_holm"] = float(row["p_holm"])
        values[f"ri_{key}_romano_wolf"] = float(row["p_romano_wolf"])
    return values


def cell_interval_numbers(results: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Glued Fisher intervals of the Edgerton cell model (``ev_*_fisher``; REAL)."""
    tests = results["evidence_edgerton_tests"].set_index("term")
    values: dict[str, Any] = {}
    for key, term in (
        ("unemp", "unemployment_concern_2012"),
        ("charity", "charity_evidence_pre2014"),
    ):
        row = tests.loc[term]
        values[f"ev_{key}_fisher"] = _interval(row["fisher_low"], row["fisher_high"])
    focal = tests.loc[["unemployment_concern_2012", "charity_evidence_pre2014"]]
    ends = np.asarray(focal[["fisher_low", "fisher_high"]].to_numpy(dtype=float))
    unbounded = int(np.sum((ends == 0) | np.isinf(ends)))
    values["ev_fisher_verdict"] = (
        "No arrangement is extreme enough to reject any rate ratio, so these cells bound "
        "neither effect: the interval says in one line what the design analysis below "
        "says in a table."
        if unbounded == ends.size
        else f"{unbounded} of the {ends.size} bounds are open (no arrangement is extreme "
        "enough to reject beyond them); the design analysis below says why."
    )
    return values


def decomposition_table(results: dict[str, pd.DataFrame]) -> Table:
    """The Shapley (LMG) shares of the estimates' R² by analytic choice, per focal term."""
    shares = results["multiverse_decomposition"]
    frame = pd.DataFrame(
        {
            "focal": shares["focal"]
            .map({"unemployment": "Unemployment", "charity": "Charity"})
            .fillna(shares["focal"]),
            "choice": shares["choice_label"].str.capitalize(),
            "options": shares["options"].astype(int),
            "shapley_r2": shares["shapley_r2"],
            "share_of_r2": shares["share_of_r2"],
            "total_r2": shares["total_r2"],
            "synthetic": shares["synthetic"],
        }
    )
    return table(
        frame,
        "What drives the multiverse: the variance of the estimates split by analytic choice",
        labels={
            "focal": "Focal term",
            "choice": "Analytic choice",
            "options": "Options",
            "shapley_r2": "Shapley R²",
            "share_of_r2": "Share of R²",
            "total_r2": "R² of all choices",
        },
        notes=[
            (
                "The focal coefficient (log rate ratio) of every non-placebo specification "
                "regressed on indicators of each choice; the R² is split into Shapley values "
                "(LMG: each choice's average gain in R² over every order of entry), which sum to "
                "the R² of all choices. A choice with one option explains nothing."
            ),
        ],
    )


def multiverse_inference_numbers(
    specifications: pd.DataFrame, decomposition: pd.DataFrame
) -> dict[str, Any]:
    """Glued numbers of the multiverse inference (``mvi_*``): family-wise and
    Freedman-Lane significance on the main outcome, and the largest share of the R²."""
    main = specifications[
        (specifications["outcome"] == "main")
        & ~specifications["placebo"]
        & ~specifications["outcome"].str.startswith("crossnational")
    ]
    positive = main["coef"] > 0
    values: dict[str, Any] = {
        "mvi_main": len(main),
        "mvi_raw_significant": int(((main["randomization_p"] < 0.05) & positive).sum()),
        "mvi_fwer_significant": int(((main["family_wise_p"] < 0.05) & positive).sum()),
        "mvi_fl_significant": int(((main["freedman_lane_p"] < 0.05) & positive).sum()),
        "mvi_fl_agree": float(
            ((main["freedman_lane_p"] < 0.05) == (main["randomization_p"] < 0.05)).mean()
        ),
        "mvi_min_fwer_p": float(main["family_wise_p"].min()),
    }
    for focal in ("unemployment", "charity"):
        rows = decomposition[decomposition["focal"] == focal]
        if rows.empty:
            continue
        top = rows.sort_values("shapley_r2", ascending=False).iloc[0]
        values[f"mvi_{focal}_r2"] = float(top["total_r2"])
        values[f"mvi_{focal}_top_choice"] = str(top["choice_label"])
        values[f"mvi_{focal}_top_share"] = float(top["share_of_r2"])
    return values
