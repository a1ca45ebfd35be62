"""Hostile input: each case gives a clear error naming file and row, or a documented,
tested normalisation; and a failed run leaves no partial output."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kosovo_study import clean, stages
from kosovo_study.clean import mosaic
from kosovo_study.clean.io import Ledger
from kosovo_study.errors import KosovoStudyError, ValidationError
from kosovo_study.municipalities import load_register
from kosovo_study.paths import ProjectPaths
from kosovo_study.registry import raw_path

MOSQUES = "bik_mosques_by_municipality_2021.csv"
AGES = "kas_census_age15_29_by_municipality.csv"


def _edit(project: ProjectPaths, name: str, change: Callable[[str], str]) -> Path:
    path = project.transcribed / name
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    return path


def _municipality(tables: dict[str, pd.DataFrame], municipality_id: int) -> pd.Series:
    return tables["municipalities"].set_index("municipality_id").loc[municipality_id]


@pytest.mark.parametrize(
    ("old", "new", "pattern"),
    [
        ("Prizren,98", "Prizrenn,98", r"line 2, column municipality: Unknown.*'Prizren'"),
        ("Mitrovicë,", "Mitrovica North East,", r"column municipality: Unknown"),
    ],
)
def test_unknown_or_misspelt_municipality(
    scratch_project: ProjectPaths, old: str, new: str, pattern: str
) -> None:
    path = _edit(scratch_project, MOSQUES, lambda text: text.replace(old, new, 1))
    with pytest.raises(ValidationError, match=pattern) as caught:
        clean.build_tables(scratch_project)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("label", "municipality_id"),
    [("Đakovica", 2), ("Gjakovë/Đakovica", 2), ("GJAKOVE", 2)],
)
def test_serbian_and_bilingual_labels_are_normalised(
    scratch_project: ProjectPaths, label: str, municipality_id: int
) -> None:
    _edit(
        scratch_project,
        MOSQUES,
        lambda text: text.replace(
            "\nTETOVASOT_2021_BIK,Gjakovë,", f"\nTETOVASOT_2021_BIK,{label},", 1
        ),
    )
    tables = clean.build_tables(scratch_project)
    assert _municipality(tables, municipality_id)["mosques_2021"] > 0


def test_duplicate_keys(scratch_project: ProjectPaths) -> None:
    path = scratch_project.transcribed / MOSQUES
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=rf"line {len(lines) + 1}: Prizren appears twice"):
        clean.build_tables(scratch_project)


@pytest.mark.parametrize(
    ("value", "pattern"), [("-3", "must be a whole number >= 0"), ("many", "is not a number")]
)
def test_negative_or_non_numeric_counts(
    scratch_project: ProjectPaths, value: str, pattern: str
) -> None:
    _edit(scratch_project, MOSQUES, lambda text: text.replace("Prizren,98", f"Prizren,{value}", 1))
    with pytest.raises(
        ValidationError, match=rf"line 2, column mosques_count: '{value}' .*{pattern}"
    ):
        clean.build_tables(scratch_project)


def _mosaic_copy(
    project: ProjectPaths, tmp_path: Path, change: Callable[[openpyxl.Workbook], None]
) -> Path:
    workbook = openpyxl.load_workbook(raw_path("mosaic_indicators_19112015", project))
    change(workbook)
    copy = tmp_path / "mosaic-edited.xlsx"
    workbook.save(copy)
    return copy


def test_shares_in_percent_are_divided_by_100(
    scratch_project: ProjectPaths, tmp_path: Path
) -> None:
    def to_percent(workbook: openpyxl.Workbook) -> None:
        for row in workbook["3 main problems 2015"].iter_rows(min_row=2, min_col=2):
            for cell in row:
                if isinstance(cell.value, float):
                    cell.value = round(cell.value * 100, 6)

    edited = _mosaic_copy(scratch_project, tmp_path, to_percent)
    ledger = Ledger()
    cells = mosaic.top_problems(edited, load_register(), ledger)
    prishtina = cells[(cells["municipality_id"] == 19) & (cells["wave"] == 2015)]
    assert prishtina.loc[prishtina["problem"] == "Unemployment", "share"].iloc[0] == pytest.approx(
        0.439
    )
    assert any("percent" in note["note"] for note in ledger.notes)


def test_share_outside_unit_interval_names_the_cell(
    scratch_project: ProjectPaths, tmp_path: Path
) -> None:
    def break_cell(workbook: openpyxl.Workbook) -> None:
        workbook["3 main problems 2015"]["B4"] = 1.7

    edited = _mosaic_copy(scratch_project, tmp_path, break_cell)
    with pytest.raises(
        ValidationError, match=r"3 main problems 2015!B4: share 1\.7 is outside \[0, 1\]"
    ):
        mosaic.top_problems(edited, load_register(), Ledger())


def test_renamed_excel_sheet(scratch_project: ProjectPaths, tmp_path: Path) -> None:
    def rename(workbook: openpyxl.Workbook) -> None:
        workbook["3 main problems 2012"].title = "Top problems 2012"

    edited = _mosaic_copy(scratch_project, tmp_path, rename)
    with pytest.raises(
        ValidationError, match=r"no sheet named '3 main problems 2012'.*Top problems 2012"
    ):
        mosaic.top_problems(edited, load_register(), Ledger())


def test_edited_workbook_is_refused_by_its_hash(
    scratch_project: ProjectPaths, tmp_path: Path
) -> None:
    edited = _mosaic_copy(scratch_project, tmp_path, lambda _: None)
    target = raw_path("mosaic_indicators_19112015", scratch_project)
    target.write_bytes(edited.read_bytes())
    with pytest.raises(KosovoStudyError, match="changed after fetching"):
        clean.build_tables(scratch_project)


def test_totals_that_do_not_add_up(scratch_project: ProjectPaths) -> None:
    _edit(
        scratch_project,
        AGES,
        lambda text: text.replace(
            "\nDeçan,Municipality of Deçan,2011,40019,783,",
            "\nDeçan,Municipality of Deçan,2011,40019,784,",
            1,
        ),
    )
    with pytest.raises(
        ValidationError,
        match=r"column age_15 sums to 34716 .* KOSOVA row .* 34715.*do not\s+add up",
    ):
        clean.build_tables(scratch_project)


def test_religion_categories_that_do_not_add_up(scratch_project: ProjectPaths) -> None:
    _edit(
        scratch_project,
        "kas_census_population_religion_by_municipality.csv",
        lambda text: text.replace("2011,40019,39343,", "2011,40019,39344,", 1),
    )
    with pytest.raises(ValidationError, match=r"line 2: the religion counts add up to 40020"):
        clean.build_tables(scratch_project)


@pytest.mark.parametrize(
    ("encode", "note"),
    [
        (lambda text: text.encode("cp1250"), "cp1250"),
        (lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"), "byte-order mark"),
    ],
)
def test_cp1250_and_bom_encodings_are_read_and_recorded(
    scratch_project: ProjectPaths,
    clean_tables: dict[str, pd.DataFrame],
    encode: Callable[[str], bytes],
    note: str,
) -> None:
    path = scratch_project.transcribed / MOSQUES
    path.write_bytes(encode(path.read_text(encoding="utf-8")))
    tables = clean.build_tables(scratch_project)
    pd.testing.assert_frame_equal(tables["municipalities"], clean_tables["municipalities"])
    report = tables["cleaning_report"].set_index(["table", "file"])
    assert note in report.loc[("municipalities", MOSQUES), "notes"]


def test_extra_column_is_ignored_and_recorded(
    scratch_project: ProjectPaths, clean_tables: dict[str, pd.DataFrame]
) -> None:
    path = scratch_project.transcribed / MOSQUES
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table["checked_by"] = "x"
    table.to_csv(path, index=False)
    tables = clean.build_tables(scratch_project)
    pd.testing.assert_frame_equal(tables["municipalities"], clean_tables["municipalities"])
    report = tables["cleaning_report"].set_index(["table", "file"])
    assert "checked_by" in report.loc[("municipalities", MOSQUES), "notes"]


def test_missing_column(scratch_project: ProjectPaths) -> None:
    path = scratch_project.transcribed / MOSQUES
    pd.read_csv(path, dtype=str).drop(columns="mosques_count").to_csv(path, index=False)
    with pytest.raises(ValidationError, match=r"missing columns \['mosques_count'\]"):
        clean.build_tables(scratch_project)


def test_zero_filled_boycott_is_refused(scratch_project: ProjectPaths) -> None:
    _edit(
        scratch_project,
        "kas_census2024_population_with_estimation.csv",
        lambda text: text.replace("12,Leposaviq,,", "12,Leposaviq,0,", 1),
    )
    with pytest.raises(ValidationError, match="boycotted the 2011 census"):
        clean.build_tables(scratch_project)


def test_failed_run_leaves_no_partial_output(scratch_project: ProjectPaths) -> None:
    stages.run("clean", scratch_project)
    before = {p.name: p.read_bytes() for p in scratch_project.processed.rglob("*") if p.is_file()}
    _edit(scratch_project, MOSQUES, lambda text: text.replace("Prizren,98", "Prizren,-1", 1))
    with pytest.raises(ValidationError):
        stages.run("clean", scratch_project)
    after = {p.name: p.read_bytes() for p in scratch_project.processed.rglob("*") if p.is_file()}
    assert after == before
    assert not list(scratch_project.processed.rglob("*.partial"))


def test_two_runs_give_byte_identical_csvs(scratch_project: ProjectPaths, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    clean.write_tables(clean.build_tables(scratch_project), first)
    clean.write_tables(clean.build_tables(scratch_project), second)
    names = sorted(p.name for p in first.glob("*.csv"))
    assert len(names) == len(clean.TABLES)
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_stage_is_skipped_when_nothing_changed(scratch_project: ProjectPaths) -> None:
    assert not stages.run("clean", scratch_project).skipped
    assert stages.run("clean", scratch_project).skipped
    assert not stages.run("clean", scratch_project, force=True).skipped
