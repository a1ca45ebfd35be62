"""Multiverse (specification-curve) analysis with randomization inference.

Every defensible choice of the municipal analysis is a dimension of :data:`GRID`; a
specification is one combination.  For each, the focal rate ratio (unemployment or
charity), its 95% interval and a randomization p-value are computed, and the joint
test of Simonsohn, Simmons & Nelson (2020, "Specification curve analysis", Nature
Human Behaviour 4: 1208-1214) asks whether more specifications are significant in
the expected direction (rate ratio > 1) than under the null.

Every specification is fitted on at least :data:`~kosovo_study.models.design.MIN_UNITS`
units of the analysed population.  There is no specification on the five
municipalities with published confirmed counts: they were chosen because of their
outcome (hot spots and "resilient" contrasts), so a regression on them estimates
nothing; they stay a descriptive table (``municipal_confirmed_vs_fitted``).

Randomization inference uses the construction of :mod:`kosovo_study.models.inference`
(the focal covariate's residual on the specification's other covariates is permuted;
the offset is never residualised on; the statistic is the robust z) and shares one
set of random orderings of the 39 municipality ids (:func:`shared_orderings`) across
all specifications: a specification on units S permutes its residual by the order
the shared ordering induces on S.  Each induced permutation is uniform on S, and the
same draw r is one "null world" for every specification, which is what the joint
test needs.  When a specification's residual has no more distinct arrangements than
draws, its p-value is computed exactly by enumeration (its null draws for the joint
test still come from the shared orderings).

Families: ``poisson``, ``nb2`` (alpha estimated for every permuted data set),
``quasi_poisson`` (Poisson estimates, Pearson-scaled intervals and statistic) and
``ols_log_rate`` (OLS of log((y + 0.5) / population), HC1 intervals).

Work is split into chunks of specifications run on joblib threads (the compiled
engine releases the GIL, so no worker process has to import the package, load the
compiled code or unpickle the inputs); with a Dask scheduler address the same chunks
run on the cluster's processes through joblib's Dask backend.  Results do not depend
on the backend or the chunking: every random number is drawn before the split, and
specifications that share a design (:func:`design_key`) are put in one chunk so that
it is built once and Poisson and quasi-Poisson share one engine fit (same estimates,
different standard errors).  Permuted refits are warm-started from the observed-data
estimates; a member that does not converge from there is refitted from the engine's
default start.  :func:`run_streamed` writes each chunk's permuted statistics
to Parquet as it arrives, and :func:`joint_test` reads them back one outcome and focal
term at a time, so memory stays flat however large the grid (``GRIDS["large"]``).
"""

from __future__ import annotations

import contextlib
import itertools
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from kosovo_study.errors import KosovoStudyError
from kosovo_study.models import engine, inference
from kosovo_study.models.design import build_design, require_units

Z95 = stats.norm.ppf(0.975)

#: The municipal multiverse, each choice documented here and nowhere else.
GRID: dict[str, tuple[Any, ...]] = {
    # restricted counts replace the synthetic ones when present.  No option for the
    # confirmed subset: five units selected on the outcome are not a regression sample.
    "outcome": ("main",),
    "population": ("population_2011", "population_2024"),
    "unemployment": ("unemployment_concern_2012", "unemployment_concern_2015"),
    "charity": (
        "charity_evidence_pre2014",
        "charity_organisations_pre2014",
        "mosques_per_10k_2021",
        "charity_evidence_post2014",  # placebo: after the recruitment wave
        "charity_organisations_post2014",  # placebo
    ),
    "family": ("poisson", "nb2", "quasi_poisson", "ols_log_rate"),
    "controls": ("none", "muslim", "youth", "muslim+youth", "muslim+youth+density"),
    "exclude_influential": (False, True),
    "focal": ("unemployment", "charity"),
}
#: ``--grid large`` (20x): the standard grid on the main outcome and on 19 further draws
#: of the documented synthetic generator (:func:`kosovo_study.models.outcome.synthetic_outcome`
#: with seeds ``SYNTHETIC_SEED + k``, k = 1..19).  Each draw is one more synthetic
#: world on the real covariates: across draws the grid shows how much of the
#: specification curve is the luck of one synthetic draw.  Every row is labelled
#: synthetic and has its own joint test; none is a finding.  The restricted counts
#: have no such draws, so the large grid is refused when they are present.
LARGE_OUTCOME_DRAWS = 20
GRIDS: dict[str, dict[str, tuple[Any, ...]]] = {
    "standard": GRID,
    "large": {
        **GRID,
        "outcome": (
            "main",
            *(f"main_synthetic_draw_{k:02d}" for k in range(1, LARGE_OUTCOME_DRAWS)),
        ),
    },
}


