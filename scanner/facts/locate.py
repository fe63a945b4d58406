"""Narrow a text's location to the place of a match inside it."""

from __future__ import annotations

import bisect
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


class Lines:
    """Where a text's lines start, found once, so that placing many matches in one text costs a binary
    search each (counting newlines from the start for every match was quadratic: 4 MB of one repeated
    number took minutes)."""

    def __init__(self, value: str) -> None:
        self.value = value
        self._starts: list[int] | None = None

    def before(self, offset: int) -> int:
        """How many newlines precede ``offset``."""
        if self._starts is None:
            self._starts = [m.start() for m in _NEWLINE.finditer(self.value)]
        return bisect.bisect_left(self._starts, offset)


_NEWLINE = re.compile("\n")


def pinpoint(text: Text, offset: int, lines: Lines | None = None) -> Location:
    """The text's location narrowed to its line (documents, long lines, windows of large files), with the
    enclosing page module of compiled mini-program code. ``lines``: the text's line starts, when several
    matches of one text are placed."""
    loc = text.location
    if "\n" not in text.value and len(text.value) <= LONG_LINE and text.line == 1:
        return loc
    before = lines.before(offset) if lines is not None else text.value.count("\n", 0, offset)
    module = enclosing_module(text.value, offset) if loc.kind == "page" else None
    # The constructor, not dataclasses.replace: placed once for each number and link of every text.
    return Location(loc.member, loc.kind, loc.place, loc.string_id, loc.offset, text.line + before, module,
                    loc.resource, loc.lead)
