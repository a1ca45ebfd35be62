"""The catalogue of every table and figure the package produces, with the code that makes it.

README.md lists the same outputs (between the ``outputs:start``/``outputs:end``
markers); ``tests/test_readme.py`` keeps the two in sync, as the AEA replication
template asks: each output traced to its program.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Output:
    """One produced artefact."""

    path: str
    kind: str
    made_by: str
    description: str


OUTPUTS: tuple[Output, ...] = (
    Output(
        "data/raw/<registry path>",
        "raw files",
        "kosovo_study.registry.fetch",
        "third-party raw files, fetched and sha256-checked (git-ignored)",
    ),
    Output(
        "book/references.bib",
        "bibliography",
        "kosovo_study.citation.write_bibliography",
        "BibTeX for every source key and every registered raw file",
    ),
    Output(
        "data/processed/municipalities.{csv,parquet}",
        "table",
        "kosovo_study.clean.municipal_table.build",
        "38 municipalities: census, Mosaic unemployment concern, mosques, charity presence, "
        "area, confirmed fighters",
    ),
    Output(
        "data/processed/mosaic_top_problems.{csv,parquet}",
        "table",
        "kosovo_study.clean.mosaic.top_problems",
        "every cell of the Mosaic '3 main problems' sheets, 2012 and 2015, tidy",
    ),
    Output(
        "data/processed/countries.{csv,parquet}",
        "table",
        "kosovo_study.clean.countries.build",
        "ICSR 2013/2015 figures, WDI, Pew, fractionalisation, HDI and the D&S outcome by ISO3",
    ),
    Output(
        "data/processed/kosovo_national.{csv,parquet}",
        "table",
        "kosovo_study.clean.fighters.national",
        "published national figures on Kosovo's fighters, plus the harmonised total series",
    ),
    Output(
        "data/processed/municipality_polygons.parquet",
        "GeoParquet",
        "kosovo_study.clean.boundaries.write_polygons",
        "the 38 municipality polygons (WGS84) the book's maps read",
    ),
    Output(
        "data/processed/rejects.{csv,parquet}",
        "table",
        "kosovo_study.clean.io.Ledger.rejects_frame",
        "every raw row set aside, with file, line and reason",
    ),
    Output(
        "data/processed/cleaning_report.{csv,parquet}",
        "table",
        "kosovo_study.clean.io.Ledger.report",
        "rows read, out of scope, rejected and used, per table and file",
    ),
    Output(
        "data/processed/variables.{csv,parquet}",
        "table",
        "kosovo_study.clean.municipal_table.coverage",
        "unit, year, source and coverage (e.g. 34/38) of every variable",
    ),
    Output(
        "data/processed/results/municipal_*.csv",
        "results",
        "kosovo_study.models.municipal.analyse",
        "municipal Poisson/NB2 IRRs, permutation p-values, bootstrap intervals, "
        "leave-one-out, confirmed vs fitted, power and MDE (SYNTHETIC unless restricted data)",
    ),
    Output(
        "data/processed/results/crossnational_*.csv",
        "results",
        "kosovo_study.models.crossnational.analyse",
        "cross-national count models: model choice by cross-validated log score, calibration "
        "and rootograms, multiple-imputation estimates and AMEs, Kosovo and Western Balkans "
        "predictions, point-rule sensitivity, verdicts against published results",
    ),
    Output(
        "data/processed/results/metadata.json",
        "metadata",
        "kosovo_study.models.build_results",
        "outcome source (restricted or synthetic); the restricted file's sha256, source keys, "
        "definition and period; input sha256; every seed and simulation size",
    ),
    Output(
        "data/processed/results/multiverse_*.{csv,parquet,json}",
        "results",
        "kosovo_study.stages.run_multiverse",
        "every specification (estimate, interval, randomization p), joint tests, summary; "
        "multiverse_null.parquet: each municipal specification's permuted z statistics",
    ),
    Output(
        "data/processed/interview_*.{csv,parquet}",
        "table",
        "kosovo_study.interviews.pipeline.import_interviews",
        "pseudonymised, redacted segments; respondent x code matrix; co-occurrence; "
        "reliability; located import problems (SYNTHETIC unless a real export is supplied)",
    ),
    Output(
        "data/processed/results/interview_model.csv",
        "results",
        "kosovo_study.interviews.model.fit",
        "interviewee-level logistic model: odds ratios, municipality-clustered intervals",
    ),
    Output(
        "book/_build/html",
        "book",
        "kosovo_study.report.build.build",
        "the Jupyter Book; every number glued from results",
    ),
    Output(
        "book/_build/figures/fighters-over-time.{png,svg}; data: fighters-over-time.csv",
        "figure",
        "kosovo_study.report.figures.fighters_over_time",
        "published national totals by date; undated totals apart",
    ),
    Output(
        "book/_build/figures/fighters-composition.{png,svg}; data: fighters-composition.csv",
        "figure",
        "kosovo_study.report.figures.composition",
        "men, women and children by source",
    ),
    Output(
        "book/_build/figures/map-unemployment-concern.{png,svg}; data: map-unemployment-concern.csv",
        "figure",
        "kosovo_study.report.figures.choropleth",
        "municipal map: unemployment concern 2012 (also map-charities, map-mosques, map-muslim-share, map-youth-share)",
    ),
    Output(
        "book/_build/figures/design-power-curves.{png,svg}; data: design-power-curves.csv",
        "figure",
        "kosovo_study.report.figures.design_power_curves",
        "design analysis under stated assumptions: power of the permutation and "
        "size-corrected Wald tests against the true IRR, by assumed overdispersion",
    ),
    Output(
        "book/_build/figures/municipal-irr.{png,svg}; data: municipal-irr.csv",
        "figure",
        "kosovo_study.report.figures.irr_forest",
        "municipal incidence-rate ratios with 95% intervals (SYNTHETIC outcome unless restricted counts are supplied)",
    ),
    Output(
        "book/_build/figures/spec-curve-unemployment.{png,svg}; data: spec-curve-unemployment.csv",
        "figure",
        "kosovo_study.report.figures.specification_curve",
        "specification curve of unemployment concern (also spec-curve-charity with placebos apart, spec-curve-crossnational)",
    ),
    Output(
        "book/_build/figures/<table>.csv",
        "table data",
        "kosovo_study.report.book.show_table",
        "the values of every table the book shows (linked as 'data' beside it); tables are "
        "rendered to HTML and LaTeX by kosovo_study.report.tables",
    ),
    Output(
        "data/processed/manifests/<stage>.json",
        "manifest",
        "kosovo_study.manifest.run_stage",
        "input and output sha256, parameters, code fingerprint, version, commit and runtime "
        "of each stage",
    ),
)


def readme_table() -> str:
    """The Markdown table README.md shows between its output markers."""
    lines = ["| output | kind | made by | what it is |", "|---|---|---|---|"]
    lines += [f"| `{o.path}` | {o.kind} | `{o.made_by}` | {o.description} |" for o in OUTPUTS]
    return "\n".join(lines)
