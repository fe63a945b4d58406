"""Printable strings around anchors in binary data (native libraries, unknown blobs).

A filing number or a filing-system link in a native library (Flutter's libapp.so, a C++ UI) is stored
as UTF-8 or UTF-16LE. Decoding every printable run of a 30 MB library would be wasteful, so only runs
that contain an anchor are decoded: the fixed parts of every number and link (ICP, 公网安备, B2-,
beian …, scanner.extract.Prefilter.binary). Runs are delimited with regular expressions, not
byte-by-byte loops, and UTF-16 runs only span the code units text uses (ASCII, CJK, full-width forms),
so random data around a chance hit does not become a 4 KB "string".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from scanner.extract.prefilter import Prefilter, find_all

_MAX_RUN = 4096


def anchored_strings(data: bytes, prefilter: Prefilter, start: int = 0,
                     end: int | None = None) -> Iterator[tuple[int, str]]:
    """Yield (byte offset, text) for each distinct printable run holding an anchor found in
    ``data[start:end]`` (a range, not a copy: the sections of a 240 MB binary are not duplicated)."""
    for first, _last, text in anchored_runs(data, prefilter, start, end):
        yield first, text


def anchored_runs(data: bytes, prefilter: Prefilter, start: int = 0,
                  end: int | None = None) -> Iterator[tuple[int, int, str]]:
    """As anchored_strings, with the byte range [first, last) of each run."""
    seen_until = -1
    wide_needles = prefilter.wide
    for pos in find_all(data, prefilter.binary, start, end):
        if pos < seen_until:
            continue
        wide = any(data.startswith(n, pos) for n in wide_needles)
        first, last = _run_utf16(data, pos) if wide else _run_utf8(data, pos)
        seen_until = last
        text = (data[first:last].decode("utf-16-le", errors="ignore") if wide
                else _valid_utf8(data[first:last], pos - first)).strip()
        if text:
            yield first, last, text


# Printable UTF-8: anything but C0 controls other than tab and newline, and DEL.
_UTF8_RUN = re.compile(rb"[^\x00-\x08\x0b-\x1f\x7f]*")
# UTF-16LE code units of text: printable ASCII, CJK and CJK punctuation (U+3000-U+9FFF), full-width
# forms (U+FF00-U+FFEF). Backwards runs are matched on the reversed bytes, so each unit is reversed too.
_UTF16_RUN = re.compile(rb"(?:[\x20-\x7e]\x00|[\x00-\xff][\x30-\x9f]|[\x00-\xef]\xff)*")
_UTF16_RUN_REVERSED = re.compile(rb"(?:\x00[\x20-\x7e]|[\x30-\x9f][\x00-\xff]|\xff[\x00-\xef])*")


def _valid_utf8(run: bytes, anchor: int) -> str:
    """The valid UTF-8 around ``anchor`` of a run: strings laid back to back without terminators (a
    Dart snapshot's String cluster, length-prefixed) are cut where a byte cannot be UTF-8, instead of
    gluing the next record's prefix and bytes onto the text."""
    text = run.decode("utf-8", errors="replace")
    at = len(run[:anchor].decode("utf-8", errors="replace"))
    start = text.rfind("\ufffd", 0, at) + 1
    end = text.find("\ufffd", at)
    return text[start : end if end >= 0 else len(text)]


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


NEIGHBOUR_BYTES = 160
"""Bytes read on each side of a run for the strings stored beside it."""
_WORDS = re.compile(r"[\u4e00-\u9fff]{2,}|[A-Za-z][A-Za-z ]{3,}")


def neighbours(data: bytes, first: int, last: int, limit: int = 4) -> tuple[str, ...]:
    """Words of the strings stored just before and after the run [first, last): CJK words and ASCII
    words in UTF-8 and in UTF-16LE at either byte parity (a compiler writes the strings of one source
    file together, so a label beside a number in .rodata or a Dart String cluster is its neighbour)."""
    before = _words(data[max(0, first - NEIGHBOUR_BYTES) : first])[::-1]  # nearest first
    after = _words(data[last : last + NEIGHBOUR_BYTES])
    found: list[str] = []
    for k in range(max(len(before), len(after))):
        for side in (before, after):
            if k < len(side) and side[k] not in found:
                found.append(side[k])
    return tuple(found[:limit])


def _ascii_pair(char: str) -> bool:
    low, high = ord(char) & 0xFF, ord(char) >> 8
    return (low == 0 or 0x20 <= low <= 0x7E) and 0x20 <= high <= 0x7E


def _words(chunk: bytes) -> list[str]:
    """Words in the chunk in byte order, whichever encoding shows them."""
    located: list[tuple[int, str]] = []
    for match in _WORDS.finditer(chunk.decode("latin-1")):  # ASCII words (one byte a character)
        if match.group(0)[0].isascii():
            located.append((match.start(), match.group(0).strip()))
    for match in _WORDS.finditer(chunk.decode("utf-8", errors="replace")):
        if not match.group(0).isascii():
            located.append((len(match.string[: match.start()].encode("utf-8")), match.group(0)))
    for parity in (0, 1):
        for match in _WORDS.finditer(chunk[parity:].decode("utf-16-le", errors="replace")):
            word = match.group(0)
            # ASCII read as UTF-16 shows as "characters" made of two ASCII bytes (or one and a NUL at
            # the wrong parity): not a word.
            if sum(_ascii_pair(c) for c in word) * 2 < len(word):
                located.append((parity + 2 * match.start(), word.strip()))
    return [w for _, w in sorted(located)]
