"""Census covariates by municipality (Kosovo Agency of Statistics, censuses 2011 and 2024).

Sources (all committed under ``data/raw/transcribed/``):

* ``kas_census2024_population_with_estimation.csv`` (KAS table census2024_00):
  population 2011 (census) and 2024 (census; KAS estimate for the four northern
  municipalities).  The four northern municipalities boycotted the 2011 census:
  their 2011 cells are empty and stay missing, never zero.
* ``kas_census_age15_29_by_municipality.csv`` (census2024_00): 2011 single ages 15-29
  and a ``KOSOVA`` total row, used to check that municipalities add up.
* ``kas_census_population_religion_by_municipality.csv`` (census2024_10): 2011 and
  2024 population by religion; the categories must add up to the total.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kosovo_study.clean.io import Ledger, parse_number, read_transcribed
from kosovo_study.errors import MunicipalityNameError, ValidationError
from kosovo_study.municipalities import MunicipalityRegister

POPULATION_FILE = "kas_census2024_population_with_estimation.csv"
AGE_FILE = "kas_census_age15_29_by_municipality.csv"
RELIGION_FILE = "kas_census_population_religion_by_municipality.csv"
AGES = [f"age_{age}" for age in range(15, 30)]
RELIGIONS = [
    "islam",
    "orthodox",
    "catholic",
    "others",
    "no_religious_affiliation",
    "prefers_not_to_answer",
]


def _resolve(
    register: MunicipalityRegister, label: str, *, path: Path, line: int, index: str | None = None
) -> int:
    try:
        municipality_id = register.normalise(label, source="kas")
    except MunicipalityNameError as error:
        raise ValidationError(f"{path} line {line}: {error}") from None
    if index is not None and index.strip() and int(index) != municipality_id:
        raise ValidationError(
            f"{path} line {line}: kas_komuna_index {index} does not match the municipality "
            f"{label!r} (id {municipality_id} in the register). Correct one of the two."
        )
    return municipality_id


def _no_duplicates(ids: list[int], path: Path, lines: list[int]) -> None:
    seen: dict[int, int] = {}
    for municipality_id, line in zip(ids, lines, strict=True):
        if municipality_id in seen:
            raise ValidationError(
                f"{path} line {line}: municipality id {municipality_id} already appears on line "
                f"{seen[municipality_id]}. Keep one row per municipality."
            )
        seen[municipality_id] = line


def population(folder: Path, register: MunicipalityRegister, ledger: Ledger) -> pd.DataFrame:
    """``population_2011`` and ``population_2024`` (persons) for the 38 municipalities."""
    path = folder / POPULATION_FILE
    table = read_transcribed(
        path,
        [
            "kas_komuna_index",
            "municipality_kas_label",
            "pop_2011_census",
            "pop_2024_census_with_kas_estimation",
        ],
        ledger,
    )
    ledger.count_in("municipalities", path.name, len(table))
    rows = []
    for line, row in enumerate(table.to_dict(orient="records"), start=2):
        municipality_id = _resolve(
            register,
            str(row["municipality_kas_label"]),
            path=path,
            line=line,
            index=str(row["kas_komuna_index"]),
        )
        pop_2011 = parse_number(
            str(row["pop_2011_census"]),
            path=path,
            line=line,
            column="pop_2011_census",
            integer=True,
        )
        boycotted = register.by_id(municipality_id).boycotted_2011_census
        if boycotted and pop_2011 is not None:
            raise ValidationError(
                f"{path} line {line}: {row['municipality_kas_label']} boycotted the 2011 census, "
                f"so pop_2011_census must be empty, not {row['pop_2011_census']!r}. Leave the "
                "cell empty (missing is not zero)."
            )
        if pop_2011 == 0:
            raise ValidationError(
                f"{path} line {line}: pop_2011_census is 0. A municipality without a count "
                "must be left empty, not zero-filled."
            )
        rows.append(
            {
                "municipality_id": municipality_id,
                "line": line,
                "population_2011": pop_2011,
                "population_2024": parse_number(
                    str(row["pop_2024_census_with_kas_estimation"]),
                    path=path,
                    line=line,
                    column="pop_2024_census_with_kas_estimation",
                    integer=True,
                ),
            }
        )
    frame = pd.DataFrame(rows)
    _no_duplicates(frame["municipality_id"].tolist(), path, frame["line"].tolist())
    missing = sorted(set(range(1, 39)) - set(frame["municipality_id"]))
    if missing:
        names = [register.by_id(i).name_sq for i in missing]
        raise ValidationError(f"{path}: no row for {names}. Every municipality needs a row.")
    return frame.drop(columns="line")


def youth_share(folder: Path, register: MunicipalityRegister, ledger: Ledger) -> pd.DataFrame:
    """``youth_share_2011``: persons aged 15-29 / all persons, census 2011 (share 0-1)."""
    path = folder / AGE_FILE
    table = read_transcribed(
        path, ["municipality_kas_label", "year", "population_total", *AGES], ledger
    )
    ledger.count_in("municipalities", path.name, len(table))
    numbers = {
        column: [
            parse_number(str(v), path=path, line=i + 2, column=column, integer=True)
            for i, v in enumerate(table[column])
        ]
        for column in ["population_total", *AGES]
    }
    values = pd.DataFrame(numbers, dtype="float64")
    is_total = table["municipality_kas_label"].str.strip().str.upper() == "KOSOVA"
    if is_total.sum() != 1:
        raise ValidationError(f"{path}: expected exactly one KOSOVA total row.")
    total_line = int(is_total.to_numpy().nonzero()[0][0]) + 2
    ledger.reject(
        "municipalities",
        path.name,
        total_line,
        "national total row: used only to check that municipalities add up",
        "KOSOVA",
    )
    municipal = values[~is_total.to_numpy()]
    national = values[is_total.to_numpy()].iloc[0]
    sums = municipal.sum(min_count=1)
    for column in ["population_total", *AGES]:
        if sums[column] != national[column]:
            raise ValidationError(
                f"{path}: column {column} sums to {sums[column]:.0f} over municipalities but the "
                f"KOSOVA row (line {total_line}) says {national[column]:.0f}. The totals do not "
                "add up: check the transcription of each municipality against KAS census2024_00."
            )
    rows = []
    for i in municipal.index:
        line = int(i) + 2
        municipality_id = _resolve(
            register, str(table.loc[i, "municipality_kas_label"]), path=path, line=line
        )
        total = municipal.loc[i, "population_total"]
        young = municipal.loc[i, AGES]
        share = young.sum() / total if pd.notna(total) and young.notna().all() else float("nan")
        rows.append({"municipality_id": municipality_id, "line": line, "youth_share_2011": share})
    frame = pd.DataFrame(rows)
    _no_duplicates(frame["municipality_id"].tolist(), path, frame["line"].tolist())
    return frame.drop(columns="line")


def religion(folder: Path, register: MunicipalityRegister, ledger: Ledger) -> pd.DataFrame:
    """``muslim_share_2011``: persons declaring Islam / all persons, census 2011 (share 0-1).

    Rows for 2024 are read and checked (categories must add up) but the 2024
    share is not used: 2024 is after the recruitment period and the north was
    only partly enumerated.  The cleaning report counts them as out of scope.
    """
    path = folder / RELIGION_FILE
    table = read_transcribed(
        path,
        ["kas_komuna_index", "municipality_kas_sq", "year", "population_total", *RELIGIONS],
        ledger,
    )
    ledger.count_in("municipalities", path.name, len(table))
    rows = []
    later_rows = 0
    for line, row in enumerate(table.to_dict(orient="records"), start=2):
        municipality_id = _resolve(
            register,
            str(row["municipality_kas_sq"]),
            path=path,
            line=line,
            index=str(row["kas_komuna_index"]),
        )
        total = parse_number(
            str(row["population_total"]), path=path, line=line, column="population_total"
        )
        parts = [
            parse_number(str(row[c]), path=path, line=line, column=c, integer=True)
            for c in RELIGIONS
        ]
        if total is not None and all(p is not None for p in parts):
            added = sum(p for p in parts if p is not None)
            if added != total:
                raise ValidationError(
                    f"{path} line {line}: the religion counts add up to {added:.0f} but "
                    f"population_total is {total:.0f}. The totals do not add up: check the row "
                    "against KAS census2024_10."
                )
        if str(row["year"]).strip() != "2011":
            later_rows += 1
            continue
        islam = parts[0]
        share = islam / total if islam is not None and total else float("nan")
        rows.append({"municipality_id": municipality_id, "line": line, "muslim_share_2011": share})
    ledger.filter_out(
        "municipalities",
        path.name,
        later_rows,
        "census 2024 rows: checked (categories add up), not used (after the recruitment period)",
    )
    ledger.filter_out(
        "municipalities",
        path.name,
        later_rows,
        "census 2024 rows: checked (categories add up), not used (after the recruitment period)",
    )
    frame = pd.DataFrame(rows)
    _no_duplicates(frame["municipality_id"].tolist(), path, frame["line"].tolist())
    return frame.drop(columns="line")
