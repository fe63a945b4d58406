"""Read ahead: inflate the next zip members and hash the file in background threads while the current
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
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

AHEAD = 3
_DONE = object()
T = TypeVar("T")
R = TypeVar("R")


def hash_file(path: str | bytes) -> Future[str]:
    """The SHA-256 of a file (or of bytes), computed in a background thread."""
    executor = ThreadPoolExecutor(max_workers=1)
    future = executor.submit(_sha256, path)
    executor.shutdown(wait=False)
    return future


def _sha256(path: str | bytes) -> str:
    from scanner.parsers.common import file_sha256

    return hashlib.sha256(path).hexdigest() if isinstance(path, bytes) else file_sha256(path)


class ReadAhead(Generic[T, R]):
    """Apply ``read`` to ``items`` in order in a background thread, starting now; iterate for results.

    ``close()`` (or leaving a ``with`` block) stops the thread; at most ``ahead`` results are alive at a
    time. An exception in ``read`` is raised in the consumer.
    """

    def __init__(self, read: Callable[[T], R], items: list[T], ahead: int = AHEAD) -> None:
        self._read = read
        self._items = items
        self._slots = threading.BoundedSemaphore(ahead)
        self._out: queue.Queue[object] = queue.Queue()
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._produce, name="beian-scan-read-ahead", daemon=True)
        self._worker.start()

    def _produce(self) -> None:
        try:
            for item in self._items:
                self._slots.acquire()
                if self._stop.is_set():
                    return
                self._out.put((self._read(item),))
        except BaseException as exc:  # an unexpected failure surfaces in the consumer, not lost in a thread
            self._out.put(exc)
        finally:
            self._out.put(_DONE)

    def __iter__(self) -> Iterator[R]:
        while (item := self._out.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, tuple)
            (result,) = item
            del item
            yield result
            del result
            self._slots.release()

    def close(self) -> None:
        """Stop reading ahead and wait for the thread."""
        self._stop.set()
        with contextlib.suppress(ValueError):  # wake a producer waiting for a slot; it then sees stop
            self._slots.release()
        self._worker.join()

    def __enter__(self) -> ReadAhead[T, R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
