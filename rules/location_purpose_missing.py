"""MPP002 location-purpose-missing: location is used without ``permission["scope.userLocation"].desc``.

The ``desc`` is the purpose shown in the location authorisation dialog; WeChat staff: only
``scope.userLocation`` needs it
(https://developers.weixin.qq.com/miniprogram/dev/reference/configuration/app.html#permission). Location
counts as used when a location API
other than the address/POI pickers is called.

PASS: ``wx.getLocation`` and ``"permission": {"scope.userLocation": {"desc": "用于推荐附近门店"}}``.
FAIL: ``wx.getLocation`` and no ``permission`` entry, or an empty ``desc``.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts.api_calls import location_apis
from scanner.i18n import N_, msg
from scanner.model import Facts, Finding, Options, Package, PackageKind, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    doc=__doc__ or "",
    kinds=frozenset({PackageKind.MINIPROGRAM}),
    id=RuleId("MPP002"),
    name="location-purpose-missing",
    severity=Severity.WARNING,
    summary=N_('Location scope used without permission["scope.userLocation"].desc'),
    fix=N_('Add "permission": {"scope.userLocation": {"desc": "<why the location is needed>"}} to app.json.'),
)

_NEEDS_SCOPE = frozenset({"precise", "fuzzy"})


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding when a location API that needs scope.userLocation is called without a purpose."""
    if package.privacy is None:
        return
    kinds = location_apis()
    used = [u for u in facts.api_uses if kinds.get(u.api) in _NEEDS_SCOPE]
    if not used or dict(package.privacy.permission_descs).get("scope.userLocation", "").strip():
        return
    apis = tuple(u.api for u in used)
    where = used[0].locations[0] if used[0].locations else None
    yield Finding(RULE.id, msg("{apis} used; {member} gives no purpose in permission[\"scope.userLocation\"].desc",
                               apis=", ".join(apis), member=package.privacy.member), where, apis)
