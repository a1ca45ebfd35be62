"""Stage integrity: parameters and per-stage code in the key, whole outputs, locks, no fallback."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from filelock import FileLock
from hypothesis import given, settings
from hypothesis import strategies as st

from kosovo_study import cli, manifest, stages
from kosovo_study.config import StudyConfig, load_config, parse_assignments
from kosovo_study.errors import KosovoStudyError
from kosovo_study.manifest import (
    StageResult,
    Staging,
    journal_path,
    lock_path,
    module_closure,
    read_manifest,
    recover,
    run_stage,
    stage_fingerprint,
    staging_root,
)
from kosovo_study.models.outcome import locate_restricted, restricted_path
from kosovo_study.paths import ProjectPaths

# --- parameters are part of the stage key ----------------------------------------------


def _demo(paths: ProjectPaths, calls: list[dict[str, int]]):  # type: ignore[no-untyped-def]
    source = paths.raw / "input.txt"
    source.write_text("abc", encoding="utf-8")

    def build(staging: Staging, parameters: dict[str, int]) -> list[Path]:
        calls.append(parameters)
        folder = staging.folder(paths.results)
        written = []
        for name in ("table_a.csv", "table_b.csv", "metadata.json"):
            (folder / name).write_text(json.dumps(parameters), encoding="utf-8")
            written.append(folder / name)
        return written

    return source, build


def test_changed_parameters_rerun_the_stage(project: ProjectPaths) -> None:
    calls: list[dict[str, int]] = []
    source, build = _demo(project, calls)

    def run(**parameters: int) -> StageResult:
        return run_stage(
            "demo",
            [source],
            lambda staging: build(staging, parameters),
            project,
            parameters=parameters,
            staged=True,
        )

    assert not run(permutations=999, seed=2020).skipped
    assert run(permutations=999, seed=2020).skipped
    result = run(permutations=99, seed=1)
    assert not result.skipped
    assert calls[-1] == {"permutations": 99, "seed": 1}
    stored = json.loads((project.results / "metadata.json").read_text(encoding="utf-8"))
    assert stored == {"permutations": 99, "seed": 1}
    assert read_manifest("demo", project)["parameters"] == {"permutations": 99, "seed": 1}  # type: ignore[index]
    assert len(calls) == 2


def test_run_multiverse_puts_its_arguments_in_the_key(
    project: ProjectPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, object]] = []

    def fake_run_stage(*args: object, **kwargs: object) -> StageResult:
        del args
        seen.append(dict(kwargs["parameters"]))  # type: ignore[call-overload]
        return StageResult("multiverse", True, {}, [])

    monkeypatch.setattr(stages, "run_stage", fake_run_stage)
    monkeypatch.setattr(stages, "missing_needs", lambda _name, _paths: [])
    monkeypatch.setitem(
        stages.STAGE_BY_NAME,
        "multiverse",
        dataclasses.replace(stages.STAGE_BY_NAME["multiverse"], inputs=lambda _p, **_o: []),
    )
    overrides = {"multiverse_permutations": 99, "multiverse_seed": 1}
    stages.run("multiverse", project, load_config(project.root, overrides))
    stages.run("multiverse", project)
    assert (seen[0]["permutations"], seen[0]["seed"]) == (99, 1)
    assert (seen[1]["permutations"], seen[1]["seed"]) == (999, 2020)
    assert seen[0]["grid"] == seen[1]["grid"]
    assert "unemployment" in json.dumps(seen[0]["grid"])


def test_models_key_holds_every_seed_and_size() -> None:
    parameters = StudyConfig().models_parameters()
    assert parameters["crossnational_seed"] == 2015
    assert parameters["crossnational_simulation_draws"] == 200
    for name in ("permutation_seed", "bootstrap_seed", "permutations"):
        assert name in parameters
    assert "multiverse_seed" not in parameters  # the multiverse has its own key
    assert "design_seed" not in parameters  # and so has the design diagnosis
    assert StudyConfig().design_parameters() == {
        "design_simulations": 4000,
        "design_permutation_simulations": 700,
        "design_permutations": 99,
        "design_seed": 2019,
        "design_mi_coverage_replicates": 200,
        "design_mi_coverage_imputations": 5,
        "design_mi_coverage_seed": 1999,
    }


# --- configuration ---------------------------------------------------------------------


def test_config_from_pyproject_and_command_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.kosovo_study]\nmultiverse_permutations = 199\nbootstrap_seed = 7\n",
        encoding="utf-8",
    )
    config = load_config(tmp_path, parse_assignments(["bootstrap_seed=8"]))
    assert (config.multiverse_permutations, config.bootstrap_seed) == (199, 8)
    assert config.municipal_parameters()["bootstrap_seed"] == 8


@pytest.mark.parametrize(
    ("text", "overrides", "pattern"),
    [
        ("[tool.kosovo_study]\npermutation = 9\n", {}, r"unknown parameters \['permutation'\]"),
        ("[tool.kosovo_study]\npermutations = 'many'\n", {}, r"not an integer"),
        ("[tool.kosovo_study]\npermutations = 0\n", {}, r"at least 1"),
        ("[tool.kosovo_study\n", {}, r"not valid TOML"),
        ("", {"multiverse_seed": "-1"}, r"non-negative"),
        ("", {"multiverse_seed": "1.5"}, r"not an integer"),
    ],
)
def test_bad_configuration_is_named(
    tmp_path: Path, text: str, overrides: dict[str, str], pattern: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    with pytest.raises(KosovoStudyError, match=pattern):
        load_config(tmp_path, overrides)


def test_set_needs_name_and_value() -> None:
    with pytest.raises(KosovoStudyError, match="NAME=VALUE"):
        parse_assignments(["permutations"])


# --- one code fingerprint per stage ------------------------------------------------------


def test_stage_code_closures() -> None:
    clean = module_closure(stages.STAGE_BY_NAME["clean"].modules)
    model = module_closure(stages.STAGE_BY_NAME["models"].modules)
    multiverse = module_closure(stages.STAGE_BY_NAME["multiverse"].modules)
    for closure in (clean, model, multiverse):
        assert not any(m.startswith("kosovo_study.report") for m in closure)
        assert "kosovo_study.stages" not in closure
    assert "kosovo_study.models.engine" in model
    assert "kosovo_study.models" not in clean
    assert "kosovo_study.models.multiverse" in multiverse


def test_editing_a_figure_function_changes_no_data_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "kosovo_study"
    shutil.copytree(manifest.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(manifest, "PACKAGE_DIR", copy)
    module_closure.cache_clear()
    roots = {name: stages.STAGE_BY_NAME[name].modules for name in ("clean", "models", "multiverse")}
    before = {name: stage_fingerprint(r) for name, r in roots.items()}
    figures = copy / "report" / "figures.py"
    figures.write_text(figures.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    module_closure.cache_clear()
    assert {name: stage_fingerprint(r) for name, r in roots.items()} == before
    engine = copy / "models" / "engine" / "special.py"
    engine.write_text(engine.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    module_closure.cache_clear()
    after = {name: stage_fingerprint(r) for name, r in roots.items()}
    assert after["clean"] == before["clean"]
    assert after["models"] != before["models"]
    assert after["multiverse"] != before["multiverse"]
    module_closure.cache_clear()


# --- whole outputs ---------------------------------------------------------------------


def _first_run(project: ProjectPaths) -> tuple[Path, list[dict[str, int]]]:
    calls: list[dict[str, int]] = []
    source, build = _demo(project, calls)
    run_stage("demo", [source], lambda s: build(s, {"v": 1}), project, staged=True)
    return source, calls


def test_a_failing_build_leaves_the_old_outputs(project: ProjectPaths) -> None:
    source, _ = _first_run(project)

    def broken(staging: Staging) -> list[Path]:
        (staging.folder(project.results) / "table_a.csv").write_text("new", encoding="utf-8")
        raise RuntimeError("killed half-way")

    with pytest.raises(RuntimeError):
        run_stage("demo", [source], broken, project, staged=True, force=True)
    assert (project.results / "table_a.csv").read_text(encoding="utf-8") == '{"v": 1}'
    assert not staging_root("demo", project).exists()
    assert run_stage("demo", [source], broken, project, staged=True).skipped


def test_a_commit_killed_half_way_is_completed_by_the_next_run(
    project: ProjectPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, calls = _first_run(project)
    _, build = _demo(project, calls)
    real_replace = Path.replace
    moved: list[Path] = []

    def dying_replace(self: Path, target: Path) -> Path:  # type: ignore[override]
        if len(moved) == 1 and ".staging-" in str(self):
            raise KeyboardInterrupt  # the run is killed after the first move
        moved.append(self)
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", dying_replace)
    with pytest.raises(KeyboardInterrupt):
        run_stage("demo", [source], lambda s: build(s, {"v": 2}), project, staged=True, force=True)
    monkeypatch.setattr(Path, "replace", real_replace)
    assert journal_path("demo", project).exists()
    assert recover("demo", project)[0].startswith("completed the interrupted commit")
    for name in ("table_a.csv", "table_b.csv", "metadata.json"):  # all new, none old
        assert (project.results / name).read_text(encoding="utf-8") == '{"v": 2}'
    assert read_manifest("demo", project)["outputs"]  # type: ignore[index]
    assert run_stage("demo", [source], lambda s: build(s, {"v": 2}), project, staged=True).skipped


def test_orphans_of_a_killed_run_are_removed(project: ProjectPaths) -> None:
    source, calls = _first_run(project)
    orphan = project.results / ".table_a.csv.abc123.partial"
    orphan.write_text("half", encoding="utf-8")
    other = project.results / ".someone_else.csv.x.partial"
    other.write_text("not ours", encoding="utf-8")
    staging_root("demo", project).mkdir()
    (staging_root("demo", project) / "left.csv").write_text("x", encoding="utf-8")
    _, build = _demo(project, calls)
    run_stage("demo", [source], lambda s: build(s, {"v": 1}), project, staged=True)
    assert not orphan.exists()
    assert other.exists()  # another stage's file is not touched
    assert not staging_root("demo", project).exists()


def test_a_locked_stage_waits_then_says_why(project: ProjectPaths) -> None:
    source, calls = _first_run(project)
    _, build = _demo(project, calls)
    with (
        FileLock(lock_path("demo", project)),
        pytest.raises(
            KosovoStudyError, match="Another kosovo-study run is executing the demo stage"
        ),
    ):
        run_stage("demo", [source], lambda s: build(s, {"v": 1}), project, lock_timeout=0.2)


# --- the restricted path: nothing, the file, or a stop -----------------------------------


def test_nothing_there_means_synthetic(project: ProjectPaths) -> None:
    assert locate_restricted(project) is None
    project.restricted.mkdir(parents=True)
    (project.restricted / "interviews.qdpx").write_bytes(b"PK")
    (project.restricted / "interviews.key").write_text("k" * 40, encoding="utf-8")
    assert locate_restricted(project) is None
    assert "SYNTHETIC" in stages.outcome_notice(project)


@pytest.mark.parametrize(
    "name",
    [
        "fighters_by_municipality.CSV",
        "Fighters_by_municipality.csv",
        "fighters_by_municipality.xlsx",
        "fighters_by_municipality.csv.bak",
        "fighters.csv",
        "foreign_fighters_2017.xlsx",
        "figthers_by_municipalty.csv",
    ],
)
def test_a_file_near_the_path_stops_the_run(project: ProjectPaths, name: str) -> None:
    project.restricted.mkdir(parents=True)
    (project.restricted / name).write_text("x", encoding="utf-8")
    with pytest.raises(KosovoStudyError, match=rf"holds {name}.*The run stops"):
        locate_restricted(project)
    (project.restricted / "fighters_by_municipality.csv").write_text("x", encoding="utf-8")
    with pytest.raises(KosovoStudyError, match="beside the file of that name"):
        locate_restricted(project)


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda p: p.symlink_to("/nonexistent/fighters.csv"), "dangling"),
        (lambda p: p.symlink_to("/etc/passwd"), "system file"),
        (lambda p: p.mkdir(), "is a directory"),
    ],
)
def test_odd_things_at_the_path_stop_the_run(project: ProjectPaths, make, pattern: str) -> None:  # type: ignore[no-untyped-def]
    project.restricted.mkdir(parents=True)
    make(restricted_path(project))
    with pytest.raises(KosovoStudyError, match=pattern):
        locate_restricted(project)
    with pytest.raises(KosovoStudyError, match=pattern):
        stages._model_inputs(project)  # before any up-to-date check


def test_a_dangling_restricted_folder_stops_the_run(project: ProjectPaths) -> None:
    project.restricted.symlink_to(project.root / "unmounted_volume")
    with pytest.raises(KosovoStudyError, match="restricted folder"):
        locate_restricted(project)


# --- the CLI uses the stage list ----------------------------------------------------------


def test_report_runs_the_stage_list_in_order_and_prints_notices(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    order: list[str] = []

    def fake_run(
        name: str, paths: object, config: object, force: bool, **options: object
    ) -> StageResult:
        del paths, config, force, options
        order.append(name)
        return StageResult(name, True, {}, [])

    patched = tuple(
        dataclasses.replace(
            s, notice=(lambda _paths: "SYNTHETIC notice") if s.name == "models" else s.notice
        )
        for s in stages.STAGES
    )
    monkeypatch.setattr(stages, "STAGES", patched)
    monkeypatch.setattr(stages, "STAGE_BY_NAME", {s.name: s for s in patched})
    monkeypatch.setattr(stages, "run", fake_run)
    monkeypatch.setattr(stages, "missing_needs", lambda _name, _paths: [])
    monkeypatch.setattr(cli, "cmd_fetch", lambda _args: 0)
    assert cli.main(["report", "--set", "multiverse_permutations=9"]) == 0
    assert order == [s.name for s in stages.STAGES]
    err = capsys.readouterr().err
    assert "models: SYNTHETIC notice" in err
    assert cli.main(["models"]) == 0  # skipped, and still says so
    assert "models: SYNTHETIC notice" in capsys.readouterr().err
    order.clear()
    assert cli.main(["report", "--from", "models", "--to", "multiverse"]) == 0
    assert order == ["models", "design", "multiverse"]
    assert cli.main(["report", "--from", "book", "--to", "clean"]) == 1
    assert "comes after" in capsys.readouterr().err


# --- the book reads the polygons from data/processed ---------------------------------------


def test_polygons_round_trip_through_geoparquet(
    fetched_project: ProjectPaths, tmp_path: Path
) -> None:
    from kosovo_study.clean import boundaries
    from kosovo_study.municipalities import load_register
    from kosovo_study.registry import raw_path
    from kosovo_study.report.book import BookData

    polygons = boundaries.read_polygons(
        raw_path("geoboundaries_xkx_adm2", fetched_project), load_register()
    )
    written = boundaries.write_polygons(polygons, tmp_path)
    assert written.name == "municipality_polygons.parquet"
    back = BookData(ProjectPaths(tmp_path / "root"), {}, {}, {})
    with pytest.raises(KosovoStudyError, match="Run `kosovo-study clean`"):
        back.polygons()
    read = boundaries.read_processed_polygons(tmp_path)
    assert list(read["municipality_id"]) == list(range(1, 39))
    assert read.crs.to_epsg() == 4326
    assert (read.to_crs("EPSG:3035").geometry.area > 0).all()


# --- round 2: what sits in data/raw/restricted, hostile parameters, damaged records -------


@pytest.mark.parametrize(
    "name",
    [
        "data.csv",  # any table may be the counts under another name
        "counts.tsv",
        "counts.txt",
        "luftetaret_sipas_komunave.xlsx",  # Albanian: fighters by municipality
        "borci_po_opstinama.csv",  # Serbian (Latin)
        "~$fighters_by_municipality.xlsx",  # Excel's lock file: the workbook is open
        ".~lock.fighters_by_municipality.csv#",  # LibreOffice's lock file
        "fighters_by_municipality.csv.gz",
        "fighters_by_municipality.csv~",
        "fighters_by_municipality (1).csv",
        "fighters_by_municipality.parquet",
        "export.ods",
        "fighters",  # a folder of that name
    ],
)
def test_tables_under_other_names_stop_the_run(project: ProjectPaths, name: str) -> None:
    project.restricted.mkdir(parents=True)
    (project.restricted / name).write_text("x", encoding="utf-8")
    with pytest.raises(KosovoStudyError, match="The run stops rather than guess"):
        locate_restricted(project)


@pytest.mark.parametrize(
    "names",
    [
        ["README.txt"],
        ["README.md", ".DS_Store", "Thumbs.db", "desktop.ini", ".gitkeep"],
        ["notes.txt", "LICENSE"],
        ["interviews.qdpx", "pseudonym.key", "key.txt"],
    ],
)
def test_harmless_files_do_not_block_the_pipeline(project: ProjectPaths, names: list[str]) -> None:
    project.restricted.mkdir(parents=True)
    for name in names:
        (project.restricted / name).write_text("notes", encoding="utf-8")
    assert locate_restricted(project) is None
    assert "SYNTHETIC" in stages.outcome_notice(project)


def test_a_link_loop_at_the_restricted_path_stops_the_run(project: ProjectPaths) -> None:
    project.restricted.mkdir(parents=True)
    restricted_path(project).symlink_to(restricted_path(project))
    with pytest.raises(KosovoStudyError, match="link loop"):
        locate_restricted(project)


@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        ({"permutations": "\u0669\u0669"}, "digits 0-9"),  # Arabic-Indic 99: int() reads it
        ({"permutations": "\uff19\uff19"}, "digits 0-9"),  # full-width 99
        ({"permutations": "1_000"}, "digits 0-9"),
        ({"permutations": "+99"}, "digits 0-9"),
        ({"permutations": "99999999999"}, "largest size accepted"),
        ({"multiverse_seed": str(2**64)}, "2\\*\\*64"),
        ({"lock_timeout_seconds": "nan"}, "finite number"),
        ({"lock_timeout_seconds": "inf"}, "finite number"),
        ({"lock_timeout_seconds": "-1"}, "finite number"),
        ({"lock_timeout_seconds": "soon"}, "not a number"),
    ],
)
def test_hostile_parameters_are_refused(overrides: dict[str, str], pattern: str) -> None:
    with pytest.raises(KosovoStudyError, match=pattern):
        load_config(None, overrides)


@pytest.mark.parametrize(
    "text", ["[tool]\nkosovo_study = 5\n", "[tool]\nkosovo_study = [1, 2]\n", "tool = 3\n"]
)
def test_a_tool_section_that_is_not_a_table(tmp_path: Path, text: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    if text.startswith("tool ="):  # no [tool.kosovo_study] at all: the defaults
        assert load_config(tmp_path) == StudyConfig()
    else:
        with pytest.raises(KosovoStudyError, match="must be a table"):
            load_config(tmp_path)


def test_an_input_edited_during_the_build_is_not_recorded(project: ProjectPaths) -> None:
    """Hashing inputs after the build once recorded the new file beside old results."""
    source, calls = _first_run(project)
    _, build = _demo(project, calls)

    def edited_meanwhile(staging: Staging) -> list[Path]:
        written = build(staging, {"v": 2})
        source.write_text("edited while the stage ran", encoding="utf-8")
        return written

    with pytest.raises(KosovoStudyError, match=r"changed while it ran \(data/raw/input.txt\)"):
        run_stage("demo", [source], edited_meanwhile, project, staged=True, force=True)
    assert (project.results / "table_a.csv").read_text(encoding="utf-8") == '{"v": 1}'
    assert not staging_root("demo", project).exists()
    # The next run sees the edited input and rebuilds.
    assert not run_stage(
        "demo", [source], lambda s: build(s, {"v": 3}), project, staged=True
    ).skipped


@pytest.mark.parametrize("content", ["", "{", "[1, 2]", "\xff\xfe", "null"])
def test_a_damaged_manifest_reruns_the_stage(project: ProjectPaths, content: str) -> None:
    source, calls = _first_run(project)
    _, build = _demo(project, calls)
    manifest.manifest_path("demo", project).write_text(content, encoding="latin-1")
    assert read_manifest("demo", project) is None
    assert not run_stage(
        "demo", [source], lambda s: build(s, {"v": 1}), project, staged=True
    ).skipped
    assert read_manifest("demo", project)["stage"] == "demo"  # type: ignore[index]


def test_a_damaged_commit_journal_is_named(project: ProjectPaths) -> None:
    source, calls = _first_run(project)
    _, build = _demo(project, calls)
    journal_path("demo", project).write_text("[[1]", encoding="utf-8")
    with pytest.raises(KosovoStudyError, match=r"is damaged.*--force"):
        run_stage("demo", [source], lambda s: build(s, {"v": 1}), project, staged=True)


def test_a_missing_input_is_named(project: ProjectPaths) -> None:
    missing = project.processed / "municipalities.csv"
    with pytest.raises(KosovoStudyError, match=r"municipalities.csv cannot be read.*earlier"):
        run_stage("demo", [missing], list, project)


def test_outputs_the_new_run_no_longer_writes_are_removed(project: ProjectPaths) -> None:
    """A table of the previous run (perhaps from restricted data) must not linger."""
    source = project.raw / "input.txt"
    source.write_text("abc", encoding="utf-8")

    def build(names: tuple[str, ...]):  # type: ignore[no-untyped-def]
        def write(staging: Staging) -> list[Path]:
            folder = staging.folder(project.results)
            for name in names:
                (folder / name).write_text(name, encoding="utf-8")
            return [folder / name for name in names]

        return write

    run_stage("demo", [source], build(("kept.csv", "restricted_only.csv")), project, staged=True)
    outside = project.results / "someone_elses.csv"
    outside.write_text("not ours", encoding="utf-8")
    run_stage("demo", [source], build(("kept.csv",)), project, staged=True, force=True)
    assert (project.results / "kept.csv").exists()
    assert not (project.results / "restricted_only.csv").exists()
    assert outside.exists()
    assert list(read_manifest("demo", project)["outputs"]) == ["data/processed/results/kept.csv"]  # type: ignore[index]


@pytest.mark.parametrize("failure", [RuntimeError("build failed"), KeyboardInterrupt()])
def test_an_in_place_stage_that_fails_keeps_its_previous_outputs(
    project: ProjectPaths, failure: BaseException
) -> None:
    """interviews and book write in place: a failed run restores the last outputs."""
    source = project.raw / "input.txt"
    source.write_text("abc", encoding="utf-8")
    out = project.processed / "interview_table.csv"

    def write(text: str):  # type: ignore[no-untyped-def]
        def build() -> list[Path]:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
            if text == "half":
                raise failure
            return [out]

        return build

    run_stage("demo", [source], write("old"), project)
    with pytest.raises(type(failure)):
        run_stage("demo", [source], write("half"), project, force=True)
    assert out.read_text(encoding="utf-8") == "old"
    assert not staging_root("demo", project).exists()
    assert run_stage("demo", [source], write("new"), project).skipped


def test_an_in_place_stage_killed_outright_is_restored_by_the_next_run(
    project: ProjectPaths,
) -> None:
    source = project.raw / "input.txt"
    source.write_text("abc", encoding="utf-8")
    out = project.processed / "interview_table.csv"
    out.parent.mkdir(parents=True, exist_ok=True)

    def build() -> list[Path]:
        out.write_text("old", encoding="utf-8")
        return [out]

    run_stage("demo", [source], build, project)
    manifest._back_up("demo", project)  # what a run does before building; then SIGKILL
    out.write_text("half-written", encoding="utf-8")
    assert any("restored the outputs" in line for line in recover("demo", project))
    assert out.read_text(encoding="utf-8") == "old"
    assert run_stage("demo", [source], build, project).skipped


def test_the_interviews_stage_key_uses_its_own_modules() -> None:
    from kosovo_study.stages import STAGE_BY_NAME

    closure = module_closure(STAGE_BY_NAME["interviews"].modules)
    assert "kosovo_study.interviews.stage" in closure
    assert "kosovo_study.clean" not in closure  # editing the cleaning code does not rerun it


@pytest.mark.parametrize("where", ["--set", "pyproject"])
def test_a_parameter_changed_on_the_command_line_or_in_pyproject_reaches_the_stage_key(
    project: ProjectPaths, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """The CLI path: `kosovo-study models --set ...` and [tool.kosovo_study] enter the key."""
    seen: list[dict[str, object]] = []

    def fake_run_stage(*args: object, **kwargs: object) -> StageResult:
        del args
        seen.append(dict(kwargs["parameters"]))  # type: ignore[call-overload]
        return StageResult("models", True, {}, [])

    monkeypatch.setenv("KOSOVO_STUDY_ROOT", str(project.root))
    monkeypatch.setattr(stages, "run_stage", fake_run_stage)
    monkeypatch.setattr(stages, "missing_needs", lambda _name, _paths: [])
    monkeypatch.setitem(
        stages.STAGE_BY_NAME,
        "models",
        dataclasses.replace(
            stages.STAGE_BY_NAME["models"], notice=lambda _p: None, inputs=lambda _p, **_o: []
        ),
    )
    argv = ["models"]
    if where == "--set":
        argv += ["--set", "permutation_seed=7", "--set", "permutations=99"]
    else:
        (project.root / "pyproject.toml").write_text(
            "[tool.kosovo_study]\npermutation_seed = 7\npermutations = 99\n", encoding="utf-8"
        )
    if where == "--set":
        assert cli.main(["models"]) == 0  # the defaults first
    assert cli.main(argv) == 0
    assert (seen[-1]["permutation_seed"], seen[-1]["permutations"]) == (7, 99)
    if where == "--set":
        assert (seen[0]["permutation_seed"], seen[0]["permutations"]) == (1999, 999)


_CASES = st.sampled_from([str.lower, str.upper, str.title, str.capitalize])
_EXTENSIONS = st.sampled_from(
    ["csv", "CSV", "xlsx", "tsv", "ods", "csv.gz", "txt", "parquet", "csv~"]
)


@settings(max_examples=80, deadline=None)
@given(case=_CASES, extension=_EXTENSIONS, prefix=st.sampled_from(["", "~$", "._", "copy_of_"]))
def test_any_variant_of_the_name_is_near(case, extension: str, prefix: str) -> None:  # type: ignore[no-untyped-def]
    """Another case, extension, prefix or copy of the restricted file's name stops the run."""
    from kosovo_study.models.outcome import _near_restricted

    name = prefix + case("fighters_by_municipality") + "." + extension
    if name != "fighters_by_municipality.csv":
        assert _near_restricted(name)


