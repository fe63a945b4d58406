"""resources.arsc reader: every string value with its resource name and configuration.

Format: frameworks/base/libs/androidfw/include/androidfw/ResourceTypes.h (ResTable_header,
ResTable_package, ResTable_type, ResTable_entry, ResTable_map_entry, Res_value). Only what a scanner
needs is decoded: string values of simple entries and of bags (string-array, plurals, styles' items).
Sparse and 16-bit-offset types and compact entries (aapt2 --enable-compact-entries) are supported.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from scanner.extract.stringpool import ChunkError, StringPool, read_string_pool

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
class ResourceTable:
    """Strings of the table plus the lookups needed to resolve ``@string/`` references."""

    strings: tuple[ResString, ...]
    names: dict[int, tuple[str, str]] = field(default_factory=dict)
    complete: bool = True
    """False when the table could not be walked and only the global string pool was read."""

    def values(self, res_id: int) -> list[ResString]:
        """Every configuration's string value of a resource id (plain strings only)."""
        return [s for s in self.strings if s.res_id == res_id and s.item is None]


def read_table(data: bytes) -> ResourceTable:
    """Walk the table; fall back to the global string pool when the structure is broken."""
    if len(data) < 12:
        raise ChunkError("resources.arsc is shorter than its header")
    ctype, header_size, _size = _CHUNK.unpack_from(data, 0)
    if ctype != RES_TABLE_TYPE:
        raise ChunkError(f"resources.arsc starts with chunk type {ctype:#x}, not a resource table")
    global_pool = StringPool(())
    strings: list[ResString] = []
    names: dict[int, tuple[str, str]] = {}
    try:
        for start, chunk_type, size in _chunks(data, header_size, len(data)):
            if chunk_type == 0x0001:
                global_pool = read_string_pool(data, start)
            elif chunk_type == RES_TABLE_PACKAGE_TYPE:
                strings.extend(_read_package(data, start, size, global_pool, names))
    except (ChunkError, struct.error, IndexError) as exc:
        if strings:
            return ResourceTable(tuple(strings), names, complete=False)
        if not global_pool.strings:
            raise ChunkError(f"resource table unreadable: {exc}") from exc
        return _pool_only(global_pool)
    return ResourceTable(tuple(strings), names)


def _pool_only(pool: StringPool) -> ResourceTable:
    strings = tuple(ResString(0, "pool", str(i), "any", s) for i, s in enumerate(pool.strings))
    return ResourceTable(strings, {}, complete=False)


def _chunks(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """Yield (offset, type, size) of consecutive chunks in [start, end)."""
    pos = start
    while pos + 8 <= end:
        ctype, _hsize, size = _CHUNK.unpack_from(data, pos)
        if size < 8 or pos + size > end:
            raise ChunkError(f"chunk at {pos} has an impossible size {size}")
        yield pos, ctype, size
        pos += size


def _read_package(
    data: bytes, start: int, size: int, values: StringPool, names: dict[int, tuple[str, str]]
) -> Iterator[ResString]:
    _ctype, header_size, _ = _CHUNK.unpack_from(data, start)
    package_id = struct.unpack_from("<I", data, start + 8)[0]
    type_strings_off, _, key_strings_off = struct.unpack_from("<III", data, start + 268)
    type_pool = read_string_pool(data, start + type_strings_off)
    key_pool = read_string_pool(data, start + key_strings_off)
    for pos, ctype, csize in _chunks(data, start + header_size, start + size):
        if ctype == RES_TABLE_TYPE_TYPE:
            yield from _read_type(data, pos, csize, package_id, type_pool, key_pool, values, names)


def _read_type(
    data: bytes,
    start: int,
    size: int,
    package_id: int,
    type_pool: StringPool,
    key_pool: StringPool,
    values: StringPool,
    names: dict[int, tuple[str, str]],
) -> Iterator[ResString]:
    _ctype, header_size, _ = _CHUNK.unpack_from(data, start)
    type_id, flags, _res, count, entries_start = struct.unpack_from("<BBHII", data, start + 8)
    type_name = type_pool.get(type_id - 1)
    locale = _locale(data, start + 20)
    end = start + size
    for index, offset in _entry_offsets(data, start + header_size, count, flags, end):
        at = start + entries_start + offset
        if at + 8 > end:
            continue
        res_id = (package_id << 24) | (type_id << 16) | index
        for key_index, item, value in _entry_strings(data, at, end, values):
            key = key_pool.get(key_index)
            names[res_id] = (type_name, key)
            if value is not None:
                yield ResString(res_id, type_name, key, locale, value, item)


def _entry_offsets(
    data: bytes, at: int, count: int, flags: int, end: int
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


def _entry_strings(
    data: bytes, at: int, end: int, values: StringPool
) -> Iterator[tuple[int, int | None, str | None]]:
    """(key index, bag item, string value or None) for one ResTable_entry."""
    esize, eflags, key = struct.unpack_from("<HHI", data, at)
    if eflags & FLAG_COMPACT:
        # Compact entry: the key is in `size`, the data type in the high byte of `flags`, data in `key`.
        yield esize, None, values.get(key) if (eflags >> 8) == TYPE_STRING else None
        return
    if not eflags & FLAG_COMPLEX:
        dtype, dvalue = struct.unpack_from("<xxxBI", data, at + esize)
        yield key, None, values.get(dvalue) if dtype == TYPE_STRING else None
        return
    _parent, count = struct.unpack_from("<II", data, at + 8)
    pos = at + esize
    count = min(count, max(0, (end - pos) // 12))
    yield key, None, None
    for item in range(count):
        dtype, dvalue = struct.unpack_from("<xxxBI", data, pos + 12 * item + 4)
        if dtype == TYPE_STRING:
            yield key, item, values.get(dvalue)


def _locale(data: bytes, at: int) -> str:
    """``zh-rCN`` style qualifier from a ResTable_config, or ``default``."""
    lang = _packed_code(data[at + 8 : at + 10], ord("a"))
    region = _packed_code(data[at + 10 : at + 12], ord("0"))
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
