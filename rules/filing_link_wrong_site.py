"""LNK003 filing-link-wrong-site: the filing link goes to the public-security portal or a look-alike.

``beian.gov.cn`` / ``beian.mps.gov.cn`` are the public-security portals: right for a ``公网安备`` number,
wrong as the App filing link. Judged as a user would: when the MIIT system is linked too, a
public-security link beside it is fine. Look-alike hosts (``beian.miit.gov.cn.evil.com``) are always
reported: hosts are compared exactly.

PASS: ``https://beian.miit.gov.cn/`` plus ``http://www.beian.gov.cn/portal/registerSystemInfo?…``.
FAIL: only ``http://www.beian.gov.cn/…``; any ``https://beian.miit.gov.cn.evil.com/``.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts.links import is_public_security_portal
from scanner.i18n import N_, msg
from scanner.model import Facts, Finding, LinkStatus, Options, Package, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("LNK003"),
    name="filing-link-wrong-site",
    severity=Severity.ERROR,
    summary=N_("Links the public-security portal or a look-alike host instead of the filing system"),
    fix=N_("Link https://beian.miit.gov.cn/ under the App filing number (keep the public-security link "
    "only beside a 公网安备 number)."),
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding per look-alike, and per public-security link when the MIIT system is not linked."""
    miit_linked = any(link.status in (LinkStatus.OFFICIAL, LinkStatus.OUTDATED) for link in facts.filing_links)
    for link in facts.filing_links:
        if link.status is not LinkStatus.WRONG_SITE:
            continue
        if miit_linked and is_public_security_portal(link.host):
            continue
        yield Finding(RULE.id, msg("{url}: {reason}",
                                   url=link.url, reason=link.reason), link.first_location, (link.url,))
