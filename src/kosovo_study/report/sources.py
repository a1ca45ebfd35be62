"""The source chain of every glued number: the result row it was read from, the stage
run that wrote that file, the sha256 of that run's inputs, its parameters and the commit.

**How a number is traced.**  :func:`kosovo_study.report.book.load` indexes every table
and JSON document a page reads (:class:`SourceIndex`); :func:`kosovo_study.report.book.glue_numbers`
then looks up each value it glues (:func:`locate`), so a key added to
``report/numbers.py`` is traced without extra work.  A value is found as, in this order
of preference:

* ``document``: a scalar of ``metadata.json`` or ``multiverse_summary.json`` (a JSON path);
* ``cell``: one cell of a result or processed table (a row selector and a column);
* ``aggregate``: the minimum, maximum, sum, number of rows or distinct values of a column;

each possibly times 100 or 1000 (percentages, rates per 1,000).  Among several matches,
the one whose file, column and row share most words with the glue key wins; the number
of equally good matches is recorded (``candidates``), so an ambiguous trace says so.  A
value matched nowhere is ``computed`` (built by code from several cells, e.g. a share
of rows), and a sentence is ``text``: both are recorded, with no row to point at.

The record travels with the glued value (in its output's metadata), so it survives the
book's execution cache; the Sphinx extension shows it beside the number
(:mod:`kosovo_study.report.sphinx_ext`), writes every record to
``_static/glue_record.json`` and ``kosovo-study why KEY`` prints it.  The stage part of
the chain (:func:`chain`) is read from the manifests when it is shown.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kosovo_study.paths import ProjectPaths

#: The output-metadata key under which a glued value carries its record.
RECORD_KEY = "kosovo_study_source"
#: The file of every record, beside the HTML (``book/_build/html/_static/``).
RECORD_FILE = "glue_record.json"
FORMAT = "kosovo_study glue record 1"
#: Scales tried when a value is not found as it is (percent, per 1,000).
SCALES = (1, 100, 1000)
#: Aggregates tried over a whole column, in order of preference.
AGGREGATES = ("min", "max", "sum", "rows", "nunique")
#: Strings longer than this are sentences, not labels read from a cell.
_LABEL_LENGTH = 80
_GLUE_TEXT = re.compile(r"\{glue:text\}`([^`]+)`")


def _words(text: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", str(text).lower())) - {""}


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from flatten(item, f"{prefix}.{index}")
    else:
        yield prefix, value


def _number(value: Any) -> float | None:
    """A finite number (not a bool), or None."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass
class SourceIndex:
    """The files a page read: tables (relative path -> frame) and JSON documents
    (relative path -> flattened ``{json.path: scalar}``)."""

    root: Path
    tables: dict[str, pd.DataFrame]
    documents: dict[str, dict[str, Any]]
    _numeric: dict[tuple[str, str], np.ndarray] = field(default_factory=dict, repr=False)
    _text: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _cells: Any = field(default=None, repr=False)
    _text_columns: dict[str, dict[str, np.ndarray]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_files(cls, paths: ProjectPaths, files: list[Path]) -> SourceIndex:
        tables: dict[str, pd.DataFrame] = {}
        documents: dict[str, dict[str, Any]] = {}
        for file in files:
            if not file.is_file():
                continue
            relative = file.resolve().relative_to(paths.root.resolve()).as_posix()
            if file.suffix == ".json":
                documents[relative] = dict(flatten(json.loads(file.read_text("utf-8"))))
            else:
                tables[relative] = read_table(file)
        return cls(paths.root, tables, documents)

    def text_columns(self, file: str) -> dict[str, np.ndarray]:
        """Column -> cells as text, of the table's text and flag columns (row keys)."""
        if file not in self._text_columns:
            frame = self.tables[file]
            text = self.text(file)
            self._text_columns[file] = {
                str(c): text[c].to_numpy(dtype=object)
                for c in frame.columns
                if not pd.api.types.is_numeric_dtype(frame[c])
                or pd.api.types.is_bool_dtype(frame[c])
            }
        return self._text_columns[file]

    def text(self, file: str) -> pd.DataFrame:
        """The table with every cell as text (the form row selectors compare)."""
        if file not in self._text:
            self._text[file] = self.tables[file].astype(str)
        return self._text[file]

    def numeric(self, file: str, column: str) -> np.ndarray:
        key = (file, column)
        if key not in self._numeric:
            series = self.tables[file][column]
            self._numeric[key] = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
        return self._numeric[key]


def read_table(file: Path) -> pd.DataFrame:
    """A result (CSV) or processed (parquet) table as the pages read it."""
    return pd.read_parquet(file) if file.suffix == ".parquet" else pd.read_csv(file)


def _numeric_columns(frame: pd.DataFrame) -> list[str]:
    return [
        str(c)
        for c in frame.columns
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]


def row_selector(
    frame: pd.DataFrame, row: int, as_text: pd.DataFrame | None = None, exclude: str = ""
) -> dict[str, Any]:
    """The fewest key columns whose values pick out ``row`` alone: text columns in table
    order, then numeric columns with at most 20 distinct values (a grid: alpha, total);
    the row number (``_row``, from 1) when no combination does."""
    text = [
        str(c)
        for c in frame.columns
        if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])
    ]
    # (not the column read: a value cannot be the key of its own row)
    grid = [
        str(c)
        for c in frame.columns
        if str(c) not in text and str(c) != exclude and frame[c].nunique() <= 20
    ]
    selector: dict[str, Any] = {}
    mask = np.ones(len(frame), dtype=bool)
    as_text = frame.astype(str) if as_text is None else as_text
    for column in [*text, *grid]:
        value = as_text[column].iloc[row]
        narrowed = mask & (as_text[column] == value).to_numpy()
        if narrowed.sum() < mask.sum():
            selector[column] = value
            mask = narrowed
        if mask.sum() == 1:
            return selector
    return {"_row": row + 1}


