"""The signing identity of a package (App特征信息): which certificates sign it, under which schemes.

A filing records, per platform, the package name and the signing certificate's public key and MD5
(工信部信管〔2023〕105号: 主办者 fill in the App特征信息; hardening-and-identity.md). Each format keeps its
signature in its own place (scanner.extract.signing says where and how); this module reads it through the
package's own zip reader, describes the certificates (scanner.extract.certs) and returns one
``Identity``. What does not parse is an Anomaly (PKG004), never an error: the text scan goes on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from scanner.extract import certs, plists, signing
from scanner.i18n import message_of, msg
from scanner.model import Anomaly, AnomalyKind, Certificate, Identity, Profile, Signer
from scanner.parsers import zipread
from scanner.parsers.common import json_table, scalar_text

BLOCK = "APK Signing Block"
HAP_BLOCK = "hap sign block"
V1_SIGNATURE = re.compile(r"^META-INF/[^/]+\.(RSA|DSA|EC)$", re.IGNORECASE)
MAX_V1_FILES = 8
"""v1 signature files read (a package signed by more than a few signers is not a release build)."""
MAX_PROFILE = 1 << 20

UNSIGNED_ANDROID = msg("unsigned: Android installs no unsigned APK, and a filing records the certificate of the "
                       "signed release")
BUNDLE_RESIGNED = msg("an app bundle is signed again by the store that builds its APKs (Google Play App Signing and "
                      "others): a filing records the certificate of the APKs users install")


def android(source: zipread.Archive, files: Iterable[zipread.Entry], reader: zipread.Reader,
            anomalies: list[Anomaly], bundle: bool = False) -> Identity:
    """An APK's (or, with ``bundle``, an AAB's) signers: v1 and the APK Signing Block's v2/v3/v3.1."""
    signers: list[tuple[str, signing.BlockSigner]] = []
    pairs = _block(source, signing.APK_MAGIC, anomalies)
    for scheme in (signing.V2, signing.V3, signing.V31):
        if pairs is not None and scheme in pairs:
            try:
                signers += [(signing.SCHEMES[scheme], s) for s in signing.block_signers(pairs[scheme], scheme)]
            except signing.SigningError as exc:
                anomalies.append(Anomaly(AnomalyKind.STRUCTURE, BLOCK, msg("APK Signature Scheme {exc}", exc=exc)))
    v1 = _v1(files, reader, anomalies)
    merged = _merged(signers + [("v1", s) for s in v1], anomalies)
    member = BLOCK if pairs else next((e.name for e in files if V1_SIGNATURE.match(e.name)), "")
    notes = [BUNDLE_RESIGNED] if bundle else []
    if not merged and not bundle:
        notes.append(UNSIGNED_ANDROID)
    return Identity("android", _schemes(merged), tuple(merged), notes=tuple(notes), member=member)


def quickapp(files: Iterable[zipread.Entry], reader: zipread.Reader, anomalies: list[Anomaly]) -> Identity:
    """A quick app's signer: ``META-INF/CERT``, a zip whose signing block reads as v2's."""
    entry = next((e for e in files if e.name == "META-INF/CERT"), None)
    merged: list[Signer] = []
    if entry is not None:
        member = reader.read(entry)
        anomalies.extend(member.anomalies)
        if member.data:
            pairs = _block(bytes(member.data), signing.RPK_MAGIC, anomalies, "META-INF/CERT")
            value = next(iter(pairs.values()), None) if pairs else None
            if value is not None:
                try:
                    merged = _merged([("rpk", s) for s in signing.block_signers(value, signing.V2)], anomalies)
                except signing.SigningError as exc:
                    anomalies.append(Anomaly(AnomalyKind.STRUCTURE, "META-INF/CERT", msg("quick app signature: {exc}",
                                                                                         exc=exc)))
    notes = () if merged else (msg("unsigned: a quick app's release package is signed (META-INF/CERT)"),)
    return Identity("quickapp", _schemes(merged), tuple(merged), notes=notes, member="META-INF/CERT" if merged else "")


