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
import mmap
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from scanner.parsers.common import file_sha256

AHEAD = 3
DIED = "can't start new thread: it died before reporting (out of memory?)"
"""What a background thread that never reported raises in its caller (the batch reads "can't start new
thread" under a memory limit as that limit)."""
_DONE = object()
T = TypeVar("T")
R = TypeVar("R")


THREAD_HEADROOM = 4 << 20
"""Address space that must be free before a thread is started (see ``_started``)."""


def _started(target: Callable[[], None], name: str) -> threading.Thread:
    """A daemon thread running ``target``, started. A thread whose first allocations fail (a batch
    worker at its --max-memory address-space limit, reusing a thread stack glibc had cached) dies
    before it signals that it started, and ``Thread.start`` then waits for ever: so a fresh mapping is
    asked for first (the kind the thread's first objects need), and its failure is raised here, in the
    caller, as a MemoryError the batch reads as the limit."""
    try:
        mmap.mmap(-1, THREAD_HEADROOM).close()  # mapped and unmapped untouched: no page is written
    except OSError as exc:
        raise MemoryError(f"no address space left for a thread ({exc})") from exc
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


class Pending(Generic[R]):
    """One call run in a background thread; ``result()`` waits for its value or raises its exception.
    (concurrent.futures does the same with an executor, and costs every run the import of logging.)"""

    def __init__(self, call: Callable[[], R]) -> None:
        self._call = call
        self._value: tuple[R] | None = None
        self._error: BaseException | None = None
        self._thread = _started(self._run, "beian-scan-pending")

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
        if self._value is None:  # the thread died before the call could run or finish
            raise RuntimeError(DIED)
        return self._value[0]


def hash_file(path: str | bytes) -> Pending[str]:
    """The SHA-256 of a file (or of bytes), computed in a background thread."""
    return Pending(lambda: _sha256(path))


def _sha256(path: str | bytes) -> str:
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
        self._worker = _started(self._produce, "beian-scan-read-ahead")

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
        while (item := self._next()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, tuple)
            (result,) = item
            del item
            yield result
            del result
            self._slots.release()

    def _next(self) -> object:
        """The next thing the thread put, waiting while it lives. A thread that died before it could
        run or report (its stack or first frame refused under a memory limit) would leave the consumer
        waiting until the batch's time limit: that is raised as the thread that could not start."""
        while True:
            try:
                return self._out.get(timeout=0.25)
            except queue.Empty:
                if not self._worker.is_alive() and self._out.empty():
                    raise RuntimeError(DIED) from None

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
