"""Hermes bytecode (React Native's ``index.android.bundle`` when Hermes is on): the string table.

Format (facebook/hermes, include/hermes/BCGen/HBC/BytecodeFileFormat.h and lib/BCGen/HBC/BCProvider.cpp,
bytecode versions 59 to 99): a 128-byte little-endian header (magic u64 0x1F1903C103BC1FC6, version
u32 at 8; functionCount, stringKindCount, identifierCount, stringCount, overflowStringCount and
stringStorageSize as u32 at 40 to 60), then 4-aligned segments: function headers (16 bytes each up to
version 96, 12 from 97), string kinds, identifier hashes, the small string table (u32 per string:
isUTF16:1, offset:23, length:8; length 255 means the offset indexes the overflow table of {offset,
length} pairs), the overflow table, and the string storage. Offsets are bytes into the storage; lengths
count characters (bytes for ASCII, UTF-16 code units otherwise). Strings may share storage (``-O``
packs one as the tail of another), so the table, not the storage blob, gives each string exactly.
"""

from __future__ import annotations

import bisect
import functools
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from scanner.extract.anchors import find_all

MAGIC = struct.pack("<Q", 0x1F1903C103BC1FC6)
HEADER_SIZE = 128
MAX_STRINGS = 4_000_000
"""Strings read from one bundle: a hostile count cannot make the table walk longer than this."""


class HermesError(ValueError):
    """The bytes are not a Hermes bundle whose string table can be read."""


@dataclass(frozen=True, slots=True)
class Table:
    """Where the string table of a bundle lies."""

    version: int
    count: int
    small: int
    overflow: int
    overflow_count: int
    storage: int
    storage_size: int


def is_hermes(data: bytes) -> bool:
    """Whether the bytes start with the Hermes bytecode magic."""
    return data[:8] == MAGIC


def table(data: bytes) -> Table:
    """The string table's layout; HermesError when no function-header size makes it fit the file."""
    if len(data) < HEADER_SIZE or not is_hermes(data):
        raise HermesError("not Hermes bytecode (bad magic or short header)")
    version = struct.unpack_from("<I", data, 8)[0]
    functions, kinds, identifiers, count, overflow_count, storage_size = struct.unpack_from("<6I", data, 40)
    if count > MAX_STRINGS:
        raise HermesError(f"{count} strings: more than the {MAX_STRINGS} a bundle is read for")
    # The function header size is the only version-dependent quantity before the strings (16 bytes up
    # to version 96, 12 from 97); an unknown future version tries both and keeps the one that fits.
    sizes = (16, 12) if version <= 96 else (12, 16)
    for size in sizes:
        found = _layout(version, functions * size, kinds, identifiers, count, overflow_count, storage_size)
        if found.storage + found.storage_size <= len(data) and _entries_fit(data, found):
            return found
    raise HermesError(f"string table of bytecode version {version} does not fit the file")


def _layout(version: int, function_bytes: int, kinds: int, identifiers: int, count: int, overflow_count: int,
            storage_size: int) -> Table:
    offset = _align(HEADER_SIZE + function_bytes)
    offset = _align(offset + 4 * kinds)
    offset = _align(offset + 4 * identifiers)
    small = offset
    overflow = _align(small + 4 * count)
    storage = _align(overflow + 8 * overflow_count)
    return Table(version, count, small, overflow, overflow_count, storage, storage_size)


def _align(offset: int) -> int:
    return (offset + 3) & ~3