def grid(name: str = "standard") -> dict[str, tuple[Any, ...]]:
    """The named grid (``standard`` or ``large``)."""
    if name not in GRIDS:
        raise KosovoStudyError(f"Unknown multiverse grid {name!r}; use one of {sorted(GRIDS)}.")
    return GRIDS[name]


#: Restrictions: (dimension, value) -> allowed values of other dimensions.  None in the
#: default grid; the mechanism stays for grids that need one.
RESTRICTIONS: dict[tuple[str, Any], dict[str, tuple[Any, ...]]] = {}
CONTROL_SETS: dict[str, tuple[str, ...]] = {
    "none": (),
    "muslim": ("muslim_share_2011",),
    "youth": ("youth_share_2011",),
    "muslim+youth": ("muslim_share_2011", "youth_share_2011"),
    "muslim+youth+density": ("muslim_share_2011", "youth_share_2011", "log_density"),
}
PLACEBO = frozenset({"charity_evidence_post2014", "charity_organisations_post2014"})
BINARY = frozenset({"charity_evidence_pre2014", "charity_evidence_post2014"})
FAMILIES = frozenset({"poisson", "nb2", "quasi_poisson", "ols_log_rate"})


@dataclass(frozen=True)
class Specification:
    outcome: str
    population: str
    unemployment: str
    charity: str
    family: str
    controls: str
    exclude_influential: bool
    focal: str

    @property
    def focal_variable(self) -> str:
        return self.unemployment if self.focal == "unemployment" else self.charity

    @property
    def covariates(self) -> tuple[str, ...]:
        return (self.unemployment, self.charity, *CONTROL_SETS[self.controls])

    @property
    def placebo(self) -> bool:
        return self.focal == "charity" and self.charity in PLACEBO


def expand(
    grid: dict[str, tuple[Any, ...]] = GRID,
    restrictions: dict[tuple[str, Any], dict[str, tuple[Any, ...]]] = RESTRICTIONS,
) -> list[Specification]:
    """Every specification of the grid, restrictions applied, in a fixed order."""
    fields = list(Specification.__dataclass_fields__)
    unknown = sorted(set(grid) ^ set(fields))
    if unknown:
        raise KosovoStudyError(
            f"The multiverse grid must have exactly the dimensions {fields}; "
            f"these differ: {unknown}."
        )
    empty = [name for name, options in grid.items() if len(options) == 0]
    if empty:
        raise KosovoStudyError(f"The multiverse grid is empty: no options for {empty}.")
    bad_family = sorted(set(grid["family"]) - FAMILIES)
    if bad_family:
        raise KosovoStudyError(f"Unknown model families {bad_family}; use {sorted(FAMILIES)}.")
    bad_controls = sorted(set(grid["controls"]) - set(CONTROL_SETS))
    if bad_controls:
        raise KosovoStudyError(f"Unknown control sets {bad_controls}; use {sorted(CONTROL_SETS)}.")
    specifications = []
    for values in itertools.product(*(grid[name] for name in fields)):
        spec = Specification(*values)
        allowed = True
        for (name, value), limits in restrictions.items():
            if getattr(spec, name) == value:
                allowed &= all(getattr(spec, k) in v for k, v in limits.items())
        if allowed:
            specifications.append(spec)
    return specifications


@dataclass(frozen=True)
class Inputs:
    """Everything a worker needs; small enough to ship to every process or cluster node."""

    municipalities: pd.DataFrame  # indexed by municipality_id
    outcomes: dict[str, pd.Series]  # outcome name -> counts by municipality_id
    outcome_source: dict[str, str]  # outcome name -> "synthetic" | "restricted"
    orderings: np.ndarray  # (R, 39): random ranks of municipality ids 0..38


