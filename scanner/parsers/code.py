"""DEX strings as texts, with the context their code gives them.

A string that holds a number or a link anchor is described by the methods that load it: the method's
name and the strings loaded beside it go into the pointer (``string_ids[19433] in La/b;->c beside
"备案号"``), which is what a reader of the code would use to tell an about row from a log line; the
facts stage judges that context like any other place name. The literal pieces such a method loads next
to each other are also given joined, as one assembled text with its parts, for numbers built from
pieces (``"京ICP备" + "2023123456" + "号-1A"``, or a ``%s`` template and its argument).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from scanner.extract import dex, dexcode
from scanner.extract.prefilter import Prefilter
from scanner.model import Location, Text

NEIGHBOURS = 6
"""Strings of the loading method named in the pointer, nearest first."""
NEIGHBOUR_CHARS = 40
ASSEMBLY_REACH = 2
"""Literal pieces joined on each side of an anchored one."""
_FORMAT = re.compile(r"%(?:\d+\$)?[sd]")


def dex_texts(name: str, data: bytes, prefilter: Prefilter) -> Iterator[Text]:
    """Every anchored string (every string when ``prefilter.fast`` is off) of one DEX, the shown ones with
    their code context, then the texts assembled around them. ChunkError when the table is unreadable."""
    offsets = dex.string_offsets(data)
    strings = [(i, v) for i, v in dex.dex_strings(data, prefilter if prefilter.fast else None, offsets) if v]
    targets = {i: v for i, v in strings if prefilter.shown.search(v.lower())}
    sites = dexcode.code_sites(data, offsets, targets) if targets else {}
    for index, value in strings:
        yield Text(value, Location(name, "dex", _place(data, offsets, index, sites.get(index, ())), string_id=index))
    for index, found in sites.items():
        for site in found:
            yield from _assembled(name, data, offsets, index, site)


def _place(data: bytes, offsets: Sequence[int], index: int, sites: tuple[dexcode.CodeSite, ...]) -> str:
    """What follows the string's id in its location: the method that loads it and what it loads beside."""
    if not sites:
        return ""
    site = sites[0]
    near = _neighbours(data, offsets, index, site.loads)
    place = f" in {site.method}"
    if near:
        place += " beside " + ", ".join(f'"{_short(v)}"' for v in near)
    if len(sites) > 1:
        place += f" (+{len(sites) - 1} more methods: " + ", ".join(s.method for s in sites[1:]) + ")"
    return place


def _neighbours(data: bytes, offsets: Sequence[int], index: int, loads: tuple[int, ...]) -> list[str]:
    """The other non-empty strings the method loads, nearest to the first load of ``index`` first."""
    at = loads.index(index)
    order = sorted(range(len(loads)), key=lambda k: (abs(k - at), k))
    seen: list[str] = []
    for k in order:
        if loads[k] == index:
            continue
        value = _value(data, offsets, loads[k])
        if value.strip() and value not in seen:
            seen.append(value)
        if len(seen) == NEIGHBOURS:
            break
    return seen


def _assembled(name: str, data: bytes, offsets: Sequence[int], index: int, site: dexcode.CodeSite
               ) -> Iterator[Text]:
    """The pieces loaded around each load of ``index`` joined (or a template filled with the next
    piece): one text per window, its parts kept so that the facts stage counts only what spans them."""
    for at, loaded in enumerate(site.loads):
        if loaded != index:
            continue
        window = site.loads[max(0, at - ASSEMBLY_REACH) : at + ASSEMBLY_REACH + 1]
        parts = tuple(_value(data, offsets, k) for k in window)
        others = "".join(f"+[{k}]" for k in window[1:])
        near = _neighbours(data, offsets, index, site.loads)
        beside = " beside " + ", ".join(f'"{_short(v)}"' for v in near) if near else ""
        yield Text("".join(parts), Location(name, "dex", f"{others} in {site.method}{beside}", string_id=window[0],
                                            lead="assembled from "), parts=parts)
        template = _value(data, offsets, index)
        following = site.loads[at + 1 : at + 2]
        if _FORMAT.search(template) and following:
            piece = _value(data, offsets, following[0])
            yield Text(_FORMAT.sub(piece.replace("\\", "\\\\"), template, count=1),
                       Location(name, "dex", f" % [{following[0]}] in {site.method}{beside}", string_id=index,
                                lead="assembled from "),
                       parts=(template, piece))


def _value(data: bytes, offsets: Sequence[int], index: int) -> str:
    try:
        return dex.string_at(data, offsets, index)
    except IndexError:
        return ""


def _short(value: str) -> str:
    value = " ".join(value.split()).replace('"', "'")
    return value if len(value) <= NEIGHBOUR_CHARS else value[: NEIGHBOUR_CHARS - 1] + "…"
