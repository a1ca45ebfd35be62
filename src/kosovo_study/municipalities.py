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

Former municipalities (``data/raw/transcribed/former_municipalities.csv``, one row per
label, each with its successor and a source) are refused with a message that names
the successor: e.g. "Gora", abolished in 2000 and merged into Dragash.  Their data
cannot be assigned to the successor silently (the successor is larger).
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from kosovo_study.errors import AmbiguousMunicipalityError, UnknownMunicipalityError
from kosovo_study.paths import project_paths
from kosovo_study.tablefile import string_records

CROSSWALK_FILE = "municipality_name_crosswalk.csv"
FORMER_FILE = "former_municipalities.csv"


class FormerMunicipalityError(UnknownMunicipalityError):
    """A label names a municipality that no longer exists; the message names its successor."""


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
    ("Mitrovica e Jugut", 11, "Albanian usage without diacritics (ë often written a)"),
    ("Mitrovicë Jugore", 11, "Albanian usage (Law 03/L-041 lists)"),
    ("Mitrovica Jugore", 11, "Albanian usage"),
    ("Južna Mitrovica", 11, "Serbian usage"),
    ("Južna Kosovska Mitrovica", 11, "Serbian usage"),
    ("Severna Kosovska Mitrovica", 38, "Serbian usage"),
    ("Mitrovicë e Veriut", 38, "Albanian usage"),
    ("Mitrovica e Veriut", 38, "Albanian usage without diacritics"),
    ("Mitrovicë Veriore", 38, "Albanian usage (Law 03/L-041 lists)"),
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
_NORTH_OR_SOUTH = "Mitrovicë (south, id 11) or Mitrovicë e Veriut (north, id 38)"
AMBIGUOUS_LABELS: dict[str, str] = {
    "mitrovica": f"{_NORTH_OR_SOUTH}; before 2013 also the undivided municipality",
    "mitrovice": _NORTH_OR_SOUTH,
    "mitrovice/a": _NORTH_OR_SOUTH,
    "mitrovice/mitrovica": _NORTH_OR_SOUTH,
    "mitrovica/mitrovice": _NORTH_OR_SOUTH,
    "kosovska mitrovica": f"{_NORTH_OR_SOUTH}: it is the Serbian name of the undivided, "
    "pre-2013 municipality, and Serbian sources still use it for the north",
    "kosovska mitrovica/mitrovice": _NORTH_OR_SOUTH,
    "mitrovice/kosovska mitrovica": _NORTH_OR_SOUTH,
}

_PREFIXES = ("municipality of ", "komuna e ", "opstina ")
# Letters NFKD does not decompose into a base letter plus a combining mark.
_NON_DECOMPOSING = str.maketrans({"đ": "d", "Đ": "D", "ł": "l", "ø": "o"})


def name_key(label: str) -> str:
    """Fold a label for matching: no diacritics, lower case, single spaces, no prefix."""
    folded = unicodedata.normalize("NFKD", label.translate(_NON_DECOMPOSING))
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    folded = " ".join(folded.lower().replace("\u00a0", " ").split())
    # "A / B" and "A/B" are the same bilingual label.
    folded = "/".join(part.strip() for part in folded.split("/"))
    for prefix in _PREFIXES:
        folded = folded.removeprefix(prefix)
    return folded