def select(frame: pd.DataFrame, selector: Mapping[str, Any]) -> pd.DataFrame:
    """The rows of ``frame`` that ``selector`` names (see :func:`row_selector`)."""
    if "_row" in selector:
        return frame.iloc[[int(selector["_row"]) - 1]]
    mask = np.ones(len(frame), dtype=bool)
    as_text = frame.astype(str)
    for column, value in selector.items():
        mask &= (as_text[column] == str(value)).to_numpy()
    return frame[mask]


#: Abbreviations of glue keys, in the words the result files use.
ALIASES = {
    "irr": ("incidence", "rate", "ratio"),
    "perm": ("permutation",),
    "mcse": ("monte", "carlo", "se"),
    "loo": ("leave", "one", "out"),
    "ct": ("cameron", "trivedi"),
    "lr": ("lr",),
    "ame": ("average", "marginal", "effect", "estimate"),
    "or": ("odds", "ratio", "estimate"),
    "rr": ("rate", "ratio", "estimate"),
    "low": ("conf", "lower"),
    "high": ("conf", "upper"),
    "mv": ("multiverse",),
    "cn": ("crossnational",),
    "iv": ("interview",),
    "youth": ("youth", "unemployment"),
    "n": ("n",),
}


def _key_words(key: str) -> set[str]:
    words = set(re.split(r"[^a-z0-9]+", key.lower())) - {""}
    for word in list(words):
        words.update(ALIASES.get(word, ()))
    return words


def _trusted(value: float, score: int) -> bool:
    """A match is trusted when a word of the key names it, or when the value itself is
    distinctive (not a whole number, at least 5 significant digits): a count such as 5
    or a round share such as 0.5 is found in many places by chance."""
    if score > 0:
        return True
    if float(value).is_integer():
        return False
    digits = f"{abs(value):.15g}".replace(".", "").lstrip("0").rstrip("0")
    return len(digits) >= 5


@dataclass
class _Cells:
    """Every numeric cell and aggregate of an index, sorted by value (binary search)."""

    values: np.ndarray
    #: file, column (a JSON path for a document), row (-1 aggregate, -2 document), operation
    places: list[tuple[str, str, int, str]]


def _cells(index: SourceIndex) -> _Cells:
    if not isinstance(index._cells, _Cells):
        values: list[np.ndarray] = []
        places: list[tuple[str, str, int, str]] = []
        for file, document in index.documents.items():
            for path, item in document.items():
                number = _number(item)
                if number is not None:
                    values.append(np.array([number]))
                    places.append((file, path, -2, "document"))
        for file, frame in index.tables.items():
            for column in _numeric_columns(frame):
                array = index.numeric(file, column)
                keep = np.flatnonzero(np.isfinite(array))
                values.append(array[keep])
                places += [(file, column, int(row), "value") for row in keep]
            for number, column in enumerate(str(c) for c in frame.columns):
                for operation in AGGREGATES:
                    if operation == "rows" and number:
                        continue  # the table's rows: once, not once per column
                    try:
                        result = aggregate(frame, column, operation)
                    except (TypeError, ValueError):
                        continue
                    values.append(np.array([result]))
                    places.append((file, column, -1, operation))
        flat = np.concatenate(values) if values else np.array([], dtype=float)
        order = np.argsort(flat, kind="stable")
        index._cells = _Cells(flat[order], [places[i] for i in order])
    cells: _Cells = index._cells
    return cells