def shared_orderings(permutations: int, seed: int) -> np.ndarray:
    """Random ranks of the municipality ids, one row per randomization draw."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(39) for _ in range(permutations)])


def prepare_inputs(
    municipalities: pd.DataFrame,
    main_outcome: pd.Series,
    main_source: str,
    permutations: int,
    seed: int,
    extra_outcomes: dict[str, tuple[pd.Series, str]] | None = None,
) -> Inputs:
    """The workers' inputs; ``extra_outcomes`` (name -> (counts, source)) adds outcome
    versions such as the large grid's synthetic draws."""
    table = municipalities.set_index("municipality_id").copy()
    outcomes = {"main": main_outcome.astype(float)}
    sources = {"main": main_source}
    for name, (counts, source) in (extra_outcomes or {}).items():
        outcomes[name] = counts.astype(float)
        sources[name] = source
    return Inputs(
        municipalities=table,
        outcomes=outcomes,
        outcome_source=sources,
        orderings=shared_orderings(permutations, seed),
    )


@dataclass(frozen=True)
class SpecData:
    ids: np.ndarray
    y: np.ndarray
    X: np.ndarray
    offset: np.ndarray
    column: int


def design_key(spec: Specification) -> tuple[str, str, tuple[str, ...]]:
    """What a specification's design depends on: outcome, population and covariates.

    Family, exclusion and focal term do not change the design (the focal term only picks
    its column), so the 16 specifications that share a key share one design.
    """
    return (spec.outcome, spec.population, spec.covariates)


def spec_data(
    spec: Specification,
    inputs: Inputs,
    cache: dict[tuple[str, str, tuple[str, ...]], SpecData] | None = None,
) -> SpecData:
    """Outcome, standardised design and offset for one specification (before exclusion),
    built by the package's one design builder.

    ``cache`` (design key -> data) lets the specifications that share a design build
    it once: the pandas design builder is most of a specification's time otherwise.
    The cached arrays are never written to, so sharing them changes no result.
    """
    column = 1 if spec.focal == "unemployment" else 2
    if cache is not None:
        key = design_key(spec)
        if key not in cache:
            cache[key] = spec_data(spec, inputs)
        shared = cache[key]
        return SpecData(shared.ids, shared.y, shared.X, shared.offset, column)
    if spec.outcome not in inputs.outcomes:
        raise KosovoStudyError(
            f"Unknown outcome {spec.outcome!r} in specification {spec}; "
            f"use one of {sorted(inputs.outcomes)}."
        )
    table = inputs.municipalities.copy()
    if spec.population in table.columns and "area_km2" in table.columns:
        table["log_density"] = np.log(table[spec.population] / table["area_km2"])
    table["fighters"] = inputs.outcomes[spec.outcome]
    table = table.rename_axis("municipality_id").reset_index()
    design = build_design(
        table,
        spec.covariates,
        spec.population,
        required=("fighters",),
        binary=BINARY,
        context=f"Specification {spec}",
    )
    y = table.set_index("municipality_id").loc[design.ids, "fighters"].to_numpy(dtype=float)
    return SpecData(
        ids=design.ids,
        y=y,
        X=design.X,
        offset=design.offset,
        column=column,
    )


def _subset(data: SpecData, keep: np.ndarray) -> SpecData:
    return SpecData(data.ids[keep], data.y[keep], data.X[keep], data.offset[keep], data.column)


def _base_family(family: str) -> str:
    """The engine fit behind a family: quasi-Poisson shares Poisson's estimates."""
    return {"quasi_poisson": "poisson", "ols_log_rate": "ols"}.get(family, family)


def _engine_fit(
    base: str,
    y: np.ndarray,
    X: np.ndarray,
    offset: np.ndarray,
    start: tuple[np.ndarray, np.ndarray] | None = None,
) -> engine.BatchFit:
    """One engine call for a batch: OLS of the log rate, or Poisson / NB2 ML.

    With ``start`` (the estimates on the observed data) the permuted refits are
    warm-started; members that do not converge from it are refitted from the engine's
    default start, so a warm start never loses a draw the default start would keep.
    """
    if base == "ols":
        return engine.fit_ols(np.log((y + 0.5) / np.exp(offset)), X)
    result = engine.fit(y, X, offset, family=base, start=start)
    failed = np.flatnonzero(~result.converged)
    if start is not None and len(failed):
        cold = engine.fit(
            y[failed], X[failed] if X.ndim == 3 else X, offset, family=base, start=None
        )
        for name in ("beta", "alpha", "se", "robust_se", "llf", "converged", "iterations"):
            getattr(result, name)[failed] = getattr(cold, name)
    return result


