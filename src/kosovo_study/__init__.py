"""kosovo_study: reproducible analysis of foreign-fighter recruitment in Kosovo."""

from __future__ import annotations

# The version of this source: the single source of truth (hatchling reads it from here
# for the wheel's metadata). The rule (tests/test_citation.py):
#
# * on the commit that makes a release it equals CITATION.cff's `version` (changed by
#   hand, with `date-released` and CHANGELOG.md); `.github/workflows/release.yml` tags
#   that commit;
# * on the next commit it moves to the next development version (`0.3.0.dev0` after
#   0.2.0), while CITATION.cff keeps the last release, which is what `kosovo-study cite`
#   cites (naming this development build beside it).
#
# So a build from any commit says whether it is a release. The git commit is not part of
# it: manifests and the book record it as their own field.
__version__ = "0.3.0.dev0"

__all__ = ["__version__"]
