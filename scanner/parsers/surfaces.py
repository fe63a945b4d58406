"""Text surfaces every package format shares: assets and pages in any common encoding, binaries read
around the anchors. How members are read (the anchors' needles, fast or decode-everything) is a
``Reading``, built once per package from the parse options."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from scanner.extract import anchors, binary, textdecode
from scanner.model import Location, ParseOptions, Text

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


def binary_texts(name: str, data: bytes, kind: str, how: Reading, start: int = 0,
                 end: int | None = None) -> Iterator[Text]:
    """Printable runs around the anchors of a binary (native library, bytecode, unknown blob), in
    ``data[start:end]``; offsets count from the start of ``data``."""
    for offset, value in binary.anchored_strings(data, how.needles, start, end):
        yield Text(value, Location(name, kind, f"offset {offset}"))


def file_texts(name: str, data: bytes, how: Reading) -> Iterator[Text]:
    """Assets and other files: text in any common encoding, or anchored strings of a binary blob."""
    html = name.lower().endswith(tuple(textdecode.HTML_EXTENSIONS))
    if how.fast and len(data) > LARGE_FILE and not html:
        windows = textdecode.anchored_windows(data, how.needles.text)
        if windows is not None:
            for line, value in windows:
                yield Text(value, Location(name, "asset", ""), line)
            return
    decoded = textdecode.file_text(name, data)
    if decoded is None:
        yield from binary_texts(name, data, "asset", how)
    elif not how.fast or anchors.text_matters(how.needles, decoded, name):
        # A text with no anchor, no declaration marker, in no place named for privacy can matter to no
        # rule: the fast path does not keep it (an H5 shell has tens of thousands of such files).
        yield Text(decoded, Location(name, "asset", ""))
