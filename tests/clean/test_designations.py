"""Designated Islamic-charity presence: the reviewed table, the measure, and no individuals."""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from kosovo_study.clean import designations as d
from kosovo_study.clean.countries import load_country_names
from kosovo_study.errors import ValidationError
from kosovo_study.paths import ProjectPaths

from ..conftest import REPO

REVIEWED = REPO.transcribed / d.REVIEWED_FILE


@pytest.fixture(scope="module")
def built(fetched_project: ProjectPaths) -> dict[str, pd.DataFrame]:
    raw = fetched_project.raw
    names = load_country_names(raw / "datahub" / "country-codes.csv")
    from kosovo_study.clean import countries
    from kosovo_study.clean.io import Ledger

    iso3 = countries.build(raw, Ledger())["iso3"].tolist()
    return d.build(raw, fetched_project.transcribed, names, iso3)


def test_reviewed_table_covers_the_proposal_and_records_each_change() -> None:
    reviewed = d.read_reviewed(REVIEWED)
    assert len(reviewed) == 57  # the 57 proposed entities, none dropped
    changed = reviewed[reviewed["review"].str.contains("->")]
    assert changed["entity_id"].tolist() == ["OFAC-6937"]  # Rabita Trust: G -> S
    assert (reviewed.loc[reviewed["entity_id"] == "OFAC-6937", "entity_class"] == "S").all()
    # Kosovo appears as an address twice (RIHS Pristina office; GRF's Gjakova office) and
    # as "operations in" (Al Rashid Trust, recorded and not counted).
    xkx = reviewed[reviewed["ofac_countries_iso3"].str.contains("XKX")]
    assert xkx["entity_id"].tolist() == ["OFAC-7270", "OFAC-10923"]
    ops = reviewed[reviewed["operations_countries_iso3"].str.contains("XKX")]
    assert ops["entity_id"].tolist() == ["OFAC-6912", "OFAC-7201"]


def test_every_row_is_verified_against_the_files(built: dict[str, pd.DataFrame]) -> None:
    entities = built["designated_charities"]
    assert len(entities) == 57
    assert entities["counted"].sum() == 56  # Aid Organization of the Ulema = Al Rashid Trust


def test_kosovo_value_by_hand(built: dict[str, pd.DataFrame]) -> None:
    kosovo = built["designated_charity_measures"].set_index("iso3").loc["XKX"]
    # GRF (Belgium branch, Gjakova office; class U) and RIHS (Kuwait, Pristina office; G).
    assert kosovo["designated_charity_count_pre2014"] == 2
    assert kosovo["designated_charity_presence_pre2014"] == 1
    assert kosovo["designated_gulf_charity_count_pre2014"] == 1
    # Neither is on the UN list with a Kosovo address.
    assert kosovo["designated_charity_count_un_pre2014"] == 0
    pakistan = built["designated_charity_measures"].set_index("iso3").loc["PAK"]
    # UN-listed with a Pakistan address (Makhtab al-Khidamat has none): Wafa, Al Rashid, Rabita,
    # UTN, RIHS (two UN entries, one entity), Al-Akhtar, Al-Haramain Pakistan.
    assert pakistan["designated_charity_count_un_pre2014"] == 7


def test_a_row_that_disagrees_with_the_files_fails_naming_it(
    fetched_project: ProjectPaths,
) -> None:
    raw = fetched_project.raw
    names = load_country_names(raw / "datahub" / "country-codes.csv")
    reviewed = d.read_reviewed(REVIEWED)
    sdn = d.read_sdn_entities(raw / "ofac2021" / "sdn.csv")
    addresses = d.read_addresses(raw / "ofac2021" / "add.csv", set(reviewed["ofac_ent_num"]))
    un = d.read_un_entities(raw / "un1267" / "AQList.xml")
    d.verify_reviewed_table(reviewed, sdn, addresses, un, names)
    bad = reviewed.copy()
    bad.loc[bad["entity_id"] == "OFAC-10923", "ofac_countries_iso3"] = "KWT"
    with pytest.raises(ValidationError, match=r"line \d+ \(OFAC-10923\).*add.csv gives"):
        d.verify_reviewed_table(bad, sdn, addresses, un, names)
    bad = reviewed.copy()
    bad.loc[bad["entity_id"] == "OFAC-8259", "un_listed_on"] = "2014-07-06"
    with pytest.raises(ValidationError, match="UN list gives '2004-07-06'"):
        d.verify_reviewed_table(bad, sdn, addresses, un, names)


