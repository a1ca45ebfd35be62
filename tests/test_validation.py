"""`kosovo-study validate` and `read_validated`: the restricted fighter counts, hostile files.

Every file is generated here in tmp_path; every failure must be a KosovoStudyError whose
message names the file and (for row problems) the line, never a parser exception.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kosovo_study.errors import KosovoStudyError, ValidationError
from kosovo_study.municipalities import load_register
from kosovo_study.validation import (
    RESTRICTED_MAX_BYTES,
    RESTRICTED_MAX_ROWS,
    national_range,
    read_validated,
    validate_file,
)

FULLWIDTH_12 = "\uff11\uff12"  # "12" in full-width digits, which int() reads as 12
HEADER = "municipality,fighters,definition,period_start,period_end,source_key\n"
# The register's own name of id 11, a bare "Mitrovicë", is ambiguous outside the KAS scope.
NAMES = [
    "Mitrovicë/a South" if m.municipality_id == 11 else m.name_sq
    for m in load_register().municipalities
]


def _rows(counts: list[str] | None = None, names: list[str] | None = None, **cells: str) -> str:
    names = NAMES if names is None else names
    # 38 municipalities, 335 persons: the UNDP 2017 national total (inside 232-400).
    counts = counts or ["39", *["8"] * 37]
    row = {
        "definition": "travelled",
        "period_start": "2012",
        "period_end": "2017-06",
        "source_key": "KP_DEMO",
    } | cells
    return "".join(
        f"{name},{count},{row['definition']},{row['period_start']},{row['period_end']},"
        f"{row['source_key']}\n"
        for name, count in zip(names, counts, strict=False)
    )


def _write(tmp_path: Path, body: str | bytes, header: str = HEADER) -> Path:
    path = tmp_path / "fighters_by_municipality.csv"
    if isinstance(body, bytes):
        path.write_bytes(body)
    else:
        path.write_text(header + body, encoding="utf-8", newline="")
    return path


def _message(path: Path) -> str:
    with pytest.raises(KosovoStudyError) as caught:
        read_validated(path)
    message = str(caught.value)
    assert str(path) in message
    assert len(message) < 12_000  # a paragraph, never the file
    return message


def test_published_range_is_read_from_the_national_table() -> None:
    published = national_range()
    # kosovo_fighters_national.csv: smallest total_travelled 232 (KCSS 2015), largest
    # 400 (Kursani 2018; KCSS/Perteshi 2018); LOW-QUALITY rows excluded.
    assert (published.low, published.high) == (232, 400)
    assert (published.hard_low, published.hard_high) == (116, 600)


def test_valid_table_passes_with_provenance(tmp_path: Path) -> None:
    path = _write(tmp_path, _rows())
    validated = read_validated(path)
    assert len(validated.table) == 38
    assert validated.total == 335
    assert validated.warnings == ()
    provenance = validated.provenance()
    assert provenance["definition"] == "travelled"
    assert provenance["source_keys"] == ["KP_DEMO"]
    assert (provenance["period_start"], provenance["period_end"]) == ("2012", "2017-06")
    import hashlib

    assert provenance["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert validate_file(path) == 38


def test_spellings_of_the_register_are_accepted(tmp_path: Path) -> None:
    names = [*NAMES]
    names[names.index("Kaçanik")] = "KACANIK"
    names[names.index("Gjilan")] = "Gjilan/Gnjilane"
    assert read_validated(_write(tmp_path, _rows(names=names))).total == 335


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        ("", r"no data rows.*no row for 38 of the 38 municipalities"),
        (
            _rows(names=[n for n in NAMES if n != "Leposaviq"]),
            r"no row for 1 .*Leposaviq \(id 12\)",
        ),
        (
            _rows(["5000", *["8"] * 37]),
            r"line 2, column fighters: 5000 persons in one municipality",
        ),
        (_rows(["75"] * 38), r"add up to 2850 persons, outside the hard limits 116-600"),
        (_rows(["0"] * 38), r"every count is 0"),
        (_rows(["3"] * 38), r"add up to 114 persons, outside the hard limits"),
        (_rows(["١٢", *["8"] * 37]), r"line 2, column fighters: '١٢' is not a whole number"),
        (_rows([FULLWIDTH_12, *["8"] * 37]), rf"column fighters: '{FULLWIDTH_12}' is not a whole"),
        (_rows(["1_2", *["8"] * 37]), r"line 2, column fighters: '1_2' is not"),
        (_rows(["+12", *["8"] * 37]), r"line 2, column fighters: '\+12' is not"),
        (_rows(["12.0", *["8"] * 37]), r"'12.0' is not"),
        (_rows(["-1", *["8"] * 37]), r"'-1' is not"),
        (_rows(["", *["8"] * 37]), r"line 2, column fighters: '' is not"),
        (_rows(["1" * 23, *["8"] * 37]), r"line 2, column fighters: a 23-digit number"),
        (_rows(period_end="yesterday"), r"line 2, column period_end: 'yesterday' is not a date"),
        (_rows(period_end="2015-13"), r"'2015-13' is not a date"),
        (_rows(period_end="2099"), r"2099 is outside 2011-01-01 to today"),
        (_rows(period_start="1990"), r"period_start: 1990 is outside"),
        (_rows(period_start="2017", period_end="2013"), r"period_start 2017 is after"),
        (_rows(period_end=""), r"column period_end: empty"),
        (_rows(definition="left to fight"), r"'left to fight' is not in the vocabulary"),
        (_rows(source_key="a key with spaces"), r"column source_key"),
        (
            _rows() + "Kaçanik,3,travelled,2012,2017,KP\n",
            r"line 40, column municipality: Kaçanik is already given on line \d+",
        ),
        ("Atlantis,3,travelled,2012,2017,KP\n" + _rows()[1:], r"line 2.*Unknown municipality"),
        ("Mitrovica,3,travelled,2012,2017,KP\n", r"line 2, column municipality.*ambiguous"),
    ],
)
def test_study_rules(tmp_path: Path, body: str, pattern: str) -> None:
    assert __import__("re").search(pattern, _message(_write(tmp_path, body)))


def test_mixed_definitions_are_refused(tmp_path: Path) -> None:
    body = _rows()
    body = body.replace("travelled", "travelled_men", 1)
    assert "several definitions" in _message(_write(tmp_path, body))


def test_total_outside_the_published_range_is_a_warning(tmp_path: Path) -> None:
    validated = read_validated(_write(tmp_path, _rows(["12"] * 38)))  # 456 > 400, < 600
    assert validated.total == 456
    assert "outside the published national totals 232-400" in validated.warnings[0]
    assert validated.provenance()["warnings"] == list(validated.warnings)


# --- the file itself ----------------------------------------------------------------


def test_cp1250_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, (HEADER + _rows()).replace("Ferizaj", "Uroševac").encode("cp1250"))
    message = _message(path)
    assert "cp1250" in message
    assert "not UTF-8" in message
    assert "iconv -f CP1250" in message


def test_latin1_is_named_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, (HEADER + _rows()).encode("latin-1"))
    message = _message(path)
    assert "latin-1" in message or "cp1250 or latin-1" in message
    first = next(i for i, n in enumerate(NAMES) if any(ord(c) > 127 for c in n))
    assert f"line {first + 2}" in message


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_is_named(tmp_path: Path, codec: str) -> None:
    assert "UTF-16" in _message(_write(tmp_path, (HEADER + _rows()).encode(codec)))


def test_utf8_bom_is_accepted_with_a_note(tmp_path: Path) -> None:
    validated = read_validated(_write(tmp_path, (HEADER + _rows()).encode("utf-8-sig")))
    assert validated.notes == ("a UTF-8 byte-order mark was removed",)


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (b"", r"is empty \(0 bytes\)"),
        (b"\n\n  \n", r"only blank lines"),
        (b"PK\x03\x04" + bytes(200), r"ZIP archive"),
        (b"%PDF-1.7\n" + bytes(50), r"PDF"),
        (b"\xd0\xcf\x11\xe0" + bytes(50), r"old Excel"),
        (HEADER.encode() + b"Kacanik,1\x002,travelled,2012,2017,K\n", r"line 2, column 10: a NUL"),
        (HEADER.encode() + b"Kacanik,\x07,travelled,2012,2017,K\n", r"line 2: control character"),
    ],
)
def test_empty_and_binary_files(tmp_path: Path, content: bytes, pattern: str) -> None:
    assert __import__("re").search(pattern, _message(_write(tmp_path, content)))


def test_semicolons_are_reported_as_the_delimiter(tmp_path: Path) -> None:
    path = _write(tmp_path, _rows().replace(",", ";"), HEADER.replace(",", ";"))
    message = _message(path)
    assert "separated by semicolons" in message
    assert "missing columns" not in message


def test_excel_delimiter_hint_line_is_named(tmp_path: Path) -> None:
    message = _message(_write(tmp_path, _rows(), "sep=;\n" + HEADER))
    assert "line 1: 'sep=;' is an Excel delimiter hint" in message


def test_tabs_are_reported_as_the_delimiter(tmp_path: Path) -> None:
    assert "by tabs" in _message(
        _write(tmp_path, _rows().replace(",", "\t"), HEADER.replace(",", "\t"))
    )


def test_missing_and_unknown_columns(tmp_path: Path) -> None:
    assert "missing columns ['source_key']" in _message(
        _write(tmp_path, "", "municipality,fighters,definition,period_start,period_end\n")
    )
    assert "unknown columns ['notes']" in _message(_write(tmp_path, "", HEADER[:-1] + ",notes\n"))


def test_line_numbers_survive_blank_lines_and_multiline_fields(tmp_path: Path) -> None:
    rows = _rows().splitlines(keepends=True)
    # line 2: a blank line; lines 3-4: one record whose source key spans two lines.
    rows[0] = "\n" + rows[0].replace(",KP_DEMO", ',"KP\nDEMO"')
    rows[1] = rows[1].replace("8", "eight")
    message = _message(_write(tmp_path, "".join(rows)))
    assert "line 3, column source_key" in message
    assert "line 5, column fighters: 'eight'" in message


def test_unbalanced_quote_names_its_line(tmp_path: Path) -> None:
    rows = _rows().splitlines(keepends=True)
    rows[3] = rows[3].replace("travelled", '"travelled', 1)
    message = _message(_write(tmp_path, "".join(rows)))
    assert "line 5" in message
    assert "never closed" in message


def test_wrong_number_of_fields(tmp_path: Path) -> None:
    body = _rows().replace("Prizren,8", "Prizren,8,extra", 1)
    assert "has 7 fields, the header has 6" in _message(_write(tmp_path, body))


def test_fifty_problems_then_a_count(tmp_path: Path) -> None:
    body = "".join(f"Nowhere{i},x,bad,never,never,k y\n" for i in range(200))
    message = _message(_write(tmp_path, body))
    assert "first 50 listed" in message
    assert message.count("line ") < 60


def test_a_large_file_fails_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "fighters_by_municipality.csv"
    with path.open("wb") as handle:  # sparse: 200 MB on disk costs nothing
        handle.write(HEADER.encode())
        handle.truncate(200 * 1024 * 1024)
    message = _message(path)
    assert "209.7 MB" in message
    assert "was not parsed" in message
    assert len(message) < 400


def test_long_cells_are_cut_in_messages(tmp_path: Path) -> None:
    body = _rows(["9" * 5000, *["8"] * 37])
    message = _message(_write(tmp_path, body))
    assert len(message) < 2_000
    big = _rows(names=["x" * 5000])
    assert "line 2, column municipality: 5,000 characters (at most 1,000)" in _message(
        _write(tmp_path, big)
    )
    huge = _rows(names=["x" * (RESTRICTED_MAX_BYTES // 2)])
    assert "line 2: a field longer than" in _message(_write(tmp_path, huge))


def test_directory_is_not_reported_as_missing(tmp_path: Path) -> None:
    folder = tmp_path / "fighters_by_municipality.csv"
    folder.mkdir()
    message = _message(folder)
    assert "is a directory" in message
    assert "does not exist" not in message


def test_missing_file(tmp_path: Path) -> None:
    assert "does not exist" in _message(tmp_path / "fighters_by_municipality.csv")


def test_symlinks_to_system_files_and_dangling_links(tmp_path: Path) -> None:
    link = tmp_path / "fighters_by_municipality.csv"
    link.symlink_to("/etc/passwd")
    assert "system file" in _message(link)
    link.unlink()
    link.symlink_to(tmp_path / "gone.csv")
    assert "dangling" in _message(link)
    link.unlink()
    real = tmp_path / "elsewhere.csv"
    real.write_text(HEADER + _rows(), encoding="utf-8")
    link.symlink_to(real)
    assert read_validated(link).total == 335  # a link to a real data file is fine


def test_unreadable_file(tmp_path: Path) -> None:
    """A file without read permission (root reads anything, so there the permission
    check is the mocked one in test_permission_denied_is_named)."""
    path = _write(tmp_path, _rows())
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):  # root: the real file stays readable
            assert read_validated(path).total == 335
        else:
            assert "permission denied" in _message(path)
    finally:
        path.chmod(0o600)


def test_unknown_file_name_lists_known_formats(tmp_path: Path) -> None:
    path = tmp_path / "fighters.csv"
    path.write_text(HEADER, encoding="utf-8")
    with pytest.raises(KosovoStudyError, match=r"fighters_by_municipality\.csv"):
        validate_file(path)


def test_validate_writes_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, _rows())
    before = sorted(tmp_path.iterdir())
    validate_file(path)
    assert sorted(tmp_path.iterdir()) == before


# --- properties: no input ever escapes as a traceback -------------------------------

_FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_FAST
@given(st.binary(max_size=400))
def test_random_bytes_give_a_located_error(tmp_path: Path, content: bytes) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(KosovoStudyError) as caught:
        read_validated(path)
    assert str(path) in str(caught.value)


_CELL = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12
) | st.sampled_from(["Kaçanik", "8", "travelled", "2012", '"', '""', "\r\n", ",", "١٢"])


@_FAST
@given(st.lists(st.lists(_CELL, min_size=1, max_size=8), max_size=8))
def test_random_csv_gives_a_located_error(tmp_path: Path, table: list[list[str]]) -> None:
    text = HEADER + "\n".join(",".join(row) for row in table)
    path = _write(tmp_path, text.encode("utf-8", "surrogatepass"))
    with pytest.raises(ValidationError) as caught:
        read_validated(path)
    message = str(caught.value)
    assert str(path) in message
    assert "line " in message or "municipalities" in message or "binary" in message


def test_permission_denied_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, _rows())
    monkeypatch.setattr(os, "access", lambda *_args, **_kwargs: False)
    assert "cannot be read: permission denied" in _message(path)


# --- round 2 of hostile inputs: invisible and look-alike characters, sizes, links -------

# Written with escapes so that the test file itself holds no look-alike characters.
CYRILLIC_A = "\u0430"  # looks like the Latin "a"


@pytest.mark.parametrize(
    ("count", "named"),
    [
        ("\u00a012", "NO-BREAK SPACE"),  # Excel's thousands space, stripped by str.strip
        ("12\u2007", "FIGURE SPACE"),
        ("\u300012", "IDEOGRAPHIC SPACE"),
        ("1\u200b2", "ZERO WIDTH SPACE"),
        ("\ufeff12", "ZERO WIDTH NO-BREAK SPACE"),
        ("\u0967\u0968", "DEVANAGARI DIGIT ONE"),
        ("\u09e7\u09e8", "BENGALI DIGIT ONE"),
        ("\uff11\uff12", "FULLWIDTH DIGIT ONE"),
        ("\u202e21", "RIGHT-TO-LEFT OVERRIDE"),
    ],
)
def test_counts_with_invisible_or_foreign_characters_name_them(
    tmp_path: Path, count: str, named: str
) -> None:
    counts = ["39", count, *["8"] * 36]
    message = _message(_write(tmp_path, _rows(counts)))
    assert "line 3, column fighters" in message
    assert named in message


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda n: n.replace("a", CYRILLIC_A, 1), "look-alike of a Latin letter"),
        (lambda n: n[:2] + "\u200d" + n[2:], "ZERO WIDTH JOINER"),
        (lambda n: "\u200b" + n, "ZERO WIDTH SPACE"),
        (lambda n: n[:1] + "\u00ad" + n[1:], "SOFT HYPHEN"),
    ],
)
def test_names_with_look_alike_or_invisible_characters_name_them(
    tmp_path: Path, make, named: str
) -> None:  # type: ignore[no-untyped-def]
    names = NAMES.copy()
    names[0] = make("Deçan")
    message = _message(_write(tmp_path, _rows(names=names)))
    assert "line 2, column municipality" in message
    assert named in message
    assert "no row for 1 of the 38" in message  # the look-alike did not count as Deçan


def test_serbian_cyrillic_names_are_read_through_serbian_latin(tmp_path: Path) -> None:
    names = NAMES.copy()
    cyrillic = {
        "Prishtinë": "\u041f\u0440\u0438\u0448\u0442\u0438\u043d\u0430",  # Priština
        "Leposaviq": "\u041b\u0435\u043f\u043e\u0441\u0430\u0432\u0438\u045b",  # Leposavić
        "Zveqan": "\u0417\u0432\u0435\u0447\u0430\u043d",  # Zvečan
    }
    names = [cyrillic.get(n, n) for n in names]
    assert sum(n in cyrillic.values() for n in names) == 3
    validated = read_validated(_write(tmp_path, _rows(names=names)))
    assert validated.total == 335
    assert any("3 municipality names in Serbian Cyrillic" in note for note in validated.notes)


@pytest.mark.parametrize(
    ("header", "hint"),
    [
        (HEADER.upper(), "'MUNICIPALITY' should read 'municipality'"),
        (HEADER.replace("fighters", "\ufefffighters"), "ZERO WIDTH NO-BREAK SPACE"),
        (HEADER.replace("fighters", "\u00a0fighters"), "NO-BREAK SPACE"),
        (HEADER.replace("period_end", "Period-End"), "'Period-End' should read 'period_end'"),
        (HEADER.replace("\n", ",\n"), "a trailing comma"),
    ],
)
def test_header_near_misses_are_named(tmp_path: Path, header: str, hint: str) -> None:
    message = _message(_write(tmp_path, _rows(), header=header))
    assert "line 1" in message
    assert hint in message


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_a_repeated_header_is_named(tmp_path: Path, ending: str) -> None:
    body = (_rows() + HEADER).replace("\n", ending)
    assert "line 40 repeats the header line" in _message(_write(tmp_path, body))


@pytest.mark.parametrize("rows", [RESTRICTED_MAX_ROWS + 1, 30_000])
def test_many_short_rows_stop_at_the_row_cap(tmp_path: Path, rows: int) -> None:
    body = "Deçan,1,travelled,2012,2017,K\n" * rows
    assert len(HEADER + body) < RESTRICTED_MAX_BYTES  # under the size cap
    message = _message(_write(tmp_path, body))
    assert f"more than {RESTRICTED_MAX_ROWS} data rows" in message
    assert f"line {RESTRICTED_MAX_ROWS + 2}" in message


@pytest.mark.parametrize("pair", [False, True])
def test_symlink_loops_are_named(tmp_path: Path, pair: bool) -> None:
    path = tmp_path / "fighters_by_municipality.csv"
    if pair:
        other = tmp_path / "other.csv"
        path.symlink_to(other)
        other.symlink_to(path)
    else:
        path.symlink_to(path)
    assert "a link loop" in _message(path)


def test_relative_paths_with_dot_dot_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, _rows())
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert read_validated(Path("../sub/../fighters_by_municipality.csv")).total == 335


def test_markup_in_a_file_is_printed_not_interpreted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """rich markup in a header ("[/red]") once ended in a MarkupError traceback."""
    from kosovo_study import cli

    path = _write(tmp_path, _rows(), header=HEADER.replace("fighters", "[/red]"))
    assert cli.main(["validate", str(path)]) == 1
    printed = " ".join(capsys.readouterr().err.split())
    assert "'[/red]'" in printed
    assert "unexpected error" not in printed


_ENDING = st.sampled_from(["\n", "\r\n", "\r"])
_SPACE = st.sampled_from(["", " ", "  ", "\t"])


@pytest.mark.slow
@_FAST
@given(st.data())
def test_line_endings_and_ascii_spaces_do_not_change_the_counts(
    tmp_path: Path, data: st.DataObject
) -> None:
    """Any mix of LF, CRLF and CR, and ASCII spaces around cells, reads the same table."""
    lines = (HEADER + _rows()).splitlines()
    text = ""
    for line in lines:
        cells = [data.draw(_SPACE) + cell + data.draw(_SPACE) for cell in line.split(",")]
        text += ",".join(cells) + data.draw(_ENDING)
    path = tmp_path / "fighters_by_municipality.csv"
    path.write_bytes(text.encode("utf-8"))
    validated = read_validated(path)
    assert validated.total == 335
    assert list(validated.table["fighters"]) == [39, *[8] * 37]


@pytest.mark.parametrize("label", ["Total", "TOTAL:", "Gjithsej", "Ukupno", "Kosovo", "Totali"])
def test_a_total_row_is_named_as_such(tmp_path: Path, label: str) -> None:
    body = _rows() + f"{label},335,travelled,2012,2017-06,KP_DEMO\n"
    assert f"line 40, column municipality: '{label}' is a total row; delete it" in _message(
        _write(tmp_path, body)
    )


def test_validate_on_a_folder_says_folder_whatever_its_name(tmp_path: Path) -> None:
    folder = tmp_path / "restricted"
    folder.mkdir()
    (folder / "fighters_by_municipality.csv").write_text(HEADER, encoding="utf-8")
    with pytest.raises(KosovoStudyError, match=r"is a directory.*fighters_by_municipality.csv"):
        validate_file(folder)
    with pytest.raises(KosovoStudyError, match="does not exist"):
        validate_file(tmp_path / "counts.csv")


# --- round 2: encodings and shapes that were misnamed -------------------------------------


def test_mac_roman_with_cr_line_ends_is_named_with_its_line(tmp_path: Path) -> None:
    """Excel for Mac's 'CSV (Macintosh)': mac_roman, CR only; cp1250 advice would garble it."""
    text = (HEADER + _rows()).replace("\n", "\r")
    message = _message(_write(tmp_path, text.encode("mac_roman")))
    assert "line 2, column 3" in message  # Deçan: the ç on line 2, found across CR ends
    assert "mac_roman" in message
    assert "iconv -f MACINTOSH -t UTF-8" in message


