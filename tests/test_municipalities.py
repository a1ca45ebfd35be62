"""normalise_municipality(): every label in the shared data, variants, unknown and ambiguous names."""

from __future__ import annotations

import unicodedata

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kosovo_study.errors import (
    AmbiguousMunicipalityError,
    MunicipalityNameError,
    UnknownMunicipalityError,
)
from kosovo_study.municipalities import (
    AMBIGUOUS_LABELS,
    FORMER_FILE,
    SOURCE_COLUMNS,
    FormerMunicipalityError,
    build_register,
    load_register,
    name_key,
    normalise_municipality,
)
from kosovo_study.schemas import REGISTER_SIZE

from .conftest import REPO

CROSSWALK = pd.read_csv(
    REPO.transcribed / "municipality_name_crosswalk.csv", dtype=str, keep_default_na=False
)
LABELS = [
    (scope, column, row[column], int(row["kas_komuna_index"]))
    for scope, columns in SOURCE_COLUMNS.items()
    for column in columns
    for _, row in CROSSWALK.iterrows()
]


def test_register_has_38_municipalities_with_kas_ids() -> None:
    register = load_register()
    assert len(register) == 38
    assert [m.municipality_id for m in register.municipalities] == list(range(1, 39))
    assert register.by_id(19).name_sq == "Prishtinë"
    assert register.by_id(38).geoboundaries_name == "Municipality of North Mitrovica"
    # the schemas' declared size (they import nothing from the package) is the register's
    assert len(register) == REGISTER_SIZE


def test_boycott_and_decentralisation_flags() -> None:
    register = load_register()
    boycotted = {m.name_sq for m in register.municipalities if m.boycotted_2011_census}
    assert boycotted == {"Leposaviq", "Zubin Potok", "Zveqan", "Mitrovicë e Veriut"}
    created = {
        m.name_sq for m in register.municipalities if m.created_in_decentralisation_2008_2013
    }
    assert created == {
        "Junik",
        "Mamushë",
        "Hani i Elezit",
        "Graçanicë",
        "Ranillug",
        "Partesh",
        "Kllokot",
        "Mitrovicë e Veriut",
    }


@pytest.mark.parametrize(("scope", "column", "label", "expected"), LABELS)
def test_every_crosswalk_label_resolves_in_its_source_scope(
    scope: str, column: str, label: str, expected: int
) -> None:
    del column
    assert normalise_municipality(label, source=scope) == expected


@pytest.mark.parametrize(("scope", "column", "label", "expected"), LABELS)
def test_every_unambiguous_crosswalk_label_resolves_without_scope(
    scope: str, column: str, label: str, expected: int
) -> None:
    del scope, column
    if name_key(label) in AMBIGUOUS_LABELS:
        with pytest.raises(AmbiguousMunicipalityError):
            normalise_municipality(label)
    else:
        assert normalise_municipality(label) == expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("DEÇAN", 1),
        ("decan", 1),
        ("  Fushe Kosove  ", 9),
        ("fushë   kosovë", 9),
        ("SHTERPCE", 23),
        ("Gracanica", 34),
        ("Dakovica", 2),  # Serbian Đakovica without the stroke
        ("Đakovica", 2),
        ("Zvecan", 29),
        ("Zveçan", 29),
        ("Zveqan", 29),
        ("Drenas", 3),
        ("Gllogovc", 3),
        ("Glogovac", 3),
        ("municipality of peja", 17),
        ("Gjilan/Gnjilane", 4),
        ("Gjilan / Gnjilane", 4),
        ("Prishtinë/Priština", 19),
        ("Mitrovicë/a South", 11),
        ("mitrovice/a south", 11),
        ("Mitrovicë/a North", 38),
        ("Mitrovica Veriore", 38),
        ("Severna Mitrovica", 38),
        ("Mitrovicë e Veriut / Severna Mitrovica", 38),
        ("Mitrovica e Jugut", 11),
        ("Mitrovicë e Jugut", 11),
        ("Južna Kosovska Mitrovica", 11),
        ("Severna Kosovska Mitrovica", 38),
        ("Prishtina", 19),  # Albanian definite form of Prishtinë
        ("Kamenica", 10),
        ("Klina", 8),
    ],
)
def test_variants_resolve(label: str, expected: int) -> None:
    assert normalise_municipality(label) == expected


