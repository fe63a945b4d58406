"""The filing identity a package must carry, as a user or a registry writes it, and whether it does.

A filing records the package name and the signing certificate's MD5 fingerprint and public key
(App特征信息, 工信部信管〔2023〕105号). People copy them from many tools: an MD5 as ``keytool`` prints it
(``98:30:87:…``, capitals) or as apksigner does (``983087…``); a public key as ``openssl x509 -pubkey``
prints it (PEM, a SubjectPublicKeyInfo), as its base64 body alone, or as the hexadecimal bytes a
certificate viewer shows for the key itself. Every form is normalized here and compared with what the
package carries (``Identity.certificates()``: the signers, their v3 lineage, the profile's certificates).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from scanner.i18n import Message, msg
from scanner.model import Certificate, Identity

_HEX = re.compile(r"^[0-9a-f]+$")
_PEM_LINE = re.compile(r"-----(BEGIN|END) [A-Z ]+-----")
MIN_KEY_BYTES = 32
"""A public key given as the key's own bytes (not the SubjectPublicKeyInfo) is matched as the end of the
certificate's key info: at least this many bytes (an EC P-256 point is 65)."""


@dataclass(frozen=True, slots=True)
class Expected:
    """One filed identity: any field may be absent (then it is not checked)."""

    app_id: str = ""
    md5: str = ""
    """32 lower-case hex digits."""
    public_key: str = ""
    """base64 of the bytes given (a SubjectPublicKeyInfo, or the key's own bytes)."""

    def as_value(self) -> tuple[str, tuple[str, ...]]:
        """As a rule option holds it (``(app id, (md5, public key))``)."""
        return self.app_id, (self.md5, self.public_key)

    @classmethod
    def from_value(cls, value: tuple[str, tuple[str, ...]]) -> Expected:
        app_id, rest = value
        md5, key = (*rest, "", "")[:2]
        return cls(app_id, md5, key)


def md5_of(text: str) -> str | None:
    """``98:30:87:…`` / ``983087…`` in any case, as 32 lower-case hex digits; None when it is not one."""
    digits = re.sub(r"[\s:\-]", "", text).lower()
    return digits if len(digits) == 32 and _HEX.match(digits) else None


def key_bytes(text: str) -> bytes | None:
    """A public key in PEM, base64 or hex, as bytes; None when it is none of these."""
    body = re.sub(r"\s", "", _PEM_LINE.sub("", text))
    if not body:
        return None
    plain = body.replace(":", "").lower()
    if _HEX.match(plain) and len(plain) % 2 == 0:
        return bytes.fromhex(plain)
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None


def parse_spec(text: str) -> Expected:
    """``APP_ID[,CERT_MD5[,PUBLIC_KEY]]`` (``--expect-identity``; the app id may be empty). Raises
    ValueError with the reason."""
    app_id, _, rest = text.strip().partition(",")
    md5_text, _, key_text = rest.partition(",")
    return expected(app_id, md5_text, key_text, text)


def expected(app_id: str, md5_text: str, key_text: str, shown: str) -> Expected:
    """One identity from its three fields as written (a registry row, a spec); ValueError names what is wrong."""
    md5 = md5_of(md5_text) if md5_text.strip() else ""
    if md5 is None:
        raise ValueError(msg("{shown}: {value} is not a certificate MD5 (32 hex digits, colons allowed)",
                             shown=repr(shown), value=repr(md5_text.strip())))
    key = key_bytes(key_text) if key_text.strip() else b""
    if key is None or (key_text.strip() and len(key) < MIN_KEY_BYTES):
        raise ValueError(msg("{shown}: the public key is not PEM, base64 or hex of at least {MIN_KEY_BYTES} bytes",
                             shown=repr(shown), MIN_KEY_BYTES=MIN_KEY_BYTES))
    if not (app_id.strip() or md5 or key):
        raise ValueError(msg("{shown}: give a package name, a certificate MD5 or a public key", shown=repr(shown)))
    return Expected(app_id.strip(), md5, base64.b64encode(key).decode("ascii") if key else "")


def certificate_matches(cert: Certificate, want: Expected) -> bool:
    """The certificate has the expected MD5 and public key (those given)."""
    if want.md5 and cert.md5 != want.md5:
        return False
    if want.public_key:
        given, spki = base64.b64decode(want.public_key), base64.b64decode(cert.public_key)
        return given == spki or (len(given) >= MIN_KEY_BYTES and spki.endswith(given))
    return True


def signed_as(identity: Identity | None, want: Expected) -> Certificate | None:
    """The package's certificate that matches the expected certificate fields (None: none does, or the
    package is unsigned); any certificate when no certificate field is expected."""
    found = identity.certificates() if identity is not None else ()
    if not (want.md5 or want.public_key):
        return found[0] if found else None
    return next((c for c in found if certificate_matches(c, want)), None)


def describe(identity: Identity | None) -> Message:
    """How the package is signed, in a finding's words."""
    if identity is None or not identity.signed:
        return msg("the package is not signed")
    cert = identity.signers[0].certificate
    if not cert.subject:
        return msg("it is signed by a certificate without subject (certificate MD5 {md5})", md5=cert.md5)
    return msg("it is signed by {subject} (certificate MD5 {md5})", subject=cert.subject, md5=cert.md5)
