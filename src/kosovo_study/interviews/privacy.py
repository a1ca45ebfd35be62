"""Pseudonymisation and the PII guard.

* Respondent ids become keyed hashes (HMAC-SHA256, first 16 hex digits) with a key
  from ``$KOSOVO_STUDY_PSEUDONYM_KEY`` or the file named by
  ``$KOSOVO_STUDY_PSEUDONYM_KEY_FILE``; the key is never written anywhere.  Real data
  without a key is refused.  The synthetic corpus uses :data:`DEMO_KEY`, public on
  purpose: it protects nothing and is only for the fake study.
* Segment text is redacted: person names the export lists, phone numbers, e-mail
  addresses, Kosovo personal numbers (10 digits), exact dates of birth and street
  addresses.
* :func:`guard` scans files for the same patterns and for raw respondent ids, and
  fails if any survives.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable
from pathlib import Path

from kosovo_study.errors import KosovoStudyError

KEY_ENV = "KOSOVO_STUDY_PSEUDONYM_KEY"
KEY_FILE_ENV = "KOSOVO_STUDY_PSEUDONYM_KEY_FILE"
DEMO_KEY = "kosovo-study-synthetic-demo-key-not-secret"

#: Patterns of direct identifiers; each name is the placeholder written instead.
PATTERNS: dict[str, re.Pattern[str]] = {
    "EMAIL": re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b"),
    # Identifiers stand alone: never inside a longer token such as a hash or a decimal.
    "PHONE": re.compile(
        r"(?<![\w.])(?:\+|00)?(?:383|377|386)?[\s-]?\(?0?4\d\)?[\s-]?\d{3}[\s-]?\d{3}(?![\w.])"
    ),
    "PERSONAL_NUMBER": re.compile(r"(?<![\w.])\d{10}(?![\w.])"),
    "DATE_OF_BIRTH": re.compile(
        r"\b(?:0?[1-9]|[12]\d|3[01])[./-](?:0?[1-9]|1[0-2])[./-](?:19|20)\d{2}\b"
    ),
    "ADDRESS": re.compile(
        r"\b(?:Rruga|Rr\.|Ulica|Street|St\.)\s+[\w\u00c0-\u017f\"'.-]+(?:\s+[\w\u00c0-\u017f\"'.-]+)?\s*(?:,?\s*(?:nr\.?|no\.?)?\s*\d+\w?)?",
        re.IGNORECASE,
    ),
}


def pseudonym_key(synthetic: bool) -> str:
    """The key for this run: the demo key for synthetic data, else from the environment."""
    if synthetic:
        return DEMO_KEY
    if value := os.environ.get(KEY_ENV):
        return value
    if path := os.environ.get(KEY_FILE_ENV):
        return Path(path).read_text(encoding="utf-8").strip()
    raise KosovoStudyError(
        f"No pseudonymisation key: set {KEY_ENV} or {KEY_FILE_ENV} (a file outside the "
        "repository). Real interview data is never processed without one."
    )


def pseudonymise(respondent: str, key: str) -> str:
    digest = hmac.new(key.encode(), respondent.strip().encode(), hashlib.sha256).hexdigest()
    return f"R{digest[:16]}"


def redact(
    text: str, person_names: Iterable[str] = (), enabled: Iterable[str] | None = None
) -> str:
    """Replace direct identifiers with ``[KIND]`` placeholders."""
    rules = set(PATTERNS) | {"NAME"} if enabled is None else set(enabled)
    if "NAME" in rules:
        for name in sorted({n.strip() for n in person_names if n.strip()}, key=len, reverse=True):
            text = re.sub(rf"\b{re.escape(name)}\b", "[NAME]", text, flags=re.IGNORECASE)
    for kind, pattern in PATTERNS.items():
        if kind in rules:
            text = pattern.sub(f"[{kind}]", text)
    return text


def guard(
    files: Iterable[Path], raw_ids: Iterable[str] = (), person_names: Iterable[str] = ()
) -> None:
    """Fail if any file still holds an identifier pattern, a raw respondent id or a name."""
    needles = [i for i in {*raw_ids, *person_names} if len(i.strip()) >= 3]
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="ignore")
        for kind, pattern in PATTERNS.items():
            if match := pattern.search(text):
                found.append(f"{path.name}: {kind} ({match.group(0)[:4]}...)")
        for needle in needles:
            if re.search(rf"\b{re.escape(needle)}\b", text, flags=re.IGNORECASE):
                found.append(f"{path.name}: a raw respondent id or listed name")
    if found:
        raise KosovoStudyError(
            "PII guard: identifiers survived in the output: "
            + "; ".join(sorted(set(found)))
            + ". Nothing may be published until the redaction rules catch them."
        )


#: Patterns that also occur legitimately in a bibliography (publication dates, the
#: streets of publishers): checked on pages that show interview material only.
INTERVIEW_ONLY = frozenset({"DATE_OF_BIRTH", "ADDRESS"})


def guard_book(html_dir: Path, interview_pages: Iterable[str] = ("interviews.html",)) -> None:
    """Scan the built book: every pattern on interview pages, contact patterns everywhere."""
    found = []
    pages = set(interview_pages)
    for page in sorted(html_dir.glob("*.html")):
        text = re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8", errors="ignore"))
        for kind, pattern in PATTERNS.items():
            if kind in INTERVIEW_ONLY and page.name not in pages:
                continue
            if pattern.search(text):
                found.append(f"{page.name}: {kind}")
    if found:
        raise KosovoStudyError(
            "PII guard (book): identifiers in the built pages: "
            + "; ".join(found)
            + ". Find the table or text that shows them and redact it at the source."
        )
