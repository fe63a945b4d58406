"""HarmonyOS ``resources.index``: every resource value with its name, type and qualifier.

Format (little-endian), from OpenHarmony global_resource_management (res_desc.h, hap_parser_v1.cpp,
hap_parser_v2.cpp; https://gitee.com/openharmony/global_resource_management):
- a 128-byte NUL-padded version string: ``Restool …`` is layout v1, ``RestoolV2 …`` (SDK 6) is v2;
- v1: u32 length, u32 keyCount, then keyCount × {"KEYS", u32 offset of its IDSS block, u32 paramCount,
  paramCount × {u32 type, u32 value}}; an IDSS block is {"IDSS", u32 count, count × {u32 id, u32
  offset}}, each item {u32 size, u32 resType, u32 id, u16 len + value (NUL-terminated), u16 len + name};
- v2: u32 length, u32 keyCount, u32 dataBlockOffset, keyCount × {"KEYS", u32 configId, u32 paramCount,
  params}; then {"IDSS", u32 length, u32 typeCount, u32 idCount}, typeCount × {u32 type, u32 length,
  u32 count, count × {u32 id, u32 offset, u32 nameLen, name}}; at an item's offset {u32 id, u32 length,
  u32 valueCount, valueCount × {u32 configId, u32 offset}}, each value u16 len + UTF-8 bytes.
Qualifier parameters: type 0 language, 1 region, 5 script (letters packed big-endian in the value).
Every count and offset is bounds-checked: a tampered index costs the entries it breaks, never more.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from scanner.extract.stringpool import ChunkError
from scanner.i18n import msg

STRING, STRING_ARRAY, PLURALS = 9, 10, 17
TEXT_TYPES = frozenset({STRING, STRING_ARRAY, PLURALS})
TYPE_NAMES = {STRING: "string", STRING_ARRAY: "strarray", PLURALS: "plural"}
MAX_ITEMS = 200_000
"""Entries read from one index (a real app has a few thousand)."""


@dataclass(frozen=True, slots=True)
class ResValue:
    """One text value: ``$string:name`` in a qualifier (``base``, ``zh_CN``, ``en_US``)."""

    res_id: int
    type_name: str
    name: str
    qualifier: str
    value: str
    item: int | None = None
    """Position inside a string array or plural, None for a plain string."""

    @property
    def pointer(self) -> str:
        """``$string:app_name [zh_CN]`` / ``$strarray:perms[1] [base]``."""
        item = f"[{self.item}]" if self.item is not None else ""
        return f"${self.type_name}:{self.name}{item} [{self.qualifier}]"


def version(data: bytes) -> str:
    """The index's version string (``Restool 5.0.1.011``, ``RestoolV2 6.1.0.003``)."""
    return data[:128].split(b"\0", 1)[0].decode("ascii", "replace")


def read_index(data: bytes) -> list[ResValue]:
    """Every string, string-array item and plural of the index."""
    if len(data) < 140:
        raise ChunkError(msg("resources.index is shorter than its header"))
    name = version(data)
    if name.split(" ", 1)[0] == "Restool":
        return list(_v1(data))
    if name.startswith("RestoolV2"):
        return list(_v2(data))
    raise ChunkError(msg("resources.index of an unknown layout ({name})", name=repr(name[:40])))


def qualifier(params: list[tuple[int, int]]) -> str:
    """``zh_CN`` style from the key parameters; ``base`` without language, script and region."""
    language = region = script = ""
    other = []
    for kind, value in params:
        text = value.to_bytes(4, "big").lstrip(b"\0").decode("ascii", "replace")
        if kind == 0:
            language = text
        elif kind == 1:
            region = text
        elif kind == 5:
            script = text
        else:
            other.append(f"{kind}:{value}")
    return "_".join([p for p in (language, script, region) if p] + other) or "base"


