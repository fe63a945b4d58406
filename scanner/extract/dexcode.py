"""Which code loads a DEX string: the methods whose ``const-string`` / ``const-string/jumbo`` names it,
and the other strings those methods load, in instruction order.

A string in the DEX table has no context of its own; the code that loads it does. An about row built in
code (``row.setTitle("备案号"); row.setSummary("沪ICP备…号-3A")``) loads the label and the number in one
method, so the neighbours tell a reader where the number is shown even when the class names are
obfuscated. Only the few strings the caller asks about are looked up, so the cost stays near zero on a
DEX without them: one pattern search over the code section, then the class data only if it hit.

Format: https://source.android.com/docs/core/runtime/dex-format (header_item, map_list, class_def_item,
class_data_item, code_item) and https://source.android.com/docs/core/runtime/dalvik-bytecode (opcodes
0x1a ``const-string vAA, string@BBBB`` in format 21c, 0x1b ``const-string/jumbo vAA, string@BBBBBBBB``
in format 31c; instruction widths in https://source.android.com/docs/core/runtime/instruction-formats).
"""

from __future__ import annotations

import bisect
import contextlib
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scanner.extract.dex import string_at

TYPE_CODE_ITEM = 0x2001
TYPE_CLASS_DATA_ITEM = 0x2000
CONST_STRING = 0x1A
CONST_STRING_JUMBO = 0x1B
MAX_SITES = 4
"""Methods reported per string: a number loaded in more places than this is described by the first."""
MAX_INSNS = 1 << 20
"""Code units decoded per method (a hostile insns_size cannot make one method cost more)."""


def _widths() -> bytes:
    """Width in 16-bit code units of each opcode (instruction-formats: 10x/11x/12x = 1, 2x = 2 …)."""
    width = [1] * 256
    for op in (0x02, 0x05, 0x08, 0x13, 0x15, 0x16, 0x19, 0x1A, 0x1C, 0x1F, 0x20, 0x22, 0x23, 0x29, 0xFE, 0xFF):
        width[op] = 2
    for op in (0x03, 0x06, 0x09, 0x14, 0x17, 0x1B, 0x24, 0x25, 0x26, 0x2A, 0x2B, 0x2C, 0xFC, 0xFD):
        width[op] = 3
    width[0x18] = 5  # const-wide, 51l
    width[0xFA] = width[0xFB] = 4  # invoke-polymorphic(/range), 45cc / 4rcc
    for first, last, size in ((0x2D, 0x37, 2), (0x38, 0x3D, 2), (0x44, 0x6D, 2), (0x6E, 0x72, 3), (0x74, 0x78, 3),
                              (0x90, 0xAF, 2), (0xD0, 0xE2, 2)):
        for op in range(first, last + 1):
            width[op] = size
    return bytes(width)


_WIDTH = _widths()


@dataclass(frozen=True, slots=True)
class CodeSite:
    """One method that loads a string: its name and every string it loads, in instruction order."""

    method: str
    """``Lcom/example/AboutActivity;->onCreate``."""
    loads: tuple[int, ...]
    """string_ids indexes of every const-string in the method, in instruction order (repeats kept)."""


def code_sites(data: bytes, offsets: Sequence[int], targets: Iterable[int]) -> dict[int, tuple[CodeSite, ...]]:
    """For each target string index, the methods (at most MAX_SITES) that load it. ``offsets``: the
    string_ids table (scanner.extract.dex.string_offsets). Malformed code is skipped method by method;
    an unreadable header gives no sites."""
    wanted = sorted(set(targets))
    try:
        section = _code_section(data)
    except struct.error:
        return {}
    if not wanted or section is None:
        return {}
    candidates = _candidates(data, section, wanted)
    if not candidates:
        return {}
    try:
        methods = _Methods(data, offsets)
    except struct.error:
        return {}
    found: dict[int, list[CodeSite]] = {}
    decoded: dict[int, CodeSite | None] = {}
    for position, index in candidates:
        sites = found.setdefault(index, [])
        if len(sites) >= MAX_SITES:
            continue
        located = methods.containing(position)
        if located is None:
            continue
        code_off, method = located
        if code_off not in decoded:
            decoded[code_off] = methods.site(code_off, method)
        site = decoded[code_off]
        if site is not None and index in site.loads and site not in sites:
            sites.append(site)
    return {index: tuple(sites) for index, sites in found.items() if sites}


def _code_section(data: bytes) -> tuple[int, int] | None:
    """[start, end) of the code items, from the map_list; None when the DEX has no code."""
    return _section(data, TYPE_CODE_ITEM)


