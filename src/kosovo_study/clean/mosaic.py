"""UNDP Kosovo Mosaic: the share naming unemployment as the municipality's main problem.

Source: ``mosaic/Indicators_for_the_Online_Visualization_Platform_19112015.xlsx``
(registry ``mosaic_indicators_19112015``), sheets "3 main problems 2012" and
"3 main problems 2015".  A cell is the share (0-1) of respondents in a municipality
who name that problem as its most important one.  Only each municipality's top
problems (usually three, sometimes two, four or five) are filled in.

How each case is coded (``*_status`` columns):

``measured``
    The cell is filled: the share as published.
``not_in_top_problems``
    The cell is blank but the municipality has other problems filled in.  The
    share was not published; it is *not* zero.  What can be inferred is kept in a
    separate column, ``*_upper_bound``: the smallest share listed for that
    municipality, since a problem outside the top list was named by no more
    respondents than the least-named listed problem.
``measured_undivided_mitrovica``
    2012 only: "Mitrovicë/a" is the pre-2013 municipality, which included today's
    North Mitrovica.  Its value is kept for the south (id 11), flagged.
``part_of_undivided_mitrovica``
    2012, North Mitrovica (id 38): not surveyed separately; no value.
``not_surveyed``
    The municipality has no column in that wave's sheet.

Values are never imputed.  Shares given in percent (every value of a sheet
above 1) are divided by 100 and the normalisation is recorded; a share outside
[0, 1] otherwise is an error naming the cell.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
from openpyxl.utils import get_column_letter

from kosovo_study.clean.io import Ledger
from kosovo_study.errors import MunicipalityNameError, ValidationError
from kosovo_study.municipalities import MunicipalityRegister, name_key

WAVES = (2012, 2015)
SHEET_PATTERN = re.compile(r"^\s*3 main problems (\d{4})\s*$", re.IGNORECASE)
NATIONAL_COLUMN = "kosovo"
UNDIVIDED_MITROVICA = "mitrovice/a"
UNEMPLOYMENT = "unemployment"


def _find_sheets(workbook: openpyxl.Workbook, path: Path) -> dict[int, str]:
    found: dict[int, str] = {}
    for name in workbook.sheetnames:
        match = SHEET_PATTERN.match(name)
        if match:
            found[int(match.group(1))] = name
    missing = [wave for wave in WAVES if wave not in found]
    if missing:
        raise ValidationError(
            f"{path}: no sheet named '3 main problems {missing[0]}' (sheets found: "
            f"{workbook.sheetnames}). The workbook must be the byte-exact UNDP file; if a sheet "
            "was renamed, restore the original with `kosovo-study fetch`."
        )
    return found


def _read_sheet(
    workbook: openpyxl.Workbook,
    sheet: str,
    wave: int,
    path: Path,
    register: MunicipalityRegister,
    ledger: Ledger,
) -> pd.DataFrame:
    rows = list(workbook[sheet].iter_rows(values_only=True))
    header = rows[0]
    # The unit of a sheet is a municipality column; blank cells are coded, not dropped.
    ledger.count_in(
        "mosaic_top_problems", path.name, sum(1 for c in header[1:] if c and str(c).strip())
    )
    cells: list[dict[str, object]] = []
    seen: dict[int, str] = {}
    for j, label in enumerate(header[1:], start=1):
        if label is None or not str(label).strip():
            continue
        column = get_column_letter(j + 1)
        key = name_key(str(label))
        if key == NATIONAL_COLUMN:
            ledger.reject(
                "mosaic_top_problems",
                path.name,
                f"{sheet}!{column}",
                "national aggregate column, not a municipality",
                str(label),
            )
            continue
        if key == UNDIVIDED_MITROVICA and wave < 2013:
            municipality_id, note = 11, "undivided_mitrovica"
        else:
            try:
                municipality_id, note = register.normalise(str(label)), ""
            except MunicipalityNameError as error:
                raise ValidationError(f"{path} sheet {sheet!r} cell {column}1: {error}") from None
        if municipality_id in seen:
            raise ValidationError(
                f"{path} sheet {sheet!r} cell {column}1: {label!r} is the same municipality as "
                f"column {seen[municipality_id]}. Each municipality needs one column."
            )
        seen[municipality_id] = column
        for i, row in enumerate(rows[1:], start=2):
            problem = row[0]
            if problem is None or not str(problem).strip():
                continue
            value = row[j] if j < len(row) else None
            if value is not None and not isinstance(value, int | float):
                raise ValidationError(
                    f"{path} sheet {sheet!r} cell {column}{i}: {value!r} is not a number."
                )
            cells.append(
                {
                    "municipality_id": municipality_id,
                    "wave": wave,
                    "problem": " ".join(str(problem).split()),
                    "share": None if value is None else float(value),
                    "cell": f"{sheet}!{column}{i}",
                    "label_in_source": str(label).strip(),
                    "note": note,
                }
            )
    frame = pd.DataFrame(cells)
    filled = frame["share"].dropna()
    if (filled > 1).any():
        if (filled > 1).all() and (filled <= 100).all():
            frame["share"] = frame["share"] / 100
            ledger.note(path.name, f"sheet {sheet!r}: shares given in percent, divided by 100")
        else:
            bad = frame.loc[frame["share"] > 1].iloc[0]
            raise ValidationError(
                f"{path} cell {bad['cell']}: share {bad['share']} is outside [0, 1]. Shares "
                "are fractions of respondents; correct the cell."
            )
    if (filled < 0).any():
        bad = frame.loc[frame["share"] < 0].iloc[0]
        raise ValidationError(f"{path} cell {bad['cell']}: share {bad['share']} is negative.")
    return frame


def top_problems(path: Path, register: MunicipalityRegister, ledger: Ledger) -> pd.DataFrame:
    """Every filled cell of the two "3 main problems" sheets, tidy (long) and measured only."""
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheets = _find_sheets(workbook, path)
        frames = [
            _read_sheet(workbook, sheets[wave], wave, path, register, ledger) for wave in WAVES
        ]
    finally:
        workbook.close()
    cells = pd.concat(frames, ignore_index=True)
    # Blank cells are not rows of data: they are kept implicitly through the status
    # coding of the unemployment measure and counted in the cleaning report.
    ledger.note(path.name, f"{int(cells['share'].isna().sum())} blank cells = not in top problems")
    return cells


def unemployment_concern(cells: pd.DataFrame) -> pd.DataFrame:
    """One row per municipality: share naming unemployment, status and inferred bound, per wave."""
    columns: dict[str, list[Any]] = {"municipality_id": list(range(1, 39))}
    for wave in WAVES:
        in_wave = cells[cells["wave"] == wave]
        if not (in_wave["problem"].str.lower() == UNEMPLOYMENT).any():
            raise ValidationError(
                f"Mosaic {wave}: no 'Unemployment' row in '3 main problems {wave}'."
            )
        shares: list[float | None] = []
        statuses: list[str] = []
        bounds: list[float | None] = []
        for municipality_id in range(1, 39):
            own = in_wave[in_wave["municipality_id"] == municipality_id]
            unemployment = own[own["problem"].str.lower() == UNEMPLOYMENT]
            if own.empty:
                undivided = wave < 2013 and municipality_id == 38
                statuses.append("part_of_undivided_mitrovica" if undivided else "not_surveyed")
                shares.append(None)
                bounds.append(None)
                continue
            share = unemployment["share"].iloc[0]
            undivided_note = (own["note"] == "undivided_mitrovica").any()
            if pd.notna(share):
                shares.append(float(share))
                statuses.append("measured_undivided_mitrovica" if undivided_note else "measured")
                bounds.append(None)
            else:
                shares.append(None)
                statuses.append("not_in_top_problems")
                bounds.append(float(own["share"].min()))
        columns[f"unemployment_concern_{wave}"] = shares
        columns[f"unemployment_concern_{wave}_status"] = statuses
        columns[f"unemployment_concern_{wave}_upper_bound"] = bounds
    return pd.DataFrame(columns)
