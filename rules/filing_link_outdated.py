"""LNK002 filing-link-outdated: the link points at a retired or unreliable filing-system host.

``miitbeian.gov.cn`` is retired; ``www.beian.miit.gov.cn`` was reported to stop answering
(the retired host: https://github.com/Seevil/cactus/issues/24 reports www.beian.miit.gov.cn no longer
answering; the filing system is https://beian.miit.gov.cn/).

PASS: ``https://beian.miit.gov.cn/``.
FAIL: ``http://www.miitbeian.gov.cn/``, ``https://www.beian.miit.gov.cn/``.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.i18n import N_, msg
from scanner.model import Facts, Finding, LinkStatus, Options, Package, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("LNK002"),
    name="filing-link-outdated",
    severity=Severity.WARNING,
    summary=N_("Links miitbeian.gov.cn or www.beian.miit.gov.cn"),
    fix=N_("Change the link to https://beian.miit.gov.cn/."),
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding per distinct outdated link."""
    for link in facts.filing_links:
        if link.status is LinkStatus.OUTDATED:
            yield Finding(RULE.id, msg("{url}: {reason}",
                                       url=link.url, reason=link.reason), link.first_location, (link.url,))
