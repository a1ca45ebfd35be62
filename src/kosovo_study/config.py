"""Every analysis parameter in one place: simulation sizes and seeds.

:class:`StudyConfig` holds the defaults.  They are overridden, in this order, by the
``[tool.kosovo_study]`` table of the project's ``pyproject.toml`` and by
``--set NAME=VALUE`` on the command line.  Each stage hashes the parameters it uses
into its stage key (so a changed seed or size reruns it) and records them in its
manifest and in ``metadata.json``.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from kosovo_study.errors import KosovoStudyError

#: Largest simulation size accepted (draws, permutations, replicates): 100 times the
#: defaults, so a typo ("99999999") fails at once instead of running for days.
MAX_SIZE = 100_000
#: Largest seed: numpy's default_rng takes any non-negative integer, but a seed that
#: fits in 64 bits is one every other tool (R, Stata, a spreadsheet) can also record.
MAX_SEED = 2**64 - 1
#: An integer written with ASCII digits only.  Python's int() also reads "1_000", "+5"
#: and other scripts' digits (Devanagari or full-width digits); a parameter recorded in metadata.json must
#: read the same to every reader, so those are refused.
_ASCII_INTEGER = re.compile(r"[0-9]+", re.ASCII)
#: The parameters of the municipal analysis (:mod:`kosovo_study.models.municipal`).
MUNICIPAL_PARAMETERS = (
    "permutations",
    "permutation_seed",
    "bootstrap_replicates",
    "bootstrap_seed",
    "family_seed",
)
#: Prefix of the design diagnosis's parameters (the ``design`` stage's, not the models').
DESIGN_PREFIX = "design_"


@dataclass(frozen=True)
class StudyConfig:
    """Simulation sizes (counts of draws) and seeds (integers for numpy's default_rng).

    The municipal values are read by :mod:`kosovo_study.models.municipal`; the
    cross-national draws are the parameter draws behind the intervals of average
    marginal effects and predictions in :mod:`kosovo_study.models.crossnational`.
    """

    #: municipal randomization test: permutations and seed
    permutations: int = 999
    permutation_seed: int = 1999
    #: municipal parametric bootstrap of the IRRs: replicates and seed
    bootstrap_replicates: int = 999
    bootstrap_seed: int = 2008
    #: family-wise (Romano-Wolf) adjustment over the analysis plan's primary family:
    #: seed of the null draws of members tested on other data (cross-national Wald
    #: tests, independent uniform p-values beside the municipal permutation draws)
    family_seed: int = 2016
    #: cross-national parameter draws per fit (AME and prediction intervals) and seed
    crossnational_simulation_draws: int = 200
    crossnational_seed: int = 2015
    #: count-model diagnostics (kosovo_study.models.diagnostics): outcome vectors
    #: simulated from each fitted model (DHARMa's default is 250; 1,000 puts the Monte
    #: Carlo error of a scaled residual below 0.016) and their seed
    diagnostics_simulations: int = 1000
    #: parametric-bootstrap refits behind the diagnostic tests' p-values (DHARMa's
    #: refit = TRUE; its default is 250)
    diagnostics_refit_simulations: int = 250
    diagnostics_seed: int = 2021
    #: multiverse (specification curve): shared permutations and their seed
    multiverse_permutations: int = 999
    multiverse_seed: int = 2020
    #: the joint test over the calibrated cross-national specifications re-selects them
    #: by the calibration rule in each null draw (about 50 fits per specification and
    #: draw), in this many of the shared draws (kosovo_study.models.crossnational.
    #: calibrated_joint; p-values in steps of 1 / (draws + 1))
    multiverse_reselection_draws: int = 99
    #: seconds a stage waits for another run holding its lock before giving up
    lock_timeout_seconds: float = 900.0

    # --- cross-national analysis (kosovo_study.models.crossnational) ----------------------
    # Read by kosovo_study.models.crossnational.settings_from_config; they enter the
    # models stage key (models_parameters).
    #: out-of-fold calibration: folds of the cross-validated world total, number of
    #: fold assignments ("fold seeds", each drawn from [seed, replicate]) and their seed
    crossnational_oof_folds: int = 10
    crossnational_oof_replicates: int = 5
    crossnational_oof_seed: int = 2019
    #: model choice: folds of the cross-validated log score (seeded by crossnational_seed)
    crossnational_cv_folds: int = 10
    #: multiple imputation by chained equations (statsmodels MICEData with predictive mean
    #: matching): completed data sets (m >= 20), burn-in cycles, cycles skipped between
    #: kept copies, donors, and seed
    crossnational_imputations: int = 20
    crossnational_imputation_burn_in: int = 10
    crossnational_imputation_skip: int = 2
    crossnational_imputation_donors: int = 10
    crossnational_imputation_seed: int = 2016
    #: the imputation's convergence check (mice's trace plots, van Buuren 2018, sec.
    #: 6.5.2): chains in all (the main chain and chains - 1 more, chain c seeded with
    #: [crossnational_imputation_seed, c]; mice's default is m = 5 chains) and the cycles
    #: each further chain runs (70 = the main chain's 10 burn-in + 20 copies x 3 cycles);
    #: Gelman-Rubin R-hat of the chain means over the cycles after the burn-in
    crossnational_imputation_chains: int = 5
    crossnational_imputation_chain_cycles: int = 70

    # --- design diagnosis (issue 20 item 3; the ``design`` stage,
    # kosovo_study.models.diagnosis).  Sizes chosen so that every power and coverage
    # figure has a Monte Carlo SE of at most 0.02: sqrt(0.25 / 700) = 0.019 for the
    # randomization test; the Wald tests' 4,000 data sets leave room for the noise of
    # the size-corrected critical value (about 0.014 in all).
    #: simulated data sets per design (term x total x alpha) for the estimator and Wald tests
    design_simulations: int = 4000
    #: the first data sets of each design tested by randomization as well
    design_permutation_simulations: int = 700
    #: random orderings per data set of the randomization test (p = (1 + k) / 100)
    design_permutations: int = 99
    #: seed of the diagnosis (designs seeded [seed, term, total, alpha])
    design_seed: int = 2019
    #: coverage of the multiple-imputation intervals on an imputed covariate, a seeded
    #: simulation run by the design stage (design_mi_coverage.csv; issue 20 item 4):
    #: simulated data sets per missingness mechanism (MC SE about 0.015 at coverage 0.95
    #: with 200), imputations each, seed
    design_mi_coverage_replicates: int = 200
    design_mi_coverage_imputations: int = 5
    design_mi_coverage_seed: int = 1999

    # --- seeds of the synthetic stand-ins (issue 18: every seed in the settings tree) ---
    #: the synthetic municipal outcome (:func:`kosovo_study.models.outcome.synthetic_outcome`);
    #: the large multiverse grid's further outcome draws use this seed + k, k = 1..19
    synthetic_outcome_seed: int = 20_150_126
    #: the synthetic interview study (:func:`kosovo_study.interviews.synthetic.write_study`)
    interview_seed: int = 2012
    #: the interviewee logit's score wild cluster bootstrap (issue 20): draws and seed
    interview_bootstrap_draws: int = 9999
    interview_bootstrap_seed: int = 2013
    # --- end of the synthetic seeds ----------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def municipal_parameters(self) -> dict[str, Any]:
        """The municipal analysis's sizes and seeds (``settings`` in ``metadata.json``)."""
        return {name: getattr(self, name) for name in MUNICIPAL_PARAMETERS}

    def models_parameters(self) -> dict[str, Any]:
        """The parameters that enter the ``models`` stage key."""
        other = ("multiverse", "lock", "interview", DESIGN_PREFIX)  # other stages' parameters
        names = [f.name for f in fields(self) if not f.name.startswith(other)]
        return {name: getattr(self, name) for name in names}

    def design_parameters(self) -> dict[str, Any]:
        """The parameters that enter the ``design`` stage key (the design diagnosis)."""
        return {
            f.name: getattr(self, f.name) for f in fields(self) if f.name.startswith(DESIGN_PREFIX)
        }

    def multiverse_parameters(self, grid: str = "standard") -> dict[str, Any]:
        """The parameters that enter the ``multiverse`` stage key (the grid included:
        its name, ``standard`` or ``large``, and every option)."""
        from kosovo_study.models import multiverse

        return {
            "permutations": self.multiverse_permutations,
            "seed": self.multiverse_seed,
            "synthetic_outcome_seed": self.synthetic_outcome_seed,
            "grid_name": grid,
            "grid": {k: [str(v) for v in values] for k, values in multiverse.grid(grid).items()},
            "reselection_draws": self.multiverse_reselection_draws,
            # the cross-national rows' calibration columns and the hurdle's AME draws
            "crossnational_calibration": {
                "folds": self.crossnational_oof_folds,
                "replicates": self.crossnational_oof_replicates,
                "seed": self.crossnational_oof_seed,
                "ame_draws": self.crossnational_simulation_draws,
                "ame_seed": self.crossnational_seed,
            },
        }

    # --- the interviews stage (issue 18) ----------------------------------------------
    def interviews_parameters(self) -> dict[str, Any]:
        """The parameters that enter the ``interviews`` stage key."""
        return {
            f.name: getattr(self, f.name) for f in fields(self) if f.name.startswith("interview")
        }


def _coerce(name: str, value: object, where: str) -> object:
    kind = {f.name: f.type for f in fields(StudyConfig)}[name]
    try:
        if kind in {"int", int}:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            if isinstance(value, str) and not _ASCII_INTEGER.fullmatch(value.strip()):
                raise ValueError
            number: object = int(str(value).strip()) if isinstance(value, str) else int(value)  # type: ignore[call-overload]
        else:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)  # type: ignore[arg-type]
            if not math.isfinite(number) or number < 0:
                raise KosovoStudyError(
                    f"{where}: {name} = {value!r} must be a finite number of seconds, 0 or more."
                )
    except (TypeError, ValueError, OverflowError):
        raise KosovoStudyError(
            f"{where}: {name} = {value!r} is not a"
            + (
                "n integer. Give a non-negative whole number written with the digits 0-9 "
                "(seeds and sizes)."
                if kind in {"int", int}
                else " number. Give the seconds as a number, e.g. 900."
            )
        ) from None
    if name.endswith(("permutations", "replicates", "simulations")) and number < 1:  # type: ignore[operator]
        raise KosovoStudyError(f"{where}: {name} = {number} must be at least 1.")
    if name.endswith(("permutations", "replicates", "simulations")) and number > MAX_SIZE:  # type: ignore[operator]
        raise KosovoStudyError(
            f"{where}: {name} = {number} is above the largest size accepted, {MAX_SIZE:,} "
            "(kosovo_study.config.MAX_SIZE)."
        )
    if name.endswith("seed") and not 0 <= number <= MAX_SEED:  # type: ignore[operator]
        raise KosovoStudyError(
            f"{where}: {name} = {number} must be an integer from 0 to 2**64 - 1."
        )
    return number


