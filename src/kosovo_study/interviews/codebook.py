"""The interview codebook (``codebook.yaml`` in this package) and code-name matching."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import pandas as pd
import yaml

from kosovo_study.municipalities import name_key


@dataclass(frozen=True)
class Codebook:
    version: str
    codes: pd.DataFrame  # code, label, group, description
    respondent_groups: tuple[str, ...]
    attributes: dict[str, Any]
    _lookup: dict[str, str]

    def resolve(self, name: str) -> str | None:
        """The codebook code for a name or alias as an export writes it, else None."""
        return self._lookup.get(name_key(name).replace(" ", "_")) or self._lookup.get(
            name_key(name)
        )


@lru_cache(maxsize=1)
def load_codebook() -> Codebook:
    raw: dict[str, Any] = yaml.safe_load(
        resources.files("kosovo_study.interviews").joinpath("codebook.yaml").read_text("utf-8")
    )
    rows, lookup = [], {}
    for group, spec in raw["groups"].items():
        for code, details in spec["codes"].items():
            rows.append(
                {
                    "code": code,
                    "label": details["label"],
                    "group": group,
                    "group_label": spec["label"],
                    "description": details["description"],
                }
            )
            for name in [code, details["label"], *details.get("aliases", [])]:
                lookup[name_key(name)] = code
                lookup[name_key(name).replace(" ", "_")] = code
    return Codebook(
        version=str(raw["version"]),
        codes=pd.DataFrame(rows),
        respondent_groups=tuple(raw["respondent_groups"]),
        attributes=raw["respondent_attributes"],
        _lookup=lookup,
    )
