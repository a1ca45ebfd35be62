"""Published counts of Kosovo's foreign fighters: by municipality (confirmed) and national.

Municipal (``kosovo_fighters_by_municipality_confirmed.csv``): 8 rows for 6 of 38
municipalities, from different reports, definitions and periods, selected on the
outcome.  Only rows with ``comparable_departure_count = yes`` (people who left)
enter the municipalities table; the others (Prishtinë 16, people handled by the
municipality; Kaçanik 22, people fighting at one date) are set aside with reasons.
Where several comparable rows give the same count for a municipality, that count
is kept with all their source keys; different comparable counts are an error
(the analyst must choose).  This is not a regression dataset.

National (``kosovo_fighters_national.csv``): every published statistic stays a row
of its own with its date, definition and source.  Definitions are never mixed.
The harmonised series ``total_travelled_with_children`` is built by
:data:`HARMONISED_RULE`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from kosovo_study.clean.io import Ledger, parse_number, read_transcribed
from kosovo_study.errors import MunicipalityNameError, ValidationError
from kosovo_study.municipalities import MunicipalityRegister

MUNICIPAL_FILE = "kosovo_fighters_by_municipality_confirmed.csv"
NATIONAL_FILE = "kosovo_fighters_national.csv"
QUALIFIERS = ("at least", "about", "more than", "up to", "some", "over", "almost", "nearly")
HARMONISED_STATISTIC = "total_travelled_with_children"
HARMONISED_RULE = (
    "For each source (source_key and reference date) that is not marked LOW-QUALITY: if it "
    "publishes men, women and children, the harmonised total is their sum (and any total it "
    "also publishes must equal that sum); otherwise, if it publishes total_travelled together "
    "with a children count among that total, the harmonised total is that published total. "
    "Sources whose total does not say whether children are included stay out of the series."
)


def confirmed_municipal(
    folder: Path, register: MunicipalityRegister, ledger: Ledger
) -> pd.DataFrame:
    """``fighters_confirmed`` (persons), definition and sources for municipalities that have one."""
    path = folder / MUNICIPAL_FILE
    table = read_transcribed(
        path,
        [
            "municipality",
            "count",
            "definition",
            "period",
            "source_key",
            "comparable_departure_count",
        ],
        ledger,
    )
    ledger.count_in("municipalities", path.name, len(table))
    rows = []
    for line, row in enumerate(table.to_dict(orient="records"), start=2):
        try:
            municipality_id = register.normalise(str(row["municipality"]))
        except MunicipalityNameError as error:
            raise ValidationError(f"{path} line {line}, column municipality: {error}") from None
        count = parse_number(str(row["count"]), path=path, line=line, column="count", integer=True)
        comparable = str(row["comparable_departure_count"]).strip()
        if comparable not in {"yes", "no"}:
            raise ValidationError(
                f"{path} line {line}, column comparable_departure_count: must be yes or no."
            )
        if comparable == "no" or count is None:
            ledger.reject(
                "municipalities",
                path.name,
                line,
                "not a comparable count of people who left: " + str(row["definition"])[:80],
                f"{row['municipality']} {row['count']}",
            )
            continue
        rows.append(
            {
                "municipality_id": municipality_id,
                "fighters_confirmed": int(count),
                "fighters_confirmed_definition": str(row["definition"]),
                "fighters_confirmed_sources": str(row["source_key"]),
                "line": line,
            }
        )
    frame = pd.DataFrame(rows)
    merged = []
    for key, group in frame.groupby("municipality_id", sort=True):
        municipality_id = int(str(key))
        counts = set(group["fighters_confirmed"])
        if len(counts) > 1:
            raise ValidationError(
                f"{path} lines {group['line'].tolist()}: comparable counts {sorted(counts)} differ "
                f"for {register.by_id(municipality_id).name_sq}. Mark all but one as "
                "comparable_departure_count = no, with the reason in the definition."
            )
        merged.append(
            {
                "municipality_id": municipality_id,
                "fighters_confirmed": int(group["fighters_confirmed"].iloc[0]),
                "fighters_confirmed_definition": group["fighters_confirmed_definition"].iloc[0],
                "fighters_confirmed_sources": "; ".join(group["fighters_confirmed_sources"]),
            }
        )
    return pd.DataFrame(merged)


def _qualifier(definition: str) -> str:
    lowered = definition.strip().lower()
    for qualifier in QUALIFIERS:
        if re.match(rf"{qualifier}\b", lowered):
            return qualifier
    return ""


def national(folder: Path, ledger: Ledger) -> pd.DataFrame:
    """Every published national statistic, tidy, plus the harmonised total series."""
    path = folder / NATIONAL_FILE
    columns = [
        "statistic",
        "value",
        "unit",
        "reference_date",
        "period_start",
        "period_end",
        "definition",
        "source_key",
    ]
    table = read_transcribed(path, columns, ledger)
    ledger.count_in("kosovo_national", path.name, len(table))
    records = []
    for line, row in enumerate(table.to_dict(orient="records"), start=2):
        value = parse_number(str(row["value"]), path=path, line=line, column="value")
        if row["unit"] not in {"persons", "share", "per_million"}:
            raise ValidationError(
                f"{path} line {line}, column unit: {row['unit']!r} must be persons, share or "
                "per_million."
            )
        if row["unit"] == "share" and value is not None and value > 1:
            raise ValidationError(
                f"{path} line {line}: share {value} is above 1. Shares are written 0-1 "
                "(0.75, not 75)."
            )
        if value is None:
            ledger.reject(
                "kosovo_national", path.name, line, "no value published", row["statistic"]
            )
            continue
        definition = str(row["definition"])
        records.append(
            {
                "statistic": row["statistic"],
                "value": value,
                "unit": row["unit"],
                "reference_date": row["reference_date"],
                "period_start": row["period_start"],
                "period_end": row["period_end"],
                "qualifier": _qualifier(definition),
                "low_quality": "LOW-QUALITY" in definition,
                "definition": definition,
                "source_key": row["source_key"],
                "derived": False,
                "line": line,
            }
        )
    published = pd.DataFrame(records)
    harmonised = harmonise_total(published, path)
    tidy = pd.concat([published, harmonised], ignore_index=True).drop(columns="line")
    return tidy.sort_values(
        ["statistic", "reference_date", "source_key"], kind="stable"
    ).reset_index(drop=True)


def harmonise_total(published: pd.DataFrame, path: Path | str) -> pd.DataFrame:
    """The ``total_travelled_with_children`` rows, built by :data:`HARMONISED_RULE`."""
    rows = []
    usable = published[~published["low_quality"] & (published["unit"] == "persons")]
    for (source_key, date), group in usable.groupby(
        ["source_key", "reference_date"], sort=True, dropna=False
    ):
        values = dict(zip(group["statistic"], group["value"], strict=False))
        lines = group["line"].tolist()
        if {"men", "women", "children"} <= set(values):
            total = values["men"] + values["women"] + values["children"]
            published_total = values.get("total_travelled")
            if published_total is not None and published_total != total:
                raise ValidationError(
                    f"{path} lines {lines} ({source_key}): men + women + children = {total:.0f} "
                    f"but total_travelled = {published_total:.0f}. The totals do not add up; "
                    "check the transcription or mark the source LOW-QUALITY."
                )
            how = "men + women + children"
        elif "total_travelled" in values and "children" in values:
            total = values["total_travelled"]
            how = "published total that includes the children count"
        else:
            continue
        rows.append(
            {
                "statistic": HARMONISED_STATISTIC,
                "value": total,
                "unit": "persons",
                "reference_date": date,
                "period_start": "",
                "period_end": "",
                "qualifier": "",
                "low_quality": False,
                "definition": f"harmonised total travelled, adults and children ({how})",
                "source_key": source_key,
                "derived": True,
                "line": -1,
            }
        )
    return pd.DataFrame(rows, columns=published.columns)
