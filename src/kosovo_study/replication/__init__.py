"""What a data editor needs: the release record of every published number, a keyed
digest of the restricted inputs, ``verify`` (a rerun compared with the release), the
run as an RO-Crate (Process Run Crate) and the generated metadata files.

``record``: the published numbers and the keyed digest (``data/processed/release/``);
``verify``: the rerun and the verification report; ``crate``: the run crate;
``metadata``: ``codemeta.json`` and the Binder environment file.
"""

from __future__ import annotations

from pathlib import Path

from kosovo_study.paths import ProjectPaths


def finish_report(paths: ProjectPaths) -> list[Path]:
    """Called when ``kosovo-study report`` has built the book: write the release record
    (every published number, the keyed digest of the restricted inputs) and the run
    crate beside the manifests.  Returns the files written: none when no book page has
    been executed (the caller says so)."""
    from kosovo_study.replication import crate, record

    if not (paths.book_build / ".jupyter_cache").is_dir():
        return []
    written = [record.write_release_record(paths)]
    written.append(crate.write_crate(paths))
    return written
