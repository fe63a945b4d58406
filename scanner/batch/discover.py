"""Finding the packages of a batch: folders walked recursively, packages recognized by content (the
parsers' own detection: APK, split sets, AAB, wxapkg, mini-program folders, rpk, HAP, IPA, Hermes …),
everything else skipped and counted; each package identified by the sha256 of its content.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from scanner.files import special_kind
from scanner.parsers import PackageUnreadable, detect, file_sha256
from scanner.parsers.miniprogram_dir import walk as walk_tree
from scanner.parsers.wxapkg_folder import wxapkg_files

SKIP_DIRS = frozenset({".git", ".svn", ".hg", "__pycache__", "node_modules"})
PACKAGE_EXTENSIONS = frozenset({".apk", ".apks", ".xapk", ".apkm", ".aab", ".wxapkg", ".rpk", ".hap", ".hsp", ".app",
                                ".ipa", ".hbc", ".bundle", ".jsbundle", ".tpkg"})
"""Names that claim a package: a file so named is scanned even when its content is broken, so that a
truncated or corrupt upload is a PKG001 result, not a silently skipped file."""


@dataclass(frozen=True, slots=True)
class Found:
    """What a walk found: package paths (files and package folders) and what it skipped."""

    packages: tuple[str, ...]
    skipped: int
    skipped_examples: tuple[str, ...] = ()
    special: int = 0
    """FIFOs, sockets and devices: never opened (reading one can wait forever), counted apart."""


def is_special(path: str) -> bool:
    """A FIFO, socket or device (followed through symlinks): not a file a package can be."""
    return bool(special_kind(path))


def _is_package_file(path: str) -> bool:
    """Recognized by content, named as a package, or a zip (an archive in an upload folder is judged)."""
    if os.path.splitext(path)[1].lower() in PACKAGE_EXTENSIONS:
        return True
    try:
        detect(path)
    except PackageUnreadable:
        try:
            with open(path, "rb") as handle:
                return handle.read(4) == b"PK\x03\x04"
        except OSError:
            return False
    except OSError:
        return False
    return True


def is_one_package(path: str) -> bool:
    """A folder that is one package: a mini-program project or unpacked package, or a folder that
    holds wxapkg files and nothing else (a main package with its subpackages, the PC client's app
    folder). A folder with other files in it is walked into, each package found on its own."""
    try:
        fmt = detect(path)
    except (PackageUnreadable, OSError):
        return False
    if fmt.name != "wxapkg-folder":
        return True
    return len(wxapkg_files(path)) == sum(1 for _ in walk_tree(path))


def walk(roots: Iterable[str], listed: Iterable[str] = ()) -> Found:
    """Every package under ``roots`` (recursively) and every path of ``listed`` (a --from-list: taken
    as given, so that an unreadable one becomes a PKG001 result rather than vanishing)."""
    packages: list[str] = []
    skipped: list[str] = []
    special: list[str] = []
    for root in roots:
        if is_special(root):
            special.append(root)
        elif os.path.isfile(root) or is_one_package(root):
            packages.append(root)
        else:
            packages.extend(_walk_folder(root, skipped.append, special.append))
    for path in listed:
        if path.strip():
            (special if is_special(path) else packages).append(path)
    return Found(tuple(dict.fromkeys(packages)), len(skipped), tuple(skipped[:20]), len(special))


def _walk_folder(root: str, skip: Callable[[str], None], special: Callable[[str], None]) -> Iterator[str]:
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        kept = []
        for name in dirs:
            path = os.path.join(folder, name)
            if name in SKIP_DIRS:
                continue
            if is_one_package(path):  # a mini-program folder is one package: not walked into
                yield path
            else:
                kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            path = os.path.join(folder, name)
            if is_special(path):
                special(path)
            elif _is_package_file(path):
                yield path
            else:
                skip(path)


def content_hash(path: str) -> str:
    """sha256 of a file; of a folder, the sha256 of its files' relative paths and hashes."""
    if not os.path.isdir(path):
        return file_sha256(path)
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            file_path = os.path.join(folder, name)
            if is_special(file_path):
                continue
            digest.update(os.path.relpath(file_path, path).encode("utf-8", "surrogateescape") + b"\0")
            digest.update(bytes.fromhex(file_sha256(file_path)))
    return digest.hexdigest()


def stat_key(path: str) -> tuple[int, int]:
    """(size, mtime_ns) a cached hash is valid for (a folder: the sum of its files' sizes, newest mtime)."""
    if not os.path.isdir(path):
        info = os.stat(path)
        return info.st_size, info.st_mtime_ns
    size, newest = 0, 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            info = os.stat(os.path.join(folder, name))
            if not stat.S_ISREG(info.st_mode):
                continue
            size += info.st_size
            newest = max(newest, info.st_mtime_ns)
    return size, newest
