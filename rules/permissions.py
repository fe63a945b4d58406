"""Which requested sensitive permissions the package's declaration texts name.

Source: ../shared/domain/filing-rules.md §4.2 (names an in-app permission list uses), as the
permissions catalog; 工信部信管函〔2023〕26号: the purpose must be told when a permission is requested.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from scanner.rules import catalog
from scanner.rules.context import is_declaration

from scanner.model import PermissionFacts, Text


@functools.cache
def sensitive_names() -> dict[str, tuple[str, ...]]:
    """Permission -> every name (Chinese and English) that counts as naming it."""
    entries = catalog.load("permissions")["permissions"]
    return {e["permission"]: tuple(e["names"]["zh"] + e["names"]["en"]) for e in entries}


def _name_pattern(names: Iterable[str]) -> re.Pattern[str]:
    # ASCII names must stand as words ("camera", not "cameraman" or "permission.CAMERA").
    parts = [re.escape(n) if not n.isascii() else rf"(?<![\w.]){re.escape(n)}(?![\w.])" for n in names]
    return re.compile("|".join(parts), re.IGNORECASE)


def permission_facts(
    requested: tuple[str, ...], texts: Iterable[Text], synonyms: dict[str, tuple[str, ...]] | None = None
) -> PermissionFacts:
    """Compare requested permissions with the declaration texts."""
    names = dict(sensitive_names())
    for perm, extra in (synonyms or {}).items():
        names[perm] = names.get(perm, ()) + tuple(extra)
    sensitive = tuple(p for p in requested if p in names)
    declaration = "\n".join(t.value for t in texts if is_declaration(t))
    declared = tuple(p for p in sensitive if declaration and _name_pattern(names[p]).search(declaration))
    undeclared = tuple(p for p in sensitive if p not in declared)
    return PermissionFacts(requested, sensitive, declared, undeclared, bool(declaration))
