"""The command line: one-paragraph errors without tracebacks, --debug, cite."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from kosovo_study import __version__, cli


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kosovo_study", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        timeout=120,
    )


def test_error_path_prints_one_paragraph_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "fighters_by_municipality.csv"
    bad.write_text(
        "municipality,fighters,definition,period_start,period_end,source_key\n"
        "Kaçanik,many,left,2012,2015,x\n",
        encoding="utf-8",
    )
    result = _run("validate", str(bad))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "line 2, column fighters" in " ".join(result.stderr.split())
    assert result.stdout == ""


def test_unexpected_errors_are_reported_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(args: argparse.Namespace) -> int:
        del args
        raise TypeError("boom")

    monkeypatch.setitem(cli.COMMANDS, "models", (broken, "broken"))
    assert cli.main(["models"]) == 1
    captured = capsys.readouterr()
    assert "TypeError" in captured.err
    assert "--debug" in captured.err
    assert "Traceback" not in captured.err


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(args: argparse.Namespace) -> int:
        del args
        raise TypeError("boom")

    monkeypatch.setitem(cli.COMMANDS, "models", (broken, "broken"))
    with pytest.raises(TypeError, match="boom"):
        cli.main(["--debug", "models"])


def test_cite_prints_bibtex_and_apa_for_the_installed_version() -> None:
    """The last release is cited (CITATION.cff); a development build names itself."""
    from kosovo_study.citation import load_citation_cff

    release = str(load_citation_cff()["version"])
    result = _run("cite")
    assert result.returncode == 0, result.stderr
    assert "@software{" in result.stdout
    assert f"version = {{{release}}}" in result.stdout
    assert f"(Version {release})" in result.stdout
    if __version__ != release:
        assert f"Development build {__version__}, after release {release}" in result.stdout


@pytest.mark.slow
def test_paths_resolve_from_any_directory(tmp_path: Path) -> None:
    nested = Path(__file__).parent
    code = "from kosovo_study.paths import project_paths; print(project_paths().root)"
    inside = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=nested
    )
    assert Path(inside.stdout.strip()) == nested.parent
    (tmp_path / "unknown.csv").write_text("a,b\n", encoding="utf-8")
    result = _run("validate", str(tmp_path / "unknown.csv"), cwd=tmp_path)
    assert result.returncode == 1
    assert "no known format" in " ".join(result.stderr.split())
    # A path that does not exist is said to be missing, whatever its name.
    result = _run("validate", str(tmp_path / "missing.csv"), cwd=tmp_path)
    assert "missing.csv does not exist" in " ".join(result.stderr.split())


def test_every_subcommand_the_issue_names_exists() -> None:
    expected = {"fetch", "clean", "models", "multiverse", "report", "validate", "cite"}
    assert expected <= set(cli.COMMANDS)
