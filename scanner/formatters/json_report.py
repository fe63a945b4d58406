"""The JSON report: the public contract of scanner/schemas/report.schema.json (architecture.md)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from scanner.formatters.base import FormatOptions, localized, summarize
from scanner.i18n import in_every_language, said_in
from scanner.model import (
    Certificate,
    Facts,
    FilingLink,
    FilingNumber,
    Identity,
    LinkStatus,
    Location,
    NumberKind,
    PackageError,
    PackageInfo,
    PermissionFacts,
    Profile,
    Protection,
    Report,
    ReportedFinding,
    RuleId,
    ScanResult,
    Severity,
    Signer,
)

SCHEMA_VERSION = "1"


def render(report: Report, options: FormatOptions) -> str:
    """The report as indented JSON (stable key order, non-ASCII kept readable)."""
    return json.dumps(to_dict(localized(report, options.lang), options.show_suppressed), ensure_ascii=False,
                      indent=2) + "\n"


def to_dict(report: Report, show_suppressed: bool = False) -> dict[str, Any]:
    """The report as plain data; accepted findings are listed under ``suppressed`` when asked for."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "beian-scan", "version": report.tool_version},
        "results": [_result(r, show_suppressed) for r in report.results],
        "summary": _summary(report),
    }


def location(loc: Location | None) -> dict[str, str] | None:
    """A Location as JSON."""
    if loc is None:
        return None
    return {"member": loc.member, "kind": loc.kind, "pointer": loc.pointer}


def result_dict(result: ScanResult, accepted: bool = False, every_language: bool = False) -> dict[str, Any]:
    """One result as the report's ``results`` entry (what a batch stores per package); ``accepted``: with
    its accepted findings under ``suppressed``, each with why, when it has any; ``every_language``: each
    message also under ``messages`` in every language (a store's reports are read in either)."""
    return _result(result, accepted and bool(result.suppressed), every_language)


def _said(text: str, every_language: bool) -> dict[str, Any]:
    return {"messages": in_every_language(text)} if every_language else {}


def _result(result: ScanResult, show_suppressed: bool, every_language: bool = False) -> dict[str, Any]:
    info = result.info
    package: dict[str, Any] = {"path": result.path, "format": None, "sha256": None, "app_id": None,
                               "app_name": None, "version": None}
    if info is not None:
        package.update(format=info.format, sha256=info.sha256, app_id=info.app_id, app_name=info.app_name,
                       version=info.version)
        if info.identity is not None:  # the signed formats only: other formats' reports stay as they were
            package["identity"] = identity_dict(info.identity)
    if result.also_at:  # a batch's duplicate content: every path it was found under
        package["paths"] = [result.path, *result.also_at]
    error = None
    if result.error is not None:
        error = {"rule_id": result.error.rule_id, "message": result.error.message,
                 **_said(result.error.message, every_language)}
    out = {"package": package, "error": error, "facts": _facts(result.facts),
           "findings": [_finding(f, every_language) for f in result.findings]}
    if show_suppressed:
        out["suppressed"] = [{**_finding(f, every_language), "suppression": f.suppression}
                             for f in result.suppressed]
    return out


def _facts(facts: Facts) -> dict[str, Any]:
    perms = facts.permissions
    return {
        "filing_numbers": [_number(n) for n in facts.filing_numbers],
        "filing_links": [
            {"url": link.url, "status": link.status, "locations": [location(loc) for loc in link.locations]}
            for link in facts.filing_links
        ],
        "permissions": {"requested": list(perms.requested), "sensitive": list(perms.sensitive),
                        "declared": list(perms.declared), "undeclared": list(perms.undeclared)},
        **_protection(facts.protection),
    }


def identity_dict(identity: Identity) -> dict[str, Any]:
    """The signing identity as JSON (``package.identity``; ``beian-scan identity --format json``)."""
    profile = identity.profile
    return {
        "platform": identity.platform, "signed": identity.signed, "schemes": list(identity.schemes),
        "signers": [{"schemes": list(s.schemes), "certificate": _certificate(s.certificate),
                     "chain": [_certificate(c) for c in s.chain], "lineage": [_certificate(c) for c in s.lineage]}
                    for s in identity.signers],
        "profile": None if profile is None else {
            "kind": profile.kind, "bundle": profile.bundle, "team": profile.team, "type": profile.type,
            "name": profile.name, "expires": profile.expires,
            "certificates": [_certificate(c) for c in profile.certificates]},
        "notes": list(identity.notes), "member": identity.member,
    }


def _certificate(cert: Certificate) -> dict[str, Any]:
    return {"subject": cert.subject, "issuer": cert.issuer, "serial": cert.serial, "not_before": cert.not_before,
            "not_after": cert.not_after, "md5": cert.md5, "sha1": cert.sha1, "sha256": cert.sha256,
            "key_algorithm": cert.key_algorithm, "key_size": cert.key_size, "public_key": cert.public_key,
            "public_key_sha256": cert.public_key_sha256}


