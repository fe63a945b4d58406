"""Where a text sits: about/settings context, permission/privacy declaration, displayed surfaces.

Sources: ../shared/design/architecture.md (Context) and filing-rules.md §4 (what must be declared).
"""

from __future__ import annotations

import functools
import re

from scanner import catalogs
from scanner.model import Location, Text

# Surfaces a user can read in the running app. DEX and native strings are code: they count as
# declarations only when they hold Chinese prose (a privacy dialog written in Kotlin, say), because
# their ASCII strings are identifiers such as "android.permission.CAMERA".
DISPLAY_KINDS = frozenset({"resource", "layout", "xml", "asset", "page", "manifest", "policy"})
_HAN = re.compile(r"[\u3400-\u9fff]")


@functools.cache
def _context_words(extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    words = [w.lower() for w in catalogs.load("context")["context_words"]]
    return tuple(words + [w.lower() for w in extra])


_JVM_PACKAGE = re.compile(r"\bL(?:[\w$]+/)+(?=[\w$]+;)")
"""The package path of a class descriptor (``Lcom/beianscan/app/`` of ``Lcom/beianscan/app/a;``): the
app's own package name says nothing about the place, so only the simple class name is read."""


def in_context(location: Location, extra_words: tuple[str, ...] = ()) -> bool:
    """True when the member path or pointer names an about/settings/filing place (for code, the class
    and method that load the text and the strings loaded beside it: scanner.parsers.code)."""
    pointer = _JVM_PACKAGE.sub("L", location.pointer) if location.kind == "dex" else location.pointer
    place = f"{location.member} {pointer}".lower()
    return any(word in place for word in _context_words(extra_words))


NEAR_REACH = 120
"""Characters on each side of a number read for context in a script, bundle or native string table."""
NEAR_KINDS = frozenset({"asset", "native", "page"})
"""Surfaces whose neighbouring text is the same module (a JS bundle's about component, a Dart library's
strings, which the AOT compiler writes together): a label or the filing link beside a number there
puts it in context, as a class name does for a resource."""


def near_context(text: Text, offset: int, length: int, extra_words: tuple[str, ...] = ()) -> bool:
    """True when a context word (备案, 关于, ICP, the filing link …) is within NEAR_REACH characters of
    the number at ``offset`` in a script, bundle or native text (never in the number itself)."""
    if text.location.kind not in NEAR_KINDS:
        return False
    value = text.value
    around = f"{value[max(0, offset - NEAR_REACH) : offset]}\n{value[offset + length : offset + length + NEAR_REACH]}"
    around = around.lower()
    return any(word in around for word in _context_words(extra_words))


@functools.cache
def _marker_pattern() -> re.Pattern[str]:
    markers = catalogs.load("context")["declaration_markers"]
    english = "|".join(re.escape(m) for m in markers["en"])
    chinese = "|".join(re.escape(m) for m in markers["zh"])
    # English markers as words, not as parts of identifiers ("android.permission.CAMERA").
    return re.compile(rf"{chinese}|(?<![\w.]){english}(?![\w.])", re.IGNORECASE)


DECLARATION_REACH = 1500
"""Characters around a marker that count as its declaration in a long document (a bundle, a page)."""


def declaration_parts(text: Text, lowered: str | None = None) -> list[str]:
    """The parts of a text that declare permissions: all of it when it is short or its place is named
    for privacy/permissions (assets/privacy.html), else the neighbourhood of each marker, so that one
    "隐私" in a 2 MB bundle does not make every word of the bundle a declaration."""
    if text.location.kind == "policy":  # the privacy policy itself: all of it declares
        return [text.value]
    if text.location.kind not in DISPLAY_KINDS and not _HAN.search(text.value):
        return []
    pattern = _marker_pattern()
    place = f"{text.location.member} {text.location.pointer}".replace("_", " ").replace("/", " ")
    if _may_hold_marker(place) and pattern.search(place):
        return [text.value]
    value = text.value
    # The pattern scans at every position; most texts hold no marker (``lowered``: the caller's
    # lower-cased value, so that a text is lower-cased once for every check of the facts stage).
    if not _may_hold_marker(value, lowered):
        return []
    return [value[max(0, m.start() - DECLARATION_REACH) : m.start() + DECLARATION_REACH]
            for m in pattern.finditer(value)]


def _may_hold_marker(value: str, lowered: str | None = None) -> bool:
    lowered = value.lower() if lowered is None else lowered
    return _marker_words().search(lowered) is not None


@functools.cache
def _marker_words() -> re.Pattern[str]:
    """Any marker as a plain substring of a lower-cased text, in one pass (a pass per marker cost twelve)."""
    markers = catalogs.load("context")["declaration_markers"]
    return re.compile("|".join(re.escape(m.lower()) for m in (*markers["zh"], *markers["en"])))