@pytest.mark.parametrize(("codec", "order"), [("utf-32", "little"), ("utf-32-be", "big")])
def test_utf32_is_not_called_utf16(tmp_path: Path, codec: str, order: str) -> None:
    message = _message(_write(tmp_path, (HEADER + _rows()).encode(codec)))
    assert f"UTF-32 ({order}-endian)" in message


def test_a_stray_byte_in_a_utf8_file_is_not_called_cp1250(tmp_path: Path) -> None:
    body = (HEADER + _rows()).encode() + "Total,1,x,2012,2017,K\u2019\n".encode("cp1252")
    message = _message(_write(tmp_path, body))
    assert "line 40, column 22: byte 0x92 is not UTF-8, although the lines before" in message
    assert "iconv" not in message


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"<!DOCTYPE html><html><body>403</body></html>\n", "an HTML page"),
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 9\n", "Git LFS"),
    ],
)
def test_pages_and_pointers_are_named(tmp_path: Path, content: bytes, what: str) -> None:
    assert what in _message(_write(tmp_path, content))


@pytest.mark.parametrize(
    ("transform", "hint"),
    [
        (lambda line: f'"{line}"', "the whole line is in double quotes"),
        (lambda line: line.rsplit(",", 1)[0], "a missing cell"),
        (lambda line: line + ",extra", "an unquoted comma"),
    ],
)
def test_wrong_field_counts_say_why(tmp_path: Path, transform, hint: str) -> None:  # type: ignore[no-untyped-def]
    body = "".join(transform(line) + "\n" for line in _rows().splitlines())
    message = _message(_write(tmp_path, body))
    assert "line 2 has" in message
    assert hint in message


