"""Designated Islamic-charity presence before 2014, per country (entities only).

Sources (registry names in brackets):

* the US Treasury OFAC SDN list, legacy CSV files of April 2021 [``ofac2021_sdn``,
  ``ofac2021_add``]: ``sdn.csv`` (ent_num, name, type, program, ..., remarks; no
  header row; ``-0- `` is empty) and ``add.csv`` (ent_num, add_num, address,
  city/state/postal, country, remarks).  Public domain.
* the UN Security Council Al-Qaida Sanctions List as generated on 2014-11-19
  [``un1267_aqlist``]: each entity's ``LISTED_ON`` date and addresses.

**The classification is data**: ``data/raw/transcribed/designated_islamic_charities.csv``
holds one reviewed row per designated charitable, relief or da'wa entity (class, the
designation text that supports it, a ``source_key`` and the review of the proposed
call).  :func:`verify_reviewed_table` checks every row against the files (name, entity
type, SDGT program, address countries, UN reference and listing date) and fails
naming the row and the field when they differ.

**Entities only.**  The lists name individuals.  Individuals' rows are dropped while
``sdn.csv`` is parsed (only rows whose type is empty, i.e. entities, are kept) and the
UN file's ``INDIVIDUALS`` section is never read, so no individual's data reaches a
table here.

The country measure (:func:`country_measures`): an entity counts for a country if it
had an address or a documented office there (OFAC ``add.csv`` or the UN entry; an
"operations in" remark is recorded but does not count) and was designated or listed
before 2014 (UN ``LISTED_ON``, or for OFAC-only entities the OFAC record order; see
the table's ``designation_date_basis``).  Main measure: every class, Gulf-linked or
not (Gulf-linked entities are flagged apart, not dropped).  Variants: Gulf-linked only;
the UN list alone (UN addresses and dates, listed before 2014, before the ICSR
January-2015 outcome); counts of entities instead of any presence.  Entities that two
records describe (``counted_once_as``) count once.

Threat to validity: designation follows terrorism links, so this measures *designated,
terror-linked* charity presence; undesignated charities (IIRO headquarters, WAMY, the
Saudi Joint Relief Committee) score zero, and entities delisted before April 2021 are
missing from the OFAC snapshot unless a row is added from another source (the IIRO
Philippine and Indonesian branches are).
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandera.pandas import Check, Column

from kosovo_study.clean.countries import CountryNames
from kosovo_study.clean.io import Ledger
from kosovo_study.errors import ValidationError

REVIEWED_FILE = "designated_islamic_charities.csv"
#: OFAC legacy CSV marker of an empty field.
EMPTY = "-0-"
SDN_COLUMNS = (
    "ent_num",
    "name",
    "type",
    "program",
    "title",
    "call_sign",
    "vess_type",
    "tonnage",
    "grt",
    "vess_flag",
    "vess_owner",
    "remarks",
)
ADD_COLUMNS = ("ent_num", "add_num", "address", "city", "country", "remarks")
#: Gulf Cooperation Council states.
GULF = frozenset({"SAU", "KWT", "ARE", "QAT", "BHR", "OMN"})
CUTOFF = "2014-01-01"
#: Country names in the sanctions files that the country-codes table lacks.
COUNTRY_ALIASES = {
    "palestinian": "PSE",
    "west bank": "PSE",
    "gaza strip": "PSE",
    "kosovo": "XKX",
    "the netherlands": "NLD",
    "union of the comoros": "COM",
    "libyan arab jamahiriya": "LBY",
    "united states of america": "USA",
}
#: Addresses whose country field is not the country today: OFAC codes the Kosovo town
#: of Gjakovë (Gjakova/Djakovica) "Serbia" (the list predates 2008); "undetermined"
#: Gaza is the Palestinian territories.  Kashmir ("undetermined") has no ISO3 and is
#: left out (recorded in the reviewed table's review column).
ADDRESS_FIXES = {
    ("gjakova", "serbia"): "XKX",
    ("djakovica", "serbia"): "XKX",
    ("gaza strip", "undetermined"): "PSE",
    ("kashmir", "undetermined"): "",
}
CLASSES = {
    "G": "Gulf-headquartered or Gulf-founded, a branch of a Gulf charity, or with offices in the Gulf",
    "S": "South-Asian trust or front",
    "B": "Bosnian-registered, not Al-Haramain",
    "U": "Islamic relief charity headquartered in the US or Sudan",
    "H": "Hamas- or PIJ-linked charity",
    "L": "LIFG-linked UK charity",
}
REVIEWED_COLUMNS = (
    "entity_id",
    "ofac_ent_num",
    "un_reference",
    "name",
    "entity_class",
    "ofac_countries_iso3",
    "un_countries_iso3",
    "other_countries_iso3",
    "operations_countries_iso3",
    "un_listed_on",
    "designated_before_2014",
    "designation_date_basis",
    "counted_once_as",
    "designation_excerpt",
    "source_key",
    "review",
)

REVIEWED_SCHEMA = pa.DataFrameSchema(
    {
        "entity_id": Column(str, Check.str_matches(r"^(OFAC-\d+|[A-Z0-9-]+)$"), unique=True),
        "ofac_ent_num": Column(str, Check.str_matches(r"^(\d+)?$")),
        "un_reference": Column(str, Check.str_matches(r"^(QE\.[A-Z]\.\d+\.\d+\.?;?)*$")),
        "name": Column(str, Check.str_length(min_value=2)),
        "entity_class": Column(str, Check.isin(list(CLASSES))),
        "ofac_countries_iso3": Column(str, Check.str_matches(r"^([A-Z]{3}(;[A-Z]{3})*)?$")),
        "un_countries_iso3": Column(str, Check.str_matches(r"^([A-Z]{3}(;[A-Z]{3})*)?$")),
        "other_countries_iso3": Column(str, Check.str_matches(r"^([A-Z]{3}(;[A-Z]{3})*)?$")),
        "operations_countries_iso3": Column(str, Check.str_matches(r"^([A-Z]{3}(;[A-Z]{3})*)?$")),
        "un_listed_on": Column(str, Check.str_matches(r"^(\d{4}-\d{2}-\d{2})?$")),
        "designated_before_2014": Column(str, Check.isin(["true", "false"])),
        "designation_date_basis": Column(str, Check.str_length(min_value=10)),
        "counted_once_as": Column(str),
        "designation_excerpt": Column(str, Check.str_length(min_value=10)),
        "source_key": Column(str, Check.str_matches(r"^[A-Za-z0-9_;]+$")),
        "review": Column(str, Check.str_length(min_value=2)),
    },
    strict=True,
    ordered=True,
)

ENTITY_SCHEMA = pa.DataFrameSchema(
    {
        "entity_id": Column(str, unique=True),
        "name": Column(str),
        "entity_class": Column(str, Check.isin(list(CLASSES))),
        "gulf_linked": Column(bool),
        "countries_iso3": Column(str),
        "un_countries_iso3": Column(str),
        "listed_on": Column(str, nullable=True),
        "designated_before_2014": Column(bool),
        "counted": Column(bool),
        "source_key": Column(str),
    },
    strict=True,
)

MEASURES = (
    "designated_charity_presence_pre2014",
    "designated_charity_count_pre2014",
    "designated_gulf_charity_presence_pre2014",
    "designated_gulf_charity_count_pre2014",
    "designated_charity_presence_un_pre2014",
    "designated_charity_count_un_pre2014",
)
COUNTRY_SCHEMA = pa.DataFrameSchema(
    {
        "iso3": Column(str, Check.str_matches(r"^[A-Z]{3}$"), unique=True),
        **{
            name: Column(int, Check.isin([0, 1]) if "presence" in name else Check.ge(0))
            for name in MEASURES
        },
    },
    strict=True,
)


def _field(text: str) -> str:
    text = text.strip()
    return "" if text == EMPTY else text


#: The legacy files end with a DOS end-of-file character (Ctrl-Z) on its own line.
DOS_EOF = "\x1a"


def _rows(path: Path) -> Iterator[list[str]]:
    """Rows of a legacy OFAC file (CRLF, no header), skipping blank and Ctrl-Z lines."""
    for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")):
        if row and row != [DOS_EOF]:
            yield row


def read_sdn_entities(path: Path) -> pd.DataFrame:
    """Entities of ``sdn.csv`` (type empty); individuals, vessels and aircraft are dropped
    as each row is parsed, so no individual's data is kept."""
    kept = []
    for line, row in enumerate(_rows(path), start=1):
        if len(row) != len(SDN_COLUMNS):
            raise ValidationError(
                f"{path} line {line}: {len(row)} fields, expected {len(SDN_COLUMNS)}. "
                "Fetch the registered file again."
            )
        if _field(row[2]):  # individual, vessel or aircraft
            continue
        kept.append(
            {
                "ent_num": row[0].strip(),
                "name": _field(row[1]),
                "program": _field(row[3]),
                "remarks": _field(row[11]),
            }
        )
    return pd.DataFrame(kept)


