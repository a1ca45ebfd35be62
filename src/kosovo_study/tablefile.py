"""Reading a user-supplied CSV defensively: every failure is a message with file, line and fix.

:func:`read_csv_text` is the one place where a table supplied by a researcher (the
restricted fighter counts) is opened.  It never lets a parser exception through:

* the path is inspected first (``lstat``): missing, a directory, a dangling symbolic
  link, a link into a system folder, a device or pipe, and an unreadable file each
  get their own message;
* the size is checked *before* reading, against a limit stated by the format
  (``max_bytes``), so a 200 MB file fails at once without being parsed;
* the bytes are read once; their sha256 is what the provenance records, so the
  hash always describes exactly the bytes that were parsed;
* binary files (NUL bytes; ZIP/XLSX, old Excel, PDF signatures) and encodings other
  than UTF-8 (UTF-16 by its byte-order mark or NUL pattern; cp1250 or latin-1 by
  decoding the first non-UTF-8 bytes) are named, with the line where the first
  offending byte sits and the way to save the file as UTF-8;
* a header that splits on ``;``, tab or ``|`` into the expected columns is reported as
  that delimiter, not as missing columns;
* records are parsed with :mod:`csv` in strict mode; each keeps the physical line it
  starts on, so line numbers stay right after blank lines and multi-line quoted
  fields; an unbalanced quote is reported on the line where the quote opens;
* at most :data:`MAX_PROBLEMS` problems are listed, followed by the number of the
  rest, and every quoted value is shortened to :data:`MAX_SHOWN` characters, so an
  error message stays a paragraph whatever the file holds.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from kosovo_study.errors import ValidationError

#: Problems listed in one error message; the rest are counted, not shown.
MAX_PROBLEMS = 50
#: Characters of a cell shown in a message (longer values are cut with "...").
MAX_SHOWN = 40
#: Characters allowed in one cell: far above any municipality name, definition or key.
MAX_FIELD_CHARS = 1_000
#: Folders whose files are never study data: a link into them is refused.
SYSTEM_FOLDERS = ("/etc", "/proc", "/sys", "/dev", "/boot", "/bin", "/sbin", "/lib", "/usr", "/run")
#: File signatures of formats that are not text tables (first bytes -> what it is).
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx/.ods workbook?)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls (OLE2) file"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3", "an SQLite database"),
    (b"version https://git-lfs", "a Git LFS pointer, not the data (run 'git lfs pull')"),
    (b"<!DOCTYPE html", "an HTML page (a download that failed or a login page?)"),
    (b"<!doctype html", "an HTML page (a download that failed or a login page?)"),
    (b"<html", "an HTML page (a download that failed or a login page?)"),
)
#: Letters of Albanian and Serbian (Latin) names: used to tell cp1250 from latin-1.
_NAME_LETTERS = set("çëÇËčćšžđČĆŠŽĐ")
#: Control characters other than tab, CR and LF: binary content in a text file.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Whitespace removed around a cell: ASCII space and tab only.  Python's ``str.strip``
#: would also remove no-break and other Unicode spaces, so that "\u00a012" became a
#: valid count; such characters are reported instead (see :func:`oddities`).
CELL_SPACE = " \t"
#: Scripts whose letters look like Latin ones (a Cyrillic "a", U+0430, typed into "Decan").
_LOOKALIKE_SCRIPTS = ("CYRILLIC", "GREEK")
_FIX_UTF8 = (
    "Save it as UTF-8: in Excel 'Save As > CSV UTF-8 (Comma delimited)', in LibreOffice "
    "'Character set: Unicode (UTF-8)', or convert with iconv -f {code} -t UTF-8."
)


def shorten(value: object, limit: int = MAX_SHOWN) -> str:
    """``repr`` of a value, cut to ``limit`` characters so messages stay short."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    return next((s for s in ("LATIN", *_LOOKALIKE_SCRIPTS) if name.startswith(s)), "")


