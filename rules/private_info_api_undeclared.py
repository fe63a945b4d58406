"""MPP001 private-info-api-undeclared: a location API is called but not listed in requiredPrivateInfos.

WeChat requires every location API a mini-program calls (getLocation, chooseLocation, onLocationChange,
startLocationUpdate, startLocationUpdateBackground, chooseAddress, choosePoi, getFuzzyLocation) to be
declared in ``requiredPrivateInfos`` of app.json / ext.json since 2022-07-14; an undeclared call fails
with "the api need to be declared in the requiredPrivateInfos field"
(https://developers.weixin.qq.com/miniprogram/dev/reference/configuration/app.html#requiredPrivateInfos;
announcement https://developers.weixin.qq.com/community/develop/doc/000a02f2c5026891650e7f40351c01). Calls are
found in minified code too (``wx["getLocation"]``, an alias of ``wx``, ``uni.`` / ``Taro.`` wrappers).

PASS: ``wx.getLocation({...})`` and app.json ``"requiredPrivateInfos": ["getLocation"]``.
FAIL: ``var t=wx; t.getLocation({...})`` and no ``requiredPrivateInfos``.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts.api_calls import location_apis
from scanner.i18n import N_, msg
from scanner.model import Facts, Finding, Options, Package, PackageKind, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    doc=__doc__ or "",
    kinds=frozenset({PackageKind.MINIPROGRAM}),
    id=RuleId("MPP001"),
    name="private-info-api-undeclared",
    severity=Severity.ERROR,
    summary=N_("Mini-program calls a location API missing from requiredPrivateInfos"),
    fix=N_('List every location API the code calls in app.json "requiredPrivateInfos".'),
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding per location API called and not declared (needs the package's app config)."""
    if package.privacy is None:
        return
    declared = set(package.privacy.required_private_infos)
    for use in facts.api_uses:
        if use.api in location_apis() and use.api not in declared:
            where = use.locations[0] if use.locations else None
            yield Finding(RULE.id, msg("{api} is called but not declared in requiredPrivateInfos of {member}",
                                       api=use.api, member=package.privacy.member),
                          where, (use.api, *(loc.describe() for loc in use.locations[:3])))
