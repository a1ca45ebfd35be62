"""Count-model diagnostics (kosovo_study.models.diagnostics): hand-computed values, the
tests' size under a correctly specified model and Moran's I's power, by seeded
simulation with the Monte Carlo error stated."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from libpysal.weights import lat2W
from scipy import stats
from shapely.geometry import box

from kosovo_study import simulation_evidence
from kosovo_study.models import diagnostics as dg
from kosovo_study.models.crossnational import countmodels as cm
from kosovo_study.models.results import Fit
from kosovo_study.paths import ProjectPaths

# --- hand-computed values -------------------------------------------------------------------


def test_scaled_residual_counts_ties_at_a_random_point() -> None:
    # simulated 1, 2, 3, 3, 5 against y = 3: two below, two tied
    simulated = np.array([[1.0], [2.0], [3.0], [3.0], [5.0]])
    v = np.random.default_rng(7).random(1)[0]
    u = dg.scaled_residuals(np.array([3.0]), simulated, np.random.default_rng(7))
    assert u[0] == pytest.approx((2 + 2 * v) / 5)
    # below every draw: 0; above every draw: 1 (outside the envelope)
    assert dg.scaled_residuals(np.array([0.0]), simulated, np.random.default_rng(1))[0] == 0
    assert dg.scaled_residuals(np.array([9.0]), simulated, np.random.default_rng(1))[0] == 1


def test_bootstrap_p_by_hand() -> None:
    # bootstrap p counts the observed value: (1 + #) / (1 + B), doubled
    assert dg._two_sided(np.arange(9.0), 8.0) == pytest.approx(2 * 2 / 10)


def _hurdle_fit() -> tuple[Fit, np.ndarray]:
    X = np.column_stack([np.ones(4), [-1.0, 0.0, 0.5, 1.5]])
    params = np.array([0.2, 0.8, 1.5, 0.6, 0.7])  # logit (2), count (2), alpha
    return Fit(
        family="hurdle_nb2",
        params=params,
        robust_se=np.ones(2),
        llf=0.0,
        k=2,
        n=4,
        uses_offset=False,
    ), X


def test_distribution_functions_match_scipy_and_the_models() -> None:
    mu = np.array([0.4, 3.0, 25.0, 140.0])
    k = np.array([0.0, 2.0, 30.0, 100.0])
    size = 1 / 0.7
    nb2 = dg.Predictive(mu, 0.7)
    np.testing.assert_allclose(nb2.cdf_at(k), stats.nbinom.cdf(k, size, size / (size + mu)))
    np.testing.assert_allclose(nb2.cdf_at(k - 200), 0.0)
    np.testing.assert_allclose(dg.Predictive(mu, 0.0).cdf_at(k), stats.poisson.cdf(k, mu))
    for i in range(len(mu)):  # the grid CDF (cumulated probabilities) agrees
        grid = np.arange(0.0, 301.0)
        np.testing.assert_allclose(
            nb2.cdf(grid, i), stats.nbinom.cdf(grid, size, size / (size + mu[i])), atol=1e-12
        )
    # the hurdle against the cross-national module's own CDF and log density
    fit, X = _hurdle_fit()
    hurdle = dg.crossnational_predictive(fit, X, np.zeros(4))
    for c in (0.0, 1.0, 4.0, 12.0):
        np.testing.assert_allclose(hurdle.cdf_at(np.full(4, c)), cm.cdf(fit, c, X, np.zeros(4)))
    y = np.array([0.0, 1.0, 3.0, 7.5])
    np.testing.assert_allclose(hurdle.logpmf(y), cm.log_density(fit, y, X, np.zeros(4)))
    # the mean and variance against simulation (200,000 draws; 5 MC SE)
    draws = hurdle.sample(200_000, np.random.default_rng(3))
    se = np.sqrt(hurdle.variance() / 200_000)
    assert np.all(np.abs(draws.mean(axis=0) - hurdle.mean()) < 5 * se)
    np.testing.assert_allclose(draws.var(axis=0), hurdle.variance(), rtol=0.05)


def test_crps_equals_its_kernel_form() -> None:
    """CRPS = E|X - y| - E|X - X'| / 2 (Gneiting & Raftery 2007, eq. 21), computed here
    from the probabilities on a long grid: an independent formula."""
    fit, X = _hurdle_fit()
    models = (
        dg.Predictive(np.array([2.0, 30.0]), 0.9),
        dg.Predictive(np.array([2.0, 30.0]), 0.0),
        dg.crossnational_predictive(fit, X[:2], np.zeros(2)),
    )
    for model in models:
        y = np.array([4.0, 12.5])
        scores = dg.crps(model, y)
        grid = np.arange(0.0, 1000.0)
        for i, observed in enumerate(y):
            pmf = np.diff(model.cdf(grid, i), prepend=0.0)
            first = np.sum(pmf * np.abs(grid - observed))
            second = np.sum(pmf[:, None] * pmf[None, :] * np.abs(grid[:, None] - grid[None, :]))
            assert scores[i] == pytest.approx(first - second / 2, rel=1e-7)


def _squares(ids: list[int]) -> gpd.GeoDataFrame:
    """A 3 x 3 grid of 10 km squares (ids 1-9, row by row), in the equal-area CRS."""
    cells = [
        box(x * 1e4, y * 1e4, (x + 1) * 1e4, (y + 1) * 1e4) for y in range(3) for x in range(3)
    ]
    frame = gpd.GeoDataFrame({"municipality_id": range(1, 10)}, geometry=cells, crs="EPSG:3035")
    return frame[frame["municipality_id"].isin(ids)]


def test_queen_contiguity_and_islands() -> None:
    graph = dg.contiguity_graph(_squares(list(range(1, 10))), np.arange(1, 10))
    w = graph.weights
    assert sorted(w.neighbors[5]) == [1, 2, 3, 4, 6, 7, 8, 9]  # a corner touch counts
    assert sorted(w.neighbors[1]) == [2, 4, 5]
    assert graph.islands_attached == 0
    assert graph.describe()["graph_joins"] == 20  # 12 edges + 8 corner touches
    # 1, 3 and 9 touch nothing once 2, 5 and 6 are left out: each gets its nearest unit
    graph = dg.contiguity_graph(_squares([1, 3, 9]), np.array([1, 3, 9]))
    assert graph.islands_attached == 3
    neighbours = graph.weights.neighbors
    assert neighbours[1] == [3]  # 3 is nearest to both 1 and 9
    assert neighbours[9] == [3]
    assert neighbours[3] == [1, 9]  # linked back, once each
    assert graph.weights.islands == []


def test_moran_equals_the_formula() -> None:
    w = lat2W(4, 4, rook=False)
    w.transform = "R"
    values = np.random.default_rng(2).random(16)
    z = values - values.mean()
    W = w.full()[0]
    expected = len(z) / W.sum() * (z @ W @ z) / (z @ z)
    result = dg.moran(values, dg.Graph(w, 0))
    assert result["moran_i"] == pytest.approx(expected)
    assert result["moran_expected"] == pytest.approx(-1 / 15)


def test_schema_refuses_an_impossible_p_value() -> None:
    with pytest.raises(Exception, match="uniformity_p"):
        dg.TESTS_SCHEMA.validate(
            pd.DataFrame([dict.fromkeys(dg.TESTS_SCHEMA.columns, 0.5)]).assign(uniformity_p=1.5),
            lazy=True,
        )


# --- size and power by simulation ------------------------------------------------------------

N_SIDE = 6  # a 6 x 6 lattice: 36 units, about the 34 municipalities
#: SD of the planted spatial error's innovations (log-rate scale)
SAR_SD = 1.0


def _municipal_like_design(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Covariates (constant, one SD-scaled covariate, one binary), a log-population
    offset over the municipalities' range, and coefficients giving about 8 per unit."""
    rng = np.random.default_rng(seed)
    n = N_SIDE**2
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.binomial(1, 0.4, n)])
    offset = np.log(rng.uniform(5e3, 2e5, n))
    beta = np.array([np.log(8) - offset.mean(), 0.3, 0.4])
    return X, offset, beta


