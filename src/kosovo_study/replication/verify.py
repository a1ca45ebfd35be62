"""``kosovo-study verify``: rerun the pipeline on the restricted data in a scratch copy
and compare every published number with the release record.

The release record (:mod:`kosovo_study.replication.record`) holds every published
number with its kind and the keyed digest of the restricted inputs.  :func:`verify`

1. checks the restricted file's keyed digest (HMAC-SHA-256) against the record;
2. copies the project's sources and raw data (never ``data/processed``) to a scratch
   folder, puts the restricted file there, and reruns clean, models, multiverse and
   interviews with the release's recorded parameters, then executes the book pages;
3. compares each published number of the rerun with the release's, under the stated
   tolerances (exact for counts and text, relative for estimates, Monte Carlo for
   simulated quantities), and names every number that moved;
4. writes ``verification_report.json`` and ``verification_report.md``: each
   comparison, the environment (Python, platform, ``uv.lock`` sha256) and the digest
   chain from inputs to outputs of the release and of the rerun.

Only published numbers are compared and reported; the restricted counts themselves are
never read into the report or printed.  Without the restricted file the rerun uses the
synthetic stand-in and the status says ``not verified: restricted data absent``: the
command then exits with status 2, never 0.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from kosovo_study import __version__, manifest
from kosovo_study.config import StudyConfig
from kosovo_study.errors import KosovoStudyError
from kosovo_study.paths import ROOT_ENV, ProjectPaths
from kosovo_study.replication import record as rec
from kosovo_study.storage import write_text_atomic

VERIFIED = "verified"
ABSENT = "not verified: restricted data absent"
DIFFERS = "not verified: published numbers differ"
DIGEST_MISMATCH = "not verified: the restricted file is not the released one (digest differs)"
NO_KEY = "not verified: no key to check the restricted file's digest"
EXIT_STATUS = {VERIFIED: 0, ABSENT: 2, DIFFERS: 1, DIGEST_MISMATCH: 1, NO_KEY: 1}
RESTRICTED_NAME = "fighters_by_municipality.csv"
#: The interview export as the interviews stage keeps it (``data/raw/restricted/``).
INTERVIEW_STEM = "interviews"


@dataclass(frozen=True)
class Comparison:
    """One published number: the release's value, the rerun's, and the verdict."""

    name: str
    kind: str
    status: str  # equal | within tolerance | differs | missing in rerun | new in rerun
    release: Any
    rerun: Any
    difference: float | None
    tolerance: float


@dataclass
class Verification:
    status: str
    digest: str
    comparisons: list[Comparison]
    environment: dict[str, Any]
    chain: dict[str, Any] = field(default_factory=dict)
    report_files: list[Path] = field(default_factory=list)
    #: each restricted input's own verdict ("municipal counts", "interview export")
    parts: dict[str, str] = field(default_factory=dict)

    @property
    def exit_status(self) -> int:
        return EXIT_STATUS[self.status]

    @property
    def moved(self) -> list[Comparison]:
        """Every published number whose rerun value is not equal to the release's."""
        return [c for c in self.comparisons if c.status != "equal"]

    @property
    def failed(self) -> list[Comparison]:
        return [c for c in self.comparisons if c.status not in {"equal", "within tolerance"}]


def compare(
    release: Mapping[str, Mapping[str, Any]],
    rerun: Mapping[str, Mapping[str, Any]],
    config: Mapping[str, Any],
) -> list[Comparison]:
    """Compare every published number of ``release`` with ``rerun`` (name -> value, kind)."""
    out = []
    for name in sorted(set(release) | set(rerun)):
        if name not in rerun:
            entry = release[name]
            out.append(
                Comparison(name, entry["kind"], "missing in rerun", entry["value"], None, None, 0)
            )
            continue
        if name not in release:
            entry = rerun[name]
            out.append(
                Comparison(name, entry["kind"], "new in rerun", None, entry["value"], None, 0)
            )
            continue
        kind, a, b = release[name]["kind"], release[name]["value"], rerun[name]["value"]
        allowed = rec.tolerance(kind, a, config) if _is_number(a) else 0.0
        if a == b:
            out.append(Comparison(name, kind, "equal", a, b, 0.0, allowed))
        elif _is_number(a) and _is_number(b):
            difference = float(b) - float(a)
            within = abs(difference) <= allowed
            out.append(
                Comparison(
                    name,
                    kind,
                    "within tolerance" if within else "differs",
                    a,
                    b,
                    difference,
                    allowed,
                )
            )
        else:
            out.append(Comparison(name, kind, "differs", a, b, None, 0.0))
    return out


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def environment(paths: ProjectPaths) -> dict[str, Any]:
    return {
        "package_version": __version__,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "uv_lock_sha256": rec.uv_lock_sha256(paths),
    }


