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
from typing import Generic, TypeVar

AHEAD = 3
_DONE = object()
T = TypeVar("T")
R = TypeVar("R")


class Pending(Generic[R]):
    """One call run in a background thread; ``result()`` waits for its value or raises its exception.
    (concurrent.futures does the same with an executor, and costs every run the import of logging.)"""

    def __init__(self, call: Callable[[], R]) -> None:
        self._call = call
        self._value: tuple[R] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="beian-scan-pending", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = (self._call(),)
        except BaseException as exc:  # raised again in the caller of result(), not lost in the thread
            self._error = exc

    def result(self) -> R:
        """The call's value, once it has returned."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value[0]


def hash_file(path: str | bytes) -> Pending[str]:
    """The SHA-256 of a file (or of bytes), computed in a background thread."""
    return Pending(lambda: _sha256(path))


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
