"""PRM003 permission-purpose-missing: a permission whose purpose the platform requires states none.

HarmonyOS: a user_grant or manual_settings permission in ``requestPermissions`` without a ``reason``
(the platform rejects such an app at listing; the reason is what the grant dialog shows). Which
permissions these are is the harmony catalog, built from OpenHarmony's permission definitions. In an App
Pack each module states its own reasons: AppGallery rejects a pack whose modules give a permission a
reason in one module and none in another, so a module that requests it without one is a finding of its
own (naming the module), even where another module gives a reason; modules that give one permission
different reasons are a warning (the user sees one purpose per permission).

Sources: HarmonyOS declare-permissions, "reason:
该字段用于应用上架校验，申请user_grant/manual_settings权限时必填并需多语种适配"
(https://developer.huawei.com/consumer/cn/doc/harmonyos-guides/declare-permissions); iOS "This key is required if
your app uses APIs that access the device's camera"
(https://developer.apple.com/documentation/bundleresources/information-property-list/nscamerausagedescription).

PASS: ``{"name": "ohos.permission.CAMERA", "reason": "$string:camera_reason"}`` with camera_reason = "用于扫码".
iOS: a capability the binaries link (``LC_LOAD_DYLIB`` of CoreLocation, Contacts, Photos …) or call
(``requestWhenInUseAuthorization`` …) with no ``NS…UsageDescription`` key in Info.plist (the ios catalog
maps frameworks and symbols to keys; a framework is evidence for review, not proof).

FAIL: ``{"name": "ohos.permission.CAMERA"}``; INTERNET (system_grant) without a reason is fine; an IPA
linking CoreLocation without NSLocationWhenInUseUsageDescription; an App Pack whose feature module
requests CAMERA without the reason its entry module gives.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts.purposes import PURPOSE_FORMATS, mandatory, shown_value
from scanner.i18n import N_, msg
from scanner.model import Facts, Finding, Location, Options, Package, Purpose, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("PRM003"),
    name="permission-purpose-missing",
    severity=Severity.ERROR,
    summary=N_("A permission that must state its purpose (HarmonyOS reason, iOS usage description) states none"),
    fix=N_("Give the permission a purpose: a reason $string resource that says what the access is for (用于…)."),
    formats=PURPOSE_FORMATS,
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding per required permission without a purpose."""
    if package.purposes is None:
        return
    stated = {p.permission for p in package.purposes if p.reference}
    if package.info.format == "ipa":
        for key, evidence in package.uses:
            if key not in stated:
                yield Finding(RULE.id, msg("{key} is missing from Info.plist, but {evidence}",
                                           key=key, evidence=evidence),
                              Location("Info.plist", "manifest", key), (key, evidence),
                              fix=msg("Add {key} to Info.plist with what the access is used for (用于…), and its "
                                      "Chinese text in zh-Hans.lproj/InfoPlist.strings.", key=key))
        return
    # An App Pack: one module's reason does not serve another's request. AppGallery checks each module
    # (HarmonyOS requestPermissions: the reason is per module.json), so a module that requests a
    # permission without the reason another module gives is its own finding.
    for purpose in package.purposes:
        if not purpose.reference and purpose.permission in stated and mandatory(purpose.permission):
            module = purpose.location.member.split("!", 1)[0]
            yield Finding(RULE.id, msg("{permission} is requested without a reason in {module} (another module gives "
                                       "one; each module must)",
                                       permission=purpose.permission, module=module),
                          purpose.location, (purpose.permission, module))
    yield from _differing(package.purposes)
    for permission in package.permissions:
        if mandatory(permission) and permission not in stated:
            yield Finding(RULE.id, msg("{permission} is requested without a reason (its purpose is required)",
                                       permission=permission),
                          Location("module.json", "manifest", f"requestPermissions[{permission}]"), (permission,))


def _differing(purposes: tuple[Purpose, ...]) -> Iterator[Finding]:
    """A warning per permission whose modules of one App Pack give it different reasons."""
    given: dict[str, dict[str, tuple[str, Purpose]]] = {}
    for purpose in purposes:
        if purpose.reference and mandatory(purpose.permission) and "!" in purpose.location.member:
            module = purpose.location.member.split("!", 1)[0]
            given.setdefault(purpose.permission, {}).setdefault(module, (shown_value(purpose), purpose))
    for permission, modules in given.items():
        if len({text for text, _ in modules.values()}) > 1:
            said = "; ".join(f"{module}: {text!r}" for module, (text, _) in modules.items())
            first = next(iter(modules.values()))[1]
            yield Finding(RULE.id, msg("{permission} is given different reasons by the modules of the pack ({said})",
                                       permission=permission, said=said),
                          first.location, (permission, *modules), Severity.WARNING,
                          fix=msg("Give the permission one reason in every module that requests it."))
