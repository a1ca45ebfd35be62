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
set of random orderings of the register's municipality ids (:attr:`Inputs.orderings`) across
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
import math
import tempfile
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kosovo_study.errors import KosovoStudyError
from kosovo_study.models import engine, inference
from kosovo_study.models.design import BINARY, build_design, require_units
from kosovo_study.models.inference import FAMILIES
from kosovo_study.models.results import Z95

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
#: with seeds ``synthetic_outcome_seed + k``, k = 1..19).  Each draw is one more synthetic
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
    orderings: np.ndarray  # (R, largest id + 1): random ranks of the ids 0..largest


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
        # one rank per id of the register (ids 1-38, and 0 unused)
        orderings=inference.random_orderings(
            permutations, int(table.index.max()) + 1, np.random.default_rng(seed)
        ),
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


def _most_influential(family: str, data: SpecData) -> int:
    """Index of the unit whose removal moves the focal coefficient most."""
    y, X, offset = inference.leave_one_out(data.y, data.X, data.offset)
    full = inference.focal_statistics(family, data.y[None], data.X, data.offset, data.column)
    dropped = inference.focal_statistics(family, y, X, offset, data.column).coef
    return int(np.nanargmax(np.abs(dropped - full.coef[0])))


def _estimate(
    family: str, data: SpecData, orderings: np.ndarray, memo: inference.Memo | None = None
) -> tuple[dict[str, Any], np.ndarray]:
    """Focal estimate, 95% interval and randomization p; and the permuted statistics
    under the shared orderings (for the joint test).  ``memo`` (one per data set and
    focal column) shares the engine fits of Poisson and quasi-Poisson."""
    require_units(len(data.y), "Multiverse specification")
    order = np.argsort(orderings[:, data.ids], axis=1)  # induced permutation of these units
    shared = inference.randomization_test(
        family, data.y, data.X, data.offset, data.column, order, memo=memo
    )
    test = shared
    _, residuals = inference.residual_split(data.X, data.column)
    if inference.distinct_arrangements(residuals) <= len(orderings):
        every = inference.enumerate_arrangements(residuals)
        test = inference.randomization_test(
            family, data.y, data.X, data.offset, data.column, every, exact=True, memo=memo
        )
    coef, se = test.observed_coef, test.observed_se
    # Freedman-Lane beside it: on the linear working model of the log rate (same design,
    # sample and orderings), which does not depend on the family: computed once per memo
    lane = memo.get("freedman_lane") if memo is not None else None
    if lane is None:
        log_rate = np.log((data.y + 0.5) / np.exp(data.offset))
        lane = inference.freedman_lane_test(log_rate, data.X, data.column, order)[:2]
        if memo is not None:
            memo["freedman_lane"] = lane
    estimate = {
        "coef": coef,
        "z": test.observed_z,
        "rate_ratio": float(np.exp(coef)),
        "ratio_low": float(np.exp(coef - Z95 * se)),
        "ratio_high": float(np.exp(coef + Z95 * se)),
        "randomization_p": test.p_value,
        "randomization_exact": test.exact,
        "valid_permutations": test.draws,
        "freedman_lane_z": lane[0],
        "freedman_lane_p": lane[1],
    }
    return estimate, shared.null_z


def run_specification(
    spec: Specification,
    inputs: Inputs,
    cache: dict[tuple[str, str, tuple[str, ...]], SpecData] | None = None,
    fits: dict[Any, inference.Memo] | None = None,
) -> tuple[dict[str, Any], np.ndarray]:
    """One specification: estimate, interval, randomization p and the permuted estimates.

    ``cache`` shares designs (see :func:`spec_data`); ``fits`` shares the engine fits
    of specifications that differ only in Poisson versus quasi-Poisson (same
    estimates, different standard errors), so each such pair is fitted once.
    """
    data = spec_data(spec, inputs, cache)
    base = inference.engine_family(spec.family)
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
        fits: dict[Any, inference.Memo] = {}
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
    """:func:`run_streamed` with the permuted statistics returned in memory, (S, R)."""
    with tempfile.TemporaryDirectory() as folder:
        null_path = Path(folder) / "multiverse_null.parquet"
        table = run_streamed(specifications, inputs, null_path, n_jobs, scheduler, chunk_size)
        return table, read_null(null_path)


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


