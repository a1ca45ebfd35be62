"""The models stage end to end, with small simulation sizes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from kosovo_study import models, stages
from kosovo_study.config import StudyConfig
from kosovo_study.paths import ProjectPaths

SMALL = StudyConfig(permutations=49, bootstrap_replicates=49)


@pytest.mark.slow
def test_results_are_written_with_metadata_and_labelled(scratch_project: ProjectPaths) -> None:
    stages.run("clean", scratch_project)
    results, metadata = models.build_results(scratch_project, SMALL, bootstrap_replicates=5)
    written = models.write_results(results, metadata, scratch_project.results)
    assert (scratch_project.results / "metadata.json") in written
    stored = json.loads((scratch_project.results / "metadata.json").read_text("utf-8"))
    assert stored["municipal_outcome_source"] == "synthetic"
    assert stored["municipal_outcome_synthetic"] is True
    assert "data/processed/municipalities.csv" in stored["inputs_sha256"]
    assert set(stored["synthetic_tables"]) == set(models.MUNICIPAL_TABLES)
    tables, _ = models.load_results(scratch_project)
    coefficients = tables["municipal_coefficients"]
    assert coefficients["synthetic"].all()
    nb2 = coefficients[(coefficients["family"] == "nb2") & (coefficients["term"] != "const")]
    assert nb2["bootstrap_irr_low"].notna().all()
    permuted = nb2.dropna(subset=["permutation_p_value"])
    assert set(permuted["term"]) == {"unemployment_concern_2012", "charity_evidence_pre2014"}
    comparison = tables["crossnational_comparison"]
    published = pd.read_csv(scratch_project.transcribed / "published_results.csv")
    assert len(comparison) >= len(published)  # every transcribed finding, some twice
    assert stored["crossnational_settings"]["imputation"]["imputations"] >= 20
    assert set(tables["crossnational_sensitivity"].columns) >= {"low", "mid", "high"}
    confirmed = tables["municipal_confirmed_vs_fitted"]
    assert len(confirmed) == 5
    assert pd.notna(confirmed["fitted_nb2"]).all()
