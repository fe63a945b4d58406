"""Derive the package's facts once (numbers, links, permissions) so every rule reads the same view."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from scanner.rules.context import in_context
from scanner.rules.links import find_links
from scanner.rules.numbers import find_numbers
from scanner.rules.permissions import permission_facts

from scanner.model import Facts, FilingLink, FilingNumber, Location, Options, Package, Text

MAX_LOCATIONS = 25
"""Locations kept per number or link: enough to find each place, bounded for hostile packages."""


@dataclass
class _Seen:
    first: FilingNumber | FilingLink
    locations: list[Location] = field(default_factory=list)
    in_context: bool = False


def pinpoint(text: Text, offset: int) -> Location:
    """The text's location narrowed to the line (multi-line documents) or offset (long single lines)."""
    loc = text.location
    if "\n" in text.value:
        where = f"line {text.value.count(chr(10), 0, offset) + 1}"
    elif len(text.value) > 200:
        where = f"offset {offset}"
    else:
        return loc
    return Location(loc.member, loc.kind, f"{loc.pointer}, {where}" if loc.pointer else where)


def _add(seen: dict[str, _Seen], key: str, item: FilingNumber | FilingLink, loc: Location, ctx: bool) -> None:
    entry = seen.setdefault(key, _Seen(item))
    if len(entry.locations) < MAX_LOCATIONS and loc not in entry.locations:
        entry.locations.append(loc)
    entry.in_context = entry.in_context or ctx


def derive_facts(package: Package, options: Options) -> Facts:
    """Scan every text once for filing numbers and links; compare permissions with declarations."""
    numbers: dict[str, _Seen] = {}
    links: dict[str, _Seen] = {}
    for text in package.texts:
        for rec in find_numbers(text.value):
            loc = pinpoint(text, rec.offset)
            number = FilingNumber(rec.value, rec.raw, rec.kind, rec.problem is None, rec.problem,
                                  rec.placeholder, False, ())
            _add(numbers, rec.value, number, loc, in_context(loc, options.context_words))
        for ref in find_links(text.value):
            link = FilingLink(ref.url, ref.host, ref.status, ref.reason, ())
            _add(links, ref.url.lower(), link, pinpoint(text, ref.offset), False)
    perms = permission_facts(package.permissions, package.texts, dict(options.permission_synonyms))
    return Facts(
        tuple(_number(s) for s in numbers.values()),
        tuple(_link(s) for s in links.values()),
        perms,
    )


def _number(seen: _Seen) -> FilingNumber:
    assert isinstance(seen.first, FilingNumber)
    return replace(seen.first, in_context=seen.in_context, locations=tuple(seen.locations))


def _link(seen: _Seen) -> FilingLink:
    assert isinstance(seen.first, FilingLink)
    return replace(seen.first, locations=tuple(seen.locations))
