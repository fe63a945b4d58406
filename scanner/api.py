"""The Python API, for platforms that embed the scanner in their own upload pipeline.

    from scanner.api import scan, batch

    result = scan("upload/app.apk")                 # one package, in this process
    if result.error: ...                             # PKG001 / PKG002: result.error.rule_id, .message
    for finding in result.findings: ...              # rule_id, severity, message, location, evidence

    if __name__ == "__main__":                       # required: each worker process imports this script
        for item in batch(["incoming/"], db="audit.sqlite", jobs=8, timeout=120):
            item.path, item.results                  # JSON results, as ``scan --format json`` writes them

``scan`` never raises for a bad package (it is a result with ``error`` set); ``batch`` scans each
package in its own worker process under the limits, commits it to the store when ``db`` is given (so a
rerun skips it), and yields each package as it finishes. The command line's ``batch`` uses the same code.
Worker processes import the main script (Python's ``forkserver`` and ``spawn`` start methods): a batch
started at a script's top level, outside ``if __name__ == "__main__":``, raises
``scanner.batch.worker.WorkerStartError`` at once, before anything is committed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from scanner import engine
from scanner.batch import registry as records
from scanner.batch import runner, store, worker
from scanner.config import Policy
from scanner.engine import Acceptance
from scanner.formatters.json_report import result_dict
from scanner.model import Options, ScanResult

__all__ = ["BatchItem", "batch", "scan"]


def scan(path: str, options: Options | None = None, policy: Policy | None = None) -> ScanResult:
    """The result of one package (the first, for a folder that holds several mini-programs: use
    ``scanner.engine.scan_target`` for all of them)."""
    return engine.scan_target(path, options or Options(), policy or Policy())[0]


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One package of a batch as it finished."""

    path: str
    sha256: str
    results: tuple[dict[str, Any], ...]
    seconds: float
    aborted: str | None = None
    """Why the scan was stopped (time or memory limit, dead worker): the result is then PKG006."""


def batch(paths: Iterable[str], *, db: str | None = None, jobs: int = 1, timeout: float | None = 120.0,
          max_memory: int | None = None, registry: str | None = None, dask: str | None = None,
          options: Options | None = None, policy: Policy | None = None, acceptance: Acceptance | None = None,
          retry_aborted: bool = False) -> Iterator[BatchItem]:
    """Scan the packages under ``paths`` (folders are walked), yielding each as it finishes; with
    ``db`` the results are committed there and packages it already holds are skipped. Raises
    WorkerStartError (before anything is committed) when worker processes cannot start."""
    if not dask:  # at the call, not at the first item: a script's mistake shows where it is made
        worker.start()
    request = runner.Request(tuple(paths), (), options or Options(), policy or Policy(),
                             acceptance or Acceptance(), records.index(registry) if registry else records.Index(),
                             worker.WorkerLimits(timeout, max_memory), jobs, dask, retry_aborted, "api")
    return _batch(request, db)


def _batch(request: runner.Request, db: str | None) -> Iterator[BatchItem]:
    with tempfile.TemporaryDirectory() as scratch:
        database = store.Store(db or f"{scratch}/batch.sqlite")
        try:
            for outcome, _tally in runner.stream(database, request):
                yield BatchItem(outcome.job.path, outcome.job.sha256,
                                tuple(result_dict(r, accepted=True) for r in outcome.results), outcome.seconds,
                                outcome.aborted)
        finally:
            database.close()
