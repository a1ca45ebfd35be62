"""The simulation-evidence records (kosovo_study.simulation_evidence) and the tests they
name agree: every record names a test that exists and reads that record, so the numbers
the book quotes are the ones the test suite asserts."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest

from kosovo_study import simulation_evidence as se

ROOT = Path(__file__).resolve().parents[1]


def _function(test: str) -> ast.FunctionDef:
    path, name = test.split("::")
    tree = ast.parse((ROOT / path).read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    raise AssertionError(f"{test}: no such test function")


def _module_names_bound_to(path: str, key: str) -> set[str]:
    """Module-level names assigned ``simulation_evidence.check(key)`` in the test file."""
    tree = ast.parse((ROOT / path).read_text("utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and key in _strings(node.value):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _strings(node: ast.AST) -> set[str]:
    return {
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


@pytest.mark.parametrize("record", se.CHECKS, ids=lambda r: r.key)
def test_every_record_names_a_test_that_reads_it(record: se.SimulationCheck) -> None:
    function = _function(record.test)
    used = {n.id for n in ast.walk(function) if isinstance(n, ast.Name)}
    aliases = _module_names_bound_to(record.test.split("::")[0], record.key)
    assert record.key in _strings(function) or used & aliases, (
        f"{record.test} does not read the record {record.key!r}: read its data sets and "
        "band with simulation_evidence.check(key) so the book and the test agree"
    )


def test_no_test_asserts_a_literal_band_that_a_record_holds() -> None:
    """The class of defect the registry removes: a simulation test with its own typed band."""
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        if path.name == Path(__file__).name:
            continue
        text = path.read_text("utf-8")
        for band in ("0.035 <= rate <= 0.065", "0.93 <= coverage <= 0.97"):
            assert band not in text, f"{path.relative_to(ROOT)}: typed band {band!r}"


def test_bands_and_errors_by_hand() -> None:
    size = se.check("randomization_size")
    assert size.monte_carlo_se == pytest.approx(math.sqrt(0.05 * 0.95 / 2000))
    assert size.accepts(0.05)
    assert not size.accepts(0.07)
    assert not size.accepts(0.03)
    family = se.check("family_wise_error")
    assert family.low is None
    assert family.high == pytest.approx(0.05 + 2 * math.sqrt(0.05 * 0.95 / 1500), abs=1e-4)
    assert family.accepts(0.0)
    assert all(0 <= (c.low or 0) < c.nominal < c.high <= 1 for c in se.CHECKS)
    assert "outside" in size.failure(0.2)


def test_glue_and_table_cover_every_record() -> None:
    values = se.glue_values()
    frame = se.table()
    assert len(frame) == len(se.CHECKS)
    for record in se.CHECKS:
        assert values[f"sim_{record.key}_data_sets"] == record.data_sets
    with pytest.raises(KeyError, match="known"):
        se.check("no such check")