def family_wise_p(table: pd.DataFrame, null: np.ndarray | Path) -> pd.Series:
    """Each specification's family-wise adjusted p-value: Romano-Wolf step-down min-p
    (:func:`kosovo_study.models.inference.step_down_min_p`) over the shared permutation
    draws, within its family (outcome x focal term; placebo specifications form their
    own family).  The shared draws are one null world for every specification, so the
    adjustment uses their dependence: far less conservative than Holm over hundreds of
    nearly identical tests.  The observed p-values are the Monte Carlo ones of the
    shared draws (the same rule for every member)."""
    adjusted = pd.Series(np.nan, index=table.index, name="family_wise_p")
    for _, group in table.groupby(["outcome", "focal", "placebo"]):
        index = group.index.to_numpy()
        permuted = read_null(null, index) if isinstance(null, Path) else null[index]
        observed = np.array(
            [
                inference.randomization_p(row, z)[0]
                for row, z in zip(permuted, group["z"].to_numpy(), strict=True)
            ]
        )
        null_p = inference.draw_p_values(permuted, group["z"].to_numpy())
        adjusted[index] = inference.step_down_min_p(observed, null_p)
    return adjusted


#: The analytic choices of the variance decomposition (grid dimension -> label); the
#: focal term is not a choice (each focal term has its own decomposition).
CHOICES = {
    "outcome": "outcome definition",
    "population": "population measure (offset)",
    "unemployment": "unemployment measure",
    "charity": "charity measure",
    "family": "model family",
    "controls": "control set",
    "exclude_influential": "sample (most influential unit excluded)",
}


def _r_squared(y: np.ndarray, blocks: list[np.ndarray]) -> float:
    design = np.column_stack([np.ones(len(y)), *blocks])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ coef
    total = float(np.sum((y - y.mean()) ** 2))
    return 1 - float(residual @ residual) / total if total > 0 else 0.0


def decompose(table: pd.DataFrame) -> pd.DataFrame:
    """How much of the spread of the estimates each analytic choice explains.

    For each focal term (placebo specifications excluded), the focal coefficient (log
    rate ratio) is regressed on indicator sets of every choice in :data:`CHOICES`; the
    R² is split into Shapley values of the choices (LMG, Lindeman, Merenda & Gold 1980;
    Grömping 2006, J. Statistical Software 17(1)): each choice's average increase of R²
    over every order of entry.  The shares sum to the full model's R² exactly; a
    choice with one option in the grid explains nothing.  Exact: 2^7 subsets.
    """
    rows = []
    for focal, specs in table[~table["placebo"]].groupby("focal", sort=True):
        group = specs[np.isfinite(specs["coef"].to_numpy(dtype=float))]
        y = group["coef"].to_numpy(dtype=float)
        names = list(CHOICES)
        blocks = {
            name: pd.get_dummies(group[name].astype(str), drop_first=True, dtype=float).to_numpy()
            for name in names
        }
        k = len(names)
        r2: dict[frozenset[str], float] = {}
        for size in range(k + 1):
            for subset in itertools.combinations(names, size):
                r2[frozenset(subset)] = (
                    _r_squared(y, [blocks[n] for n in subset]) if subset else 0.0
                )
        full = r2[frozenset(names)]
        for name in names:
            value = 0.0
            others = [n for n in names if n != name]
            for size in range(k):
                weight = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
                for subset in itertools.combinations(others, size):
                    before = frozenset(subset)
                    value += weight * (r2[before | {name}] - r2[before])
            value = 0.0 if abs(value) < 1e-12 else value  # rounding of a zero share
            rows.append(
                {
                    "focal": focal,
                    "choice": name,
                    "choice_label": CHOICES[name],
                    "options": int(group[name].nunique()),
                    "shapley_r2": value,
                    "share_of_r2": value / full if full > 0 else 0.0,
                    "total_r2": full,
                    "specifications": len(group),
                    "estimate": "focal coefficient (log rate ratio)",
                    "outcome_source": ", ".join(sorted(group["outcome_source"].unique())),
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
        "share_significant_main_freedman_lane": float(
            ((main["freedman_lane_p"] < 0.05) & (main["coef"] > 0)).mean()
        ),
        "share_family_wise_significant_main": float(
            ((main["family_wise_p"] < 0.05) & (main["coef"] > 0)).mean()
        ),
        "median_rate_ratio_unemployment": float(
            main.loc[main["focal"] == "unemployment", "rate_ratio"].median()
        ),
        "median_rate_ratio_charity": float(
            main.loc[main["focal"] == "charity", "rate_ratio"].median()
        ),
        "joint_tests": joint.to_dict(orient="records"),
    }
