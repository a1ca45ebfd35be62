"""``kosovo-study interviews import PATH``: an export in, pseudonymised tables out.

Outputs in ``data/processed/`` (pandera-validated, atomic): ``interview_segments``
(redacted text, pseudonymised respondents), ``interview_respondents`` (respondent x
code presence and counts, plus attributes), ``interview_cooccurrence`` (respondents
sharing each pair of codes), ``interview_reliability`` and ``interview_import_problems``.
The PII guard then scans every written file and fails if an identifier survived.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandera.pandas import Check, Column

from kosovo_study.interviews.importers import Export, read_export
from kosovo_study.interviews.privacy import guard, pseudonym_key, pseudonymise, redact
from kosovo_study.interviews.reliability import agreement
from kosovo_study.paths import ProjectPaths, project_paths
from kosovo_study.storage import write_table
from kosovo_study.validation import check

SEGMENTS = pa.DataFrameSchema(
    {
        "document": Column(str),
        "respondent": Column(str, Check.str_matches(r"^R[0-9a-f]{16}$")),
        "code": Column(str, nullable=True),
        "code_exported": Column(str),
        "segment_text": Column(str),
        "coder": Column(str),
        "synthetic": Column(bool),
    },
    strict=True,
    name="interview_segments",
)
RESPONDENTS = pa.DataFrameSchema(
    {"respondent": Column(str, Check.str_matches(r"^R[0-9a-f]{16}$"), unique=True)},
    strict=False,
    name="interview_respondents",
)
COOCCURRENCE = pa.DataFrameSchema(
    {
        "code_a": Column(str),
        "code_b": Column(str),
        "respondents": Column(int, Check.ge(0)),
    },
    strict=False,
    name="interview_cooccurrence",
)

RELIABILITY = pa.DataFrameSchema(
    {
        "code": Column(str),
        "units": Column(int, Check.ge(0)),
        "coders": Column(int, Check.ge(0)),
        "krippendorff_alpha": Column(float, Check.le(1), nullable=True),
        "cohen_kappa": Column(float, Check.le(1), nullable=True),
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


def tables_from_export(export: Export, key: str, synthetic: bool) -> dict[str, pd.DataFrame]:
    """Pseudonymise, redact and summarise one export (in memory)."""
    names = export.person_names
    segments = export.segments.copy()
    raw_ids = sorted(set(segments["respondent"]) | set(export.respondents.get("respondent", [])))
    segments["respondent"] = [pseudonymise(r, key) for r in segments["respondent"]]
    segments["segment_text"] = [redact(str(t), names) for t in segments["segment_text"]]
    segments["document"] = [pseudonymise(d, key).replace("R", "D", 1) for d in segments["document"]]
    segments["coder"] = [pseudonymise(c, key).replace("R", "C", 1) for c in segments["coder"]]
    segments["synthetic"] = synthetic
    segments = segments[list(SEGMENTS.columns)]
    coded = segments.dropna(subset=["code"])
    counts = coded.pivot_table(
        index="respondent", columns="code", values="document", aggfunc="size", fill_value=0
    )
    respondents = (counts > 0).astype(int).add_prefix("has_").join(counts.add_prefix("n_"))
    respondents = respondents.reset_index()
    if not export.respondents.empty:
        attributes = export.respondents.copy()
        attributes["respondent"] = [pseudonymise(r, key) for r in attributes["respondent"]]
        respondents = attributes.merge(respondents, on="respondent", how="left").fillna(0)
    respondents["synthetic"] = synthetic
    presence = counts > 0
    pairs = [
        {"code_a": a, "code_b": b, "respondents": int((presence[a] & presence[b]).sum())}
        for a, b in itertools.combinations(sorted(presence.columns), 2)
    ]
    cooccurrence = pd.DataFrame(pairs, columns=["code_a", "code_b", "respondents"])
    cooccurrence["synthetic"] = synthetic
    reliability = agreement(segments)
    reliability["synthetic"] = synthetic
    problems = pd.DataFrame(export.problems, columns=["place", "kind", "detail"]).astype(object)
    problems["detail"] = [redact(d, names) for d in problems["detail"]]
    return {
        "interview_segments": check(segments, SEGMENTS, file="interview_segments"),
        "interview_respondents": check(respondents, RESPONDENTS, file="interview_respondents"),
        "interview_cooccurrence": check(cooccurrence, COOCCURRENCE, file="interview_cooccurrence"),
        "interview_reliability": check(reliability, RELIABILITY, file="interview_reliability"),
        "interview_import_problems": check(problems, PROBLEMS, file="interview_import_problems"),
        "_raw_ids": pd.DataFrame({"id": raw_ids}),
    }


def import_interviews(
    path: Path, paths: ProjectPaths | None = None, synthetic: bool = False
) -> dict[str, pd.DataFrame]:
    """Read an export, write the pseudonymised tables, and run the PII guard on them."""
    paths = paths or project_paths()
    key = pseudonym_key(synthetic)
    export = read_export(Path(path))
    tables = tables_from_export(export, key, synthetic)
    raw_ids = tables.pop("_raw_ids")["id"].tolist()
    written: list[Path] = []
    for name, table in tables.items():
        written += write_table(table, paths.processed, name)
    guard([p for p in written if p.suffix == ".csv"], raw_ids, export.person_names)
    return tables
