"""Android ResStringPool reader, shared by resources.arsc and binary XML.

Format: frameworks/base/libs/androidfw/include/androidfw/ResourceTypes.h (struct ResStringPool_header).
Every read is bounds-checked: an entry that points outside the chunk decodes to "" instead of raising.
"""

from __future__ import annotations

import codecs
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from scanner.extract.packed import Buffer, holders_in_order, holders_sorted, little_u32
from scanner.extract.prefilter import find_all
from scanner.i18n import msg

RES_STRING_POOL_TYPE = 0x0001
UTF8_FLAG = 1 << 8
_HEADER = struct.Struct("<HHIIIIII")


class ChunkError(ValueError):
    """A chunk header or table does not fit the data it claims to describe."""


@dataclass(frozen=True, slots=True)
class StringPool:
    """A decoded pool: index -> string."""

    strings: tuple[str, ...]

    def get(self, index: int) -> str:
        """The string at ``index``, or "" for an index outside the pool (tampered files use them)."""
        if 0 <= index < len(self.strings):
            return self.strings[index]
        return ""


def read_string_pool(data: Buffer, start: int) -> StringPool:
    """Decode the ResStringPool chunk that begins at ``start``."""
    base, end, offsets, utf8 = _pool_header(data, start)
    decode = _decode_utf8 if utf8 else _decode_utf16
    return StringPool(tuple(decode(data, base + off, end) for off in offsets))


def _pool_header(data: Buffer, start: int) -> tuple[int, int, Sequence[int], bool]:
    """(strings base, chunk end, string offsets, UTF-8?) of the ResStringPool chunk at ``start``."""
    if start + _HEADER.size > len(data):
        raise ChunkError(msg("string pool header past the end of the data"))
    ctype, header_size, size, count, _styles, flags, strings_start, _ = _HEADER.unpack_from(data, start)
    if ctype != RES_STRING_POOL_TYPE:
        raise ChunkError(msg("expected a string pool at {start}, found chunk type {ctype}",
                             start=start, ctype=format(ctype, '#x')))
    end = min(start + size, len(data))
    offsets_at = start + header_size
    # A tampered stringCount can claim more offsets than the chunk holds: read only what fits.
    count = min(count, max(0, (end - offsets_at) // 4))
    return start + strings_start, end, little_u32(data, offsets_at, count), bool(flags & UTF8_FLAG)


def _length(data: Buffer, pos: int, wide: bool) -> tuple[int, int]:
    """Read a 1-or-2 unit length prefix (high bit = two units); return (length, new position)."""
    if wide:
        first = struct.unpack_from("<H", data, pos)[0]
        if first & 0x8000:
            second = struct.unpack_from("<H", data, pos + 2)[0]
            return ((first & 0x7FFF) << 16) | second, pos + 4
        return first, pos + 2
    first = data[pos]
    if first & 0x80:
        return ((first & 0x7F) << 8) | data[pos + 1], pos + 2
    return first, pos + 1


def _decode_utf8(data: Buffer, pos: int, end: int) -> str:
    try:
        _chars, pos = _length(data, pos, False)
        nbytes, pos = _length(data, pos, False)
    except (IndexError, struct.error):
        return ""
    raw = bytes(data[pos : min(pos + nbytes, end)])
    return raw.decode("utf-8", errors="replace")


def _decode_utf16(data: Buffer, pos: int, end: int) -> str:
    try:
        nchars, pos = _length(data, pos, True)
    except (IndexError, struct.error):
        return ""
    # codecs.utf_16_le_decode is the C codec itself: bytes.decode("utf-16-le") goes through a Python
    # wrapper per call, which costs as much as the decoding for the thousands of short pool strings.
    return codecs.utf_16_le_decode(data[pos : min(pos + 2 * nchars, end)], "replace", True)[0]


class LazyPool:
    """A pool whose strings are decoded on first use (the resource table's value pool holds every
    string of every locale; a fast scan needs a few of them), and searched in its raw bytes."""

    def __init__(self, data: Buffer, base: int, end: int, offsets: Sequence[int], utf8: bool) -> None:
        self._data = data
        self._base = base
        self._end = end
        self._offsets = offsets
        self._utf8 = utf8
        self._decoded: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._offsets)

    def get(self, index: int) -> str:
        """The string at ``index``, or "" for an index outside the pool (tampered files use them)."""
        if not 0 <= index < len(self._offsets):
            return ""
        found = self._decoded.get(index)
        if found is None:
            decode = _decode_utf8 if self._utf8 else _decode_utf16
            found = self._decoded[index] = decode(self._data, self._base + self._offsets[index], self._end)
        return found

    def matching(self, words: tuple[str, ...]) -> frozenset[int]:
        """Indexes of the strings whose bytes may hold one of ``words`` (any case): the pool's string
        data is searched once, lower-cased, in the pool's own encoding; the caller checks the decoded
        candidates exactly. A hit belongs to the string that starts last at or before it."""
        if not self._offsets or not words:
            return frozenset()

        encoding = "utf-8" if self._utf8 else "utf-16-le"
        needles = tuple({form.encode(encoding).lower() for w in words for form in (w, w.lower(), w.upper())})
        hits = [h - self._base for h in find_all(self._data, needles, self._base, self._end, lowered=True)]
        # Strings lie in index order in every pool aapt and aapt2 write: the holder of a hit is found by
        # bisecting the offsets as they are, and confirmed by the hit lying within that string's bytes;
        # only a pool where that fails (out of order, gaps) pays for sorting all its offsets.
        held = holders_in_order(self._offsets, hits, self._holds)
        return frozenset(held if held is not None else holders_sorted(self._offsets, hits))

    def _holds(self, index: int, rel: int) -> bool:
        """Whether the bytes of string ``index`` (length prefix to terminator) hold pool offset ``rel``."""
        try:
            pos = self._base + self._offsets[index]
            if self._utf8:
                _chars, pos = _length(self._data, pos, False)
                nbytes, pos = _length(self._data, pos, False)
                span_end = pos + nbytes + 1
            else:
                nchars, pos = _length(self._data, pos, True)
                span_end = pos + 2 * nchars + 2
        except (IndexError, struct.error):
            return False
        return rel < span_end - self._base


def read_lazy_pool(data: Buffer, start: int) -> LazyPool:
    """The ResStringPool chunk at ``start``, its strings left undecoded."""
    base, end, offsets, utf8 = _pool_header(data, start)
    return LazyPool(data, base, end, offsets, utf8)
