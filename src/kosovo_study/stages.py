"""The pipeline as one ordered list of stages, and the one way to run a stage.

Each :class:`Stage` names the files it reads, what it writes (as :class:`Output`
entries; :data:`kosovo_study.outputs.OUTPUTS` is built from them), the parameters that
enter its key (from :class:`~kosovo_study.config.StudyConfig`), the package modules
whose code it runs (their import closure is its code fingerprint), the stages whose
outputs it reads, and the function that builds its outputs.  :func:`run` is the only
entry point: the CLI, nox (through the CLI), the notebooks and the tests call
``stages.run(name, ...)``.  A stage is skipped when its inputs, parameters, code and
outputs are unchanged (see :mod:`kosovo_study.manifest`).

clean, models and multiverse are *staged*: they write into a staging folder and their
outputs and manifest are moved into place together, so a killed run never leaves new
tables beside an old ``metadata.json``.  interviews and book write in place, after a
backup that a killed run is rolled back to.

Nothing in the package imports this module except the CLI and :mod:`kosovo_study.outputs`;
the stages' own code is imported here lazily, inside the functions below.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kosovo_study.config import StudyConfig, load_config
from kosovo_study.errors import KosovoStudyError
from kosovo_study.manifest import (
    StageResult,
    Staging,
    hash_files,
    parameters_sha256,
    run_stage,
    stage_fingerprint,
)
from kosovo_study.paths import ProjectPaths, project_paths


@dataclass(frozen=True)
class Output:
    """One produced artefact, as README.md lists it (path relative to the project root)."""

    path: str
    kind: str
    made_by: str
    description: str


def _no_notice(paths: ProjectPaths) -> str | None:
    del paths
    return None


def _no_parameters(config: StudyConfig, **options: Any) -> dict[str, Any]:
    del config, options
    return {}


@dataclass(frozen=True)
class Stage:
    """One step of the pipeline."""

    name: str
    summary: str
    #: files the stage reads, ``(paths, **options)``: their sha256 enter the stage key
    inputs: Callable[..., list[Path]]
    #: what it writes (for readers and README.md; the manifest lists the files)
    outputs: tuple[Output, ...]
    #: root modules of the code it runs (fingerprinted with everything they import)
    modules: tuple[str, ...]
    #: parameters that enter the stage key and its manifest, ``(config, **options)``
    parameters: Callable[..., dict[str, Any]]
    #: ``(paths, config, staging, **options)`` -> the files written; ``staging`` is a
    #: :class:`~kosovo_study.manifest.Staging` for a staged stage, else None
    build: Callable[..., list[Path]]
    #: True: outputs go through a staging folder and a commit journal
    staged: bool = False
    #: stages whose outputs this one reads (run first when their outputs are missing)
    needs: tuple[str, ...] = ()
    #: a line the console prints every time (e.g. whether the outcome is synthetic)
    notice: Callable[[ProjectPaths], str | None] = _no_notice
    #: further root modules found in the project (the book's pages import package code)
    page_modules: Callable[[ProjectPaths], tuple[str, ...]] = field(default=lambda _p: ())
    #: run before the key is taken (the book regenerates its bibliography, a page source)
    prepare: Callable[[ProjectPaths], None] = field(default=lambda _p: None)

    def code_roots(self, paths: ProjectPaths) -> tuple[str, ...]:
        return tuple(sorted({*self.modules, *self.page_modules(paths)}))


def environment_inputs(paths: ProjectPaths) -> list[Path]:
    """``uv.lock``: the library versions every stage runs with (absent in a bare tree)."""
    lock = paths.root / "uv.lock"
    return [lock] if lock.is_file() else []


def register_inputs(paths: ProjectPaths) -> list[Path]:
    """The municipality register's files (crosswalk and former municipalities), read by
    every stage that names a municipality."""
    from kosovo_study.municipalities import CROSSWALK_FILE, FORMER_FILE

    return [paths.transcribed / CROSSWALK_FILE, paths.transcribed / FORMER_FILE]


def _restricted_register(paths: ProjectPaths) -> list[Path]:
    """The register's files when the restricted counts are there: validating them
    reads the register (the synthetic outcome does not)."""
    from kosovo_study.models.outcome import locate_restricted

    return register_inputs(paths) if locate_restricted(paths) is not None else []


# --- clean ------------------------------------------------------------------------------


def _clean_inputs(paths: ProjectPaths, **options: Any) -> list[Path]:
    from kosovo_study import clean

    del options
    # registry.csv: where each raw file lies (read to find them)
    files = [*clean.input_files(paths), paths.registry_file, *register_inputs(paths)]
    return [*dict.fromkeys(files), *environment_inputs(paths)]


def _clean_build(
    paths: ProjectPaths, config: StudyConfig, staging: Staging, **options: Any
) -> list[Path]:
    from kosovo_study import clean

    del config, options
    return clean.write_outputs(paths, staging.folder(paths.processed))


# --- models -----------------------------------------------------------------------------


def _model_inputs(paths: ProjectPaths, **options: Any) -> list[Path]:
    """Every file the models stage reads; locating the restricted file there stops the
    run on anything odd before the up-to-date check, so a skipped stage never hides it."""
    from kosovo_study.models import stage_input_files

    del options
    files = [*stage_input_files(paths), paths.registry_file]
    return [*files, *_restricted_register(paths), *environment_inputs(paths)]


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


def _models_parameters(config: StudyConfig, **options: Any) -> dict[str, Any]:
    del options
    return config.models_parameters()


def _models_build(
    paths: ProjectPaths, config: StudyConfig, staging: Staging, **options: Any
) -> list[Path]:
    from kosovo_study import models

    del options
    results, metadata = models.build_results(
        paths,
        config,
        config.crossnational_simulation_draws,
        crossnational_seed=config.crossnational_seed,
    )
    return models.write_results(results, metadata, staging.folder(paths.results))


# --- design -----------------------------------------------------------------------------


def _design_inputs(paths: ProjectPaths, **options: Any) -> list[Path]:
    from kosovo_study.models.diagnosis import input_files

    del options
    return [*input_files(paths), *environment_inputs(paths)]


def _design_parameters(config: StudyConfig, **options: Any) -> dict[str, Any]:
    del options
    return config.design_parameters()


def _design_build(
    paths: ProjectPaths, config: StudyConfig, staging: Staging, **options: Any
) -> list[Path]:
    from kosovo_study.models.diagnosis import write_diagnosis

    del options
    return write_diagnosis(paths, staging.folder(paths.results), config)


# --- multiverse -------------------------------------------------------------------------


def _multiverse_inputs(paths: ProjectPaths, **options: Any) -> list[Path]:
    from kosovo_study.models.multiverse_stage import multiverse_input_files
    from kosovo_study.models.verdict import input_files as verdict_input_files

    del options
    # the verdict table (written by this stage) reads the models' result tables too
    files = [*multiverse_input_files(paths), *verdict_input_files(paths)]
    return [*files, *_restricted_register(paths), *environment_inputs(paths)]


def _multiverse_parameters(
    config: StudyConfig, grid: str = "standard", **options: Any
) -> dict[str, Any]:
    del options
    return config.multiverse_parameters(grid)


def _multiverse_build(
    paths: ProjectPaths,
    config: StudyConfig,
    staging: Staging,
    n_jobs: int = 2,
    scheduler: str | None = None,
    grid: str = "standard",
) -> list[Path]:
    import pandas as pd

    from kosovo_study.models.multiverse_stage import write_multiverse
    from kosovo_study.models.verdict import write_verdict

    folder = staging.folder(paths.results)
    written = write_multiverse(
        paths,
        folder,
        config.multiverse_permutations,
        config.multiverse_seed,
        config.multiverse_parameters(grid),
        n_jobs=n_jobs,
        scheduler=scheduler,
        grid=grid,
        synthetic_seed=config.synthetic_outcome_seed,
    )
    # The verdict needs the multiverse's tables and the models' (issue 19, item 4): it is
    # written here, the first stage that has both.
    multiverse = {
        name: pd.read_parquet(folder / f"{name}.parquet")
        for name in (
            "multiverse_specifications",
            "multiverse_joint_test",
            "multiverse_calibrated_joint_test",
        )
        if (folder / f"{name}.parquet").is_file()
    }
    return [*written, *write_verdict(paths, folder, multiverse)]


# --- interviews -------------------------------------------------------------------------


def _interview_inputs(
    paths: ProjectPaths, export: Path | None = None, **options: Any
) -> list[Path]:
    from kosovo_study.interviews.pipeline import adopt_export

    del options
    # An export named on the command line is first kept under its neutral restricted
    # name, so the manifest's inputs never hold the file's own name or folder.
    source = adopt_export(Path(export), paths) if export is not None else paths.interview_export()
    return [*([source] if source else []), *environment_inputs(paths)]


def _interview_build(
    paths: ProjectPaths, config: StudyConfig, staging: None, **options: Any
) -> list[Path]:
    from kosovo_study.interviews import stage

    del staging
    return stage.build(paths, config=config, **options)


def _interview_parameters(config: StudyConfig, **options: Any) -> dict[str, Any]:
    del options
    return config.interviews_parameters()


# --- book -------------------------------------------------------------------------------


def _book_inputs(paths: ProjectPaths, **options: Any) -> list[Path]:
    from kosovo_study.report import build

    del options
    # registry.csv: the pages list every raw file with its licence and sha256
    files = [*build.data_inputs(paths), *build.book_sources(paths), paths.registry_file]
    return [*files, *environment_inputs(paths)]


_PAGE_IMPORT = re.compile(r"^\s*(?:from|import)\s+(kosovo_study(?:\.\w+)*)", re.MULTILINE)


def book_page_modules(paths: ProjectPaths) -> tuple[str, ...]:
    """Package modules the book's pages import (their code enters the book's key)."""
    found: set[str] = set()
    for page in sorted(paths.book.glob("*.md")) if paths.book.is_dir() else []:
        found.update(_PAGE_IMPORT.findall(page.read_text(encoding="utf-8")))
        # ``from kosovo_study.report import book, figures``: the imported submodules
        for base, names in re.findall(
            r"^\s*from\s+(kosovo_study(?:\.\w+)*)\s+import\s+([\w ,]+)$",
            page.read_text(encoding="utf-8"),
            re.MULTILINE,
        ):
            found.update(f"{base}.{name.strip()}" for name in names.split(","))
    return tuple(sorted(found))


def _book_prepare(paths: ProjectPaths) -> None:
    from kosovo_study.report import build

    build.prepare(paths)


def _book_build(
    paths: ProjectPaths, config: StudyConfig, staging: None, jobs: int | None = None
) -> list[Path]:
    from kosovo_study.report import build

    del config, staging
    # The PDF is printed in the same run, so that the footer's "PDF of the whole book"
    # link of every HTML page resolves (issue 21).
    return build.build_html(paths, jobs=jobs, pdf=True)


# --- the list ---------------------------------------------------------------------------

_PROCESSED = "data/processed"
_RESULTS = "data/processed/results"
_FIGURES = "book/_build/figures"

STAGES: tuple[Stage, ...] = (
    Stage(
        "clean",
        "clean: raw data -> validated tables",
        _clean_inputs,
        (
            Output(
                f"{_PROCESSED}/municipalities.{{csv,parquet}}",
                "table",
                "kosovo_study.clean.municipal_table.build",
                "38 municipalities: census, Mosaic unemployment concern, mosques, charity "
                "presence, area, confirmed fighters",
            ),
            Output(
                f"{_PROCESSED}/mosaic_top_problems.{{csv,parquet}}",
                "table",
                "kosovo_study.clean.mosaic.top_problems",
                "every cell of the Mosaic '3 main problems' sheets, 2012 and 2015, tidy",
            ),
            Output(
                f"{_PROCESSED}/countries.{{csv,parquet}}",
                "table",
                "kosovo_study.clean.countries.build",
                "ICSR 2013/2015 figures, WDI, Pew, fractionalisation, HDI and the D&S outcome "
                "by ISO3",
            ),
            Output(
                f"{_PROCESSED}/kosovo_national.{{csv,parquet}}",
                "table",
                "kosovo_study.clean.fighters.national",
                "published national figures on Kosovo's fighters, plus the harmonised total series",
            ),
            Output(
                f"{_PROCESSED}/municipality_polygons.parquet",
                "GeoParquet",
                "kosovo_study.clean.boundaries.write_polygons",
                "the 38 municipality polygons (WGS84) the book's maps read",
            ),
            Output(
                f"{_PROCESSED}/rejects.{{csv,parquet}}",
                "table",
                "kosovo_study.clean.io.Ledger.rejects_frame",
                "every raw row set aside, with file, line and reason",
            ),
            Output(
                f"{_PROCESSED}/cleaning_report.{{csv,parquet}}",
                "table",
                "kosovo_study.clean.io.Ledger.report",
                "rows read, out of scope, rejected and used, per table and file",
            ),
            Output(
                f"{_PROCESSED}/variables.{{csv,parquet}}",
                "table",
                "kosovo_study.clean.municipal_table.coverage",
                "unit, year, source and coverage (e.g. 34/38) of every variable",
            ),
            Output(
                f"{_PROCESSED}/designated_charities.{{csv,parquet}}",
                "table",
                "kosovo_study.clean.designations.entity_table",
                "designated Islamic charitable, relief or da'wa entities (OFAC SDN 2021, UN "
                "Al-Qaida list 2014): class, countries, listing date, source; entities only",
            ),
            Output(
                f"{_PROCESSED}/designated_charity_measures.{{csv,parquet}}",
                "table",
                "kosovo_study.clean.designations.country_measures",
                "designated-charity presence before 2014 by ISO3: any, count, Gulf-only, UN-only",
            ),
            Output(
                f"{_PROCESSED}/edgerton_cells.{{csv,parquet}}",
                "table",
                "kosovo_study.clean.cells.cell_table",
                "Edgerton (2023) recruits per PRIO-GRID cell holding part of Kosovo, with "
                "population-weighted covariates (REAL; not committed: no licence upstream)",
            ),
            Output(
                f"{_PROCESSED}/edgerton_cell_overlay.{{csv,parquet}}",
                "table",
                "kosovo_study.clean.cells.overlay",
                "area of each municipality in each cell, the shares the covariates are weighted by",
            ),
            Output(
                f"{_PROCESSED}/ds2016_features.{{csv,parquet}}",
                "table",
                "kosovo_study.clean.ds2016.read_features",
                "Derpanopoulos & Sonnet (2016) imputed country features, validated, for the "
                "rebuild of their model (not committed: their replication file)",
            ),
        ),
        ("kosovo_study.clean",),
        _no_parameters,
        _clean_build,
        staged=True,
    ),
    Stage(
        "models",
        "models: municipal and cross-national analyses",
        _model_inputs,
        (
            Output(
                f"{_RESULTS}/municipal_*.csv",
                "results",
                "kosovo_study.models.municipal.analyse",
                "municipal Poisson/NB2 IRRs, permutation p-values, bootstrap intervals, "
                "leave-one-out, confirmed vs fitted; randomization tests with Fisher "
                "intervals, Holm and Romano-Wolf p over the plan's primary family "
                "(SYNTHETIC unless restricted data)",
            ),
            Output(
                f"{_RESULTS}/crossnational_*.csv",
                "results",
                "kosovo_study.models.crossnational.analyse",
                "cross-national count models: model choice by cross-validated log score, "
                "calibration and rootograms, in-sample and out-of-fold calibration verdicts "
                "at 20/25/30% (crossnational_calibration), multiple-imputation estimates "
                "and AMEs, Kosovo "
                "and Western Balkans predictions, point-rule sensitivity, verdicts against "
                "published results",
            ),
            Output(
                f"{_RESULTS}/crossnational_imputation_*.csv",
                "results",
                "kosovo_study.models.crossnational.imputation_chains.analyse",
                "convergence of the cross-national multiple imputation: mean and SD of the "
                "imputed cells per chain and cycle, Gelman-Rubin R-hat per variable, observed "
                "and imputed values",
            ),
            Output(
                f"{_RESULTS}/diagnostics_*.csv",
                "results",
                "kosovo_study.models.diagnostics.analyse",
                "count-model diagnostics after DHARMa (municipal Poisson/NB2 and the chosen "
                "cross-national models): uniformity, dispersion, zero-inflation and outlier "
                "tests, Moran's I on the municipal contiguity graph, cross-validated log "
                "score and CRPS; rootogram and PIT-histogram data (municipal rows SYNTHETIC "
                "unless restricted data)",
            ),
            Output(
                f"{_RESULTS}/metadata.json",
                "metadata",
                "kosovo_study.models.build_results",
                "outcome source (restricted or synthetic); the restricted file's source "
                "keys, definition and period (never its sha256); input sha256; every seed "
                "and simulation size",
            ),
        ),
        ("kosovo_study.models", "kosovo_study.validation"),
        _models_parameters,
        _models_build,
        staged=True,
        needs=("clean",),
        notice=outcome_notice,
    ),
    # The design diagnosis has a stage of its own: about 5 million compiled NB2 fits (a
    # minute or two on 2 cores) that read no outcome and change only with the design,
    # its sizes and its seed, so the models stage stays fast and neither reruns the other.
    Stage(
        "design",
        "design: diagnosis of the municipal and cell designs (power, coverage, bias, RMSE, "
        "type S and M, with Monte Carlo SEs)",
        _design_inputs,
        (
            Output(
                f"{_RESULTS}/design_*.{{csv,parquet}}",
                "results",
                "kosovo_study.models.diagnosis.diagnose",
                "design diagnosis: power, coverage, bias and RMSE of the rate ratio, type-S "
                "and type-M error of the Wald, size-corrected Wald and randomization tests, "
                "each with its Monte Carlo SE (municipal: simulation; cells: exact); minimum "
                "detectable effects",
            ),
        ),
        ("kosovo_study.models.diagnosis",),
        _design_parameters,
        _design_build,
        staged=True,
        needs=("clean",),
    ),
    Stage(
        "multiverse",
        "multiverse: every specification with randomization inference",
        _multiverse_inputs,
        (
            Output(
                f"{_RESULTS}/multiverse_*.{{csv,parquet,json}}",
                "results",
                "kosovo_study.models.multiverse_stage.write_multiverse",
                "every specification (estimate, interval, randomization p), joint tests "
                "(multiverse_calibrated_joint_test: over the calibrated cross-national "
                "specifications, re-selected in each null draw), summary; "
                "multiverse_null.parquet: each municipal specification's permuted "
                "z statistics",
            ),
            Output(
                f"{_RESULTS}/verdict.{{csv,parquet}}",
                "results",
                "kosovo_study.models.verdict.write_verdict",
                "what holds and what does not: one row per claim (estimate, interval, "
                "Holm-adjusted p where the plan says, verdict and its basis), from the "
                "models' and the multiverse's results",
            ),
        ),
        ("kosovo_study.models.multiverse_stage", "kosovo_study.models.verdict"),
        _multiverse_parameters,
        _multiverse_build,
        staged=True,
        needs=("clean", "models"),
        notice=outcome_notice,
    ),
    Stage(
        "interviews",
        "interviews: export (or synthetic study) -> pseudonymised tables",
        _interview_inputs,
        (
            Output(
                f"{_PROCESSED}/interview_*.{{csv,parquet}}",
                "table",
                "kosovo_study.interviews.pipeline.import_interviews",
                "pseudonymised, redacted segments; respondent x code matrix; co-occurrence; "
                "reliability; located import problems (SYNTHETIC unless a real export is "
                "supplied)",
            ),
            Output(
                f"{_RESULTS}/interview_model.csv",
                "results",
                "kosovo_study.interviews.model.fit",
                "interviewee-level logistic model: odds ratios, municipality-clustered intervals",
            ),
        ),
        ("kosovo_study.interviews.stage",),
        _interview_parameters,
        _interview_build,
    ),
    Stage(
        "book",
        "book: executing pages and building HTML (jupyter-book)",
        _book_inputs,
        (
            Output(
                "book/_build/html",
                "book",
                "kosovo_study.report.build.build_html",
                "the Jupyter Book; every number glued from results",
            ),
            Output(
                f"{_FIGURES}/fighters-over-time.{{png,svg}}; data: fighters-over-time.csv",
                "figure",
                "kosovo_study.report.figures.fighters_over_time",
                "published national totals by date; undated totals apart",
            ),
            Output(
                f"{_FIGURES}/fighters-composition.{{png,svg}}; data: fighters-composition.csv",
                "figure",
                "kosovo_study.report.figures.composition",
                "men, women and children by source",
            ),
            Output(
                f"{_FIGURES}/map-unemployment-concern.{{png,svg}}; data: "
                "map-unemployment-concern.csv",
                "figure",
                "kosovo_study.report.figures.choropleth",
                "municipal map: unemployment concern 2012 (also map-charities, map-mosques, "
                "map-muslim-share, map-youth-share)",
            ),
            Output(
                f"{_FIGURES}/design-power-mc.{{png,svg}}; data: design-power-mc.csv",
                "figure",
                "kosovo_study.report.figures.design_power_mc",
                "design diagnosis: power of the randomization and size-corrected Wald tests "
                "against the true IRR, by assumed overdispersion, with Monte Carlo error bands",
            ),
            Output(
                f"{_FIGURES}/municipal-irr.{{png,svg}}; data: municipal-irr.csv",
                "figure",
                "kosovo_study.report.figures.irr_forest",
                "municipal incidence-rate ratios with 95% intervals (SYNTHETIC outcome unless "
                "restricted counts are supplied)",
            ),
            Output(
                f"{_FIGURES}/spec-curve-unemployment.{{png,svg}}; data: "
                "spec-curve-unemployment.csv",
                "figure",
                "kosovo_study.report.figures.specification_curve",
                "specification curve of unemployment concern (also spec-curve-charity with "
                "placebos apart, spec-curve-crossnational)",
            ),
            Output(
                f"{_FIGURES}/imputation-trace.{{png,svg}}; data: imputation-trace.csv",
                "figure",
                "kosovo_study.report.figures.imputation_trace",
                "multiple imputation: chain means and SDs of the imputed cells by cycle, one "
                "line per chain (mice's trace plot)",
            ),
            Output(
                f"{_FIGURES}/imputation-densities.{{png,svg}}; data: imputation-densities.csv",
                "figure",
                "kosovo_study.report.figures.imputation_densities",
                "multiple imputation: densities of observed and imputed values per imputed "
                "covariate (mice's densityplot)",
            ),
            Output(
                f"{_FIGURES}/<table>.csv",
                "table data",
                "kosovo_study.report.book.show_table",
                "the values of every table the book shows (linked as 'data' beside it); "
                "tables are rendered to HTML and LaTeX by kosovo_study.report.tables",
            ),
        ),
        # the pages' helpers, the build itself and the Sphinx extension the book loads
        (
            "kosovo_study.report",
            "kosovo_study.report.build",
            "kosovo_study.report.sphinx_ext",
            "kosovo_study.report.numbered_tables",
        ),
        _no_parameters,
        _book_build,
        needs=("clean", "models", "design", "multiverse", "interviews"),
        page_modules=book_page_modules,
        prepare=_book_prepare,
    ),
)
STAGE_BY_NAME: dict[str, Stage] = {stage.name: stage for stage in STAGES}


def _stage(name: str) -> Stage:
    if name not in STAGE_BY_NAME:
        raise KosovoStudyError(f"No stage {name!r}; the stages are {[s.name for s in STAGES]}.")
    return STAGE_BY_NAME[name]


def _expand(pattern: str) -> list[str]:
    """``a/{b,c}.{csv,parquet}`` -> the four paths (shell-style braces, one level)."""
    found = re.search(r"\{([^{}]*)\}", pattern)
    if found is None:
        return [pattern]
    return [
        expanded
        for option in found.group(1).split(",")
        for expanded in _expand(pattern[: found.start()] + option + pattern[found.end() :])
    ]


def output_files_present(name: str, paths: ProjectPaths) -> bool:
    """True when every output the stage lists (each pattern) matches at least one file."""
    for output in _stage(name).outputs:
        for pattern in _expand(output.path.split(";")[0].strip()):
            if "<" in pattern:
                continue  # a placeholder (one file per table), not a pattern
            if next(paths.root.glob(pattern), None) is None:
                return False
    return True


def upstream(name: str) -> tuple[str, ...]:
    """Every stage whose outputs ``name`` reads, directly or through another (in order)."""
    found: set[str] = set()
    pending = list(_stage(name).needs)
    while pending:
        need = pending.pop()
        if need not in found:
            found.add(need)
            pending.extend(_stage(need).needs)
    return tuple(stage.name for stage in STAGES if stage.name in found)


def missing_needs(name: str, paths: ProjectPaths) -> list[str]:
    """Stages (in pipeline order) whose outputs ``name`` reads and which are missing."""
    pending: set[str] = set()

    def visit(stage: str) -> None:
        for need in _stage(stage).needs:
            if need not in pending and not output_files_present(need, paths):
                pending.add(need)
                visit(need)

    visit(name)
    return [stage.name for stage in STAGES if stage.name in pending]


def uses_parameter(name: str, parameter: str, config: StudyConfig | None = None) -> bool:
    """True when the stage ``name`` uses the configuration field ``parameter``: changing
    it changes the stage's parameters (its key).  The lock timeout concerns every stage."""
    import dataclasses

    config = config or StudyConfig()
    if parameter == "lock_timeout_seconds":
        return True
    value = getattr(config, parameter)
    changed = dataclasses.replace(config, **{parameter: value + 1})
    stage = _stage(name)
    return bool(stage.parameters(config) != stage.parameters(changed))


