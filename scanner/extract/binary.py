"""Printable strings around anchors in binary data (native libraries, unknown blobs).

A filing number or a filing-system link in a native library (Flutter's libapp.so, a C++ UI) is stored
as UTF-8 or UTF-16LE. Decoding every printable run of a 30 MB library would be wasteful, so only runs
that contain an anchor are decoded: the fixed parts of every number and link (ICP, 公网安备, B2-,
beian …, scanner.extract.anchors.Needles.binary). Runs are delimited with regular expressions, not
byte-by-byte loops, and UTF-16 runs only span the code units text uses (ASCII, CJK, full-width forms),
so random data around a chance hit does not become a 4 KB "string".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from scanner.extract import anchors

_MAX_RUN = 4096


def anchored_strings(data: bytes, needles: anchors.Needles, start: int = 0,
                     end: int | None = None) -> Iterator[tuple[int, str]]:
    """Yield (byte offset, text) for each distinct printable run holding an anchor found in
    ``data[start:end]`` (a range, not a copy: the sections of a 240 MB binary are not duplicated)."""
    seen_until = -1
    wide_needles = {n for n in needles.binary if b"\0" in n}
    for pos in anchors.find_all(data, needles.binary, start, end):
        if pos < seen_until:
            continue
        wide = any(data.startswith(n, pos) for n in wide_needles)
        first, last = _run_utf16(data, pos) if wide else _run_utf8(data, pos)
        seen_until = last
        text = data[first:last].decode("utf-16-le" if wide else "utf-8", errors="ignore").strip()
        if text:
            yield first, text


# Printable UTF-8: anything but C0 controls other than tab and newline, and DEL.
_UTF8_RUN = re.compile(rb"[^\x00-\x08\x0b-\x1f\x7f]*")
# UTF-16LE code units of text: printable ASCII, CJK and CJK punctuation (U+3000-U+9FFF), full-width
# forms (U+FF00-U+FFEF). Backwards runs are matched on the reversed bytes, so each unit is reversed too.
_UTF16_RUN = re.compile(rb"(?:[\x20-\x7e]\x00|[\x00-\xff][\x30-\x9f]|[\x00-\xef]\xff)*")
_UTF16_RUN_REVERSED = re.compile(rb"(?:\x00[\x20-\x7e]|[\x30-\x9f][\x00-\xff]|\xff[\x00-\xef])*")


def _run_utf8(data: bytes, pos: int) -> tuple[int, int]:
    head = data[max(0, pos - _MAX_RUN) : pos][::-1]
    back = _UTF8_RUN.match(head)
    forward = _UTF8_RUN.match(data, pos, min(len(data), pos + _MAX_RUN))
    return pos - (back.end() if back else 0), forward.end() if forward else pos


def _run_utf16(data: bytes, pos: int) -> tuple[int, int]:
    head = data[max(0, pos - 2 * _MAX_RUN) : pos][::-1]
    back = _UTF16_RUN_REVERSED.match(head)
    forward = _UTF16_RUN.match(data, pos, min(len(data), pos + 2 * _MAX_RUN))
    return pos - (back.end() if back else 0), forward.end() if forward else pos
