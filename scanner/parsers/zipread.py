"""Zip reading that reads what Android reads, refuses what it must, and stays bounded.

Central directory: read in one call where the archive is plain (no comment, no ZIP64, nothing zipfile
would treat specially: ``_plain_directory``, held equal to zipfile by the tests), else the standard
``zipfile`` (ZIP64, comments, data descriptors); when it refuses the archive, apkInspector's lenient
parser (shipped with androguard 4). Members are read by our own code
from the local header on, because the tricks malware plays live there (peers-and-conventions.md §3):
- an unknown compression method is read as stored, as Android does;
- the encryption flag set on data that is not encrypted is ignored, as Android does;
- a local header whose name or sizes disagree with the central directory is read by the directory;
- a bad CRC is reported, not fatal; a deflate stream is read to its end even when sizes lie.
Every oddity becomes an Anomaly (PKG004), every cap hit a limit Anomaly (PKG003), and inflation is
streamed in 1 MB steps under the caps, so a zip bomb costs a bounded amount of memory and time.
Member names are labels only: nothing is ever written to disk.
"""

from __future__ import annotations

import contextlib
import io
import mmap
import os
import struct
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from scanner.extract.packed import Buffer
from scanner.i18n import msg
from scanner.model import Anomaly, AnomalyKind, Limits

if TYPE_CHECKING:
    import zipfile

Codec = tuple[Callable[[int], Any], tuple[type[Exception], ...]]
"""A deflate decoder: its ``decompressobj`` and the exceptions it raises on a bad stream."""

ZLIB: Codec = (zlib.decompressobj, (zlib.error,))
try:
    # ISA-L (Intel's storage acceleration library, through python-isal): the same deflate decoding and
    # CRC-32 as zlib, with SIMD: inflates 1.6-2.4x and checks CRCs 5-9x as fast as the system zlib on
    # DEX files and bundles. Where no wheel exists, zlib itself.
    from isal import isal_zlib

    FAST: Codec = (isal_zlib.decompressobj, (cast(type[Exception], isal_zlib.error),))
    crc32: Callable[[Buffer], int] = isal_zlib.crc32
except ImportError:  # pragma: no cover - platforms without a python-isal wheel
    FAST, crc32 = ZLIB, zlib.crc32

LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
LOCAL_MAGIC = b"PK\x03\x04"
STORED, DEFLATED = 0, 8
STEP = 1 << 20
READ_AHEAD = 64
"""Bytes read past a member's compressed size, in case the size lies a little."""
AT_ONCE_MAX = 64 << 20
"""Deflated members up to this declared size are inflated in one call (``Reader._inflate_at_once``)."""
WINDOW = 1 << 20
"""The file is read this much at a time when members are read in order (``Reader.read_in_order``)."""
NAME_GUESS = 96
"""Bytes read for a local header's name along with the header (a longer name is read again whole)."""
MAP_MIN = 4 << 20
"""Stored members from this size on are mapped from the file, not copied (``Reader.read_view``)."""


Archive = str | bytes
"""An archive on disk (its path) or in memory (a package nested in another, never written to disk)."""


def open_source(source: Archive) -> BinaryIO:
    """A binary file object for a path or for bytes."""
    return io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")


def source_size(source: Archive) -> int:
    """Size in bytes of a path or bytes."""
    return len(source) if isinstance(source, bytes) else os.path.getsize(source)


class ArchiveUnreadable(ValueError):
    """Neither zipfile nor the lenient parser finds a central directory."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One central-directory entry, whatever parser read it."""

    name: str
    header_offset: int
    method: int
    flags: int
    compressed_size: int
    size: int
    crc: int


@dataclass(frozen=True, slots=True)
class Member:
    """A member's inflated bytes (None when a cap refused it) and what was odd about it."""

    entry: Entry
    data: bytes | None
    anomalies: tuple[Anomaly, ...]


_shared = threading.local()


@contextlib.contextmanager
def shared_directories() -> Iterator[None]:
    """Within this scope a path's central directory is read once: format detection and the parser
    both need it, and a 20,000-member APK's directory takes 0.1 s to read. Scoped to one scan (not
    cached by path and mtime) so a file rewritten in place, as a fuzzer does, is never read stale."""
    outer = getattr(_shared, "directories", None)
    if outer is None:
        _shared.directories = {}
    try:
        yield
    finally:
        if outer is None:
            _shared.directories = None