def _section(data: bytes, wanted: int) -> tuple[int, int] | None:
    """[start, end) of one map_list section (up to the next section); None when absent or unreadable."""
    try:
        map_off = struct.unpack_from("<I", data, 0x34)[0]
        size = struct.unpack_from("<I", data, map_off)[0]
        items = [struct.unpack_from("<HHII", data, map_off + 4 + 12 * i) for i in range(min(size, 64))]
    except struct.error:
        return None
    offsets = sorted(offset for *_, offset in items)
    for item_type, _unused, _count, offset in items:
        if item_type == wanted:
            later = [o for o in offsets if o > offset]
            return offset, min(later, default=len(data))
    return None


def _candidates(data: bytes, section: tuple[int, int], wanted: list[int]) -> list[tuple[int, int]]:
    """(position, string index) of every byte sequence in the code section that reads as a const-string
    of a wanted string; confirmed against the decoded method later (bytes can match by chance)."""
    short = [re.escape(struct.pack("<H", i)) for i in wanted if i <= 0xFFFF]
    jumbo = [re.escape(struct.pack("<I", i)) for i in wanted]
    alternatives = [b"\\x1b[\\x00-\\xff](?:" + b"|".join(jumbo) + b")"]
    if short:
        alternatives.append(b"\\x1a[\\x00-\\xff](?:" + b"|".join(short) + b")")
    pattern = re.compile(b"|".join(alternatives), re.DOTALL)
    start, end = section
    hits: list[tuple[int, int]] = []
    for match in pattern.finditer(data, start, end):
        position = match.start()
        if (position - start) % 2:  # instructions are 16-bit units inside 4-aligned code items
            continue
        fmt = "<I" if data[position] == CONST_STRING_JUMBO else "<H"
        hits.append((position, struct.unpack_from(fmt, data, position + 2)[0]))
    return hits


