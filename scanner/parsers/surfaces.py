"""Text surfaces every package format shares: assets and pages in any common encoding, binaries read
around the anchors. Which texts are read is the ``Prefilter`` the engine passes in the parse options
(scanner.extract.prefilter: the anchors' needles, fast or decode-everything)."""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

from scanner.extract import binary, hermes, jsconcat, textdecode
from scanner.extract import prefilter as prefilters
from scanner.extract.prefilter import Prefilter, holds_any, pieces_holding
from scanner.model import Location, ParseOptions, Text

T = TypeVar("T")

LARGE_FILE = 512 * 1024
"""Text assets above this size (bundles) are read around their anchors only, unless ``fast`` is off."""

def prefilter_of(options: ParseOptions) -> Prefilter:
    """The prefilter of the parse options (the engine sets it: scanner.engine.parse_options)."""
    if options.prefilter is None:
        raise ValueError("ParseOptions.prefilter is not set (scanner.engine.parse_options sets it)")
    return options.prefilter


def binary_texts(name: str, data: bytes, kind: str, prefilter: Prefilter, start: int = 0, end: int | None = None,
                 place: Callable[[int], str] | None = None) -> Iterator[Text]:
    """Printable runs around the anchors of a binary (native library, bytecode, unknown blob), in
    ``data[start:end]``, each with the words stored beside it (scanner.extract.binary.neighbours);
    ``place`` names an offset (a Mach-O section), else ``offset N`` counting from the start of ``data``."""
    for offset, last, value in binary.anchored_runs(data, prefilter, start, end):
        near = binary.neighbours(data, offset, last)
        beside = " beside " + ", ".join(f'"{w[:40]}"' for w in near) if near else ""
        if place is not None:
            yield Text(value, Location(name, kind, f"{place(offset)}{beside}"))
        else:
            yield Text(value, Location(name, kind, beside, offset=offset))


def hermes_texts(name: str, data: bytes, prefilter: Prefilter) -> Iterator[Text]:
    """The string table of a Hermes bundle (React Native), each string with its id as pointer; the
    table's layout is checked against the file (scanner.extract.hermes), HermesError when it is not
    found. JS literals are what the app shows, so they are assets to the rules."""
    lowered = name.lower()
    if prefilter.fast and not any(m in lowered for m in prefilter.marker_words):
        # Only the strings whose bytes hold an anchor are decoded (a 10 MB bundle has 400,000 strings).
        found = hermes.table(data)
        for index in hermes.anchored_ids(data, prefilter.words):
            value = hermes.string_at(data, found, index)
            if value and prefilter.matters(value, name):
                yield Text(value, Location(name, "asset", f"hermes string {index}"))
        return
    for index, value in hermes.strings(data):
        if value and (not prefilter.fast or prefilter.matters(value, name)):
            yield Text(value, Location(name, "asset", f"hermes string {index}"))


def file_texts(name: str, data: bytes, prefilter: Prefilter) -> Iterator[Text]:
    """Assets and other files: text in any common encoding, Hermes bytecode by its string table, or
    anchored strings of a binary blob."""
    if hermes.is_hermes(data):
        try:
            yield from hermes_texts(name, data, prefilter)
            return
        except hermes.HermesError:
            pass  # a Hermes magic on bytes that are not a readable bundle: read them as any blob
    html = name.lower().endswith(tuple(textdecode.HTML_EXTENSIONS))
    if prefilter.fast and len(data) > LARGE_FILE and not html:
        windows = textdecode.anchored_windows(data, prefilter.text)
        if windows is not None:
            for line, value in windows:
                text = Text(value, Location(name, "asset", ""), line)
                yield text
                yield from assembled_texts(text, prefilter)
            return
    if prefilter.fast and _nothing_to_read(name, data, html, prefilter):
        return
    decoded = textdecode.file_text(name, data)
    if decoded is None:
        yield from binary_texts(name, data, "asset", prefilter)
    elif not prefilter.fast or prefilter.matters(decoded, name):
        # A text with no anchor, no declaration marker, in no place named for privacy can matter to no
        # rule: the fast path does not keep it (an H5 shell has tens of thousands of such files).
        text = Text(decoded, Location(name, "asset", ""))
        yield text
        yield from assembled_texts(text, prefilter)


def _nothing_to_read(name: str, data: bytes, html: bool, prefilter: Prefilter) -> bool:
    """Whether a small file's bytes alone show that its text holds no word and so can matter to no rule:
    the text of plain UTF-8 is its bytes, searched lower-cased (ASCII letters; a character whose lower
    case would spell a word is itself a needle). HTML loses its tags and decodes references on the way to
    text: its runs joined across tags are searched too, and a reference that may spell a word's character
    sends it to the decoder. Dropping before decoding and lower-casing as a string matters for an H5
    shell's pages, scripts and styles, by the ten thousand."""
    if prefilter.name_matters(name) or not textdecode.utf8_text(data):
        return False
    lowered = data.lower()
    if not html:
        return not holds_any(lowered, prefilter.plain)
    return not (holds_any(lowered, prefilter.markup)
                or holds_any(textdecode.joined_runs(lowered), prefilter.markup))