def identity_from_dict(data: dict[str, Any]) -> Identity:
    """``package.identity`` read back (a batch judges stored results with it: FIL009)."""
    profile = data.get("profile")
    return Identity(
        data["platform"], tuple(data["schemes"]),
        tuple(Signer(Certificate(**s["certificate"]), tuple(s["schemes"]),
                     tuple(Certificate(**c) for c in s["chain"]), tuple(Certificate(**c) for c in s["lineage"]))
              for s in data["signers"]),
        None if profile is None else Profile(
            profile["kind"], profile["bundle"], profile["team"], profile["type"], profile["name"],
            profile["expires"], tuple(Certificate(**c) for c in profile["certificates"])),
        tuple(data["notes"]), data["member"])


def _protection(shield: Protection | None) -> dict[str, Any]:
    """``protection`` for a hardened package only (the key is absent otherwise: reports of the packages
    most scans meet stay as they were)."""
    if shield is None:
        return {}
    return {"protection": {"protector": shield.protector, "name": shield.name, "name_en": shield.name_en,
                           "stub": shield.stub, "payloads": list(shield.payloads), "missing": list(shield.missing),
                           "evidence": list(shield.evidence), "location": location(shield.location)}}


def _number(number: FilingNumber) -> dict[str, Any]:
    out = {"value": number.value, "raw": number.raw, "kind": number.kind, "in_context": number.in_context,
           "locations": [location(loc) for loc in number.locations]}
    if number.assembled_from:  # found only by joining pieces code loads together: say which
        out["assembled_from"] = list(number.assembled_from)
    return out


def _finding(finding: ReportedFinding, every_language: bool = False) -> dict[str, Any]:
    return {"rule_id": finding.rule_id, "name": finding.name, "severity": finding.severity.label,
            "message": finding.message, **_said(finding.message, every_language),
            "location": location(finding.location), "evidence": list(finding.evidence),
            "fingerprint": finding.fingerprint}


def _summary(report: Report) -> dict[str, Any]:
    summary = summarize(report)
    return {"packages": summary.packages, "unreadable": summary.unreadable,
            "findings": {s.label: n for s, n in summary.findings.items()}, "suppressed": summary.suppressed}


def from_result_dict(data: dict[str, Any]) -> ScanResult:
    """A stored ``results`` entry read back as a ScanResult (what a batch report's SARIF is rendered
    from): identity, error and findings exactly; facts as far as the JSON keeps them."""
    package = data["package"]
    info = None if package.get("format") is None else PackageInfo(
        package["path"], package["format"], package.get("sha256") or "", package.get("app_id"),
        package.get("app_name"), package.get("version"),
        identity=identity_from_dict(package["identity"]) if package.get("identity") else None)
    error = data.get("error")
    facts = data["facts"]
    numbers = tuple(FilingNumber(n["value"], n["raw"], NumberKind(n["kind"]), True, None, False, n["in_context"],
                                 tuple(_location(loc) for loc in n["locations"]),
                                 assembled_from=tuple(n.get("assembled_from", ()))) for n in facts["filing_numbers"])
    links = tuple(FilingLink(link["url"], "", LinkStatus(link["status"]), "",
                             tuple(_location(loc) for loc in link["locations"])) for link in facts["filing_links"])
    perms = facts["permissions"]
    shield = facts.get("protection")
    protection = None if shield is None else Protection(
        shield["protector"], shield["name"], shield["name_en"], shield["stub"], tuple(shield["payloads"]),
        tuple(shield["missing"]), tuple(shield["evidence"]), _location(shield["location"]))
    findings = tuple(_reported(f) for f in data["findings"])
    accepted = tuple(replace(_reported(f), suppression=f.get("suppression") or "accepted")
                     for f in data.get("suppressed", ()))
    failure = PackageError(RuleId(error["rule_id"]), stored_message(error)) if error else None
    return ScanResult(package["path"], info, failure,
                      Facts(numbers, links, PermissionFacts(tuple(perms["requested"]), tuple(perms["sensitive"]),
                                                            tuple(perms["declared"]), tuple(perms["undeclared"])),
                            protection=protection),
                      findings, accepted)


def _reported(f: dict[str, Any]) -> ReportedFinding:
    return ReportedFinding(RuleId(f["rule_id"]), f["name"], Severity.parse(f["severity"]), stored_message(f),
                           _location(f["location"]) if f["location"] else None, tuple(f["evidence"]),
                           f["fingerprint"], "")


def stored_message(data: dict[str, Any]) -> str:
    """The message as stored: in every language when the store kept them, else as written."""
    said = data.get("messages")
    return said_in({**said, "en": data["message"]}) if said else str(data["message"])


def _location(data: dict[str, str]) -> Location:
    return Location.read(data["member"], data["kind"], data["pointer"])
