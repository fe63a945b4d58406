"""A batch: find the packages, skip those already in the store, scan the rest in worker processes
(locally, or on a Dask cluster), and commit each package's results as it finishes.

Packages are scanned largest first, so that the long ones start early and the end of the run is not
one big package alone. The client alone writes the store (SQLite has one writer; a Dask worker only
returns results), so a local run and a cluster run leave the same rows and resume the same way.

A rerun skips what the store holds for the same content, tool version and config, except results that
were stopped (PKG006) under other limits or when ``retry_aborted`` is asked; where only the filing
records, the accepted findings (suppressions, baseline) or the policy (severities, disabled rules)
changed, the stored results are judged again without reading the package (scanner.batch.judge). A stop
request (``Stop``: the command line's Ctrl-C) hands out no more packages; running ones finish within
``Stop.grace`` seconds or are stopped, and only finished packages are committed.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from scanner import __version__
from scanner.batch import discover, judge, worker
from scanner.batch.registry import Index
from scanner.batch.store import Store
from scanner.config import Policy
from scanner.engine import Acceptance
from scanner.formatters.json_report import from_result_dict
from scanner.i18n import msg
from scanner.model import Options


@dataclass(frozen=True, slots=True)
class Request:
    """What a batch is asked to do (the command line's flags and config, or the API's arguments)."""

    roots: tuple[str, ...] = ()
    listed: tuple[str, ...] = ()
    options: Options = field(default_factory=Options)
    policy: Policy = field(default_factory=Policy)
    acceptance: Acceptance = field(default_factory=Acceptance)
    registry: Index = field(default_factory=Index)
    """Filing records, judged here (scanner.batch.judge), never sent to the workers."""
    limits: worker.WorkerLimits = field(default_factory=worker.WorkerLimits)
    parallel: int = 1
    dask_address: str | None = None
    retry_aborted: bool = False
    command: str = "batch"


@dataclass(frozen=True, slots=True)
class Plan:
    """What a batch will do: the jobs to run and what it will not scan, with why."""

    jobs: tuple[worker.Job, ...]
    already_done: int
    duplicates: int
    not_packages: int
    total_packages: int
    hashing_seconds: float = 0.0
    retried: int = 0
    """Jobs that were stopped (PKG006) before and are scanned again (new limits, or --retry-aborted)."""
    rejudged: tuple[str, ...] = ()
    """Contents whose stored results are judged again (only the registry, acceptance or policy changed)."""
    gone: int = 0
    """Files the store knew under these folders that are no longer there."""
    skipped_special: int = 0


@dataclass
class Tally:
    """Counts as the batch goes (for the progress display and the final summary)."""

    total: int
    plan: Plan | None = None
    done: int = 0
    unreadable: int = 0
    aborted: int = 0
    findings: dict[str, int] = field(default_factory=lambda: {"error": 0, "warning": 0, "note": 0})
    by_rule: dict[str, int] = field(default_factory=dict)
    stopped: bool = False

    def add(self, outcome: worker.Outcome) -> None:
        self.done += 1
        if outcome.aborted:
            self.aborted += 1
        elif any(r.error is not None for r in outcome.results):
            self.unreadable += 1
        for result in outcome.results:
            for finding in result.findings:
                self.findings[finding.severity.label] += 1
                self.by_rule[finding.rule_id] = self.by_rule.get(finding.rule_id, 0) + 1
            if result.error is not None:
                rule = result.error.rule_id
                self.by_rule[rule] = self.by_rule.get(rule, 0) + 1


class Stop:
    """A stop request, as Ctrl-C gives it: the first hands out no more packages and leaves running ones
    ``grace`` seconds to finish; the second (or the end of the grace) stops them at once."""

    def __init__(self, grace: float = 5.0) -> None:
        self.grace = grace
        self.requested = threading.Event()
        self.now = threading.Event()
        self._timer: threading.Timer | None = None

    def request(self) -> None:
        if self.requested.is_set():
            self.now.set()
            return
        self.requested.set()
        self._timer = threading.Timer(self.grace, self.now.set)
        self._timer.daemon = True
        self._timer.start()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def config_hash(options: Options) -> str:
    """The identity of what a worker is told (the scan options: the policy is judged in the batch's own
    process): the same packages under other options are scanned again."""
    return hashlib.sha256(repr((options, WORKER_POLICY)).encode("utf-8")).hexdigest()[:16]


WORKER_POLICY = Policy()
"""Workers judge under the default policy; the user's is applied by scanner.batch.judge."""


def limits_key(limits: worker.WorkerLimits) -> str:
    return f"timeout={limits.timeout};max_memory={limits.max_memory}"


def _hashes(store: Store, found: discover.Found) -> tuple[list[tuple[str, int, int, str]], list[tuple[str, str, int]]]:
    """(rows for the store's file table, (path, sha256, size) of every package found)."""
    rows: list[tuple[str, int, int, str]] = []
    packages: list[tuple[str, str, int]] = []
    for path in found.packages:
        try:
            size, mtime = discover.stat_key(path)
            sha = store.cached_hash(path, size, mtime) or discover.content_hash(path)
            rows.append((path, size, mtime, sha))
        except OSError:  # a listed path that does not exist: scanned, so that it is a PKG001 result
            size, sha = 0, "missing:" + hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()
            rows.append((path, 0, 0, sha))
        packages.append((path, sha, size))
    return rows, packages


