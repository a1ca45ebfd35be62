"""Importers for coded-interview exports: segment tables (CSV/XLSX) and REFI-QDA (.qdpx).

Both return an :class:`Export`: one row per coded segment (document, respondent,
code as exported, codebook code or None, segment text, coder), respondent
attributes, the people the export names (for redaction), and the problems found,
each with its place in the file.  Problems (unknown code, missing respondent, coder
not among the export's users) are reported, not fatal; a file that cannot be read at
all (broken zip, XML that is not REFI-QDA, empty export, not UTF-8) is an error, and
so is a respondent whose attributes differ between two places of the file.

A ``.qdpx`` is a zip archive that the user supplies, so it is read under
:class:`ArchiveLimits`: the number of members and their declared sizes are checked
in the zip directory before anything is inflated, and every member that is read is
inflated in chunks with a running count, so that an archive whose headers lie stops
at the cap too (a "zip bomb" never reaches memory).

An export made by :mod:`kosovo_study.interviews.synthetic` carries a marker (the
project's ``origin`` in a ``.qdpx``, a ``synthetic_study`` column in a CSV); only a
marked export may be pseudonymised with the public demo key.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pandas as pd

from kosovo_study.errors import KosovoStudyError, listed
from kosovo_study.interviews.codebook import Codebook, load_codebook

NS = "urn:QDA-XML:project:1.0"
SEGMENT_COLUMNS = ("document", "respondent", "code", "segment_text", "coder")
#: The marker of the package's own synthetic study (``origin`` of the .qdpx project,
#: value of the ``synthetic_study`` column of the CSV form).
SYNTHETIC_MARKER = "kosovo_study synthetic study"
SYNTHETIC_COLUMN = "synthetic_study"

_MIB = 1 << 20
#: How a published table names the export: never by its file name, which may be the
#: interviewee's name ("arben_krasniqi.qdpx").
EXPORT_LABEL = "export"


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps for reading a ``.qdpx`` (a zip archive).

    The defaults suit real projects: a project of several GB is large because of its
    audio, video and PDF sources, which the importer never inflates; what it inflates
    is ``project.qde`` (the XML: codes, cases, selections) and the plain-text
    transcripts under ``sources/``.  A 300-interview study has a project.qde of tens of
    MB and transcripts of well under 1 MB each.  Override with the environment
    variables ``KOSOVO_STUDY_QDPX_MAX_MEMBERS``, ``..._MAX_XML_MB``, ``..._MAX_TEXT_MB``,
    ``..._MAX_TOTAL_TEXT_MB`` and ``..._MAX_ARCHIVE_GB`` (see :meth:`from_environment`).
    """

    max_members: int = 100_000
    max_xml_bytes: int = 512 * _MIB  # project.qde, inflated
    max_text_bytes: int = 64 * _MIB  # one transcript, inflated
    max_total_text_bytes: int = 2048 * _MIB  # all transcripts read, inflated
    max_archive_bytes: int = 64 * 1024 * _MIB  # all members, as declared in the directory
    # Segment tables (.csv, .xlsx).  A real export of 100,000 coded segments with 20
    # attribute columns is about 2 million cells and well under 100 MB; the caps keep
    # the importer under 1 GiB of memory on any input (tests/interviews/test_caps.py).
    max_table_bytes: int = 128 * _MIB  # the file on disk (.csv) or inflated sheet XML (.xlsx)
    max_rows: int = 200_000
    max_cells: int = 2_000_000
    #: The longest coded segment, in characters: a passage, not a whole book (a long
    #: interview transcript is about 100,000 characters).  Redaction time is linear in
    #: the text, so this caps the time too.
    max_segment_chars: int = 1_000_000

    @classmethod
    def from_environment(cls) -> ArchiveLimits:
        values: dict[str, int] = {}
        for name, attribute, unit in (
            ("MAX_MEMBERS", "max_members", 1),
            ("MAX_XML_MB", "max_xml_bytes", _MIB),
            ("MAX_TEXT_MB", "max_text_bytes", _MIB),
            ("MAX_TOTAL_TEXT_MB", "max_total_text_bytes", _MIB),
            ("MAX_ARCHIVE_GB", "max_archive_bytes", 1024 * _MIB),
            ("EXPORT_MAX_TABLE_MB", "max_table_bytes", _MIB),
            ("EXPORT_MAX_ROWS", "max_rows", 1),
            ("EXPORT_MAX_CELLS", "max_cells", 1),
            ("EXPORT_MAX_SEGMENT_CHARS", "max_segment_chars", 1),
        ):
            variable = (
                f"KOSOVO_STUDY_{name}" if name.startswith("EXPORT") else f"KOSOVO_STUDY_QDPX_{name}"
            )
            if (raw := os.environ.get(variable)) is not None:
                try:
                    number = int(raw.strip())
                except ValueError:
                    number = -1
                if number <= 0:
                    raise KosovoStudyError(
                        f"{variable}={raw!r} is not a positive whole number. Set it to e.g. 100."
                    )
                values[attribute] = number * unit
        return cls(**values)


