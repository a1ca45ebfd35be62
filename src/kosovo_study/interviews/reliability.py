"""Intercoder agreement on double-coded material.

The unit is a (document, segment) pair coded by at least two coders; for each code,
each coder's judgement is 1 if they applied the code to the segment, else 0.
Krippendorff's alpha (nominal; the ``krippendorff`` package) per code and over all
codes, and Cohen's kappa (``statsmodels.stats.inter_rater.cohens_kappa``) when exactly
two coders took part.

Where a coefficient cannot be computed, the table says why in ``status`` instead of
failing: nothing was double-coded, only one coder took part, or every judgement is
the same value (then both coefficients are 0/0; Krippendorff 2011, "Computing
Krippendorff's alpha-reliability", section on "no variation").  The overall row
``(all codes)`` is always present.
"""

from __future__ import annotations

import krippendorff
import numpy as np
import pandas as pd
from statsmodels.stats.inter_rater import cohens_kappa

COLUMNS = ["code", "units", "coders", "krippendorff_alpha", "cohen_kappa", "status"]
OVERALL = "(all codes)"


def _matrix(segments: pd.DataFrame) -> pd.DataFrame:
    """Rows (coder, document, segment_text), columns codes, 1/0 presence."""
    coded = segments.dropna(subset=["code"])
    presence = coded.assign(value=1).pivot_table(
        index=["coder", "document", "segment_text"], columns="code", values="value", aggfunc="max"
    )
    return presence.fillna(0)


def cohen_kappa(first: np.ndarray, second: np.ndarray) -> float:
    """Cohen's kappa for two raters' nominal judgements (NaN where it is 0/0).

    Units missing for either rater are dropped; the square contingency table goes to
    statsmodels' ``cohens_kappa``.
    """
    keep = ~(np.isnan(first.astype(float)) | np.isnan(second.astype(float)))
    a, b = first[keep], second[keep]
    categories = np.union1d(a, b)
    if a.size == 0 or categories.size < 2:
        return float("nan")
    index = {c: i for i, c in enumerate(categories)}
    table = np.zeros((categories.size, categories.size))
    for x, y in zip(a, b, strict=True):
        table[index[x], index[y]] += 1
    return float(cohens_kappa(table, return_results=False))


def _row(code: str, data: np.ndarray, coders: int) -> dict[str, object]:
    judged = data[~np.isnan(data)]
    if coders < 2:
        status = "not computable (only one coder coded the double-coded units)"
    elif np.unique(judged).size < 2:
        status = "not computable (every judgement is the same, no variation to agree on)"
    else:
        status = "computed"
    alpha = kappa = float("nan")
    if status == "computed":
        alpha = float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
        kappa = cohen_kappa(data[0], data[1]) if coders == 2 else float("nan")
    return {
        "code": code,
        "units": int(data.shape[1]),
        "coders": coders,
        "krippendorff_alpha": alpha,
        "cohen_kappa": kappa,
        "status": status,
    }


def _not_computable(reason: str, coders: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "code": OVERALL,
                "units": 0,
                "coders": coders,
                "krippendorff_alpha": float("nan"),
                "cohen_kappa": float("nan"),
                "status": f"not computable ({reason})",
            }
        ],
        columns=COLUMNS,
    )


def agreement(segments: pd.DataFrame) -> pd.DataFrame:
    """Alpha per code and overall (and kappa with two coders) on double-coded segments."""
    matrix = _matrix(segments)
    if matrix.empty:
        return _not_computable("no coded segments")
    units = matrix.reset_index().groupby(["document", "segment_text"])["coder"].nunique()
    double = units[units >= 2].index
    if len(double) == 0:
        coders = int(matrix.reset_index()["coder"].nunique())
        return _not_computable("no segment was coded by two coders", coders)
    matrix = matrix.reset_index().set_index(["document", "segment_text"]).loc[double].reset_index()
    coder_names = sorted(matrix["coder"].unique())
    codes = [c for c in matrix.columns if c not in {"coder", "document", "segment_text"}]
    rows, stacked = [], []
    for code in codes:
        table = matrix.pivot_table(
            index="coder", columns=["document", "segment_text"], values=code
        ).reindex(coder_names)
        data = table.to_numpy(dtype=float)
        stacked.append(data)
        rows.append(_row(str(code), data, len(coder_names)))
    rows.append(_row(OVERALL, np.concatenate(stacked, axis=1), len(coder_names)))
    return pd.DataFrame(rows, columns=COLUMNS)
