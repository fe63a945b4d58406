"""APK sets: a zip of APKs (``.apks`` from bundletool, ``.xapk`` / ``.apkm`` from stores) read as one app.

The base APK gives the identity; every APK (base, configuration and feature splits) gives its texts,
with members named ``split.apk!res/…``. Inner APKs are read in memory, never written to disk, under the
package's shared caps; a package nested deeper than ``Limits.depth`` (a 42.zip-style nest) is refused
with a PKG003 limit rather than unpacked.
"""

from __future__ import annotations

import posixpath

from scanner import progress
from scanner.model import Anomaly, Limits, Location, Package, PackageInfo, PackageKind, Text
from scanner.parsers import PackageUnreadable, file_sha256, zipread


def is_bundle(names: set[str]) -> bool:
    """A zip without its own manifest that holds APKs."""
    return "AndroidManifest.xml" not in names and any(n.lower().endswith(".apk") for n in names)


def _order(name: str) -> tuple[bool, bool, str]:
    """base.apk first, then the app's own APK, then configuration / feature splits."""
    base = posixpath.basename(name)
    return base != "base.apk", base.startswith(("config.", "split_")) or "split" in base, name


def parse(path: zipread.Source, limits: Limits | None = None, depth: int = 0,
          budget: zipread.Budget | None = None, label: str | None = None) -> Package:
    """Read an APK set and the APKs in it, up to the nesting limit."""
    limits = limits or Limits()
    budget = budget or zipread.Budget(progress.observer())
    try:
        entries, anomalies = zipread.directory(path)
    except zipread.ArchiveUnreadable as exc:
        raise PackageUnreadable(str(exc)) from exc
    apks = sorted((e for e in entries if e.name.lower().endswith(".apk")), key=lambda e: _order(e.name))
    inner: list[tuple[str, Package]] = []
    reader = zipread.Reader(path, limits, budget)
    try:
        for entry in apks:
            package = _inner(reader, entry, limits, depth + 1, budget, anomalies)
            if package is not None:
                inner.append((entry.name, package))
    finally:
        reader.close()
    shown = label or (path if isinstance(path, str) else "<memory>")
    return _merge(shown, path, inner, anomalies)


def _inner(reader: zipread.Reader, entry: zipread.Entry, limits: Limits, depth: int, budget: zipread.Budget,
           anomalies: list[Anomaly]) -> Package | None:
    if depth > limits.depth:
        anomalies.append(Anomaly("limit", entry.name, f"package nested {depth} deep; the limit is {limits.depth}"))
        return None
    member = reader.read(entry)
    anomalies.extend(member.anomalies)
    if member.data is None:
        return None
    from scanner.parsers import apk

    try:
        names = {e.name for e in zipread.directory(member.data)[0]}
        if is_bundle(names):
            return parse(member.data, limits, depth, budget, entry.name)
        return apk.parse(member.data, limits=limits, budget=budget, label=entry.name)
    except (PackageUnreadable, zipread.ArchiveUnreadable) as exc:
        anomalies.append(Anomaly("unreadable", entry.name, f"nested APK unreadable ({exc})"))
        return None


def _merge(shown: str, path: zipread.Source, inner: list[tuple[str, Package]], anomalies: list[Anomaly]) -> Package:
    if not inner:
        cause = next((a for a in anomalies if a.kind == "limit"), anomalies[0] if anomalies else None)
        why = f": {cause.member}: {cause.detail}" if cause else ""
        raise PackageUnreadable(f"APK set without an APK readable within the limits{why}")
    base = inner[0][1]
    texts = tuple(Text(t.value, Location(f"{name}!{t.location.member}", t.location.kind, t.location.pointer), t.line)
                  for name, package in inner for t in package.texts)
    permissions = tuple(dict.fromkeys(p for _, package in inner for p in package.permissions))
    nested = tuple(Anomaly(a.kind, f"{name}!{a.member}" if a.member else name, a.detail)
                   for name, package in inner for a in package.anomalies)
    digest = file_sha256(path) if isinstance(path, str) else base.info.sha256
    info = PackageInfo(path=shown, format="apk-set", sha256=digest, app_id=base.info.app_id,
                       app_name=base.info.app_name, version=base.info.version,
                       version_code=base.info.version_code, target_sdk=base.info.target_sdk)
    return Package(info, PackageKind.APP, permissions, texts, tuple(anomalies) + nested)