@dataclass
class Export:
    segments: pd.DataFrame
    respondents: pd.DataFrame  # respondent + attribute columns
    person_names: list[str] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)
    #: True only for an export marked as the package's synthetic study.
    synthetic: bool = False
    #: What the file holds (counts), used to explain an export with no coded segments.
    contents: dict[str, Any] = field(default_factory=dict)
    #: Where each respondent's attributes were read (for located messages).
    attribute_places: dict[str, str] = field(default_factory=dict)

    def problem(self, place: str, kind: str, detail: str) -> None:
        self.problems.append({"place": place, "kind": kind, "detail": detail})


def _map_codes(export: Export, codebook: Codebook, places: list[str]) -> None:
    mapped = []
    for place, name in zip(places, export.segments["code_exported"], strict=True):
        code = codebook.resolve(str(name))
        if code is None:
            export.problem(place, "unknown code", f"{name!r} is not in codebook {codebook.version}")
        mapped.append(code)
    export.segments["code"] = mapped


def _check_shape(path: Path, rows: int, columns: int, limits: ArchiveLimits) -> None:
    if rows > limits.max_rows or rows * columns > limits.max_cells:
        raise KosovoStudyError(
            f"{path}: the table has more than {min(rows, limits.max_rows + 1)} rows or "
            f"{limits.max_cells} cells, above the caps ({limits.max_rows} rows, "
            f"{limits.max_cells} cells). Raise KOSOVO_STUDY_EXPORT_MAX_ROWS or "
            "KOSOVO_STUDY_EXPORT_MAX_CELLS if the export is genuine."
        )


def _read_xlsx(path: Path, limits: ArchiveLimits) -> pd.DataFrame:
    """The first sheet of a workbook, read row by row under the caps.

    The archive is checked like a .qdpx (members, declared sizes), then every member is
    inflated in chunks and counted without being kept (a lying header stops at the cap);
    only then does openpyxl read the sheet, in read-only (streaming) mode, so memory
    grows with the rows read, which are capped.
    """
    archive = _open_archive(path, limits, what="an .xlsx workbook (a zip archive)")
    with archive:
        inflated = 0
        for info in archive.infolist():
            inflated += _inflated_size(
                archive, info, limits.max_table_bytes - inflated, path, "the workbook"
            )
    try:
        import openpyxl

        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001  (openpyxl raises many types)
        raise KosovoStudyError(
            f"{path} cannot be read as a spreadsheet ({type(error).__name__}). Export it "
            "again, or export a UTF-8 CSV instead."
        ) from None
    try:
        sheet = workbook.worksheets[0]
        rows: list[list[str]] = []
        width = 0
        for values in sheet.iter_rows(values_only=True):
            cells = ["" if v is None else str(v) for v in values]
            while cells and cells[-1] == "":
                cells.pop()
            width = max(width, len(cells))
            rows.append(cells)
            _check_shape(path, len(rows), width, limits)
    except KosovoStudyError:
        raise
    except Exception as error:  # noqa: BLE001
        raise KosovoStudyError(
            f"{path} cannot be read as a spreadsheet ({type(error).__name__}). Export it "
            "again, or export a UTF-8 CSV instead."
        ) from None
    finally:
        workbook.close()
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise KosovoStudyError(f"{path} holds no coded segments. Check the export settings.")
    header, body = rows[0], rows[1:]
    header = header + [f"unnamed_{i}" for i in range(len(header), width)]
    return pd.DataFrame([r + [""] * (width - len(r)) for r in body], columns=header, dtype=str)


