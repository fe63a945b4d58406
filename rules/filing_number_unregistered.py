"""FIL008 filing-number-unregistered: the filing records a platform holds do not cover the package.

Distribution platforms may not distribute unfiled apps and must check and show the filing themselves
(工信部信管〔2023〕105号, https://www.gov.cn/zhengce/zhengceku/202308/content_6897341.htm: 应用分发平台 … 不得
为未履行备案手续的App提供服务; the filing system where numbers are issued and checked:
https://beian.miit.gov.cn/). With a registry of the numbers apps registered (``beian-scan batch
--registry filings.csv``: ``app_id,filing_number[,app_name]``), FIL005 says when a displayed number
differs from the app's own record; this rule says when there is no record for the app at all, or when a
number the package shows is in no record of the registry.

PASS: the registry lists ``com.example.app,粤ICP备2023123456号-1A`` and the app shows that number.
FAIL: the registry has no line for ``com.example.app``; or the app shows ``粤ICP备2099999999号-1A``, which
no line of the registry holds.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts.kinds import own_numbers
from scanner.model import Facts, Finding, Options, Package, RuleId, RuleMeta, RuleOption, Severity

REGISTRY = RuleOption(
    "registry", {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}}, (),
    "the filing number each app id registered (a platform's records; batch --registry fills it)",
    value_type="filing-number-map")

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("FIL008"),
    name="filing-number-unregistered",
    severity=Severity.ERROR,
    summary="No filing record for the app, or a shown number no record holds",
    fix="Record the app's filing in the registry, or show the number the filing system issued for it.",
    options=(REGISTRY,),
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """With a registry: one finding when the app has no record, one per shown number no record holds."""
    records = options.rules.pairs(RULE.id, REGISTRY)
    if not records:
        return
    app_id = package.info.app_id
    known = {number for _app, number in records}
    if app_id is None or app_id not in {app for app, _number in records}:
        yield Finding(RULE.id, f"the registry has no filing record for {app_id or 'this package (no app id)'}",
                      None, (app_id or package.info.sha256,))
    for number in own_numbers(facts):
        if number.value not in known:
            yield Finding(RULE.id, f"{number.value} is shown but no record of the registry holds it",
                          number.first_location, (number.raw,))
