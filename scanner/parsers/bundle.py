"""APK sets: a zip of APKs (``.apks`` from bundletool, ``.xapk`` / ``.apkm`` from stores) read as one app.

The base APK gives the identity; every APK (base, configuration and feature splits) gives its texts,
with members named ``split.apk!res/…``. Inner APKs are read in memory, never written to disk, under the
package's shared caps; a package nested deeper than ``Limits.depth`` (a 42.zip-style nest) is refused
with a PKG003 limit rather than unpacked.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import replace

from scanner import progress
from scanner.extract.prefilter import Prefilter
from scanner.i18n import msg
from scanner.model import (
    Anomaly,
    AnomalyKind,
    Limits,
    Package,
    PackageInfo,
    PackageKind,
    ParseOptions,
    Text,
)
from scanner.parsers import apk, surfaces, zipread
from scanner.parsers.common import PackageUnreadable, Probe, Source, file_sha256, zip_directory


def is_bundle(names: set[str]) -> bool:
    """A zip without its own manifest that holds APKs."""
    return "AndroidManifest.xml" not in names and any(n.lower().endswith(".apk") for n in names)


def _order(name: str) -> tuple[bool, bool, str]:
    """base.apk first, then the app's own APK, then configuration / feature splits."""
    base = posixpath.basename(name)
    return base != "base.apk", base.startswith(("config.", "split_")) or "split" in base, name


def sniff(probe: Probe) -> bool:
    """A zip of APKs without a manifest of its own."""
    return probe.zip_names is not None and is_bundle(set(probe.zip_names))


def parse(source: Source, options: ParseOptions) -> Package:
    """Read an APK set and the APKs in it, up to the nesting limit (inner APKs never fork a helper)."""
    return read(source.path, options.limits, surfaces.prefilter_of(options))


def read(path: zipread.Archive, limits: Limits, prefilter: Prefilter, depth: int = 0,
         budget: zipread.Budget | None = None, label: str | None = None) -> Package:
    """An APK set on disk or in memory (a set nested in a set)."""
    budget = budget or zipread.Budget(progress.observer())
    inner, anomalies = _walk(path, limits, prefilter, depth, budget)
    shown = label or (path if isinstance(path, str) else "<memory>")
    return _merge(shown, path, inner, anomalies)


def _walk(path: zipread.Archive, limits: Limits, prefilter: Prefilter, depth: int,
          budget: zipread.Budget) -> tuple[list[tuple[str, Package]], list[Anomaly]]:
    """Every APK readable within the limits, nested sets flattened (``outer.apks!inner.apk``), and what
    was met on the way: a set nested past the limit is a limit anomaly, never an error of the whole."""
    entries, anomalies = zip_directory(path)
    apks = sorted((e for e in entries if e.name.lower().endswith(".apk")), key=lambda e: _order(e.name))
    inner: list[tuple[str, Package]] = []
    reader = zipread.Reader(path, limits, budget)
    try:
        for entry in apks:
            found, met = _inner(reader, entry, limits, prefilter, depth + 1, budget)
            inner.extend(found)
            anomalies.extend(met)
    finally:
        reader.close()
    return inner, anomalies


def _inner(reader: zipread.Reader, entry: zipread.Entry, limits: Limits, prefilter: Prefilter, depth: int,
           budget: zipread.Budget) -> tuple[list[tuple[str, Package]], list[Anomaly]]:
    if depth > limits.depth:
        return [], [Anomaly(AnomalyKind.LIMIT, entry.name, msg("package nested {depth} deep; the limit is {limit}",
                                                               depth=depth, limit=limits.depth))]
    member = reader.read(entry)
    if member.data is None:
        return [], list(member.anomalies)
    try:
        names = {e.name for e in zipread.directory(member.data)[0]}
        if is_bundle(names):
            found, met = _walk(member.data, limits, prefilter, depth, budget)
            return ([(f"{entry.name}!{name}", package) for name, package in found],
                    [*member.anomalies, *(_within(entry.name, a) for a in met)])
        return [(entry.name, apk.read(member.data, limits, prefilter, budget=budget, label=entry.name))], \
            list(member.anomalies)
    except (PackageUnreadable, zipread.ArchiveUnreadable) as exc:
        return [], [*member.anomalies, Anomaly(AnomalyKind.UNREADABLE, entry.name, msg("nested APK unreadable ({exc})",
                                                                                       exc=exc))]


def _within(name: str, anomaly: Anomaly) -> Anomaly:
    """An anomaly of a nested member, named from the outer set."""
    return Anomaly(anomaly.kind, f"{name}!{anomaly.member}" if anomaly.member else name, anomaly.detail)


def _merge(shown: str, path: zipread.Archive, inner: list[tuple[str, Package]], anomalies: list[Anomaly]) -> Package:
    digest = file_sha256(path) if isinstance(path, str) else hashlib.sha256(path).hexdigest()
    if not inner:
        if any(a.kind is AnomalyKind.LIMIT for a in anomalies):
            # Nothing readable within the caps (a 42.zip-style nest): the caps are the finding (PKG003).
            info = PackageInfo(path=shown, format="apk-set", sha256=digest)
            return Package(info, PackageKind.APP, anomalies=tuple(anomalies))
        cause = anomalies[0] if anomalies else None
        if cause:
            raise PackageUnreadable(msg("APK set without a readable APK: {member}: {detail}", member=cause.member,
                                        detail=cause.detail))
        raise PackageUnreadable(msg("APK set without a readable APK"))
    base = inner[0][1]
    texts = tuple(Text(t.value, replace(t.location, member=f"{name}!{t.location.member}"), t.line)
                  for name, package in inner for t in package.texts)
    permissions = tuple(dict.fromkeys(p for _, package in inner for p in package.permissions))
    nested = tuple(_within(name, a) for name, package in inner for a in package.anomalies)
    info = PackageInfo(path=shown, format="apk-set", sha256=digest, app_id=base.info.app_id,
                       app_name=base.info.app_name, version=base.info.version,
                       version_code=base.info.version_code, target_sdk=base.info.target_sdk,
                       identity=base.info.identity)  # the base's signer: a set's APKs share one certificate
    # The base APK's code is the app's (a protector hardens the base; splits carry resources and libraries).
    names = tuple(f"{name}!{member}" for name, package in inner for member in package.members)
    return Package(info, PackageKind.APP, permissions, texts, tuple(anomalies) + nested, code=base.code,
                   members=names)