def _inflated_size(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, path: Path, what: str
) -> int:
    """Bytes that one member inflates to, counted in 1 MiB chunks and not kept."""
    total = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_MIB):
                total += len(chunk)
                if total > cap:
                    raise KosovoStudyError(
                        f"{path}: {what} inflates past the cap "
                        "(KOSOVO_STUDY_EXPORT_MAX_TABLE_MB): a small file that inflates this "
                        "much is a zip bomb. Raise the cap if the export is genuine."
                    )
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError):
        raise KosovoStudyError(
            f"{path}: {what} cannot be inflated; it is damaged. Export it again."
        ) from None
    return total


def read_segment_table(
    path: Path, codebook: Codebook | None = None, limits: ArchiveLimits | None = None
) -> Export:
    """A coded-segment export with the columns document, respondent, code, segment_text, coder."""
    codebook = codebook or load_codebook()
    limits = limits or ArchiveLimits.from_environment()
    text: str | None = None
    if path.suffix.lower() == ".xls":
        raise KosovoStudyError(
            f"{path}: the old binary .xls format is not read. Save it as .xlsx or export a "
            "UTF-8 CSV."
        )
    if path.suffix.lower() == ".xlsx":
        table = _read_xlsx(path, limits)
    else:
        size = path.stat().st_size
        if size > limits.max_table_bytes:
            raise KosovoStudyError(
                f"{path}: {size / _MIB:.0f} MiB, above the cap of "
                f"{limits.max_table_bytes / _MIB:.0f} MiB for a CSV export. Raise "
                "KOSOVO_STUDY_EXPORT_MAX_TABLE_MB if the export is genuine."
            )
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise KosovoStudyError(
                f"{path} is not UTF-8 (byte {error.start}). Export it again as UTF-8 CSV "
                "from the QDA program; the package does not guess encodings of transcripts."
            ) from None
        # Rows counted before pandas builds the table (each line is at least one row).
        _check_shape(path, text.count("\n"), 1, limits)
        try:
            table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
            raise KosovoStudyError(
                f"{path} is not a readable CSV table ({error}). Check for an unclosed quote "
                "or a wrong delimiter (the export must be comma-separated)."
            ) from None
    _check_shape(path, len(table), len(table.columns), limits)
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in SEGMENT_COLUMNS if c not in table.columns]
    if missing:
        raise KosovoStudyError(
            f"{path}: missing columns {missing}. A segment export needs {list(SEGMENT_COLUMNS)}."
        )
    if table.empty:
        raise KosovoStudyError(f"{path} holds no coded segments. Check the export settings.")
    attributes = [c for c in table.columns if c.startswith("attr_")]
    # Ids that differ only by surrounding spaces are one respondent (the pseudonym is
    # made from the stripped id): a documented normalisation, not two people.
    table["respondent"] = table["respondent"].astype(str).str.strip()
    segments = table[list(SEGMENT_COLUMNS)].rename(columns={"code": "code_exported"}).copy()
    export = Export(segments=segments, respondents=pd.DataFrame())
    export.contents = {"rows": len(table)}
    if SYNTHETIC_COLUMN in table.columns:
        export.synthetic = bool((table[SYNTHETIC_COLUMN].str.startswith(SYNTHETIC_MARKER)).all())
    known = {*SEGMENT_COLUMNS, "person_names", SYNTHETIC_COLUMN}
    for column in table.columns:
        if column not in known and not column.startswith("attr_"):
            export.problem(
                EXPORT_LABEL,
                "column not published",
                f"column {column!r} is not part of a segment export; it was not read",
            )
    lines = _record_lines(text) if text is not None else []
    if len(lines) != len(table):  # a spreadsheet, or a file csv and pandas split apart
        lines = [i + 2 for i in range(len(table))]
    places = [f"{EXPORT_LABEL} line {line}" for line in lines]
    for place, respondent, coder in zip(places, table["respondent"], table["coder"], strict=True):
        if not str(respondent).strip():
            export.problem(place, "missing respondent", "segment without a respondent id")
        if not str(coder).strip():
            export.problem(place, "coder mismatch", "segment without a coder")
    _map_codes(export, codebook, places)
    if attributes:
        export.respondents = _one_row_per_respondent(table, attributes, places, path)
        first = table.reset_index(drop=True).drop_duplicates("respondent")
        export.attribute_places = {str(first.loc[i, "respondent"]): places[i] for i in first.index}
    listed: set[str] = set()
    if "person_names" in table.columns:
        listed = {n.strip() for cell in table["person_names"] for n in str(cell).split(";")}
    coders = {str(c).strip() for c in table["coder"]}
    respondents_named = {str(r) for r in table["respondent"] if _looks_like_a_name(str(r))}
    export.person_names = sorted(n for n in listed | coders | respondents_named if n)
    return export


