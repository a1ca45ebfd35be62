"""Exact invalidation, proved by mutation (issue 23): mutate one thing at a time and
compare the stages whose key changes with the stages that truly depend on it.

Keys are computed (:func:`kosovo_study.stages.key`), stages are not run, except clean
once (the later stages' inputs are its outputs).  The truth comes from outside the key:

* raw inputs: the files each stage *opens*, recorded with an audit hook while clean,
  the multiverse's input loading and the book's preparation run (the models stage's
  reads are listed by hand from its code: it is too slow to run here);
* parameters: the configuration's own grouping (``multiverse_*`` belong to the
  multiverse, ``design_*`` to the design diagnosis, the lock timeout to no key, the rest
  to the models);
* code: module by module, judged by hand (below): a stage depends on a module when its
  code imports it, directly or through a package it imports;
* the style file and ``uv.lock``.

Precision and recall are both 1.0 when the two sets agree for every mutation.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from kosovo_study import manifest, stages
from kosovo_study.config import StudyConfig
from kosovo_study.paths import ProjectPaths

from .conftest import REPO

ALL = frozenset(stage.name for stage in STAGES) if (STAGES := stages.STAGES) else frozenset()

# --- recording what a stage opens ------------------------------------------------------

_OPENED: list[set[Path]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """Record files opened for reading (``open`` events of builtins.open and os.open)."""
    if event != "open" or not _OPENED or not isinstance(args[0], str | bytes | Path):
        return
    mode, flags = (args[1], args[2]) if len(args) > 2 else (None, 0)
    writing = (
        any(c in mode for c in "wax+")
        if isinstance(mode, str)
        else bool(flags & (os.O_WRONLY | os.O_RDWR))
    )
    if not writing:
        _OPENED[-1].add(Path(os.fsdecode(args[0])).resolve())


sys.addaudithook(_audit)


def _opened(action: Callable[[], object]) -> set[Path]:
    """Files ``action`` opens for reading.  Parquet files are read by Arrow's C++ code,
    which no audit hook sees, so ``pandas.read_parquet`` records its path as well."""
    import pandas as pd

    real = pd.read_parquet

    def recording(path: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(path, str | Path):
            _OPENED[-1].add(Path(path).resolve())
        return real(path, *args, **kwargs)

    import time

    started = time.time_ns()
    from kosovo_study.municipalities import _cached_register
    from kosovo_study.registry import load_registry

    _cached_register.cache_clear()  # read again, so that the read is seen
    getattr(load_registry, "cache_clear", lambda: None)()
    _OPENED.append(set())
    pd.read_parquet = recording
    try:
        action()
    finally:
        pd.read_parquet = real
        found = _OPENED.pop()
    # what it wrote itself and read back (hashes, a generated study) is not an input
    return {p for p in found if p.is_file() and p.stat().st_mtime_ns < started}


# --- the project, cleaned once ---------------------------------------------------------


@pytest.fixture(scope="module")
def cleaned(fetched_project: ProjectPaths, tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("invalidation") / "project"
    shutil.copytree(fetched_project.root, root)
    paths = ProjectPaths(root)
    shutil.copy(REPO.root / "uv.lock", root / "uv.lock")
    shutil.copytree(
        REPO.book, paths.book, ignore=shutil.ignore_patterns("_build", ".jupyter_cache")
    )
    reads: dict[str, set[Path]] = {}
    reads["clean"] = _opened(lambda: stages.run("clean", paths))

    def multiverse_reads() -> None:
        from kosovo_study.models import multiverse_stage, read_processed

        multiverse_stage.multiverse_inputs(paths, 9, 1)
        read_processed(paths, "countries")  # the cross-national multiverse's table

    reads["multiverse"] = _opened(multiverse_reads)

    def design_reads() -> None:
        from kosovo_study.models import diagnosis, read_processed

        for name in diagnosis.PROCESSED_INPUTS:
            read_processed(paths, name)

    reads["design"] = _opened(design_reads)
    # the models stage's metadata, which the book hashes (not run here: too slow)
    paths.results.mkdir(parents=True, exist_ok=True)
    (paths.results / "metadata.json").write_text("{}\n", encoding="utf-8")
    reads["book"] = _opened(lambda: stages.STAGE_BY_NAME["book"].prepare(paths))
    from kosovo_study.models import crossnational

    # The models stage (by hand, from kosovo_study.models.build_results): the processed
    # tables, the published results and the cross-national comparison's files.
    reads["models"] = {
        *(
            paths.processed / f"{n}.parquet"
            for n in ("municipalities", "countries", "kosovo_national")
        ),
        paths.transcribed / "published_results.csv",
        *(p.resolve() for p in crossnational.extra_input_files(paths)),
    }
    reads["models"].add(paths.registry_file)  # to find the D&S file
    # no export: the synthetic study, generated (and its outputs are the book's)
    reads["interviews"] = _opened(lambda: stages.run("interviews", paths))
    reads = {name: {p.resolve() for p in files} for name, files in reads.items()}
    return paths, reads


def _keys(paths: ProjectPaths, config: StudyConfig | None = None) -> dict[str, Any]:
    """Every stage's key; a stage that refuses to run (a registered raw file whose
    sha256 no longer matches the registry stops clean with an error) counts as one
    that is not skipped: its "key" is the error."""
    from kosovo_study.errors import KosovoStudyError

    def one(name: str) -> Any:
        try:
            if name == "book":
                stages.STAGE_BY_NAME["book"].prepare(paths)  # the bibliography, as run()
            return stages.key(name, paths, config)
        except KosovoStudyError as error:
            return f"refused: {error}"

    return {name: one(name) for name in ALL}


def _changed(before: dict[str, Any], after: dict[str, Any]) -> frozenset[str]:
    return frozenset(name for name in ALL if before[name] != after[name])


def _score(cases: dict[str, tuple[frozenset[str], frozenset[str]]]) -> tuple[float, float]:
    """Precision and recall over every (mutation, stage) pair: (changed, true)."""
    hit = sum(len(changed & true) for changed, true in cases.values())
    reran = sum(len(changed) for changed, _ in cases.values())
    needed = sum(len(true) for _, true in cases.values())
    return (hit / reran if reran else 1.0, hit / needed if needed else 1.0)


def _assert_exact(cases: dict[str, tuple[frozenset[str], frozenset[str]]]) -> None:
    wrong = {k: (sorted(c), sorted(t)) for k, (c, t) in cases.items() if c != t}
    assert wrong == {}, "mutation: (reran, true dependents)"
    assert _score(cases) == (1.0, 1.0)


@contextmanager
def _flipped(path: Path) -> Iterator[None]:
    """One byte of ``path`` flipped, restored on exit."""
    data = path.read_bytes()
    middle = len(data) // 2
    path.write_bytes(data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :])
    try:
        yield
    finally:
        path.write_bytes(data)


def _mutation(paths: ProjectPaths, path: Path, config: StudyConfig | None = None) -> frozenset[str]:
    before = _keys(paths, config)
    with _flipped(path):
        after = _keys(paths, config)
    return _changed(before, after)


# --- raw inputs ------------------------------------------------------------------------


def _raw_files(paths: ProjectPaths) -> list[Path]:
    return sorted(p for p in paths.raw.rglob("*") if p.is_file() and p.name != ".gitignore")


def test_each_stage_hashes_every_file_it_opens(cleaned: Any) -> None:
    paths, reads = cleaned
    for name in ("clean", "design", "multiverse", "interviews"):
        hashed = {p.resolve() for p in stages.STAGE_BY_NAME[name].inputs(paths)}
        data = {
            p
            for p in reads[name]
            if p.is_relative_to(paths.data.resolve())
            and not p.is_relative_to(paths.manifests.resolve())
            and ".staging-" not in p.as_posix()
            and p.is_file()
        }
        assert data or name == "interviews", name
        assert data - hashed == set(), f"{name} reads files outside its key"


def test_one_byte_of_each_raw_input_reruns_exactly_its_readers(cleaned: Any) -> None:
    paths, reads = cleaned
    cases = {}
    for raw in _raw_files(paths):
        readers = {name for name, opened in reads.items() if raw.resolve() in opened}
        cases[raw.relative_to(paths.root).as_posix()] = (
            _mutation(paths, raw),
            frozenset(readers),
        )
    assert len(cases) > 20
    _assert_exact(cases)


def test_a_processed_table_reruns_its_readers_only(cleaned: Any) -> None:
    paths, _ = cleaned
    cases = {}
    for name, truth in {
        "municipalities.parquet": {"models", "design", "multiverse", "book"},
        "countries.parquet": {"models", "multiverse", "book"},
        "municipalities.csv": {"models"},  # its CSV twin is recorded in metadata.json
        "rejects.parquet": {"book"},
    }.items():
        cases[name] = (_mutation(paths, paths.processed / name), frozenset(truth))
    _assert_exact(cases)


# --- parameters, environment, pages ----------------------------------------------------


#: Cross-national parameters the multiverse reads too: its calibration columns (the
#: out-of-fold folds) and the hurdle's AME draws.
MULTIVERSE_CROSSNATIONAL = frozenset(
    {
        "crossnational_oof_folds",
        "crossnational_oof_replicates",
        "crossnational_oof_seed",
        "crossnational_simulation_draws",
        "crossnational_seed",
    }
)


def _parameter_truth(name: str) -> frozenset[str]:
    if name == "lock_timeout_seconds":
        return frozenset()  # how long to wait, not what is computed
    if name.startswith("design_"):
        return frozenset({"design"})  # the design diagnosis's block
    if name in MULTIVERSE_CROSSNATIONAL:
        return frozenset({"models", "multiverse"})
    if name == "synthetic_outcome_seed":  # the municipal outcome both stages model
        return frozenset({"models", "multiverse"})
    if name.startswith("interview"):
        return frozenset({"interviews"})
    return frozenset({"multiverse" if name.startswith("multiverse") else "models"})


def test_one_parameter_at_a_time_reruns_exactly_its_stage(cleaned: Any) -> None:
    import dataclasses

    paths, _ = cleaned
    base = StudyConfig()
    before = _keys(paths, base)
    cases = {}
    for field in fields(StudyConfig):
        changed = dataclasses.replace(base, **{field.name: getattr(base, field.name) + 1})
        cases[field.name] = (_changed(before, _keys(paths, changed)), _parameter_truth(field.name))
    _assert_exact(cases)


def test_uv_lock_and_a_book_page(cleaned: Any) -> None:
    paths, _ = cleaned
    cases = {
        "uv.lock": (_mutation(paths, paths.root / "uv.lock"), ALL),
        "book/municipalities.md": (
            _mutation(paths, paths.book / "municipalities.md"),
            frozenset({"book"}),
        ),
    }
    _assert_exact(cases)


# --- code, module by module (the style file included) ---------------------------------

_SHARED = ALL
#: True dependents of each package module (by prefix; the longest prefix wins).
CODE_TRUTH: dict[str, frozenset[str]] = {
    # orchestration and the command line: no stage's output
    "cli.py": frozenset(),
    "__main__.py": frozenset(),
    "outputs.py": frozenset(),
    # the replication tools run above the stages (verify reruns them; record and crate
    # describe a finished run); the book's pages show the DCAS table and the notebooks
    # list, and importing replication.dcas runs the package's __init__
    "replication/": frozenset({"book"}),
    "replication/verify.py": frozenset(),
    "replication/metadata.py": frozenset(),
    # the foundation every stage imports
    "__init__.py": _SHARED,
    "config.py": _SHARED,
    "errors.py": _SHARED,
    "paths.py": _SHARED,
    "stages.py": _SHARED,
    "storage.py": _SHARED,
    "schemas.py": _SHARED,
    "tablefile.py": _SHARED,
    # the result object: the models return it, and so does the interviewee model
    "results.py": frozenset({"models", "design", "multiverse", "interviews", "book"}),
    # the restricted file's reader and the study rules: the models (and the book, which
    # imports them); clean and interviews use tablefile's schema check only
    "validation.py": frozenset({"models", "design", "multiverse", "book"}),
    # the disclosure guard: called by storage before every write; its own source enters
    # every key, what it imports (validator, census, models) does not
    "disclosure.py": _SHARED,
    # the analysis plan's reader: the models label their rows with it
    "plan.py": frozenset({"models", "design", "multiverse", "book"}),
    "municipalities.py": _SHARED,
    "registry.py": frozenset({"clean", "models", "design", "multiverse", "book"}),
    "manifest.py": frozenset(
        {"models", "design", "multiverse", "book"}
    ),  # hash_files, read_manifest
    "citation.py": frozenset({"book"}),
    # the simulation-evidence records: the tests read them, the book's appendix shows them
    "simulation_evidence.py": frozenset({"book"}),
    # clean: the models import clean.fighters and clean.countries, the book
    # clean.boundaries; importing one runs the package (every clean module)
    "clean/": frozenset({"clean", "models", "design", "multiverse", "book"}),
    # D&S imputed features: a processed table the cross-national models read
    "clean/ds2016.py": frozenset({"clean", "models", "design", "multiverse", "book"}),
    # the models: the book imports kosovo_study.models (load_results) and countmodels
    # (the design stage imports the models package and its modules, as the multiverse does)
    "models/": frozenset({"models", "design", "multiverse", "book"}),
    # the design diagnosis: its own stage only
    "models/diagnosis.py": frozenset({"design"}),
    # the imputation check: a simulation the design stage runs
    "models/crossnational/mi_coverage.py": frozenset({"design"}),
    "models/multiverse.py": frozenset({"multiverse"}),
    "models/multiverse_stage.py": frozenset({"multiverse"}),
    # the verdict table is written by the multiverse stage (it reads both stages' results)
    "models/verdict.py": frozenset({"multiverse"}),
    "models/crossnational/multiverse.py": frozenset({"multiverse"}),
    # the joint test over the calibrated subset: the multiverse stage runs it
    "models/crossnational/calibrated_joint.py": frozenset({"multiverse"}),
    # the imputation chains' trace: the models stage writes it, the book glues its R-hat
    "models/crossnational/imputation_chains.py": frozenset(
        {"models", "design", "multiverse", "book"}
    ),
    # interviews: the book imports the codebook (its package) and the privacy guard
    "interviews/": frozenset({"interviews"}),
    "interviews/__init__.py": frozenset({"interviews", "book"}),
    "interviews/codebook.py": frozenset({"interviews", "book"}),
    "interviews/codebook.yaml": frozenset({"interviews", "book"}),
    "interviews/privacy.py": frozenset({"interviews", "book"}),
    "interviews/gazetteer.py": frozenset({"interviews", "book"}),
    "interviews/data/": frozenset({"interviews", "book"}),
    # the report and its style file: the book only
    "report/": frozenset({"book"}),
    # the writing checks read a built book; no page imports them
    "report/prose.py": frozenset(),
}


def _truth(relative: str) -> frozenset[str]:
    best = max((p for p in CODE_TRUTH if relative.startswith(p) or relative == p), key=len)
    return CODE_TRUTH[best]


def _mutated(text: str, suffix: str) -> str:
    """One statement added at the top of the first function's body (Python), or one
    line added (data and style files)."""
    import ast

    if suffix != ".py":
        return text + "\n"
    functions = [
        n
        for n in ast.walk(ast.parse(text))
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    if not functions:
        return text + "\n_mutated = 1\n"
    first = min(functions, key=lambda n: n.lineno).body[0]
    lines = text.splitlines(keepends=True)
    indent = " " * first.col_offset
    lines.insert(first.lineno - 1, f"{indent}_mutated = 1\n")
    return "".join(lines)


def test_one_edit_per_module_reruns_exactly_its_dependents(
    cleaned: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths, _ = cleaned
    copy = tmp_path / "kosovo_study"
    shutil.copytree(manifest.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(manifest, "PACKAGE_DIR", copy)

    def fingerprints() -> dict[str, str]:
        manifest.module_closure.cache_clear()
        return {s.name: manifest.stage_fingerprint(s.code_roots(paths)) for s in stages.STAGES}

    before = fingerprints()
    cases = {}
    try:
        for file in sorted(copy.rglob("*")):
            if file.suffix not in {".py", ".yaml", ".mplstyle", ".csv", ".json"}:
                continue
            relative = file.relative_to(copy).as_posix()
            original = file.read_bytes()
            file.write_text(_mutated(original.decode("utf-8"), file.suffix), encoding="utf-8")
            after = fingerprints()
            file.write_bytes(original)
            changed = frozenset(n for n in ALL if before[n] != after[n])
            cases[relative] = (changed, _truth(relative))
    finally:
        manifest.module_closure.cache_clear()
    assert "report/kosovo.mplstyle" in cases  # the style file enters the book's key
    assert cases["cli.py"][0] == frozenset()  # a help-text edit reruns nothing
    _assert_exact(cases)
