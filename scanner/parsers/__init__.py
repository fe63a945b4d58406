"""Format detection (by content, never by file name) and dispatch to one parser per format."""

from __future__ import annotations

import hashlib
import os

from scanner.model import Limits, Package, RuleId

ZIP_MAGIC = b"PK\x03\x04"
HARMONY_MARKERS = ("module.json", "config.json", "pack.info")


class PackageUnreadable(Exception):
    """The input is not a package the scanner can read; carries the PKG rule id and a one-line reason."""

    def __init__(self, message: str, rule_id: str = "PKG001") -> None:
        super().__init__(message)
        self.rule_id = RuleId(rule_id)
        self.message = message


def file_sha256(path: str) -> str:
    """SHA-256 of a file, streamed."""
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise PackageUnreadable(f"cannot read: {exc.strerror or exc}") from exc


def _head(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(16)
    except OSError as exc:
        raise PackageUnreadable(f"cannot open: {exc.strerror or exc}") from exc


def detect(path: str) -> str:
    """``apk`` / ``rpk`` / ``wxapkg`` / ``tpkg`` / ``folder``, or PackageUnreadable saying what it is."""
    from scanner.parsers import wxapkg

    if os.path.isdir(path):
        return "folder"
    head = _head(path)
    if not head:
        raise PackageUnreadable("empty file")
    if wxapkg.is_wxapkg(head):
        return "wxapkg"
    if head.startswith(b"TPKG"):
        return "tpkg"
    if head.startswith(ZIP_MAGIC) or _has_zip_directory(path):
        return _zip_kind(path)
    raise PackageUnreadable(f"not a supported package (starts with {head[:4].hex()}: not a zip, wxapkg or TPKG)")


def _has_zip_directory(path: str) -> bool:
    """A zip may start with other data (self-extracting stubs, a garbled first header): its end record
    decides."""
    if os.path.getsize(path) < 22:
        return False
    with open(path, "rb") as handle:
        handle.seek(max(0, os.path.getsize(path) - (1 << 16) - 22))
        return b"PK\x05\x06" in handle.read()


def _zip_kind(path: str) -> str:
    """Which zip-based package: by the members it holds."""
    from scanner.parsers import zipread

    try:
        names = {e.name for e in zipread.directory(path)[0]}
    except zipread.ArchiveUnreadable as exc:
        raise PackageUnreadable(str(exc)) from exc
    if "AndroidManifest.xml" in names:
        return "apk"
    from scanner.parsers import bundle

    if bundle.is_bundle(names):
        return "apk-set"
    if "manifest.json" in names:
        return "rpk"
    if names & set(HARMONY_MARKERS):
        raise PackageUnreadable("HarmonyOS package (.hap/.app): not supported yet")
    raise PackageUnreadable("zip archive without AndroidManifest.xml or manifest.json: not an APK or quick app")


def parse(path: str, wxid: str | None = None, fast: bool = True, limits: Limits | None = None) -> Package:
    """Read the package at ``path``; raises PackageUnreadable for anything that cannot be read.
    ``fast=False`` makes the APK parser decode everything (the reference for the fast paths)."""
    fmt = detect(path)
    if fmt == "apk":
        from scanner.parsers import apk

        return apk.parse(path, fast, limits)
    if fmt == "apk-set":
        from scanner.parsers import bundle

        return bundle.parse(path, limits)
    if fmt == "rpk":
        from scanner.parsers import rpk

        return rpk.parse(path, limits)
    if fmt == "wxapkg":
        from scanner.parsers import wxapkg

        return wxapkg.parse(path, wxid)
    if fmt == "tpkg":
        from scanner.parsers import tpkg

        return tpkg.parse(path)
    from scanner.parsers import miniprogram_dir

    return miniprogram_dir.parse_folder(path, wxid)
