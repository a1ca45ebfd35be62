"""Seeded coverage simulations of the cross-national intervals.

The stage's intervals are asymptotic: Wald intervals of the hurdle coefficients (robust
HC0 covariance), AME intervals from parameter draws (King, Tomz & Wittenberg 2000),
simulated prediction intervals of a count, and Rubin's rules over imputations.  Here
data are simulated from a known logit + zero-truncated NB2 hurdle with the sample's
size (163 countries), the intervals are computed with the stage's own functions, and
the share of intervals that contain the true value is compared with 0.95.

Tolerance: the Monte Carlo standard error of a coverage estimate over R data sets is
sqrt(0.95 * 0.05 / R) (0.0154 for R = 200, 0.0218 for R = 100); each coverage must lie
within 3 of them of 0.95 (a two-sided check that fails for an interval that is too
short as well as for one that is far too long).  The seeds are fixed, so the test is
deterministic; the figures it found are in the comments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kosovo_study import simulation_evidence
from kosovo_study.models import crossnational as cn
from kosovo_study.models.crossnational import countmodels as cm
from kosovo_study.models.crossnational.imputation import ImputationSettings, impute, rubin

# The true hurdle (GAMMA, BETA, ALPHA) and its sampler are the package's coverage check's.
from kosovo_study.models.crossnational.mi_coverage import ALPHA, BETA, GAMMA, draw_hurdle
from kosovo_study.models.results import Fit

N = 163  # countries in the main analysis
LEVEL = 0.95


def true_ame(X: np.ndarray, column: int) -> float:
    """The AME (persons per SD) at the true parameters, by the stage's finite difference."""
    truth = Fit("hurdle_nb2", np.concatenate([GAMMA, BETA, [ALPHA]]), np.zeros(3), 0.0, 3, len(X))
    h = cn.FINITE_DIFFERENCE_STEP
    up, down = X.copy(), X.copy()
    up[:, column] += h
    down[:, column] -= h
    return float(np.mean((cm.predict(truth, up) - cm.predict(truth, down)) / (2 * h)))


#: data sets and bands: records of kosovo_study.simulation_evidence (3 MC SE of 0.95)
INTERVALS = simulation_evidence.check("hurdle_interval_coverage")
RUBIN = simulation_evidence.check("rubin_coverage")


def within_tolerance(coverage: np.ndarray, check: simulation_evidence.SimulationCheck) -> bool:
    return all(check.accepts(float(value)) for value in np.atleast_1d(coverage))


def test_coefficient_ame_and_prediction_intervals_cover() -> None:
    """Complete data, R = 200 data sets, 200 parameter draws each (as the stage)."""
    rng = np.random.default_rng(20_260)
    replicates, draws = INTERVALS.data_sets, 200
    X = np.column_stack([np.ones(N), rng.normal(size=(N, 2))])
    x_new = np.column_stack([np.ones(1), rng.normal(size=(1, 2))])
    ame_truth = np.array([true_ame(X, 1), true_ame(X, 2)])
    z = stats.norm.ppf(0.5 + LEVEL / 2)
    covered_coef = np.zeros(6)
    covered_ame = np.zeros(2)
    covered_prediction = 0
    for _ in range(replicates):
        y = draw_hurdle(X, rng)
        fit = cm.fit_model("hurdle_nb2", y, X, np.zeros(N))
        assert fit.converged
        se = np.sqrt(np.diag(fit.covariance))[:6]
        covered_coef += np.abs(fit.params[:6] - np.concatenate([GAMMA, BETA])) <= z * se
        theta = cm.draw_params(fit, draws, rng)
        points, variances = cn.marginal_effects(fit, X, np.zeros(N), theta)["mean"]
        for j in range(2):
            pooled = rubin(points[j : j + 1], variances[j : j + 1])  # m = 1: normal interval
            covered_ame[j] += pooled.conf_low <= ame_truth[j] <= pooled.conf_high
        counts = cm.simulate_counts(fit, x_new, np.zeros(1), theta, rng)[:, 0]
        low, high = np.percentile(counts, [2.5, 97.5])
        covered_prediction += low <= draw_hurdle(x_new, rng)[0] <= high
    coverage_coef = covered_coef / replicates
    coverage_ame = covered_ame / replicates
    coverage_prediction = covered_prediction / replicates
    # Found: coefficients 0.955 0.935 0.955 (logit) | 0.945 0.96 0.905 (count); AMEs
    # 0.96, 0.93; prediction interval 0.955 (Monte Carlo SE 0.0154).
    print(
        f"coverage: coefficients {coverage_coef}, AMEs {coverage_ame}, "
        f"prediction {coverage_prediction} (MC SE {INTERVALS.monte_carlo_se:.4f})"
    )
    assert within_tolerance(coverage_coef, INTERVALS), coverage_coef
    assert within_tolerance(coverage_ame, INTERVALS), coverage_ame
    assert within_tolerance(np.array([coverage_prediction]), INTERVALS), coverage_prediction


@pytest.mark.slow
def test_rubin_intervals_over_imputations_cover() -> None:
    """A quarter of one covariate missing completely at random, imputed by the stage's
    chained equations (predictive mean matching); the hurdle fitted on every copy and
    pooled by Rubin's rules.  m = 5 copies (the stage uses 20) to keep the test short:
    fewer copies widen Rubin's t interval, so this checks the pooling, not m."""
    rng = np.random.default_rng(2_016)
    replicates, copies = RUBIN.data_sets, 5
    covered = np.zeros(2)
    for _ in range(replicates):
        x = rng.normal(size=(N, 2))
        x[:, 1] = 0.5 * x[:, 0] + np.sqrt(0.75) * x[:, 1]  # correlated: imputable
        X = np.column_stack([np.ones(N), x])
        y = draw_hurdle(X, rng)
        missing = rng.random(N) < 0.25
        table = pd.DataFrame(
            {"x1": x[:, 0], "x2": np.where(missing, np.nan, x[:, 1]), "log1p_y": np.log1p(y)}
        )
        settings = ImputationSettings(imputations=copies, seed=int(rng.integers(2**31)))
        estimates, variances = [], []
        for data in impute(table, settings):
            completed = np.column_stack([np.ones(N), data["x1"], data["x2"]])
            fit = cm.fit_model("hurdle_nb2", y, completed, np.zeros(N))
            estimates.append(fit.params[[1, 4]])  # x1 in the logit and in the count part
            variances.append(np.diag(fit.covariance)[[1, 4]])
        for j, truth in enumerate((GAMMA[1], BETA[1])):
            pooled = rubin(np.array(estimates)[:, j], np.array(variances)[:, j])
            covered[j] += pooled.conf_low <= truth <= pooled.conf_high
    coverage = covered / replicates
    # Found: 0.97 (logit) and 0.96 (count part) (Monte Carlo SE 0.0218).
    print(f"Rubin coverage: {coverage} (MC SE {RUBIN.monte_carlo_se:.4f})")
    assert within_tolerance(coverage, RUBIN), coverage
