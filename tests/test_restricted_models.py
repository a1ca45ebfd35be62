"""The restricted counts through the models: one reader, provenance in metadata and the book."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kosovo_study import models, stages
from kosovo_study.config import StudyConfig
from kosovo_study.errors import ValidationError
from kosovo_study.models.design import municipal_design
from kosovo_study.models.outcome import load_outcome
from kosovo_study.paths import ProjectPaths
from kosovo_study.report import numbers
from tests.restricted import write_restricted

SMALL = StudyConfig(permutations=9, bootstrap_replicates=9)


@pytest.mark.slow
def test_restricted_counts_reach_the_models_with_provenance(
    scratch_project: ProjectPaths,
) -> None:
    stages.run("clean", scratch_project)
    counts = {i: (i * 7) % 17 for i in range(1, 39)}  # 312 persons, inside 232-400
    write_restricted(scratch_project, counts)
    municipalities = models.read_processed(scratch_project, "municipalities")
    national = models.read_processed(scratch_project, "kosovo_national")
    design = municipal_design(municipalities)
    outcome = load_outcome(scratch_project, design, national)
    assert outcome.source == "restricted"
    np.testing.assert_array_equal(outcome.fighters, [counts[i] for i in design.municipality_id])

    results, metadata = models.build_results(scratch_project, SMALL, bootstrap_replicates=3)
    models.write_results(results, metadata, scratch_project.results)
    stored = json.loads((scratch_project.results / "metadata.json").read_text("utf-8"))
    provenance = stored["municipal_outcome_provenance"]
    assert provenance["definition"] == "travelled_or_stopped"
    assert provenance["source_keys"] == ["UNDP2017_DEMO"]
    assert (provenance["period_start"], provenance["period_end"]) == ("2012", "2017")
    # no plain digest of the restricted file is published (issue 22): only the release
    # record's keyed digest names it, unless the data holder publishes the sha256
    assert not provenance.get("sha256")
    assert stored["parameters"]["crossnational_seed"] == 2015
    sentence = numbers.outcome_provenance(stored)["outcome_sentence"]
    assert "**restricted**" in sentence
    assert "HMAC-SHA-256" in sentence
    assert "synthetic" not in sentence.lower()

    # all zeros crashed the models with ZeroDivisionError; now the reader refuses it
    write_restricted(scratch_project, dict.fromkeys(range(1, 39), 0))
    with pytest.raises(ValidationError, match="every count is 0"):
        load_outcome(scratch_project, design, national)


def test_intro_sentence_says_synthetic_without_provenance() -> None:
    values = numbers.outcome_provenance(
        {"municipal_outcome_synthetic": True, "municipal_outcome_provenance": None}
    )
    assert values["outcome_source"] == "SYNTHETIC"
    assert "**synthetic**" in values["outcome_sentence"]


def test_data_status_sentences_follow_the_state() -> None:
    """Every sentence on synthetic / restricted / real data is glued from the state: with
    restricted counts and a real interview import none says 'synthetic'; with synthetic
    inputs every one that concerns them does."""
    import pandas as pd

    restricted = {"municipal_outcome_synthetic": False, "national_total": 310}
    real_interviews = pd.DataFrame({"synthetic": [False, False]})
    values = numbers.data_status(restricted, real_interviews)
    for key, sentence in values.items():
        assert (
            "synthetic" not in sentence.lower()
            or "no chapter" in sentence.lower()
            or ("no synthetic stand-in" in sentence.lower())
        ), key
    assert "restricted counts" in values["status_restricted_paragraph"]
    assert "confidential transcripts" in values["interview_status_sentence"]

    synthetic = numbers.data_status({"municipal_outcome_synthetic": True, "national_total": 310})
    assert "SYNTHETIC" in synthetic["status_title_note"]
    assert "**synthetic**" in synthetic["status_synthetic_paragraph"]
    assert "**synthetic**" in synthetic["interview_status_sentence"]
    mixed = numbers.data_status(restricted, pd.DataFrame({"synthetic": [True]}))
    assert "interview analysis runs on" in mixed["status_synthetic_paragraph"]
    assert "municipal regressions" not in mixed["status_synthetic_paragraph"]


def test_book_prose_states_the_data_status_only_through_glue() -> None:
    """No chapter's prose (outside code cells) asserts by itself that the data are
    synthetic: a literal claim would go stale with restricted inputs (issue 23, item 6).
    Conditional sentences ("when the outcome is synthetic") and definitions are allowed."""
    import re

    from kosovo_study.paths import project_paths

    allowed = (
        "when the outcome is synthetic",
        "without the restricted files",
        "synthetic one",
        "says **synthetic**",
    )
    for page in sorted((project_paths().book).glob("*.md")):
        prose = re.sub(r"(`{3,})[^\n]*\n.*?\1", "", page.read_text("utf-8"), flags=re.DOTALL)
        for sentence in re.split(r"(?<=[.!?])\s+", prose):
            text = " ".join(sentence.replace("`", " ").split()).lower()
            if re.search(r"\bsynthetic\b", text) and not any(a in text for a in allowed):
                assert "{glue" in sentence or "label" in text or "badge" in text, (
                    f"{page.name}: {text[:120]}"
                )
