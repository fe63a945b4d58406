"""SARIF 2.1.0 for code scanning (GitHub, Azure DevOps …), valid against the OASIS schema.

Pitfalls handled (peers-and-conventions.md §4.2): every result has a physicalLocation with a relative
uri-reference; stable ruleId and partialFingerprints; levels error/warning/note; rules carry
``security-severity`` and tags; unreadable packages are toolExecutionNotifications, not results;
output is deterministic (no timestamps, stable order).
"""

from __future__ import annotations

import json
from typing import Any

from scanner.formatters import paths
from scanner.formatters.base import LocatedOptions, localized, rule_help
from scanner.i18n import LANGUAGE_TAGS, msg, say
from scanner.model import Report, ReportedFinding, RuleId, RuleMeta, ScanResult, Severity

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SECURITY_SEVERITY = {Severity.ERROR: "7.0", Severity.WARNING: "4.0", Severity.NOTE: "1.0"}
FINGERPRINT_KEY = "beianScanFingerprint/v1"


def render(report: Report, options: LocatedOptions) -> str:
    """One run with the rule catalogue, every finding, and a notification per unreadable package."""
    return json.dumps(to_dict(localized(report, options.lang), options), ensure_ascii=False, indent=2,
                      sort_keys=False) + "\n"


def to_dict(report: Report, options: LocatedOptions) -> dict[str, Any]:
    """The SARIF log as plain data."""
    rules = sorted(report.rules, key=lambda r: r.id)
    index = {r.id: i for i, r in enumerate(rules)}
    results = [
        _result(r, f, index, options)
        for r in report.results
        for f in sorted(r.findings + r.suppressed, key=lambda f: (f.rule_id, f.fingerprint))
    ]
    notifications = [_notification(r, options) for r in report.results if r.error is not None]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "beian-scan", "version": report.tool_version,
                            "semanticVersion": report.tool_version,
                            "rules": [_rule(r, options.lang) for r in rules]}},
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
        "results": results,
        "columnKind": "unicodeCodePoints",
        "language": LANGUAGE_TAGS[options.lang],
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _rule(meta: RuleMeta, lang: str) -> dict[str, Any]:
    doc = rule_help(meta, lang)
    first = doc.split("\n\n", 1)[0].replace("\n", " ") if doc else meta.summary
    fix = say(msg("**Fix:** {fix}", fix=meta.fix), lang)
    return {
        "id": meta.id,
        "name": meta.name,
        "shortDescription": {"text": meta.summary},
        "fullDescription": {"text": first},
        "help": {"text": f"{meta.fix}\n\n{doc}".strip(), "markdown": f"{fix}\n\n{doc}".strip()},
        "defaultConfiguration": {"level": meta.severity.label},
        "properties": {"security-severity": SECURITY_SEVERITY[meta.severity],
                       "tags": ["compliance", "china-app-filing", meta.id[:3].lower()]},
    }


def _location(result: ScanResult, finding: ReportedFinding, options: LocatedOptions) -> dict[str, Any]:
    artifact, line = paths.place(result, finding, options)
    location: dict[str, Any] = {"physicalLocation": {
        "artifactLocation": {"uri": paths.uri(artifact)},
        "region": {"startLine": line},
    }}
    if finding.location is not None:
        loc = finding.location
        location["logicalLocations"] = [{
            "name": loc.member, "fullyQualifiedName": f"{loc.member}::{loc.pointer}" if loc.pointer else loc.member,
            "kind": "resource" if loc.kind in ("resource", "layout", "xml") else "module",
        }]
    return location


def _result(result: ScanResult, finding: ReportedFinding, index: dict[RuleId, int],
            options: LocatedOptions) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": index[finding.rule_id],
        "level": finding.severity.label,
        "message": {"text": finding.message},
        "locations": [_location(result, finding, options)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "package": paths.relative(result.path, options.base_dir),
            "appId": result.info.app_id if result.info else None,
            "member": finding.location.member if finding.location else None,
            "pointer": finding.location.pointer if finding.location else None,
            "evidence": list(finding.evidence),
        },
    }
    if result.also_at:  # a batch's duplicate: the same content under other paths, each named
        out["properties"]["otherPaths"] = [paths.relative(p, options.base_dir) for p in result.also_at]
    if finding.suppression is not None:
        out["suppressions"] = [{"kind": "external", "justification": finding.suppression}]
    return out


def _notification(result: ScanResult, options: LocatedOptions) -> dict[str, Any]:
    assert result.error is not None
    return {
        "level": "error",
        "message": {"text": f"{result.path}: {result.error.message}"},
        "descriptor": {"id": result.error.rule_id},
        "locations": [{"physicalLocation": {"artifactLocation": {
            "uri": paths.uri(paths.relative(result.path, options.base_dir))}}}],
    }
