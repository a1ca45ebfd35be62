"""The committed analysis plan (``analysis_plan.yaml`` at the project root).

The file has two parts: ``plan`` (the body: hypotheses, estimands, tests, alpha, the
multiplicity correction and the decision rule) and ``amendments`` (dated entries, the
first of which records the plan as committed).  The body's hash is the sha256 of its
canonical JSON (sorted keys, UTF-8, no spaces), so comments and layout do not count
but every value does.  A change to the body without a new amendment whose
``plan_sha256`` is the new hash is a silent edit: :func:`load_plan` refuses it.

Public API: :func:`load_plan`, :func:`plan_digest` (for manifests and the book),
:func:`label` (``primary``, ``secondary`` or ``exploratory`` for a term at a level),
:func:`amendments_table` (for the book), :func:`manifest_entry` (for stage manifests) and
:func:`body_sha256`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from kosovo_study.errors import ValidationError
from kosovo_study.paths import ProjectPaths, project_paths

PLAN_FILE = "analysis_plan.yaml"
Label = Literal["primary", "secondary", "exploratory"]
LEVELS = ("municipal", "crossnational", "cells", "multiverse")
_TOP_KEYS = {"plan", "amendments"}
_BODY_KEYS = {
    "title",
    "alpha",
    "multiplicity",
    "smallest_effect_of_interest",
    "decision_rule",
    "primary",
    "secondary",
    "exploratory_note",
    "caveats",
}
_PRIMARY_KEYS = {"id", "level", "term", "hypothesis", "estimand", "test", "data"}
_SECONDARY_KEYS = {"level", "term", "analysis"}
_AMENDMENT_KEYS = {"date", "reason", "plan_sha256"}
_DECISION_KEYS = {"support", "evidence_against", "inconclusive"}


@dataclass(frozen=True)
class Amendment:
    date: dt.date
    reason: str
    plan_sha256: str


@dataclass(frozen=True)
class AnalysisPlan:
    """The validated plan: ``body`` as read, plus its amendments (oldest first)."""

    body: dict[str, Any]
    amendments: tuple[Amendment, ...]
    path: Path

    @property
    def alpha(self) -> float:
        return float(self.body["alpha"])

    @property
    def sha256(self) -> str:
        return body_sha256(self.body)

    @property
    def date(self) -> dt.date:
        """Date of the latest amendment (the plan in force since then)."""
        return self.amendments[-1].date

    @property
    def primary_family(self) -> tuple[tuple[str, str], ...]:
        """(level, term) of each primary hypothesis: the family Holm corrects over."""
        return tuple((h["level"], h["term"]) for h in self.body["primary"])

    def label(self, term: str, level: str) -> Label:
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r}; one of {LEVELS}")
        if (level, term) in self.primary_family:
            return "primary"
        for entry in self.body["secondary"]:
            if entry["level"] == level and entry["term"] in {term, "any"}:
                return "secondary"
        return "exploratory"


def body_sha256(body: dict[str, Any]) -> str:
    """sha256 of the plan body as canonical JSON (sorted keys, UTF-8, compact)."""
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _fail(path: Path, where: str, problem: str, fix: str) -> ValidationError:
    return ValidationError(f"{path}, {where}: {problem}. {fix}")


def _keys(path: Path, where: str, found: dict[str, Any], expected: set[str]) -> None:
    missing, unknown = expected - set(found), set(found) - expected
    if missing or unknown:
        raise _fail(
            path,
            where,
            f"missing keys {sorted(missing)}, unknown keys {sorted(unknown)}",
            f"Use exactly the keys {sorted(expected)}",
        )


def _text(path: Path, where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, where, f"{value!r} is not a non-empty text", "Write the text")
    return value


def _validate_body(path: Path, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _fail(path, "plan", "not a mapping", "Restore the file from git")
    _keys(path, "plan", body, _BODY_KEYS)
    alpha = body["alpha"]
    if not isinstance(alpha, float) or not 0 < alpha < 1:
        raise _fail(path, "plan.alpha", f"{alpha!r} is not in (0, 1)", "Write e.g. 0.05")
    if body["multiplicity"].get("method") not in {"holm", "bonferroni", "romano_wolf"}:
        raise _fail(path, "plan.multiplicity.method", "unknown method", "Use holm")
    _keys(path, "plan.decision_rule", body["decision_rule"], _DECISION_KEYS)
    seen: set[tuple[str, str]] = set()
    ids: set[str] = set()
    for i, entry in enumerate(body["primary"]):
        where = f"plan.primary[{i}]"
        _keys(path, where, entry, _PRIMARY_KEYS)
        for key in _PRIMARY_KEYS:
            _text(path, f"{where}.{key}", entry[key])
        if entry["level"] not in LEVELS:
            raise _fail(path, where, f"level {entry['level']!r}", f"Use one of {LEVELS}")
        if entry["id"] in ids or (entry["level"], entry["term"]) in seen:
            raise _fail(path, where, "duplicate id or (level, term)", "Make each unique")
        ids.add(entry["id"])
        seen.add((entry["level"], entry["term"]))
    if not seen:
        raise _fail(path, "plan.primary", "no primary hypothesis", "Declare at least one")
    for i, entry in enumerate(body["secondary"]):
        where = f"plan.secondary[{i}]"
        _keys(path, where, entry, _SECONDARY_KEYS)
        if entry["level"] not in LEVELS:
            raise _fail(path, where, f"level {entry['level']!r}", f"Use one of {LEVELS}")
        if (entry["level"], entry["term"]) in seen and "alone" not in entry["analysis"]:
            # A primary term may reappear only in another analysis (e.g. fitted alone).
            raise _fail(path, where, "a primary term listed as secondary", "Remove it")
    return body


def _amendments(path: Path, raw: Any) -> tuple[Amendment, ...]:
    if not isinstance(raw, list) or not raw:
        raise _fail(path, "amendments", "no amendment", "Record the plan's first commit")
    out: list[Amendment] = []
    for i, entry in enumerate(raw):
        where = f"amendments[{i}]"
        _keys(path, where, entry, _AMENDMENT_KEYS)
        try:
            date = dt.date.fromisoformat(str(entry["date"]))
        except ValueError:
            raise _fail(path, where, f"date {entry['date']!r}", "Write YYYY-MM-DD") from None
        if out and date < out[-1].date:
            raise _fail(path, where, "dated before the previous amendment", "Append in order")
        out.append(Amendment(date, _text(path, where, entry["reason"]), str(entry["plan_sha256"])))
    return tuple(out)


def load_plan(path: Path | None = None, *, paths: ProjectPaths | None = None) -> AnalysisPlan:
    """Read and validate the plan; refuse a body that no amendment records."""
    path = path or (paths or project_paths()).root / PLAN_FILE
    if not path.is_file():
        raise ValidationError(f"{path}: no analysis plan. Restore {PLAN_FILE} from git.")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise _fail(path, "top level", "not a mapping", "Restore the file from git")
    _keys(path, "top level", raw, _TOP_KEYS)
    plan = AnalysisPlan(
        _validate_body(path, raw["plan"]), _amendments(path, raw["amendments"]), path
    )
    recorded = plan.amendments[-1].plan_sha256
    if recorded != plan.sha256:
        raise _fail(
            path,
            f"amendments[{len(plan.amendments) - 1}]",
            f"the plan body hashes to {plan.sha256}, but the last amendment records "
            f"{recorded}: the plan was changed without a recorded amendment",
            "Undo the edit, or append a dated amendment with its reason and this hash",
        )
    return plan


def plan_digest(plan: AnalysisPlan | None = None) -> dict[str, str]:
    """``{"analysis_plan_sha256", "analysis_plan_date", "analysis_plan_amendments"}``."""
    plan = plan or load_plan()
    return {
        "analysis_plan_sha256": plan.sha256,
        "analysis_plan_date": plan.date.isoformat(),
        "analysis_plan_amendments": str(len(plan.amendments)),
    }


def amendments_table(plan: AnalysisPlan | None = None) -> list[dict[str, str]]:
    """The dated amendments, oldest first, for the book (date, reason, plan sha256)."""
    plan = plan or load_plan()
    return [
        {"date": a.date.isoformat(), "reason": a.reason, "plan_sha256": a.plan_sha256}
        for a in plan.amendments
    ]


def label(term: str, level: str, plan: AnalysisPlan | None = None) -> Label:
    """``primary``, ``secondary`` or ``exploratory``: the plan's label for a result row."""
    return (plan or load_plan()).label(term, level)


def manifest_entry(paths: ProjectPaths) -> dict[str, str] | None:
    """:func:`plan_digest` for a stage manifest, or None in a project tree without a plan
    file (the throw-away trees of the tests).  A plan edited without an amendment stops
    the run (:func:`load_plan`), so no manifest records an unrecorded plan."""
    if not (paths.root / PLAN_FILE).is_file():
        return None
    return plan_digest(load_plan(paths=paths))
