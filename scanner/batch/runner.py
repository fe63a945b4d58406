"""A batch: find the packages, skip those already in the store, scan the rest in worker processes
(locally, or on a Dask cluster), and commit each package's results as it finishes.

Packages are scanned largest first, so that the long ones start early and the end of the run is not
one big package alone. The client alone writes the store (SQLite has one writer; a Dask worker only
returns results), so a local run and a cluster run leave the same rows and resume the same way.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from scanner import __version__
from scanner.batch import discover, worker
from scanner.batch.store import Store
from scanner.config import Policy
from scanner.model import Options


@dataclass(frozen=True, slots=True)
class Plan:
    """What a batch will do: the jobs to run and what it will not scan, with why."""

    jobs: tuple[worker.Job, ...]
    already_done: int
    duplicates: int
    not_packages: int
    total_packages: int
    hashing_seconds: float = 0.0


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

    def add(self, outcome: worker.Outcome) -> None:
        self.done += 1
        if outcome.aborted:
            self.aborted += 1
        elif any(r["error"] for r in outcome.results):
            self.unreadable += 1
        for result in outcome.results:
            for finding in result["findings"]:
                self.findings[finding["severity"]] += 1
                self.by_rule[finding["rule_id"]] = self.by_rule.get(finding["rule_id"], 0) + 1
            if result["error"]:
                rule = result["error"]["rule_id"]
                self.by_rule[rule] = self.by_rule.get(rule, 0) + 1


def config_hash(options: Options, policy: Policy) -> str:
    """The identity of what a scan is told: the same packages under another config are scanned again."""
    return hashlib.sha256(repr((options, policy)).encode("utf-8")).hexdigest()[:16]


def plan(store: Store, found: discover.Found, options: Options, policy: Policy) -> Plan:
    """The jobs of a batch: one per distinct content not yet scanned with this version and config."""
    started = time.monotonic()
    done = store.done(__version__, config_hash(options, policy))
    seen: dict[str, worker.Job] = {}
    rows: list[tuple[str, int, int, str]] = []
    duplicates = 0
    for path in found.packages:
        try:
            size, mtime = discover.stat_key(path)
            sha = store.cached_hash(path, size, mtime) or discover.content_hash(path)
            rows.append((path, size, mtime, sha))
        except OSError:  # a listed path that does not exist: scanned, so that it is a PKG001 result
            size, sha = 0, "missing:" + hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()
        if sha in seen:
            duplicates += 1
            continue
        seen[sha] = worker.Job(path, sha, size)
    store.remember_files(rows)
    todo = sorted((j for j in seen.values() if j.sha256 not in done), key=lambda j: (-j.size, j.path))
    return Plan(tuple(todo), len(seen) - len(todo), duplicates, found.skipped, len(found.packages),
                time.monotonic() - started)


def execute(jobs: tuple[worker.Job, ...], options: Options, policy: Policy, limits: worker.Limits,
            parallel: int = 1, dask_address: str | None = None) -> Iterator[worker.Outcome]:
    """Outcomes as packages finish: local worker processes (``parallel`` at a time), or a Dask cluster."""
    if not jobs:
        return
    if dask_address:
        yield from _on_dask(jobs, options, policy, limits, dask_address)
        return
    # Each thread only waits on its package's worker process, which does the work (one process per
    # package: androguard's memory is returned when it exits).
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        futures = [pool.submit(worker.run, job, options, policy, limits) for job in jobs]
        try:
            for future in concurrent.futures.as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def _on_dask(jobs: tuple[worker.Job, ...], options: Options, policy: Policy, limits: worker.Limits,
             address: str) -> Iterator[worker.Outcome]:
    """The same per-package work on a Dask cluster; results stream back with ``as_completed``."""
    try:
        from distributed import Client, as_completed
    except ImportError as exc:  # the optional extra
        raise RuntimeError("--dask needs the dask extra: pip install 'beian-scan[dask]'") from exc
    with Client(address) as client:
        shared = client.scatter([options, policy, limits], broadcast=True)
        futures = {client.submit(worker.run, job, *shared, key=f"beian-scan-{job.sha256}", pure=False): job
                   for job in jobs}
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except Exception as exc:  # a lost worker: the package is a result, never a lost row
                job = futures[future]
                reason = f"the Dask task failed ({type(exc).__name__}: {exc})"
                outcome = worker.Outcome(job, (worker.aborted_result(job.path, reason),), 0.0, None, reason)
            yield outcome


def stream(store: Store, roots: tuple[str, ...], listed: tuple[str, ...], options: Options, policy: Policy,
           limits: worker.Limits, parallel: int = 1, dask_address: str | None = None, command: str = "batch",
           on_plan: Callable[[Plan], None] | None = None) -> Iterator[tuple[worker.Outcome, Tally]]:
    """Walk, plan, then scan: each package is committed to the store before it is yielded."""
    found = discover.walk(roots, listed)
    chosen = plan(store, found, options, policy)
    if on_plan is not None:
        on_plan(chosen)
    version, config = __version__, config_hash(options, policy)
    run_id = store.start_run(version, config, command)
    tally = Tally(len(chosen.jobs), plan=chosen)
    for outcome in execute(chosen.jobs, options, policy, limits, parallel, dask_address):
        store.add(run_id, outcome.job.sha256, outcome.job.size, outcome.job.path, version, config,
                  list(outcome.results), outcome.seconds, outcome.peak_rss_kib)
        tally.add(outcome)
        yield outcome, tally
    store.end_run(run_id)


def run(store: Store, roots: tuple[str, ...], listed: tuple[str, ...], options: Options, policy: Policy,
        limits: worker.Limits, parallel: int = 1, dask_address: str | None = None, command: str = "batch",
        on_plan: Callable[[Plan], None] | None = None, on_outcome: Callable[[worker.Outcome, Tally], None] | None = None
        ) -> tuple[Plan, Tally]:
    """Walk, plan, scan and commit; returns the plan and the tally of what was scanned."""
    chosen: list[Plan] = []

    def planned(value: Plan) -> None:
        chosen.append(value)
        if on_plan is not None:
            on_plan(value)

    tally = None
    for outcome, tally in stream(store, roots, listed, options, policy, limits, parallel, dask_address, command,
                                 planned):
        if on_outcome is not None:
            on_outcome(outcome, tally)
    return chosen[0], tally or Tally(0, plan=chosen[0])


def default_jobs() -> int:
    return max(1, (os.cpu_count() or 1))
