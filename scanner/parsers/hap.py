"""HarmonyOS packages: a module (``.hap``, shared module ``.hsp``) and an App Pack (``.app``).

A module is a zip with the compiled ``module.json`` (plain JSON: ``app`` merged from app.json5, and
``module`` with ``type``, ``abilities`` and ``requestPermissions``), ``resources.index`` (every string
with its qualifier; scanner.extract.resindex), ``ets/modules.abc`` (Ark bytecode: string literals are
uleb128 length + MUTF-8 + NUL, read around the anchors like a native library), ``ets/sourceMaps.map``,
``resources/rawfile/`` (H5 pages) and ``libs/*.so``. An App Pack holds the module packages and
``pack.info``; it is one app, and its declarations are united across modules, as the platform unites
them ("在多HAP场景下，已在entry模块中声明的权限，无需在feature模块中重复添加"). Signed packages carry a
``<hap sign block>`` before the central directory, which zip readers skip.
Sources: OpenHarmony application package structure (stage model) and declare-permissions docs,
https://gitee.com/openharmony/docs (zh-cn/application-dev/quick-start, security/AccessToken).
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import replace
from typing import Any

from scanner.extract import resindex
from scanner.extract.prefilter import Prefilter
from scanner.extract.stringpool import ChunkError
from scanner.i18n import msg
from scanner.model import (
    Anomaly,
    AnomalyKind,
    Limits,
    Location,
    Package,
    PackageInfo,
    PackageKind,
    ParseOptions,
    Purpose,
    Text,
)
from scanner.parsers import reading, signatures, surfaces, zipread
from scanner.parsers.common import PackageUnreadable, Probe, Source, file_sha256, json_table, scalar_text, zip_directory

MODULE_SUFFIXES = (".hap", ".hsp")
MAX_JSON = 4 * 1024 * 1024
"""module.json / pack.info larger than this are not read (real ones are a few KB)."""


def sniff(probe: Probe) -> bool:
    """A module: a zip with ``module.json`` (and no Android manifest)."""
    names = probe.zip_names or frozenset()
    return "module.json" in names and "AndroidManifest.xml" not in names


def sniff_pack(probe: Probe) -> bool:
    """An App Pack: ``pack.info`` beside module packages, no ``module.json`` of its own."""
    names = probe.zip_names or frozenset()
    return "pack.info" in names and "module.json" not in names and any(n.endswith(MODULE_SUFFIXES) for n in names)


def parse(source: Source, options: ParseOptions) -> Package:
    """Read one module package."""
    module = read_module(source.path, options.limits, surfaces.prefilter_of(options))
    found = list(module.anomalies)
    signed = signatures.harmony(source.path, found)
    info = PackageInfo(path=source.path, format="hap", sha256=file_sha256(source.path), **module.identity,
                       identity=signed)
    ordered = tuple(sorted(found, key=lambda a: (a.member, a.kind, a.detail)))
    return Package(info, PackageKind.APP, module.permissions, module.texts, ordered, purposes=module.purposes)


def parse_pack(source: Source, options: ParseOptions) -> Package:
    """Read an App Pack: every module in it, one app."""
    prefilter = surfaces.prefilter_of(options)
    path = source.path
    entries, anomalies = zip_directory(path)
    reader = zipread.Reader(path, options.limits)
    modules: list[tuple[str, Module]] = []
    try:
        pack = _json_member(reader, entries, "pack.info", anomalies)
        for entry in entries:
            if not entry.name.endswith(MODULE_SUFFIXES):
                continue
            if options.limits.depth < 1:
                anomalies.append(Anomaly(AnomalyKind.LIMIT, entry.name, msg("package nested 1 deep; the limit is "
                                                                            "{depth}", depth=options.limits.depth)))
                continue
            member = reader.read(entry)
            anomalies.extend(member.anomalies)
            if member.data is None:
                continue
            try:
                modules.append((entry.name, read_module(member.data, options.limits, prefilter)))
            except PackageUnreadable as exc:
                anomalies.append(Anomaly(AnomalyKind.UNREADABLE, entry.name, msg("module unreadable ({message})",
                                                                                 message=exc.message)))
    finally:
        reader.close()
    if not modules:
        raise PackageUnreadable(msg("App Pack without a readable module package (.hap / .hsp)"))
    return _united(path, pack, modules, anomalies)


class Module:
    """What one module package gives."""

    def __init__(self, identity: dict[str, str | None], permissions: tuple[str, ...], texts: tuple[Text, ...],
                 anomalies: tuple[Anomaly, ...], purposes: tuple[Purpose, ...], module_type: str) -> None:
        self.identity = identity
        self.permissions = permissions
        self.texts = texts
        self.anomalies = anomalies
        self.purposes = purposes
        self.module_type = module_type


def read_module(path: zipread.Archive, limits: Limits, prefilter: Prefilter) -> Module:
    """A module package on disk or in memory (inside an App Pack)."""
    entries, anomalies = zip_directory(path)
    files = [e for e in entries if not e.name.endswith("/")][: limits.members]
    with reading.Members(path, limits, prefilter) as scheduled:
        reader = scheduled.reader
        config = _json_member(reader, files, "module.json", anomalies)
        if not config:
            raise PackageUnreadable(msg("HarmonyOS module without a readable module.json"))
        values = _resources(reader, files, anomalies)
        texts = [Text(v.value, Location("resources.index", "resource", v.pointer)) for v in values
                 if not prefilter.fast or _matters(prefilter, v)]
        scanned = [e for e in files if _scanned(e.name)]
        scheduled.schedule(scanned)
        found = scheduled.scan(lambda name, data, _odd: _member_texts(name, data, prefilter), _plain, anomalies)
        for entry in scanned:  # in the module's own member order, whatever order they were read in
            texts.extend(found.get(id(entry), ()))
    app, module = json_table(config, "app"), json_table(config, "module")
    strings = _strings(values)
    requested = [p for p in module.get("requestPermissions") or [] if isinstance(p, dict)]
    identity = {
        "app_id": scalar_text(app.get("bundleName")),
        "app_name": _resolve(scalar_text(app.get("label")), strings) or scalar_text(app.get("label")),
        "version": scalar_text(app.get("versionName")),
        "version_code": scalar_text(app.get("versionCode")),
        "target_sdk": scalar_text(app.get("targetAPIVersion")),
    }
    permissions = tuple(dict.fromkeys(str(p["name"]) for p in requested if isinstance(p.get("name"), str)))
    purposes = tuple(_purpose(p, strings) for p in requested if isinstance(p.get("name"), str))
    ordered = tuple(sorted(anomalies, key=lambda a: (a.member, a.kind, a.detail)))
    return Module(identity, permissions, tuple(texts), ordered, purposes, scalar_text(module.get("type")) or "")


def _united(path: str, pack: dict[str, Any], modules: list[tuple[str, Module]], anomalies: list[Anomaly]) -> Package:
    """One app from its modules: identity from pack.info (else the entry module), declarations united."""
    entry = next((m for _, m in modules if m.module_type == "entry"), modules[0][1])
    summary = json_table(json_table(pack, "summary"), "app")
    version = json_table(summary, "version")
    identity = {**entry.identity, "app_id": scalar_text(summary.get("bundleName")) or entry.identity["app_id"],
                "version": scalar_text(version.get("name")) or entry.identity["version"],
                "version_code": scalar_text(version.get("code")) or entry.identity["version_code"]}
    texts = tuple(Text(t.value, replace(t.location, member=f"{name}!{t.location.member}"), t.line)
                  for name, module in modules for t in module.texts)
    permissions = tuple(dict.fromkeys(p for _, m in modules for p in m.permissions))
    purposes = tuple(Purpose(p.permission, p.reference, p.values,
                             replace(p.location, member=f"{name}!{p.location.member}"),
                             p.resolved, p.scene)
                     for name, module in modules for p in module.purposes)
    nested = tuple(Anomaly(a.kind, f"{name}!{a.member}" if a.member else name, a.detail)
                   for name, module in modules for a in module.anomalies)
    signed = signatures.harmony(path, anomalies, pack=True)
    info = PackageInfo(path=path, format="app-pack", sha256=file_sha256(path), **identity, identity=signed)
    return Package(info, PackageKind.APP, permissions, texts, tuple(anomalies) + nested, purposes=purposes)






def _json_member(reader: zipread.Reader, entries: list[zipread.Entry], name: str,
                 anomalies: list[Anomaly]) -> dict[str, Any]:
    entry = next((e for e in entries if e.name == name), None)
    if entry is None or entry.size > MAX_JSON:
        return {}
    member = reader.read(entry)
    anomalies.extend(member.anomalies)
    try:
        data = json.loads((member.data or b"").decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        anomalies.append(Anomaly(AnomalyKind.UNREADABLE, name, msg("not JSON")))
        return {}
    return data if isinstance(data, dict) else {}


def _resources(reader: zipread.Reader, entries: list[zipread.Entry],
               anomalies: list[Anomaly]) -> list[resindex.ResValue]:
    entry = next((e for e in entries if e.name == "resources.index"), None)
    if entry is None:
        return []
    member = reader.read(entry)
    anomalies.extend(member.anomalies)
    try:
        return resindex.read_index(member.data or b"")
    except (ChunkError, ValueError, IndexError) as exc:
        anomalies.append(Anomaly(AnomalyKind.UNREADABLE, "resources.index", msg("resource index unreadable ({exc})",
                                                                                exc=exc)))
        return []


def _matters(prefilter: Prefilter, value: resindex.ResValue) -> bool:
    return prefilter.matters(value.value, value.name)


def _strings(values: list[resindex.ResValue]) -> dict[str, list[tuple[str, str]]]:
    """``$string`` name -> (qualifier, value) in index order."""
    table: dict[str, list[tuple[str, str]]] = {}
    for v in values:
        if v.type_name == "string":
            table.setdefault(v.name, []).append((v.qualifier, v.value))
    return table


def _resolve(reference: str | None, strings: dict[str, list[tuple[str, str]]]) -> str | None:
    """The base (else first) value of a ``$string:name`` reference; None when it is not one or unresolved."""
    if not reference or not reference.startswith("$string:"):
        return None
    values = strings.get(reference.removeprefix("$string:"), [])
    return next((v for q, v in values if q == "base"), values[0][1] if values else None)


def _purpose(declared: dict[str, Any], strings: dict[str, list[tuple[str, str]]]) -> Purpose:
    """A requestPermissions entry's reason: a ``$string:`` reference resolved per qualifier, or literal."""
    reason = declared.get("reason")
    reference = reason if isinstance(reason, str) else ""
    scene = declared.get("usedScene")
    when = str(scene.get("when") or "") if isinstance(scene, dict) else ""
    location = Location("module.json", "manifest", f"requestPermissions[{declared['name']}].reason")
    if reference.startswith("$string:"):
        values = strings.get(reference.removeprefix("$string:"), [])
        return Purpose(declared["name"], reference, tuple(values), location, bool(values), when)
    values_literal = (("base", reference),) if reference else ()
    return Purpose(declared["name"], reference, values_literal, location, True, when)


def _scanned(name: str) -> bool:
    if name in ("module.json", "resources.index", "pack.info") or name.startswith("resources/base/media/"):
        return False
    return posixpath.splitext(name)[1].lower() not in {".png", ".jpg", ".jpeg", ".webp", ".gif", ".svg", ".mp3",
                                                        ".mp4", ".ttf", ".otf", ".woff", ".woff2"}


def _member_texts(name: str, data: bytes, prefilter: Prefilter) -> list[Text]:
    """Bytecode and native libraries around their anchors (MUTF-8 equals UTF-8 for the BMP); source
    maps, raw files and the rest as text."""
    kind = _kind(name)
    if kind != "file":
        return list(surfaces.binary_texts(name, data, kind, prefilter))
    return list(surfaces.file_texts(name, data, prefilter))


def _kind(name: str) -> str:
    """What a member is read as: ``code`` (Ark bytecode), ``native`` (a library) or ``file``."""
    if name.endswith(".abc"):
        return "code"
    return "native" if name.startswith("libs/") or name.endswith(".so") else "file"


def _plain(name: str, _data: bytes) -> bool:
    """Whether ``_member_texts`` reads the member as a file (members.Plain)."""
    return _kind(name) == "file"
