"""Which classes a DEX file defines, and their superclasses: looked up by name, never enumerated.

Format: https://source.android.com/docs/core/runtime/dex-format. ``string_ids`` are sorted by string
content and ``type_ids`` by string index (both "must be sorted" in the format's table), so a class
descriptor's type is found by two binary searches; ``class_defs`` (32 bytes each: class_idx,
access_flags, superclass_idx …) are then read as one array. A hostile file that breaks the order costs a
missed lookup, never an error: a class not found is reported as not defined.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TypeVar

from scanner.extract.dex import DEX_MAGIC, string_at, string_offsets
from scanner.extract.packed import little_u32
from scanner.extract.stringpool import ChunkError

NO_INDEX = 0xFFFFFFFF
"""superclass_idx of java.lang.Object (the format's NO_INDEX)."""
_CLASS_DEF_WORDS = 8
_Key = TypeVar("_Key", str, int)


def descriptor(name: str) -> str:
    """``com.example.App`` -> ``Lcom/example/App;`` (the type descriptor DEX stores)."""
    return "L" + name.replace(".", "/") + ";"


def dotted(desc: str) -> str:
    """``Lcom/example/App;`` -> ``com.example.App``."""
    return desc[1:-1].replace("/", ".") if desc.startswith("L") and desc.endswith(";") else desc


class DexIndex:
    """The class definitions of one DEX file, read once and asked about by name."""

    __slots__ = ("_data", "_offsets", "_supers", "_types", "classes", "strings")

    def __init__(self, data: bytes) -> None:
        """ChunkError (or struct.error) when the header or its tables do not fit."""
        self._data = data
        self._offsets = string_offsets(data)
        types_size, types_off = struct.unpack_from("<II", data, 0x40)
        classes_size, classes_off = struct.unpack_from("<II", data, 0x60)
        if types_off + 4 * types_size > len(data) or classes_off + 32 * classes_size > len(data):
            raise ChunkError("type_ids or class_defs run past the end of the file")
        self._types = little_u32(data, types_off, types_size)
        defs = little_u32(data, classes_off, classes_size * _CLASS_DEF_WORDS)
        # class_idx -> superclass_idx (built in C: a large app defines tens of thousands of classes)
        self._supers = dict(zip(defs[0::_CLASS_DEF_WORDS], defs[2::_CLASS_DEF_WORDS], strict=True))
        self.strings = len(self._offsets)
        self.classes = classes_size

    def superclass(self, name: str) -> str | None:
        """The dotted superclass of the dotted class ``name`` when this file defines it ("" for
        java.lang.Object itself); None when it does not."""
        type_idx = self._type_index(descriptor(name))
        if type_idx is None or type_idx not in self._supers:
            return None
        return self._type_name(self._supers[type_idx])

    def _type_index(self, desc: str) -> int | None:
        string_idx = _bisect(len(self._offsets), desc, lambda i: string_at(self._data, self._offsets, i))
        return None if string_idx is None else _bisect(len(self._types), string_idx, lambda i: self._types[i])

    def _type_name(self, type_idx: int) -> str:
        if type_idx == NO_INDEX or type_idx >= len(self._types):
            return ""
        try:
            return dotted(string_at(self._data, self._offsets, self._types[type_idx]))
        except IndexError:
            return ""


def is_dex(data: bytes) -> bool:
    """Whether ``data`` starts as a DEX file does."""
    return data.startswith(DEX_MAGIC)


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
