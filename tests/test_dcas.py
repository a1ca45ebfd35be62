"""The Data and Code Availability Standard (DCAS v1.0) as checks: every rule of
``book/dcas.yml`` has an existing test or a stated reason, and the checks it names."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from kosovo_study.registry import load_registry
from kosovo_study.stages import STAGE_BY_NAME

from .conftest import REPO

DCAS = REPO.book / "dcas.yml"
README = (REPO.root / "README.md").read_text(encoding="utf-8")
#: DCAS v1.0 (https://datacodestandard.org/): 16 rules in four sections.
RULES = {
    1: "Data",
    2: "Data",
    3: "Data",
    4: "Data",
    5: "Data",
    6: "Data",
    7: "Code",
    8: "Code",
    9: "Code",
    10: "Supporting materials",
    11: "Supporting materials",
    12: "Supporting materials",
    13: "Sharing",
    14: "Sharing",
    15: "Sharing",
    16: "Sharing",
}


def _rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = yaml.safe_load(DCAS.read_text(encoding="utf-8"))["rules"]
    return rules


def _check_exists(node: str, root: Path = REPO.root) -> bool:
    """True when ``path::function`` names a test function defined in that file."""
    path, _, name = node.partition("::")
    file = root / path
    if not file.is_file() or not name:
        return False
    tree = ast.parse(file.read_text(encoding="utf-8"))
    return any(isinstance(n, ast.FunctionDef) and n.name == name for n in tree.body)


def rule_problems(rules: list[dict[str, Any]], root: Path = REPO.root) -> list[str]:
    """What is wrong with the rule table: a rule missing, without check or reason, or
    naming a test that does not exist."""
    problems = []
    by_number = {rule["number"]: rule for rule in rules}
    for number, section in RULES.items():
        rule = by_number.get(number)
        if rule is None:
            problems.append(f"rule {number} is missing")
            continue
        if rule.get("section") != section:
            problems.append(f"rule {number} is in section {section}, not {rule.get('section')}")
        checks = rule.get("checks") or []
        reason = " ".join(str(rule.get("reason") or "").split())
        if not checks and not reason:
            problems.append(f"rule {number} ({rule.get('rule')}) has neither a check nor a reason")
        problems += [
            f"rule {number}: {node} is not a test"
            for node in checks
            if not _check_exists(node, root)
        ]
    problems += [f"rule {n} is not a DCAS v1.0 rule" for n in by_number if n not in RULES]
    return problems


def test_every_dcas_rule_has_a_check_or_a_reason() -> None:
    assert rule_problems(_rules()) == []


def test_a_rule_without_check_or_reason_fails() -> None:
    rules = _rules()
    rules[10] = {**rules[10], "checks": [], "reason": " "}
    rules[0] = {**rules[0], "checks": ["tests/test_dcas.py::test_no_such_thing"]}
    problems = rule_problems(rules)
    assert any("rule 11 (Ethics) has neither" in p for p in problems)
    assert any("test_no_such_thing is not a test" in p for p in problems)
    assert rule_problems(rules[1:])[0] == "rule 1 is missing"


# --- the checks the table names --------------------------------------------------------


def test_readme_has_a_data_availability_statement() -> None:
    section = README.split("## Data Availability and Provenance Statements", 1)[1]
    section = section.split("\n## ", 1)[0]
    for kind in ("public, fetched", "public, transcribed", "restricted", "synthetic"):
        assert f"| {kind} |" in section, kind
    assert "### Restricted data" in section


def test_every_raw_file_has_a_url_licence_and_citation() -> None:
    for entry in load_registry(REPO).values():
        assert entry.url.startswith("https://"), entry.name
        assert entry.licence.strip(), entry.name
        assert entry.citation_key.strip(), entry.name
        assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256), entry.name


def test_processed_tables_are_open_formats() -> None:
    outputs = " ".join(
        o.path
        for stage in STAGE_BY_NAME.values()
        for o in stage.outputs
        if o.path.startswith("data/processed")  # the book's figures are PNG/SVG
    )
    suffixes = set(re.findall(r"\.\{?([a-z,]+)\}?", outputs))
    formats = {s for group in suffixes for s in group.split(",")}
    assert formats <= {"csv", "parquet", "json"}, formats


def test_every_processed_table_has_a_schema() -> None:
    from kosovo_study.clean import SCHEMAS

    paths = [o.path for o in STAGE_BY_NAME["clean"].outputs if o.kind == "table"]
    tables = {re.sub(r"\.\{csv,parquet\}$", "", p).rsplit("/", 1)[1] for p in paths}
    assert tables == set(SCHEMAS)


def test_code_is_source() -> None:
    allowed = {".py", ".yaml", ".yml", ".csv", ".json", ".typed", ".mplstyle", ".md"}
    for path in (REPO.root / "src").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            assert path.suffix in allowed, path


def test_the_interview_codebook_is_shipped() -> None:
    codebook = REPO.root / "src/kosovo_study/interviews/codebook.yaml"
    assert yaml.safe_load(codebook.read_text(encoding="utf-8"))


def test_readme_follows_the_template_sections() -> None:
    for heading in (
        "## Overview",
        "## Data Availability and Provenance Statements",
        "## Computational requirements",
        "## Instructions to Replicators",
        "## List of tables, figures and programs",
        "## References",
    ):
        assert f"\n{heading}\n" in README, heading


def test_code_and_data_licences_are_present() -> None:
    assert (REPO.root / "LICENSE").read_text(encoding="utf-8").startswith("MIT")
    assert (REPO.root / "DATA_LICENSE.md").is_file()
    assert "Code: MIT (`LICENSE`)" in README


def test_readme_names_what_is_omitted() -> None:
    assert "not redistributable" in README
    assert "git-ignored" in README


@pytest.mark.parametrize("rule", _rules(), ids=lambda r: f"rule{r['number']}")
def test_the_book_table_shows_each_rule(rule: dict[str, Any]) -> None:
    from kosovo_study.replication.dcas import dcas_table

    table = dcas_table(REPO.root)
    row = table[table["rule"] == f"{rule['number']}. {rule['rule']}"]
    assert len(row) == 1
