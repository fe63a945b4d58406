"""Where a finding lives in the app's source tree (``--source-root``): the resource file and line that
declare a string, the manifest line that requests a permission. Read once before formatting, so the
formatters see only values (the files are the user's own; each is read at most once, and bounded)."""

from __future__ import annotations

import functools
import os
import re

from scanner.model import Report, ReportedFinding

MAX_SOURCE_BYTES = 16 * 1024 * 1024
"""A source file larger than this is not searched (the finding keeps line 1)."""
_TAGS = {"string": ("string",), "array": ("string-array", "array"), "plurals": ("plurals",)}
SourceLines = dict[str, tuple[str, int]]
"""Finding fingerprint -> (source file, 1-based line)."""


def values_folder(locale: str) -> str:
    """``res/values`` for the default configuration, ``res/values-zh-rCN`` for a locale."""
    return "res/values" if locale in ("default", "any") else f"res/values-{locale}"


def locate(report: Report, source_root: str) -> SourceLines:
    """The source file and line of every finding that has one under ``source_root``."""
    found: SourceLines = {}
    for result in report.results:
        for finding in (*result.findings, *result.suppressed):
            place = _place(finding, source_root)
            if place is not None:
                found[finding.fingerprint] = place
    return found


def _place(finding: ReportedFinding, root: str) -> tuple[str, int] | None:
    location = finding.location
    if location is None:  # a manifest-level finding (a permission): the line that requests it
        manifest = os.path.join(root, "AndroidManifest.xml")
        line = _line(manifest, _attribute_pattern("uses-permission[\\w-]*", finding.evidence[0])) \
            if finding.evidence else None
        return (manifest, line) if line else None
    resource = location.resource
    if location.member != "resources.arsc" or resource is None:
        return None
    folder = os.path.join(root, values_folder(resource.qualifier))
    tags = "|".join(_TAGS.get(resource.type, (resource.type,)))
    pattern = _attribute_pattern(f"(?:{tags})", resource.key)
    for name in _xml_files(folder):
        line = _line(os.path.join(folder, name), pattern)
        if line:
            return os.path.join(folder, name), line
    return None


def _attribute_pattern(tag: str, name: str) -> re.Pattern[str]:
    return re.compile(rf"<{tag}\b[^>]*?\b(?:android:)?name\s*=\s*[\"']{re.escape(name)}[\"']", re.S)


def _xml_files(folder: str) -> list[str]:
    """The XML files of a values folder, strings.xml first (where strings usually are)."""
    try:
        names = [n for n in os.listdir(folder) if n.endswith(".xml")]
    except OSError:
        return []
    return sorted(names, key=lambda n: (n != "strings.xml", n))


def _line(path: str, pattern: re.Pattern[str]) -> int | None:
    text = _read(path)
    match = pattern.search(text) if text else None
    return text.count("\n", 0, match.start()) + 1 if text and match else None


@functools.lru_cache(maxsize=64)
def _read(path: str) -> str | None:
    try:
        if os.path.getsize(path) > MAX_SOURCE_BYTES:
            return None
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None
