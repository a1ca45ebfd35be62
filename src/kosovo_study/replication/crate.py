"""The run as an RO-Crate (Process Run Crate profile 0.5), written beside the manifests.

``data/processed/ro-crate-metadata.json`` makes ``data/processed`` the crate's root
(the manifests, the results and the release record are inside it).  It is built with
the ``rocrate`` library from the stage manifests:

* every **input** with its sha256 and source: a fetched raw file under its registry
  URL, with licence and citation key; a committed file (transcribed facts, book
  sources) under its repository address at the commit (or the version tag when the
  build has no git); a restricted input as a local entity without any hash of its
  content (the release record keeps its keyed digest);
* every **stage** as a ``CreateAction`` whose ``instrument`` is the stage's code (a
  ``SoftwareApplication`` identified by the stage's code fingerprint, part of the
  package), whose ``object`` lists the inputs and the parameters (``PropertyValue``)
  and whose ``result`` lists the outputs, each with its sha256;
* the **software**: kosovo_study's version, commit and the sha256 of ``uv.lock``.

Outputs outside ``data/processed`` (the book) are given by their path relative to the
crate root.  ``roc-validator`` checks the crate against the profile in CI, where it can
fetch the JSON-LD context (``tests/test_crate.py`` checks the required properties
offline).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kosovo_study import __version__
from kosovo_study.manifest import git_commit, read_manifest
from kosovo_study.paths import ProjectPaths
from kosovo_study.registry import load_registry
from kosovo_study.storage import sha256_file

METADATA = "ro-crate-metadata.json"
PROFILE = "https://w3id.org/ro/wfrun/process/0.5"
#: defines ``sha256`` (and the other run-crate terms) for the JSON-LD context
RUN_TERMS = "https://w3id.org/ro/terms/workflow-run"


def crate_path(paths: ProjectPaths) -> Path:
    return paths.processed / METADATA


def repository_url(paths: ProjectPaths) -> str:
    """``repository-code`` of CITATION.cff (the one place it is written)."""
    from kosovo_study.citation import load_citation_cff

    del paths  # the package's own CITATION.cff (shipped in the wheel)
    cff = load_citation_cff()
    return str(cff.get("repository-code", "")).rstrip("/")


def _input_entity(
    crate: Any, name: str, digest: str, paths: ProjectPaths, ref: str, registry: dict[str, Any]
) -> Any:
    from rocrate.model.contextentity import ContextEntity

    if name.startswith("data/raw/restricted/"):
        entity_id = f"#restricted:{name}"
        if entity_id in crate:
            return crate.dereference(entity_id)
        return crate.add(
            ContextEntity(
                crate,
                entity_id,
                properties={
                    "@type": "File",
                    "name": name,
                    "description": "Restricted input, supplied by the data holder and never "
                    "distributed; no hash of its content is published (the release record "
                    "holds its HMAC-SHA-256 under the data holder's key).",
                    "conditionsOfAccess": "restricted: not redistributable",
                },
            )
        )
    if name.startswith("data/processed/"):
        # an earlier stage's output (models reads what clean wrote): the same entity, so
        # the crate links the stages
        return _output_entity(crate, name, digest)
    entry = registry.get(name.removeprefix("data/raw/"))
    if entry is not None:
        entity_id = entry.url
        properties = {
            "@type": "File",
            "name": name,
            "sha256": digest,
            "contentUrl": entry.url,
            "license": entry.licence,
            "citation": entry.citation_key,
            "description": "Third-party raw file, fetched and checked against its sha256 "
            "(data/raw/registry.csv).",
        }
    else:
        entity_id = f"{repository_url(paths)}/blob/{ref}/{name}"
        properties = {
            "@type": "File",
            "name": name,
            "sha256": digest,
            "description": "Committed with the code: transcribed published facts (each row "
            "with its source_key), the registry, or a book source.",
            "license": f"{repository_url(paths)}/blob/{ref}/DATA_LICENSE.md"
            if name.startswith("data/")
            else f"{repository_url(paths)}/blob/{ref}/LICENSE",
        }
    if entity_id in crate:
        return crate.dereference(entity_id)
    return crate.add(ContextEntity(crate, entity_id, properties=properties))


def _output_entity(crate: Any, name: str, digest: str) -> Any:
    from rocrate.model.contextentity import ContextEntity

    entity_id = (
        name.removeprefix("data/processed/")
        if name.startswith("data/processed/")
        else f"../../{name}"
    )
    if entity_id in crate:
        return crate.dereference(entity_id)
    return crate.add(
        ContextEntity(
            crate, entity_id, properties={"@type": "File", "name": name, "sha256": digest}
        )
    )


def build_crate(paths: ProjectPaths) -> Any:
    """The :class:`rocrate.rocrate.ROCrate` of the last run of every stage."""
    from rocrate.model.contextentity import ContextEntity
    from rocrate.rocrate import ROCrate

    from kosovo_study.replication import record
    from kosovo_study.stages import STAGES

    crate = ROCrate()
    crate.metadata.extra_contexts.append(RUN_TERMS)
    commit = git_commit(paths.root)
    clean_commit = commit.removesuffix("-dirty") if commit else None
    ref = clean_commit or f"v{__version__}"
    repository = repository_url(paths)
    lock_digest = record.uv_lock_sha256(paths)
    profile = crate.add(
        ContextEntity(
            crate,
            PROFILE,
            properties={"@type": "CreativeWork", "name": "Process Run Crate", "version": "0.5"},
        )
    )
    root = crate.root_dataset
    root["name"] = f"kosovo_study {__version__}: run of the pipeline"
    root["description"] = (
        "Every stage of the last run (clean, models, multiverse, interviews, book): inputs "
        "and outputs with sha256, parameters and code fingerprints."
    )
    root["license"] = "MIT"
    root["conformsTo"] = [{"@id": profile.id}]
    # Process Run Crate: software identified by an absolute URI, with softwareVersion
    # (not also version).
    software = crate.add(
        ContextEntity(
            crate,
            repository,
            properties={
                "@type": "SoftwareApplication",
                "name": "kosovo_study",
                "softwareVersion": __version__,
                "url": repository,
                "identifier": commit or "unknown: built without git",
                "codeRepository": repository,
                "license": "MIT",
                "softwareRequirements": f"uv.lock sha256 {lock_digest}",
            },
        )
    )
    registry = {entry.path: entry for entry in load_registry(paths).values()}
    actions = []
    for stage in STAGES:
        manifest = read_manifest(stage.name, paths)
        if manifest is None:
            continue
        instrument = crate.add(
            ContextEntity(
                crate,
                f"{repository}#stage-{stage.name}",
                properties={
                    "@type": "SoftwareApplication",
                    "name": f"kosovo_study stage {stage.name}",
                    "url": f"{repository}/blob/{ref}/src/kosovo_study/stages.py",
                    "description": stage.summary,
                    "softwareVersion": manifest.get("package_version"),
                    "identifier": f"sha256:{manifest.get('code_fingerprint')}",
                    "isPartOf": {"@id": software.id},
                },
            )
        )
        objects = [
            _input_entity(crate, name, digest, paths, ref, registry)
            for name, digest in sorted(manifest.get("inputs", {}).items())
        ]
        for name, value in sorted(manifest.get("parameters", {}).items()):
            objects.append(
                crate.add(
                    ContextEntity(
                        crate,
                        f"#parameter-{stage.name}-{name}",
                        properties={
                            "@type": "PropertyValue",
                            "name": name,
                            "value": value
                            if isinstance(value, str | int | float)
                            else json.dumps(value, sort_keys=True),
                        },
                    )
                )
            )
        results = [
            _output_entity(crate, name, digest)
            for name, digest in sorted(manifest.get("outputs", {}).items())
        ]
        properties: dict[str, Any] = {
            "@type": "CreateAction",
            "name": stage.summary,
            "description": f"The {stage.name} stage of kosovo-study report, as its manifest "
            f"(manifests/{stage.name}.json) records it.",
            "actionStatus": "http://schema.org/CompletedActionStatus",
        }
        if finished := manifest.get("finished_utc"):
            properties["endTime"] = finished
            started = datetime.fromisoformat(finished) - timedelta(
                seconds=float(manifest.get("seconds") or 0)
            )
            properties["startTime"] = started.isoformat(timespec="seconds")
        action = crate.add_action(
            instrument,
            identifier=f"#run-{stage.name}",
            object=objects,
            result=results,
            properties=properties,
        )
        actions.append(action)
    root["mentions"] = [{"@id": action.id} for action in actions]
    release = record.record_path(paths)
    if release.is_file():
        crate.add(
            ContextEntity(
                crate,
                release.relative_to(paths.processed).as_posix(),
                properties={
                    "@type": "File",
                    "name": "release record: every published number and the keyed "
                    "digest of the restricted inputs",
                    "sha256": sha256_file(release),
                    "encodingFormat": "application/json",
                },
            )
        )
    # RO-Crate: every data entity (File) is linked from the root's hasPart.
    root["hasPart"] = [
        {"@id": entity.id} for entity in crate.get_entities() if entity.type == "File"
    ]
    return crate


def write_crate(paths: ProjectPaths) -> Path:
    """Write ``data/processed/ro-crate-metadata.json`` (the metadata only: the files
    are already in place)."""
    crate = build_crate(paths)
    paths.processed.mkdir(parents=True, exist_ok=True)
    crate.metadata.write(paths.processed)
    return crate_path(paths)
