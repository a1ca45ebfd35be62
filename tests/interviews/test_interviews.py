"""Interviews: importers, round trip, privacy, reliability, synthetic model."""

from __future__ import annotations

import zipfile
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest

from kosovo_study.errors import KosovoStudyError
from kosovo_study.interviews import model, privacy, synthetic
from kosovo_study.interviews.importers import read_export, read_qdpx, read_segment_table
from kosovo_study.interviews.pipeline import import_interviews, tables_from_export
from kosovo_study.interviews.reliability import agreement, cohen_kappa
from kosovo_study.paths import ProjectPaths

QDA = Path(__file__).resolve().parents[3] / "shared" / "data" / "qda"


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return synthetic.write_study(7, tmp_path_factory.mktemp("study"))


def test_round_trip_through_qdpx_keeps_segments_and_codes(study: dict[str, Path]) -> None:
    segments, _ = synthetic.generate(7)
    imported = read_qdpx(study["qdpx"])
    key = ["respondent", "code", "segment_text", "coder"]
    expected = segments[key].sort_values(key).reset_index(drop=True)
    got = imported.segments[key].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)
    assert imported.problems == []
    assert len(imported.respondents) == synthetic.PARAMETERS["respondents"]


def test_written_project_validates_against_the_refi_qda_schema(study: dict[str, Path]) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    schema_file = QDA / "Project-mrt2019.xsd"
    if not schema_file.exists():
        pytest.skip("shared/data/qda is absent")
    xml = zipfile.ZipFile(study["qdpx"]).read("project.qde").decode("utf-8")
    xmlschema.XMLSchema(str(schema_file)).validate(xml)


@pytest.mark.parametrize(
    ("name", "codes_outside"),
    [
        ("maxqda24_icls-themes.qdpx", 307),
        ("atlas23_target-project.qdpx", 3),
        ("atlas23_blank-project.qdpx", 0),
    ],
)
def test_real_exports_are_read_and_foreign_codes_reported(name: str, codes_outside: int) -> None:
    path = QDA / name
    if not path.exists():
        pytest.skip("shared/data/qda is absent")
    export = read_qdpx(path)
    assert sum(p["kind"] == "code outside codebook" for p in export.problems) == codes_outside


def _planted(tmp_path: Path) -> Path:
    rows = [
        {
            "document": "int-1",
            "respondent": "Resp-Alpha",
            "code": "unemployed",
            "coder": "coder_A",
            "segment_text": "Arben Krasniqi said call +383 44 123 456 or write arben.k@example.com",
            "person_names": "Arben Krasniqi",
        },
        {
            "document": "int-1",
            "respondent": "Resp-Alpha",
            "code": "belonging",
            "coder": "coder_A",
            "segment_text": "Born 12.03.1994, personal number 1234567890, Rruga Nena Tereze nr. 12",
            "person_names": "Arben Krasniqi",
        },
        {
            "document": "int-2",
            "respondent": "Resp-Beta",
            "code": "no_such_code",
            "coder": "coder_A",
            "segment_text": "A neutral segment.",
            "person_names": "",
        },
    ]
    path = tmp_path / "planted.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_planted_identifiers_never_reach_the_output(
    tmp_path: Path, project: ProjectPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(privacy.KEY_ENV, "6e1b9c0f4a7d2e85b3c6f9a1d4e7b0c3")  # invented
    tables = import_interviews(_planted(tmp_path), project)
    written = "".join(p.read_text("utf-8") for p in project.processed.glob("*.csv"))
    for secret in (
        "Arben",
        "Krasniqi",
        "383 44",
        "example.com",
        "1994",
        "1234567890",
        "Nena Tereze",
        "Resp-Alpha",
    ):
        assert secret not in written, secret
    # The book shows these tables as HTML: render them the same way and run the book guard.
    page = tmp_path / "site" / "interviews.html"
    page.parent.mkdir()
    page.write_text("".join(t.to_html() for t in tables.values()), "utf-8")
    privacy.guard_book(page.parent)
    for secret in ("Arben", "Krasniqi", "example.com", "1234567890", "Resp-Alpha"):
        assert secret not in page.read_text("utf-8"), secret
    problems = tables["interview_import_problems"]
    assert "export line 4" in set(problems["place"])
    assert not problems["place"].str.contains("planted").any()  # never the file name
    assert "unknown code" in set(problems["kind"])


