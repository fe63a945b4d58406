"""PRM002 permission-declaration-missing: sensitive permissions, and no permission list or privacy text.

Same sources as PRM001. Fires once when the package requests sensitive permissions and contains no
text that declares anything (no 权限 / 隐私 / permission / privacy text on a displayed surface).

Mini-programs and quick apps: warning by default (see PRM001).

Sources: the MIIT notice 工信部信管〔2023〕105号
(https://www.gov.cn/zhengce/zhengceku/202308/content_6897341.htm, MIIT's copy
https://www.miit.gov.cn/zwgk/zcwj/wjfb/tz/art/2023/art_920db564162e4312916a01bed6540ad8.html); the filing
system where numbers are issued and checked: https://beian.miit.gov.cn/.

A package that links a privacy policy which was not read gets a warning naming it (see PRM001).

PASS: CAMERA requested, ``assets/privacy.html`` explains the camera.
FAIL: CAMERA and ACCESS_FINE_LOCATION requested, nothing in the package mentions permissions or privacy.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts.policies import policy_clause, unchecked_policy
from scanner.i18n import N_, msg
from scanner.model import Facts, Finding, Options, Package, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("PRM002"),
    name="permission-declaration-missing",
    severity=Severity.ERROR,
    severity_minor_kinds=Severity.WARNING,
    summary=N_("Sensitive permissions requested, no permission list or privacy text at all"),
    fix=N_("Add an in-app permission list (权限说明) or privacy policy naming each sensitive permission."),
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding listing the sensitive permissions when no declaration text exists."""
    if package.purposes is not None:  # HarmonyOS / iOS state purposes per permission: PRM003-PRM007
        return
    perms = facts.permissions
    if not perms.sensitive or perms.has_declaration_text:
        return
    online = unchecked_policy(facts)
    yield Finding(RULE.id, msg("{count} sensitive permission(s) requested and no permission list or privacy text "
                               "found{clause}", count=len(perms.sensitive), clause=policy_clause(facts)),
                  online.location if online else None,
                  perms.sensitive, severity=Severity.WARNING if online else None)