def _record_lines(text: str) -> list[int]:
    """The line on which each data record starts, counting blank lines and the lines
    of quoted cells that span several (the header is line 1)."""
    reader = csv.reader(io.StringIO(text))
    starts, previous = [], 0
    try:
        for row in reader:
            if row:  # pandas skips blank lines too
                starts.append(previous + 1)
            previous = reader.line_num
    except csv.Error:
        return []
    return starts[1:]


def _one_row_per_respondent(
    table: pd.DataFrame, attributes: list[str], places: list[str], path: Path
) -> pd.DataFrame:
    """One row of attributes per respondent; differing values are an error, not a choice."""
    conflicts = []
    indexed = table.reset_index(drop=True)
    for _, rows in indexed.groupby("respondent", sort=False):
        for column in attributes:
            values = rows[column].str.strip()
            if values.nunique() > 1:  # noqa: PD101
                lines = ", ".join(places[i].rsplit(" ", 1)[-1] for i in rows.index[:6])
                conflicts.append(
                    f"{column} differs between lines {lines} "
                    f"({values.nunique()} values) for one respondent"
                )
    if conflicts:
        raise KosovoStudyError(
            f"{path.name}: conflicting respondent attributes: {listed(conflicts)}. A respondent has "
            "one value per attribute: correct it in the QDA project and export again."
        )
    first = indexed.drop_duplicates("respondent")[["respondent", *attributes]]
    return first.rename(columns=lambda c: c.removeprefix("attr_")).reset_index(drop=True)


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, path: Path, what: str
) -> bytes:
    """Inflate one member in 1 MiB chunks, stopping as soon as it passes ``cap``."""
    if info.file_size > cap:
        raise KosovoStudyError(
            f"{path}: {what} ({info.filename}) would inflate to {info.file_size / _MIB:.0f} MiB, "
            f"above the cap of {cap / _MIB:.0f} MiB. If the project is genuine, raise the cap "
            "(see ArchiveLimits in the README); a small file that inflates this much is a "
            "zip bomb."
        )
    chunks, total = [], 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_MIB):
                total += len(chunk)
                if total > cap:  # the directory lied about the size
                    raise KosovoStudyError(
                        f"{path}: {what} ({info.filename}) inflates past the cap of "
                        f"{cap / _MIB:.0f} MiB although its header says "
                        f"{info.file_size} bytes: the archive is corrupt or a zip bomb."
                    )
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        raise KosovoStudyError(
            f"{path}: {what} ({info.filename}) cannot be inflated ({error}). The archive is "
            "damaged or uses an unsupported compression; export the project again."
        ) from None
    return b"".join(chunks)


def _open_archive(path: Path, limits: ArchiveLimits, what: str = "") -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        if what:
            raise KosovoStudyError(f"{path} is not {what}: {error}. Export it again.") from None
        raise KosovoStudyError(
            f"{path} is not a REFI-QDA project (.qdpx: a zip holding project.qde): {error}. "
            "Export the project again with 'REFI-QDA project' in the QDA program."
        ) from None
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise KosovoStudyError(
            f"{path}: the archive has {len(members)} members, above the cap of "
            f"{limits.max_members}. Raise KOSOVO_STUDY_QDPX_MAX_MEMBERS if it is genuine."
        )
    declared = sum(m.file_size for m in members)
    if declared > limits.max_archive_bytes:
        raise KosovoStudyError(
            f"{path}: the members would inflate to {declared / (1024 * _MIB):.1f} GiB, above "
            f"the cap of {limits.max_archive_bytes / (1024 * _MIB):.0f} GiB. Raise "
            "KOSOVO_STUDY_QDPX_MAX_ARCHIVE_GB if it is genuine."
        )
    return archive


def _tag(element: ET.Element) -> str:
    return element.tag.split("}")[-1]


#: Source types of REFI-QDA whose selections the importer does not read (it reads coded
#: selections of text sources only).
UNSUPPORTED_SOURCES = ("PDFSource", "PictureSource", "AudioSource", "VideoSource")


