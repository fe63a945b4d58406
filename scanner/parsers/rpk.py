"""Quick-app packages ``.rpk``: a zip with ``manifest.json``, compiled JS pages and optional META-INF.

Format: filing-rules.md §5.4 and §3.3 (manifest fields ``package``, ``name``, ``versionName``,
``versionCode``, ``features: [{"name": "system.xxx"}]``, Vela ``permissions: [{"name": …}]``).
The declared features and permissions are the package's requested permissions.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any

from scanner.extract import textdecode
from scanner.i18n import msg
from scanner.model import Anomaly, Location, Package, PackageInfo, PackageKind, ParseOptions, Text
from scanner.parsers import reading, signatures, surfaces, zipread
from scanner.parsers.common import PackageUnreadable, Probe, Source, file_sha256, zip_directory


def sniff(probe: Probe) -> bool:
    """A zip with the quick-app ``manifest.json`` (and no Android manifest)."""
    names = probe.zip_names or frozenset()
    return "manifest.json" in names and "AndroidManifest.xml" not in names


def parse(source: Source, options: ParseOptions) -> Package:
    """Read a quick-app package (members through zipread: bounded, tolerant of zip tricks)."""
    path = source.path
    entries, anomalies = zip_directory(path)
    with reading.Members(path, options.limits, surfaces.prefilter_of(options)) as scheduled:
        manifest = _manifest(scheduled.reader, entries, anomalies)
        # Every page whole, in the package's order (quick apps are small; their texts are all read).
        pages = [e for e in entries if _page(e.name)]
        scheduled.schedule(pages, in_order=True)
        found = scheduled.scan(_page_texts, lambda _name, _data: False, anomalies)
        texts = tuple(t for e in pages for t in found.get(id(e), ()))
        signed = signatures.quickapp(entries, scheduled.reader, anomalies)
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
        raise PackageUnreadable(msg("quick app manifest.json missing or unreadable"))
    anomalies.extend(member.anomalies)
    try:
        value = json.loads(textdecode.decode_bytes(member.data) or "")
    except ValueError as exc:
        raise PackageUnreadable(msg("quick app manifest.json is not JSON ({exc})", exc=exc)) from exc
    if not isinstance(value, dict):
        raise PackageUnreadable(msg("quick app manifest.json is not a JSON object"))
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


def _page(name: str) -> bool:
    ext = posixpath.splitext(name)[1].lower()
    return not (name.endswith("/") or name.startswith("META-INF/") or ext in textdecode.MEDIA_EXTENSIONS)


def _page_texts(name: str, data: bytes, _anomalies: list[Anomaly]) -> list[Text]:
    text = textdecode.file_text(name, data)
    return [Text(text, Location(name, "page", ""))] if text else []
