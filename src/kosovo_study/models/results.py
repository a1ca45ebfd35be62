"""The single-fit type of the municipal and cross-national models (:class:`Fit`), and
the result object every model family returns (:class:`~kosovo_study.results.ModelResult`,
re-exported here; it lives in :mod:`kosovo_study.results` so that the interviews stage can
return one without importing the models package)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kosovo_study.results import TIDY_COLUMNS, Z95, ModelResult, stack_tidy

__all__ = ["TIDY_COLUMNS", "WITH_ALPHA", "Z95", "Fit", "ModelResult", "stack_tidy"]

#: Families whose last parameter is the NB2 dispersion alpha.
WITH_ALPHA = frozenset({"nb2", "nb2_offset", "hurdle_nb2"})


@dataclass(frozen=True)
class Fit:
    """One fitted model: one member of the engine's batch result
    (:class:`~kosovo_study.models.engine.BatchFit`), with its terms and robust errors.

    ``params``: the coefficients, then NB2's ``alpha`` (variance ``mu + alpha mu^2``)
    last; a hurdle has ``(gamma, beta, alpha)`` with ``gamma`` the logit coefficients.
    ``k`` is the number of columns of X; ``robust_se`` the HC0 standard errors of the
    count coefficients ``beta``; ``cov`` the HC0 covariance of every parameter where it
    was computed (NaN otherwise); ``llf_null`` the log-likelihood of the constant-only
    model with the same offset (NaN where not fitted).
    """

    family: str
    params: np.ndarray
    robust_se: np.ndarray
    llf: float
    k: int
    n: int
    converged: bool = True
    #: log population is the offset (else a covariate)
    uses_offset: bool = True
    cov: np.ndarray | None = None
    llf_null: float = float("nan")
    terms: tuple[str, ...] = ()

    @property
    def beta(self) -> np.ndarray:
        """The count model's coefficients."""
        first = self.k if self.family == "hurdle_nb2" else 0
        return self.params[first : first + self.k]

    @property
    def alpha(self) -> float:
        return float(self.params[-1]) if self.family in WITH_ALPHA else 0.0

    @property
    def covariance(self) -> np.ndarray:
        """``cov``, which a fit without a full covariance (the municipal fits) lacks."""
        if self.cov is None:
            raise ValueError(f"This {self.family} fit has robust standard errors only.")
        return self.cov

    @property
    def n_params(self) -> int:
        return len(self.params)

    @property
    def aic(self) -> float:
        return 2 * self.n_params - 2 * self.llf

    @property
    def pseudo_r2(self) -> float:
        """McFadden's pseudo-R² against the constant-only model with the same offset."""
        return 1 - self.llf / self.llf_null
