"""Only complete runs are visible (issue 23): a commit killed with SIGKILL is completed
(staged stages) or rolled back (in-place stages) before any other stage reads, and the
commit journal only ever moves or deletes files inside the project."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kosovo_study import stages
from kosovo_study.errors import KosovoStudyError
from kosovo_study.manifest import (
    Staging,
    complete_pending,
    journal_path,
    pending_stages,
    recover,
    run_stage,
    staging_root,
)
from kosovo_study.paths import ProjectPaths

NAMES = ("table_a.csv", "table_b.csv", "metadata.json")

#: Run in a child process: one run of stage NAME writing VERSION into three files, killed
#: with SIGKILL (no cleanup, no finally) half-way: after the first of the commit's moves
#: for a staged stage, after the first file for an in-place one.
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from kosovo_study.manifest import run_stage
    from kosovo_study.paths import ProjectPaths

    root, name, version, staged, kill = sys.argv[1:6]
    paths = ProjectPaths(Path(root))
    staged, kill = staged == "1", kill == "1"
    names = ("table_a.csv", "table_b.csv", "metadata.json")
    real_replace = Path.replace
    moved = []

    def dying_replace(self, target):
        if ".staging-" in str(self):
            if kill and moved:
                os.kill(os.getpid(), signal.SIGKILL)
            moved.append(self)
        return real_replace(self, target)

    Path.replace = dying_replace

    def build(staging=None):
        folder = staging.folder(paths.results) if staged else paths.results
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for n in names:
            (folder / n).write_text(version, encoding="utf-8")
            written.append(folder / n)
            if kill and not staged:
                os.kill(os.getpid(), signal.SIGKILL)
        return written

    run_stage(name, [], build, paths, force=True, staged=staged)
    """
)


def _child(paths: ProjectPaths, name: str, version: str, staged: bool, kill: bool) -> int:
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            str(paths.root),
            name,
            version,
            "1" if staged else "0",
            "1" if kill else "0",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert kill or completed.returncode == 0, completed.stderr
    return completed.returncode


def _seen_by_reader(paths: ProjectPaths, reader: str) -> set[str]:
    """What a different stage reads, run as the stage protocol runs it."""
    seen: set[str] = set()

    def build(staging: Staging) -> list[Path]:
        seen.update((paths.results / n).read_text(encoding="utf-8") for n in NAMES)
        out = staging.folder(paths.processed) / f"{reader}.txt"
        out.write_text("read", encoding="utf-8")
        return [out]

    run_stage(reader, [], build, paths, force=True, staged=True, reads=stages.upstream(reader))
    return seen


@pytest.mark.parametrize("writer", [s.name for s in stages.STAGES if s.name != "book"])
def test_a_commit_killed_with_sigkill_is_never_visible_to_another_stage(
    project: ProjectPaths, writer: str
) -> None:
    staged = stages.STAGE_BY_NAME[writer].staged
    _child(project, writer, "old", staged, kill=False)
    assert _child(project, writer, "new", staged, kill=True) == -signal.SIGKILL
    # The kill left a mix on disk (or a half-written in-place set) ...
    on_disk = {(project.results / n).read_text(encoding="utf-8") for n in NAMES}
    assert on_disk == {"old", "new"}
    assert writer in pending_stages(project)
    # ... which the book (reading every stage) never sees: one whole run, old or new.
    seen = _seen_by_reader(project, "book")
    assert seen == ({"new"} if staged else {"old"})
    assert pending_stages(project) == []


def test_every_stage_is_staged_or_backed_up() -> None:
    """The two mechanisms above are the only ones: a staged stage commits through the
    journal; an in-place one (interviews, book) is backed up by run_stage first."""
    assert {s.name for s in stages.STAGES if s.staged} == {
        "clean",
        "models",
        "design",
        "multiverse",
    }
    assert {s.name for s in stages.STAGES if not s.staged} == {"interviews", "book"}


def test_a_reader_waits_for_a_stage_that_is_committing(project: ProjectPaths) -> None:
    from filelock import FileLock

    from kosovo_study.manifest import lock_path

    _child(project, "models", "old", True, kill=False)
    assert _child(project, "models", "new", True, kill=True) == -signal.SIGKILL
    with (
        FileLock(lock_path("models", project)),
        pytest.raises(KosovoStudyError, match="being written by another kosovo-study run"),
    ):
        complete_pending(project, ["models"], lock_timeout=0.2)
    assert complete_pending(project, ["models"])  # the lock released: completed


def test_a_stage_reading_nothing_of_a_pending_stage_does_not_wait(project: ProjectPaths) -> None:
    _child(project, "interviews", "old", False, kill=False)
    assert _child(project, "interviews", "new", False, kill=True) == -signal.SIGKILL
    # models reads clean's outputs only: the interviews' half-run is left to its readers
    _seen = _seen_by_reader(project, "models")
    assert "interviews" in pending_stages(project)


# --- the journal only names paths inside the project -----------------------------------


@pytest.mark.parametrize(
    "entry",
    [
        ["", "../outside.txt"],
        ["", "data/../../outside.txt"],
        ["data/processed/.staging-demo/x.csv", "../outside.txt"],
        ["../outside.txt", "data/processed/x.csv"],
        ["", "{outside}"],  # absolute, outside the project
    ],
)
def test_a_journal_entry_outside_the_project_is_refused(
    project: ProjectPaths, entry: list[str]
) -> None:
    outside = project.root.parent / "outside.txt"
    outside.write_text("keep me", encoding="utf-8")
    staged = project.processed / ".staging-demo" / "x.csv"
    staged.parent.mkdir(parents=True)
    staged.write_text("x", encoding="utf-8")
    journal = journal_path("demo", project)
    journal.parent.mkdir(parents=True, exist_ok=True)
    entries = [[part.replace("{outside}", str(outside)) for part in entry]]
    # a harmless first entry: a refused journal must change nothing at all
    kept = project.processed / "kept.csv"
    kept.write_text("kept", encoding="utf-8")
    journal.write_text(json.dumps([["", "data/processed/kept.csv"], *entries]), "utf-8")
    with pytest.raises(KosovoStudyError, match="outside the project"):
        recover("demo", project)
    assert outside.read_text(encoding="utf-8") == "keep me"
    assert kept.exists()
    assert staged.exists()


def test_a_journal_entry_through_a_link_out_of_the_project_is_refused(
    project: ProjectPaths,
) -> None:
    elsewhere = project.root.parent / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "victim.txt").write_text("keep me", encoding="utf-8")
    project.processed.mkdir(parents=True, exist_ok=True)
    (project.processed / "link").symlink_to(elsewhere)
    journal = journal_path("demo", project)
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text(json.dumps([["", "data/processed/link/victim.txt"]]), "utf-8")
    with pytest.raises(KosovoStudyError, match="outside the project"):
        recover("demo", project)
    assert (elsewhere / "victim.txt").exists()


def test_an_absolute_path_inside_the_project_is_accepted(project: ProjectPaths) -> None:
    old = project.processed / "old.csv"
    old.parent.mkdir(parents=True)
    old.write_text("old", encoding="utf-8")
    journal = journal_path("demo", project)
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text(json.dumps([["", str(old)]]), "utf-8")
    assert recover("demo", project)
    assert not old.exists()
    assert not staging_root("demo", project).exists()
