"""PKG003 package-limit-exceeded: a cap refused part of the package; everything else was scanned.

Store audits meet packages built to exhaust scanners: zip bombs (one member inflating to gigabytes, or
200:1 and more), millions of entries, packages nested in packages. Each cap (inflated bytes per member
and per package, inflation ratio, entry count, nesting depth) is configurable; a hit skips that part,
says so here, and keeps the scan of the rest. A skipped member may hide a filing number, so this is
an error by default: the result is incomplete.

PASS: every member inflates within the limits.
FAIL: ``assets/blob.bin`` inflates more than 200:1 (a zip bomb) and is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.i18n import N_, msg
from scanner.model import AnomalyKind, Facts, Finding, Location, Options, Package, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("PKG003"),
    name="package-limit-exceeded",
    severity=Severity.ERROR,
    summary=N_("A size, ratio, entry-count or nesting cap refused part of the package"),
    fix=N_("Check the member: a legitimate one needs a higher cap (max-member-mb, max-ratio …); a bomb is hostile."),
)


MAX_FINDINGS = 50
"""A nest of packages can hit a cap thousands of times: the report keeps the first ones and a count."""


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding per cap hit (bounded)."""
    hits = [a for a in package.anomalies if a.kind is AnomalyKind.LIMIT]
    for anomaly in hits[:MAX_FINDINGS]:
        where = Location(anomaly.member, "archive", "") if anomaly.member else None
        member = anomaly.member or msg("package")
        yield Finding(RULE.id, msg("{member}: {detail}", member=member, detail=anomaly.detail),
                      where, (anomaly.detail,))
    if len(hits) > MAX_FINDINGS:
        yield Finding(RULE.id, msg("{count} more cap hits not listed", count=len(hits) - MAX_FINDINGS), None, ())
