"""The ``countries`` table: foreign-fighter figures and covariates by country (ISO3).

Sources (registry names in brackets):

* ICSR figures as transcribed by Derpanopoulos & Sonnet (2016) [``ds2016_icsr``]:
  Dec 2013 (ranges) and Jan 2015 (a point for many countries, a range for others).
  Published ranges are kept as ``_low``/``_high``; the point rule
  (:data:`POINT_RULE`) gives ``_point``.  Qatar 2013 reads 15-14 as published and is
  kept so.  Countries with 5 or fewer cases were not listed: unlisted is missing here,
  not 0.
* WDI extract 2010-2014 [``ds2016_wb``]: unemployment and youth unemployment (modelled
  ILO, % of labour force), GDP per capita PPP (constant 2011 international $); each
  the mean of the available years 2010-2013 (2014 is empty in the extract).
* World Bank GDP (current US$) and population via datahub [``datahub_gdp``,
  ``datahub_population``]: ``population_2014`` and ``gdp_per_capita_usd_2014``.
* Pew 2010 Muslim share [``ds2016_muslim``]: "<0.1" (per cent) is coded as 0.0005
  (half the bound, a share) and flagged in ``muslim_share_below_0_001``.
* Alesina et al. (2003) ethnic fractionalisation [``ds2016_fractionalization``]: 0
  means missing in that file and is coded missing.
* HDI 2015 [``unidx_hdi_19002015``]: the complete UNDP table (188 countries,
  :mod:`kosovo_study.clean.hdi`), not the 121-country teaching file
  ``hdi_cpi_2015.rda`` (:func:`hdi`, whose 121 values it matches).
* Kosovo, which the WDI extract and the fractionalisation file do not cover
  (:func:`kosovo_covariates`, ``data/raw/transcribed/kosovo_country_covariates.csv``):
  unemployment and youth unemployment from the Kosovo Agency of Statistics Labour
  Force Survey (national survey figures, ages 15-64 and 15-24, **not** the ILO-modelled
  15+ series of the WDI; the models test how much Kosovo's placement depends on this),
  and ethnic fractionalisation computed from the 2011 census shares (a census that
  excluded the four northern municipalities and was partly boycotted, so it
  understates the Serb share).  Each filled cell names its source in the
  ``*_source_key`` columns.

Country names are harmonised to ISO3 through the country-codes table
[``datahub_country_codes``] plus :data:`NAME_ALIASES`; every name that still does
not match goes to the rejects table.  Kosovo is XKX (``KSV`` in the WDI and D&S
files, ``XK`` in Pew); the country-codes table has no Kosovo row, so it is added.

:data:`SHARED_FIGURES`: ICSR's January 2015 figure for Israel (120) is shared
equally with the Palestinian territories (60 each), the rule of Derpanopoulos &
Sonnet (2016); the same rule is applied in the countries table and in their
rebuilt outcome, so every model uses one figure for Israel.

:func:`ds2016_outcome` rebuilds the outcome of Derpanopoulos & Sonnet (2016) under
their rules: ICSR Jan-2015 midpoints, unlisted countries 0, Israel's figure shared
as above, over their 163-country imputed sample.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyreadr

from kosovo_study.clean.hdi import read_hdi_complete
from kosovo_study.clean.io import Ledger, parse_number, read_transcribed
from kosovo_study.errors import ValidationError
from kosovo_study.municipalities import name_key
from kosovo_study.tablefile import string_records

POINT_RULE = (
    "point = the published point figure where ICSR gave one; otherwise the midpoint of the "
    "published range (low + high) / 2"
)
KOSOVO = "XKX"
#: ICSR Jan-2015 figures published for one country that Derpanopoulos & Sonnet (2016,
#: "Data") share equally with another: Israel's 120 with the Palestinian territories
#: (ICSR gave no separate figure for the latter).  Key: ISO3 of the published row.
SHARED_FIGURES: dict[str, tuple[str, ...]] = {"ISR": ("ISR", "PSE")}
#: Where the WDI-based covariates come from for every country the D&S files cover.
DS2016_SOURCE = "derpanopoulos_sonnet_2016_data"
KOSOVO_COVARIATES_FILE = "kosovo_country_covariates.csv"
#: Old or non-standard codes used by the sources (WDI "ADO" Andorra, "IMY" Isle of Man...).
CODE_FIXES = {
    "KSV": KOSOVO,
    "XK": KOSOVO,
    "ROM": "ROU",
    "ZAR": "COD",
    "TMP": "TLS",
    "WBG": "PSE",
    "ADO": "AND",
    "IMY": "IMN",
}
#: Short or historical names used by the sources that the country-codes table lacks.
NAME_ALIASES = {
    "bosnia": "BIH",
    "russia": "RUS",
    "macedonia": "MKD",
    "kosovo": KOSOVO,
    "palestine": "PSE",
    "west bank": "PSE",
    "west bank and gaza": "PSE",
    "palestinian territories": "PSE",
    "syria": "SYR",
    "iran": "IRN",
    "laos": "LAO",
    "vietnam": "VNM",
    "south korea": "KOR",
    "korea south": "KOR",
    "north korea": "PRK",
    "korea north": "PRK",
    "moldova": "MDA",
    "tanzania": "TZA",
    "venezuela": "VEN",
    "bolivia": "BOL",
    "czech republic": "CZE",
    "ivory coast": "CIV",
    "cote d'ivoire": "CIV",
    "congo dem rep": "COD",
    "congo democratic republic": "COD",
    "democratic republic of the congo": "COD",
    "congo rep": "COG",
    "congo republic of": "COG",
    "republic of congo": "COG",
    "burma": "MMR",
    "myanmar": "MMR",
    "brunei": "BRN",
    "swaziland": "SWZ",
    "cape verde": "CPV",
    "east timor": "TLS",
    "micronesia": "FSM",
    "micronesia fed sts": "FSM",
    "taiwan": "TWN",
    "united states": "USA",
    "united kingdom": "GBR",
    "great britain": "GBR",
    "hong kong": "HKG",
    "macao": "MAC",
    "macau": "MAC",
    "gambia": "GMB",
    "gambia the": "GMB",
    "bahamas": "BHS",
    "bahamas the": "BHS",
    "turkey": "TUR",
    "kyrgyz republic": "KGZ",
    "slovak republic": "SVK",
    "egypt arab rep": "EGY",
    "yemen rep": "YEM",
    "iran islamic rep": "IRN",
    "venezuela rb": "VEN",
    "lao pdr": "LAO",
    "st lucia": "LCA",
    "st vincent and the grenadines": "VCT",
    "st kitts and nevis": "KNA",
    "korea rep": "KOR",
    "korea dem rep": "PRK",
    "reunion": "REU",
    "curacao": "CUW",
    "sao tome and principe": "STP",
    "guinea bissau": "GNB",
    "timor leste": "TLS",
    "united states virgin islands": "VIR",
    "virgin islands u s": "VIR",
    "macedonia fyr": "MKD",
    "lao people's dem rep": "LAO",
    "macedonia (former yug rep)": "MKD",
    "myanmar (burma)": "MMR",
    "saint vincent and grenadines": "VCT",
    "western samoa": "WSM",
    "congo, dem rep (zaire)": "COD",
}


def _key(name: str) -> str:
    folded = name_key(name).replace("&", "and")
    folded = re.sub(r"[.,()'\-]", " ", folded)
    return " ".join(folded.split())


class CountryNames:
    """Maps country names and codes of the sources to ISO3."""

    def __init__(self, codes: pd.DataFrame) -> None:
        self.iso3 = set(codes["ISO3166-1-Alpha-3"]) - {""} | {KOSOVO}
        self.iso2 = dict(zip(codes["ISO3166-1-Alpha-2"], codes["ISO3166-1-Alpha-3"], strict=True))
        self.names: dict[str, str] = {}
        for column in (
            "official_name_en",
            "CLDR display name",
            "UNTERM English Short",
            "UNTERM English Formal",
        ):
            for name, code in zip(codes[column], codes["ISO3166-1-Alpha-3"], strict=True):
                if name and code:
                    self.names.setdefault(_key(name), code)
                    # "Bolivia (Plurinational State of)" -> also "Bolivia"
                    self.names.setdefault(_key(re.sub(r"\(.*\)", "", name)), code)
        for alias, code in NAME_ALIASES.items():
            self.names[_key(alias)] = code

    def from_code(self, code: str) -> str | None:
        code = CODE_FIXES.get(code.strip(), code.strip())
        if len(code) == 2:
            return self.iso2.get(code)
        return code if code in self.iso3 else None

    def from_name(self, name: str) -> str | None:
        return self.names.get(_key(name))


def load_country_names(path: Path) -> CountryNames:
    codes = pd.read_csv(path, dtype=str, keep_default_na=False)
    return CountryNames(codes)


def icsr(path: Path, names: CountryNames, ledger: Ledger) -> pd.DataFrame:
    """ICSR Dec-2013 and Jan-2015 figures: low, high, point, one row per country."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    ledger.count_in("countries", path.name, len(raw))
    releases = {"20131217": "icsr_2013", "20150126": "icsr_2015"}
    rows: dict[str, dict[str, object]] = {}
    for line, row in enumerate(string_records(raw), start=2):
        release = releases.get(str(row["icsr.date"]))
        if release is None:
            raise ValidationError(f"{path} line {line}: unknown ICSR release {row['icsr.date']!r}.")
        iso3 = names.from_code(str(row["countrycode"]))
        if iso3 is None:
            ledger.reject("countries", path.name, line, "country code not matched", row["country"])
            continue

        def number(column: str, row: dict[str, str] = row, line: int = line) -> float | None:
            text = str(row[column]).strip()
            if text in {"", "NA"}:
                return None
            try:
                value = float(text)
            except ValueError:
                raise ValidationError(
                    f"{path} line {line}, column {column}: {text!r} is not a number."
                ) from None
            if value < 0:
                raise ValidationError(f"{path} line {line}, column {column}: negative count.")
            return value

        low, high, published = number("icsr.low"), number("icsr.high"), number("icsr.mean")
        point = (low + high) / 2 if low is not None and high is not None else published
        if point is None:
            ledger.note(path.name, f"line {line}: {release} figure for {iso3} is NA in the source")
        entry = rows.setdefault(iso3, {"iso3": iso3})
        if f"{release}_point" in entry:
            raise ValidationError(f"{path} line {line}: {iso3} appears twice in {release}.")
        entry[f"{release}_low"] = low
        entry[f"{release}_high"] = high
        entry[f"{release}_point"] = point
    for owner, shared_by in SHARED_FIGURES.items():
        figure: Any = rows.get(owner, {}).get("icsr_2015_point")
        if figure is None:
            continue
        for sharer in shared_by:
            shared = rows.setdefault(sharer, {"iso3": sharer})
            if sharer != owner and shared.get("icsr_2015_point") is not None:
                raise ValidationError(
                    f"{path}: {sharer} has its own Jan-2015 figure, so {owner}'s figure "
                    "cannot be shared with it. Update SHARED_FIGURES."
                )
            shared["icsr_2015_point"] = float(figure) / len(shared_by)
            shared["icsr_2015_low"] = shared["icsr_2015_high"] = None
        ledger.note(
            path.name,
            f"Jan-2015 figure for {owner} ({figure}) shared equally by {list(shared_by)} "
            "(Derpanopoulos & Sonnet 2016)",
        )
    frame = pd.DataFrame(list(rows.values()))
    frame["icsr_2015_listed"] = frame["icsr_2015_point"].notna()
    return frame


