"""iOS packages (``.ipa``): ``Payload/<Name>.app/`` with its Info.plist, localized strings, binaries
and hybrid web payloads.

- Identity: ``Info.plist`` (binary or XML; the standard library's plistlib reads both):
  CFBundleIdentifier, CFBundleShortVersionString, CFBundleVersion, CFBundleDisplayName / CFBundleName,
  CFBundleExecutable, CFBundleDevelopmentRegion.
- Texts: ``*.lproj/*.strings`` (a binary plist, UTF-16 with a BOM, or UTF-8 ``"key" = "value";``),
  ``*.stringsdict``, the main executable and embedded frameworks (Mach-O, thin or FAT: strings around
  the anchors, placed by segment and section; scanner.extract.macho), Cordova / Capacitor ``www/`` and
  ``public/``, React Native ``main.jsbundle``, and other files as text.
- Purposes: the ``NS…UsageDescription`` keys of Info.plist, localized by ``<lang>.lproj/InfoPlist.strings``;
  what the binaries link (LC_LOAD_DYLIB) or name (class / selector strings) is matched against the ios
  catalog, so that a capability used without its purpose key is reported.
- An App Store binary encrypted with cryptid 1 cannot be read: that is reported (PKG005), never a pass.
Sources: Apple's Bundle Resources and Information Property List references
(https://developer.apple.com/documentation/bundleresources), <mach-o/loader.h>.
"""

from __future__ import annotations

import codecs
import posixpath
import re
from typing import Any

from scanner import catalogs
from scanner.extract import macho, plists
from scanner.extract.prefilter import Prefilter
from scanner.i18n import msg
from scanner.model import (
    Anomaly,
    AnomalyKind,
    Location,
    Package,
    PackageInfo,
    PackageKind,
    ParseOptions,
    Purpose,
    Text,
)
from scanner.parsers import reading, signatures, surfaces, zipread
from scanner.parsers.common import PackageUnreadable, Probe, Source, file_sha256, scalar_text, zip_directory

