"""The real-evidence results: the Edgerton (2023) cells and designated-charity presence.

:func:`analyse` reads the processed tables the clean stage wrote
(``edgerton_cells``, ``edgerton_cell_overlay``, ``designated_charity_measures``) and
returns the result tables the models stage writes to ``data/processed/results``:

* ``evidence_edgerton_cells``: one row per cell that holds part of Kosovo (recruits,
  Kosovo population, covariates, Kosovo's share of the cell's area, the population share
  of the main analysis);
* ``evidence_edgerton_overlay``: the municipality-by-cell overlay (area and population
  shares) behind the cell covariates;
* ``evidence_edgerton_tests``: the exact multinomial test, the conditional Poisson model
  (rate ratio per SD, exact permutation and parametric p-values) and the border-cell
  sensitivity (:func:`kosovo_study.models.cells.analyse`);
* ``evidence_edgerton_design``: the design analysis (exact power, its Monte Carlo check
  and that check's standard error);
* ``evidence_charity_measures``: the designated-charity measure and its variants per
  country;
* ``evidence_charity_kosovo``: Kosovo's value and place in the distribution of each
  measure.

Every row carries ``data_label`` (REAL, with its caveats) and ``plan_label`` (primary,
secondary or exploratory, from :mod:`kosovo_study.plan`).  The Edgerton tables hold
data of a repository without a licence: like every file under ``data/processed`` they
are never committed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandera.pandas import Check, Column

from kosovo_study.clean import cells as clean_cells
from kosovo_study.clean import designations
from kosovo_study.models import cells as model_cells
from kosovo_study.paths import ProjectPaths
from kosovo_study.plan import PLAN_FILE, AnalysisPlan, load_plan
from kosovo_study.tablefile import check

CHARITY_LABEL = (
    "REAL: designated Islamic charitable, relief or da'wa entities with an address or "
    "office in the country, designated or listed before 2014 (OFAC SDN list, April 2021; "
    "UN Al-Qaida list, 2014-11-19); measures designated, terror-linked presence, "
    "undesignated charities score 0"
)
#: The processed tables read here (written by the clean stage).
PROCESSED_INPUTS = ("edgerton_cells", "edgerton_cell_overlay", "designated_charity_measures")
#: The cell-level plan term of the cell table's rows (the analysis the table feeds).
CELL_TABLE_TERM = "multinomial_population_shares"
#: The measure that H4 names (every entity class, Gulf-linked or not).
MAIN_CHARITY_MEASURE = "designated_charity_presence_pre2014"
DISTRIBUTION = "every country and territory in the countries table"

_LABELS = {
    "data_label": Column(str, Check.str_startswith("REAL")),
    "plan_label": Column(str, Check.isin(["primary", "secondary", "exploratory"])),
}
_P = Column(float, Check.in_range(0, 1), nullable=True)

CELLS_SCHEMA = pa.DataFrameSchema(
    {**clean_cells.CELL_SCHEMA.columns, **_LABELS}, strict=True, ordered=True
)
OVERLAY_SCHEMA = pa.DataFrameSchema(
    {**clean_cells.OVERLAY_SCHEMA.columns, **_LABELS},
    strict=True,
    unique=["gid", "municipality_id"],
)
TESTS_SCHEMA = pa.DataFrameSchema(
    {
        "analysis": Column(str),
        "term": Column(str, unique=True),
        "estimate": Column(float, Check.gt(0), nullable=True),
        "statistic": Column(str),
        "statistic_value": Column(float, Check.ge(0)),
        "p_value": _P,
        "p_value_g2": _P,
        "p_value_parametric": _P,
        "reference_set": Column(str),
        # Fisher interval of the rate ratio per SD (test inversion); inf = no bound
        "fisher_low": Column(float, Check.ge(0), nullable=True),
        "fisher_high": Column(float, Check.ge(0), nullable=True),
        "recruits": Column(int, Check.ge(0)),
        "cells": Column(int, Check.ge(2)),
        **_LABELS,
    },
    strict=True,
    ordered=True,
)
DESIGN_SCHEMA = pa.DataFrameSchema(
    {
        "term": Column(str, Check.isin(list(model_cells.FOCAL_TERMS))),
        "rate_ratio_per_sd": Column(float, Check.ge(1)),
        "power": Column(float, Check.in_range(0, 1)),
        "power_mc": Column(float, Check.in_range(0, 1)),
        "power_mc_se": Column(float, Check.ge(0)),
        "power_parametric": Column(float, Check.in_range(0, 1)),
        "power_multinomial_test": Column(float, Check.in_range(0, 1)),
        "simulations": Column(int, Check.gt(0)),
        "alpha": Column(float, Check.in_range(0, 1)),
        "recruits": Column(int, Check.ge(0)),
        "cells": Column(int, Check.ge(2)),
        **_LABELS,
    },
    strict=True,
    ordered=True,
)
CHARITY_MEASURES_SCHEMA = pa.DataFrameSchema(
    {**designations.COUNTRY_SCHEMA.columns, **_LABELS}, strict=True, ordered=True
)
CHARITY_KOSOVO_SCHEMA = pa.DataFrameSchema(
    {
        "measure": Column(str, Check.isin(list(designations.MEASURES)), unique=True),
        "value": Column(float, Check.ge(0)),
        "rank": Column(float, Check.ge(1)),
        "countries": Column(float, Check.gt(1)),
        "share_below": Column(float, Check.in_range(0, 1)),
        "share_equal": Column(float, Check.in_range(0, 1)),
        "distribution": Column(str),
        **_LABELS,
    },
    strict=True,
    ordered=True,
)
SCHEMAS = {
    "evidence_edgerton_cells": CELLS_SCHEMA,
    "evidence_edgerton_overlay": OVERLAY_SCHEMA,
    "evidence_edgerton_tests": TESTS_SCHEMA,
    "evidence_edgerton_design": DESIGN_SCHEMA,
    "evidence_charity_measures": CHARITY_MEASURES_SCHEMA,
    "evidence_charity_kosovo": CHARITY_KOSOVO_SCHEMA,
}


def input_files(paths: ProjectPaths) -> list[Path]:
    """The analysis plan and the processed tables :func:`analyse` reads."""
    return [paths.root / PLAN_FILE, *(paths.processed / f"{n}.parquet" for n in PROCESSED_INPUTS)]


def _labelled(table: pd.DataFrame, data_label: str, plan_labels: str | list[str]) -> pd.DataFrame:
    table = table.reset_index(drop=True).copy()
    table["data_label"] = data_label
    table["plan_label"] = plan_labels
    return table


def analyse(paths: ProjectPaths, plan: AnalysisPlan | None = None) -> dict[str, pd.DataFrame]:
    """The real-evidence result tables (see the module docstring), validated."""
    plan = plan or load_plan(paths=paths)
    processed = {n: pd.read_parquet(paths.processed / f"{n}.parquet") for n in PROCESSED_INPUTS}
    cells = processed["edgerton_cells"]
    cell_label = plan.label(CELL_TABLE_TERM, "cells")
    analysed = model_cells.analyse(cells, plan)
    design = analysed["edgerton_cell_design"]
    tables = {
        "evidence_edgerton_cells": _labelled(cells, clean_cells.REAL_LABEL, cell_label),
        "evidence_edgerton_overlay": _labelled(
            processed["edgerton_cell_overlay"], clean_cells.REAL_LABEL, cell_label
        ),
        "evidence_edgerton_tests": analysed["edgerton_cell_tests"],
        "evidence_edgerton_design": _labelled(
            design.drop(columns="data_label"),
            clean_cells.REAL_LABEL,
            [plan.label(term, "cells") for term in design["term"]],
        ),
    }
    measures = processed["designated_charity_measures"]
    kosovo = designations.kosovo_summary(measures)
    kosovo["distribution"] = DISTRIBUTION
    tables["evidence_charity_measures"] = _labelled(
        measures, CHARITY_LABEL, plan.label(MAIN_CHARITY_MEASURE, "crossnational")
    )
    tables["evidence_charity_kosovo"] = _labelled(
        kosovo, CHARITY_LABEL, [plan.label(m, "crossnational") for m in kosovo["measure"]]
    )
    return {
        name: check(table, SCHEMAS[name], file=f"data/processed/results/{name}")
        for name, table in tables.items()
    }
