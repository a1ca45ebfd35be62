"""Statistical disclosure control: the guard before every write refuses a restricted count
in any form it can follow from (issue 23)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kosovo_study import disclosure
from kosovo_study.municipalities import load_register
from kosovo_study.paths import ProjectPaths
from kosovo_study.storage import write_table, write_text_atomic
from tests.conftest import make_project
from tests.restricted import write_restricted

#: Distinctive counts (37, 53, 71 ... never occur otherwise) on 8 municipalities, 0
#: elsewhere: 37+53+71+29+43+19+23+31 = 306 persons, inside the published 232-400.
DISTINCTIVE = dict(
    zip([1, 4, 7, 10, 16, 19, 22, 33], [37, 53, 71, 29, 43, 19, 23, 31], strict=True)
)


@pytest.fixture
def restricted(tmp_path: Path) -> ProjectPaths:
    paths = make_project(tmp_path / "project")
    write_restricted(paths, DISTINCTIVE, definition="travelled")
    return paths


def _per_municipality(paths: ProjectPaths) -> pd.DataFrame:
    register = load_register(paths.transcribed)
    ids = [m.municipality_id for m in register.municipalities]
    counts = np.array([DISTINCTIVE.get(i, 0) for i in ids], dtype=float)
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "municipality_id": ids,
            "municipality": [m.name_sq for m in register.municipalities],
            "counts": counts,
            "cooks_distance": rng.uniform(size=len(ids)),
            "fitted": counts + rng.normal(size=len(ids)),
        }
    )


@pytest.mark.parametrize(
    ("column", "make", "kind"),
    [
        ("fighters", lambda t: t["counts"], "equals the restricted counts"),
        ("share", lambda t: t["counts"] / t["counts"].sum(), "linear function"),
        ("percent_plus_one", lambda t: 100 * t["counts"] + 1, "linear function"),
    ],
)
def test_a_column_that_gives_the_counts_is_refused_naming_file_and_column(
    restricted: ProjectPaths, column: str, make: object, kind: str
) -> None:
    table = _per_municipality(restricted)
    table[column] = make(table)  # type: ignore[operator]
    table = table.drop(columns="counts")
    with pytest.raises(disclosure.DisclosureError, match=kind) as error:
        write_table(table, restricted.results, "leaky")
    message = str(error.value)
    assert "leaky.csv" in message
    assert repr(column) in message
    # The message names the file by its path, whose temporary folder may hold any digits
    # (pytest-of-root/pytest-31): the counts are looked for in the rest of the message.
    told = message.replace(str(restricted.root), "<project>")
    assert not any(re.search(rf"(?<!\d){v}(?!\d)", told) for v in DISTINCTIVE.values())
    assert not (restricted.results / "leaky.csv").exists()


def test_fitted_value_beside_its_residual_is_refused(restricted: ProjectPaths) -> None:
    table = _per_municipality(restricted)
    table["residual"] = table["counts"] - table["fitted"]
    with pytest.raises(disclosure.DisclosureError, match="'fitted' and 'residual'"):
        write_table(table.drop(columns="counts"), restricted.results, "pairs")


def test_a_subset_of_rows_named_by_municipality_is_refused(restricted: ProjectPaths) -> None:
    """The influence table printed the flagged rows with their counts, by name only."""
    rows = pd.DataFrame({"municipality": ["Kaçanik", "Gjilan"], "fighters": [71, 53]})
    with pytest.raises(disclosure.DisclosureError, match="'fighters' equals"):
        write_text_atomic(restricted.book_build / "figures" / "x.csv", rows.to_csv(index=False))
    as_json = json.dumps({"by_municipality": {"Kaçanik": 71, "Gjilan": 53}})
    with pytest.raises(disclosure.DisclosureError):
        write_text_atomic(restricted.results / "metadata.json", as_json)


def test_estimates_diagnostics_and_public_counts_pass(restricted: ProjectPaths) -> None:
    table = _per_municipality(restricted).drop(columns=["counts", "fitted"])
    table["fighters_confirmed"] = [71 if n == "Kaçanik" else np.nan for n in table["municipality"]]
    table["population"] = np.arange(len(table)) * 1000 + 5000
    write_table(table, restricted.results, "fine")
    assert (restricted.results / "fine.csv").exists()


def test_without_restricted_data_the_guard_does_nothing(tmp_path: Path) -> None:
    paths = make_project(tmp_path / "project")
    table = _per_municipality(paths).rename(columns={"counts": "fighters"})
    write_table(table, paths.results, "synthetic_like")
    assert (paths.results / "synthetic_like.csv").exists()


def test_diagnostics_are_rounded_only_for_restricted_counts() -> None:
    table = pd.DataFrame({"cooks_distance": [0.123456], "dfbeta_x": [1.23456], "irr_x": [1.2345]})
    assert disclosure.coarsen_diagnostics(table, synthetic=True).equals(table)
    coarse = disclosure.coarsen_diagnostics(table, synthetic=False)
    assert coarse.iloc[0].tolist() == [0.12, 1.2, 1.23]
