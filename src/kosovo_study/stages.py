"""The pipeline as one ordered list of stages, used by the CLI and by nox.

Each :class:`Stage` names its inputs, its outputs, the parameters that enter its key
(from :class:`~kosovo_study.config.StudyConfig`), the package modules whose code it
runs (their import closure is its code fingerprint), and its run function.  ``kosovo-study
report`` runs :data:`STAGES` in order; each stage is skipped when its inputs, parameters,
code and outputs are unchanged (see :mod:`kosovo_study.manifest`).

clean, models and multiverse are *staged*: they write into a staging folder and their
outputs and manifest are moved into place together, so a killed run never leaves new
tables beside an old ``metadata.json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kosovo_study.config import StudyConfig, load_config
from kosovo_study.manifest import StageResult, Staging, run_stage
from kosovo_study.paths import ProjectPaths, project_paths


def _no_notice(paths: ProjectPaths) -> str | None:
    del paths
    return None


@dataclass(frozen=True)
class Stage:
    """One step of the pipeline."""

    name: str
    summary: str
    #: files the stage reads (their sha256 enter the stage key)
    inputs: Callable[[ProjectPaths], list[Path]]
    #: what it writes, relative to the project root (for readers; the manifest lists files)
    outputs: tuple[str, ...]
    #: root modules of the code it runs (fingerprinted with everything they import)
    modules: tuple[str, ...]
    #: parameters that enter the stage key and its manifest
    parameters: Callable[[StudyConfig], dict[str, Any]]
    run: Callable[..., StageResult]
    #: a line the console prints every time (e.g. whether the outcome is synthetic)
    notice: Callable[[ProjectPaths], str | None] = _no_notice


def _no_parameters(config: StudyConfig) -> dict[str, Any]:
    del config
    return {}


# --- clean ------------------------------------------------------------------------------


def _clean_inputs(paths: ProjectPaths) -> list[Path]:
    from kosovo_study import clean

    return clean.input_files(paths)


def run_clean(
    paths: ProjectPaths | None = None, config: StudyConfig | None = None, force: bool = False
) -> StageResult:
    """raw data -> validated tables and municipality polygons in ``data/processed``."""
    from kosovo_study import clean

    paths = paths or project_paths()
    config = config or load_config(paths.root)

    def build(staging: Staging) -> list[Path]:
        return clean.write_outputs(paths, staging.folder(paths.processed))

    return run_stage(
        "clean",
        _clean_inputs(paths),
        build,
        paths,
        force,
        parameters=_no_parameters(config),
        modules=STAGE_BY_NAME["clean"].modules,
        staged=True,
        lock_timeout=config.lock_timeout_seconds,
    )


# --- models -----------------------------------------------------------------------------


def _model_inputs(paths: ProjectPaths) -> list[Path]:
    """The models stage's inputs (:func:`kosovo_study.models.input_files`); locating the
    restricted file there stops the run on anything odd before the up-to-date check, so
    a skipped stage can never hide it."""
    from kosovo_study.models import input_files

    return input_files(paths)


def outcome_notice(paths: ProjectPaths) -> str:
    """Which municipal outcome the models use: said on the console at every run."""
    from kosovo_study.models.outcome import locate_restricted, restricted_path

    located = locate_restricted(paths)
    if located is None:
        return (
            f"municipal outcome: SYNTHETIC (no file at {restricted_path(paths)}); every "
            "municipal result is labelled synthetic and is not a finding"
        )
    warnings: list[str] = []
    metadata = paths.results / "metadata.json"
    if metadata.is_file():
        provenance = json.loads(metadata.read_text(encoding="utf-8")).get(
            "municipal_outcome_provenance"
        )
        warnings = list((provenance or {}).get("warnings", []))
    return f"municipal outcome: restricted counts from {located}" + "".join(
        f"; WARNING: {w}" for w in warnings
    )


def run_models(
    paths: ProjectPaths | None = None, config: StudyConfig | None = None, force: bool = False
) -> StageResult:
    """processed tables (+ restricted counts) -> ``data/processed/results``."""
    from kosovo_study import models

    paths = paths or project_paths()
    config = config or load_config(paths.root)

    def build(staging: Staging) -> list[Path]:
        results, metadata = models.build_results(
            paths,
            config.municipal_settings(),
            config.crossnational_simulation_draws,
            crossnational_seed=config.crossnational_seed,
        )
        metadata["config"] = config.models_parameters()
        return models.write_results(results, metadata, staging.folder(paths.results))

    return run_stage(
        "models",
        _model_inputs(paths),
        build,
        paths,
        force,
        parameters=config.models_parameters(),
        modules=STAGE_BY_NAME["models"].modules,
        staged=True,
        lock_timeout=config.lock_timeout_seconds,
    )


# --- multiverse -------------------------------------------------------------------------


def multiverse_inputs(
    paths: ProjectPaths, permutations: int, seed: int, grid: str = "standard"
) -> Any:
    """The multiverse's inputs: processed municipalities and the main outcome (and, for
    the large grid, the further synthetic draws its ``outcome`` dimension names)."""
    import pandas as pd

    from kosovo_study.errors import KosovoStudyError
    from kosovo_study.models import multiverse, read_processed
    from kosovo_study.models.design import municipal_design
    from kosovo_study.models.outcome import (
        SYNTHETIC_SEED,
        load_outcome,
        national_total,
        synthetic_outcome,
    )

    municipalities = read_processed(paths, "municipalities")
    national = read_processed(paths, "kosovo_national")
    design = municipal_design(municipalities)
    outcome = load_outcome(paths, design, national)
    main = pd.Series(outcome.fighters, index=design.municipality_id)
    extra: dict[str, tuple[pd.Series, str]] = {}
    draws = [name for name in multiverse.grid(grid)["outcome"] if name != "main"]
    if draws and outcome.source != "synthetic":
        raise KosovoStudyError(
            f"--grid {grid} adds synthetic outcome draws, but the outcome is {outcome.source} "
            "(restricted counts have no draws); run the standard grid."
        )
    total = national_total(national)
    for k, name in enumerate(draws, start=1):
        counts = synthetic_outcome(design, total, seed=SYNTHETIC_SEED + k).fighters
        extra[name] = (pd.Series(counts, index=design.municipality_id), "synthetic")
    return multiverse.prepare_inputs(
        municipalities, main, outcome.source, permutations, seed, extra
    )


def run_multiverse(
    paths: ProjectPaths | None = None,
    config: StudyConfig | None = None,
    force: bool = False,
    n_jobs: int = 2,
    scheduler: str | None = None,
    grid: str = "standard",
) -> StageResult:
    """Every specification of the multiverse with randomization inference; ``grid``
    names the grid (``standard`` or the 20x ``large``), part of the stage key."""
    import pandas as pd

    from kosovo_study.models import multiverse, read_processed
    from kosovo_study.storage import write_table, write_text_atomic

    paths = paths or project_paths()
    config = config or load_config(paths.root)
    permutations, seed = config.multiverse_permutations, config.multiverse_seed

    def build(staging: Staging) -> list[Path]:
        folder = staging.folder(paths.results)
        inputs = multiverse_inputs(paths, permutations, seed, grid)
        # The municipal permuted statistics go to Parquet chunk by chunk (flat memory
        # however large the grid); row i of the file's ``specification`` is row i of
        # multiverse_specifications.
        null_path = folder / "multiverse_null.parquet"
        table = multiverse.run_streamed(
            multiverse.expand(multiverse.grid(grid)),
            inputs,
            null_path,
            n_jobs=n_jobs,
            scheduler=scheduler,
        )
        analogue, analogue_null = multiverse.crossnational_multiverse(
            read_processed(paths, "countries"), permutations, seed, n_jobs=n_jobs
        )
        # Outcomes differ, so the joint tests of the two parts are those of the whole;
        # the cross-national ("crossnational_*") rows come first, as a groupby sorts them.
        joint = pd.concat(
            [
                multiverse.joint_test(analogue, analogue_null),
                multiverse.joint_test(table, null_path),
            ],
            ignore_index=True,
        )
        table = pd.concat([table, analogue], ignore_index=True)
        written = [null_path]
        written += write_table(table, folder, "multiverse_specifications")
        written += write_table(joint, folder, "multiverse_joint_test")
        summary_path = folder / "multiverse_summary.json"
        numbers = multiverse.summary(table, joint)
        numbers.update(config.multiverse_parameters(grid))
        numbers["config"] = config.multiverse_parameters(grid)
        write_text_atomic(summary_path, json.dumps(numbers, indent=2, default=str) + "\n")
        return [*written, summary_path]

    return run_stage(
        "multiverse",
        _model_inputs(paths),
        build,
        paths,
        force,
        parameters=config.multiverse_parameters(grid),
        modules=STAGE_BY_NAME["multiverse"].modules,
        staged=True,
        lock_timeout=config.lock_timeout_seconds,
    )


# --- interviews and book (their run functions live with their code) --------------------


def _interview_inputs(paths: ProjectPaths) -> list[Path]:
    from kosovo_study.interviews import stage

    export = stage.real_export(paths)
    return [export] if export else []


def run_interviews(
    paths: ProjectPaths | None = None, config: StudyConfig | None = None, force: bool = False
) -> StageResult:
    from kosovo_study.interviews import stage

    del config
    return stage.run(paths, force=force)


def _book_inputs(paths: ProjectPaths) -> list[Path]:
    from kosovo_study.report import build

    return [*build.data_inputs(paths), *build.book_sources(paths)]


def run_book(
    paths: ProjectPaths | None = None, config: StudyConfig | None = None, force: bool = False
) -> StageResult:
    from kosovo_study.report import build

    del config
    return build.build(paths, force=force, pdf=True)


STAGES: tuple[Stage, ...] = (
    Stage(
        "clean",
        "clean: raw data -> validated tables",
        _clean_inputs,
        (
            (
                "data/processed/{municipalities,mosaic_top_problems,countries,kosovo_national,"
                "rejects,cleaning_report,variables}.{csv,parquet}"
            ),
            "data/processed/municipality_polygons.parquet",
        ),
        ("kosovo_study.clean",),
        _no_parameters,
        run_clean,
    ),
    Stage(
        "models",
        "models: municipal and cross-national analyses",
        _model_inputs,
        ("data/processed/results/{municipal,crossnational}_*.{csv,parquet}", "metadata.json"),
        ("kosovo_study.models", "kosovo_study.validation"),
        StudyConfig.models_parameters,
        run_models,
        outcome_notice,
    ),
    Stage(
        "multiverse",
        "multiverse: every specification with randomization inference",
        _model_inputs,
        ("data/processed/results/multiverse_*.{csv,parquet,json}",),
        ("kosovo_study.models.multiverse", "kosovo_study.models.outcome"),
        StudyConfig.multiverse_parameters,
        run_multiverse,
        outcome_notice,
    ),
    Stage(
        "interviews",
        "interviews: export (or synthetic study) -> pseudonymised tables",
        _interview_inputs,
        ("data/processed/interview_*.{csv,parquet}", "data/processed/results/interview_model.csv"),
        ("kosovo_study.interviews.stage",),
        _no_parameters,
        run_interviews,
    ),
    Stage(
        "book",
        "book: executing pages and building HTML (jupyter-book)",
        _book_inputs,
        ("book/_build/html",),
        ("kosovo_study.report",),
        _no_parameters,
        run_book,
    ),
)
STAGE_BY_NAME: dict[str, Stage] = {stage.name: stage for stage in STAGES}


def run(
    name: str,
    paths: ProjectPaths | None = None,
    config: StudyConfig | None = None,
    force: bool = False,
    **options: Any,
) -> StageResult:
    """Run the stage called ``name`` (see :data:`STAGES`)."""
    if name not in STAGE_BY_NAME:
        from kosovo_study.errors import KosovoStudyError

        raise KosovoStudyError(f"No stage {name!r}; the stages are {[s.name for s in STAGES]}.")
    return STAGE_BY_NAME[name].run(paths, config, force, **options)
