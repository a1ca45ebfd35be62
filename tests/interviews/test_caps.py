"""Caps on every import format: size, rows, cells and inflated bytes, memory under 1 GiB
on hostile archives (measured as the peak RSS of a subprocess), redaction linear in the
text, and a cap on a segment's length."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from kosovo_study.errors import KosovoStudyError
from kosovo_study.interviews import privacy
from kosovo_study.interviews.importers import ArchiveLimits, read_export

GIB = 1 << 30
HEADER = "document,respondent,code,segment_text,coder"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)


def _cell(text: str) -> str:
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'


def write_xlsx(path: Path, rows: int, columns: int = 5, text: str = "x") -> Path:
    """A workbook whose sheet has ``rows`` rows of ``columns`` inline-string cells,
    written in chunks (the sheet XML may inflate to hundreds of MB from a small file)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8"?><worksheet '
                b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            )
            header = "".join(_cell(c) for c in HEADER.split(",")[:columns])
            sheet.write(f"<row>{header}</row>".encode())
            row = ("<row>" + _cell(text) * columns + "</row>").encode()
            block = row * 10_000
            for _ in range(rows // 10_000):
                sheet.write(block)
            sheet.write(row * (rows % 10_000))
            sheet.write(b"</sheetData></worksheet>")
    return path


def _peak_rss_of_import(path: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Import ``path`` in a fresh interpreter; (peak RSS in bytes, the error message)."""
    code = (
        "import json, resource, sys\n"
        "from pathlib import Path\n"
        "from kosovo_study.interviews.importers import read_export\n"
        "message = ''\n"
        "try:\n"
        "    read_export(Path(sys.argv[1]))\n"
        "except Exception as error:\n"
        "    message = f'{type(error).__name__}: {error}'\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"  # KiB on Linux
        "print(json.dumps({'peak': peak, 'message': message}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return int(result["peak"]), str(result["message"])


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux only")
def test_an_xlsx_bomb_stops_at_the_cap_under_1_gib(tmp_path: Path) -> None:
    # about 2.2 million rows: ~300 MB of sheet XML in a file of well under 1 MB
    bomb = write_xlsx(tmp_path / "bomb.xlsx", rows=2_200_000)
    assert bomb.stat().st_size < 2 << 20
    peak, message = _peak_rss_of_import(bomb)
    assert message.startswith("KosovoStudyError"), message
    assert "inflates past the cap" in message
    assert peak < GIB, f"peak RSS {peak / GIB:.2f} GiB"


@pytest.mark.slow  # openpyxl reads ~200,000 rows before the cap stops it (minutes)
@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux only")
def test_an_xlsx_with_too_many_rows_stops_at_the_row_cap_under_1_gib(tmp_path: Path) -> None:
    # under the inflated-bytes cap (~30 MB of XML) but over the default row cap
    many = write_xlsx(tmp_path / "rows.xlsx", rows=ArchiveLimits().max_rows + 10)
    peak, message = _peak_rss_of_import(many)
    assert "above the caps" in message, message
    assert peak < GIB, f"peak RSS {peak / GIB:.2f} GiB"


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux only")
def test_a_long_csv_stops_at_the_row_cap_under_1_gib(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(HEADER + "\n")
        handle.write("d,r,belonging,x,c\n" * 1_000_000)
    peak, message = _peak_rss_of_import(path)
    assert "above the caps" in message, message
    assert peak < GIB


def test_caps_on_csv_size_rows_and_cells(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(HEADER + "\n" + "d,r,belonging,x,c\n" * 50, "utf-8")
    with pytest.raises(KosovoStudyError, match="above the cap of 0 MiB"):
        read_export(path, limits=ArchiveLimits(max_table_bytes=100))
    with pytest.raises(KosovoStudyError, match="above the caps"):
        read_export(path, limits=ArchiveLimits(max_rows=10))
    with pytest.raises(KosovoStudyError, match="above the caps"):
        read_export(path, limits=ArchiveLimits(max_cells=100))
    assert len(read_export(path).segments) == 50


def test_caps_on_xlsx_rows_cells_and_inflated_bytes(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "small.xlsx", rows=50, text="a segment")
    export = read_export(path)
    assert len(export.segments) == 50
    assert set(export.segments["segment_text"]) == {"a segment"}
    with pytest.raises(KosovoStudyError, match="above the caps"):
        read_export(path, limits=ArchiveLimits(max_rows=10))
    with pytest.raises(KosovoStudyError, match="above the caps"):
        read_export(path, limits=ArchiveLimits(max_cells=100))
    with pytest.raises(KosovoStudyError, match="inflates past the cap"):
        read_export(path, limits=ArchiveLimits(max_table_bytes=1000))


def test_caps_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOSOVO_STUDY_EXPORT_MAX_ROWS", "7")
    monkeypatch.setenv("KOSOVO_STUDY_EXPORT_MAX_SEGMENT_CHARS", "100")
    limits = ArchiveLimits.from_environment()
    assert (limits.max_rows, limits.max_segment_chars) == (7, 100)
    monkeypatch.setenv("KOSOVO_STUDY_EXPORT_MAX_CELLS", "many")
    with pytest.raises(KosovoStudyError, match="KOSOVO_STUDY_EXPORT_MAX_CELLS"):
        ArchiveLimits.from_environment()


def test_a_segment_longer_than_the_cap_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(HEADER + "\nd,r,belonging,short,c\nd,r,belonging," + "y" * 500 + ",c\n")
    with pytest.raises(KosovoStudyError, match="coded segment 2 has 500 characters"):
        read_export(path, limits=ArchiveLimits(max_segment_chars=400))


def test_redaction_time_grows_linearly_with_the_text() -> None:
    """Four times the text takes about four times as long (a quadratic step would take
    sixteen); a loose comparison of two sizes, not a timed limit."""
    base = (
        "Vëllai im Arben Krasniqi tha më 12 të marsit 1990 se numri 044·123·456 ishte i "
        "tij, në Prishtinë; pisha në arben at gmail.com ose t.me/arbenk. He went to Syria. "
    )

    def cost(copies: int) -> float:
        text = base * copies + str(copies)  # a new text each time (redact caches)
        start = time.process_time()
        redacted = privacy.redact(text, ["Arben Krasniqi"])
        elapsed = time.process_time() - start
        assert "Krasniqi" not in redacted
        assert "044" not in redacted
        return elapsed

    cost(50)  # warm the caches of compiled patterns and word lists
    small, large = cost(1_000), cost(4_000)
    assert large / small < 9, f"{small:.2f} s for 1x, {large:.2f} s for 4x"
