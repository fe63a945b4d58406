"""The prefilter: what tells a parser, before it decodes a text, that the text can matter to a rule.

Its anchors are fixed substrings that every text the rules can act on contains.

Decoding every string of a 100 MB package costs seconds; finding a few fixed substrings costs
milliseconds. A text can matter to the rules only if it contains one of these:
- a filing number: ICP (ICP备, ICP证, any case, and P备 for mixed widths), 公网安备 (and its traditional
  and misspelt forms), B1- / B2- (licences), or their full-width forms; in DEX string data the CJK parts
  备 備 证 證 serve the same purpose;
- a filing-system link: ``beian``;
- a permission / privacy declaration: its markers 权限 隐私 permission privacy (scanner/facts/data/context.json).
The anchors themselves come from the catalogs (scanner.facts.anchors); the engine compiles them once
into a ``Prefilter`` (the byte needles each surface is searched with) and passes it in
``ParseOptions.prefilter``: the one value every parser asks whether to read a text. The parsers use them to skip what
cannot matter (DEX strings, the bulk of large assets and native libraries). Tests check that they cover
the catalogs, and that the fast paths give the same facts as decoding everything. Large text is searched
lower-cased (one C pass) with lower-case needles: an automaton of exact bytes keeps its SIMD prefilter,
one folding case would not.
"""

from __future__ import annotations

import bisect
import functools
import html.entities
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import ahocorasick_rs

from scanner.extract.packed import Buffer
from scanner.model import Anchors


@dataclass(frozen=True, slots=True)
class Prefilter:
    """The anchors compiled for each surface (``Prefilter.of``), and whether texts without one are
    skipped (``fast`` off decodes everything: the reference the fast paths are held to; binaries are
    always read around the anchors, having no text of their own)."""

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
    plain: tuple[bytes, ...]
    """The words in UTF-8, the characters whose lower case could spell part of one (``FOLDING``) and the
    bytes that make a file's text more than its UTF-8 (escapes): a small UTF-8 file whose lower-cased
    bytes hold none of them has no text ``text_matters`` keeps."""
    markup: tuple[bytes, ...]
    """``plain`` and the character references that may spell a word's character (``&#``, ``&Idot;``
    lower-cased): an HTML file is dropped unread only when neither it nor its runs of text joined across
    its tags hold one."""
    marker_words: tuple[str, ...]
    """Declaration markers, matched against resource names and member paths too (``privacy.html``)."""
    shown: re.Pattern[str]
    """Number and link anchors (not the markers) over a lower-cased decoded string: the code strings
    whose loading code is looked up (scanner.extract.dexcode)."""
    fast: bool = True

    @classmethod
    def of(cls, anchors: Anchors, fast: bool = True) -> Prefilter:
        """The prefilter of a set of anchors (compiled once per set: cached)."""
        compiled = _compiled(anchors)
        return compiled if fast else replace(compiled, fast=False)

    def matters(self, value: str, name: str = "") -> bool:
        """Whether a short decoded string can matter to a rule: it holds an anchor, or its resource name
        marks a permission / privacy declaration (scanner/facts/context.py reads place names too)."""
        if self.words_pattern.search(value.lower()):
            return True
        return self.name_matters(name)

    def name_matters(self, name: str) -> bool:
        """Whether a member or resource name marks a permission / privacy declaration (``privacy.html``)."""
        lowered_name = name.lower()
        return any(m in lowered_name for m in self.marker_words)


PLAIN_SPOILERS = (b"\\u", b"\\x")
"""The escapes ``textdecode.unescape_js`` turns into other characters (``\\/`` only loses its backslash):
a file holding one has a text other than its bytes. Searched in the same call as the words (a two-byte
``bytes.find`` each was slower), by an automaton of their own (``SHORT``); a NUL, which also does
(UTF-16, binary), is left to ``memchr`` (``textdecode.utf8_text``): a one-byte needle turns the
automaton's prefilter off."""


FOLDING = ("\u0130", "\u212a")
"""The non-ASCII characters whose lower case is (or starts with) an ASCII letter: İ -> "i̇", Kelvin K -> "k".
With the upper-case forms of the words' own non-ASCII letters (full-width Ｉ -> ｉ) they are every
character that ``str.lower`` turns into a word's character and ``bytes.lower`` leaves as it is
(tests/test_fast_paths.py checks this over every code point)."""


