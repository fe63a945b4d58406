"""Android APK parser: identity, requested permissions and every displayed-text surface with provenance.

The only module that imports androguard (habit 8): its lenient binary-XML reader copes with the
tampered manifests malware ships (peers-and-conventions.md §3). The resource table, DEX string tables,
assets and native libraries are read by scanner.extract, which does only what a scanner needs.
Members are read by scanner.parsers.zipread (Android's reading of hostile zips, caps against bombs),
inflated once each; nothing is written to disk.
"""

from __future__ import annotations

import dataclasses
import posixpath
import struct
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from androguard.core.axml import AXMLParser

from scanner import progress
from scanner.extract import arsc, axml, dexclasses, hermes, textdecode
from scanner.extract.axml import XmlAttr, XmlElement
from scanner.extract.prefilter import Prefilter
from scanner.extract.stringpool import ChunkError
from scanner.i18n import msg
from scanner.model import (
    AndroidCode,
    Anomaly,
    AnomalyKind,
    DexFile,
    Limits,
    Location,
    Package,
    PackageInfo,
    PackageKind,
    ParseOptions,
    Resource,
    Text,
)
from scanner.parsers import code, members, prefetch, reading, signatures, surfaces, zipread
from scanner.parsers.common import PackageUnreadable, Probe, Source, zip_directory

TEXT_ATTRIBUTES = frozenset({"text", "hint", "contentDescription", "title", "summary", "label",
                             "summaryOn", "summaryOff", "dialogTitle", "dialogMessage"})
PERMISSION_TAGS = frozenset({"uses-permission", "uses-permission-sdk-23", "uses-permission-sdk-m"})
SKIPPED_PREFIXES = ("META-INF/",)


COMPONENT_TAGS = ("activity", "service", "receiver", "provider")
CODE_LOOKUP_BYTES = 16 * 1024 * 1024
"""Root DEX files read a second time for their classes, in all (inflated), when a helper process scanned
them: a protector's stub is small; an app whose code is larger has readable code to show for it."""
CODE_SUFFIXES = (".dex", ".jar", ".apk", ".bundle")
"""Code files: DEX, archives of DEX, and React Native's JavaScript bundle (Hermes bytecode or plain JS)."""
TEXT_PROBE_BYTES = 64 * 1024
SUPERCLASS_DEPTH = 8
"""How far an application class's superclasses are followed (a protector's stub is its parent or
grandparent: Legu 4.x names a subclass in the app's own package)."""


def sniff(probe: Probe) -> bool:
    """A zip with ``AndroidManifest.xml``."""
    return probe.zip_names is not None and "AndroidManifest.xml" in probe.zip_names


def parse(source: Source, options: ParseOptions) -> Package:
    """Read an APK file (``options.offload``: whether the largest members may go to a forked helper)."""
    return read(source.path, options.limits, surfaces.prefilter_of(options), may_fork=options.offload)


def read(path: zipread.Archive, limits: Limits, prefilter: Prefilter, budget: zipread.Budget | None = None,
         label: str | None = None, may_fork: bool = False) -> Package:
    """Read the APK at ``path`` (or in memory: an APK nested in a bundle). The ``prefilter`` skips what
    cannot matter to any rule (DEX strings without an anchor, the bulk of large text assets); with its
    ``fast`` off everything is decoded (the reference the tests hold the fast path to). ``limits`` caps
    inflation and member counts (hostile input); ``budget`` is shared with an enclosing bundle."""
    entries, anomalies = zip_directory(path)
    files = [e for e in entries if not e.name.endswith("/")]
    if len(files) > limits.members:
        anomalies.append(Anomaly(
            AnomalyKind.LIMIT, "", msg("{count} entries; only the first {members} are read",
                                       count=len(files), members=limits.members)))
        files = files[: limits.members]
    if not any(e.name == "AndroidManifest.xml" for e in files):
        raise PackageUnreadable(msg("zip archive without AndroidManifest.xml: not an APK"))
    # The table and the manifest are read here first; reading the table costs about what inflating and
    # scanning a member of its size does (mapped, its pools searched by the automaton), so it counts at
    # its size when the members are shared out with a helper. res/ XML needs the table: it stays here.
    head_start = sum(e.size for e in files if e.name in ("AndroidManifest.xml", "resources.arsc"))
    budget = budget or zipread.Budget(progress.observer())
    shown = label or (path if isinstance(path, str) else "<memory>")
    with reading.Members(path, limits, prefilter, budget) as scheduled:
        alone = (_texts_with(arsc.ResourceTable(()), prefilter), _plain)  # a helper has no table
        scheduled.schedule([e for e in files if _scanned(e.name)], alone=alone, may_fork=may_fork,
                           stay=lambda e: e.name.startswith("res/"), head_start=head_start)
        digest = prefetch.hash_file(path)  # a thread: after the helper forked
        return _parse_members(shown, digest, scheduled, files, anomalies, prefilter)


