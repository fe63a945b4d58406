"""Quick-app packages ``.rpk``: a zip with ``manifest.json``, compiled JS pages and optional META-INF.

Format: filing-rules.md §5.4 and §3.3 (manifest fields ``package``, ``name``, ``versionName``,
``versionCode``, ``features: [{"name": "system.xxx"}]``, Vela ``permissions: [{"name": …}]``).
The declared features and permissions are the package's requested permissions.
"""

from __future__ import annotations

import json
import posixpath
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

from scanner.extract import textdecode
from scanner.model import Location, Package, PackageInfo, PackageKind, Text
from scanner.parsers import PackageUnreadable, file_sha256


def is_rpk(names: list[str]) -> bool:
    """A quick app has manifest.json at the root and no AndroidManifest.xml."""
    return "manifest.json" in names and "AndroidManifest.xml" not in names


def parse(path: str) -> Package:
    """Read a quick-app package."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise PackageUnreadable(f"not a readable zip archive ({exc})") from exc
    with archive:
        names = [i.filename for i in archive.infolist() if not i.is_dir()]
        manifest = _manifest(archive)
        notes: list[str] = []
        texts = tuple(_texts(archive, names, notes))
    info = PackageInfo(
        path=path, format="rpk", sha256=file_sha256(path), app_id=_str(manifest.get("package")),
        app_name=_str(manifest.get("name")), version=_str(manifest.get("versionName")),
        version_code=_str(manifest.get("versionCode")),
    )
    return Package(info, PackageKind.QUICKAPP, declared_features(manifest), texts, tuple(notes))


def _manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        raw = archive.read("manifest.json")
        value = json.loads(textdecode.decode_bytes(raw) or "")
    except (KeyError, ValueError, zipfile.BadZipFile, zlib.error, OSError) as exc:
        raise PackageUnreadable(f"quick app manifest.json unreadable ({exc})") from exc
    if not isinstance(value, dict):
        raise PackageUnreadable("quick app manifest.json is not a JSON object")
    return value


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def declared_features(manifest: dict[str, Any]) -> tuple[str, ...]:
    """``features`` and ``permissions`` names, deduplicated in manifest order."""
    found: dict[str, None] = {}
    for key in ("features", "permissions"):
        items = manifest.get(key)
        for item in items if isinstance(items, list) else ():
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, str) and name:
                found[name] = None
    return tuple(found)


def _texts(archive: zipfile.ZipFile, names: list[str], notes: list[str]) -> Iterator[Text]:
    for name in names:
        ext = posixpath.splitext(name)[1].lower()
        if name.startswith("META-INF/") or ext in textdecode.MEDIA_EXTENSIONS:
            continue
        try:
            data = archive.read(name)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, zlib.error) as exc:
            notes.append(f"{name}: unreadable member ({exc})")
            continue
        text = textdecode.file_text(name, data)
        if text:
            yield Text(text, Location(name, "page", ""))

