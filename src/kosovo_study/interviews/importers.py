"""Importers for coded-interview exports: segment tables (CSV/XLSX) and REFI-QDA (.qdpx).

Both return an :class:`Export`: one row per coded segment (document, respondent,
code as exported, codebook code or None, segment text, coder), respondent
attributes, the people the export names (for redaction), and the problems found,
each with its place in the file.  Problems (unknown code, missing respondent, coder
not among the export's users) are reported, not fatal; a file that cannot be read at
all (broken zip, XML that is not REFI-QDA, empty export, not UTF-8) is an error.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

import pandas as pd

from kosovo_study.errors import KosovoStudyError
from kosovo_study.interviews.codebook import Codebook, load_codebook

NS = "urn:QDA-XML:project:1.0"
SEGMENT_COLUMNS = ("document", "respondent", "code", "segment_text", "coder")


@dataclass
class Export:
    segments: pd.DataFrame
    respondents: pd.DataFrame  # respondent + attribute columns
    person_names: list[str] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)

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


def read_segment_table(path: Path, codebook: Codebook | None = None) -> Export:
    """A coded-segment export with the columns document, respondent, code, segment_text, coder."""
    codebook = codebook or load_codebook()
    if path.suffix.lower() in {".xlsx", ".xls"}:
        table = pd.read_excel(path, dtype=str).fillna("")
    else:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise KosovoStudyError(
                f"{path} is not UTF-8 (byte {error.start}). Export it again as UTF-8 CSV "
                "from the QDA program; the package does not guess encodings of transcripts."
            ) from None
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in SEGMENT_COLUMNS if c not in table.columns]
    if missing:
        raise KosovoStudyError(
            f"{path}: missing columns {missing}. A segment export needs {list(SEGMENT_COLUMNS)}."
        )
    if table.empty:
        raise KosovoStudyError(f"{path} holds no coded segments. Check the export settings.")
    attributes = [c for c in table.columns if c.startswith("attr_")]
    segments = table[list(SEGMENT_COLUMNS)].rename(columns={"code": "code_exported"}).copy()
    export = Export(segments=segments, respondents=pd.DataFrame())
    places = [f"{path.name} line {i + 2}" for i in range(len(table))]
    for place, respondent, coder in zip(places, table["respondent"], table["coder"], strict=True):
        if not str(respondent).strip():
            export.problem(place, "missing respondent", "segment without a respondent id")
        if not str(coder).strip():
            export.problem(place, "coder mismatch", "segment without a coder")
    _map_codes(export, codebook, places)
    if attributes:
        respondents = table[["respondent", *attributes]].drop_duplicates("respondent")
        export.respondents = respondents.rename(columns=lambda c: c.removeprefix("attr_"))
    if "person_names" in table.columns:
        export.person_names = sorted(
            {n for cell in table["person_names"] for n in str(cell).split(";") if n.strip()}
        )
    return export


def _tag(element: ET.Element) -> str:
    return element.tag.split("}")[-1]


def read_qdpx(path: Path, codebook: Codebook | None = None) -> Export:
    """A REFI-QDA project: codes, coded text selections, users (coders) and case attributes."""
    codebook = codebook or load_codebook()
    try:
        archive = zipfile.ZipFile(path)
        root = ET.fromstring(archive.read("project.qde"))
    except (zipfile.BadZipFile, KeyError) as error:
        raise KosovoStudyError(
            f"{path} is not a REFI-QDA project (.qdpx: a zip holding project.qde): {error}. "
            "Export the project again with 'REFI-QDA project' in the QDA program."
        ) from None
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
    respondents = []
    for case in root.iter(f"{q}Case"):
        name = case.get("name", "")
        values = {"respondent": name}
        for value in case.findall(f"{q}VariableValue"):
            ref = value.find(f"{q}VariableRef")
            target = variables.get(ref.get("targetGUID") if ref is not None else None, "")
            texts = [child.text or "" for child in value if _tag(child) != "VariableRef"]
            values[target] = texts[0] if texts else ""
        respondents.append(values)
        for source in case.findall(f"{q}SourceRef"):
            source_case[str(source.get("targetGUID"))] = name
    rows, places = [], []
    export = Export(segments=pd.DataFrame(), respondents=pd.DataFrame(respondents))
    for source in root.iter(f"{q}TextSource"):
        guid = str(source.get("guid"))
        text = ""
        content = source.find(f"{q}PlainTextContent")
        if content is not None and content.text:
            text = content.text
        elif source.get("plainTextPath", "").startswith("internal://"):
            member = "sources/" + source.get("plainTextPath", "").removeprefix("internal://")
            if member in archive.namelist():
                text = archive.read(member).decode("utf-8", errors="replace")
        respondent = source_case.get(guid, "")
        for selection in source.findall(f"{q}PlainTextSelection"):
            start, end = (
                int(selection.get("startPosition", 0)),
                int(selection.get("endPosition", 0)),
            )
            for coding in selection.findall(f"{q}Coding"):
                ref = coding.find(f"{q}CodeRef")
                code_name = codes.get(ref.get("targetGUID") if ref is not None else None, "")
                user = str(coding.get("creatingUser") or selection.get("creatingUser") or "")
                place = f"{path.name} selection {selection.get('guid')}"
                if user not in users:
                    export.problem(
                        place, "coder mismatch", f"coder {user!r} is not among the project's users"
                    )
                if not respondent:
                    export.problem(
                        place, "missing respondent", f"source {source.get('name')!r} has no case"
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
    )
    _map_codes(export, codebook, places)
    # Codes defined in the project but outside the codebook are reported too.
    for code_guid, defined_name in codes.items():
        if codebook.resolve(defined_name) is None:
            export.problem(
                f"{path.name} code {code_guid}", "code outside codebook", repr(defined_name)
            )
    export.person_names = sorted(n for n in users.values() if n)
    return export


def read_export(path: Path, codebook: Codebook | None = None) -> Export:
    """Dispatch on the file type."""
    if not path.exists():
        raise KosovoStudyError(f"{path} does not exist.")
    if path.suffix.lower() == ".qdpx":
        return read_qdpx(path, codebook)
    if path.suffix.lower() in {".csv", ".xlsx", ".xls"}:
        return read_segment_table(path, codebook)
    raise KosovoStudyError(f"{path}: unknown export type; use .csv, .xlsx or .qdpx.")
