"""What every parser shares: the contract (Source in, Package out, the errors it may raise), the
probe that format detection reads, and the file hash.

Contract: a parser module provides ``sniff(probe) -> bool`` (is this its format?, decided by content,
never by file name) and ``parse(source, options) -> Package``; it raises PackageUnreadable (PKG001)
or PackageEncrypted (PKG002) with a one-line reason, never another exception on purpose (the engine
turns any other one into PKG001 all the same). Parsers never judge and never name a rule.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scanner.i18n import message_of, msg
from scanner.parsers import zipread

if TYPE_CHECKING:
    from scanner.model import Anomaly
    from scanner.parsers.zipread import Entry

ZIP_MAGIC = b"PK\x03\x04"
HEAD_BYTES = 16


class PackageUnreadable(Exception):
    """The input is not a package the scanner can read (PKG001); carries a one-line reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PackageEncrypted(PackageUnreadable):
    """The package is encrypted and no key (or a wrong one) was given (PKG002)."""


@dataclass(frozen=True, slots=True)
class Source:
    """What a parser reads: a file or a folder, or part of a folder (the files of one app of several)."""

    path: str
    members: tuple[str, ...] = ()
    """For a folder split into apps: the files of this one (empty: the whole folder)."""
    appid: str | None = None
    """The app id the split found for these files (a folder of wxapkg files keyed by appid)."""
    format: str = ""
    """The format detection already found (scanner.parsers.sources), so it is not detected twice."""


@dataclass(frozen=True, slots=True)
class Probe:
    """What format detection looks at, read once per path: its first bytes and, for a zip, its names."""

    path: str
    is_dir: bool
    head: bytes = b""
    zip_names: frozenset[str] | None = None
    """The member names when the file reads as a zip (None otherwise)."""


def probe(path: str) -> Probe:
    """Read what detection needs; PackageUnreadable for a file that cannot be opened or is empty."""
    if os.path.isdir(path):
        return Probe(path, True)
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as exc:
        raise PackageUnreadable(msg("cannot open: {reason}", reason=exc.strerror or exc)) from exc
    if not head:
        raise PackageUnreadable(msg("empty file"))
    return Probe(path, False, head, _zip_names(path, head))


def _zip_names(path: str, head: bytes) -> frozenset[str] | None:
    if not (head.startswith(ZIP_MAGIC) or _has_zip_directory(path)):
        return None
    return frozenset(e.name for e in zip_directory(path)[0])


def zip_directory(path: str | bytes) -> tuple[list[Entry], list[Anomaly]]:
    """zipread.directory for a package: an archive with no central directory is PackageUnreadable."""
    try:
        return zipread.directory(path)
    except zipread.ArchiveUnreadable as exc:
        raise PackageUnreadable(message_of(exc)) from exc


def _has_zip_directory(path: str) -> bool:
    """A zip may start with other data (self-extracting stubs, a garbled first header): its end record
    decides."""
    size = os.path.getsize(path)
    if size < 22:
        return False
    with open(path, "rb") as handle:
        handle.seek(max(0, size - (1 << 16) - 22))
        return b"PK\x05\x06" in handle.read()


def file_sha256(path: str) -> str:
    """SHA-256 of a file, streamed."""
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise PackageUnreadable(msg("cannot read: {reason}", reason=exc.strerror or exc)) from exc


def scalar_text(value: object) -> str | None:
    """A metadata value (JSON, property list) as text: a non-empty string or an integer, else None
    (a boolean, a list or a table is no name or version)."""
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) and str(value) else None


def json_table(data: dict[str, Any], key: str) -> dict[str, Any]:
    """``data[key]`` when it is a table, else an empty one (metadata written by anyone)."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}
