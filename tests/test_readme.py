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
    # Every test, the slow ones too, then the notebooks (issue 12): `tests-all` notifies the
    # notebooks session; `tests` alone is the quick loop (issue 18).
    assert sessions == ["lint", "typecheck", "tests-all"]


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


def test_the_quick_loop_leaves_out_slow_tests_and_tests_all_runs_them() -> None:
    """`nox -s tests` is the quick loop (not slow); `tests-all` runs everything, then the
    notebooks; pytest knows the `slow` marker (unknown markers are errors)."""
    import ast

    noxfile = (REPO.root / "noxfile.py").read_text(encoding="utf-8")
    functions = {
        node.name: ast.get_source_segment(noxfile, node)
        for node in ast.parse(noxfile).body
        if isinstance(node, ast.FunctionDef)
    }
    assert '"-m",\n        "not slow"' in str(functions["tests"])
    assert '@nox.session(name="tests-all", default=False)' in noxfile
    assert "not slow" not in str(functions["tests_all"])
    assert 'session.notify("notebooks")' in str(functions["tests_all"])
    assert 'session.notify("notebooks")' not in str(functions["tests"])
    pyproject = (REPO.root / "pyproject.toml").read_text(encoding="utf-8")
    assert 'markers = ["slow: ' in pyproject
    assert "--strict-markers" in pyproject


def test_the_book_shows_the_readme_commands() -> None:
    page = (REPO.book / "reproducibility.md").read_text(encoding="utf-8")
    for command in _first_commands():
        assert command in page


def test_readme_links_the_newcomer_pages_and_they_exist() -> None:
    for page in (
        "CONTRIBUTING.md",
        "docs/architecture.md",
        "docs/restricted-data.md",
        "docs/privacy.md",
        "docs/benchmarks.md",
        "docs/methods.md",
    ):
        assert f"]({page})" in README, page
        assert (REPO.root / page).is_file(), page


def test_dask_is_an_optional_extra_kept_for_the_tests() -> None:
    """Only the cluster run of the multiverse needs Dask: an extra, not a dependency; the
    test group keeps it for notebook 04 and the backend tests."""
    import tomllib

    pyproject = tomllib.loads((REPO.root / "pyproject.toml").read_text(encoding="utf-8"))
    names = [re.split(r"[\[<>=]", d)[0] for d in pyproject["project"]["dependencies"]]
    assert "dask" not in names
    assert "distributed" not in names
    assert pyproject["project"]["optional-dependencies"]["dask"] == ["dask[distributed]>=2024.1"]
    assert "dask[distributed]>=2024.1" in pyproject["dependency-groups"]["test"]