def _row_words(index: SourceIndex, file: str, row: int) -> list[str]:
    return [cells[row] for cells in index.text_columns(file).values()]


def _cell(file: str, column: str, row: int, scale: int) -> dict[str, Any]:
    """A cell's record before its row selector is worked out (only the chosen one's is)."""
    return {"kind": "cell", "file": file, "_at": row, "column": column, "scale": scale}


def _candidates(
    key: str, value: Any, index: SourceIndex
) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """(rank, make_record) of every trusted place ``value`` is found; lowest rank best.
    The rank: more key words matched, a document before a cell before an aggregate, a
    value unique in its column, a table with fewer text columns (the canonical one)."""
    wanted = _key_words(key)

    def score(*parts: Any) -> int:
        return len(wanted & set().union(*(_words(p) for p in parts)))

    found: list[tuple[tuple[Any, ...], Any]] = []
    number = _number(value)
    if number is None:
        # a label (a municipality, a verdict) or a flag read from a document or a cell
        if isinstance(value, str) and len(value) > _LABEL_LENGTH:
            return []
        for file, document in index.documents.items():
            for path, item in document.items():
                if type(item) is type(value) and item == value and score(path):
                    record = {"kind": "document", "file": file, "path": path, "scale": 1}
                    found.append(((-score(path), 0, 0, 0, 0), record))
        if isinstance(value, str):
            for file in index.tables:
                for column, cells in index.text_columns(file).items():
                    rows = np.flatnonzero(cells == value)
                    if not 0 < len(rows) <= 20:
                        continue
                    for row in (int(r) for r in rows):
                        named = score(column)
                        points = score(file, column, *_row_words(index, file, row))
                        if not points:
                            continue
                        rank = (-named, -points, 1, len(rows) > 1, len(index.text_columns(file)))
                        found.append((rank, _cell(file, column, row, 1)))
        return found
    table = _cells(index)
    whole = float(number).is_integer()
    for scale in SCALES:
        target = number / scale
        # A glued value is the float read from the file (exact), or that float times a
        # scale (equal to the last bits): a relative 1e-12 tells them from any neighbour.
        tolerance = abs(target) * 1e-12
        low = np.searchsorted(table.values, target - tolerance, side="left")
        high = np.searchsorted(table.values, target + tolerance, side="right")
        places = [table.places[i] for i in range(low, high)]
        per_column: dict[tuple[str, str], int] = {}
        for file, column, _row, _ in places:
            per_column[(file, column)] = per_column.get((file, column), 0) + 1
        for file, column, row, operation in places:
            # a whole number (a count) is trusted only where its column or entry is
            # named by the key: 5 is in many places by chance
            named = score(column.rsplit(".", 1)[-1] if row == -2 else column)
            if whole and not named:
                continue
            if row == -2:
                points = score(column)
                if _trusted(number, points):
                    record = {"kind": "document", "file": file, "path": column, "scale": scale}
                    found.append(((-named, -points, 0, 0, 0), record))
                continue
            if row == -1:
                points = score(file, column, operation)
                if scale != 1 or not _trusted(number, points):
                    continue
                record = {
                    "kind": "aggregate",
                    "file": file,
                    "selector": {},
                    "column": column,
                    "operation": operation,
                    "scale": 1,
                }
                found.append(((-named, -points, 3, 0, 0), record))
                continue
            if per_column[(file, column)] > 20:
                continue  # a value repeated in many rows names no row
            points = score(file, column, *_row_words(index, file, row))
            if not _trusted(number, points):
                continue

            unique = per_column[(file, column)] > 1
            rank = (-named, -points, 1, unique, len(index.text_columns(file)))
            found.append((rank, _cell(file, column, row, scale)))
        if found:
            return found
    return found