def _params(data: bytes, pos: int, count: int) -> tuple[list[tuple[int, int]], int]:
    count = min(count, max(0, (len(data) - pos) // 8), 64)
    return [struct.unpack_from("<II", data, pos + 8 * i) for i in range(count)], pos + 8 * count


def _v1(data: bytes) -> Iterator[ResValue]:
    _length, key_count = struct.unpack_from("<II", data, 128)
    pos = 136
    for _ in range(min(key_count, 4096)):
        if pos + 12 > len(data):
            return
        tag, offset, count = struct.unpack_from("<4sII", data, pos)
        if tag != b"KEYS":
            raise ChunkError(msg("resources.index: no KEYS record at {pos}", pos=pos))
        params, pos = _params(data, pos + 12, count)
        yield from _v1_block(data, offset, qualifier(params))


def _v1_block(data: bytes, offset: int, where: str) -> Iterator[ResValue]:
    if offset + 8 > len(data) or data[offset : offset + 4] != b"IDSS":
        return
    count = min(struct.unpack_from("<I", data, offset + 4)[0], (len(data) - offset - 8) // 8, MAX_ITEMS)
    for i in range(count):
        res_id, at = struct.unpack_from("<II", data, offset + 8 + 8 * i)
        if at + 16 > len(data):
            continue
        _size, res_type, _id = struct.unpack_from("<III", data, at)
        if res_type not in TEXT_TYPES:
            continue
        raw, after = _short(data, at + 12)
        name, _ = _short(data, after)
        yield from _values(res_id, res_type, _text(name), where, raw)


def _v2(data: bytes) -> Iterator[ResValue]:
    _length, key_count, _data_offset = struct.unpack_from("<III", data, 128)
    pos = 140
    configs: dict[int, str] = {}
    for _ in range(min(key_count, 4096)):
        if pos + 12 > len(data):
            break
        tag, config, count = struct.unpack_from("<4sII", data, pos)
        if tag != b"KEYS":
            raise ChunkError(msg("resources.index: no KEYS record at {pos}", pos=pos))
        params, pos = _params(data, pos + 12, count)
        configs[config] = qualifier(params)
    if pos + 16 > len(data) or data[pos : pos + 4] != b"IDSS":
        raise ChunkError(msg("resources.index: no IDSS header after the keys"))
    _tag, _ilen, type_count, _id_count = struct.unpack_from("<4sIII", data, pos)
    pos += 16
    seen = 0
    for _ in range(min(type_count, 64)):
        if pos + 12 > len(data):
            return
        res_type, _tlen, count = struct.unpack_from("<III", data, pos)
        pos += 12
        for _ in range(min(count, MAX_ITEMS - seen)):
            if pos + 12 > len(data):
                return
            res_id, offset, name_len = struct.unpack_from("<III", data, pos)
            name = _text(data[pos + 12 : pos + 12 + min(name_len, 4096)])
            pos += 12 + name_len
            seen += 1
            if res_type in TEXT_TYPES:
                yield from _v2_values(data, res_id, res_type, name, offset, configs)


def _v2_values(data: bytes, res_id: int, res_type: int, name: str, offset: int,
               configs: dict[int, str]) -> Iterator[ResValue]:
    if offset + 12 > len(data):
        return
    _id, _length, count = struct.unpack_from("<III", data, offset)
    count = min(count, (len(data) - offset - 12) // 8, 1024)
    for j in range(count):
        config, at = struct.unpack_from("<II", data, offset + 12 + 8 * j)
        raw, _ = _short(data, at)
        yield from _values(res_id, res_type, name, configs.get(config, f"config {config}"), raw)


def _short(data: bytes, at: int) -> tuple[bytes, int]:
    """A u16-length-prefixed byte string and the position after it ("" past the end)."""
    if at + 2 > len(data):
        return b"", len(data)
    length = struct.unpack_from("<H", data, at)[0]
    return data[at + 2 : at + 2 + length], at + 2 + length


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def _values(res_id: int, res_type: int, name: str, where: str, raw: bytes) -> Iterator[ResValue]:
    """A string, or the items of a string array / plural (u16-length-prefixed parts)."""
    type_name = TYPE_NAMES[res_type]
    if res_type == STRING:
        yield ResValue(res_id, type_name, name, where, _text(raw))
        return
    for item, part in enumerate(_parts(raw)):
        yield ResValue(res_id, type_name, name, where, part, item)


def _parts(raw: bytes) -> Iterator[str]:
    """The u16-length-prefixed strings of an array value (a leading total length is skipped when the
    value starts with it); plural items alternate quantity and text, and both are kept."""
    pos = 0
    if len(raw) >= 2 and struct.unpack_from("<H", raw, 0)[0] == len(raw) - 2:
        pos = 2
    while pos + 2 <= len(raw):
        length = struct.unpack_from("<H", raw, pos)[0]
        part = raw[pos + 2 : pos + 2 + length]
        pos += 2 + length
        text = _text(part)
        if text:
            yield text
