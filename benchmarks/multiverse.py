"""Benchmark: the multiverse on the engine against a fair statsmodels loop, side by side.

Run from a clone after `kosovo-study clean` (and `fetch`):

    python benchmarks/multiverse.py [--sample-specs 16] [--sample-permutations 199]
    python benchmarks/multiverse.py --grid large   # adds the Dask scaling run

It prints
1. fits/s per family (Poisson, NB2, OLS on the log rate) against the floor and
   against statsmodels (``benchmarks/engine.py``'s table);
2. a sample of specifications x permutations run (a) through the multiverse code
   (``multiverse.run``, one process) and (b) by statsmodels one fit at a time, started
   from the estimates on the observed data (at least as good a start as the engine's
   own), with the speed-up and the largest coefficient difference;
3. the stage's work: every municipal specification and the cross-national analogue,
   x 999 permutations, with 2 jobs (threads), wall and CPU seconds side by side;
4. with ``--grid large``: the grid at 1x, 5x and 20x on a Dask LocalCluster with 2
   workers, printing specifications/s for each: the first 1, 5 or 20 outcome versions
   of the real ``--grid large`` (the main outcome and 19 labelled synthetic draws),
   whole designs sampled with ``--large-every``;
and the peak memory of the largest process.  Numbers, not assertions: machines are
shared and noisy; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm

from kosovo_study.models import engine, inference, multiverse_stage
from kosovo_study.models import multiverse as mv
from kosovo_study.paths import project_paths


def _engine_benchmark() -> object:
    path = Path(__file__).with_name("engine.py")
    spec = importlib.util.spec_from_file_location("engine_benchmark", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def statsmodels_fit(
    family: str, y: np.ndarray, X: np.ndarray, offset: np.ndarray, column: int, start: tuple
) -> float:
    """The focal coefficient by statsmodels, started from ``start`` (beta, alpha)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if family == "ols_log_rate":
            return float(sm.OLS(np.log((y + 0.5) / np.exp(offset)), X).fit().params[column])
        if family in {"poisson", "quasi_poisson"}:
            model = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset)
            return float(model.fit(start_params=start[0], tol=1e-10).params[column])
        nb = sm.NegativeBinomial(y, X, offset=offset)
        result = nb.fit(start_params=np.append(*start), method="newton", maxiter=100, disp=0)
        return float(result.params[column])


def sample_comparison(specs: int, permutations: int) -> None:
    paths = project_paths()
    rng = np.random.default_rng(0)
    main_specs = [s for s in mv.expand() if s.outcome == "main" and not s.exclude_influential]
    sample = [main_specs[i] for i in rng.choice(len(main_specs), specs, replace=False)]
    inputs = multiverse_stage.multiverse_inputs(paths, permutations, seed=1)
    mv.run(sample[:1], inputs, n_jobs=1)  # load the compiled code before timing

    started = time.perf_counter()
    naive = []
    for spec in sample:
        data = mv.spec_data(spec, inputs)
        order = np.argsort(inputs.orderings[:, data.ids], axis=1)  # as multiverse._estimate
        permuted = inference.permuted_designs(data.X, data.column, order)
        family = "nb2" if spec.family == "nb2" else "poisson"
        if spec.family == "ols_log_rate":
            start: tuple = (None, None)
        else:
            observed = engine.fit(data.y[None], data.X, data.offset, family=family)
            start = (observed.beta[0], observed.alpha[0])
        naive.append(
            [
                statsmodels_fit(spec.family, data.y, X, data.offset, data.column, start)
                for X in permuted
            ]
        )
    naive_seconds = time.perf_counter() - started

    started = time.perf_counter()
    mv.run(sample, inputs, n_jobs=1)
    engine_seconds = time.perf_counter() - started
    # The multiverse keeps permuted z statistics; compare coefficients on the same
    # permuted designs through the same batched code path (untimed).
    engine_coef = []
    for spec in sample:
        data = mv.spec_data(spec, inputs)
        order = np.argsort(inputs.orderings[:, data.ids], axis=1)
        designs = inference.permuted_designs(data.X, data.column, order)
        batch = np.repeat(data.y[None], len(order), axis=0)
        fit = inference.focal_statistics(spec.family, batch, designs, data.offset, data.column)
        engine_coef.append(np.where(fit.converged, fit.coef, np.nan))
    difference = float(np.nanmax(np.abs(np.array(naive) - np.array(engine_coef))))
    fits = specs * permutations
    families = pd.Series([s.family for s in sample]).value_counts().to_dict()
    print(f"\nsample: {specs} specifications {families} x {permutations} permutations")
    print(
        f"  statsmodels loop (warm-started): {naive_seconds:8.2f} s {fits / naive_seconds:10.0f} fits/s"
    )
    print(
        f"  multiverse.run (1 process):      {engine_seconds:8.2f} s "
        f"{fits / engine_seconds:10.0f} fits/s (includes each specification's own fit)"
    )
    print(
        f"  speed-up: {naive_seconds / engine_seconds:.0f}x; largest coefficient difference "
        f"{difference:.1e}"
    )


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def full_multiverse(permutations: int, jobs: int) -> None:
    """The stage's work: every municipal specification, then the cross-national
    analogue, each x ``permutations``, on ``jobs`` threads; wall and CPU seconds (all
    threads of this process), with the load average before and after."""
    from kosovo_study.models import read_processed

    specs = mv.expand()
    paths = project_paths()
    inputs = multiverse_stage.multiverse_inputs(paths, permutations, seed=2020)
    countries = read_processed(paths, "countries")
    engine.warm_up()  # the compiled code, loaded (or compiled) once
    print(f"\nfull multiverse, {jobs} jobs, {permutations} permutations (load {_load()}):")
    started, cpu = time.perf_counter(), time.process_time()
    table, _ = mv.run(specs, inputs, n_jobs=jobs)
    municipal = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    analogue, _ = mv.crossnational_multiverse(countries, permutations, 2020, n_jobs=jobs)
    crossnational = time.perf_counter() - started, time.process_time() - cpu
    for label, count, (wall, used) in (
        ("municipal", len(table), municipal),
        ("cross-national", len(analogue), crossnational),
        (
            "both",
            len(table) + len(analogue),
            (municipal[0] + crossnational[0], municipal[1] + crossnational[1]),
        ),
    ):
        print(
            f"  {label:15} {count:5d} specifications: {wall:6.1f} s wall, {used:6.1f} CPU-s, "
            f"{count / wall:6.1f} specifications/s, {count * permutations / wall:9,.0f} fits/s"
        )
    print(f"  target: both <= 20 s wall with 2 jobs; load at end {_load()}")


