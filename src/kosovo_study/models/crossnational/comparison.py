"""Like-for-like comparison of the cross-national estimates with published results.

Every published finding is read from ``data/raw/transcribed/published_results.csv``
(its sign, estimate and interval: nothing is typed here).  Which of our estimates
answers which published variable is data too: ``published_term_mapping.csv`` names,
per ``(source_key, published_variable)``, our model, our term and a ``direction``
(``-1`` where our term is the inverse of theirs, e.g. ethnic fractionalisation against
ethnic homogeneity; our estimate and interval are then multiplied by -1 before they
are compared, and the table says so).  A published finding without a mapping row is
kept in the table with the verdict ``not compared`` and the reason.

Verdict rule (:func:`verdict`), after aligning directions:

* published interval given: **agree** when the signs are equal and both intervals
  exclude zero; **disagree** when the signs are opposite and both exclude zero;
  **inconclusive** otherwise;
* published sign only (an abstract's "positively correlated"): **agree** when our
  interval excludes zero on the published side, **disagree** when it excludes zero on
  the other side, **inconclusive** when it includes zero;
* published "no positive effect" (a null claim): **disagree** when our interval lies
  above zero, **agree** when it lies below zero, **inconclusive** when it includes zero
  (absence of evidence is not counted as agreement).
"""

from __future__ import annotations

import re
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
VERDICT_RULES = {
    "interval": "agree: same sign and both intervals exclude 0; disagree: opposite signs and "
    "both exclude 0; otherwise inconclusive",
    "sign": "published sign only: agree if our interval excludes 0 on that side, disagree if "
    "on the other side, otherwise inconclusive",
    "not_positive": "published null claim ('no positive effect'): disagree if our interval is "
    "above 0, agree if below 0, otherwise inconclusive",
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


def verdict(
    published_sign: str,
    published_low: float,
    published_high: float,
    our_estimate: float,
    our_low: float,
    our_high: float,
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
        if ours_excludes and theirs_excludes:
            return ("agree" if our_sign == their_sign else "disagree"), "interval"
        return "inconclusive", "interval"
    if sign == "not_positive":
        if our_low > 0:
            return "disagree", "not_positive"
        return ("agree" if our_high < 0 else "inconclusive"), "not_positive"
    if sign == "0":
        return "not compared", "published sign 0 without an interval"
    if not ours_excludes:
        return "inconclusive", "sign"
    return ("agree" if our_sign == sign else "disagree"), "sign"


def read_published(path: Any) -> pd.DataFrame:
    """The transcribed published results, checked for the columns the comparison reads."""
    table = pd.read_csv(path, dtype={"sign": str, "component": str}, keep_default_na=False)
    needed = ["source_key", "study", "variable", "component", "estimate", "ci_low", "ci_high"]
    missing = [c for c in [*needed, "sign"] if c not in table.columns]
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
) -> pd.DataFrame:
    """One row per (published finding, our term): both estimates and the verdict.

    ``estimates`` is a stacked ``tidy(extra=True)`` table with ``component`` and
    ``quantity`` columns; our side is the AME per SD of the model the map names (the
    main multiple-imputation result of ``estimator``, or the D&S rebuild).
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
    text_columns = ["source_key", "study", "variable", "component", "sign", "estimate_type"]
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
            "published_sign": finding["sign"],
            "published_estimate": finding["estimate"],
            "published_low": finding["ci_low"],
            "published_high": finding["ci_high"],
            "published_estimate_type": finding["estimate_type"],
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
            result, rule = verdict(
                str(finding["sign"]),
                float(finding["ci_low"]),
                float(finding["ci_high"]),
                estimate,
                low,
                high,
            )
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
                    "our_n": int(row["n"]),
                    "our_scale": str(row["scale"]),
                    "our_model_usable": bool(row["usable_for_marginal_effects"]),
                    "mapping_note": link["note"],
                    "verdict": result,
                    "verdict_rule": VERDICT_RULES.get(rule, rule),
                }
            )
    return pd.DataFrame(rows)
