"""The multiverse: agreement with statsmodels, a known answer, backends, bad grids."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from kosovo_study.errors import KosovoStudyError
from kosovo_study.models import inference
from kosovo_study.models import multiverse as mv
from kosovo_study.models.crossnational import multiverse as crossnational_multiverse
from kosovo_study.models.design import municipal_design
from kosovo_study.models.outcome import national_total, synthetic_outcome

Tables = dict[str, pd.DataFrame]
SMALL_GRID: dict[str, tuple[object, ...]] = {
    "outcome": ("main",),
    "population": ("population_2011",),
    "unemployment": ("unemployment_concern_2012",),
    "charity": ("charity_evidence_pre2014", "charity_evidence_post2014"),
    "family": ("poisson", "nb2", "quasi_poisson", "ols_log_rate"),
    "controls": ("none", "muslim"),
    "exclude_influential": (False, True),
    "focal": ("unemployment", "charity"),
}


@pytest.fixture(scope="module")
def inputs(clean_tables: Tables) -> mv.Inputs:
    municipalities = clean_tables["municipalities"]
    design = municipal_design(municipalities)
    outcome = synthetic_outcome(design, national_total(clean_tables["kosovo_national"]))
    main = pd.Series(outcome.fighters, index=design.municipality_id)
    return mv.prepare_inputs(municipalities, main, "synthetic", 99, 11)


def test_default_grid_has_no_outcome_selected_specification() -> None:
    specs = mv.expand()
    # population x unemployment x charity x family x controls x exclusion x focal
    assert len(specs) == 2 * 2 * 5 * 4 * 5 * 2 * 2
    assert {s.outcome for s in specs} == {"main"}


def test_every_specification_has_at_least_20_units(inputs: mv.Inputs) -> None:
    for spec in mv.expand(dict(SMALL_GRID, exclude_influential=(False,)), {}):
        assert len(mv.spec_data(spec, inputs).y) >= 20
    small = inputs.municipalities.head(19)
    few = mv.Inputs(small, inputs.outcomes, inputs.outcome_source, inputs.orderings)
    with pytest.raises(KosovoStudyError, match=r"only \d+ units .* minimum of 20"):
        mv.run_specification(mv.expand(SMALL_GRID, {})[0], few)


def _statsmodels_coef(spec: mv.Specification, data: mv.SpecData) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if spec.family == "ols_log_rate":
            target = np.log((data.y + 0.5) / np.exp(data.offset))
            fit = sm.OLS(target, data.X).fit(cov_type="HC1")
        elif spec.family == "quasi_poisson":
            fit = sm.GLM(data.y, data.X, family=sm.families.Poisson(), offset=data.offset).fit(
                scale="X2", tol=1e-12
            )
        elif spec.family == "poisson":
            fit = sm.GLM(data.y, data.X, family=sm.families.Poisson(), offset=data.offset).fit(
                cov_type="HC0", tol=1e-12
            )
        else:
            model = sm.NegativeBinomial(data.y, data.X, offset=data.offset)
            poisson = sm.GLM(data.y, data.X, family=sm.families.Poisson(), offset=data.offset)
            start = np.append(poisson.fit().params, 0.5)
            rough = model.fit(start_params=start, method="bfgs", maxiter=2000, disp=0)
            fit = model.fit(
                start_params=rough.params, method="newton", tol=1e-14, disp=0, cov_type="HC0"
            )
    return float(fit.params[data.column]), float(fit.bse[data.column])


@pytest.mark.parametrize("family", ["poisson", "nb2", "quasi_poisson", "ols_log_rate"])
def test_estimates_match_statsmodels_on_a_sample_of_specifications(
    inputs: mv.Inputs, family: str
) -> None:
    specs = [
        s for s in mv.expand(SMALL_GRID, {}) if s.family == family and not s.exclude_influential
    ]
    for spec in specs:
        row, _ = mv.run_specification(spec, inputs)
        data = mv.spec_data(spec, inputs)
        coef, se = _statsmodels_coef(spec, data)
        assert row["coef"] == pytest.approx(coef, abs=1e-6)
        assert row["z"] == pytest.approx(coef / se, rel=1e-5)
        assert np.log(row["ratio_high"] / row["rate_ratio"]) / mv.Z95 == pytest.approx(se, rel=1e-5)


def test_tiny_multiverse_with_a_known_answer(inputs: mv.Inputs) -> None:
    # The outcome is exactly proportional to population times exp(0.5 x) for the
    # focal covariate: every Poisson specification recovers 0.5 and is significant.
    table = inputs.municipalities.dropna(subset=["population_2011", "unemployment_concern_2012"])
    z = table["unemployment_concern_2012"]
    z = (z - z.mean()) / z.std(ddof=1)
    expected = table["population_2011"] * 1e-3 * np.exp(0.5 * z)
    known = mv.Inputs(
        municipalities=inputs.municipalities,
        outcomes={"main": expected.round().astype(float)},
        outcome_source={"main": "synthetic"},
        orderings=inference.random_orderings(
            199, len(inputs.orderings[0]), np.random.default_rng(3)
        ),
    )
    grid = dict(
        SMALL_GRID,
        family=("poisson",),
        controls=("none",),
        charity=("charity_evidence_pre2014",),
        exclude_influential=(False,),
        focal=("unemployment",),
    )
    result, null = mv.run(mv.expand(grid, {}), known, n_jobs=1)
    assert result["coef"].iloc[0] == pytest.approx(0.5, abs=0.01)
    assert result["randomization_p"].iloc[0] == pytest.approx(1 / 200)
    joint = mv.joint_test(result, null)
    assert joint["significant_expected_direction"].iloc[0] == 1


def test_joblib_and_dask_backends_give_identical_results(inputs: mv.Inputs) -> None:
    from distributed import LocalCluster

    specs = mv.expand(SMALL_GRID, {})[:12]
    serial, serial_null = mv.run(specs, inputs, n_jobs=1, chunk_size=4)
    parallel, parallel_null = mv.run(specs, inputs, n_jobs=2, chunk_size=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster:
            distributed, distributed_null = mv.run(
                specs, inputs, scheduler=cluster.scheduler_address, chunk_size=4
            )
    pd.testing.assert_frame_equal(serial, parallel)
    pd.testing.assert_frame_equal(serial, distributed)
    np.testing.assert_array_equal(serial_null, parallel_null)
    np.testing.assert_array_equal(serial_null, distributed_null)


def test_unknown_variable_is_a_clear_error(inputs: mv.Inputs) -> None:
    grid = dict(SMALL_GRID, charity=("gulf_money_index",))
    spec = mv.expand(grid, {})[0]
    with pytest.raises(KosovoStudyError, match=r"Unknown variables \['gulf_money_index'\]"):
        mv.run_specification(spec, inputs)


def test_empty_grid_is_a_clear_error() -> None:
    with pytest.raises(KosovoStudyError, match=r"empty: no options for \['family'\]"):
        mv.expand(dict(SMALL_GRID, family=()), {})


def test_unknown_dimension_or_family_is_a_clear_error() -> None:
    with pytest.raises(KosovoStudyError, match="dimensions"):
        mv.expand({**SMALL_GRID, "weights": (1,)}, {})
    with pytest.raises(KosovoStudyError, match="Unknown model families"):
        mv.expand(dict(SMALL_GRID, family=("probit",)), {})


def test_confirmed_subset_is_refused(inputs: mv.Inputs) -> None:
    grid = dict(SMALL_GRID, outcome=("confirmed_subset",))
    spec = mv.expand(grid, {})[0]
    with pytest.raises(KosovoStudyError, match="Unknown outcome 'confirmed_subset'"):
        mv.run_specification(spec, inputs)


def test_crossnational_analogue_is_real_and_complete(clean_tables: Tables) -> None:
    quick = crossnational_multiverse.Calibration(folds=5, replicates=1, ame_draws=20)
    table, null = crossnational_multiverse.run(clean_tables["countries"], 19, 5, calibration=quick)
    # 4 single-part families x 2 population forms, and the hurdle (covariate form only)
    # with two rows (its parts), over 3 point rules x 2 measures x 4 control sets.
    assert len(table) == 3 * 2 * 4 * (4 * 2 + 2)
    assert not table["synthetic"].any()
    assert null.shape == (240, 19)
    table = table[table["family"] != "hurdle_nb2"]
    assert set(table["population"]) == {"population_2014 (offset)", "population_2014 (covariate)"}
    assert (table["n"] >= 20).all()
    # Quasi-Poisson shares Poisson's estimate, but not its interval or statistic
    # (Pearson-scaled model errors instead of sandwich errors).
    # With log population as a covariate (no offset), the sample is the same.
    by_handling = table.groupby("population")["n"].apply(sorted)
    assert by_handling.iloc[0] == by_handling.iloc[1]
    poisson = table[table["family"] == "poisson"].reset_index(drop=True)
    quasi = table[table["family"] == "quasi_poisson"].reset_index(drop=True)
    np.testing.assert_allclose(poisson["coef"], quasi["coef"])
    assert not np.allclose(poisson["ratio_high"], quasi["ratio_high"])
    assert table["randomization_p"].between(1 / 20, 1).all()


def test_few_arrangements_are_enumerated_exactly() -> None:
    # 20 units, a 0/1 focal covariate set for one unit and no controls: its residual has
    # C(20, 1) = 20 distinct arrangements, fewer than the 99 shared draws.
    rng = np.random.default_rng(4)
    x = np.zeros(20)
    x[3] = 1.0
    offset = np.log(rng.integers(5_000, 50_000, size=20).astype(float))
    y = rng.poisson(np.exp(offset) * 1e-3).astype(float)
    data = mv.SpecData(np.arange(20), y, np.column_stack([np.ones(20), x]), offset, 1)
    estimate, null = mv._estimate(
        "poisson", data, inference.random_orderings(99, 20, np.random.default_rng(1))
    )
    assert estimate["randomization_exact"]
    assert estimate["valid_permutations"] == 20
    assert null.shape == (99,)  # the shared draws, for the joint test
    # Exact p: a multiple of 1/20.
    assert estimate["randomization_p"] * 20 == pytest.approx(
        round(estimate["randomization_p"] * 20)
    )


def test_shared_designs_and_chunking_change_nothing(inputs: mv.Inputs) -> None:
    # Specifications that share a design build it once per chunk; the result must be
    # the one of building every design afresh, whatever the chunk size.
    specs = mv.expand(SMALL_GRID, {})[::3]
    fresh = [mv.run_specification(spec, inputs) for spec in specs]
    cache: dict[tuple[str, str, tuple[str, ...]], mv.SpecData] = {}
    shared = [mv.run_specification(spec, inputs, cache) for spec in specs]
    assert len(cache) == len({mv.design_key(spec) for spec in specs})
    for (row_a, null_a), (row_b, null_b) in zip(fresh, shared, strict=True):
        assert row_a == row_b
        np.testing.assert_array_equal(null_a, null_b)
    one, one_null = mv.run(specs, inputs, n_jobs=1, chunk_size=1)
    many, many_null = mv.run(specs, inputs, n_jobs=1, chunk_size=64)
    pd.testing.assert_frame_equal(one, many)
    np.testing.assert_array_equal(one_null, many_null)
    assert list(one["family"]) == [s.family for s in specs]  # grid order kept


def test_large_grid_is_twenty_labelled_synthetic_draws(scratch_project: object) -> None:
    from kosovo_study import stages
    from kosovo_study.cli import build_parser
    from kosovo_study.config import StudyConfig
    from kosovo_study.models import multiverse_stage

    standard, large = mv.expand(mv.grid("standard")), mv.expand(mv.grid("large"))
    assert len(large) == mv.LARGE_OUTCOME_DRAWS * len(standard)
    outcomes = sorted({s.outcome for s in large})
    assert outcomes[0] == "main"
    assert outcomes[-1] == "main_synthetic_draw_19"
    with pytest.raises(KosovoStudyError, match="Unknown multiverse grid"):
        mv.grid("huge")
    # The grid is part of the stage key, and the CLI option reaches the stage.
    config = StudyConfig()
    assert config.multiverse_parameters("large")["grid_name"] == "large"
    assert config.multiverse_parameters("large") != config.multiverse_parameters()
    args = build_parser().parse_args(["multiverse", "--grid", "large"])
    assert args.grid == "large"

    paths = scratch_project
    stages.run("clean", paths)  # type: ignore[arg-type]
    draws = multiverse_stage.multiverse_inputs(paths, 9, 1, "large")
    assert sorted(draws.outcomes) == outcomes
    assert set(draws.outcome_source.values()) == {"synthetic"}
    # Every draw has the national total and differs from the main outcome.
    totals = {name: counts.sum() for name, counts in draws.outcomes.items()}
    assert len(set(totals.values())) == 1
    assert not draws.outcomes["main_synthetic_draw_01"].equals(draws.outcomes["main"])
    # One specification per outcome version, 9 permutations: labelled, one joint test each.
    sample = [s for s in large if s.family == "poisson" and s.controls == "none"][::80]
    table, null = mv.run(sample, draws, n_jobs=1)
    assert table["synthetic"].all()
    assert len(set(table["outcome"])) == len(sample)
    assert null.shape == (len(sample), 9)


def test_streamed_null_equals_the_in_memory_one(inputs: mv.Inputs, tmp_path: Path) -> None:
    specs = mv.expand(SMALL_GRID, {})[::2]
    table, null = mv.run(specs, inputs, n_jobs=1, chunk_size=4)
    path = tmp_path / "null.parquet"
    streamed = mv.run_streamed(specs, inputs, path, n_jobs=2, chunk_size=4)
    pd.testing.assert_frame_equal(table, streamed)
    np.testing.assert_array_equal(mv.read_null(path), null)
    rows = [5, 0, 3]
    np.testing.assert_array_equal(mv.read_null(path, rows), null[rows])
    pd.testing.assert_frame_equal(mv.joint_test(table, null), mv.joint_test(streamed, path))
    assert not path.with_name(path.name + ".partial").exists()
    with pytest.raises(KosovoStudyError, match="not from this table's run"):
        mv.read_null(path, [len(specs) + 7])


def test_shared_fits_change_nothing(inputs: mv.Inputs) -> None:
    # Poisson and quasi-Poisson share one engine fit per design, focal term and
    # exclusion; the rows and permuted statistics must equal separate fits exactly.
    specs = [s for s in mv.expand(SMALL_GRID, {}) if s.family in {"poisson", "quasi_poisson"}]
    specs = specs[:: max(1, len(specs) // 12)]
    fits: dict[object, mv.Memo] = {}
    for spec in specs:
        alone_row, alone_null = mv.run_specification(spec, inputs)
        shared_row, shared_null = mv.run_specification(spec, inputs, None, fits)
        assert alone_row == shared_row
        np.testing.assert_array_equal(alone_null, shared_null)
    assert len(fits) < len(specs)  # some fits were shared


def test_warm_started_refits_never_stop_at_a_lower_likelihood(clean_tables: Tables) -> None:
    # The permuted NB2 refits are warm-started from the observed-data estimates.  On
    # this specification (the main synthetic outcome, 999 shared orderings of seed 2020)
    # a warm start once "converged" in 2 iterations at a log-likelihood 13 below the
    # optimum (draw 204): every converged warm fit must reach the cold fit's optimum.
    from kosovo_study.models import engine, inference

    municipalities = clean_tables["municipalities"]
    design = municipal_design(municipalities)
    outcome = synthetic_outcome(design, national_total(clean_tables["kosovo_national"]))
    main = pd.Series(outcome.fighters, index=design.municipality_id)
    inputs = mv.prepare_inputs(municipalities, main, "synthetic", 999, 2020)
    spec = mv.Specification(
        "main",
        "population_2011",
        "unemployment_concern_2012",
        "charity_organisations_pre2014",
        "nb2",
        "none",
        True,
        "unemployment",
    )
    data = mv.spec_data(spec, inputs)
    drop = mv._most_influential("nb2", data)
    data = mv._subset(data, np.arange(len(data.y)) != drop)
    order = np.argsort(inputs.orderings[:, data.ids], axis=1)
    designs = inference.permuted_designs(data.X, data.column, order)
    batch = np.repeat(data.y[None], len(order), axis=0)
    with np.errstate(all="ignore"):
        observed = engine.fit(data.y[None], data.X, data.offset, family="nb2")
        start = (observed.beta[0], observed.alpha[0])
        warm = engine.fit(batch, designs, data.offset, family="nb2", start=start)
        cold = engine.fit(batch, designs, data.offset, family="nb2")
    both = warm.converged & cold.converged
    assert both.sum() > 990
    np.testing.assert_allclose(warm.llf[both], cold.llf[both], rtol=1e-9)
    np.testing.assert_allclose(warm.beta[both], cold.beta[both], atol=1e-7)