def _apply(config: StudyConfig, values: Mapping[str, object], where: str) -> StudyConfig:
    known = {f.name for f in fields(StudyConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise KosovoStudyError(
            f"{where}: unknown parameters {unknown}. Known parameters: {sorted(known)}."
        )
    coerced: dict[str, Any] = {name: _coerce(name, value, where) for name, value in values.items()}
    return dataclasses.replace(config, **coerced)


def parse_assignments(assignments: Iterable[str]) -> dict[str, str]:
    """``["permutations=99", ...]`` (from ``--set``) as a dict."""
    values = {}
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        if not sep or not name.strip():
            raise KosovoStudyError(
                f"--set {assignment!r}: write NAME=VALUE, e.g. --set multiverse_permutations=99."
            )
        values[name.strip()] = value.strip()
    return values


def load_config(
    root: Path | None = None, overrides: Mapping[str, object] | None = None
) -> StudyConfig:
    """Defaults, then ``[tool.kosovo_study]`` of ``root/pyproject.toml``, then ``overrides``."""
    config = StudyConfig()
    if root is not None and (pyproject := Path(root) / "pyproject.toml").is_file():
        try:
            table = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise KosovoStudyError(f"{pyproject}: not valid TOML ({error}).") from None
        tool = table.get("tool", {})
        section = tool.get("kosovo_study", {}) if isinstance(tool, dict) else {}
        if not isinstance(section, dict):
            raise KosovoStudyError(
                f"{pyproject}: tool.kosovo_study must be a table ([tool.kosovo_study] with "
                f"NAME = VALUE lines), not {type(section).__name__} {section!r}."
            )
        config = _apply(config, section, f"{pyproject} [tool.kosovo_study]")
    if overrides:
        config = _apply(config, overrides, "command line --set")
    return config