def plan(store: Store, found: discover.Found, request: Request, run_id: int) -> Plan:
    """The jobs of a batch: one per distinct content not yet scanned with this version and config (or
    stopped before under other limits); the files found are recorded as the folders' present state."""
    started = time.monotonic()
    rows, packages = _hashes(store, found)
    gone = store.observe(run_id, request.roots, request.listed, rows)
    previous = store.previous(__version__, config_hash(request.options))
    limits, judging = limits_key(request.limits), _judging(request).key()
    seen: dict[str, worker.Job] = {}
    duplicates = retried = 0
    rejudged: list[str] = []
    for path, sha, size in packages:
        if sha in seen:
            duplicates += 1
            continue
        seen[sha] = worker.Job(path, sha, size)
    todo = []
    for job in seen.values():
        before = previous.get(job.sha256)
        if before is None:
            todo.append(job)
        elif before.aborted and (request.retry_aborted or before.limits != limits):
            todo.append(job)
            retried += 1
        elif not before.aborted and before.judge_hash != judging:
            rejudged.append(job.sha256)
    todo.sort(key=lambda j: (-j.size, j.path))
    return Plan(tuple(todo), len(seen) - len(todo), duplicates, found.skipped, len(found.packages),
                time.monotonic() - started, retried, tuple(rejudged), gone, found.special)


def execute(jobs: tuple[worker.Job, ...], request: Request, stop: Stop | None = None,
            cluster: Any = None) -> Iterator[worker.Outcome]:  # noqa: ANN401 (a distributed.Client)
    """Outcomes as packages finish: local worker processes (``parallel`` at a time), or a Dask cluster
    (``cluster``: a connected client; else one is connected to ``request.dask_address``)."""
    if not jobs:
        return
    stop = stop or Stop()
    if request.dask_address:
        client = cluster or connect(request.dask_address)
        try:
            yield from _on_dask(jobs, request, stop, client)
        finally:
            if cluster is None:
                client.close()
        return
    # Each thread only waits on its package's worker process, which does the work (one process per
    # package: androguard's memory is returned when it exits). Jobs are handed out as threads free up,
    # so that a stop request leaves the rest unstarted.
    queue = iter(jobs)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, request.parallel)) as pool:
        pending: set[concurrent.futures.Future[worker.Outcome]] = set()

        def fill() -> None:
            while len(pending) < max(1, request.parallel) and not stop.requested.is_set():
                job = next(queue, None)
                if job is None:
                    return
                pending.add(pool.submit(worker.run, job, request.options, WORKER_POLICY, request.limits,
                                        stop.now))

        try:
            fill()
            while pending:
                finished, _ = concurrent.futures.wait(pending, timeout=worker.POLL,
                                                      return_when=concurrent.futures.FIRST_COMPLETED)
                for future in finished:
                    pending.discard(future)
                    yield future.result()
                fill()
        except BaseException:  # KeyboardInterrupt, or the caller closed the generator: stop the workers now
            stop.now.set()
            raise


CHUNK_BYTES = 8 << 20
CHUNK_JOBS = 16
"""Small packages travel to a Dask worker several to a task (up to CHUNK_JOBS, CHUNK_BYTES together): a
task's round trip through the scheduler costs about as much as scanning a small package."""


def chunks(jobs: tuple[worker.Job, ...]) -> list[tuple[worker.Job, ...]]:
    """The jobs in order, a large package alone, small ones together."""
    out: list[list[worker.Job]] = []
    size = 0
    for job in jobs:
        if not out or len(out[-1]) >= CHUNK_JOBS or size + job.size > CHUNK_BYTES:
            out.append([])
            size = 0
        out[-1].append(job)
        size += job.size
    return [tuple(chunk) for chunk in out]


def _on_dask(jobs: tuple[worker.Job, ...], request: Request, stop: Stop,
             client: Any) -> Iterator[worker.Outcome]:  # noqa: ANN401 (a distributed.Client)
    """The same per-package work on a Dask cluster; results stream back with ``as_completed``. A stop
    request cancels the tasks not finished (a task already running on a worker is not interrupted)."""
    from distributed import as_completed

    try:
        yield from _dask_outcomes(jobs, request, stop, client, as_completed)
    except (OSError, TimeoutError) as exc:  # the scheduler went away: what finished is committed already
        raise DaskError(msg("lost the Dask scheduler ({error}: {exc}); rerun to scan the rest",
                            error=type(exc).__name__, exc=exc)) from None


