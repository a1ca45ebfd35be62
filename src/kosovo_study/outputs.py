"""The catalogue of every table and figure the package produces, with the code that makes it.

README.md lists the same outputs (between the ``outputs:start``/``outputs:end``
markers); ``tests/test_readme.py`` keeps the two in sync, as the AEA replication
template asks: each output traced to its program.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Output:
    """One produced artefact."""

    path: str
    kind: str
    made_by: str
    description: str


OUTPUTS: tuple[Output, ...] = (
    Output(
        "data/raw/<registry path>",
        "raw files",
        "kosovo_study.registry.fetch",
        "third-party raw files, fetched and sha256-checked (git-ignored)",
    ),
    Output(
        "book/references.bib",
        "bibliography",
        "kosovo_study.citation.write_bibliography",
        "BibTeX for every source key and every registered raw file",
    ),
    Output(
        "data/processed/manifests/<stage>.json",
        "manifest",
        "kosovo_study.manifest.run_stage",
        "input and output sha256, version, commit and runtime of each stage",
    ),
)


def readme_table() -> str:
    """The Markdown table README.md shows between its output markers."""
    lines = ["| output | kind | made by | what it is |", "|---|---|---|---|"]
    lines += [f"| `{o.path}` | {o.kind} | `{o.made_by}` | {o.description} |" for o in OUTPUTS]
    return "\n".join(lines)
