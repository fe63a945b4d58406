"""How a zip-based package's members are read and scanned: the one place that schedules it.

A format parser says *what* it wants read (the members to scan, how to read one member's texts, which
members are plain files the prefilter may drop unread, and which members a helper process could scan
without what the parser reads first); ``Members`` decides *how*:

- **A forked helper** (scanner.parsers.offload) takes about half of the members when it pays (a big
  member or a big total, POSIX, several cores: ``may_fork``), forked before any thread starts; when it
  does not deliver, its members are scanned here, so the result never depends on it.
- **Largest first, read ahead.** Members of ``READ_AHEAD_MIN`` bytes or more (compressed) are inflated in
  a background thread (scanner.parsers.prefetch) while the parser reads what it needs first (an APK's
  manifest and resource table) and while the previous member is scanned: zlib releases the GIL.
- **Small members in file order, many at a time** (``zipread.Reader.read_in_order``: one window read
  per megabyte), scanned in groups (scanner.parsers.members: the prefilter drops a group's plain files
  that hold no anchor in one pass).

Texts come back per member (by ``id`` of its entry) for the parser to report in the package's own member
order, whatever order they were read in; every anomaly met on the way is recorded.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from types import TracebackType

from scanner.extract.prefilter import Prefilter
from scanner.model import Anomaly, Limits, Text
from scanner.parsers import members, offload, prefetch, zipread

READ_AHEAD_MIN = 64 * 1024
"""Members smaller than this (compressed) are read in the scanning thread, not handed to read-ahead: for
the thousands of small files of an H5 shell the hand-over costs more than reading them here."""



def largest_first(entries: list[zipread.Entry]) -> list[zipread.Entry]:
    """By compressed size, largest first, then by name: two sorts by one attribute each (the second keeps
    the first's order among equals; a key of tuples cost five times as much on an H5 shell's members)."""
    ordered = sorted(entries, key=operator.attrgetter("name"))
    ordered.sort(key=operator.attrgetter("compressed_size"), reverse=True)
    return ordered


class Members:
    """The members of one archive, read and scanned as scheduled here (see the module docstring).

    ``reader`` reads what the parser needs before the scan (in this thread); ``scan`` reads and scans
    the queued members. Use as a context manager: leaving it stops the read-ahead thread, closes the
    readers and reaps a helper whose result was not wanted."""

    def __init__(self, archive: zipread.Archive, limits: Limits, prefilter: Prefilter,
                 budget: zipread.Budget | None = None) -> None:
        self.archive = archive
        self.limits = limits
        self.prefilter = prefilter
        self._stack = ExitStack()
        self.reader = zipread.Reader(archive, limits, budget)
        self._stack.callback(self.reader.close)
        self._ahead_reader = zipread.Reader(archive, limits, budget)
        self._stack.callback(self._ahead_reader.close)
        self._queue: list[zipread.Entry] = []
        self._helper: tuple[list[zipread.Entry], offload.Helper] | None = None
        self._ahead: prefetch.ReadAhead[zipread.Entry, zipread.Member] | None = None
        self._in_order = False

    def __enter__(self) -> Members:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._ahead is not None:
            self._ahead.close()
            self._ahead = None
        if self._helper is not None:
            self._helper[1].close()  # reaps the helper when the parse stopped early (a no-op after result())
        self._stack.close()

    def schedule(self, entries: list[zipread.Entry], alone: tuple[members.Texts, members.Plain] | None = None,
                 may_fork: bool = False, stay: Callable[[zipread.Entry], bool] | None = None,
                 head_start: int = 0, in_order: bool = False) -> None:
        """Queue ``entries`` largest first, hand some to a helper when it pays (``alone``: how it reads a
        member's texts without what the parser reads first; ``stay``: members it must leave here;
        ``head_start``: bytes of work the parser does here first), then start reading the large ones
        ahead. Call once, before any other thread starts. ``in_order``: the members are read in the order
        given, in this thread (a parser that gathers something across members in their order: an IPA's
        linked frameworks, whose first evidence is reported)."""
        self._queue = list(entries) if in_order else largest_first(entries)
        if alone is not None and may_fork and self.prefilter.fast and not in_order:
            self._helper = self._offload(alone, stay or (lambda _e: False), head_start)
        large = [] if in_order else [e for e in self._queue if e.compressed_size >= READ_AHEAD_MIN]
        # No thread for nothing to read ahead (most mini packages: a thread start costs a millisecond).
        self._ahead = prefetch.ReadAhead(self._ahead_reader.read, large) if large else None
        self._in_order = in_order

    def _offload(self, alone: tuple[members.Texts, members.Plain], stay: Callable[[zipread.Entry], bool],
                 head_start: int) -> tuple[list[zipread.Entry], offload.Helper] | None:
        if not isinstance(self.archive, str) or not offload.worth_it(self._queue):
            return None
        movable = [e for e in self._queue if not stay(e)]
        mine, theirs = offload.split(movable, head_start + sum(e.size for e in self._queue if stay(e)))
        # With nothing left to scan here but what the parser reads first, the helper would only move the
        # work: a fork and its copied pages for no time saved.
        if not mine or not theirs:
            return None
        moved = {id(e) for e in mine}
        self._queue = [e for e in self._queue if id(e) not in moved]
        return mine, offload.Helper(self.archive, mine, self.limits, *alone, self.prefilter)

    def scan(self, texts: members.Texts, plain: members.Plain, anomalies: list[Anomaly]) -> dict[int, list[Text]]:
        """The texts of every queued member (and the helper's), by ``id`` of its entry."""
        small = self._queue if self._in_order else [e for e in self._queue if e.compressed_size < READ_AHEAD_MIN]
        found = members.read_texts(self._chained(self._ahead, self.reader.read_in_order(small)), texts, plain,
                                   self.prefilter, anomalies)
        if self._helper is not None:
            found.update(self._helper_texts(texts, plain, anomalies))
        return found

    @staticmethod
    def _chained(first: prefetch.ReadAhead[zipread.Entry, zipread.Member] | None,
                 then: Iterator[zipread.Member]) -> Iterator[zipread.Member]:
        if first is not None:
            yield from first
        yield from then

    def _helper_texts(self, texts: members.Texts, plain: members.Plain, anomalies: list[Anomaly]
                      ) -> dict[int, list[Text]]:
        """The helper's texts per member, or the members scanned here when the helper did not deliver."""
        assert self._helper is not None
        entries, process = self._helper
        delivered = process.result()
        if delivered is not None and len(delivered[1]) == len(entries):
            anomalies.extend(delivered[0])
            return {id(entry): kept for entry, kept in zip(entries, delivered[1], strict=True)}
        return members.read_texts(self.reader.read_in_order(entries), texts, plain, self.prefilter, anomalies)