def aggregate(frame: pd.DataFrame, column: str, operation: str) -> float:
    """``operation`` (see :data:`AGGREGATES`) over ``frame[column]``."""
    if operation == "rows":
        return float(len(frame))
    if operation == "nunique":
        return float(frame[column].nunique())
    series = frame[column]
    if not pd.api.types.is_numeric_dtype(series):
        raise TypeError(column)
    result = float(getattr(series, operation)())
    if not math.isfinite(result):
        raise ValueError(column)
    return result


def locate(key: str, value: Any, index: SourceIndex | None) -> dict[str, Any]:
    """The record of one glued value: where it was read (see the module docstring)."""
    raw = _json_value(value)
    found = _candidates(key, value, index) if index is not None else []
    if not found:
        long_text = isinstance(value, str) and len(value) > _LABEL_LENGTH
        return {"key": key, "value": raw, "kind": "text" if long_text else "computed"}
    found.sort(key=lambda item: item[0])
    best_rank, best = found[0]
    ties = sum(1 for rank, _ in found if rank == best_rank)
    best = dict(best)
    if "_at" in best and index is not None:
        row = best.pop("_at")
        file = best["file"]
        best["selector"] = row_selector(
            index.tables[file], row, index.text(file), exclude=best["column"]
        )
    return {"key": key, "value": raw, **best, "candidates": ties}


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


def recompute(record: Mapping[str, Any], root: Path) -> Any:
    """The value the record names, read again from its file (times its scale)."""
    kind = record["kind"]
    if kind not in {"document", "cell", "aggregate"}:
        raise ValueError(f"A {kind} record names no file to read {record['key']!r} from.")
    file = root / record["file"]
    scale = record.get("scale", 1)
    if kind == "document":
        value = dict(flatten(json.loads(file.read_text("utf-8"))))[record["path"]]
    elif kind == "aggregate":
        value = aggregate(read_table(file), record["column"], record["operation"])
    else:
        rows = select(read_table(file), record["selector"])
        if len(rows) != 1:
            raise ValueError(f"{record['file']}: {len(rows)} rows match {record['selector']}.")
        value = rows[record["column"]].iloc[0]
        value = value.item() if isinstance(value, np.generic) else value
    number = _number(value)
    return number * scale if number is not None and scale != 1 else value


# --- the stage part of the chain ----------------------------------------------------------