def read_addresses(path: Path, ent_nums: set[str]) -> pd.DataFrame:
    """Rows of ``add.csv`` for the given entity numbers only."""
    kept = []
    for line, row in enumerate(_rows(path), start=1):
        if row[0].strip() not in ent_nums:
            continue
        if len(row) != len(ADD_COLUMNS):
            raise ValidationError(f"{path} line {line}: {len(row)} fields, expected 6.")
        kept.append({name: _field(value) for name, value in zip(ADD_COLUMNS, row, strict=True)})
    return pd.DataFrame(kept, columns=list(ADD_COLUMNS))


@dataclass(frozen=True)
class UnEntity:
    reference: str
    name: str
    listed_on: str
    countries: tuple[str, ...]
    """Address lines as (country field or free-text note)."""
    addresses: tuple[str, ...]


def read_un_entities(path: Path) -> dict[str, UnEntity]:
    """The ``ENTITIES`` section of the UN list (the ``INDIVIDUALS`` section is never read)."""
    root = ET.parse(path).getroot()
    section = root.find("ENTITIES")
    if section is None:
        raise ValidationError(f"{path}: no ENTITIES section. Fetch the registered file again.")
    entities = {}
    for entity in section.findall("ENTITY"):
        reference = (entity.findtext("REFERENCE_NUMBER") or "").strip()
        addresses = []
        for address in entity.findall("ENTITY_ADDRESS"):
            country = (address.findtext("COUNTRY") or "").strip()
            note = (address.findtext("NOTE") or "").strip()
            if country:
                addresses.append(country)
            elif note:
                addresses.append(note)
        entities[reference] = UnEntity(
            reference=reference,
            name=(entity.findtext("FIRST_NAME") or "").strip(),
            listed_on=(entity.findtext("LISTED_ON") or "")[:10],
            countries=(),
            addresses=tuple(addresses),
        )
    return entities


