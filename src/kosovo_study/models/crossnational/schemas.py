"""pandera schemas of the cross-national result tables (``data/processed/results/``).

Every table :func:`kosovo_study.models.crossnational.analyse` returns is validated
against its schema here before the stage writes it.
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.pandas import Check, Column

_ESTIMATOR = Check.isin(["nb2_offset", "nb2", "hurdle_nb2"])
_SAMPLE = Check.isin(["complete_cases", "multiple_imputation", "ds2016_imputed"])
_VERDICT = Check.isin(
    [
        "agree",
        "agree in sign only",
        "differ in size",
        "disagree",
        "inconclusive",
        "not compared",
    ]
)
_POSITION = Check.isin(["within", "above", "below"])

ESTIMATES = pa.DataFrameSchema(
    {
        "model": Column(str),
        "term": Column(str),
        "estimate": Column(float),
        "conf_low": Column(float),
        "conf_high": Column(float),
        "p_value": Column(float, Check.in_range(0, 1), nullable=True),
        "scale": Column(str),
        "n": Column(int, Check.ge(20)),
        "synthetic": Column(bool, Check.isin([False])),
        "specification": Column(str),
        "estimator": Column(str, _ESTIMATOR),
        "sample": Column(str, _SAMPLE),
        "component": Column(str, Check.isin(["zero_hurdle", "count", "mean", "any", "positive"])),
        "quantity": Column(
            str, Check.isin(["coefficient", "dispersion", "average marginal effect"])
        ),
        "std_error": Column(float, Check.ge(0)),
        "fraction_missing_information": Column(float, Check.in_range(0, 1)),
        # as mice's pool(): relative increase in variance, lambda, Barnard-Rubin df
        "relative_increase_in_variance": Column(float, Check.ge(0)),
        "lambda_missing": Column(float, Check.in_range(0, 1)),
        "df_barnard_rubin": Column(float, Check.gt(0)),
        "usable_for_marginal_effects": Column("boolean", nullable=True),
    },
    checks=[
        Check(lambda t: (t["conf_low"] <= t["conf_high"]).all(), error="interval low <= high"),
        Check(
            lambda t: (
                t.loc[t["quantity"] == "average marginal effect", "usable_for_marginal_effects"]
                .notna()
                .all()
            ),
            error="every AME row says whether its model may be used for marginal effects",
        ),
    ],
    strict=True,
    coerce=True,
    name="crossnational_estimates",
)

FIT = pa.DataFrameSchema(
    {
        "model": Column(str, unique=True),
        "specification": Column(str),
        "estimator": Column(str, _ESTIMATOR),
        "sample": Column(str, _SAMPLE),
        "n": Column(int, Check.ge(20)),
        "n_complete_cases": Column(int, Check.ge(0)),
        "imputations": Column(int, Check.ge(0)),
        "countries_with_fighters": Column(int, Check.ge(0)),
        "observed_total": Column(float, Check.gt(0)),
        "predicted_total": Column(float, Check.gt(0)),
        "predicted_total_ratio": Column(float, Check.gt(0)),
        "observed_zero_share": Column(float, Check.in_range(0, 1)),
        "predicted_zero_share": Column(float, Check.in_range(0, 1)),
        "log_likelihood": Column(float),
        "aic": Column(float),
        "alpha": Column(float),
        "converged": Column(bool),
        "cv_log_score": Column(float, nullable=True),
        "cv_folds": Column(int, Check.ge(0)),
        "cv_failed_folds": Column(int, Check.ge(0)),
        "widest_ame_interval": Column(float, Check.ge(0)),
        "usable_for_marginal_effects": Column(bool),
        "reason": Column(str, Check.str_length(min_value=1)),
        "simulation_draws": Column(int, Check.ge(2)),
        "ame_halfwidth_mc_relative_se": Column(float, Check.in_range(0, 1)),
        "main_estimator": Column(bool),
    },
    checks=[
        Check(
            lambda t: (t.loc[t["sample"] == "multiple_imputation", "imputations"] >= 20).all(),
            error="multiple imputation uses m >= 20",
        )
    ],
    strict=True,
    coerce=True,
    name="crossnational_fit",
)

ROOTOGRAM = pa.DataFrameSchema(
    {
        "model": Column(str),
        "bin": Column(str),
        "lower_exclusive": Column(float),
        "upper_inclusive": Column(float),
        "observed": Column(float, Check.ge(0)),
        "expected": Column(float, Check.ge(0)),
        "sqrt_observed": Column(float, Check.ge(0)),
        "sqrt_expected": Column(float, Check.ge(0)),
    },
    unique=["model", "bin"],
    strict=True,
    coerce=True,
    name="crossnational_rootogram",
)

_PREDICTION = {
    "observed": Column(float, Check.ge(0), nullable=True),
    "predicted_mean": Column(float, Check.ge(0), nullable=True),
    "predicted_median": Column(float, Check.ge(0), nullable=True),
    "prediction_low": Column(float, Check.ge(0), nullable=True),
    "prediction_high": Column(float, Check.ge(0), nullable=True),
    "predictive_percentile": Column(float, Check.in_range(0, 1), nullable=True),
    "observed_vs_interval": Column(str, _POSITION, nullable=True),
    "observed_to_predicted": Column(float, Check.ge(0), nullable=True),
    "prediction_draws": Column(float, Check.ge(0), nullable=True),
}

PREDICTIONS = pa.DataFrameSchema(
    {
        "iso3": Column(str, Check.str_matches(r"^[A-Z]{3}$")),
        "country": Column(str),
        "countries_ranked": Column(int, Check.gt(0)),
        "in_sample": Column(bool),
        "specification": Column(str),
        "estimator": Column(str, _ESTIMATOR, nullable=True),
        "sample": Column(str, _SAMPLE, nullable=True),
        "imputations": Column(float, Check.ge(20), nullable=True),
        "fighters_per_million": Column(float, Check.ge(0), nullable=True),
        "rank_per_capita": Column(float, Check.ge(1), nullable=True),
        **_PREDICTION,
        "note": Column(str),
    },
    checks=[Check(lambda t: (t["iso3"] == "XKX").any() & t["in_sample"].any(), error="Kosovo")],
    strict=True,
    coerce=True,
    name="crossnational_predictions",
)

KOSOVO_SENSITIVITY = pa.DataFrameSchema(
    {
        "specification": Column(str),
        "scenario": Column(str),
        "variable": Column(str),
        "value_used": Column(float, nullable=True),
        "source_key": Column(str, nullable=True),
        **_PREDICTION,
    },
    strict=True,
    coerce=True,
    name="crossnational_kosovo_sensitivity",
)

KOSOVO_COVARIATES = pa.DataFrameSchema(
    {
        "variable": Column(str, unique=True),
        "value": Column(float, nullable=True),
        "unit": Column(str),
        "source_key": Column(str),
        "status": Column(str, Check.isin(["observed", "imputed (missing)"])),
    },
    checks=[
        Check(
            lambda t: (t.loc[t["status"] == "observed", "source_key"].str.len() > 0).all(),
            error="every observed value names its source",
        )
    ],
    strict=True,
    coerce=True,
    name="crossnational_kosovo_covariates",
)

COMPARISON = pa.DataFrameSchema(
    {
        "source_key": Column(str),
        "study": Column(str),
        "published_variable": Column(str),
        "published_component": Column(str),
        "component_words": Column(str, Check.str_length(min_value=1)),
        "published_sign": Column(str),
        "published_estimate": Column(float, nullable=True),
        "published_low": Column(float, nullable=True),
        "published_high": Column(float, nullable=True),
        "published_estimate_type": Column(str),
        "published_from_abstract_only": Column(bool),
        "our_model": Column(str, nullable=True),
        "our_term": Column(str, nullable=True),
        "our_component": Column(str, nullable=True),
        "direction": Column(float, Check.isin([1, -1]), nullable=True),
        "our_estimate": Column(float, nullable=True),
        "our_low": Column(float, nullable=True),
        "our_high": Column(float, nullable=True),
        # our estimate over the published one (in their direction); NaN when they
        # published no estimate or it is 0
        "ratio_to_published": Column(float, nullable=True),
        "our_point_in_published_interval": Column("boolean", nullable=True),
        "published_point_in_our_interval": Column("boolean", nullable=True),
        "our_n": Column(float, Check.ge(20), nullable=True),
        "our_scale": Column(str, nullable=True),
        "our_model_usable": Column("boolean", nullable=True),
        "mapping_note": Column(str, nullable=True),
        "verdict": Column(str, _VERDICT),
        "verdict_rule": Column(str, Check.str_length(min_value=1)),
    },
    strict=True,
    coerce=True,
    name="crossnational_comparison",
)

POINT_RULE_SENSITIVITY = pa.DataFrameSchema(
    {
        "model": Column(str),
        "term": Column(str),
        "low": Column(float),
        "mid": Column(float),
        "high": Column(float),
        "estimator": Column(str, _ESTIMATOR),
    },
    strict=True,
    coerce=True,
    name="crossnational_sensitivity",
)

CALIBRATION = pa.DataFrameSchema(
    {
        "model": Column(str),
        "specification": Column(str),
        "estimator": Column(str, _ESTIMATOR),
        "sample": Column(str, _SAMPLE),
        "n": Column(int, Check.ge(20)),
        "threshold": Column(float, Check.in_range(0, 1, include_min=False)),
        "observed_total": Column(float, Check.gt(0)),
        "in_sample_ratio": Column(float, Check.gt(0)),
        "out_of_fold_ratio_mean": Column(float, Check.gt(0), nullable=True),
        "out_of_fold_ratio_min": Column(float, Check.gt(0), nullable=True),
        "out_of_fold_ratio_max": Column(float, Check.gt(0), nullable=True),
        "passes_in_sample": Column(bool),
        "passes_out_of_fold": Column(bool),
        "passes_out_of_fold_every_replicate": Column(bool),
        "observed_zero_share": Column(float, Check.in_range(0, 1)),
        "in_sample_zero_share": Column(float, Check.in_range(0, 1)),
        "out_of_fold_zero_share_mean": Column(float, Check.in_range(0, 1), nullable=True),
        "folds": Column(int, Check.ge(2)),
        "fold_replicates": Column(int, Check.ge(1)),
        "failed_folds": Column(int, Check.ge(0)),
        "imputations": Column(int, Check.ge(0)),
        "synthetic": Column(bool, Check.isin([False])),
    },
    checks=[
        Check(
            lambda t: (
                t["out_of_fold_ratio_mean"].isna()
                | (
                    (t["out_of_fold_ratio_min"] <= t["out_of_fold_ratio_mean"] + 1e-12)
                    & (t["out_of_fold_ratio_mean"] <= t["out_of_fold_ratio_max"] + 1e-12)
                )
            ).all(),
            error="out-of-fold ratios: min <= mean <= max",
        ),
        Check(
            lambda t: (t["passes_out_of_fold"] | ~t["passes_out_of_fold_every_replicate"]).all(),
            error="a model that passes in every replicate passes on the mean",
        ),
    ],
    unique=["model", "threshold"],
    strict=True,
    coerce=True,
    name="crossnational_calibration",
)

CHARITY = pa.DataFrameSchema(
    {
        "specification": Column(str),
        "analysis": Column(str, Check.isin(["H4", "without youth unemployment", "sensitivity"])),
        "measure": Column(str),
        "measure_label": Column(str),
        "covariates": Column(str),
        "estimator": Column(str, _ESTIMATOR),
        "sample": Column(str, _SAMPLE),
        "component": Column(str, Check.isin(["zero_hurdle", "count", "mean", "any", "positive"])),
        "quantity": Column(str, Check.isin(["coefficient"])),
        "scale": Column(str),
        "estimate": Column(float, Check.gt(0)),
        "conf_low": Column(float),
        "conf_high": Column(float),
        "p_value": Column(float, Check.in_range(0, 1)),
        "std_error": Column(float, Check.ge(0)),
        "fraction_missing_information": Column(float, Check.in_range(0, 1)),
        "n": Column(int, Check.ge(20)),
        "n_complete_cases": Column(int, Check.ge(0)),
        "imputations": Column(int, Check.ge(20)),
        "predicted_total_ratio": Column(float, Check.gt(0)),
        "usable_for_marginal_effects": Column(bool),
        "countries": Column(int, Check.ge(20)),
        "countries_with_presence": Column(int, Check.ge(0)),
        "kosovo_value": Column(float, Check.ge(0)),
        "kosovo_share_below": Column(float, Check.in_range(0, 1)),
        "kosovo_share_equal": Column(float, Check.in_range(0, 1)),
        "plan_label": Column(str, Check.isin(["primary", "secondary", "exploratory"])),
        "data_label": Column(str, Check.str_startswith("REAL")),
        "synthetic": Column(bool, Check.isin([False])),
    },
    checks=[
        Check(lambda t: (t["conf_low"] <= t["conf_high"]).all(), error="interval low <= high"),
        Check(
            lambda t: (
                (
                    t.loc[(t["analysis"] == "H4") & (t["component"] == "count"), "plan_label"]
                    == "primary"
                ).all()
                and (t.loc[t["component"] == "zero_hurdle", "plan_label"] == "secondary").all()
            ),
            error="H4 (the count part) is a primary hypothesis of the analysis plan; the "
            "binary part of any charity model is its secondary 'listed by ICSR' analysis",
        ),
    ],
    unique=["specification", "component", "quantity"],
    strict=True,
    coerce=True,
    name="crossnational_charity",
)

CENSORED = pa.DataFrameSchema(
    {
        "specification": Column(str),
        "model": Column(str, Check.isin(["unlisted_as_zero", "unlisted_censored_0_5"])),
        "model_label": Column(str),
        "term": Column(str),
        "scale": Column(str),
        "estimate": Column(float),
        "conf_low": Column(float),
        "conf_high": Column(float),
        "p_value": Column(float, Check.in_range(0, 1), nullable=True),
        "std_error": Column(float, Check.ge(0)),
        "n": Column(int, Check.ge(20)),
        "listed": Column(int, Check.gt(0)),
        "unlisted": Column(int, Check.gt(0)),
        "unlisted_upper": Column(float, Check.ge(0)),
        "log_likelihood": Column(float),
        "predicted_total": Column(float, Check.gt(0)),
        "listed_total": Column(float, Check.gt(0)),
        "converged": Column(bool),
        "synthetic": Column(bool, Check.isin([False])),
    },
    checks=[
        Check(lambda t: (t["conf_low"] <= t["conf_high"]).all(), error="interval low <= high"),
        Check(lambda t: (t["listed"] + t["unlisted"] == t["n"]).all(), error="listed + unlisted"),
    ],
    unique=["specification", "model", "term"],
    strict=True,
    coerce=True,
    name="crossnational_censored",
)

SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "crossnational_estimates": ESTIMATES,
    "crossnational_fit": FIT,
    "crossnational_rootogram": ROOTOGRAM,
    "crossnational_predictions": PREDICTIONS,
    "crossnational_kosovo_sensitivity": KOSOVO_SENSITIVITY,
    "crossnational_kosovo_covariates": KOSOVO_COVARIATES,
    "crossnational_comparison": COMPARISON,
    "crossnational_sensitivity": POINT_RULE_SENSITIVITY,
    "crossnational_calibration": CALIBRATION,
    "crossnational_charity": CHARITY,
    "crossnational_censored": CENSORED,
}