def test_guard_fails_when_a_redaction_rule_is_switched_off(
    tmp_path: Path, project: ProjectPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(privacy.KEY_ENV, "6e1b9c0f4a7d2e85b3c6f9a1d4e7b0c3")  # invented
    original = privacy.redact
    monkeypatch.setattr(
        "kosovo_study.interviews.pipeline.redact",
        lambda text, names: original(text, names, enabled=set(privacy.RULES) - {"EMAIL"}),
    )
    with pytest.raises(KosovoStudyError, match=r"PII guard.*EMAIL.*Nothing was written"):
        import_interviews(_planted(tmp_path), project)
    assert not list(project.processed.glob("interview_*"))


def test_real_data_without_a_key_is_refused(
    tmp_path: Path, project: ProjectPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    monkeypatch.delenv(privacy.KEY_FILE_ENV, raising=False)
    with pytest.raises(KosovoStudyError, match="No pseudonymisation key"):
        import_interviews(_planted(tmp_path), project)


def test_pseudonyms_are_stable_and_keyed() -> None:
    assert privacy.pseudonymise("A-1", "k") == privacy.pseudonymise(" A-1 ", "k")
    assert privacy.pseudonymise("A-1", "k") != privacy.pseudonymise("A-1", "other")


def test_krippendorff_worked_example() -> None:
    # Krippendorff, "Computing Krippendorff's alpha-reliability", nominal example: 0.743.
    nan = np.nan
    data = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
    assert (
        round(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"), 3) == 0.743
    )


def test_cohen_kappa_by_hand() -> None:
    # observed 0.75, expected 0.5*0.25 + 0.5*0.75 = 0.5 -> kappa 0.5
    assert cohen_kappa(np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0])) == pytest.approx(0.5)


def test_agreement_is_perfect_without_disagreement(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(synthetic.PARAMETERS, "disagreement", 0.0)
    segments, _ = synthetic.generate(3, respondents=60)
    table = agreement(segments.assign(code=segments["code"]))
    overall = table[table["code"] == "(all codes)"].iloc[0]
    assert overall["krippendorff_alpha"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("content", "name", "pattern"),
    [
        (b"not a zip", "broken.qdpx", "not a REFI-QDA project"),
        (None, "other.qdpx", "not a REFI-QDA project"),
        (b"document,respondent,code,segment_text,coder\n", "empty.csv", "no coded segments"),
        (
            "document,respondent,code,segment_text,coder\nd,r,belonging,Çka,c\n".encode("cp1250"),
            "cp.csv",
            "not UTF-8",
        ),
        (b"document,respondent,segment_text\n", "cols.csv", "missing columns"),
    ],
)
def test_malformed_exports_give_clear_errors(
    tmp_path: Path, content: bytes | None, name: str, pattern: str
) -> None:
    path = tmp_path / name
    if content is None:  # a zip whose project.qde is XML but not REFI-QDA
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("project.qde", "<html><body>hello</body></html>")
    else:
        path.write_bytes(content)
    with pytest.raises(KosovoStudyError, match=pattern):
        read_export(path)


def test_unknown_code_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text(
        "document,respondent,code,segment_text,coder\nd,r,belonging,x,c\nd,r,astrology,y,c\n",
        "utf-8",
    )
    export = read_segment_table(path)
    assert export.problems == [
        {
            "place": "export line 3",
            "kind": "unknown code",
            "detail": "'astrology' is not in codebook 1.0.0",
        }
    ]


@pytest.mark.slow
def test_interviewee_model_recovers_the_generator() -> None:
    segments, people = synthetic.generate(11, respondents=10000)
    tables = tables_from_export(_export_from(segments, people), privacy.DEMO_KEY, synthetic=True)
    result = model.fit(tables["interview_respondents"], synthetic=True)
    estimates = model.table(result).set_index("term")
    assert result.tidy()["estimate"].tolist() == estimates["odds_ratio"].tolist()
    truth = synthetic.PARAMETERS["travel_logit"]
    covered = [
        estimates.loc[term, "or_low"] <= np.exp(truth[term]) <= estimates.loc[term, "or_high"]
        for term in model.TERMS
    ]
    assert sum(covered) >= 3
    assert estimates["synthetic"].all()
    assert (estimates["status"] == "computed").all()
    # clustered on the register's id: at most the 34 municipalities the generator uses
    assert estimates["clusters"].iloc[0] == people["municipality"].nunique() <= 34


def _export_from(segments: pd.DataFrame, people: pd.DataFrame):  # type: ignore[no-untyped-def]
    from kosovo_study.interviews.codebook import load_codebook
    from kosovo_study.interviews.importers import Export

    table = segments.rename(columns={"code": "code_exported"})
    table["code"] = [load_codebook().resolve(c) for c in table["code_exported"]]
    return Export(segments=table, respondents=people[["respondent", *synthetic.ATTRIBUTES]])