SEPARATOR = b"\0"
"""Between the files searched at once: no needle holds a NUL, and a file that holds one is read alone."""


def files_without_anchors(files: Sequence[tuple[str, bytes]], prefilter: Prefilter) -> list[bool]:
    """For each (name, data), True when ``file_texts`` is sure to yield nothing for it: the test of
    ``_nothing_to_read`` made for many small files at once, which the 20,000 pages, scripts and styles of
    an H5 shell need (per file, the calls cost more than the search). False leaves a file to
    ``file_texts``: Hermes bytecode, a large file, an empty one, one whose name marks a declaration, and
    one whose bytes are not its UTF-8 text (a BOM, a NUL, invalid UTF-8) are never decided here. The
    rest are joined by ``SEPARATOR`` in groups of up to ``prefilters.SEARCH_PIECE`` bytes; a group is checked
    for UTF-8 in one decode (a valid whole split at ASCII bytes has valid parts), lower-cased once and
    searched once (``pieces_holding``); an HTML file's runs joined across its tags are made per
    file (a tag left open at its end must not swallow the next file's start) and searched in one pass."""
    dropped = [False] * len(files)
    if not prefilter.fast or any(SEPARATOR in n for n in (*prefilter.plain, *prefilter.markup)):
        return dropped
    names = "\n".join(name for name, _data in files).lower()
    named = any(m in names for m in prefilter.marker_words)  # then each name is asked
    html_suffixes = tuple(textdecode.HTML_EXTENSIONS)
    pending: dict[bool, list[int]] = {False: [], True: []}
    for k, (name, data) in enumerate(files):
        if (0 < len(data) <= LARGE_FILE and not hermes.is_hermes(data) and SEPARATOR not in data
                and not data.startswith(codecs.BOM_UTF8) and not (named and prefilter.name_matters(name))):
            pending[name.lower().endswith(html_suffixes)].append(k)
    for html, members in pending.items():
        for group in by_size(members, lambda k: len(files[k][1]) + len(SEPARATOR), prefilters.SEARCH_PIECE):
            for k in _unanchored_group(group, files, html, prefilter):
                dropped[k] = True
    return dropped


def by_size(items: Iterable[T], size: Callable[[T], int], limit: int) -> Iterator[list[T]]:
    """Consecutive items in groups of up to ``limit`` by ``size``: an item that large closes the group
    before it and stands alone, and a full group goes at once, before the next item is asked for."""
    group: list[T] = []
    total = 0
    for item in items:
        length = size(item)
        if group and total + length > limit:
            yield group
            group, total = [], 0
        group.append(item)
        total += length
        if total >= limit:
            yield group
            group, total = [], 0
    if group:
        yield group


def _starts(lengths: Iterable[int]) -> list[int]:
    """Where each piece begins when the pieces are joined by ``SEPARATOR``."""
    starts = [0]
    for length in lengths:
        starts.append(starts[-1] + length + len(SEPARATOR))
    return starts[:-1]


def _unanchored_group(group: list[int], files: Sequence[tuple[str, bytes]], html: bool, prefilter: Prefilter
                 ) -> list[int]:
    """The members of one group whose text holds no needle (see ``files_without_anchors``)."""
    joined = SEPARATOR.join(files[k][1] for k in group)
    if not joined.isascii():
        try:
            joined.decode("utf-8")
        except UnicodeDecodeError:  # some member is no UTF-8: it is read alone, the others are joined again
            valid = [k for k in group if textdecode.utf8_text(files[k][1])]
            return _unanchored_group(valid, files, html, prefilter) if valid and len(valid) < len(group) else []
    lowered = joined.lower()
    starts = _starts(len(files[k][1]) for k in group)
    if not html:
        held = pieces_holding(lowered, prefilter.plain, starts)
    else:
        runs = [textdecode.joined_runs(lowered[a : a + len(files[k][1])]) for a, k in zip(starts, group, strict=True)]
        held = (pieces_holding(lowered, prefilter.markup, starts)
                | pieces_holding(SEPARATOR.join(runs), prefilter.markup, _starts(map(len, runs))))
    return [k for j, k in enumerate(group) if j not in held]


def assembled_texts(text: Text, prefilter: Prefilter) -> Iterator[Text]:
    """The literal chains and templates of a script near a number or link anchor, each as one text with
    its parts (scanner.extract.jsconcat), on the line where the chain starts."""
    if "+" not in text.value and "${" not in text.value:
        return
    for offset, parts in jsconcat.joins(text.value, prefilter.shown):
        line = text.line + text.value.count("\n", 0, offset)
        # The line is in the location already: the text itself is one assembled line (line 1 of itself).
        where = Location(text.location.member, text.location.kind, f"assembled from {len(parts)} literals", line=line)
        yield Text("".join(parts), where, parts=parts)
