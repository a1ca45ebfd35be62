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


def test_crossnational_finding_reads_the_coefficients() -> None:
    coefficients = pd.DataFrame(
        {
            "model": ["youth", "youth", "with_hdi"],
            "estimator": "nb2",
            "point_rule": "mid",
            "term": [
                "youth_unemployment_pct_2010_2013",
                "hdi_2015",
                "youth_unemployment_pct_2010_2013",
            ],
            "incidence_rate_ratio": [2.0993, 1.5, 2.5],
            "irr_low": [1.4, 1.0, 1.1],
            "irr_high": [3.15, 2.0, 4.0],
        }
    )
    finding = numbers.crossnational_findings({"crossnational_coefficients": coefficients})
    assert finding["cn_unemployment_finding"] == (
        "youth unemployment 2.10 per SD (95% interval 1.40 to 3.15)"
    )
