"""PKG004 package-structure-anomaly: the package uses a trick that breaks naive parsers.

Malware ships APKs that Android installs but tools choke on (the zip and binary-XML evasion techniques
of Android malware): unknown compression methods, the encryption flag on plain data, local headers that
disagree with the central directory, bad CRCs, several end records, duplicate or path-like entry names,
tampered binary XML, a resource table or DEX that cannot be walked. beian-scan reads them as Android
does and reports each trick here, so an audit sees that the package is built to evade analysis. A
warning: the scan itself went on. A member that inflates past the ratio cap but stays small enough to
read (a zero-filled SQLite template) is a note: a reviewer sees it, nothing fails.

PASS: an APK built by aapt2 / the Android Gradle plugin.
FAIL: ``classes.dex`` with compression method 0x5A4D (read as stored, as Android does).
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.i18n import N_, msg
from scanner.model import AnomalyKind, Facts, Finding, Location, Options, Package, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("PKG004"),
    name="package-structure-anomaly",
    severity=Severity.WARNING,
    summary=N_("Zip, binary-XML, resource or DEX structure tampered with (read leniently)"),
    fix=N_("Rebuild the package with standard tools; in a store audit, treat the package as evasive."),
)

MAX_FINDINGS = 50
"""Hostile packages can hold thousands of odd entries: the report keeps the first ones and a count."""


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding per structural anomaly or unreadable part (bounded)."""
    odd = [a for a in package.anomalies if a.kind not in (AnomalyKind.LIMIT, AnomalyKind.ENCRYPTED)]
    for anomaly in odd[:MAX_FINDINGS]:
        where = Location(anomaly.member, "archive", "") if anomaly.member else None
        severity = Severity.NOTE if anomaly.kind is AnomalyKind.NOTE else None
        member = anomaly.member or msg("package")
        yield Finding(RULE.id, msg("{member}: {detail}", member=member, detail=anomaly.detail),
                      where, (anomaly.detail,),
                      severity)
    if len(odd) > MAX_FINDINGS:
        yield Finding(RULE.id, msg("{count} more anomalies not listed", count=len(odd) - MAX_FINDINGS), None, ())
