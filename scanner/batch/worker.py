"""One package in one worker process, under a time and a memory limit.

androguard and the parsers return memory to the system only when their process exits, and a hostile
package may loop or balloon: so every package gets a fresh process (forked from a clean forkserver that
has the scanner imported, so a fork costs milliseconds, not an interpreter start), with RLIMIT_AS as its
memory limit, and is killed at its time limit. Whatever happens, the caller gets an Outcome: the
results (the model; the store writes their JSON), or a PKG006 result that says why the scan was stopped. No
forks inside a worker (scanner.concurrency.Mode.BATCH_WORKER).

Workers import what this process imported, wherever it runs: the interpreters started for them (the
forkserver, or a ``python -m scanner.batch.worker`` subprocess) get this process's ``sys.path`` and
never the working directory, which ``-c`` and ``-m`` would otherwise put first (a clone of this project
holds a ``scanner/`` folder that is not the installed package). ``start`` checks it once, with a probe
process, before a batch commits anything.

Where the calling process is itself a daemon (a Dask worker), multiprocessing may not start children;
the package then runs in a ``python -m scanner.batch.worker`` subprocess instead, with the same limits.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import multiprocessing
import multiprocessing.connection
import multiprocessing.forkserver
import os
import pickle
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing import spawn
from typing import Any

import scanner
from scanner import engine
from scanner.concurrency import Mode, options_for
from scanner.config import Policy
from scanner.i18n import msg
from scanner.model import Options, ScanResult
from scanner.parsers import LAZY_MODULES

EXIT_MEMORY = 86
"""A worker's exit status when an allocation failed under --max-memory (the limit, not the package)."""

POLL = 0.1
"""Seconds between checks of a running worker for a stop request (Ctrl-C)."""
EXIT_GRACE = 2.0
"""Seconds a worker that closed its pipe without an answer is given to exit on its own (and say why)."""

# What a scan may import only when a package needs it: loaded before RLIMIT_AS applies, so that a limit
# never turns into an ImportError ("failed to map segment") that would read as an unreadable package.
# The list is every module the scanner imports inside a function (a test holds it complete).
_EXTRA_PRELOAD = ("scanner.engine", "scanner.rules", "scanner.batch.judge", "scanner.facts.kinds",
                  "scanner.facts.derive", "scanner.formatters.json_report",
                  "scanner.privacy_policy", "cryptography.hazmat.primitives.hashes",
                  "cryptography.hazmat.primitives.ciphers", "cryptography.hazmat.primitives.kdf.pbkdf2",
                  "plistlib", "xml.parsers.expat", "zipfile", "lxml.etree", "tomllib", "logging", "datetime",
                  "isal.isal_zlib", "google.protobuf.message", "google.protobuf.message_factory",
                  "androguard.core.axml", "apkInspector.headers", "loguru", "jsonschema")


class WorkerStartError(RuntimeError):
    """Worker processes cannot start, or import another scanner than this process: nothing is scanned."""


@dataclass(frozen=True, slots=True)
class Job:
    """A package to scan: its path (as the batch found it), content hash and size."""

    path: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class WorkerLimits:
    """Per-package limits of a batch (None: no limit)."""

    timeout: float | None = 120.0
    max_memory: int | None = None
    """Bytes of address space (RLIMIT_AS) a package may use in its worker, beyond what the worker started
    with."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one package gave: its results (the model, as the engine made them), wall time and the
    worker's peak RSS."""

    job: Job
    results: tuple[ScanResult, ...]
    seconds: float
    peak_rss_kib: int | None = None
    aborted: str | None = None
    """Why the scan was stopped (then ``results`` holds one PKG006 result saying so)."""
    interrupted: bool = False
    """Stopped by the user (Ctrl-C): not a result of the package, never committed."""


def scan_here(path: str, options: Options, policy: Policy) -> tuple[ScanResult, ...]:
    """The results of one path, scanned in this process as a batch worker; a MemoryError is raised, not
    reported (under a worker's memory limit it is the limit's, not the package's)."""
    return engine.scan_target(path, options_for(Mode.BATCH_WORKER, options), policy, memory_errors="raise")


