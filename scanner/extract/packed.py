"""Little-endian integer tables read in place from a file's bytes (no tuple of ints), and the search for
the strings of an offset table that hold a hit."""

from __future__ import annotations

import array
import bisect
import sys
from collections.abc import Callable, Iterable, Sequence

Buffer = bytes | memoryview
"""Bytes read from a package: a copy, or a read-only view of the file mapped into memory."""

_U32 = "I" if array.array("I").itemsize == 4 else "L"


def little_u32(data: Buffer, at: int, count: int) -> Sequence[int]:
    """Up to ``count`` little-endian u32 at ``at`` (as many whole ones as the data holds): on a
    little-endian machine a view of the data itself, no copy (a resource table's million offsets cost
    neither a tuple of a million ints nor a copied array and its page faults);
    elsewhere an array, byte-swapped."""
    raw = memoryview(data)[at : at + 4 * max(0, count)]
    raw = raw[: len(raw) // 4 * 4]
    if sys.byteorder == "little" and _U32 == "I":
        return raw.cast("I")
    words = array.array(_U32)
    words.frombytes(raw)
    if sys.byteorder == "big":
        words.byteswap()
    return words


def holders_in_order(offsets: Sequence[int], hits: Iterable[int], holds: Callable[[int, int], bool]
                     ) -> set[int] | None:
    """The index of the string holding each hit, for a table whose strings lie in index order (every
    DEX and resource pool the Android build tools write): the last offset at or before the hit, found by
    bisecting the offsets as they are, and confirmed by ``holds(index, hit)``. None as soon as one hit is
    not confirmed (a reordered or gapped table), so the caller can pay for ``holders_sorted``."""
    found: set[int] = set()
    for pos in hits:
        k = bisect.bisect_right(offsets, pos) - 1
        if k < 0 or offsets[k] > pos or not holds(k, pos):
            return None
        found.add(k)
    return found


def holders_sorted(offsets: Sequence[int], hits: Iterable[int]) -> set[int]:
    """The index whose string starts last at or before each hit, in a table of any order (every offset
    sorted once)."""
    order = sorted(range(len(offsets)), key=offsets.__getitem__)
    starts = [offsets[i] for i in order]
    found: set[int] = set()
    for pos in hits:
        k = bisect.bisect_right(starts, pos) - 1
        if k >= 0:
            found.add(order[k])
    return found
