"""Importing a dependency without an optional extra of it that Dispatches never uses."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["without"]


@contextmanager
def without(name: str) -> Iterator[None]:
    """Imports made in the block see module `name` as not installed, unless it is imported
    already; afterwards it imports normally again.

    For a dependency that imports a heavy module at its own import only to offer a feature
    Dispatches does not use (trafilatura's language filter imports py3langid, and numpy with
    it): every cleaner worker would otherwise pay for that import at its start."""
    if name in sys.modules:
        yield
        return
    sys.modules[name] = None  # type: ignore[assignment]  # the import system's "not installed"
    try:
        yield
    finally:
        if name in sys.modules and sys.modules[name] is None:
            del sys.modules[name]