def key(
    name: str, paths: ProjectPaths, config: StudyConfig | None = None, **options: Any
) -> dict[str, Any]:
    """What decides whether the stage ``name`` reruns, as :func:`run` computes it: the
    sha256 of every input, of the parameters and of the code (without running it)."""
    stage = _stage(name)
    config = config or load_config(paths.root)
    return {
        "inputs": hash_files(stage.inputs(paths, **options), paths.root),
        "parameters_sha256": parameters_sha256(stage.parameters(config, **options)),
        "code_fingerprint": stage_fingerprint(stage.code_roots(paths)),
    }


def run(
    name: str,
    paths: ProjectPaths | None = None,
    config: StudyConfig | None = None,
    force: bool = False,
    *,
    run_needs: bool = True,
    **options: Any,
) -> StageResult:
    """Run the stage called ``name`` (see :data:`STAGES`); skipped when up to date.

    With ``run_needs``, the stages whose outputs it reads are run first when their
    outputs are missing (with their default options); otherwise a missing one is named
    in the error.  ``options`` are the stage's own (the multiverse's ``n_jobs``,
    ``scheduler`` and ``grid``; the interviews' ``export`` and ``synthetic``).  Passing
    an interview ``export`` always reruns that stage.
    """
    stage = _stage(name)
    paths = paths or project_paths()
    config = config or load_config(paths.root)
    missing = missing_needs(name, paths)
    if missing and not run_needs:
        raise KosovoStudyError(
            f"The {name} stage reads the outputs of {', '.join(missing)}, which are missing. "
            f"Run `kosovo-study report --to {name}` (it runs the stages in order)."
        )
    for need in missing:
        run(need, paths, config, run_needs=False)
    if name == "interviews" and options.get("export") is not None:
        force = True
    stage.prepare(paths)

    def build(staging: Staging | None = None) -> list[Path]:
        return [Path(p) for p in stage.build(paths, config, staging, **options)]

    return run_stage(
        name,
        stage.inputs(paths, **options),
        build,
        paths,
        force,
        parameters=stage.parameters(config, **options),
        modules=stage.code_roots(paths),
        staged=stage.staged,
        lock_timeout=config.lock_timeout_seconds,
        reads=upstream(name),
    )