def _first(members: list[zipread.Entry], name: str) -> zipread.Entry | None:
    return next((e for e in members if e.name == name), None)


def _texts_with(table: arsc.ResourceTable, prefilter: Prefilter, kept: dict[str, bytes] | None = None
                ) -> members.Texts:
    """``_member_texts`` against this table, as scanner.parsers.members calls it; ``kept`` holds on to
    the root DEX files read in this process, for the class lookups after the scan (_code)."""
    def texts(name: str, data: bytes, anomalies: list[Anomaly]) -> Iterable[Text]:
        if kept is not None and _root_dex(name) and len(data) <= CODE_LOOKUP_BYTES:
            kept[name] = data
        return _member_texts(name, data, table, anomalies, prefilter)
    return texts


def _root_dex(name: str) -> bool:
    """``classes.dex``, ``classes2.dex`` …: the DEX files Android loads from an APK."""
    return "/" not in name and name.startswith("classes") and name.endswith(".dex")


def _parse_members(path: str, digest: prefetch.Pending[str], scheduled: reading.Members, files: list[zipread.Entry],
                   anomalies: list[Anomaly], prefilter: Prefilter) -> Package:
    kept: dict[str, bytes] = {}
    reader = scheduled.reader
    # While the largest members are read ahead (scanner.parsers.reading), the manifest and the table here.
    manifest_bytes = _member_bytes(reader, _first(files, "AndroidManifest.xml"), anomalies)
    if manifest_bytes.lstrip()[:1] == b"<":
        anomalies.append(Anomaly(AnomalyKind.STRUCTURE, "AndroidManifest.xml", msg("plain-text XML, not binary XML "
                                                                                   "(Android would refuse it)")))
    manifest = _elements(manifest_bytes, "AndroidManifest.xml", anomalies)
    if not any(e.tag == "manifest" for e in manifest):
        raise PackageUnreadable(msg("AndroidManifest.xml is not readable binary XML"))
    # A fast read of the table decodes only the strings that can matter (scanner.extract.arsc).
    table = _table(_member_view(reader, _first(files, "resources.arsc"), anomalies), anomalies, prefilter)
    texts = [Text(s.value, Location("resources.arsc", "resource", s.pointer,
                                    resource=Resource(s.type_name, s.key, s.locale, s.item)))
             for s in table.strings]
    scanned = scheduled.scan(_texts_with(table, prefilter, kept), _plain, anomalies)
    for entry in files:  # report in the package's own member order, whatever order they were read in
        texts.extend(scanned.get(id(entry), ()))
    info = _identity(path, digest.result(), manifest, table)  # a read error is PackageUnreadable already
    info = dataclasses.replace(info, identity=signatures.android(reader.source, files, reader, anomalies))
    code = _code(reader, files, manifest, info.app_id or "", kept)
    # Members are read largest first and partly by the helper: sort anomalies so the report does not
    # depend on the reading order.
    ordered = tuple(sorted(anomalies, key=lambda a: (a.member, a.kind, a.detail)))
    return Package(info, PackageKind.APP, _permissions(manifest), tuple(texts), ordered, code=code,
                   members=tuple(e.name for e in files))


