"""Numbers the prose quotes: computed from the tables, and honest when a result is absent."""

from __future__ import annotations

import pandas as pd
import pytest

from kosovo_study.report import numbers


def _national() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "statistic": ["total_travelled"] * 3 + ["dead"],
            "value": [359.0, 232.0, 316.0, 46.0],
            "reference_date": ["", "2015-01", None, "2015"],
            "source_key": ["A", "B", "C", "D"],
        }
    )


def test_undated_totals_are_listed_in_words() -> None:
    values = numbers.undated_totals(_national())
    assert values["undated_count"] == 2
    assert values["undated_list"] == "359 (A) and 316 (C)"
    assert values["dated_total_max"] == 232.0


def test_kosovo_place_is_computed_per_million() -> None:
    countries = pd.DataFrame(
        {
            "iso3": ["AAA", "XKX", "BBB", "CCC"],
            "icsr_2015_point": [100.0, 125.0, 10.0, 5.0],
            "icsr_2015_listed": [True, True, True, False],
            "population_2014": [1_000_000.0, 1_812_788.0, 100_000.0, 1.0],
        }
    )
    place = numbers.kosovo_place(countries)
    # per million: AAA 100, BBB 100, XKX 125 / 1.812788 = 68.95; CCC is not listed
    assert place["xk_per_million"] == pytest.approx(68.9546, abs=1e-4)
    assert place["xk_rank_per_capita"] == 3
    assert place["xk_listed_countries"] == 3
    assert numbers.kosovo_place(countries[countries["iso3"] != "XKX"]) == {}
    assert numbers.kosovo_place(pd.DataFrame()) == {}


def test_abstract_says_so_when_results_are_missing() -> None:
    values = numbers.abstract({}, {}, {})
    assert "not available" in values["abstract_kosovo_place"]
    assert "not available" in values["abstract_crossnational"]
    assert "not available" in values["abstract_design"]
    for text in values.values():
        assert "nan" not in str(text).lower().split()


def test_crossnational_sentences_say_so_when_results_are_missing() -> None:
    values = numbers.crossnational_sentences({})
    assert values["cn_unemployment_finding"] == "not available in this build"
    assert "not available" in values["abstract_kosovo_prediction"]


def test_abstract_quotes_the_design_diagnosis_mde() -> None:
    """The abstract's detectable effects come from the design stage's ``design_mde``
    (randomization test, municipal study, the adult total), by hand."""
    mde = pd.DataFrame(
        {
            "study": "municipal",
            "term": ["unemployment_concern_2012"] * 2 + ["charity_evidence_pre2014"] * 2,
            "test": "permutation",
            "total_definition": "adults",
            "national_total": 308,
            "generator_alpha": [0.25, 2.0, 0.25, 2.0],
            "target_power": 0.8,
            "mde_irr": [1.74, float("nan"), 2.25, float("nan")],
        }
    )
    values = numbers.abstract({}, {"design_mde": mde}, {"national_total": 308, "municipal_n": 34})
    assert "at least 1.74 for 80% power" in values["abstract_design"]
    assert "at least 2.25 for 80% power" in values["abstract_design"]
    assert "no ratio on the grid suffices at the largest" in values["abstract_design"]
    assert numbers._span(pd.Series([0.104, 0.148])) == "0.10-0.15"
    assert numbers._span(pd.Series([0.951, 0.949])) == "0.95"


def test_glued_clauses_read_as_sentences() -> None:
    from kosovo_study.report import prose

    assert (
        numbers.multiverse_construction({"exact_specifications": 0, "specifications": 64})[
            "mv_exact_clause"
        ]
        == "in none of the specifications"
    )
    assert (
        numbers.multiverse_construction({"exact_specifications": 3, "specifications": 64})[
            "mv_exact_clause"
        ]
        == "in 3 of the 64 specifications"
    )
    sentence = numbers.overdispersion_sentence(
        "overdispersed: NB2 preferred (LR test of alpha = 0, chi-bar-squared null)"
    )
    assert sentence == "The counts are overdispersed, so the NB2 model is preferred to Poisson."
    assert prose.sentence_defects("Overdispersion: " + sentence) == []
    assert numbers.overdispersion_sentence(
        "no evidence of overdispersion (LR test of alpha = 0, chi-bar-squared null); the "
        "Cameron-Trivedi test disagrees (p = 0.01) because of one unit, Ranillug; without "
        "it p = 0.3"
    ).startswith("The counts show no evidence of overdispersion; the Cameron-Trivedi")
    assert numbers._flat("live-let-live.org, undated (c. 2016-2017)") == (
        "live-let-live.org, undated, c. 2016-2017"
    )


def test_headline_deaths_leave_out_low_quality_sources() -> None:
    national = pd.DataFrame(
        {
            "statistic": ["dead", "dead", "total_travelled", "returned"],
            "value": [100.0, 82.0, 300.0, 130.0],
            "low_quality": [True, False, False, False],
            "derived": [False] * 4,
            "source_key": ["a", "b", "c", "d"],
        }
    )
    assert numbers.fighters(national)["dead_max"] == 82


def test_p_values_in_prose_never_use_scientific_notation() -> None:
    assert numbers.p_text(1.1e-09) == "p < 0.001"
    assert numbers.p_text(0.0073) == "p = 0.007"
    assert numbers.p_text(0.018) == "p = 0.018"
