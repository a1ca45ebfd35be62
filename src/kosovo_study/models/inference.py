"""Randomization p-values, shared by the municipal models and the multiverse."""

from __future__ import annotations

import numpy as np


def randomization_p(null: np.ndarray, observed: float) -> tuple[float, int]:
    """Two-sided p = (1 + #{|b*| >= |b|}) / (R + 1) over the finite draws; and R.

    Draws that failed (non-finite) are dropped, and R counts only the valid ones.
    The 1e-12 tolerance keeps a draw equal to the observed value (up to rounding)
    counted as extreme.
    """
    valid = null[np.isfinite(null)]
    extreme = int(np.sum(np.abs(valid) >= abs(observed) - 1e-12))
    return (1 + extreme) / (len(valid) + 1), len(valid)
