"""Which classes a DEX file defines, and their superclasses: looked up by name, never enumerated.

Format: https://source.android.com/docs/core/runtime/dex-format. ``string_ids`` are sorted by string
content and ``type_ids`` by string index (both "must be sorted" in the format's table), so a class
descriptor's type is found by two binary searches; ``class_defs`` (32 bytes each: class_idx,
access_flags, superclass_idx …) are then read as one array. A hostile file that breaks the order costs a
missed lookup, never an error: a class not found is reported as not defined.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from scanner.extract.dex import DEX_MAGIC, string_at, string_offsets
from scanner.extract.packed import little_u32
from scanner.extract.stringpool import ChunkError

NO_INDEX = 0xFFFFFFFF
"""superclass_idx of java.lang.Object (the format's NO_INDEX)."""
_CLASS_DEF_WORDS = 8
_Key = TypeVar("_Key", str, int)


@dataclass(frozen=True, slots=True)
class DexShape:
    """How much a DEX file holds (its header's counts), and the classes asked about that it defines."""

    strings: int
    classes: int
    defined: tuple[tuple[str, str], ...]
    """(class, superclass) in dotted form for each class asked about that this file defines, in the
    order asked; the superclass is "" for java.lang.Object itself."""


def descriptor(name: str) -> str:
    """``com.example.App`` -> ``Lcom/example/App;`` (the type descriptor DEX stores)."""
    return "L" + name.replace(".", "/") + ";"


def dotted(desc: str) -> str:
    """``Lcom/example/App;`` -> ``com.example.App``."""
    return desc[1:-1].replace("/", ".") if desc.startswith("L") and desc.endswith(";") else desc


def shape(data: bytes, names: Iterable[str]) -> DexShape:
    """The counts of ``data`` and which of the dotted class ``names`` it defines (with superclasses);
    ChunkError when the header or its tables do not fit."""
    offsets = string_offsets(data)
    types_size, types_off = struct.unpack_from("<II", data, 0x40)
    classes_size, classes_off = struct.unpack_from("<II", data, 0x60)
    if types_off + 4 * types_size > len(data) or classes_off + 32 * classes_size > len(data):
        raise ChunkError("type_ids or class_defs run past the end of the file")
    types = little_u32(data, types_off, types_size)
    defs = little_u32(data, classes_off, classes_size * _CLASS_DEF_WORDS)
    supers = dict(zip(defs[0::_CLASS_DEF_WORDS], defs[2::_CLASS_DEF_WORDS], strict=True))
    found: list[tuple[str, str]] = []
    for name in dict.fromkeys(names):
        type_idx = _type_index(data, offsets, types, descriptor(name))
        if type_idx is None or type_idx not in supers:
            continue
        found.append((name, _type_name(data, offsets, types, supers[type_idx])))
    return DexShape(len(offsets), classes_size, tuple(found))


def is_dex(data: bytes) -> bool:
    """Whether ``data`` starts as a DEX file does."""
    return data.startswith(DEX_MAGIC)


def _type_index(data: bytes, offsets: Sequence[int], types: Sequence[int], desc: str) -> int | None:
    string_idx = _bisect(len(offsets), desc, lambda i: string_at(data, offsets, i))
    if string_idx is None:
        return None
    return _bisect(len(types), string_idx, lambda i: types[i])


def _type_name(data: bytes, offsets: Sequence[int], types: Sequence[int], type_idx: int) -> str:
    if type_idx == NO_INDEX or type_idx >= len(types):
        return ""
    try:
        return dotted(string_at(data, offsets, types[type_idx]))
    except IndexError:
        return ""


def _bisect(size: int, wanted: _Key, read: Callable[[int], _Key]) -> int | None:
    """Index of ``wanted`` in a sorted table of ``size`` entries read by ``read`` (None when absent or
    when an entry cannot be read)."""
    low, high = 0, size
    while low < high:
        mid = (low + high) // 2
        try:
            value = read(mid)
        except IndexError:
            return None
        if value == wanted:
            return mid
        if value < wanted:
            low = mid + 1
        else:
            high = mid
    return None
