"""FIL009 filing-identity-mismatch: the package is not the filed one (package name or signing certificate).

A filing records, per platform, the App特征信息: the package name (Android) / Bundle ID (iOS) / bundleName
(HarmonyOS) and the signing certificate's MD5 fingerprint and public key (工信部信管〔2023〕105号,
https://www.gov.cn/zhengce/zhengceku/202308/content_6897341.htm: 主办者 fill in 备案主体信息, App特征信息 …).
Markets match on them: Xiaomi's HyperOS installer identifies an APK's filing by app name, package name
and signing certificate and restricts installation when it finds none (dev.mi.com, HyperOS
documentation, 2024-10). A repackaged app keeps the filed app's number on its about page but not its
certificate: the number is right, the package is not the filed one. FIL005 says a number differs from
the record; this rule says the package differs from the record of the number (one finding per cause).

The records come from ``--expect-identity APP_ID[,CERT_MD5[,PUBLIC_KEY]]`` (or the config key
``expect-identity``; the package must match one of them) and, in a batch, from the registry's optional
``cert_md5`` and ``public_key`` columns. A certificate matches when it is a signer's, one of a v3 signer's
earlier certificates (key rotation keeps the filing valid) or, for HarmonyOS and iOS, one the package's
provisioning profile names. MD5 with or without colons, in any case; the public key as PEM, base64 or hex.

PASS: ``--expect-identity com.example.app,98:30:87:46:58:32:7C:15:60:0F:6E:4E:A9:39:C3:24`` and the APK
``com.example.app`` is signed by that certificate (v1, v2 or v3, or rotated from it).
FAIL: the same expectation and the APK is signed by another certificate, is unsigned, or is
``com.example.copy``; in a batch, an APK showing ``粤ICP备2023123456号-1A`` that the registry records for
``com.example.app`` while the APK is ``com.example.copy``.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts.identity import Expected, describe, signed_as
from scanner.facts.kinds import own_numbers
from scanner.i18n import N_, Message, msg
from scanner.model import (
    Facts,
    Finding,
    Location,
    Options,
    OptionValue,
    Package,
    RuleId,
    RuleMeta,
    RuleOption,
    Severity,
)

EXPECT = RuleOption(
    "expect-identity", {"type": "array", "items": {"type": "string", "minLength": 1}}, (),
    "the identities a package may carry: APP_ID[,CERT_MD5[,PUBLIC_KEY]] each (the package must match one)",
    value=OptionValue.IDENTITIES, top_level=True)
REGISTRY = RuleOption(
    "registry", {"type": "array", "items": {"type": "object", "required": ["app_id"], "additionalProperties": False,
                                            "properties": {k: {"type": "string"} for k in
                                                           ("app_id", "filing_number", "cert_md5", "public_key")}}},
    (), "filing records: app id, number and the certificate filed (batch --registry fills it)",
    value=OptionValue.IDENTITY_RECORDS)

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("FIL009"),
    name="filing-identity-mismatch",
    severity=Severity.ERROR,
    summary=N_("The package name or signing certificate differs from the filed App特征信息"),
    fix=N_("Release the app under the package name and signing certificate recorded in its filing, or change the "
        "filing's App特征信息 (and the expected identity) to this release's."),
    options=(EXPECT, REGISTRY),
)

SIGNATURE_PLACE = "signature"


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """Against ``--expect-identity``; then, with filing records, the records of the numbers it shows
    and of its own package name."""
    wanted = [Expected.from_value(v) for v in options.rules.records(RULE.id, EXPECT)]
    if wanted:
        yield from _against_expected(package, wanted)
    # (app id, (number, md5, public key)) each, as scanner.config.identity_record and Record.filed write them
    filed = options.rules.records(RULE.id, REGISTRY)
    records = [(number, Expected(app, md5, key)) for app, (number, md5, key) in filed]
    if records:
        yield from _against_records(package, facts, records)


def _where(package: Package) -> Location | None:
    identity = package.info.identity
    return Location(identity.member, SIGNATURE_PLACE) if identity is not None and identity.member else None


def _against_expected(package: Package, wanted: list[Expected]) -> Iterator[Finding]:
    app_id = package.info.app_id or ""
    if any(_problem(package, want) is None for want in wanted):
        return
    closest = next((w for w in wanted if w.app_id == app_id), wanted[0])
    problem = _problem(package, closest) or ""
    yield Finding(RULE.id, msg("not the expected identity: {problem}", problem=problem), _where(package),
                  (app_id or package.info.sha256,))


def _problem(package: Package, want: Expected) -> Message | None:
    """Why the package does not carry ``want`` (None: it does)."""
    app_id = package.info.app_id or ""
    if want.app_id and want.app_id != app_id:
        if not app_id:
            return msg("no package name was found, the filed one is {filed}", filed=want.app_id)
        return msg("the package name is {app_id}, the filed one {filed}", app_id=app_id, filed=want.app_id)
    if (want.md5 or want.public_key) and signed_as(package.info.identity, want) is None:
        filed = msg("certificate MD5 {md5}", md5=want.md5) if want.md5 else msg("a public key")
        return msg("{signed}; the filing records {filed}", signed=describe(package.info.identity), filed=filed)
    return None


def _against_records(package: Package, facts: Facts, records: list[tuple[str, Expected]]) -> Iterator[Finding]:
    app_id = package.info.app_id or ""
    for number in own_numbers(facts):
        holders = sorted({r.app_id for n, r in records if n == number.value})
        if holders and app_id not in holders:
            this = app_id or msg("(no package name found)")
            yield Finding(RULE.id, msg("it shows {number}, which is filed for {holders}; this package is {this}",
                                       number=number.value, holders=", ".join(holders), this=this),
                          number.first_location, (number.raw, app_id))
    own = [r for _n, r in records if r.app_id == app_id and (r.md5 or r.public_key)]
    if own and all(signed_as(package.info.identity, r) is None for r in own):
        md5s = sorted({r.md5 for r in own if r.md5})
        filed = ", ".join(f"MD5 {m}" for m in md5s) if md5s else msg("a public key")
        yield Finding(RULE.id, msg("{signed}; the filing of {app_id} records the certificate {filed}",
                                   signed=describe(package.info.identity), app_id=app_id, filed=filed),
                      _where(package), (app_id,))