def _country(names: CountryNames, text: str) -> str | None:
    key = " ".join(text.lower().replace("(at time of listing)", "").split()).strip(" .,")
    return COUNTRY_ALIASES.get(key) or names.from_name(key)


def ofac_countries(addresses: pd.DataFrame, names: CountryNames) -> dict[str, list[str]]:
    """ent_num -> sorted ISO3 of its ``add.csv`` addresses (unmatched: ``?name``)."""
    out: dict[str, set[str]] = {}
    for row in addresses.itertuples(index=False):
        countries = out.setdefault(str(row.ent_num), set())
        country = str(row.country)
        if not country:
            continue
        city = str(row.city).lower()
        fixed = next(
            (
                code
                for (town, listed), code in ADDRESS_FIXES.items()
                if listed == country.lower() and town in city
            ),
            None,
        )
        if fixed == "":
            continue  # a disputed territory without an ISO3 code (Kashmir)
        code = fixed or _country(names, country)
        countries.add(code if code else f"?{country}")
    return {key: sorted(value) for key, value in out.items()}


def un_countries(entity: UnEntity, names: CountryNames) -> list[str]:
    """ISO3 of the UN entry's addresses: the country field, or the last place named in a
    free-text note (``a) ..., Peshawar, Pakistan b) Saudi Arabia``)."""
    found: set[str] = set()
    for text in entity.addresses:
        code = _country(names, text)
        if code:
            found.add(code)
            continue
        for part in _note_parts(text):
            words = part.replace(",", " ").split()
            # the longest run of trailing words that names a country
            for start in range(len(words)):
                code = _country(names, " ".join(words[start:]))
                if code:
                    found.add(code)
                    break
    return sorted(found)


def _note_parts(text: str) -> list[str]:
    text = text.split(";", maxsplit=1)[0].replace("(at time of listing)", "")
    for marker in ("b)", "c)", "d)", "e)", "f)"):
        text = text.replace(f" {marker} ", " | ")
    return [part.removeprefix("a)").strip() for part in text.split("|")]


