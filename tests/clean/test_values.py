"""The cleaned tables against published numbers and hand-computed values."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from kosovo_study.municipalities import normalise_municipality
from kosovo_study.paths import ProjectPaths
from kosovo_study.registry import raw_path

from ..conftest import REPO

Tables = dict[str, pd.DataFrame]


def _row(tables: Tables, label: str) -> pd.Series:
    municipalities = tables["municipalities"].set_index("municipality_id")
    return municipalities.loc[normalise_municipality(label)]


def test_2011_census_municipalities_sum_to_the_national_total(clean_tables: Tables) -> None:
    # KAS census 2011, Kosovo total (the KOSOVA row of census2024_00): 1,739,825 persons.
    assert int(clean_tables["municipalities"]["population_2011"].sum()) == 1_739_825


def test_prishtina_2011_equals_the_kas_figure(clean_tables: Tables) -> None:
    # KAS census 2011, Prishtinë: 198,897 persons.
    assert int(_row(clean_tables, "Prishtinë")["population_2011"]) == 198_897


def test_boycotting_municipalities_are_missing_not_zero(clean_tables: Tables) -> None:
    municipalities = clean_tables["municipalities"]
    north = municipalities[municipalities["boycotted_2011_census"]]
    assert len(north) == 4
    assert north["population_2011"].isna().all()
    assert north["youth_share_2011"].isna().all()
    assert north["population_2024"].notna().all()


def test_shares_hand_computed_for_decan(clean_tables: Tables) -> None:
    row = _row(clean_tables, "Deçan")
    # census2024_10 (2011): 39,343 declaring Islam of 40,019.
    assert row["muslim_share_2011"] == pytest.approx(39_343 / 40_019, abs=1e-6)
    ages = pd.read_csv(REPO.transcribed / "kas_census_age15_29_by_municipality.csv")
    decan = ages[ages["municipality_kas_label"] == "Deçan"].iloc[0]
    young = sum(int(decan[f"age_{age}"]) for age in range(15, 30))
    assert row["youth_share_2011"] == pytest.approx(young / 40_019, abs=1e-6)
    assert row["mosques_per_10k_2021"] == pytest.approx(20 / 27_775 * 1e4, abs=1e-5)


@pytest.mark.parametrize(
    ("label", "wave", "sheet", "cell"),
    [
        ("Prishtinë", 2015, "3 main problems 2015", "B4"),
        ("Mitrovicë/a North", 2015, "3 main problems 2015", "D4"),
        ("Kaçanik", 2012, "3 main problems 2012", "W6"),
    ],
)
def test_mosaic_values_equal_the_workbook_cells(
    clean_tables: Tables,
    fetched_project: ProjectPaths,
    label: str,
    wave: int,
    sheet: str,
    cell: str,
) -> None:
    workbook = openpyxl.load_workbook(
        raw_path("mosaic_indicators_19112015", fetched_project), read_only=True
    )
    problem_row = int(cell[1:])
    assert workbook[sheet][f"A{problem_row}"].value == "Unemployment"
    expected = workbook[sheet][cell].value
    workbook.close()
    assert _row(clean_tables, label)[f"unemployment_concern_{wave}"] == expected


def test_mosaic_published_values_by_hand(clean_tables: Tables) -> None:
    assert _row(clean_tables, "Prishtinë")["unemployment_concern_2015"] == 0.439
    assert _row(clean_tables, "Kaçanik")["unemployment_concern_2012"] == 0.715
    assert _row(clean_tables, "Mitrovicë/a North")["unemployment_concern_2015"] == 0.237


def test_mosaic_mitrovica_and_blank_cells_are_coded_not_invented(clean_tables: Tables) -> None:
    south, north = _row(clean_tables, "Mitrovicë/a South"), _row(clean_tables, "Mitrovicë/a North")
    assert south["unemployment_concern_2012_status"] == "measured_undivided_mitrovica"
    assert south["unemployment_concern_2012"] == 0.559
    assert north["unemployment_concern_2012_status"] == "part_of_undivided_mitrovica"
    assert pd.isna(north["unemployment_concern_2012"])
    novoberde = _row(clean_tables, "Novobërdë")
    assert novoberde["unemployment_concern_2015_status"] == "not_in_top_problems"
    assert pd.isna(novoberde["unemployment_concern_2015"])
    cells = clean_tables["mosaic_top_problems"]
    listed = cells[(cells["municipality_id"] == 14) & (cells["wave"] == 2015)]["share"]
    assert novoberde["unemployment_concern_2015_upper_bound"] == listed.min()
    statuses = clean_tables["municipalities"]["unemployment_concern_2015_status"]
    assert set(statuses) <= {"measured", "not_in_top_problems"}


def test_charity_presence_by_hand(clean_tables: Tables) -> None:
    prishtina = _row(clean_tables, "Prishtinë")
    # SJCRKC, Saudi Red Crescent, IIRO, Al-Waqf al-Islami, Qatar Charity (2010);
    # Islamic Relief (UK) is not Gulf.
    assert prishtina["charity_organisations_pre2014"] == 5
    # Qatar Charity 2021; Iran-linked and "mixed/unspecified" rows are set aside.
    assert prishtina["charity_organisations_post2014"] == 1
    podujeva = _row(clean_tables, "Podujevë")
    assert (podujeva["charity_evidence_pre2014"], podujeva["charity_organisations_post2014"]) == (
        1,
        1,
    )
    # Fushë Kosovë appears only inside a multi-municipality 2021 row.
    fushe = _row(clean_tables, "Fushë Kosovë")
    assert (fushe["charity_evidence_pre2014"], fushe["charity_evidence_post2014"]) == (0, 1)


def test_confirmed_fighters_keep_only_comparable_counts(clean_tables: Tables) -> None:
    kacanik = _row(clean_tables, "Kaçanik")
    assert kacanik["fighters_confirmed"] == 24
    assert kacanik["fighters_confirmed_sources"].count(";") == 1
    assert pd.isna(_row(clean_tables, "Prishtinë")["fighters_confirmed"])
    assert clean_tables["municipalities"]["fighters_confirmed"].notna().sum() == 5


def test_icsr_2015_belgium_is_440(clean_tables: Tables) -> None:
    countries = clean_tables["countries"].set_index("iso3")
    assert countries.loc["BEL", "icsr_2015_point"] == 440
    kosovo = countries.loc["XKX"]
    assert (kosovo["icsr_2015_low"], kosovo["icsr_2015_high"], kosovo["icsr_2015_point"]) == (
        100,
        150,
        125,
    )
    # Qatar 2013 is kept as published (15-14).
    assert (countries.loc["QAT", "icsr_2013_low"], countries.loc["QAT", "icsr_2013_high"]) == (
        15,
        14,
    )


def test_ds2016_outcome_matches_their_published_summary(clean_tables: Tables) -> None:
    summary = pd.read_csv(REPO.transcribed / "ds2016_feature_summary.csv")
    published = summary[summary["variable"] == "Foreign Fighter Supply"].iloc[0]
    countries = clean_tables["countries"]
    outcome = countries.loc[countries["in_ds2016_sample"], "ds2016_outcome"]
    assert len(outcome) == 163
    assert round(outcome.mean(), 2) == published["mean"] == 114.08
    assert round(outcome.std(), 2) == published["sd"] == 332.34
    assert outcome.median() == published["median"]
    assert outcome.max() == published["max"]


def test_country_harmonisation(clean_tables: Tables) -> None:
    countries = clean_tables["countries"].set_index("iso3")
    assert countries.loc["XKX", "muslim_share_2010"] == pytest.approx(0.917)
    assert countries.loc["NAM", "muslim_share_2010"] == pytest.approx(0.004)  # "NA" is Namibia
    assert countries.loc["MNE", "hdi_2015"] > 0  # coded "MON" in the HDI file
    rejects = clean_tables["rejects"]
    unmatched = rejects[rejects["reason"].str.contains("not matched")]
    assert "Yugoslavia (pre 1991)" in set(unmatched["record"])


def test_national_series_and_harmonised_totals(clean_tables: Tables) -> None:
    national = clean_tables["kosovo_national"]
    published = national[~national["derived"]]
    assert len(published) == 90
    harmonised = national[national["statistic"] == "total_travelled_with_children"]
    by_source = dict(zip(harmonised["source_key"], harmonised["value"], strict=True))
    assert by_source["UNDP2017_via_AP_BALKANINSIDER"] == 335  # 253 + 55 + 27
    assert by_source["KOSOVAPORT_2019"] == 359  # 257 + 52 + 50
    assert by_source["NYT_GALL_2016"] == 314
    assert "KCSS_2015" not in by_source  # children not stated
    assert "INVESTIGATIVEJOURNAL_undated" not in by_source  # LOW-QUALITY
    first = published[published["source_key"] == "KCSS_2015"].iloc[0]
    assert first["qualifier"] == "at least"


def test_every_raw_row_is_kept_or_rejected(clean_tables: Tables) -> None:
    report = clean_tables["cleaning_report"]
    assert (
        report["rows_used"] + report["rows_rejected"] + report["rows_out_of_scope"]
        == report["rows_in"]
    ).all()
    assert (report["rows_used"] >= 0).all()
    municipal = report[report["table"] == "municipalities"].set_index("file")
    assert municipal.loc["kosovo_fighters_by_municipality_confirmed.csv", "rows_rejected"] == 2


def test_coverage_is_reported(clean_tables: Tables) -> None:
    variables = clean_tables["variables"].set_index(["table", "variable"])
    assert variables.loc[("municipalities", "population_2011"), "coverage"] == "34/38"
    assert variables.loc[("municipalities", "mosques_2021"), "coverage"] == "26/38"
    assert (variables["unit"] != "").all()
