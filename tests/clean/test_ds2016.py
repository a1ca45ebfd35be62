"""Derpanopoulos & Sonnet's imputed features enter through the clean stage."""

from __future__ import annotations

import pandas as pd
import pytest

from kosovo_study.clean import ds2016
from kosovo_study.errors import ValidationError
from kosovo_study.paths import ProjectPaths
from kosovo_study.registry import raw_path

Tables = dict[str, pd.DataFrame]


def test_features_table_is_their_file(clean_tables: Tables, fetched_project: ProjectPaths) -> None:
    table = clean_tables[ds2016.TABLE]
    assert len(table) == ds2016.COUNTRIES
    raw = pd.read_csv(raw_path("ds2016_foreignfightersimputed", fetched_project))
    pd.testing.assert_frame_equal(
        table.set_index("ctryCode")[list(ds2016.FEATURES)],
        raw.set_index("ctryCode")[list(ds2016.FEATURES)].astype(float),
    )
    # Their outcome: mean 114.08 over 163 countries (their "Description of Features").
    assert table["icsrMean"].mean() == pytest.approx(114.08, abs=0.005)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.assign(lnpop=t["lnpop"].where(t.index != 3)), "lnpop"),
        (lambda t: t.drop(columns="europe"), "europe"),
        (lambda t: t.iloc[:-1], "163 countries"),
    ],
)
def test_a_damaged_file_is_refused(
    fetched_project: ProjectPaths, tmp_path: object, change: object, message: str
) -> None:
    raw = pd.read_csv(raw_path("ds2016_foreignfightersimputed", fetched_project))
    path = tmp_path / "foreignFightersImputed.csv"  # type: ignore[operator]
    change(raw).to_csv(path, index=False)  # type: ignore[operator]
    with pytest.raises(ValidationError, match=message):
        ds2016.read_features(path)
