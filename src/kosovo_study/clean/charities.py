"""Gulf-charity presence by municipality, derived from located events.

Source: ``gulf_charity_presence_events.csv``: one reported charity office or
activity (1999-2024), located to a municipality where the source allows.

Rules, applied in this order, each set-aside row going to the rejects table:

1. ``municipality_std`` UNRESOLVED or UNKNOWN: not located, set aside.
2. ``donor_country`` not a Gulf state (:data:`GULF_DONORS`): Islamic Relief (UK),
   Iran-linked NGOs, "Arab (unspecified)" and "mixed/unspecified" are set aside.
3. ``pre_2014`` empty (the year is unknown): set aside.
4. A row naming several municipalities ("Malishevë; Rahovec; Pejë") counts once for
   each of them.

Measures per municipality (before 2014 = the source's ``pre_2014`` = 1, i.e. activity
before the 2014-2016 recruitment peak; after = 0, the placebo):

* ``charity_evidence_pre2014``: 1 if any event is reported, else 0;
* ``charity_organisations_pre2014``: number of distinct organisations (``org_canonical``);
* ``charity_evidence_post2014``, ``charity_organisations_post2014``: the same, 2014 on.

**0 means "no evidence found", not "no charity".**  Events exist only where a
journalist or report mentioned them, and coverage rises with town size and media
attention.  Treat the measures as documented presence, a lower bound.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kosovo_study.clean.io import Ledger, read_transcribed
from kosovo_study.errors import MunicipalityNameError, ValidationError
from kosovo_study.municipalities import MunicipalityRegister

EVENTS_FILE = "gulf_charity_presence_events.csv"
#: Donor labels counted as Gulf (Gulf Cooperation Council states).  The
#: "Saudi-funded (Netherlands-registered)" label is Al-Waqf al-Islami, a Saudi-funded
#: foundation registered in the Netherlands (as the events table describes it).
GULF_DONORS = frozenset(
    {
        "Saudi Arabia",
        "Qatar",
        "UAE",
        "Kuwait",
        "Bahrain",
        "Oman",
        "Saudi-funded (Netherlands-registered)",
    }
)
UNLOCATED = frozenset({"UNRESOLVED", "UNKNOWN"})
COLUMNS = [
    "source_key",
    "org_canonical",
    "donor_country",
    "municipality_std",
    "event_year",
    "pre_2014",
]


def located_events(folder: Path, register: MunicipalityRegister, ledger: Ledger) -> pd.DataFrame:
    """One row per (event, municipality) that passes the rules above."""
    path = folder / EVENTS_FILE
    table = read_transcribed(path, COLUMNS, ledger)
    ledger.count_in("charity_events", path.name, len(table))
    kept = []
    for line, row in enumerate(table.to_dict(orient="records"), start=2):
        place = str(row["municipality_std"]).strip()
        record = f"{row['org_canonical']} | {place} | {row['event_year']}"
        if place in UNLOCATED:
            ledger.reject("charity_events", path.name, line, f"not located ({place})", record)
            continue
        if row["donor_country"] not in GULF_DONORS:
            ledger.reject(
                "charity_events",
                path.name,
                line,
                f"donor not a Gulf state ({row['donor_country']})",
                record,
            )
            continue
        period = str(row["pre_2014"]).strip()
        if period not in {"0", "1", "0.0", "1.0"}:
            if period == "":
                ledger.reject("charity_events", path.name, line, "year unknown", record)
                continue
            raise ValidationError(
                f"{path} line {line}, column pre_2014: {period!r} must be 1, 0 or empty."
            )
        for label in place.split(";"):
            try:
                municipality_id = register.normalise(label, source="kas")
            except MunicipalityNameError as error:
                raise ValidationError(
                    f"{path} line {line}, column municipality_std: {error}"
                ) from None
            kept.append(
                {
                    "municipality_id": municipality_id,
                    "organisation": row["org_canonical"],
                    "pre_2014": int(float(period)),
                    "line": line,
                }
            )
    return pd.DataFrame(kept)


def presence(events: pd.DataFrame) -> pd.DataFrame:
    """The four presence measures for all 38 municipalities (0 = no evidence found)."""
    frame = pd.DataFrame({"municipality_id": range(1, 39)})
    for flag, suffix in ((1, "pre2014"), (0, "post2014")):
        in_period = events[events["pre_2014"] == flag]
        organisations = in_period.groupby("municipality_id")["organisation"].nunique()
        counts = frame["municipality_id"].map(organisations).fillna(0).astype(int)
        frame[f"charity_organisations_{suffix}"] = counts
        frame[f"charity_evidence_{suffix}"] = (counts > 0).astype(int)
    return frame