def read_reviewed(path: Path) -> pd.DataFrame:
    """The committed, reviewed classification, validated against its schema."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in REVIEWED_COLUMNS if c not in table.columns]
    if missing:
        raise ValidationError(f"{path}: missing columns {missing}. Restore the file from git.")
    try:
        return REVIEWED_SCHEMA.validate(table[list(REVIEWED_COLUMNS)], lazy=True)
    except pa.errors.SchemaErrors as error:
        cases = error.failure_cases.head(5).to_dict(orient="records")
        raise ValidationError(f"{path}: {cases}. Correct these rows.") from None


def _split(text: str) -> list[str]:
    return [part for part in text.split(";") if part]


def verify_reviewed_table(
    reviewed: pd.DataFrame,
    sdn: pd.DataFrame,
    addresses: pd.DataFrame,
    un: dict[str, UnEntity],
    names: CountryNames,
    path: Path = Path(REVIEWED_FILE),
) -> None:
    """Every row's name, type, program, countries and UN date against the files."""
    entities = sdn.set_index("ent_num")
    countries = ofac_countries(addresses, names)
    for line, row in enumerate(reviewed.to_dict(orient="records"), start=2):
        where = f"{path} line {line} ({row['entity_id']})"
        number = row["ofac_ent_num"]
        if number:
            if number not in entities.index:
                raise ValidationError(
                    f"{where}: ent_num {number} is not an entity of sdn.csv. Correct ofac_ent_num."
                )
            listed = entities.loc[number]
            if listed["name"] != row["name"]:
                raise ValidationError(
                    f"{where}: name {row['name']!r} differs from sdn.csv {listed['name']!r}."
                )
            if "SDGT" not in listed["program"]:
                raise ValidationError(f"{where}: program {listed['program']!r} is not SDGT.")
            expected = ";".join(countries.get(number, []))
            if expected != row["ofac_countries_iso3"]:
                raise ValidationError(
                    f"{where}: ofac_countries_iso3 {row['ofac_countries_iso3']!r}, but add.csv "
                    f"gives {expected!r}. Correct the row (or ADDRESS_FIXES)."
                )
        un_codes: set[str] = set()
        dates = []
        for reference in _split(row["un_reference"]):
            if reference not in un:
                raise ValidationError(f"{where}: {reference} is not an entity of the UN list.")
            un_codes |= set(un_countries(un[reference], names))
            dates.append(un[reference].listed_on)
        if ";".join(sorted(un_codes)) != row["un_countries_iso3"]:
            raise ValidationError(
                f"{where}: un_countries_iso3 {row['un_countries_iso3']!r}, but the UN list "
                f"gives {';'.join(sorted(un_codes))!r}."
            )
        if (min(dates) if dates else "") != row["un_listed_on"]:
            raise ValidationError(
                f"{where}: un_listed_on {row['un_listed_on']!r}, but the UN list gives "
                f"{min(dates) if dates else ''!r}."
            )
        if row["un_listed_on"] and (row["un_listed_on"] < CUTOFF) != (
            row["designated_before_2014"] == "true"
        ):
            raise ValidationError(f"{where}: designated_before_2014 contradicts un_listed_on.")


def entity_table(reviewed: pd.DataFrame) -> pd.DataFrame:
    """One row per reviewed entity: class, countries (OFAC and UN), date; no individuals."""
    rows = []
    for row in reviewed.to_dict(orient="records"):
        countries = sorted(
            set(_split(row["ofac_countries_iso3"]))
            | set(_split(row["un_countries_iso3"]))
            | set(_split(row["other_countries_iso3"]))
        )
        rows.append(
            {
                "entity_id": row["entity_id"],
                "name": row["name"],
                "entity_class": row["entity_class"],
                "gulf_linked": row["entity_class"] == "G",
                "countries_iso3": ";".join(countries),
                "un_countries_iso3": row["un_countries_iso3"],
                "listed_on": row["un_listed_on"] or None,
                "designated_before_2014": row["designated_before_2014"] == "true",
                "counted": row["counted_once_as"] == "",
                "source_key": row["source_key"],
            }
        )
    return ENTITY_SCHEMA.validate(pd.DataFrame(rows))


