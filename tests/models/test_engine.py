"""The batched count-model engine against statsmodels."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from statsmodels.discrete.truncated_model import TruncatedLFNegativeBinomialP

from kosovo_study.models import engine
from kosovo_study.models.engine import compiled, fit, newton, special


def _data(seed: int, n: int = 34, alpha: float = 0.6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 3))])
    offset = np.log(rng.uniform(5e3, 2e5, n))
    mu = np.exp(offset - 9 + X[:, 1:] @ np.array([0.3, 0.2, -0.1]))
    y = rng.negative_binomial(1 / alpha, 1 / (1 + alpha * mu)).astype(float)
    return y, X, offset


def _statsmodels_nb2(y: np.ndarray, X: np.ndarray, offset: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sm.NegativeBinomial(y, X, offset=offset)
        start = model.fit(disp=0, maxiter=1000)
        polished = model.fit(
            start_params=start.params, method="newton", tol=1e-14, maxiter=100, disp=0
        )
    return np.asarray(polished.params)


@pytest.mark.parametrize("seed", range(8))
def test_nb2_matches_statsmodels(seed: int) -> None:
    y, X, offset = _data(seed)
    expected = _statsmodels_nb2(y, X, offset)
    result = fit(y[None], X, offset, family="nb2")
    assert result.converged.all()
    np.testing.assert_allclose(result.beta[0], expected[:-1], atol=1e-6)
    np.testing.assert_allclose(result.alpha[0], expected[-1], atol=1e-6)


def test_a_batch_of_permutations_matches_statsmodels_one_by_one() -> None:
    y, X, offset = _data(11)
    rng = np.random.default_rng(0)
    batch = np.stack([rng.permutation(y) for _ in range(40)])
    result = fit(batch, X, offset, family="nb2")
    assert result.converged.all()
    for k in range(0, 40, 5):
        expected = _statsmodels_nb2(batch[k], X, offset)
        np.testing.assert_allclose(result.beta[k], expected[:-1], atol=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_poisson_and_robust_errors_match_statsmodels_glm(seed: int) -> None:
    y, X, offset = _data(seed)
    glm = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit(
        cov_type="HC0", tol=1e-14, maxiter=200
    )
    result = fit(y[None], X, offset, family="poisson")
    np.testing.assert_allclose(result.beta[0], glm.params, atol=1e-8)
    np.testing.assert_allclose(result.robust_se[0], glm.bse, rtol=1e-6)
    np.testing.assert_allclose(result.llf[0], glm.llf, rtol=1e-10)


def test_nb2_with_fixed_alpha_matches_glm_negative_binomial() -> None:
    y, X, offset = _data(5)
    glm = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=0.7), offset=offset).fit(
        tol=1e-14, maxiter=200
    )
    result = fit(y[None], X, offset, family="nb2", alpha=0.7)
    np.testing.assert_allclose(result.beta[0], glm.params, atol=1e-8)
    np.testing.assert_allclose(result.se[0], glm.bse, rtol=1e-6)


def test_unknown_family_is_refused() -> None:
    y, X, offset = _data(0)
    with pytest.raises(ValueError, match="unknown family"):
        fit(y[None], X, offset, family="gamma")


@pytest.mark.parametrize("seed", range(3))
def test_nb2_standard_errors_match_statsmodels(seed: int) -> None:
    y, X, offset = _data(seed)
    params = _statsmodels_nb2(y, X, offset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sm.NegativeBinomial(y, X, offset=offset)
        plain = model.fit(start_params=params, method="newton", maxiter=0, disp=0)
        robust = model.fit(start_params=params, method="newton", maxiter=0, disp=0, cov_type="HC0")
    result = fit(y[None], X, offset, family="nb2")
    np.testing.assert_allclose(result.se[0], np.asarray(plain.bse)[:-1], rtol=1e-6)
    np.testing.assert_allclose(result.robust_se[0], np.asarray(robust.bse)[:-1], rtol=1e-6)


def test_warm_start_reaches_the_same_optimum() -> None:
    y, X, offset = _data(4)
    cold = fit(y[None], X, offset, family="nb2")
    warm = fit(y[None], X, offset, family="nb2", start=(cold.beta[0] + 0.1, 1.5 * cold.alpha[0]))
    assert warm.converged.all()
    np.testing.assert_allclose(warm.beta, cold.beta, atol=1e-8)
    np.testing.assert_allclose(warm.alpha, cold.alpha, atol=1e-8)


@pytest.mark.parametrize("family", ["poisson", "nb2"])
def test_an_all_zero_member_is_flagged_and_leaves_the_others_alone(family: str) -> None:
    y, X, offset = _data(2)
    batch = np.stack([y, np.zeros_like(y), y[::-1]])
    result = fit(batch, X, offset, family=family)
    assert result.converged.tolist() == [True, False, True]
    assert np.isnan(result.beta[1]).all()
    assert np.isnan(result.se[1]).all()
    for k in (0, 2):
        alone = fit(batch[k][None], X, offset, family=family)
        np.testing.assert_allclose(result.beta[k], alone.beta[0], atol=1e-12)


@pytest.mark.parametrize("family", ["poisson", "nb2"])
def test_separation_is_flagged_not_hidden(family: str) -> None:
    # A dummy that is 1 only where the count is 0: its MLE is -inf.
    y, X, offset = _data(3)
    y[:3] = 0.0
    dummy = np.zeros(len(y))
    dummy[:3] = 1.0
    separated = np.column_stack([X, dummy])
    result = fit(
        np.stack([y, y]),
        np.stack([separated, np.column_stack([X, X[:, 1] ** 2])]),
        offset,
        family=family,
    )
    assert result.converged.tolist() == [False, True]
    assert result.beta[0, -1] < -10


def test_non_convergence_is_flagged() -> None:
    y, X, offset = _data(6)
    assert not fit(y[None], X, offset, family="nb2", max_iter=1).converged.any()
    assert not fit(y[None], X, offset, family="poisson", max_iter=1).converged.any()


def test_ols_matches_statsmodels() -> None:
    y, X, offset = _data(7)
    target = np.log((y + 0.5) / np.exp(offset))
    plain = sm.OLS(target, X).fit()
    robust = sm.OLS(target, X).fit(cov_type="HC0")
    result = engine.fit_ols(np.stack([target, target[::-1]]), X)
    np.testing.assert_allclose(result.beta[0], plain.params, atol=1e-10)
    np.testing.assert_allclose(result.se[0], plain.bse, rtol=1e-8)
    np.testing.assert_allclose(result.robust_se[0], robust.bse, rtol=1e-8)
    np.testing.assert_allclose(result.llf[0], plain.llf, rtol=1e-10)
    np.testing.assert_allclose(result.beta[1], sm.OLS(target[::-1], X).fit().params, atol=1e-10)


def _hurdle_data(seed: int, n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """Cross-national-like data: 4 covariates and log population as a covariate."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 3)), rng.normal(0.0, 1.5, n)])
    mu = np.exp(0.5 + X[:, 1:4] @ np.array([0.4, -0.3, 0.2]) + 0.9 * X[:, 4])
    y = rng.negative_binomial(1 / 1.2, 1 / (1 + 1.2 * mu)).astype(float)
    return y, X


