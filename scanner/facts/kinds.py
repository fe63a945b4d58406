"""The package's effective kind (worked out once, in Facts.kind) and which numbers are its own."""

from __future__ import annotations

from scanner.i18n import Message, msg
from scanner.model import Facts, FilingNumber, NumberKind, Options, Package, PackageKind

LABELS = {"app": msg("App (…号-nA)"), "miniprogram": msg("mini-program (…号-nX)"),
          "quickapp": msg("quick app (…号-nK)")}
_SHOW = {
    "app": msg("Show the App filing number issued for this App (粤ICP备…号-1A: suffix A) on the about or "
               "settings page, with https://beian.miit.gov.cn/ linked below it."),
    "miniprogram": msg("Show the mini-program filing number issued for this mini-program (…号-1X: suffix X) on "
                       "the about or settings page, with https://beian.miit.gov.cn/ linked below it."),
    "quickapp": msg("Show the quick-app filing number issued for this quick app (…号-1K: suffix K) on the about "
                    "or settings page, with https://beian.miit.gov.cn/ linked below it."),
}


def effective_kind(package: Package, options: Options) -> PackageKind:
    """``--kind`` (or ``rules.FIL003.kind``) wins over what the parser inferred."""
    return options.kind or package.kind


def show_own_number(kind: str) -> Message:
    """The fix text that asks for the number of the package's own kind."""
    return _SHOW[kind]


def own_numbers(facts: Facts) -> list[FilingNumber]:
    """Well-formed numbers of the package's own kind."""
    return [n for n in facts.filing_numbers if n.valid and n.kind == facts.kind.value]


CAC_KINDS = frozenset({NumberKind.ALGORITHM, NumberKind.GENERATIVE_AI})
"""Filings of the Cyberspace Administration that apps show beside the App filing: never an App filing,
never a wrong kind of one (FIL001 and FIL003 pass them by)."""


def miit_numbers(facts: Facts) -> list[FilingNumber]:
    """Every MIIT-family candidate (valid or not): anything but a public-security or CAC filing."""
    return [n for n in facts.filing_numbers if n.kind != NumberKind.PUBLIC_SECURITY and n.kind not in CAC_KINDS]
