"""Kosovo in the cross-national models: its imputation never sees its own outcome, its
scenario values come from transcribed sources, and each prediction is drawn once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kosovo_study.clean.countries import kosovo_scenario_values
from kosovo_study.models import crossnational as cn
from kosovo_study.models.crossnational import imputation as im

from ..conftest import REPO

Tables = dict[str, pd.DataFrame]
COLUMNS = [*cn.ALL_COVARIATES, cn.LOG_POPULATION, cn.OUTCOME_LOG]


def _with_kosovo_count(frame: pd.DataFrame, count: float) -> pd.DataFrame:
    moved = frame.copy()
    moved.loc[cn.KOSOVO, "fighters"] = count
    moved.loc[cn.KOSOVO, cn.OUTCOME_LOG] = np.log1p(count)
    return moved


@pytest.mark.parametrize("blank_labour", [False, True])
def test_kosovo_count_does_not_move_any_imputation(
    clean_tables: Tables, blank_labour: bool
) -> None:
    """Kosovo's count from 0 to 1,000: every imputed value is unchanged (also when its
    labour-market figures are set aside and imputed, the sensitivity scenario)."""
    frame = cn.country_frame(clean_tables["countries"])
    if blank_labour:
        frame.loc[cn.KOSOVO, [cn.YOUTH, cn.UNEMPLOYMENT]] = np.nan
    settings = im.ImputationSettings(imputations=3)
    low = cn._completed(_with_kosovo_count(frame, 0.0), COLUMNS, settings)
    high = cn._completed(_with_kosovo_count(frame, 1000.0), COLUMNS, settings)
    covariates = [*cn.ALL_COVARIATES, cn.LOG_POPULATION]
    for a, b in zip(low, high, strict=True):
        pd.testing.assert_frame_equal(a[covariates], b[covariates])
        assert a.loc[cn.KOSOVO, cn.OUTCOME_LOG] == 0.0  # restored as observed
        assert b.loc[cn.KOSOVO, cn.OUTCOME_LOG] == pytest.approx(np.log1p(1000.0))
    if blank_labour:
        assert all(np.isfinite(a.loc[cn.KOSOVO, cn.YOUTH]) for a in low)


def test_without_hiding_the_count_would_move_kosovo(clean_tables: Tables) -> None:
    """The check above can fail: without ``hide``, Kosovo's imputed youth unemployment
    moves with its count."""
    frame = cn.country_frame(clean_tables["countries"])
    frame.loc[cn.KOSOVO, [cn.YOUTH, cn.UNEMPLOYMENT]] = np.nan
    settings = im.ImputationSettings(imputations=3)
    low = im.impute(_with_kosovo_count(frame, 0.0)[COLUMNS], settings)
    high = im.impute(_with_kosovo_count(frame, 1000.0)[COLUMNS], settings)
    moved = [
        a.loc[cn.KOSOVO, cn.YOUTH] != b.loc[cn.KOSOVO, cn.YOUTH]
        for a, b in zip(low, high, strict=True)
    ]
    assert any(moved)


def test_kosovo_scenario_values_from_transcribed_rows() -> None:
    values = {
        v.column: v for v in kosovo_scenario_values(REPO.transcribed / cn.KOSOVO_COVARIATES_FILE)
    }
    youth = values[cn.YOUTH]
    assert (youth.value, youth.source_key) == (61.0, "KAS_via_ALBINFO")
    assert values[cn.UNEMPLOYMENT].value == 35.0
    # ECMI Albanian share 86.63%; the other 2011 census shares (1.6, 1.5, 1.1, 0.9, 0.7,
    # 0.6, 0.5, 0.2; sum 7.1) rescaled to the remaining 13.37%.
    others = np.array([1.6, 1.5, 1.1, 0.9, 0.7, 0.6, 0.5, 0.2]) / 7.1 * 0.1337
    expected = 1 - 0.8663**2 - float((others**2).sum())
    fractionalisation = values[cn.FRACTIONALISATION]
    assert fractionalisation.value == pytest.approx(expected, abs=1e-12)
    assert "ECMI_ALBANIAN_PROFILE" in fractionalisation.source_key