def wdi(path: Path, names: CountryNames, ledger: Ledger) -> pd.DataFrame:
    """Means over 2010-2013 of unemployment, youth unemployment and GDP per capita PPP."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    ledger.count_in("countries", path.name, len(raw))
    indicators = {
        "SL.UEM.TOTL.ZS": "unemployment_pct",
        "SL.UEM.1524.ZS": "youth_unemployment_pct",
        "NY.GDP.PCAP.PP.KD": "gdp_per_capita_ppp",
    }
    columns = {}
    for code, name in indicators.items():
        matches = [c for c in raw.columns if c.endswith(f"[{code}]")]
        if len(matches) != 1:
            raise ValidationError(f"{path}: no column for WDI indicator {code}.")
        columns[matches[0]] = name
    years = raw["Time"].isin(["2010", "2011", "2012", "2013"])
    ledger.filter_out(
        "countries",
        path.name,
        int((~years).sum()),
        "year 2014: every value is empty in the extract",
    )
    raw = raw[years].copy()
    raw["iso3"] = [names.from_code(code) for code in raw["Country Code"]]
    for index in raw.index[raw["iso3"].isna()]:
        ledger.reject(
            "countries",
            path.name,
            int(index) + 2,
            "country code not matched",
            str(raw.loc[index, "Country Code"]),
        )
    raw = raw[raw["iso3"].notna()]
    values = raw[list(columns)].replace({"NA": None, "": None}).astype(float)
    values.columns = list(columns.values())
    values["iso3"] = raw["iso3"].to_numpy()
    means = values.groupby("iso3").mean()
    return means.add_suffix("_2010_2013").reset_index()


def worldbank_2014(
    gdp_path: Path, population_path: Path, names: CountryNames, ledger: Ledger
) -> pd.DataFrame:
    """``population_2014`` (persons) and ``gdp_per_capita_usd_2014`` (current US$)."""
    series = {}
    for path in (gdp_path, population_path):
        raw = pd.read_csv(path, dtype={"Country Code": str}, keep_default_na=False, na_values=[""])
        ledger.count_in("countries", path.name, len(raw))
        known = raw["Country Code"].map(lambda c: names.from_code(str(c)) is not None)
        keep = (raw["Year"] == 2014) & known
        ledger.filter_out(
            "countries",
            path.name,
            int((~keep).sum()),
            "years other than 2014, and regional or income aggregates",
        )
        series[path] = raw[keep].set_index("Country Code")["Value"]
    gdp, population = series[gdp_path], series[population_path]
    frame = pd.DataFrame({"population_2014": population, "gdp_usd_2014": gdp})
    frame.index = [names.from_code(code) for code in frame.index]
    frame["gdp_per_capita_usd_2014"] = frame["gdp_usd_2014"] / frame["population_2014"]
    frame = frame.drop(columns="gdp_usd_2014")
    frame.index.name = "iso3"
    return frame.reset_index()


def muslim_share(path: Path, names: CountryNames, ledger: Ledger) -> pd.DataFrame:
    """Pew 2010 Muslim share of the population (0-1)."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)  # "NA" is Namibia's code
    ledger.count_in("countries", path.name, len(raw))
    rows = []
    for line, row in enumerate(raw.to_dict(orient="records"), start=2):
        iso2 = str(row["iso2"]).strip()
        if not iso2:
            ledger.reject(
                "countries", path.name, line, "regional aggregate, not a country", row["country"]
            )
            continue
        iso3 = names.from_code(iso2)
        if iso3 is None:
            ledger.reject("countries", path.name, line, "country code not matched", row["country"])
            continue
        text = str(row["muslimpct"]).strip()
        below = text.startswith("<")
        percent = 0.05 if below else float(text.replace(",", ""))
        if not 0 <= percent <= 100:
            raise ValidationError(f"{path} line {line}: Muslim per cent {text!r} outside 0-100.")
        rows.append(
            {
                "iso3": iso3,
                "muslim_share_2010": percent / 100,
                "muslim_share_below_0_001": below,
                "line": line,
                "name_matches": names.from_name(str(row["country"])) == iso3,
            }
        )
    frame = pd.DataFrame(rows)
    return _one_row_per_country(frame, path, ledger)


