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


# --- LOW items of issue 23: arguments, overwrites, --set, wrapping, no cell values -------


@pytest.mark.parametrize("seed", ["-1", "1.5", "x", str(2**64)])
def test_synth_refuses_a_bad_seed_as_a_usage_error(tmp_path: Path, seed: str) -> None:
    result = _run("synth", "interviews", "--seed", seed, "--out", str(tmp_path / "s"))
    assert result.returncode == 2  # argparse: a usage error, not "probably a bug"
    assert "--seed" in result.stderr
    assert "probably a bug" not in result.stderr
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("out", ["", "   "])
def test_synth_refuses_an_empty_out(out: str) -> None:
    result = _run("synth", "interviews", "--out", out)
    assert result.returncode == 2
    assert "empty path" in result.stderr


def test_synth_never_overwrites_silently(tmp_path: Path) -> None:
    out = tmp_path / "study"
    assert _run("synth", "interviews", "--out", str(out)).returncode == 0
    before = (out / "synthetic_interviews.csv").read_bytes()
    (out / "synthetic_interviews.csv").write_text("my own notes", encoding="utf-8")
    result = _run("synth", "interviews", "--seed", "7", "--out", str(out))
    assert result.returncode == 1
    told = " ".join(result.stderr.split())  # wrapped at any width (long temporary paths)
    assert "already holds" in told
    assert "--force" in told
    assert (out / "synthetic_interviews.csv").read_text(encoding="utf-8") == "my own notes"
    assert _run("synth", "interviews", "--out", str(out), "--force").returncode == 0
    assert (out / "synthetic_interviews.csv").read_bytes() == before
    a_file = tmp_path / "a_file"
    a_file.write_text("x", encoding="utf-8")
    result = _run("synth", "interviews", "--out", str(a_file))
    assert result.returncode == 1
    assert "not a folder" in " ".join(result.stderr.split())
    assert a_file.read_text(encoding="utf-8") == "x"


def test_a_path_through_a_file_is_a_clear_error(tmp_path: Path) -> None:
    a_file = tmp_path / "export.csv"
    a_file.write_text("x", encoding="utf-8")
    result = _run("validate", str(a_file / "inner.csv"))
    assert result.returncode == 1
    assert "probably a bug" not in result.stderr
    assert "Traceback" not in result.stderr
    result = _run("validate", "")
    assert result.returncode == 2
    assert "empty path" in result.stderr


@pytest.mark.parametrize(
    ("argv", "accepted"),
    [
        (["clean", "--set", "multiverse_seed=3"], False),
        (["models", "--set", "multiverse_seed=3"], False),
        (["multiverse", "--set", "permutation_seed=3"], False),
        (["book", "--set", "design_seed=3"], False),
        (["models", "--set", "design_seed=3"], False),
        (["design", "--set", "design_seed=3"], True),
        (["models", "--set", "permutation_seed=3"], True),
        (["multiverse", "--set", "multiverse_seed=3"], True),
        (["report", "--set", "multiverse_seed=3"], True),
        (["report", "--to", "models", "--set", "multiverse_seed=3"], False),
        (["clean", "--set", "lock_timeout_seconds=5"], True),
    ],
)
def test_set_refuses_a_parameter_the_stage_does_not_use(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    accepted: bool,
) -> None:
    from kosovo_study import stages
    from kosovo_study.manifest import StageResult

    ran: list[str] = []

    def fake_run(name: str, *args: object, **kwargs: object) -> StageResult:
        del args, kwargs
        ran.append(name)
        return StageResult(name, True, {}, [])

    monkeypatch.setattr(stages, "run", fake_run)
    monkeypatch.setattr(stages, "missing_needs", lambda _name, _paths: [])
    monkeypatch.setattr(cli, "cmd_fetch", lambda _args: 0)
    for name in ("models", "multiverse"):
        monkeypatch.setitem(
            stages.STAGE_BY_NAME,
            name,
            __import__("dataclasses").replace(stages.STAGE_BY_NAME[name], notice=lambda _p: None),
        )
    status = cli.main(argv)
    err = " ".join(capsys.readouterr().err.split())
    if accepted:
        assert status == 0, err
        assert ran
    else:
        assert status == 1
        assert "not a parameter of the" in err
        assert "is used by" in err
        assert ran == []  # refused before anything ran


def test_wrapped_messages_keep_paths_and_names_whole() -> None:
    path = "/work/some-long-folder-name/data/raw/restricted/fighters-by-municipality-2015.csv"
    text = cli._paragraph("x " * 30 + f"The file {path} is broken; also Mitrovicë-e-Veriut.")
    assert path in text.split()
    assert "Mitrovicë-e-Veriut." in text.split()
    long = "a" * 120
    assert long in cli._paragraph(f"name {long} here").split()


def test_an_unexpected_error_never_echoes_its_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A library's message may quote a cell (here a phone number): only its kind and
    position are printed."""

    def broken(args: argparse.Namespace) -> int:
        del args
        raise ValueError("could not convert string to float: '+383 44 123 456'")

    monkeypatch.setitem(cli.COMMANDS, "models", (broken, "broken"))
    assert cli.main(["models"]) == 1
    err = capsys.readouterr().err
    assert "ValueError" in err
    assert "123 456" not in err
    assert "+383" not in err
    assert "test_cli.py" in err  # where it was raised
