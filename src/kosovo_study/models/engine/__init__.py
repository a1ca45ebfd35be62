"""A small batched estimator for count models, compiled with Numba.

Why: permutation tests, parametric bootstraps, power simulations and bootstraps refit
the same small model thousands of times.  statsmodels refits one at a time through
layers of Python; this engine fits a whole batch (permutations, simulated outcomes,
resamples) in one compiled loop over the batch members, and matches statsmodels'
maximum-likelihood estimates (tests check 1e-6 on coefficients and standard errors).

Public API (stable; other modules and the book rely on it):

* :func:`fit` ``(y, X, offset, family="nb2" | "poisson", alpha=None, ...) -> BatchFit``:
  Poisson and NB2 (log link, offset).  NB2 is the negative binomial with variance
  ``mu + alpha * mu**2`` (Cameron & Trivedi 2013, ch. 3); ``alpha`` is estimated by
  maximum likelihood for each batch member unless it is given.
* :func:`fit_ols` ``(y, X) -> BatchFit``: least squares, e.g. OLS on the log rate.
* :func:`fit_logit` ``(y, X, weights=None) -> BatchFit``: logit, the zero part of a
  hurdle model (statsmodels ``Logit``).
* :func:`fit_truncated_nb2` ``(y, X, offset, weights=None) -> BatchFit``: zero-truncated
  NB2, the count part of a hurdle model (statsmodels ``TruncatedLFNegativeBinomialP``
  with ``p=2``).
* :func:`warm_up` ``()``: compile (or load) the batch driver behind all of them.

Conventions: ``y`` has shape (B, n) (a batch of B outcome vectors on n units), ``X``
(n, p) shared by the batch or (B, n, p), ``offset`` (n,) or (B, n).  Bootstrap
resamples are passed as frequency ``weights`` (B, n) (how often each unit was drawn),
which gives the same estimates as refitting on the resampled rows.

Layout: :mod:`.special` (log-gamma, digamma and trigamma differences), :mod:`.linalg`
(Cholesky, standard errors), :mod:`.newton` (each family's likelihood and the one Newton
loop: the algorithms and convergence rules are described there), :mod:`.batch` (the one
batch driver and the functions above), :mod:`.compiled` (the compile decorator and the
on-disk cache key, which spans the whole package).  Each member of a batch is fitted on
its own, so members never wait for each other.

Failure is flagged, never hidden: ``converged`` is False when the iteration limit was
reached, when no step improved the likelihood, or when the maximum-likelihood estimate
does not exist (a linear predictor diverging to -inf, i.e. separation, or alpha
diverging); the last iterate is returned.  An all-zero outcome (no finite Poisson or
NB2 estimate) gives NaN estimates and ``converged`` False without iterating.

The compiled code is cached on disk (``numba.njit(cache=True)``), so only the first
run after installation (or after an edit to any engine file) pays the compilation;
loading from the cache takes about a second.
:func:`warm_up` compiles or loads it once before threads or processes start.
"""

from kosovo_study.models.engine.batch import (
    BatchFit,
    fit,
    fit_logit,
    fit_ols,
    fit_truncated_nb2,
    rate_start,
    warm_up,
)

__all__ = ["BatchFit", "fit", "fit_logit", "fit_ols", "fit_truncated_nb2", "rate_start", "warm_up"]
