"""The shared result object: tidy() columns and order, summary text, validation."""

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
