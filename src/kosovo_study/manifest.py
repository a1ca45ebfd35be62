"""Stage manifests: what a stage read and wrote, with which code and parameters, and how long.

Each stage writes ``data/processed/manifests/<stage>.json`` beside its outputs: the
sha256 of every input and output, the parameters it used (seeds, sizes, grids), the
package version, the git commit, a fingerprint of the code the stage runs, and the
wall-clock seconds it took.  A stage is skipped when its manifest shows the same
inputs, the same parameters, the same code fingerprint and untouched outputs;
``force=True`` reruns it.

* **Code fingerprint per stage.** :func:`stage_fingerprint` hashes the source of the
  stage's own modules and of every package module they import (transitively, lazy
  imports inside functions included, found by parsing the source), so editing a figure
  function reruns the book only, not clean, models or the multiverse.  The git commit is
  recorded for the reader only.
* **Whole outputs.** A stage built with ``staged=True`` writes into a staging folder
  (``data/processed/.staging-<stage>/``, mirroring the project layout); only when the
  build succeeded are its files and its manifest moved into place, listed first in a
  commit journal so that a run killed half-way through the moves is completed by the
  next run (:func:`recover`) instead of leaving new tables beside old metadata.
* **No plain hash of restricted data.** A file under ``data/raw/restricted/`` (the
  municipal counts, an adopted interview export) is recorded by its keyed digest
  (:func:`restricted_digest`, HMAC-SHA-256), never its sha256: 38 small counts with a
  published total could be recovered from a plain hash by trying every plausible
  table.  The key is the data holder's release key when one is given
  (``$KOSOVO_STUDY_RELEASE_KEY`` or ``$KOSOVO_STUDY_RELEASE_KEY_FILE``), else a random
  key kept beside the restricted files (``data/raw/restricted/.digest_key``, never
  published).  Only when the data holder decides the plain sha256 is safe
  (``$KOSOVO_STUDY_PUBLISH_RESTRICTED_SHA256=1``; default off) is it recorded instead.
* **One run at a time.** A per-stage lock file (``filelock``) keeps two runs from
  interleaving; orphaned ``.partial`` files and staging folders of killed runs are
  removed when the stage next starts.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from kosovo_study import __version__
from kosovo_study.errors import KosovoStudyError
from kosovo_study.paths import ProjectPaths, project_paths
from kosovo_study.plan import manifest_entry
from kosovo_study.storage import sha256_file, write_text_atomic

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGE = "kosovo_study"
#: Package data read by the code beside it (the codebook, the plot style, ...).
_DATA_SUFFIXES = {".yaml", ".yml", ".csv", ".json", ".mplstyle"}
#: Modules that orchestrate stages rather than compute: their imports (every stage) are
#: not a stage's code, so the import closure stops at them.
_ORCHESTRATION = frozenset({"kosovo_study.stages", "kosovo_study.cli", "kosovo_study.config"})
#: Of those, the files that still enter every stage's fingerprint: the stage list (each
#: stage's wiring) and the configuration (its defaults).  Not the CLI: editing its help
#: text reruns nothing.
_WIRING = ("stages.py", "config.py")
#: Modules that only *refuse* a write (the disclosure guard, called by ``storage`` before
#: every write): they never change a byte that is written, so their own source enters a
#: key but what they import does not.  Otherwise every stage's key would hold the
#: validator, the census cleaning and the model code that the guard uses to recognise
#: restricted counts, and editing a model would rerun ``clean``.
_GUARDS = frozenset({"kosovo_study.disclosure"})


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 over the whole package's source and data files, in a fixed order."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.suffix in {".py", *_DATA_SUFFIXES} and "__pycache__" not in str(path):
            digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _module_file(module: str) -> Path | None:
    """The source file of a package module (``__init__.py`` for a sub-package), or None."""
    if module != PACKAGE and not module.startswith(PACKAGE + "."):
        return None
    parts = module.split(".")[1:]
    base = PACKAGE_DIR.joinpath(*parts)
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def _imports(file: Path, module: str) -> set[str]:
    """Package modules that ``file`` imports anywhere (top level or inside functions)."""
    stat = file.stat()
    return set(_parsed_imports(file, module, stat.st_mtime_ns, stat.st_size))


def _statements(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """Every statement in ``body`` and in the blocks nested in it (functions, classes,
    if/try/with/for/match bodies and handlers).  Imports are statements, so expressions
    need not be visited: this is a few times faster than ``ast.walk``."""
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        yield node
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, field, None)
            if isinstance(children, list):
                stack.extend(children)


@lru_cache(maxsize=1024)
def _parsed_imports(file: Path, module: str, mtime_ns: int, size: int) -> frozenset[str]:
    """:func:`_imports` of one version of ``file`` (keyed by its modification time and
    size): each file is parsed once per process, not once per stage that imports it."""
    del mtime_ns, size  # the cache key only
    tree = ast.parse(file.read_bytes(), filename=str(file))
    package = module if file.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in _statements(tree.body):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(
        name for name in found if _module_file(name) is not None and name not in _ORCHESTRATION
    )


@lru_cache(maxsize=32)
def module_closure(roots: tuple[str, ...]) -> tuple[str, ...]:
    """``roots`` and every package module they import, transitively (with parent packages)."""
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        module = pending.pop()
        if module in seen or (file := _module_file(module)) is None:
            continue
        seen.add(module)
        # Importing a.b.c runs a/__init__ and a/b/__init__ first.
        parts = module.split(".")
        pending.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        if module not in _GUARDS:
            pending.extend(_imports(file, module))
    return tuple(sorted(seen))


def stage_fingerprint(roots: Sequence[str]) -> str:
    """sha256 over the source of ``roots``' import closure and the data files beside it."""
    digest = hashlib.sha256()
    files: set[Path] = set()
    for module in module_closure(tuple(roots)):
        file = _module_file(module)
        assert file is not None
        files.add(file)
        # Package data (codebook.yaml, ...) read by the module's package.
        files.update(p for p in file.parent.iterdir() if p.suffix in _DATA_SUFFIXES)
        # ... and in its data/ folder (the interviews' name gazetteer)
        if (file.parent / "data").is_dir():
            files.update(p for p in (file.parent / "data").rglob("*") if p.suffix in _DATA_SUFFIXES)
    files.update(PACKAGE_DIR / name for name in _WIRING)
    for file in sorted(f for f in files if f.is_file()):
        digest.update(file.relative_to(PACKAGE_DIR).as_posix().encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def parameters_sha256(parameters: Mapping[str, Any]) -> str:
    """sha256 of the parameters as canonical JSON (sorted keys)."""
    text = json.dumps(parameters, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def git_commit(root: Path) -> str | None:
    """The commit checked out in ``root`` (with ``-dirty`` if modified), or None."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty", "--abbrev=40"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit or None


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return Path(path).resolve().as_posix()


#: The data holder's key (hex or text, at least :data:`MIN_KEY_BYTES` bytes) ...
KEY_ENV = "KOSOVO_STUDY_RELEASE_KEY"
#: ... or the file that holds it.
KEY_FILE_ENV = "KOSOVO_STUDY_RELEASE_KEY_FILE"
#: Set to 1 by a data holder who decides the restricted files' plain sha256 is safe.
PUBLISH_SHA256_ENV = "KOSOVO_STUDY_PUBLISH_RESTRICTED_SHA256"
MIN_KEY_BYTES = 32
#: The prefix of a keyed digest in manifests and metadata.
KEYED_PREFIX = "hmac-sha256:"
LOCAL_KEY_FILE = ".digest_key"


def release_key(key_file: Path | None = None) -> bytes | None:
    """The data holder's key: ``key_file``, else ``$KOSOVO_STUDY_RELEASE_KEY`` or the
    file ``$KOSOVO_STUDY_RELEASE_KEY_FILE`` names; None when none is given."""
    if key_file is None and (named := os.environ.get(KEY_FILE_ENV)):
        key_file = Path(named).expanduser()
    if key_file is not None:
        try:
            raw = Path(key_file).read_bytes()
        except OSError as error:
            raise KosovoStudyError(
                f"The release key file {key_file} cannot be read ({error.strerror or error})."
            ) from None
    elif (value := os.environ.get(KEY_ENV)) is not None:
        raw = os.fsencode(value)
    else:
        return None
    key = raw.strip()
    if len(key) < MIN_KEY_BYTES:
        raise KosovoStudyError(
            f"The release key has {len(key)} bytes; at least {MIN_KEY_BYTES} are needed, "
            'e.g. `python -c "import secrets; print(secrets.token_hex(32))"`.'
        )
    return key


def digest_key(folder: Path) -> bytes:
    """The key of restricted digests: the release key, else the local key in the
    restricted ``folder`` (created on first use, readable by its owner only)."""
    key = release_key()
    if key is not None:
        return key
    local = Path(folder) / LOCAL_KEY_FILE
    if not local.is_file():
        local.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(local, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    return local.read_bytes().strip()


def is_restricted(path: Path, paths: ProjectPaths) -> bool:
    """True for a file under ``data/raw/restricted/`` (never published, never hashed plain)."""
    try:
        Path(path).resolve().relative_to(paths.restricted.resolve())
    except ValueError:
        return False
    return True


def publishes_restricted_sha256() -> bool:
    """True when the data holder decided the restricted files' plain sha256 is safe to
    publish (``$KOSOVO_STUDY_PUBLISH_RESTRICTED_SHA256=1``; default off)."""
    return os.environ.get(PUBLISH_SHA256_ENV, "").strip() == "1"


def published_hashes(files: Sequence[Path], root: Path) -> dict[str, str]:
    """:func:`hash_files` as results record it (``metadata.json``): a restricted file by
    name only, since its keyed digest depends on the key (the release record holds the
    one under the data holder's key)."""
    return {
        name: (
            "restricted: keyed digest in the release record"
            if digest.startswith(KEYED_PREFIX)
            else digest
        )
        for name, digest in hash_files(files, root).items()
    }


def restricted_digest(path: Path, folder: Path) -> str:
    """How a restricted file is recorded: ``hmac-sha256:<hex>`` under :func:`digest_key`
    (``folder``: the restricted folder, where a local key is kept), or its plain sha256
    when ``$KOSOVO_STUDY_PUBLISH_RESTRICTED_SHA256=1``."""
    if publishes_restricted_sha256():
        return sha256_file(path)
    digest = hmac.new(digest_key(folder), Path(path).read_bytes(), hashlib.sha256)
    return KEYED_PREFIX + digest.hexdigest()


def hash_files(files: Sequence[Path], root: Path) -> dict[str, str]:
    """Relative path -> sha256 (a restricted file: :func:`restricted_digest`), sorted by
    path; a missing or unreadable input is named."""
    hashes = {}
    paths = ProjectPaths(root)
    for file in sorted(files, key=str):
        try:
            hashes[_relative(file, root)] = (
                restricted_digest(file, paths.restricted)
                if is_restricted(file, paths)
                else sha256_file(file)
            )
        except OSError as error:
            raise KosovoStudyError(
                f"Input {file} cannot be read ({error.strerror or error}). Run the earlier "
                "stages first (kosovo-study report runs them in order), or restore the file."
            ) from None
    return hashes


@dataclass(frozen=True)
class StageResult:
    """What happened when a stage was asked to run."""

    stage: str
    skipped: bool
    manifest: dict[str, Any]
    outputs: list[Path]


def manifest_path(stage: str, paths: ProjectPaths) -> Path:
    return paths.manifests / f"{stage}.json"


def read_manifest(stage: str, paths: ProjectPaths | None = None) -> dict[str, Any] | None:
    """The last manifest written by ``stage``, or None."""
    location = manifest_path(stage, paths or project_paths())
    if not location.is_file():
        return None
    try:
        loaded = json.loads(location.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None  # damaged by hand or by a full disk: the stage simply reruns
    return loaded if isinstance(loaded, dict) else None


def is_up_to_date(
    stage: str,
    inputs: Sequence[Path],
    paths: ProjectPaths,
    parameters: Mapping[str, Any] | None = None,
    fingerprint: str | None = None,
) -> bool:
    """True when the recorded inputs, parameters, code and outputs all still match."""
    recorded = read_manifest(stage, paths)
    if recorded is None or recorded.get("code_fingerprint") != (fingerprint or code_fingerprint()):
        return False
    if recorded.get("parameters_sha256") != parameters_sha256(parameters or {}):
        return False
    if recorded.get("inputs") != hash_files(inputs, paths.root):
        return False
    for relative, expected in recorded.get("outputs", {}).items():
        output = paths.root / relative
        if not output.is_file() or sha256_file(output) != expected:
            return False
    return True


def staging_root(stage: str, paths: ProjectPaths) -> Path:
    """Where a staged build of ``stage`` writes, mirroring the project layout."""
    return paths.processed / f".staging-{stage}"


def journal_path(stage: str, paths: ProjectPaths) -> Path:
    return paths.manifests / f".commit-{stage}.json"


def lock_path(stage: str, paths: ProjectPaths) -> Path:
    return paths.manifests / f".{stage}.lock"


def _commit(
    stage: str,
    moves: list[tuple[Path, Path]],
    paths: ProjectPaths,
    stale: Sequence[Path] = (),
) -> None:
    """Move staged files into place, journal first, so a killed commit can be completed.

    ``stale`` are outputs of the previous run that this run no longer writes: they are
    removed in the same commit (an entry with an empty source), so that no table of an
    earlier run (perhaps built on restricted data) stays beside the new ones.
    """
    journal = journal_path(stage, paths)
    entries = [[_inside(a, paths), _inside(b, paths)] for a, b in moves]
    entries += [["", _inside(old, paths)] for old in stale]
    write_text_atomic(journal, json.dumps(entries) + "\n")
    _complete(journal, paths)


def _inside(path: Path | str, paths: ProjectPaths, journal: Path | None = None) -> str:
    """``path`` relative to the project root, refused unless it lies inside the project.

    A journal entry names files to move or delete: one that is absolute, climbs out with
    ``..`` or resolves (through a link) outside the project is refused, so that an edited
    or damaged journal can never move or delete anything else.
    """
    root = paths.root.resolve()
    relative = Path(path)
    if relative.is_absolute():
        try:
            relative = relative.resolve().relative_to(root)
        except ValueError:
            relative = Path("..") / relative  # outside: refused below
    if (
        not relative.parts
        or ".." in relative.parts
        or not (root / relative).resolve().is_relative_to(root)
    ):
        where = f"the commit journal {journal}" if journal else "a commit"
        raise KosovoStudyError(
            f"{where} names a path outside the project ({relative.as_posix()!r}); nothing "
            "was moved or deleted. Delete the journal and rerun the stage with --force."
        )
    return relative.as_posix()


def _complete(journal: Path, paths: ProjectPaths) -> None:
    try:
        moves = json.loads(journal.read_text(encoding="utf-8"))
        pairs = [(str(staged), str(final)) for staged, final in moves]
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError, ValueError):
        raise KosovoStudyError(
            f"{journal} (the list of moves of an interrupted commit) is damaged, so the "
            "outputs of that commit may be mixed old and new. Delete it and rerun the stage "
            "with --force."
        ) from None
    # Every entry is checked before anything moves: a refused journal changes nothing.
    checked = [
        (_inside(staged, paths, journal) if staged else "", _inside(final, paths, journal))
        for staged, final in pairs
    ]
    for staged, final in checked:
        if not staged:  # an output of the previous run that this run does not write
            (paths.root / final).unlink(missing_ok=True)
            continue
        source, target = paths.root / staged, paths.root / final
        if source.exists():  # absent: already moved before the run was killed
            target.parent.mkdir(parents=True, exist_ok=True)
            source.replace(target)
    journal.unlink()


def _back_up(stage: str, paths: ProjectPaths) -> Path:
    """Copy the outputs of the last run of an in-place stage, to restore if this run fails.

    Stages that write in place (interviews, book: their code writes its own files) get
    "all or nothing" this way: a failed or killed run leaves the previous outputs, which
    still match the manifest, instead of a mix of old and new files.
    """
    backup = staging_root(stage, paths) / "backup"
    shutil.rmtree(backup, ignore_errors=True)
    backup.mkdir(parents=True)
    for relative in (read_manifest(stage, paths) or {}).get("outputs", {}):
        source = paths.root / relative
        if (
            source.is_file()
            and not Path(relative).is_absolute()
            and ".." not in Path(relative).parts
        ):
            (backup / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, backup / relative)
    (backup / ".complete").write_text("backup complete\n", encoding="utf-8")
    return backup


def _restore(backup: Path, paths: ProjectPaths) -> bool:
    """Put the backed-up outputs back (only a complete backup); True when done."""
    if not (backup / ".complete").is_file():
        return False
    for copy in backup.rglob("*"):
        if copy.is_file() and copy.name != ".complete":
            target = paths.root / copy.relative_to(backup)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(copy, target)
    return True


def recover(stage: str, paths: ProjectPaths) -> list[str]:
    """Finish a commit a killed run left half-done; remove its orphans.  Returns what was done."""
    done = []
    journal = journal_path(stage, paths)
    if journal.is_file():
        _complete(journal, paths)
        done.append(f"completed the interrupted commit of {stage}")
    staging = staging_root(stage, paths)
    if _restore(staging / "backup", paths):
        done.append(f"restored the outputs of {stage} from before an interrupted run")
    if staging.exists():
        shutil.rmtree(staging)
        done.append(f"removed the staging folder of an interrupted {stage} run")
    recorded = read_manifest(stage, paths) or {}
    names = {Path(p).name for p in recorded.get("outputs", {})} | {
        f"{stage}.json",
        journal.name,
    }
    folders = {(paths.root / p).parent for p in recorded.get("outputs", {})} | {paths.manifests}
    for folder in sorted(folders):
        for orphan in folder.glob(".*.partial") if folder.is_dir() else ():
            if any(orphan.name.startswith(f".{name}.") for name in names):
                orphan.unlink(missing_ok=True)
                done.append(f"removed {orphan.name}")
    return done


def pending_stages(paths: ProjectPaths) -> list[str]:
    """Stages whose last run was interrupted with its outputs half-replaced: a staged
    stage's commit journal, or an in-place stage's complete backup (which also exists
    while such a stage runs, so a reader waits for it)."""
    found = {
        journal.name[len(".commit-") : -len(".json")]
        for journal in (paths.manifests.glob(".commit-*.json") if paths.manifests.is_dir() else ())
    }
    found |= {
        marker.parent.parent.name[len(".staging-") :]
        for marker in (
            paths.processed.glob(".staging-*/backup/.complete") if paths.processed.is_dir() else ()
        )
    }
    return sorted(found)


def _stage_lock(stage: str, paths: ProjectPaths, timeout: float, busy: str) -> FileLock:
    """The stage's lock, acquired; ``busy`` is the error when another run holds it longer
    than ``timeout`` seconds."""
    lock = FileLock(lock_path(stage, paths), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise KosovoStudyError(busy) from None
    return lock


def complete_pending(
    paths: ProjectPaths,
    stages: Sequence[str] | None = None,
    lock_timeout: float = 900.0,
) -> list[str]:
    """Complete (journal) or roll back (backup) every interrupted commit of ``stages``
    (default: every stage), each under that stage's lock, so that whoever reads their
    outputs next sees one whole run, old or new.  Returns what was done."""
    done: list[str] = []
    for stage in pending_stages(paths):
        if stages is not None and stage not in stages:
            continue
        lock = _stage_lock(
            stage,
            paths,
            lock_timeout,
            f"The {stage} stage is being written by another kosovo-study run (it holds "
            f"{lock_path(stage, paths)}), and its outputs are read here; it did not "
            f"finish within {lock_timeout:.0f} s. Wait for it to finish and rerun.",
        )
        try:
            done += recover(stage, paths)
        finally:
            lock.release()
    return done


@dataclass(frozen=True)
class Staging:
    """The folder a staged build writes into, and the mapping to the final paths."""

    root: Path
    paths: ProjectPaths

    def folder(self, final_folder: Path) -> Path:
        """The staging folder standing for ``final_folder`` (created)."""
        folder = self.root / Path(final_folder).resolve().relative_to(self.paths.root.resolve())
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def final(self, staged: Path) -> Path:
        return self.paths.root / Path(staged).relative_to(self.root)


def run_stage(
    stage: str,
    inputs: Sequence[Path],
    build: Callable[..., Iterable[Path]],
    paths: ProjectPaths | None = None,
    force: bool = False,
    *,
    parameters: Mapping[str, Any] | None = None,
    modules: Sequence[str] | None = None,
    staged: bool = False,
    lock_timeout: float = 900.0,
    reads: Sequence[str] | None = None,
) -> StageResult:
    """Run ``build`` unless the stage is up to date; record its manifest.

    ``parameters`` (seeds, sizes, grids) and the fingerprint of ``modules`` (default:
    the whole package) are part of the stage key.  With ``staged``, ``build`` receives a
    :class:`Staging` and writes there; its files and the manifest are moved into place
    together after it returns.  Otherwise ``build()`` writes in place and the manifest
    is written after it succeeded, so a failed stage is rerun next time.

    Before anything is read, the interrupted commits of the stages in ``reads`` (whose
    outputs this one reads; default: every stage) are completed or rolled back.
    """
    paths = paths or project_paths()
    parameters = dict(parameters or {})
    fingerprint = stage_fingerprint(modules) if modules else code_fingerprint()
    paths.manifests.mkdir(parents=True, exist_ok=True)
    others = [name for name in pending_stages(paths) if name != stage]
    complete_pending(
        paths, [name for name in others if reads is None or name in reads], lock_timeout
    )
    lock = _stage_lock(
        stage,
        paths,
        lock_timeout,
        f"Another kosovo-study run is executing the {stage} stage (it holds "
        f"{lock_path(stage, paths)}) and did not finish within {lock_timeout:.0f} s. "
        "Wait for it to finish and rerun; the lock is released when that process ends.",
    )
    try:
        recover(stage, paths)
        if not force and is_up_to_date(stage, inputs, paths, parameters, fingerprint):
            recorded = read_manifest(stage, paths) or {}
            return StageResult(
                stage, True, recorded, [paths.root / p for p in recorded.get("outputs", {})]
            )
        started = time.perf_counter()
        # Hashed before the build and checked after it: an input edited while the stage
        # ran would otherwise be recorded with outputs built from its old content, and
        # the stage skipped next time with stale results.
        input_hashes = hash_files(inputs, paths.root)
        staging = Staging(staging_root(stage, paths), paths) if staged else None
        if staging is not None:
            staging.root.mkdir(parents=True)
            written = [Path(p) for p in build(staging)]
            outputs = [staging.final(p) for p in written]
        else:
            backup = _back_up(stage, paths)
            try:
                written = outputs = [Path(p) for p in build()]
            except BaseException:
                _restore(backup, paths)
                raise
        if hash_files(inputs, paths.root) != input_hashes:
            changed = sorted(
                name
                for name, digest in hash_files(inputs, paths.root).items()
                if input_hashes.get(name) != digest
            )
            raise KosovoStudyError(
                f"The inputs of the {stage} stage changed while it ran ({', '.join(changed)}); "
                "its results were not recorded, since they may mix old and new input. Rerun "
                "the stage once the files are final."
            )
        manifest = {
            "stage": stage,
            "package_version": __version__,
            "git_commit": git_commit(paths.root),
            "code_fingerprint": fingerprint,
            "code_modules": list(module_closure(tuple(modules))) if modules else ["(all)"],
            "parameters": parameters,
            "parameters_sha256": parameters_sha256(parameters),
            "analysis_plan": manifest_entry(paths),
            "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - started, 3),
            "inputs": input_hashes,
            "outputs": {
                _relative(final, paths.root): sha256_file(staged_file)
                for staged_file, final in sorted(zip(written, outputs, strict=True), key=str)
            },
        }
        text = json.dumps(manifest, indent=2, default=str) + "\n"
        if staging is None:
            write_text_atomic(manifest_path(stage, paths), text)
        else:
            staged_manifest = staging.folder(paths.manifests) / f"{stage}.json"
            staged_manifest.write_text(text, encoding="utf-8")
            moves = [
                *zip(written, outputs, strict=True),
                (staged_manifest, manifest_path(stage, paths)),
            ]
            previous = (read_manifest(stage, paths) or {}).get("outputs", {})
            current = {_relative(final, paths.root) for final in outputs}
            stale = [
                paths.root / old
                for old in previous
                if old not in current
                and not Path(old).is_absolute()
                and ".." not in Path(old).parts
            ]
            _commit(stage, moves, paths, stale)
            shutil.rmtree(staging.root, ignore_errors=True)
        return StageResult(stage, False, manifest, outputs)
    finally:
        # A journal left behind means the moves failed half-way: keep the staged files
        # so that the next run can complete them.
        if not journal_path(stage, paths).exists():
            shutil.rmtree(staging_root(stage, paths), ignore_errors=True)
        lock.release()
