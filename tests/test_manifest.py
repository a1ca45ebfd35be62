"""Stage manifests: hashes recorded, unchanged stages skipped, --force and changes rerun."""

from __future__ import annotations

from pathlib import Path

import pytest

from kosovo_study import __version__
from kosovo_study.manifest import read_manifest, run_stage
from kosovo_study.paths import ProjectPaths
from kosovo_study.storage import sha256_file


def _stage(paths: ProjectPaths, calls: list[int]):  # type: ignore[no-untyped-def]
    source = paths.raw / "input.txt"
    target = paths.processed / "output.txt"

    def build() -> list[Path]:
        calls.append(1)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.read_text(encoding="utf-8").upper(), encoding="utf-8")
        return [target]

    return source, target, build


def test_manifest_records_hashes_version_and_time(project: ProjectPaths) -> None:
    calls: list[int] = []
    source, target, build = _stage(project, calls)
    source.write_text("abc", encoding="utf-8")
    result = run_stage("demo", [source], build, project)
    assert not result.skipped
    manifest = read_manifest("demo", project)
    assert manifest is not None
    assert manifest["inputs"] == {"data/raw/input.txt": sha256_file(source)}
    assert manifest["outputs"] == {"data/processed/output.txt": sha256_file(target)}
    assert manifest["package_version"] == __version__
    assert manifest["seconds"] >= 0
    assert "git_commit" in manifest


def test_unchanged_stage_is_skipped_and_force_reruns(project: ProjectPaths) -> None:
    calls: list[int] = []
    source, _target, build = _stage(project, calls)
    source.write_text("abc", encoding="utf-8")
    run_stage("demo", [source], build, project)
    assert run_stage("demo", [source], build, project).skipped
    assert len(calls) == 1
    assert not run_stage("demo", [source], build, project, force=True).skipped
    assert len(calls) == 2


def test_changed_input_or_damaged_output_reruns(project: ProjectPaths) -> None:
    calls: list[int] = []
    source, target, build = _stage(project, calls)
    source.write_text("abc", encoding="utf-8")
    run_stage("demo", [source], build, project)
    source.write_text("abd", encoding="utf-8")
    assert not run_stage("demo", [source], build, project).skipped
    target.write_text("edited by hand", encoding="utf-8")
    assert not run_stage("demo", [source], build, project).skipped
    assert target.read_text(encoding="utf-8") == "ABD"
    assert len(calls) == 3


def test_failed_stage_writes_no_manifest(project: ProjectPaths) -> None:
    source = project.raw / "input.txt"
    source.write_text("abc", encoding="utf-8")

    def build() -> list[Path]:
        raise RuntimeError("stage failed")

    with pytest.raises(RuntimeError):
        run_stage("broken", [source], build, project)
    assert read_manifest("broken", project) is None


def test_an_import_added_to_a_module_enters_the_closure_in_the_same_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each module's imports are parsed once per process; an edited module is parsed
    again (the cache is keyed by modification time and size), so a new import counts."""
    from kosovo_study import manifest

    package = tmp_path / "kosovo_study"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    stage = package / "stage.py"
    stage.write_text("import os\n\n\ndef run():\n    from kosovo_study.sub import helper\n")
    (package / "sub" / "helper.py").write_text("X = 1\n")
    (package / "late.py").write_text("Y = 2\n")
    monkeypatch.setattr(manifest, "PACKAGE_DIR", package)
    manifest.module_closure.cache_clear()
    before = manifest.module_closure(("kosovo_study.stage",))
    # A lazy import inside a function counts; the parent packages too.
    assert before == (
        "kosovo_study",
        "kosovo_study.stage",
        "kosovo_study.sub",
        "kosovo_study.sub.helper",
    )
    fingerprint = manifest.stage_fingerprint(("kosovo_study.stage",))
    stage.write_text(stage.read_text() + "    if True:\n        import kosovo_study.late\n")
    manifest.module_closure.cache_clear()  # _parsed_imports' cache is not cleared
    assert "kosovo_study.late" in manifest.module_closure(("kosovo_study.stage",))
    assert manifest.stage_fingerprint(("kosovo_study.stage",)) != fingerprint
    manifest.module_closure.cache_clear()
