"""resources.arsc reader: every string value with its resource name and configuration.

Format: frameworks/base/libs/androidfw/include/androidfw/ResourceTypes.h (ResTable_header,
ResTable_package, ResTable_type, ResTable_entry, ResTable_map_entry, Res_value). Only what a scanner
needs is decoded: string values of simple entries and of bags (string-array, plurals, styles' items).
Sparse and 16-bit-offset types and compact entries (aapt2 --enable-compact-entries) are supported.
"""

from __future__ import annotations

import array
import bisect
import functools
import re
import struct
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from scanner.extract.packed import Buffer
from scanner.extract.prefilter import Prefilter, find_every
from scanner.extract.stringpool import ChunkError, LazyPool, read_lazy_pool, read_string_pool
from scanner.i18n import msg

RES_TABLE_TYPE = 0x0002
RES_TABLE_PACKAGE_TYPE = 0x0200
RES_TABLE_TYPE_TYPE = 0x0201
TYPE_STRING = 0x03
TYPE_REFERENCE = 0x01
FLAG_COMPLEX = 0x0001
FLAG_COMPACT = 0x0008
TYPE_FLAG_SPARSE = 0x01
TYPE_FLAG_OFFSET16 = 0x02
NO_ENTRY = 0xFFFFFFFF
_CHUNK = struct.Struct("<HHI")


@dataclass(frozen=True, slots=True)
class ResString:
    """One string value of the table."""

    res_id: int
    type_name: str
    key: str
    locale: str
    value: str
    item: int | None = None
    """Position inside a bag (string-array / plurals), None for a plain string."""

    @property
    def pointer(self) -> str:
        """``@string/about_icp [zh-rCN]`` / ``@array/perms[2] [default]``."""
        item = f"[{self.item}]" if self.item is not None else ""
        return f"@{self.type_name}/{self.key}{item} [{self.locale}]"


@dataclass(frozen=True, slots=True)
class TypeChunk:
    """Where one ResTable_type chunk (a type in one configuration) lies, read from its header only."""

    start: int
    end: int
    package_id: int
    type_id: int
    type_name: str
    locale: str
    flags: int
    count: int
    entries_at: int
    """Absolute offset of the entry offsets array."""
    entries_start: int
    """Absolute offset the entry offsets count from."""
    keys: Pool


class Pool(Protocol):
    """A string pool: decoded (StringPool) or decoded on use (LazyPool)."""

    def get(self, index: int) -> str: ...


@dataclass(frozen=True, slots=True)
class ResourceTable:
    """Strings of the table plus the lookups needed to resolve ``@string/`` references."""

    strings: tuple[ResString, ...]
    complete: bool = True
    """False when the table could not be walked and only the global string pool was read."""
    data: Buffer = b""
    chunks: tuple[TypeChunk, ...] = ()
    values_pool: Pool | None = None

    def values(self, res_id: int) -> list[ResString]:
        """Every configuration's string value of a resource id (plain strings only), read on demand
        from the chunks of its type: a fast read keeps only the strings that matter, but a layout may
        refer to any of them."""
        if self.values_pool is None:
            return [s for s in self.strings if s.res_id == res_id and s.item is None]
        package_id, type_id, index = res_id >> 24, (res_id >> 16) & 0xFF, res_id & 0xFFFF
        found: list[ResString] = []
        for chunk in self.chunks:
            if chunk.package_id != package_id or chunk.type_id != type_id:
                continue
            try:
                found.extend(s for s in _chunk_strings(self.data, chunk, self.values_pool, only=index)
                             if s.item is None)
            except (struct.error, IndexError):  # a tampered entry costs that value only
                continue
        return found


