"""``kosovo-study interviews import PATH``: an export in, pseudonymised tables out.

Outputs in ``data/processed/`` (pandera-validated): ``interview_segments`` (redacted
text, pseudonymised respondents, documents and coders), ``interview_respondents``
(respondent x code presence and counts, plus the codebook's attributes),
``interview_cooccurrence`` (respondents sharing each pair of codes),
``interview_reliability`` and ``interview_import_problems``.

Order of work, so that an identifier can never reach the disk:

1. read the export (:mod:`kosovo_study.interviews.importers`);
2. validate respondent attributes against the codebook: values are matched without
   case or diacritics ("Yes" is "yes"), anything else is a located error; the
   municipality goes through the register (``normalise_municipality``) and becomes
   ``municipality_id``; attributes the codebook does not define are not published
   (their content is unvetted free text) and are listed as import problems;
3. pseudonymise and redact every published text cell, escape cells that a
   spreadsheet would run as a formula, and validate every table;
4. run the PII guard on the tables in memory; if it finds anything, stop: nothing
   has been written;
5. only then write, holding the interviews lock (:func:`interviews_lock`).

CSV formula injection: a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return is written with a leading apostrophe (``'=1+1``) in both the CSV
and the Parquet file, so that a spreadsheet shows it as text and never runs it (OWASP,
"CSV Injection").
"""

from __future__ import annotations

import itertools
import re
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import filelock
import pandas as pd
import pandera.pandas as pa
from pandera.pandas import Check, Column

from kosovo_study.errors import KosovoStudyError, MunicipalityNameError, listed
from kosovo_study.interviews import disclosure, quarantine
from kosovo_study.interviews.codebook import load_codebook
from kosovo_study.interviews.importers import ArchiveLimits, Export, read_export
from kosovo_study.interviews.privacy import (
    Needles,
    guard_tables,
    pseudonym_key,
    pseudonymise,
    redact,
)
from kosovo_study.interviews.reliability import agreement
from kosovo_study.municipalities import load_register, name_key
from kosovo_study.paths import ProjectPaths, project_paths
from kosovo_study.schemas import REGISTER_SIZE
from kosovo_study.storage import atomic_path, sha256_file
from kosovo_study.tablefile import check

PSEUDONYM = r"^[RDC][0-9a-f]{16}$"
SEGMENTS = pa.DataFrameSchema(
    {
        "document": Column(str, Check.str_matches(PSEUDONYM)),
        "respondent": Column(str, Check.str_matches(PSEUDONYM)),
        "code": Column(str, nullable=True),
        "code_exported": Column(str),
        "segment_text": Column(str),
        "coder": Column(str, Check.str_matches(PSEUDONYM)),
        "synthetic": Column(bool),
    },
    strict=True,
    name="interview_segments",
)
RESPONDENTS = pa.DataFrameSchema(
    {
        "respondent": Column(str, Check.str_matches(PSEUDONYM), unique=True),
        "municipality_id": Column(
            "Int64", Check.in_range(1, REGISTER_SIZE), nullable=True, required=False
        ),
        "synthetic": Column(bool),
    },
    strict=False,
    name="interview_respondents",
)
COOCCURRENCE = pa.DataFrameSchema(
    {
        "code_a": Column(str),
        "code_b": Column(str),
        "respondents": Column(int, Check.ge(0)),
        "synthetic": Column(bool),
    },
    strict=True,
    coerce=True,
    name="interview_cooccurrence",
)
RELIABILITY = pa.DataFrameSchema(
    {
        "code": Column(str),
        "units": Column(int, Check.ge(0)),
        "coders": Column(int, Check.ge(0)),
        "krippendorff_alpha": Column(float, Check.le(1), nullable=True),
        "cohen_kappa": Column(float, Check.le(1), nullable=True),
        "status": Column(str, Check.str_matches(r"^(computed|not computable \(.+\))$")),
        "synthetic": Column(bool),
    },
    strict=True,
    coerce=True,
    name="interview_reliability",
)
PROBLEMS = pa.DataFrameSchema(
    {"place": Column(str), "kind": Column(str), "detail": Column(str)},
    strict=True,
    coerce=True,
    name="interview_import_problems",
)
DISCLOSURE_RISK = pa.DataFrameSchema(
    {"measure": Column(str), "value": Column(str), "synthetic": Column(bool)},
    strict=True,
    coerce=True,
    name="interview_disclosure_risk",
)
TABLES = (
    "interview_segments",
    "interview_respondents",
    "interview_cooccurrence",
    "interview_reliability",
    "interview_import_problems",
    "interview_disclosure_risk",
)