def read_qdpx(
    path: Path, codebook: Codebook | None = None, limits: ArchiveLimits | None = None
) -> Export:
    """A REFI-QDA project: codes, coded text selections, users (coders) and case attributes."""
    codebook = codebook or load_codebook()
    limits = limits or ArchiveLimits.from_environment()
    archive = _open_archive(path, limits)
    try:
        info = archive.getinfo("project.qde")
    except KeyError:
        raise KosovoStudyError(
            f"{path} is not a REFI-QDA project (.qdpx: a zip holding project.qde): there is "
            "no project.qde in it. Export the project again with 'REFI-QDA project' in the "
            "QDA program."
        ) from None
    try:
        root = ET.fromstring(_read_member(archive, info, limits.max_xml_bytes, path, "project.qde"))
    except ET.ParseError as error:
        raise KosovoStudyError(f"{path}: project.qde is not valid XML ({error}).") from None
    if _tag(root) != "Project" or not root.tag.startswith("{" + NS):
        raise KosovoStudyError(
            f"{path}: project.qde is XML but not a REFI-QDA project (root {root.tag!r}, "
            f"expected Project in namespace {NS})."
        )
    q = f"{{{NS}}}"
    users = {u.get("guid"): u.get("name", "") for u in root.iter(f"{q}User")}
    codes = {c.get("guid"): c.get("name", "") for c in root.iter(f"{q}Code")}
    variables = {v.get("guid"): v.get("name", "") for v in root.iter(f"{q}Variable")}
    source_case: dict[str, str] = {}
    respondents: dict[str, dict[str, str]] = {}
    attribute_places: dict[str, str] = {}
    conflicts = []
    for case in root.iter(f"{q}Case"):
        name = case.get("name", "").strip()  # "R-017 " is "R-017" (see the CSV reader)
        place = f"case {case.get('guid')}"
        values = respondents.setdefault(name, {"respondent": name})
        attribute_places.setdefault(name, f"{EXPORT_LABEL} {place}")
        for value in case.findall(f"{q}VariableValue"):
            ref = value.find(f"{q}VariableRef")
            target = variables.get(ref.get("targetGUID") if ref is not None else None, "")
            texts = [child.text or "" for child in value if _tag(child) != "VariableRef"]
            text = (texts[0] if texts else "").strip()
            if target in values and values[target] != text:
                conflicts.append(f"{place}: variable {target!r} has two different values")
            values[target] = text
        for source in case.findall(f"{q}SourceRef"):
            previous = source_case.setdefault(str(source.get("targetGUID")), name)
            if previous != name:
                conflicts.append(f"{place}: source {source.get('targetGUID')} belongs to two cases")
    if conflicts:
        raise KosovoStudyError(
            f"{path.name}: conflicting respondent attributes: {'; '.join(conflicts[:20])}"
            f"{f' (and {len(conflicts) - 20} more)' if len(conflicts) > 20 else ''}. A "
            "respondent has one value per attribute: correct it in the QDA project and "
            "export again."
        )
    rows, places = [], []
    export = Export(segments=pd.DataFrame(), respondents=pd.DataFrame(list(respondents.values())))
    export.attribute_places = attribute_places
    export.synthetic = root.get("origin", "").startswith(SYNTHETIC_MARKER)
    members = {m.filename: m for m in archive.infolist()}
    text_read = 0
    selections = 0
    for source in root.iter(f"{q}TextSource"):
        guid = str(source.get("guid"))
        text = ""
        content = source.find(f"{q}PlainTextContent")
        if content is not None and content.text:
            text = content.text
        elif source.findall(f"{q}PlainTextSelection") and source.get(
            "plainTextPath", ""
        ).startswith("internal://"):
            # Transcripts are inflated only when they hold coded selections.
            member = "sources/" + source.get("plainTextPath", "").removeprefix("internal://")
            if member in members:
                if text_read + members[member].file_size > limits.max_total_text_bytes:
                    raise KosovoStudyError(
                        f"{path}: the transcripts inflate to more than "
                        f"{limits.max_total_text_bytes / _MIB:.0f} MiB in all. Raise "
                        "KOSOVO_STUDY_QDPX_MAX_TOTAL_TEXT_MB if the project is genuine."
                    )
                data = _read_member(
                    archive, members[member], limits.max_text_bytes, path, "a transcript"
                )
                text_read += len(data)
                text = data.decode("utf-8", errors="replace")
        respondent = source_case.get(guid, "")
        for selection in source.findall(f"{q}PlainTextSelection"):
            selections += 1
            place = f"{EXPORT_LABEL} selection {selection.get('guid')}"
            try:
                start = int(selection.get("startPosition", ""))
                end = int(selection.get("endPosition", ""))
            except ValueError:
                raise KosovoStudyError(
                    f"{place}: startPosition/endPosition are not whole numbers (values not "
                    "shown). The project is damaged; export it again."
                ) from None
            if not 0 <= start < end <= len(text):
                export.problem(
                    place,
                    "selection outside the text",
                    f"characters {start}-{end} of a text of {len(text)}; the segment text is "
                    "empty or cut",
                )
            for coding in selection.findall(f"{q}Coding"):
                ref = coding.find(f"{q}CodeRef")
                if ref is None or ref.get("targetGUID") not in codes:
                    export.problem(
                        place,
                        "coding without a code",
                        "a Coding without a CodeRef to a code of the project; not read",
                    )
                    continue
                code_name = codes[str(ref.get("targetGUID"))]
                user = str(coding.get("creatingUser") or selection.get("creatingUser") or "")
                if user not in users:
                    export.problem(
                        place,
                        "coder mismatch",
                        "the coding's user is not among the project's users",
                    )
                if not respondent:
                    export.problem(
                        place, "missing respondent", "the coded source belongs to no case"
                    )
                rows.append(
                    {
                        "document": source.get("name", ""),
                        "respondent": respondent,
                        "code_exported": code_name,
                        "segment_text": text[start:end],
                        "coder": users.get(user, user),
                    }
                )
                places.append(place)
    export.segments = pd.DataFrame(
        rows, columns=["document", "respondent", "code_exported", "segment_text", "coder"]
    ).astype(str)
    _map_codes(export, codebook, places)
    export.contents = {
        "codes": len(codes),
        "cases": len(respondents),
        "text sources": sum(1 for _ in root.iter(f"{q}TextSource")),
        "coded text selections": selections,
        **{
            f"{kind} (not read)": n
            for kind in UNSUPPORTED_SOURCES
            if (n := sum(1 for _ in root.iter(f"{q}{kind}")))
        },
    }
    # Codes defined in the project but outside the codebook are reported too.
    for code_guid, defined_name in codes.items():
        if codebook.resolve(defined_name) is None:
            export.problem(
                f"{EXPORT_LABEL} code {code_guid}", "code outside codebook", repr(defined_name)
            )
    # Coders are people; case names are often people's names too.
    export.person_names = sorted(
        {n for n in users.values() if n} | {n for n in respondents if _looks_like_a_name(n)}
    )
    return export


