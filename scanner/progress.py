"""Progress of a long scan: the command line installs an observer, the archive readers report the
bytes they inflate. Nothing is reported unless an observer is installed (library use, batch workers,
forked helpers stay silent)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

Observer = Callable[[int], None]

_OBSERVER: ContextVar[Observer | None] = ContextVar("beian_scan_progress", default=None)


def observer() -> Observer | None:
    """The observer installed for the current scan, if any (read once, when a package's readers start)."""
    return _OBSERVER.get()


@contextlib.contextmanager
def observing(callback: Observer | None) -> Iterator[None]:
    """Install ``callback`` for the scans started inside the block."""
    token = _OBSERVER.set(callback)
    try:
        yield
    finally:
        _OBSERVER.reset(token)