def _code(reader: zipread.Reader, files: list[zipread.Entry], manifest: list[XmlElement], package: str,
          kept: dict[str, bytes]) -> AndroidCode:
    """The classes the manifest names, and which of them (with the application's superclasses) the
    root DEX files define."""
    application = _class_name(package, _manifest_attr(manifest, "application", "name"))
    components = tuple(dict.fromkeys(filter(None, (
        _class_name(package, _attr(element, "name")) for element in manifest if element.tag in COMPONENT_TAGS))))
    loaded, complete = _root_dex_files(reader, files, kept)
    indexes: list[tuple[str, dexclasses.DexIndex]] = []
    for name, data in loaded:
        try:
            indexes.append((name, dexclasses.DexIndex(data)))
        except (ChunkError, struct.error):
            complete = False
    defined: dict[str, str] = {}
    for wanted in filter(None, (application, *components)):
        _define(wanted, indexes, defined)
    # Up the application's superclasses (a protector's stub is its parent or grandparent).
    current = defined.get(application, "")
    for _ in range(SUPERCLASS_DEPTH):
        if not current or current in defined or current.startswith(("android.", "java.")):
            break
        _define(current, indexes, defined)
        current = defined.get(current, "")
    return AndroidCode(application, components, tuple(defined.items()),
                       tuple(DexFile(name, index.strings, index.classes) for name, index in indexes), complete)


def _define(name: str, indexes: list[tuple[str, dexclasses.DexIndex]], defined: dict[str, str]) -> None:
    """Record ``name``'s superclass when a DEX file defines it (the first that does, as Android loads)."""
    for _member, index in indexes:
        parent = index.superclass(name)
        if parent is not None:
            defined[name] = parent
            return


def _root_dex_files(reader: zipread.Reader, files: list[zipread.Entry], kept: dict[str, bytes]
                    ) -> tuple[list[tuple[str, bytes]], bool]:
    """(the root DEX files, whether all of them are there). A DEX the text scan kept is not read again;
    the others (those a helper process scanned) are, within CODE_LOOKUP_BYTES."""
    spent, complete = 0, True
    loaded: list[tuple[str, bytes]] = []
    for entry in files:
        if not _root_dex(entry.name):
            continue
        data = kept.get(entry.name)
        if data is None and spent + entry.size <= CODE_LOOKUP_BYTES:
            data = reader.read(entry).data
            spent += entry.size
        if data is not None and dexclasses.is_dex(data):
            loaded.append((entry.name, data))
        else:
            complete = False
    return loaded, complete


def _readable_code(name: str, data: bytes) -> bool:
    """Whether a code file is in a form this scan reads: DEX, a zip (of DEX), or a React Native bundle as
    Hermes bytecode or JavaScript text. A payload decrypted at run time is none of these."""
    if name.endswith(".bundle"):
        return hermes.is_hermes(data) or textdecode.decode_bytes(data[:TEXT_PROBE_BYTES]) is not None
    return dexclasses.is_dex(data) or data.startswith(b"PK")


def _sealed(name: str) -> Anomaly:
    if name.lower().endswith(".bundle"):
        return Anomaly(AnomalyKind.ENCRYPTED, name, msg(
            "React Native bundle that is neither Hermes bytecode nor JavaScript (decrypted at run time): the text "
            "it shows could not be read"))
    return Anomaly(AnomalyKind.ENCRYPTED, name, msg(
        "code file that is neither DEX nor zip (decrypted at run time): the text it shows could not be read"))


def _class_name(package: str, attr: XmlAttr | None) -> str:
    """A manifest class name resolved as Android does: ``.Foo`` and ``Foo`` within the package."""
    if attr is None or attr.vtype != axml.TYPE_STRING or not attr.value:
        return ""
    name = attr.value.strip()
    if name.startswith("."):
        return package + name
    return name if "." in name else f"{package}.{name}" if package else name


def _member_bytes(reader: zipread.Reader, entry: zipread.Entry | None, anomalies: list[Anomaly]) -> bytes:
    """A member read in this thread as bytes (the manifest), its anomalies recorded."""
    if entry is None:
        return b""
    member = reader.read(entry)
    anomalies.extend(member.anomalies)
    return member.data or b""


def _member_view(reader: zipread.Reader, entry: zipread.Entry | None, anomalies: list[Anomaly]) -> zipread.Buffer:
    """The resource table, mapped from the file when it is large and stored (zipread.Reader.read_view)."""
    if entry is None:
        return b""
    data, found = reader.read_view(entry)
    anomalies.extend(found)
    return data if data is not None else b""


def _table(data: zipread.Buffer, anomalies: list[Anomaly], prefilter: Prefilter) -> arsc.ResourceTable:
    if not data:
        return arsc.ResourceTable(())
    try:
        table = arsc.read_table(data, prefilter if prefilter.fast else None)
    except (ChunkError, ValueError, IndexError, struct.error) as exc:
        anomalies.append(Anomaly(AnomalyKind.UNREADABLE, "resources.arsc", msg("resource table unreadable ({exc})",
                                                                               exc=exc)))
        return arsc.ResourceTable(())
    if not table.complete:
        anomalies.append(Anomaly(
            AnomalyKind.UNREADABLE, "resources.arsc", msg("table partly unreadable; strings read from pools")))
    return table


