"""Text surfaces every package format shares: assets and pages in any common encoding, binaries read
around the anchors. How members are read (the anchors' needles, fast or decode-everything) is a
``Reading``, built once per package from the parse options."""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from scanner.extract import anchors, binary, hermes, jsconcat, textdecode
from scanner.model import Location, ParseOptions, Text

T = TypeVar("T")

LARGE_FILE = 512 * 1024
"""Text assets above this size (bundles) are read around their anchors only, unless ``fast`` is off."""

@dataclass(frozen=True, slots=True)
class Reading:
    """How members are read: the needles of the anchors, and whether texts without one are skipped
    (``fast`` off decodes everything: the reference the fast path is held to; binaries are always
    read around the anchors, having no text of their own)."""

    needles: anchors.Needles
    fast: bool = True


def reading(options: ParseOptions) -> Reading:
    """The reading the options ask for (scanner.parsers.parse fills in the catalogs' anchors)."""
    if options.anchors is None:
        raise ValueError("ParseOptions.anchors is not set (scanner.parsers.parse sets it)")
    return Reading(anchors.compile_needles(options.anchors), options.fast)


def binary_texts(name: str, data: bytes, kind: str, how: Reading, start: int = 0, end: int | None = None,
                 place: Callable[[int], str] | None = None) -> Iterator[Text]:
    """Printable runs around the anchors of a binary (native library, bytecode, unknown blob), in
    ``data[start:end]``, each with the words stored beside it (scanner.extract.binary.neighbours);
    ``place`` names an offset (a Mach-O section), else ``offset N`` counting from the start of ``data``."""
    for offset, last, value in binary.anchored_runs(data, how.needles, start, end):
        near = binary.neighbours(data, offset, last)
        beside = " beside " + ", ".join(f'"{w[:40]}"' for w in near) if near else ""
        where = place(offset) if place else f"offset {offset}"
        yield Text(value, Location(name, kind, f"{where}{beside}"))


def hermes_texts(name: str, data: bytes, how: Reading) -> Iterator[Text]:
    """The string table of a Hermes bundle (React Native), each string with its id as pointer; the
    table's layout is checked against the file (scanner.extract.hermes), HermesError when it is not
    found. JS literals are what the app shows, so they are assets to the rules."""
    lowered = name.lower()
    if how.fast and not any(m in lowered for m in how.needles.marker_words):
        # Only the strings whose bytes hold an anchor are decoded (a 10 MB bundle has 400,000 strings).
        found = hermes.table(data)
        for index in hermes.anchored_ids(data, how.needles.words):
            value = hermes.string_at(data, found, index)
            if value and anchors.text_matters(how.needles, value, name):
                yield Text(value, Location(name, "asset", f"hermes string {index}"))
        return
    for index, value in hermes.strings(data):
        if value and (not how.fast or anchors.text_matters(how.needles, value, name)):
            yield Text(value, Location(name, "asset", f"hermes string {index}"))


def file_texts(name: str, data: bytes, how: Reading) -> Iterator[Text]:
    """Assets and other files: text in any common encoding, Hermes bytecode by its string table, or
    anchored strings of a binary blob."""
    if hermes.is_hermes(data):
        try:
            yield from hermes_texts(name, data, how)
            return
        except hermes.HermesError:
            pass  # a Hermes magic on bytes that are not a readable bundle: read them as any blob
    html = name.lower().endswith(tuple(textdecode.HTML_EXTENSIONS))
    if how.fast and len(data) > LARGE_FILE and not html:
        windows = textdecode.anchored_windows(data, how.needles.text)
        if windows is not None:
            for line, value in windows:
                text = Text(value, Location(name, "asset", ""), line)
                yield text
                yield from assembled_texts(text, how)
            return
    if how.fast and _nothing_to_read(name, data, html, how):
        return
    decoded = textdecode.file_text(name, data)
    if decoded is None:
        yield from binary_texts(name, data, "asset", how)
    elif not how.fast or anchors.text_matters(how.needles, decoded, name):
        # A text with no anchor, no declaration marker, in no place named for privacy can matter to no
        # rule: the fast path does not keep it (an H5 shell has tens of thousands of such files).
        text = Text(decoded, Location(name, "asset", ""))
        yield text
        yield from assembled_texts(text, how)


