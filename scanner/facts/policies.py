"""Links to privacy policies: URLs the package gives for its privacy policy.

A URL counts when its own path or host names a policy (``privacy``, ``yinsi``, ``隐私``, ``policy``), or
when a policy title sits right beside it (``隐私政策``, ``隐私协议``, ``privacy policy``): in the same
text, or, for code, among the strings the same method loads (scanner.parsers.code puts them in the
pointer). Found anywhere in the package: resources, code, assets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from scanner.i18n import msg
from scanner.model import Facts, PolicyLink, Text

MAX_LINKS = 5
_URL = re.compile(r"https?://[A-Za-z0-9.-]{3,253}(?::\d{1,5})?(?:/[^\s\"'<>()\[\]{}\\,，。]{0,300})?")
# As a word of the path or host (``/privacy-policy.html``, ``yinsi.html``, ``?page=privacy``), not inside
# another word (``easyprivacy.txt`` is a filter list).
_IN_URL = re.compile(r"(?:^|[/_.=?&-])(?:privacy|yinsi|policy|policies|隐私)", re.IGNORECASE)
_TITLE = re.compile(r"隐私政策|隐私协议|隐私条款|隐私保护指引|隐私权政策|privacy\s*policy", re.IGNORECASE)
_TITLE_WORD = re.compile(r"隐私|privacy", re.IGNORECASE)
"""What every alternative of _TITLE holds, with its flags: where it finds nothing, _TITLE finds nothing."""
NEAR = 80


def policy_links(texts: Iterable[Text]) -> tuple[PolicyLink, ...]:
    """The privacy-policy URLs of the texts, in first-seen order (at most MAX_LINKS)."""
    found: dict[str, PolicyLink] = {}
    for text in texts:
        if text.location.kind == "policy" or text.parts or "http" not in text.value:
            continue
        # Every title _TITLE finds holds 隐私 or "privacy" (matched alike): a text with neither names none.
        titled = text.location.kind == "dex" or _TITLE_WORD.search(text.value) is not None
        for match in _URL.finditer(text.value):
            url = match.group(0).rstrip(".;:!?")
            if url in found or not _names_policy(text, match.start(), match.end(), url, titled):
                continue
            found[url] = PolicyLink(url, text.location)
            if len(found) == MAX_LINKS:
                return tuple(found.values())
    return tuple(found.values())


def _names_policy(text: Text, start: int, end: int, url: str, titled: bool = True) -> bool:
    path = url.split("://", 1)[1]
    if _IN_URL.search(path):
        return True
    if not titled:
        return False
    around = text.value[max(0, start - NEAR) : start] + " " + text.value[end : end + NEAR]
    return bool(_TITLE.search(around) or (text.location.kind == "dex" and _TITLE.search(text.location.place)))


def unchecked_policy(facts: Facts) -> PolicyLink | None:
    """The policy the package links when none was read with it: the purposes may be declared there,
    which a scan of the package alone cannot tell (the PRM rules then warn rather than fail)."""
    if facts.policies_read or not facts.policy_links:
        return None
    chinese = [p for p in facts.policy_links if re.search(r"zh|cn|隐私|yinsi", p.url, re.IGNORECASE)]
    return (chinese or list(facts.policy_links))[0]


def policy_clause(facts: Facts) -> str:
    """What the PRM messages add about privacy policies outside the package."""
    link = unchecked_policy(facts)
    if link is not None:
        return msg("; purposes may be declared in the privacy policy at {url} (not checked: --privacy-policy FILE "
                   "or --fetch-privacy-policy reads it)", url=link.url)
    if facts.policies_read:
        return msg(" (nor does the privacy policy read from {sources})", sources=", ".join(facts.policies_read))
    return ""