def oddities(text: str, limit: int = 3) -> str:
    """Characters of ``text`` a reader cannot see or tell apart, as a message fragment.

    Names invisible and format characters (zero-width joiners, byte-order marks,
    direction overrides), spaces other than the ASCII space, non-ASCII digits, and
    Cyrillic or Greek letters mixed into a Latin word (look-alikes such as
    U+0430 CYRILLIC SMALL LETTER A).  Returns "" when there is nothing to say, so a message stays short.
    """
    found: list[str] = []
    letters = [c for c in text if c.isalpha()]
    scripts = {_script(c) for c in letters} - {""}
    mixed = "LATIN" in scripts and len(scripts) > 1
    for position, char in enumerate(text, start=1):
        category = unicodedata.category(char)
        label = f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed')}"
        if category in {"Cf", "Cc", "Zl", "Zp"} and char not in "\t":
            found.append(f"{label} (invisible) at character {position}")
        elif category == "Zs" and char != " ":
            found.append(f"{label} (not an ordinary space) at character {position}")
        elif category == "Nd" and not char.isascii():
            found.append(f"{label} (not an ASCII digit 0-9) at character {position}")
        elif mixed and char.isalpha() and _script(char) in _LOOKALIKE_SCRIPTS:
            found.append(f"{label} (a look-alike of a Latin letter) at character {position}")
        if len(found) > limit:
            break
    if not found:
        return ""
    shown = "; ".join(found[:limit]) + ("; and more" if len(found) > limit else "")
    return f" [it holds {shown}: retype the value]"


@dataclass
class Problems:
    """Up to :data:`MAX_PROBLEMS` messages and the count of every problem found."""

    shown: list[str] = field(default_factory=list)
    total: int = 0
    #: True when some checks were skipped after the list was full (the count is a minimum).
    partial: bool = False

    def add(self, message: str) -> None:
        self.total += 1
        if len(self.shown) < MAX_PROBLEMS:
            self.shown.append(message)

    def __bool__(self) -> bool:
        return self.total > 0

    @property
    def full(self) -> bool:
        """True when no more messages will be shown (scanning may stop early)."""
        return len(self.shown) >= MAX_PROBLEMS

    def raise_if_any(self, path: Path, name: str, hint: str) -> None:
        """Raise one :class:`ValidationError` listing the problems (no-op when none)."""
        if not self:
            return
        listed = "; ".join(problem.rstrip(".") for problem in self.shown)
        rest = self.total - len(self.shown)
        at_least = "at least " if self.partial else ""
        more = (
            f"; and {at_least}{rest} more problems not shown (first {MAX_PROBLEMS} listed)"
            if rest
            else ""
        )
        raise ValidationError(
            f"{path} does not match the {name} format ({at_least}{self.total} problems): "
            f"{listed}{more}. {hint}"
        )


@dataclass(frozen=True)
class CsvText:
    """A CSV read as text: header, records (each with its first physical line) and provenance."""

    path: Path
    header: tuple[str, ...]
    records: tuple[tuple[int, tuple[str, ...]], ...]
    sha256: str
    size_bytes: int
    encoding: str
    notes: tuple[str, ...] = ()

    def rows(self) -> Iterable[tuple[int, dict[str, str]]]:
        """``(line, {column: text})`` for every record, in file order."""
        for line, values in self.records:
            yield line, dict(zip(self.header, values, strict=True))