def aborted_result(path: str, message: str) -> ScanResult:
    """The result of a package whose scan was stopped (PKG006)."""
    return engine.error_result(path, "PKG006", message)


def preload() -> tuple[str, ...]:
    """Every module a scan may import: the lazily imported formats and the judging modules."""
    return ("scanner.batch.worker", *_EXTRA_PRELOAD, *LAZY_MODULES)


def _import_all() -> None:
    for name in preload():
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def _limit_memory(max_memory: int | None) -> None:
    """RLIMIT_AS at what the worker has mapped now plus ``max_memory``: the limit is what a package may
    use. (A worker starts with its interpreter, androguard, lxml and the rest mapped, about 220 MB of
    address space of which 60 MB resident; as an absolute RLIMIT_AS, 64M would refuse every package.)"""
    if max_memory:
        limit = _address_space() + max_memory
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _address_space() -> int:
    """Bytes of address space this process has mapped (Linux: /proc/self/statm; elsewhere 0)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _scan_and_exit_on_memory(path: str, options: Options, policy: Policy) -> tuple[ScanResult, ...]:
    try:
        return scan_here(path, options, policy)
    except MemoryError:
        # Exit at once with the status the parent reads as the limit: nothing more to allocate here.
        os._exit(EXIT_MEMORY)


def _stderr_to(path: str) -> None:
    """The worker's error output goes to its own file, whose last line says why it died, if it does."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    os.dup2(fd, 2)
    os.close(fd)


def _child(conn: multiprocessing.connection.Connection, path: str, options: Options, policy: Policy,
           max_memory: int | None, stderr_path: str) -> None:
    """The worker process: scan, send the results back, exit (its memory goes with it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's to handle (runner.Stop)
    _stderr_to(stderr_path)
    _limit_memory(max_memory)
    results = _scan_and_exit_on_memory(path, options, policy)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    conn.send((results, peak))
    conn.close()


def _probe(conn: multiprocessing.connection.Connection) -> None:
    """Says which scanner a worker imports (start compares it with this process's)."""
    conn.send(os.path.realpath(scanner.__file__))
    conn.close()


def child_environment() -> dict[str, str]:
    """Environment variables for a worker interpreter: this process's sys.path, no working directory.

    ``-c`` (the forkserver) and ``-m`` (the subprocess worker) put the working directory first on
    ``sys.path``; PYTHONSAFEPATH (Python 3.11, PEP 587's ``safe_path``) leaves it out, and PYTHONPATH
    gives the worker the entries this process imports from ('' is the working directory here)."""
    entries = [os.path.abspath(entry or os.curdir) for entry in sys.path]
    return {"PYTHONSAFEPATH": "1", "PYTHONPATH": os.pathsep.join(dict.fromkeys(entries))}


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` in os.environ while the block runs (a started interpreter takes os.environ)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@functools.cache
def _server_log() -> Any:  # noqa: ANN401 (a temporary file object)
    """Where the forkserver's own error output goes (read back when a worker cannot start)."""
    return tempfile.TemporaryFile(prefix="beian-scan-forkserver-")


_context_lock = threading.Lock()


def _context() -> Any:  # noqa: ANN401 (multiprocessing's context types are not public)
    """The forkserver context, with the scanner preloaded in the server (imported once, forked cheaply);
    started once per process, whichever thread asks first (a Dask worker runs tasks in threads)."""
    with _context_lock:
        return _started_context()


@functools.cache
def _started_context() -> Any:  # noqa: ANN401
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        # The server's set-up is one import (scanner.batch.server): the parent's main script once (for
        # `beian-scan batch` the console script; in a Dask worker the script its nanny ran), every module
        # a scan may import, and a scan of a bundled APK, so workers start with what a first scan fills.
        context.set_forkserver_preload(["scanner.batch.server"])
        main = spawn.get_preparation_data("beian-scan").get("init_main_from_path", "")
        saved = os.dup(2)
        os.dup2(_server_log().fileno(), 2)
        try:
            with _environment({**child_environment(), "BEIAN_SCAN_FORKSERVER_MAIN": main}):
                multiprocessing.forkserver.ensure_running()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    return context


_started = threading.Lock()
_checked: list[bool] = []


def start() -> None:
    """Start the worker processes' server and check, with one probe process, that a worker starts and
    imports this very scanner; WorkerStartError (one line: why) otherwise. Called before a batch
    commits anything, so that a failure of the tool never becomes a row of aborted packages."""
    with _started:
        if _checked or multiprocessing.current_process().daemon:
            return

        _guard_bootstrap()
        try:
            context = _context()
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=_probe, args=(sender,))
            process.start()
            sender.close()
            found = _answer(receiver)
            process.join(5)
        except (OSError, EOFError, RuntimeError, pickle.PickleError) as exc:
            raise WorkerStartError(_start_failure(msg("{error}: {exc}", error=type(exc).__name__, exc=exc))) from None
        if found is None:
            status = process.exitcode
            how = (msg("was killed by signal {name}",
                       name=signal.Signals(-status).name) if status is not None and status < 0
                   else msg("exited with status {status}", status=status))
            raise WorkerStartError(_start_failure(msg("the probe process {how} before answering", how=how)))
        if found != os.path.realpath(scanner.__file__):
            raise WorkerStartError(msg("the worker processes import another beian-scan ({found}) than this one "
                                       "({value})", found=found, value=os.path.realpath(scanner.__file__)))
        _checked.append(True)


def _answer(receiver: multiprocessing.connection.Connection) -> str | None:
    try:
        return str(receiver.recv()) if receiver.poll(60) else None
    except (EOFError, OSError):
        return None


def _guard_bootstrap() -> None:
    """A script that starts a batch at its top level runs again in each worker's interpreter; there,
    starting one more batch is refused with the one line that says what to write."""
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise WorkerStartError(msg("a batch started while its worker processes were importing the main script: call it "
                                   "under `if __name__ == \"__main__\":`"))