def _sha256_json(value: Any) -> str:
    import hashlib

    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def writer_of(file: str, paths: ProjectPaths) -> dict[str, Any] | None:
    """The manifest of the stage run that wrote ``file`` (relative path), or None."""
    for manifest_file in sorted(paths.manifests.glob("*.json")):
        try:
            manifest = json.loads(manifest_file.read_text("utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(manifest, dict) and file in manifest.get("outputs", {}):
            return manifest
    return None


def chain(record: Mapping[str, Any], paths: ProjectPaths) -> dict[str, Any]:
    """The whole chain of one record: where it was read, the stage run that wrote that
    file (its manifest), the sha256 of that run's inputs (of the sorted input digests,
    restricted inputs by name only), its parameters and the commit."""
    out: dict[str, Any] = {"key": record["key"], "value": record["value"], "kind": record["kind"]}
    names = (
        "file",
        "path",
        "selector",
        "column",
        "operation",
        "scale",
        "candidates",
        "produced_by",
    )
    for name in names:
        if name in record:
            out[name] = record[name]
    manifest = writer_of(str(record["file"]), paths) if "file" in record else None
    if manifest is not None:
        inputs = {
            # the restricted file's plain sha256 is never published (replication.record)
            name: ("restricted" if name.startswith("data/raw/restricted/") else digest)
            for name, digest in manifest.get("inputs", {}).items()
        }
        out.update(
            {
                "stage": manifest.get("stage"),
                "manifest": f"{paths.manifests.relative_to(paths.root).as_posix()}/"
                f"{manifest.get('stage')}.json",
                "finished_utc": manifest.get("finished_utc"),
                "inputs": len(inputs),
                "inputs_sha256": _sha256_json(inputs),
                "file_sha256": manifest.get("outputs", {}).get(record["file"]),
                "parameters": manifest.get("parameters", {}),
                "parameters_sha256": manifest.get("parameters_sha256"),
                "code_fingerprint": manifest.get("code_fingerprint"),
                "commit": manifest.get("git_commit"),
            }
        )
    return out


def where_text(record: Mapping[str, Any]) -> str:
    """Where the value was read, in words: "municipal_coefficients.csv, row family = nb2,
    term = ..., column incidence_rate_ratio"."""
    kind = record.get("kind")
    if kind == "text":
        by = record.get("produced_by") or "kosovo_study.report"
        return f"a sentence composed by {by} from results (no single row)"
    if kind == "computed":
        by = record.get("produced_by") or "kosovo_study.report"
        return f"computed by {by} from several values of the page's data (no single row)"
    scale = record.get("scale", 1)
    times = f" x {scale}" if scale != 1 else ""
    if kind == "document":
        return f"{record['file']}, entry {record['path']}{times}"
    if kind == "aggregate":
        return f"{record['file']}, {record['operation']} of column {record['column']}{times}"
    selector = record.get("selector", {})
    row = (
        f"row {selector['_row']}"
        if "_row" in selector
        else "row " + ", ".join(f"{k} = {v}" for k, v in selector.items())
    )
    return f"{record['file']}, {row}, column {record['column']}{times}"


def _when(stamp: Any) -> str:
    """ "7 December 2026, 19:50 UTC": an ISO time stamp in words (digit runs such as
    2026-12-07T19:50 are what the book's PII guard reads as personal numbers)."""
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return "an unrecorded time"
    return f"{moment.day} {moment:%B %Y}, {moment:%H:%M} UTC"


def _value_text(value: Any, short: bool) -> str:
    # In the HTML, 6 significant digits: a full-precision value (21853.70776) is a digit
    # run the book's PII guard cannot tell from a personal number.
    if short and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.6g}"
    return repr(value)


def chain_lines(full: Mapping[str, Any], short: bool = False) -> list[tuple[str, str]]:
    """(label, text) lines of a chain, as ``why`` prints them (``short``: the popover,
    the value to 6 significant digits)."""
    lines = [("Value", _value_text(full["value"], short)), ("Read from", where_text(full))]
    if full.get("candidates", 1) > 1:
        lines.append(("Note", f"{full['candidates']} places hold this value; the closest named"))
    if "stage" in full:
        parameters = full.get("parameters") or {}
        shown = "; ".join(f"{k} = {_plain(v)}" for k, v in sorted(parameters.items())) or "none"
        lines += [
            (
                "Written by",
                (
                    f"the {full['stage']} stage, run on {_when(full.get('finished_utc'))} "
                    f"(manifest {full['manifest']})"
                ),
            ),
            ("File sha256", str(full.get("file_sha256"))),
            ("Inputs", f"{full['inputs']} files, sha256 of their digests {full['inputs_sha256']}"),
            ("Parameters", f"{shown} (sha256 {full.get('parameters_sha256')})"),
            ("Commit", str(full.get("commit") or "unknown")),
        ]
    return lines


# --- reading the records back from the executed pages ----------------------------------


def glued_outputs(paths: ProjectPaths) -> dict[str, dict[str, dict[str, Any]]]:
    """page -> glue key -> ``{"data": mime bundle, "record": record or None}`` of every
    glued value of the executed pages (figures and their link lines left out)."""
    from jupyter_cache import get_cache

    cache_dir = paths.book_build / ".jupyter_cache"
    if not cache_dir.is_dir():
        return {}
    cache = get_cache(str(cache_dir))
    pages: dict[str, dict[str, dict[str, Any]]] = {}
    for entry in sorted(cache.list_cache_records(), key=lambda r: r.created):
        glued: dict[str, dict[str, Any]] = {}
        for cell in cache.get_cache_bundle(entry.pk).nb.cells:
            for output in cell.get("outputs", []):
                metadata = output.get("metadata", {})
                name = metadata.get("scrapbook", {}).get("name")
                prefix = metadata.get("scrapbook", {}).get("mime_prefix", "")
                data = {m.removeprefix(prefix): v for m, v in output.get("data", {}).items()}
                if not name or name.endswith("-links"):
                    continue
                if any(mime.startswith("image/") for mime in data):
                    continue  # a figure: its data and code are linked under it
                glued[name] = {"data": data, "record": metadata.get(RECORD_KEY)}
        pages[Path(entry.uri).stem] = glued
    return pages


def missing_records(pages: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> list[str]:
    """``page:key`` of every glued value without a record."""
    return [
        f"{page}:{key}"
        for page, glued in sorted(pages.items())
        for key, item in sorted(glued.items())
        if not item.get("record")
    ]


def display_formats(book: Path) -> dict[str, set[str]]:
    """glue key -> the formats the pages print it with (``{glue:text}`key:.2f```)."""
    formats: dict[str, set[str]] = {}
    for page in sorted(book.glob("*.md")):
        for found in _GLUE_TEXT.findall(page.read_text(encoding="utf-8")):
            # as myst-nb reads the role: "key:spec", or "key" printed as text ("s")
            key, spec = found.rsplit(":", 1) if ":" in found else (found, "s")
            formats.setdefault(key, set()).add(spec)
    return formats


def build_glue_record(paths: ProjectPaths) -> dict[str, Any]:
    """Every glued key with its pages, raw value, display formats and whole chain."""
    formats = display_formats(paths.book)
    keys: dict[str, dict[str, Any]] = {}
    for page, glued in sorted(glued_outputs(paths).items()):
        for key, item in sorted(glued.items()):
            record = item["record"]
            entry = keys.setdefault(key, {"pages": [], "formats": sorted(formats.get(key, ()))})
            entry["pages"].append(page)
            if record:
                entry["chain"] = chain(record, paths)
    return {"format": FORMAT, "keys": dict(sorted(keys.items()))}


def write_glue_record(paths: ProjectPaths, target: Path) -> Path:
    from kosovo_study.storage import write_text_atomic

    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(build_glue_record(paths), indent=1, default=str) + "\n"
    write_text_atomic(target, text)
    return target


def record_file(paths: ProjectPaths) -> Path:
    return paths.book_build / "html" / "_static" / RECORD_FILE


def load_glue_record(paths: ProjectPaths) -> dict[str, Any]:
    """The glue record of the last book build (``_static/glue_record.json``), or, when the
    HTML is not there, the one read from the execution cache."""
    from kosovo_study.errors import KosovoStudyError

    written = record_file(paths)
    if written.is_file():
        loaded: dict[str, Any] = json.loads(written.read_text("utf-8"))
        return loaded
    built = build_glue_record(paths)
    if not built["keys"]:
        raise KosovoStudyError(
            "No glued numbers found: build the book first (`kosovo-study report`, or "
            "`kosovo-study book`)."
        )
    return built


def key_list(paths: ProjectPaths) -> list[tuple[str, str]]:
    """(key, where it was read) of every glued key."""
    keys = load_glue_record(paths)["keys"]
    return [
        (key, where_text(entry["chain"]) if "chain" in entry else "no source record")
        for key, entry in keys.items()
    ]


def why_text(key: str, paths: ProjectPaths) -> str:
    """The source chain of ``key`` as ``kosovo-study why`` prints it; an unknown key is
    an error naming the nearest keys."""
    import difflib

    from kosovo_study.errors import KosovoStudyError

    keys = load_glue_record(paths)["keys"]
    if key not in keys:
        near = difflib.get_close_matches(key, list(keys), n=6, cutoff=0.5)
        hint = f" Did you mean {', '.join(near)}?" if near else ""
        raise KosovoStudyError(
            f"The book glues no number named {key!r}.{hint} `kosovo-study why --list` "
            "lists every key."
        )
    entry = keys[key]
    if "chain" not in entry:
        raise KosovoStudyError(
            f"{key!r} has no source record: it was glued outside "
            "kosovo_study.report.book.glue_numbers."
        )
    full = {**entry["chain"], **_current_chain(entry["chain"], paths)}
    lines = [f"{key} (pages: {', '.join(entry['pages'])}; shown as {entry['formats'] or 'text'})"]
    width = max(len(label) for label, _ in chain_lines(full))
    lines += [f"  {label:<{width}}  {text}" for label, text in chain_lines(full)]
    return "\n".join(lines)


def _current_chain(recorded: Mapping[str, Any], paths: ProjectPaths) -> dict[str, Any]:
    """The stage part of the chain read again from today's manifests (the book may be
    older than the last run), so ``why`` names the run that wrote the file now."""
    if "file" not in recorded:
        return {}
    return {k: v for k, v in chain(recorded, paths).items() if k not in {"key", "value"}}


def _plain(value: Any) -> str:
    """A parameter as a reader reads it: a nested setting as "key value, ..." and a list
    as its items, never a Python repr (the grid of the multiverse is a dict of lists)."""
    if isinstance(value, dict):
        return "(" + ", ".join(f"{k} {_plain(v)}" for k, v in sorted(value.items())) + ")"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    return str(value)
