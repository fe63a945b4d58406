"""PRM006 permission-purpose-not-a-purpose: the purpose text does not say what the access is for.

Purposes are sentences of use ("用于扫码拍照"); an empty text, a template left in (``$(PRODUCT_NAME)``),
the app's own name, or the permission's name does not tell the user why the access is asked for.

Sources: HarmonyOS declare-permissions, "reason:
该字段用于应用上架校验，申请user_grant/manual_settings权限时必填并需多语种适配"
(https://developer.huawei.com/consumer/cn/doc/harmonyos-guides/declare-permissions); iOS "This key is required if
your app uses APIs that access the device's camera"
(https://developer.apple.com/documentation/bundleresources/information-property-list/nscamerausagedescription).

PASS: "用于扫码登录".
FAIL: the reason of CAPTURE_SCREEN is the app label "QuickLogin_CodelabSample"; "$(PRODUCT_NAME) needs your camera".
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts.purposes import PURPOSE_FORMATS, not_a_purpose, shown_value
from scanner.i18n import N_, msg
from scanner.model import Facts, Finding, Options, Package, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("PRM006"),
    name="permission-purpose-not-a-purpose",
    severity=Severity.WARNING,
    summary=N_("A permission's purpose text does not say what the access is for"),
    fix=N_("Write what the access is used for, as the user will read it in the grant dialog (用于…)."),
    formats=PURPOSE_FORMATS,
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding per stated purpose whose shown text is not a purpose (any permission: a reason given
    is shown to the user, required or not)."""
    names = tuple(n for n in (package.info.app_name, package.info.app_id) if n)
    for purpose in package.purposes or ():
        if not purpose.reference or not purpose.resolved:  # PRM003 / PRM004
            continue
        text = shown_value(purpose)
        # Any value that is the app's name gives it away (the Chinese value may be the label's too).
        problem = not_a_purpose(text, purpose.permission, names) or next(
            (p for _, value in purpose.values if (p := not_a_purpose(value, purpose.permission, names))
             and "app's name" in p), None)
        if problem:
            yield Finding(RULE.id, msg("the purpose of {permission} does not say what it is for: {problem}",
                                       permission=purpose.permission, problem=problem),
                          purpose.location, (purpose.permission, text[:200]))
