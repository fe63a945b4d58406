"""PRM001 permission-undeclared: a sensitive permission is requested but no declaration names it.

The App must tell users what each sensitive permission is for (《App违法违规收集使用个人信息行为认定方法》
"未逐一列出…目的、方式、范围"; 工信部信管函〔2023〕26号). A declaration is a permission list or privacy
text in the package (a text that says 权限 / 隐私 / permission / privacy, or sits in a place so named);
the names that count per permission are beian-scan's permission catalog (``beian-scan`` ships it; names after
the TC260 App
system-permission guide and real vendor permission lists such as
https://muc.heytap.com/agreement/app-permission/account/mainland/main/appPermission_zh-CN.html).

Mini-programs and quick apps get a warning by default: their privacy guide (《小程序用户隐私保护指引》)
is configured on the platform, not in the package, so an in-package gap is a lead, not proof. For
mini-programs an API also counts as declared when app.json lists it in requiredPrivateInfos, and a
location API when permission["scope.userLocation"].desc gives its purpose.

When the package links a privacy policy (a URL beside 隐私政策 / privacy, or named so) and that policy
was not read (``--privacy-policy FILE``, ``--fetch-privacy-policy``), the purposes may be declared
there: the finding says where and is a warning. With the policy read, its text counts as a declaration.

PASS: CAMERA requested and ``@string/permission_camera`` = ``相机权限：用于扫码登录``.
FAIL: CAMERA and READ_CONTACTS requested, the permission list only explains 相机 -> READ_CONTACTS.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts.permissions import api_names, sensitive_names
from scanner.facts.policies import policy_clause, unchecked_policy
from scanner.i18n import N_, msg
from scanner.model import Facts, Finding, Options, OptionStage, Package, RuleId, RuleMeta, RuleOption, Severity

SYNONYMS = RuleOption(
    "synonyms", {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string",
                                                                                     "minLength": 1}}},
    (), "extra names that declare a permission or API (added to the permission catalog)", stage=OptionStage.FACTS,
    fact="permission_synonyms")

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("PRM001"),
    name="permission-undeclared",
    severity=Severity.ERROR,
    severity_minor_kinds=Severity.WARNING,
    summary=N_("A sensitive permission is requested but not named in the in-app declaration"),
    fix=N_("Name each permission and its purpose in the in-app permission list or the privacy policy."),
    options=(SYNONYMS,),
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding per undeclared sensitive permission (when a declaration exists at all: else PRM002)."""
    if package.purposes is not None:  # HarmonyOS / iOS state purposes per permission: PRM003-PRM007
        return
    perms = facts.permissions
    if not perms.has_declaration_text:
        return
    names = {**sensitive_names(), **api_names()}
    said = (N_("{permission} is called but no permission list or privacy text names it (e.g. {hint}){clause}")
            if facts.api_uses else
            N_("{permission} is requested but no permission list or privacy text names it (e.g. {hint}){clause}"))
    online = unchecked_policy(facts)
    clause = policy_clause(facts)
    for permission in perms.undeclared:
        hint = " / ".join(names.get(permission, ())[:3]) or permission
        yield Finding(RULE.id, msg(said, permission=permission, hint=hint, clause=clause),
                      online.location if online else None, (permission,),
                      severity=Severity.WARNING if online else None,
                      fix=msg("Name {hint} and what it is used for in the in-app permission list or the privacy policy "
                              "(e.g. 用于…).", hint=hint))
