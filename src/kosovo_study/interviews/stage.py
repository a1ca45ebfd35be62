"""The ``interviews`` stage: the real export when a researcher supplies one, else the
synthetic study; pseudonymised tables and the interviewee-level model.

A real export is looked for at ``data/raw/restricted/interviews.{qdpx,csv,xlsx}`` and
needs a pseudonymisation key; without an export, a synthetic study (seed
:data:`SEED`) is generated into ``data/processed/synthetic_interviews/`` and every
table says ``synthetic``.
"""

from __future__ import annotations

from pathlib import Path

from kosovo_study.interviews import model
from kosovo_study.interviews.pipeline import import_interviews
from kosovo_study.interviews.synthetic import write_study
from kosovo_study.manifest import StageResult, run_stage
from kosovo_study.paths import ProjectPaths, project_paths
from kosovo_study.storage import write_table

SEED = 2012
OUTPUTS = (
    "interview_segments",
    "interview_respondents",
    "interview_cooccurrence",
    "interview_reliability",
    "interview_import_problems",
)


def real_export(paths: ProjectPaths) -> Path | None:
    for suffix in (".qdpx", ".csv", ".xlsx"):
        candidate = paths.restricted / f"interviews{suffix}"
        if candidate.exists():
            return candidate
    return None


def run(paths: ProjectPaths | None = None, force: bool = False) -> StageResult:
    paths = paths or project_paths()
    export = real_export(paths)

    def build() -> list[Path]:
        synthetic = export is None
        source = export or write_study(SEED, paths.processed / "synthetic_interviews")["qdpx"]
        tables = import_interviews(source, paths, synthetic=synthetic)
        estimates = model.fit(tables["interview_respondents"], synthetic=synthetic)
        written = [paths.processed / f"{name}.csv" for name in OUTPUTS]
        return written + write_table(estimates, paths.results, "interview_model")

    return run_stage("interviews", [export] if export else [], build, paths, force=force)
