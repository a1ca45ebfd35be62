"""Statistical disclosure control: no output carries a restricted municipal count.

The restricted counts (``data/raw/restricted/fighters_by_municipality.csv``) are not
redistributable.  What the package publishes from them are estimates, intervals and
diagnostics; the rule, enforced here before every write, is that no output holds a
municipality's count or anything from which it follows exactly:

* a column equal to the counts on the rows that name municipalities;
* a column that is an exact linear function of the counts (a share of the total, a
  percentage, a scaled or shifted count) or of the counts per inhabitant (a rate);
* two columns whose sum or difference is the count (a fitted value and its residual).

Influence and leave-one-out tables therefore show the change in the estimate (Cook's
distance, DFBETA, the IRR without the unit), never the count or the fitted value beside
it.  No map of the outcome is drawn: the book's maps show covariates only.  (A map of
the counts would need them coarsened into classes with a minimum cell size, as the
threshold rule of statistical offices does: Eurostat, *Handbook on Statistical
Disclosure Control*, 2010, sec. 4.2; the package draws none.)

:func:`guard_table` and :func:`guard_text` are called by the package's writers
(``kosovo_study.storage``, the book's figure and table data): they find the project the
destination belongs to, read its restricted file with the validator
(:func:`kosovo_study.validation.read_validated`), and refuse the write with an error
naming the file and the column, never the value.  Without a restricted file (the
synthetic stand-in) they do nothing.

Residual risk, stated: estimates computed at full precision from the counts, together
with the public covariates, constrain the counts (an attacker who rebuilds the design
can invert a one-step DFBETA).  For restricted counts the per-municipality diagnostics
are therefore rounded (:func:`coarsen_diagnostics`); this makes exact inversion fail but
is not a formal privacy guarantee.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kosovo_study.errors import KosovoStudyError

#: Columns whose values are public whatever the restricted file holds: counts transcribed
#: from published sources (``kosovo_fighters_by_municipality_confirmed.csv``).  A
#: researcher's file may repeat them; publishing them discloses nothing.
PUBLIC_COLUMNS = frozenset({"fighters_confirmed"})
#: Columns that name a municipality (besides ``municipality_id``).
_NAME_COLUMNS_MAX_UNIQUE = 100
#: Two values are "equal" when they differ by less than this (CSV keeps 10 digits).
TOLERANCE = 1e-6
#: Rounding of per-municipality diagnostics from restricted counts (decimals).
DIAGNOSTIC_DECIMALS = {"cooks_distance": 2, "dfbeta_": 1, "irr_": 2}


class DisclosureError(KosovoStudyError):
    """An output would disclose a restricted count."""


@dataclass(frozen=True)
class RestrictedCells:
    """The restricted counts of one project, keyed by municipality id (1-38)."""

    counts: dict[int, int]
    names: dict[str, int]
    population: dict[int, float]


_CACHE: dict[tuple[str, int, int], RestrictedCells | None] = {}


def _project_root(destination: Path) -> Path | None:
    from kosovo_study.paths import _is_project_root

    for folder in Path(destination).resolve().parents:
        if _is_project_root(folder):
            return folder
    return None


def restricted_cells(root: Path) -> RestrictedCells | None:
    """The restricted counts of the project at ``root``, or None when it has none (or the
    file does not validate: then the models refuse to run on it, and nothing derived from
    it is written)."""
    from kosovo_study.paths import ProjectPaths
    from kosovo_study.validation import RESTRICTED_FILE, census_context, read_validated

    paths = ProjectPaths(root)
    path = paths.restricted / RESTRICTED_FILE
    if not path.is_file():
        return None
    status = path.stat()
    key = (str(path), status.st_mtime_ns, status.st_size)
    if key not in _CACHE:
        try:
            validated = read_validated(path, paths.transcribed)
            context = census_context(paths.transcribed)
        except KosovoStudyError:
            _CACHE[key] = None
        else:
            from kosovo_study.municipalities import load_register

            register = load_register(paths.transcribed)
            names: dict[str, int] = {}
            for m in register.municipalities:
                for label in (m.name_sq, m.name_sr):
                    names[label.casefold()] = m.municipality_id
            table = validated.table
            _CACHE[key] = RestrictedCells(
                counts=dict(zip(table["municipality_id"], table["fighters"], strict=True)),
                names=names,
                population=context.population,
            )
    return _CACHE[key]


def _row_ids(table: pd.DataFrame, cells: RestrictedCells) -> pd.Series | None:
    """The municipality id of each row (NaN where a row names none), or None."""
    if "municipality_id" in table:
        ids = pd.to_numeric(table["municipality_id"], errors="coerce")
        return ids.where(ids.isin(list(cells.counts)))
    for column in table.columns:
        values = table[column]
        textual = values.dtype == object or pd.api.types.is_string_dtype(values)
        if not textual or values.nunique() > _NAME_COLUMNS_MAX_UNIQUE:
            continue
        mapped = values.map(lambda v: cells.names.get(v.casefold()) if isinstance(v, str) else None)
        if mapped.notna().sum() >= 1:
            return pd.to_numeric(mapped, errors="coerce")
    return None


def _numeric(table: pd.DataFrame) -> dict[str, np.ndarray]:
    out = {}
    for column in table.columns:
        if column in PUBLIC_COLUMNS or column == "municipality_id":
            continue
        values = table[column]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            continue
        out[str(column)] = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return out


def _equals(values: np.ndarray, counts: np.ndarray) -> bool:
    ok = np.isfinite(values)
    return bool(
        ok.sum() >= 1
        and np.any(counts[ok] > 0)
        and np.all(np.abs(values[ok] - counts[ok]) <= TOLERANCE * np.maximum(1, counts[ok]))
    )


def _affine(values: np.ndarray, target: np.ndarray) -> bool:
    """True when ``values = a + b * target`` exactly (b != 0) on at least 3 distinct targets."""
    ok = np.isfinite(values) & np.isfinite(target)
    x, y = target[ok], values[ok]
    if len(np.unique(x)) < 3:
        return False
    design = np.column_stack([np.ones_like(x), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    scale = max(float(np.max(np.abs(y))), 1e-12)
    residual = float(np.max(np.abs(y - design @ coef)))
    return abs(coef[1]) * float(np.ptp(x)) > 1e-9 * scale and residual <= 1e-7 * scale


def leaks(table: pd.DataFrame, cells: RestrictedCells) -> list[str]:
    """Descriptions (column and kind, never a value) of every way ``table`` discloses a
    restricted count; empty when it discloses none."""
    ids = _row_ids(table, cells)
    if ids is None or ids.notna().sum() == 0:
        return []
    rows = ids.notna().to_numpy()
    row_ids = [int(i) for i in ids[rows]]
    counts = np.array([float(cells.counts[i]) for i in row_ids])
    population = np.array([cells.population.get(i, float("nan")) for i in row_ids])
    columns = {name: values[rows] for name, values in _numeric(table).items()}
    found = []
    for name, values in columns.items():
        if _equals(values, counts):
            found.append(f"column {name!r} equals the restricted counts")
        elif _affine(values, counts):
            found.append(f"column {name!r} is a linear function of the restricted counts")
        elif _affine(values, counts / population):
            found.append(f"column {name!r} is a linear function of the restricted rates")
    names = list(columns)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            a, b = columns[first], columns[second]
            if _equals(a + b, counts) or _equals(a - b, counts) or _equals(b - a, counts):
                found.append(
                    f"columns {first!r} and {second!r} give the restricted counts by their "
                    "sum or difference (a fitted value and its residual)"
                )
    return found


def _refuse(destination: Path, found: list[str]) -> None:
    if found:
        raise DisclosureError(
            f"{destination} is not written: {'; '.join(found)} for the municipalities of the "
            "restricted file. Outputs of restricted counts publish estimates, intervals and "
            "diagnostics only (see kosovo_study.disclosure; README, 'Restricted data')."
        )


def guard_table(table: pd.DataFrame, destination: Path) -> None:
    """Refuse to write ``table`` to ``destination`` when it discloses a restricted count."""
    root = _project_root(destination)
    cells = restricted_cells(root) if root is not None else None
    if cells is not None:
        _refuse(destination, leaks(table, cells))


def _json_tables(value: Any) -> list[pd.DataFrame]:
    """Tables hidden in a JSON document: lists of records and ``{municipality: value}``
    mappings, at any depth."""
    found: list[pd.DataFrame] = []
    if isinstance(value, dict):
        numbers = {k: v for k, v in value.items() if isinstance(v, int | float)}
        if len(numbers) >= 2:
            found.append(
                pd.DataFrame({"municipality": list(numbers), "value": list(numbers.values())})
            )
        for item in value.values():
            found += _json_tables(item)
    elif isinstance(value, list):
        if value and all(isinstance(item, dict) for item in value):
            found.append(pd.DataFrame(value))
        for item in value:
            found += _json_tables(item)
    return found


def guard_text(text: str, destination: Path) -> None:
    """Refuse to write a CSV or JSON text that discloses a restricted count."""
    suffix = Path(destination).suffix.lower()
    if suffix not in {".csv", ".json"}:
        return
    root = _project_root(destination)
    cells = restricted_cells(root) if root is not None else None
    if cells is None:
        return
    if suffix == ".csv":
        tables = [pd.read_csv(io.StringIO(text))] if text.strip() else []
    else:
        try:
            tables = _json_tables(json.loads(text))
        except json.JSONDecodeError:
            tables = []
    _refuse(destination, [leak for table in tables for leak in leaks(table, cells)])


def coarsen_diagnostics(table: pd.DataFrame, synthetic: bool) -> pd.DataFrame:
    """Per-municipality diagnostics rounded for restricted counts (unchanged for synthetic
    ones): Cook's distance to 2 decimals, DFBETA (in standard errors) to 1, leave-one-out
    IRRs to 2, so that no count can be solved exactly from them (module docstring)."""
    if synthetic:
        return table
    table = table.copy()
    for column in table.columns:
        for prefix, decimals in DIAGNOSTIC_DECIMALS.items():
            if str(column).startswith(prefix) and pd.api.types.is_float_dtype(table[column]):
                table[column] = table[column].round(decimals) + 0.0  # no "-0" in the CSV
    return table