class ImportedTables(dict[str, pd.DataFrame]):
    """The published tables, and the respondent table *before* k-anonymisation, which
    only the interviewee-level model reads (in memory; it is never written)."""

    model_input: pd.DataFrame


#: Columns that hold keyed pseudonyms (hashes), not text: the guard skips them.
PSEUDONYM_COLUMNS = {
    "interview_segments": ("respondent", "document", "coder"),
    "interview_respondents": ("respondent",),
}

_FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: object) -> object:
    """``'`` before a text cell that a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_LEAD):
        return "'" + value
    return value


def _escape_table(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    for column in out.columns:
        if pd.api.types.is_object_dtype(out[column]) or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(escape_formula, na_action="ignore")
    return out


def validate_attributes(export: Export) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """Respondent attributes checked against the codebook (located errors), with
    ``municipality_id`` from the register; problems for attributes not published."""
    table = export.respondents.copy()
    if table.empty:
        return pd.DataFrame({"respondent": pd.Series([], dtype=str)}), []
    codebook = load_codebook()
    allowed: dict[str, list[str]] = {
        "group": list(codebook.respondent_groups),
        **{k: list(v) for k, v in codebook.attributes.items() if isinstance(v, list)},
    }
    problems: list[dict[str, str]] = []
    errors: list[str] = []
    out = pd.DataFrame({"respondent": table["respondent"].astype(str)})
    places = [export.attribute_places.get(str(r), "the export") for r in table["respondent"]]
    for column in table.columns:
        if column == "respondent":
            continue
        values = [
            None if pd.isna(v) or not str(v).strip() else str(v).strip() for v in table[column]
        ]
        if column == "municipality":
            register = load_register()
            ids: list[int | None] = []
            names: list[str | None] = []
            resolved: dict[str, int] = {}
            for place, value in zip(places, values, strict=True):
                if value is None:
                    ids.append(None)
                    names.append(None)
                    continue
                try:
                    municipality_id = resolved.get(value) or register.normalise(value)
                    resolved[value] = municipality_id
                except MunicipalityNameError:
                    # The value is not echoed: an attribute may hold anything (a phone
                    # number typed into the wrong field), and messages reach logs.
                    errors.append(
                        f"{place}: municipality is not a name the municipality register "
                        "knows (value not shown)"
                    )
                    ids.append(None)
                    names.append(None)
                    continue
                ids.append(municipality_id)
                names.append(register.by_id(municipality_id).name_sq)
            out["municipality"] = pd.Series(names, dtype="str")
            out["municipality_id"] = pd.array(ids, dtype="Int64")
        elif column in allowed:
            vocabulary = {name_key(v): v for v in allowed[column]}
            keys = {v: name_key(v) for v in set(values) if v is not None}
            checked: list[str | None] = []
            for place, value in zip(places, values, strict=True):
                if value is None:
                    checked.append(None)
                elif keys[value] in vocabulary:
                    checked.append(vocabulary[keys[value]])
                else:
                    errors.append(
                        f"{place}: {column} is not one of {allowed[column]} (value not shown)"
                    )
                    checked.append(None)
            out[column] = pd.Series(checked, dtype="str")
        else:
            problems.append(
                {
                    "place": "the export",
                    "kind": "attribute not published",
                    "detail": f"attribute {column!r} is not in codebook {codebook.version}; "
                    "its values were not published",
                }
            )
    if errors:
        raise KosovoStudyError(
            f"Respondent attributes that the codebook does not allow: {listed(errors)}. Correct "
            "them in the QDA project (the codebook is src/kosovo_study/interviews/"
            "codebook.yaml) and export again."
        )
    return out, problems


def tables_from_export(export: Export, key: str | bytes, synthetic: bool) -> ImportedTables:
    """Pseudonymise, redact, summarise and check one export, in memory."""
    names = export.person_names
    segments = export.segments.copy()
    raw_ids = sorted(
        {str(v) for v in segments["respondent"]}
        | {str(v) for v in export.respondents.get("respondent", [])}
        | {str(v) for v in segments["document"]}
    )

    # Raw ids and document names are replaced wherever they occur in text too (a
    # transcript may quote its own file name or the respondent's code).
    needles = Needles(raw_ids)

    def clean(text: object) -> str:
        return needles.redact(redact(str(text), names))

    segments["respondent"] = [pseudonymise(str(r), key) for r in segments["respondent"]]
    segments["segment_text"] = [clean(t) for t in segments["segment_text"]]
    segments["code_exported"] = [clean(c) for c in segments["code_exported"]]
    segments["document"] = ["D" + pseudonymise(str(d), key)[1:] for d in segments["document"]]
    segments["coder"] = ["C" + pseudonymise(str(c), key)[1:] for c in segments["coder"]]
    segments["synthetic"] = synthetic
    segments = segments.reindex(columns=list(SEGMENTS.columns))
    for column in ("document", "respondent", "code_exported", "segment_text", "coder"):
        segments[column] = segments[column].astype(str)
    segments["code"] = segments["code"].astype("str")
    segments.loc[export.segments["code"].isna().to_numpy(), "code"] = None
    segments["synthetic"] = segments["synthetic"].astype(bool)

    coded = segments.dropna(subset=["code"])
    counts = coded.pivot_table(
        index="respondent", columns="code", values="document", aggfunc="size", fill_value=0
    )
    respondents = (counts > 0).astype(int).add_prefix("has_").join(counts.add_prefix("n_"))
    respondents = respondents.reset_index()
    attributes, attribute_problems = validate_attributes(export)
    if len(attributes):
        attributes["respondent"] = [pseudonymise(r, key) for r in attributes["respondent"]]
        # outer: a respondent with attributes but no coded segment is kept, and so is
        # one with segments but no attributes (their attributes stay missing, not 0).
        respondents = attributes.merge(respondents, on="respondent", how="outer")
    if "respondent" not in respondents.columns:
        respondents = pd.DataFrame({"respondent": pd.Series([], dtype=str)})
    counted = [c for c in respondents.columns if c.startswith(("has_", "n_"))]
    respondents[counted] = respondents[counted].fillna(0).astype(int)
    respondents["synthetic"] = synthetic
    respondents = respondents.sort_values("respondent").reset_index(drop=True)
    model_input = respondents.copy()
    respondents, risk = disclosure.anonymise(respondents)
    risk["synthetic"] = synthetic

    presence = counts > 0
    pairs = [
        {"code_a": a, "code_b": b, "respondents": int((presence[a] & presence[b]).sum())}
        for a, b in itertools.combinations(sorted(presence.columns), 2)
    ]
    cooccurrence = pd.DataFrame(pairs, columns=["code_a", "code_b", "respondents"])
    cooccurrence["synthetic"] = synthetic
    reliability = agreement(segments)
    reliability["synthetic"] = synthetic
    problems = pd.DataFrame(
        [*export.problems, *attribute_problems], columns=["place", "kind", "detail"]
    ).astype(str)
    for column in ("place", "detail"):
        problems[column] = [clean(v) for v in problems[column]]
    tables = {
        "interview_segments": (segments, SEGMENTS),
        "interview_respondents": (respondents, RESPONDENTS),
        "interview_cooccurrence": (cooccurrence, COOCCURRENCE),
        "interview_reliability": (reliability, RELIABILITY),
        "interview_import_problems": (problems, PROBLEMS),
        "interview_disclosure_risk": (risk, DISCLOSURE_RISK),
    }
    checked = ImportedTables(
        {
            name: check(_escape_table(table), schema, file=name)
            for name, (table, schema) in tables.items()
        }
    )
    smallest = disclosure.smallest_class(checked["interview_respondents"])
    if smallest is not None and smallest < disclosure.K:  # the method guarantees it
        raise KosovoStudyError(
            f"interview_respondents is not {disclosure.K}-anonymous (smallest class "
            f"{smallest}); nothing was written. This is a bug: please report it."
        )
    checked.model_input = model_input
    # The guard: in memory, on every text cell and column name, before any write.
    guard_tables(checked, names, raw_ids, exempt=PSEUDONYM_COLUMNS)
    return checked


@contextmanager
def interviews_lock(paths: ProjectPaths, timeout: float = 600) -> Iterator[None]:
    """Hold the interviews lock (``data/processed/.interviews-import.lock``); one import at a time.

    The lock is the operating system's (``filelock``), so a killed run releases it.
    """
    paths.processed.mkdir(parents=True, exist_ok=True)
    lock = _LOCKS.setdefault(
        paths.processed.resolve(), filelock.FileLock(paths.processed / ".interviews-import.lock")
    )
    try:
        lock.acquire(timeout=timeout)
    except filelock.Timeout:
        raise KosovoStudyError(
            f"Another interviews import holds {lock.lock_file} for more than {timeout:.0f} s. "
            "Wait for it to finish and run the command again."
        ) from None
    try:
        yield
    finally:
        lock.release()


_LOCKS: dict[Path, filelock.FileLock] = {}


def remove_partial_files(paths: ProjectPaths) -> list[Path]:
    """Delete temporary files that a killed interviews run left behind."""
    removed = []
    for folder in (paths.processed, paths.results, paths.processed / "synthetic_interviews"):
        if folder.is_dir():
            for orphan in (
                *folder.glob(".interview_*.partial"),
                *folder.glob(".synthetic_interviews.*.partial"),
            ):
                orphan.unlink(missing_ok=True)
                removed.append(orphan)
    return removed


def write_tables(tables: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    """Write every table as CSV and Parquet: all temporary files first, then the renames,
    so that a failure while writing leaves the previous set of files whole."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with ExitStack() as stack:
        for name, table in tables.items():
            csv_target, parquet_target = folder / f"{name}.csv", folder / f"{name}.parquet"
            csv_temporary = stack.enter_context(_deferred(csv_target))
            table.to_csv(csv_temporary, index=False, lineterminator="\n", float_format="%.10g")
            parquet_temporary = stack.enter_context(_deferred(parquet_target))
            table.to_parquet(parquet_temporary, index=False)
            written += [csv_target, parquet_target]
    return written


