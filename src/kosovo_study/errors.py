"""Errors a user can act on.

Every error the package raises on purpose derives from :class:`KosovoStudyError`.
The CLI prints its message as one paragraph, without a traceback, so each message
must name the file (and row, where there is one), say what is wrong, and say how
to fix it.
"""

from __future__ import annotations


class KosovoStudyError(Exception):
    """Base class for errors whose message is meant for the user."""


class RegistryError(KosovoStudyError):
    """A registered raw file is missing, corrupted, or cannot be fetched."""


class MunicipalityNameError(KosovoStudyError, LookupError):
    """A municipality label is unknown or ambiguous."""


class UnknownMunicipalityError(MunicipalityNameError):
    """The label matches no municipality in the register."""


class AmbiguousMunicipalityError(MunicipalityNameError):
    """The label could mean more than one municipality (e.g. a bare 'Mitrovica')."""


class ValidationError(KosovoStudyError):
    """A table failed its schema; the message names file, row and fix."""


def listed(problems: list[str], limit: int = 20) -> str:
    """The first ``limit`` problems joined by "; ", and how many more there are: an error
    message names every kind of problem without printing thousands of lines."""
    more = f" (and {len(problems) - limit} more)" if len(problems) > limit else ""
    return "; ".join(problems[:limit]) + more