def harmony(source: zipread.Archive, anomalies: list[Anomaly], pack: bool = False) -> Identity:
    """A HarmonyOS module's or App Pack's signer and profile, from its hap sign block."""
    try:
        block = signing.hap_block(_before(source, signing.HAP_MAGIC))
    except (signing.SigningError, OSError) as exc:
        anomalies.append(Anomaly(AnomalyKind.STRUCTURE, HAP_BLOCK, message_of(exc)))
        block = None
    notes = [msg("in an App Pack only the .app file is signed; the modules inside it are not")] if pack else []
    if block is None:
        notes.append(msg("unsigned: HarmonyOS installs only signed packages, and a filing records the "
                         "certificate of the signed release"))
        return Identity("harmonyos", (), (), notes=tuple(notes))
    signers = _cms_signers(block.signature, "hap", HAP_BLOCK, anomalies) if block.signature else []
    profile = _harmony_profile(block.profile, anomalies) if block.profile else None
    return Identity("harmonyos", _schemes(signers), tuple(signers), profile, tuple(notes), HAP_BLOCK)


def ios(executable: str, signature: bytes | None, provision: bytes | None, anomalies: list[Anomaly]) -> Identity:
    """An iOS app's signer (the CMS blob of its executable's code signature) and provisioning profile."""
    signers = _cms_signers(signature, "cms", executable, anomalies) if signature else []
    profile = _mobileprovision(provision, anomalies) if provision else None
    notes = []
    if not signers:
        notes.append(msg("no CMS signature in the executable (unsigned or ad-hoc signed): installed only on "
                         "development devices"))
    notes.append(msg("App Store builds are signed again by Apple: a filing records the certificate the developer "
                     "signs with"))
    return Identity("ios", _schemes(signers), tuple(signers), profile, tuple(notes), executable if signers else "")


def ios_signature(data: bytes, offsets: Iterable[tuple[int, int]], member: str, anomalies: list[Anomaly]
                  ) -> bytes | None:
    """The first CMS signature of the executable's slices (``offsets``: each LC_CODE_SIGNATURE's range)."""
    for offset, size in offsets:
        try:
            found = signing.code_signature_cms(data, offset, size)
        except signing.SigningError as exc:
            anomalies.append(Anomaly(AnomalyKind.STRUCTURE, member, message_of(exc)))
            continue
        if found:
            return found
    return None


def _before(source: zipread.Archive, magic: bytes) -> bytes:
    """The signing block of ``magic`` before the central directory: its footer first, then its length."""
    tail = zipread.before_directory(source, signing.FOOTER)
    length = signing.block_length(tail, magic)
    return zipread.before_directory(source, length) if length > len(tail) else tail


def _block(source: zipread.Archive, magic: bytes, anomalies: list[Anomaly], member: str = BLOCK
           ) -> dict[int, bytes] | None:
    try:
        return signing.apk_block(_before(source, magic), magic)
    except (signing.SigningError, OSError) as exc:
        anomalies.append(Anomaly(AnomalyKind.STRUCTURE, member, message_of(exc)))
        return None


def _v1(files: Iterable[zipread.Entry], reader: zipread.Reader, anomalies: list[Anomaly]) -> list[signing.BlockSigner]:
    """JAR signing: each ``META-INF/*.RSA|DSA|EC`` is a PKCS#7 SignedData naming its signer."""
    found = []
    for entry in [e for e in files if V1_SIGNATURE.match(e.name)][:MAX_V1_FILES]:
        member = reader.read(entry)
        anomalies.extend(member.anomalies)
        data = certs.signed_data(bytes(member.data)) if member.data else None
        if data is None or not data.signers:
            anomalies.append(Anomaly(AnomalyKind.STRUCTURE, entry.name, msg(
                "v1 signature file is not a PKCS#7 SignedData naming its signer's certificate")))
            continue
        others = tuple(c for c in data.certificates if c not in data.signers)
        found += [signing.BlockSigner((der, *others)) for der in data.signers]
    return found


def _merged(found: list[tuple[str, signing.BlockSigner]], anomalies: list[Anomaly]) -> list[Signer]:
    """One Signer per signing certificate, with every scheme it signs under (v1, v2 and v3 usually name
    the same certificate)."""
    by_key: dict[str, Signer] = {}
    for scheme, raw in found:
        cert = certs.describe(raw.certificates[0])
        if cert is None:
            anomalies.append(Anomaly(AnomalyKind.STRUCTURE, BLOCK if scheme != "v1" else "META-INF",
                                     msg("{scheme} signer's certificate is not a readable X.509 certificate",
                                         scheme=scheme)))
            continue
        chain = _described(raw.certificates[1:])
        lineage = tuple(c for c in _described(raw.lineage) if c.sha256 != cert.sha256)
        known = by_key.get(cert.sha256)
        if known is None:
            by_key[cert.sha256] = Signer(cert, (scheme,), chain, lineage)
        else:
            by_key[cert.sha256] = Signer(cert, _schemes_of((*known.schemes, scheme)),
                                         known.chain or chain, known.lineage or lineage)
    # The newest scheme's signer first: the one current Android versions verify (v3.1, else v3 …), whose
    # certificate a filing made today records; a rotated app's v1/v2 signer is an older certificate.
    rank = {"v3.1": 0, "v3": 1, "v2": 2, "v1": 3}
    return sorted(by_key.values(), key=lambda s: min(rank.get(x, 4) for x in s.schemes))