def folding(words: tuple[str, ...]) -> tuple[str, ...]:
    """The characters a text may hold in place of a word's character, seen only after ``str.lower``."""
    wide = {c for w in words for c in w if not c.isascii()}
    forms = {f for c in wide for f in (c.upper(), c.title()) if f != c and len(f) == 1}
    return tuple(sorted(forms | set(FOLDING)))


def spelling_entities(words: tuple[str, ...]) -> tuple[bytes, ...]:
    """``&name`` (lower-cased, no ``;``: legacy references need none) of every HTML named character
    reference whose text is, or lower-cases into, a word's character (HTML Living Standard, named
    character references: ``&Idot;`` is İ, which lower-cases to "i̇")."""
    letters = {c for w in words for c in w}
    return tuple(sorted({b"&" + name.rstrip(";").lower().encode("ascii")
                         for name, value in html.entities.html5.items()
                         if any(c in letters for c in value + value.lower())}))


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
def _compiled(anchors: Anchors) -> Prefilter:
    """The needles of every surface for a set of anchors (cached: one set per run)."""
    text = _needles(anchors.numbers + anchors.links + anchors.markers, "utf-8", with_escapes=True)
    dex = _needles((*anchors.numbers_code, *anchors.links, *anchors.markers), "utf-8", with_escapes=False)
    # Chinese declaration markers too: a Flutter app's privacy text is a Dart string in libapp.so; the
    # English ones would hit every library's identifiers.
    prose = tuple(m for m in anchors.markers if not m.isascii())
    wide = _needles(anchors.numbers_wide + anchors.links + prose, "utf-16-le", with_escapes=False)
    binary = _needles(anchors.numbers_binary + anchors.links + prose, "utf-8", with_escapes=False) + wide
    words = tuple(dict.fromkeys(n.decode("utf-8").lower() for n in text if not n.startswith(b"\\u")))
    # With the bytes that make a file's text more than its UTF-8 (PLAIN_SPOILERS): one pass.
    plain = tuple(dict.fromkeys((*(t.encode("utf-8") for t in (*words, *folding(words))), *PLAIN_SPOILERS)))
    return Prefilter(
        text=text,
        binary=binary,
        wide=frozenset(wide),
        dex=dex,
        dex_pattern=re.compile(b"|".join(re.escape(n) for n in dex)),
        words=words,
        words_pattern=re.compile("|".join(re.escape(w) for w in words)),
        plain=plain,
        markup=(*plain, b"&#", *spelling_entities(words)),
        marker_words=tuple(m.lower() for m in anchors.markers),
        shown=re.compile("|".join(re.escape(w.lower()) for w in (*anchors.numbers, *anchors.links))),
    )


SHORT = 3
"""Needles shorter than this get automata of their own (``_searches``). The crate's SIMD prefilter
(Teddy) fingerprints every needle by as many of its first bytes as the shortest one has: one two-byte
needle among thirty made the pass over an H5 shell's lowered text several times slower; the two-byte
ones apart cost little (bench/components.py measures the prefilter's passes)."""

ALONE = 4
"""A set of this many needles or fewer is searched one needle at a time: each pass is a SIMD substring
search at memory speed, while Teddy's fingerprints of a few unlike needles can match nearly every byte
of some data (the four marker words in UTF-16 over a key pool of ``s\x001\x00...``). A larger set
stays one automaton: one pass over the data beats many (bench/components.py)."""


def _by_length(needles: tuple[bytes, ...]) -> tuple[tuple[bytes, ...], ...]:
    """The needles as the groups that are searched fastest apart: the long ones, then the short ones."""
    long = tuple(n for n in needles if len(n) >= SHORT)
    short = tuple(n for n in needles if len(n) < SHORT)
    return tuple(group for group in (long, short) if group)


@functools.lru_cache(maxsize=32)
def _searches(needles: tuple[bytes, ...]) -> tuple[ahocorasick_rs.BytesAhoCorasick, ...]:
    """The automata whose passes together find every needle (``SHORT``, ``ALONE``): a pass of each finds
    the needles it holds as one automaton would, so a set question (which pieces hold any needle) has
    the answer one automaton gives, and the offsets (``find_all``) are every occurrence one automaton
    reports and at most some that it would have skipped inside a match of another needle."""
    return tuple(_automaton(alone)
                 for group in _by_length(needles)
                 for alone in ([(n,) for n in group] if len(group) <= ALONE else [group]))


