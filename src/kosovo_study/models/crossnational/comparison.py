"""Like-for-like comparison of the cross-national estimates with published results.

Every published finding is read from ``data/raw/transcribed/published_results.csv``
(its sign, estimate, interval and provenance: nothing is typed here).  Which of our
estimates answers which published variable is data too: ``published_term_mapping.csv``
names, per ``(source_key, published_variable)``, our model, our term and a ``direction``
(``-1`` where our term is the inverse of theirs, e.g. ethnic fractionalisation against
ethnic homogeneity; our estimate and interval are then multiplied by -1 before they
are compared, and the table says so).  A published finding without a mapping row is
kept in the table with the verdict ``not compared`` and the reason.

**Only calibrated models are compared.**  A row whose model of ours fails the
calibration rule (``usable_for_marginal_effects`` false in the fit table, or a model
named in ``failing_models``, e.g. by the out-of-fold rule) keeps its numbers but gets
the verdict ``not compared``: a model that predicts several times the world total has
no marginal effect worth setting beside a published one.

**The verdict uses sign and size** (:func:`verdict`; the size rule is the constants
:data:`SIZE_RATIO_BOUNDS`, read with :func:`size_agrees`).  After aligning directions:

* published estimate and interval given: **agree** when the signs are equal, both
  intervals exclude zero *and* the sizes agree; **differ in size** when the signs agree
  and both exclude zero but the sizes do not; **disagree** when the signs are opposite
  and both exclude zero; **inconclusive** otherwise;
* published sign only (an abstract's "positively correlated"): **agree in sign only**
  when our interval excludes zero on the published side (no size was published, so no
  more can be said), **disagree** when it excludes zero on the other side,
  **inconclusive** when it includes zero;
* published "no positive effect" (a null claim): **disagree** when our interval lies
  above zero, **agree in sign only** when it lies below zero, **inconclusive** when it
  includes zero (absence of evidence is not counted as agreement).

Every compared row states ``ratio_to_published`` (our estimate over theirs, in their
direction) and whether each point lies inside the other's interval.  Whether a
published finding was read from an abstract only comes from the ``provenance`` column
of the transcribed file (``published_from_abstract_only``).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

from kosovo_study.errors import ValidationError

TERM_MAP_FILE = "published_term_mapping.csv"
PUBLISHED_FILE = "published_results.csv"
REBUILD_MODEL = "ds2016_rebuild"
#: Published component -> the part of our prediction whose AME answers it.
COMPONENTS = {
    "both_components": "mean",
    "hurdle_P(any)": "any",
    "count_component": "positive",
    "": "mean",
}
#: The published component codes in words (the book and the table print these).
COMPONENT_WORDS = {
    "both_components": "expected count (both parts)",
    "hurdle_P(any)": "probability of being listed (binary part)",
    "count_component": "count among listed countries (count part)",
    "": "expected count",
}
#: Our estimate "agrees in size" with a published one when their ratio (ours over
#: theirs, same sign) lies within these bounds.  A factor of two either way is the
#: widest gap at which two marginal effects in persons per SD would still tell a reader
#: the same story about how large the association is; it is a declared convention, not
#: a test.  Two estimates whose points each lie inside the other's 95% interval also
#: agree in size: the data cannot tell their sizes apart, whatever the ratio.
SIZE_RATIO_BOUNDS = (0.5, 2.0)
#: The verdicts, from the most to the least favourable to the published finding.
VERDICTS = (
    "agree",
    "agree in sign only",
    "differ in size",
    "disagree",
    "inconclusive",
    "not compared",
)
VERDICT_RULES = {
    "interval": "agree: same sign, both intervals exclude 0, and the sizes agree (ratio of "
    f"estimates within {SIZE_RATIO_BOUNDS[0]:g} to {SIZE_RATIO_BOUNDS[1]:g}, or each point "
    "inside the other's interval); differ in size: same sign and both exclude 0 but the "
    "sizes do not agree; disagree: opposite signs and both exclude 0; otherwise "
    "inconclusive",
    "sign": "published sign only: agree in sign only if our interval excludes 0 on that "
    "side, disagree if on the other side, otherwise inconclusive",
    "not_positive": "published null claim ('no positive effect'): disagree if our interval "
    "is above 0, agree in sign only if below 0, otherwise inconclusive",
    "calibration": "not compared: our model fails the calibration rule, so its marginal "
    "effects are not used",
}


def parse_sign(text: str) -> str | None:
    """'+', '-', '0' or 'not_positive' from a published sign cell; None if unreadable."""
    cleaned = str(text).strip().lower()
    if cleaned in {"+", "-", "0"}:
        return cleaned
    if cleaned in {"\u2212", "\u2013"}:
        return "-"
    if re.fullmatch(r"no positive (effect|association|relationship)", cleaned):
        return "not_positive"
    return None


def _inside(point: float, low: float, high: float) -> bool | None:
    """Whether ``point`` lies in ``[low, high]``; None when any of them is missing."""
    if not (np.isfinite(point) and np.isfinite(low) and np.isfinite(high)):
        return None
    return bool(low <= point <= high)


def magnitude(
    published_estimate: float,
    published_low: float,
    published_high: float,
    our_estimate: float,
    our_low: float,
    our_high: float,
) -> dict[str, Any]:
    """Ratio of our estimate to the published one, and whether each point lies inside
    the other's interval (None where a number is missing or the published estimate is 0).
    """
    ratio = (
        our_estimate / published_estimate
        if np.isfinite(published_estimate) and published_estimate != 0
        else float("nan")
    )
    return {
        "ratio_to_published": float(ratio),
        "our_point_in_published_interval": _inside(our_estimate, published_low, published_high),
        "published_point_in_our_interval": _inside(published_estimate, our_low, our_high),
    }


def size_agrees(
    published_estimate: float,
    published_low: float,
    published_high: float,
    our_estimate: float,
    our_low: float,
    our_high: float,
) -> bool | None:
    """The size half of the verdict (:data:`SIZE_RATIO_BOUNDS`); None if not computable."""
    found = magnitude(
        published_estimate, published_low, published_high, our_estimate, our_low, our_high
    )
    ratio = found["ratio_to_published"]
    if not np.isfinite(ratio):
        return None
    low, high = SIZE_RATIO_BOUNDS
    mutual = bool(found["our_point_in_published_interval"]) and bool(
        found["published_point_in_our_interval"]
    )
    return bool(low <= ratio <= high) or mutual


def verdict(
    published_sign: str,
    published_low: float,
    published_high: float,
    our_estimate: float,
    our_low: float,
    our_high: float,
    published_estimate: float = float("nan"),
) -> tuple[str, str]:
    """(verdict, which rule) for one pair; see the module docstring."""
    sign = parse_sign(published_sign)
    if sign is None:
        return "not compared", f"published sign {published_sign!r} is not a simple sign"
    if not (np.isfinite(our_low) and np.isfinite(our_high)):
        return "not compared", "no interval for our estimate"
    ours_excludes = our_low > 0 or our_high < 0
    our_sign = "+" if our_estimate > 0 else "-"
    if np.isfinite(published_low) and np.isfinite(published_high):
        theirs_excludes = published_low > 0 or published_high < 0
        their_sign = sign if sign in {"+", "-"} else ("+" if published_low > 0 else "-")
        if not (ours_excludes and theirs_excludes):
            return "inconclusive", "interval"
        if our_sign != their_sign:
            return "disagree", "interval"
        size = size_agrees(
            published_estimate, published_low, published_high, our_estimate, our_low, our_high
        )
        if size is None:
            return "agree in sign only", "interval"
        return ("agree" if size else "differ in size"), "interval"
    if sign == "not_positive":
        if our_low > 0:
            return "disagree", "not_positive"
        return ("agree in sign only" if our_high < 0 else "inconclusive"), "not_positive"
    if sign == "0":
        return "not compared", "published sign 0 without an interval"
    if not ours_excludes:
        return "inconclusive", "sign"
    return ("agree in sign only" if our_sign == sign else "disagree"), "sign"


def from_abstract_only(provenance: str) -> bool:
    """Whether a published finding was read from an abstract alone (its ``provenance``
    in the transcribed file starts with "abstract")."""
    return str(provenance).strip().lower().startswith("abstract")


def read_published(path: Any) -> pd.DataFrame:
    """The transcribed published results, checked for the columns the comparison reads."""
    table = pd.read_csv(path, dtype={"sign": str, "component": str}, keep_default_na=False)
    needed = ["source_key", "study", "variable", "component", "estimate", "ci_low", "ci_high"]
    missing = [c for c in [*needed, "sign", "provenance"] if c not in table.columns]
    if missing:
        raise ValidationError(f"{path}: missing columns {missing}. Restore the file from git.")
    for column in ("estimate", "ci_low", "ci_high"):
        table[column] = pd.to_numeric(table[column].replace("", np.nan), errors="raise")
    return table


def read_term_map(path: Any) -> pd.DataFrame:
    """Our term for each published variable; ``direction`` must be 1 or -1."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    needed = ["source_key", "published_variable", "our_model", "our_term", "direction", "note"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ValidationError(f"{path}: missing columns {missing}. Restore the file from git.")
    bad = table.index[~table["direction"].isin(["1", "-1"])]
    if len(bad):
        raise ValidationError(
            f"{path} line {int(bad[0]) + 2}: direction {table.loc[bad[0], 'direction']!r} must "
            "be 1 (same meaning) or -1 (our term is the inverse of theirs)."
        )
    table["direction"] = table["direction"].astype(int)
    return table[needed]


