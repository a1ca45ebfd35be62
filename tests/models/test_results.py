"""The shared result object: tidy() columns and order, summary text, validation."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kosovo_study.models.results import TIDY_COLUMNS, ModelResult, stack_tidy


def _result(synthetic: bool = False) -> ModelResult:
    terms = pd.DataFrame(
        {
            "term": ["charity", "unemployment"],
            "estimate": [1.5, 0.9],
            "conf_low": [1.1, 0.7],
            "conf_high": [2.0, 1.2],
            "p_value": [0.01, np.nan],
            "std_error": [0.1, 0.2],
        }
    )
    return ModelResult("m1", "NB2", "fighters", 34, terms, "IRR", synthetic=synthetic)


def test_tidy_has_fixed_columns_and_n() -> None:
    tidy = _result().tidy()
    assert tuple(tidy.columns) == TIDY_COLUMNS
    assert tidy["n"].tolist() == [34, 34]
    assert "std_error" in _result().tidy(extra=True).columns


def test_summary_flags_synthetic_and_skips_missing_p() -> None:
    text = _result(synthetic=True).summary()
    assert "SYNTHETIC" in text
    assert "p = 0.010" in text
    assert text.count("p = ") == 1


def test_terms_table_must_carry_intervals() -> None:
    with pytest.raises(ValueError, match="conf_low"):
        ModelResult("m", "NB2", "y", 3, pd.DataFrame({"term": ["a"], "estimate": [1.0]}), "IRR")


def test_stack_tidy() -> None:
    assert len(stack_tidy([_result(), _result()])) == 4
    assert list(stack_tidy([]).columns) == list(TIDY_COLUMNS)


def test_from_tidy_rebuilds_a_saved_result(tmp_path: Path) -> None:
    saved = stack_tidy([_result(synthetic=True), replace(_result(), model="m2")], extra=True)
    saved.to_csv(tmp_path / "tidy.csv", index=False)
    table = pd.read_csv(tmp_path / "tidy.csv")
    rebuilt = ModelResult.from_tidy(table, "m1")
    assert rebuilt.n == 34
    assert rebuilt.synthetic
    assert rebuilt.scale == "IRR"
    pd.testing.assert_frame_equal(rebuilt.tidy(extra=True), table[table["model"] == "m1"])
    assert "SYNTHETIC" in rebuilt.summary()
    with pytest.raises(ValueError, match="one model"):
        ModelResult.from_tidy(table)
