"""Format detection (by content, never by file name) and dispatch to one parser per format."""

from __future__ import annotations

import os
import zipfile

from scanner.model import Package, RuleId

ZIP_MAGIC = b"PK\x03\x04"


class PackageUnreadable(Exception):
    """The input is not a package the scanner can read; carries the PKG rule id and a one-line reason."""

    def __init__(self, message: str, rule_id: str = "PKG001") -> None:
        super().__init__(message)
        self.rule_id = RuleId(rule_id)
        self.message = message


def detect(path: str) -> str:
    """``apk`` or raise PackageUnreadable with what the bytes look like."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise PackageUnreadable(f"cannot open: {exc.strerror or exc}") from exc
    if not head:
        raise PackageUnreadable("empty file")
    if head.startswith(ZIP_MAGIC) or _has_zip_directory(path):
        return "apk"
    raise PackageUnreadable(f"not a supported package (starts with {head[:4].hex()}; expected a zip / APK)")


def _has_zip_directory(path: str) -> bool:
    """A zip may start with other data (self-extracting stubs); its end record decides."""
    return os.path.getsize(path) >= 22 and zipfile.is_zipfile(path)


def parse(path: str) -> Package:
    """Read the package at ``path``; raises PackageUnreadable for anything that cannot be read."""
    fmt = detect(path)
    if fmt == "apk":
        from scanner.parsers import apk

        return apk.parse(path)
    raise PackageUnreadable(f"unsupported format {fmt}")