def _focal(
    family: str, fit: engine.BatchFit, y: np.ndarray, X: np.ndarray, offset: np.ndarray, column: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Focal coefficient, standard error and convergence of an engine fit, as
    :func:`kosovo_study.models.inference.focal_statistics` defines them: HC0 robust for
    Poisson and NB2, Pearson-scaled model errors for quasi-Poisson, HC1 for OLS."""
    coef = fit.beta[:, column]
    if family == "ols_log_rate":
        n, p = X.shape[-2], X.shape[-1]
        return coef, fit.robust_se[:, column] * np.sqrt(n / (n - p)), fit.converged
    if family == "quasi_poisson":
        design = np.broadcast_to(X, (len(y), *np.shape(X)[-2:]))
        n, p = design.shape[1], design.shape[2]
        mu = np.exp(np.einsum("bnp,bp->bn", design, fit.beta) + offset)
        dispersion = np.sum((y - mu) ** 2 / mu, axis=1) / (n - p)
        return coef, fit.se[:, column] * np.sqrt(dispersion), fit.converged
    return coef, fit.robust_se[:, column], fit.converged


#: Fits shared by the specifications of one design, focal term and exclusion whose
#: families share an engine fit (Poisson and quasi-Poisson): key -> stored results.
Memo = dict[Any, Any]


def _most_influential(family: str, data: SpecData) -> int:
    """Index of the unit whose removal moves the focal coefficient most."""
    keep = ~np.eye(len(data.y), dtype=bool)
    y = np.stack([data.y[row] for row in keep])
    X = np.stack([data.X[row] for row in keep])
    offset = np.stack([data.offset[row] for row in keep])
    full = inference.focal_statistics(family, data.y[None], data.X, data.offset, data.column)
    dropped = inference.focal_statistics(family, y, X, offset, data.column).coef
    return int(np.nanargmax(np.abs(dropped - full.coef[0])))


def _randomization_test(
    family: str, data: SpecData, orders: np.ndarray, exact: bool, memo: Memo | None
) -> inference.RandomizationTest:
    """:func:`kosovo_study.models.inference.randomization_test` on the engine, with the
    permuted refits warm-started from the observed-data estimates and (``memo``)
    shared between families that share an engine fit."""
    base = _base_family(family)
    key = (base, exact)
    if memo is not None and key in memo:
        observed, permuted, designs, batch = memo[key]
    else:
        observed = _engine_fit(base, data.y[None], data.X, data.offset)
        designs = inference.permuted_designs(data.X, data.column, orders)
        batch = np.repeat(data.y[None], len(orders), axis=0)
        start = None if base == "ols" else (observed.beta[0], observed.alpha[0])
        permuted = _engine_fit(base, batch, designs, data.offset, start)
        if memo is not None:
            memo[key] = (observed, permuted, designs, batch)
    coef, se, _ = _focal(family, observed, data.y[None], data.X, data.offset, data.column)
    null_coef, null_se, ok = _focal(family, permuted, batch, designs, data.offset, data.column)
    null = np.where(ok, null_coef / null_se, np.nan)
    z = float(coef[0] / se[0])
    p_value, draws = inference.exact_p(null, z) if exact else inference.randomization_p(null, z)
    return inference.RandomizationTest(
        observed_coef=float(coef[0]),
        observed_se=float(se[0]),
        observed_z=z,
        p_value=p_value,
        draws=draws,
        exact=exact,
        monte_carlo_se=inference.monte_carlo_se(p_value, draws, exact),
        not_converged=int((~ok).sum()),
        null_z=null,
    )


def _estimate(
    family: str, data: SpecData, orderings: np.ndarray, memo: Memo | None = None
) -> tuple[dict[str, Any], np.ndarray]:
    """Focal estimate, 95% interval and randomization p; and the permuted statistics
    under the shared orderings (for the joint test).  ``memo`` (one per data set and
    focal column) shares the engine fits of Poisson and quasi-Poisson."""
    require_units(len(data.y), "Multiverse specification")
    order = np.argsort(orderings[:, data.ids], axis=1)  # induced permutation of these units
    shared = _randomization_test(family, data, order, False, memo)
    test = shared
    _, residuals = inference.residual_split(data.X, data.column)
    if inference.distinct_arrangements(residuals) <= len(orderings):
        every = inference.enumerate_arrangements(residuals)
        test = _randomization_test(family, data, every, True, memo)
    coef, se = test.observed_coef, test.observed_se
    estimate = {
        "coef": coef,
        "z": test.observed_z,
        "rate_ratio": float(np.exp(coef)),
        "ratio_low": float(np.exp(coef - Z95 * se)),
        "ratio_high": float(np.exp(coef + Z95 * se)),
        "randomization_p": test.p_value,
        "randomization_exact": test.exact,
        "valid_permutations": test.draws,
    }
    return estimate, shared.null_z


def run_specification(
    spec: Specification,
    inputs: Inputs,
    cache: dict[tuple[str, str, tuple[str, ...]], SpecData] | None = None,
    fits: dict[Any, Memo] | None = None,
) -> tuple[dict[str, Any], np.ndarray]:
    """One specification: estimate, interval, randomization p and the permuted estimates.

    ``cache`` shares designs (see :func:`spec_data`); ``fits`` shares the engine fits
    of specifications that differ only in Poisson versus quasi-Poisson (same
    estimates, different standard errors), so each such pair is fitted once.
    """
    data = spec_data(spec, inputs, cache)
    base = _base_family(spec.family)
    memo = None
    if fits is not None:
        memo = fits.setdefault((design_key(spec), spec.focal, spec.exclude_influential, base), {})
    excluded = ""
    if spec.exclude_influential:
        if memo is not None and "drop" in memo:
            drop = memo["drop"]
        else:
            drop = _most_influential(spec.family, data)
            if memo is not None:
                memo["drop"] = drop
        excluded = str(int(data.ids[drop]))
        data = _subset(data, np.arange(len(data.y)) != drop)
    estimate, null = _estimate(spec.family, data, inputs.orderings, memo)
    row = {
        **spec.__dict__,
        "focal_variable": spec.focal_variable,
        "placebo": spec.placebo,
        "outcome_source": inputs.outcome_source[spec.outcome],
        "synthetic": inputs.outcome_source[spec.outcome] == "synthetic",
        "n": len(data.y),
        "excluded_municipality_id": excluded,
        **estimate,
    }
    return row, null


def run_chunk(
    specifications: list[Specification], inputs: Inputs, quiet: bool = True
) -> list[tuple[dict[str, Any], np.ndarray]]:
    """Every specification of a chunk, sharing designs and engine fits within it.

    A rare degenerate permuted data set (e.g. NB2 whose alpha runs to the Poisson
    boundary) can give overflow warnings and a non-finite statistic; such draws are
    dropped and counted in ``valid_permutations``, so the warnings add nothing.
    ``np.errstate`` is per thread; the warnings filters are global to the process, so
    threads run with ``quiet=False`` and the caller silences RuntimeWarnings once
    around the thread pool (``warnings.catch_warnings`` is not thread-safe).
    """
    with (
        warnings.catch_warnings() if quiet else contextlib.nullcontext(),
        np.errstate(all="ignore"),
    ):
        if quiet:
            warnings.simplefilter("ignore", RuntimeWarning)
        cache: dict[tuple[str, str, tuple[str, ...]], SpecData] = {}
        fits: dict[Any, Memo] = {}
        return [run_specification(spec, inputs, cache, fits) for spec in specifications]


def _chunks(items: list[Specification], size: int) -> Iterable[list[int]]:
    """Positions of ``items`` in chunks of about ``size``, specifications that share a
    design kept together (so each chunk builds each of its designs once)."""
    groups: dict[tuple[str, str, tuple[str, ...]], list[int]] = {}
    for position, spec in enumerate(items):
        groups.setdefault(design_key(spec), []).append(position)
    chunk: list[int] = []
    for positions in groups.values():
        chunk.extend(positions)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _parts(
    chunks: list[list[Specification]], inputs: Inputs, n_jobs: int, scheduler: str | None
) -> Iterable[list[tuple[dict[str, Any], np.ndarray]]]:
    """Each chunk's results, in chunk order, as they come (one chunk in memory at a time
    in this process, besides the few in flight).

    Locally, ``n_jobs`` threads share this process: the engine releases the GIL
    (``nogil``), so threads scale like processes on its refits, and they start at once,
    with no worker importing the package, loading the compiled code or receiving the
    inputs by pickle (about 1 to 10 CPU-seconds per process otherwise, by load).  With
    a scheduler address the chunks go to the Dask cluster's worker processes.
    """
    from joblib import Parallel, delayed, parallel_config

    if scheduler is not None:
        from distributed import Client

        with Client(scheduler), parallel_config(backend="dask"):
            parallel = Parallel(return_as="generator")
            yield from parallel(delayed(run_chunk)(chunk, inputs) for chunk in chunks)
    elif n_jobs == 1:
        for chunk in chunks:
            yield run_chunk(chunk, inputs)
    else:
        engine.warm_up()  # compile (or load) once, before the threads ask for it
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            parallel = Parallel(n_jobs=n_jobs, backend="threading", return_as="generator")
            yield from parallel(delayed(run_chunk)(chunk, inputs, False) for chunk in chunks)


def run(
    specifications: list[Specification],
    inputs: Inputs,
    n_jobs: int = 2,
    scheduler: str | None = None,
    chunk_size: int = 32,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Every specification (joblib across cores, or a Dask cluster); rows in grid order."""
    positions = list(_chunks(specifications, chunk_size))
    chunks = [[specifications[i] for i in chunk] for chunk in positions]
    # Back to grid order: every specification is computed independently of its chunk.
    results: list[Any] = [None] * len(specifications)
    for chunk, part in zip(positions, _parts(chunks, inputs, n_jobs, scheduler), strict=True):
        for position, item in zip(chunk, part, strict=True):
            results[position] = item
    table = pd.DataFrame([row for row, _ in results])
    null = np.stack([draws for _, draws in results])
    return table, null


