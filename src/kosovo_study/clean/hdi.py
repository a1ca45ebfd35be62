"""UNDP Human Development Index 2015 from the complete UNDP table (188 countries).

Source [``unidx_hdi_19002015``]: UNDP Human Development Report Office, HDI 1990-2015
(HDR 2016 statistical table), the raw download kept in the unidx R data package
(``data-raw/hdi_19002015.csv``; Latin-1, one row per country, columns ``HDI Rank (2015)``,
``Country`` and one per year; an empty cell is "not published").  It is the table
behind the 121-country ``hdi_cpi_2015.rda`` teaching file the countries table used
before (its 121 values are identical, a test checks), and it also covers Russia, Central
Asia, Ukraine, Qatar, the UAE and North Macedonia.  Credit: UNDP Human Development
Report Office (CC BY 3.0 IGO).

:func:`read_hdi_complete` returns ``iso3``, ``hdi_2015`` and ``hdi_rank_2015``; the
countries table (:func:`kosovo_study.clean.countries.build`) takes ``hdi_2015`` from it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pandera.pandas as pa
from pandera.pandas import Check, Column

from kosovo_study.clean.io import Ledger
from kosovo_study.errors import ValidationError

if TYPE_CHECKING:  # countries imports this module; the name is for annotations only
    from kosovo_study.clean.countries import CountryNames

ENCODING = "latin-1"
RANK = "HDI Rank (2015)"
#: Names in the UNDP table that the country-codes table does not resolve.
NAME_ALIASES = {
    "the former yugoslav republic of macedonia": "MKD",
    "hong kong, china (sar)": "HKG",
    "palestine, state of": "PSE",
    "korea (republic of)": "KOR",
    "congo (democratic republic of the)": "COD",
    "moldova (republic of)": "MDA",
    "tanzania (united republic of)": "TZA",
    "micronesia (federated states of)": "FSM",
}

HDI_SCHEMA = pa.DataFrameSchema(
    {
        "iso3": Column(str, Check.str_matches(r"^[A-Z]{3}$"), unique=True),
        "hdi_2015": Column(float, Check.in_range(0, 1)),
        "hdi_rank_2015": Column(int, Check.in_range(1, 188)),
    },
    strict=True,
)


def read_hdi_complete(
    path: Path, names: CountryNames, ledger: Ledger | None = None
) -> pd.DataFrame:
    """HDI 2015 and its rank for every country of the UNDP table, keyed by ISO3."""
    text = path.read_bytes().decode(ENCODING)
    table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    if RANK not in table.columns or "Country" not in table.columns or "2015" not in table.columns:
        raise ValidationError(
            f"{path}: expected the columns {RANK!r}, 'Country' and '2015'. Fetch the file again."
        )
    if ledger is not None:
        ledger.count_in("countries", path.name, len(table))
    rows = []
    for line, record in enumerate(table.to_dict(orient="records"), start=2):
        country = str(record["Country"]).strip()
        iso3 = NAME_ALIASES.get(country.lower()) or names.from_name(country)
        if iso3 is None:
            if ledger is not None:
                ledger.reject("countries", path.name, line, "country name not matched", country)
                continue
            raise ValidationError(f"{path} line {line}: country {country!r} not matched to ISO3.")
        value = str(record["2015"]).strip()
        if not value:
            continue
        rows.append({"iso3": iso3, "hdi_2015": float(value), "hdi_rank_2015": int(record[RANK])})
    frame = pd.DataFrame(rows)
    try:
        return HDI_SCHEMA.validate(frame)
    except pa.errors.SchemaError as error:
        raise ValidationError(f"{path}: {error}") from None


def hdi_column(countries: pd.DataFrame, hdi: pd.DataFrame) -> pd.Series:
    """``hdi_2015`` for each row of the countries table (missing where UNDP has none)."""
    values = countries["iso3"].map(hdi.set_index("iso3")["hdi_2015"])
    return values.rename("hdi_2015").astype(float)
