"""k-anonymity of the published respondent table, and its risk report.

Quasi-identifiers (:data:`QUASI_IDENTIFIERS`): the attributes that, together, could
single out an interviewee to someone who knows the community: municipality, age band,
role (the respondent group), gender (``sex``) and year (a ``year`` attribute, when an
export has one).  Each has a generalisation hierarchy (:data:`HIERARCHIES`): level 0
is the value as recorded, the last level suppresses it.

Method: full-domain generalisation with record suppression (Samarati 2001, IEEE TKDE
13(6); Sweeney 2002, IJUFKS 10(5)).  Every combination of levels is tried; records in
an equivalence class smaller than :data:`K` have all their quasi-identifiers
suppressed; the combination chosen is the one with the least information loss (the sum
over quasi-identifiers of level / top level) among those that suppress at most
:data:`MAX_SUPPRESSED_SHARE` of the records, else the one that suppresses fewest.  The
result: every class of respondents that keeps any quasi-identifier has at least
:data:`K` members.

The interviewee-level model is fitted on the table *before* generalisation (it needs
municipalities as clusters); it publishes only coefficients, intervals and counts of
respondents and clusters, never a respondent's row.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pandas as pd

#: Smallest equivalence class over the quasi-identifiers (issue 23).
K = 5
#: Records that may lose all quasi-identifiers before a coarser level is preferred.
MAX_SUPPRESSED_SHARE = 0.05
QUASI_IDENTIFIERS = ("municipality", "age_band", "group", "sex", "year")

_AGE_COARSE = {
    "15-19": "15-29",
    "20-24": "15-29",
    "25-29": "15-29",
    "30-34": "30-44",
    "35-44": "30-44",
    "45+": "45+",
}


def _coarse_age(value: object) -> object:
    return _AGE_COARSE.get(str(value))


def _five_years(value: object) -> object:
    try:
        year = int(str(value))
    except ValueError:
        return None
    start = year - year % 5
    return f"{start}-{start + 4}"


def _suppress(_: object) -> object:
    return None


#: Per quasi-identifier: (description, function) per level; level 0 keeps the value.
HIERARCHIES: dict[str, list[tuple[str, Callable[[object], object]]]] = {
    "municipality": [("as recorded", lambda v: v), ("suppressed", _suppress)],
    "age_band": [
        ("as recorded", lambda v: v),
        ("coarsened to 15-29, 30-44, 45+", _coarse_age),
        ("suppressed", _suppress),
    ],
    "group": [("as recorded", lambda v: v), ("suppressed", _suppress)],
    "sex": [("as recorded", lambda v: v), ("suppressed", _suppress)],
    "year": [
        ("as recorded", lambda v: v),
        ("coarsened to five-year periods", _five_years),
        ("suppressed", _suppress),
    ],
}
#: How the risk report names each quasi-identifier.
DISPLAY = {
    "municipality": "municipality",
    "age_band": "age band",
    "group": "role",
    "sex": "gender",
    "year": "year",
}
#: Columns that are the same quasi-identifier in another form.
LINKED = {"municipality": ("municipality_id",)}


def _generalise(table: pd.DataFrame, levels: dict[str, int]) -> pd.DataFrame:
    out = table.copy()
    for column, level in levels.items():
        function = HIERARCHIES[column][level][1]
        values = [None if pd.isna(v) else function(v) for v in out[column]]
        out[column] = pd.Series(values, index=out.index, dtype="object")
        for linked in LINKED.get(column, ()):
            if linked in out and level == len(HIERARCHIES[column]) - 1:
                out[linked] = pd.Series(pd.NA, index=out.index, dtype=out[linked].dtype)
    return out


def _class_sizes(table: pd.DataFrame, columns: list[str]) -> pd.Series:
    """For each record, the size of its equivalence class (a suppressed value is "*")."""
    keys = (
        table[columns]
        .astype("object")
        .where(table[columns].notna(), "*")
        .astype(str)
        .agg("\x1f".join, axis=1)
    )
    return keys.map(keys.value_counts())


def anonymise(respondents: pd.DataFrame, k: int = K) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the k-anonymous table, the risk report).  Only the quasi-identifiers change."""
    present = [c for c in QUASI_IDENTIFIERS if c in respondents.columns]
    n = len(respondents)
    if not present or n == 0:
        return respondents, _report(respondents, present, {}, 0, k, respondents)
    best: tuple[tuple[int, float, int, tuple[int, ...]], dict[str, int], pd.DataFrame] | None = None
    for combination in itertools.product(*(range(len(HIERARCHIES[c])) for c in present)):
        levels = dict(zip(present, combination, strict=True))
        candidate = _generalise(respondents, levels)
        small = _class_sizes(candidate, present) < k
        suppressed = int(small.sum())
        loss = sum(level / (len(HIERARCHIES[c]) - 1) for c, level in levels.items())
        rank = (int(suppressed > MAX_SUPPRESSED_SHARE * n), loss, suppressed, combination)
        if best is None or rank < best[0]:
            if suppressed:
                top = {c: len(HIERARCHIES[c]) - 1 for c in present}
                suppressed_rows = _generalise(candidate.loc[small], top)
                candidate = candidate.astype(
                    {c: "object" for c in present if candidate[c].dtype != "object"}
                )
                candidate.loc[small] = suppressed_rows
            best = (rank, levels, candidate)
    assert best is not None
    _, levels, table = best
    for column in present:  # the published attributes stay strings, as the importer wrote them
        values = [None if pd.isna(v) else str(v) for v in table[column]]
        table[column] = pd.Series(values, index=table.index, dtype="str")
    suppressed = int(best[0][2])
    return table, _report(table, present, levels, suppressed, k, respondents)


def smallest_class(table: pd.DataFrame) -> int | None:
    """The size of the smallest class over the quasi-identifiers, among respondents that
    keep at least one (None: nobody keeps one)."""
    present = [c for c in QUASI_IDENTIFIERS if c in table.columns]
    if not present:
        return None
    kept = table[table[present].notna().any(axis=1)]
    if kept.empty:
        return None
    return int(_class_sizes(kept, present).min())


def _report(
    table: pd.DataFrame,
    present: list[str],
    levels: dict[str, int],
    suppressed: int,
    k: int,
    original: pd.DataFrame,
) -> pd.DataFrame:
    smallest = smallest_class(table)
    kept = table[table[present].notna().any(axis=1)] if present else table.iloc[0:0]
    rows = [
        ("k (smallest class allowed)", str(k)),
        ("respondents", str(len(table))),
        ("quasi-identifiers", ", ".join(DISPLAY[c] for c in present) or "none in the export"),
        (
            "equivalence classes",
            str(len(kept[present].drop_duplicates())) if present else "0",
        ),
        ("smallest class", "none" if smallest is None else str(smallest)),
        ("respondents with every quasi-identifier suppressed", str(suppressed)),
    ]
    for column in present:
        name = DISPLAY[column]
        rows.append((f"{name}: generalisation", HIERARCHIES[column][levels.get(column, 0)][0]))
        distinct = int(original[column].nunique())
        rows.append((f"{name}: distinct values recorded", str(distinct)))
    return pd.DataFrame(rows, columns=["measure", "value"])
