"""Text decoders shared by the parsers: byte encodings, HTML, JavaScript / JSON escapes."""

from __future__ import annotations

import codecs
import html
import posixpath
import re
from collections.abc import Callable

from scanner.extract.prefilter import find_all

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Legacy Chinese encodings last: GB18030 is a superset of GBK/GB2312 and decodes almost any bytes,
# so it is only tried when the data has no NUL bytes (i.e. it is not binary).
_FALLBACKS = ("utf-8", "gb18030", "big5")
_SAMPLE = 4096
_HEAD = 1 << 16


def decode_bytes(raw: bytes) -> str | None:
    """Decode a text file in any common encoding; None when the bytes look binary."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return raw[len(bom) :].decode(encoding.replace("-sig", ""), errors="replace")
    sample = raw[:_SAMPLE]
    if _looks_utf16le(sample):
        return raw.decode("utf-16-le", errors="replace")
    if b"\0" in sample:
        return None
    for encoding in _FALLBACKS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")


def _looks_utf16le(sample: bytes) -> bool:
    """UTF-16LE ASCII-heavy text: most odd bytes are NUL and most even bytes are not."""
    if len(sample) < 8:
        return False
    odd_nul = sample[1::2].count(0)
    even_nul = sample[0::2].count(0)
    half = len(sample) // 2
    return odd_nul > 0.6 * half and even_nul < 0.1 * half


def utf8_text(data: bytes) -> bool:
    """Whether ``file_text`` of a non-HTML file is these bytes decoded as UTF-8, given that they hold none
    of ``PLAIN_SPOILERS``: no BOM, no NUL (then not UTF-16 by ``_looks_utf16le``, nor binary), and
    valid UTF-8 (the first encoding tried)."""
    if data.startswith(codecs.BOM_UTF8) or b"\0" in data:
        return False
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


HTML_EXTENSIONS = frozenset({".html", ".htm", ".xhtml"})
MEDIA_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".ico", ".svgz", ".ttf", ".otf",
                              ".woff", ".woff2", ".mp3", ".mp4", ".ogg", ".wav", ".m4a", ".aac", ".webm", ".br",
                              ".gz", ".zip"})
_MEDIA_SUFFIXES = tuple(MEDIA_EXTENSIONS)


def is_media(name: str) -> bool:
    """Whether a member's extension (``posixpath.splitext``, any case) is a media one: never text. One
    ``endswith`` in C rules out most names, which matters for the 20,000 members of an H5 shell."""
    if not name.lower().endswith(_MEDIA_SUFFIXES):
        return False
    return posixpath.splitext(name)[1].lower() in MEDIA_EXTENSIONS


def file_text(name: str, data: bytes) -> str | None:
    """The readable text of a file (HTML without tags, escapes decoded); None for binary data."""
    decoded = decode_bytes(data)
    if decoded is None:
        return None
    if name.lower().endswith(tuple(HTML_EXTENSIONS)):
        decoded = html_to_text(decoded)
    return unescape_js(decoded)


WINDOW_REACH = 18_064
"""Bytes kept on each side of an anchor in a large file: 1,500 characters (a declaration's reach,
rules/context.py) even when every one is written as a 12-byte escaped surrogate pair, plus a margin."""


def _utf8_head(data: bytes) -> bool:
    """Whether a large file is UTF-8, judged by its first 64 KB (a character cut at the end is fine)."""
    try:
        data[:_HEAD].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= _HEAD - 4
    return True


def anchored_windows(data: bytes, needles: tuple[bytes, ...]) -> list[tuple[int, str]] | None:
    """The neighbourhoods of the anchors in a large UTF-8 file, as (first line, decoded text), merged
    where they overlap; None when the file is not UTF-8 (the caller then decodes all of it)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\0" in data[:_SAMPLE]:
        return None
    if not _utf8_head(data):
        return None
    windows: list[list[int]] = []
    for pos in find_all(data, needles, lowered=True):
        start, end = max(0, pos - WINDOW_REACH), pos + WINDOW_REACH
        if windows and start <= windows[-1][1]:
            windows[-1][1] = end
        else:
            windows.append([start, end])
    return [(data.count(b"\n", 0, start) + 1, unescape_js(data[start:end].decode("utf-8", errors="ignore")))
            for start, end in windows]


