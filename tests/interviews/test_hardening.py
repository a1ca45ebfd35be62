"""Hostile inputs for the interviews import: keys, zip bombs, formula cells, conflicting
attributes, codebook values, concurrency, leftovers, real exports, stage freshness."""

from __future__ import annotations

import contextlib
import struct
import threading
import tracemalloc
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kosovo_study import stages
from kosovo_study.errors import KosovoStudyError
from kosovo_study.interviews import privacy, synthetic
from kosovo_study.interviews.importers import ArchiveLimits, read_export, read_qdpx
from kosovo_study.interviews.pipeline import (
    escape_formula,
    import_interviews,
    remove_partial_files,
    tables_from_export,
)
from kosovo_study.interviews.reliability import agreement, cohen_kappa
from kosovo_study.manifest import read_manifest
from kosovo_study.paths import ProjectPaths

QDA = Path(__file__).resolve().parents[3] / "shared" / "data" / "qda"
KEY = "c9f1d07e5b2a4836e1f0a9d8c7b6a5f4e3d2c1b0a9f8e7d6"  # invented, not a real key
HEADER = "document,respondent,code,segment_text,coder"


@pytest.fixture(autouse=True)
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(privacy.KEY_FILE_ENV, raising=False)
    monkeypatch.setenv(privacy.KEY_ENV, KEY)


def _csv(tmp_path: Path, body: str, name: str = "export.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(header + "\n" + body, "utf-8")
    return path


# --- keys -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "file_content", "pattern"),
    [
        ("", None, "empty or blank"),
        ("   \t ", None, "empty or blank"),
        ("short-key", None, "9 bytes; at least 32"),
        (None, b"", "empty or blank"),
        (None, b"  \n\n", "empty or blank"),
        (None, b"short\n", "5 bytes"),
        (privacy.DEMO_KEY, None, "public demo key"),
        ("k" * 40, None, "guessable"),
        ("abcdefgh" * 4, None, "guessable"),
        (None, b"passwordpasswordpasswordpassword\n", "guessable"),
    ],
)
def test_bad_keys_are_refused_with_a_clear_message(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str | None,
    file_content: bytes | None,
    pattern: str,
) -> None:
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    monkeypatch.delenv(privacy.KEY_FILE_ENV, raising=False)
    if variable is not None:
        monkeypatch.setenv(privacy.KEY_ENV, variable)
    if file_content is not None:
        key_file = tmp_path / "key"
        key_file.write_bytes(file_content)
        monkeypatch.setenv(privacy.KEY_FILE_ENV, str(key_file))
    with pytest.raises(KosovoStudyError, match=pattern):
        privacy.pseudonym_key(synthetic=False)


def test_missing_key_file_and_both_sources_are_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    monkeypatch.setenv(privacy.KEY_FILE_ENV, str(tmp_path / "nowhere.key"))
    with pytest.raises(KosovoStudyError, match=r"nowhere.key, which does not exist"):
        privacy.pseudonym_key(synthetic=False)
    monkeypatch.setenv(privacy.KEY_FILE_ENV, str(tmp_path))
    with pytest.raises(KosovoStudyError, match="not a file"):
        privacy.pseudonym_key(synthetic=False)
    monkeypatch.setenv(privacy.KEY_ENV, KEY)
    with pytest.raises(KosovoStudyError, match="Set one of them only"):
        privacy.pseudonym_key(synthetic=False)


def test_the_same_key_gives_the_same_pseudonyms_from_variable_and_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(privacy.KEY_FILE_ENV, raising=False)
    monkeypatch.setenv(privacy.KEY_ENV, f"  {KEY} ")
    from_variable = privacy.pseudonymise("R-1", privacy.pseudonym_key(False))
    monkeypatch.delenv(privacy.KEY_ENV)
    key_file = tmp_path / "key"
    key_file.write_text(f"{KEY}\r\n\n", "utf-8")
    monkeypatch.setenv(privacy.KEY_FILE_ENV, str(key_file))
    assert privacy.pseudonymise("R-1", privacy.pseudonym_key(False)) == from_variable
    assert from_variable == privacy.pseudonymise("R-1", KEY)


