"""A valid restricted counts file, written as a researcher would (one helper for every
test that needs one).

The default counts are ``(id * 7) % 17``: 312 persons, inside the published national
range (232-400), spread over 34 municipalities.
"""

from __future__ import annotations

from pathlib import Path

from kosovo_study.municipalities import load_register
from kosovo_study.paths import ProjectPaths

HEADER = "municipality,fighters,definition,period_start,period_end,source_key\n"
DEMO_COUNTS = {i: (i * 7) % 17 for i in range(1, 39)}


def write_restricted(
    paths: ProjectPaths,
    counts: dict[int, int] | None = None,
    *,
    definition: str = "travelled_or_stopped",
    cell: tuple[int, str] | None = None,
    target: Path | None = None,
) -> Path:
    """Write ``data/raw/restricted/fighters_by_municipality.csv`` with one row per register
    municipality (``counts``: id -> fighters, 0 where an id is missing; default
    :data:`DEMO_COUNTS`), or the same table at ``target``; return the path. ``cell`` =
    (row index, text) writes that text in place of one row's count (bad-input tests)."""
    counts = DEMO_COUNTS if counts is None else counts
    register = load_register(paths.transcribed)
    lines = []
    for i, m in enumerate(register.municipalities):
        # the register's own name for id 11, "Mitrovicë", is ambiguous by design
        name = "Mitrovicë/a South" if m.municipality_id == 11 else m.name_sq
        count = cell[1] if cell is not None and cell[0] == i else counts.get(m.municipality_id, 0)
        lines.append(f"{name},{count},{definition},2012,2017,UNDP2017_DEMO\n")
    path = target or paths.restricted / "fighters_by_municipality.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path
