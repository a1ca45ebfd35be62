"""The engine's compile decorator, and a cache key that spans the whole engine package.

Numba inlines compiled callees into their callers, but keys each function's on-disk cache
on its own source file only: after an edit to ``special.py``, ``newton.py``'s cached
machine code would still hold the old special functions (a stale cache, numba issue
#6845).  :class:`_EngineLocator` stamps every engine function with the hash of all the
engine's source files instead, so an edit to any of them recompiles all of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import numba
from numba.core import caching

Buf = Any  # arrays inside compiled code (Numba types them; mypy cannot)
F = TypeVar("F", bound=Callable[..., Any])
_PACKAGE = Path(__file__).resolve().parent


def _package_stamp(folder: Path) -> str:
    """sha256 of the names and contents of every source file of the engine ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


class _EngineStamp:
    """The source stamp of an engine function: every engine source file, not its own."""

    _py_file: str

    def get_source_stamp(self) -> str:
        return _package_stamp(_PACKAGE)

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> Any:
        if Path(py_file).resolve().parent != _PACKAGE:
            return None  # not an engine function: numba's own locators decide
        return super().from_function(py_func, py_file)  # type: ignore[misc]


class _EngineUserDirLocator(_EngineStamp, caching.UserProvidedCacheLocator):
    """Engine functions under ``NUMBA_CACHE_DIR``."""


class _EngineLocator(_EngineStamp, caching.InTreeCacheLocator):
    """Engine functions in the package's ``__pycache__``."""


_locators = caching.CacheImpl._locator_classes
if _EngineLocator not in _locators:  # numba's order: the user's cache directory first
    _locators[:0] = [_EngineUserDirLocator, _EngineLocator]


def compiled(function: F) -> F:
    """Compile with Numba, cached on disk; ``error_model="numpy"`` lets x/0 give inf."""
    return cast(F, numba.njit(cache=True, error_model="numpy", nogil=True)(function))