def _every_design(specs: list[mv.Specification], every: int) -> list[mv.Specification]:
    """Every ``every``-th design (all 16 specifications that share it kept together,
    as the multiverse chunks them), so sampling does not break the shared fits."""
    keys = list(dict.fromkeys(mv.design_key(spec) for spec in specs))
    kept = set(keys[::every])
    return [spec for spec in specs if mv.design_key(spec) in kept]


def large_grid(permutations: int, workers: int, every: int = 1, chunk_size: int = 32) -> None:
    """The real ``--grid large`` (main outcome + 19 synthetic draws) at 1x, 5x and 20x:
    the first 1, 5 or 20 outcome versions of it, on a Dask LocalCluster.

    Start-up (worker processes importing the package and loading the compiled code) is
    paid before timing; chunks of ``chunk_size`` specifications (whole designs) keep
    both workers busy to the end even at 1x (50 chunks for the 1,600 specifications).
    """
    from distributed import Client, LocalCluster

    inputs = multiverse_stage.multiverse_inputs(project_paths(), permutations, 2020, "large")
    names = mv.grid("large")["outcome"]
    print(
        f"\n--grid large: Dask LocalCluster, {workers} worker processes x 1 thread, "
        f"{permutations} permutations, every {every}th design, chunks of {chunk_size} "
        f"(load {_load()})"
    )
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True) as cluster,
        Client(cluster) as client,
    ):
        # Workers import the package and load the compiled code on their first task:
        # a one-off cost, paid before timing.
        client.run(engine.warm_up)
        warm = _every_design(mv.expand(), 50)
        mv.run(warm, inputs, scheduler=cluster.scheduler_address, chunk_size=16)

        def peak_mib() -> float:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        one: float | None = None
        for copies in (1, 5, 20):
            grid = {**mv.grid("large"), "outcome": tuple(names[:copies])}
            specs = _every_design(mv.expand(grid), every)
            started = time.perf_counter()
            table, _ = mv.run(
                specs, inputs, scheduler=cluster.scheduler_address, chunk_size=chunk_size
            )
            seconds = time.perf_counter() - started
            rate = len(table) / seconds
            one = one or rate
            peak = max(client.run(peak_mib).values())
            print(
                f"  {copies:2d}x: {len(table):6d} specifications in {seconds:7.1f} s = "
                f"{rate:6.1f} specifications/s ({rate / one:.2f} of the 1x rate; "
                f"load {_load()}; peak worker memory so far {peak:.0f} MiB)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample-specs", type=int, default=16)
    parser.add_argument("--sample-permutations", type=int, default=199)
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--grid", choices=("standard", "large"), default="standard")
    parser.add_argument("--large-permutations", type=int, default=99)
    parser.add_argument(
        "--large-every", type=int, default=1, help="keep every k-th design (quick runs)"
    )
    parser.add_argument("--large-chunk", type=int, default=32)
    parser.add_argument("--skip-families", action="store_true")
    parser.add_argument("--skip-sample", action="store_true")
    parser.add_argument("--skip-full", action="store_true")
    args = parser.parse_args()

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average (1, 5, 15 min) at start: {load} on {os.cpu_count()} cores")
    if not args.skip_families:
        _engine_benchmark().family_table(2, args.sample_permutations)  # type: ignore[attr-defined]
    if not args.skip_sample:
        sample_comparison(args.sample_specs, args.sample_permutations)
    if not args.skip_full:
        full_multiverse(args.permutations, args.jobs)
    if args.grid == "large":
        large_grid(args.large_permutations, args.jobs, args.large_every, args.large_chunk)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\npeak memory: {own:.0f} MiB (main process), {children:.0f} MiB (largest worker)")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average (1, 5, 15 min) at end: {load}")


if __name__ == "__main__":
    main()