def directory(path: Archive) -> tuple[list[Entry], list[Anomaly]]:
    """Every entry of the central directory (duplicates kept), and the archive-level anomalies."""
    remembered: dict[str, tuple[list[Entry], list[Anomaly]]] | None = getattr(_shared, "directories", None)
    if remembered is None or isinstance(path, bytes):
        return _directory(path)
    if path not in remembered:
        remembered[path] = _directory(path)
    entries, anomalies = remembered[path]
    return list(entries), list(anomalies)  # callers extend their lists: the remembered ones stay as read


def _directory(path: Archive) -> tuple[list[Entry], list[Anomaly]]:
    anomalies: list[Anomaly] = []
    try:
        with open_source(path) as handle:
            plain = _plain_directory(handle)
            entries = plain if plain is not None else _zipfile_directory(handle)
    except (_Refused, NotImplementedError, OSError, ValueError, struct.error, EOFError, KeyError, IndexError) as exc:
        entries = _lenient_directory(path, exc)
        anomalies.append(Anomaly(AnomalyKind.STRUCTURE, "", msg(
            "zipfile refused the central directory ({exc}); read leniently", exc=_cause(exc))))
    anomalies.extend(_name_anomalies(entries))
    anomalies.extend(_end_record_anomalies(path))
    return entries, anomalies


END_RECORD = struct.Struct("<4s4H2LH")
CENTRAL_HEADER = struct.Struct("<4s4B4HL2L5H2L")
END_MAGIC, CENTRAL_MAGIC, ZIP64_LOCATOR_MAGIC = b"PK\x05\x06", b"PK\x01\x02", b"PK\x06\x07"
MAX_EXTRACT_VERSION = 63
"""zipfile refuses entries that need a later version (NotImplementedError), so the plain reader defers."""


def _plain_directory(handle: BinaryIO) -> list[Entry] | None:
    """The central directory of a plain archive, read as ``zipfile`` reads it, in about half the time (a
    20,000-member H5 shell: 0.045 s against 0.085 s with the entries' anomalies, before the scan can start
    or fork); None for anything else, which ``zipfile`` then reads, refuses or leaves to the lenient
    parser. Plain (APPNOTE
    4.3.12, 4.3.16): the end record is the file's last 22 bytes (no archive comment), no ZIP64 locator
    before it, and every entry has the central magic, no ZIP64 extra field (id 0x0001), well-formed
    extra fields, a version zipfile reads, and a name without NUL that decodes as zipfile decodes it
    (UTF-8 with flag bit 11, else cp437, then UTF-8 where it is valid: ``_name``). The directory is read
    in one call and walked with ``unpack_from``; zipfile reads each entry's fields with separate calls
    and builds a ZipInfo. Offsets are shifted as zipfile shifts them when data precedes the archive."""
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    if size < END_RECORD.size + 20:
        return None
    handle.seek(size - END_RECORD.size - 20)
    tail = handle.read()
    if len(tail) != END_RECORD.size + 20 or tail[:4] == ZIP64_LOCATOR_MAGIC:
        return None
    magic, _disk, _start_disk, _here, _total, cd_size, cd_offset, comment = END_RECORD.unpack_from(tail, 20)
    if magic != END_MAGIC or comment:
        return None
    concat = size - END_RECORD.size - cd_size - cd_offset
    if cd_offset + concat < 0:
        return None
    handle.seek(cd_offset + concat)
    data = handle.read(cd_size)
    return _plain_entries(data, cd_size, concat)