def _nothing_to_read(name: str, data: bytes, html: bool, how: Reading) -> bool:
    """Whether a small file's bytes alone show that its text holds no word and so can matter to no rule:
    the text of plain UTF-8 is its bytes, searched lower-cased (ASCII letters; a character whose lower
    case would spell a word is itself a needle). HTML loses its tags and decodes references on the way to
    text: its runs joined across tags are searched too, and a reference that may spell a word's character
    sends it to the decoder. Dropping before decoding and lower-casing as a string matters for an H5
    shell's pages, scripts and styles, by the ten thousand."""
    if anchors.name_matters(how.needles, name) or not textdecode.utf8_text(data):
        return False
    lowered = data.lower()
    if not html:
        return not anchors.holds_any(lowered, how.needles.plain)
    return not (anchors.holds_any(lowered, how.needles.markup)
                or anchors.holds_any(textdecode.joined_runs(lowered), how.needles.markup))


SEPARATOR = b"\0"
"""Between the files searched at once: no needle holds a NUL, and a file that holds one is read alone."""


def quiet_files(files: Sequence[tuple[str, bytes]], how: Reading) -> list[bool]:
    """For each (name, data), True when ``file_texts`` is sure to yield nothing for it: the test of
    ``_nothing_to_read`` made for many small files at once, which the 20,000 pages, scripts and styles of
    an H5 shell need (per file, the calls cost more than the search). False leaves a file to
    ``file_texts``: Hermes bytecode, a large file, an empty one, one whose name marks a declaration, and
    one whose bytes are not its UTF-8 text (a BOM, a NUL, invalid UTF-8) are never decided here. The
    rest are joined by ``SEPARATOR`` in groups of up to ``anchors.SEARCH_PIECE`` bytes; a group is checked
    for UTF-8 in one decode (a valid whole split at ASCII bytes has valid parts), lower-cased once and
    searched once (``anchors.pieces_holding``); an HTML file's runs joined across its tags are made per
    file (a tag left open at its end must not swallow the next file's start) and searched in one pass."""
    quiet = [False] * len(files)
    needles = how.needles
    if not how.fast or any(SEPARATOR in n for n in (*needles.plain, *needles.markup)):
        return quiet
    names = "\n".join(name for name, _data in files).lower()
    named = any(m in names for m in needles.marker_words)  # then each name is asked
    html_suffixes = tuple(textdecode.HTML_EXTENSIONS)
    pending: dict[bool, list[int]] = {False: [], True: []}
    for k, (name, data) in enumerate(files):
        if (0 < len(data) <= LARGE_FILE and not hermes.is_hermes(data) and SEPARATOR not in data
                and not data.startswith(codecs.BOM_UTF8) and not (named and anchors.name_matters(needles, name))):
            pending[name.lower().endswith(html_suffixes)].append(k)
    for html, members in pending.items():
        for group in by_size(members, lambda k: len(files[k][1]) + len(SEPARATOR), anchors.SEARCH_PIECE):
            for k in _quiet_group(group, files, html, needles):
                quiet[k] = True
    return quiet


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


def _quiet_group(group: list[int], files: Sequence[tuple[str, bytes]], html: bool, needles: anchors.Needles
                 ) -> list[int]:
    """The members of one group whose text holds no needle (see ``quiet_files``)."""
    joined = SEPARATOR.join(files[k][1] for k in group)
    if not joined.isascii():
        try:
            joined.decode("utf-8")
        except UnicodeDecodeError:  # some member is no UTF-8: it is read alone, the others are joined again
            valid = [k for k in group if textdecode.utf8_text(files[k][1])]
            return _quiet_group(valid, files, html, needles) if valid and len(valid) < len(group) else []
    lowered = joined.lower()
    starts = _starts(len(files[k][1]) for k in group)
    if not html:
        held = anchors.pieces_holding(lowered, needles.plain, starts)
    else:
        runs = [textdecode.joined_runs(lowered[a : a + len(files[k][1])]) for a, k in zip(starts, group, strict=True)]
        held = (anchors.pieces_holding(lowered, needles.markup, starts)
                | anchors.pieces_holding(SEPARATOR.join(runs), needles.markup, _starts(map(len, runs))))
    return [k for j, k in enumerate(group) if j not in held]


def assembled_texts(text: Text, how: Reading) -> Iterator[Text]:
    """The literal chains and templates of a script near a number or link anchor, each as one text with
    its parts (scanner.extract.jsconcat), on the line where the chain starts."""
    if "+" not in text.value and "${" not in text.value:
        return
    for offset, parts in jsconcat.joins(text.value, how.needles.shown):
        line = text.line + text.value.count("\n", 0, offset)
        where = f"assembled from {len(parts)} literals, line {line}"
        # The line is in the pointer already: the text itself is one assembled line (line 1 of itself).
        yield Text("".join(parts), Location(text.location.member, text.location.kind, where), parts=parts)
