"""WeChat mini-program packages: ``.wxapkg`` plain (0xBE … 0xED) and PC-client encrypted (``V1MMWX``).

Formats: ../shared/domain/filing-rules.md §5.1 (big-endian header and index) and §5.2 (PC encryption:
PBKDF2-HMAC-SHA1(appid, "saltiest", 1000, 32) -> AES-256-CBC over bytes 6..1030 with IV "the iv: 16
bytes", first 1023 bytes kept; the rest XOR-ed with the appid's second-to-last character). Decryption
happens in memory; member names are only ever labels, never paths.
"""

from __future__ import annotations

import json
import os
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scanner.extract import textdecode
from scanner.files import read_capped
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
    PrivacyConfig,
    Text,
)
from scanner.parsers.common import PackageEncrypted, PackageUnreadable, Probe, Source, file_sha256

FIRST_MARK = 0xBE
LAST_MARK = 0xED
ENCRYPTED_MAGIC = b"V1MMWX"
_HEADER = struct.Struct(">BIIIBI")
APPID_PATTERN = re.compile(r"wx[0-9a-f]{16}")
CONFIG_MEMBERS = ("/app-config.json", "/app.json", "/ext.json")
MAX_ENTRIES = 100_000


@dataclass(frozen=True, slots=True)
class Entry:
    """One file of the package."""

    name: str
    offset: int
    size: int


def is_wxapkg(head: bytes) -> bool:
    """Plain or encrypted wxapkg by its first bytes."""
    return head.startswith(ENCRYPTED_MAGIC) or (len(head) >= 14 and head[0] == FIRST_MARK and head[13] == LAST_MARK)


def appid_from_path(path: str) -> str | None:
    """The PC client stores packages under …/Applet/{appid}/…: the last ``wx`` + 16 hex in the path."""
    found = APPID_PATTERN.findall(os.path.abspath(path))
    return found[-1] if found else None