def read_table(data: Buffer, prefilter: Prefilter | None = None) -> ResourceTable:
    """Walk the table; fall back to the global string pool when the structure is broken. With a
    ``prefilter``, only the strings it keeps are decoded (the rest stay reachable through ``values``)."""
    if len(data) < 12:
        raise ChunkError(msg("resources.arsc is shorter than its header"))
    ctype, header_size, _size = _CHUNK.unpack_from(data, 0)
    if ctype != RES_TABLE_TYPE:
        raise ChunkError(msg("resources.arsc starts with chunk type {ctype}, not a resource table",
                             ctype=format(ctype, '#x')))
    global_pool: LazyPool | None = None
    chunks: list[TypeChunk] = []
    strings: list[ResString] = []
    try:
        for start, chunk_type, size in _chunks(data, header_size, len(data)):
            if chunk_type == 0x0001:
                global_pool = read_lazy_pool(data, start)
            elif chunk_type == RES_TABLE_PACKAGE_TYPE:
                chunks.extend(_package_chunks(data, start, size))
        values = global_pool or LazyPool(data, 0, 0, (), True)
        selection = _Selection(values, prefilter) if prefilter is not None else None
        for chunk in chunks:
            strings.extend(_chunk_strings(data, chunk, values) if selection is None else selection.kept(data, chunk))
    except (ChunkError, struct.error, IndexError) as exc:
        if strings:
            return ResourceTable(tuple(strings), complete=False)
        if global_pool is None or not len(global_pool):
            raise ChunkError(msg("resource table unreadable: {exc}", exc=exc)) from exc
        return _pool_only(global_pool)
    return ResourceTable(tuple(strings), True, data, tuple(chunks), values)


class _Selection:
    """The strings and keys a prefilter selects, searched once per pool for one read of the table."""

    def __init__(self, values: LazyPool, prefilter: Prefilter) -> None:
        self._prefilter = prefilter
        self._hits = values.matching(prefilter.words)
        self._keys: dict[int, frozenset[int]] = {}
        self._values = values

    def kept(self, data: Buffer, chunk: TypeChunk) -> Iterator[ResString]:
        """The chunk's strings the prefilter keeps, each checked exactly."""
        pool = chunk.keys
        keys = self._keys.get(id(pool))
        if keys is None:
            keys = self._keys[id(pool)] = (pool.matching(self._prefilter.marker_words)
                                           if isinstance(pool, LazyPool) else frozenset())
        for found in _chunk_strings(data, chunk, self._values, select=(self._hits, keys)):
            if self._prefilter.matters(found.value, found.key):
                yield found


def _pool_only(pool: LazyPool) -> ResourceTable:
    strings = tuple(ResString(0, "pool", str(i), "any", pool.get(i)) for i in range(len(pool)))
    return ResourceTable(strings, complete=False)


