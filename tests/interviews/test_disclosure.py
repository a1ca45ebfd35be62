"""k-anonymity (k >= 5) of the published respondent table, and the risk report."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from kosovo_study import stages
from kosovo_study.interviews import disclosure
from kosovo_study.paths import ProjectPaths

AGES = ["15-19", "20-24", "25-29", "30-34", "35-44", "45+"]


def _table(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "respondent": [f"R{i:03d}" for i in range(len(rows))],
            "municipality": [r[0] for r in rows],
            "age_band": [r[1] for r in rows],
            "group": [r[2] for r in rows],
            "sex": [r[3] for r in rows],
            "travelled": ["yes" if i % 2 else "no" for i in range(len(rows))],
        }
    )


def test_a_table_that_is_already_5_anonymous_is_left_as_it_is() -> None:
    rows = [("Gjilan", "15-19", "returnee", "male")] * 5 + [("Pejë", "45+", "police", "female")] * 6
    table = _table(rows)
    published, report = disclosure.anonymise(table)
    pd.testing.assert_frame_equal(published, table, check_dtype=False)
    measures = dict(zip(report["measure"], report["value"], strict=True))
    assert measures["smallest class"] == "5"
    assert measures["respondents with every quasi-identifier suppressed"] == "0"
    assert measures["municipality: generalisation"] == "as recorded"


def test_age_is_coarsened_before_anything_is_suppressed() -> None:
    # by hand: (Gjilan, 15-19) x3 and (Gjilan, 25-29) x3 are classes of 3; coarse
    # bands make one class (Gjilan, 15-29) of 6; the other class stays 6
    rows = [("Gjilan", "15-19", "returnee", "male")] * 3
    rows += [("Gjilan", "25-29", "returnee", "male")] * 3
    rows += [("Pejë", "45+", "returnee", "male")] * 6
    published, report = disclosure.anonymise(_table(rows))
    assert set(published["age_band"]) == {"15-29", "45+"}
    assert list(published["municipality"]) == [r[0] for r in rows]
    assert disclosure.smallest_class(published) == 6
    measures = dict(zip(report["measure"], report["value"], strict=True))
    assert measures["age band: generalisation"] == "coarsened to 15-29, 30-44, 45+"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Gjilan", "Pejë", "Prizren", "Deçan", "Istog"]),
            st.sampled_from(AGES),
            st.sampled_from(["returnee", "police", "family_member"]),
            st.sampled_from(["male", "female"]),
        ),
        min_size=1,
        max_size=80,
    )
)
def test_every_published_class_has_at_least_k_members(
    rows: list[tuple[str, str, str, str]],
) -> None:
    table = _table(rows)
    published, _ = disclosure.anonymise(table)
    smallest = disclosure.smallest_class(published)
    assert smallest is None or smallest >= disclosure.K
    # nothing but the quasi-identifiers changes, and no respondent is lost
    assert list(published["respondent"]) == list(table["respondent"])
    assert list(published["travelled"]) == list(table["travelled"])


def test_the_synthetic_study_is_published_5_anonymous_with_a_risk_report(
    project: ProjectPaths,
) -> None:
    stages.run("interviews", project)
    respondents = pd.read_parquet(project.processed / "interview_respondents.parquet")
    smallest = disclosure.smallest_class(respondents)
    assert smallest is not None
    assert smallest >= disclosure.K
    risk = pd.read_csv(project.processed / "interview_disclosure_risk.csv", dtype=str)
    measures = dict(zip(risk["measure"], risk["value"], strict=True))
    assert measures["k (smallest class allowed)"] == "5"
    assert int(measures["smallest class"]) >= 5
    assert (risk["synthetic"] == "True").all()
    # the model is fitted before generalisation: municipalities stay its clusters
    model = pd.read_csv(project.results / "interview_model.csv")
    assert (model["status"] == "computed").all()
    assert int(model["clusters"].iloc[0]) >= 10
