"""PRM005 permission-purpose-not-chinese: a required purpose has no Chinese text.

The purpose is shown to the user in the grant dialog; for an app distributed in mainland China it must
be readable in Chinese: a ``zh`` qualifier's value, or a Chinese base value ("多语种适配").

Sources: HarmonyOS declare-permissions, "reason:
该字段用于应用上架校验，申请user_grant/manual_settings权限时必填并需多语种适配"
(https://developer.huawei.com/consumer/cn/doc/harmonyos-guides/declare-permissions); iOS "This key is required if
your app uses APIs that access the device's camera"
(https://developer.apple.com/documentation/bundleresources/information-property-list/nscamerausagedescription).

PASS: ``location_reason`` base "Required for nearby chargers", zh_CN "用于查找附近的充电站".
FAIL: ``location_reason`` only "Required to provide location-based services and functionality.".
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts.purposes import PURPOSE_FORMATS, chinese_value, mandatory
from scanner.i18n import N_, msg
from scanner.model import Facts, Finding, Options, Package, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("PRM005"),
    name="permission-purpose-not-chinese",
    severity=Severity.WARNING,
    summary=N_("A required permission purpose has no Chinese text"),
    fix=N_("Add the Chinese text of the purpose (resources/zh_CN/element/string.json, or "
    "zh-Hans.lproj/InfoPlist.strings)."),
    formats=PURPOSE_FORMATS,
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding per resolved, required purpose without a Chinese value (for an iOS app: when it is
    localized for China at all, i.e. ships a zh localization or is developed in Chinese)."""
    if package.info.format == "ipa" and not any(locale.lower().startswith("zh") for locale in package.locales):
        return
    for purpose in package.purposes or ():
        if not mandatory(purpose.permission) or not purpose.values or chinese_value(purpose) is not None:
            continue
        shown = purpose.values[0][1]
        yield Finding(RULE.id, msg("the purpose of {permission} has no Chinese text (it reads {shown})",
                                   permission=purpose.permission, shown=repr(shown[:80])),
                      purpose.location, (purpose.permission, shown[:200]))
