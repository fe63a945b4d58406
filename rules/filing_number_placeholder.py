"""FIL006 filing-number-placeholder: a template value was shipped instead of a real number.

Templates ship ``京ICP备00000000号``, ``京ICP备12345678号``, ``京ICP备XXXX号`` (template values, never issued by
https://beian.miit.gov.cn/).
Repeated digits and X/* runs are always placeholders; sequential digits only in the entity form,
because ``京ICP备12345678号-1A`` is used as a synthetic real number in the reference vectors.

PASS: ``粤ICP备2023123456号-1A``.
FAIL: ``京ICP备XXXX号``, ``粤ICP备0000000000号-1A``.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.i18n import N_, msg
from scanner.model import Facts, Finding, Options, Package, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("FIL006"),
    name="filing-number-placeholder",
    severity=Severity.ERROR,
    summary=N_("Template value such as 京ICP备00000000号 or XXXX"),
    fix=N_("Replace the template value with the number issued by the MIIT filing system."),
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding per distinct placeholder number."""
    for number in facts.filing_numbers:
        if number.placeholder:
            location = number.first_location
            yield Finding(RULE.id, msg("{raw} is a template placeholder, not an issued number", raw=number.raw),
                          location, (number.raw,))
