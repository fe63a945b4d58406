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
from scanner.formatters.text import display_width
from scanner.i18n import N_, msg, say
from scanner.model import Certificate, Identity, ScanResult

PLATFORMS = {"android": "Android", "ios": "iOS", "harmonyos": "HarmonyOS", "quickapp": N_("快应用 quick app")}
SCHEME_NAMES = {"v1": "v1 (JAR)", "v2": N_("APK Signature Scheme v2"), "v3": N_("APK Signature Scheme v3"),
                "v3.1": N_("APK Signature Scheme v3.1"), "rpk": N_("quick app signature (META-INF/CERT)"),
                "hap": N_("hap sign block"), "cms": N_("code signature (CMS)")}
LABEL_WIDTH = 28
"""Terminal columns of a label (Chinese characters take two)."""


def render_text(results: list[ScanResult], lang: str = "en") -> str:
    """Each package's identity, the filing form's four fields first (labelled in the form's words and,
    in English, its translation)."""
    return "\n".join(_text(result, lang) for result in results)


def _text(result: ScanResult, lang: str) -> str:
    lines = [result.path]
    info = result.info

    def field(label: str, value: str) -> list[str]:
        return _field(say(label, lang), value, "：" if lang == "zh" else ":")

    if result.error is not None or info is None:
        reason = result.error.message if result.error else msg("not read")
        rule = result.error.rule_id if result.error else "PKG001"
        return "\n".join([*lines, "  " + say(msg("{rule} cannot be read: {reason}", rule=rule, reason=reason),
                                                lang)]) + "\n"
    identity = info.identity
    if identity is None:
        said = msg("{format}: this format carries no signing identity (a mini-program's filing records its "
                   "AppID: {app_id})", format=info.format, app_id=info.app_id or msg("not found"))
        return "\n".join([*lines, "  " + say(said, lang)]) + "\n"
    lines += field(N_("平台 Platform"), say(PLATFORMS.get(identity.platform, identity.platform), lang))
    lines += field(_package_label(identity), info.app_id or say(msg("(not found)"), lang))
    current = identity.signers[0].certificate if identity.signers else None
    if current is None:
        lines += field(N_("签名 Signed"), say(msg("no"), lang))
    else:
        lines += field(N_("证书MD5 Certificate MD5"), _colons(current.md5))
        lines += field(N_("公钥 Public key"), current.public_key)
        lines += _field("", say(msg("{algorithm} {size} bit; MD5 without colons: {md5}",
                                    algorithm=current.key_algorithm, size=current.key_size or "?",
                                    md5=current.md5), lang))
    for number, signer in enumerate(identity.signers, 1):
        schemes = ", ".join(say(SCHEME_NAMES.get(s, s), lang) for s in signer.schemes)
        head = (msg("signer {number} (current): {schemes}", number=number, schemes=schemes)
                if number == 1 and len(identity.signers) > 1 else
                msg("signer {number}: {schemes}", number=number, schemes=schemes))
        lines.append("  " + say(head, lang))
        lines += _certificate(signer.certificate, "    ", lang)
        if signer.lineage:
            lines.append("    " + say(N_("rotated from (APK Signature Scheme v3 lineage, oldest first):"), lang))
        for step, old in enumerate(signer.lineage, 1):
            lines.append(f"      {step}.")
            lines += _certificate(old, "      ", lang)
    if identity.profile is not None:
        profile = identity.profile
        kind = "HarmonyOS" if profile.kind == "harmonyos" else "embedded.mobileprovision"
        lines.append("  " + say(msg("profile ({kind}):", kind=kind), lang))
        for label, value in ((N_("bundle"), profile.bundle), (N_("team"), profile.team), (N_("type"), profile.type),
                             (N_("name"), profile.name), (N_("expires"), profile.expires)):
            if value:
                lines.append(f"    {say(label, lang)}{'：' if lang == 'zh' else ': '}{value}")
        for cert in profile.certificates:
            lines.append("    " + say(N_("developer certificate:"), lang))
            lines += _certificate(cert, "      ", lang)
    lines += ["  " + say(msg("note: {notice}", notice=note), lang) for note in identity.notes]
    return "\n".join(lines) + "\n"


def _package_label(identity: Identity) -> str:
    return {"ios": N_("Bundle ID"), "harmonyos": N_("包名 bundleName")}.get(identity.platform, N_("包名 Package name"))


def _field(label: str, value: str, colon: str = ":") -> list[str]:
    head = label + (colon if label else "")
    return [f"  {head}{' ' * max(1, LABEL_WIDTH - display_width(head))}{value}"]


def _colons(digest: str) -> str:
    """``88:74:26:…`` in capitals, as keytool prints a fingerprint (the form accepts it with or without)."""
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2)).upper()


def _certificate(cert: Certificate, indent: str, lang: str = "en") -> list[str]:
    rows = ((N_("subject"), cert.subject), (N_("issuer"), cert.issuer), (N_("serial"), cert.serial),
            (N_("valid"), say(msg("{start} to {end}", start=cert.not_before, end=cert.not_after), lang)),
            ("MD5", cert.md5), ("SHA-1", cert.sha1), ("SHA-256", cert.sha256),
            (N_("public key SHA-256"), cert.public_key_sha256))
    colon = "：" if lang == "zh" else ": "
    return [f"{indent}{say(label, lang)}{colon}{value}" for label, value in rows]


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
