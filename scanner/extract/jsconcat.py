"""String literals JavaScript joins with ``+`` or a template literal, read as the one string they make.

``"京ICP备" + "2023123456" + "号-1A"`` and ```京ICP备${"2023123456"}号-1A``` show one number that no
single literal holds. Only literals and template parts are joined (a variable in between is unknown to a
static reading, so the chain stops there), and only around an anchor, so a bundle costs a few regex
matches near its anchors, not a pass over every literal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from scanner.extract import textdecode

REACH = 300
"""Characters searched on each side of an anchor for a chain that holds it."""
_LITERAL = r"""(?:"(?:[^"\\\n]|\\.){0,200}"|'(?:[^'\\\n]|\\.){0,200}')"""
_CHAIN = re.compile(rf"{_LITERAL}(?:\s*\+\s*{_LITERAL})+")
_PART = re.compile(_LITERAL)
_TEMPLATE_TEXT = r"(?:[^`\\$]|\\.|\$(?!\{)){0,200}"
_TEMPLATE = re.compile(rf"`({_TEMPLATE_TEXT}(?:\$\{{\s*{_LITERAL}\s*\}}{_TEMPLATE_TEXT})+)`")
_TEMPLATE_PART = re.compile(r"\$\{\s*(" + _LITERAL + r")\s*\}")


def joins(text: str, anchors: re.Pattern[str]) -> Iterator[tuple[int, tuple[str, ...]]]:
    """(offset, parts) of each literal chain or template near an anchor; the parts are unescaped and
    their join is the string the code makes. ``anchors`` is searched in the lower-cased text."""
    lowered = text.lower()
    done = -1
    yielded: set[int] = set()
    for hit in anchors.finditer(lowered):
        if hit.start() < done:
            continue
        start, end = max(0, hit.start() - REACH), min(len(text), hit.end() + REACH)
        for match in (*_CHAIN.finditer(text, start, end), *_TEMPLATE.finditer(text, start, end)):
            if match.start() in yielded or not anchors.search(lowered, match.start(), match.end()):
                continue
            parts = _chain_parts(match.group(0)) if match.group(0)[0] != "`" else _template_parts(match.group(1))
            if len(parts) > 1:
                yielded.add(match.start())
                yield match.start(), parts
        done = end


def _chain_parts(chain: str) -> tuple[str, ...]:
    return tuple(_unquote(m.group(0)) for m in _PART.finditer(chain))


def _template_parts(body: str) -> tuple[str, ...]:
    parts: list[str] = []
    position = 0
    for match in _TEMPLATE_PART.finditer(body):
        parts.append(textdecode.unescape_js(body[position : match.start()]))
        parts.append(_unquote(match.group(1)))
        position = match.end()
    parts.append(textdecode.unescape_js(body[position:]))
    return tuple(p for p in parts if p)


def _unquote(literal: str) -> str:
    return textdecode.unescape_js(literal[1:-1])
