"""Benchmark: the multiverse engine against a naive statsmodels loop, side by side.

Run from a clone after `kosovo-study clean` (and `fetch`):

    python benchmarks/multiverse.py [--sample-specs 16] [--sample-permutations 199]

It prints specifications and permutations per second for (1) a naive loop that refits
statsmodels for every specification x permutation of a sample, (2) the engine on the
same sample (and the largest coefficient difference between the two), and (3) the
engine on the full multiverse with 999 permutations; then the speed-up and the peak
memory (this process and its worker processes).  Numbers, not assertions: machines
are shared and noisy.
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm

from kosovo_study import models
from kosovo_study.models import multiverse as mv
from kosovo_study.paths import project_paths


def naive_fit(family: str, y: np.ndarray, X: np.ndarray, offset: np.ndarray, column: int) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if family == "ols_log_rate":
            return float(sm.OLS(np.log((y + 0.5) / np.exp(offset)), X).fit().params[column])
        poisson = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit()
        if family in {"poisson", "quasi_poisson"}:
            return float(poisson.params[column])
        model = sm.NegativeBinomial(y, X, offset=offset)
        start = np.append(poisson.params, 0.5)
        rough = model.fit(start_params=start, method="bfgs", maxiter=2000, disp=0)
        return float(model.fit(start_params=rough.params, method="newton", disp=0).params[column])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample-specs", type=int, default=16)
    parser.add_argument("--sample-permutations", type=int, default=199)
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    paths = project_paths()
    specs = mv.expand()
    rng = np.random.default_rng(0)
    main_specs = [s for s in specs if s.outcome == "main" and not s.exclude_influential]
    sample = [main_specs[i] for i in rng.choice(len(main_specs), args.sample_specs, replace=False)]
    inputs = models.multiverse_inputs(paths, args.sample_permutations, seed=1)

    started = time.perf_counter()
    naive = []
    for spec in sample:
        data = mv.spec_data(spec, inputs)
        permuted = mv._permuted(data, inputs.orderings)
        naive.append(
            [naive_fit(spec.family, data.y, X, data.offset, data.column) for X in permuted]
        )
    naive_seconds = time.perf_counter() - started

    started = time.perf_counter()
    _, engine_null = mv.run(sample, inputs, n_jobs=1)
    engine_seconds = time.perf_counter() - started
    difference = float(np.nanmax(np.abs(np.array(naive) - engine_null)))

    fits = args.sample_specs * args.sample_permutations
    print(f"sample: {args.sample_specs} specifications x {args.sample_permutations} permutations")
    print(f"  naive statsmodels loop: {naive_seconds:8.2f} s  {fits / naive_seconds:10.1f} fits/s")
    print(
        f"  engine (1 process):     {engine_seconds:8.2f} s  {fits / engine_seconds:10.1f} fits/s"
    )
    print(
        f"  speed-up: {naive_seconds / engine_seconds:.1f}x; largest coefficient difference {difference:.2e}"
    )

    full_inputs = models.multiverse_inputs(paths, args.permutations, seed=2020)
    started = time.perf_counter()
    table, _ = mv.run(specs, full_inputs, n_jobs=args.jobs)
    full_seconds = time.perf_counter() - started
    total_fits = len(table) * args.permutations
    print(
        f"full multiverse: {len(table)} specifications x {args.permutations} permutations in "
        f"{full_seconds:.1f} s ({len(table) / full_seconds:.1f} specifications/s, "
        f"{total_fits / full_seconds:,.0f} permutations/s, {args.jobs} jobs)"
    )
    # Let the joblib workers exit so their peak memory is counted as children's.
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: {own:.0f} MiB (main process), {children:.0f} MiB (largest worker)")
    pd.set_option("display.width", 120)


if __name__ == "__main__":
    main()
