"""Property lists (binary or XML, Apple's plist formats through the standard library's ``plistlib``):
one guarded reader for every place that meets one (an IPA's Info.plist and .stringsdict files, an
``embedded.mobileprovision``'s content)."""

from __future__ import annotations

import plistlib
from typing import Any
from xml.parsers.expat import ExpatError


def load(data: bytes) -> dict[str, Any]:
    """A property list (binary or XML) as a dict; {} when it is not one. XML entities are not expanded
    by plistlib's parser beyond the predefined ones."""
    try:
        value = plistlib.loads(data)
    except (plistlib.InvalidFileException, ValueError, TypeError, OverflowError, IndexError, KeyError,
            UnicodeDecodeError, RecursionError, ExpatError, AttributeError):
        # ExpatError: XML that is not well formed; AttributeError: an XML <date> plistlib cannot match
        # (its _date_from_string assumes the pattern matches: found by tests/test_identity.py's fuzzing)
        return {}
    return value if isinstance(value, dict) else {}