def check_path(path: Path) -> Path:
    """Refuse anything that is not a readable regular file; return the path to read.

    Symbolic links are followed only to a regular file outside :data:`SYSTEM_FOLDERS`
    (a researcher may keep restricted data on an encrypted volume and link to it).
    """
    path = Path(path)
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise ValidationError(
            f"{path} does not exist. Check the path (the folder holds: {_listing(path.parent)})."
        ) from None
    except PermissionError:
        raise ValidationError(
            f"{path} cannot be inspected: permission denied on its folder. Give your user "
            "read and execute permission on the folder (chmod u+rx)."
        ) from None
    if stat.S_ISLNK(info.st_mode):
        target = path.readlink()
        try:
            resolved = path.resolve(strict=True)
        except FileNotFoundError:
            resolved = path.resolve()
        except (RuntimeError, OSError):  # RuntimeError before Python 3.13, then ELOOP
            raise ValidationError(
                f"{path} is a symbolic link to {target}, which leads back to itself (a link "
                "loop). Replace the link with the CSV file or a link to it."
            ) from None
        if not resolved.exists():
            raise ValidationError(
                f"{path} is a symbolic link to {target}, which does not exist (a dangling "
                "link). Point the link at the real file or copy the file into place."
            )
        if any(
            resolved.as_posix() == folder or resolved.as_posix().startswith(folder + "/")
            for folder in SYSTEM_FOLDERS
        ):
            raise ValidationError(
                f"{path} is a symbolic link to the system file {resolved}, not to study data. "
                "Remove the link and put the CSV itself at this path."
            )
        try:
            info = resolved.stat()
        except OSError as error:
            raise ValidationError(
                f"{path} is a symbolic link to {resolved}, which cannot be read "
                f"({error.strerror}). Point the link at the CSV file."
            ) from None
    if stat.S_ISDIR(info.st_mode):
        raise ValidationError(
            f"{path} is a directory, not a file. Give the path of the CSV file "
            f"(the directory holds: {_listing(path)})."
        )
    if not stat.S_ISREG(info.st_mode):
        raise ValidationError(
            f"{path} is not a regular file (a device, pipe or socket). Give the path of a CSV file."
        )
    if not os.access(path, os.R_OK):
        raise ValidationError(
            f"{path} cannot be read: permission denied. Give your user read permission "
            f"(chmod u+r {path})."
        )
    return path


def _listing(folder: Path, limit: int = 8) -> str:
    try:
        names = sorted(entry.name for entry in folder.iterdir())
    except OSError:
        return "nothing readable"
    if not names:
        return "nothing"
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


_BREAK = re.compile(rb"\r\n|\r|\n")


