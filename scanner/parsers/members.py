"""Reading a package's members many at a time: in groups of about ``GROUP_BYTES``, the small files that
can matter to no rule told in one go (scanner.parsers.surfaces.files_without_anchors), the others read one by one.

An H5 shell (Cordova, uni-app, an ArkWeb rawfile folder, an IPA's ``www/``) holds its pages, scripts and
styles by the ten thousand; per file, the calls around the search cost more than the search. Grouping
changes nothing found: a file dropped by the prefilter is one ``file_texts`` would have dropped
(tests/test_fast_paths.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from scanner.extract.prefilter import Prefilter
from scanner.model import Anomaly, Text
from scanner.parsers import surfaces, zipread

GROUP_BYTES = 1 << 18
"""Members are scanned in groups of about this many inflated bytes (a larger one alone)."""

Texts = Callable[[str, bytes, list[Anomaly]], Iterable[Text]]
"""The texts of one member (name, data), its anomalies appended to the list."""
Plain = Callable[[str, bytes], bool]
"""Whether a member is read by ``surfaces.file_texts`` (and so may be dropped by the prefilter without it)."""
Found = list[tuple[list[Text], list[Anomaly]]]
"""(texts, anomalies) of each member, in the order given."""


def groups(members: Iterable[zipread.Member]) -> Iterator[list[zipread.Member]]:
    """Consecutive members in groups of up to ``GROUP_BYTES`` inflated bytes; a member that large closes
    the group before it and stands alone, so no more than one large member and a group of small ones are
    held at once. A full group goes at once, before the next member is asked for: a large member is
    scanned while the read-ahead thread inflates the next one, not after."""
    return surfaces.by_size(members, lambda m: len(m.data) if m.data is not None else 0, GROUP_BYTES)


def texts_of(members: list[tuple[str, bytes]], texts: Texts, plain: Plain, prefilter: Prefilter) -> Found:
    """(texts, anomalies) of each (name, data): the dropped plain files skipped, the others read."""
    dropped = surfaces.files_without_anchors([(n, d) if plain(n, d) else (n, b"") for n, d in members], prefilter)
    out: Found = []
    for (name, data), skip in zip(members, dropped, strict=True):
        found: list[Anomaly] = []
        out.append(([] if skip or not data else list(texts(name, data, found)), found))
    return out


def group_texts(group: list[zipread.Member], texts: Texts, plain: Plain, prefilter: Prefilter,
                anomalies: list[Anomaly]) -> dict[int, list[Text]]:
    """Texts per member (by ``id`` of its entry) of members read together, every anomaly recorded."""
    readable = [m for m in group if m.data is not None]
    found = texts_of([(m.entry.name, m.data) for m in readable if m.data is not None], texts, plain, prefilter)
    for member in group:
        anomalies.extend(member.anomalies)
    out: dict[int, list[Text]] = {}
    for member, (kept, odd) in zip(readable, found, strict=True):
        anomalies.extend(odd)
        out[id(member.entry)] = kept
    return out


def read_texts(members: Iterable[zipread.Member], texts: Texts, plain: Plain, prefilter: Prefilter,
               anomalies: list[Anomaly]) -> dict[int, list[Text]]:
    """``group_texts`` over members as they are read, by ``id`` of their entry."""
    out: dict[int, list[Text]] = {}
    for group in groups(members):
        out.update(group_texts(group, texts, plain, prefilter, anomalies))
    return out