def _entries_fit(data: bytes, found: Table) -> bool:
    """A sample of the entries lands inside the storage (a wrong layout reads noise that does not)."""
    step = max(1, found.count // 64)
    for index in range(0, found.count, step):
        entry = _entry(data, found, index)
        if entry is None:
            return False
    return True


def _entry(data: bytes, found: Table, index: int) -> tuple[bool, int, int] | None:
    """(is_utf16, storage offset, byte length) of one string, or None when it does not fit."""
    try:
        word = struct.unpack_from("<I", data, found.small + 4 * index)[0]
        utf16, offset, length = bool(word & 1), (word >> 1) & 0x7FFFFF, word >> 24
        if length == 0xFF:
            if offset >= found.overflow_count:
                return None
            offset, length = struct.unpack_from("<II", data, found.overflow + 8 * offset)
    except struct.error:
        return None
    size = 2 * length if utf16 else length
    if offset + size > found.storage_size:
        return None
    return utf16, offset, size


def strings(data: bytes) -> Iterator[tuple[int, str]]:
    """(string id, value) of every string of the table; entries that do not fit are skipped, so one
    corrupt entry costs one string. HermesError when the table itself cannot be found."""
    found = table(data)
    base = found.storage
    for index in range(found.count):
        entry = _entry(data, found, index)
        if entry is None:
            continue
        utf16, offset, size = entry
        raw = data[base + offset : base + offset + size]
        # ASCII strings are one byte a character; any other is UTF-16LE as a whole (ConsecutiveStringStorage).
        yield index, raw.decode("utf-16-le", errors="replace") if utf16 else raw.decode("latin-1")


_LOW_BIT = bytes(b & 1 for b in range(256))


def _layout_lists(data: bytes, found: Table) -> tuple[list[int], bytes, bytes, dict[int, int]]:
    """(storage offset, length field, is_utf16, {index: length} of overflow entries) of every string,
    unpacked in C where it can be (the length is the entry's top byte, the flag its lowest bit); an
    overflow entry's offset is resolved through the overflow table."""
    table_bytes = data[found.small : found.small + 4 * found.count]
    # Iterated in place: a list of the words beside the list of offsets would double the peak.
    offsets = [(w >> 1) & 0x7FFFFF for w in memoryview(table_bytes).cast("I")]
    lengths = table_bytes[3::4]
    long: dict[int, int] = {}
    if found.overflow_count:
        pairs = memoryview(data)[found.overflow : found.overflow + 8 * found.overflow_count].cast("I").tolist()
        at = lengths.find(0xFF)
        while at >= 0:
            slot = offsets[at]
            offsets[at], long[at] = (pairs[2 * slot], pairs[2 * slot + 1]) if slot < found.overflow_count else (0, 0)
            at = lengths.find(0xFF, at + 1)
    return offsets, lengths, table_bytes[0::4].translate(_LOW_BIT), long


@functools.lru_cache(maxsize=8)
def _byte_forms(words: tuple[str, ...]) -> tuple[bytes, ...]:
    """The words as found in ``bytes.lower()`` of the storage: ASCII ones as one-byte strings, every one
    in UTF-16LE (lowered the same way, so a match in the lowered bytes covers every case of the word)."""
    forms = {w.encode("ascii") for w in words if w.isascii()}
    for word in words:
        for variant in {word, word.lower(), word.upper()}:
            forms.add(variant.encode("utf-16-le").lower())
    return tuple(sorted(forms))


def anchored_ids(data: bytes, words: tuple[str, ...], reach: int = 64) -> list[int]:
    """Ids of the strings that may hold one of ``words`` (lower-case), a superset of those that do: the
    storage is lower-cased as bytes (which lowers the ASCII letters of one-byte and of UTF-16 strings
    alike, and may merge other characters: more candidates, never fewer) and searched once in C; only
    when something is found are the entries unpacked and each hit mapped to the strings whose bytes
    hold it (strings may share storage: up to ``reach`` earlier-starting strings are checked too).
    HermesError when the table cannot be found."""
    found = table(data)
    # The storage's range searched lower-cased, piece by piece, in one automaton pass (scanner.extract.anchors).
    hits = [h - found.storage for h in find_all(data, _byte_forms(words), found.storage,
                                                 found.storage + found.storage_size, lowered=True)]
    if not hits or not found.count:
        return []
    offsets, lengths, wide, long = _layout_lists(data, found)
    order = sorted(range(found.count), key=offsets.__getitem__)
    starts = [offsets[k] for k in order]
    limit = found.storage_size
    chosen: set[int] = set()
    for hit in hits:
        k = bisect.bisect_right(starts, hit) - 1
        for j in range(k, max(-1, k - reach), -1):
            index = order[j]
            offset = offsets[index]
            size = long.get(index, lengths[index]) << wide[index]
            if offset <= hit < offset + size <= limit:
                chosen.add(index)
    return sorted(chosen)


def string_at(data: bytes, found: Table, index: int) -> str | None:
    """One string of the table, or None when its entry does not fit."""
    entry = _entry(data, found, index)
    if entry is None:
        return None
    utf16, offset, size = entry
    raw = data[found.storage + offset : found.storage + offset + size]
    return raw.decode("utf-16-le", errors="replace") if utf16 else raw.decode("latin-1")
