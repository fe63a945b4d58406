"""Derive the package's facts once (numbers, links, permissions, API uses) so every rule reads one view."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from scanner.facts.api_calls import call_location, find_calls, privacy_apis
from scanner.facts.context import declaration_parts, in_context, near_context
from scanner.facts.labels import is_number_label
from scanner.facts.links import find_links
from scanner.facts.locate import Lines, pinpoint
from scanner.facts.numbers import find_numbers, normalize
from scanner.facts.permissions import api_names, declared_in, name_table, sensitive_names
from scanner.facts.policies import policy_links
from scanner.facts.protection import protection
from scanner.facts.purposes import mandatory
from scanner.model import (
    ApiUse,
    FactOptions,
    Facts,
    FilingLink,
    FilingNumber,
    LinkStatus,
    Location,
    NumberKind,
    Package,
    PackageKind,
    PermissionFacts,
    Text,
)

MAX_LOCATIONS = 25
"""Locations kept per number, link or API: enough to find each place, bounded for hostile packages."""
MAX_NUMBERS_PER_TEXT = 1000
"""Filing-number occurrences read per text; past them the text's numbers say "and more" (a display shows
one number; a hostile text repeats one a million times)."""


@dataclass
class _Seen:
    first: FilingNumber | FilingLink
    locations: list[Location] = field(default_factory=list)
    in_context: bool = False
    parts: tuple[str, ...] | None = None
    """The pieces of the first assembly that found it; () once it is found whole in one text."""


def _add(seen: dict[str, _Seen], key: str, item: FilingNumber | FilingLink, loc: Location, ctx: bool,
         parts: tuple[str, ...] = ()) -> None:
    entry = seen.setdefault(key, _Seen(item))
    if len(entry.locations) < MAX_LOCATIONS and loc not in entry.locations:
        entry.locations.append(loc)
    entry.in_context = entry.in_context or ctx
    if entry.parts is None or not parts:  # a whole occurrence anywhere outweighs every assembly
        entry.parts = parts


def _saturated(seen: _Seen | None) -> bool:
    """Whether one more whole occurrence of a number adds nothing: its places are full (MAX_LOCATIONS),
    it is in context and was found whole (a static site's footer on its 40,000 pages: bench/run.py's
    ``footer`` shape)."""
    return seen is not None and len(seen.locations) >= MAX_LOCATIONS and seen.in_context and seen.parts == ()


def _note_more(numbers: dict[str, _Seen], text: Text) -> None:
    """Past the cap: every number this text showed says that the text holds more occurrences."""
    more = Location(text.location.member, text.location.kind,
                    f"and more: only the first {MAX_NUMBERS_PER_TEXT} filing numbers of this text were read")
    for entry in numbers.values():
        if any(loc.member == text.location.member for loc in entry.locations) and more not in entry.locations:
            entry.locations.append(more)


def spanned_parts(parts: tuple[str, ...], offset: int, length: int) -> tuple[str, ...]:
    """The pieces that [offset, offset+length) of their join overlaps, or () when it lies inside one
    piece (that piece's own text, already read)."""
    spanned: list[str] = []
    start = 0
    for part in parts:
        end = start + len(part)
        if start < offset + length and offset < end:
            spanned.append(part)
        start = end
    return tuple(spanned) if len(spanned) > 1 else ()


def derive_facts(package: Package, kind: PackageKind, options: FactOptions) -> Facts:
    """Scan every text once for filing numbers and links; compare permissions with declarations.
    ``kind`` is the kind the package is judged as (scanner.facts.kinds.effective_kind)."""
    numbers: dict[str, _Seen] = {}
    links: dict[str, _Seen] = {}
    parts: list[str] = []
    for text in package.texts:
        lowered = text.value.lower()  # once per text, for every case-blind check below
        if not text.parts:
            parts.extend(declaration_parts(text, lowered))
        lines = Lines(text.value)
        for count, rec in enumerate(find_numbers(text.value)):
            if count == MAX_NUMBERS_PER_TEXT:  # a text of nothing but numbers: what a display needs is read
                _note_more(numbers, text)
                break
            pieces = spanned_parts(text.parts, rec.offset, rec.length) if text.parts else ()
            if text.parts and not pieces:
                continue
            key = f"{rec.value}\x1f{rec.problem or ''}"
            if not text.parts and _saturated(numbers.get(key)):
                continue  # its places are full and it is in context: this one would change nothing
            loc = pinpoint(text, rec.offset, lines)
            number = FilingNumber(rec.value, rec.raw, NumberKind(rec.kind), rec.problem is None, rec.problem,
                                  rec.placeholder, False, (), rec.normalized, rec.value == normalize(rec.raw))
            # One entry per number and spelling: a misspelt copy stays apart from the right one.
            ctx = (in_context(loc, options.context_words)
                   or near_context(text, rec.offset, rec.length, options.context_words))
            _add(numbers, key, number, loc, ctx, pieces)
        # Links are whole literals in code; joining a URL with the next piece only makes false ones.
        for ref in () if text.parts else find_links(text.value, lowered):
            seen = links.get(ref.url.lower())
            if seen is not None and len(seen.locations) >= MAX_LOCATIONS:
                continue  # its places are full: this one would change nothing
            link = FilingLink(ref.url, ref.host, LinkStatus(ref.status), ref.reason, ())
            _add(links, ref.url.lower(), link, pinpoint(text, ref.offset, lines), False)
    uses = api_uses(package) if kind is PackageKind.MINIPROGRAM else ()
    read = tuple(dict.fromkeys(t.location.member for t in package.texts if t.location.kind == "policy"))
    return Facts(
        tuple(_number(s) for s in numbers.values()),
        tuple(_link(s) for s in links.values()),
        _permissions(package, uses, options, "\n".join(parts)),
        uses,
        kind,
        policy_links(package.texts),
        read,
        protection(package),
        () if numbers else number_labels(package.texts),
    )


def number_labels(texts: tuple[Text, ...]) -> tuple[Location, ...]:
    """Where a filing-number label stands with no number (bounded like every list of places)."""
    found: list[Location] = []
    for text in texts:
        if "备案" in text.value and not text.parts and is_number_label(text.value) and text.location not in found:
            found.append(text.location)
            if len(found) == MAX_LOCATIONS:
                break
    return tuple(found)


def api_uses(package: Package) -> tuple[ApiUse, ...]:
    """Privacy APIs the mini-program's code calls, in first-seen order, with bounded call sites."""
    sites: dict[str, list[Location]] = {}
    for call in find_calls(package.texts):
        places = sites.setdefault(call.api, [])
        loc = call_location(call)
        if len(places) < MAX_LOCATIONS and loc not in places:
            places.append(loc)
    info = privacy_apis()
    return tuple(ApiUse(api, info[api], tuple(places)) for api, places in sites.items())


def _permissions(package: Package, uses: tuple[ApiUse, ...], options: FactOptions, declaration: str
                 ) -> PermissionFacts:
    """Android permissions / quick-app features, for mini-programs the privacy APIs they call, for
    HarmonyOS and iOS the permissions and purpose keys whose purpose the platform requires."""
    if package.purposes is not None:
        return _purpose_facts(package)
    synonyms = dict(options.permission_synonyms)
    if not uses:
        return declared_in(package.permissions, declaration, name_table(sensitive_names(), synonyms))
    facts = declared_in(tuple(u.api for u in uses), declaration, name_table(api_names(), synonyms))
    by_config = config_declared(package, uses)
    declared = tuple(a for a in facts.sensitive if a in facts.declared or a in by_config)
    undeclared = tuple(a for a in facts.sensitive if a not in declared)
    return replace(facts, declared=declared, undeclared=undeclared,
                   has_declaration_text=facts.has_declaration_text or bool(by_config))


def _purpose_facts(package: Package) -> PermissionFacts:
    """HarmonyOS: the requested permissions; sensitive, those whose reason the platform requires
    (user_grant, manual_settings); declared, those with a reason. iOS: the purpose keys the app states
    or its binary calls for; sensitive, every one of them; declared, those Info.plist states. The same
    meaning as an APK's facts, so the JSON report and the batch store compare across platforms."""
    stated = tuple(dict.fromkeys(p.permission for p in package.purposes or () if p.reference))
    if package.info.format == "ipa":
        requested = tuple(dict.fromkeys((*stated, *(key for key, _evidence in package.uses))))
        sensitive = tuple(key for key in requested if mandatory(key))
    else:
        requested = package.permissions
        sensitive = tuple(p for p in requested if mandatory(p))
    declared = tuple(p for p in sensitive if p in stated)
    undeclared = tuple(p for p in sensitive if p not in stated)
    return PermissionFacts(requested, sensitive, declared, undeclared, bool(stated))


def config_declared(package: Package, uses: tuple[ApiUse, ...]) -> frozenset[str]:
    """APIs a mini-program's app config declares: listed in requiredPrivateInfos, or location APIs
    whose purpose is given in permission["scope.userLocation"].desc (filing-rules.md §3.2)."""
    privacy = package.privacy
    if privacy is None:
        return frozenset()
    has_purpose = bool(dict(privacy.permission_descs).get("scope.userLocation", "").strip())
    location_infos = {"Location", "ChooseLocation"}
    return frozenset(u.api for u in uses if u.api in privacy.required_private_infos
                     or (has_purpose and u.info in location_infos))


def _number(seen: _Seen) -> FilingNumber:
    assert isinstance(seen.first, FilingNumber)
    return replace(seen.first, in_context=seen.in_context, locations=tuple(seen.locations),
                   assembled_from=seen.parts or ())


def _link(seen: _Seen) -> FilingLink:
    assert isinstance(seen.first, FilingLink)
    return replace(seen.first, locations=tuple(seen.locations))
