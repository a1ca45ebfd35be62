"""pandera schemas for every table the package reads from users or writes.

Input formats a user may supply (``kosovo-study validate PATH``) are collected in
:data:`INPUT_FORMATS`, keyed by file name.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandera.pandas import Check, Column

from kosovo_study.errors import MunicipalityNameError, ValidationError
from kosovo_study.municipalities import load_register
from kosovo_study.validation import InputFormat

#: The restricted table of fighters by municipality (Kursani 2015/2018, Shtuni 2016,
#: UNDP 2017 or police data), placed by the researcher at
#: ``data/raw/restricted/fighters_by_municipality.csv``.  One row per municipality;
#: ``fighters`` counts people who left for Syria/Iraq in the stated period (persons).
RESTRICTED_FIGHTERS = pa.DataFrameSchema(
    {
        "municipality": Column(str),
        "municipality_id": Column(int, Check.in_range(1, 38), unique=True),
        "fighters": Column(int, Check.ge(0)),
        "definition": Column(str, Check.str_length(min_value=1)),
        "period_start": Column(str, nullable=True),
        "period_end": Column(str, nullable=True),
        "source_key": Column(str, Check.str_length(min_value=1)),
    },
    strict=True,
    name="restricted fighters_by_municipality",
)


def _prepare_restricted_fighters(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Resolve municipality labels and parse counts, naming the line of any bad value."""
    register = load_register()
    prepared = table.copy()
    ids: list[int] = []
    counts: list[int] = []
    for line, (label, count) in enumerate(
        zip(table.get("municipality", []), table.get("fighters", []), strict=True), start=2
    ):
        try:
            ids.append(register.normalise(str(label)))
        except MunicipalityNameError as error:
            raise ValidationError(f"{path} line {line}, column municipality: {error}") from None
        try:
            counts.append(int(str(count).strip()))
        except ValueError:
            raise ValidationError(
                f"{path} line {line}, column fighters: {count!r} is not a whole number of "
                "persons. Write the count as digits (0 where the source reports none; leave "
                "the municipality out where the source gives no figure)."
            ) from None
    if "municipality" in prepared and "fighters" in prepared:
        prepared.insert(1, "municipality_id", ids)
        prepared["fighters"] = counts
    return prepared


INPUT_FORMATS: dict[str, InputFormat] = {
    "fighters_by_municipality.csv": InputFormat(
        schema=RESTRICTED_FIGHTERS,
        hint=(
            "The columns are municipality, fighters, definition, period_start, period_end, "
            "source_key; one row per municipality (see README, 'Restricted data')."
        ),
        prepare=_prepare_restricted_fighters,
    ),
}
