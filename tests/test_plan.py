"""The committed analysis plan: valid, hashed, and never edited without an amendment."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from kosovo_study.errors import ValidationError
from kosovo_study.paths import ProjectPaths
from kosovo_study.plan import (
    PLAN_FILE,
    amendments_table,
    body_sha256,
    label,
    load_plan,
    manifest_entry,
    plan_digest,
)

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / PLAN_FILE


def test_committed_plan_matches_its_last_amendment() -> None:
    """Recompute the body's hash independently: a silent edit of the plan fails here."""
    raw = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    text = json.dumps(raw["plan"], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert hashlib.sha256(text.encode()).hexdigest() == raw["amendments"][-1]["plan_sha256"]
    plan = load_plan(PLAN)
    assert plan.sha256 == raw["amendments"][-1]["plan_sha256"]


def test_primary_family_alpha_and_correction() -> None:
    plan = load_plan(PLAN)
    assert plan.alpha == 0.05
    assert plan.body["multiplicity"]["method"] == "holm"
    assert plan.primary_family == (
        ("municipal", "unemployment_concern_2012"),
        ("municipal", "charity_evidence_pre2014"),
        ("crossnational", "youth_unemployment_pct_2010_2013"),
        ("crossnational", "designated_charity_presence_pre2014"),
    )


def test_labels() -> None:
    plan = load_plan(PLAN)
    assert label("unemployment_concern_2012", "municipal", plan) == "primary"
    assert label("charity_evidence_pre2014", "cells", plan) == "secondary"
    assert label("designated_gulf_charity_presence_pre2014", "crossnational", plan) == "secondary"
    assert label("anything", "multiverse", plan) == "secondary"
    assert label("mosques_per_10k_2021", "municipal", plan) == "exploratory"
    with pytest.raises(ValueError, match="unknown level"):
        label("x", "district", plan)


def test_digest_for_manifests() -> None:
    digest = plan_digest(load_plan(PLAN))
    assert len(digest["analysis_plan_sha256"]) == 64
    assert digest["analysis_plan_date"] == "2026-12-07"


def _write(tmp_path: Path, raw: dict[str, object]) -> Path:
    path = tmp_path / PLAN_FILE
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_silent_edit_is_refused_and_an_amendment_accepts_it(tmp_path: Path) -> None:
    raw = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    raw["plan"]["alpha"] = 0.1
    with pytest.raises(ValidationError, match="without a recorded amendment"):
        load_plan(_write(tmp_path, raw))
    raw["amendments"].append(
        {
            "date": "2026-12-08",
            "reason": "alpha 0.1 (test)",
            "plan_sha256": body_sha256(raw["plan"]),
        }
    )
    plan = load_plan(_write(tmp_path, raw))
    assert plan.alpha == 0.1
    assert plan.date.isoformat() == "2026-12-08"
    rows = amendments_table(plan)
    committed = [a["date"] for a in yaml.safe_load(PLAN.read_text(encoding="utf-8"))["amendments"]]
    assert [row["date"] for row in rows] == [*committed, "2026-12-08"]
    assert rows[-1]["plan_sha256"] == plan.sha256


def test_bad_plans_are_refused(tmp_path: Path) -> None:
    raw = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    bad = json.loads(json.dumps(raw))
    del bad["plan"]["decision_rule"]["support"]
    with pytest.raises(ValidationError, match="missing keys"):
        load_plan(_write(tmp_path, bad))
    bad = json.loads(json.dumps(raw))
    bad["amendments"][0]["date"] = "7 Dec 2026"
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        load_plan(_write(tmp_path, bad))
    bad = json.loads(json.dumps(raw))
    bad["plan"]["primary"][1]["term"] = bad["plan"]["primary"][0]["term"]
    bad["amendments"][0]["plan_sha256"] = body_sha256(bad["plan"])
    with pytest.raises(ValidationError, match="duplicate"):
        load_plan(_write(tmp_path, bad))
    with pytest.raises(ValidationError, match="no analysis plan"):
        load_plan(tmp_path / "missing.yaml")


def _run_trivial_stage(paths: ProjectPaths) -> dict[str, object]:
    from kosovo_study.manifest import run_stage

    out = paths.root / "out.txt"

    def build() -> list[Path]:
        out.write_text("x\n", encoding="utf-8")
        return [out]

    return run_stage("trivial", [], build, paths, modules=("kosovo_study.plan",)).manifest


def test_every_manifest_records_the_plan_digest(project: ProjectPaths) -> None:
    manifest = _run_trivial_stage(project)
    digest = plan_digest(load_plan(paths=project))
    assert manifest["analysis_plan"] == digest
    assert digest["analysis_plan_sha256"] == load_plan(PLAN).sha256
    assert digest["analysis_plan_date"] == load_plan(PLAN).date.isoformat()
    recorded = json.loads((project.manifests / "trivial.json").read_text(encoding="utf-8"))
    assert recorded["analysis_plan"] == digest


def test_a_silently_edited_plan_stops_every_stage(project: ProjectPaths) -> None:
    path = project.root / PLAN_FILE
    path.write_text(
        path.read_text(encoding="utf-8").replace("alpha: 0.05", "alpha: 0.10"), encoding="utf-8"
    )
    with pytest.raises(ValidationError, match="without a recorded amendment"):
        _run_trivial_stage(project)


def test_a_tree_without_a_plan_records_none(tmp_path: Path) -> None:
    assert manifest_entry(ProjectPaths(tmp_path)) is None