def compare(
    published: pd.DataFrame,
    term_map: pd.DataFrame,
    estimates: pd.DataFrame,
    estimator: str,
    failing_models: Collection[str] = (),
) -> pd.DataFrame:
    """One row per (published finding, our term): both estimates, their ratio, whether
    each point lies inside the other's interval, and the verdict.

    ``estimates`` is a stacked ``tidy(extra=True)`` table with ``component`` and
    ``quantity`` columns; our side is the AME per SD of the model the map names (the
    main multiple-imputation result of ``estimator``, or the D&S rebuild).  A model whose
    AME rows are not ``usable_for_marginal_effects``, or that is named in
    ``failing_models`` (model ids, e.g. those failing the out-of-fold rule), is "not
    compared".
    """
    unknown = term_map.merge(
        published[["source_key", "variable"]].drop_duplicates(),
        left_on=["source_key", "published_variable"],
        right_on=["source_key", "variable"],
        how="left",
        indicator=True,
    )
    unmatched = unknown[unknown["_merge"] == "left_only"]
    if len(unmatched):
        first = unmatched.iloc[0]
        raise ValidationError(
            f"{TERM_MAP_FILE}: ({first['source_key']}, {first['published_variable']!r}) is "
            f"not a finding of {PUBLISHED_FILE}. Correct the spelling or remove the row."
        )
    published = published.copy()
    for column in ("estimate", "ci_low", "ci_high"):
        published[column] = pd.to_numeric(published[column], errors="raise").astype(float)
    text_columns = [
        "source_key",
        "study",
        "variable",
        "component",
        "sign",
        "estimate_type",
        "provenance",
    ]
    for column in text_columns:
        if column not in published:
            published[column] = ""
        published[column] = published[column].fillna("").astype(str)
    ames = estimates[estimates["quantity"] == "average marginal effect"]
    # Lookups by key (the first row of each, as a filter then .iloc[0] would give).
    keys = zip(ames["model"], ames["term"], ames["component"], strict=True)
    records = ames.to_dict(orient="records")
    ame_by_key = dict(reversed(list(zip(keys, records, strict=True))))
    maps_by_finding = dict(list(term_map.groupby(["source_key", "published_variable"])))
    no_maps = term_map.iloc[0:0]
    rows = []
    for finding in published.to_dict(orient="records"):
        maps = maps_by_finding.get((finding["source_key"], finding["variable"]), no_maps)
        base = {
            "source_key": finding["source_key"],
            "study": finding["study"],
            "published_variable": finding["variable"],
            "published_component": finding["component"],
            "component_words": COMPONENT_WORDS.get(
                str(finding["component"]), str(finding["component"])
            ),
            "published_sign": finding["sign"],
            "published_estimate": finding["estimate"],
            "published_low": finding["ci_low"],
            "published_high": finding["ci_high"],
            "published_estimate_type": finding["estimate_type"],
            "published_from_abstract_only": from_abstract_only(finding["provenance"]),
        }
        if maps.empty:
            rows.append(
                {
                    **base,
                    "verdict": "not compared",
                    "verdict_rule": "no term of ours measures this variable "
                    "(no row in published_term_mapping.csv)",
                }
            )
            continue
        for link in maps.to_dict(orient="records"):
            model = (
                f"{REBUILD_MODEL}:hurdle_nb2:ds2016_imputed"
                if link["our_model"] == REBUILD_MODEL
                else f"{link['our_model']}:{estimator}:multiple_imputation"
            )
            part = COMPONENTS.get(str(finding["component"]), "mean")
            row = ame_by_key.get((model, link["our_term"], part))
            if row is None:
                rows.append(
                    {
                        **base,
                        "our_model": model,
                        "our_term": link["our_term"],
                        "verdict": "not compared",
                        "verdict_rule": f"no AME of {link['our_term']} on '{part}' in {model}",
                    }
                )
                continue
            d = int(link["direction"])
            low, high = sorted((d * float(row["conf_low"]), d * float(row["conf_high"])))
            estimate = d * float(row["estimate"])
            published_numbers = (
                float(finding["estimate"]),
                float(finding["ci_low"]),
                float(finding["ci_high"]),
            )
            usable = bool(row["usable_for_marginal_effects"]) and model not in failing_models
            if usable:
                result, rule = verdict(
                    str(finding["sign"]),
                    published_numbers[1],
                    published_numbers[2],
                    estimate,
                    low,
                    high,
                    published_estimate=published_numbers[0],
                )
            else:
                result, rule = "not compared", "calibration"
            rows.append(
                {
                    **base,
                    "our_model": model,
                    "our_term": link["our_term"],
                    "our_component": part,
                    "direction": d,
                    "our_estimate": estimate,
                    "our_low": low,
                    "our_high": high,
                    **magnitude(*published_numbers, estimate, low, high),
                    "our_n": int(row["n"]),
                    "our_scale": str(row["scale"]),
                    "our_model_usable": usable,
                    "mapping_note": link["note"],
                    "verdict": result,
                    "verdict_rule": VERDICT_RULES.get(rule, rule),
                }
            )
    return pd.DataFrame(rows)