def _elements(data: bytes, member: str = "", anomalies: list[Anomaly] | None = None) -> list[XmlElement]:
    """Start tags and text nodes of a binary XML document: our strict reader first (fast, no import),
    androguard's lenient reader when a file is tampered with (peers-and-conventions.md §3)."""
    if data.lstrip()[:1] == b"<":
        return _text_xml_elements(data)
    try:
        return list(axml.elements(data))
    except (ChunkError, struct.error, IndexError, ValueError) as exc:
        if anomalies is not None:
            anomalies.append(Anomaly(
                AnomalyKind.STRUCTURE, member, msg("binary XML tampered with ({exc}); read leniently", exc=exc)))
        elements: list[XmlElement] = []
        try:
            elements.extend(_lenient_elements(data))
        except Exception as lenient_exc:  # androguard's reader has its own failure modes: keep what it read
            if anomalies is not None:
                anomalies.append(Anomaly(
                    AnomalyKind.UNREADABLE, member, msg("binary XML unreadable past a point ({lenient_exc})",
                                                        lenient_exc=lenient_exc)))
        return elements


def _text_xml_elements(data: bytes) -> list[XmlElement]:
    """A manifest or layout shipped as plain-text XML (a trick: Android rejects it, naive tools parse it).
    Parsed with entity resolution and network access off, so the document cannot reach anything."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return []
    if root is None:
        return []
    elements = []
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        attrs = tuple(XmlAttr(etree.QName(k).localname, axml.TYPE_STRING, 0, v) for k, v in node.attrib.items())
        elements.append(XmlElement(etree.QName(node).localname, attrs))
    return elements


def _lenient_elements(data: bytes) -> Iterator[XmlElement]:
    # androguard logs every oddity of a hostile file through loguru; the report owns stdout and our own
    # messages own stderr, so its logging is switched off before it is first imported (only a tampered
    # file needs its lenient reader, so neither is imported on the common path).
    from loguru import logger

    logger.disable("androguard")
    from androguard.core import axml as lenient

    parser = lenient.AXMLParser(data)
    while parser.is_valid():
        event = next(parser)
        if event == lenient.END_DOCUMENT:
            return
        if event == lenient.START_TAG:
            count = max(0, parser.getAttributeCount())
            yield XmlElement(parser.name, tuple(_lenient_attr(parser, i) for i in range(count)))
        elif event == lenient.TEXT and parser.text.strip():
            yield XmlElement("#text", (), parser.text)


def _lenient_attr(parser: AXMLParser, index: int) -> XmlAttr:
    return XmlAttr(
        parser.getAttributeName(index),
        parser.getAttributeValueType(index),
        parser.getAttributeValueData(index),
        parser.getAttributeValue(index),
    )


def _manifest_attr(manifest: list[XmlElement], tag: str, name: str) -> XmlAttr | None:
    """An attribute of the first element of that tag."""
    element = next((e for e in manifest if e.tag == tag), None)
    return _attr(element, name) if element is not None else None


def _attr(element: XmlElement, name: str) -> XmlAttr | None:
    return next((a for a in element.attrs if a.name == name), None)


def _attr_text(attr: XmlAttr | None, table: arsc.ResourceTable) -> str | None:
    """A manifest attribute as aapt shows it: strings as is, references resolved, numbers decimal."""
    if attr is None:
        return None
    if attr.vtype == axml.TYPE_STRING:
        return attr.value
    if attr.vtype == axml.TYPE_REFERENCE:
        values = table.values(attr.data)
        default = [v for v in values if v.locale == "default"] or values
        return default[0].value if default else None
    return str(attr.data)


def _identity(path: str, digest: str, manifest: list[XmlElement], table: arsc.ResourceTable) -> PackageInfo:
    return PackageInfo(
        path=path,
        format="apk",
        sha256=digest,
        app_id=_attr_text(_manifest_attr(manifest, "manifest", "package"), table),
        app_name=_attr_text(_manifest_attr(manifest, "application", "label"), table),
        version=_attr_text(_manifest_attr(manifest, "manifest", "versionName"), table),
        version_code=_attr_text(_manifest_attr(manifest, "manifest", "versionCode"), table),
        target_sdk=_attr_text(_manifest_attr(manifest, "uses-sdk", "targetSdkVersion"), table),
    )


class _Attr(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> str: ...


class _Element(Protocol):
    @property
    def tag(self) -> str: ...
    @property
    def attrs(self) -> Sequence[_Attr]: ...


def permission_names(elements: Iterable[_Element], attribute: str = "name") -> tuple[str, ...]:
    """uses-permission and uses-permission-sdk-23 names, deduplicated in order (binary XML names the
    attribute ``name``; an App Bundle's proto XML ``android:name``)."""
    found: dict[str, None] = {}
    for element in elements:
        if element.tag in PERMISSION_TAGS:
            for attr in element.attrs:
                if attr.name == attribute and attr.value:
                    found[attr.value] = None
    return tuple(found)


def _permissions(manifest: list[XmlElement]) -> tuple[str, ...]:
    return permission_names(manifest)


def _scanned(name: str) -> bool:
    """Members whose text is read (the manifest and table are read first; signatures and media never)."""
    if name in ("AndroidManifest.xml", "resources.arsc") or name.startswith(SKIPPED_PREFIXES):
        return False
    return not textdecode.is_media(name)


def _plain(name: str, data: bytes) -> bool:
    """Whether ``_member_texts`` reads the member as a file (members.Plain)."""
    return _kind(name, data) == "file"


def _kind(name: str, data: bytes) -> str:
    """What a member is read as: ``dex``, ``sealed`` (a code file in no form this scan reads), ``xml``
    (binary XML under res/), ``native`` (lib/) or ``file``."""
    # endswith before splitext: this runs for each of an H5 shell's 20,000 members
    lowered = name.lower()
    if lowered.endswith(".dex") and posixpath.basename(name).startswith("classes"):
        return "dex"
    if lowered.endswith(CODE_SUFFIXES) and not _readable_code(lowered, data):
        return "sealed"  # not plain: never dropped by the prefilter unread, so its anomaly is always recorded
    if name.startswith("res/") and data[:2] == b"\x03\x00" and posixpath.splitext(name)[1].lower() == ".xml":
        return "xml"
    return "native" if name.startswith("lib/") else "file"


def _member_texts(name: str, data: bytes, table: arsc.ResourceTable, anomalies: list[Anomaly], prefilter: Prefilter
                  ) -> Iterator[Text]:
    """Texts of one member, by what the member is."""
    if not data:
        return
    kind = _kind(name, data)
    if kind == "dex":
        yield from _dex_texts(name, data, anomalies, prefilter)
    elif kind == "sealed":
        anomalies.append(_sealed(name))
    elif kind == "xml":
        yield from _xml_texts(name, data, table, anomalies)
    elif kind == "native":
        yield from surfaces.binary_texts(name, data, "native", prefilter)
    else:
        yield from surfaces.file_texts(name, data, prefilter)


def _dex_texts(name: str, data: bytes, anomalies: list[Anomaly], prefilter: Prefilter) -> Iterator[Text]:
    try:
        yield from code.dex_texts(name, data, prefilter)
    except ChunkError as exc:
        anomalies.append(Anomaly(AnomalyKind.UNREADABLE, name, msg("DEX string table unreadable ({exc})", exc=exc)))


def _xml_texts(name: str, data: bytes, table: arsc.ResourceTable, anomalies: list[Anomaly]) -> Iterator[Text]:
    """Literal text attributes and resolved @string references of a layout / preference / xml file."""
    kind = "layout" if name.startswith("res/layout") else "xml"
    for element in _elements(data, name, anomalies):
        if element.tag == "#text":
            yield Text(element.text, Location(name, kind, "text()"))
            continue
        for attr in element.attrs:
            if attr.name not in TEXT_ATTRIBUTES:
                continue
            pointer = f"{element.tag}@android:{attr.name}"
            if attr.vtype == axml.TYPE_STRING and attr.value:
                yield Text(attr.value, Location(name, kind, pointer))
            elif attr.vtype == axml.TYPE_REFERENCE:
                for value in table.values(attr.data):
                    yield Text(value.value, Location(name, kind, f"{pointer} -> {value.pointer}"))
