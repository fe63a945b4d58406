"""Android App Bundles ``.aab``: the upload format of app stores, one result for the whole bundle.

Format (https://developer.android.com/guide/app-bundle/app-bundle-format): a zip with
``BundleConfig.pb`` and one folder per module (``base/``, feature and asset-pack modules), each with
``manifest/AndroidManifest.xml`` and ``res/**.xml`` as aapt2 proto XML, ``resources.pb`` (the resource
table as aapt2's ResourceTable protocol buffer), ``dex/``, ``assets/``, ``lib/`` and ``root/``. The base
module gives the identity; every module gives its permissions and texts, named by their bundle path
(``base/resources.pb``, ``feature/dex/classes.dex``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

from scanner.extract import aapt2, textdecode
from scanner.extract.prefilter import Prefilter
from scanner.extract.stringpool import ChunkError
from scanner.i18n import msg
from scanner.model import Anomaly, AnomalyKind, Location, Package, PackageInfo, PackageKind, ParseOptions, Text
from scanner.parsers import code, reading, signatures, surfaces, zipread
from scanner.parsers.apk import TEXT_ATTRIBUTES, permission_names
from scanner.parsers.common import PackageUnreadable, Probe, Source, file_sha256, zip_directory

MANIFEST = "manifest/AndroidManifest.xml"
SKIPPED = ("META-INF/", "BUNDLE-METADATA/")
TARGETING = ("assets.pb", "native.pb", "apex.pb")


def sniff(probe: Probe) -> bool:
    """A zip with ``BundleConfig.pb`` and a module manifest."""
    names = probe.zip_names or frozenset()
    return "BundleConfig.pb" in names and any(n.endswith("/" + MANIFEST) for n in names)


def modules(names: list[str]) -> list[str]:
    """The modules (folders with a manifest), base first."""
    found = sorted({n[: -len(MANIFEST) - 1] for n in names if n.endswith("/" + MANIFEST) and n.count("/") == 2})
    return sorted(found, key=lambda m: (m != "base", m))


def parse(source: Source, options: ParseOptions) -> Package:
    """Read every module of the bundle (members through zipread: bounded, tolerant of zip tricks)."""
    path = source.path
    entries, anomalies = zip_directory(path)
    files = [e for e in entries if not e.name.endswith("/")]
    if len(files) > options.limits.members:
        anomalies.append(Anomaly(AnomalyKind.LIMIT, "", msg("{count} entries; only the first {members} are read",
                                                            count=len(files), members=options.limits.members)))
        files = files[: options.limits.members]
    found = modules([e.name for e in files])
    if "base" not in found:
        raise PackageUnreadable(msg("App Bundle without a base module (base/manifest/AndroidManifest.xml)"))
    prefilter = surfaces.prefilter_of(options)
    with reading.Members(path, options.limits, prefilter) as scheduled:
        reader = scheduled.reader
        by_name = {e.name: e for e in files}
        manifests = {m: _manifest(reader, by_name[f"{m}/{MANIFEST}"], anomalies, required=m == "base")
                     for m in found}
        tables = {m: _table(reader, by_name.get(f"{m}/resources.pb"), anomalies) for m in found}
        labels = {s.resource_id: s.value for table in tables.values() for s in table if s.pointer.endswith("[default]")}
        texts: list[Text] = []
        for module in found:
            texts += [Text(s.value, Location(f"{module}/resources.pb", "resource", s.pointer))
                      for s in tables[module] if not prefilter.fast or prefilter.matters(s.value, s.pointer)]
        scanned = [e for e in files if e.name.split("/", 1)[0] in found and _scanned(e.name, e.name.split("/", 1)[0])]

        def member_texts(name: str, data: bytes, odd: list[Anomaly]) -> list[Text]:
            return list(_member_texts(name, name.split("/", 1)[0], data, labels, odd, prefilter))

        scheduled.schedule(scanned)
        texts_of = scheduled.scan(member_texts, _plain, anomalies)
        for entry in scanned:  # in the bundle's own member order, whatever order they were read in
            texts += texts_of.get(id(entry), ())
        signed = signatures.android(path, files, reader, anomalies, bundle=True)
    base = manifests["base"]
    info = PackageInfo(
        path=path, format="aab", sha256=file_sha256(path), app_id=_attr(base, "manifest", "package"),
        app_name=_label(_attr_element(base, "application", "android:label"), labels),
        version=_attr(base, "manifest", "android:versionName"),
        version_code=_attr(base, "manifest", "android:versionCode"),
        target_sdk=_attr(base, "uses-sdk", "android:targetSdkVersion"), identity=signed,
    )
    ordered = tuple(sorted(anomalies, key=lambda a: (a.member, a.kind, a.detail)))
    return Package(info, PackageKind.APP, _permissions(manifests.values()), tuple(texts), ordered)


def _manifest(reader: zipread.Reader, entry: zipread.Entry, anomalies: list[Anomaly], required: bool
              ) -> list[aapt2.Element]:
    member = reader.read(entry)
    anomalies.extend(member.anomalies)
    try:
        elements = aapt2.xml_elements(member.data or b"")
    except aapt2.ProtoError as exc:
        if required:
            raise PackageUnreadable(msg("{name} is not aapt2 proto XML ({exc})", name=entry.name, exc=exc)) from exc
        anomalies.append(Anomaly(AnomalyKind.UNREADABLE, entry.name, msg("module manifest unreadable ({exc})",
                                                                         exc=exc)))
        return []
    if required and not any(e.tag == "manifest" for e in elements):
        raise PackageUnreadable(msg("{name} has no <manifest> element", name=entry.name))
    return elements


def _table(reader: zipread.Reader, entry: zipread.Entry | None, anomalies: list[Anomaly]) -> list[aapt2.TableString]:
    if entry is None:
        return []
    member = reader.read(entry)
    anomalies.extend(member.anomalies)
    try:
        return list(aapt2.table_strings(member.data or b""))
    except aapt2.ProtoError as exc:
        anomalies.append(Anomaly(AnomalyKind.UNREADABLE, entry.name, msg("resource table unreadable ({exc})", exc=exc)))
        return []


def _scanned(name: str, module: str) -> bool:
    rest = name[len(module) + 1 :]
    if name.startswith(SKIPPED) or rest in (MANIFEST, "resources.pb", *TARGETING):
        return False
    return not textdecode.is_media(name)


def _plain(name: str, _data: bytes) -> bool:
    """Whether ``_member_texts`` reads the member as a file (members.Plain): not DEX, binary XML or a library."""
    rest = name.split("/", 1)[1] if "/" in name else name
    code = rest.startswith("dex/") and rest.endswith(".dex")
    return not (code or (rest.startswith("res/") and rest.endswith(".xml")) or rest.startswith("lib/"))


def _member_texts(name: str, module: str, data: bytes, labels: dict[int, str], anomalies: list[Anomaly],
                  prefilter: Prefilter) -> Iterator[Text]:
    rest = name[len(module) + 1 :]
    if rest.startswith("dex/") and rest.endswith(".dex"):
        try:
            yield from code.dex_texts(name, data, prefilter)
        except ChunkError as exc:
            anomalies.append(Anomaly(AnomalyKind.UNREADABLE, name, msg("DEX string table unreadable ({exc})", exc=exc)))
    elif rest.startswith("res/") and rest.endswith(".xml") and data[:1] != b"<":
        yield from _xml_texts(name, rest, data, labels, anomalies)
    elif rest.startswith("lib/"):
        yield from surfaces.binary_texts(name, data, "native", prefilter)
    else:
        yield from surfaces.file_texts(name, data, prefilter)


def _xml_texts(name: str, rest: str, data: bytes, labels: dict[int, str], anomalies: list[Anomaly]) -> Iterator[Text]:
    """Literal text attributes and resolved @string references of a proto XML layout / preference file."""
    kind = "layout" if rest.startswith("res/layout") else "xml"
    try:
        elements = aapt2.xml_elements(data)
    except aapt2.ProtoError as exc:
        anomalies.append(Anomaly(AnomalyKind.UNREADABLE, name, msg("proto XML unreadable ({exc})", exc=exc)))
        return
    for element in elements:
        if element.tag == "#text":
            yield Text(element.text, Location(name, kind, "text()"))
            continue
        for attr in element.attrs:
            if attr.name.removeprefix("android:") not in TEXT_ATTRIBUTES:
                continue
            pointer = f"{element.tag}@{attr.name}"
            if attr.reference and attr.reference in labels:
                yield Text(labels[attr.reference], Location(name, kind, f"{pointer} -> {attr.value or attr.reference}"))
            elif attr.value and not attr.value.startswith("@"):
                yield Text(attr.value, Location(name, kind, pointer))


def _attr_element(elements: list[aapt2.Element], tag: str, name: str) -> aapt2.Attribute | None:
    for element in elements:
        if element.tag == tag:
            return next((a for a in element.attrs if a.name == name), None)
    return None


def _attr(elements: list[aapt2.Element], tag: str, name: str) -> str | None:
    found = _attr_element(elements, tag, name)
    return found.value or None if found else None


def _label(attr: aapt2.Attribute | None, labels: dict[int, str]) -> str | None:
    if attr is None:
        return None
    if attr.reference:
        return labels.get(attr.reference)
    return attr.value or None


def _permissions(manifests: Iterable[list[aapt2.Element]]) -> tuple[str, ...]:
    """uses-permission names of every module, deduplicated in module and manifest order."""
    return permission_names(itertools.chain.from_iterable(manifests), "android:name")
