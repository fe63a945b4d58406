"""Arrays of little-endian integers read straight from a file's bytes (one copy in C, no tuple of ints)."""

from __future__ import annotations

import array
import sys

_U32 = "I" if array.array("I").itemsize == 4 else "L"


def little_u32(data: bytes | memoryview, at: int, count: int) -> array.array[int]:
    """Up to ``count`` little-endian u32 at ``at`` (as many whole ones as the data holds) as an array: a
    table of a million offsets costs 4 MB this way, 40 MB and 30 ms as a tuple of ints."""
    raw = data[at : at + 4 * max(0, count)]
    words = array.array(_U32)
    words.frombytes(raw[: len(raw) // 4 * 4])
    if sys.byteorder == "big":
        words.byteswap()
    return words
