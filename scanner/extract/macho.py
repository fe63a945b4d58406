"""Mach-O executables (iOS apps and frameworks), thin or FAT: the sections, the linked libraries and the
App Store encryption of each slice.

Format: Apple's <mach-o/loader.h> and <mach-o/fat.h> (https://github.com/apple-oss-distributions/xnu,
EXTERNAL_HEADERS/mach-o): a FAT header (big-endian ``0xcafebabe`` / ``0xcafebabf``, nfat_arch, then
{cputype, cpusubtype, offset, size, align}); a thin header (``0xfeedface`` / ``0xfeedfacf``,
little-endian on every iOS CPU) followed by ncmds load commands {cmd, cmdsize}: LC_SEGMENT(_64) with
its sections {sectname, segname, addr, size, offset …}, LC_LOAD_DYLIB / LC_LOAD_WEAK_DYLIB /
LC_REEXPORT_DYLIB {name offset …}, LC_ENCRYPTION_INFO(_64) {cryptoff, cryptsize, cryptid},
LC_CODE_SIGNATURE {dataoff, datasize} (the signature: scanner.extract.signing). Clang keeps
C strings in ``__TEXT,__cstring`` (UTF-8) and non-ASCII Objective-C literals in ``__TEXT,__ustring``
(UTF-16LE). Every offset is bounds-checked; a slice that does not parse is skipped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

FAT_MAGICS = (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf")
THIN_MAGICS = {b"\xce\xfa\xed\xfe": False, b"\xcf\xfa\xed\xfe": True}
LC_SEGMENT, LC_SEGMENT_64 = 0x1, 0x19
LC_DYLIBS = frozenset({0xC, 0x80000018, 0x8000001F})
LC_ENCRYPTION_INFO, LC_ENCRYPTION_INFO_64 = 0x21, 0x2C
LC_CODE_SIGNATURE = 0x1D
MAX_COMMANDS = 4096
MAX_SLICES = 16
MAX_SECTIONS = 1024
"""Sections read per slice: an app's binary has a few dozen; 1,600 segments of 255 sections each (a
4.5 MB file) made 408,000 of them, 16 times over through a FAT header pointing every slice at one."""
CPU_ARM64 = 0x0100000C
CODE_SECTIONS = frozenset({"__text", "__stubs", "__stub_helper", "__auth_stubs", "__init_offsets", "__unwind_info",
                           "__eh_frame"})
"""Sections of machine code and unwind tables: they hold no string literals."""


@dataclass(frozen=True, slots=True)
class Section:
    """One section of a slice, by file offset (relative to the start of the file)."""

    segment: str
    name: str
    offset: int
    size: int


@dataclass(frozen=True, slots=True)
class Slice:
    """One architecture of the binary."""

    offset: int
    size: int
    sections: tuple[Section, ...]
    dylibs: tuple[str, ...]
    encrypted: tuple[int, int] | None
    """(file offset, size) of the range App Store encryption (cryptid 1) makes unreadable."""
    cputype: int = 0
    signature: tuple[int, int] | None = None
    """(file offset, size) of the embedded code signature (LC_CODE_SIGNATURE's linkedit_data_command)."""

    def place(self, offset: int) -> str:
        """``__TEXT,__cstring+0x1f0`` for a file offset, or ``offset N`` outside every section."""
        for section in self.sections:
            if section.offset <= offset < section.offset + section.size:
                return f"{section.segment},{section.name}+{offset - section.offset:#x}"
        return f"offset {offset}"


def is_macho(head: bytes) -> bool:
    """A thin Mach-O, or a FAT header with a plausible slice count (a Java class file shares the magic)."""
    if head[:4] in THIN_MAGICS:
        return True
    return head[:4] in FAT_MAGICS and len(head) >= 8 and 0 < struct.unpack_from(">I", head, 4)[0] <= MAX_SLICES


def slices(data: bytes) -> list[Slice]:
    """Every slice that parses (a thin file is one slice)."""
    if data[:4] in FAT_MAGICS and len(data) >= 8:
        wide = data[:4] == FAT_MAGICS[1]
        count = min(struct.unpack_from(">I", data, 4)[0], MAX_SLICES)
        found = []
        seen: set[int] = set()  # each distinct slice once, however many FAT entries point at it
        for i in range(count):
            at = 8 + (32 if wide else 20) * i
            if at + (32 if wide else 20) > len(data):
                break
            if wide:
                offset, size = struct.unpack_from(">QQ", data, at + 8)
            else:
                offset, size = struct.unpack_from(">II", data, at + 8)
            if offset in seen:
                continue
            seen.add(offset)
            parsed = _thin(data, offset, min(size, len(data) - offset)) if offset < len(data) else None
            if parsed is not None:
                found.append(parsed)
        return found
    parsed = _thin(data, 0, len(data))
    return [parsed] if parsed is not None else []


def _thin(data: bytes, base: int, size: int) -> Slice | None:
    magic = data[base : base + 4]
    if magic not in THIN_MAGICS or size < 32:
        return None
    wide = THIN_MAGICS[magic]
    cputype = struct.unpack_from("<I", data, base + 4)[0]
    ncmds, sizeofcmds = struct.unpack_from("<II", data, base + 16)
    pos = base + (32 if wide else 28)
    end = min(pos + sizeofcmds, base + size)
    sections: list[Section] = []
    dylibs: list[str] = []
    encrypted: tuple[int, int] | None = None
    signature: tuple[int, int] | None = None
    for _ in range(min(ncmds, MAX_COMMANDS)):
        if pos + 8 > end:
            break
        cmd, cmdsize = struct.unpack_from("<II", data, pos)
        if cmdsize < 8 or pos + cmdsize > end:
            break
        if cmd in (LC_SEGMENT, LC_SEGMENT_64) and len(sections) < MAX_SECTIONS:
            found = _sections(data, pos, cmd == LC_SEGMENT_64, base, pos + cmdsize)
            sections.extend(found[: MAX_SECTIONS - len(sections)])
        elif cmd in LC_DYLIBS and cmdsize >= 24:
            name_at = pos + struct.unpack_from("<I", data, pos + 8)[0]
            if name_at < pos + cmdsize:
                dylibs.append(data[name_at : pos + cmdsize].split(b"\0", 1)[0].decode("utf-8", "replace"))
        elif cmd in (LC_ENCRYPTION_INFO, LC_ENCRYPTION_INFO_64) and cmdsize >= 20:
            cryptoff, cryptsize, cryptid = struct.unpack_from("<III", data, pos + 8)
            if cryptid:
                encrypted = (base + cryptoff, cryptsize)
        elif cmd == LC_CODE_SIGNATURE and cmdsize >= 16:
            dataoff, datasize = struct.unpack_from("<II", data, pos + 8)
            signature = (base + dataoff, datasize)
        pos += cmdsize
    return Slice(base, size, tuple(sections), tuple(dylibs), encrypted, cputype, signature)


def _sections(data: bytes, pos: int, wide: bool, base: int, end: int) -> list[Section]:
    head = 72 if wide else 56
    if pos + head > end:
        return []
    nsects = struct.unpack_from("<I", data, pos + (64 if wide else 48))[0]
    step = 80 if wide else 68
    found = []
    for i in range(min(nsects, 255)):
        at = pos + head + step * i
        if at + step > end:
            break
        name = data[at : at + 16].split(b"\0", 1)[0].decode("ascii", "replace")
        segment = data[at + 16 : at + 32].split(b"\0", 1)[0].decode("ascii", "replace")
        if wide:
            size, offset = struct.unpack_from("<QI", data, at + 40)
        else:
            size, offset = struct.unpack_from("<II", data, at + 36)
        found.append(Section(segment, name, base + offset, size))
    return found