_TAG = re.compile(r"<(?:!--.*?--|[^<>]*)>", re.DOTALL)
_TAG_BYTES = re.compile(_TAG.pattern.encode("ascii"), re.DOTALL)  # same spans: UTF-8 keeps <, >, !, - single bytes
_PLAIN_TAG = re.compile(r"<[^<>]*>")
_PLAIN_TAG_BYTES = re.compile(_PLAIN_TAG.pattern.encode("ascii"))


# A comment that never closes made _TAG scan to the end of the text from every "<!--" (b"<!--" * 16384:
# 14 s). Past the last "-->" no comment can close, and there _TAG matches exactly what _PLAIN_TAG
# matches (a "<...>" run); before it, every comment closes, and no match crosses it (a tag cannot
# pass a ">"). So the text is cut after the last "-->": the same spans, each character scanned a
# bounded number of times.
def _strip_tags(text: str, replace: Callable[[re.Match[str]], str] | str) -> str:
    cut = text.rfind("-->") + 3
    if cut < 3:
        return _PLAIN_TAG.sub(replace, text)
    return _TAG.sub(replace, text[:cut]) + _PLAIN_TAG.sub(replace, text[cut:])


def joined_runs(data: bytes) -> bytes:
    """An HTML file's bytes with every tag removed: the runs of text a tag splits (``IC<b></b>P``) joined, as
    ``html_to_text`` may join them."""
    cut = data.rfind(b"-->") + 3
    if cut < 3:
        return _PLAIN_TAG_BYTES.sub(b"", data)
    return _TAG_BYTES.sub(b"", data[:cut]) + _PLAIN_TAG_BYTES.sub(b"", data[cut:])
_URL_ATTR = re.compile(r"""\b(?:href|src|action)\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)


def html_to_text(source: str) -> str:
    """Visible text of an HTML document: tags removed (their link targets kept), entities decoded.

    Newlines inside tags are kept so that line numbers still point into the original file.
    """

    cut = source.rfind("-->") + 3  # as _strip_tags cuts (a comment that never closes)
    if cut < 3:
        return html.unescape(_tags_replaced(_PLAIN_TAG_SPLIT.split(source)))
    return html.unescape(_tags_replaced(_TAG_SPLIT.split(source[:cut]))
                         + _tags_replaced(_PLAIN_TAG_SPLIT.split(source[cut:])))


_TAG_SPLIT = re.compile(f"({_TAG.pattern})", re.DOTALL)
_PLAIN_TAG_SPLIT = re.compile(f"({_PLAIN_TAG.pattern})")
"""The tag patterns as ``split`` separators: the text between tags at even places, each tag at an odd one
(the same matches ``sub`` makes), so that a page's tags are replaced in one loop, not one callback each."""


def _tags_replaced(parts: list[str]) -> str:
    for i in range(1, len(parts), 2):
        parts[i] = _tag_text(parts[i])
    return "".join(parts)


_TAG_TEXTS: dict[str, str] = {}
TAG_CACHE = 4096
"""Distinct tags whose text is kept: a site's pages repeat their tags (``<p>``, the footer's link), and
the link-target search per tag cost more than the rest of the page (bench/run.py's ``footer`` shape)."""


def _tag_text(tag: str) -> str:
    """What a tag leaves in the text: its link targets, and its line breaks (line numbers stay right)."""
    found = _TAG_TEXTS.get(tag)
    if found is None:
        urls = " ".join(_URL_ATTR.findall(tag))
        found = (f" {urls} " if urls else "") + "\n" * tag.count("\n")
        if len(_TAG_TEXTS) >= TAG_CACHE:
            _TAG_TEXTS.clear()
        _TAG_TEXTS[tag] = found
    return found


_SURROGATE = re.compile("[\ud800-\udfff]")
_JS_ESCAPE = re.compile(r"\\(?:u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|(/))")


def unescape_js(source: str) -> str:
    """Decode ``\\uXXXX``, ``\\u{X…}``, ``\\xXX`` and ``\\/`` escapes; surrogate pairs are joined."""
    if "\\" not in source:
        return source

    def replace(match: re.Match[str]) -> str:
        if match.group(4):
            return "/"
        code = int(match.group(1) or match.group(2) or match.group(3), 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)

    decoded = _JS_ESCAPE.sub(replace, source)
    if _SURROGATE.search(decoded):
        decoded = decoded.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return decoded