def _fit_hurdle(
    y: np.ndarray, X: np.ndarray, weights: np.ndarray | None = None
) -> tuple[engine.BatchFit, engine.BatchFit]:
    """The logit-hurdle NB2 of the cross-national models: (zero part, count part)."""
    y = np.atleast_2d(y)
    return engine.fit_logit(y, X, weights=weights), engine.fit_truncated_nb2(y, X, weights=weights)


def _resample_weights(rows: np.ndarray, n: int) -> np.ndarray:
    """Bootstrap resamples (row indices, B x m) as frequency weights (B x n)."""
    return np.stack([np.bincount(r, minlength=n).astype(float) for r in rows])


def test_logit_and_truncated_nb2_match_statsmodels() -> None:
    y, X = _hurdle_data(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logit = sm.Logit((y > 0).astype(float), X).fit(disp=0, tol=1e-12)
        truncated = TruncatedLFNegativeBinomialP(y, X, p=2).fit(
            method="newton", disp=0, maxiter=200
        )
    zero = engine.fit_logit(y[None], X)
    np.testing.assert_allclose(zero.beta[0], logit.params, atol=1e-8)
    np.testing.assert_allclose(zero.se[0], logit.bse, rtol=1e-8)
    np.testing.assert_allclose(zero.llf[0], logit.llf, rtol=1e-12)
    count = engine.fit_truncated_nb2(y[None], X)
    np.testing.assert_allclose(count.beta[0], truncated.params[:-1], atol=1e-6)
    np.testing.assert_allclose(count.alpha[0], truncated.params[-1], atol=1e-6)
    np.testing.assert_allclose(count.llf[0], truncated.llf, rtol=1e-10)


def test_bootstrap_weights_equal_refitting_the_resampled_rows() -> None:
    y, X = _hurdle_data(1)
    rng = np.random.default_rng(9)
    rows = rng.integers(0, len(y), size=(4, len(y)))
    weights = _resample_weights(rows, len(y))
    assert weights.sum(1).tolist() == [len(y)] * 4
    zero, count = _fit_hurdle(np.broadcast_to(y, weights.shape), X, weights=weights)
    for b in range(4):
        z1, c1 = _fit_hurdle(y[rows[b]], X[rows[b]])
        np.testing.assert_allclose(zero.beta[b], z1.beta[0], atol=1e-8)
        np.testing.assert_allclose(count.beta[b], c1.beta[0], atol=1e-7)
        np.testing.assert_allclose(count.alpha[b], c1.alpha[0], atol=1e-7)
        np.testing.assert_allclose(zero.se[b], z1.se[0], rtol=1e-7)
    nb2 = fit(np.broadcast_to(y, weights.shape), X, np.zeros(len(y)), weights=weights)
    alone = fit(y[rows[0]][None], X[rows[0]], np.zeros(len(y)))
    np.testing.assert_allclose(nb2.beta[0], alone.beta[0], atol=1e-8)
    np.testing.assert_allclose(nb2.robust_se[0], alone.robust_se[0], rtol=1e-7)


def test_hurdle_parts_flag_data_sets_without_zeros_or_positives() -> None:
    y, X = _hurdle_data(2)
    batch = np.stack([y, y + 1.0, np.zeros_like(y)])
    zero, count = _fit_hurdle(batch, X)
    assert zero.converged.tolist() == [True, False, False]
    assert count.converged.tolist() == [True, True, False]
    assert np.isnan(zero.beta[1:]).all()
    assert np.isnan(count.beta[2]).all()


def test_large_counts_use_exact_asymptotic_differences() -> None:
    # Counts above 24 take O(1) asymptotic differences instead of the O(y) finite sums;
    # both are checked against the sums added exactly (math.fsum), across alpha from the
    # Poisson limit (r = 1/alpha = 1e10) to strong overdispersion (r = 1e-3).
    import math

    for y in (25, 40, 65, 333, 1200, 5000):
        for r in (1e-3, 0.3, 5.5, 15.9, 40.0, 1e3, 1e6, 1e10):
            for mu in (1e-3, 50.0, 1e5):
                log_term = special.log_gamma_difference(float(y), r, r + mu)
                first, second = special.psi_difference(float(y), r)
                exact_log = math.fsum(math.log(r + k) - math.log(r + mu) for k in range(y))
                exact_first = math.fsum(1 / (r + k) for k in range(y))
                exact_second = -math.fsum(1 / (r + k) ** 2 for k in range(y))
                assert log_term == pytest.approx(exact_log, rel=1e-11, abs=1e-11)
                assert first == pytest.approx(exact_first, rel=1e-13)
                assert second == pytest.approx(exact_second, rel=1e-12)


def test_nb2_with_large_counts_matches_statsmodels() -> None:
    # Cross-national counts run to thousands (the asymptotic path above); 40 units.
    rng = np.random.default_rng(12)
    n = 40
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    offset = np.log(rng.uniform(1e6, 8e7, n))
    mu = np.exp(offset - 12 + X[:, 1:] @ np.array([0.8, -0.3]))
    y = rng.negative_binomial(1 / 1.5, 1 / (1 + 1.5 * mu)).astype(float)
    assert y.max() > 24
    expected = _statsmodels_nb2(y, X, offset)
    result = fit(y[None], X, offset, family="nb2")
    assert result.converged[0]
    np.testing.assert_allclose(result.beta[0], expected[:-1], atol=1e-6, rtol=1e-6)
    assert result.alpha[0] == pytest.approx(expected[-1], rel=1e-6)


def test_warm_up_compiles_what_fit_needs() -> None:
    engine.warm_up()
    y, X, offset = _data(3)
    assert fit(y[None], X, offset, family="nb2").converged[0]


def test_an_edit_to_any_engine_file_recompiles_every_engine_function(tmp_path) -> None:
    # Numba inlines callees but keys each function's cache on its own file only; the
    # engine's locator stamps every engine function with all the engine's files.
    locator = newton.newton._cache._impl.locator
    assert isinstance(locator, (compiled._EngineLocator, compiled._EngineUserDirLocator))
    assert locator.get_source_stamp() == compiled._package_stamp(compiled._PACKAGE)
    import shutil

    copy = tmp_path / "engine"
    shutil.copytree(compiled._PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = compiled._package_stamp(copy)
    special_py = copy / "special.py"
    special_py.write_text(special_py.read_text("utf-8") + "\n# edited\n", "utf-8")
    assert compiled._package_stamp(copy) != before