def test_a_path_swapped_for_a_pipe_after_the_check_does_not_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kosovo_study import tablefile

    path = _write(tmp_path, _rows())
    checked = tablefile.check_path

    def swap_after_check(target: Path) -> Path:
        result = checked(target)
        target.unlink()
        os.mkfifo(target)  # no writer: a blocking open would wait forever
        return result

    monkeypatch.setattr(tablefile, "check_path", swap_after_check)
    assert "not a regular file" in _message(path)


def test_a_path_swapped_for_a_pipe_between_stat_and_open_does_not_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, _rows())
    real_open = os.open

    def swap_then_open(target: object, flags: int, *args: object) -> int:
        if Path(str(target)) == path and path.is_file():
            path.unlink()
            os.mkfifo(path)
        return real_open(target, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", swap_then_open)
    assert "not a regular file" in _message(path)


@pytest.mark.parametrize("spread", [1, 2, 4])
def test_fighters_in_too_few_municipalities_are_refused(tmp_path: Path, spread: int) -> None:
    """300 persons in 1 or 2 municipalities passed and crashed the models (singular matrix)."""
    counts = ["0"] * 38
    for i in range(spread):
        counts[i] = str(300 // spread)
    message = _message(_write(tmp_path, _rows(counts)))
    assert f"only {spread} municipalities have a count above 0" in message
    assert "at least 5" in message


def test_fighters_only_outside_the_analysed_municipalities_stop_the_models(
    tmp_path: Path,
) -> None:
    """The validator counts all 38; the models analyse only those with covariates."""
    from types import SimpleNamespace

    from kosovo_study.models.outcome import restricted_outcome

    counts = ["60"] * 5 + ["0"] * 33  # 300 persons in ids 1-5
    path = _write(tmp_path, _rows(counts))
    analysed = list(range(3, 39))  # a design without ids 1 and 2: 3 with fighters remain
    design = SimpleNamespace(municipality_id=analysed, n=len(analysed))
    with pytest.raises(KosovoStudyError, match="only 3 of the 36 municipalities the models"):
        restricted_outcome(path, design)  # type: ignore[arg-type]


def _toy_design(n: int = 34, seed: int = 3) -> object:
    """A design with the models' shape: constant, two continuous covariates, a 0/1
    charity flag and a fifth covariate; log-population offset."""
    from types import SimpleNamespace

    rng = np.random.default_rng(seed)
    charity = (np.arange(n) % 3 == 0).astype(float)
    X = np.column_stack([np.ones(n), rng.normal(size=n), charity, rng.normal(size=(n, 2))])
    terms = ["const", "unemployment", "charity", "muslim_share", "youth_share"]
    return SimpleNamespace(
        X=X, offset=np.log(rng.uniform(5e3, 2e5, n)), terms=terms, n=n,
        municipality_id=list(range(1, n + 1)),
    )  # fmt: skip


def test_estimability_names_the_separating_covariate_and_accepts_estimable_counts() -> None:
    """Fighters in exactly 5 municipalities was 'valid', then the models died with
    IndexError: the real requirement is that the likelihood has a maximum."""
    from kosovo_study.validation import estimability_problem

    design: Any = _toy_design()
    y = np.zeros(design.n)
    y[[3, 6, 9, 12, 15]] = [70, 40, 60, 50, 80]  # all in charity municipalities
    problem = estimability_problem(design, y)
    assert problem is not None
    assert "separated" in problem
    assert "charity" in problem
    assert "70" not in problem  # the message names covariates, never a count
    rng = np.random.default_rng(1)
    spread = rng.poisson(np.exp(design.offset - design.offset.mean() + 2.0)).astype(float)
    assert estimability_problem(design, spread) is None
    few = np.zeros(design.n)
    few[:4] = 75
    assert "only 4" in str(estimability_problem(design, few))


def test_plausibility_rules_warn_without_printing_counts() -> None:
    """300 fighters in Partesh (about 1,800 inhabitants), or the total in Serb-majority
    municipalities: valid format, implausible study; warned with the rule, no count."""
    from kosovo_study.validation import census_context, plausibility_warnings

    context = census_context()
    assert context.highest_published_municipality == "Hani i Elezit"
    assert 1.1e-3 < context.highest_published_rate < 1.2e-3  # 11 of 9,403
    ids = {m.name_sq: m.municipality_id for m in load_register().municipalities}
    north = {ids[n] for n in ("Leposaviq", "Zubin Potok", "Zveqan", "Mitrovicë e Veriut")}
    assert north <= context.non_muslim_majority
    assert ids["Prishtinë"] not in context.non_muslim_majority

    def table(counts: dict[str, int]) -> pd.DataFrame:
        return pd.DataFrame(
            {"municipality_id": [ids[n] for n in counts], "municipality": list(counts),
             "fighters": list(counts.values())}
        )  # fmt: skip

    text = " ".join(plausibility_warnings(table({"Partesh": 313, "Prishtinë": 17}), context))
    assert "per-capita ceiling" in text
    assert "Partesh" in text
    assert "without a Muslim majority" in text
    assert "Partesh holds more than half" in text
    assert "313" not in text
    assert "17 " not in text
    fine = table({"Prishtinë": 10, "Pejë": 10, "Kaçanik": 10})
    assert plausibility_warnings(fine, context) == []


def test_escape_sequences_in_a_file_name_are_shown_not_sent_to_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kosovo_study import cli

    path = tmp_path / "fighters\x1b[2J\x07.csv"
    path.write_text(HEADER, encoding="utf-8")
    assert cli.main(["validate", str(path)]) == 1
    printed = capsys.readouterr().err
    assert "\x1b" not in printed
    assert "\x07" not in printed
    assert "fighters\\x1b[2J\\x07.csv" in printed
