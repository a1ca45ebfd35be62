"""The analysis-plan page and the real-evidence page: every glue key resolves, the
tables and the figure are built from results and labelled REAL, sources are cited."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from kosovo_study.plan import load_plan
from kosovo_study.report import evidence, inference, numbers
from tests.models.test_evidence import results  # noqa: F401  (the fixture)

BOOK = Path(__file__).resolve().parents[2] / "book"
GLUE = re.compile(r"\{glue:(?:text|md)\}`([^`:]+)(?::[^`]*)?`|```\{glue:(?:md|figure)\} (\S+)")
FIGURE = re.compile(r'book\.show_figure\(\s*"([^"]+)"')


def _keys(page: str) -> set[str]:
    text = (BOOK / page).read_text(encoding="utf-8")
    return {a or b for a, b in GLUE.findall(text)}


def _figures(page: str) -> set[str]:
    names = FIGURE.findall((BOOK / page).read_text(encoding="utf-8"))
    return {*names, *(f"{n}-links" for n in names)}


def test_plan_page_glue_keys_resolve() -> None:
    keys = _keys("plan.md")
    assert keys, "the page glues nothing"
    assert keys <= set(evidence.plan_numbers(load_plan()))


def test_evidence_page_glue_keys_resolve(
    results: dict[str, pd.DataFrame],  # noqa: F811
    clean_tables: dict[str, pd.DataFrame],
) -> None:
    glued = {
        **numbers.fighters(clean_tables["kosovo_national"]),
        **evidence.cell_numbers(results),
        **evidence.charity_numbers(results),
        **numbers.data_status({"municipal_outcome_synthetic": True}, None),
        **inference.cell_interval_numbers(results),
    }
    keys = _keys("evidence.md")
    assert keys <= set(glued) | _figures("evidence.md"), keys - set(glued)
    assert glued["ev_recruits"] == 14
    assert glued["ev_recruits_2013"] + glued["ev_recruits_2014"] == 14
    assert glued["ev_top_recruits"] == 7  # the south-eastern cell (issue 19)
    assert glued["ev_arrangements"] == 120
    assert glued["ch_presence"] == 1
    # permutation p 0.092 and 0.183 (tests/models/test_cells.py): neither below 0.05
    assert glued["ev_covariate_verdict"].startswith("Neither covariate")
    assert evidence.cell_numbers(results, alpha=0.1)["ev_covariate_verdict"].startswith(
        "Of the two covariates, unemployment concern (2012) has"
    )


def test_plan_numbers_are_the_plan() -> None:
    plan = load_plan()
    values = evidence.plan_numbers(plan)
    assert values["plan_sha256"] == plan.sha256
    assert values["plan_date"] == plan.date.isoformat()
    assert values["plan_alpha"] == plan.alpha
    assert evidence.primary_table(plan).frame["id"].tolist() == ["H1", "H2", "H3", "H4"]
    assert len(evidence.amendments(plan).frame) == len(plan.amendments)


def test_tables_and_figure_are_labelled_real(results: dict[str, pd.DataFrame]) -> None:  # noqa: F811
    for build in (evidence.cells_table, evidence.tests_table, evidence.charity_table):
        shown = build(results)
        assert "REAL" in shown.title
        assert any(note.startswith("REAL data") for note in shown.notes)
        assert not shown.synthetic
        assert "data_label" not in shown.frame.columns
    assert "Not a substitute" in evidence.cells_table(results).notes[0]
    figure, plotted = evidence.cell_shares(results)
    titles = [ax.get_title(loc=loc) for ax in figure.axes for loc in ("left", "center")]
    assert any("REAL" in title for title in titles)
    assert plotted["recruits"].sum() == 14
    assert plotted["recruits_pct"].sum() == pytest.approx(100)
    assert plotted["population_pct"].sum() == pytest.approx(100)


def test_pages_are_in_the_book_and_cite_their_sources() -> None:
    toc = (BOOK / "_toc.yml").read_text(encoding="utf-8")
    assert toc.index("file: data") < toc.index("file: plan")
    assert toc.index("file: municipalities") < toc.index("file: evidence")
    bib = (BOOK / "references.bib").read_text(encoding="utf-8")
    page = (BOOK / "evidence.md").read_text(encoding="utf-8")
    cited = {k for group in re.findall(r"\{cite:p\}`([^`]+)`", page) for k in group.split(",")}
    assert "EDGERTON_2023" in cited
    for key in cited:
        assert f"{{{key}," in bib, key
    assert "Journal of Conflict Resolution" in bib[bib.index("{EDGERTON_2023,") :][:600]
