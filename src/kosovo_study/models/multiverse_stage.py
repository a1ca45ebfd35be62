"""The ``multiverse`` stage's entry: the files it reads, its inputs in memory, and the
build that writes its results (run it as ``kosovo_study.stages.run("multiverse")``).

Apart from :mod:`kosovo_study.models` itself, so that the ``models`` stage's code (its
key) does not include the multiverse, nor the multiverse's the stage wiring.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.pandas import Check, Column

from kosovo_study.config import StudyConfig
from kosovo_study.errors import KosovoStudyError
from kosovo_study.models import multiverse, read_processed
from kosovo_study.models.crossnational import calibrated_joint
from kosovo_study.models.crossnational import multiverse as crossnational_multiverse
from kosovo_study.models.design import municipal_design
from kosovo_study.models.outcome import (
    load_outcome,
    locate_restricted,
    national_total,
    synthetic_outcome,
)
from kosovo_study.paths import ProjectPaths
from kosovo_study.storage import write_table, write_text_atomic
from kosovo_study.tablefile import check

#: ``multiverse_decomposition``: the Shapley (LMG) split of the estimates' R² by choice.
DECOMPOSITION_SCHEMA = pa.DataFrameSchema(
    {
        "focal": Column(str),
        "choice": Column(str, Check.isin(list(multiverse.CHOICES))),
        "choice_label": Column(str),
        "options": Column(int, Check.ge(1)),
        "shapley_r2": Column(float, Check.in_range(-1e-9, 1 + 1e-9)),
        "share_of_r2": Column(float, Check.in_range(-1e-9, 1 + 1e-9)),
        "total_r2": Column(float, Check.in_range(0, 1 + 1e-9)),
        "specifications": Column(int, Check.gt(0)),
        "estimate": Column(str),
        "outcome_source": Column(str),
        "synthetic": Column(bool),
    },
    strict=True,
    ordered=True,
    unique=["focal", "choice"],
)


def multiverse_inputs(
    paths: ProjectPaths,
    permutations: int,
    seed: int,
    grid: str = "standard",
    synthetic_seed: int = StudyConfig.synthetic_outcome_seed,
) -> Any:
    """The multiverse's inputs: processed municipalities and the main outcome (and, for
    the large grid, the further synthetic draws its ``outcome`` dimension names)."""
    municipalities = read_processed(paths, "municipalities")
    national = read_processed(paths, "kosovo_national")
    design = municipal_design(municipalities)
    outcome = load_outcome(paths, design, national, synthetic_seed)
    main = pd.Series(outcome.fighters, index=design.municipality_id)
    extra: dict[str, tuple[pd.Series, str]] = {}
    draws = [name for name in multiverse.grid(grid)["outcome"] if name != "main"]
    if draws and outcome.source != "synthetic":
        raise KosovoStudyError(
            f"--grid {grid} adds synthetic outcome draws, but the outcome is {outcome.source} "
            "(restricted counts have no draws); run the standard grid."
        )
    total = national_total(national)
    for k, name in enumerate(draws, start=1):
        counts = synthetic_outcome(design, total, seed=synthetic_seed + k).fighters
        extra[name] = (pd.Series(counts, index=design.municipality_id), "synthetic")
    return multiverse.prepare_inputs(
        municipalities, main, outcome.source, permutations, seed, extra
    )


def multiverse_input_files(paths: ProjectPaths) -> list[Path]:
    """Every file the multiverse stage reads: the processed tables (Parquet, as read) and
    the restricted file when it is there (located first: anything odd stops the run)."""
    restricted = locate_restricted(paths)
    files = [
        paths.processed / f"{name}.parquet"
        for name in ("municipalities", "kosovo_national", "countries")
    ]
    return [*files, restricted] if restricted is not None else files


def write_multiverse(
    paths: ProjectPaths,
    folder: Path,
    permutations: int,
    seed: int,
    parameters: dict[str, Any],
    n_jobs: int = 2,
    scheduler: str | None = None,
    grid: str = "standard",
    synthetic_seed: int = StudyConfig.synthetic_outcome_seed,
) -> list[Path]:
    """Every specification of the multiverse (``grid``: ``standard`` or the 20x
    ``large``) with randomization inference, written to ``folder``; ``parameters`` are
    recorded in ``multiverse_summary.json``."""
    inputs = multiverse_inputs(paths, permutations, seed, grid, synthetic_seed)
    # The municipal permuted statistics go to Parquet chunk by chunk (flat memory
    # however large the grid); row i of the file's ``specification`` is row i of
    # multiverse_specifications.
    null_path = folder / "multiverse_null.parquet"
    table = multiverse.run_streamed(
        multiverse.expand(multiverse.grid(grid)),
        inputs,
        null_path,
        n_jobs=n_jobs,
        scheduler=scheduler,
    )
    analogue, analogue_null = crossnational_multiverse.run(
        read_processed(paths, "countries"),
        permutations,
        seed,
        n_jobs=n_jobs,
        calibration=crossnational_multiverse.Calibration.from_parameters(
            parameters.get("crossnational_calibration")
        ),
    )
    # the joint test over the calibrated subset of the claim's rows, re-selecting by
    # calibration in each null draw (before the family-wise column is added)
    calibrated_joint_test = calibrated_joint.run(
        read_processed(paths, "countries"),
        analogue,
        analogue_null,
        permutations,
        seed,
        crossnational_multiverse.Calibration.from_parameters(
            parameters.get("crossnational_calibration")
        ),
        int(parameters.get("reselection_draws", StudyConfig.multiverse_reselection_draws)),
        n_jobs=n_jobs,
    )
    table["family_wise_p"] = multiverse.family_wise_p(table, null_path)
    analogue["family_wise_p"] = multiverse.family_wise_p(analogue, analogue_null)
    decomposition = multiverse.decompose(table)
    # Outcomes differ, so the joint tests of the two parts are those of the whole;
    # the cross-national ("crossnational_*") rows come first, as a groupby sorts them.
    joint = pd.concat(
        [
            multiverse.joint_test(analogue, analogue_null),
            multiverse.joint_test(table, null_path),
        ],
        ignore_index=True,
    )
    table = pd.concat([table, analogue], ignore_index=True)
    written = [null_path]
    written += write_table(table, folder, "multiverse_specifications")
    written += write_table(joint, folder, "multiverse_joint_test")
    written += write_table(calibrated_joint_test, folder, "multiverse_calibrated_joint_test")
    written += write_table(
        check(decomposition, DECOMPOSITION_SCHEMA, file=folder / "multiverse_decomposition"),
        folder,
        "multiverse_decomposition",
    )
    summary_path = folder / "multiverse_summary.json"
    numbers = multiverse.summary(table, joint)
    numbers.update(parameters)
    numbers["config"] = parameters
    write_text_atomic(summary_path, json.dumps(numbers, indent=2, default=str) + "\n")
    return [*written, summary_path]