def holds_any(data: bytes, needles: tuple[bytes, ...]) -> bool:
    """Whether any needle occurs in ``data`` (a pass for each automaton of ``_searches``, no offsets kept)."""
    return any(search.find_matches_as_indexes(data) for search in _searches(needles))


def pieces_holding(data: bytes, needles: tuple[bytes, ...], starts: Sequence[int]) -> set[int]:
    """Indexes of the pieces of ``data`` (piece k runs from ``starts[k]`` to the next start) in which a
    needle occurs, in one pass of each automaton over them all (many small files at once: one call, not
    one each). The pieces must be split by a byte no needle holds: then no match spans two pieces, and as
    the matches are found one after another, each resumed where the last ended, every piece that holds a
    needle holds a match of the automaton searching for it. Callers bound ``data`` (``SEARCH_PIECE``): a
    list of matches comes back."""
    return {bisect.bisect_right(starts, start) - 1
            for search in _searches(needles)
            for _n, start, _end in search.find_matches_as_indexes(data)}


SEARCH_PIECE = 1 << 18
"""The bytes handed to the automaton at once: its hits come back as a list of tuples, so a hostile member
made of one needle repeated costs a bounded list per piece, not one the size of the member; and a
lowered piece this small is reused from the heap, where a 1 MB one was mapped afresh (176 page faults
per pass over a 10 MB bundle against none, at the same CPU time)."""


def find_all(data: Buffer, needles: tuple[bytes, ...], start: int = 0, end: int | None = None,
             lowered: bool = False) -> list[int]:
    """Sorted offsets of the occurrences of the needles in ``data[start:end]``: every leftmost-longest
    match, found in a pass of each automaton of ``_searches`` (ahocorasick_rs: the Rust aho-corasick crate,
    whose SIMD prefilter skips bytes that cannot start a needle at memory speed; a regex alternation,
    even factored into a trie, tests every byte in the interpreter's matcher). An occurrence that starts
    inside another match lies within the same few bytes, so the window around that match covers it.
    ``lowered``: search ``data.lower()`` (ASCII letters), one piece at a time, without a lowered copy of
    the whole range (on a large pool the copy and its page faults cost as much as the search)."""
    end = len(data) if end is None else min(end, len(data))
    if start >= end or not needles:
        return []
    searches = _searches(needles)
    longest = max(len(n) for n in needles)
    view = memoryview(data)
    found: list[int] = []
    piece = start
    while piece < end:
        # Pieces overlap by one needle less a byte, so a match across the seam is found in the first piece
        # that holds its start; starts past the piece's own range are left to the next piece.
        stop = min(end, piece + SEARCH_PIECE)
        # The lowered piece is made before the last one is let go: freeing the last one first leaves two
        # free pieces at the top of the heap, which glibc gives back to the system and faults in again on
        # the next piece (13,000 page faults over a 37 MB pool, against 100 this way).
        reach = min(end, stop + longest - 1)
        window = view[piece:reach].tobytes().lower() if lowered else view[piece:reach]
        for search in searches:
            found.extend(piece + s for _, s, _ in search.find_matches_as_indexes(window) if piece + s < stop)
        piece = stop
    return found if len(searches) == 1 else sorted(set(found))


def find_every(data: Buffer, needles: tuple[bytes, ...], start: int = 0, end: int | None = None) -> list[int]:
    """Offsets of every occurrence of every needle in ``data[start:end]``, overlapping ones included
    (for short binary keys, where a match at the wrong alignment must not hide the right one)."""
    end = len(data) if end is None else min(end, len(data))
    if start >= end or not needles:
        return []
    found = _every_automaton(needles).find_matches_as_indexes(memoryview(data)[start:end], overlapping=True)
    return [start + s for _, s, _ in found]


@functools.lru_cache(maxsize=8)
def _every_automaton(needles: tuple[bytes, ...]) -> ahocorasick_rs.BytesAhoCorasick:
    return ahocorasick_rs.BytesAhoCorasick(sorted(set(needles)))


@functools.lru_cache(maxsize=32)
def _automaton(needles: tuple[bytes, ...]) -> ahocorasick_rs.BytesAhoCorasick:
    """The needles as one automaton (built once per needle set: a run uses a handful)."""
    return ahocorasick_rs.BytesAhoCorasick(sorted(set(needles)), matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)
