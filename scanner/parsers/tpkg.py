"""ByteDance / Douyin mini-program packages (``TPKG``), read only when the header variant is certain.

filing-rules.md §5.3: two third-party readers disagree. Both put a 16-byte header before the index
(magic ``TPKG``, then little-endian u32 fields) and index entries {u32 name length, name, u32 offset,
u32 size}; one reads ``count`` from bytes 12..16, the other reads entries until the first entry's
offset. Both readings are tried; the package is read only when they lead to one consistent index
(names that look like paths, entries inside the file, in ascending order), else PKG001 says so.
"""

from __future__ import annotations

import struct

from scanner.i18n import msg
from scanner.model import Package, PackageInfo, PackageKind, ParseOptions
from scanner.parsers import wxapkg
from scanner.parsers.common import PackageUnreadable, Probe, Source, file_sha256

MAGIC = b"TPKG"
_HEADER_SIZE = 16
MAX_ENTRIES = 100_000


def _entry(data: bytes, pos: int) -> tuple[wxapkg.Entry, int] | None:
    if pos + 4 > len(data):
        return None
    name_len = struct.unpack_from("<I", data, pos)[0]
    end = pos + 4 + name_len
    if name_len == 0 or name_len > 4096 or end + 8 > len(data):
        return None
    try:
        name = data[pos + 4 : end].decode("utf-8")
    except UnicodeDecodeError:
        return None
    offset, size = struct.unpack_from("<II", data, end)
    if not name.isprintable() or offset + size > len(data) or offset < end:
        return None
    return wxapkg.Entry(name, offset, size), end + 8


def _by_count(data: bytes) -> list[wxapkg.Entry] | None:
    count = struct.unpack_from("<I", data, 12)[0]
    if count == 0 or count > MAX_ENTRIES:
        return None
    entries, pos = [], _HEADER_SIZE
    for _ in range(count):
        read = _entry(data, pos)
        if read is None:
            return None
        entries.append(read[0])
        pos = read[1]
    return entries


def _until_first_offset(data: bytes) -> list[wxapkg.Entry] | None:
    entries: list[wxapkg.Entry] = []
    pos = _HEADER_SIZE
    while not entries or pos < entries[0].offset:
        read = _entry(data, pos)
        if read is None or len(entries) >= MAX_ENTRIES:
            return None
        entries.append(read[0])
        pos = read[1]
    return entries if pos == entries[0].offset else None


def _consistent(entries: list[wxapkg.Entry] | None) -> bool:
    if not entries:
        return False
    offsets = [e.offset for e in entries]
    return offsets == sorted(offsets) and all(e.name.startswith("/") or "/" not in e.name[:1] for e in entries)


def read_index(data: bytes) -> list[wxapkg.Entry]:
    """The index when exactly one consistent reading exists (or both agree)."""
    if len(data) < _HEADER_SIZE or not data.startswith(MAGIC):
        raise PackageUnreadable(msg("not a TPKG package"))
    readings = [r for r in (_by_count(data), _until_first_offset(data)) if _consistent(r)]
    if not readings or (len(readings) == 2 and readings[0] != readings[1]):
        raise PackageUnreadable(msg("TPKG package of an unsupported header variant (the two documented layouts do not "
                                    "give one consistent index)"))
    return readings[0] or []


def sniff(probe: Probe) -> bool:
    """The TPKG magic."""
    return probe.head.startswith(MAGIC)


def parse(source: Source, options: ParseOptions) -> Package:
    """Read a TPKG package as a mini-program."""
    path = source.path
    data = wxapkg.read_package(path, options.limits.package_bytes)
    entries, anomalies = wxapkg.readable(read_index(data), len(data), options.limits)
    info = PackageInfo(path=path, format="tpkg", sha256=file_sha256(path))
    return Package(info, PackageKind.MINIPROGRAM, (), tuple(wxapkg.member_texts(data, entries)), tuple(anomalies),
                   wxapkg.privacy_config(data, entries))
