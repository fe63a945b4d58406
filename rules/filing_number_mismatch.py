"""FIL005 filing-number-mismatch: a shown number differs from the expected one.

The expected number comes from ``--expect-filing`` or the config (``[rules.FIL005] expected`` maps
app ids to their numbers); it is normalized like found ones.

Sources: the MIIT notice 工信部信管〔2023〕105号
(https://www.gov.cn/zhengce/zhengceku/202308/content_6897341.htm, MIIT's copy
https://www.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2023/art_920db564162e4312916a01bed6540ad8.html); the filing
system where numbers are issued and checked: https://beian.miit.gov.cn/.

PASS: ``--expect-filing 粤ICP备2023123456号-1A`` and the package shows ``粤ICP备2023123456号－1A``.
FAIL: ``--expect-filing 粤ICP备2023123456号-1A`` and the package shows ``粤ICP备2023123456号-2A``.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts.kinds import own_numbers
from scanner.i18n import N_, msg
from scanner.model import Facts, Finding, Options, OptionValue, Package, RuleId, RuleMeta, RuleOption, Severity

EXPECT = RuleOption(
    "expect-filing", {"type": "array", "items": {"type": "string", "minLength": 1}}, (),
    "the filing numbers every scanned package must show", value=OptionValue.FILING_NUMBERS, top_level=True)
EXPECTED = RuleOption(
    "expected", {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}}, (),
    "the filing number each app id must show", value=OptionValue.FILING_NUMBER_MAP)

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("FIL005"),
    name="filing-number-mismatch",
    severity=Severity.ERROR,
    summary=N_("Differs from the expected filing number"),
    fix=N_("Show exactly the filing number issued for this App, or correct the expected number."),
    options=(EXPECT, EXPECTED),
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding per own-kind number that is not one of the expected numbers."""
    by_app = options.rules.pairs(RULE.id, EXPECTED)
    wanted = options.rules.strings(RULE.id, EXPECT) + tuple(n for app, n in by_app if app == package.info.app_id)
    if not wanted:
        return
    expected = ", ".join(wanted)
    for number in own_numbers(facts):
        if number.value not in wanted:
            location = number.first_location
            yield Finding(RULE.id, msg("{number} differs from the expected {expected}",
                                       number=number.value, expected=expected), location,
                          (number.raw,))
