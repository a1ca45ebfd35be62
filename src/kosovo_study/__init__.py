"""kosovo_study: reproducible analysis of foreign-fighter recruitment in Kosovo."""

from __future__ import annotations

# The release version: the single source of truth (hatchling reads it from here for the
# wheel's metadata). It must equal CITATION.cff's `version` (tests/test_citation.py) and
# is changed by hand, together with CITATION.cff's `date-released` and CHANGELOG.md, when
# a release is made; `.github/workflows/release.yml` tags the commit that changes it.
# The git commit is not part of it: manifests and the book record it as its own field.
__version__ = "0.2.0"

__all__ = ["__version__"]
