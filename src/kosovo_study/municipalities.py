"""The register of Kosovo's 38 municipalities and ``normalise_municipality()``.

The register is built from ``data/raw/transcribed/municipality_name_crosswalk.csv``
(source key ``crosswalk_compiled``), whose ``kas_komuna_index`` (1-38, the Kosovo
Agency of Statistics index) is the canonical ``municipality_id`` everywhere in the
package.  Extra spellings used by other sources (e.g. "Drenas", bilingual forms)
are listed in :data:`EXTRA_ALIASES`, each with the source that uses it.

Two names are dangerous and handled explicitly:

* a bare "Mitrovica"/"Mitrovicë" can mean the southern municipality (id 11), the
  northern one (id 38, split off in 2013) or the undivided pre-2013 municipality
  (UNDP Mosaic 2012).  Without a source scope it is an error, never a guess.
* "Gllogoc", "Gllogovc", "Glogovac" and "Drenas" are one municipality (id 3).
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from kosovo_study.errors import AmbiguousMunicipalityError, UnknownMunicipalityError
from kosovo_study.paths import project_paths
from kosovo_study.storage import string_records

CROSSWALK_FILE = "municipality_name_crosswalk.csv"

#: Municipalities created by Law No. 03/L-041 on Administrative Municipal Boundaries
#: (Assembly of Kosovo, 2008) and set up between 2008 and 2013 (North Mitrovica last,
#: in 2013).  KAS numbers them 31-38, after the 30 pre-2008 municipalities.
CREATED_IN_DECENTRALISATION_2008_2013: frozenset[int] = frozenset(range(31, 39))

#: Source scopes: which crosswalk columns a source's labels come from.  A label
#: looked up with ``source=`` is resolved exactly within that scope first, which
#: is how a source's own bare "Mitrovicë" (meaning the south) is accepted.
SOURCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "kas": ("name_sq_kas_census2024_10", "kas_census2024_00_label"),
    "mosaic": ("undp_mosaic_label",),
    "geoboundaries": ("geoboundaries_shapeName",),
    "serbian": ("name_sr_latin",),
}

#: Spellings found in the shared data or in common use that the crosswalk lacks.
#: (label, municipality_id, where it is used)
EXTRA_ALIASES: tuple[tuple[str, int, str], ...] = (
    ("Drenas", 3, "official name since 2010; BIK mosque list"),
    ("Drenas (Gllogoc)", 3, "bik_mosques_by_municipality_2021.csv"),
    ("Skënderaj", 21, "KAS census2024_10 spelling"),
    ("Leposavić", 12, "north_population_estimates_non_census.csv"),
    ("Zvečan", 29, "north_population_estimates_non_census.csv"),
    ("Zveçan", 29, "standard Albanian spelling (KAS writes Zveqan)"),
    ("Mitrovicë/a South", 11, "bilingual label, UNDP reports"),
    ("Mitrovica South", 11, "English usage"),
    ("South Mitrovica", 11, "English usage"),
    ("Mitrovicë e Jugut", 11, "Albanian usage"),
    ("Južna Mitrovica", 11, "Serbian usage"),
    ("Mitrovicë/a North", 38, "bilingual label, UNDP reports"),
    ("North Mitrovica", 38, "English usage"),
    ("Mitrovica North", 38, "UNDP Mosaic 2015"),
    ("Mitrovicë e Veriut / Severna Mitrovica", 38, "north_population_estimates_non_census.csv"),
    ("Mitrovica Veriore", 38, "KAS census2024_00"),
    ("Pristina", 19, "English usage"),
    ("Prishtina", 19, "Albanian definite form"),
    ("Peja", 17, "Albanian definite form"),
    ("Gjakova", 2, "Albanian definite form"),
    ("Ferizaji", 25, "Albanian definite form"),
)

#: Labels that name Mitrovica without saying north or south.  They resolve only
#: inside a source scope that defines them.
AMBIGUOUS_LABELS: dict[str, str] = {
    "mitrovica": "Mitrovicë (south, id 11) or Mitrovicë e Veriut (north, id 38); before "
    "2013 also the undivided municipality",
    "mitrovice": "Mitrovicë (south, id 11) or Mitrovicë e Veriut (north, id 38)",
    "mitrovice/a": "Mitrovicë (south, id 11) or Mitrovicë e Veriut (north, id 38)",
    "mitrovice / mitrovica": "Mitrovicë (south, id 11) or Mitrovicë e Veriut (north, id 38)",
}

_PREFIXES = ("municipality of ", "komuna e ", "opstina ")
# Letters NFKD does not decompose into a base letter plus a combining mark.
_NON_DECOMPOSING = str.maketrans({"đ": "d", "Đ": "D", "ł": "l", "ø": "o"})


def name_key(label: str) -> str:
    """Fold a label for matching: no diacritics, lower case, single spaces, no prefix."""
    folded = unicodedata.normalize("NFKD", label.translate(_NON_DECOMPOSING))
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    folded = " ".join(folded.lower().replace("\u00a0", " ").split())
    for prefix in _PREFIXES:
        folded = folded.removeprefix(prefix)
    return folded


@dataclass(frozen=True)
class Municipality:
    """One row of the register."""

    municipality_id: int
    name_sq: str
    name_sr: str
    geoboundaries_name: str
    boycotted_2011_census: bool
    created_in_decentralisation_2008_2013: bool
    labels: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class MunicipalityRegister:
    """The 38 municipalities and every label that maps to each."""

    municipalities: tuple[Municipality, ...]
    _generic: dict[str, int]
    _scoped: dict[str, dict[str, int]]

    def __len__(self) -> int:
        return len(self.municipalities)

    def by_id(self, municipality_id: int) -> Municipality:
        for municipality in self.municipalities:
            if municipality.municipality_id == municipality_id:
                return municipality
        raise UnknownMunicipalityError(f"No municipality has id {municipality_id} (ids are 1-38).")

    def to_frame(self) -> pd.DataFrame:
        """The register as a table, one row per municipality, labels joined by ' | '."""
        return pd.DataFrame(
            [
                {
                    "municipality_id": m.municipality_id,
                    "municipality": m.name_sq,
                    "name_sr": m.name_sr,
                    "geoboundaries_name": m.geoboundaries_name,
                    "boycotted_2011_census": m.boycotted_2011_census,
                    "created_in_decentralisation_2008_2013": (
                        m.created_in_decentralisation_2008_2013
                    ),
                    "labels": " | ".join(m.labels),
                }
                for m in self.municipalities
            ]
        )

    def normalise(self, label: str, *, source: str | None = None) -> int:
        """Map a label to its ``municipality_id``; see :func:`normalise_municipality`."""
        if not label.strip():
            raise UnknownMunicipalityError(
                f"Municipality label {label!r} is empty. Fill in the municipality name."
            )
        key = name_key(label)
        if source is not None:
            if source not in self._scoped:
                raise ValueError(
                    f"Unknown source scope {source!r}; use one of {sorted(self._scoped)}."
                )
            if key in self._scoped[source]:
                return self._scoped[source][key]
        if key in AMBIGUOUS_LABELS:
            raise AmbiguousMunicipalityError(
                f"Municipality label {label!r} is ambiguous: it could mean "
                f"{AMBIGUOUS_LABELS[key]}. Write 'Mitrovicë/a South' or 'Mitrovicë/a North' "
                "(or look it up with the source scope that defines it)."
            )
        if key in self._generic:
            return self._generic[key]
        if "/" in key:
            return self._normalise_bilingual(label, key)
        raise UnknownMunicipalityError(self._unknown_message(label, key))

    def _normalise_bilingual(self, label: str, key: str) -> int:
        parts = [part.strip() for part in key.split("/") if part.strip()]
        found = {self._generic[part] for part in parts if part in self._generic}
        if len(found) == 1:
            return found.pop()
        if len(found) > 1:
            names = ", ".join(self.by_id(i).name_sq for i in sorted(found))
            raise AmbiguousMunicipalityError(
                f"Municipality label {label!r} names several municipalities ({names}). "
                "Split it into one row per municipality."
            )
        raise UnknownMunicipalityError(self._unknown_message(label, key))

    def _unknown_message(self, label: str, key: str) -> str:
        closest = difflib.get_close_matches(key, list(self._generic), n=12, cutoff=0.0)
        suggestions: list[str] = []
        for candidate in closest:
            name = self.by_id(self._generic[candidate]).name_sq
            if name not in suggestions:
                suggestions.append(name)
        listed = ", ".join(repr(s) for s in suggestions[:3])
        return (
            f"Unknown municipality label {label!r}. The closest known names are {listed}. "
            "Correct the spelling, or add the variant to EXTRA_ALIASES in "
            "kosovo_study/municipalities.py with the source that uses it."
        )


def _yes_no(value: str, *, column: str, row: int) -> bool:
    if value not in {"yes", "no"}:
        raise ValueError(f"{CROSSWALK_FILE} row {row}: column {column} must be yes or no.")
    return value == "yes"


def build_register(crosswalk: pd.DataFrame) -> MunicipalityRegister:
    """Build the register from the crosswalk table (one row per municipality)."""
    rows = sorted(string_records(crosswalk), key=lambda row: int(row["kas_komuna_index"]))
    if [int(row["kas_komuna_index"]) for row in rows] != list(range(1, 39)):
        raise ValueError(f"{CROSSWALK_FILE} must have 38 rows with kas_komuna_index 1-38.")
    generic: dict[str, int] = {}
    scoped: dict[str, dict[str, int]] = {scope: {} for scope in SOURCE_COLUMNS}
    labels: dict[int, list[str]] = {}

    def add(label: str, municipality_id: int, scope: str | None = None) -> None:
        key = name_key(label)
        if scope is not None:
            scoped[scope][key] = municipality_id
        labels.setdefault(municipality_id, [])
        if label not in labels[municipality_id]:
            labels[municipality_id].append(label)
        if key in AMBIGUOUS_LABELS:
            return
        if generic.get(key, municipality_id) != municipality_id:
            raise ValueError(f"Label {label!r} maps to two municipalities in the register.")
        generic[key] = municipality_id

    for row in rows:
        municipality_id = int(row["kas_komuna_index"])
        for scope, columns in SOURCE_COLUMNS.items():
            for column in columns:
                add(row[column], municipality_id, scope)
    for label, municipality_id, _where in EXTRA_ALIASES:
        add(label, municipality_id)

    municipalities = tuple(
        Municipality(
            municipality_id=int(row["kas_komuna_index"]),
            name_sq=row["name_sq_kas_census2024_10"],
            name_sr=row["name_sr_latin"],
            geoboundaries_name=row["geoboundaries_shapeName"],
            boycotted_2011_census=_yes_no(
                row["boycotted_2011_census"], column="boycotted_2011_census", row=i + 2
            ),
            created_in_decentralisation_2008_2013=(
                int(row["kas_komuna_index"]) in CREATED_IN_DECENTRALISATION_2008_2013
            ),
            labels=tuple(labels[int(row["kas_komuna_index"])]),
        )
        for i, row in enumerate(rows)
    )
    return MunicipalityRegister(municipalities, generic, scoped)


@lru_cache(maxsize=4)
def _cached_register(transcribed: Path) -> MunicipalityRegister:
    crosswalk = pd.read_csv(transcribed / CROSSWALK_FILE, dtype=str, keep_default_na=False)
    return build_register(crosswalk)


def load_register(transcribed: Path | None = None) -> MunicipalityRegister:
    """The register from the project's committed crosswalk (cached per folder)."""
    folder = transcribed if transcribed is not None else project_paths().transcribed
    return _cached_register(Path(folder).resolve())


def normalise_municipality(label: str, *, source: str | None = None) -> int:
    """Map any known municipality label to its canonical ``municipality_id`` (KAS index).

    Case, diacritics, surrounding spaces and prefixes such as "Municipality of" are
    ignored; bilingual labels ("Gjilan/Gnjilane") resolve when their parts agree.
    ``source`` (one of :data:`SOURCE_COLUMNS`) first matches the label exactly
    against that source's own column of the crosswalk.

    Raises:
        AmbiguousMunicipalityError: for a bare "Mitrovica" outside a source scope,
            or a label naming several municipalities.
        UnknownMunicipalityError: for an unknown label; the message lists the three
            closest known names.
    """
    return load_register().normalise(label, source=source)


def normalise_many(labels: Iterable[str], *, source: str | None = None) -> list[int]:
    """Vectorised :func:`normalise_municipality` (stops at the first bad label)."""
    register = load_register()
    return [register.normalise(label, source=source) for label in labels]
