"""Scan about half of a package's members in a forked helper process while the parent scans the rest.

Scanning holds the GIL (``bytes.find``, regular expressions), so threads cannot scan two members at
once; a forked process can, at the cost of one ``fork``. It is used only where it pays: on POSIX with
two or more cores, for packages with a member of several megabytes, and before the parent starts any
thread (forking a threaded process is unsafe). The helper opens the file itself, reads its members
through scanner.parsers.zipread under the same caps, and sends back their texts and anomalies; if
anything goes wrong the parent scans those members itself, so the result never depends on the helper.
Members that need the resource table (res/ XML) always stay with the parent.
"""

from __future__ import annotations

import contextlib
import operator
import os
import pickle
import signal
import threading

from scanner.extract.prefilter import Prefilter
from scanner.model import Anomaly, Limits, Text
from scanner.parsers import members, zipread

MIN_COMPRESSED = 4 * 1024 * 1024
"""A member this large (compressed) is worth a fork on its own."""
MIN_TOTAL = 8 * 1024 * 1024
"""Nor are many small members worth one below this total (compressed): an H5 shell's 20,000 pages and
scripts (28 MB) take a second to read in one process, half of it with a helper."""

def worth_it(queue: list[zipread.Entry]) -> bool:
    """For a package with a big member, and only while no other thread is alive (forking a threaded
    process is unsafe). Whether this run may fork at all is decided above (scanner.concurrency)."""
    if not hasattr(os, "fork") or threading.active_count() != 1 or len(queue) < 2:
        return False
    return (max(e.compressed_size for e in queue) >= MIN_COMPRESSED
            or sum(e.compressed_size for e in queue) >= MIN_TOTAL)


MEMBER_COST = 4096
"""What scanning a member costs besides its bytes, in bytes of bulk scanning: the calls around each of an
H5 export's 40,000 small pages (reading its header, decoding, stripping tags) cost about what scanning a
few KB of a DEX does (bench/run.py's ``footer`` shape: balanced by bytes alone, the helper took the DEX
and a quarter of the pages)."""


def split(queue: list[zipread.Entry], parent_head_start: int) -> tuple[list[zipread.Entry], list[zipread.Entry]]:
    """(helper's members, parent's members), balanced by inflated size and MEMBER_COST each, largest
    first. The parent also reads the manifest and the resource table (``parent_head_start`` bytes of work)."""
    helper: list[zipread.Entry] = []
    parent: list[zipread.Entry] = []
    load = [0, parent_head_start]
    for entry in sorted(queue, key=operator.attrgetter("size"), reverse=True):
        side = 0 if load[0] <= load[1] else 1
        (helper if side == 0 else parent).append(entry)
        load[side] += max(entry.size, entry.compressed_size) + MEMBER_COST
    return helper, parent


class Helper:
    """A forked process scanning some members the way the parent would (members.read_texts, with the
    texts function it is given); ``result()`` waits for it (None when it failed)."""

    def __init__(self, path: str, entries: list[zipread.Entry], limits: Limits, texts: members.Texts,
                 plain: members.Plain, prefilter: Prefilter) -> None:
        read_end, write_end = os.pipe()
        self._pid = os.fork()
        if self._pid == 0:  # the helper: scan, send, leave without running the parent's exit handlers
            os.close(read_end)
            code = 1
            try:
                reader = zipread.Reader(path, limits)
                anomalies: list[Anomaly] = []
                found = members.read_texts(reader.read_in_order(entries), texts, plain, prefilter, anomalies)
                results = (anomalies, [found.get(id(entry), []) for entry in entries])  # in the parent's order
                with os.fdopen(write_end, "wb") as out:
                    pickle.dump(results, out, protocol=pickle.HIGHEST_PROTOCOL)
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        self._read_end = read_end
        self._reaped = False

    def result(self) -> tuple[list[Anomaly], list[list[Text]]] | None:
        """(every anomaly, the texts of each member in order) from the helper; None if it did not deliver."""
        try:
            with os.fdopen(self._read_end, "rb") as incoming:
                data = incoming.read()
        finally:
            _, status = os.waitpid(self._pid, 0)
            self._reaped = True
        if os.waitstatus_to_exitcode(status) != 0 or not data:
            return None
        try:
            results: tuple[list[Anomaly], list[list[Text]]] = pickle.loads(data)  # our own child's output
        except (pickle.UnpicklingError, EOFError, ValueError):
            return None
        return results

    def close(self) -> None:
        """Stop and reap a helper whose result is not wanted (the parse ended early)."""
        if self._reaped:
            return
        with contextlib.suppress(OSError):
            os.kill(self._pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.close(self._read_end)
        os.waitpid(self._pid, 0)
        self._reaped = True