def _looks_like_a_name(label: str) -> bool:
    """Two to four capitalised words of letters ("Arben Krasniqi"), not an id ("R-017")."""
    words = label.split()
    return 2 <= len(words) <= 4 and all(w[:1].isupper() and w.isalpha() for w in words)


def read_export(
    path: Path, codebook: Codebook | None = None, limits: ArchiveLimits | None = None
) -> Export:
    """Dispatch on the file type."""
    if not path.exists():
        raise KosovoStudyError(f"{path} does not exist. Check the path.")
    if path.is_dir():
        raise KosovoStudyError(
            f"{path} is a folder; give the export file (.qdpx, .csv or .xlsx) inside it."
        )
    limits = limits or ArchiveLimits.from_environment()
    if path.suffix.lower() == ".qdpx":
        export = read_qdpx(path, codebook, limits)
    elif path.suffix.lower() in {".csv", ".xlsx", ".xls"}:
        export = read_segment_table(path, codebook, limits)
    else:
        raise KosovoStudyError(f"{path}: unknown export type; use .csv, .xlsx or .qdpx.")
    lengths = export.segments["segment_text"].astype(str).str.len()
    if len(lengths) and int(lengths.max()) > limits.max_segment_chars:
        row = int(lengths.to_numpy().argmax())
        raise KosovoStudyError(
            f"{path}: coded segment {row + 1} has {int(lengths.max())} characters, above the "
            f"cap of {limits.max_segment_chars} (KOSOVO_STUDY_EXPORT_MAX_SEGMENT_CHARS). A "
            "segment is a coded passage; code passages rather than whole transcripts, or "
            "raise the cap (redaction time grows linearly with it)."
        )
    return export