class _Methods:
    """Which method's code holds a position. Compilers (dx, d8) lay code items out in class order, so a
    binary search over the classes' first code offsets finds it by reading a few class_data items; a
    DEX laid out otherwise falls back to the whole class_data section, read once."""

    def __init__(self, data: bytes, strings: Sequence[int]) -> None:
        self.data = data
        self.strings = strings
        count, offset = struct.unpack_from("<II", data, 0x60)
        count = min(count, max(0, (len(data) - offset) // 32))
        # class_def_item is 8 u32 fields; class_data_off is the seventh (dex-format: class_def_item).
        fields = struct.unpack_from(f"<{8 * count}I", data, offset) if count else ()
        self.classes = [c for c in fields[6::8] if c]
        self.parsed: dict[int, list[tuple[int, int]]] = {}
        self.full: _MethodTable | None = None

    def containing(self, position: int) -> tuple[int, int] | None:
        """(code_off, method_idx) of the code item whose instructions hold ``position``."""
        found = self._search(position)
        if found is None:
            if self.full is None:
                self.full = _MethodTable(self.data)
            found = self.full.containing(position)
        return found

    def site(self, code_off: int, method_idx: int) -> CodeSite | None:
        try:
            return CodeSite(_method_name(self.data, self.strings, method_idx), _loads(self.data, code_off))
        except (IndexError, struct.error):
            return None

    def _methods(self, k: int) -> list[tuple[int, int]]:
        class_data = self.classes[k]
        if class_data not in self.parsed:
            out: dict[int, int] = {}
            with contextlib.suppress(IndexError, struct.error):  # a corrupt class costs its own methods
                _class_methods(self.data, class_data, out)
            self.parsed[class_data] = sorted(out.items())
        return self.parsed[class_data]

    def _first(self, k: int) -> int | None:
        methods = self._methods(k)
        return methods[0][0] if methods else None

    def _search(self, position: int) -> tuple[int, int] | None:
        lo, hi = 0, len(self.classes) - 1
        best = -1
        for _ in range(64):
            if lo > hi:
                break
            mid = (lo + hi) // 2
            probe = mid
            while probe <= hi and self._first(probe) is None:  # interfaces and abstract classes have no code
                probe += 1
                if probe - mid > 32:
                    return None
            first = self._first(probe) if probe <= hi else None
            if first is None or first > position:
                hi = mid - 1
            else:
                best, lo = probe, probe + 1
        for k in (best, best - 1, best + 1):
            if 0 <= k < len(self.classes):
                for code_off, method in self._methods(k):
                    if _holds(self.data, code_off, position):
                        return code_off, method
        return None


def _holds(data: bytes, code_off: int, position: int) -> bool:
    try:
        insns = struct.unpack_from("<I", data, code_off + 12)[0]
    except struct.error:
        return False
    return code_off + 16 <= position < code_off + 16 + 2 * insns


def _class_methods(data: bytes, pos: int, out: dict[int, int]) -> None:
    """Add the code_off -> method_idx of one class_data_item's direct and virtual methods."""
    sizes = []
    for _ in range(4):
        value, pos = _uleb128(data, pos)
        sizes.append(value)
    static_fields, instance_fields, direct, virtual = sizes
    if direct + virtual > len(data) // 3:  # each encoded method takes at least 3 bytes
        return
    for _ in range(2 * (static_fields + instance_fields)):
        _, pos = _uleb128(data, pos)
    for group in (direct, virtual):
        method = 0
        for _ in range(group):
            diff, pos = _uleb128(data, pos)
            _flags, pos = _uleb128(data, pos)
            code_off, pos = _uleb128(data, pos)
            method += diff
            if code_off:
                out[code_off] = method


class _MethodTable:
    """code_off -> method of every method with code, from the whole class_data section.

    The section is nothing but ULEB128 values back to back (dex-format: class_data_item, no alignment),
    so it is split into its values by one regular expression in C, then walked as a list of ints."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        by_code: dict[int, int] = {}
        section = _section(data, TYPE_CLASS_DATA_ITEM)
        if section is not None:
            _walk_class_data(_ulebs(data, *section), by_code)
        self.offsets = sorted(by_code)
        self.methods = by_code

    def containing(self, position: int) -> tuple[int, int] | None:
        k = bisect.bisect_right(self.offsets, position - 16) - 1
        if k >= 0 and _holds(self.data, self.offsets[k], position):
            return self.offsets[k], self.methods[self.offsets[k]]
        return None


_ULEB = re.compile(rb"[\x80-\xff]{0,4}[\x00-\x7f]")


def _ulebs(data: bytes, start: int, end: int) -> list[int]:
    """Every ULEB128 value in data[start:end], in order (most are one byte: read without a call)."""
    return [token[0] if len(token) == 1 else _multi(token) for token in _ULEB.findall(data, start, end)]


def _multi(token: bytes) -> int:
    value = 0
    for shift, byte in enumerate(token):
        value |= (byte & 0x7F) << (7 * shift)
    return value


def _walk_class_data(values: list[int], out: dict[int, int]) -> None:
    """Add code_off -> method_idx of every class_data_item in the section's values (a corrupt section
    stops the walk where its counts run past the end)."""
    pos, total = 0, len(values)
    while pos + 4 <= total:
        static_fields, instance_fields, direct, virtual = values[pos : pos + 4]
        pos += 4 + 2 * (static_fields + instance_fields)
        for group in (direct, virtual):
            if pos + 3 * group > total:
                return
            method = 0
            for k in range(pos, pos + 3 * group, 3):
                method += values[k]
                code_off = values[k + 2]
                if code_off:
                    out[code_off] = method
            pos += 3 * group


def _loads(data: bytes, code_off: int) -> tuple[int, ...]:
    """The string indexes of the method's const-string instructions, walking it instruction by instruction."""
    insns = min(struct.unpack_from("<I", data, code_off + 12)[0], MAX_INSNS)
    pos, end = code_off + 16, code_off + 16 + 2 * insns
    loads: list[int] = []
    while pos < end:
        op = data[pos]
        if op == CONST_STRING:
            loads.append(struct.unpack_from("<H", data, pos + 2)[0])
        elif op == CONST_STRING_JUMBO:
            loads.append(struct.unpack_from("<I", data, pos + 2)[0])
        elif op == 0 and data[pos + 1]:
            pos += 2 * _payload_units(data, pos)
            continue
        pos += 2 * _WIDTH[op]
    return tuple(loads)


def _payload_units(data: bytes, pos: int) -> int:
    """Width of a switch / array payload pseudo-instruction (dalvik-bytecode, packed-switch-payload …)."""
    ident = data[pos + 1]
    if ident == 1:
        return struct.unpack_from("<H", data, pos + 2)[0] * 2 + 4
    if ident == 2:
        return struct.unpack_from("<H", data, pos + 2)[0] * 4 + 2
    if ident == 3:
        width, size = struct.unpack_from("<HI", data, pos + 2)
        return (size * width + 1) // 2 + 4
    return 1


def _method_name(data: bytes, strings: Sequence[int], method_idx: int) -> str:
    """``Lpkg/Class;->name`` of a method_ids entry."""
    count, offset = struct.unpack_from("<II", data, 0x58)
    if method_idx >= count:
        raise IndexError(method_idx)
    class_idx, _proto, name_idx = struct.unpack_from("<HHI", data, offset + 8 * method_idx)
    types, types_off = struct.unpack_from("<II", data, 0x40)
    if class_idx >= types:
        raise IndexError(class_idx)
    descriptor = struct.unpack_from("<I", data, types_off + 4 * class_idx)[0]
    return f"{string_at(data, strings, descriptor)}->{string_at(data, strings, name_idx)}"


def _uleb128(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    for _ in range(5):
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
    return value, pos
