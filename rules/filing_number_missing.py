"""FIL001 filing-number-missing: no filing number of any MIIT kind is shown anywhere in the package.

Why: 工信部信管〔2023〕105号 requires the App operator to show its filing number in a prominent place
(settings / about); app stores reject packages without one. Mini-programs and quick apps get a
warning by default: the host platform shows their number on the profile page (WeChat's filing API returns the
number the platform shows:
https://developers.weixin.qq.com/doc/oplatform/openApi/miniprogram-management/record/api_getonlineicporder.html).

Sources: the MIIT notice 工信部信管〔2023〕105号
(https://www.gov.cn/zhengce/zhengceku/202308/content_6897341.htm, MIIT's copy
https://www.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2023/art_920db564162e4312916a01bed6540ad8.html); the filing
system where numbers are issued and checked: https://beian.miit.gov.cn/.

PASS: an ``about`` string ``ICP备案号：粤ICP备2023123456号-1A``.
FAIL: no ``…ICP备…号`` anywhere (a ``京公网安备…号`` alone does not count: it is not an MIIT number).
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts.kinds import LABELS, miit_numbers, show_own_number
from scanner.facts.protection import searched
from scanner.i18n import N_, msg
from scanner.model import Facts, Finding, Options, Package, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("FIL001"),
    name="filing-number-missing",
    severity=Severity.ERROR,
    severity_minor_kinds=Severity.WARNING,
    summary=N_("No App filing number anywhere in the package"),
    fix=N_("Show the number filed for this package on the about or settings page (App 粤ICP备…号-1A, "
    "mini-program …号-1X, quick app …号-1K)."),
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding when no MIIT filing number of any kind (valid or not) appears."""
    if miit_numbers(facts):
        return
    kind = facts.kind.value
    yield Finding(RULE.id, msg("no {label} filing number was found {where}{shown}",
                               label=LABELS[kind], where=searched(package, facts), shown=_label(facts)),
                  facts.number_labels[0] if facts.number_labels else None, fix=show_own_number(kind))


def _label(facts: Facts) -> str:
    if not facts.number_labels:
        return ""
    return msg("; a filing-number label is shown at {where} with no number: the number may be filled in at run "
               "time, which this scan cannot check", where=facts.number_labels[0].describe())
