"""The catalogue of every table and figure the package produces, with the code that makes it.

The stages' outputs are described once, in :data:`kosovo_study.stages.STAGES`; this
module adds the few files made outside a stage (raw files, bibliography, manifests).

README.md lists the same outputs (between the ``outputs:start``/``outputs:end``
markers); ``tests/test_readme.py`` keeps the two in sync, as the AEA replication
template asks: each output traced to its program.
"""

from __future__ import annotations

from kosovo_study.stages import STAGES, Output

#: Produced before or beside the stages.
_BEFORE = (
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
)
_AFTER = (
    Output(
        "data/processed/manifests/<stage>.json",
        "manifest",
        "kosovo_study.manifest.run_stage",
        "input and output sha256, parameters, code fingerprint, version, commit and runtime "
        "of each stage",
    ),
)

#: Every output, in pipeline order: each stage's come from its entry in
#: :data:`kosovo_study.stages.STAGES` (described there once).
OUTPUTS: tuple[Output, ...] = (
    *_BEFORE,
    *(output for stage in STAGES for output in stage.outputs),
    *_AFTER,
)

__all__ = ["OUTPUTS", "Output", "readme_table"]


def readme_table() -> str:
    """The Markdown table README.md shows between its output markers."""
    lines = ["| output | kind | made by | what it is |", "|---|---|---|---|"]
    lines += [f"| `{o.path}` | {o.kind} | `{o.made_by}` | {o.description} |" for o in OUTPUTS]
    return "\n".join(lines)
