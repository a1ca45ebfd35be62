"""README.md: the two commands, CI's use of the test command, and the outputs list."""

from __future__ import annotations

import pkgutil
import re

from kosovo_study.outputs import OUTPUTS, readme_table

from .conftest import REPO

README = (REPO.root / "README.md").read_text(encoding="utf-8")


def _first_commands() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", README, flags=re.DOTALL)
    assert block is not None, "README must start with a bash block"
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_readme_starts_with_two_commands() -> None:
    assert README.index("```bash") < README.index("## ")
    report, tests = _first_commands()
    assert report.endswith("nox -s report")
    assert "nox -s" in tests
    sessions = tests.split("nox -s", 1)[1].split()
    # The notebooks run inside the test command (issue 12), after the tests.
    assert sessions == ["lint", "typecheck", "tests", "notebooks"]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (REPO.root / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    _, tests = _first_commands()
    assert tests in ci
    # CI says which skips it accepts: none by default (it provides every external need).
    assert any(line.startswith("export KOSOVO_STUDY_EXPECTED_SKIPS=") for line in ci)


def test_readme_says_how_to_provide_what_skipped_tests_need() -> None:
    from .conftest import NEEDS

    section = README.split("### Tests that need something outside the repository", 1)[1]
    section = section.split("\n## ", 1)[0]
    for need in NEEDS:
        assert f"`{need.name}`" in section, need.name
    assert "KOSOVO_STUDY_EXPECTED_SKIPS" in section


def test_readme_shows_the_current_citation() -> None:
    from kosovo_study.citation import package_citation

    section = README.split("## How to cite", 1)[1].split("\n## ", 1)[0]
    citation = package_citation()
    assert citation["bibtex"].strip() in section
    assert citation["apa"] in section


def test_outputs_list_is_in_sync() -> None:
    listed = README.split("<!-- outputs:start -->\n")[1].split("\n<!-- outputs:end -->")[0]
    assert listed == readme_table()


def test_every_output_names_a_real_function() -> None:
    for output in OUTPUTS:
        assert callable(pkgutil.resolve_name(output.made_by)), output.made_by
