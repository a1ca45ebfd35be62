"""The whole report on restricted counts publishes none of them (issue 23, HIGH).

The fixture's counts are distinctive values chosen so that no other number in the same
municipality's row of the processed table equals them; every output file and the built
book are then scanned, independently of the guard, for any of them appearing as the
count of its municipality: a table cell in that municipality's row, two non-integer
cells of that row adding up to it (a fitted value and its residual), an HTML table row
or a sentence naming the municipality, a JSON mapping from the name to it.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from kosovo_study import disclosure, stages
from kosovo_study.config import load_config
from kosovo_study.models.design import municipal_design
from kosovo_study.municipalities import load_register
from kosovo_study.paths import ProjectPaths
from kosovo_study.validation import estimability_problem
from tests.conftest import REPO
from tests.restricted import write_restricted

#: Distinctive counts (persons), 336 in all: inside the published range 232-400.
VALUES = (71, 53, 43, 37, 31, 29, 23, 19, 17, 13)
#: Short runs: every simulation size small (the values do not matter to the scan).
SMALL = """
[tool.kosovo_study]
permutations = 9
bootstrap_replicates = 9
design_simulations = 40
design_permutation_simulations = 20
design_permutations = 19
crossnational_simulation_draws = 10
multiverse_permutations = 9
"""


def _choose_counts(paths: ProjectPaths) -> dict[int, int]:
    """The 10 most populous Muslim-majority municipalities, each given a value that no
    other number of its row in the municipalities table equals."""
    table = pd.read_parquet(paths.processed / "municipalities.parquet")
    candidates = table[table["muslim_share_2011"] >= 0.5].sort_values(
        "population_2011", ascending=False
    )
    counts: dict[int, int] = {}
    left = list(VALUES)
    for _, row in candidates.iterrows():
        numbers = {float(v) for v in row.to_numpy() if isinstance(v, int | float | np.number)}
        for value in left:
            if float(value) not in numbers and float(value) != float(row["municipality_id"]):
                counts[int(row["municipality_id"])] = value
                left.remove(value)
                break
        if not left:
            return counts
    raise AssertionError("not enough municipalities for the distinctive counts")


def _row_findings(table: pd.DataFrame, counts: dict[int, int], names: dict[str, int]) -> list[str]:
    if "municipality_id" in table:
        ids = pd.to_numeric(table["municipality_id"], errors="coerce")
    else:
        ids = pd.Series(np.nan, index=table.index)
        for column in table.columns:
            if table[column].dtype == object or pd.api.types.is_string_dtype(table[column]):
                mapped = table[column].map(lambda v: names.get(v) if isinstance(v, str) else None)
                ids = ids.fillna(pd.to_numeric(mapped, errors="coerce"))
    numeric = [
        c
        for c in table.columns
        if c not in disclosure.PUBLIC_COLUMNS
        and c != "municipality_id"
        and pd.api.types.is_numeric_dtype(table[c])
        and not pd.api.types.is_bool_dtype(table[c])
    ]
    found = []
    for index, identifier in ids.items():
        if pd.isna(identifier) or int(identifier) not in counts:
            continue
        count = counts[int(identifier)]
        cells = {c: float(table.loc[index, c]) for c in numeric if pd.notna(table.loc[index, c])}
        found += [f"column {c}" for c, v in cells.items() if abs(v - count) < 1e-6]
        fractional = {c: v for c, v in cells.items() if abs(v - round(v)) > 1e-9}
        keys = list(fractional)
        for i, a in enumerate(keys):
            for b in keys[i + 1 :]:
                va, vb = fractional[a], fractional[b]
                if min(abs(va + vb - count), abs(va - vb - count), abs(vb - va - count)) < 1e-6:
                    found.append(f"columns {a} and {b}")
    return found


def _json_findings(value: Any, counts: dict[int, int], names: dict[str, int]) -> list[str]:
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and names.get(key) in counts and item == counts[names[key]]:
                found.append(f"key {key}")
            found += _json_findings(item, counts, names)
    elif isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            found += _row_findings(pd.DataFrame(value), counts, names)
        for item in value:
            found += _json_findings(item, counts, names)
    return found


def _text_findings(text: str, counts: dict[int, int], labels: dict[int, str]) -> list[str]:
    found = []
    for row in re.findall(r"<tr.*?</tr>", text, flags=re.DOTALL):
        cells = [re.sub(r"<[^>]+>|\s+", " ", c).strip() for c in re.split(r"</t[dh]>", row)]
        for identifier, count in counts.items():
            if any(labels[identifier] in c for c in cells) and str(count) in cells:
                found.append(f"table row of {labels[identifier]}")
    plain = re.sub(r"<[^>]+>", " ", text)
    for identifier, count in counts.items():
        pattern = re.escape(labels[identifier]) + r"[^0-9.\n]{0,40}\b" + str(count) + r"\b(?!\.\d)"
        found += [f"text near {labels[identifier]}" for _ in re.findall(pattern, plain)]
    return found


def scan(paths: ProjectPaths, counts: dict[int, int]) -> dict[str, list[str]]:
    """Every finding, by file (relative path), in data/processed and book/_build."""
    register = load_register(paths.transcribed)
    names = {}
    for m in register.municipalities:
        names[m.name_sq] = names[m.name_sr] = m.municipality_id
    labels = {m.municipality_id: m.name_sq for m in register.municipalities}
    findings: dict[str, list[str]] = {}
    files = [
        p
        for folder in (paths.processed, paths.book_build)
        for p in folder.rglob("*")
        if p.is_file() and ".staging" not in str(p)
    ]
    for path in files:
        suffix = path.suffix.lower()
        found: list[str] = []
        if suffix == ".parquet":
            try:
                found = _row_findings(pd.read_parquet(path), counts, names)
            except (ValueError, OSError):  # GeoParquet without geopandas metadata support
                found = []
        elif suffix == ".csv":
            found = _row_findings(pd.read_csv(path), counts, names)
        elif suffix == ".json":
            found = _json_findings(json.loads(path.read_text("utf-8")), counts, names)
        elif suffix in {".html", ".ipynb", ".md", ".txt", ".log", ".tex", ".svg"}:
            found = _text_findings(path.read_text("utf-8", errors="replace"), counts, labels)
        if found:
            findings[str(path.relative_to(paths.root))] = found
    return findings


def plain_sha256_findings(paths: ProjectPaths, restricted: Path) -> list[str]:
    """Files of data/processed and book/_build holding the restricted file's sha256 (or
    its first 12 hex digits, as a description would shorten it)."""
    import hashlib

    plain = hashlib.sha256(restricted.read_bytes()).hexdigest()
    found = []
    for folder in (paths.processed, paths.book_build):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and plain[:12].encode() in path.read_bytes():
                found.append(str(path.relative_to(paths.root)))
    return found


def test_the_sha256_scan_finds_a_planted_digest(tmp_path: Path) -> None:
    import hashlib

    from tests.conftest import make_project

    paths = make_project(tmp_path / "project")
    restricted = write_restricted(paths)
    assert plain_sha256_findings(paths, restricted) == []
    paths.manifests.mkdir(parents=True)
    digest = hashlib.sha256(restricted.read_bytes()).hexdigest()
    (paths.manifests / "models.json").write_text(json.dumps({"sha256": digest}), "utf-8")
    assert plain_sha256_findings(paths, restricted) == ["data/processed/manifests/models.json"]


@pytest.mark.slow
def test_the_report_on_restricted_counts_publishes_none_of_them(
    scratch_project: ProjectPaths,
) -> None:
    paths = scratch_project
    shutil.copytree(REPO.book, paths.book, ignore=shutil.ignore_patterns("_build"))
    with (paths.root / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write(SMALL)
    config = load_config(paths.root)
    stages.run("clean", paths, config)
    counts = _choose_counts(paths)
    design = municipal_design(pd.read_parquet(paths.processed / "municipalities.parquet"))
    assert estimability_problem(design, [counts.get(i, 0) for i in design.municipality_id]) is None
    restricted = write_restricted(paths, counts, definition="travelled")
    for name in ("models", "multiverse", "interviews", "book"):
        stages.run(name, paths, config)
    # the release record and the run crate too: every file a release publishes
    from kosovo_study.replication import finish_report

    assert finish_report(paths)
    # no output names the restricted file by its plain sha256 (issue 22, item 1): it
    # would let anyone test guessed count tables against it
    assert plain_sha256_findings(paths, restricted) == []

    metadata = json.loads((paths.results / "metadata.json").read_text("utf-8"))
    assert metadata["municipal_outcome_source"] == "restricted"
    assert scan(paths, counts) == {}
    intro = (paths.book_build / "html" / "intro.html").read_text("utf-8")
    assert "<strong>restricted</strong>" in intro
    # no stale claim that the counts are synthetic, in any chapter (issue 23, item 6)
    html = paths.book_build / "html"
    text = " ".join(
        re.sub(r"<[^>]+>", " ", (html / f"{page}.html").read_text("utf-8"))
        for page in ("intro", "conclusion", "municipalities", "robustness", "data")
    )
    text = " ".join(text.split())
    for stale in (
        "regressions run on a synthetic outcome",
        "the municipal specification curves run on seeded",
        "municipal rows test a synthetic outcome",
        "Complete municipal counts",
    ):
        assert stale not in text
    assert "The municipal rows test the restricted counts" in text
    influence = pd.read_csv(paths.results / "municipal_influence.csv")
    assert "fighters" not in influence
    assert "fitted_nb2" not in influence


def test_the_scan_finds_a_planted_count(tmp_path: Path) -> None:
    """The scan is the test's own, independent of the guard: it must see a leak."""
    from tests.conftest import make_project

    paths = make_project(tmp_path / "project")
    counts = {7: 71}
    paths.results.mkdir(parents=True)
    pd.DataFrame({"municipality": ["Kaçanik", "Pejë"], "fighters": [71, 4]}).to_csv(
        paths.results / "leak.csv", index=False
    )
    pd.DataFrame({"municipality_id": [7], "fitted": [70.25], "residual": [0.75]}).to_parquet(
        paths.results / "pair.parquet"
    )
    html = paths.book_build / "html"
    html.mkdir(parents=True)
    (html / "page.html").write_text(
        "<table><tr><td>Kaçanik</td><td>71</td></tr></table><p>Kaçanik had 71 fighters.</p>",
        encoding="utf-8",
    )
    (paths.results / "m.json").write_text(json.dumps({"x": {"Kaçanik": 71}}), encoding="utf-8")
    found = scan(paths, counts)
    assert set(found) == {
        "data/processed/results/leak.csv",
        "data/processed/results/pair.parquet",
        "book/_build/html/page.html",
        "data/processed/results/m.json",
    }
