"""FIL004 filing-number-inconsistent: several different numbers of the package's own kind.

An App has one filing number; two different ``-nA`` numbers mean a stale or copied string. When some
numbers sit in an about/settings context, only those are compared (an SDK's asset may carry its own).

Sources: the MIIT notice 工信部信管〔2023〕105号
(https://www.gov.cn/zhengce/zhengceku/202308/content_6897341.htm, MIIT's copy
https://www.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2023/art_920db564162e4312916a01bed6540ad8.html); the filing
system where numbers are issued and checked: https://beian.miit.gov.cn/.

PASS: ``粤ICP备2023123456号-1A`` on the about page and in the settings page.
FAIL: ``粤ICP备2023123456号-1A`` on the about page and ``粤ICP备2023123456号-2A`` in settings.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts.kinds import own_numbers
from scanner.i18n import N_, msg
from scanner.model import Facts, Finding, Options, Package, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("FIL004"),
    name="filing-number-inconsistent",
    severity=Severity.WARNING,
    summary=N_("Several different App filing numbers in one package"),
    fix=N_("Keep one filing number: remove or update the stale copies."),
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding listing every distinct own-kind number when there is more than one."""
    own = own_numbers(facts)
    shown = [n for n in own if n.in_context] or own
    if len(shown) < 2:
        return
    values = tuple(n.value for n in shown)
    location = shown[1].first_location
    yield Finding(RULE.id, msg("{count} different filing numbers: {names}",
                               count=len(values), names=', '.join(values)), location, values)
