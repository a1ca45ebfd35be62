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
    # every parameter recorded once: in ``parameters``, nowhere else
    assert stored["parameters"] == {
        **SMALL.models_parameters(),
        "crossnational_simulation_draws": 5,
        "crossnational_seed": 2015,
    }
    assert stored["parameters"]["synthetic_outcome_seed"] == 20_150_126
    assert not set(stored) & set(StudyConfig().as_dict())
    assert not {"seed", "simulation_draws"} & set(stored["crossnational_settings"])
    assert "seed" not in stored["synthetic_generator"]
    assert set(tables["crossnational_sensitivity"].columns) >= {"low", "mid", "high"}
    confirmed = tables["municipal_confirmed_vs_fitted"]
    assert len(confirmed) == 5
    assert pd.notna(confirmed["fitted_nb2"]).all()


def test_each_synthetic_seed_is_a_parameter_of_the_stages_it_feeds() -> None:
    config = StudyConfig(synthetic_outcome_seed=7, interview_seed=8)
    assert config.models_parameters()["synthetic_outcome_seed"] == 7
    assert config.multiverse_parameters()["synthetic_outcome_seed"] == 7
    assert config.interviews_parameters()["interview_seed"] == 8
    assert "interview_seed" not in config.models_parameters()
    assert StudyConfig().synthetic_outcome_seed == 20_150_126
    assert StudyConfig().interview_seed == 2012