@contextmanager
def _deferred(destination: Path) -> Iterator[Path]:
    with atomic_path(destination) as temporary:
        yield temporary


EXPORT_SUFFIXES = (".qdpx", ".csv", ".xlsx")


def adopt_export(source: Path, paths: ProjectPaths) -> Path:
    """The restricted copy of an export given on the command line.

    ``kosovo-study interviews import PATH`` keeps the export as
    ``data/raw/restricted/interviews.<ext>``: the stage manifest then records that
    neutral path and its sha256, never the file's own name or folder (which may be the
    interviewee's name), and ``report`` reruns the same export instead of silently
    replacing it with the synthetic study.  An export already in ``data/raw/restricted``
    is used where it is.  A different restricted export is never overwritten.
    """
    source = Path(source)
    if not source.is_file():
        return source  # read_export explains what is wrong
    restricted = paths.restricted.resolve()
    if source.resolve().is_relative_to(restricted):
        return source
    suffix = source.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        return source  # read_export names the supported types
    target = paths.restricted / f"interviews{suffix}"
    digest = sha256_file(source)
    for other in (paths.restricted / f"interviews{s}" for s in EXPORT_SUFFIXES):
        if other.is_file() and sha256_file(other) != digest:
            raise KosovoStudyError(
                f"{other} already holds another interview export. The import keeps its "
                f"export there as {target.name}, so that later runs use the same data; move "
                f"{other.name} out of data/raw/restricted (or import it instead) and run the "
                "import again."
            )
    if not target.is_file():
        with atomic_path(target) as temporary:
            shutil.copyfile(source, temporary)
    return target