def run_streamed(
    specifications: list[Specification],
    inputs: Inputs,
    null_path: Path,
    n_jobs: int = 2,
    scheduler: str | None = None,
    chunk_size: int = 32,
) -> pd.DataFrame:
    """:func:`run`, with each chunk's permuted statistics written to ``null_path``
    (Parquet, one row group per chunk) as it arrives instead of held in memory.

    The file has one row per specification: ``specification`` (its position in
    ``specifications``, i.e. the row of the returned table) and ``null_z`` (its R
    permuted robust z statistics, NaN for a non-converged draw).  Read rows back with
    :func:`read_null`.  The file is written under a temporary name and renamed when
    complete, so a failed run leaves no partial file.
    """
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    positions = list(_chunks(specifications, chunk_size))
    chunks = [[specifications[i] for i in chunk] for chunk in positions]
    draws = len(inputs.orderings)
    schema = pa.schema([("specification", pa.int64()), ("null_z", pa.list_(pa.float64(), draws))])
    rows: list[Any] = [None] * len(specifications)
    partial = null_path.with_name(null_path.name + ".partial")
    try:
        with pq.ParquetWriter(partial, schema) as writer:
            parts = _parts(chunks, inputs, n_jobs, scheduler)
            for chunk, part in zip(positions, parts, strict=True):
                for position, (row, _) in zip(chunk, part, strict=True):
                    rows[position] = row
                values = np.stack([null for _, null in part]).reshape(-1)
                null_z = pa.FixedSizeListArray.from_arrays(pa.array(values), draws)
                batch = pa.record_batch([pa.array(chunk, pa.int64()), null_z], schema=schema)
                writer.write_batch(batch)
        partial.replace(null_path)
    finally:
        partial.unlink(missing_ok=True)
    return pd.DataFrame(rows)


