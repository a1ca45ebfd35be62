"""The release record: every number the book publishes, and a keyed digest of the
restricted inputs, in ``data/processed/release/published_numbers.json``.

**What is a published number.** Every value a book page glues (``myst_nb.glue``, read
back from the executed pages in the book's execution cache) and every cell of every
table and figure the book shows (the CSV beside it in ``book/_build/figures/``, written
by :func:`kosovo_study.report.book.show_table` and ``show_figure``).  Glued values that
describe the build rather than the data (:data:`BUILD_PROVENANCE`: version, commit,
date, citation text) are left out: they differ between any two builds.

**Why a keyed digest.** The restricted municipal counts are 38 small integers whose
total is published: a plain sha256 of the file could be inverted by trying every
plausible table, so anyone could recover the counts from the release.  The release
therefore records HMAC-SHA-256 of the file's bytes under a secret key that the data
holder keeps (``$KOSOVO_STUDY_RELEASE_KEY`` or the file named by
``$KOSOVO_STUDY_RELEASE_KEY_FILE``, at least 32 bytes).  The data holder gives the key
with the file to a replicator, who can then confirm the file is the one released;
without the key the digest reveals nothing.

**Tolerances** (:func:`kind_of`, :func:`tolerance`): counts and text must be equal;
estimates may differ by a relative 1e-6 (floating-point order on another machine);
simulated quantities (permutation p-values, power, bootstrap or parameter-draw
intervals) by three worst-case Monte Carlo standard errors of a proportion,
3 x 0.5 / sqrt(R), with R the smallest simulation size of the run's parameters.  With the
recorded seeds a rerun on the same platform reproduces them exactly.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kosovo_study import __version__
from kosovo_study.config import StudyConfig, load_config
from kosovo_study.errors import KosovoStudyError
from kosovo_study.manifest import git_commit, read_manifest, release_key
from kosovo_study.paths import ProjectPaths
from kosovo_study.storage import sha256_file, write_text_atomic

FORMAT = "kosovo_study release record 1"
#: Glued values that describe the build (who, when, which commit), not the results.
BUILD_PROVENANCE = frozenset(
    {
        "package_version",
        "git_commit",
        "git_commit_short",
        "build_date",
        "python_version",
        "apa",
        "bibtex_block",
        "authors",
        "contents",
    }
)
#: Tables of the book that describe the build environment, not results.
#: Tables the book shows about the run itself, not results: the package versions, when
#: and how long each stage ran, and the inputs' digests (a restricted input's keyed
#: digest changes with the key).  ``verify`` reports the environment and checks the
#: digest chain itself; it does not compare these as published numbers.
BUILD_TABLES = frozenset(
    {"environment", "stage_seconds", "package-versions", "stage-times", "input-hashes"}
)
RELATIVE_TOLERANCE = 1e-6
_COUNT = re.compile(
    r"(^|_)(n|count|counts|rows|fighters|total|totals|points|sources|rank|countries|units|"
    r"municipalities|specifications|respondents|segments|documents|codes|imputations|"
    r"observed|listed|year)($|_)"
)
_SIMULATED = re.compile(
    r"perm|power|mde|bootstrap|simulat|monte|draw|p_value|pvalue|(^|_)p($|_)|joint|"
    r"interval|_low|_high|lower|upper|ci_|median|predict|ame"
)


def release_dir(paths: ProjectPaths) -> Path:
    return paths.processed / "release"


def record_path(paths: ProjectPaths) -> Path:
    """``data/processed/release/published_numbers.json``: the release's values."""
    return release_dir(paths) / "published_numbers.json"


def uv_lock_sha256(paths: ProjectPaths) -> str | None:
    lock = paths.root / "uv.lock"
    return sha256_file(lock) if lock.is_file() else None


# --- keyed digest ------------------------------------------------------------------------


def keyed_digest(path: Path, key: bytes) -> str:
    """HMAC-SHA-256 of the file's bytes under ``key`` (hex)."""
    return hmac.new(key, Path(path).read_bytes(), hashlib.sha256).hexdigest()


