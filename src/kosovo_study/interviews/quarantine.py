"""The quarantine: a guard that does not trust redaction.

After redaction, every capitalised word left in the published free text (segment texts
and the exported code names) must be a word the package or the researcher vouches for:

* a word of the codebook (labels, codes, aliases), of the municipality register or of
  the place list (:func:`kosovo_study.interviews.gazetteer.place_words`);
* a common word (:data:`kosovo_study.interviews.gazetteer.COMMON_WORDS`);
* a word or phrase of the researcher's allowlist, ``data/raw/restricted/
  interviews_allowlist.txt`` (one per line, ``#`` starts a comment), made by reviewing
  the quarantine file.

The first word of a sentence is capitalised by grammar, not because it is a name, so
it is held only when the next word is capitalised too.  Anything else is a candidate
name: the import stops before writing and lists every candidate in its context in
``data/raw/restricted/review/interviews_quarantine.csv`` (restricted, never under
``data/processed``).  The researcher copies the candidates that are not people into the
allowlist, or corrects the export, and imports again.

The detectors of :mod:`kosovo_study.interviews.privacy` are not used here: a miss of
theirs is caught here.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from kosovo_study.errors import KosovoStudyError
from kosovo_study.interviews.codebook import Codebook, load_codebook
from kosovo_study.interviews.gazetteer import COMMON_WORDS, fold, place_words
from kosovo_study.paths import ProjectPaths
from kosovo_study.storage import atomic_path

ALLOWLIST = "interviews_allowlist.txt"
REVIEW = Path("review") / "interviews_quarantine.csv"
#: Published free-text columns that the quarantine reads, per table.
FREE_TEXT = {"interview_segments": ("segment_text", "code_exported")}
_WORD = re.compile(r"(?<![\w\[])[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*(?![\w\]])")
_SENTENCE_END = frozenset('.!?:;"“„«»(\n')
CONTEXT = 40  # characters of context on either side in the review file


def codebook_words(codebook: Codebook | None = None) -> frozenset[str]:
    codebook = codebook or load_codebook()
    words: set[str] = set()
    for column in codebook.codes.columns:
        for value in codebook.codes[column].dropna().astype(str):
            words.update(fold(w) for w in re.findall(r"[^\W\d_]+", value))
    return frozenset(words)


def read_allowlist(path: Path) -> frozenset[str]:
    """Folded words and phrases of the researcher's allowlist (missing file: empty)."""
    if not path.is_file():
        return frozenset()
    entries = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            entries.add(" ".join(fold(entry).split()))
    return frozenset(entries)


def _sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t\u00a0")
    return not before or before[-1] in _SENTENCE_END or before.endswith("\n")


def candidates(text: str, allowed: frozenset[str]) -> list[tuple[str, int, int]]:
    """Capitalised word sequences of ``text`` that nothing vouches for: (words, start, end)."""
    words = [m for m in _WORD.finditer(text) if m.group(0)[0].isupper()]
    out: list[tuple[str, int, int]] = []
    run: list[re.Match[str]] = []

    def flush() -> None:
        if not run:
            return
        phrase = " ".join(fold(m.group(0)) for m in run)
        if phrase not in allowed:
            held = [m for m in run if fold(m.group(0)) not in allowed]
            if held:
                out.append((" ".join(m.group(0) for m in held), held[0].start(), held[-1].end()))
        run.clear()

    for i, match in enumerate(words):
        joined = bool(run) and text[run[-1].end() : match.start()] in {" ", "\u00a0"}
        if not joined:
            flush()
        starts_sentence = not joined and _sentence_start(text, match.start())
        if starts_sentence:
            following = words[i + 1] if i + 1 < len(words) else None
            if following is None or text[match.end() : following.start()] not in {" ", "\u00a0"}:
                continue  # a lone capitalised word at the start of a sentence
        run.append(match)
    flush()
    return out


def scan(tables: Mapping[str, pd.DataFrame], allowed: frozenset[str]) -> list[dict[str, str]]:
    """Every candidate of every free-text cell, with its position and context."""
    found: list[dict[str, str]] = []
    for table_name, columns in FREE_TEXT.items():
        table = tables.get(table_name)
        if table is None:
            continue
        for column in columns:
            if column not in table.columns:
                continue
            for row, value in enumerate(table[column].astype(str)):
                for phrase, start, end in candidates(value, allowed):
                    context = value[max(0, start - CONTEXT) : end + CONTEXT].replace("\n", " ")
                    found.append(
                        {
                            "table": table_name,
                            "column": column,
                            "row": str(row + 1),
                            "candidate": phrase,
                            "context": context,
                        }
                    )
    return found


def allowed_words(paths: ProjectPaths, extra: Iterable[str] = ()) -> frozenset[str]:
    return (
        COMMON_WORDS
        | place_words()
        | codebook_words()
        | read_allowlist(paths.restricted / ALLOWLIST)
        | {fold(e) for e in extra}
    )


def enforce(tables: Mapping[str, pd.DataFrame], paths: ProjectPaths) -> None:
    """Stop the import when a candidate is left, after writing the review file."""
    found = scan(tables, allowed_words(paths))
    review = paths.restricted / REVIEW
    if not found:
        review.unlink(missing_ok=True)
        return
    review.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(review) as temporary, temporary.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(found[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(found)
    distinct = len({fold(item["candidate"]) for item in found})
    raise KosovoStudyError(
        f"Quarantine: {distinct} capitalised word sequence(s) in {len(found)} place(s) of the "
        "redacted text are not in the codebook, the register, the place list or the "
        f"allowlist, and may be names. Nothing was written. Review each one in {review} "
        "(restricted; never published): add those that are not people, one per line, to "
        f"{paths.restricted / ALLOWLIST}, and redact the others in the QDA project (or list "
        "them in the export's person_names); then import again."
    )
