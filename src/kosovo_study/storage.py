"""Hashing and atomic writes: no reader ever sees a half-written file.

Every file the package writes goes to a temporary file in the destination folder
and is renamed into place only when complete (``os.replace`` is atomic on one
file system), so an error or an interrupted run leaves the old file or nothing.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from kosovo_study import disclosure

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def atomic_path(destination: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``destination``; rename it into place on success."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary_name = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=".partial", dir=destination.parent
    )
    os.close(handle)
    temporary = Path(temporary_name)
    try:
        yield temporary
        temporary.replace(destination)
    finally:
        temporary.unlink(missing_ok=True)


def write_text_atomic(destination: Path, text: str) -> None:
    """Write UTF-8 text with LF line endings atomically."""
    disclosure.guard_text(text, destination)  # no restricted count leaves (CSV, JSON)
    with atomic_path(destination) as temporary:
        temporary.write_text(text, encoding="utf-8", newline="\n")


def write_with(destination: Path, writer: Callable[[Path], object]) -> None:
    """Call ``writer(temporary_path)`` and rename the result to ``destination``."""
    with atomic_path(destination) as temporary:
        writer(temporary)


def write_table(table: pd.DataFrame, folder: Path, name: str) -> list[Path]:
    """Write ``table`` as ``name.csv`` and ``name.parquet`` in ``folder``, atomically.

    The CSV uses LF line endings and a fixed float format so that two runs on the
    same inputs give byte-identical files.
    """
    csv_path = Path(folder) / f"{name}.csv"
    parquet_path = Path(folder) / f"{name}.parquet"
    disclosure.guard_table(table, csv_path)  # no restricted count leaves the machine
    write_with(
        csv_path,
        lambda path: table.to_csv(path, index=False, lineterminator="\n", float_format="%.10g"),
    )
    write_with(parquet_path, lambda path: table.to_parquet(path, index=False))
    return [csv_path, parquet_path]