@settings(max_examples=80, deadline=None)
@given(
    name=st.sampled_from(["README", "readme", "Readme", "NOTES", "notes", "LICENSE", "licence"]),
    extension=st.sampled_from(["", ".md", ".txt", ".pdf", ".rst", ".docx"]),
)
def test_notes_are_never_near(name: str, extension: str) -> None:
    from kosovo_study.models.outcome import _near_restricted

    assert not _near_restricted(name + extension)


# --- issue 18: the CLI is no stage's code; outputs described once ----------------------


def test_a_cli_help_edit_changes_no_stage_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, project: ProjectPaths
) -> None:
    copy = tmp_path / "kosovo_study"
    shutil.copytree(manifest.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(manifest, "PACKAGE_DIR", copy)

    def keys() -> dict[str, str]:
        module_closure.cache_clear()
        return {s.name: stage_fingerprint(s.code_roots(project)) for s in stages.STAGES}

    before = keys()
    cli_file = copy / "cli.py"
    text = cli_file.read_text(encoding="utf-8")
    assert "rerun even if inputs are unchanged" in text
    cli_file.write_text(
        text.replace("rerun even if inputs are unchanged", "rerun the stage anyway"), "utf-8"
    )
    try:
        assert keys() == before
    finally:
        module_closure.cache_clear()


def test_outputs_are_the_stages_outputs() -> None:
    from kosovo_study.outputs import OUTPUTS

    from_stages = [o for s in stages.STAGES for o in s.outputs]
    assert [o for o in OUTPUTS if o in from_stages] == from_stages
    # only the raw files, the bibliography and the manifests are made outside a stage
    assert {o.made_by for o in OUTPUTS if o not in from_stages} == {
        "kosovo_study.registry.fetch",
        "kosovo_study.citation.write_bibliography",
        "kosovo_study.manifest.run_stage",
    }


def test_every_stage_output_names_code_that_exists() -> None:
    import importlib

    for stage in stages.STAGES:
        for output in stage.outputs:
            module, _, name = output.made_by.rpartition(".")
            try:
                target = importlib.import_module(module)
            except ModuleNotFoundError:  # a method: module.Class.method
                module, _, cls = module.rpartition(".")
                target = getattr(importlib.import_module(module), cls)
            assert hasattr(target, name), output.made_by


def test_the_books_tables_are_written_by_the_stages_it_names() -> None:
    from kosovo_study.report.book import BOOK_RESULTS, BOOK_TABLES

    def written_by(stage: str, relative: str) -> bool:
        from fnmatch import fnmatch

        return any(
            fnmatch(relative, pattern)
            for output in stages.STAGE_BY_NAME[stage].outputs
            for pattern in stages._expand(output.path.split(";")[0].strip())
        )

    for name, stage in BOOK_TABLES.items():
        assert written_by(stage, f"data/processed/{name}.parquet"), name
    for name, stage in BOOK_RESULTS.items():
        assert written_by(stage, f"data/processed/results/{name}"), name
    assert set(BOOK_TABLES.values()) | set(BOOK_RESULTS.values()) <= set(
        stages.STAGE_BY_NAME["book"].needs
    )


def test_only_one_run_multiverse_and_no_stage_wrappers_below_the_stage_list() -> None:
    from kosovo_study import clean, models
    from kosovo_study.interviews import stage as interview_stage
    from kosovo_study.report import build

    for module in (clean, models, interview_stage, build):
        assert not hasattr(module, "run_multiverse")
        assert not hasattr(module, "run"), module.__name__
    assert not hasattr(stages, "run_multiverse")


# --- issue 23: the book names or runs the stages whose outputs are missing -------------


def _fake_outputs(paths: ProjectPaths, *, without: str) -> None:
    """Empty files standing for every output pattern of the book's upstream stages."""
    for name in stages.upstream("book"):
        if name == without:
            continue
        for output in stages.STAGE_BY_NAME[name].outputs:
            for pattern in stages._expand(output.path):
                target = paths.root / pattern.replace("*", "x")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text("", encoding="utf-8")


def test_the_book_names_a_missing_multiverse(project: ProjectPaths) -> None:
    _fake_outputs(project, without="multiverse")
    from kosovo_study.report import book

    for name in book.BOOK_TABLES:
        (project.processed / f"{name}.parquet").write_text("", encoding="utf-8")
    assert stages.missing_needs("book", project) == ["multiverse"]
    with pytest.raises(KosovoStudyError, match="multiverse"):
        stages.run("book", project, run_needs=False)
    with pytest.raises(KosovoStudyError, match="the multiverse stage") as raised:
        book.load(project)
    assert "results/multiverse_summary.json" in str(raised.value)
    assert "interviews" not in str(raised.value)


def test_the_book_runs_the_missing_stages_first(
    project: ProjectPaths, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_outputs(project, without="multiverse")
    ran: list[str] = []

    def fake_run(name: str, *args: object, **kwargs: object) -> StageResult:
        del args, kwargs
        ran.append(name)
        return StageResult(name, True, {}, [])

    monkeypatch.setenv("KOSOVO_STUDY_ROOT", str(project.root))
    monkeypatch.setattr(stages, "run", fake_run)
    for name in ("models", "multiverse"):
        monkeypatch.setitem(
            stages.STAGE_BY_NAME,
            name,
            dataclasses.replace(stages.STAGE_BY_NAME[name], notice=lambda _p: None),
        )
    assert cli.main(["book"]) == 0
    assert ran == ["multiverse", "book"]
    assert "outputs of the multiverse stage are missing" in " ".join(
        capsys.readouterr().err.split()
    )


def test_the_book_manifest_lists_every_page_image_and_figure(project: ProjectPaths) -> None:
    from kosovo_study.report import build

    html = project.book_build / "html"
    for relative in ("index.html", "intro.html", "nested/page.html", "_images/a.png"):
        (html / relative).parent.mkdir(parents=True, exist_ok=True)
        (html / relative).write_text("x", encoding="utf-8")
    figures = project.book_build / "figures"
    figures.mkdir(parents=True)
    for name in ("municipal-irr.png", "municipal-irr.csv"):
        (figures / name).write_text("x", encoding="utf-8")
    listed = {p.relative_to(project.book_build).as_posix() for p in build.built_files(project)}
    assert listed == {
        "html/index.html",
        "html/intro.html",
        "html/nested/page.html",
        "html/_images/a.png",
        "figures/municipal-irr.png",
        "figures/municipal-irr.csv",
    }
