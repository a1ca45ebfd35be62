"""The ``models`` stage: processed tables -> results as data in ``data/processed/results/``.

Every result table is written as CSV with a JSON sidecar of metadata: the outcome
source (restricted or synthetic), the sha256 of the inputs, the seeds and sizes of
the simulations, and the package version.  The book reads these files and never
refits a model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kosovo_study import __version__
from kosovo_study.manifest import StageResult, hash_files, run_stage
from kosovo_study.models import crossnational, municipal
from kosovo_study.models.design import municipal_design
from kosovo_study.models.outcome import (
    GENERATOR_ALPHA,
    GENERATOR_IRR,
    SYNTHETIC_SEED,
    TOTAL_SOURCE_KEY,
    load_outcome,
    national_total,
    restricted_path,
)
from kosovo_study.paths import ProjectPaths, project_paths
from kosovo_study.storage import write_table, write_text_atomic

#: Tables that depend on the municipal outcome (and so may be synthetic).
MUNICIPAL_TABLES = (
    "municipal_coefficients",
    "municipal_fit",
    "municipal_leave_one_out",
    "municipal_confirmed_vs_fitted",
)


def input_files(paths: ProjectPaths) -> list[Path]:
    files = [
        paths.processed / "municipalities.csv",
        paths.processed / "countries.csv",
        paths.processed / "kosovo_national.csv",
        paths.transcribed / "published_results.csv",
    ]
    restricted = restricted_path(paths)
    return [*files, restricted] if restricted.exists() else files


def read_processed(paths: ProjectPaths, name: str) -> pd.DataFrame:
    return pd.read_parquet(paths.processed / f"{name}.parquet")


def build_results(
    paths: ProjectPaths,
    settings: municipal.Settings = municipal.Settings(),  # noqa: B008
    bootstrap_replicates: int = 199,
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Every result table and the run's metadata, in memory."""
    municipalities = read_processed(paths, "municipalities")
    national = read_processed(paths, "kosovo_national")
    countries = read_processed(paths, "countries")
    published = pd.read_csv(paths.transcribed / "published_results.csv")
    design = municipal_design(municipalities)
    outcome = load_outcome(paths, design, national)
    total = national_total(national)
    results = municipal.analyse(design, outcome, municipalities, total, settings)
    cn_settings = crossnational.stage_settings(bootstrap_replicates)
    results.update(crossnational.analyse_from(paths, countries, published, cn_settings))
    metadata: dict[str, Any] = {
        "package_version": __version__,
        "inputs_sha256": hash_files(input_files(paths), paths.root),
        "municipal_outcome_source": outcome.source,
        "municipal_outcome_synthetic": outcome.synthetic,
        "municipal_outcome_description": outcome.description,
        "municipal_n": design.n,
        "municipal_covariate_sd": design.scale,
        "national_total": total,
        "national_total_source_key": TOTAL_SOURCE_KEY,
        "synthetic_generator": {
            "irr": GENERATOR_IRR,
            "alpha": GENERATOR_ALPHA,
            "seed": SYNTHETIC_SEED,
        },
        "settings": settings.__dict__,
        "crossnational_settings": cn_settings.record(),
        "crossnational_inputs_sha256": hash_files(
            crossnational.extra_input_files(paths), paths.root
        ),
        "synthetic_tables": list(MUNICIPAL_TABLES) if outcome.synthetic else [],
    }
    return results, metadata


def write_results(
    results: dict[str, pd.DataFrame], metadata: dict[str, Any], folder: Path
) -> list[Path]:
    written: list[Path] = []
    for name, table in results.items():
        written += write_table(table, folder, name)
    meta_path = folder / "metadata.json"
    write_text_atomic(meta_path, json.dumps(metadata, indent=2, sort_keys=True, default=str) + "\n")
    return [*written, meta_path]


def run(paths: ProjectPaths | None = None, force: bool = False) -> StageResult:
    """The models stage: skipped when inputs and code are unchanged."""
    paths = paths or project_paths()

    def build() -> list[Path]:
        results, metadata = build_results(paths)
        return write_results(results, metadata, paths.results)

    return run_stage("models", input_files(paths), build, paths, force=force)


def load_results(
    paths: ProjectPaths | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Read every result table and the metadata (what the book uses)."""
    paths = paths or project_paths()
    metadata: dict[str, Any] = json.loads((paths.results / "metadata.json").read_text("utf-8"))
    tables = {p.stem: pd.read_csv(p) for p in sorted(paths.results.glob("*.csv"))}
    return tables, metadata


def multiverse_inputs(paths: ProjectPaths, permutations: int, seed: int) -> Any:
    """The multiverse's inputs: processed municipalities and the main outcome."""
    from kosovo_study.models import multiverse

    municipalities = read_processed(paths, "municipalities")
    national = read_processed(paths, "kosovo_national")
    design = municipal_design(municipalities)
    outcome = load_outcome(paths, design, national)
    main = pd.Series(outcome.fighters, index=design.municipality_id)
    return multiverse.prepare_inputs(municipalities, main, outcome.source, permutations, seed)


def run_multiverse(
    paths: ProjectPaths | None = None,
    force: bool = False,
    permutations: int = 999,
    seed: int = 2020,
    n_jobs: int = 2,
    scheduler: str | None = None,
) -> StageResult:
    """The multiverse stage: every specification with randomization inference."""
    from kosovo_study.models import multiverse

    paths = paths or project_paths()

    def build() -> list[Path]:
        inputs = multiverse_inputs(paths, permutations, seed)
        table, null = multiverse.run(
            multiverse.expand(), inputs, n_jobs=n_jobs, scheduler=scheduler
        )
        analogue, analogue_null = multiverse.crossnational_multiverse(
            read_processed(paths, "countries"), permutations, seed
        )
        table = pd.concat([table, analogue], ignore_index=True)
        null = np.concatenate([null, analogue_null])
        joint = multiverse.joint_test(table, null)
        written = write_table(table, paths.results, "multiverse_specifications")
        written += write_table(joint, paths.results, "multiverse_joint_test")
        summary_path = paths.results / "multiverse_summary.json"
        numbers = multiverse.summary(table, joint)
        numbers.update(
            {
                "permutations": permutations,
                "seed": seed,
                "grid": {k: list(map(str, v)) for k, v in multiverse.GRID.items()},
            }
        )
        write_text_atomic(summary_path, json.dumps(numbers, indent=2, default=str) + "\n")
        return [*written, summary_path]

    return run_stage("multiverse", input_files(paths), build, paths, force=force)
