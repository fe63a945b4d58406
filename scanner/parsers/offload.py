"""Scan the largest member of a package in a forked helper process, while the parent scans the rest.

Scanning holds the GIL (``bytes.find``, regular expressions), so threads cannot scan two members at
once; a forked process can, at the cost of one ``fork``. It is used only where it pays: on POSIX with
two or more cores, for a member of several megabytes, and before the parent starts any thread (forking
a threaded process is unsafe). The helper opens the file itself, reads the member through
scanner.parsers.zipread under the same caps, and sends back the texts and anomalies; if anything goes
wrong the parent scans the member itself, so the result never depends on the helper.
"""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Callable

from scanner.model import Anomaly, Limits, Text
from scanner.parsers import zipread

MIN_COMPRESSED = 4 * 1024 * 1024
"""Members smaller than this are not worth a fork."""

Scan = Callable[[str, bytes], tuple[list[Text], list[Anomaly]]]


def worth_it(entry: zipread.Entry, remaining: int) -> bool:
    """Fork only on POSIX, with a spare core, no other thread alive, for a big member beside others."""
    return (hasattr(os, "fork") and (os.cpu_count() or 1) > 1 and threading.active_count() == 1
            and entry.compressed_size >= MIN_COMPRESSED and remaining >= MIN_COMPRESSED // 2)


class Helper:
    """A forked process scanning one member; ``result()`` waits for it (None when it failed)."""

    def __init__(self, path: str, entry: zipread.Entry, limits: Limits, scan: Scan) -> None:
        read_end, write_end = os.pipe()
        self._pid = os.fork()
        if self._pid == 0:  # the helper: scan, send, leave without running the parent's exit handlers
            os.close(read_end)
            code = 1
            try:
                reader = zipread.Reader(path, limits)
                member = reader.read(entry)
                texts, found = scan(entry.name, member.data) if member.data is not None else ([], [])
                with os.fdopen(write_end, "wb") as out:
                    pickle.dump((member.anomalies + tuple(found), texts, reader.inflated), out,
                                protocol=pickle.HIGHEST_PROTOCOL)
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        self._read_end = read_end

    def result(self) -> tuple[tuple[Anomaly, ...], list[Text], int] | None:
        """(anomalies, texts, inflated bytes) from the helper, or None if it did not deliver."""
        try:
            with os.fdopen(self._read_end, "rb") as incoming:
                data = incoming.read()
        finally:
            _, status = os.waitpid(self._pid, 0)
        if os.waitstatus_to_exitcode(status) != 0 or not data:
            return None
        try:
            anomalies, texts, inflated = pickle.loads(data)  # our own child's output, not external input
        except (pickle.UnpicklingError, EOFError, ValueError):
            return None
        return anomalies, texts, inflated