def test_synthetic_flag_refuses_a_real_export_and_a_real_export_needs_a_key(
    tmp_path: Path, project: ProjectPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    monkeypatch.delenv(privacy.KEY_FILE_ENV, raising=False)
    real = _csv(tmp_path, "d,r1,belonging,text,c\n")
    with pytest.raises(KosovoStudyError, match="not marked as the package's synthetic study"):
        import_interviews(real, project, synthetic=True)
    with pytest.raises(KosovoStudyError, match="No pseudonymisation key"):
        import_interviews(real, project)
    assert not project.processed.exists() or not list(project.processed.glob("interview_*"))
    # the package's own synthetic study is accepted without a key, and labelled synthetic
    written = synthetic.write_study(3, tmp_path / "study")
    tables = import_interviews(written["csv"], project, synthetic=True)
    assert tables["interview_segments"]["synthetic"].all()


# --- archives ------------------------------------------------------------------------------


def _bomb(path: Path, inflated: int, member: str = "project.qde") -> Path:
    """A zip whose one member inflates to ``inflated`` bytes of XML-ish filler."""
    chunk = b" " * (1 << 20)
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open(member, "w", force_zip64=True) as handle,
    ):
        handle.write(b'<Project xmlns="urn:QDA-XML:project:1.0">')
        for _ in range(inflated // len(chunk)):
            handle.write(chunk)
    return path


def test_a_zip_bomb_stops_at_the_cap_before_memory_grows(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.qdpx", 600 << 20)  # 600 MiB inflated
    assert bomb.stat().st_size < 2 << 20  # small on disk
    tracemalloc.start()
    with pytest.raises(KosovoStudyError, match="zip bomb"):
        read_export(bomb)  # default caps
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 64 << 20


def test_a_lying_size_header_is_caught_while_streaming(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "liar.qdpx", 8 << 20)
    data = bytearray(bomb.read_bytes())
    # declare 1000 bytes in the zip64 extra fields (local header and central directory)
    for signature in (b"\x01\x00\x10\x00",):
        start = 0
        while (at := data.find(signature, start)) != -1:
            data[at + 4 : at + 12] = struct.pack("<Q", 1000)
            start = at + 4
    bomb.write_bytes(bytes(data))
    with pytest.raises(KosovoStudyError, match=r"liar.qdpx"):
        read_export(bomb, limits=ArchiveLimits(max_xml_bytes=1 << 20))


def test_caps_on_members_and_declared_size_and_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    many = tmp_path / "many.qdpx"
    with zipfile.ZipFile(many, "w") as archive:
        for i in range(30):
            archive.writestr(f"sources/{i}.txt", "x")
    monkeypatch.setenv("KOSOVO_STUDY_QDPX_MAX_MEMBERS", "20")
    with pytest.raises(KosovoStudyError, match="30 members, above the cap of 20"):
        read_export(many)
    monkeypatch.setenv("KOSOVO_STUDY_QDPX_MAX_MEMBERS", "lots")
    with pytest.raises(KosovoStudyError, match="not a positive whole number"):
        read_export(many)


# --- what is written ----------------------------------------------------------------------


def test_formula_cells_are_escaped_in_csv_and_parquet(
    tmp_path: Path, project: ProjectPaths
) -> None:
    body = (
        'd1,r1,belonging,"=HYPERLINK(""http://x"")",c1\n'
        "d1,r1,poverty,+1 more,c1\n"
        "d2,r2,=cmd|calc,-minus,c1\n"
        "d2,r2,belonging,@ note,c1\n"
    )
    # the spreadsheet function's name is capitalised: the researcher vouches for it
    project.restricted.mkdir(parents=True, exist_ok=True)
    (project.restricted / "interviews_allowlist.txt").write_text("HYPERLINK\n", "utf-8")
    import_interviews(_csv(tmp_path, body), project)
    text = (project.processed / "interview_segments.csv").read_text("utf-8")
    for cell in ("'+1 more", "'-minus", "'@ note", "'=cmd|calc"):
        assert cell in text
    for lead in ("\n=", ",=", ",+", ",@"):
        assert lead not in text
    parquet = pd.read_parquet(project.processed / "interview_segments.parquet")
    assert not parquet["segment_text"].str.match(r"^[=+\-@]").any()
    assert escape_formula("\tx") == "'\tx"
    assert escape_formula("plain") == "plain"


def test_conflicting_attributes_are_a_located_error(tmp_path: Path) -> None:
    header = HEADER + ",attr_sex,attr_travelled"
    body = "d,r1,belonging,a,c,male,yes\nd,r1,poverty,b,c,male,no\nd,r2,poverty,b,c,female,no\n"
    with pytest.raises(KosovoStudyError, match=r"attr_travelled differs between lines 2, 3"):
        read_export(_csv(tmp_path, body, header=header))


def test_attributes_follow_the_codebook_and_the_register(tmp_path: Path) -> None:
    header = HEADER + ",attr_travelled,attr_municipality,attr_phone"
    body = (
        "d,r1,belonging,a,c, Yes ,Prishtinë,044 123 456\n"
        "d,r2,belonging,a,c,NO,Pristina,\n"
        "d,r3,belonging,a,c,,Gjilan/Gnjilane,\n"
    )
    export = read_export(_csv(tmp_path, body, header=header))
    tables = tables_from_export(export, KEY, synthetic=False)
    respondents = tables.model_input  # before k-anonymisation (3 respondents < k)
    assert sorted(respondents["travelled"].fillna("<missing>")) == ["<missing>", "no", "yes"]
    assert respondents["municipality_id"].tolist().count(19) == 2  # Prishtinë = Pristina
    assert "phone" not in respondents.columns  # not in the codebook: not published
    published = tables["interview_respondents"]
    assert published["municipality_id"].isna().all()  # three respondents: suppressed
    assert "phone" not in published.columns
    problems = tables["interview_import_problems"]
    assert "attribute not published" in set(problems["kind"])
    bad = _csv(tmp_path, "d,r1,belonging,a,c,Y,Atlantis,\n", "bad.csv", header)
    with pytest.raises(
        KosovoStudyError, match=r"export line 2: travelled is not one of .* \(value not shown\)"
    ):
        tables_from_export(read_export(bad), KEY, synthetic=False)


def test_guard_failure_writes_nothing(
    tmp_path: Path, project: ProjectPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("kosovo_study.interviews.pipeline.redact", lambda text, _names: text)
    path = _csv(tmp_path, "d,r1,belonging,Call 044 123 456.,c\n")
    with pytest.raises(KosovoStudyError, match=r"PII guard.*PHONE"):
        import_interviews(path, project)
    assert not project.processed.exists() or not any(project.processed.iterdir())


def test_partial_orphans_are_removed(project: ProjectPaths) -> None:
    project.results.mkdir(parents=True)
    orphan = project.processed / ".interview_segments.csv.abc.partial"
    orphan.write_text("half", "utf-8")
    other = project.processed / ".municipalities.csv.abc.partial"  # another stage's
    other.write_text("half", "utf-8")
    assert remove_partial_files(project) == [orphan]
    assert other.exists()


def test_concurrent_imports_do_not_mix(tmp_path: Path, project: ProjectPaths) -> None:
    first = _csv(tmp_path, "".join(f"a{i},ra{i},belonging,x,c\n" for i in range(300)), "a.csv")
    second = _csv(tmp_path, "".join(f"b{i},rb{i},poverty,y,c\n" for i in range(200)), "b.csv")
    errors: list[Exception] = []

    def run(path: Path) -> None:
        try:
            import_interviews(path, project)
        except Exception as error:  # noqa: BLE001  (collected and asserted below)
            errors.append(error)

    for _ in range(3):
        threads = [threading.Thread(target=run, args=(p,)) for p in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        segments = pd.read_csv(project.processed / "interview_segments.csv")
        respondents = pd.read_csv(project.processed / "interview_respondents.csv")
        assert len(segments) == len(respondents) in {300, 200}
    assert errors == []


# --- real exports, tiny exports, stage --------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["maxqda24_icls-themes.qdpx", "atlas23_target-project.qdpx", "atlas23_blank-project.qdpx"],
)
def test_real_exports_fail_with_what_is_not_supported(name: str, project: ProjectPaths) -> None:
    path = QDA / name
    if not path.exists():
        pytest.skip("shared/data/qda is absent")
    with pytest.raises(KosovoStudyError, match=r"holds no coded text segments \(\d+ codes"):
        import_interviews(path, project)
    assert not project.processed.exists() or not list(project.processed.glob("interview_*"))


def test_tiny_exports_report_reliability_as_not_computable(
    tmp_path: Path, project: ProjectPaths
) -> None:
    tables = import_interviews(_csv(tmp_path, "d,r1,belonging,x,c\n"), project)
    reliability = tables["interview_reliability"]
    assert reliability["status"].tolist() == ["not computable (no segment was coded by two coders)"]
    one_code = pd.DataFrame(
        {
            "document": ["d"] * 4,
            "segment_text": ["s1", "s1", "s2", "s2"],
            "coder": ["A", "B", "A", "B"],
            "code": ["belonging"] * 4,
        }
    )
    overall = agreement(one_code).set_index("code").loc["(all codes)"]
    assert overall["status"].startswith("not computable (every judgement is the same")


def test_cohen_kappa_matches_a_published_example() -> None:
    # Cohen (1960)-style 2x2 example from Fleiss, Levin & Paik (2003), table 18.1:
    # agreement 0.70, chance 0.50 -> kappa 0.40.  Raters: 35 yes/yes, 15 yes/no,
    # 15 no/yes, 35 no/no.
    first = [1] * 35 + [1] * 15 + [0] * 15 + [0] * 35
    second = [1] * 35 + [0] * 15 + [1] * 15 + [0] * 35
    import numpy as np

    assert cohen_kappa(np.array(first, float), np.array(second, float)) == pytest.approx(0.4)


@pytest.mark.slow
def test_a_real_import_runs_the_stage_to_the_end(tmp_path: Path, project: ProjectPaths) -> None:
    stages.run("interviews", project)  # synthetic: a computed model
    model = pd.read_csv(project.results / "interview_model.csv")
    assert model["synthetic"].all()
    assert (model["status"] == "computed").all()
    real = _csv(tmp_path, "d,r1,belonging,x,c\nd,r2,poverty,y,c\n", "real.csv")
    result = stages.run("interviews", project, export=real)
    model = pd.read_csv(project.results / "interview_model.csv")
    assert not model["synthetic"].any()
    assert model["status"].iloc[0].startswith("not computable (the export has no respondent")
    manifest = read_manifest("interviews", project)
    assert manifest is not None
    assert manifest == result.manifest
    # the export is kept under its neutral restricted name: the manifest never holds
    # the file's own name or folder
    assert list(manifest["inputs"]) == ["data/raw/restricted/interviews.csv"]
    assert "real.csv" not in (project.manifests / "interviews.json").read_text("utf-8")
    assert str(tmp_path) not in (project.manifests / "interviews.json").read_text("utf-8")
    assert "data/processed/results/interview_model.csv" in manifest["outputs"]
    # `report` (the stage without an export) reruns the same export, never the synthetic
    # study in its place
    stages.run("interviews", project, force=True)
    assert not pd.read_csv(project.results / "interview_model.csv")["synthetic"].any()
    # a different export is not allowed to overwrite the kept one silently
    other = _csv(tmp_path, "d,r1,belonging,x,c\n", "other.csv")
    with pytest.raises(KosovoStudyError, match="already holds another interview export"):
        stages.run("interviews", project, export=other)


def test_qdpx_case_names_that_look_like_names_are_redacted(tmp_path: Path) -> None:
    segments, people = synthetic.generate(5, respondents=3)
    people["respondent"] = ["Arben Krasniqi", "Drita Gashi", "Ilir Hoxha"]
    mapping = dict(zip(sorted(segments["respondent"].unique()), people["respondent"], strict=True))
    segments["respondent"] = segments["respondent"].map(mapping)
    segments["document"] = "interview-" + segments["respondent"]
    segments["segment_text"] = segments["segment_text"] + " Arbeni and Drita said so."
    path = synthetic.write_qdpx(segments, people, tmp_path / "named.qdpx")
    export = read_qdpx(path)
    tables = tables_from_export(export, KEY, synthetic=False)
    text = " ".join(tables["interview_segments"]["segment_text"])
    assert "Arbeni" not in text
    assert "Drita" not in text


def test_raw_ids_in_text_are_replaced(tmp_path: Path) -> None:
    path = _csv(tmp_path, "int-KS-017,KS-017,belonging,As KS-017 said in int-KS-017.,c\n")
    tables = tables_from_export(read_export(path), KEY, synthetic=False)
    text = tables["interview_segments"]["segment_text"].iloc[0]
    assert "KS-017" not in text
    assert "[ID]" in text


def test_damaged_selection_positions(tmp_path: Path) -> None:
    segments, people = synthetic.generate(2, respondents=2)
    path = synthetic.write_qdpx(segments, people, tmp_path / "p.qdpx")
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("project.qde").decode("utf-8")
    first = xml.index('startPosition="')
    for replacement, expected in (('startPosition="x', "not whole numbers"), ("", None)):
        damaged = tmp_path / "damaged.qdpx"
        text = (
            xml[:first] + replacement + xml[first + len('startPosition="') :]
            if replacement
            else (xml.replace('endPosition="', 'endPosition="9999', 1))
        )
        with zipfile.ZipFile(damaged, "w") as archive:
            archive.writestr("project.qde", text)
        if expected:
            with pytest.raises(KosovoStudyError, match=expected):
                read_qdpx(damaged)
        else:
            kinds = {p["kind"] for p in read_qdpx(damaged).problems}
            assert "selection outside the text" in kinds


_cell = st.text(max_size=12)


@pytest.mark.slow
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    raw=st.one_of(
        st.binary(max_size=300),
        st.lists(st.lists(_cell, min_size=5, max_size=7), max_size=5).map(
            lambda rows: (HEADER + ",attr_sex\n" + "\n".join(",".join(r) for r in rows)).encode(
                "utf-8", errors="surrogatepass"
            )
        ),
    )
)
def test_segment_table_reader_never_crashes(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(raw)
    try:
        export = read_export(path)
        tables_from_export(export, KEY, synthetic=False)
    except KosovoStudyError:
        pass


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(xml=st.one_of(st.text(max_size=200), st.binary(max_size=200)))
def test_qdpx_reader_never_crashes(tmp_path: Path, xml: str | bytes) -> None:
    path = tmp_path / "fuzz.qdpx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", xml)
    with contextlib.suppress(KosovoStudyError):
        read_export(path)


def test_a_forged_synthetic_marker_does_not_drop_the_key(
    tmp_path: Path, project: ProjectPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    header = HEADER + ",synthetic_study"
    path = _csv(tmp_path, "d,Arben,belonging,x,c,kosovo_study synthetic study\n", header=header)
    with pytest.raises(KosovoStudyError, match="not the generator's"):
        import_interviews(path, project, synthetic=True)


def test_places_count_blank_lines_and_multiline_cells(tmp_path: Path) -> None:
    body = 'd,r,belonging,"two\nlines",c\n\nd,r,astrology,y,c\n'
    export = read_export(_csv(tmp_path, body, "lines.csv"))
    assert [p["place"] for p in export.problems] == ["export line 5"]


def test_a_held_lock_gives_a_clear_message(project: ProjectPaths) -> None:
    import filelock

    from kosovo_study.interviews.pipeline import interviews_lock

    project.processed.mkdir(parents=True)
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with filelock.FileLock(project.processed / ".interviews-import.lock"):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    try:
        with (
            pytest.raises(KosovoStudyError, match="Another interviews import holds"),
            interviews_lock(project, timeout=0.2),
        ):
            pass
    finally:
        release.set()
        holder.join()


def test_unknown_columns_are_reported_not_published(tmp_path: Path) -> None:
    path = _csv(tmp_path, "d,r,belonging,x,c,044 123 456\n", header=HEADER + ",phone")
    export = read_export(path)
    assert {"column not published"} <= {p["kind"] for p in export.problems}
    tables = tables_from_export(export, KEY, synthetic=False)
    assert "044" not in tables["interview_import_problems"].to_csv()


def test_a_key_file_inside_the_repository_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    key_file = tmp_path / "secrets" / "key"
    key_file.parent.mkdir()
    key_file.write_text(KEY + "\n", "utf-8")
    monkeypatch.delenv(privacy.KEY_ENV)
    monkeypatch.setenv(privacy.KEY_FILE_ENV, str(key_file))
    with pytest.raises(KosovoStudyError, match="inside the repository"):
        privacy.pseudonym_key(synthetic=False)
