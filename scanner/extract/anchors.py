"""The anchors compiled for the parsers: fixed substrings that every text the rules can act on contains.

Decoding every string of a 100 MB package costs seconds; finding a few fixed substrings costs
milliseconds. A text can matter to the rules only if it contains one of these:
- a filing number: ICP (ICP备, ICP证, any case, and P备 for mixed widths), 公网安备 (and its traditional
  and misspelt forms), B1- / B2- (licences), or their full-width forms; in DEX string data the CJK parts
  备 備 证 證 serve the same purpose;
- a filing-system link: ``beian``;
- a permission / privacy declaration: its markers 权限 隐私 permission privacy (scanner/facts/data/context.json).
The anchors themselves come from the catalogs (scanner.facts.anchors, passed in ParseOptions); here they
are compiled into the byte needles each surface is searched with. The parsers use them to skip what
cannot matter (DEX strings, the bulk of large assets and native libraries). Tests check that they cover
the catalogs, and that the fast paths give the same facts as decoding everything. Large text is searched
lower-cased (one C pass) with lower-case needles, and DEX string data with the three spellings text
uses, because an IGNORECASE regex alternation is several times slower in CPython.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from scanner.model import Anchors


@dataclass(frozen=True, slots=True)
class Needles:
    """The anchors compiled for each surface (see ``compile``)."""

    text: tuple[bytes, ...]
    """Large UTF-8 text assets, raw or ``\\u``-escaped (JS bundles), searched in the lower-cased bytes."""
    binary: tuple[bytes, ...]
    """Native libraries and other binaries: numbers and links in UTF-8, the ASCII anchors in UTF-16LE."""
    wide: frozenset[bytes]
    """The UTF-16LE ones among ``binary`` (a CJK marker in UTF-16LE has no NUL byte to tell it by)."""
    dex: tuple[bytes, ...]
    """DEX string data (MUTF-8 equals UTF-8 for these), searched lower-cased."""
    dex_pattern: re.Pattern[bytes]
    """The DEX needles as one pattern, for checking a single decoded string (lower-cased)."""
    words: tuple[str, ...]
    """The text needles as lower-case strings, for short decoded strings."""
    words_pattern: re.Pattern[str]
    """The words as one alternation: one C pass over a short string instead of a Python loop per word."""
    marker_words: tuple[str, ...]
    """Declaration markers, matched against resource names and member paths too (``privacy.html``)."""
    shown: re.Pattern[str]
    """Number and link anchors (not the markers) over a lower-cased decoded string: the code strings
    whose loading code is looked up (scanner.extract.dexcode)."""


def escaped(text: str) -> list[str]:
    """The lower-case ``\\uxxxx`` form of a non-ASCII text (ASCII-only JavaScript; matched lower-cased)."""
    if text.isascii():
        return []
    return ["".join(f"\\u{ord(c):04x}" for c in text)]


def _needles(texts: tuple[str, ...], encoding: str, with_escapes: bool) -> tuple[bytes, ...]:
    forms = [t.encode(encoding) for t in texts]
    if with_escapes:
        forms += [e.encode("ascii") for t in texts for e in escaped(t)]
    return tuple(dict.fromkeys(forms))


@functools.lru_cache(maxsize=8)
def compile_needles(anchors: Anchors) -> Needles:
    """The needles of every surface for a set of anchors (cached: one set per run)."""
    text = _needles(anchors.numbers + anchors.links + anchors.markers, "utf-8", with_escapes=True)
    dex = _needles((*anchors.numbers_code, *anchors.links, *anchors.markers), "utf-8", with_escapes=False)
    # Chinese declaration markers too: a Flutter app's privacy text is a Dart string in libapp.so; the
    # English ones would hit every library's identifiers.
    prose = tuple(m for m in anchors.markers if not m.isascii())
    wide = _needles(anchors.numbers_wide + anchors.links + prose, "utf-16-le", with_escapes=False)
    binary = _needles(anchors.numbers_binary + anchors.links + prose, "utf-8", with_escapes=False) + wide
    words = tuple(dict.fromkeys(n.decode("utf-8").lower() for n in text if not n.startswith(b"\\u")))
    return Needles(
        text=text,
        binary=binary,
        wide=frozenset(wide),
        dex=dex,
        dex_pattern=re.compile(b"|".join(re.escape(n) for n in dex)),
        words=words,
        words_pattern=re.compile("|".join(re.escape(w) for w in words)),
        marker_words=tuple(m.lower() for m in anchors.markers),
        shown=re.compile("|".join(re.escape(w.lower()) for w in (*anchors.numbers, *anchors.links))),
    )


@functools.cache
def _escaped_pattern(needles: tuple[bytes, ...]) -> re.Pattern[bytes]:
    return re.compile(rb"\\u(?:" + b"|".join(re.escape(n[2:]) for n in needles) + b")")


def text_matters(needles: Needles, value: str, name: str = "") -> bool:
    """Whether a short decoded string can matter to a rule: it holds an anchor, or its resource name
    marks a permission / privacy declaration (scanner/facts/context.py reads place names too)."""
    if needles.words_pattern.search(value.lower()):
        return True
    lowered_name = name.lower()
    return any(m in lowered_name for m in needles.marker_words)


FIND_PASSES = 4
"""Up to this many needles are searched one ``bytes.find`` pass each (memory speed); more are searched
in one regex pass over the bytes, which then costs less than a pass per needle (measured on a 13 MB
bundle: 42 needles in one pass take half the time of one pass per needle)."""


def find_all(data: bytes, needles: tuple[bytes, ...], start: int = 0, end: int | None = None) -> list[int]:
    """Sorted offsets of the occurrences of the needles in ``data[start:end]``: every occurrence of each
    needle (a few needles: ``bytes.find`` per needle) or every leftmost-longest match (many needles: one
    regex pass; an occurrence that starts inside another match lies within the same few bytes).
    Needles that cannot occur are skipped: non-ASCII ones in ASCII data, escapes without ``\\u``."""
    end = len(data) if end is None else end
    ascii_only = data.isascii() if start == 0 and end == len(data) else False
    found: list[int] = []
    escaped = tuple(n for n in needles if n.startswith(b"\\u"))
    plain = tuple(n for n in needles if not (ascii_only and not n.isascii()) and n not in escaped)
    if len(plain) > FIND_PASSES:
        # One pass for every needle, the escaped ones included (they share the trie's "\u" branch).
        found.extend(m.start() for m in _alternation(plain + escaped).finditer(data, start, end))
        found.sort()
        return found
    if escaped:
        # All escaped needles share the prefix "\u": one regex pass (its literal prefix is found at memory
        # speed, the rest checked in C) instead of one find pass per needle.
        found.extend(m.start() for m in _escaped_pattern(escaped).finditer(data, start, end))
    for needle in plain:
        pos = data.find(needle, start, end)
        while pos >= 0:
            found.append(pos)
            pos = data.find(needle, pos + 1, end)
    found.sort()
    return found


@functools.lru_cache(maxsize=32)
def _alternation(needles: tuple[bytes, ...]) -> re.Pattern[bytes]:
    """The needles as one pattern factored into a trie (``b(?:eian|2-)|i(?:cp)…``): at each position the
    engine tests one first byte and follows one branch, instead of trying every needle."""
    trie: dict[int | None, dict] = {}
    for needle in set(needles):
        node = trie
        for byte in needle:
            node = node.setdefault(byte, {})
        node[None] = {}
    return re.compile(_trie_pattern(trie))


def _trie_pattern(node: dict[int | None, dict]) -> bytes:
    ends = None in node
    branches = [re.escape(bytes([byte])) + _trie_pattern(child) for byte, child in sorted(
        ((k, v) for k, v in node.items() if k is not None), key=lambda kv: kv[0])]
    if not branches:
        return b""
    # A needle that ends here and one that goes on: the shortest is enough (a hit is a position).
    if ends:
        return b""
    return branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"
