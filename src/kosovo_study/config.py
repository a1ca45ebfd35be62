"""Every analysis parameter in one place: simulation sizes and seeds.

:class:`StudyConfig` holds the defaults.  They are overridden, in this order, by the
``[tool.kosovo_study]`` table of the project's ``pyproject.toml`` and by
``--set NAME=VALUE`` on the command line.  Each stage hashes the parameters it uses
into its stage key (so a changed seed or size reruns it) and records them in its
manifest and in ``metadata.json``.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from kosovo_study.errors import KosovoStudyError


@dataclass(frozen=True)
class StudyConfig:
    """Simulation sizes (counts of draws) and seeds (integers for numpy's default_rng).

    The municipal values are those of :class:`kosovo_study.models.municipal.Settings`;
    the cross-national draws are the parameter draws behind the intervals of average
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

    def municipal_settings(self) -> Any:
        """The :class:`~kosovo_study.models.municipal.Settings` these values describe."""
        from kosovo_study.models.municipal import Settings

        return Settings(**{f.name: getattr(self, f.name) for f in fields(Settings)})

    def models_parameters(self) -> dict[str, Any]:
        """The parameters that enter the ``models`` stage key."""
        names = [f.name for f in fields(self) if not f.name.startswith(("multiverse", "lock"))]
        return {name: getattr(self, name) for name in names}

    def multiverse_parameters(self) -> dict[str, Any]:
        """The parameters that enter the ``multiverse`` stage key (the grid included)."""
        from kosovo_study.models import multiverse

        return {
            "permutations": self.multiverse_permutations,
            "seed": self.multiverse_seed,
            "grid": {k: [str(v) for v in values] for k, values in multiverse.GRID.items()},
        }


def _coerce(name: str, value: object, where: str) -> object:
    kind = {f.name: f.type for f in fields(StudyConfig)}[name]
    try:
        if kind in {"int", int}:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            number: object = int(str(value).strip()) if isinstance(value, str) else int(value)  # type: ignore[call-overload]
        else:
            number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise KosovoStudyError(
            f"{where}: {name} = {value!r} is not a{'n integer' if kind in {'int', int} else ' number'}."
            " Give a whole number (seeds and sizes)."
        ) from None
    if name.endswith(("permutations", "replicates", "simulations")) and number < 1:  # type: ignore[operator]
        raise KosovoStudyError(f"{where}: {name} = {number} must be at least 1.")
    if name.endswith("seed") and number < 0:  # type: ignore[operator]
        raise KosovoStudyError(f"{where}: {name} = {number} must be a non-negative integer.")
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
        section = table.get("tool", {}).get("kosovo_study", {})
        config = _apply(config, section, f"{pyproject} [tool.kosovo_study]")
    if overrides:
        config = _apply(config, overrides, "command line --set")
    return config
