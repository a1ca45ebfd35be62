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
    "power_wald_simulations",
    "power_permutation_simulations",
    "power_permutations",
    "power_seed",
    "power_simulations",
    "family_seed",
)


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
    #: municipal design analysis: simulated data sets for the Wald test and for the
    #: permutation test, permutations per simulated data set, seed, and an optional cap
    #: on both simulation counts (0 = no cap; short runs)
    power_wald_simulations: int = 400
    power_permutation_simulations: int = 100
    power_permutations: int = 39
    power_seed: int = 2012
    power_simulations: int = 0
    #: family-wise (Romano-Wolf) adjustment over the analysis plan's primary family:
    #: seed of the null draws of members tested on other data (cross-national Wald
    #: tests, independent uniform p-values beside the municipal permutation draws)
    family_seed: int = 2016
    #: cross-national parameter draws per fit (AME and prediction intervals) and seed
    crossnational_simulation_draws: int = 200
    crossnational_seed: int = 2015
    #: multiverse (specification curve): shared permutations and their seed
    multiverse_permutations: int = 999
    multiverse_seed: int = 2020
    #: seconds a stage waits for another run holding its lock before giving up
    lock_timeout_seconds: float = 900.0

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def wald_simulations(self) -> int:
        """Simulated data sets of the design analysis's Wald test (capped by
        ``power_simulations`` when it is above 0)."""
        cap = self.power_simulations
        return min(self.power_wald_simulations, cap) if cap > 0 else self.power_wald_simulations

    @property
    def permutation_simulations(self) -> int:
        """Simulated data sets of the design analysis's permutation test (capped likewise)."""
        cap = self.power_simulations
        sims = self.power_permutation_simulations
        return min(sims, cap) if cap > 0 else sims

    def municipal_parameters(self) -> dict[str, Any]:
        """The municipal analysis's sizes and seeds (``settings`` in ``metadata.json``)."""
        return {name: getattr(self, name) for name in MUNICIPAL_PARAMETERS}

    def models_parameters(self) -> dict[str, Any]:
        """The parameters that enter the ``models`` stage key."""
        names = [f.name for f in fields(self) if not f.name.startswith(("multiverse", "lock"))]
        return {name: getattr(self, name) for name in names}

    def multiverse_parameters(self, grid: str = "standard") -> dict[str, Any]:
        """The parameters that enter the ``multiverse`` stage key (the grid included:
        its name, ``standard`` or ``large``, and every option)."""
        from kosovo_study.models import multiverse

        return {
            "permutations": self.multiverse_permutations,
            "seed": self.multiverse_seed,
            "grid_name": grid,
            "grid": {k: [str(v) for v in values] for k, values in multiverse.grid(grid).items()},
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