def restricted_inputs(paths: ProjectPaths) -> list[Path]:
    """The restricted files the stages read, if present: the municipal counts (models)
    and the interview export (interviews, kept as ``data/raw/restricted/interviews.*``)."""
    from kosovo_study.models.outcome import locate_restricted

    located = locate_restricted(paths)
    export = paths.interview_export()
    return [Path(p) for p in (located, export) if p is not None]


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def restricted_digests(paths: ProjectPaths, key: bytes | None) -> dict[str, str | None]:
    """Relative path -> keyed digest (None without a key) of each restricted input."""
    return {
        _relative(p, paths.root): (keyed_digest(p, key) if key is not None else None)
        for p in restricted_inputs(paths)
    }


# --- published numbers -------------------------------------------------------------------


def _parse(text: str) -> Any:
    """A cell or a glued ``text/plain`` value as int, float or text."""
    stripped = text.strip()
    found = re.fullmatch(r"np\.(?:float|int)\d*\((.*)\)", stripped)
    if found:
        stripped = found.group(1)
    if re.fullmatch(r"[+-]?\d+", stripped):
        return int(stripped)
    try:
        number = float(stripped)
    except ValueError:
        return text
    return number


def kind_of(name: str, value: Any) -> str:
    """``text``, ``count``, ``simulated`` or ``estimate`` (see the module docstring).

    ``name`` is the glue name or the table column; a whole number written without a
    decimal point is a count.
    """
    if isinstance(value, str | bool):
        return "text"
    if isinstance(value, int):
        return "count"
    label = name.lower()
    if _SIMULATED.search(label):
        return "simulated"
    if _COUNT.search(label) and float(value).is_integer():
        return "count"
    return "estimate"


def glued_values(paths: ProjectPaths) -> dict[str, Any]:
    """Every glued value of the executed book pages: ``glue:<page>:<name>`` -> value."""
    from jupyter_cache import get_cache

    cache_dir = paths.book_build / ".jupyter_cache"
    if not cache_dir.is_dir():
        raise KosovoStudyError(
            f"No executed book pages in {cache_dir}: build the book first (kosovo-study "
            "report, or kosovo-study book)."
        )
    cache = get_cache(str(cache_dir))
    values: dict[str, Any] = {}
    for record in cache.list_cache_records():
        page = Path(record.uri).stem
        notebook = cache.get_cache_bundle(record.pk).nb
        for cell in notebook.cells:
            for output in cell.get("outputs", []):
                scrapbook = output.get("metadata", {}).get("scrapbook", {})
                name = scrapbook.get("name")
                # myst-nb stores a glued value under a prefixed MIME type
                prefix = scrapbook.get("mime_prefix", "")
                data = {
                    mime.removeprefix(prefix): value
                    for mime, value in output.get("data", {}).items()
                }
                if not name or name in BUILD_PROVENANCE or name.endswith("-links"):
                    continue
                if any(mime.startswith("image/") for mime in data):
                    continue  # a figure: its plotted data are compared as a table
                if "text/markdown" in data:
                    values[f"glue:{page}:{name}"] = str(data["text/markdown"])
                elif "text/plain" in data:
                    values[f"glue:{page}:{name}"] = _parse(str(data["text/plain"]))
    return dict(sorted(values.items()))


def table_cells(paths: ProjectPaths) -> dict[str, Any]:
    """Every cell of every table and figure CSV the book shows:
    ``table:<name>:<row>:<column>`` -> value (rows numbered from 1)."""
    values: dict[str, Any] = {}
    for csv_path in sorted((paths.book_build / "figures").glob("*.csv")):
        if csv_path.stem in BUILD_TABLES:
            continue
        with csv_path.open(encoding="utf-8", newline="") as handle:
            for row_number, row in enumerate(csv.DictReader(handle), start=1):
                for column, cell in row.items():
                    values[f"table:{csv_path.stem}:{row_number}:{column}"] = _parse(cell or "")
    return values


def published_numbers(paths: ProjectPaths) -> dict[str, dict[str, Any]]:
    """Name -> ``{"value", "kind"}`` of every published number (module docstring)."""
    values = {**glued_values(paths), **table_cells(paths)}
    return {
        name: {"value": _json_value(value), "kind": kind_of(name.rsplit(":", 1)[-1], value)}
        for name, value in values.items()
    }


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # JSON has no NaN: kept as the text "nan"/"inf", compared exactly
    return value


