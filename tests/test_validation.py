"""`kosovo-study validate`: the restricted fighters table format."""

from __future__ import annotations

from pathlib import Path

import pytest

from kosovo_study.errors import KosovoStudyError, ValidationError
from kosovo_study.validation import validate_file

HEADER = "municipality,fighters,definition,period_start,period_end,source_key\n"


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "fighters_by_municipality.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_valid_table_passes(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "Kaçanik,24,left to fight,2012,2015,demo\nGjilan/Gnjilane,3,left to fight,2012,2015,demo\n",
    )
    assert validate_file(path) == 2


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        ("Kaçanik,-1,left,2012,2015,demo\n", r"line 2, column fighters.*-1.*greater_than"),
        ("Kaçanik,2.5,left,2012,2015,demo\n", r"line 2, column fighters.*whole number"),
        ("Atlantis,3,left,2012,2015,demo\n", r"line 2, column municipality.*Unknown"),
        ("Mitrovica,3,left,2012,2015,demo\n", r"line 2, column municipality.*ambiguous"),
        (
            "Kaçanik,3,left,2012,2015,demo\nKacanik,4,left,2012,2015,demo\n",
            r"municipality_id.*unique|field_uniqueness",
        ),
        ("Kaçanik,3,,2012,2015,demo\n", r"line 2, column definition"),
    ],
)
def test_bad_rows_are_named(tmp_path: Path, body: str, pattern: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ValidationError, match=pattern) as caught:
        validate_file(path)
    assert str(path) in str(caught.value)


def test_unknown_file_name_lists_known_formats(tmp_path: Path) -> None:
    path = tmp_path / "fighters.csv"
    path.write_text(HEADER, encoding="utf-8")
    with pytest.raises(KosovoStudyError, match=r"fighters_by_municipality\.csv"):
        validate_file(path)


def test_every_problem_is_reported_not_only_the_first(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "Atlantis,3,left,2012,2015,demo\n"
        "Kaçanik,lots,left,2012,2015,demo\n"
        "Viti,4,left,2012,2015,demo\n"
        "Mitrovica,2,left,2012,2015,demo\n",
    )
    with pytest.raises(ValidationError) as caught:
        validate_file(path)
    message = str(caught.value)
    assert "(3 problems)" in message
    for expected in ("line 2, column municipality", "line 3, column fighters", "line 5"):
        assert expected in message


def test_validate_writes_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, "Kaçanik,24,left to fight,2012,2015,demo\n")
    before = sorted(tmp_path.iterdir())
    validate_file(path)
    assert sorted(tmp_path.iterdir()) == before