def _plain_entries(data: bytes, cd_size: int, concat: int) -> list[Entry] | None:
    entries: list[Entry] = []
    unpack, fixed, end = CENTRAL_HEADER.unpack_from, CENTRAL_HEADER.size, len(data)
    at = 0
    while at < cd_size:
        if at + fixed > end:
            return None
        (magic, _made, _system, needed, _reserved, flags, method, _time, _date, crc, compressed, inflated,
         name_len, extra_len, comment_len, _volume, _internal, _external, offset) = unpack(data, at)
        if magic != CENTRAL_MAGIC or needed > MAX_EXTRACT_VERSION:
            return None
        name_end = at + fixed + name_len
        raw = data[at + fixed : name_end]
        if extra_len and not _plain_extra(data[name_end : name_end + extra_len]):
            return None
        name = raw.decode("ascii") if raw.isascii() and b"\0" not in raw else _plain_name(raw, flags)
        if name is None:
            return None
        entries.append(Entry(name, offset + concat, method, flags, compressed, inflated, crc))
        at = name_end + extra_len + comment_len
    return entries


def _plain_extra(extra: bytes) -> bool:
    """Extra fields zipfile reads without a change or an error: no ZIP64 field, none cut short."""
    while len(extra) >= 4:
        kind, length = struct.unpack_from("<HH", extra)
        if kind == 0x0001 or length + 4 > len(extra):
            return False
        extra = extra[length + 4 :]
    return True


def _plain_name(raw: bytes, flags: int) -> str | None:
    if b"\0" in raw:
        return None  # zipfile cuts the name there (and the local header keeps it): its reading stands
    if raw.isascii():
        return raw.decode("ascii")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # zipfile: UTF-8 with bit 11 (an invalid name makes it refuse the directory), else cp437
        return None if flags & 0x800 else raw.decode("cp437")


class _Refused(Exception):
    """zipfile's BadZipFile or LargeZipFile, in its words."""


