"""Printable strings around anchors in binary data (native libraries, unknown blobs).

A filing number or a filing-system link in a native library (Flutter's libapp.so, a C++ UI) is stored
as UTF-8 or UTF-16LE. Decoding every printable run of a 30 MB library would be wasteful, so only runs
that contain an anchor are decoded; the anchors are the fixed parts every number and link contain.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_ANCHORS_TEXT = ("ICP", "ＩＣＰ", "备案", "公网安备", "beian", "miitbeian", "B2-")
_MAX_RUN = 4096


def _anchor_pattern() -> re.Pattern[bytes]:
    forms: list[bytes] = []
    for anchor in _ANCHORS_TEXT:
        forms.append(re.escape(anchor.encode("utf-8")))
        forms.append(re.escape(anchor.encode("utf-16-le")))
    return re.compile(b"|".join(forms))


ANCHORS = _anchor_pattern()
_WIDE_FORMS = frozenset(anchor.encode("utf-16-le") for anchor in _ANCHORS_TEXT)
# Bytes that cannot be part of a printable UTF-8 run: C0 controls other than tab/newline, DEL.
_UTF8_STOP = frozenset([*range(0, 9), *range(11, 32), 127])


def anchored_strings(data: bytes) -> Iterator[tuple[int, str]]:
    """Yield (byte offset, text) for each distinct printable run holding an anchor."""
    seen_until = -1
    for match in ANCHORS.finditer(data):
        if match.start() < seen_until:
            continue
        wide = match.group(0) in _WIDE_FORMS
        start, end = _run_utf16(data, match.start()) if wide else _run_utf8(data, match.start())
        seen_until = end
        raw = data[start:end]
        text = raw.decode("utf-16-le" if wide else "utf-8", errors="ignore").strip()
        if text:
            yield start, text


def _run_utf8(data: bytes, pos: int) -> tuple[int, int]:
    start = pos
    floor = max(0, pos - _MAX_RUN)
    while start > floor and data[start - 1] not in _UTF8_STOP:
        start -= 1
    end = pos
    ceiling = min(len(data), pos + _MAX_RUN)
    while end < ceiling and data[end] not in _UTF8_STOP:
        end += 1
    return start, end


def _printable_unit(data: bytes, pos: int) -> bool:
    unit = data[pos] | (data[pos + 1] << 8)
    return unit >= 0x20 and unit != 0x7F and not unit >= 0xFFFE


def _run_utf16(data: bytes, pos: int) -> tuple[int, int]:
    start = pos
    floor = max(0, pos - 2 * _MAX_RUN)
    while start - 2 >= floor and _printable_unit(data, start - 2):
        start -= 2
    end = pos
    ceiling = min(len(data) - 1, pos + 2 * _MAX_RUN)
    while end < ceiling and _printable_unit(data, end):
        end += 2
    return start, end
