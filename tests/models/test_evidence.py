"""The real-evidence result tables: present, validated, labelled REAL and from the plan."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kosovo_study.errors import ValidationError
from kosovo_study.models import evidence
from kosovo_study.paths import ProjectPaths
from kosovo_study.plan import load_plan


@pytest.fixture(scope="module")
def results(
    clean_tables: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, pd.DataFrame]:
    from tests.conftest import make_project

    paths = make_project(tmp_path_factory.mktemp("evidence") / "project")
    paths.processed.mkdir(parents=True)
    for name in evidence.PROCESSED_INPUTS:
        clean_tables[name].to_parquet(paths.processed / f"{name}.parquet", index=False)
    return evidence.analyse(paths)


def test_every_table_is_there_validated_and_labelled(results: dict[str, pd.DataFrame]) -> None:
    assert set(results) == set(evidence.SCHEMAS)
    for name, table in results.items():
        assert len(table) > 0, name
        assert table["data_label"].str.startswith("REAL").all(), name
        assert table["plan_label"].isin(["primary", "secondary", "exploratory"]).all(), name
        evidence.SCHEMAS[name].validate(table)


def test_labels_follow_the_plan(results: dict[str, pd.DataFrame]) -> None:
    tests = results["evidence_edgerton_tests"].set_index("term")["plan_label"]
    # The plan lists the three cell analyses as secondary; the border sensitivity is not
    # in the plan, so it is exploratory.
    assert tests["multinomial_population_shares"] == "secondary"
    assert tests["unemployment_concern_2012"] == "secondary"
    assert tests["charity_evidence_pre2014"] == "secondary"
    assert tests["multinomial_population_shares_border_lower"] == "exploratory"
    kosovo = results["evidence_charity_kosovo"].set_index("measure")["plan_label"]
    assert kosovo["designated_charity_presence_pre2014"] == "primary"  # H4
    assert kosovo["designated_gulf_charity_presence_pre2014"] == "secondary"
    assert (results["evidence_charity_measures"]["plan_label"] == "primary").all()


def test_cell_table_and_tests_hold_the_14_recruits(results: dict[str, pd.DataFrame]) -> None:
    cells = results["evidence_edgerton_cells"]
    assert int(cells.loc[cells["in_main_analysis"], "recruits"].sum()) == 14
    assert cells.loc[cells["in_main_analysis"], "population_share_main"].sum() == (
        pytest.approx(1.0)
    )
    tests = results["evidence_edgerton_tests"].set_index("term")
    assert tests.loc["multinomial_population_shares", "recruits"] == 14
    assert tests.loc["multinomial_population_shares", "cells"] == 5
    # the exact multinomial p-value, as in tests/models/test_cells.py (rounded cells there)
    assert tests.loc["multinomial_population_shares", "p_value"] == pytest.approx(0.0077, abs=5e-4)
    design = results["evidence_edgerton_design"]
    assert (design["power_mc_se"] > 0).all()


def test_kosovo_has_a_designated_charity_before_2014(results: dict[str, pd.DataFrame]) -> None:
    kosovo = results["evidence_charity_kosovo"].set_index("measure")
    # RIHS (Pristina office) and the Global Relief Foundation (Gjakova): see
    # tests/clean/test_designations.py for the entity-level check.
    assert kosovo.loc["designated_charity_presence_pre2014", "value"] == 1
    assert kosovo.loc["designated_charity_presence_pre2014", "rank"] == 1
    measures = results["evidence_charity_measures"].set_index("iso3")
    assert measures.loc["XKX", "designated_charity_count_pre2014"] == 2


def test_a_missing_plan_stops_the_analysis(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no analysis plan"):
        evidence.analyse(ProjectPaths(tmp_path))


def test_inputs_name_the_plan_and_the_processed_tables(fetched_project: ProjectPaths) -> None:
    """Editing the plan (or a processed evidence table) reruns the models stage."""
    from kosovo_study.models import input_files

    names = {p.name for p in input_files(fetched_project)}
    assert "analysis_plan.yaml" in names
    assert {f"{n}.parquet" for n in evidence.PROCESSED_INPUTS} <= names
    assert load_plan(paths=fetched_project).sha256  # the fixture project carries the plan