def _individual_names(raw: Path) -> list[str]:
    """Every individual's full name in both lists, in the orders a table might use."""
    forms: list[str] = []
    with (raw / "ofac2021" / "sdn.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            if len(row) > 2 and row[2].strip() == "individual":
                last, _, first = row[1].partition(",")
                forms += [row[1].strip(), f"{first.strip()} {last.strip()}".strip()]
    people = ET.parse(raw / "un1267" / "AQList.xml").getroot().find("INDIVIDUALS")
    assert people is not None
    for person in people:
        parts = [person.findtext(tag) for tag in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME")]
        forms.append(" ".join(p.strip() for p in parts if p))
    return [form.lower() for form in forms if len(form) >= 6]


def test_no_individual_appears_in_any_table(
    built: dict[str, pd.DataFrame], fetched_project: ProjectPaths
) -> None:
    """No individual's full name in the entity or country table, the committed reviewed
    table or any processed table already written."""
    names = _individual_names(fetched_project.raw)
    assert len(names) > 4000
    texts = {name: table.to_csv(index=False) for name, table in built.items()}
    texts["reviewed"] = REVIEWED.read_text(encoding="utf-8")
    for path in sorted(REPO.processed.glob("*.csv")):
        texts[path.name] = path.read_text(encoding="utf-8")
    pattern = re.compile("|".join(rf"\b{re.escape(n)}\b" for n in set(names)))
    for table, text in texts.items():
        found = [match.group(0) for match in pattern.finditer(text.lower())]
        assert not found, f"{table}: individuals' names {found[:3]}"


SDN_LINES = (
    '10,"ACME RELIEF, INC.",-0- ,"SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"a.k.a. \'AR\'."\r\n'
    '11,"DOE, John","individual","SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"DOB 1970."\r\n'
    '12,"SHIP",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n'
    "\x1a"
)


def test_sdn_parser_keeps_entities_only(tmp_path: Path) -> None:
    path = tmp_path / "sdn.csv"
    path.write_bytes(SDN_LINES.encode())
    table = d.read_sdn_entities(path)
    assert table["ent_num"].tolist() == ["10", "12"]
    assert table["name"].tolist() == ["ACME RELIEF, INC.", "SHIP"]
    assert table.loc[1, "remarks"] == ""  # "-0- " is empty
    assert "DOE" not in table.to_csv()
    path.write_bytes(b'10,"A",-0- \r\n')
    with pytest.raises(ValidationError, match="line 1: 3 fields"):
        d.read_sdn_entities(path)


def test_un_free_text_addresses(fetched_project: ProjectPaths) -> None:
    names = load_country_names(fetched_project.raw / "datahub" / "country-codes.csv")
    note = (
        "a) Jordan House No. 125, Street 54, Phase II Hayatabad, Peshawar, Pakistan (at time "
        "of listing) b) Saudi Arabia (at time of listing) c) Kuwait (at time of listing)"
    )
    entity = d.UnEntity("QE.X.1.01.", "X", "2001-10-06", (), (note, "Gaza Strip"))
    # "Jordan House" is a building, not Jordan: only the last place of each part counts.
    assert d.un_countries(entity, names) == ["KWT", "PAK", "PSE", "SAU"]


def _entities() -> pd.DataFrame:
    rows = [
        # id, class, countries, un countries, listed_on, before, counted
        ("A", "G", "KWT;XKX", "KWT", "2002-01-01", True, True),
        ("B", "U", "XKX;BEL", "", None, True, True),
        ("C", "H", "BEL", "BEL", "2014-05-01", False, True),  # after the cutoff
        ("D", "S", "PAK", "PAK", "2001-10-06", True, False),  # a duplicate record
    ]
    return pd.DataFrame(
        [
            {
                "entity_id": i,
                "name": i,
                "entity_class": c,
                "gulf_linked": c == "G",
                "countries_iso3": cs,
                "un_countries_iso3": un,
                "listed_on": lo,
                "designated_before_2014": b,
                "counted": k,
                "source_key": "K",
            }
            for i, c, cs, un, lo, b, k in rows
        ]
    )


def test_country_measures_by_hand() -> None:
    table = d.country_measures(_entities(), ["BEL", "KWT", "PAK", "XKX", "ZAF"]).set_index("iso3")
    assert table["designated_charity_count_pre2014"].to_dict() == {
        "BEL": 1,
        "KWT": 1,
        "PAK": 0,
        "XKX": 2,
        "ZAF": 0,
    }
    assert table["designated_gulf_charity_count_pre2014"].to_dict()["XKX"] == 1
    assert table["designated_charity_count_un_pre2014"].to_dict() == {
        "BEL": 0,
        "KWT": 1,
        "PAK": 0,
        "XKX": 0,
        "ZAF": 0,
    }
    assert table["designated_charity_presence_pre2014"].sum() == 3
    with pytest.raises(ValidationError, match="entity A: country XKX is not in the countries"):
        d.country_measures(_entities(), ["BEL", "KWT", "PAK"])


def test_kosovo_rank_by_hand() -> None:
    measures = pd.DataFrame({"iso3": ["AAA", "BBB", "CCC", "XKX", "DDD"], "m": [3, 2, 2, 2, 0]})
    rank = d.kosovo_rank(measures, "m")
    # one country above (rank 2); 1 of 4 others below; 2 of 4 equal.
    assert rank == {
        "value": 2.0,
        "rank": 2.0,
        "countries": 5.0,
        "share_below": 0.25,
        "share_equal": 0.5,
    }
    assert d.kosovo_rank(measures, "m", among=["DDD"])["rank"] == 1.0
    with pytest.raises(ValidationError, match="not in the measures"):
        d.kosovo_rank(measures, "m", iso3="ZZZ")


def test_kosovo_summary_over_a_sample(built: dict[str, pd.DataFrame]) -> None:
    measures = built["designated_charity_measures"]
    among = ["ALB", "BIH", "MKD", "SRB", "MNE"]  # the western Balkans
    summary = d.kosovo_summary(measures, among).set_index("measure")
    assert list(summary.index) == list(d.MEASURES)
    # Kosovo 2 entities; Bosnia more (Al-Haramain, BIF, Al Furqan, Taibah, RIHS...);
    # Albania 3 (Al-Haramain Albania, GRF, RIHS Tirana); the other three none.
    counts = measures.set_index("iso3").loc[["XKX", *among], "designated_charity_count_pre2014"]
    assert counts["XKX"] == 2
    assert counts["ALB"] == 3
    assert counts[["MKD", "SRB", "MNE"]].sum() == 0
    row = summary.loc["designated_charity_count_pre2014"]
    assert row["rank"] == 3.0  # behind Bosnia and Albania
    assert row["countries"] == 6.0
    assert row["share_below"] == pytest.approx(3 / 5)
