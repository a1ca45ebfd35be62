"""The ``models`` stage: processed tables -> results as data in ``data/processed/results/``.

Every result table is written as CSV with a JSON sidecar of metadata: the outcome
source (restricted or synthetic), the sha256 of the inputs, the seeds and sizes of
the simulations, and the package version.  The book reads these files and never
refits a model.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from kosovo_study import __version__
from kosovo_study.config import StudyConfig
from kosovo_study.manifest import published_hashes
from kosovo_study.models.design import municipal_design
from kosovo_study.models.outcome import (
    FIGHTERS_TOTAL,
    GENERATOR_ALPHA,
    GENERATOR_IRR,
    TOTAL_DEFINITIONS,
    TOTAL_SOURCE_KEY,
    load_outcome,
    locate_restricted,
    national_totals,
)
from kosovo_study.paths import ProjectPaths, project_paths
from kosovo_study.plan import PLAN_FILE, load_plan
from kosovo_study.storage import write_table, write_text_atomic

# The estimation modules (statsmodels, scipy, the compiled engine: about 4 s of imports)
# are imported where a function needs them, not here: every ``kosovo_study.models.*``
# import (the book's pages, the CLI's up-to-date checks) runs this file first.

#: Tables that depend on the municipal outcome (and so may be synthetic).
MUNICIPAL_TABLES = (
    "municipal_coefficients",
    "municipal_tidy",
    "municipal_fit",
    "municipal_influence",
    "municipal_leave_one_out",
    "municipal_confirmed_vs_fitted",
    "diagnostics_tests",
    "diagnostics_rootogram",
    "diagnostics_pit",
    "municipal_randomization",
    "municipal_family_adjustment",  # its municipal rows
)


#: The processed tables (written by the clean stage) the models stage reads.
PROCESSED_TABLES = ("municipalities", "countries", "kosovo_national")


def input_files(paths: ProjectPaths) -> list[Path]:
    """Processed tables, published results, the cross-national comparison's files, and
    the restricted file when it is there.

    Locating the restricted file stops the run when anything odd sits at or near its
    path (see :func:`kosovo_study.models.outcome.locate_restricted`).
    """
    from kosovo_study.models import crossnational, evidence

    restricted = locate_restricted(paths)  # first: an odd restricted path stops the run
    files = [
        paths.processed / "municipalities.csv",
        paths.processed / "countries.csv",
        paths.processed / "kosovo_national.csv",
        paths.transcribed / "published_results.csv",
        # read by the cross-national comparison (D&S imputed file, term map)
        *crossnational.extra_input_files(paths),
        *evidence.input_files(paths),
    ]
    return [*files, restricted] if restricted is not None else files


def stage_input_files(paths: ProjectPaths) -> list[Path]:
    """Every file the models stage reads: :func:`input_files` (recorded in the results'
    metadata, the processed tables in their CSV form) and the Parquet form of each
    processed table, which is what :func:`read_processed` reads."""
    from kosovo_study.clean.boundaries import POLYGONS_FILE

    files = input_files(paths)  # first: an odd restricted path stops the run
    read = [paths.processed / f"{name}.parquet" for name in PROCESSED_TABLES]
    # the municipality polygons: the contiguity graph of the residual diagnostics
    return [*read, paths.processed / POLYGONS_FILE, *files]


def read_processed(paths: ProjectPaths, name: str) -> pd.DataFrame:
    return pd.read_parquet(paths.processed / f"{name}.parquet")


def build_results(
    paths: ProjectPaths,
    settings: StudyConfig | None = None,
    bootstrap_replicates: int = 199,
    crossnational_seed: int = 2015,
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Every result table and the run's metadata, in memory (``settings``: the study's
    parameters, :class:`kosovo_study.config.StudyConfig` by default; the municipal
    analysis reads its sizes and seeds)."""
    from kosovo_study.clean.boundaries import read_processed_polygons
    from kosovo_study.models import crossnational, diagnostics, evidence, municipal
    from kosovo_study.models.crossnational import comparison, imputation_chains

    settings = settings if settings is not None else StudyConfig()
    municipalities = read_processed(paths, "municipalities")
    national = read_processed(paths, "kosovo_national")
    countries = read_processed(paths, "countries")
    published = comparison.read_published(paths.transcribed / comparison.PUBLISHED_FILE)
    design = municipal_design(municipalities)
    outcome = load_outcome(paths, design, national, settings.synthetic_outcome_seed)
    totals = national_totals(national)
    cn_settings = replace(
        crossnational.settings_from_config(settings),
        simulation_draws=max(int(bootstrap_replicates), 20),
        seed=crossnational_seed,
    )
    # The design diagnosis is a stage of its own (kosovo_study.models.diagnosis).
    country_results = crossnational.analyse_from(paths, countries, published, cn_settings)
    results = municipal.analyse(
        design,
        outcome,
        municipalities,
        settings,
        plan=load_plan(paths=paths) if (paths.root / PLAN_FILE).is_file() else None,
        crossnational_estimates=crossnational.primary_rows(country_results),
    )
    results.update(country_results)
    # the main imputation's chain and further chains: trace, R-hat, imputed values
    results.update(
        imputation_chains.analyse(
            countries, cn_settings.imputation, imputation_chains.ChainSettings.from_config(settings)
        )
    )
    results.update(evidence.analyse(paths))
    results.update(
        diagnostics.analyse(
            design,
            outcome,
            read_processed_polygons(paths.processed),
            countries,
            country_results["crossnational_fit"],
            settings.diagnostics_simulations,
            settings.diagnostics_refit_simulations,
            settings.diagnostics_seed,
            cn_settings.cv_folds,
            cn_settings.seed,
        )
    )
    metadata: dict[str, Any] = {
        "package_version": __version__,
        # a restricted input by name only (kosovo_study.manifest.published_hashes)
        "inputs_sha256": published_hashes(input_files(paths), paths.root),
        "municipal_outcome_source": outcome.source,
        "municipal_outcome_synthetic": outcome.synthetic,
        "municipal_outcome_description": outcome.description,
        "municipal_n": design.n,
        "municipal_covariate_sd": design.scale,
        "national_total": totals[FIGHTERS_TOTAL],
        "national_total_definition": TOTAL_DEFINITIONS[FIGHTERS_TOTAL],
        "national_totals": totals,
        "national_total_definitions": TOTAL_DEFINITIONS,
        "national_total_source_key": TOTAL_SOURCE_KEY,
        # Values that are not a plain measurement of the unit (e.g. the 2012 Mosaic value
        # of the undivided Mitrovica, used for the south): listed for the reader.
        "municipal_design_notes": list(design.notes),
        "synthetic_generator": {"irr": GENERATOR_IRR, "alpha": GENERATOR_ALPHA},
        # Every StudyConfig parameter of the stage, recorded once (the cross-national
        # settings below leave out their seed and draws, which are in it).
        "parameters": {
            **settings.models_parameters(),
            "crossnational_simulation_draws": bootstrap_replicates,
            "crossnational_seed": crossnational_seed,
        },
        "crossnational_settings": {
            k: v for k, v in cn_settings.record().items() if k not in ("seed", "simulation_draws")
        },
        "crossnational_inputs_sha256": published_hashes(
            crossnational.extra_input_files(paths), paths.root
        ),
        # sha256, source keys, definition and period of the restricted file (None if synthetic)
        "municipal_outcome_provenance": outcome.provenance or None,
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


def load_results(
    paths: ProjectPaths | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Read every result table and the metadata (what the book uses)."""
    paths = paths or project_paths()
    metadata: dict[str, Any] = json.loads((paths.results / "metadata.json").read_text("utf-8"))
    tables = {p.stem: pd.read_csv(p) for p in sorted(paths.results.glob("*.csv"))}
    return tables, metadata
