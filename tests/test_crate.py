"""The run crate (RO-Crate, Process Run Crate 0.5), codemeta.json, the Binder environment,
and one set of release metadata across CITATION.cff, codemeta.json, .zenodo.json and the
crate."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from rocrate.rocrate import ROCrate

from kosovo_study import __version__
from kosovo_study.paths import ProjectPaths
from kosovo_study.registry import load_registry
from kosovo_study.replication import crate as run_crate
from kosovo_study.replication import metadata
from kosovo_study.stages import STAGES

from .conftest import REPO, make_project

RESTRICTED = "data/raw/restricted/fighters_by_municipality.csv"


def _fake_run(paths: ProjectPaths) -> dict[str, dict[str, Any]]:
    """Manifests of every stage as a run writes them (inputs from the registry, the
    transcribed facts and the restricted path; outputs in data/processed and the book)."""
    registry = list(load_registry(paths).values())
    manifests = {}
    for k, stage in enumerate(STAGES):
        inputs = {f"data/raw/{registry[k].path}": registry[k].sha256}
        inputs["data/raw/transcribed/sources.csv"] = "a" * 64
        if k:  # an earlier stage's output, read by the next
            previous = STAGES[k - 1].name
            inputs[f"data/processed/results/{previous}_table.csv"] = f"{k - 1:x}" * 64
        if stage.name in {"models", "multiverse"}:
            inputs[RESTRICTED] = "b" * 64  # the plain hash a manifest holds today
        outputs = (
            {"book/_build/html/index.html": "c" * 64}
            if stage.name == "book"
            else {f"data/processed/results/{stage.name}_table.csv": f"{k:x}" * 64}
        )
        manifests[stage.name] = {
            "stage": stage.name,
            "package_version": __version__,
            "git_commit": None,
            "code_fingerprint": f"{k + 1:x}" * 64,
            "parameters": {"seed": 7, "grid": {"family": ["nb2"]}},
            "parameters_sha256": "d" * 64,
            "finished_utc": "2026-12-07T12:00:00+00:00",
            "seconds": 1.5,
            "inputs": inputs,
            "outputs": outputs,
        }
    paths.manifests.mkdir(parents=True, exist_ok=True)
    for name, manifest in manifests.items():
        (paths.manifests / f"{name}.json").write_text(json.dumps(manifest), encoding="utf-8")
    return manifests


@pytest.fixture
def written(tmp_path: Path) -> tuple[ProjectPaths, dict[str, dict[str, Any]], dict[str, Any]]:
    paths = make_project(tmp_path / "project")
    manifests = _fake_run(paths)
    location = run_crate.write_crate(paths)
    assert location == paths.processed / "ro-crate-metadata.json"
    graph = json.loads(location.read_text(encoding="utf-8"))["@graph"]
    return paths, manifests, {entity["@id"]: entity for entity in graph}


def _ids(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [item["@id"] for item in items]


def test_the_crate_loads_and_has_the_process_run_crate_properties(
    written: tuple[ProjectPaths, dict[str, dict[str, Any]], dict[str, Any]],
) -> None:
    paths, manifests, entities = written
    crate = ROCrate(paths.processed)  # loads with the rocrate library
    assert crate.root_dataset["name"].startswith("kosovo_study")
    descriptor = entities["ro-crate-metadata.json"]
    assert descriptor["conformsTo"]["@id"].startswith("https://w3id.org/ro/crate/1.")
    root = entities["./"]
    # The profile: the root conforms to Process Run Crate, a CreativeWork entity.
    assert run_crate.PROFILE in _ids(root["conformsTo"])
    assert entities[run_crate.PROFILE]["@type"] == "CreativeWork"
    actions = [e for e in entities.values() if e.get("@type") == "CreateAction"]
    assert sorted(a["@id"] for a in actions) == sorted(f"#run-{s}" for s in manifests)
    assert sorted(_ids(root["mentions"])) == sorted(a["@id"] for a in actions)
    for action in actions:
        # MUST: an instrument that is software; SHOULD: name, endTime, object, result.
        instrument = entities[action["instrument"]["@id"]]
        assert instrument["@type"] == "SoftwareApplication"
        assert instrument["identifier"].startswith("sha256:")
        assert instrument["@id"].startswith("https://")  # SHOULD: an absolute URI
        assert entities[instrument["isPartOf"]["@id"]]["softwareVersion"] == __version__
        assert action["description"]
        assert action["name"]
        assert action["endTime"]
        assert action["startTime"]
        assert action["object"]
        assert action["result"]


def test_every_manifest_input_and_output_is_listed_with_its_sha256(
    written: tuple[ProjectPaths, dict[str, dict[str, Any]], dict[str, Any]],
) -> None:
    paths, manifests, entities = written
    registry = {f"data/raw/{e.path}": e for e in load_registry(paths).values()}
    by_name: dict[str, dict[str, Any]] = {}
    for entity in entities.values():
        if entity.get("@type") == "File":
            by_name.setdefault(entity["name"], entity)
    for stage, manifest in manifests.items():
        action = entities[f"#run-{stage}"]
        objects = {entities[i].get("name") for i in _ids(action["object"])}
        results = {entities[i].get("name") for i in _ids(action["result"])}
        assert set(manifest["inputs"]) <= objects
        assert set(manifest["outputs"]) == results
        parameters = [entities[i] for i in _ids(action["object"])]
        assert {p["name"] for p in parameters if p["@type"] == "PropertyValue"} == {
            "seed",
            "grid",
        }
        for name, digest in {**manifest["inputs"], **manifest["outputs"]}.items():
            entity = by_name[name]
            if name == RESTRICTED:
                assert "sha256" not in entity  # never a hash of the restricted counts
                assert "b" * 64 not in json.dumps(entities)
                continue
            assert entity["sha256"] == digest
            if name.startswith("data/processed/"):  # inside the crate: a relative id
                assert entity["@id"] == name.removeprefix("data/processed/")
            if name in registry:  # source: registry URL, licence, citation
                assert entity["@id"] == registry[name].url
                assert entity["license"] == registry[name].licence
                assert entity["citation"] == registry[name].citation_key


def test_codemeta_is_generated_from_citation_and_pyproject() -> None:
    assert (REPO.root / "codemeta.json").read_text(encoding="utf-8") == metadata.codemeta_text(
        REPO.root
    ), "codemeta.json is out of date: run python -m kosovo_study.replication.metadata"


def test_the_binder_environment_pins_the_locked_versions() -> None:
    locked = metadata.lock_versions(REPO.root)
    text = (REPO.root / metadata.BINDER_REQUIREMENTS).read_text(encoding="utf-8")
    pins = dict(re.findall(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;]+)", text, re.MULTILINE))
    assert pins, "no pinned package in binder/requirements.txt"
    wrong = {
        name: (version, locked.get(re.sub(r"\[.*\]", "", name).lower()))
        for name, version in pins.items()
        if locked.get(re.sub(r"\[.*\]", "", name).lower()) != version
    }
    assert wrong == {}, "binder/requirements.txt differs from uv.lock: regenerate it"
    dependencies = tomllib.loads((REPO.root / "pyproject.toml").read_text("utf-8"))["project"][
        "dependencies"
    ]
    for requirement in dependencies:
        name = re.split(r"[<>=\[ ;]", requirement, maxsplit=1)[0].lower()
        assert name in {p.lower() for p in pins}, f"{name} is not in binder/requirements.txt"
    assert "-e ." in text.splitlines()


def test_release_metadata_agree(
    written: tuple[ProjectPaths, dict[str, dict[str, Any]], dict[str, Any]],
) -> None:
    """Version, authors, licence and identifiers: CFF = codemeta = Zenodo (the release),
    and the crate's software is this source's version, under the same licence and URL."""
    _, _, entities = written
    cff = yaml.safe_load((REPO.root / "CITATION.cff").read_text(encoding="utf-8"))
    codemeta = json.loads((REPO.root / "codemeta.json").read_text(encoding="utf-8"))
    zenodo = json.loads((REPO.root / ".zenodo.json").read_text(encoding="utf-8"))
    software = entities[cff["repository-code"]]
    supplement = [
        r["identifier"] for r in zenodo["related_identifiers"] if r["relation"] == "isSupplementTo"
    ]
    mismatches = []
    checks = [
        ("version", str(cff["version"]), codemeta["version"], zenodo["version"]),
        ("licence", cff["license"], codemeta["license"].rsplit("/", 1)[-1], zenodo["license"]),
        (
            "authors",
            [a.get("name") for a in cff["authors"]],
            [a.get("name") for a in codemeta["author"]],
            [c["name"] for c in zenodo["creators"]],
        ),
        ("title", cff["title"], codemeta["name"], zenodo["title"]),
        ("repository", cff["repository-code"], codemeta["codeRepository"], supplement[0]),
        ("crate licence", cff["license"], software["license"], entities["./"]["license"]),
        ("crate repository", cff["repository-code"], software["url"], software["codeRepository"]),
        ("crate version", __version__, software["softwareVersion"]),
    ]
    if "doi" in cff:
        checks.append(("doi", f"https://doi.org/{cff['doi']}", codemeta["sameAs"], ""))
    for name, first, *others in checks:
        mismatches += [f"{name}: {first!r} != {other!r}" for other in others if other != first]
    assert mismatches == []
