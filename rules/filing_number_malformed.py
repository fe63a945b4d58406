"""FIL002 filing-number-malformed: a string has the shape of a filing number but is not valid.

Checks (the numbers the MIIT filing system https://beian.miit.gov.cn/ issues; real numbers as shown
in apps and sites): province abbreviation (31 + 川 甘 贵; not 秦 云 港), 6–10 main digits
(ICP证: 6), ``号`` right after the main number, ``-`` before the serial, serial from 1, suffix A/X/K.

Numbers meant right but written wrong are malformed too, and the finding gives the number as issued:
``icp`` in lower or mixed case, ``备案`` or a colon inside (``京ICP备案20231234号-2``, ``粤ICP备：20195678号``),
the prefix doubled (``晋ICP备ICP备…``), ``公安网备`` for ``公网安备``, ``_`` as the serial dash. Spacing,
full-width forms and traditional characters (``京ICP備20181234號``) are read as written, not reported.

PASS: ``陕ICP备2024026116号-1A``; ``粤ICP备2023123456号 - 1 A`` (spaces only).
FAIL: ``秦ICP备2024012345号-1A`` (秦 is not used: Shaanxi is 陕), ``粤ICP备2023123456-1A`` (no 号),
``滇ICP备09010050-5号`` (serial before 号), ``京ICP备2024026116号1A`` (no dash), ``粤icp备2023123456号-1A``.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.i18n import N_, msg
from scanner.model import Facts, Finding, Options, Package, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("FIL002"),
    name="filing-number-malformed",
    severity=Severity.ERROR,
    summary=N_("Looks like a filing number but is not valid"),
    fix=N_("Copy the number exactly as the MIIT filing system issued it: 省ICP备<digits>号-<serial><A|X|K>."),
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding per distinct malformed number (placeholders are FIL006)."""
    for number in facts.filing_numbers:
        if number.valid or number.placeholder:
            continue
        issued = "" if number.written_as_issued else msg("; as issued it reads {number}", number=number.value)
        yield Finding(
            RULE.id,
            msg("{raw} is not a valid filing number: {problem}{issued}",
                raw=number.raw, problem=number.problem, issued=issued),
            number.first_location,
            (number.raw,),
            fix=msg("Write the number exactly as issued: {number}.", number=number.value) if issued else None,
        )