def make_scratch(
    paths: ProjectPaths, scratch: Path, restricted: Path | None, interviews: Path | None = None
) -> ProjectPaths:
    """A copy of the project's sources and raw data (not ``data/processed``, not the
    book's build, not the restricted folder), with ``restricted`` (the counts) and
    ``interviews`` (the interview export) put in place."""
    scratch.mkdir(parents=True, exist_ok=True)
    for item in paths.root.iterdir():
        if item.is_file() and not item.name.startswith("."):
            shutil.copy2(item, scratch / item.name)
    ignore_restricted = shutil.ignore_patterns("restricted", "*.partial", ".*.lock")
    shutil.copytree(paths.raw, scratch / "data" / "raw", ignore=ignore_restricted)
    # The research notebooks are not part of the published numbers (they glue nothing).
    shutil.copytree(
        paths.book, scratch / "book", ignore=shutil.ignore_patterns("_build", "notebooks")
    )
    target = ProjectPaths(scratch)
    if restricted is not None:
        target.restricted.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(restricted, target.restricted / RESTRICTED_NAME)
    if interviews is not None:
        target.restricted.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(interviews, target.restricted / interview_name(interviews))
    return target


def interview_name(export: Path) -> str:
    """The name the interviews stage keeps an export under (``interviews.qdpx`` ...)."""
    return f"{INTERVIEW_STEM}{Path(export).suffix.lower()}"


def check_interview_digest(
    record: Mapping[str, Any], export: Path | None, key: bytes | None
) -> tuple[str, str]:
    """(status or "", sentence) for the interview export against the release's digest."""
    recorded = _keyed_digests(record, INTERVIEW_STEM)
    if export is None:
        used = (
            "the release used an interview export"
            if recorded
            else ("the release used the synthetic interview study")
        )
        return ABSENT, f"no interview export given ({used}): the rerun used the synthetic study"
    return _check_keyed(
        recorded,
        interview_name(export),
        export,
        key,
        "the interview export",
        "the release was built without an interview export (synthetic interview study), "
        "but an export was given",
        "no key to check the interview export against the release's HMAC-SHA-256",
    )


def _keyed_digests(record: Mapping[str, Any], stem: str | None = None) -> dict[str, Any]:
    """File name -> the release's HMAC-SHA-256 of each restricted input (of one stem)."""
    return {
        Path(name).name: entry.get("hmac_sha256")
        for name, entry in record.get("restricted_inputs", {}).items()
        if stem is None or Path(name).stem == stem
    }


def _check_keyed(
    recorded: Mapping[str, Any],
    name: str,
    file: Path,
    key: bytes | None,
    what: str,
    not_in_release: str,
    no_key: str,
) -> tuple[str, str]:
    """The comparison both restricted inputs share: recorded at all, recorded with a key,
    a key given, and the keyed digests equal."""
    if name not in recorded:
        return DIFFERS, not_in_release
    if recorded[name] is None:
        return NO_KEY, f"the release recorded no keyed digest of {what}"
    if key is None:
        return NO_KEY, no_key
    if rec.keyed_digest(file, key) != recorded[name]:
        return (
            DIGEST_MISMATCH,
            f"the keyed digest (HMAC-SHA-256) of {what} differs from the release's",
        )
    return "", f"the keyed digest (HMAC-SHA-256) of {what} equals the release's"


def is_interview_number(name: str) -> bool:
    """A published number of the interview analysis (its glue keys, tables and figures)."""
    return bool(re.search(r"(^|:)(iv_|interview)", name.split(":", 1)[-1]))


def config_from_record(record: Mapping[str, Any]) -> StudyConfig:
    """The :class:`StudyConfig` the release ran with (unknown names are refused)."""
    recorded = dict(record.get("config", {}))
    known = {f.name for f in fields(StudyConfig)}
    unknown = sorted(set(recorded) - known)
    if unknown:
        raise KosovoStudyError(
            f"The release record names parameters this version does not know: {unknown}. "
            "Verify with the package version of the release "
            f"({record.get('package_version')})."
        )
    return StudyConfig(**recorded)