MAX_PLIST = 8 * 1024 * 1024
_APP = re.compile(r"^Payload/([^/]+\.app)/")
_STRINGS_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)"\s*=\s*"((?:[^"\\]|\\.)*)"\s*;', re.S)
_SKIPPED = frozenset({".png", ".jpg", ".jpeg", ".gif", ".car", ".mobileprovision", ".ttf",
                      ".otf", ".mp3", ".mp4", ".caf", ".wav", ".m4a", ".sqlite", ".db"})


def sniff(probe: Probe) -> bool:
    """A zip whose entries live under ``Payload/`` (an empty ``Payload/`` too: it is then unreadable)."""
    names = probe.zip_names or frozenset()
    return bool(names) and all(n.startswith(("Payload/", "SwiftSupport/", "Symbols/", "iTunesMetadata.plist",
                                              "iTunesArtwork", "META-INF/")) for n in names) \
        and any(n.startswith("Payload/") for n in names)


def parse(source: Source, options: ParseOptions) -> Package:
    """Read an IPA."""
    path = source.path
    prefilter = surfaces.prefilter_of(options)
    entries, anomalies = zip_directory(path)
    app = next((m.group(0) for e in entries if (m := _APP.match(e.name))), None)
    if app is None:
        raise PackageUnreadable(msg("IPA without an app bundle: Payload/ holds no <Name>.app folder"))
    files = [e for e in entries if e.name.startswith(app) and not e.name.endswith("/")][: options.limits.members]
    with reading.Members(path, options.limits, prefilter) as scheduled:
        reader = scheduled.reader
        info = _plist(reader, files, app + "Info.plist", anomalies)
        if not info:
            raise PackageUnreadable(msg("{app}Info.plist is missing or not a property list", app=app))
        executable = app + str(info.get("CFBundleExecutable") or "")
        texts: list[Text] = []
        localized: dict[str, dict[str, str]] = {}
        linked: list[tuple[str, str]] = []
        # In the bundle's member order (the localized strings and linked frameworks are gathered as read),
        # in groups: an app's www/ folder holds pages by the thousand (scanner.parsers.members).
        signature: list[bytes | None] = []

        def member_texts(name: str, data: bytes, odd: list[Anomaly]) -> list[Text]:
            if name == executable:  # its code signature, while its bytes are in hand
                signature.append(_code_signature(name, data, odd))
            return _member_texts(name, data, prefilter, localized, linked, odd, name == executable)

        scanned = [e for e in files if _scanned(e.name, app)]
        scheduled.schedule(scanned, in_order=True)
        found = scheduled.scan(member_texts, _plain, anomalies)
        for entry in scanned:
            texts.extend(found.get(id(entry), ()))
        if not signature:
            binary = next((e for e in files if e.name == executable), None)
            main = reader.read(binary) if binary is not None else None
            signature.append(_code_signature(executable, main.data, anomalies) if main and main.data else None)
        provision = _small_member(reader, files, app + "embedded.mobileprovision", anomalies)
        signed = signatures.ios(executable, signature[0], provision, anomalies)
    purposes = _purposes(info, localized, app)
    uses = _uses(linked)
    locales = tuple(sorted({lang for lang in localized} | {str(info.get("CFBundleDevelopmentRegion") or "")} - {""}))
    identity = PackageInfo(
        path=path, format="ipa", sha256=file_sha256(path), app_id=scalar_text(info.get("CFBundleIdentifier")),
        app_name=scalar_text(info.get("CFBundleDisplayName")) or scalar_text(info.get("CFBundleName")),
        version=scalar_text(info.get("CFBundleShortVersionString")),
        version_code=scalar_text(info.get("CFBundleVersion")),
        target_sdk=scalar_text(info.get("MinimumOSVersion")), identity=signed)
    permissions = tuple(dict.fromkeys([p.permission for p in purposes] + [key for key, _ in uses]))
    ordered = tuple(sorted(anomalies, key=lambda a: (a.member, a.kind, a.detail)))
    return Package(identity, PackageKind.APP, permissions, tuple(texts), ordered, purposes=purposes, uses=uses,
                   locales=locales)


def _code_signature(name: str, data: bytes, anomalies: list[Anomaly]) -> bytes | None:
    """The CMS signature of the main executable's slices (scanner.parsers.signatures)."""
    ranges = [part.signature for part in macho.slices(data) if part.signature is not None]
    return signatures.ios_signature(data, ranges, name, anomalies)


def _small_member(reader: zipread.Reader, entries: list[zipread.Entry], name: str, anomalies: list[Anomaly]
                  ) -> bytes | None:
    entry = next((e for e in entries if e.name == name), None)
    if entry is None or entry.size > MAX_PLIST:
        return None
    member = reader.read(entry)
    anomalies.extend(member.anomalies)
    return bytes(member.data) if member.data else None




def _plist(reader: zipread.Reader, entries: list[zipread.Entry], name: str, anomalies: list[Anomaly]) -> dict[str, Any]:
    entry = next((e for e in entries if e.name == name), None)
    if entry is None or entry.size > MAX_PLIST:
        return {}
    member = reader.read(entry)
    anomalies.extend(member.anomalies)
    return load_plist(member.data or b"")


load_plist = plists.load
"""Info.plist and .stringsdict files (scanner.extract.plists)."""


def strings_file(data: bytes) -> dict[str, str]:
    """A compiled ``.strings`` file: binary plist, UTF-16 with a BOM, or UTF-8 text of ``"k" = "v";``."""
    if data.startswith(b"bplist00") or data.lstrip().startswith(b"<?xml"):
        return {str(k): str(v) for k, v in load_plist(data).items() if isinstance(v, str)}
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", "replace")
    else:
        text = data.decode("utf-8-sig", "replace")
    return {_unescape(k): _unescape(v) for k, v in _STRINGS_PAIR.findall(text)}


def _unescape(value: str) -> str:
    return re.sub(r'\\(["\\n t])', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), value)


def _scanned(name: str, app: str) -> bool:
    rel = name[len(app):]
    if rel in ("Info.plist", "PkgInfo", "embedded.mobileprovision") or rel.startswith("_CodeSignature/"):
        return False
    return posixpath.splitext(name)[1].lower() not in _SKIPPED


def _lang(name: str) -> str | None:
    folder = posixpath.basename(posixpath.dirname(name))
    return folder[: -len(".lproj")] if folder.endswith(".lproj") else None


def _member_texts(name: str, data: bytes, prefilter: Prefilter, localized: dict[str, dict[str, str]],
                  linked: list[tuple[str, str]], anomalies: list[Anomaly], main: bool) -> list[Text]:
    lang = _lang(name)
    kind = _kind(name, data)
    if kind == "strings" and lang is not None:
        pairs = strings_file(data)
        if posixpath.basename(name) == "InfoPlist.strings":
            localized[lang] = pairs
        return [Text(v, Location(name, "resource", f"{k} [{lang}]")) for k, v in pairs.items()
                if not prefilter.fast or _matters(prefilter, v, k)]
    if kind == "stringsdict":
        flat, cut = _flatten(load_plist(data))
        if cut:
            anomalies.append(Anomaly(AnomalyKind.STRUCTURE, name, msg("a property list that contains itself or nests "
                                                                      "past {MAX_PLIST_DEPTH} levels: read to that "
                                                                      "depth", MAX_PLIST_DEPTH=MAX_PLIST_DEPTH)))
        return [Text(v, Location(name, "resource", f"{k} [{lang or 'base'}]"))
                for k, v in flat if not prefilter.fast or _matters(prefilter, v, k)]
    if kind == "macho":
        return _binary_texts(name, data, prefilter, linked, anomalies, main)
    return list(surfaces.file_texts(name, data, prefilter))


def _kind(name: str, data: bytes) -> str:
    """What a member is read as: ``strings`` (a localized .strings file), ``stringsdict``, ``macho``
    (an executable or library) or ``file``."""
    if name.endswith(".strings") and _lang(name) is not None:
        return "strings"
    if name.endswith(".stringsdict"):
        return "stringsdict"
    return "macho" if macho.is_macho(data[:8]) else "file"


def _plain(name: str, data: bytes) -> bool:
    """Whether ``_member_texts`` reads the member as a file (members.Plain)."""
    return _kind(name, data) == "file"


def _matters(prefilter: Prefilter, value: str, key: str) -> bool:
    return prefilter.matters(value, key)


MAX_PLIST_DEPTH = 16
"""Levels of a .stringsdict read (Apple's plural rules nest three): a binary plist's object references
can make a dictionary contain itself, which would never end."""


def _flatten(value: object) -> tuple[list[tuple[str, str]], bool]:
    """(dotted key, string) of every string in a nested dict, and whether it was cut: a dictionary that
    contains itself, or nesting past MAX_PLIST_DEPTH."""
    pairs: list[tuple[str, str]] = []
    cut = False
    stack: list[tuple[object, str, tuple[int, ...]]] = [(value, "", ())]
    while stack:
        item, prefix, inside = stack.pop()
        if isinstance(item, str):
            pairs.append((prefix.rstrip("."), item))
        elif isinstance(item, dict):
            if id(item) in inside or len(inside) >= MAX_PLIST_DEPTH:
                cut = True
                continue
            stack.extend((v, f"{prefix}{k}.", (*inside, id(item))) for k, v in reversed(list(item.items())))
    return pairs, cut


def _binary_texts(name: str, data: bytes, prefilter: Prefilter, linked: list[tuple[str, str]],
                  anomalies: list[Anomaly], main: bool) -> list[Text]:
    """A Mach-O: strings around the anchors of its sections (code and load commands hold no literals), in
    the arm64 slice of a FAT binary (the slices are builds of one source: the same literals), placed by
    section; what every slice links and names; every slice's encryption."""
    parts = macho.slices(data)
    if not parts:
        return list(surfaces.binary_texts(name, data, "native", prefilter))
    texts: list[Text] = []
    chosen = next((p for p in parts if p.cputype == macho.CPU_ARM64), parts[0])
    for part in parts:
        if part.encrypted is not None:
            start, size = part.encrypted
            anomalies.append(Anomaly(AnomalyKind.ENCRYPTED, name, msg("App Store encryption (cryptid 1) covers {size} "
                                                                      "bytes from offset {start}: the strings there "
                                                                      "could not be read", size=size, start=start)))
        if part is chosen:
            for start, end in _readable(part):  # the encrypted range holds ciphertext, not strings
                texts += surfaces.binary_texts(name, data, "native", prefilter, start, end, part.place)
        linked.extend((name, lib) for lib in part.dylibs)
        linked.extend((name, symbol) for symbol in _symbols_in(data, part))
    return texts


def _readable(part: macho.Slice) -> list[tuple[int, int]]:
    """The file ranges of a slice's data sections (every section but machine code), outside its
    encrypted range; the whole slice when it lists no section."""
    sections = [(s.offset, s.offset + s.size) for s in part.sections
                if s.name not in macho.CODE_SECTIONS and s.size and s.offset < part.offset + part.size]
    ranges = sections or [(part.offset, part.offset + part.size)]
    if part.encrypted is None:
        return ranges
    start, size = part.encrypted
    cut = []
    for a, b in ranges:
        cut += [(x, y) for x, y in ((a, min(b, start)), (max(a, start + size), b)) if y > x]
    return cut


NAME_SECTIONS = frozenset({"__objc_classname", "__objc_methname", "__cstring", "__swift5_reflstr"})
"""Where class and selector names live (Objective-C runtime metadata, C strings, Swift reflection)."""


def _symbols_in(data: bytes, part: macho.Slice) -> list[str]:
    """The class and selector names of the ios catalog that a slice holds (ASCII, as written), looked
    for in the sections that hold names (the whole slice when it lists none)."""
    regions = [(s.offset, s.offset + s.size) for s in part.sections if s.name in NAME_SECTIONS] \
        or [(part.offset, part.offset + part.size)]
    found = []
    for symbol in _catalog_symbols():
        needle = symbol.encode("ascii")
        if any(data.find(needle, start, end) >= 0 for start, end in regions):
            found.append(symbol)
    return found


def _catalog_symbols() -> tuple[str, ...]:
    purposes = catalogs.load("ios")["purposes"]
    return tuple(dict.fromkeys(s for entry in purposes.values() for s in entry["symbols"]))


def _uses(linked: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """(purpose key, evidence) for each catalog framework linked or symbol named."""
    found: dict[str, str] = {}
    for key, entry in catalogs.load("ios")["purposes"].items():
        for member, what in linked:
            framework = next((f for f in entry["frameworks"] if f"/{f}.framework/" in what), None)
            if framework or what in entry["symbols"]:
                binary = posixpath.basename(member)
                evidence = (msg("{binary} links {framework}", binary=binary, framework=framework) if framework
                            else msg("{binary} uses {symbol}", binary=binary, symbol=what))
                found.setdefault(key, evidence)
    return tuple(found.items())


def _purposes(info: dict[str, Any], localized: dict[str, dict[str, str]], app: str) -> tuple[Purpose, ...]:
    """Each NS…UsageDescription key of Info.plist with its value and every localized value."""
    found = []
    for key, value in info.items():
        if not (isinstance(key, str) and key.startswith("NS") and key.endswith("UsageDescription")):
            continue
        values = [("Info.plist", value if isinstance(value, str) else "")]
        values += [(lang, pairs[key]) for lang, pairs in sorted(localized.items()) if key in pairs]
        found.append(Purpose(key, key, tuple(values), Location(app + "Info.plist", "manifest", key)))
    return tuple(found)