def _described(ders: Iterable[bytes]) -> tuple[Certificate, ...]:
    return tuple(c for c in map(certs.describe, ders) if c is not None)


SCHEME_ORDER = ("v1", "v2", "v3", "v3.1", "rpk", "hap", "cms")


def _schemes_of(names: Iterable[str]) -> tuple[str, ...]:
    present = set(names)
    return tuple(s for s in SCHEME_ORDER if s in present)


def _schemes(signers: Iterable[Signer]) -> tuple[str, ...]:
    return _schemes_of(s for signer in signers for s in signer.schemes)


def _cms_signers(der: bytes | None, scheme: str, member: str, anomalies: list[Anomaly]) -> list[Signer]:
    data = certs.signed_data(der) if der else None
    if data is None or not data.signers:
        anomalies.append(Anomaly(AnomalyKind.STRUCTURE, member, msg("the signature is not a PKCS#7 SignedData naming "
                                                                    "its signer's certificate")))
        return []
    signers = []
    for raw in data.signers:
        cert = certs.describe(raw)
        if cert is not None:
            chain = _described(c for c in data.certificates if c not in data.signers)
            signers.append(Signer(cert, (scheme,), chain))
    return signers


def _harmony_profile(der: bytes, anomalies: list[Anomaly]) -> Profile | None:
    """The signed profile (PKCS#7 around JSON; a debug build may carry the JSON alone)."""
    data = certs.signed_data(der)
    content = data.content if data is not None else der
    try:
        profile = json.loads(content or b"") if content and len(content) <= MAX_PROFILE else None
    except (ValueError, UnicodeDecodeError):
        profile = None
    if not isinstance(profile, dict):
        anomalies.append(Anomaly(AnomalyKind.STRUCTURE, HAP_BLOCK,
                                 msg("the provisioning profile is not readable JSON")))
        return None
    info = json_table(profile, "bundle-info")
    pem = "".join(str(info.get(k) or "") for k in ("distribution-certificate", "development-certificate"))
    validity = json_table(profile, "validity")
    return Profile("harmonyos", scalar_text(info.get("bundle-name")), scalar_text(info.get("developer-id")),
                   scalar_text(profile.get("type")), None, _epoch(validity.get("not-after")),
                   _described(certs.certificates_in_pem(pem)))


def _mobileprovision(der: bytes, anomalies: list[Anomaly]) -> Profile | None:
    data = certs.signed_data(der)
    plist = plists.load(data.content) if data is not None and data.content else None
    if not plist:
        anomalies.append(Anomaly(AnomalyKind.STRUCTURE, "embedded.mobileprovision",
                                 msg("not a CMS-signed property list")))
        return None
    entitlements = json_table(plist, "Entitlements")
    teams = _list(plist, "TeamIdentifier")
    team = scalar_text(teams[0]) if teams else None
    application = scalar_text(entitlements.get("application-identifier"))
    bundle = application.split(".", 1)[1] if application and "." in application else application
    developer = _list(plist, "DeveloperCertificates")
    expires = plist.get("ExpirationDate")
    return Profile("mobileprovision", bundle, team, _ios_kind(plist, entitlements), scalar_text(plist.get("Name")),
                   expires.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(expires, datetime) else None,
                   _described(d for d in developer[:certs.MAX_CERTIFICATES] if isinstance(d, bytes)))


def _ios_kind(plist: dict[str, object], entitlements: dict[str, object]) -> str:
    """How the profile distributes the app (Apple's "Distribution methods")."""
    if entitlements.get("get-task-allow") is True:
        return "development"
    if plist.get("ProvisionsAllDevices") is True:
        return "enterprise"
    return "ad-hoc" if plist.get("ProvisionedDevices") else "app-store"




def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []




def _epoch(value: object) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return None
