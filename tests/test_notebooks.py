"""notebooks/: present, paired with jupytext, committed without outputs, and thin.

They are executed by the `notebooks` nox session (nbmake), which the README's test
command runs; these checks are the fast, static half.
"""

from __future__ import annotations

import ast
from pathlib import Path

import jupytext
import nbformat
import pytest

from .conftest import REPO

NOTEBOOKS = REPO.root / "notebooks"
EXPECTED = [
    "01-explore-municipal-data",
    "02-supply-restricted-data",
    "03-crossnational-replication",
    "04-multiverse-on-a-dask-cluster",
    "05-engine-against-statsmodels",
]


def test_the_notebooks_are_all_there_and_paired() -> None:
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == EXPECTED
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.py")) == EXPECTED


def outputs_problems(notebook: nbformat.NotebookNode) -> list[str]:
    """Every code cell that carries an output or an execution count."""
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {index} has outputs")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {index} has an execution count")
    return problems


@pytest.mark.parametrize("name", EXPECTED)
def test_notebooks_are_committed_without_outputs(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert outputs_problems(notebook) == [], (
        f"notebooks/{name}.ipynb: clear its outputs before committing "
        "(Jupyter: Edit > Clear Outputs of All Cells; or `jupytext --sync` from the .py)"
    )


def test_the_outputs_check_fails_on_an_executed_notebook() -> None:
    notebook = nbformat.read(NOTEBOOKS / f"{EXPECTED[0]}.ipynb", as_version=4)
    code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    code.execution_count = 1
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="a result\n")]
    assert len(outputs_problems(notebook)) == 2


@pytest.mark.parametrize("name", EXPECTED)
def test_the_pair_is_in_sync(name: str) -> None:
    ipynb = jupytext.read(NOTEBOOKS / f"{name}.ipynb")
    script = jupytext.read(NOTEBOOKS / f"{name}.py")
    assert [(c.cell_type, c.source) for c in ipynb.cells] == [
        (c.cell_type, c.source) for c in script.cells
    ], f"run `jupytext --sync notebooks/{name}.py`"


def _imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) for every import from kosovo_study in a notebook's code."""
    found = []
    for cell in jupytext.read(path).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kosovo_study"):
                found += [(node.module or "", alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                found += [(a.name, "") for a in node.names if a.name.startswith("kosovo_study")]
    return found


@pytest.mark.parametrize("name", EXPECTED)
def test_notebooks_use_only_the_public_api(name: str) -> None:
    imports = _imports(NOTEBOOKS / f"{name}.py")
    assert imports, "a notebook works with the package"
    private = [f"{m}.{n}" for m, n in imports if any(p.startswith("_") for p in [*m.split("."), n])]
    assert private == []
