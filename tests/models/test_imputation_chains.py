"""The imputation's trace and convergence check
(:mod:`kosovo_study.models.crossnational.imputation_chains`), seeded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kosovo_study.models.crossnational import imputation_chains as ic
from kosovo_study.models.crossnational.imputation import (
    ImputationSettings,
    impute,
    impute_traced,
)

SETTINGS = ImputationSettings(imputations=5, burn_in=5, skip=1, k_pmm=5, seed=11)


def _mcar(seed: int, n: int = 150, share: float = 0.2) -> pd.DataFrame:
    """Three correlated normal columns, two of them missing completely at random."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = 0.6 * a + 0.8 * rng.normal(size=n)
    c = 0.5 * a - 0.4 * b + rng.normal(size=n)
    table = pd.DataFrame({"a": a, "b": b, "c": c}, index=[f"U{i:02d}" for i in range(n)])
    table.loc[rng.random(n) < share, "b"] = np.nan
    table.loc[rng.random(n) < share, "c"] = np.nan
    return table


def test_the_trace_reproduces_the_copies() -> None:
    table = _mcar(1)
    copies, trace = impute_traced(table, SETTINGS)
    assert trace["cycle"].max() == SETTINGS.burn_in + SETTINGS.imputations * (SETTINGS.skip + 1)
    kept = trace[trace["kept"]]
    assert sorted(kept["copy"].unique()) == list(range(SETTINGS.imputations))
    for row in kept.itertuples():
        cells = copies[row.copy].loc[table[row.variable].isna(), row.variable]
        assert row.mean == pytest.approx(cells.mean(), abs=1e-12)
        assert row.sd == pytest.approx(cells.std(ddof=1), abs=1e-12)
        assert row.imputed == len(cells)


def test_impute_is_the_traced_chain_and_hidden_cells_stay_observed() -> None:
    table = _mcar(2)
    hide = {"a": ["U00", "U01"]}
    plain = impute(table, SETTINGS, hide=hide)
    traced, trace = impute_traced(table, SETTINGS, hide=hide)
    assert all(x.equals(y) for x, y in zip(plain, traced, strict=True))
    assert all(
        (copy.loc[["U00", "U01"], "a"] == table.loc[["U00", "U01"], "a"]).all() for copy in plain
    )
    assert set(trace["variable"]) == {"b", "c"}  # hidden observed cells are not traced


def test_the_stage_chain_is_the_analysis_chain() -> None:
    """Chain 0 of the convergence check is the analysis's own run: the same copies as
    :func:`impute` with the same settings (the default run is unchanged)."""
    table = _mcar(3)
    copies, trace = ic.chains(table, SETTINGS, ic.ChainSettings(chains=3, cycles=20))
    assert all(x.equals(y) for x, y in zip(copies, impute(table, SETTINGS), strict=True))
    assert sorted(trace["chain"].unique()) == [0, 1, 2]
    assert trace.groupby("chain")["cycle"].max().tolist() == [15, 20, 20]
    assert not trace.loc[trace["chain"] > 0, "kept"].any()


def test_rhat_is_near_one_under_mcar() -> None:
    """Five chains on a simulated MCAR table: R-hat of the chain means within 0.1 of 1
    (Gelman et al.'s 1.1 rule) for every variable."""
    table = _mcar(4)
    settings = ImputationSettings(imputations=20, burn_in=10, skip=2, k_pmm=5, seed=5)
    _, trace = ic.chains(table, settings, ic.ChainSettings(chains=5, cycles=70))
    convergence = ic.convergence(trace, settings.burn_in)
    means = convergence[convergence["statistic"] == "mean"]
    assert len(means) == 2
    assert (means["rhat"] - 1).abs().max() < 0.1, means


def test_gelman_rubin_flags_chains_apart() -> None:
    rng = np.random.default_rng(6)
    mixed = rng.normal(size=(4, 200))
    apart = mixed + np.arange(4)[:, None]
    assert ic.gelman_rubin(mixed) == pytest.approx(1.0, abs=0.02)
    assert ic.gelman_rubin(apart) > 1.5