def _graph() -> dg.Graph:
    w = lat2W(N_SIDE, N_SIDE, rook=False)
    w.transform = "R"
    return dg.Graph(w, 0)


def _rejection_rates(
    family: str, data_sets: int, refits: int, seed: int, sar: float = 0.0
) -> dict[str, np.ndarray]:
    """Rejections at 5% of every test over ``data_sets`` outcomes from the model (NB2
    alpha 0.8 or Poisson), each diagnosed as the stage does (1,000 simulations,
    ``refits`` refits).  ``sar`` > 0 plants spatial dependence: a simultaneous
    autoregressive error (I - sar W)^-1 e with e ~ N(0, 0.5^2) in the log rate."""
    X, offset, beta = _municipal_like_design(seed)
    rng = np.random.default_rng([seed, 1])
    graph = _graph()
    eta = np.tile(offset + X @ beta, (data_sets, 1))
    if sar > 0:
        W = graph.weights.full()[0]
        spread = np.linalg.inv(np.eye(len(W)) - sar * W)
        eta = eta + rng.normal(0, SAR_SD, eta.shape) @ spread.T
    truth = dg.Predictive(np.exp(eta), 0.8 if family == "nb2" else 0.0)
    Y = _draw(truth, rng)
    refit = dg.batch_refit(X, offset, family)
    fits, ok = refit(Y)
    tests = ("uniformity_p", "dispersion_p", "zero_p", "outlier_p", "moran_p")
    rejected: dict[str, list[bool]] = {name: [] for name in tests}
    for row, i in enumerate(np.flatnonzero(ok)):
        alpha = float(np.asarray(fits.alpha).ravel()[row]) if family == "nb2" else 0.0
        fitted = dg.Predictive(fits.mu[row], alpha)
        simulated = fitted.sample(1000, rng)
        residuals = dg.scaled_residuals(Y[i], simulated, rng)
        result: dict[str, float] = {}
        if refits:
            boot_y = fitted.sample(refits, rng)
            boot_fits, boot_ok = refit(boot_y)
            result.update(
                dg.dharma_tests(Y[i], fitted, simulated, residuals, boot_y[boot_ok], boot_fits, rng)
            )
        result.update(dg.moran(residuals, graph))
        for name in tests:
            if name in result:
                rejected[name].append(result[name] <= 0.05)
    return {name: np.array(values) for name, values in rejected.items() if values}


