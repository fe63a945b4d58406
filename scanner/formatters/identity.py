"""``beian-scan identity``: the App特征信息 a filing form asks for, as the package carries it.

The MIIT filing (工信部信管〔2023〕105号) records, per platform, the package name (Android) / Bundle ID
(iOS) / bundleName (HarmonyOS), the signing certificate's public key and its MD5 fingerprint. The text
form lists those four first, in the form's order and in the form's words, each value on one line so it
can be copied whole; the certificate's other fields follow for a reviewer. The JSON form is the report's
``package.identity`` beside the path, platform and package name.
"""

from __future__ import annotations

import json
from typing import Any

from scanner.formatters.json_report import identity_dict
from scanner.model import Certificate, Identity, ScanResult

PLATFORMS = {"android": "Android", "ios": "iOS", "harmonyos": "HarmonyOS", "quickapp": "快应用 quick app"}
SCHEME_NAMES = {"v1": "v1 (JAR)", "v2": "APK Signature Scheme v2", "v3": "APK Signature Scheme v3",
                "v3.1": "APK Signature Scheme v3.1", "rpk": "quick app signature (META-INF/CERT)",
                "hap": "hap sign block", "cms": "code signature (CMS)"}
LABEL_WIDTH = 26


def render_text(results: list[ScanResult]) -> str:
    """Each package's identity, the filing form's four fields first."""
    return "\n".join(_text(result) for result in results)


def _text(result: ScanResult) -> str:
    lines = [result.path]
    info = result.info
    if result.error is not None or info is None:
        reason = result.error.message if result.error else "not read"
        rule = result.error.rule_id if result.error else "PKG001"
        return "\n".join([*lines, f"  {rule} cannot be read: {reason}"]) + "\n"
    identity = info.identity
    if identity is None:
        return "\n".join([*lines, f"  {info.format}: this format carries no signing identity (a mini-program's "
                          "filing records its AppID: " + (info.app_id or "not found") + ")"]) + "\n"
    lines += _field("平台 Platform", PLATFORMS.get(identity.platform, identity.platform))
    lines += _field(_package_label(identity), info.app_id or "(not found)")
    current = identity.signers[0].certificate if identity.signers else None
    if current is None:
        lines += _field("签名 Signed", "no")
    else:
        lines += _field("证书MD5 Certificate MD5", _colons(current.md5))
        lines += _field("公钥 Public key", current.public_key)
        lines += _field("", f"{current.key_algorithm} {current.key_size or '?'} bit; MD5 without colons: "
                        f"{current.md5}")
    for number, signer in enumerate(identity.signers, 1):
        schemes = ", ".join(SCHEME_NAMES.get(s, s) for s in signer.schemes)
        role = " (current)" if number == 1 and len(identity.signers) > 1 else ""
        lines.append(f"  signer {number}{role}: {schemes}")
        lines += _certificate(signer.certificate, "    ")
        if signer.lineage:
            lines.append("    rotated from (APK Signature Scheme v3 lineage, oldest first):")
        for step, old in enumerate(signer.lineage, 1):
            lines.append(f"      {step}.")
            lines += _certificate(old, "      ")
    if identity.profile is not None:
        profile = identity.profile
        lines.append(f"  profile ({'HarmonyOS' if profile.kind == 'harmonyos' else 'embedded.mobileprovision'}):")
        for label, value in (("bundle", profile.bundle), ("team", profile.team), ("type", profile.type),
                             ("name", profile.name), ("expires", profile.expires)):
            if value:
                lines.append(f"    {label}: {value}")
        for cert in profile.certificates:
            lines.append("    developer certificate:")
            lines += _certificate(cert, "      ")
    lines += [f"  note: {note}" for note in identity.notes]
    return "\n".join(lines) + "\n"


def _package_label(identity: Identity) -> str:
    return {"ios": "Bundle ID", "harmonyos": "包名 bundleName"}.get(identity.platform, "包名 Package name")


def _field(label: str, value: str) -> list[str]:
    return [f"  {label + (':' if label else ''):<{LABEL_WIDTH}}{value}"]


def _colons(digest: str) -> str:
    """``88:74:26:…`` in capitals, as keytool prints a fingerprint (the form accepts it with or without)."""
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2)).upper()


def _certificate(cert: Certificate, indent: str) -> list[str]:
    return [f"{indent}subject: {cert.subject}", f"{indent}issuer: {cert.issuer}", f"{indent}serial: {cert.serial}",
            f"{indent}valid: {cert.not_before} to {cert.not_after}", f"{indent}MD5: {cert.md5}",
            f"{indent}SHA-1: {cert.sha1}", f"{indent}SHA-256: {cert.sha256}",
            f"{indent}public key SHA-256: {cert.public_key_sha256}"]


def render_json(results: list[ScanResult], tool_version: str) -> str:
    """``{"tool": …, "identities": [{path, format, platform, package_name, identity, error}]}``."""
    return json.dumps({"tool": {"name": "beian-scan", "version": tool_version},
                       "identities": [_json(r) for r in results]}, ensure_ascii=False, indent=2) + "\n"


def _json(result: ScanResult) -> dict[str, Any]:
    info = result.info
    error = {"rule_id": result.error.rule_id, "message": result.error.message} if result.error else None
    identity = info.identity if info is not None else None
    return {"path": result.path, "format": info.format if info else None,
            "platform": identity.platform if identity else None, "package_name": info.app_id if info else None,
            "identity": identity_dict(identity) if identity else None, "error": error}
