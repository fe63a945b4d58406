"""FIL003 filing-number-wrong-kind: the package shows another kind of number instead of its own.

An App needs ``…号-nA``, a mini-program ``…号-nX``, a quick app ``…号-nK`` (numbers issued by
https://beian.miit.gov.cn/; WeChat's own example of a
mini-program number, ``粤B2-20090059-1626X``:
https://developers.weixin.qq.com/doc/oplatform/openApi/miniprogram-management/record/api_applyicpfiling; and the
quick-app note). A website number (``-n``), an entity number (no serial), an ICP licence (``ICP证``), a
B2 licence or a public-security number (``公网安备``) is the wrong kind. Judged as a user would: when the
package's own number is present, other numbers beside it (a public-security filing, an SDK's licence)
are not reported. A quick app showing an ``X`` number gets a review note only (one real quick app shows
``-4K``; the evidence for quick apps is thin).

PASS: ``粤ICP备2023123456号-1A`` in an APK, even with ``京公网安备11010502030143号`` beside it.
FAIL: only ``京ICP备16059763号-1`` (website) or only ``苏ICP备2026036865号-1X`` (mini-program) in an APK.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts.kinds import CAC_KINDS, LABELS, own_numbers, show_own_number
from scanner.i18n import N_, msg
from scanner.model import Facts, FilingNumber, Finding, Options, Package, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("FIL003"),
    name="filing-number-wrong-kind",
    severity=Severity.ERROR,
    summary=N_("Shows a website / entity / licence / public-security number, or the wrong A/X/K suffix"),
    fix=N_("Show the number filed for this App (suffix A; X for mini-programs, K for quick apps)."),
)

_DESCRIBE = {
    "website": msg("a website filing number"),
    "entity": msg("an entity (主体) filing number"),
    "licence": msg("an operating licence number"),
    "public-security": msg("a public-security (公安) filing number, not an MIIT number"),
    "app": msg("an App filing number"),
    "miniprogram": msg("a mini-program filing number"),
    "quickapp": msg("a quick-app filing number"),
}


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding per distinct well-formed number of another kind, when none of the own kind exists."""
    kind = facts.kind.value
    if own_numbers(facts):
        return
    for number in facts.filing_numbers:
        if number.valid and number.kind != kind and number.kind not in CAC_KINDS:
            yield _finding(number, kind)


def _finding(number: FilingNumber, kind: str) -> Finding:
    note = kind == "quickapp" and number.kind == "miniprogram"
    template = (N_("{number} is {what}; this package needs its {label} number (quick apps have been seen with K "
                   "numbers; review whether X is right here)") if note else
                N_("{number} is {what}; this package needs its {label} number"))
    message = msg(template, number=number.value, what=_DESCRIBE[number.kind], label=LABELS[kind])
    location = number.first_location
    return Finding(RULE.id, message, location, (number.raw,), Severity.NOTE if note else None,
                   fix=show_own_number(kind))
