"""Narrow a text's location to the place of a match inside it."""

from __future__ import annotations

import re

from scanner.model import Location, Text

LONG_LINE = 200


# Compiled mini-program code (app-service.js) wraps every page in define("pages/about/about.js", …);
# uni-app and Taro bundles register modules the same way. The enclosing name is the page that shows it.
_MODULE = re.compile(r"""(?:define|__wxAppCode__\[)\(?\s*["']([^"'\n]{1,200})["']""")
_MODULE_REACH = 200_000


def enclosing_module(value: str, offset: int) -> str | None:
    """The module a position sits in, when the code registers modules by name (compiled mini-programs)."""
    start = value.rfind("define(", max(0, offset - _MODULE_REACH), offset)
    if start < 0:
        return None
    match = _MODULE.match(value, start)
    return match.group(1) if match else None


def pinpoint(text: Text, offset: int) -> Location:
    """The text's location narrowed to its line (documents, long lines, windows of large files), with the
    enclosing page module of compiled mini-program code."""
    loc = text.location
    if "\n" not in text.value and len(text.value) <= LONG_LINE and text.line == 1:
        return loc
    where = f"line {text.line + text.value.count(chr(10), 0, offset)}"
    module = enclosing_module(text.value, offset) if loc.kind == "page" else None
    if module:
        where = f"{where}, in {module}"
    return Location(loc.member, loc.kind, f"{loc.pointer}, {where}" if loc.pointer else where)