def _draw(truth: dg.Predictive, rng: np.random.Generator) -> np.ndarray:
    """One outcome vector per row of a (R, n) Predictive."""
    if truth.poisson:
        return rng.poisson(truth.mu).astype(float)
    r = 1 / truth._alpha()
    return rng.negative_binomial(r, r / (r + truth.mu)).astype(float)


@pytest.mark.slow
@pytest.mark.parametrize("family", ["nb2", "poisson"])
def test_every_test_has_size_five_percent_under_the_model(family: str) -> None:
    """Data sets from a correctly specified model on 36 units: each test rejects within
    the band of the ``residual_tests_size`` record of kosovo_study.simulation_evidence
    (1,000 data sets, MC SE 0.0069 at 0.05, [0.03, 0.07] about 3 SE).  An exploratory run (600 data sets, another seed, MC SE about
    0.009) gave uniformity, dispersion, zeros, outliers and Moran's I 0.057, 0.062, 0.047,
    0.045, 0.053 (NB2) and 0.055, 0.048, 0.038, 0.053, 0.053 (Poisson)."""
    check = simulation_evidence.check("residual_tests_size")
    rates = _rejection_rates(family, data_sets=check.data_sets, refits=250, seed=20)
    for name, rejected in rates.items():
        rate = rejected.mean()
        assert len(rejected) >= 0.99 * check.data_sets, name
        assert check.accepts(rate), check.failure(rate, f"{family}, {name}")