def _chunks(data: Buffer, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """Yield (offset, type, size) of consecutive chunks in [start, end)."""
    pos = start
    while pos + 8 <= end:
        ctype, _hsize, size = _CHUNK.unpack_from(data, pos)
        if size < 8 or pos + size > end:
            raise ChunkError(msg("chunk at {pos} has an impossible size {size}", pos=pos, size=size))
        yield pos, ctype, size
        pos += size


def _package_chunks(data: Buffer, start: int, size: int) -> Iterator[TypeChunk]:
    _ctype, header_size, _ = _CHUNK.unpack_from(data, start)
    package_id = struct.unpack_from("<I", data, start + 8)[0]
    type_strings_off, _, key_strings_off = struct.unpack_from("<III", data, start + 268)
    type_pool = read_string_pool(data, start + type_strings_off)
    key_pool = read_lazy_pool(data, start + key_strings_off)
    for pos, ctype, csize in _chunks(data, start + header_size, start + size):
        if ctype == RES_TABLE_TYPE_TYPE:
            _c, type_header, _s = _CHUNK.unpack_from(data, pos)
            type_id, flags, _res, count, entries_start = struct.unpack_from("<BBHII", data, pos + 8)
            yield TypeChunk(pos, pos + csize, package_id, type_id, type_pool.get(type_id - 1), _locale(data, pos + 20),
                            flags, count, pos + type_header, pos + entries_start, key_pool)


def _chunk_strings(data: Buffer, chunk: TypeChunk, values: Pool, only: int | None = None,
                   select: tuple[frozenset[int], frozenset[int]] | None = None) -> Iterator[ResString]:
    """The strings of one type chunk: all, one entry (``only``), or the entries whose value or bag item
    is a selected string or whose key is a selected key (``select``)."""
    entries: Iterable[tuple[int, int]]
    if only is not None:
        offset = _entry_offset(data, chunk, only)
        entries = [] if offset is None else [(only, offset)]
    elif select is not None:
        entries = _selected_entries(data, chunk, *select)
    else:
        entries = _entry_offsets(data, chunk.entries_at, chunk.count, chunk.flags, chunk.end)
    for index, offset in entries:
        at = chunk.entries_start + offset
        if at + 8 > chunk.end:
            continue
        res_id = (chunk.package_id << 24) | (chunk.type_id << 16) | index
        for key_index, item, value_index in _entry_values(data, at, chunk.end):
            if value_index is None:
                continue
            if select is not None and value_index not in select[0] and key_index not in select[1]:
                continue
            yield ResString(res_id, chunk.type_name, chunk.keys.get(key_index), chunk.locale, values.get(value_index),
                            item)


def _selected_entries(data: Buffer, chunk: TypeChunk, hits: frozenset[int], keys: frozenset[int]
                      ) -> list[tuple[int, int]]:
    """(index, offset) of the entries that may hold a selected string or key. A dense chunk of simple
    string entries (what aapt and aapt2 write for ``string``) is read as arrays in C: its values and
    keys are compared as sets, never entry by entry in Python; any other chunk is walked."""
    dense = _dense_strings(data, chunk)
    if dense is None:
        found = _searched_entries(data, chunk, hits) if not keys and len(hits) <= MAX_SEARCHED else None
        return found if found is not None else list(_entry_offsets(data, chunk.entries_at, chunk.count, chunk.flags,
                                                                   chunk.end))
    records, holes = dense
    # Record j is 16 bytes: ResTable_entry {size, flags, u32 key} then Res_value {size, res0, type, u32
    # data}: a selected string is its value at record offset 12, a selected key its key at offset 4. All
    # are found in one automaton pass over the records (in place, every occurrence), never by listing
    # every record's fields; an occurrence counts at its own field only.
    wanted = tuple(sorted({struct.pack("<I", v) for v in hits | keys}))
    chosen: set[int] = set()
    for pos in find_every(records, wanted):
        field = pos % 16
        if field in (4, 12):
            value = int.from_bytes(records[pos : pos + 4], "little")
            if value in (hits if field == 12 else keys):
                chosen.add(pos // 16)
    if not holes or not chosen:
        return [(j, 16 * j) for j in sorted(chosen)]
    # Entry j's index is where its offset 16 j is stored: the first 4-aligned place that word occurs.
    stored_at = ((_aligned_find(holes, struct.pack("<I", 16 * j)), 16 * j) for j in sorted(chosen))
    return [(at // 4, offset) for at, offset in stored_at if at >= 0]


def _aligned_find(data: bytes, word: bytes) -> int:
    """The first 4-aligned offset of ``word`` in ``data``, or -1."""
    pos = data.find(word)
    while pos >= 0 and pos % 4:
        pos = data.find(word, pos + 1)
    return pos


MAX_SEARCHED = 256
"""Up to this many selected strings, a chunk of bags is searched for them, not walked entry by entry."""


def _searched_entries(data: Buffer, chunk: TypeChunk, hits: frozenset[int]) -> list[tuple[int, int]] | None:
    """(index, offset) of the entries of a chunk whose string values (plain, bag item or compact) may be
    one of ``hits``: one regex pass over the chunk for the values' bytes (``Res_value`` {size 8, res0 0,
    TYPE_STRING, data} or a compact entry's {flags 0x0308, data}), each hit mapped to the entry holding
    it. None when the chunk's offsets are not plain 32-bit ones (sparse / 16-bit: walked instead)."""
    if chunk.flags:
        return None
    if not hits:
        return []
    count = min(chunk.count, max(0, (chunk.end - chunk.entries_at) // 4))
    offsets = struct.unpack_from(f"<{count}I", data, chunk.entries_at) if count else ()
    starts = sorted(set(offsets) - {NO_ENTRY})
    values = b"|".join(re.escape(struct.pack("<I", h)) for h in sorted(hits))
    pattern = re.compile(rb"(?:\x08\x00\x00\x03|\x08\x03)(?:" + values + rb")")
    found: set[int] = set()
    for match in pattern.finditer(data, chunk.entries_start, chunk.end):
        k = bisect.bisect_right(starts, match.start() - chunk.entries_start) - 1
        if k >= 0:
            found.add(starts[k])
    return sorted((offsets.index(off), off) for off in found)


@functools.lru_cache(maxsize=16)
def _dense_offsets(count: int) -> bytes:
    """The entry offsets of a dense chunk of ``count`` 16-byte entries (0, 16, 32 …), as stored: every
    locale's chunk of a type has the same count, so this is built once per type."""
    offsets = array.array("I", range(0, 16 * count, 16))  # in C: no argument tuple of `count` ints
    if sys.byteorder == "big":
        offsets.byteswap()
    return offsets.tobytes()


def _dense_strings(data: Buffer, chunk: TypeChunk) -> tuple[memoryview, bytes] | None:
    """(the records' bytes, the entry offsets as stored when they have holes, else b"") when the chunk's
    present entries are contiguous 16-byte simple string entries in index order, else None; checked with
    C-level compares and counts, never entry by entry."""
    if chunk.flags:
        return None
    count = min(chunk.count, max(0, (chunk.end - chunk.entries_at) // 4))
    stored = bytes(data[chunk.entries_at : chunk.entries_at + 4 * count])
    if stored == _dense_offsets(count):
        holes, n = b"", count  # no hole: record j is entry j (compared with memcmp, not unpacked)
    else:
        present = _present_dense(stored)
        if present is None:
            return None
        holes, n = stored, present
    end = chunk.entries_start + 16 * n
    if n == 0 or end > chunk.end:
        return None
    records = memoryview(data)[chunk.entries_start : end]  # in place: no copy of the table's records
    # Each record: ResTable_entry {u16 size = 8, u16 flags = 0, u32 key} and
    # Res_value {u16 size = 8, u8 res0 = 0, u8 dataType = TYPE_STRING (3), u32 data}: words 0 and 2 of
    # every record, gathered in C, must be 08 00 00 00 and 08 00 00 03.
    words = records.cast("B").cast("I") if _U32_ITEMS else None
    if words is None or words[0::4].tobytes() != _ENTRY_HEAD * n or words[2::4].tobytes() != _STRING_VALUE * n:
        return None
    return records, holes


_NO_ENTRY_BYTES = struct.pack("<I", NO_ENTRY)
_ENTRY_HEAD = b"\x08\x00\x00\x00"
_STRING_VALUE = b"\x08\x00\x00\x03"
_U32_ITEMS = array.array("I").itemsize == 4  # the strided gather copies items' bytes as stored: any byte order


def _present_dense(stored: bytes) -> int | None:
    """How many entries are present when the stored 32-bit offsets are 0, 16, 32 … in order with
    NO_ENTRY holes between them (another locale's chunk of a type that lacks some strings), else None.

    Checked on bytes: every offset below 2**24 has a zero top byte, so each word's top byte must be 00
    (present) or ff, and a word whose top byte is ff must be ff ff ff ff (a hole). Then no run of four ff
    bytes starts inside a present word, so removing every ff ff ff ff removes exactly the holes, and what
    remains must be the dense offsets."""
    if len(stored) * 4 >= 1 << 24:
        return None  # offsets up to 16 × count would no longer all have a zero top byte
    tops = stored[3::4]
    if tops.translate(None, b"\x00\xff"):
        return None
    holes = int.from_bytes(tops, "little")
    if any(int.from_bytes(stored[i::4], "little") & holes != holes for i in range(3)):
        return None
    present = stored.replace(_NO_ENTRY_BYTES, b"")
    n = len(present) // 4
    return n if present == _dense_offsets(n) else None


def _entry_offset(data: Buffer, chunk: TypeChunk, index: int) -> int | None:
    """The offset of one entry (None when the configuration has no such entry), read directly."""
    at, end = chunk.entries_at, chunk.end
    if chunk.flags & TYPE_FLAG_SPARSE:
        count = min(chunk.count, (end - at) // 4)
        low, high = 0, count  # entries are sorted by index: binary search
        while low < high:
            mid = (low + high) // 2
            found, off4 = struct.unpack_from("<HH", data, at + 4 * mid)
            if found == index:
                return off4 * 4
            low, high = (mid + 1, high) if found < index else (low, mid)
        return None
    if chunk.flags & TYPE_FLAG_OFFSET16:
        if index >= chunk.count or at + 2 * index + 2 > end:
            return None
        off4 = struct.unpack_from("<H", data, at + 2 * index)[0]
        return None if off4 == 0xFFFF else off4 * 4
    if index >= chunk.count or at + 4 * index + 4 > end:
        return None
    off = struct.unpack_from("<I", data, at + 4 * index)[0]
    return None if off == NO_ENTRY else off


def _entry_offsets(
    data: Buffer, at: int, count: int, flags: int, end: int
) -> Iterator[tuple[int, int]]:
    """(entry index, offset from entriesStart) for present entries, in the three encodings."""
    if flags & TYPE_FLAG_SPARSE:
        count = min(count, (end - at) // 4)
        for i in range(count):
            index, off4 = struct.unpack_from("<HH", data, at + 4 * i)
            yield index, off4 * 4
    elif flags & TYPE_FLAG_OFFSET16:
        count = min(count, (end - at) // 2)
        for i, (off4,) in enumerate(struct.iter_unpack("<H", data[at : at + 2 * count])):
            if off4 != 0xFFFF:
                yield i, off4 * 4
    else:
        count = min(count, (end - at) // 4)
        for i, (off,) in enumerate(struct.iter_unpack("<I", data[at : at + 4 * count])):
            if off != NO_ENTRY:
                yield i, off


def _entry_values(data: Buffer, at: int, end: int) -> Iterator[tuple[int, int | None, int | None]]:
    """(key index, bag item, value string index or None) for one ResTable_entry."""
    esize, eflags, key = struct.unpack_from("<HHI", data, at)
    if eflags & FLAG_COMPACT:
        # Compact entry: the key is in `size`, the data type in the high byte of `flags`, data in `key`.
        yield esize, None, key if (eflags >> 8) == TYPE_STRING else None
        return
    if not eflags & FLAG_COMPLEX:
        dtype, dvalue = struct.unpack_from("<xxxBI", data, at + esize)
        yield key, None, dvalue if dtype == TYPE_STRING else None
        return
    _parent, count = struct.unpack_from("<II", data, at + 8)
    pos = at + esize
    count = min(count, max(0, (end - pos) // 12))
    for item in range(count):
        dtype, dvalue = struct.unpack_from("<xxxBI", data, pos + 12 * item + 4)
        if dtype == TYPE_STRING:
            yield key, item, dvalue


def _locale(data: Buffer, at: int) -> str:
    """``zh-rCN`` style qualifier from a ResTable_config, or ``default``."""
    lang = _packed_code(bytes(data[at + 8 : at + 10]), ord("a"))
    region = _packed_code(bytes(data[at + 10 : at + 12]), ord("0"))
    if not lang:
        return "default"
    return f"{lang}-r{region}" if region else lang


def _packed_code(two: bytes, base: int) -> str:
    """Language/region: two ASCII letters, or three 5-bit letters packed when the high bit is set."""
    if len(two) < 2 or two == b"\0\0":
        return ""
    if two[0] & 0x80:
        first, second = two[1], two[0]
        letters = [first & 0x1F, ((second & 0x03) << 3) | (first >> 5), (second >> 2) & 0x1F]
        return "".join(chr(base + c) for c in letters)
    return two.decode("ascii", errors="replace")
