"""Reading raw tables defensively, and keeping track of every row that is set aside.

* :func:`read_transcribed` reads a committed CSV: UTF-8 (a BOM is accepted) or,
  failing that, cp1250 (Windows Central European, common in Kosovo offices); the
  encoding used is recorded.  A missing column is an error naming the file and the
  columns; an extra column is ignored and recorded in the cleaning report.
* :class:`Ledger` collects rejected rows (file, line, reason) and per-table counts,
  so that no raw row disappears without a trace.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kosovo_study.errors import ValidationError


@dataclass
class Ledger:
    """Rejected rows and notes of one cleaning run."""

    rejects: list[dict[str, object]] = field(default_factory=list)
    notes: list[dict[str, object]] = field(default_factory=list)
    rows_in: dict[tuple[str, str], int] = field(default_factory=dict)
    out_of_scope: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)

    def reject(self, table: str, file: str, line: int | str, reason: str, record: str) -> None:
        """Record one raw row that does not enter ``table``."""
        self.rejects.append(
            {"table": table, "file": file, "line": line, "reason": reason, "record": record}
        )

    def note(self, file: str, note: str) -> None:
        """Record a normalisation applied to a file (encoding, ignored column...)."""
        self.notes.append({"file": file, "note": note})

    def count_in(self, table: str, file: str, rows: int) -> None:
        """Record that ``rows`` raw rows of ``file`` were read for ``table``."""
        self.rows_in[(table, file)] = self.rows_in.get((table, file), 0) + rows

    def filter_out(self, table: str, file: str, rows: int, rule: str) -> None:
        """Record rows outside the table's scope by design (e.g. other years), with the rule."""
        self.out_of_scope[(table, file)] = (rows, rule)

    def report(self) -> pd.DataFrame:
        """Per table and file: rows read, out of scope, rejected and used; and notes."""
        rejects = self.rejects_frame()
        notes = pd.DataFrame(self.notes, columns=["file", "note"])
        rows = []
        for table, file in sorted(self.rows_in):
            read = self.rows_in[(table, file)]
            filtered, rule = self.out_of_scope.get((table, file), (0, ""))
            rejected = int(((rejects["table"] == table) & (rejects["file"] == file)).sum())
            rows.append(
                {
                    "table": table,
                    "file": file,
                    "rows_in": read,
                    "rows_out_of_scope": filtered,
                    "scope_rule": rule,
                    "rows_rejected": rejected,
                    "rows_used": read - filtered - rejected,
                    "notes": "; ".join(notes.loc[notes["file"] == file, "note"]),
                }
            )
        return pd.DataFrame(rows)

    def rejects_frame(self) -> pd.DataFrame:
        columns = ["table", "file", "line", "reason", "record"]
        frame = pd.DataFrame(self.rejects, columns=columns)
        frame["line"] = frame["line"].astype(str)
        return frame.sort_values(["table", "file", "line", "reason"], kind="stable").reset_index(
            drop=True
        )


def decode(raw: bytes, path: Path, ledger: Ledger | None = None) -> str:
    """UTF-8 (with or without BOM), else cp1250; the fallback is recorded."""
    if raw.startswith(b"\xef\xbb\xbf"):
        if ledger is not None:
            ledger.note(path.name, "UTF-8 byte-order mark removed")
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1250")
        if ledger is not None:
            ledger.note(path.name, "not UTF-8: decoded as cp1250 (Windows Central European)")
        return text


def read_transcribed(
    path: Path, columns: Iterable[str], ledger: Ledger | None = None
) -> pd.DataFrame:
    """Read a committed CSV as text columns; check the columns the cleaner needs."""
    text = decode(Path(path).read_bytes(), Path(path), ledger)
    table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    table.columns = [str(c).strip() for c in table.columns]
    required = list(columns)
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise ValidationError(
            f"{path}: missing columns {missing}. The file must have the columns {required}; "
            "restore it from git or rename the columns."
        )
    extra = [c for c in table.columns if c not in required]
    if extra and ledger is not None:
        ledger.note(Path(path).name, f"extra columns ignored: {extra}")
    return table[required].copy()


def parse_number(
    value: str, *, path: Path | str, line: int, column: str, integer: bool = False
) -> float | None:
    """A non-negative number, or None for an empty cell ("not published").

    Thousands separators ("1,234") are removed.  Anything else that is not a
    non-negative number is an error naming the file, line and column.
    """
    text = str(value).strip().replace(",", "").replace("\u00a0", "")
    if text == "":
        return None
    try:
        number = float(text)
    except ValueError:
        raise ValidationError(
            f"{path} line {line}, column {column}: {value!r} is not a number. Write digits "
            "only, or leave the cell empty where the figure was not published."
        ) from None
    if number < 0 or (integer and not number.is_integer()):
        kind = "a whole number" if integer else "a number"
        raise ValidationError(
            f"{path} line {line}, column {column}: {value!r} must be {kind} >= 0. "
            "Correct the transcription against the source."
        )
    return number
