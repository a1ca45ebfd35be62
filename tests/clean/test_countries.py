"""The countries table: Kosovo's filled covariates and one rule for Israel's ICSR figure."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kosovo_study.clean import countries as cc
from kosovo_study.clean.io import Ledger
from kosovo_study.errors import ValidationError

from ..conftest import REPO

Tables = dict[str, pd.DataFrame]
COVARIATES = REPO.transcribed / cc.KOSOVO_COVARIATES_FILE


def test_kosovo_labour_figures_are_the_kas_survey_values(clean_tables: Tables) -> None:
    kosovo = clean_tables["countries"].set_index("iso3").loc["XKX"]
    # KAS LFS: 30.9% (2012) and 30.0% (2013) -> mean 30.45; youth 15-24: 55.3% (2012).
    assert kosovo["unemployment_pct_2010_2013"] == pytest.approx(30.45)
    assert kosovo["youth_unemployment_pct_2010_2013"] == pytest.approx(55.3)
    assert kosovo["unemployment_source_key"] == "KAS_LFS_2013_via_BOTASOT"
    assert kosovo["youth_unemployment_source_key"] == "CIA_WFB_2014"
    # 2011 census shares (%): 92.9, 1.6, 1.5, 1.1, 0.9, 0.7, 0.6, 0.5, 0.2 -> 1 - sum(s^2).
    shares = np.array([92.9, 1.6, 1.5, 1.1, 0.9, 0.7, 0.6, 0.5, 0.2]) / 100
    assert kosovo["ethnic_fractionalisation"] == pytest.approx(1 - np.sum(shares**2))
    assert kosovo["ethnic_fractionalisation_source_key"] == "CIA_WFB_2022_CENSUS2011"
    # GDP and Muslim share come from the D&S files, as for every other country.
    assert kosovo["muslim_share_2010"] == pytest.approx(0.917)
    assert np.isfinite(kosovo["log_gdp_per_capita_ppp_2010_2013"])


def test_other_countries_keep_the_wdi_values_and_name_their_source(
    clean_tables: Tables,
) -> None:
    table = clean_tables["countries"].set_index("iso3")
    albania = table.loc["ALB"]
    assert albania["unemployment_source_key"] == cc.DS2016_SOURCE
    assert albania["unemployment_pct_2010_2013"] == pytest.approx(14.525)
    has_value = table["unemployment_pct_2010_2013"].notna()
    assert (table.loc[has_value, "unemployment_source_key"].notna()).all()
    assert table.loc[~has_value, "unemployment_source_key"].isna().all()


def test_israel_figure_is_shared_with_palestine_everywhere(clean_tables: Tables) -> None:
    table = clean_tables["countries"].set_index("iso3")
    # ICSR Jan 2015: 120 for Israel; Derpanopoulos & Sonnet share it 60/60 with Palestine.
    for iso3 in ("ISR", "PSE"):
        assert table.loc[iso3, "icsr_2015_point"] == 60
        assert table.loc[iso3, "ds2016_outcome"] == 60
        assert table.loc[iso3, "icsr_2015_listed"]


def _copy(tmp_path: Path) -> Path:
    path = tmp_path / cc.KOSOVO_COVARIATES_FILE
    shutil.copy(COVARIATES, path)
    return path


def test_conflicting_survey_figures_are_refused(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    text = path.read_text(encoding="utf-8").replace(
        "unemployment_rate,2013,30.0,", "unemployment_rate,2013,33.0,", 1
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match=r"unemployment_rate 2013 differs between sources"):
        cc.kosovo_covariates(path, Ledger())


def test_rows_flagged_as_conflicting_are_ignored() -> None:
    # The CIA's "30.9% (2013 est.)" row is marked CONFLICTS and must not count for 2013.
    filled = {f.column: f for f in cc.kosovo_covariates(COVARIATES, Ledger())}
    assert filled["unemployment_pct_2010_2013"].value == pytest.approx((30.9 + 30.0) / 2)
    assert "15-64" in filled["unemployment_pct_2010_2013"].definition


def test_missing_survey_figure_is_an_error(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not line.startswith("youth_unemployment_rate_15_24,2012")]
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="no youth_unemployment_rate_15_24 row"):
        cc.kosovo_covariates(path, Ledger())