def country_measures(entities: pd.DataFrame, iso3: list[str]) -> pd.DataFrame:
    """The measure and its variants for each country in ``iso3`` (0 where none).

    Raises if an entity's country is not in ``iso3``: no entity is lost silently.
    """
    before = entities[entities["designated_before_2014"] & entities["counted"]]
    variants = {  # (presence column, count column) -> (entities, country column)
        MEASURES[0:2]: (before, "countries_iso3"),
        MEASURES[2:4]: (before[before["gulf_linked"]], "countries_iso3"),
        MEASURES[4:6]: (
            before[before["listed_on"].notna() & (before["listed_on"] < CUTOFF)],
            "un_countries_iso3",
        ),
    }
    table = pd.DataFrame({"iso3": sorted(iso3)})
    known = set(iso3)
    for (presence, count), (subset, column) in variants.items():
        counts: dict[str, int] = {}
        for entity_id, text in zip(subset["entity_id"], subset[column], strict=True):
            for code in _split(text):
                if code not in known:
                    raise ValidationError(
                        f"entity {entity_id}: country {code} is not in the countries table. "
                        "Add the country or correct the reviewed table."
                    )
                counts[code] = counts.get(code, 0) + 1
        table[count] = table["iso3"].map(counts).fillna(0).astype(int)
        table[presence] = (table[count] > 0).astype(int)
    return COUNTRY_SCHEMA.validate(table[["iso3", *MEASURES]])


def kosovo_rank(
    measures: pd.DataFrame, column: str, iso3: str = "XKX", among: list[str] | None = None
) -> dict[str, float]:
    """A country's value of ``column`` and its place in the distribution of ``among``
    (ISO3 codes, e.g. a model's sample; default every row; ``iso3`` is always included).

    ``rank``: 1 + the number of countries with a strictly larger value (competition
    ranking, 1 = highest); ``share_below``: share of the other countries with a strictly
    smaller value; ``share_equal``: share of the other countries with the same value.
    """
    values = measures.set_index("iso3")[column]
    if among is not None:
        values = values[values.index.isin([*among, iso3])]
    if iso3 not in values.index:
        raise ValidationError(f"{iso3} is not in the measures table.")
    value = values[iso3]
    others = values.drop(iso3)
    return {
        "value": float(value),
        "rank": float(1 + (others > value).sum()),
        "countries": float(len(values)),
        "share_below": float((others < value).mean()),
        "share_equal": float((others == value).mean()),
    }


def kosovo_summary(
    measures: pd.DataFrame, among: list[str] | None = None, iso3: str = "XKX"
) -> pd.DataFrame:
    """Kosovo's value and place for the main measure and every variant (one row each).

    ``among``: the countries of the distribution (e.g. the cross-national sample); Kosovo
    is always included.  See :func:`kosovo_rank` for the columns.
    """
    rows = [
        {"measure": column, **kosovo_rank(measures, column, iso3, among)} for column in MEASURES
    ]
    return pd.DataFrame(rows)


def build(
    raw: Path,
    transcribed: Path,
    names: CountryNames,
    iso3: list[str],
    ledger: Ledger | None = None,
) -> dict[str, pd.DataFrame]:
    """``designated_charities`` (entities) and ``designated_charity_measures`` (countries).

    With a ``ledger``, every row read is accounted for: the rows outside the reviewed
    classification (individuals, vessels, aircraft, other entities) are out of scope by
    rule, never silently lost.
    """
    reviewed_path = transcribed / REVIEWED_FILE
    reviewed = read_reviewed(reviewed_path)
    sdn_path, add_path = raw / "ofac2021" / "sdn.csv", raw / "ofac2021" / "add.csv"
    un_path = raw / "un1267" / "AQList.xml"
    sdn = read_sdn_entities(sdn_path)
    numbers = {n for n in reviewed["ofac_ent_num"] if n}
    addresses = read_addresses(add_path, numbers)
    un = read_un_entities(un_path)
    verify_reviewed_table(reviewed, sdn, addresses, un, names, reviewed_path)
    entities = entity_table(reviewed)
    if ledger is not None:
        table = "designated_charities"
        references = {r for text in reviewed["un_reference"] for r in _split(text)}
        for path, read, used, rule in (
            (reviewed_path, len(reviewed), len(reviewed), ""),
            (
                sdn_path,
                sum(1 for _ in _rows(sdn_path)),
                len(numbers),
                (
                    "individuals (never kept), vessels, aircraft and entities outside the "
                    "reviewed classification"
                ),
            ),
            (
                add_path,
                sum(1 for _ in _rows(add_path)),
                len(addresses),
                "addresses of records outside the reviewed classification",
            ),
            (
                un_path,
                len(un),
                len(references),
                (
                    "entities outside the reviewed classification (the INDIVIDUALS section "
                    "is not read)"
                ),
            ),
        ):
            ledger.count_in(table, path.name, read)
            if read > used:
                ledger.filter_out(table, path.name, read - used, rule)
    return {
        "designated_charities": entities,
        "designated_charity_measures": country_measures(entities, iso3),
    }
