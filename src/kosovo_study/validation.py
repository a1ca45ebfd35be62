"""Validation at the edges: pandera schemas turned into errors a researcher can act on.

:func:`check` validates a table and, on failure, raises :class:`ValidationError`
naming the file, the first failing rows (as 1-based line numbers of the CSV,
counting the header as line 1), the column, the value and the fix.
:func:`validate_file` is what ``kosovo-study validate PATH`` runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from kosovo_study.errors import KosovoStudyError, ValidationError


@dataclass(frozen=True)
class InputFormat:
    """A table format a user may supply: its schema, how to read it, and how to fix it."""

    schema: pa.DataFrameSchema
    hint: str
    #: Turns raw text columns into typed ones; returns the table and the problems found.
    prepare: Callable[[pd.DataFrame, Path], tuple[pd.DataFrame, list[str]]] | None = None


def schema_problems(table: pd.DataFrame, schema: pa.DataFrameSchema) -> list[str]:
    """Every failure of ``table`` against ``schema``, each naming its CSV line and column."""
    try:
        schema.validate(table, lazy=True)
    except pa.errors.SchemaErrors as errors:
        problems = []
        for case in errors.failure_cases.itertuples(index=False):
            index = case.index
            where = f"line {int(index) + 2}" if pd.notna(index) else "the table"
            column = case.column if pd.notna(case.column) else "(table)"
            problems.append(
                f"{where}, column {column}: value {case.failure_case!r} fails {case.check}"
            )
        return problems
    return []


def raise_problems(file: Path | str, name: str, problems: list[str], hint: str = "") -> None:
    """Raise one error listing every problem (no-op when there are none)."""
    if problems:
        raise ValidationError(
            f"{file} does not match the {name} format ({len(problems)} problems): "
            + "; ".join(problem.rstrip(".") for problem in problems)
            + f". {hint or 'Correct these rows and rerun.'}"
        )


def check(
    table: pd.DataFrame, schema: pa.DataFrameSchema, *, file: Path | str, hint: str = ""
) -> pd.DataFrame:
    """Validate ``table`` against ``schema``; raise an error listing every problem."""
    raise_problems(file, schema.name or "expected", schema_problems(table, schema), hint)
    validated: pd.DataFrame = schema.validate(table)
    return validated


def input_formats() -> dict[str, InputFormat]:
    """File names that ``kosovo-study validate`` recognises, with their format."""
    from kosovo_study.schemas import INPUT_FORMATS

    return INPUT_FORMATS


def validate_file(path: Path) -> int:
    """Validate a CSV whose file name identifies its format; return its row count."""
    formats = input_formats()
    if path.name not in formats:
        raise KosovoStudyError(
            f"{path}: no known format for a file named {path.name!r}. Known names: "
            f"{sorted(formats)}. Rename the file or check the path."
        )
    if not path.is_file():
        raise KosovoStudyError(f"{path} does not exist. Check the path.")
    spec = formats[path.name]
    table = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    problems: list[str] = []
    if spec.prepare is not None:
        table, problems = spec.prepare(table, path)
    if not problems:
        problems = schema_problems(table, spec.schema)
    raise_problems(path, spec.schema.name or path.name, problems, spec.hint)
    return len(table)
