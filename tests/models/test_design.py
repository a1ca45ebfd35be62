"""The one design builder: units, scaling, offset, notes and the 20-unit minimum."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kosovo_study.errors import KosovoStudyError
from kosovo_study.models.design import MIN_UNITS, build_design, require_units


def _frame(n: int = 25) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "municipality_id": np.arange(n, 0, -1),  # reversed: the builder sorts by id
            "municipality": [f"m{i}" for i in range(n, 0, -1)],
            "population_2011": rng.integers(2_000, 200_000, size=n),
            "unemployment_concern_2012": rng.uniform(0.2, 0.8, size=n),
            "unemployment_concern_2012_status": ["measured"] * (n - 1)
            + ["measured_undivided_mitrovica"],
            "charity_evidence_pre2014": rng.integers(0, 2, size=n),
        }
    )


def test_scaling_offset_and_order_by_hand() -> None:
    frame = _frame()
    design = build_design(frame, ("unemployment_concern_2012", "charity_evidence_pre2014"))
    ordered = frame.sort_values("municipality_id")
    x = ordered["unemployment_concern_2012"].to_numpy()
    np.testing.assert_allclose(design.X[:, 1], (x - x.mean()) / x.std(ddof=1))
    np.testing.assert_array_equal(design.X[:, 2], ordered["charity_evidence_pre2014"])
    np.testing.assert_array_equal(design.X[:, 0], 1.0)
    np.testing.assert_allclose(design.offset, np.log(ordered["population_2011"]))
    assert design.scale == {"unemployment_concern_2012": pytest.approx(x.std(ddof=1))}
    assert list(design.municipality_id) == list(range(1, 26))
    note = (
        "m1, unemployment_concern_2012: the UNDP Mosaic 2012 value of the undivided, pre-2013 "
        "Mitrovica (which included today's North Mitrovica) is used for the south"
    )
    assert design.notes == (note,)


def test_missing_rows_are_dropped_then_the_minimum_applies() -> None:
    frame = _frame(MIN_UNITS + 1)
    frame.loc[0, "unemployment_concern_2012"] = np.nan
    assert build_design(frame, ("unemployment_concern_2012",)).n == MIN_UNITS
    frame.loc[1, "population_2011"] = np.nan
    with pytest.raises(KosovoStudyError, match=r"only 19 units have every input"):
        build_design(frame, ("unemployment_concern_2012",), context="Test model")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"unemployment_concern_2012": 0.5}, "does not vary"),
        ({"population_2011": 0}, "must be positive"),
    ],
)
def test_bad_inputs_are_clear_errors(change: dict[str, float], message: str) -> None:
    frame = _frame().assign(**change)
    with pytest.raises(KosovoStudyError, match=message):
        build_design(frame, ("unemployment_concern_2012",))


def test_unknown_variable_is_named() -> None:
    with pytest.raises(KosovoStudyError, match=r"Unknown variables \['gdp'\]"):
        build_design(_frame(), ("gdp",))


def test_require_units_names_the_count_and_why() -> None:
    require_units(20, "x")
    with pytest.raises(
        KosovoStudyError, match=r"x: only 5 units .* chosen because of their outcome"
    ):
        require_units(5, "x")