def _zipfile_directory(handle: BinaryIO) -> list[Entry]:
    # Imported here, for the archives the plain reader leaves to it: zipfile brings shutil, pathlib, bz2
    # and lzma into every scan's start-up otherwise.
    import zipfile

    try:
        with zipfile.ZipFile(handle) as archive:
            return [Entry(_name(i), i.header_offset, i.compress_type, i.flag_bits, i.compress_size, i.file_size,
                          i.CRC) for i in archive.infolist()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise _Refused(str(exc)) from exc


def _name(info: zipfile.ZipInfo) -> str:
    """The entry name as the tool that wrote it meant it: without the UTF-8 flag (bit 11) zipfile reads
    names as cp437, but tools write UTF-8 regardless (IPAs from Chinese tools: ``µÄîµÅí.app`` is
    ``掌握.app``; Android reads every name as UTF-8), so a name that is valid UTF-8 is read as UTF-8."""
    if info.flag_bits & 0x800 or info.filename.isascii():
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


# What zipfile says when it refuses a central directory (its BadZipFile messages, CPython's Lib/zipfile),
# said in the reports' words; anything else it raises is shown as it is.
_ZIPFILE_SAYS = {
    "File is not a zip file": msg("no end-of-central-directory record"),
    "Bad magic number for central directory": msg("the central directory does not start where the end record says"),
    "Bad offset for central directory": msg("the end record points outside the file"),
    "Truncated central directory": msg("the central directory is cut short"),
    "zipfiles that span multiple disks are not supported": msg("an archive split over several disks"),
}


def _cause(exc: Exception) -> object:
    return _ZIPFILE_SAYS.get(str(exc), exc)


def _lenient_directory(path: Archive, cause: Exception) -> list[Entry]:
    from apkInspector.headers import CentralDirectory, EndOfCentralDirectoryRecord

    try:
        with open_source(path) as handle:
            eocd = EndOfCentralDirectoryRecord.parse(handle)
            found = CentralDirectory.parse(handle, eocd).entries.values()
            entries = [Entry(e.filename, e.relative_offset_of_local_file_header, e.compression_method,
                             e.general_purpose_bit_flag, e.compressed_size, e.uncompressed_size,
                             e.crc32_of_uncompressed_data) for e in found]
    except Exception as exc:  # the lenient parser has its own failure modes; either way: not a zip
        raise ArchiveUnreadable(msg("not a readable zip archive ({cause})", cause=_cause(cause))) from exc
    if not entries:
        raise ArchiveUnreadable(msg("not a readable zip archive ({cause})", cause=_cause(cause)))
    return entries


def _name_anomalies(entries: list[Entry]) -> list[Anomaly]:
    out: list[Anomaly] = []
    seen: set[str] = set()
    for entry in entries:
        name = entry.name
        if name in seen:
            out.append(Anomaly(AnomalyKind.STRUCTURE, name, msg("duplicate entry name: both copies are scanned")))
        seen.add(name)
        if "\0" in name or (".." in name and ".." in name.split("/")) or name.startswith("/"):
            out.append(Anomaly(AnomalyKind.STRUCTURE, name, msg("entry name with NUL, '..' or a leading '/'")))
    return out


def _end_record_anomalies(path: Archive) -> list[Anomaly]:
    """Several end-of-central-directory records or a huge comment (tools disagree which one wins)."""
    size = source_size(path)
    with open_source(path) as handle:
        handle.seek(max(0, size - (1 << 16) - 22))
        tail = handle.read()
    count = tail.count(b"PK\x05\x06")
    out = []
    if count > 1:
        out.append(Anomaly(AnomalyKind.STRUCTURE, "", msg("{count} end-of-central-directory records", count=count)))
    last = tail.rfind(b"PK\x05\x06")
    if last >= 0 and len(tail) - last - 22 > 4096:
        out.append(Anomaly(AnomalyKind.STRUCTURE, "", msg("archive comment of {size} bytes",
                                                          size=len(tail) - last - 22)))
    return out


def before_directory(path: Archive, limit: int) -> bytes:
    """Up to ``limit`` bytes right before the central directory, as the end record places it: where a
    signing block lives (APK Signature Scheme v2, https://source.android.com/docs/security/features/
    apksigning/v2: "inserted immediately before the ZIP Central Directory"; the quick app's and the
    HarmonyOS hap sign block likewise). The end record is found as apksig finds it: the last one whose
    comment runs exactly to the end of the file. Empty when there is none."""
    size = source_size(path)
    with open_source(path) as handle:
        start = max(0, size - (1 << 16) - END_RECORD.size)
        handle.seek(start)
        tail = handle.read()
        at = tail.rfind(END_MAGIC)
        while at >= 0 and not (at + END_RECORD.size <= len(tail)
                               and at + END_RECORD.size + END_RECORD.unpack_from(tail, at)[7] == len(tail)):
            at = tail.rfind(END_MAGIC, 0, at)
        if at < 0:
            return b""
        cd_offset = END_RECORD.unpack_from(tail, at)[6]
        if cd_offset > start + at:
            return b""
        handle.seek(max(0, cd_offset - limit))
        return handle.read(min(limit, cd_offset))


MIB = 1024 * 1024


def over_ratio(inflated: int, compressed: int, limits: Limits) -> bool:
    """Past the ratio floor and more than ``limits.ratio`` times the compressed bytes read."""
    return inflated > limits.ratio_floor_bytes and inflated > limits.ratio * max(1, compressed)


class Budget:
    """The package-wide inflated total, shared by the readers of one package (one per thread)."""

    def __init__(self, observer: Callable[[int], None] | None = None) -> None:
        self._lock = threading.Lock()
        self.inflated = 0
        self._observer = observer
        self._owners: dict[tuple[object, int], str] = {}

    def claim(self, offset: tuple[object, int], name: str) -> str | None:
        """Mark the data at a local header ``offset`` as ``name``'s; the other entry's name when another
        entry claimed it first (a directory may point any number of entries at one stream: 60,000 at one
        4 MB stream inflated it again for each)."""
        with self._lock:
            owner = self._owners.setdefault(offset, name)
        return None if owner == name else owner

    def claimed(self, offset: tuple[object, int], name: str) -> bool:
        """Whether another entry than ``name`` claimed the data at ``offset``."""
        owner = self._owners.get(offset)
        return owner is not None and owner != name

    def spend(self, amount: int) -> None:
        """Count bytes a reader inflated."""
        with self._lock:
            self.inflated += amount

    def observe(self, amount: int) -> None:
        """Report progress (bytes read or inflated) to the observer of the scan, if any."""
        if self._observer is not None:
            self._observer(amount)


class Reader:
    """Reads members of one archive under the limits. Each thread needs its own Reader (its own file
    position); readers of one package share a Budget."""

    def __init__(self, path: Archive, limits: Limits, budget: Budget | None = None) -> None:
        self._source = path
        self._handle = open_source(path)
        self._size = source_size(path)
        self._limits = limits
        self._budget = budget or Budget()
        self._window: tuple[int, memoryview] | None = None  # (file offset, bytes) while reading in order

    @property
    def source(self) -> Archive:
        """The archive this reader reads (a path, or bytes in memory)."""
        return self._source

    @property
    def inflated(self) -> int:
        """Bytes inflated so far by every reader of the package."""
        return self._budget.inflated

    def close(self) -> None:
        """Close the file."""
        self._handle.close()

    def _place(self, entry: Entry) -> tuple[object, int]:
        """Where an entry's data is: this archive (a path, or the bytes of a nested one) and the offset
        of its local header (readers of nested archives share the budget, not their offsets)."""
        return (self._source if isinstance(self._source, str) else id(self._source), entry.header_offset)

    def read(self, entry: Entry) -> Member:
        """One member, or None data with a limit anomaly when a cap refused it."""
        data, anomalies = self._read(entry, mapped=False)
        return Member(entry, cast(bytes | None, data), anomalies)  # never a view unless mapped

    def read_in_order(self, entries: Iterable[Entry]) -> Iterator[Member]:
        """``read`` for each entry, in the order of their local headers in the file (not the given one),
        the file read ``WINDOW`` bytes at a time: the headers and data of small members lie one after
        another, and reading each header, name and stream with its own call cost three system calls a
        member (20,000 members of an H5 shell: 60,000 reads, a fifth of the time spent reading them)."""
        try:
            for entry in sorted(entries, key=lambda e: e.header_offset):
                member = self._read_in_window(entry)
                if member is None:
                    data, anomalies = self._read(entry, mapped=False, windowed=True)
                    member = Member(entry, cast(bytes | None, data), anomalies)
                yield member
        finally:
            self._window = None

    def _read_in_window(self, entry: Entry) -> Member | None:
        """The usual small member read in order, in one step: a deflated member whose local header, name
        and stream lie in the window, within the caps, agreeing with the directory, its stream ending at
        the declared size with the declared CRC. None for anything else, which ``_read`` then reads and
        says what is odd about; nothing here notes an anomaly. Ten calls a member made a fifth of the
        time of reading an H5 shell's 20,000 members (test: reading in order reads what reading one by
        one reads)."""
        window = self._window
        if (window is None or entry.method != DEFLATED or entry.flags & 0x1 or not self._fits(entry)
                or self._budget.claimed(self._place(entry), entry.name)):
            return None
        base, view = window
        at = entry.header_offset - base
        if at < 0 or at + LOCAL_HEADER.size > len(view):
            return None
        magic, _version, _flags, method, _time, _date, _crc, _packed, _size, name_len, extra_len = \
            LOCAL_HEADER.unpack_from(view, at)
        name_at = at + LOCAL_HEADER.size
        start = name_at + name_len + extra_len
        if (magic != LOCAL_MAGIC or method != DEFLATED or extra_len > 4096
                or start + entry.compressed_size > len(view)
                or str(view[name_at : name_at + name_len], "utf-8", "replace") != entry.name):
            return None
        data = self._inflate_at_once(FAST, entry, base + start, windowed=True)
        if data is None or crc32(data) != entry.crc:
            return None
        self._budget.claim(self._place(entry), entry.name)
        self._budget.spend(len(data))
        return Member(entry, data, ())

    def read_view(self, entry: Entry) -> tuple[Buffer | None, tuple[Anomaly, ...]]:
        """Like ``read``, but a stored member of ``MAP_MIN`` bytes or more of a file on disk (the resource
        table: Android 11 requires it stored, and large apps' tables run to tens of MB) comes as a
        read-only view of the file mapped into memory: the page cache read in place, no copy into fresh
        memory and its page faults (16,000 for a 65 MB table, a third of the scan's system time). The view
        keeps the mapping alive; it is unmapped when the last view goes. A file truncated while mapped
        would fault on access, which is why only this member, read at once, is mapped."""
        return self._read(entry, mapped=True)

    def _bytes_at(self, offset: int, length: int, windowed: bool) -> Buffer:
        """``length`` bytes of the file from ``offset`` (fewer at its end); ``windowed``: from the window
        read ahead when they lie in it, else a new window is read from ``offset`` for a short run."""
        window = self._window
        if window is not None and window[0] <= offset and offset + length <= window[0] + len(window[1]):
            return window[1][offset - window[0] : offset - window[0] + length]
        self._handle.seek(offset)
        if not windowed or length > WINDOW // 4:
            return self._handle.read(length)
        data = memoryview(self._handle.read(WINDOW))
        self._window = (offset, data)
        return data[:length]

    def _read(self, entry: Entry, mapped: bool, windowed: bool = False) -> tuple[Buffer | None, tuple[Anomaly, ...]]:
        anomalies: list[Anomaly] = []
        owner = self._budget.claim(self._place(entry), entry.name)
        if owner is not None:
            anomalies.append(Anomaly(AnomalyKind.STRUCTURE, entry.name, msg("the directory points it at the data of "
                                                                            "{owner}: read once, as that entry",
                                                                            owner=repr(owner))))
            return None, tuple(anomalies)
        if self.inflated >= self._limits.package_bytes and (entry.size or entry.compressed_size):
            # The budget is spent: refused as it is, not after inflating a step to find out.
            self._refuse(entry, msg("package exceeds the {package_bytes}-byte inflated limit",
                                    package_bytes=self._limits.package_bytes), anomalies)
            return None, tuple(anomalies)
        start = self._data_offset(entry, anomalies, windowed)
        if start is None:
            return None, tuple(anomalies)
        if entry.flags & 0x1:
            anomalies.append(Anomaly(
                AnomalyKind.STRUCTURE, entry.name, msg("encryption flag set; read as not encrypted, as Android does")))
        if entry.method == DEFLATED:
            data, sound = self._inflate(entry, start, anomalies, windowed)
            if data is not None and not sound:
                anomalies.append(Anomaly(AnomalyKind.STRUCTURE, entry.name,
                                         msg("CRC-32 does not match the central directory")))
            return data, tuple(anomalies)
        if entry.method != STORED:
            anomalies.append(Anomaly(
                AnomalyKind.STRUCTURE, entry.name, msg("unknown compression method {method}; read as stored, as "
                                                       "Android does", method=entry.method)))
        stored: Buffer | None = self._stored(entry, start, anomalies, mapped, windowed)
        if stored is not None and crc32(stored) != entry.crc:
            anomalies.append(Anomaly(AnomalyKind.STRUCTURE, entry.name, msg("CRC-32 does not match the central "
                                                                            "directory")))
        return stored, tuple(anomalies)

    def _data_offset(self, entry: Entry, anomalies: list[Anomaly], windowed: bool = False) -> int | None:
        if not 0 <= entry.header_offset < self._size:
            anomalies.append(Anomaly(
                AnomalyKind.UNREADABLE, entry.name, msg("local header offset {header_offset} is outside the file",
                                                        header_offset=entry.header_offset)))
            return None
        # the header and the name at once: names are short, a longer one is read again whole
        header = self._bytes_at(entry.header_offset, LOCAL_HEADER.size + NAME_GUESS, windowed)
        if len(header) < LOCAL_HEADER.size or header[:4] != LOCAL_MAGIC:
            anomalies.append(Anomaly(AnomalyKind.UNREADABLE, entry.name, msg("no local header where the directory "
                                                                             "points")))
            return None
        fields = LOCAL_HEADER.unpack_from(header)
        name_len, extra_len = fields[9], fields[10]
        if name_len > NAME_GUESS:
            header = self._bytes_at(entry.header_offset, LOCAL_HEADER.size + name_len, windowed)
        local_name = str(header[LOCAL_HEADER.size : LOCAL_HEADER.size + name_len], "utf-8", "replace")
        if extra_len > 4096:
            anomalies.append(Anomaly(AnomalyKind.STRUCTURE, entry.name, msg("local extra field of {extra_len} bytes",
                                                                            extra_len=extra_len)))
        if local_name != entry.name:
            anomalies.append(Anomaly(AnomalyKind.STRUCTURE, entry.name, msg("local header names the entry "
                                                                            "{local_name}; read by the central "
                                                                            "directory", local_name=repr(local_name))))
        if fields[3] != entry.method:  # the central directory wins, as in Android's reader
            anomalies.append(Anomaly(AnomalyKind.STRUCTURE, entry.name, msg("local and central compression methods "
                                                                            "differ")))
        return entry.header_offset + LOCAL_HEADER.size + name_len + extra_len

    def _refuse(self, entry: Entry, reason: str, anomalies: list[Anomaly]) -> None:
        anomalies.append(Anomaly(AnomalyKind.LIMIT, entry.name, reason))

    def _mapped(self, start: int, length: int) -> memoryview | None:
        """``length`` bytes of the file from ``start``, mapped read-only (offsets must be multiples of the
        allocation granularity, so the map starts at the boundary before ``start``)."""
        base = start - start % mmap.ALLOCATIONGRANULARITY
        try:
            mapping = mmap.mmap(self._handle.fileno(), start - base + length, access=mmap.ACCESS_READ, offset=base)
        except (OSError, ValueError, io.UnsupportedOperation):
            return None
        return memoryview(mapping)[start - base : start - base + length]

    def _stored(self, entry: Entry, start: int, anomalies: list[Anomaly], mapped: bool = False,
                windowed: bool = False) -> Buffer | None:
        length = min(entry.compressed_size, max(0, self._size - start))
        if not self._room(entry, length, anomalies):
            return None
        view = self._mapped(start, length) if mapped and length >= MAP_MIN and isinstance(self._source, str) else None
        if view is not None:  # else not mappable (a pipe, a special file, in memory): read as any member
            self._budget.spend(length)
            self._budget.observe(length)
            return view
        data = bytes(self._bytes_at(start, length, windowed))
        self._budget.spend(len(data))
        self._budget.observe(len(data))
        return data

    def _room(self, entry: Entry, length: int, anomalies: list[Anomaly]) -> bool:
        limits = self._limits
        if length > limits.member_bytes:
            self._refuse(entry, msg("member of {length} bytes exceeds the {member_bytes}-byte member limit",
                                    length=length, member_bytes=limits.member_bytes),
                         anomalies)
            return False
        if self.inflated + length > limits.package_bytes:
            self._refuse(entry, msg("package exceeds the {package_bytes}-byte inflated limit",
                                    package_bytes=limits.package_bytes), anomalies)
            return False
        return True

    def _inflate(self, entry: Entry, start: int, anomalies: list[Anomaly], windowed: bool = False
                 ) -> tuple[bytes | None, bool]:
        """The member inflated by the fast codec; a stream it cannot read, or reads to the wrong CRC, is
        read again by zlib, whose verdict counts: Android inflates with zlib, and ISA-L decodes some
        corrupt streams zlib refuses (one in 300 mutated fixtures)."""
        mark = len(anomalies)
        data = self._inflate_with(FAST, entry, start, anomalies, windowed)
        sound = data is not None and crc32(data) == entry.crc
        if FAST is not ZLIB and not sound and not any(a.kind is AnomalyKind.LIMIT for a in anomalies[mark:]):
            del anomalies[mark:]
            data = self._inflate_with(ZLIB, entry, start, anomalies)
            sound = data is not None and crc32(data) == entry.crc
        if data is not None:
            self._budget.spend(len(data))
        return data, sound

    def _inflate_with(self, codec: Codec, entry: Entry, start: int, anomalies: list[Anomaly], windowed: bool = False
                      ) -> bytes | None:
        """Inflate in one call when the directory's sizes are within the caps and tell the truth, else
        in 1 MB steps, reading compressed data as needed, until the stream ends or a cap hits."""
        if self._fits(entry):
            data = self._inflate_at_once(codec, entry, start, windowed)
            if data is not None:
                return data
        return self._inflate_in_steps(codec, entry, start, anomalies)

    def _fits(self, entry: Entry) -> bool:
        """Whether the member, as the directory sizes it, is within every cap without a note."""
        limits = self._limits
        return (0 < entry.size <= min(AT_ONCE_MAX, limits.member_bytes) and 0 < entry.compressed_size <= entry.size
                and self.inflated + entry.size <= limits.package_bytes
                and not over_ratio(entry.size, entry.compressed_size, limits))

    def _inflate_at_once(self, codec: Codec, entry: Entry, start: int, windowed: bool = False) -> bytes | None:
        """The member inflated by one call asked for at most its declared size plus one byte (so the
        memory stays bounded whatever the stream holds), None when the stream does not end exactly at
        the declared size or is not sound: the stepwise read then reads it and says what is wrong. One
        call makes the output once; 1 MB steps copied each step into a growing buffer and allocated
        each step afresh, slower and with twice the page faults (bench/results/components-*)."""
        packed = self._bytes_at(start, entry.compressed_size, windowed)
        inflater = codec[0](-15)
        try:
            data = inflater.decompress(packed, entry.size + 1)
        except codec[1]:
            return None
        if not inflater.eof or len(data) != entry.size:
            return None
        self._budget.observe(len(data))
        return data

    def _inflate_in_steps(self, codec: Codec, entry: Entry, start: int, anomalies: list[Anomaly]) -> bytes | None:
        """Inflate in 1 MB steps under the caps (sizes that lie, streams cut short, bombs)."""
        self._handle.seek(start)
        inflater = codec[0](-15)
        # BytesIO, not bytearray: getvalue() hands over its buffer where bytes(bytearray) copies it, so a
        # 240 MB member peaks at 240 MB, not 480 MB.
        out = io.BytesIO()
        consumed = 0
        pending = b""
        # The first read asks for the member's own compressed size (a few bytes over): a 1 MB read for
        # each of 20,000 small files copies gigabytes. A size that lies only costs further reads.
        want = min(STEP, entry.compressed_size + READ_AHEAD)
        while not inflater.eof:
            if not pending:
                pending = self._handle.read(want)
                want = STEP
                consumed += len(pending)
                if not pending:
                    anomalies.append(Anomaly(AnomalyKind.STRUCTURE, entry.name, msg("deflate stream truncated")))
                    break
            try:
                chunk = inflater.decompress(pending, STEP)
            except codec[1] as exc:
                anomalies.append(Anomaly(AnomalyKind.UNREADABLE, entry.name, msg("deflate stream corrupt ({exc})",
                                                                                 exc=exc)))
                return None
            out.write(chunk)
            self._budget.observe(len(chunk))
            pending = inflater.unconsumed_tail or b""
            if not self._within(entry, out.tell(), consumed - len(pending), anomalies):
                return None
        # What the stream took: the bytes read less those after its end (unused_data, once it ended: zlib
        # also leaves them in unconsumed_tail, ISA-L does not).
        packed = consumed - (len(inflater.unused_data) if inflater.eof else len(pending))
        if over_ratio(out.tell(), packed, self._limits):
            ratio = out.tell() // max(1, packed)
            anomalies.append(Anomaly(AnomalyKind.NOTE, entry.name, msg(
                "inflates {ratio}:1 ({mb} MB from {kb} KB): highly compressible, read in full (a zero-filled "
                "database or sparse file compresses like this)",
                ratio=ratio, mb=out.tell() // MIB, kb=max(1, packed // 1024))))
        return out.getvalue()

    def _within(self, entry: Entry, inflated: int, compressed: int, anomalies: list[Anomaly]) -> bool:
        limits = self._limits
        if inflated > limits.member_bytes:
            self._refuse(entry, msg("inflates past the {member_bytes}-byte member limit",
                                    member_bytes=limits.member_bytes), anomalies)
            return False
        if self.inflated + inflated > limits.package_bytes:
            self._refuse(entry, msg("package inflates past the {package_bytes}-byte limit",
                                    package_bytes=limits.package_bytes), anomalies)
            return False
        if over_ratio(inflated, compressed, limits) and inflated > limits.ratio_read_bytes:
            self._refuse(entry, msg("inflates more than {ratio}:1 past {value} MB (a zip bomb)",
                                    ratio=limits.ratio, value=limits.ratio_read_bytes // MIB), anomalies)
            return False
        return True
