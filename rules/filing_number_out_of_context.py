"""FIL007 filing-number-out-of-context: the number is only found outside about/settings places.

The notice asks for a prominent place (settings / about, per the Huawei FAQ quoted in
工信部信管〔2023〕105号, https://www.gov.cn/zhengce/zhengceku/202308/content_6897341.htm). A number that sits only in
code or an unrelated string may never be displayed.
Context comes from the place's name: resource, layout, page or asset names with about, setting, icp,
beian, 关于, 设置, 备案 (extend with the ``context_words`` option).

PASS: ``@string/about_icp`` holds the number.
FAIL: the number is only in ``classes.dex`` or in ``@string/app_footer``.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts.kinds import own_numbers
from scanner.i18n import N_, msg
from scanner.model import Facts, Finding, Options, OptionStage, Package, RuleId, RuleMeta, RuleOption, Severity

CONTEXT_WORDS = RuleOption(
    "context-words", {"type": "array", "items": {"type": "string", "minLength": 1}}, (),
    "extra words that mark an about/settings place (added to the context catalog)", stage=OptionStage.FACTS,
    fact="context_words", top_level=True)

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("FIL007"),
    name="filing-number-out-of-context",
    severity=Severity.NOTE,
    summary=N_("Found only outside about/settings context"),
    fix=N_("Show the number on the about or settings page (e.g. a string named about_icp used there)."),
    options=(CONTEXT_WORDS,),
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One note per own-kind number when none of them sits in an about/settings context."""
    own = own_numbers(facts)
    if not own or any(n.in_context for n in own):
        return
    for number in own:
        location = number.first_location
        yield Finding(RULE.id, msg("{number} was found only outside an about/settings context", number=number.value),
                      location, (number.raw,))
