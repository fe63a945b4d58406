"""Quick-app packages ``.rpk``: a zip with ``manifest.json``, compiled JS pages and optional META-INF.

Format: filing-rules.md §5.4 and §3.3 (manifest fields ``package``, ``name``, ``versionName``,
``versionCode``, ``features: [{"name": "system.xxx"}]``, Vela ``permissions: [{"name": …}]``).
The declared features and permissions are the package's requested permissions.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from typing import Any

from scanner.extract import textdecode
from scanner.model import Anomaly, Location, Package, PackageInfo, PackageKind, ParseOptions, Text
from scanner.parsers import signatures, zipread
from scanner.parsers.common import PackageUnreadable, Probe, Source, file_sha256, zip_directory


def sniff(probe: Probe) -> bool:
    """A zip with the quick-app ``manifest.json`` (and no Android manifest)."""
    names = probe.zip_names or frozenset()
    return "manifest.json" in names and "AndroidManifest.xml" not in names


def parse(source: Source, options: ParseOptions) -> Package:
    """Read a quick-app package (members through zipread: bounded, tolerant of zip tricks)."""
    path = source.path
    entries, anomalies = zip_directory(path)
    reader = zipread.Reader(path, options.limits)
    try:
        manifest = _manifest(reader, entries, anomalies)
        texts = tuple(_texts(reader, entries, anomalies))
        signed = signatures.quickapp(entries, reader, anomalies)
    finally:
        reader.close()
    info = PackageInfo(
        path=path, format="rpk", sha256=file_sha256(path), app_id=_str(manifest.get("package")),
        app_name=_str(manifest.get("name")), version=_str(manifest.get("versionName")),
        version_code=_str(manifest.get("versionCode")), identity=signed,
    )
    return Package(info, PackageKind.QUICKAPP, declared_features(manifest), texts, tuple(anomalies))


def _manifest(reader: zipread.Reader, entries: list[zipread.Entry], anomalies: list[Anomaly]) -> dict[str, Any]:
    entry = next((e for e in entries if e.name == "manifest.json"), None)
    member = reader.read(entry) if entry else None
    if member is None or member.data is None:
        raise PackageUnreadable("quick app manifest.json missing or unreadable")
    anomalies.extend(member.anomalies)
    try:
        value = json.loads(textdecode.decode_bytes(member.data) or "")
    except ValueError as exc:
        raise PackageUnreadable(f"quick app manifest.json is not JSON ({exc})") from exc
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


def _texts(reader: zipread.Reader, entries: list[zipread.Entry], anomalies: list[Anomaly]) -> Iterator[Text]:
    for entry in entries:
        name = entry.name
        ext = posixpath.splitext(name)[1].lower()
        if name.endswith("/") or name.startswith("META-INF/") or ext in textdecode.MEDIA_EXTENSIONS:
            continue
        member = reader.read(entry)
        anomalies.extend(member.anomalies)
        text = textdecode.file_text(name, member.data) if member.data else None
        if text:
            yield Text(text, Location(name, "page", ""))
