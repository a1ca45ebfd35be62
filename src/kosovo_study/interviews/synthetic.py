"""A complete fake interview study, made by a documented, seeded generative model.

Nothing here is real: respondents have made-up ids ("SYN-0001"), segment texts are
assembled from neutral templates (no quotes, no names), and only the municipality
labels are real (from the register), so that the pipeline's name handling is
exercised.  Every table made from it carries ``synthetic = True``.

Generative model (all parameters in :data:`PARAMETERS`):

* respondent group, municipality (uniform over the 34 enumerated municipalities), age
  band, sex, employment status and education are drawn independently;
* identity-producer contact and charity contact are Bernoulli draws (higher for
  returnees);
* travel: ``logit P(travelled) = intercept + b_unemployed * unemployed + b_charity *
  charity_contact + b_producer * producer_contact + b_young * (age < 30)``;
* each respondent's interview holds one segment for each code their attributes imply
  (e.g. ``unemployed`` for the unemployed, producer codes for producer contact);
* a share of segments is double-coded by a second coder, who picks a different code
  with probability ``disagreement``.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd

from kosovo_study.errors import KosovoStudyError
from kosovo_study.interviews.codebook import load_codebook
from kosovo_study.interviews.importers import NS, SYNTHETIC_COLUMN, SYNTHETIC_MARKER
from kosovo_study.municipalities import load_register
from kosovo_study.storage import write_text_atomic, write_with

PARAMETERS: dict[str, Any] = {
    "respondents": 160,
    "groups": {
        "returnee": 0.4,
        "family_member": 0.2,
        "community_member": 0.2,
        "police": 0.1,
        "religious_leader": 0.1,
    },
    "p_unemployed": 0.45,
    "p_producer_contact": {"returnee": 0.7, "other": 0.2},
    "p_charity_contact": {"returnee": 0.5, "other": 0.25},
    "travel_logit": {
        "intercept": -2.0,
        "unemployed": 0.8,
        "charity_contact": 0.9,
        "producer_contact": 1.4,
        "young": 0.5,
    },
    "double_coded_share": 0.3,
    "disagreement": 0.1,
}
AGE_BANDS = ("15-19", "20-24", "25-29", "30-34", "35-44", "45+")
TEMPLATE = "Segment {n}: the respondent talks about {label} in general terms."


def _codes_for(row: dict[str, Any], rng: np.random.Generator) -> list[str]:
    codes = ["belonging", "purpose_meaning"] if rng.random() < 0.6 else ["grievance_humiliation"]
    if row["employment_status"] == "unemployed":
        codes += ["unemployed", "poverty"]
    if row["producer_contact"]:
        codes += [
            str(
                rng.choice(
                    ["producer_preacher", "producer_peer", "producer_family", "producer_online"]
                )
            ),
            "producer_venue",
        ]
    if row["charity_contact"]:
        codes += [
            str(rng.choice(["charity_aid", "charity_classes", "charity_scholarship"])),
            "charity_organisation",
        ]
    if rng.random() < 0.3:
        codes.append("war_trauma")
    if row["travelled"] == "yes":
        codes += ["travel_year", "travel_route", str(rng.choice(["return", "disengagement"]))]
    return codes


def _resolves(register: Any, label: str, municipality_id: int) -> bool:
    try:
        return bool(register.normalise(label) == municipality_id)
    except KosovoStudyError:
        return False


def generate(seed: int, respondents: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(segments, respondents) of a synthetic study; same seed, same study."""
    rng = np.random.default_rng(seed)
    parameters = PARAMETERS
    n = respondents or parameters["respondents"]
    register = load_register()
    # A label the register resolves on its own (the bare "Mitrovicë" is ambiguous).
    municipalities = [
        next(
            label
            for label in (m.name_sq, *m.labels)
            if _resolves(register, label, m.municipality_id)
        )
        for m in register.municipalities
        if not m.boycotted_2011_census
    ]
    labels = dict(zip(load_codebook().codes["code"], load_codebook().codes["label"], strict=True))
    groups = list(parameters["groups"])
    people = []
    for i in range(n):
        group = str(rng.choice(groups, p=list(parameters["groups"].values())))
        key = "returnee" if group == "returnee" else "other"
        age = str(rng.choice(AGE_BANDS))
        row: dict[str, Any] = {
            "respondent": f"SYN-{i + 1:04d}",
            "group": group,
            "municipality": str(rng.choice(municipalities)),
            "age_band": age,
            "sex": str(rng.choice(["female", "male"], p=[0.3, 0.7])),
            "employment_status": "unemployed"
            if rng.random() < parameters["p_unemployed"]
            else str(rng.choice(["employed", "underemployed", "student"])),
            "education": str(rng.choice(["primary", "secondary", "tertiary", "religious"])),
            "producer_contact": bool(rng.random() < parameters["p_producer_contact"][key]),
            "charity_contact": bool(rng.random() < parameters["p_charity_contact"][key]),
        }
        b = parameters["travel_logit"]
        logit = (
            b["intercept"]
            + b["unemployed"] * (row["employment_status"] == "unemployed")
            + b["charity_contact"] * row["charity_contact"]
            + b["producer_contact"] * row["producer_contact"]
            + b["young"] * (age in {"15-19", "20-24", "25-29"})
        )
        row["travelled"] = "yes" if rng.random() < 1 / (1 + np.exp(-logit)) else "no"
        people.append(row)
    segments = []
    all_codes = list(labels)
    for row in people:
        document = f"interview-{row['respondent']}"
        for k, code in enumerate(_codes_for(row, rng)):
            text = TEMPLATE.format(n=k + 1, label=labels[code].lower())
            segments.append(
                {
                    "document": document,
                    "respondent": row["respondent"],
                    "code": code,
                    "segment_text": text,
                    "coder": "coder_A",
                }
            )
            if rng.random() < parameters["double_coded_share"]:
                second = (
                    str(rng.choice(all_codes))
                    if rng.random() < parameters["disagreement"]
                    else code
                )
                segments.append(
                    {
                        "document": document,
                        "respondent": row["respondent"],
                        "code": second,
                        "segment_text": text,
                        "coder": "coder_B",
                    }
                )
    return pd.DataFrame(segments), pd.DataFrame(people)