def _start_failure(detail: str) -> str:
    last = last_line(_tail(_server_log().fileno()))
    why = last or detail
    if "__main__" in why or "bootstrapping" in why:
        return msg("the batch's worker processes could not start: {why} (a script that starts a batch must do so "
                   "under `if __name__ == \"__main__\":`)", why=why)
    return msg("the batch's worker processes could not start: {why}", why=why)


def _tail(fd: int, size: int = 4096) -> bytes:
    with contextlib.suppress(OSError):
        end = os.fstat(fd).st_size
        return os.pread(fd, size, max(0, end - size))
    return b""


def _size_of(fd: int) -> int:
    try:
        return os.fstat(fd).st_size
    except OSError:
        return 0


def _since(fd: int, offset: int, size: int = 4096) -> bytes:
    end = _size_of(fd)
    if end <= offset:
        return b""
    start = max(offset, end - size)
    with contextlib.suppress(OSError):
        return os.pread(fd, end - start, start)
    return b""


_PATH = re.compile(r"""(?:[A-Za-z]:)?[/\\](?:[^\s"'/\\:,()]+[/\\])+([^\s"'/\\:,()]*)""")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def last_line(data: bytes) -> str:
    """The last line of a worker's error output, fit for a report: no control characters, no paths of
    this machine (a file's name is kept), at most 300 characters."""
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    if not lines:
        return ""
    text = _CONTROL.sub(" ", _PATH.sub(lambda m: m.group(1) or "…", lines[-1]))
    return text[:300]


def run(job: Job, options: Options, policy: Policy, limits: WorkerLimits,
        cancel: threading.Event | None = None) -> Outcome:
    """Scan one package in a fresh worker process under the limits; always returns an Outcome. When
    ``cancel`` is set while it runs, the worker is killed and the Outcome is ``interrupted``."""
    if multiprocessing.current_process().daemon:
        return run_subprocess(job, options, policy, limits)
    started = time.monotonic()
    context = _context()
    server_log = _size_of(_server_log().fileno())
    with tempfile.NamedTemporaryFile(prefix="beian-scan-worker-", suffix=".err") as errors:
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(sender, job.path, options, policy, limits.max_memory,
                                                       errors.name))
        process.start()
        sender.close()
        message, ended = None, "stopped"
        try:
            message, ended = _wait(receiver, limits.timeout, cancel)
        finally:
            receiver.close()
            if ended == "closed":
                process.join(EXIT_GRACE)  # it closed its end: let it finish writing why, and exit
            if process.is_alive() and message is None:
                process.kill()
            process.join()
        if ended == "stopped":
            return Outcome(job, (), time.monotonic() - started, interrupted=True)
        # The worker's own output; before it ran its target (unpickling its job), the server's.
        why = last_line(_tail(errors.fileno())) or last_line(_since(_server_log().fileno(), server_log))
    return _outcome(job, message, process.exitcode, limits, time.monotonic() - started, why)


