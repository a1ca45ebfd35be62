"""The quarantine (an unknown name stops the import), the held-out recall script,
file names kept out of every output, and messages that never echo a value."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from kosovo_study import stages
from kosovo_study.errors import KosovoStudyError
from kosovo_study.interviews import privacy, quarantine
from kosovo_study.interviews.pipeline import import_interviews
from kosovo_study.paths import ProjectPaths

REPO = Path(__file__).resolve().parents[2]
KEY = "f0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d"  # invented for the tests
HEADER = "document,respondent,code,segment_text,coder"


@pytest.fixture(autouse=True)
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(privacy.KEY_FILE_ENV, raising=False)
    monkeypatch.setenv(privacy.KEY_ENV, KEY)


def _export(folder: Path, body: str, name: str = "export.csv") -> Path:
    path = folder / name
    path.write_text(HEADER + "\n" + body, "utf-8")
    return path


def test_an_unknown_name_stops_the_import_and_is_listed_for_review(
    tmp_path: Path, project: ProjectPaths
) -> None:
    # "Trëndafil Mollëkuqe" (invented): in no list, no kinship word, not listed
    text = "we went with Trëndafil Mollëkuqe to the market in Prizren"
    export = _export(tmp_path, f"d1,r1,belonging,{text},c1\nd1,r1,poverty,no names here,c1\n")
    assert "Mollëkuqe" in privacy.redact(text)  # redaction misses it: the guard must not
    with pytest.raises(KosovoStudyError, match=r"Quarantine: 1 capitalised.*Nothing was written"):
        import_interviews(export, project)
    assert not list(project.processed.glob("interview_*"))
    review = pd.read_csv(project.restricted / quarantine.REVIEW, dtype=str)
    assert review[["table", "column", "row", "candidate"]].to_dict("records") == [
        {
            "table": "interview_segments",
            "column": "segment_text",
            "row": "1",
            "candidate": "Trëndafil Mollëkuqe",
        }
    ]
    assert "to the market" in review["context"].iloc[0]
    # the researcher vouches for it (say it is a brand): the import goes through
    (project.restricted / quarantine.ALLOWLIST).write_text(
        "# reviewed 2026-12-07\nTrëndafil Mollëkuqe\n", "utf-8"
    )
    import_interviews(export, project)
    assert not (project.restricted / quarantine.REVIEW).exists()


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ("Ai tha se Zyber erdhi vonë.", ["Zyber"]),
        ("Segment 3: the respondent talks about Belonging in general terms.", []),
        ("Shkuam në Prizren dhe pastaj në Siri.", []),
        ("Then we left. Nobody came.", []),
        ("Posle toga Dobrivoje Tanasković nije dolazio.", ["Dobrivoje Tanasković"]),
        ("[NAME] and [PHONE] stay.", []),
        ("Islam and the Quran were discussed with the imam.", []),
    ],
)
def test_candidates(text: str, held: list[str], project: ProjectPaths) -> None:
    found = [c for c, _, _ in quarantine.candidates(text, quarantine.allowed_words(project))]
    assert found == held


def test_the_held_out_recall_script_meets_the_targets() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "redaction_recall.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines()[1:]}
    assert "target >= 95%: met" in lines["formatted"]
    assert "target >= 80%: met" in lines["UNLISTED_NAME"]
    for kind in ("PHONE", "PERSONAL_NUMBER", "PASSPORT", "IBAN", "ACCOUNT", "URL", "EMAIL"):
        assert kind in lines


def test_the_held_out_corpus_differs_from_the_tests_corpus() -> None:
    from tests.interviews.test_redaction import corpus, held_out

    held = pd.read_csv(REPO / "tests/interviews/data/held_out_redaction.csv", dtype=str)
    ours = {p.text for p in corpus(30)} | {p.text for p in held_out(60)}
    assert not set(held["text"]) & ours
    assert set(held["language"]) == {"sq", "sr", "en"}


def test_the_file_name_and_folder_never_reach_an_output(
    tmp_path: Path, project: ProjectPaths
) -> None:
    folder = tmp_path / "Interviews of Arben Krasniqi"
    folder.mkdir()
    export = _export(
        folder,
        "d1,r1,belonging,we talked,c1\nd1,r1,astrology,about work,c1\n",
        name="arben_krasniqi_2019.csv",
    )
    stages.run("interviews", project, export=export)
    written = [
        p
        for p in (*project.processed.rglob("*"), *project.manifests.rglob("*"))
        if p.is_file() and p.suffix in {".csv", ".json"}
    ]
    assert written
    for path in written:
        text = path.read_text("utf-8", errors="ignore").lower()
        assert "krasniqi" not in text, path
        assert "arben" not in text, path
        assert str(tmp_path).lower() not in text, path
    problems = pd.read_csv(project.processed / "interview_import_problems.csv", dtype=str)
    assert set(problems["place"]) == {"export line 3"}
    manifest = json.loads((project.manifests / "interviews.json").read_text("utf-8"))
    assert list(manifest["inputs"]) == ["data/raw/restricted/interviews.csv"]


def test_error_messages_name_the_position_and_kind_never_the_value(tmp_path: Path) -> None:
    from kosovo_study.interviews.importers import read_export
    from kosovo_study.interviews.pipeline import tables_from_export

    header = HEADER + ",attr_municipality,attr_sex"
    path = tmp_path / "export.csv"
    path.write_text(header + "\nd1,r1,belonging,x,c1,+383 44 123 456,049 555 666\n", "utf-8")
    with pytest.raises(KosovoStudyError) as caught:
        tables_from_export(read_export(path), KEY, synthetic=False)
    message = str(caught.value)
    assert "export line 2" in message
    assert "value not shown" in message
    for digits in ("383", "123 456", "555"):
        assert digits not in message