@pytest.mark.slow
def test_morans_i_detects_planted_spatial_dependence() -> None:
    """Power: a spatial autoregressive error (rho 0.9, innovations SD 1) in the log rate,
    which the NB2 model omits, makes Moran's I of the scaled residuals reject in most
    data sets (measured 0.715, MC SE 0.032; the bound 0.5 is 6 SE below); with rho = 0
    it rejects in about 5% of them.  200 data sets each: MC SE at most 0.035.  With NB2
    noise (alpha 0.8) on 36 units, weaker dependence (rho 0.8, SD 0.5) is detected in
    only about a fifth of the data sets (0.225): the test's power is moderate."""
    planted = _rejection_rates("nb2", data_sets=200, refits=0, seed=21, sar=0.9)["moran_p"]
    null = _rejection_rates("nb2", data_sets=200, refits=0, seed=21)["moran_p"]
    power, size = planted.mean(), null.mean()
    assert power >= 0.5, f"power {power:.3f}"
    assert size <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / len(null)), f"size {size:.3f}"


# --- the models stage's tables ----------------------------------------------------------------


@pytest.mark.slow
def test_diagnostics_on_restricted_counts_pass_the_disclosure_guard(
    scratch_project: ProjectPaths,
) -> None:
    """With restricted counts the diagnostics tables are written through storage (the
    guard reads the restricted file) and hold no row per municipality; the
    cross-national log score is the model choice's (same folds and seed)."""
    from kosovo_study import models, stages
    from kosovo_study.clean.boundaries import read_processed_polygons
    from kosovo_study.models import crossnational
    from kosovo_study.models.design import municipal_design
    from kosovo_study.models.outcome import load_outcome
    from kosovo_study.storage import write_table
    from tests.restricted import write_restricted

    stages.run("clean", scratch_project)
    write_restricted(scratch_project)
    municipalities = models.read_processed(scratch_project, "municipalities")
    design = municipal_design(municipalities)
    outcome = load_outcome(
        scratch_project, design, models.read_processed(scratch_project, "kosovo_national")
    )
    assert outcome.source == "restricted"
    countries = models.read_processed(scratch_project, "countries")
    chosen = pd.DataFrame({"estimator": ["nb2_offset"], "main_estimator": [True]})
    tables = dg.analyse(
        design,
        outcome,
        read_processed_polygons(scratch_project.processed),
        countries,
        chosen,
        simulations=1000,
        refits=100,
        seed=5,
        cv_folds=10,
        cv_seed=2015,
    )
    for name, table in tables.items():
        assert not {"municipality", "municipality_id"} & set(table.columns), name
        write_table(table, scratch_project.results, name)  # the guard passes
    tests = tables["diagnostics_tests"].set_index("model")
    assert not tests.loc["municipal_nb2", "synthetic"]
    assert tests.loc["municipal_nb2", "graph_units"] == design.n
    # the cross-national log score equals the model choice's on the same folds
    frame = crossnational.country_frame(countries, "mid")
    scale = crossnational.standardisation(frame)
    covariates = crossnational.SPECIFICATIONS["youth_unemployment"]
    y, X, offset = crossnational.design(
        frame.dropna(subset=list(covariates)), covariates, "nb2_offset", scale
    )
    scores, _ = crossnational.cross_validated_log_score("nb2_offset", y, X, offset, 10, 2015)
    assert tests.loc["crossnational_youth_unemployment_nb2_offset", "cv_log_score"] == (
        pytest.approx(float(np.nanmean(scores)), rel=1e-9)
    )
