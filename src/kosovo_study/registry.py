"""The registry of third-party raw files: where each comes from, its sha256, its licence.

``data/raw/registry.csv`` lists every third-party input once (short ``name``,
``path`` under ``data/raw/``, upstream ``url``, ``sha256``, ``licence`` and a
``citation_key`` into the bibliography).  :func:`fetch` gets each file with
pooch, which downloads to a temporary file, checks the hash and only then
renames it into ``data/raw/``: a corrupted or interrupted download leaves nothing.

Where files come from:

* upstream (``url``) by default;
* a local mirror folder when ``$KOSOVO_STUDY_MIRROR`` is set: the same relative
  ``path`` inside it (CI uses the shared, byte-exact mirror).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pooch

from kosovo_study.errors import RegistryError
from kosovo_study.paths import MIRROR_ENV, ProjectPaths, mirror_dir, project_paths
from kosovo_study.storage import sha256_file

REGISTRY_COLUMNS = (
    "name",
    "path",
    "url",
    "sha256",
    "bytes",
    "licence",
    "citation_key",
    "author",
    "year",
    "title",
    "publisher",
)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# pooch logs "Downloading data from <upstream URL>" even when the mirror is used;
# the CLI reports progress itself.
pooch.get_logger().setLevel("WARNING")


@dataclass(frozen=True)
class RawFile:
    """One registered third-party file."""

    name: str
    path: str
    url: str
    sha256: str
    bytes: int
    licence: str
    citation_key: str

    @property
    def filename(self) -> str:
        return Path(self.path).name


def load_registry(paths: ProjectPaths | None = None) -> dict[str, RawFile]:
    """Read and check ``data/raw/registry.csv``; keys are the short names."""
    paths = paths or project_paths()
    table = pd.read_csv(paths.registry_file, dtype=str, keep_default_na=False)
    missing = [column for column in REGISTRY_COLUMNS if column not in table.columns]
    if missing:
        raise RegistryError(
            f"{paths.registry_file} lacks the columns {missing}. Restore the file from git."
        )
    entries: dict[str, RawFile] = {}
    for row_number, record in enumerate(table.to_dict(orient="records"), start=2):
        row = {str(key): str(value) for key, value in record.items()}
        name, sha256 = row["name"], row["sha256"]
        if not _SHA256.match(sha256):
            raise RegistryError(
                f"{paths.registry_file} row {row_number} ({name}): sha256 {sha256!r} "
                "is not 64 lower-case hex digits. Copy the hash from the source's manifest."
            )
        if name in entries:
            raise RegistryError(
                f"{paths.registry_file} row {row_number}: the name {name!r} is used twice."
            )
        entries[name] = RawFile(
            name=name,
            path=row["path"],
            url=row["url"],
            sha256=sha256,
            bytes=int(row["bytes"]),
            licence=row["licence"],
            citation_key=row["citation_key"],
        )
    return entries


class MirrorDownloader:
    """A pooch downloader that copies from a local mirror folder instead of the network."""

    def __init__(self, mirror: Path, relative_path: str) -> None:
        self.source = Path(mirror) / relative_path

    def __call__(
        self, url: str, output_file: Any, pooch_instance: Any, check_only: bool = False
    ) -> bool | None:
        del url, pooch_instance  # the mirror path replaces the URL
        if check_only:
            return self.source.is_file()
        if not self.source.is_file():
            raise FileNotFoundError(self.source)
        if isinstance(output_file, str | Path):
            shutil.copyfile(self.source, output_file)
        else:  # pooch may hand over an open binary file
            with self.source.open("rb") as handle:
                shutil.copyfileobj(handle, output_file)
        return None


def _downloader(entry: RawFile, mirror: Path | None) -> Callable[..., Any]:
    if mirror is not None:
        return MirrorDownloader(mirror, entry.path)
    downloader: Callable[..., Any] = pooch.HTTPDownloader(progressbar=False, timeout=60)
    return downloader


def _hash_error(entry: RawFile, destination: Path, actual: str, origin: str) -> RegistryError:
    return RegistryError(
        f"The file {entry.path} ({entry.name}) from {origin} has sha256 {actual}, but the "
        f"registry expects {entry.sha256}. Nothing was written to {destination.parent}. "
        "The copy is corrupted or the upstream file changed: fetch it again from the "
        f"upstream URL or a clean mirror ({MIRROR_ENV}); if upstream really changed, "
        "review the change and update data/raw/registry.csv."
    )


def fetch_file(
    entry: RawFile, paths: ProjectPaths | None = None, mirror: Path | None = None
) -> Path:
    """Fetch one registered file into ``data/raw/<path>`` and return its path.

    An existing file with the right hash is kept.  ``mirror`` defaults to
    ``$KOSOVO_STUDY_MIRROR``.
    """
    paths = paths or project_paths()
    mirror = mirror if mirror is not None else mirror_dir()
    destination = paths.raw / entry.path
    origin = f"the mirror {mirror}" if mirror is not None else entry.url
    if mirror is not None:
        source = mirror / entry.path
        if not source.is_file():
            raise RegistryError(
                f"The file {entry.path} ({entry.name}) is missing from the mirror {mirror}. "
                f"Point {MIRROR_ENV} at a folder holding the byte-exact copy, or unset it "
                f"to download from {entry.url}."
            )
        # Checked before pooch copies anything, to report both hashes precisely.
        actual = sha256_file(source)
        if actual != entry.sha256:
            raise _hash_error(entry, destination, actual, origin)
    try:
        fetched = pooch.retrieve(
            url=entry.url,
            known_hash=f"sha256:{entry.sha256}",
            fname=destination.name,
            path=destination.parent,
            downloader=_downloader(entry, mirror),
            progressbar=False,
        )
    except ValueError as error:  # pooch's hash mismatch
        found = re.findall(r"[0-9a-f]{64}", str(error))
        actual = next((h for h in found if h != entry.sha256), "unknown")
        raise _hash_error(entry, destination, actual, origin) from error
    except Exception as error:
        raise RegistryError(
            f"Could not fetch {entry.path} ({entry.name}) from {origin}: {error}. "
            f"Check the network connection, or set {MIRROR_ENV} to a folder with a "
            "copy of the raw files (its layout follows data/raw/registry.csv)."
        ) from error
    return Path(fetched)


def fetch(
    names: list[str] | None = None,
    paths: ProjectPaths | None = None,
    mirror: Path | None = None,
    progress: Callable[[RawFile], None] | None = None,
) -> dict[str, Path]:
    """Fetch registered files (all by default); return name -> local path."""
    paths = paths or project_paths()
    registry = load_registry(paths)
    unknown = sorted(set(names or []) - set(registry))
    if unknown:
        raise RegistryError(
            f"Not in data/raw/registry.csv: {unknown}. Known names: {sorted(registry)}."
        )
    fetched: dict[str, Path] = {}
    for name in names or list(registry):
        entry = registry[name]
        fetched[name] = fetch_file(entry, paths, mirror)
        if progress is not None:
            progress(entry)
    return fetched


def raw_path(name: str, paths: ProjectPaths | None = None) -> Path:
    """Local path of a registered file, after checking its sha256.

    Stages call this for every input, so a file edited by hand after fetching
    is refused rather than silently used.
    """
    paths = paths or project_paths()
    registry = load_registry(paths)
    if name not in registry:
        raise RegistryError(f"{name!r} is not in data/raw/registry.csv.")
    entry = registry[name]
    local = paths.raw / entry.path
    if not local.is_file():
        raise RegistryError(
            f"{local} is missing. Run `kosovo-study fetch` first (set {MIRROR_ENV} to use a "
            "local mirror)."
        )
    actual = sha256_file(local)
    if actual != entry.sha256:
        raise RegistryError(
            f"{local} has sha256 {actual}, but the registry expects {entry.sha256}. "
            "The file was changed after fetching. Delete it and run `kosovo-study fetch`."
        )
    return local
