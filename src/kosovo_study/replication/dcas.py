"""The Data and Code Availability Standard (DCAS v1.0) rule table of ``book/dcas.yml``:
each rule with the tests that check it and, where code cannot, the reason."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml


def dcas_table(root: Path) -> pd.DataFrame:
    """One row per DCAS rule: ``rule`` ("N. name"), ``section``, ``code`` (the tests that
    check it, one per line) and ``reason`` (why not, or what code cannot judge)."""
    document = yaml.safe_load((root / "book" / "dcas.yml").read_text(encoding="utf-8"))
    return pd.DataFrame(
        [
            {
                "rule": f"{rule['number']}. {rule['rule']}",
                "section": rule["section"],
                "code": "\n".join(rule.get("checks") or []) or "none",
                "reason": " ".join(str(rule.get("reason") or "").split()) or "-",
            }
            for rule in document["rules"]
        ]
    )
