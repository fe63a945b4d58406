"""Find references to filing-system hosts in a text and judge each host exactly.

The filing system is https://beian.miit.gov.cn/. Hosts are compared whole, never by prefix or suffix:
``beian.miit.gov.cn.evil.com`` is a look-alike, not the filing system.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from scanner import catalogs
from scanner.i18n import msg

# A host-like run that contains "beian" (any case), optionally with a scheme and a path. Bounded runs.
LINK_PATTERN = re.compile(
    r"(?P<url>(?:[A-Za-z][A-Za-z0-9+.-]{0,9}:)?(?://)?"
    r"(?P<host>(?:[A-Za-z0-9-]{1,63}\.){0,8}[A-Za-z0-9-]{0,63}beian[A-Za-z0-9-]{0,63}(?:\.[A-Za-z0-9-]{1,63}){0,8})"
    r"(?P<path>[/#?][^\s\"'<>()\\]{0,200})?)",
    re.IGNORECASE,
)
_QUICK = re.compile("beian", re.IGNORECASE)
# The pattern's longest match around its "beian": before it a scheme (11), "//", 8 labels of 64 and 63
# characters of the label itself; after it 63 characters, 8 labels of 64 and a path of 201. Windows at
# least that wide never cut a URL short (a cut URL is judged by a wrong host).
_BEFORE = 11 + 2 + 8 * 64 + 63
_AFTER = 63 + 8 * 64 + 201


@dataclass(frozen=True, slots=True)
class LinkRef:
    """One filing-system reference in a text."""

    url: str
    host: str
    status: str
    reason: str
    offset: int


@functools.cache
def _tables() -> tuple[dict[str, dict[str, str]], tuple[str, ...]]:
    data = catalogs.load("hosts")
    return data["hosts"], tuple(data["lookalike_markers"])


def find_links(text: str, lowered: str | None = None) -> Iterator[LinkRef]:
    """Every reference to a known filing-system host or a look-alike of one (``lowered``: the text
    lower-cased by the caller, when it has it)."""
    if "beian" not in (text.lower() if lowered is None else lowered):  # the case-blind pattern scans
        return                                                              # at every position
    done_until = -1
    for hit in _QUICK.finditer(text):
        if hit.start() < done_until:
            continue
        # The full pattern only runs in a window around each "beian": on a 12 MB bundle, running it
        # at every position costs seconds, around the few hits it costs nothing. No match holds a
        # character its path excludes (whitespace, quotes, angle brackets, parentheses, backslash), so
        # the window stops at the nearest one on each side: an HTML page's link is read within its
        # attribute, not across the page (bench/run.py's ``footer`` shape: 40,000 such pages).
        # finditer(text, pos, endpos) gives offsets in the whole text: compare them as they are.
        start, end = _window(text, hit.start(), hit.end())
        for match in LINK_PATTERN.finditer(text, start, end):
            if match.end() <= hit.start() or match.start() < done_until:
                continue
            done_until = match.end()
            ref = _ref(match)
            if ref is not None:
                yield ref
            break


_STOPPER = re.compile(r"[\s\"'<>()\\]")
"""The characters no link match holds (LINK_PATTERN's path excludes them, its host and scheme more)."""


def _window(text: str, start: int, end: int) -> tuple[int, int]:
    """The span around a hit that a match holding it may cover: up to _BEFORE / _AFTER characters, cut
    at the nearest stopper on each side."""
    low = max(0, start - _BEFORE)
    before = _STOPPER.search(text[low:start][::-1])  # the nearest one before: the first of the reversed span
    after = _STOPPER.search(text, end, end + _AFTER)
    return (start - before.start() if before else low), (after.start() if after else end + _AFTER)


def _ref(match: re.Match[str]) -> LinkRef | None:
    host = match["host"].lower().strip(".-")
    verdict = judge_host(host)
    if verdict is None:
        return None
    return LinkRef(match["url"].rstrip(".,;:"), host, verdict[0], verdict[1], match.start())


def is_public_security_portal(host: str) -> bool:
    """Whether ``host`` is one of the public-security filing portals the hosts catalog lists."""
    return _tables()[0].get(host, {}).get("role") == "public-security-portal"


def judge_host(host: str) -> tuple[str, str] | None:
    """(status, reason) for a filing-system host or look-alike; None for unrelated hosts."""
    hosts, markers = _tables()
    if host in hosts:
        entry = hosts[host]
        return entry["status"], msg(entry["reason"])  # the catalog's text (hosts.json) is a msgid too
    if "." not in host:
        return None
    if any(marker in host for marker in markers) or any(known in host for known in hosts):
        return "wrong-site", msg("{host} only looks like the filing system (https://beian.miit.gov.cn/)", host=host)
    return None
