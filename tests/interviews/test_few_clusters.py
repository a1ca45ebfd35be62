"""Few-cluster inference for the interviewee logit (issue 20, item 5): CR2 with
Bell-McCaffrey degrees of freedom and the score wild cluster bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from kosovo_study import simulation_evidence
from kosovo_study.interviews import model


def test_cr2_matches_the_hand_computed_balanced_case() -> None:
    # Intercept only, G clusters of m (OLS: weights 1).  H_gg = J/N, so with P = J/m,
    # (I - H_gg)^-1/2 = I + ((1 - m/N)^-1/2 - 1) P and a_g' e_g = (1 - m/N)^-1/2 sum_g e / N:
    # CR2 = sum_g (sum_g e)^2 / (N^2 (1 - 1/G)) = G/(G-1) CR0; and the G x G matrix
    # G_gh = a_g' (I - H)_gh a_h is proportional to I - J/G (G - 1 equal eigenvalues and a
    # zero), so df = (G - 1)^2 / (G - 1) = G - 1.
    rng = np.random.default_rng(0)
    groups, size = 5, 3
    clusters = np.repeat(np.arange(groups), size)
    e = rng.normal(size=groups * size)
    e -= e.mean()
    variance, df = model.cr2(np.ones((groups * size, 1)), e, np.ones(groups * size), clusters, 0)
    cr0 = sum(e[clusters == g].sum() ** 2 for g in range(groups)) / (groups * size) ** 2
    assert variance == pytest.approx(cr0 * groups / (groups - 1), rel=1e-12)
    assert df == pytest.approx(groups - 1, rel=1e-12)


def test_cr2_reduces_to_hc2_with_one_respondent_per_cluster() -> None:
    # Singleton clusters: the adjustment is (1 - h_ii)^-1/2, i.e. HC2 (MacKinnon & White
    # 1985), computed here from its textbook formula.
    rng = np.random.default_rng(1)
    X = np.column_stack([np.ones(12), rng.normal(size=12)])
    e = rng.normal(size=12)
    bread = np.linalg.inv(X.T @ X)
    leverage = np.einsum("ij,jk,ik->i", X, bread, X)
    hc2 = (bread @ (X.T * (e**2 / (1 - leverage))) @ X @ bread)[1, 1]
    variance, _ = model.cr2(X, e, np.ones(12), np.arange(12), 1)
    assert variance == pytest.approx(hc2, rel=1e-10)


def test_the_score_bootstrap_detects_a_strong_effect() -> None:
    rng = np.random.default_rng(3)
    clusters = np.repeat(np.arange(16), 25)
    x = rng.normal(size=len(clusters))
    y = (rng.random(len(clusters)) < 1 / (1 + np.exp(-(2.0 * x)))).astype(float)
    X = np.column_stack([np.ones_like(x), x])
    assert model.score_bootstrap_p(y, X, clusters, 1, 999, rng) <= 0.01
    assert model.score_bootstrap_p(y, X, clusters, 1, 999, rng, "webb") <= 0.01


@pytest.mark.slow
def test_size_at_five_percent_with_few_clusters() -> None:
    # Data sets and bands: the wild_bootstrap_size, cr2_size and few_cluster_size records
    # of kosovo_study.simulation_evidence (1,000 null data sets at G = 8, 300 at 16 and 38).
    wild, cr2, wide = (
        simulation_evidence.check(key)
        for key in ("wild_bootstrap_size", "cr2_size", "few_cluster_size")
    )
    assert wild.data_sets == cr2.data_sets
    assert wild.clusters == cr2.clusters
    small = model.few_cluster_size(wild.clusters, simulations=wild.data_sets, seed=8)
    larger = model.few_cluster_size(wide.clusters, simulations=wide.data_sets, seed=16)
    print(small.to_string(), larger.to_string(), sep="\n")
    size = small.set_index("procedure")["size"]
    for procedure in ("score bootstrap (Rademacher)", "score bootstrap (Webb)"):
        assert wild.accepts(size[procedure]), wild.failure(size[procedure], procedure)
    assert cr2.accepts(size["CR2 (Bell-McCaffrey)"]), cr2.failure(size["CR2 (Bell-McCaffrey)"])
    assert size["CRV1"] > cr2.high  # CRV1 over-rejects at G = 8
    for row in larger[larger["procedure"] != "CRV1"].itertuples():
        assert wide.accepts(row.size), wide.failure(
            row.size, f"{row.procedure}, G = {row.clusters}"
        )