def _dask_outcomes(jobs: tuple[worker.Job, ...], request: Request, stop: Stop, client: Any,  # noqa: ANN401
                   as_completed: Any) -> Iterator[worker.Outcome]:  # noqa: ANN401 (distributed's)
    shared = client.scatter([request.options, WORKER_POLICY, request.limits], broadcast=True)
    futures = {client.submit(worker.run_all, chunk, *shared, key=f"beian-scan-{chunk[0].sha256}", pure=False): chunk
               for chunk in chunks(jobs)}
    for future in as_completed(futures):
        if stop.requested.is_set():
            client.cancel([f for f in futures if not f.done()])
        if stop.now.is_set():
            break
        if future.cancelled():
            continue
        try:
            outcomes = future.result()
        except Exception as exc:  # a lost worker: each package is a result, never a lost row
            reason = msg("the Dask task failed ({error}: {exc})", error=type(exc).__name__, exc=exc)
            outcomes = tuple(worker.Outcome(job, (worker.aborted_result(job.path, reason),), 0.0, None, reason)
                             for job in futures[future])
        yield from outcomes


class DaskError(RuntimeError):
    """The Dask scheduler cannot be used: one line, exit 2."""


def connect(address: str) -> Any:  # noqa: ANN401 (distributed.Client)
    """A client of the Dask scheduler at ``address``, or DaskError with one line that says why."""
    try:
        from distributed import Client
    except ImportError:  # the optional extra
        raise DaskError(msg("--dask needs dask.distributed in this environment: pip install '.[dask]' in a clone of "
                            "beian-scan (README: Dask)")) from None

    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise DaskError(msg("cannot reach the Dask scheduler at {address} ({error}: {exc})",
                            address=address, error=type(exc).__name__, exc=exc)) from None
    except ValueError as exc:
        raise DaskError(msg("{address}: not a Dask scheduler address ({exc})", address=address, exc=exc)) from None


def _judging(request: Request) -> judge.Judging:
    return judge.Judging(request.registry, request.acceptance, request.policy)


def stream(store: Store, request: Request, on_plan: Callable[[Plan], None] | None = None,
           stop: Stop | None = None) -> Iterator[tuple[worker.Outcome, Tally]]:
    """Walk, plan, then scan: each package is committed to the store before it is yielded."""
    stop = stop or Stop()
    if not request.dask_address:
        worker.start()  # before anything is committed: a failure of the tool is never a row of a package
    found = discover.walk(request.roots, request.listed)
    config = config_hash(request.options)
    cluster = connect(request.dask_address) if request.dask_address else None  # before the store is written
    run_id = store.start_run(__version__, config, request.command, limits_key(request.limits),
                             (*request.roots, *request.listed))
    try:
        yield from _scan(store, request, found, run_id, on_plan, stop, cluster)
    except BaseException:
        with contextlib.suppress(Exception):
            store.end_run(run_id, "failed")
        raise
    finally:
        if cluster is not None:
            cluster.close()


def _scan(store: Store, request: Request, found: discover.Found, run_id: int,
          on_plan: Callable[[Plan], None] | None, stop: Stop,
          cluster: Any) -> Iterator[tuple[worker.Outcome, Tally]]:  # noqa: ANN401 (a distributed.Client)
    version, config = __version__, config_hash(request.options)
    judging = _judging(request)
    limits, key = limits_key(request.limits), judging.key()
    chosen = plan(store, found, request, run_id)
    store.note_skipped(run_id, found.skipped, found.special, found.skipped_examples)
    if on_plan is not None:
        on_plan(chosen)
    for sha in chosen.rejudged:  # the registry or the accepted findings changed: no package is read
        kept = [(from_result_dict(data), basis) for data, basis in store.result_set(sha, version, config)]
        if kept:
            again = [judge.judged_again(result, basis, judging) for result, basis in kept]
            store.add(run_id, sha, 0, again[0].path, version, config, again, 0.0, None, None, limits, key, kept)
    tally = Tally(len(chosen.jobs), plan=chosen)
    for finished in execute(chosen.jobs, request, stop, cluster):
        if finished.interrupted:
            continue
        outcome = replace(finished, results=tuple(judge.judged(r, judging) for r in finished.results))
        store.add(run_id, outcome.job.sha256, outcome.job.size, outcome.job.path, version, config,
                  outcome.results, outcome.seconds, outcome.peak_rss_kib, outcome.aborted, limits, key,
                  [(r, judge.basis(r)) for r in finished.results])
        tally.add(outcome)
        yield outcome, tally
    tally.stopped = stop.requested.is_set()
    store.end_run(run_id, "stopped" if tally.stopped else "complete")


def run(store: Store, request: Request, on_plan: Callable[[Plan], None] | None = None,
        on_outcome: Callable[[worker.Outcome, Tally], None] | None = None, stop: Stop | None = None
        ) -> tuple[Plan, Tally]:
    """Walk, plan, scan and commit; returns the plan and the tally of what was scanned."""
    chosen: list[Plan] = []

    def planned(value: Plan) -> None:
        chosen.append(value)
        if on_plan is not None:
            on_plan(value)

    stop = stop or Stop()
    tally = None
    for outcome, tally in stream(store, request, planned, stop):
        if on_outcome is not None:
            on_outcome(outcome, tally)
    if tally is None:
        tally = Tally(0, plan=chosen[0], stopped=stop.requested.is_set())
    return chosen[0], tally


def default_jobs() -> int:
    return max(1, (os.cpu_count() or 1))
