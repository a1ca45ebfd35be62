"""Designated-charity presence in the cross-national models (H4, issue 19)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kosovo_study.errors import ValidationError
from kosovo_study.models import crossnational as cn
from kosovo_study.models.crossnational.schemas import CHARITY
from kosovo_study.plan import load_plan

from ..conftest import REPO

Tables = dict[str, pd.DataFrame]


@pytest.fixture(scope="module")
def measures(clean_tables: Tables) -> pd.DataFrame:
    return clean_tables[cn.CHARITY_TABLE]


@pytest.fixture(scope="module")
def charity(clean_tables: Tables, measures: pd.DataFrame) -> pd.DataFrame:
    frame = cn.country_frame(clean_tables["countries"])
    settings = cn.Settings(simulation_draws=20)
    table = cn.charity_analysis(frame, measures, "hurdle_nb2", settings, load_plan(paths=REPO))
    return CHARITY.validate(table)


def test_h4_is_primary_and_the_sensitivities_secondary(charity: pd.DataFrame) -> None:
    count = charity[charity["component"] == "count"]
    labels = count.drop_duplicates("specification").set_index("specification")["plan_label"]
    assert labels["charity_with_youth"] == "primary"
    assert (labels.drop("charity_with_youth") == "secondary").all()
    # the binary part (being listed by ICSR) is the plan's secondary analysis, in H4 too
    assert (charity.loc[charity["component"] == "zero_hurdle", "plan_label"] == "secondary").all()
    assert set(charity["component"]) == {"count", "zero_hurdle"}
    assert charity["data_label"].str.contains("undesignated charities score 0").all()
    assert (charity["imputations"] == 20).all()
    assert (charity["n"] == 163).all()


def test_h4_ratio_is_the_count_part_coefficient(
    clean_tables: Tables, measures: pd.DataFrame, charity: pd.DataFrame
) -> None:
    """The H4 ratio, refitted by hand on one completed data set, lies inside the pooled
    interval; the measure enters unstandardised (presence against absence)."""
    frame = cn.country_frame(clean_tables["countries"]).join(
        measures.set_index("iso3")[list(cn.CHARITY_MEASURES)].astype(float)
    )
    covariates = cn.CHARITY_SPECIFICATIONS[0][2]
    complete = frame.dropna(subset=list(covariates))
    scale = {**cn.standardisation(frame), **dict.fromkeys(cn.CHARITY_MEASURES, (0.0, 1.0))}
    model = cn.fit_specification(
        "h4",
        covariates,
        "hurdle_nb2",
        [complete],
        scale,
        cn.Settings(simulation_draws=20),
        "complete_cases",
        len(complete),
    )
    terms = model.terms.set_index(["component", "term"])
    complete_rr = terms.loc[("count", cn.CHARITY), "estimate"]
    h4 = charity.set_index(["specification", "component"]).loc[("charity_with_youth", "count")]
    assert h4["conf_low"] < complete_rr < h4["conf_high"]
    # Kosovo's value is the processed table's.
    kosovo = measures.set_index("iso3").loc["XKX", cn.CHARITY]
    assert h4["kosovo_value"] == kosovo
    # Presence is 0/1 in the sample, so its share of countries at Kosovo's value or below is 1
    # when Kosovo has presence.
    if kosovo == 1:
        assert h4["kosovo_share_below"] + h4["kosovo_share_equal"] == pytest.approx(1.0)


def test_a_country_without_a_measure_is_refused(
    clean_tables: Tables, measures: pd.DataFrame
) -> None:
    frame = cn.country_frame(clean_tables["countries"])
    with pytest.raises(ValidationError, match="no row for"):
        cn.charity_analysis(
            frame,
            measures[measures["iso3"] != "XKX"],
            "hurdle_nb2",
            cn.Settings(simulation_draws=20),
            load_plan(paths=REPO),
        )


def test_every_measure_varies_in_the_sample(clean_tables: Tables, measures: pd.DataFrame) -> None:
    frame = cn.country_frame(clean_tables["countries"])
    values = measures.set_index("iso3").reindex(frame.index)[list(cn.CHARITY_MEASURES)]
    assert values.notna().all().all()
    assert (values.std() > 0).all()
    assert np.isin(values[cn.CHARITY].unique(), [0, 1]).all()
