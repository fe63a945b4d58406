"""One package in one worker process, under a time and a memory limit.

androguard and the parsers return memory to the system only when their process exits, and a hostile
package may loop or balloon: so every package gets a fresh process (forked from a clean forkserver that
has the scanner imported, so a fork costs milliseconds, not an interpreter start), with RLIMIT_AS as its
memory limit, and is killed at its time limit. Whatever happens, the caller gets an Outcome: the JSON
results ``scan --format json`` would give, or a PKG006 result that says why the scan was stopped. No
forks inside a worker (scanner.concurrency.Mode.BATCH_WORKER).

Where the calling process is itself a daemon (a Dask worker), multiprocessing may not start children;
the package then runs in a ``python -m scanner.batch.worker`` subprocess instead, with the same limits.
"""

from __future__ import annotations

import functools
import multiprocessing
import multiprocessing.connection
import os
import pickle
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from scanner.config import Policy
from scanner.model import Options


@dataclass(frozen=True, slots=True)
class Job:
    """A package to scan: its path (as the batch found it), content hash and size."""

    path: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-package limits of a batch (None: no limit)."""

    timeout: float | None = 120.0
    max_memory: int | None = None
    """Bytes of address space (RLIMIT_AS) a worker may use."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one package gave: its JSON results, wall time and the worker's peak RSS."""

    job: Job
    results: tuple[dict[str, Any], ...]
    seconds: float
    peak_rss_kib: int | None = None
    aborted: str | None = None
    """Why the scan was stopped (then ``results`` holds one PKG006 result saying so)."""


def scan_here(path: str, options: Options, policy: Policy) -> list[dict[str, Any]]:
    """The JSON results of one path, scanned in this process as a batch worker."""
    from scanner import engine
    from scanner.concurrency import Mode, options_for
    from scanner.formatters import json_report

    results = engine.scan_target(path, options_for(Mode.BATCH_WORKER, options), policy)
    return [json_report.result_dict(r) for r in results]


def aborted_result(path: str, message: str) -> dict[str, Any]:
    """The JSON result of a package whose scan was stopped (PKG006)."""
    from scanner import engine
    from scanner.formatters import json_report

    return json_report.result_dict(engine.error_result(path, "PKG006", message))


def _scan_payload(path: str, options: Options, policy: Policy, max_memory: int | None) -> tuple[str, Any]:
    """("ok", results), or ("memory", None) when the scan hit the memory limit (the engine reports a
    MemoryError, or a thread that cannot get its stack, as PKG001; under a limit the user set, that is
    the limit: PKG006)."""
    try:
        results = scan_here(path, options, policy)
    except MemoryError:
        return "memory", None
    if max_memory and any(_out_of_memory((r["error"] or {}).get("message", "")) for r in results):
        return "memory", None
    return "ok", results


def _out_of_memory(message: str) -> bool:
    """An engine error that, under RLIMIT_AS, means the limit: an allocation or a thread's stack refused."""
    return message.endswith("(MemoryError)") or "can't start new thread" in message


def _limit_memory(max_memory: int | None) -> None:
    if max_memory:
        resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))


def _child(conn: multiprocessing.connection.Connection, path: str, options: Options, policy: Policy,
           max_memory: int | None) -> None:
    """The worker process: scan, send the results back, exit (its memory goes with it)."""
    _limit_memory(max_memory)
    payload = _scan_payload(path, options, policy, max_memory)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    conn.send((*payload, peak))
    conn.close()


@functools.cache
def _context() -> Any:  # noqa: ANN401 (multiprocessing's context types are not public)
    """The forkserver context, with the scanner preloaded in the server (imported once, forked cheaply)."""
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        from scanner.parsers import LAZY_MODULES

        # "__main__": the server imports the parent's main script once (for `beian-scan batch`, the
        # console script and with it the command line), which each worker would otherwise run again
        # before its scan. The warm-up module last: it scans a bundled APK in the server
        # (scanner.batch.warmup), so workers start with what a first scan fills.
        context.set_forkserver_preload(["__main__", "scanner.batch.worker", "scanner.engine", *LAZY_MODULES,
                                        "scanner.batch.warmup"])
    return context


def run(job: Job, options: Options, policy: Policy, limits: Limits) -> Outcome:
    """Scan one package in a fresh worker process under the limits; always returns an Outcome."""
    if multiprocessing.current_process().daemon:
        return run_subprocess(job, options, policy, limits)
    started = time.monotonic()
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, job.path, options, policy, limits.max_memory))
    process.start()
    sender.close()
    message = None
    try:
        if receiver.poll(limits.timeout):
            message = receiver.recv()
    except (EOFError, OSError):
        message = None
    finally:
        receiver.close()
        if process.is_alive() and message is None:
            process.kill()
        process.join()
    return _outcome(job, message, process.exitcode, limits, time.monotonic() - started)


def _outcome(job: Job, message: tuple[Any, ...] | None, exitcode: int | None, limits: Limits,
             seconds: float) -> Outcome:
    if message is not None and message[0] == "ok":
        return Outcome(job, tuple(message[1]), seconds, message[2])
    if message is not None and message[0] == "memory":
        reason = f"the scan ran out of its {_size(limits.max_memory)} memory limit (--max-memory)"
    elif limits.timeout is not None and seconds >= limits.timeout:
        reason = f"the scan ran past its {limits.timeout:g} s time limit (--timeout) and was stopped"
    elif exitcode is not None and exitcode < 0:
        reason = f"the worker process was killed by signal {signal.Signals(-exitcode).name}; it was replaced"
    else:
        reason = f"the worker process exited with status {exitcode} before reporting; it was replaced"
    return Outcome(job, (aborted_result(job.path, reason),), seconds, None, reason)


def _size(value: int | None) -> str:
    if not value:
        return "unlimited"
    return f"{value / (1 << 30):g} GiB" if value >= 1 << 30 else f"{value / (1 << 20):g} MiB"


def run_subprocess(job: Job, options: Options, policy: Policy, limits: Limits) -> Outcome:
    """As run, in a ``python -m scanner.batch.worker`` child (for daemonic callers such as Dask workers)."""
    started = time.monotonic()
    request = pickle.dumps((job.path, options, policy, limits.max_memory))
    try:
        done = subprocess.run([sys.executable, "-m", "scanner.batch.worker"], input=request, capture_output=True,
                              timeout=limits.timeout, check=False)
    except subprocess.TimeoutExpired:
        return _outcome(job, None, None, limits, max(time.monotonic() - started, limits.timeout or 0.0))
    message = None
    if done.returncode == 0 and done.stdout:
        try:
            message = pickle.loads(done.stdout)
        except (pickle.UnpicklingError, EOFError, ValueError):
            message = None
    return _outcome(job, message, done.returncode, limits, time.monotonic() - started)


def _main() -> int:
    """The subprocess worker: a pickled request on stdin, a pickled answer on stdout."""
    path, options, policy, max_memory = pickle.loads(sys.stdin.buffer.read())
    _limit_memory(max_memory)
    payload = _scan_payload(path, options, policy, max_memory)
    sys.stdout.buffer.write(pickle.dumps((*payload, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))
    sys.stdout.buffer.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(_main())
