"""Read ahead: inflate the next zip member and hash the file in background threads while the current
member is scanned.

zlib's decompressor and hashlib release the GIL on large buffers, so inflating member N+1 and hashing
overlap with the (GIL-holding) scan of member N: on a 2-core machine the cost of a package approaches
the larger of the two instead of their sum. At most ``AHEAD`` inflated members are alive at a time,
which bounds memory to the largest members rather than the package.
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

AHEAD = 3
_DONE = object()
MemberErrors = (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, zlib.error, EOFError)


def hash_file(path: str) -> Future[str]:
    """The file's SHA-256, computed in a background thread."""
    executor = ThreadPoolExecutor(max_workers=1)
    future = executor.submit(_sha256, path)
    executor.shutdown(wait=False)
    return future


def _sha256(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class ReadAhead:
    """Inflate ``names`` in order in a background thread, starting now; iterate for (name, bytes).

    A member that cannot be read is passed to ``on_error`` and skipped. ``close()`` (or leaving a
    ``with`` block) stops the thread; at most ``ahead`` inflated members are alive at a time.
    """

    def __init__(self, archive: zipfile.ZipFile, names: list[str], on_error: Callable[[str, Exception], None],
                 ahead: int = AHEAD) -> None:
        self._archive = archive
        self._names = names
        self._on_error = on_error
        self._slots = threading.BoundedSemaphore(ahead)
        self._out: queue.Queue[object] = queue.Queue()
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._produce, name="beian-scan-inflate", daemon=True)
        self._worker.start()

    def _produce(self) -> None:
        try:
            for name in self._names:
                self._slots.acquire()
                if self._stop.is_set():
                    return
                try:
                    self._out.put((name, self._archive.read(name)))
                except MemberErrors as exc:
                    self._out.put((name, exc))
        except BaseException as exc:  # an unexpected failure surfaces in the consumer, not lost in a thread
            self._out.put(exc)
        finally:
            self._out.put(_DONE)

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        while (item := self._out.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, tuple)
            name, data = item
            del item
            if isinstance(data, Exception):
                self._on_error(name, data)
            else:
                yield name, data
            del data
            self._slots.release()

    def close(self) -> None:
        """Stop reading ahead and wait for the thread."""
        self._stop.set()
        with contextlib.suppress(ValueError):  # wake a producer waiting for a slot; it then sees stop
            self._slots.release()
        self._worker.join()

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