def _wait(receiver: multiprocessing.connection.Connection, timeout: float | None,
          cancel: threading.Event | None) -> tuple[Any, str]:
    """(the worker's message or None, how the wait ended: "answer", "closed", "timeout" or "stopped")."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if cancel is not None and cancel.is_set():
            return None, "stopped"
        left = POLL if deadline is None else min(POLL, deadline - time.monotonic())
        if left <= 0:
            return None, "timeout"
        try:
            if receiver.poll(left):
                return receiver.recv(), "answer"
        except (EOFError, OSError):
            return None, "closed"


def _outcome(job: Job, message: tuple[Any, ...] | None, exitcode: int | None, limits: WorkerLimits,
             seconds: float, why: str = "") -> Outcome:
    if message is not None:
        return Outcome(job, tuple(message[0]), seconds, message[1])
    if exitcode == EXIT_MEMORY:
        reason = msg("over --max-memory ({value}): the scan ran out of its memory limit",
                     value=_size(limits.max_memory))
    elif limits.timeout is not None and seconds >= limits.timeout:
        reason = msg("the scan ran past its {timeout} s time limit (--timeout) and was stopped",
                     timeout=format(limits.timeout, 'g'))
    elif exitcode is not None and exitcode < 0:
        reason = msg("the worker process was killed by signal {name}; it was replaced",
                     name=signal.Signals(-exitcode).name)
    else:
        reason = msg("the worker process exited with status {exitcode} before reporting; it was replaced",
                     exitcode=exitcode)
    if why:
        reason = msg("{reason} ({why})", reason=reason, why=why)
    return Outcome(job, (aborted_result(job.path, reason),), seconds, None, reason)


def _size(value: int | None) -> str:
    if not value:
        return "unlimited"
    return f"{value / (1 << 30):g} GiB" if value >= 1 << 30 else f"{value / (1 << 20):g} MiB"


def run_all(jobs: tuple[Job, ...], options: Options, policy: Policy, limits: WorkerLimits) -> tuple[Outcome, ...]:
    """Several packages one after the other, each as ``run`` scans it (a Dask task of small packages)."""
    return tuple(run(job, options, policy, limits) for job in jobs)


def run_subprocess(job: Job, options: Options, policy: Policy, limits: WorkerLimits) -> Outcome:
    """As run, in a ``python -m scanner.batch.worker`` child (for daemonic callers such as Dask workers)."""
    started = time.monotonic()
    request = pickle.dumps((job.path, options, policy, limits.max_memory))
    environment = {**os.environ, **child_environment()}
    try:
        done = subprocess.run([sys.executable, "-m", "scanner.batch.worker"], input=request, capture_output=True,
                              timeout=limits.timeout, check=False, env=environment)
    except subprocess.TimeoutExpired:
        return _outcome(job, None, None, limits, max(time.monotonic() - started, limits.timeout or 0.0))
    message = None
    if done.returncode == 0 and done.stdout:
        try:
            message = pickle.loads(done.stdout)
        except (pickle.UnpicklingError, EOFError, ValueError):
            message = None
    return _outcome(job, message, done.returncode, limits, time.monotonic() - started, last_line(done.stderr))


def _main() -> int:
    """The subprocess worker: a pickled request on stdin, a pickled answer on stdout."""
    path, options, policy, max_memory = pickle.loads(sys.stdin.buffer.read())
    _import_all()
    _limit_memory(max_memory)
    results = _scan_and_exit_on_memory(path, options, policy)
    sys.stdout.buffer.write(pickle.dumps((results, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))
    sys.stdout.buffer.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(_main())
