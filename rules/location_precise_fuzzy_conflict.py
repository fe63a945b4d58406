"""MPP003 location-precise-fuzzy-conflict: fuzzy and precise location APIs are declared together.

getFuzzyLocation and the precise APIs (getLocation, onLocationChange, startLocationUpdate,
startLocationUpdateBackground) are mutually exclusive in ``requiredPrivateInfos``; declaring both is a
compile error (WeChat announcement
https://developers.weixin.qq.com/community/develop/doc/000a02f2c5026891650e7f40351c01;
configuration https://developers.weixin.qq.com/miniprogram/dev/reference/configuration/app.html).

PASS: ``"requiredPrivateInfos": ["getFuzzyLocation", "chooseLocation"]``.
FAIL: ``"requiredPrivateInfos": ["getFuzzyLocation", "getLocation"]``.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts.api_calls import location_apis
from scanner.i18n import N_, msg
from scanner.model import Facts, Finding, Location, Options, Package, PackageKind, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    doc=__doc__ or "",
    kinds=frozenset({PackageKind.MINIPROGRAM}),
    id=RuleId("MPP003"),
    name="location-precise-fuzzy-conflict",
    severity=Severity.ERROR,
    summary=N_("Fuzzy and precise location APIs declared together"),
    fix=N_("Declare either getFuzzyLocation or the precise location APIs in requiredPrivateInfos, not both."),
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding naming both sides of the conflict."""
    if package.privacy is None:
        return
    kinds = location_apis()
    declared = package.privacy.required_private_infos
    fuzzy = [api for api in declared if kinds.get(api) == "fuzzy"]
    precise = [api for api in declared if kinds.get(api) == "precise"]
    if fuzzy and precise:
        where = Location(package.privacy.member, "config", "requiredPrivateInfos")
        yield Finding(RULE.id, msg("requiredPrivateInfos declares fuzzy ({fuzzy}) and precise ({precise}) location "
                                   "together",
                                   fuzzy=", ".join(fuzzy), precise=", ".join(precise)), where, (*fuzzy, *precise))
