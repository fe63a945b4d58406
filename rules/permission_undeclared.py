"""PRM001 permission-undeclared: a sensitive permission is requested but no declaration names it.

The App must tell users what each sensitive permission is for (《App违法违规收集使用个人信息行为认定方法》
"未逐一列出…目的、方式、范围"; 工信部信管函〔2023〕26号). A declaration is a permission list or privacy
text in the package (a text that says 权限 / 隐私 / permission / privacy, or sits in a place so named);
the names that count per permission are the catalog rules/data/permissions.json (filing-rules.md §4.2).

PASS: CAMERA requested and ``@string/permission_camera`` = ``相机权限：用于扫码登录``.
FAIL: CAMERA and READ_CONTACTS requested, the permission list only explains 相机 -> READ_CONTACTS.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.rules.permissions import sensitive_names

from scanner.model import Facts, Finding, Options, Package, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    id=RuleId("PRM001"),
    name="permission-undeclared",
    severity=Severity.ERROR,
    summary="A sensitive permission is requested but not named in the in-app declaration",
    fix="Name the permission (e.g. 相机 / camera) and its purpose in the in-app permission list.",
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding per undeclared sensitive permission (when a declaration exists at all: else PRM002)."""
    perms = facts.permissions
    if not perms.has_declaration_text:
        return
    names = sensitive_names()
    for permission in perms.undeclared:
        hint = " / ".join(names.get(permission, ())[:3])
        yield Finding(RULE.id, f"{permission} is requested but no permission list or privacy text names it"
                      f" (e.g. {hint})", None, (permission,))
