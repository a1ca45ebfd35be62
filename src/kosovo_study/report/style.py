"""The house style of every figure: one place for palette, fonts and the synthetic badge.

Palette: Okabe & Ito (2008), "Color Universal Design", distinguishable with the
common colour-vision deficiencies.  Sequential maps use viridis (perceptually
uniform, colour-blind safe).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

OKABE_ITO = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#000000",
)
SEQUENTIAL = "viridis"
BADGE_TEXT = "SYNTHETIC DATA - not a finding"


def apply() -> None:
    """Set the seaborn/matplotlib defaults used by every figure function."""
    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=list(OKABE_ITO),
        font="DejaVu Sans",
        rc={
            "figure.dpi": 110,
            "savefig.dpi": 150,
            "axes.titlesize": 12,
            "axes.labelsize": 11,
            "xtick.labelsize": 10,
            "ytick.labelsize": 10,
            "legend.fontsize": 9,
            "figure.autolayout": False,
        },
    )


def new_figure(width: float = 7.0, height: float = 4.0) -> tuple[Figure, Axes]:
    apply()
    figure, axes = plt.subplots(figsize=(width, height), layout="constrained")
    return figure, axes


def source_note(figure: Figure, source: str) -> None:
    """Name the data source under the figure (every caption must say where data came from)."""
    figure.text(0.01, -0.02, f"Source: {source}", ha="left", va="top", fontsize=8, color="#444")


def synthetic_badge(figure: Figure) -> None:
    """A visible badge on any figure fed by synthetic data."""
    figure.text(
        0.99,
        -0.01,
        BADGE_TEXT,
        ha="right",
        va="top",
        fontsize=10,
        fontweight="bold",
        color="white",
        bbox={"boxstyle": "round,pad=0.3", "facecolor": "#D55E00", "edgecolor": "none"},
    )
    figure.synthetic = True  # type: ignore[attr-defined]