def decrypt(data: bytes, appid: str) -> bytes:
    """Decrypt a ``V1MMWX`` package with its appid (filing-rules.md §5.2)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    key = PBKDF2HMAC(algorithm=hashes.SHA1(), length=32, salt=b"saltiest", iterations=1000).derive(
        appid.encode("utf-8"))
    head = data[6:1030]
    head = head[: len(head) - len(head) % 16]
    decryptor = Cipher(algorithms.AES(key), modes.CBC(b"the iv: 16 bytes")).decryptor()
    plain_head = (decryptor.update(head) + decryptor.finalize())[:1023]
    xor_key = ord(appid[-2]) if len(appid) >= 2 else 0x66
    # XOR with one byte is a byte-to-byte mapping: bytes.translate does it in one C-level pass.
    table = bytes(b ^ xor_key for b in range(256))
    return plain_head + data[1030:].translate(table)


def read_index(data: bytes) -> list[Entry]:
    """The file index; PackageUnreadable when the header or an entry does not fit the data."""
    if len(data) < _HEADER.size:
        raise PackageUnreadable(msg("wxapkg shorter than its 18-byte header"))
    first, _info, index_len, _body_len, last, count = _HEADER.unpack_from(data, 0)
    if first != FIRST_MARK or last != LAST_MARK:
        raise PackageUnreadable(msg("not a wxapkg (header marks 0xBE … 0xED missing)"))
    if count > MAX_ENTRIES or 14 + index_len > len(data):
        raise PackageUnreadable(msg("wxapkg index ({count} entries, {index_len} bytes) does not fit the file",
                                    count=count, index_len=index_len))
    entries: list[Entry] = []
    pos = _HEADER.size
    for number in range(count):
        entry, pos = _read_entry(data, pos, number)
        entries.append(entry)
    return entries


def _read_entry(data: bytes, pos: int, number: int) -> tuple[Entry, int]:
    if pos + 4 > len(data):
        raise PackageUnreadable(msg("wxapkg index truncated at entry {number}", number=number))
    name_len = struct.unpack_from(">I", data, pos)[0]
    end = pos + 4 + name_len
    if end + 8 > len(data):
        raise PackageUnreadable(msg("wxapkg index truncated at entry {number}", number=number))
    name = data[pos + 4 : end].decode("utf-8", errors="replace")
    offset, size = struct.unpack_from(">II", data, end)
    if offset + size > len(data):
        raise PackageUnreadable(msg("wxapkg entry {name} points past the end of the file", name=repr(name)))
    return Entry(name, offset, size), end + 8


def read_package(path: str, cap: int) -> bytes:
    """A package read whole (wxapkg, TPKG), refused past the package cap."""
    try:
        data = read_capped(path, cap)
    except OSError as exc:
        raise PackageUnreadable(msg("cannot read: {reason}", reason=exc.strerror or exc)) from exc
    if data is None:
        raise PackageUnreadable(msg("larger than the package cap of {cap} bytes (--max-package-mb): not read", cap=cap))
    return data


def readable(entries: list[Entry], data_size: int, limits: Limits) -> tuple[list[Entry], list[Anomaly]]:
    """The entries to read, under the same caps as a zip's members, and what was left out and why.

    A wxapkg's index may point any number of entries at the same bytes (2,000 entries over one 1 MB
    region made a 1 MB file cost 2 GB): an entry whose range another already covered is read once, and
    the bytes read in all stay within the file's own size (indexed bytes beyond it can only be overlap),
    the package cap and the member cap. Past a cap the rest is not read (PKG003); overlap is PKG004."""
    anomalies: list[Anomaly] = []
    if len(entries) > limits.members:
        anomalies.append(Anomaly(AnomalyKind.LIMIT, "", msg("{count} entries; only the first {members} are read",
                                                            count=len(entries), members=limits.members)))
        entries = entries[: limits.members]
    kept: list[Entry] = []
    seen: set[tuple[int, int]] = set()
    budget = min(data_size, limits.package_bytes)
    spent = repeated = 0
    for entry in entries:
        if (entry.offset, entry.size) in seen:
            repeated += 1
            continue
        if entry.size > limits.member_bytes:
            anomalies.append(Anomaly(AnomalyKind.LIMIT, entry.name, msg(
                "{size} bytes, over the member cap of {cap}: not read", size=entry.size, cap=limits.member_bytes)))
            continue
        if spent + entry.size > budget:
            anomalies.append(Anomaly(AnomalyKind.LIMIT, entry.name, msg("the index names more bytes than the "
                                                                        "{data_size}-byte file holds: entries from "
                                                                        "here on overlap and are not read",
                                                                        data_size=data_size)))
            break
        seen.add((entry.offset, entry.size))
        spent += entry.size
        kept.append(entry)
    if repeated:
        anomalies.append(Anomaly(AnomalyKind.STRUCTURE, "", msg("{repeated} index entries point at bytes another entry "
                                                                "names: read once", repeated=repeated)))
    return kept, anomalies


def load(path: str, wxid: str | None, limits: Limits | None = None) -> tuple[bytes, str | None]:
    """The plain bytes of a wxapkg and its appid, decrypting a ``V1MMWX`` package in memory; a file past
    the package cap is not read."""
    data = read_package(path, (limits or Limits()).package_bytes)
    appid = wxid or appid_from_path(path)
    if not data.startswith(ENCRYPTED_MAGIC):
        return data, appid
    if appid is None:
        raise PackageEncrypted(msg("PC-client encrypted wxapkg (V1MMWX): pass the mini-program's appid with --wxid wx… "
                                   "(or keep it in the path, …/Applet/wx…/)"))
    plain = decrypt(data, appid)
    if not plain or plain[0] != FIRST_MARK:
        raise PackageEncrypted(msg("V1MMWX package does not decrypt with appid {appid} (wrong --wxid?)", appid=appid))
    return plain, appid


def member_texts(data: bytes, entries: list[Entry], prefix: str = "") -> Iterator[Text]:
    """Every text member as one document (the engine narrows locations to lines)."""
    for entry in entries:
        ext = os.path.splitext(entry.name)[1].lower()
        if ext in textdecode.MEDIA_EXTENSIONS:
            continue
        text = textdecode.file_text(entry.name, data[entry.offset : entry.offset + entry.size])
        if text:
            yield Text(text, Location(prefix + entry.name, "page", ""))


def privacy_config(data: bytes, entries: list[Entry], prefix: str = "") -> PrivacyConfig | None:
    """requiredPrivateInfos and permission descs from the compiled app config (app-config.json)."""
    for wanted in CONFIG_MEMBERS:
        for entry in entries:
            if entry.name == wanted:
                config = _json(data[entry.offset : entry.offset + entry.size])
                if config is not None:
                    return config_from_json(config, prefix + entry.name)
    return None


def _json(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(textdecode.decode_bytes(raw) or "")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def config_from_json(config: dict[str, Any], member: str) -> PrivacyConfig:
    """Read the two privacy keys of an app.json-shaped object, tolerating wrong types."""
    infos = config.get("requiredPrivateInfos")
    infos = tuple(str(i) for i in infos) if isinstance(infos, list) else ()
    descs: list[tuple[str, str]] = []
    permission = config.get("permission")
    if isinstance(permission, dict):
        for scope, value in permission.items():
            desc = value.get("desc") if isinstance(value, dict) else None
            descs.append((str(scope), desc if isinstance(desc, str) else ""))
    return PrivacyConfig(member, infos, tuple(descs))


def sniff(probe: Probe) -> bool:
    """Plain or PC-encrypted wxapkg by its first bytes."""
    return not probe.is_dir and is_wxapkg(probe.head)


def parse(source: Source, options: ParseOptions) -> Package:
    """Read one wxapkg (plain or PC-encrypted) as a mini-program."""
    path = source.path
    data, appid = load(path, options.wxid, options.limits)
    entries, anomalies = readable(read_index(data), len(data), options.limits)
    info = PackageInfo(path=path, format="wxapkg", sha256=file_sha256(path), app_id=appid)
    return Package(info, PackageKind.MINIPROGRAM, (), tuple(member_texts(data, entries)), tuple(anomalies),
                   privacy_config(data, entries))