def import_interviews(
    path: Path,
    paths: ProjectPaths | None = None,
    synthetic: bool = False,
    limits: ArchiveLimits | None = None,
) -> ImportedTables:
    """Read an export, check everything in memory, then write the pseudonymised tables.

    ``synthetic=True`` asserts that the export is the package's synthetic study; a file
    without the synthetic marker is then refused.  A real export always needs a key
    (see :mod:`kosovo_study.interviews.privacy`), whatever the flags.
    """
    paths = paths or project_paths()
    export = read_export(Path(path), limits=limits)
    if synthetic and not export.synthetic:
        raise KosovoStudyError(
            f"{path} is not marked as the package's synthetic study, so --synthetic is refused "
            "(it would pseudonymise real data with the public demo key and label it "
            "synthetic). Import it without --synthetic, with a key."
        )
    if export.synthetic and not all(
        re.fullmatch(r"SYN-\d{4,}", str(r)) for r in export.segments["respondent"]
    ):
        # The marker alone is not enough to drop the key: the generator's respondents
        # are SYN-0001, SYN-0002, ...; anything else is treated as real data.
        raise KosovoStudyError(
            f"{path} is marked as the package's synthetic study, but its respondent ids are "
            "not the generator's (SYN-0001, ...). Real data needs a key: remove the "
            "synthetic marker and import it with a key."
        )
    if export.segments.empty:
        contents = ", ".join(f"{n} {what}" for what, n in export.contents.items())
        raise KosovoStudyError(
            f"{path} holds no coded text segments ({contents or 'nothing'}). The package "
            "imports coded selections of text sources (REFI-QDA PlainTextSelection with a "
            "Coding, or rows of a segment table); codebooks alone, uncoded transcripts and "
            "codings of PDF, picture, audio or video sources are not supported. Code the "
            "transcripts and export again."
        )
    key = pseudonym_key(export.synthetic)
    tables = tables_from_export(export, key, export.synthetic)
    # Independent of the redaction rules: stops on any capitalised word nobody vouched for.
    quarantine.enforce(tables, paths)
    with interviews_lock(paths):
        remove_partial_files(paths)
        write_tables(tables, paths.processed)
    return tables
