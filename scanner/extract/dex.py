"""DEX string table reader: ``string_ids`` -> ``string_data_item`` (MUTF-8), no class or method parsing.

Format: https://source.android.com/docs/core/runtime/dex-format (header_item: string_ids_size at 0x38,
string_ids_off at 0x3C; string_data_item: uleb128 utf16_size, then MUTF-8 bytes ending in NUL).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from scanner.extract.stringpool import ChunkError

DEX_MAGIC = b"dex\n"
_HEADER_SIZE = 0x70


def dex_strings(data: bytes) -> Iterator[tuple[int, str]]:
    """Yield (index, string) for every entry of the string table.

    Raises ChunkError when the header or the string_ids array does not fit the file; entries whose
    data offset is out of range are skipped, so one corrupt offset costs one string.
    """
    if len(data) < _HEADER_SIZE or not data.startswith(DEX_MAGIC):
        raise ChunkError("not a DEX file (bad magic or short header)")
    count, ids_off = struct.unpack_from("<II", data, 0x38)
    if ids_off + 4 * count > len(data):
        raise ChunkError(f"string_ids ({count} entries at {ids_off}) run past the end of the file")
    size = len(data)
    for index, (off,) in enumerate(struct.iter_unpack("<I", data[ids_off : ids_off + 4 * count])):
        if off >= size:
            continue
        pos = _skip_uleb128(data, off)
        end = data.find(b"\0", pos)
        if end < 0:
            end = size
        yield index, decode_mutf8(data[pos:end])


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