@pytest.mark.parametrize(
    "label",
    [
        "Mitrovica",
        "Mitrovicë",
        "MITROVICE",
        "Mitrovicë/a",
        "Mitrovicë/Mitrovica",
        "Mitrovicë / Mitrovica",
        "Mitrovica/Mitrovicë",
        "Kosovska Mitrovica",
        "Kosovska Mitrovica/Mitrovicë",
    ],
)
def test_bare_mitrovica_is_ambiguous(label: str) -> None:
    with pytest.raises(AmbiguousMunicipalityError, match=r"ambiguous.*North"):
        normalise_municipality(label)


def test_scoped_mitrovica_is_the_south_for_kas() -> None:
    assert normalise_municipality("Mitrovicë", source="kas") == 11


def test_unknown_name_lists_three_closest() -> None:
    with pytest.raises(UnknownMunicipalityError) as caught:
        normalise_municipality("Prizrenn")
    message = str(caught.value)
    assert "'Prizrenn'" in message
    assert "closest known names are 'Prizren'" in message
    assert message.count("', '") == 2  # exactly three names listed


@pytest.mark.parametrize("label", ["Belgrade", "", "   "])
def test_unknown_or_empty_names_are_errors(label: str) -> None:
    with pytest.raises(UnknownMunicipalityError):
        normalise_municipality(label)


def test_label_naming_two_municipalities_is_refused() -> None:
    with pytest.raises(AmbiguousMunicipalityError, match="several municipalities"):
        normalise_municipality("Gjilan/Prizren")


def test_unknown_scope_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="source scope"):
        normalise_municipality("Viti", source="census1981")


@pytest.mark.parametrize(
    ("file", "column", "scope"),
    [
        ("bik_mosques_by_municipality_2021.csv", "municipality", "kas"),
        ("kosovo_fighters_by_municipality_confirmed.csv", "municipality", None),
        ("north_population_estimates_non_census.csv", "municipality", None),
        ("kas_census2024_population_with_estimation.csv", "municipality_kas_label", "kas"),
        ("kas_census_population_religion_by_municipality.csv", "municipality_kas_sq", "kas"),
    ],
)
def test_every_label_in_the_transcribed_tables_resolves(
    file: str, column: str, scope: str | None
) -> None:
    table = pd.read_csv(REPO.transcribed / file, dtype=str, keep_default_na=False)
    ids = [normalise_municipality(label, source=scope) for label in table[column]]
    assert len(ids) == len(table)
    assert all(1 <= i <= 38 for i in ids)


@pytest.mark.parametrize("label", ["Gora", "GORA", "Gorë", "Opština Gora", "Municipality of Gora"])
def test_former_municipality_names_its_successor(label: str) -> None:
    with pytest.raises(FormerMunicipalityError, match=r"former municipality.*Dragash \(id 5\)"):
        normalise_municipality(label)


def test_former_municipalities_are_data_with_a_valid_successor() -> None:
    former = pd.read_csv(REPO.transcribed / FORMER_FILE, dtype=str, keep_default_na=False)
    assert set(former["successor_name"]) == {"Dragash"}
    register = load_register()
    for row in former.itertuples():
        assert register.by_id(int(row.successor_id)).name_sq == row.successor_name
    bad = former.assign(successor_id="39")
    with pytest.raises(ValueError, match="successor_id must be a municipality id"):
        build_register(CROSSWALK, bad)
    clash = former.assign(former_name="Viti")
    with pytest.raises(ValueError, match="also a current municipality label"):
        build_register(CROSSWALK, clash)


# Property tests: for any text, the result is an id 1-38 or a MunicipalityNameError.
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_normalise_never_crashes(label: str) -> None:
    try:
        result = normalise_municipality(label)
    except MunicipalityNameError:
        return
    assert 1 <= result <= 38


CANONICAL = [m.name_sq for m in load_register().municipalities]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(CANONICAL))
def test_normalise_is_idempotent_on_canonical_names(name: str) -> None:
    register = load_register()
    first = normalise_municipality(name, source="kas")
    again = register.by_id(first).name_sq
    assert normalise_municipality(again, source="kas") == first


def _strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(CANONICAL), st.lists(st.booleans(), min_size=40, max_size=40))
def test_normalise_ignores_case_and_diacritics(name: str, upper: list[bool]) -> None:
    expected = normalise_municipality(name, source="kas")
    cased = "".join(c.upper() if u else c.lower() for c, u in zip(name, upper, strict=False))
    assert normalise_municipality(cased, source="kas") == expected
    assert normalise_municipality(_strip_diacritics(cased), source="kas") == expected
    if name_key(name) not in AMBIGUOUS_LABELS:  # bare Mitrovicë needs the scope
        assert normalise_municipality(_strip_diacritics(cased)) == expected