def _line_col(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column of byte ``offset``; LF, CRLF and CR (old Mac) end lines."""
    line_start, line = 0, 1
    for found in _BREAK.finditer(data, 0, offset):
        line_start, line = found.end(), line + 1
    return line, offset - line_start + 1


def _guess_single_byte(data: bytes) -> str:
    """cp1250, latin-1 or mac_roman: whichever decodes more bytes into Albanian/Serbian letters.

    mac_roman is what Excel for Mac's "CSV (Macintosh)" writes (with CR line ends); its
    "ë" is byte 0x91, a quotation mark in cp1250, so converting it as cp1250 would
    silently change letters.
    """
    high = bytes(b for b in data if b >= 0x80)
    scores = {}
    for code in ("cp1250", "latin-1", "mac_roman"):
        text = high.decode(code, errors="replace")
        scores[code] = sum(ch in _NAME_LETTERS for ch in text)
    if any(0x80 <= b <= 0x9F for b in high):
        scores["latin-1"] = -1  # C1 bytes are control codes in latin-1, letters elsewhere
    best = max(scores.values())
    winners = [code for code, score in scores.items() if score == best]
    if winners == ["cp1250", "latin-1"]:
        return "cp1250 or latin-1"
    return winners[0]


def decode(path: Path, data: bytes) -> tuple[str, str]:
    """The text of ``data`` and the encoding name; raise naming any other encoding."""
    for signature, what in SIGNATURES:
        if data.startswith(signature):
            raise ValidationError(
                f"{path} is {what}, not a CSV text file. Export the table as CSV: in Excel "
                "'Save As > CSV UTF-8 (Comma delimited)'."
            )
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")) or (
        len(data) >= 4 and (data[1:4] == b"\x00\x00\x00" or data[0:3] == b"\x00\x00\x00")
    ):
        order = "little-endian" if data[0] != 0 else "big-endian"
        raise ValidationError(
            f"{path} is encoded as UTF-32 ({order}), line 1. " + _FIX_UTF8.format(code="UTF-32")
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        len(data) >= 4 and (data[1:4:2] == b"\x00\x00" or data[0:4:2] == b"\x00\x00")
    ):
        order = "little-endian" if data.startswith(b"\xff\xfe") or data[1] == 0 else "big-endian"
        raise ValidationError(
            f"{path} is encoded as UTF-16 ({order}; Excel's 'Unicode text'), line 1. "
            + _FIX_UTF8.format(code="UTF-16")
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        line, column = _line_col(data, nul)
        raise ValidationError(
            f"{path} line {line}, column {column}: a NUL byte; the file holds binary data, "
            "not text. Export the table again as CSV UTF-8, or remove the binary content."
        )
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line, column = _line_col(data, error.start)
        if any(b >= 0x80 for b in data[: error.start]):
            # Valid UTF-8 letters come before: the file is UTF-8 with a stray byte (a
            # cell pasted from another program); converting it all would garble the rest.
            raise ValidationError(
                f"{path} line {line}, column {column}: byte 0x{data[error.start]:02X} is not "
                "UTF-8, although the lines before it are UTF-8 (a character pasted from "
                "another program?). Retype that character and save the file as CSV UTF-8."
            ) from None
        guess = _guess_single_byte(data)
        code = {"mac_roman": "MACINTOSH", "latin-1": "LATIN1"}.get(guess, "CP1250")
        byte = data[error.start]
        codec = {"MACINTOSH": "mac_roman", "LATIN1": "latin-1"}.get(code, "cp1250")
        shown = bytes([byte]).decode(codec, "replace")
        raise ValidationError(
            f"{path} line {line}, column {column}: byte 0x{byte:02X} is not UTF-8; the file "
            f"looks encoded as {guess} (where it is {shown!r}). " + _FIX_UTF8.format(code=code)
        ) from None
    if control := _CONTROL.search(text):
        line = sum(1 for _ in re.finditer(r"\r\n|\r|\n", text[: control.start()])) + 1
        raise ValidationError(
            f"{path} line {line}: control character U+{ord(control.group()):04X}; the file "
            "holds binary data, not text. Export the table again as CSV UTF-8."
        )
    return text, "utf-8"


def _split_header(first_line: str) -> list[str]:
    return [name.strip(CELL_SPACE) for name in next(csv.reader([first_line]), [])]


def _header_hint(header: Sequence[str], missing: Sequence[str]) -> str:
    """Which header cells are near-misses of the missing columns (case, spaces, invisibles)."""

    def folded(name: str) -> str:
        name = unicodedata.normalize("NFKC", name)
        kept = "".join(c for c in name if unicodedata.category(c)[0] not in {"C", "Z"})
        return kept.casefold().replace("-", "_")

    hints = []
    for column in missing:
        near = [h for h in header if h != column and folded(h) == folded(column)]
        if near:
            hints.append(f"{shorten(near[0])} should read {column!r}{oddities(near[0])}")
    if any(not h for h in header):
        hints.append("an empty column name (a trailing comma, or an unnamed column?)")
    return f" ({'; '.join(hints)}: column names are lower case, without spaces)" if hints else ""


def read_csv_text(
    path: Path,
    *,
    columns: Sequence[str],
    name: str,
    hint: str,
    max_bytes: int,
    optional: Sequence[str] = (),
    max_records: int | None = None,
) -> CsvText:
    """Read a comma-separated UTF-8 table with exactly ``columns`` (plus ``optional``).

    Raises :class:`ValidationError` for every failure, naming the file, the line and
    the fix; never a parser exception.  ``max_bytes`` is checked before reading;
    reading stops after ``max_records`` data rows (a format with one row per unit states
    how many it can hold), so a wrong file of many short rows fails at once.
    """
    path = check_path(path)
    try:
        info = path.stat()
        size = info.st_size
    except OSError as error:  # removed or replaced since it was checked
        raise ValidationError(
            f"{path} cannot be read ({error.strerror}); it changed while being checked. Retry."
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise ValidationError(
            f"{path} was replaced by something that is not a regular file while it was being "
            "checked. Give the path of a CSV file and retry."
        )
    if size == 0:
        raise ValidationError(
            f"{path} is empty (0 bytes). Write the header line "
            f"({','.join(columns)}) and one row per municipality. {hint}"
        )
    if size > max_bytes:
        raise ValidationError(
            f"{path} is {size / 1e6:,.1f} MB; the {name} format is at most "
            f"{max_bytes / 1e6:,.1f} MB (a table of this size is a few kilobytes), so the "
            "file was not parsed. Check that this is the right file."
        )
    try:
        # O_NONBLOCK and fstat: if the path was swapped for a pipe since it was checked,
        # opening it does not wait forever for a writer, and the swap is named.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise ValidationError(
                    f"{path} was replaced by something that is not a regular file while it "
                    "was being checked. Give the path of a CSV file and retry."
                )
            data = handle.read(max_bytes + 1)  # bounded even if the file grew since stat
    except PermissionError:
        raise ValidationError(
            f"{path} cannot be read: permission denied. Give your user read permission "
            f"(chmod u+r {path})."
        ) from None
    except OSError as error:
        raise ValidationError(
            f"{path} cannot be read ({error.strerror}). Check the file."
        ) from None
    if len(data) > max_bytes:
        raise ValidationError(f"{path} grew beyond {max_bytes} bytes while being read. Retry.")
    digest = hashlib.sha256(data).hexdigest()
    text, encoding = decode(path, data)
    notes = ("a UTF-8 byte-order mark was removed",) if data.startswith(b"\xef\xbb\xbf") else ()
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise ValidationError(
            f"{path} holds only blank lines. Write the header line ({','.join(columns)}) "
            f"and the rows. {hint}"
        )
    header_line_index = 0
    lines = text.splitlines()
    while not lines[header_line_index].strip():
        header_line_index += 1
    first = lines[header_line_index]
    header = _split_header(first)
    expected = set(columns)
    allowed = expected | set(optional)
    header_line = header_line_index + 1
    if first.lower().startswith("sep="):
        raise ValidationError(
            f"{path} line {header_line}: {shorten(first)} is an Excel delimiter hint, not the "
            "header. Delete that line (the file must start with the header) and save the file "
            "as comma-separated CSV UTF-8."
        )
    if not expected <= set(header):
        for delimiter, label in ((";", "semicolons (;)"), ("\t", "tabs"), ("|", "bars (|)")):
            parts = {part.strip().strip('"') for part in first.split(delimiter)}
            if len(parts & expected) >= 2:
                raise ValidationError(
                    f"{path} line {header_line}: the columns are separated by {label}, not "
                    "commas. Save the file as comma-separated CSV (Excel: 'CSV UTF-8 (Comma "
                    "delimited)'; LibreOffice: field delimiter ',')."
                )
        missing = [c for c in columns if c not in header]
        raise ValidationError(
            f"{path} line {header_line}: missing columns {missing} (the header has "
            f"[{', '.join(shorten(h) for h in header[:10])}])"
            f"{_header_hint(header, missing)}. {hint}"
        )
    unknown = [h for h in header if h not in allowed]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if unknown or duplicated:
        raise ValidationError(
            f"{path} line {header_line}: "
            + (
                f"unknown columns [{', '.join(shorten(h) for h in unknown[:10])}]"
                + (" (an empty name: a trailing comma?)" if "" in unknown else "")
                if unknown
                else ""
            )
            + ("; " if unknown and duplicated else "")
            + (f"columns given twice {duplicated}" if duplicated else "")
            + f". Remove or rename them. {hint}"
        )
    problems = Problems()
    records: list[tuple[int, tuple[str, ...]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    consumed = 0  # physical lines consumed so far
    data_rows = 0
    try:
        for values in reader:
            start = consumed + 1
            consumed = reader.line_num
            if start <= header_line:
                continue  # blank lines before the header, and the header itself
            if not values or (all(not v.strip() for v in values) and len(values) <= 1):
                continue  # a blank line is not a record
            data_rows += 1
            if max_records is not None and data_rows > max_records:
                problems.add(
                    f"line {start}: more than {max_records:,} data rows; the {name} format "
                    f"holds at most {max_records:,}, so reading stopped here. Check that this "
                    "is the right file"
                )
                problems.partial = True
                break
            if [v.strip(CELL_SPACE) for v in values] == header:
                problems.add(
                    f"line {start} repeats the header line (two files pasted together?); delete it"
                )
            elif len(values) != len(header):
                if len(values) == 1 and len(next(csv.reader([values[0]]))) == len(header):
                    why = "the whole line is in double quotes, as one field; remove them"
                elif len(values) < len(header):
                    why = "a missing cell? write an empty one as two commas ,,"
                else:
                    why = "an unquoted comma inside a name? put such fields in double quotes"
                problems.add(
                    f"line {start} has {len(values)} fields, the header has {len(header)} ({why})"
                )
            elif too_long := [
                (c, v) for c, v in zip(header, values, strict=True) if len(v) > MAX_FIELD_CHARS
            ]:
                column, value = too_long[0]
                problems.add(
                    f"line {start}, column {column}: {len(value):,} characters (at most "
                    f"{MAX_FIELD_CHARS:,}); value starts {shorten(value)}"
                )
            else:
                records.append((start, tuple(v.strip(CELL_SPACE) for v in values)))
    except csv.Error as error:
        start = consumed + 1
        if "end of data" in str(error) or "unexpected end" in str(error):
            problems.add(
                f"line {start}: a double quote opens a field that is never closed (unbalanced "
                '"). Close the quote, or double it ("") inside a quoted field'
            )
        elif "field larger than field limit" in str(error):
            problems.add(
                f"line {start}: a field longer than {csv.field_size_limit():,} characters "
                f"(cells hold at most {MAX_FIELD_CHARS:,}); an unclosed double quote "
                "swallowing the rest of the file, or not a table of this format"
            )
        else:
            problems.add(
                f"line {reader.line_num}: {error} (a stray double quote? quote the whole "
                'field and double any quote inside it: "a ""b"" c")'
            )
    problems.raise_if_any(path, name, hint)
    return CsvText(path, tuple(header), tuple(records), digest, size, encoding, notes)


def string_records(table: pd.DataFrame) -> list[dict[str, str]]:
    """Rows of a table read with ``dtype=str`` as plain ``{column: text}`` dicts."""
    return [
        {str(key): str(value) for key, value in record.items()}
        for record in table.to_dict(orient="records")
    ]


# --- schemas of tables the package builds (used by every stage; no model code) --------------------------------------------


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
                f"{where}, column {column}: value {shorten(case.failure_case)} fails {case.check}"
            )
        return problems
    return []


def raise_problems(file: Path | str, name: str, problems: list[str], hint: str = "") -> None:
    """Raise one error listing the problems, at most 50 shown (no-op when there are none)."""
    collected = Problems()
    for problem in problems:
        collected.add(problem)
    collected.raise_if_any(Path(file), name, hint or "Correct these rows and rerun.")


def check(
    table: pd.DataFrame, schema: pa.DataFrameSchema, *, file: Path | str, hint: str = ""
) -> pd.DataFrame:
    """Validate ``table`` against ``schema``; raise an error listing every problem."""
    raise_problems(file, schema.name or "expected", schema_problems(table, schema), hint)
    validated: pd.DataFrame = schema.validate(table)
    return validated
