"""PRM004 permission-purpose-unresolved: the purpose names a string resource that does not exist.

A HarmonyOS ``reason`` is a ``$string:name`` reference into resources.index; when no qualifier
holds that name, the grant dialog has nothing to show.

Sources: HarmonyOS declare-permissions, "reason:
该字段用于应用上架校验，申请user_grant/manual_settings权限时必填并需多语种适配"
(https://developer.huawei.com/consumer/cn/doc/harmonyos-guides/declare-permissions); iOS "This key is required if
your app uses APIs that access the device's camera"
(https://developer.apple.com/documentation/bundleresources/information-property-list/nscamerausagedescription).

PASS: ``"reason": "$string:camera_reason"`` and resources.index holds camera_reason.
FAIL: ``"reason": "$string:camera_reason"`` and no such string in any qualifier.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts.purposes import PURPOSE_FORMATS
from scanner.i18n import N_, msg
from scanner.model import Facts, Finding, Options, Package, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("PRM004"),
    name="permission-purpose-unresolved",
    severity=Severity.ERROR,
    summary=N_("A permission's purpose refers to a string resource that does not exist"),
    fix=N_("Add the string the reason refers to (resources/base/element/string.json and each language), or fix "
    "the name."),
    formats=PURPOSE_FORMATS,
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding per purpose reference that resolves to nothing."""
    for purpose in package.purposes or ():
        if purpose.reference and not purpose.resolved:
            yield Finding(RULE.id, msg("the reason of {permission} refers to {reference}, which no string resource "
                                       "defines",
                                       permission=purpose.permission, reference=purpose.reference),
                          purpose.location, (purpose.permission, purpose.reference))
