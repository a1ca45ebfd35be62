"""A joint test over the calibrated subset of the cross-national multiverse.

The robustness claim (:func:`kosovo_study.models.verdict.multiverse_claim`) covers only
the specifications whose predicted world total is within the tolerance of the observed,
in sample and out of fold (:mod:`kosovo_study.models.crossnational.multiverse`).  The
null tested here is "no specification of the calibrated subset has an effect of
unemployment" (the focal residual is exchangeable given the other covariates, as in
every randomization test of the multiverse), with two statistics over the subset:

* the **count** of specifications significant in the expected direction
  (randomization p < alpha and a positive coefficient; Simonsohn, Simmons & Nelson
  2020), and
* the **minimum p** (Westfall & Young 1993, single-step min-p).

**Selection.** The subset is chosen by the calibration rule, which is computed on the
observed outcome *and the observed focal covariate*: a permuted focal column changes
the fitted totals, so a specification can pass the rule in the data and fail it in a
null draw (or the reverse).  Treating the observed subset as fixed would be valid only
if the selection were ancillary to the focal coefficient.  The test therefore
**re-selects within each null draw by the same rule**: in draw r the calibration of
every specification is recomputed on its permuted design (in sample and out of fold,
the same folds and fold seeds), and the statistic is taken over the specifications
that pass in that draw.  The observed statistic and the draws' are then the same
function of exchangeable data, so the test has its level whatever the selection does
(the size is checked by simulation in ``tests/models/test_calibrated_joint.py``).
Each draw's per-specification p-value is its rank among all the shared draws and the
observed statistic (:func:`kosovo_study.models.inference.draw_p_values`), so it is
exchangeable with the observed p-value.  Recomputing the calibration costs about 50
fits per specification and draw, so it is done on the first ``reselection_draws`` of
the shared draws (``multiverse_reselection_draws`` in the config).

The ancillarity argument is tested, not assumed: the table also reports the share of
(specification, draw) pairs whose calibration verdict in the draw equals the observed
one, and the fixed-subset test over all the shared draws, for comparison.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.pandas import Check, Column

from kosovo_study.models import inference
from kosovo_study.models import multiverse as mv
from kosovo_study.models.crossnational import multiverse as cnm

#: The outcome and focal term of the robustness claim.
OUTCOME = "crossnational_mid"
FOCAL = "unemployment"

Spec = tuple[str, mv.SpecData]


def calibrated(family: str, data: mv.SpecData, X: np.ndarray, calibration: cnm.Calibration) -> bool:
    """The multiverse's rule on design ``X``: predicted world total within the
    tolerance in sample and (mean over fold assignments) out of fold."""
    in_sample, out = cnm.total_ratios(family, data.y, X, data.offset, calibration)
    tolerance = calibration.tolerance
    return bool(abs(in_sample - 1) <= tolerance and abs(np.mean(out) - 1) <= tolerance)


def selection_draws(
    specs: Sequence[Spec],
    orderings: np.ndarray,
    calibration: cnm.Calibration,
    n_jobs: int = 1,
) -> np.ndarray:
    """(S, D) calibration verdicts of every specification on its design permuted by
    each of the ``D`` orderings (the focal residual permuted, as in the randomization
    test), on ``n_jobs`` threads (results do not depend on it).  Specifications with
    the same data and engine fit (Poisson, quasi-Poisson) share their verdicts."""
    from joblib import Parallel, delayed

    def verdicts_of(family: str, data: mv.SpecData) -> np.ndarray:
        order = np.argsort(orderings[:, data.ids], axis=1)
        designs = inference.permuted_designs(data.X, data.column, order)
        with np.errstate(all="ignore"):
            return np.array([calibrated(family, data, X, calibration) for X in designs])

    first: dict[tuple[Any, ...], int] = {}
    source = []
    for s, (family, data) in enumerate(specs):
        key = (
            inference.engine_family(family),
            data.X.tobytes(),
            data.offset.tobytes(),
            data.y.tobytes(),
        )
        source.append(first.setdefault(key, s))
    unique = sorted(set(source))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        done = Parallel(n_jobs=n_jobs, backend="threading")(
            delayed(verdicts_of)(*specs[s]) for s in unique
        )
    by_spec = dict(zip(unique, done, strict=True))
    verdicts = np.array([by_spec[s] for s in source], dtype=bool)
    return verdicts.reshape(len(specs), len(orderings))


def joint_test(
    observed_z: np.ndarray,
    null_z: np.ndarray,
    selected: np.ndarray,
    null_selected: np.ndarray,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """The two joint tests with re-selection (see the module docstring).

    ``observed_z`` (S,) and ``null_z`` (S, R) are each specification's robust z and its
    permuted ones over the shared draws; ``selected`` (S,) the observed calibration
    verdicts and ``null_selected`` (S, D), D <= R, the verdicts in the first D draws.
    Returns the observed count and minimum p over the selected specifications, their
    re-selected p-values (over the D draws), the fixed-subset p-values (over all R
    draws, the observed subset held fixed) and the agreement of the selections.
    """
    z = np.asarray(observed_z, dtype=float)
    null = np.asarray(null_z, dtype=float)
    chosen = np.asarray(selected, dtype=bool)
    chosen_null = np.asarray(null_selected, dtype=bool)
    draws, check = null.shape[1], chosen_null.shape[1]
    observed_p = np.array(
        [inference.randomization_p(row, value)[0] for row, value in zip(null, z, strict=True)]
    )
    null_p = inference.draw_p_values(null, z)  # (S, R), exchangeable with observed_p
    significant = (observed_p < alpha) & (z > 0)
    null_significant = (null_p < alpha) & (null > 0)
    count = int((significant & chosen).sum())
    smallest = float(observed_p[chosen].min()) if chosen.any() else 1.0
    tolerance = inference.EXTREME_TOLERANCE

    def counts(mask: np.ndarray) -> np.ndarray:
        return np.asarray((null_significant[:, : mask.shape[1]] & mask).sum(axis=0))

    def minima(mask: np.ndarray) -> np.ndarray:
        masked = np.where(mask, null_p[:, : mask.shape[1]], np.inf)
        return np.asarray(masked.min(axis=0))

    fixed = np.repeat(chosen[:, None], draws, axis=1)
    reselected_counts, fixed_counts = counts(chosen_null), counts(fixed)
    reselected_min, fixed_min = minima(chosen_null), minima(fixed)
    p_count = (1 + int((reselected_counts >= count).sum())) / (check + 1)
    p_min = (1 + int((reselected_min <= smallest + tolerance).sum())) / (check + 1)
    return {
        "specifications": len(z),
        "calibrated": int(chosen.sum()),
        "significant_expected_direction": count,
        "min_p": smallest,
        "alpha": alpha,
        "reselection_draws": check,
        "joint_p_count": p_count,
        "joint_p_count_mc_se": float(np.sqrt(p_count * (1 - p_count) / check)),
        "joint_p_min_p": p_min,
        "joint_p_min_p_mc_se": float(np.sqrt(p_min * (1 - p_min) / check)),
        "null_median_calibrated": float(np.median(chosen_null.sum(axis=0))),
        "null_median_count": float(np.median(reselected_counts)),
        "selection_agreement": float(np.mean(chosen_null == chosen[:, None])),
        "specifications_ever_reselected": int((chosen_null != chosen[:, None]).any(axis=1).sum()),
        "fixed_subset_draws": draws,
        "fixed_subset_p_count": (1 + int((fixed_counts >= count).sum())) / (draws + 1),
        "fixed_subset_p_min_p": (1 + int((fixed_min <= smallest + tolerance).sum())) / (draws + 1),
    }


SCHEMA = pa.DataFrameSchema(
    {
        "outcome": Column(str),
        "focal": Column(str),
        "specifications": Column(int, Check.gt(0)),
        "calibrated": Column(int, Check.ge(0)),
        "significant_expected_direction": Column(int, Check.ge(0)),
        "min_p": Column(float, Check.in_range(0, 1)),
        "alpha": Column(float, Check.in_range(0, 1)),
        "reselection_draws": Column(int, Check.gt(0)),
        "joint_p_count": Column(float, Check.in_range(0, 1)),
        "joint_p_count_mc_se": Column(float, Check.ge(0)),
        "joint_p_min_p": Column(float, Check.in_range(0, 1)),
        "joint_p_min_p_mc_se": Column(float, Check.ge(0)),
        "null_median_calibrated": Column(float, Check.ge(0)),
        "null_median_count": Column(float, Check.ge(0)),
        "selection_agreement": Column(float, Check.in_range(0, 1)),
        "specifications_ever_reselected": Column(int, Check.ge(0)),
        "fixed_subset_draws": Column(int, Check.gt(0)),
        "fixed_subset_p_count": Column(float, Check.in_range(0, 1)),
        "fixed_subset_p_min_p": Column(float, Check.in_range(0, 1)),
        "outcome_source": Column(str, Check.isin(["published"])),
        "synthetic": Column(bool, Check.isin([False])),
    },
    strict=True,
    ordered=True,
    unique=["outcome", "focal"],
    name="multiverse_calibrated_joint_test",
)


def run(
    countries: pd.DataFrame,
    table: pd.DataFrame,
    null: np.ndarray,
    permutations: int,
    seed: int,
    calibration: cnm.Calibration,
    reselection_draws: int,
    alpha: float = 0.05,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """The joint test of the claim's rows (mid point rule, the count parts' focal
    ``unemployment``) of the cross-national multiverse ``table`` and its permuted
    statistics ``null`` (:func:`kosovo_study.models.crossnational.multiverse.run`, with
    the same ``countries``, ``permutations`` and ``seed``), re-selecting by calibration
    in the first ``reselection_draws`` shared draws."""
    from kosovo_study.tablefile import check

    specs = cnm.specifications(countries)
    # rows of the table: one per specification, the hurdle's two in a row (count first)
    row_of, index = [], 0
    for _, family, _ in specs:
        row_of.append(index)
        index += 2 if family == cnm.HURDLE else 1
    keep = [
        s
        for s, (base, _, _) in enumerate(specs)
        if base["outcome"] == OUTCOME and base["focal"] == FOCAL
    ]
    rows = table.iloc[[row_of[s] for s in keep]]
    if not (rows["outcome"].eq(OUTCOME).all() and rows["focal"].eq(FOCAL).all()):
        raise AssertionError("multiverse rows and specifications out of step")
    orderings = cnm.shared_orderings(countries, permutations, seed)
    draws = min(int(reselection_draws), len(orderings))
    verdicts = selection_draws(
        [(specs[s][1], specs[s][2]) for s in keep], orderings[:draws], calibration, n_jobs
    )
    selected = (
        rows["calibrated_in_sample"].astype(bool) & rows["calibrated_out_of_fold"].astype(bool)
    ).to_numpy()
    result = joint_test(
        rows["z"].to_numpy(dtype=float),
        null[rows.index.to_numpy()],
        selected,
        verdicts,
        alpha,
    )
    frame = pd.DataFrame(
        [
            {
                "outcome": OUTCOME,
                "focal": FOCAL,
                **result,
                "outcome_source": "published",
                "synthetic": False,
            }
        ]
    )
    return check(frame, SCHEMA, file="data/processed/results/multiverse_calibrated_joint_test")
