"""PRM007 permission-purpose-reused: one purpose is given for permissions of unrelated kinds.

A purpose explains one access; the same sentence for the camera and the microphone (or for screen
capture) tells the user nothing about one of them. Permissions of one group (the location ones, say)
may share a purpose.

Sources: HarmonyOS declare-permissions, "reason:
该字段用于应用上架校验，申请user_grant/manual_settings权限时必填并需多语种适配"
(https://developer.huawei.com/consumer/cn/doc/harmonyos-guides/declare-permissions); iOS "This key is required if
your app uses APIs that access the device's camera"
(https://developer.apple.com/documentation/bundleresources/information-property-list/nscamerausagedescription).

PASS: LOCATION and APPROXIMATELY_LOCATION share "用于查找附近的充电站".
FAIL: MICROPHONE's sentence "用于语音输入" is also the reason of CAMERA.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts.purposes import PURPOSE_FORMATS, group, mandatory, shown_value
from scanner.i18n import N_, msg
from scanner.model import Facts, Finding, Options, Package, Purpose, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("PRM007"),
    name="permission-purpose-reused",
    severity=Severity.WARNING,
    summary=N_("One purpose is given for permissions of unrelated kinds"),
    fix=N_("Give each kind of access its own purpose that says what that access is used for."),
    formats=PURPOSE_FORMATS,
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding per purpose text shared by more than one group of permissions."""
    shared: dict[str, list[Purpose]] = {}
    for purpose in package.purposes or ():
        if purpose.resolved and purpose.values and mandatory(purpose.permission):
            shared.setdefault(shown_value(purpose).strip(), []).append(purpose)
    for text, purposes in shared.items():
        groups = sorted({group(p.permission) for p in purposes})
        if text and len(groups) > 1:
            names = sorted({p.permission for p in purposes})
            yield Finding(RULE.id, msg("one purpose ({text}) is given for {names} ({groups})",
                                       text=repr(text[:60]), names=", ".join(names), groups=", ".join(groups)),
                          purposes[0].location, (text[:200], *names))