def read_null(null_path: Path, specifications: Iterable[int] | None = None) -> np.ndarray:
    """Permuted statistics of the given specifications (rows of the table), in that
    order, from a :func:`run_streamed` file; all of them when ``specifications`` is None.
    Only the requested rows are kept in memory."""
    import pyarrow.dataset as ds  # type: ignore[import-untyped]

    dataset = ds.dataset(null_path, format="parquet")
    wanted = None if specifications is None else np.asarray(list(specifications), dtype=np.int64)
    condition = None if wanted is None else ds.field("specification").isin(wanted)
    table = dataset.to_table(filter=condition)
    found = table.column("specification").to_numpy()
    draws = table.schema.field("null_z").type.list_size
    values = table.column("null_z").combine_chunks().flatten().to_numpy()
    values = values.reshape(len(found), draws)
    order = np.argsort(found) if wanted is None else None
    if order is not None:
        return np.asarray(values[order])
    where = {int(spec): i for i, spec in enumerate(found)}
    missing = [int(spec) for spec in wanted if int(spec) not in where]  # type: ignore[union-attr]
    if missing:
        raise KosovoStudyError(
            f"{null_path}: no permuted statistics for specifications {missing[:5]}; "
            "the file is not from this table's run: rerun the multiverse stage."
        )
    return np.asarray(values[[where[int(spec)] for spec in wanted]])  # type: ignore[union-attr]