def _one_row_per_country(frame: pd.DataFrame, path: Path, ledger: Ledger) -> pd.DataFrame:
    """Where two rows share an ISO3 code (a territory coded with its sovereign's code, e.g.
    the Channel Islands as GB), keep the row whose name is the country's own name and
    record the others as rejects.  Two rows that both claim the name are an error."""
    keep = []
    for iso3, group in frame.groupby("iso3", sort=True):
        if len(group) == 1:
            keep.append(group.index[0])
            continue
        named = group[group["name_matches"]]
        if len(named) != 1:
            raise ValidationError(
                f"{path} lines {group['line'].tolist()}: several rows for {iso3}. Keep one row "
                "per country."
            )
        keep.append(named.index[0])
        for line in group.loc[group.index != named.index[0], "line"]:
            ledger.reject(
                "countries",
                path.name,
                int(line),
                f"territory coded as {iso3}; country row kept",
                str(iso3),
            )
    return frame.loc[sorted(keep)].drop(columns=["line", "name_matches"])


def fractionalisation(path: Path, names: CountryNames, ledger: Ledger) -> pd.DataFrame:
    """Alesina et al. (2003) ethnic fractionalisation (0-1); 0 in the file means missing."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    ledger.count_in("countries", path.name, len(raw))
    rows = []
    for line, row in enumerate(raw.to_dict(orient="records"), start=2):
        country = str(row["Country"]).strip()
        if not country:
            ledger.reject("countries", path.name, line, "note row, not a country", row["Ethnic"])
            continue
        iso3 = names.from_name(country)
        if iso3 is None:
            ledger.reject("countries", path.name, line, "country name not matched to ISO3", country)
            continue
        text = str(row["Ethnic"]).strip()
        value = float(text) if text else 0.0
        if not 0 <= value <= 1:
            raise ValidationError(f"{path} line {line}: fractionalisation {text!r} outside 0-1.")
        rows.append(
            {
                "iso3": iso3,
                "ethnic_fractionalisation": value if value > 0 else np.nan,
                "line": line,
                "name_matches": True,
            }
        )
    return _one_row_per_country(pd.DataFrame(rows), path, ledger)


def hdi(path: Path, names: CountryNames, ledger: Ledger) -> pd.DataFrame:
    """UNDP Human Development Index 2015 (0-1) from the 121-country teaching file
    (``unidx_hdi_cpi_2015``); the countries table uses the complete UNDP table instead
    (:func:`kosovo_study.clean.hdi.read_hdi_complete`), and the tests check the two
    agree on these 121 countries."""
    frames = pyreadr.read_r(str(path))
    table = next(iter(frames.values()))
    ledger.count_in("countries", path.name, len(table))
    # The file codes Montenegro "MON" (not ISO3): fall back to the name where the code fails.
    codes = [
        names.from_code(str(code)) or names.from_name(str(country))
        for code, country in zip(table["country_code"], table["country"], strict=True)
    ]
    for i, code in enumerate(codes):
        if code is None:
            ledger.reject(
                "countries",
                path.name,
                i + 1,
                "country code not matched",
                str(table["country"].iloc[i]),
            )
    frame = pd.DataFrame(
        {"iso3": codes, "hdi_2015": table["human_development_index"].astype(float).to_numpy()}
    )
    return frame[frame["iso3"].notna()]


def ds2016_outcome(
    icsr_path: Path, imputed_path: Path, ledger: Ledger | None = None
) -> pd.DataFrame:
    """The Derpanopoulos & Sonnet (2016) outcome over their 163-country sample."""
    raw = pd.read_csv(icsr_path, dtype=str, keep_default_na=False)
    jan_2015 = raw[raw["icsr.date"] == "20150126"].copy()
    # icsr.mean is already the range midpoint where ICSR gave a range.
    midpoint = jan_2015["icsr.mean"].replace({"NA": None, "": None}).astype(float)
    counts = dict(zip(jan_2015["countrycode"], midpoint, strict=True))
    # Their rule (SHARED_FIGURES): Israel's figure is shared equally with the
    # Palestinian territories ("WBG" in their files).
    ds_codes = {v: k for k, v in CODE_FIXES.items() if len(k) == 3}
    for published, shared_by in SHARED_FIGURES.items():
        figure = counts.get(published) or 0.0
        for iso3 in shared_by:
            counts[ds_codes.get(iso3, iso3)] = figure / len(shared_by)
    sample = pd.read_csv(imputed_path, dtype=str, keep_default_na=False)["ctryCode"]
    if ledger is not None:
        ledger.count_in("countries", imputed_path.name, len(sample))
    outcome = [counts.get(code) for code in sample]
    frame = pd.DataFrame(
        {
            "ds2016_code": sample.to_numpy(),
            "ds2016_outcome": [0.0 if pd.isna(v) else float(v) for v in outcome],
        }
    )
    frame["iso3"] = frame["ds2016_code"].map(lambda c: CODE_FIXES.get(c, c))
    return frame


@dataclass(frozen=True)
class FilledValue:
    """One covariate of one country filled from a transcribed public source."""

    column: str
    value: float
    source_key: str
    definition: str


#: Countries-table column -> (statistic in the transcribed file, years averaged).  The
#: window matches the WDI means (2010-2013); KAS ran no Labour Force Survey in 2010-2011,
#: so Kosovo's means are over the years it published (2012-2013).
KOSOVO_LABOUR_STATISTICS = {
    "unemployment_pct_2010_2013": ("unemployment_rate", ("2010", "2011", "2012", "2013")),
    "youth_unemployment_pct_2010_2013": (
        "youth_unemployment_rate_15_24",
        ("2010", "2011", "2012", "2013"),
    ),
}
#: Census year and source of the ethnic shares used for Kosovo's fractionalisation.
KOSOVO_ETHNIC_YEAR = "2011"
KOSOVO_ETHNIC_SOURCE = "CIA_WFB_2022_CENSUS2011"


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def kosovo_covariates(path: Path, ledger: Ledger | None = None) -> list[FilledValue]:
    """Kosovo's unemployment, youth unemployment and ethnic fractionalisation.

    Labour statistics: for each year in the window, the rows of the statistic that are
    not flagged as conflicting ("CONFLICTS" in ``definition``) must agree within the
    rounding of the least precise row (0.5 points for a whole number); the most precise
    row is used, and the value is the mean over the years found (per cent, KAS LFS).
    Fractionalisation: 1 - sum of squared 2011 census shares over the listed groups
    (Alesina et al. 2003's formula; "other/unspecified" counts as one group).
    """
    columns = ["statistic", "year", "value", "unit", "definition", "source_key"]
    table = read_transcribed(path, columns, ledger)
    if ledger is not None:
        ledger.count_in("countries", path.name, len(table))
    table["line"] = range(2, len(table) + 2)
    usable = table[~table["definition"].str.contains("CONFLICTS", case=True)]
    filled: list[FilledValue] = []
    for column, (statistic, years) in KOSOVO_LABOUR_STATISTICS.items():
        chosen: list[tuple[float, str]] = []
        for year in years:
            rows = usable[(usable["statistic"] == statistic) & (usable["year"] == year)]
            if rows.empty:
                continue
            values = [
                parse_number(v, path=path, line=int(line), column="value")
                for v, line in zip(rows["value"], rows["line"], strict=True)
            ]
            tolerance = 0.5 * 10 ** -min(_decimals(v) for v in rows["value"])
            if max(v or 0.0 for v in values) - min(v or 0.0 for v in values) > tolerance:
                raise ValidationError(
                    f"{path} lines {rows['line'].tolist()}: {statistic} {year} differs between "
                    f"sources ({values}). Correct the transcription or mark the wrong row "
                    "'CONFLICTS' in its definition."
                )
            best = max(range(len(rows)), key=lambda i: _decimals(rows["value"].iloc[i]))
            chosen.append((float(values[best] or 0.0), str(rows["source_key"].iloc[best])))
        if not chosen:
            raise ValidationError(
                f"{path}: no {statistic} row for {years[0]}-{years[-1]}. Add the KAS figure."
            )
        found = [
            y
            for y in years
            if not usable[(usable["statistic"] == statistic) & (usable["year"] == y)].empty
        ]
        filled.append(
            FilledValue(
                column=column,
                value=float(np.mean([v for v, _ in chosen])),
                source_key=";".join(dict.fromkeys(k for _, k in chosen)),
                definition=f"KAS Labour Force Survey, mean of {', '.join(found)}; national "
                "survey figure for ages 15-64 (youth: 15-24), not the ILO-modelled 15+ series",
            )
        )
    ethnic = usable[
        usable["statistic"].str.startswith("ethnic_share_")
        & (usable["year"] == KOSOVO_ETHNIC_YEAR)
        & (usable["source_key"] == KOSOVO_ETHNIC_SOURCE)
    ]
    if not ethnic.empty:
        shares = np.array(
            [
                parse_number(v, path=path, line=int(line), column="value") or 0.0
                for v, line in zip(ethnic["value"], ethnic["line"], strict=True)
            ]
        )
        if abs(shares.sum() - 100) > 0.5:
            raise ValidationError(
                f"{path} lines {ethnic['line'].tolist()}: the {KOSOVO_ETHNIC_YEAR} ethnic shares "
                f"add up to {shares.sum():.1f}%, not 100%. Complete or correct them."
            )
        filled.append(
            FilledValue(
                column="ethnic_fractionalisation",
                value=float(1 - np.sum((shares / shares.sum()) ** 2)),
                source_key=KOSOVO_ETHNIC_SOURCE,
                definition="1 - sum of squared 2011 census ethnic shares; the census excluded "
                "north Kosovo and was partly boycotted, so the Serb share is understated",
            )
        )
    return filled


#: The ECMI Kosovo estimate of the Albanian share (2011 census for the south, 2013 OSCE
#: municipal profiles for the north), the only ECMI share transcribed.
KOSOVO_ECMI_SOURCE = "ECMI_ALBANIAN_PROFILE"
#: The Labour Force Survey 2014 figures (Kosovo's scenarios, not its main values).
KOSOVO_LFS2014 = {
    "youth_unemployment_pct_2010_2013": "youth_unemployment_rate_15_24",
    "unemployment_pct_2010_2013": "unemployment_rate",
}


def kosovo_scenario_values(path: Path) -> list[FilledValue]:
    """Kosovo's alternative covariate values for the cross-national scenarios, each
    from a transcribed row with its source key.

    * the Labour Force Survey 2014 youth (15-24) and total unemployment rates (outside
      the 2010-2013 window of the main values; the youth row's year is inferred by its
      transcriber, see its definition);
    * ethnic fractionalisation with the ECMI Kosovo Albanian share (which counts the
      north from OSCE profiles) in place of the census's: the other communities keep
      their relative census shares, rescaled to the remainder.  ECMI's own shares of
      the other communities are not transcribed, so this split is an assumption (it
      understates the Serb share less than the census does, not by ECMI's figure).
    """
    columns = ["statistic", "year", "value", "unit", "definition", "source_key"]
    table = read_transcribed(path, columns)
    table["line"] = range(2, len(table) + 2)
    usable = table[~table["definition"].str.contains("CONFLICTS", case=True)]
    values: list[FilledValue] = []
    for column, statistic in KOSOVO_LFS2014.items():
        rows = usable[(usable["statistic"] == statistic) & (usable["year"] == "2014")]
        if rows.empty:
            raise ValidationError(f"{path}: no {statistic} row for 2014 (LFS 2014).")
        numbers = {
            parse_number(v, path=path, line=int(line), column="value")
            for v, line in zip(rows["value"], rows["line"], strict=True)
        }
        if len(numbers) > 1:
            raise ValidationError(
                f"{path} lines {rows['line'].tolist()}: {statistic} 2014 differs between "
                f"sources ({sorted(n or 0.0 for n in numbers)})."
            )
        values.append(
            FilledValue(
                column=column,
                value=float(numbers.pop() or 0.0),
                source_key=";".join(dict.fromkeys(rows["source_key"])),
                definition=f"KAS Labour Force Survey 2014 ({statistic}), as transcribed",
            )
        )
    census = usable[
        usable["statistic"].str.startswith("ethnic_share_")
        & (usable["year"] == KOSOVO_ETHNIC_YEAR)
        & (usable["source_key"] == KOSOVO_ETHNIC_SOURCE)
    ]
    ecmi = usable[
        (usable["statistic"] == "ethnic_share_Albanians")
        & (usable["source_key"] == KOSOVO_ECMI_SOURCE)
    ]
    if census.empty or ecmi.empty:
        raise ValidationError(f"{path}: the census shares or the ECMI Albanian share are missing.")
    shares = census.set_index("statistic")["value"].astype(float) / 100
    albanian = float(ecmi["value"].astype(float).iloc[0]) / 100
    others = shares.drop("ethnic_share_Albanians")
    others = others / others.sum() * (1 - albanian)
    values.append(
        FilledValue(
            column="ethnic_fractionalisation",
            value=float(1 - albanian**2 - float((others**2).sum())),
            source_key=f"{KOSOVO_ECMI_SOURCE};{KOSOVO_ETHNIC_SOURCE}",
            definition="1 - sum of squared shares: ECMI Kosovo's Albanian share, the other "
            "communities in their 2011 census proportions (assumption)",
        )
    )
    return values


#: Columns whose source differs by country: the ``*_source_key`` column names it.
SOURCED_COLUMNS = {
    "unemployment_pct_2010_2013": "unemployment_source_key",
    "youth_unemployment_pct_2010_2013": "youth_unemployment_source_key",
    "ethnic_fractionalisation": "ethnic_fractionalisation_source_key",
}


def fill_kosovo(table: pd.DataFrame, filled: list[FilledValue], ledger: Ledger) -> pd.DataFrame:
    """Source keys for every sourced cell; Kosovo's missing cells filled from ``filled``."""
    table = table.copy()
    for column, key_column in SOURCED_COLUMNS.items():
        table[key_column] = table[column].notna().map({True: DS2016_SOURCE, False: None})
    row = table.index[table["iso3"] == KOSOVO]
    for value in filled:
        if table.loc[row, value.column].notna().any():
            continue  # a value from the main source wins; never overwrite it
        table.loc[row, value.column] = value.value
        table.loc[row, SOURCED_COLUMNS[value.column]] = value.source_key
        ledger.note(
            KOSOVO_COVARIATES_FILE,
            f"{KOSOVO} {value.column} = {value.value:.4g} from {value.source_key} "
            f"({value.definition})",
        )
    return table


#: Unit, year and source key of each column of the countries table.
VARIABLES: dict[str, tuple[str, str, str]] = {
    "iso3": ("ISO 3166-1 alpha-3 (Kosovo XKX)", "", "datahub_country_codes"),
    "icsr_2013_low": ("persons", "2013-12", "icsr_2013_12"),
    "icsr_2013_high": ("persons", "2013-12", "icsr_2013_12"),
    "icsr_2013_point": ("persons", "2013-12", "icsr_2013_12"),
    "icsr_2015_low": ("persons", "2015-01", "icsr_2015_01"),
    "icsr_2015_high": ("persons", "2015-01", "icsr_2015_01"),
    "icsr_2015_point": ("persons", "2015-01", "icsr_2015_01"),
    "icsr_2015_listed": ("flag", "2015-01", "icsr_2015_01"),
    "unemployment_pct_2010_2013": (
        "% of labour force",
        "2010-2013",
        "derpanopoulos_sonnet_2016_data; Kosovo: unemployment_source_key",
    ),
    "youth_unemployment_pct_2010_2013": (
        "% of labour force 15-24",
        "2010-2013",
        "derpanopoulos_sonnet_2016_data; Kosovo: youth_unemployment_source_key",
    ),
    "gdp_per_capita_ppp_2010_2013": (
        "constant 2011 int. $",
        "2010-2013",
        "derpanopoulos_sonnet_2016_data",
    ),
    "log_gdp_per_capita_ppp_2010_2013": (
        "log constant 2011 int. $",
        "2010-2013",
        "derpanopoulos_sonnet_2016_data",
    ),
    "population_2014": ("persons", "2014", "worldbank_population_datahub"),
    "gdp_per_capita_usd_2014": ("current US$", "2014", "worldbank_gdp_datahub"),
    "muslim_share_2010": ("share 0-1", "2010", "derpanopoulos_sonnet_2016_data"),
    "muslim_share_below_0_001": ("flag", "2010", "derpanopoulos_sonnet_2016_data"),
    "ethnic_fractionalisation": (
        "index 0-1",
        "c. 2000",
        "derpanopoulos_sonnet_2016_data; Kosovo: ethnic_fractionalisation_source_key",
    ),
    "hdi_2015": ("index 0-1", "2015", "undp_hdi_1990_2015"),
    "ds2016_outcome": ("persons", "2015-01", "ds2016_table_features"),
    "in_ds2016_sample": ("flag", "", "derpanopoulos_sonnet_2016_data"),
    # The source of each cell of the three covariates Kosovo's row fills (see above).
    "unemployment_source_key": ("source key", "", "per row"),
    "youth_unemployment_source_key": ("source key", "", "per row"),
    "ethnic_fractionalisation_source_key": ("source key", "", "per row"),
}


def build(raw: Path, ledger: Ledger) -> pd.DataFrame:
    """One row per country (ISO3) with every source merged; see the module docstring."""
    names = load_country_names(raw / "datahub" / "country-codes.csv")
    parts = [
        icsr(raw / "ds2016" / "icsr.csv", names, ledger),
        wdi(raw / "ds2016" / "wb.csv", names, ledger),
        worldbank_2014(
            raw / "datahub" / "gdp.csv", raw / "datahub" / "population.csv", names, ledger
        ),
        muslim_share(raw / "ds2016" / "muslim.csv", names, ledger),
        fractionalisation(raw / "ds2016" / "fractionalization.csv", names, ledger),
        read_hdi_complete(raw / "unidx" / "hdi_19002015.csv", names, ledger)[["iso3", "hdi_2015"]],
        ds2016_outcome(
            raw / "ds2016" / "icsr.csv", raw / "ds2016" / "foreignFightersImputed.csv", ledger
        )
        .drop(columns="ds2016_code")
        .assign(in_ds2016_sample=True),
    ]
    table = parts[0]
    for part in parts[1:]:
        table = table.merge(part, on="iso3", how="outer", validate="1:1")
    table["icsr_2015_listed"] = table["icsr_2015_listed"].fillna(False).astype(bool)
    table["in_ds2016_sample"] = table["in_ds2016_sample"].fillna(False).astype(bool)
    table["muslim_share_below_0_001"] = table["muslim_share_below_0_001"].astype("boolean")
    table["log_gdp_per_capita_ppp_2010_2013"] = np.log(table["gdp_per_capita_ppp_2010_2013"])
    filled = kosovo_covariates(raw / "transcribed" / KOSOVO_COVARIATES_FILE, ledger)
    table = fill_kosovo(table, filled, ledger)
    return table.sort_values("iso3").reset_index(drop=True)[list(VARIABLES)]
