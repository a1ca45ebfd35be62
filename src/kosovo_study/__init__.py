"""kosovo_study: reproducible analysis of foreign-fighter recruitment in Kosovo."""

from __future__ import annotations

try:
    from kosovo_study._version import __version__
except ImportError:  # running from a source tree that was never built
    from importlib.metadata import PackageNotFoundError, version

    try:
        __version__ = version("kosovo-study")
    except PackageNotFoundError:
        __version__ = "0.0.0"

__all__ = ["__version__"]
