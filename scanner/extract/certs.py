"""Certificates and PKCS#7 / CMS SignedData, read with asn1crypto (no hand-written ASN.1).

Where they come from: an APK's v1 signature (``META-INF/*.RSA|DSA|EC``, a PKCS#7 SignedData, JAR File
Specification "Signed JAR File"), the certificates of the APK Signature Scheme v2/v3 block (DER X.509),
the HarmonyOS hap sign block (PKCS#7 signature and signed profile), an iOS code signature's CMS blob and
``embedded.mobileprovision`` (a CMS SignedData whose content is the profile's property list).

asn1crypto parses lazily: a malformed structure raises when a field is first read. Every reader here
reads the fields it needs inside one guard, so a hostile blob gives None or an empty list, never an
exception (the fuzz tests hold this). Fingerprints are hashes of the DER bytes as the package carries
them, which is what ``apksigner verify --print-certs`` and ``keytool -printcert`` print.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from asn1crypto import cms, x509

from scanner.model import Certificate

MAX_DER = 1 << 20
"""A signature blob larger than this is not read (real ones are a few KB; a chain of ten is 20 KB)."""
MAX_CERTIFICATES = 64
"""Certificates read from one SignedData (real ones carry one to four)."""
_FAULTS = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, UnicodeError)
"""What asn1crypto raises on a malformed structure (its own errors are ValueError subclasses)."""

_SHORT = {"common_name": "CN", "country_name": "C", "state_or_province_name": "ST", "locality_name": "L",
          "organization_name": "O", "organizational_unit_name": "OU", "email_address": "EMAILADDRESS",
          "street_address": "STREET", "domain_component": "DC", "serial_number": "SERIALNUMBER",
          "title": "T", "given_name": "GIVENNAME", "surname": "SN", "user_id": "UID"}
_KEY_NAMES = {"rsa": "RSA", "ec": "EC", "dsa": "DSA", "ed25519": "Ed25519", "ed448": "Ed448",
              "rsassa_pss": "RSA-PSS"}


@dataclass(frozen=True, slots=True)
class SignedData:
    """What a PKCS#7 / CMS SignedData carries: its certificates (DER), which of them signed, its content."""

    certificates: tuple[bytes, ...]
    signers: tuple[bytes, ...]
    """The certificates the signer infos name (by issuer and serial, or by subject key identifier)."""
    content: bytes | None
    """The encapsulated content (a profile's JSON or plist), None when detached."""


def describe(der: bytes) -> Certificate | None:
    """The certificate as a filing form reads it, or None when the bytes are no certificate."""
    if not der or len(der) > MAX_DER:
        return None
    try:
        cert = x509.Certificate.load(der)
        tbs = cert["tbs_certificate"]
        key = tbs["subject_public_key_info"]
        spki = key.dump()
        algorithm = str(key.algorithm)
        try:
            size: int | None = int(key.bit_size)
        except _FAULTS:
            size = None
        validity = tbs["validity"]
        return Certificate(
            subject=_name(tbs["subject"]), issuer=_name(tbs["issuer"]), serial=format(tbs["serial_number"].native, "x"),
            not_before=_time(validity["not_before"]), not_after=_time(validity["not_after"]),
            md5=hashlib.md5(der).hexdigest(), sha1=hashlib.sha1(der).hexdigest(),
            sha256=hashlib.sha256(der).hexdigest(), key_algorithm=_KEY_NAMES.get(algorithm, algorithm.upper()),
            key_size=size, public_key=base64.b64encode(spki).decode("ascii"),
            public_key_sha256=hashlib.sha256(spki).hexdigest())
    except _FAULTS:
        return None


def _name(name: x509.Name) -> str:
    """RFC 4514 order (most specific first), as apksigner and keytool print a DN."""
    parts = []
    for rdn in reversed(list(name.chosen)):
        for pair in rdn:
            kind = pair["type"].native
            value = pair["value"].native
            text = value if isinstance(value, str) else str(value)
            text = text.replace("\\", "\\\\").replace(",", "\\,").replace("+", "\\+")
            parts.append(f"{_SHORT.get(kind, kind)}={text}")
    return ", ".join(parts)


def _time(value: x509.Time) -> str:
    try:
        return value.native.strftime("%Y-%m-%dT%H:%M:%SZ")
    except _FAULTS:
        return ""


def signed_data(der: bytes) -> SignedData | None:
    """A PKCS#7 / CMS ContentInfo holding SignedData, or None when it is not one or does not parse."""
    if not der or len(der) > MAX_DER:
        return None
    try:
        info = cms.ContentInfo.load(der)
        if info["content_type"].native != "signed_data":
            return None
        data = info["content"]
        found = [c.chosen for c in list(data["certificates"] or ())[:MAX_CERTIFICATES]
                 if isinstance(c.chosen, x509.Certificate)]
        ders = tuple(c.dump() for c in found)
        signers = tuple(ders[i] for i in _signer_positions(found, data["signer_infos"]))
        inner = data["encap_content_info"]["content"]
        content = None if inner is None or inner.native is None else _content_bytes(inner)
        return SignedData(ders, signers, content)
    except _FAULTS:
        return None


def _content_bytes(inner: object) -> bytes | None:
    """The encapsulated content's octets (asn1crypto gives a ParsableOctetString or an Any)."""
    native = getattr(inner, "native", None)
    if isinstance(native, bytes):
        return native
    contents = getattr(inner, "contents", None)
    return bytes(contents) if isinstance(contents, bytes) else None


def _signer_positions(found: list[x509.Certificate], infos: cms.SignerInfos) -> list[int]:
    """Positions in ``found`` of the certificates the signer infos identify."""
    positions: list[int] = []
    for info in list(infos)[:MAX_CERTIFICATES]:
        sid = info["sid"]
        for i, cert in enumerate(found):
            if _identifies(sid, cert) and i not in positions:
                positions.append(i)
    return positions


def _identifies(sid: cms.SignerIdentifier, cert: x509.Certificate) -> bool:
    if sid.name == "issuer_and_serial_number":
        chosen = sid.chosen
        return bool(chosen["serial_number"].native == cert.serial_number and chosen["issuer"] == cert.issuer)
    return bool(sid.chosen.native == cert.key_identifier)


def certificates_in_pem(text: str) -> tuple[bytes, ...]:
    """The DER bytes of every ``-----BEGIN CERTIFICATE-----`` block of a text (a HarmonyOS profile
    names its developer certificate this way)."""
    found = []
    for block in text.split("-----BEGIN CERTIFICATE-----")[1:MAX_CERTIFICATES + 1]:
        body = block.split("-----END CERTIFICATE-----", 1)[0]
        try:
            found.append(base64.b64decode("".join(body.split()), validate=True))
        except ValueError:
            continue
    return tuple(found)
