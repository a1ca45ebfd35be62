"""The house style of every figure: one packaged ``.mplstyle``, the palette and the badge.

The style lives in ``kosovo.mplstyle`` beside this module and is applied only inside
:func:`figure_context` (``plt.style.context``), so importing the package or drawing a
figure never changes a user's global matplotlib settings.

Palette: Okabe & Ito (2008), "Color Universal Design", distinguishable with the
common colour-vision deficiencies.  Sequential maps use viridis (perceptually
uniform, colour-blind safe).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

#: The packaged style sheet (a path matplotlib's ``plt.style.context`` accepts).
STYLE = Path(str(resources.files("kosovo_study.report").joinpath("kosovo.mplstyle")))

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
#: The smallest font size (points) any text may have at printed size (issue 11).
MIN_FONT_PT = 8.0
#: The size the smallest text is drawn at: a little above the floor, because Chromium
#: prints an SVG at about 0.995 of its size (measured: 8 pt ticks printed at 7.96 pt).
SMALL_FONT_PT = 8.2
#: Width (inches) of a full-width figure: the PDF's text width, so sizes are printed sizes.
FULL_WIDTH = 7.0


@contextmanager
def figure_context() -> Iterator[None]:
    """Draw inside the house style; the caller's rcParams are restored afterwards."""
    with plt.style.context(STYLE):
        yield


def new_figure(width: float = FULL_WIDTH, height: float = 4.0) -> tuple[Figure, Axes]:
    """A figure in the house style (constrained layout), sized in printed inches."""
    with figure_context():
        figure, axes = plt.subplots(figsize=(width, height), layout="constrained")
    return figure, axes


def source_note(figure: Figure, source: str) -> None:
    """Name the data source under the figure (every caption must say where data came from)."""
    figure.text(
        0.01, -0.01, f"Source: {source}", ha="left", va="top", fontsize=SMALL_FONT_PT, color="#444"
    )


#: How a ``synthetic`` column written as text (a CSV read with ``dtype=str``) says yes.
_YES = frozenset({"true", "yes", "1"})


def is_synthetic(frame: pd.DataFrame) -> bool:
    """True when the data say any row is synthetic: the one rule of every table and figure.

    A frame is synthetic when ``frame.attrs["synthetic"]`` is true, when any row of a
    ``synthetic`` column is true (a bool, or the text ``True``/``yes``/``1`` in any case),
    or when any ``outcome_source`` is ``synthetic`` (any case, surrounding spaces
    ignored).  The caller is never asked: the badge follows the data.
    """
    if bool(frame.attrs.get("synthetic", False)):
        return True
    if "synthetic" in frame.columns:
        flags = frame["synthetic"].dropna()
        if any(
            value.strip().lower() in _YES if isinstance(value, str) else bool(value)
            for value in flags
        ):
            return True
    if "outcome_source" in frame.columns:
        sources = frame["outcome_source"].dropna().astype(str).str.strip().str.lower()
        return bool(sources.eq("synthetic").any())
    return False


def synthetic_badge(figure: Figure) -> None:
    """A visible badge on any figure fed by synthetic data (drawn once, however often asked)."""
    if getattr(figure, "synthetic", False):
        return
    figure.text(
        0.99,
        -0.01,
        BADGE_TEXT,
        ha="right",
        va="top",
        fontsize=9,
        fontweight="bold",
        color="white",
        bbox={"boxstyle": "round,pad=0.3", "facecolor": "#B34700", "edgecolor": "none"},
    )
    figure.synthetic = True  # type: ignore[attr-defined]


def smallest_font(figure: Figure) -> float:
    """The smallest font size (points) of any text ``figure`` draws.

    Axis labels and tick labels of axes that are switched off (maps) are not drawn
    and are not counted.
    """
    hidden: set[int] = set()
    for axes in figure.axes:
        if not axes.axison:
            for axis in (axes.xaxis, axes.yaxis):
                hidden.add(id(axis.label))
                hidden.update(id(t) for t in axis.get_ticklabels())
    sizes = [
        printed_size(text)
        for text in figure.findobj(Text)
        if text.get_visible() and text.get_text().strip() and id(text) not in hidden
    ]
    return float(min(sizes)) if sizes else MIN_FONT_PT


#: matplotlib draws a mathtext superscript or subscript at 70% of its text's size (the
#: exponent of a log axis' "10⁻¹" label): an 8 pt tick label prints its exponent at 5.6 pt.
SCRIPT_SCALE = 0.7


def printed_size(text: Text) -> float:
    """The smallest size (points) ``text`` prints at: its font size, or 70% of it for the
    exponent or index of a mathtext label ("$10^{-1}$")."""
    string = text.get_text()
    scripted = "$" in string and ("^" in string or "_" in string)
    return float(text.get_fontsize()) * (SCRIPT_SCALE if scripted else 1.0)


def _positional(value: float) -> str:
    """A tick value as a decimal ("0.2", "10", "0.005"), never "10⁻¹" nor "1e-05"."""
    return np.format_float_positional(float(value), precision=6, trim="-")


def plain_log_ticks(axis: Axis) -> None:
    """Label a log axis 0.2, 0.5, 1, 2, 5, 10 as plain decimals.

    matplotlib's default log labels ("10⁻¹") print their exponent at 70% of the tick
    size: 5.6 pt on paper for 8 pt ticks, under the 8 pt floor.  Plain decimals print
    whole at the tick size.
    """
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _position: _positional(value)))
    axis.set_minor_formatter(NullFormatter())
