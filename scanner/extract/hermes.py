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

from scanner.extract.packed import little_u32
from scanner.extract.prefilter import find_all, find_every
from scanner.i18n import msg

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
        raise HermesError(msg("not Hermes bytecode (bad magic or short header)"))
    version = struct.unpack_from("<I", data, 8)[0]
    functions, kinds, identifiers, count, overflow_count, storage_size = struct.unpack_from("<6I", data, 40)
    if count > MAX_STRINGS:
        raise HermesError(msg("{count} strings: more than the {MAX_STRINGS} a bundle is read for",
                              count=count, MAX_STRINGS=MAX_STRINGS))
    # The function header size is the only version-dependent quantity before the strings (16 bytes up
    # to version 96, 12 from 97); an unknown future version tries both and keeps the one that fits.
    sizes = (16, 12) if version <= 96 else (12, 16)
    for size in sizes:
        found = _layout(version, functions * size, kinds, identifiers, count, overflow_count, storage_size)
        if found.storage + found.storage_size <= len(data) and _entries_fit(data, found):
            return found
    raise HermesError(msg("string table of bytecode version {version} does not fit the file", version=version))


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


@functools.lru_cache(maxsize=8)
def _byte_forms(words: tuple[str, ...]) -> tuple[bytes, ...]:
    """The words as found in ``bytes.lower()`` of the storage: ASCII ones as one-byte strings, every one
    in UTF-16LE (lowered the same way, so a match in the lowered bytes covers every case of the word)."""
    forms = {w.encode("ascii") for w in words if w.isascii()}
    for word in words:
        for variant in {word, word.lower(), word.upper()}:
            forms.add(variant.encode("utf-16-le").lower())
    return tuple(sorted(forms))


def anchored_ids(data: bytes, words: tuple[str, ...]) -> list[int]:
    """Ids of the strings that may hold one of ``words`` (lower-case), a superset of those that do: the
    storage is lower-cased as bytes (which lowers the ASCII letters of one-byte and of UTF-16 strings
    alike, and may merge other characters: more candidates, never fewer) and searched once in C; only
    when something is found are the strings holding a hit looked for (strings may share storage).
    HermesError when the table cannot be found."""
    found = table(data)
    # The storage's range searched lower-cased, piece by piece, in one automaton pass (scanner.extract.anchors).
    hits = [h - found.storage for h in find_all(data, _byte_forms(words), found.storage,
                                                 found.storage + found.storage_size, lowered=True)]
    if not hits or not found.count:
        return []
    small = _small_candidates(data, found, hits)
    overflow = _overflow_candidates(data, found, hits) if small is not None else None
    if small is None or overflow is None:
        return _by_layout(data, found, hits)
    chosen: list[int] = []
    for index in sorted(small | overflow):
        entry = _entry(data, found, index)
        if entry is None:
            continue
        _utf16, offset, size = entry
        k = bisect.bisect_left(hits, offset)
        if k < len(hits) and hits[k] < offset + size:
            chosen.append(index)
    return chosen


MAX_SMALL_BYTES = 2 * 254
"""The most bytes a small-table string spans (254 UTF-16 units; 255 marks an overflow entry): a string
holding a hit at storage offset h without an overflow entry starts in [h - 508, h]."""
MAX_BANDS = 4096
"""Past this many bands of the storage around the hits (hits all over a large bundle), the entries are
unpacked whole instead (``_by_layout``)."""


def _small_candidates(data: bytes, found: Table, hits: list[int]) -> set[int] | None:
    """Indexes of the small entries that may start within reach of a hit, None when the hits are too
    spread. A small entry is the u32 isUTF16:1 | offset:23 | length:8, so its bytes 1 and 2 are offset >> 7
    (little-endian): the table is searched for those two bytes at that place in a word (one pass in C,
    overlapping matches kept), never unpacked whole. Candidates are checked exactly by the caller."""
    bands = {k for h in hits for k in range(max(0, h - MAX_SMALL_BYTES) >> 7, (h >> 7) + 1)}
    # A small entry addresses 2**23 bytes (bands below 2**16); a string past that has an overflow entry.
    keys = tuple(struct.pack("<H", band) for band in sorted(bands) if band < 1 << 16)
    if len(keys) > MAX_BANDS:
        return None
    start = found.small
    return {(pos - start - 1) // 4 for pos in find_every(data, keys, start + 1, start + 4 * found.count)
            if (pos - start - 1) % 4 == 0}


def _overflow_candidates(data: bytes, found: Table, hits: list[int]) -> set[int] | None:
    """Indexes of the entries whose overflow pair {u32 offset, u32 length} may hold a hit, None when the
    hits are too spread. The pairs are searched like the small entries (bytes 1 to 3 of the offset are
    offset >> 8; the reach is the longest pair's length, twice for UTF-16), the few pairs holding a hit
    are kept, and the entries naming those slots (length byte 255) are found by their exact word."""
    if not found.overflow_count:
        return set()
    pairs = little_u32(data, found.overflow, 2 * found.overflow_count)  # as many as the file holds
    if len(pairs) < 2:  # a table cut short by the file's end before its first whole pair
        return set()
    reach = 2 * _longest(data, found.overflow, len(pairs) // 2)
    bands = {k for h in hits for k in range(max(0, h - reach) >> 8, (h >> 8) + 1)}
    if len(bands) > MAX_BANDS:
        return None
    keys = tuple(struct.pack("<I", band)[:3] for band in sorted(bands))
    start = found.overflow
    slots = {(pos - start - 1) // 8 for pos in find_every(data, keys, start + 1, start + 8 * found.overflow_count)
             if (pos - start - 1) % 8 == 0}
    held = [slot for slot in slots
            if 2 * slot + 1 < len(pairs) and _holds_hit(hits, pairs[2 * slot], 2 * pairs[2 * slot + 1])]
    words = tuple(struct.pack("<I", wide | slot << 1 | 0xFF << 24) for slot in held if slot < 1 << 23
                  for wide in (0, 1))
    start = found.small
    return {(pos - start) // 4 for pos in find_every(data, words, start, start + 4 * found.count)
            if (pos - start) % 4 == 0}


def _longest(data: bytes, start: int, count: int) -> int:
    """At least the largest length of the ``count`` overflow pairs {u32 offset, u32 length} at ``start``,
    and less than twice it: the highest byte of a length that is not zero in some pair, and the largest
    value that byte takes, found a byte column at a time in C (``max`` over the lengths in the
    interpreter is several times slower)."""
    end = start + 8 * count
    for lane in (3, 2, 1, 0):
        column = data[start + 4 + lane : end : 8]
        if column.count(0) != len(column):
            top = next(v for v in range(255, 0, -1) if bytes((v,)) in column)
            return ((top + 1) << (8 * lane)) - 1
    return 0


def _holds_hit(hits: list[int], offset: int, size: int) -> bool:
    k = bisect.bisect_left(hits, offset)
    return k < len(hits) and hits[k] < offset + size


def _by_layout(data: bytes, found: Table, hits: list[int], reach: int = 64) -> list[int]:
    """The strings holding the hits when they are all over the bundle: every entry unpacked, each hit
    mapped to the strings whose bytes hold it (up to ``reach`` earlier-starting strings checked)."""
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


def string_at(data: bytes, found: Table, index: int) -> str | None:
    """One string of the table, or None when its entry does not fit."""
    entry = _entry(data, found, index)
    if entry is None:
        return None
    utf16, offset, size = entry
    raw = data[found.storage + offset : found.storage + offset + size]
    return raw.decode("utf-16-le", errors="replace") if utf16 else raw.decode("latin-1")