def rerun(
    paths: ProjectPaths, config: StudyConfig, say: Callable[[str], None] = lambda _: None
) -> None:
    """Every stage from raw data, with ``config``, then the book pages (executed, not
    rendered: the published numbers are in the executed pages and the table files)."""
    from kosovo_study import stages
    from kosovo_study.report import build
    from kosovo_study.stages import STAGES

    previous = os.environ.get(ROOT_ENV)
    # The book's kernels find the project from this variable (they inherit it).
    os.environ[ROOT_ENV] = str(paths.root)
    try:
        for stage in STAGES:
            if stage.name == "book":
                continue
            say(f"verify: rerunning {stage.name}")
            stages.run(stage.name, paths, config, force=True)
        say("verify: executing the book pages")
        build.refresh_cache(paths)
        build.execute_pages(paths)
    finally:
        if previous is None:
            os.environ.pop(ROOT_ENV, None)
        else:
            os.environ[ROOT_ENV] = previous


def check_digest(
    record: Mapping[str, Any], restricted: Path | None, key: bytes | None
) -> tuple[str, str]:
    """(status or "", sentence) for the restricted file against the release's digest."""
    if restricted is None:
        return ABSENT, "no restricted file given: the rerun used the synthetic stand-in"
    return _check_keyed(
        _keyed_digests(record),
        RESTRICTED_NAME,
        restricted,
        key,
        "the restricted file",
        "the release was built without restricted counts (synthetic outcome), but a "
        "restricted file was given",
        f"no key: set ${manifest.KEY_ENV} or ${manifest.KEY_FILE_ENV}, or pass --key-file, to "
        "check the file against the release's HMAC-SHA-256",
    )


def verify(
    paths: ProjectPaths,
    restricted: Path | None = None,
    key: bytes | None = None,
    release: Path | None = None,
    out: Path | None = None,
    scratch: Path | None = None,
    say: Callable[[str], None] = lambda _: None,
    interviews: Path | None = None,
) -> Verification:
    """Verify the release at ``release`` (default: this project's release record)
    against a rerun on ``restricted`` (default: the file at the restricted path, if
    any) and ``interviews`` (the interview export; default: the project's kept export,
    if any).  Writes the report to ``out`` (default ``data/processed/verification/``).

    The counts and the interview export are checked each by its keyed digest; every
    published number (the interview ones included) is compared.  A part given no file
    says "not verified: restricted data absent"; the whole is verified only when every
    restricted input the release used was given and matched."""

    record = rec.read_record(release or rec.record_path(paths))
    if restricted is None:
        default = paths.restricted / RESTRICTED_NAME
        restricted = default if default.is_file() else None
    elif not Path(restricted).is_file():
        raise KosovoStudyError(f"The restricted file {restricted} does not exist.")
    if interviews is None:
        interviews = paths.interview_export()
    elif not Path(interviews).is_file():
        raise KosovoStudyError(f"The interview export {interviews} does not exist.")
    config = config_from_record(record)
    digest_status, digest_sentence = check_digest(record, restricted, key)
    say(f"verify: {digest_sentence}")
    interview_status, interview_sentence = check_interview_digest(record, interviews, key)
    say(f"verify: {interview_sentence}")
    released_interviews = any(
        Path(name).stem == INTERVIEW_STEM for name in record.get("restricted_inputs", {})
    )
    # an absent export blocks the verdict only when the release used one
    if interview_status and (interview_status != ABSENT or released_interviews):
        digest_status = digest_status or interview_status
        digest_sentence = f"{digest_sentence}; {interview_sentence}"
    made = scratch is None
    folder = Path(tempfile.mkdtemp(prefix="kosovo-verify-")) if made else Path(scratch)  # type: ignore[arg-type]
    try:
        copy = make_scratch(paths, folder / "project", restricted, interviews)
        rerun(copy, config, say)
        numbers = rec.published_numbers(copy)
        rerun_chain = rec.digest_chain(copy, key)
    finally:
        if made:
            shutil.rmtree(folder, ignore_errors=True)
    comparisons = compare(record["numbers"], numbers, record["config"])
    if digest_status:
        status = digest_status
    elif any(c.status not in {"equal", "within tolerance"} for c in comparisons):
        status = DIFFERS
    else:
        status = VERIFIED
    interview_numbers = [c for c in comparisons if is_interview_number(c.name)]
    matched = sum(c.status in {"equal", "within tolerance"} for c in interview_numbers)
    result = Verification(
        status,
        digest_sentence,
        comparisons,
        environment(paths),
        {"release": record.get("digest_chain", []), "rerun": rerun_chain},
        parts={
            "municipal counts": check_digest(record, restricted, key)[0] or VERIFIED,
            "interview export": (interview_status or VERIFIED)
            + f" ({matched} of {len(interview_numbers)} interview numbers matched; "
            f"{interview_sentence})",
        },
    )
    result.report_files = write_report(result, record, out or paths.processed / "verification")
    return result


