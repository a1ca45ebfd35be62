"""The simulation evidence behind every inferential procedure: one record per check.

Every test, interval and family-wise correction the book reports is proven by a seeded
simulation in the test suite: the size of a test at 5% under a true null, the coverage
of a 95% interval, or the family-wise error under a global null.  Each record here names
the procedure as the book names it, the quantity checked, the number of simulated data
sets, the acceptance band, the data-generating design and the test that runs it.

The tests read their number of data sets and their band from this module, and the book
quotes them from it (the appendix table and the glued numbers of the chapters), so the
prose cannot drift from what the test suite asserts.  A test fails when a record names a
test that does not exist or does not read its record (``tests/test_simulation_evidence.py``).

The Monte Carlo standard error of a rate ``p`` estimated from ``R`` independent data sets
is ``sqrt(p (1 - p) / R)``, evaluated at the nominal rate (0.05 or 0.95).  A two-sided
band of about three such errors fails a procedure that is too liberal and one that is
far too conservative; a family-wise error is bounded above only (a conservative
correction is allowed), at the nominal rate plus two errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class SimulationCheck:
    """One seeded simulation of the test suite and what it must find."""

    key: str
    #: the procedure, named as the book names it
    procedure: str
    #: "size", "coverage" or "family-wise error"
    quantity: str
    #: nominal rate: 0.05 for a size or a family-wise error, 0.95 for a coverage
    nominal: float
    #: simulated data sets (each its own seeded draw)
    data_sets: int
    #: acceptance band of the simulated rate; ``low`` is None for an upper bound only
    low: float | None
    high: float
    #: ``path::function`` of the test that runs it
    test: str
    #: the data-generating design, in words
    design: str
    #: numbers of clusters simulated, where the design varies them (few-cluster checks)
    clusters: tuple[int, ...] = ()

    @property
    def monte_carlo_se(self) -> float:
        """MC standard error of the simulated rate at the nominal rate."""
        return math.sqrt(self.nominal * (1 - self.nominal) / self.data_sets)

    def accepts(self, rate: float) -> bool:
        """True when the simulated rate lies in the band."""
        return (self.low is None or self.low <= rate) and rate <= self.high

    def failure(self, rate: float, what: str = "") -> str:
        """The assertion message: the rate found against the band, with the MC SE."""
        label = f"{self.procedure}{', ' + what if what else ''}"
        return (
            f"{label}: {self.quantity} {rate:.4f} outside {self.band_text()} "
            f"({self.data_sets} data sets, MC SE {self.monte_carlo_se:.4f})"
        )

    def band_text(self) -> str:
        """The band as the book prints it."""
        if self.low is None:
            return f"at most {self.high:.3f}"
        return f"{self.low:.3f} to {self.high:.3f}"


def _plus_se(nominal: float, data_sets: int, errors: int = 2) -> float:
    """An upper bound only: nominal + ``errors`` MC SE, rounded to 4 decimals (2 for a
    family-wise error, 3 for a test that may be conservative)."""
    return round(nominal + errors * math.sqrt(nominal * (1 - nominal) / data_sets), 4)


def _within_three_se(nominal: float, data_sets: int) -> tuple[float, float]:
    se = math.sqrt(nominal * (1 - nominal) / data_sets)
    return max(0.0, round(nominal - 3 * se, 4)), min(1.0, round(nominal + 3 * se, 4))


_INFERENCE = "tests/models/test_inference.py::"
_MULTIVERSE = "tests/models/test_multiverse_inference.py::"
_MUNICIPAL_DESIGN = (
    "34 municipalities with their real populations as offsets, NB2 counts (alpha 0.8) "
    "conditioned on the national police total, every other covariate 0.2 per SD"
)

CHECKS: tuple[SimulationCheck, ...] = (
    SimulationCheck(
        "randomization_size",
        "Randomization test of a municipal focal term (studentized, 99 orderings)",
        "size",
        0.05,
        2000,
        0.035,
        0.065,
        _INFERENCE + "test_randomization_null_has_size_five_percent",
        _MUNICIPAL_DESIGN + "; no effect of the focal term; NB2, quasi-Poisson and log-rate OLS",
    ),
    SimulationCheck(
        "shifted_null_size",
        "Shifted-null randomization test (the null behind each point of a Fisher interval)",
        "size",
        0.05,
        2000,
        0.035,
        0.065,
        _INFERENCE + "test_shifted_null_has_size_five_percent",
        _MUNICIPAL_DESIGN + "; true rate ratio 1.5 per SD, tested through the offset",
    ),
    SimulationCheck(
        "fisher_coverage",
        "Fisher interval by test inversion (municipal focal term)",
        "coverage",
        0.95,
        600,
        0.93,
        0.97,
        _INFERENCE + "test_fisher_intervals_cover_the_true_rate_ratio",
        _MUNICIPAL_DESIGN + "; true rate ratio 1.5 per SD of unemployment concern",
    ),
    SimulationCheck(
        "family_wise_error",
        "Holm and Romano-Wolf adjustment over the plan's municipal family",
        "family-wise error",
        0.05,
        1500,
        None,
        _plus_se(0.05, 1500),
        _INFERENCE + "test_family_wise_error_of_holm_and_romano_wolf",
        _MUNICIPAL_DESIGN.replace(", every other covariate 0.2 per SD", "")
        + "; global null over three municipal terms (one more than the plan's municipal "
        "members: a larger family is the harder case)",
    ),
    SimulationCheck(
        "freedman_lane_size",
        "Freedman-Lane null of the multiverse (log-rate OLS working model)",
        "size",
        0.05,
        2000,
        0.035,
        0.065,
        _MULTIVERSE + "test_freedman_lane_null_has_size_five_percent",
        _MUNICIPAL_DESIGN + "; no effect of the focal term",
    ),
    SimulationCheck(
        "multiverse_family_wise_error",
        "Family-wise p of each multiverse specification (step-down min-p)",
        "family-wise error",
        0.05,
        400,
        None,
        _plus_se(0.05, 400),
        _MULTIVERSE + "test_multiverse_family_wise_error_under_the_global_null",
        _MUNICIPAL_DESIGN.replace(", every other covariate 0.2 per SD", "")
        + "; global null over the specifications",
    ),
    SimulationCheck(
        "municipal_permutation_size",
        "Permutation test of the models stage (39 orderings)",
        "size",
        0.05,
        500,
        0.03,
        0.07,
        "tests/models/test_municipal.py::test_size_at_irr_one_is_five_percent",
        _MUNICIPAL_DESIGN.replace(", every other covariate 0.2 per SD", "")
        + "; no effect of any covariate",
    ),
    SimulationCheck(
        "residual_tests_size",
        "Residual tests after DHARMa (uniformity, dispersion, zero-inflation, outliers) "
        "and Moran's I",
        "size",
        0.05,
        1000,
        0.03,
        0.07,
        "tests/models/test_diagnostics.py::test_every_test_has_size_five_percent_under_the_model",
        "36 units, correctly specified NB2 and Poisson models, refitted p-values",
    ),
    SimulationCheck(
        "wild_bootstrap_size",
        "Score wild cluster bootstrap (Rademacher and Webb weights), 8 clusters",
        "size",
        0.05,
        1000,
        0.03,
        0.07,
        "tests/interviews/test_few_clusters.py::test_size_at_five_percent_with_few_clusters",
        "interviewee logit with no effect, respondents in 8 clusters",
        clusters=(8,),
    ),
    SimulationCheck(
        "cr2_size",
        "CR2 standard errors with Bell-McCaffrey degrees of freedom, 8 clusters",
        "size",
        0.05,
        1000,
        *_within_three_se(0.05, 1000),
        "tests/interviews/test_few_clusters.py::test_size_at_five_percent_with_few_clusters",
        "interviewee logit with no effect, respondents in 8 clusters",
        clusters=(8,),
    ),
    SimulationCheck(
        "few_cluster_size",
        "CR2 and the score wild cluster bootstrap, 16 and 38 clusters",
        "size",
        0.05,
        300,
        *_within_three_se(0.05, 300),
        "tests/interviews/test_few_clusters.py::test_size_at_five_percent_with_few_clusters",
        "interviewee logit with no effect, respondents in 16 or 38 clusters",
        clusters=(16, 38),
    ),
    SimulationCheck(
        "hurdle_randomization_size",
        "Randomization test of each part of the cross-national hurdle (99 orderings)",
        "size",
        0.05,
        200,
        *_within_three_se(0.05, 200),
        "tests/models/test_crossnational_multiverse.py::test_hurdle_randomization_test_has_its_size",
        "80 countries, logit and truncated NB2 hurdle with no effect in either part",
    ),
    SimulationCheck(
        "hurdle_interval_coverage",
        "Wald intervals of the hurdle, AME intervals from parameter draws and simulated "
        "prediction intervals",
        "coverage",
        0.95,
        200,
        *_within_three_se(0.95, 200),
        "tests/models/test_coverage.py::test_coefficient_ame_and_prediction_intervals_cover",
        "163 countries, complete data from a known logit and truncated NB2 hurdle",
    ),
    SimulationCheck(
        "rubin_coverage",
        "Rubin's rules over multiple imputations (the covariate missing completely at random)",
        "coverage",
        0.95,
        100,
        *_within_three_se(0.95, 100),
        "tests/models/test_coverage.py::test_rubin_intervals_over_imputations_cover",
        "163 countries, a quarter of one covariate missing completely at random, 5 imputations",
    ),
    SimulationCheck(
        "mi_binary_coverage",
        "Multiple imputation: the logit part's interval on the imputed covariate (MCAR and "
        "outcome-dependent MAR)",
        "coverage",
        0.95,
        100,
        *_within_three_se(0.95, 100),
        "tests/models/test_mi_coverage.py::test_binary_part_covers_on_the_imputed_covariate",
        "the stage's own coverage simulation of the hurdle with an imputed covariate",
    ),
    SimulationCheck(
        "calibrated_joint_min_p_size",
        "Joint test over the calibrated cross-national specifications: minimum p, the "
        "subset re-selected in each null draw (39 draws)",
        "size",
        0.05,
        1000,
        *_within_three_se(0.05, 1000),
        "tests/models/test_calibrated_joint.py::test_size_with_reselection_by_calibration",
        "40 countries, four specifications (Poisson and log-rate OLS, population as offset "
        "or covariate), selected by the calibration rule; no effect of the focal covariate",
    ),
    SimulationCheck(
        "calibrated_joint_count_size",
        "Joint test over the calibrated cross-national specifications: count of "
        "significant specifications, the subset re-selected in each null draw (39 draws)",
        "size",
        0.05,
        1000,
        None,
        _plus_se(0.05, 1000, errors=3),
        "tests/models/test_calibrated_joint.py::test_size_with_reselection_by_calibration",
        "as above (a count ties often, so the test may be conservative: bounded above only)",
    ),
)

#: the records by key
BY_KEY: dict[str, SimulationCheck] = {check.key: check for check in CHECKS}


def check(key: str) -> SimulationCheck:
    """The record ``key`` (a KeyError names the known keys)."""
    try:
        return BY_KEY[key]
    except KeyError:
        raise KeyError(f"No simulation check {key!r}; known: {sorted(BY_KEY)}") from None


def glue_values() -> dict[str, float | int | str]:
    """What the chapters quote: per check, its data sets, band, bounds and MC SE."""
    values: dict[str, float | int | str] = {}
    for item in CHECKS:
        prefix = f"sim_{item.key}"
        values[f"{prefix}_data_sets"] = item.data_sets
        values[f"{prefix}_band"] = item.band_text()
        values[f"{prefix}_high"] = item.high
        if item.low is not None:
            values[f"{prefix}_low"] = item.low
        values[f"{prefix}_mc_se"] = round(item.monte_carlo_se, 4)
        if item.clusters:
            values[f"{prefix}_clusters"] = " and ".join(str(g) for g in item.clusters)
    return values


def table() -> pd.DataFrame:
    """One row per check, for the book's appendix (labels are applied by the page):
    procedure, simulated design, data sets, the rate the test requires (quantity and
    band), its MC SE, and the test (``path::function``, for the data file)."""
    return pd.DataFrame(
        {
            "procedure": [c.procedure for c in CHECKS],
            "design": [c.design for c in CHECKS],
            "data_sets": [c.data_sets for c in CHECKS],
            "required": [f"{c.quantity} {c.band_text()}" for c in CHECKS],
            "monte_carlo_se": [round(c.monte_carlo_se, 4) for c in CHECKS],
            "test": [c.test for c in CHECKS],
        }
    )
