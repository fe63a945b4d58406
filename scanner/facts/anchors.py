"""The prefilter the parsers use, built from the catalogs the rules judge by: a text can matter to a
rule only if it holds a number's anchor (filing catalog), a link's (hosts catalog) or a declaration
marker (context catalog), so the catalogs, not the parsers, say what to keep."""

from __future__ import annotations

import functools

from scanner import catalogs
from scanner.model import Anchors


@functools.cache
def from_catalogs() -> Anchors:
    """The anchors of the shipped catalogs."""
    filing = catalogs.load("filing")["anchors"]
    markers = catalogs.load("context")["declaration_markers"]
    return Anchors(
        numbers=tuple(filing["text"]),
        numbers_binary=tuple(filing["binary"]),
        numbers_wide=tuple(filing["wide"]),
        numbers_code=tuple(filing["code"]),
        links=tuple(catalogs.load("hosts")["anchors"]),
        markers=_shortest([*markers["zh"], *markers["en"]]),
    )


def _shortest(words: list[str]) -> tuple[str, ...]:
    """The words no shorter word is part of (``permission`` finds ``permissions`` too)."""
    return tuple(w for w in dict.fromkeys(words) if not any(o != w and o in w for o in words))
