"""The raw-file registry: hashes, mirror and HTTP fetches, refusal of bad copies."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from kosovo_study.errors import RegistryError
from kosovo_study.paths import ProjectPaths
from kosovo_study.registry import fetch, fetch_file, load_registry, raw_path
from kosovo_study.storage import sha256_file

from .conftest import REPO, mirror_or_skip


def test_every_registry_entry_matches_the_mirror_manifest(manifest: pd.DataFrame) -> None:
    registry = load_registry(REPO)
    by_file = manifest.set_index("file")
    for entry in registry.values():
        assert entry.path in by_file.index, entry.path
        row = by_file.loc[entry.path]
        assert entry.sha256 == row["sha256"], entry.name
        assert entry.bytes == int(row["bytes"]), entry.name
        assert entry.url == row["upstream_url"], entry.name


def test_registry_covers_every_byte_exact_mirror_file(manifest: pd.DataFrame) -> None:
    registered = {entry.path for entry in load_registry(REPO).values()}
    # The unidx CSV is a conversion of the .rda, not an upstream file: only the .rda counts.
    expected = set(manifest["file"]) - {"unidx/hdi_cpi_2015.csv"}
    assert registered == expected


def test_mirror_files_hash_to_the_registry() -> None:
    mirror = mirror_or_skip()
    for entry in load_registry(REPO).values():
        assert sha256_file(mirror / entry.path) == entry.sha256, entry.path


def test_fetch_from_mirror_writes_every_file_with_its_hash(project: ProjectPaths) -> None:
    mirror = mirror_or_skip()
    fetched = fetch(paths=project, mirror=mirror)
    registry = load_registry(project)
    assert set(fetched) == set(registry)
    for name, path in fetched.items():
        assert path == project.raw / registry[name].path
        assert sha256_file(path) == registry[name].sha256
        assert raw_path(name, project) == path


def _corrupt_mirror(tmp_path: Path, relative: str) -> Path:
    mirror = mirror_or_skip()
    copy = tmp_path / "mirror"
    shutil.copytree(mirror, copy)
    target = copy / relative
    target.write_bytes(target.read_bytes() + b"\n# tampered\n")
    return copy


def _leftovers(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*")) if folder.exists() else []


def test_corrupted_mirror_copy_is_refused_and_nothing_is_left(
    project: ProjectPaths, tmp_path: Path
) -> None:
    corrupted = _corrupt_mirror(tmp_path, "ds2016/icsr.csv")
    entry = load_registry(project)["ds2016_icsr"]
    actual = sha256_file(corrupted / entry.path)
    with pytest.raises(RegistryError) as caught:
        fetch_file(entry, project, mirror=corrupted)
    message = str(caught.value)
    assert "ds2016/icsr.csv" in message
    assert entry.sha256 in message
    assert actual in message
    assert "fetch it again" in message
    assert _leftovers(project.raw / "ds2016") == []


def test_missing_mirror_file_names_the_file(project: ProjectPaths, tmp_path: Path) -> None:
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    entry = load_registry(project)["mosaic_mapping"]
    with pytest.raises(RegistryError, match=r"mosaic/Mapping\.xlsx.*missing from the mirror"):
        fetch_file(entry, project, mirror=empty)
    assert not (project.raw / "mosaic").exists() or _leftovers(project.raw / "mosaic") == []


def test_unknown_names_are_refused(project: ProjectPaths) -> None:
    with pytest.raises(RegistryError, match="no_such_file"):
        fetch(["no_such_file"], paths=project, mirror=mirror_or_skip())


def test_raw_path_refuses_a_file_edited_after_fetch(project: ProjectPaths) -> None:
    fetch(["ds2016_muslim"], paths=project, mirror=mirror_or_skip())
    local = project.raw / "ds2016" / "muslim.csv"
    local.write_text("country,muslim\nXKX,100\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="changed after fetching"):
        raw_path("ds2016_muslim", project)


def test_raw_path_says_to_fetch_when_missing(project: ProjectPaths) -> None:
    with pytest.raises(RegistryError, match="kosovo-study fetch"):
        raw_path("ds2016_icsr", project)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        del format, args


@pytest.fixture
def http_mirror(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTP server on 127.0.0.1 serving a copy of the mirror."""
    served = tmp_path / "served"
    shutil.copytree(mirror_or_skip(), served)
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()


def _point_registry_at(project: ProjectPaths, base_url: str) -> None:
    table = pd.read_csv(project.registry_file, dtype=str, keep_default_na=False)
    table["url"] = base_url + "/" + table["path"]
    table.to_csv(project.registry_file, index=False)


@pytest.mark.slow
def test_real_pooch_download_over_http(
    project: ProjectPaths, http_mirror: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    base_url, _served = http_mirror
    monkeypatch.delenv("KOSOVO_STUDY_MIRROR", raising=False)
    _point_registry_at(project, base_url)
    fetched = fetch(["ds2016_icsr", "mosaic_mapping", "unidx_hdi_cpi_2015"], paths=project)
    registry = load_registry(project)
    for name, path in fetched.items():
        assert sha256_file(path) == registry[name].sha256


@pytest.mark.slow
def test_http_download_with_wrong_hash_leaves_nothing(
    project: ProjectPaths, http_mirror: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    base_url, served = http_mirror
    monkeypatch.delenv("KOSOVO_STUDY_MIRROR", raising=False)
    _point_registry_at(project, base_url)
    tampered = served / "ds2016" / "icsr.csv"
    tampered.write_bytes(tampered.read_bytes().replace(b"1", b"2", 1))
    entry = load_registry(project)["ds2016_icsr"]
    with pytest.raises(RegistryError) as caught:
        fetch_file(entry, project)
    assert entry.sha256 in str(caught.value)
    assert sha256_file(tampered) in str(caught.value)
    assert _leftovers(project.raw / "ds2016") == []


def test_network_failure_names_the_file_and_the_remedy(
    project: ProjectPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KOSOVO_STUDY_MIRROR", raising=False)
    # Port 9 (discard) on loopback is closed here: the connection is refused at once.
    _point_registry_at(project, "http://127.0.0.1:9")
    entry = load_registry(project)["ds2016_icsr"]
    with pytest.raises(
        RegistryError, match=r"Could not fetch ds2016/icsr\.csv.*KOSOVO_STUDY_MIRROR"
    ):
        fetch_file(entry, project)
    assert _leftovers(project.raw / "ds2016") == []


def test_registry_with_a_bad_hash_is_rejected_with_its_row(project: ProjectPaths) -> None:
    table = pd.read_csv(project.registry_file, dtype=str, keep_default_na=False)
    table.loc[3, "sha256"] = "not-a-hash"
    table.to_csv(project.registry_file, index=False)
    with pytest.raises(RegistryError, match="row 5"):
        load_registry(project)
