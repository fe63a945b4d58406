"""Purpose strings: which permissions must state one (HarmonyOS user_grant / manual_settings, from the
harmony catalog), which value a Chinese user reads, and whether a text says what the access is for."""

from __future__ import annotations

import functools
import re

from scanner import catalogs
from scanner.i18n import msg
from scanner.model import Purpose

_HAN = re.compile(r"[\u3400-\u9fff]")
_TEMPLATE = re.compile(r"\$\(|\$\{|%@|\{\{|PRODUCT_NAME|TODO|FIXME|lorem ipsum", re.IGNORECASE)
PURPOSE_FORMATS = frozenset({"hap", "app-pack", "ipa"})
"""Formats whose permissions state their purposes in the platform's own place (PRM003-PRM007)."""
MIN_PURPOSE = 4
"""Characters a purpose needs at the least ("用于扫码" is four)."""


@functools.cache
def _harmony() -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = catalogs.load("harmony")["permissions"]
    return table


@functools.cache
def _ios() -> dict[str, dict[str, object]]:
    table: dict[str, dict[str, object]] = catalogs.load("ios")["purposes"]
    return table


def mandatory(permission: str) -> bool:
    """A permission whose purpose the platform requires: HarmonyOS user_grant or manual_settings, or an
    iOS purpose key (required whenever the app uses what it covers)."""
    return permission in _harmony() or permission in _ios()


def group(permission: str) -> str:
    """What the permission gives access to (one purpose may serve one group); the name itself else."""
    entry = _harmony().get(permission) or _ios().get(permission) or {}
    return str(entry.get("group", permission))


def chinese_value(purpose: Purpose) -> str | None:
    """The text a user of the China build reads: a zh qualifier's value, else a Chinese base value."""
    for qualifier, value in purpose.values:
        if qualifier.lower().startswith("zh") and value.strip():
            return value
    return next((v for q, v in purpose.values if _HAN.search(v)), None)


def shown_value(purpose: Purpose) -> str:
    """The Chinese value, else the base (or first) one, else ""."""
    found = chinese_value(purpose)
    if found is not None:
        return found
    return next((v for q, v in purpose.values if q in ("base", "Info.plist")), purpose.values[0][1] if purpose.values
                else "")


def not_a_purpose(text: str, permission: str, app_names: tuple[str, ...]) -> str | None:
    """Why ``text`` does not say what the access is for (None when it may): empty, a template left in,
    the app's own name, the permission's name, or too short to say anything."""
    value = text.strip()
    if not value:
        return msg("it is empty")
    if _TEMPLATE.search(value):
        return msg("it is a template left in ({value})", value=repr(value[:60]))
    if value.casefold() in {n.casefold() for n in app_names if n}:
        return msg("it is the app's name ({value}), not a purpose", value=repr(value))
    short = permission.rsplit(".", 1)[-1]
    if value.replace(" ", "_").upper() in (short, permission.upper()):
        return msg("it repeats the permission's name ({value})", value=repr(value))
    if len(value) < MIN_PURPOSE:
        return msg("it is too short to say what the access is for ({value})", value=repr(value))
    return None
