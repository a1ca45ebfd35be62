"""The batched count-model engine against statsmodels."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as sm

from kosovo_study.models.engine import fit


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
    np.testing.assert_allclose(result.se[0], np.asarray(plain.bse)[:-1], rtol=1e-5)
    np.testing.assert_allclose(result.robust_se[0], np.asarray(robust.bse)[:-1], rtol=1e-5)
