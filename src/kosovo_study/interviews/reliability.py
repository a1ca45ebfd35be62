"""Intercoder agreement on double-coded material.

The unit is a (document, segment) pair coded by at least two coders; for each code,
each coder's judgement is 1 if they applied the code to the segment, else 0.
Krippendorff's alpha (nominal; the ``krippendorff`` package) per code and over all
codes, and Cohen's kappa per code when exactly two coders took part.
"""

from __future__ import annotations

import krippendorff
import numpy as np
import pandas as pd


def _matrix(segments: pd.DataFrame) -> pd.DataFrame:
    """Rows (coder, document, segment_text), columns codes, 1/0 presence."""
    coded = segments.dropna(subset=["code"])
    presence = coded.assign(value=1).pivot_table(
        index=["coder", "document", "segment_text"], columns="code", values="value", aggfunc="max"
    )
    return presence.fillna(0)


def cohen_kappa(first: np.ndarray, second: np.ndarray) -> float:
    """Cohen's kappa for two raters' nominal judgements."""
    categories = np.union1d(first, second)
    observed = float(np.mean(first == second))
    expected = float(sum(np.mean(first == c) * np.mean(second == c) for c in categories))
    return float("nan") if expected == 1 else (observed - expected) / (1 - expected)


def agreement(segments: pd.DataFrame) -> pd.DataFrame:
    """Alpha per code and overall (and kappa with two coders) on double-coded segments."""
    matrix = _matrix(segments)
    if matrix.empty:
        return pd.DataFrame(
            columns=["code", "units", "coders", "krippendorff_alpha", "cohen_kappa"]
        )
    units = matrix.reset_index().groupby(["document", "segment_text"])["coder"].nunique()
    double = units[units >= 2].index
    if len(double) == 0:  # nothing was double-coded: no agreement to measure
        return pd.DataFrame(
            columns=["code", "units", "coders", "krippendorff_alpha", "cohen_kappa"]
        )
    matrix = matrix.reset_index().set_index(["document", "segment_text"]).loc[double].reset_index()
    coders = sorted(matrix["coder"].unique())
    rows = []
    codes = [c for c in matrix.columns if c not in {"coder", "document", "segment_text"}]
    stacked = []
    for code in codes:
        table = matrix.pivot_table(
            index="coder", columns=["document", "segment_text"], values=code
        ).reindex(coders)
        data = table.to_numpy(dtype=float)
        stacked.append(data)
        alpha = (
            krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
            if np.unique(data[~np.isnan(data)]).size > 1
            else float("nan")
        )
        kappa = cohen_kappa(data[0], data[1]) if len(coders) == 2 else float("nan")
        rows.append(
            {
                "code": code,
                "units": data.shape[1],
                "coders": len(coders),
                "krippendorff_alpha": alpha,
                "cohen_kappa": kappa,
            }
        )
    overall = np.concatenate(stacked, axis=1)
    rows.append(
        {
            "code": "(all codes)",
            "units": overall.shape[1],
            "coders": len(coders),
            "krippendorff_alpha": krippendorff.alpha(
                reliability_data=overall, level_of_measurement="nominal"
            ),
            "cohen_kappa": cohen_kappa(overall[0], overall[1])
            if len(coders) == 2
            else float("nan"),
        }
    )
    return pd.DataFrame(rows)