def write_report(result: Verification, record: Mapping[str, Any], out: Path) -> list[Path]:
    """``verification_report.json`` (everything) and ``.md`` (for a reader)."""
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for comparison in result.comparisons:
        counts[comparison.status] = counts.get(comparison.status, 0) + 1
    document = {
        "status": result.status,
        "restricted_digest": result.digest,
        "parts": result.parts,
        "published_numbers": len(result.comparisons),
        "counts": counts,
        "release": {
            "package_version": record.get("package_version"),
            "git_commit": record.get("git_commit"),
            "uv_lock_sha256": record.get("uv_lock_sha256"),
            "municipal_outcome": record.get("municipal_outcome"),
            "tolerances": record.get("tolerances"),
        },
        "environment": result.environment,
        "digest_chain": result.chain,
        "moved": [c.__dict__ for c in result.moved],
        "comparisons": [c.__dict__ for c in result.comparisons],
    }
    json_path = out / "verification_report.json"
    write_text_atomic(json_path, json.dumps(document, indent=1, default=str) + "\n")
    lines = [
        "# Verification report",
        "",
        f"**Status: {result.status}.** {result.digest[:1].upper() + result.digest[1:]}.",
        "",
        *(f"- {part}: {verdict}" for part, verdict in result.parts.items()),
        "",
        f"{len(result.comparisons)} published numbers compared: "
        + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        + ".",
        "",
        "Tolerances: "
        + "; ".join(f"{k}: {v}" for k, v in (record.get("tolerances") or {}).items())
        + ".",
        "",
        "## Environment",
        "",
        *(f"- {k}: {v}" for k, v in result.environment.items()),
        (
            f"- release: kosovo_study {record.get('package_version')}, commit "
            f"{record.get('git_commit') or 'unknown (built without git)'}, uv.lock sha256 "
            f"{record.get('uv_lock_sha256')}"
        ),
        "",
        "## Digest chain (inputs -> outputs, per stage)",
        "",
        "| stage | release inputs | rerun inputs | release outputs | rerun outputs |",
        "|---|---|---|---|---|",
    ]
    rerun_chain = {link["stage"]: link for link in result.chain.get("rerun", [])}
    for link in result.chain.get("release", []):
        other = rerun_chain.get(link["stage"], {})
        lines.append(
            f"| {link['stage']} | {link['inputs_sha256'][:16]} | "
            f"{str(other.get('inputs_sha256', ''))[:16]} | {link['outputs_sha256'][:16]} | "
            f"{str(other.get('outputs_sha256', ''))[:16]} |"
        )
    lines += ["", "## Numbers that moved", ""]
    if result.moved:
        lines += ["| number | kind | status | release | rerun | difference | tolerance |"]
        lines += ["|---|---|---|---|---|---|---|"]
        lines += [
            f"| {c.name} | {c.kind} | {c.status} | {_short(c.release)} | {_short(c.rerun)} | "
            f"{'' if c.difference is None else f'{c.difference:.6g}'} | {c.tolerance:.3g} |"
            for c in result.moved
        ]
    else:
        lines.append("None: every published number equals the release's.")
    md_path = out / "verification_report.md"
    write_text_atomic(md_path, "\n".join(lines) + "\n")
    return [json_path, md_path]


def _short(value: Any) -> str:
    text = str(value).replace("|", "/").replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def main_status(result: Verification) -> str:
    """The console summary of :func:`verify`."""
    return (
        f"verify: {result.status} ({len(result.comparisons) - len(result.moved)} of "
        f"{len(result.comparisons)} published numbers equal, {len(result.failed)} outside "
        f"tolerance); report in {result.report_files[0].parent if result.report_files else '-'}"
        + "".join(f"\n  {part}: {verdict}" for part, verdict in result.parts.items())
    )


__all__ = [
    "ABSENT",
    "DIFFERS",
    "VERIFIED",
    "Comparison",
    "Verification",
    "compare",
    "main_status",
    "verify",
]
