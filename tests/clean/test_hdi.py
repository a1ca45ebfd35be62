"""HDI 2015 from the complete UNDP table: 188 countries, the 121 of the old file exactly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadr
import pytest

from kosovo_study.clean import countries, hdi
from kosovo_study.clean.io import Ledger
from kosovo_study.errors import ValidationError
from kosovo_study.paths import ProjectPaths


@pytest.fixture(scope="module")
def complete(fetched_project: ProjectPaths) -> pd.DataFrame:
    raw = fetched_project.raw
    names = countries.load_country_names(raw / "datahub" / "country-codes.csv")
    ledger = Ledger()
    table = hdi.read_hdi_complete(raw / "unidx" / "hdi_19002015.csv", names, ledger)
    assert ledger.rejects == []  # every UNDP country matched to ISO3
    return table


def test_188_countries_and_the_missing_ones(complete: pd.DataFrame) -> None:
    assert len(complete) == 188
    values = complete.set_index("iso3")["hdi_2015"]
    # Published 2015 values (HDR 2016 table) of countries the 121-country file lacks.
    assert values["RUS"] == 0.804
    assert values["MKD"] == 0.748
    assert values["QAT"] == 0.856
    assert values["ARE"] == 0.840
    assert values["UKR"] == 0.743
    assert {"UZB", "TKM", "KAZ"} <= set(values.index)
    assert "XKX" not in values.index  # UNDP publishes no HDI for Kosovo


def test_the_121_rows_of_the_old_file_match_exactly(
    complete: pd.DataFrame, fetched_project: ProjectPaths
) -> None:
    old = next(
        iter(pyreadr.read_r(str(fetched_project.raw / "unidx" / "hdi_cpi_2015.rda")).values())
    )
    names = countries.load_country_names(fetched_project.raw / "datahub" / "country-codes.csv")
    old_hdi = countries.hdi(fetched_project.raw / "unidx" / "hdi_cpi_2015.rda", names, Ledger())
    assert len(old_hdi) == 121
    merged = old_hdi.merge(complete, on="iso3", how="left", suffixes=("_old", ""), validate="1:1")
    assert merged["hdi_2015"].notna().all()
    assert (merged["hdi_2015"] == merged["hdi_2015_old"]).all()
    ranks = dict(zip(old["country"], old["hdi_rank"].astype(int), strict=True))
    by_iso3 = complete.set_index("iso3")["hdi_rank_2015"]
    assert by_iso3["AFG"] == ranks["Afghanistan"] == 169


def test_hdi_column_for_the_countries_table(complete: pd.DataFrame) -> None:
    table = pd.DataFrame({"iso3": ["ALB", "XKX", "RUS"]})
    column = hdi.hdi_column(table, complete)
    assert column.tolist()[0] == 0.764
    assert pd.isna(column.tolist()[1])
    assert column.tolist()[2] == 0.804


def test_latin1_names_and_unknown_country(tmp_path: Path, fetched_project: ProjectPaths) -> None:
    names = countries.load_country_names(fetched_project.raw / "datahub" / "country-codes.csv")
    path = tmp_path / "hdi.csv"
    header = "HDI Rank (2015),Country," + ",".join(str(y) for y in range(1990, 2016)) + "\n"
    empty = "," * 25
    path.write_bytes((header + f"171, Côte d'Ivoire{empty},0.474\n").encode("latin-1"))
    table = hdi.read_hdi_complete(path, names)
    assert table.to_dict(orient="records") == [
        {"iso3": "CIV", "hdi_2015": 0.474, "hdi_rank_2015": 171}
    ]
    path.write_bytes((header + f"1, Atlantis{empty},0.9\n").encode("latin-1"))
    with pytest.raises(ValidationError, match="line 2: country 'Atlantis' not matched"):
        hdi.read_hdi_complete(path, names)
