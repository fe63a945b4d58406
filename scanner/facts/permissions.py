"""Which requested sensitive permissions (or mini-program privacy APIs) the declaration texts name.

Source: ../shared/domain/filing-rules.md §4.2 (names an in-app permission list uses), as the
permissions catalog; §3.2 for mini-program privacy APIs (the miniprogram catalog); 工信部信管函〔2023〕26号:
the purpose must be told when a permission is requested.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from scanner import catalogs
from scanner.model import PermissionFacts

Names = Mapping[str, tuple[str, ...]]


@functools.cache
def sensitive_names() -> dict[str, tuple[str, ...]]:
    """Android permission / quick-app feature -> every name (Chinese, English) that counts as naming it."""
    entries = catalogs.load("permissions")["permissions"]
    return {e["permission"]: tuple(e["names"]["zh"] + e["names"]["en"]) for e in entries}


@functools.cache
def api_names() -> dict[str, tuple[str, ...]]:
    """Mini-program privacy API -> the names of its info type."""
    entries = catalogs.load("miniprogram")["privacy_apis"]
    return {api: tuple(e["names"]["zh"] + e["names"]["en"]) for e in entries for api in e["apis"]}


@functools.cache
def _name_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    # ASCII names must stand as words ("camera", not "cameraman" or "permission.CAMERA").
    parts = [re.escape(n) if not n.isascii() else rf"(?<![\w.]){re.escape(n)}(?![\w.])" for n in names]
    return re.compile("|".join(parts), re.IGNORECASE)


def name_table(names: Names | None = None, synonyms: Mapping[str, tuple[str, ...]] | None = None
               ) -> dict[str, tuple[str, ...]]:
    """The names that declare each permission: the catalog's (or ``names``) plus the user's synonyms."""
    table = dict(sensitive_names() if names is None else names)
    for perm, extra in (synonyms or {}).items():
        table[perm] = table.get(perm, ()) + tuple(extra)
    return table


def declared_in(requested: tuple[str, ...], declaration: str, table: Mapping[str, tuple[str, ...]]
                ) -> PermissionFacts:
    """Which requested sensitive permissions the declaration text names (``table``: names per permission)."""
    sensitive = tuple(p for p in requested if p in table)
    declared = tuple(p for p in sensitive if declaration and _name_pattern(table[p]).search(declaration))
    undeclared = tuple(p for p in sensitive if p not in declared)
    return PermissionFacts(requested, sensitive, declared, undeclared, bool(declaration))