def joint_test(table: pd.DataFrame, null: np.ndarray | Path, alpha: float = 0.05) -> pd.DataFrame:
    """Simonsohn-Simmons-Nelson joint tests per outcome and focal term (placebos excluded).

    For each randomization draw r (shared by all specifications), a specification
    counts as significant in the expected direction when its permuted estimate is
    positive and at least as extreme as (1 - alpha) of its own draws; the observed
    count is compared with the distribution of these counts.

    ``null`` is the (S, R) array of :func:`run`, or the file of :func:`run_streamed`
    (then only one outcome and focal term's rows are in memory at a time).
    """
    rows = []
    for (outcome, focal), group in table[~table["placebo"]].groupby(["outcome", "focal"]):
        index = group.index.to_numpy()
        permuted = read_null(null, index) if isinstance(null, Path) else null[index]
        draws = np.abs(permuted)  # (S, R)
        observed_sig = (group["randomization_p"].to_numpy() < alpha) & (
            group["coef"].to_numpy() > 0
        )
        # Per-draw p-value of each specification within its own randomization
        # distribution: the share of its draws at least as extreme.
        ordered = np.sort(draws, axis=1)
        at_least = np.stack(
            [
                draws.shape[1] - np.searchsorted(row, value, side="left")
                for row, value in zip(ordered, draws, strict=True)
            ]
        )
        null_sig = (at_least / draws.shape[1] < alpha) & (permuted > 0)
        null_counts = null_sig.sum(axis=0)
        null_positive = (permuted > 0).sum(axis=0)
        count, positive = int(observed_sig.sum()), int((group["coef"] > 0).sum())
        draws_n = len(null_counts)
        rows.append(
            {
                "outcome": outcome,
                "focal": focal,
                "specifications": len(group),
                "significant_expected_direction": count,
                "share_significant": count / len(group),
                "null_median_share_significant": float(np.median(null_counts)) / len(group),
                "joint_p_significant": (1 + int((null_counts >= count).sum())) / (draws_n + 1),
                "share_positive": positive / len(group),
                "joint_p_positive": (1 + int((null_positive >= positive).sum())) / (draws_n + 1),
                "median_rate_ratio": float(group["rate_ratio"].median()),
                "synthetic": bool(group["synthetic"].any()),
            }
        )
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame, joint: pd.DataFrame) -> dict[str, Any]:
    """The multiverse in a few numbers."""
    main = table[(table["outcome"] == "main") & ~table["placebo"]]
    crossnational = table[table["outcome"].str.startswith("crossnational")]
    return {
        "specifications": len(table),
        "crossnational_specifications": len(crossnational),
        "main_specifications": len(main),
        "exact_specifications": int(table["randomization_exact"].sum()),
        "min_n": int(table["n"].min()),
        "statistic": "robust z of the focal coefficient (HC0; quasi-Poisson: Pearson-scaled; "
        "OLS: HC1)",
        "construction": "focal covariate residualised on the other covariates (never on the "
        "log-population offset); residuals permuted by orderings shared across specifications",
        "share_positive_main": float((main["coef"] > 0).mean()),
        "share_significant_main": float(
            ((main["randomization_p"] < 0.05) & (main["coef"] > 0)).mean()
        ),
        "median_rate_ratio_unemployment": float(
            main.loc[main["focal"] == "unemployment", "rate_ratio"].median()
        ),
        "median_rate_ratio_charity": float(
            main.loc[main["focal"] == "charity", "rate_ratio"].median()
        ),
        "joint_tests": joint.to_dict(orient="records"),
    }


