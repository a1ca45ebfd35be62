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
    assert tests.endswith("tests")


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (REPO.root / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    _, tests = _first_commands()
    assert tests in ci


def test_outputs_list_is_in_sync() -> None:
    listed = README.split("<!-- outputs:start -->\n")[1].split("\n<!-- outputs:end -->")[0]
    assert listed == readme_table()


def test_every_output_names_a_real_function() -> None:
    for output in OUTPUTS:
        assert callable(pkgutil.resolve_name(output.made_by)), output.made_by
