"""The ``interviews`` stage: the real export when a researcher supplies one, else the
synthetic study; pseudonymised tables and the interviewee-level model.

A real export is looked for at ``data/raw/restricted/interviews.{qdpx,csv,xlsx}`` and
needs a pseudonymisation key; without an export, a synthetic study (seed
``StudyConfig.interview_seed``) is generated into ``data/processed/synthetic_interviews/`` and every
table says ``synthetic``.  ``kosovo-study interviews import PATH`` runs the same
stage on PATH (``stages.run("interviews", export=PATH)``): import, refit of the model,
and the stage manifest, all under the stage lock, so that the tables, the model and the
manifest always describe the same export (the book never shows a model of other data).
"""

from __future__ import annotations

from pathlib import Path

from kosovo_study.config import StudyConfig
from kosovo_study.interviews import model
from kosovo_study.interviews.importers import ArchiveLimits
from kosovo_study.interviews.pipeline import (
    TABLES,
    adopt_export,
    import_interviews,
    interviews_lock,
    remove_partial_files,
    write_tables,
)
from kosovo_study.interviews.synthetic import write_study
from kosovo_study.paths import ProjectPaths, project_paths

OUTPUTS = TABLES


def build(
    paths: ProjectPaths,
    export: Path | None = None,
    synthetic: bool = False,
    limits: ArchiveLimits | None = None,
    config: StudyConfig | None = None,
) -> list[Path]:
    """Import ``export`` (default: the restricted export, else the synthetic study) and
    refit the interviewee model; returns the files written.  Run through
    ``kosovo_study.stages.run("interviews", ...)``, which records the stage manifest
    under the stage lock; the import lock is held here as well, for any other importer."""
    # An export given on the command line is kept as data/raw/restricted/interviews.<ext>:
    # the manifest records that neutral path and its sha256 (never the file's name).
    config = config or StudyConfig()
    source = adopt_export(Path(export), paths) if export is not None else paths.interview_export()
    with interviews_lock(paths):
        remove_partial_files(paths)
        if source is None:
            generated = write_study(
                config.interview_seed, paths.processed / "synthetic_interviews"
            )["qdpx"]
            tables = import_interviews(generated, paths, synthetic=True, limits=limits)
        else:
            tables = import_interviews(source, paths, synthetic=synthetic, limits=limits)
        is_synthetic = bool(tables["interview_segments"]["synthetic"].all())
        # fitted on the respondents before k-anonymisation (municipalities are its
        # clusters); only estimates are published
        fitted = model.fit(
            tables.model_input,
            is_synthetic,
            config.interview_bootstrap_draws,
            config.interview_bootstrap_seed,
        )
        estimates = model.table(fitted)
        written = [
            paths.processed / f"{name}.{ext}" for name in OUTPUTS for ext in ("csv", "parquet")
        ]
        return written + write_tables({"interview_model": estimates}, paths.results)


def summary(paths: ProjectPaths | None = None) -> str:
    """One line on what the last run wrote (for the command line)."""
    import pandas as pd

    paths = paths or project_paths()
    segments = pd.read_parquet(paths.processed / "interview_segments.parquet")
    problems = pd.read_parquet(paths.processed / "interview_import_problems.parquet")
    model_table = pd.read_parquet(paths.results / "interview_model.parquet")
    label = "SYNTHETIC" if bool(segments["synthetic"].all()) else "real"
    return (
        f"{len(segments)} segments from {segments['respondent'].nunique()} respondents "
        f"({label}), {len(problems)} problems listed in interview_import_problems; "
        f"interviewee model {model_table['status'].iloc[0]}"
    )