#: Cross-national analogues: ICSR January 2015 on unemployment, all real data.
CROSSNATIONAL_GRID: dict[str, tuple[str, ...]] = {
    "point_rule": ("low", "mid", "high"),
    # log population 2014 as the offset, or as a covariate (Derpanopoulos & Sonnet's
    # choice; the offset model is badly miscalibrated across countries, see issue 10).
    "population": ("offset", "covariate"),
    "unemployment": ("youth_unemployment_pct_2010_2013", "unemployment_pct_2010_2013"),
    "family": ("poisson", "nb2", "quasi_poisson", "ols_log_rate"),
    "controls": ("none", "gdp", "gdp+muslim", "gdp+muslim+fractionalisation"),
}
CROSSNATIONAL_CONTROLS: dict[str, tuple[str, ...]] = {
    "none": (),
    "gdp": ("log_gdp_per_capita_ppp_2010_2013",),
    "gdp+muslim": ("log_gdp_per_capita_ppp_2010_2013", "muslim_share_2010"),
    "gdp+muslim+fractionalisation": (
        "log_gdp_per_capita_ppp_2010_2013",
        "muslim_share_2010",
        "ethnic_fractionalisation",
    ),
}


def crossnational_multiverse(
    countries: pd.DataFrame, permutations: int, seed: int, n_jobs: int = 2
) -> tuple[pd.DataFrame, np.ndarray]:
    """The cross-national analogue: every point rule x population handling (offset or
    covariate) x unemployment measure x family x control set, on the Derpanopoulos &
    Sonnet sample, with the same randomization construction as the municipal
    specifications (log population, when a covariate, is one of the "other
    covariates" the focal residual is taken on); its own shared orderings of the
    sample's countries.  The designs are built here; the refits run on ``n_jobs``
    threads (results do not depend on it), Poisson and quasi-Poisson sharing theirs."""
    from joblib import Parallel, delayed

    from kosovo_study.models.crossnational import outcome

    sample_all = countries[countries["in_ds2016_sample"]].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    orderings = np.stack([rng.permutation(len(sample_all)) for _ in range(permutations)])
    position = {iso3: i for i, iso3 in enumerate(sample_all["iso3"])}
    rows: list[dict[str, Any]] = []
    tasks: dict[Any, list[tuple[int, str, SpecData]]] = {}
    combinations = itertools.product(*CROSSNATIONAL_GRID.values())
    for rule, population, unemployment, family, controls in combinations:
        covariates: tuple[str, ...] = (unemployment, *CROSSNATIONAL_CONTROLS[controls])
        frame = sample_all.assign(fighters=outcome(sample_all, rule), no_offset=1.0)
        if population == "covariate":
            frame["log_population_2014"] = np.log(frame["population_2014"])
            covariates = (*covariates, "log_population_2014")
        design = build_design(
            frame,
            covariates,
            "population_2014" if population == "offset" else "no_offset",
            required=("fighters",),
            ids="iso3",
            names="iso3",
            binary=frozenset(),
            context=f"Cross-national analogue ({rule}, {population}, {unemployment}, "
            f"{family}, {controls})",
        )
        fighters = frame.set_index("iso3").loc[design.ids, "fighters"].to_numpy(dtype=float)
        data = SpecData(
            ids=np.array([position[c] for c in design.ids]),
            y=fighters,
            X=design.X,
            offset=design.offset,
            column=1,
        )
        # Specifications that share an engine fit (Poisson, quasi-Poisson) go together.
        key = (rule, population, unemployment, controls, _base_family(family))
        tasks.setdefault(key, []).append((len(rows), family, data))
        rows.append(
            {
                "outcome": f"crossnational_{rule}",
                "population": f"population_2014 ({population})",
                "unemployment": unemployment,
                "charity": "",
                "family": family,
                "controls": controls,
                "exclude_influential": False,
                "focal": "unemployment",
                "focal_variable": unemployment,
                "placebo": False,
                "outcome_source": "published",
                "synthetic": False,
                "n": design.n,
                "excluded_municipality_id": "",
            }
        )

    def estimate(group: list[tuple[int, str, SpecData]]) -> list[tuple[int, dict[str, Any], Any]]:
        memo: Memo = {}
        with np.errstate(all="ignore"):
            return [(row, *_estimate(family, data, orderings, memo)) for row, family, data in group]

    nulls: list[Any] = [None] * len(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if n_jobs > 1:
            engine.warm_up()
        parallel = Parallel(n_jobs=n_jobs, backend="threading")
        for done in parallel(delayed(estimate)(group) for group in tasks.values()):
            for row, estimate_row, null in done:
                rows[row].update(estimate_row)
                nulls[row] = null
    return pd.DataFrame(rows), np.stack(nulls)
