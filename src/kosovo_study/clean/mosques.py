"""Mosques per 10,000 inhabitants (BIK count, 2021).

Source: ``bik_mosques_by_municipality_2021.csv`` (Islamic Community of Kosovo, as
reported in 2021): 26 of 38 municipalities; the source lists no others, so the
rest are missing, not zero.  The count includes all mosques (active, being built,
inactive; of any funder) and is measured *after* the 2012-2016 recruitment
period.  Denominator: population 2024 (census), the census closest to 2021.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kosovo_study.clean.io import Ledger, parse_number, read_transcribed
from kosovo_study.errors import MunicipalityNameError, ValidationError
from kosovo_study.municipalities import MunicipalityRegister

MOSQUES_FILE = "bik_mosques_by_municipality_2021.csv"


def mosque_counts(folder: Path, register: MunicipalityRegister, ledger: Ledger) -> pd.DataFrame:
    """``mosques_2021`` (count) for the municipalities the source lists."""
    path = folder / MOSQUES_FILE
    table = read_transcribed(path, ["municipality", "mosques_count", "source_key"], ledger)
    ledger.count_in("municipalities", path.name, len(table))
    rows: dict[int, dict[str, object]] = {}
    for line, row in enumerate(table.to_dict(orient="records"), start=2):
        try:
            municipality_id = register.normalise(str(row["municipality"]), source="kas")
        except MunicipalityNameError as error:
            raise ValidationError(f"{path} line {line}, column municipality: {error}") from None
        if municipality_id in rows:
            raise ValidationError(
                f"{path} line {line}: {row['municipality']} appears twice. Keep one row."
            )
        count = parse_number(
            str(row["mosques_count"]), path=path, line=line, column="mosques_count", integer=True
        )
        rows[municipality_id] = {"municipality_id": municipality_id, "mosques_2021": count}
    return pd.DataFrame(list(rows.values()))
