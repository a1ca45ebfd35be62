"""The source chain of glued numbers (issue 21, item 7): where each value was read, the
stage run that wrote that file, its inputs, parameters and commit; the HTML popover;
``kosovo-study why``; and, on the session's built book, every glued key has a record and
20 keys drawn at random are recomputed from their recorded rows and match the page."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from kosovo_study.paths import ProjectPaths
from kosovo_study.report import labels, sources

from ..conftest import make_project


@pytest.fixture
def index(tmp_path: Path) -> sources.SourceIndex:
    """A project with one result table, one processed table and a metadata file."""
    paths = make_project(tmp_path / "project")
    paths.results.mkdir(parents=True)
    coefficients = pd.DataFrame(
        {
            "model": ["nb2", "nb2", "poisson", "poisson"],
            "term": ["unemployment", "charity", "unemployment", "charity"],
            "incidence_rate_ratio": [1.2345678912, 0.8765432198, 1.2345678913, 0.91],
            "n": [38, 38, 38, 38],
        }
    )
    coefficients.to_csv(paths.results / "coefficients.csv", index=False)
    national = pd.DataFrame({"statistic": ["total", "total", "dead"], "value": [232.0, 400.0, 5.0]})
    national.to_parquet(paths.processed / "national.parquet")
    (paths.results / "metadata.json").write_text(
        json.dumps({"municipal_n": 38, "settings": {"permutations": 999}}), encoding="utf-8"
    )
    files = [
        paths.results / "coefficients.csv",
        paths.processed / "national.parquet",
        paths.results / "metadata.json",
    ]
    return sources.SourceIndex.from_files(paths, files)


def test_an_estimate_is_traced_to_its_row_and_column(index: sources.SourceIndex) -> None:
    record = sources.locate("irr_unemployment", 1.2345678912, index)
    assert record["kind"] == "cell"
    assert record["file"] == "data/processed/results/coefficients.csv"
    assert record["selector"] == {"model": "nb2", "term": "unemployment"}
    assert record["column"] == "incidence_rate_ratio"
    assert sources.recompute(record, index.root) == 1.2345678912
    # its neighbour in the next row (differing in the last digits) is another cell
    other = sources.locate("irr_unemployment_poisson", 1.2345678913, index)
    assert other["selector"] == {"model": "poisson", "term": "unemployment"}


def test_documents_aggregates_and_scaled_values(index: sources.SourceIndex) -> None:
    n = sources.locate("municipal_n", 38, index)
    assert (n["kind"], n["path"]) == ("document", "municipal_n")
    permutations = sources.locate("permutations", 999, index)
    assert permutations["path"] == "settings.permutations"
    highest = sources.locate("total_value_max", 400.0, index)
    assert highest["kind"] == "cell"
    assert highest["selector"] == {"_row": 2}
    # 0.91 x 100: a percentage of a cell
    percent = sources.locate("irr_charity_poisson_pct", 91.0, index)
    assert percent["scale"] == 100
    assert percent["column"] == "incidence_rate_ratio"
    assert sources.recompute(percent, index.root) == pytest.approx(91.0)
    spread = sources.locate("value_sum", 637.0, index)
    assert (spread["kind"], spread["operation"], spread["column"]) == ("aggregate", "sum", "value")
    assert sources.recompute(spread, index.root) == 637.0


def test_a_count_no_column_names_is_not_pinned_on_a_chance_cell(
    index: sources.SourceIndex,
) -> None:
    # 5 is in the table (the dead row), but the key does not name that column or row:
    # a chance match, so the value is recorded as computed, not as a false source
    record = sources.locate("cn_verdict_agree", 5, index)
    assert record["kind"] == "computed"
    text = sources.locate("abstract", "x" * 200, index)
    assert text["kind"] == "text"
    with pytest.raises(ValueError, match="names no file"):
        sources.recompute(record, index.root)


def _manifest(paths: ProjectPaths) -> None:
    paths.manifests.mkdir(parents=True, exist_ok=True)
    manifest = {
        "stage": "models",
        "git_commit": "0123456789abcdef0123456789abcdef01234567",
        "finished_utc": "2026-12-07T12:00:00+00:00",
        "parameters": {"permutations": 999, "seed": 2016},
        "parameters_sha256": "p" * 64,
        "inputs": {
            "data/processed/national.parquet": "a" * 64,
            "data/raw/restricted/fighters_by_municipality.csv": "b" * 64,
        },
        "outputs": {"data/processed/results/coefficients.csv": "c" * 64},
    }
    (paths.manifests / "models.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_the_chain_names_the_stage_run_inputs_parameters_and_commit(
    index: sources.SourceIndex,
) -> None:
    paths = ProjectPaths(index.root)
    _manifest(paths)
    record = sources.locate("irr_unemployment", 1.2345678912, index)
    chain = sources.chain(record, paths)
    assert chain["stage"] == "models"
    assert chain["manifest"] == "data/processed/manifests/models.json"
    assert chain["file_sha256"] == "c" * 64
    assert chain["parameters"] == {"permutations": 999, "seed": 2016}
    assert chain["commit"].startswith("0123456789ab")
    assert chain["inputs"] == 2
    # the restricted input enters by name only: its hash is never shown
    lines = dict(sources.chain_lines(chain))
    assert "b" * 64 not in json.dumps(chain) + json.dumps(lines)
    assert "models stage" in lines["Written by"]
    assert "term = unemployment" in lines["Read from"]


def test_a_glued_key_without_a_record_is_named() -> None:
    pages: dict[str, dict[str, dict[str, Any]]] = {
        "intro": {"total_min": {"data": {}, "record": {"kind": "cell"}}},
        "data": {"coverage": {"data": {}, "record": None}},
    }
    assert sources.missing_records(pages) == ["data:coverage"]


def test_display_formats_are_read_from_the_pages(tmp_path: Path) -> None:
    (tmp_path / "page.md").write_text(
        "From {glue:text}`total_min:.0f` to {glue:text}`total_max:,.0f`; {glue:text}`n`.",
        encoding="utf-8",
    )
    assert sources.display_formats(tmp_path) == {
        "total_min": {".0f"},
        "total_max": {",.0f"},
        "n": {"s"},
    }


# --- on the session's built book (slow) ------------------------------------------------

_BUTTON = re.compile(
    r'<button type="button" class="kosovo-number" popovertarget="([^"]+)" '
    r'data-glue-key="([^"]+)" data-glue-format="([^"]*)"[^>]*>(.*?)</button>',
    flags=re.DOTALL,
)


def _displayed(paths: ProjectPaths) -> list[tuple[str, str, str, str]]:
    """(page, key, format, text) of every glued number of the built HTML."""
    shown = []
    for page in sorted((paths.book_build / "html").glob("*.html")):
        for _target, key, spec, inner in _BUTTON.findall(page.read_text("utf-8")):
            shown.append((page.stem, key, spec, re.sub(r"<[^>]+>", "", inner)))
    return shown


@pytest.mark.slow
def test_every_glued_key_of_the_book_has_a_source_record(built_book: ProjectPaths) -> None:
    pages = sources.glued_outputs(built_book)
    assert sum(len(glued) for glued in pages.values()) > 100
    assert sources.missing_records(pages) == []
    written = json.loads(sources.record_file(built_book).read_text("utf-8"))
    assert written["format"] == sources.FORMAT
    assert all("chain" in entry for entry in written["keys"].values())


@pytest.mark.slow
def test_twenty_glued_numbers_recomputed_from_their_rows_match_the_page(
    built_book: ProjectPaths,
) -> None:
    from myst_nb.core.variables import format_plain_text

    records = {
        key: entry["chain"]
        for key, entry in sources.load_glue_record(built_book)["keys"].items()
        if entry.get("chain", {}).get("kind") in {"cell", "document", "aggregate"}
    }
    shown = [item for item in _displayed(built_book) if item[1] in records]
    assert len({key for _, key, _, _ in shown}) >= 40
    drawn = random.Random(2021).sample(shown, 20)
    for page, key, spec, text in drawn:
        value = sources.recompute(records[key], built_book.root)
        # the page prints a true minus sign (labels.true_minus), the recomputed text a hyphen
        expected = labels.true_minus(format_plain_text(repr(value), spec))
        assert expected == text, (page, key, records[key])
    # every displayed number carries its popover, with the chain's parts: the stage
    # lines wherever the file was written by a stage run (this fixture writes the models'
    # results without one; clean and multiverse run as stages)
    pages = [p.read_text("utf-8") for p in (built_book.book_build / "html").glob("*.html")]
    assert all("kosovo-study why" in page for page in pages if "kosovo-number" in page)
    robustness = (built_book.book_build / "html" / "robustness.html").read_text("utf-8")
    assert "Written by:</b> the multiverse stage" in robustness
    assert "Commit:" in robustness


@pytest.mark.slow
def test_why_prints_the_chain_and_names_near_misses(
    built_book: ProjectPaths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kosovo_study import cli
    from kosovo_study.paths import ROOT_ENV

    monkeypatch.setenv(ROOT_ENV, str(built_book.root))
    assert cli.main(["why", "mv_main_unemployment_joint_p"]) == 0
    out = capsys.readouterr().out
    assert "multiverse_joint_test.csv" in out
    assert "multiverse stage" in out
    assert cli.main(["why", "--list"]) == 0
    assert "cn_ame_youth" in capsys.readouterr().out
    assert cli.main(["why", "cn_ame_yuoth"]) == 1
    assert "cn_ame_youth" in capsys.readouterr().err