def monte_carlo_tolerance(config: Mapping[str, Any]) -> float:
    """3 x 0.5 / sqrt(R): three worst-case standard errors of a simulated proportion, with
    R the smallest simulation size among the parameters (e.g. 39 power permutations)."""
    sizes = [
        int(v)
        for k, v in config.items()
        if k.endswith(("permutations", "replicates", "simulations", "draws"))
        and int(v) > 0
        # fold assignments of the out-of-fold calibration: a count of data splits, not
        # the size of a simulation whose proportions the tolerance is about
        and not k.startswith("crossnational_oof")
    ]
    return 3 * 0.5 / math.sqrt(min(sizes)) if sizes else 0.0


def tolerance(kind: str, value: Any, config: Mapping[str, Any]) -> float:
    if kind in {"count", "text"}:
        return 0.0
    if kind == "simulated":
        return monte_carlo_tolerance(config)
    return RELATIVE_TOLERANCE * abs(float(value)) + 1e-12


def digest_chain(paths: ProjectPaths, key: bytes | None) -> list[dict[str, Any]]:
    """Inputs -> outputs, one link per stage: the sha256 of the sorted input digests
    (restricted inputs by their keyed digest, never their plain hash) and of the
    sorted output digests, read from the stage manifests."""
    from kosovo_study.stages import STAGES

    restricted = restricted_digests(paths, key)
    chain = []
    for stage in STAGES:
        manifest = read_manifest(stage.name, paths)
        if manifest is None:
            continue
        inputs = {
            name: (restricted.get(name) or "restricted (no key)")
            if name in restricted or name.startswith("data/raw/restricted/")
            else digest
            for name, digest in manifest.get("inputs", {}).items()
        }
        outputs = manifest.get("outputs", {})
        chain.append(
            {
                "stage": stage.name,
                "inputs_sha256": _sha256_json(inputs),
                "outputs_sha256": _sha256_json(outputs),
                "parameters_sha256": manifest.get("parameters_sha256"),
                "code_fingerprint": manifest.get("code_fingerprint"),
            }
        )
    return chain


def _sha256_json(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def build_record(
    paths: ProjectPaths, config: StudyConfig | None = None, key: bytes | None = None
) -> dict[str, Any]:
    """The release record of the project at ``paths`` (after a full report)."""
    config = config or load_config(paths.root)
    numbers = published_numbers(paths)
    metadata_file = paths.results / "metadata.json"
    metadata = json.loads(metadata_file.read_text("utf-8")) if metadata_file.is_file() else {}
    restricted = restricted_digests(paths, key)
    return {
        "format": FORMAT,
        "package_version": __version__,
        "git_commit": git_commit(paths.root),
        "uv_lock_sha256": uv_lock_sha256(paths),
        "config": config.as_dict(),
        "municipal_outcome": "synthetic"
        if metadata.get("municipal_outcome_synthetic", not restricted)
        else "restricted",
        "restricted_inputs": {
            name: {"hmac_sha256": digest, "algorithm": "HMAC-SHA-256"}
            for name, digest in restricted.items()
        },
        "tolerances": {
            "count": "exact",
            "text": "exact",
            "estimate": f"relative {RELATIVE_TOLERANCE:g}",
            "simulated": f"absolute {monte_carlo_tolerance(config.as_dict()):.4f} "
            "(3 x 0.5 / sqrt(smallest simulation size))",
        },
        "digest_chain": digest_chain(paths, key),
        "numbers": numbers,
    }


def write_release_record(paths: ProjectPaths, key: bytes | None = None) -> Path:
    """Write :func:`build_record` to :func:`record_path` (the key from the environment
    when not given)."""
    record = build_record(paths, key=key if key is not None else release_key())
    target = record_path(paths)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(target, json.dumps(record, indent=1, sort_keys=False) + "\n")
    return target


def read_record(path: Path) -> dict[str, Any]:
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise KosovoStudyError(
            f"The release record {path} cannot be read ({error}). Use the "
            "published_numbers.json of the release (data/processed/release/)."
        ) from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise KosovoStudyError(
            f"{path} is not a kosovo_study release record (format {FORMAT!r} expected)."
        )
    return record
