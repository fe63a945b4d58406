"""DEX string table reader: ``string_ids`` -> ``string_data_item`` (MUTF-8), no class or method parsing.

Format: https://source.android.com/docs/core/runtime/dex-format (header_item: string_ids_size at 0x38,
string_ids_off at 0x3C; string_data_item: uleb128 utf16_size, then MUTF-8 bytes ending in NUL).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence

from scanner.extract.packed import holders_in_order, holders_sorted, little_u32
from scanner.extract.prefilter import Prefilter, find_all
from scanner.extract.stringpool import ChunkError
from scanner.i18n import msg

DEX_MAGIC = b"dex\n"
_HEADER_SIZE = 0x70


TYPE_STRING_DATA_ITEM = 0x2002


def string_offsets(data: bytes) -> Sequence[int]:
    """The string_data_item offset of every string_ids entry (an array: a DEX of a large app has 100,000+
    strings); ChunkError when the table does not fit."""
    if len(data) < _HEADER_SIZE or not data.startswith(DEX_MAGIC):
        raise ChunkError(msg("not a DEX file (bad magic or short header)"))
    count, ids_off = struct.unpack_from("<II", data, 0x38)
    if ids_off + 4 * count > len(data):
        raise ChunkError(msg("string_ids ({count} entries at {ids_off}) run past the end of the file",
                             count=count, ids_off=ids_off))
    return little_u32(data, ids_off, count)


def dex_strings(data: bytes, prefilter: Prefilter | None, offsets: Sequence[int] | None = None
                ) -> Iterator[tuple[int, str]]:
    """Yield (index, string) for the string table: every entry (``needles`` None), or every entry that
    holds an anchor. Entries whose data offset is out of range are skipped, so one corrupt offset costs
    one string. ``offsets``: the table's ``string_offsets``, when the caller has read them already."""
    if offsets is None:
        offsets = string_offsets(data)
    indexes = _interesting(data, offsets, prefilter) if prefilter is not None else range(len(offsets))
    for index in indexes:
        try:
            yield index, string_at(data, offsets, index)
        except IndexError:
            continue


def string_at(data: bytes, offsets: Sequence[int], index: int) -> str:
    """One string_ids entry, decoded; IndexError when the index or its data offset is out of range."""
    off = offsets[index]
    if off >= len(data):
        raise IndexError(index)
    pos = _skip_uleb128(data, off)
    end = data.find(b"\0", pos)
    return decode_mutf8(data[pos : end if end >= 0 else len(data)])


def _interesting(data: bytes, offsets: Sequence[int], prefilter: Prefilter) -> list[int]:
    """Indexes of the strings the INTERESTING pattern hits, in table order."""
    if not offsets:
        return []
    low, high = _string_data_section(data, offsets)
    # The lower-cased string-data section is searched for the anchors (scanner.extract.anchors; MUTF-8
    # equals UTF-8 for them); the strings holding none (identifiers, descriptors …) are never decoded.
    hits = list(find_all(data, prefilter.dex, low, high, lowered=True))

    def holds(index: int, pos: int) -> bool:
        # string_data_item: uleb128 length, then MUTF-8 up to a NUL (MUTF-8 writes U+0000 as C0 80).
        return data.find(b"\0", _skip_uleb128(data, offsets[index]), pos) < 0

    # Writers lay string data out in string_ids order, so bisecting the offsets as they are finds each
    # hit's string; only a reordered table pays for sorting them all.
    held = holders_in_order(offsets, hits, holds)
    return sorted(held if held is not None else holders_sorted(offsets, hits))


def _string_data_section(data: bytes, offsets: Sequence[int]) -> tuple[int, int]:
    """[start, end) of the string data: from the map_list when it is sound, else from the first string on."""
    try:
        map_off = struct.unpack_from("<I", data, 0x34)[0]
        size = struct.unpack_from("<I", data, map_off)[0]
        items = sorted(struct.unpack_from("<HHII", data, map_off + 4 + 12 * i) for i in range(min(size, 64)))
    except struct.error:
        return max(0, min(offsets)), len(data)
    sections = sorted(offset for _type, _unused, _size, offset in items)
    for item_type, _unused, _size, offset in items:
        if item_type == TYPE_STRING_DATA_ITEM:
            later = [o for o in sections if o > offset]
            return offset, min(later) if later else len(data)
    return max(0, min(offsets)), len(data)


def _skip_uleb128(data: bytes, pos: int) -> int:
    """Position after a ULEB128 value (at most 5 bytes)."""
    for _ in range(5):
        if pos >= len(data) or data[pos] < 0x80:
            return pos + 1
        pos += 1
    return pos


def decode_mutf8(raw: bytes) -> str:
    """Decode Modified UTF-8: plain UTF-8 except NUL as C0 80 and supplementary chars as surrogate pairs."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # CESU-8 style surrogate pairs and C0 80 need the slow path: decode as UTF-8 allowing surrogates,
    # then recombine the pairs through UTF-16.
    try:
        text = raw.replace(b"\xc0\x80", b"\x00").decode("utf-8", errors="surrogatepass")
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace")
    return text.encode("utf-16-le", errors="surrogatepass").decode("utf-16-le", errors="replace")