def albanian_indefinite(key: str) -> str:
    """A folded label with each word's Albanian definite ending -a turned into the
    indefinite -ë (folded to e): "prishtina" -> "prishtine", "mitrovica e jugut" ->
    "mitrovice e jugut".  Feminine nouns in -ë take -a in the definite form, which is
    how many municipality names appear in prose and in English-language sources."""
    return " ".join(
        word[:-1] + "e" if len(word) > 3 and word.endswith("a") else word for word in key.split(" ")
    )


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
    _former: dict[str, dict[str, str]] = field(default_factory=dict)

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
        for candidate in dict.fromkeys([key, albanian_indefinite(key)]):
            if candidate in AMBIGUOUS_LABELS:
                raise self._ambiguous(label, AMBIGUOUS_LABELS[candidate])
            if candidate in self._former:
                raise self._former_error(label, self._former[candidate])
            if candidate in self._generic:
                return self._generic[candidate]
        if "/" in key:
            return self._normalise_bilingual(label, key)
        raise UnknownMunicipalityError(self._unknown_message(label, key))

    @staticmethod
    def _ambiguous(label: str, meaning: str) -> AmbiguousMunicipalityError:
        return AmbiguousMunicipalityError(
            f"Municipality label {label!r} is ambiguous: it could mean {meaning}. Write "
            "'Mitrovicë/a South' or 'Mitrovicë/a North' (or look it up with the source "
            "scope that defines it)."
        )

    def _former_error(self, label: str, row: dict[str, str]) -> FormerMunicipalityError:
        successor = self.by_id(int(row["successor_id"]))
        return FormerMunicipalityError(
            f"Municipality label {label!r} names a former municipality ({row['change']}, "
            f"{row['year']}; source {row['source_key']}). Its successor is "
            f"{successor.name_sq} (id {successor.municipality_id}). Use {successor.name_sq!r} "
            "only for data that cover the whole successor municipality."
        )

    def _normalise_bilingual(self, label: str, key: str) -> int:
        parts = [part.strip() for part in key.split("/") if part.strip()]
        parts = [
            albanian_indefinite(part)
            if part not in self._generic and albanian_indefinite(part) in self._generic
            else part
            for part in parts
        ]
        if parts and all(
            part in AMBIGUOUS_LABELS or albanian_indefinite(part) in AMBIGUOUS_LABELS
            for part in parts
        ):
            first = parts[0] if parts[0] in AMBIGUOUS_LABELS else albanian_indefinite(parts[0])
            raise self._ambiguous(label, AMBIGUOUS_LABELS[first])
        former = [self._former[part] for part in parts if part in self._former]
        if former and not any(part in self._generic for part in parts):
            raise self._former_error(label, former[0])
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


def build_register(
    crosswalk: pd.DataFrame, former: pd.DataFrame | None = None
) -> MunicipalityRegister:
    """Build the register from the crosswalk table (one row per municipality) and the
    table of former municipalities (one row per label, with ``successor_id``)."""
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
    former_labels: dict[str, dict[str, str]] = {}
    for i, row in enumerate(string_records(former) if former is not None else []):
        key = name_key(row["former_name"])
        if not row["successor_id"].isdigit() or not 1 <= int(row["successor_id"]) <= 38:
            raise ValueError(
                f"{FORMER_FILE} row {i + 2}: successor_id must be a municipality id 1-38."
            )
        if key in generic:
            raise ValueError(
                f"{FORMER_FILE} row {i + 2}: {row['former_name']!r} is also a current "
                "municipality label; a label cannot be both."
            )
        former_labels[key] = row
    return MunicipalityRegister(municipalities, generic, scoped, former_labels)


@lru_cache(maxsize=4)
def _cached_register(transcribed: Path) -> MunicipalityRegister:
    crosswalk = pd.read_csv(transcribed / CROSSWALK_FILE, dtype=str, keep_default_na=False)
    former_path = transcribed / FORMER_FILE
    former = (
        pd.read_csv(former_path, dtype=str, keep_default_na=False) if former_path.exists() else None
    )
    return build_register(crosswalk, former)


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
        AmbiguousMunicipalityError: for a bare "Mitrovica" (or "Kosovska Mitrovica",
            "Mitrovicë/Mitrovica") outside a source scope, or a label naming several
            municipalities.
        FormerMunicipalityError: for a former municipality (e.g. "Gora"); the message
            names its successor.
        UnknownMunicipalityError: for an unknown label; the message lists the three
            closest known names.
    """
    return load_register().normalise(label, source=source)