ATTRIBUTES = (
    "group",
    "municipality",
    "age_band",
    "sex",
    "employment_status",
    "education",
    "travelled",
)


def write_csv(segments: pd.DataFrame, people: pd.DataFrame, path: Path) -> Path:
    """The segment-table export form (attributes as ``attr_`` columns)."""
    table = segments.merge(
        people[["respondent", *ATTRIBUTES]]
        .add_prefix("attr_")
        .rename(columns={"attr_respondent": "respondent"}),
        on="respondent",
    )
    # The marker that lets the importer use the public demo key for this file only.
    table[SYNTHETIC_COLUMN] = SYNTHETIC_MARKER
    write_with(path, lambda target: table.to_csv(target, index=False, lineterminator="\n"))
    return path


def _guid(rng: np.random.Generator) -> str:
    return str(uuid.UUID(bytes=rng.bytes(16), version=4)).upper()


def write_qdpx(segments: pd.DataFrame, people: pd.DataFrame, path: Path, seed: int = 0) -> Path:
    """The REFI-QDA project form (valid against Project-mrt2019.xsd)."""
    import zipfile

    rng = np.random.default_rng(seed)
    ET.register_namespace("", NS)
    q = f"{{{NS}}}"
    project = ET.Element(
        f"{q}Project",
        {
            "name": "kosovo_study synthetic interviews",
            "origin": f"{SYNTHETIC_MARKER} (seed {seed})",
        },
    )
    users = ET.SubElement(project, f"{q}Users")
    coder_guid = {}
    for coder in sorted(segments["coder"].unique()):
        coder_guid[coder] = _guid(rng)
        ET.SubElement(users, f"{q}User", {"guid": coder_guid[coder], "name": coder})
    codebook = load_codebook()
    code_guid = {}
    codes = ET.SubElement(ET.SubElement(project, f"{q}CodeBook"), f"{q}Codes")
    for code in codebook.codes["code"].astype(str):
        code_guid[code] = _guid(rng)
        ET.SubElement(
            codes, f"{q}Code", {"guid": code_guid[code], "name": code, "isCodable": "true"}
        )
    variables = ET.SubElement(project, f"{q}Variables")
    variable_guid = {}
    for name in ATTRIBUTES:
        variable_guid[name] = _guid(rng)
        ET.SubElement(
            variables,
            f"{q}Variable",
            {"guid": variable_guid[name], "name": name, "typeOfVariable": "Text"},
        )
    source_guid = {document: _guid(rng) for document in sorted(segments["document"].unique())}
    cases = ET.SubElement(project, f"{q}Cases")
    for person in people.to_dict(orient="records"):
        case = ET.SubElement(cases, f"{q}Case", {"guid": _guid(rng), "name": person["respondent"]})
        for name in ATTRIBUTES:
            value = ET.SubElement(case, f"{q}VariableValue")
            ET.SubElement(value, f"{q}VariableRef", {"targetGUID": variable_guid[name]})
            ET.SubElement(value, f"{q}TextValue").text = str(person[name])
        ET.SubElement(
            case, f"{q}SourceRef", {"targetGUID": source_guid[f"interview-{person['respondent']}"]}
        )
    sources = ET.SubElement(project, f"{q}Sources")
    for document, group in segments.groupby("document", sort=True):
        texts = list(dict.fromkeys(group["segment_text"]))
        full = "\n".join(texts)
        source = ET.SubElement(
            sources, f"{q}TextSource", {"guid": source_guid[str(document)], "name": str(document)}
        )
        ET.SubElement(source, f"{q}PlainTextContent").text = full
        for text in texts:
            start = full.index(text)
            for row in group[group["segment_text"] == text].itertuples(index=False):
                selection = ET.SubElement(
                    source,
                    f"{q}PlainTextSelection",
                    {
                        "guid": _guid(rng),
                        "startPosition": str(start),
                        "endPosition": str(start + len(text)),
                        "creatingUser": coder_guid[row.coder],
                    },
                )
                coding = ET.SubElement(
                    selection,
                    f"{q}Coding",
                    {"guid": _guid(rng), "creatingUser": coder_guid[row.coder]},
                )
                ET.SubElement(coding, f"{q}CodeRef", {"targetGUID": code_guid[row.code]})
    xml = ET.tostring(project, encoding="unicode", xml_declaration=False)

    def writer(target: Path) -> None:
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            # A fixed entry date (ZIP's earliest), not the clock: the same study gives
            # the same bytes on every run (tests/test_release_archive.py).
            entry = zipfile.ZipInfo("project.qde", date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, '<?xml version="1.0" encoding="utf-8"?>\n' + xml)

    write_with(path, writer)
    return path


def write_study(seed: int, folder: Path) -> dict[str, Path]:
    """``kosovo-study synth interviews``: the CSV and .qdpx forms, plus a README."""
    segments, people = generate(seed)
    folder.mkdir(parents=True, exist_ok=True)
    csv = write_csv(segments, people, folder / "synthetic_interviews.csv")
    qdpx = write_qdpx(segments, people, folder / "synthetic_interviews.qdpx", seed)
    write_text_atomic(
        folder / "README.txt",
        f"SYNTHETIC interview study made by kosovo_study (seed {seed}). Not real data: "
        "fictional respondents, template texts. Parameters: kosovo_study.interviews.synthetic.PARAMETERS.\n",
    )
    return {"csv": csv, "qdpx": qdpx}
