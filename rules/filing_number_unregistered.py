"""FIL008 filing-number-unregistered: the filing records a platform holds have no record for the app.

Distribution platforms may not distribute unfiled apps and must check and show the filing themselves
(工信部信管〔2023〕105号, https://www.gov.cn/zhengce/zhengceku/202308/content_6897341.htm: 应用分发平台 … 不得
为未履行备案手续的App提供服务; the filing system where numbers are issued and checked:
https://beian.miit.gov.cn/). With a registry of the numbers apps registered (``beian-scan batch
--registry filings.csv``: ``app_id,filing_number[,app_name]``), this rule says when there is no record
for the app at all: one finding per app (the numbers it shows are named). A shown number that differs
from the app's own record is FIL005's, and a shown number the registry gives to another app is FIL009's
(the package is not the filed one), never this rule's: one finding per cause.

PASS: the registry lists ``com.example.app,粤ICP备2023123456号-1A`` (whatever the app shows: a different
number is FIL005).
FAIL: the registry has no line for ``com.example.app`` (one finding, even when the app shows two numbers;
none when a number it shows is on record for another app: FIL009).
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts.kinds import own_numbers
from scanner.i18n import N_, joined, msg
from scanner.model import Facts, Finding, Options, OptionValue, Package, RuleId, RuleMeta, RuleOption, Severity

REGISTRY = RuleOption(
    "registry", {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}}, (),
    "the filing number each app id registered (a platform's records; batch --registry fills it)",
    value=OptionValue.FILING_NUMBER_MAP)
IN_FORCE = RuleOption(
    "registry-in-force", {"type": "boolean"}, False,
    "a registry is in force even when none of its records concerns the package (batch --registry sets it)")

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("FIL008"),
    name="filing-number-unregistered",
    severity=Severity.ERROR,
    summary=N_("No filing record for the app in the registry"),
    fix=N_("Record the app's filing in the registry, or check that the upload is the app it claims to be."),
    options=(REGISTRY, IN_FORCE),
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """With a registry: one finding when the app has no record."""
    records = options.rules.pairs(RULE.id, REGISTRY)
    if not records and options.rules.get(RULE.id, IN_FORCE) is not True:
        return
    app_id = package.info.app_id
    if app_id is not None and app_id in {app for app, _number in records}:
        return
    shown = own_numbers(facts)
    if any(n.value in {number for _app, number in records} for n in shown):
        return  # it shows a number on record for another app: FIL009 says this package is not the filed one
    who = app_id or msg("this package (no app id)")
    if shown:
        numbers = joined([msg("it shows {number}", number=n.value) for n in shown])
        message = msg("the registry has no filing record for {app} ({shown})", app=who, shown=numbers)
    else:
        message = msg("the registry has no filing record for {app}", app=who)
    yield Finding(RULE.id, message,
                  shown[0].first_location if shown else None, (app_id or package.info.sha256,))
