"""LNK001 filing-link-missing: no link to the MIIT filing system.

工信部信管〔2023〕105号: below the filing number, link the filing system so the public can check it
(https://beian.miit.gov.cn/). A link to a retired host still counts as a link (LNK002 warns about it);
a public-security portal does not (LNK003). Mini-programs and quick apps: warning by default.

Sources: the MIIT notice 工信部信管〔2023〕105号
(https://www.gov.cn/zhengce/zhengceku/202308/content_6897341.htm, MIIT's copy
https://www.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2023/art_920db564162e4312916a01bed6540ad8.html); the filing
system where numbers are issued and checked: https://beian.miit.gov.cn/.

PASS: ``<a href="https://beian.miit.gov.cn/">粤ICP备2023123456号-1A</a>``.
FAIL: the number is shown with no link, or only ``http://www.beian.gov.cn/portal/…`` is linked.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts.protection import EVERYWHERE, searched
from scanner.i18n import N_, msg
from scanner.model import Facts, Finding, LinkStatus, Options, Package, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("LNK001"),
    name="filing-link-missing",
    severity=Severity.ERROR,
    severity_minor_kinds=Severity.WARNING,
    summary=N_("No link to the filing system"),
    fix=N_("Below the filing number, link https://beian.miit.gov.cn/ (the MIIT filing system)."),
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding when no official or retired MIIT filing-system host is referenced."""
    if any(link.status in (LinkStatus.OFFICIAL, LinkStatus.OUTDATED) for link in facts.filing_links):
        return
    where = searched(package, facts)
    if where == EVERYWHERE:
        yield Finding(RULE.id, msg("no link to the MIIT filing system (https://beian.miit.gov.cn/) was found"))
    else:
        yield Finding(RULE.id, msg("no link to the MIIT filing system (https://beian.miit.gov.cn/) was found {where}",
                                   where=where))
