#!/usr/bin/env python3
"""The batch benchmark, in one run on this machine:

- throughput: packages per minute of ``beian-scan batch`` at 1 and at 2 jobs over the same set (the
  fixture APKs, App Bundles, HAP and IPA files, and the shared corpus packages when present, each copy
  made distinct), and the speed-up;
- per-package overhead of a worker process against scanning the same package in this process
  (median of the differences);
- peak RSS per worker (the largest a worker reported);
- the time to resume a finished 10,000-package run (walk, stat, hash cache, store lookups: nothing scanned);
- the store's size per 1,000 packages;
- local against Dask: the same set through a Dask LocalCluster with as many single-threaded worker
  processes as cores (started before the clock, as a store's cluster is; workers non-daemonic, as the
  README's recipe starts them), the first run and a warm second run, against the local pool at as many
  jobs; and a registry of 1,000,000 records: its first load and its load with the checks kept.

Usage: python3 bench/batch.py [--resume-packages 10000]
Writes bench/results/batch-<date>.json and prints the figures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from scanner import __version__, engine  # noqa: E402
from scanner.batch import runner, store, worker  # noqa: E402
from scanner.config import Policy  # noqa: E402
from scanner.model import Options  # noqa: E402

ENTRY = Path(sysconfig.get_path("scripts")) / "beian-scan"


def packages() -> list[Path]:
    fixtures = ROOT / "fixtures"
    found = [*sorted((fixtures / "apk").glob("*.apk")), *sorted((fixtures / "aab" / "out").glob("*.aab")),
             *sorted((fixtures / "harmony" / "out").glob("*.hap")), *sorted((fixtures / "ios" / "out").glob("*.ipa"))]
    corpus = ROOT.parent / "shared" / "corpus"
    for folder in ("apk", "aab", "hap", "ipa", "rpk"):
        found += sorted(p for p in (corpus / folder).glob("*") if p.is_file()) if corpus.is_dir() else []
    return found


def incoming(folder: Path, sources: list[Path], copies: int) -> None:
    folder.mkdir(parents=True)
    for n in range(copies):
        for k, source in enumerate(sources):
            (folder / f"{n:02d}-{k:03d}{source.suffix}").write_bytes(source.read_bytes() + b"\0" * (n + 1))


def timed_batch(folder: Path, db: Path, jobs: int) -> float:
    start = time.monotonic()
    subprocess.run([str(ENTRY), "batch", str(folder), "--db", str(db), "--jobs", str(jobs)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start


def overhead(sources: list[Path]) -> tuple[float, int]:
    differences, peak = [], 0
    limits = worker.WorkerLimits(timeout=300)
    for source in sources:
        start = time.monotonic()
        engine.scan_target(str(source), Options(), Policy())
        here = time.monotonic() - start
        outcome = worker.run(worker.Job(str(source), "x", 0), Options(), Policy(), limits)
        differences.append(outcome.seconds - here)
        peak = max(peak, outcome.peak_rss_kib or 0)
    return statistics.median(differences), peak


def resume(count: int, tmp: Path) -> dict[str, float]:
    """A store holding ``count`` finished packages (results recorded without scanning), then a rerun."""
    folder = tmp / "resume"
    folder.mkdir()
    data = (ROOT / "fixtures" / "apk" / "compliant.apk").read_bytes()
    for n in range(count):
        (folder / f"app{n:05d}.apk").write_bytes(data + n.to_bytes(4, "little"))
    db = store.Store(str(tmp / "resume.sqlite"))
    found = runner.discover.walk((str(folder),))
    run_id = db.start_run(__version__, runner.config_hash(Options()), "bench")
    chosen = runner.plan(db, found, runner.Request((str(folder),)), run_id)
    canned = engine.scan_target(str(folder / "app00000.apk"), Options(), Policy())[0]
    for job in chosen.jobs:
        db.add(run_id, job.sha256, job.size, job.path, __version__, runner.config_hash(Options()),
               [canned], 0.1, None, None, runner.limits_key(worker.WorkerLimits()))
    db.close()
    size = os.path.getsize(tmp / "resume.sqlite")
    start = time.monotonic()
    db = store.Store(str(tmp / "resume.sqlite"))
    again, _tally = runner.run(db, runner.Request((str(folder),)))
    seconds = time.monotonic() - start
    db.close()
    assert not again.jobs and again.already_done == count, (len(again.jobs), again.already_done)
    return {"resume_packages": count, "resume_s": seconds, "db_bytes": size,
            "db_mib_per_1000": size / count * 1000 / 2**20}


def dask_batches(folder: Path, tmp: Path, jobs: int) -> dict[str, float]:
    """Wall seconds of the same batch on a Dask LocalCluster (cold, then warm) with ``jobs`` workers."""
    import dask
    from distributed import LocalCluster

    out: dict[str, float] = {}
    with dask.config.set({"distributed.worker.daemon": False}), \
            LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        for name in ("dask_cold_s", "dask_warm_s"):
            start = time.monotonic()
            command = [str(ENTRY), "batch", str(folder), "--db", str(tmp / f"{name}.sqlite"), "--dask",
                       cluster.scheduler_address]
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            out[name] = time.monotonic() - start
    return out


def registry_load(tmp: Path, rows: int = 1_000_000) -> dict[str, float]:
    """Seconds to load a registry of ``rows`` records: the first time, and with its checks in the store."""
    from scanner.batch import registry

    path = tmp / "filings.csv"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("app_id,filing_number,app_name\n")
        handle.writelines(f"com.example.app{i},粤ICP备{2023000000 + i}号-{1 + i % 9}A,应用{i}\n"
                          for i in range(rows))
    db = store.Store(str(tmp / "registry.sqlite"))
    try:
        start = time.monotonic()
        registry.index(str(path), db.number_checks)
        first = time.monotonic() - start
        start = time.monotonic()
        index = registry.index(str(path), db.number_checks)
        kept = time.monotonic() - start
        start = time.monotonic()
        for i in range(0, rows, rows // 1000):
            index.relevant(f"com.example.app{i}", [f"粤ICP备{2023000000 + i}号-{1 + i % 9}A"])
        lookup_ms = (time.monotonic() - start) / 1000 * 1000
    finally:
        db.close()
    return {"registry_rows": rows, "registry_first_load_s": first, "registry_kept_load_s": kept,
            "registry_lookup_ms_per_package": lookup_ms}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resume-packages", type=int, default=10_000)
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--registry-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    sources = packages()
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        folder = tmp / "incoming"
        incoming(folder, sources, args.copies)
        total = len(sources) * args.copies
        one = timed_batch(folder, tmp / "one.sqlite", 1)
        two = timed_batch(folder, tmp / "two.sqlite", 2)
        jobs = os.cpu_count() or 1
        local = two if jobs == 2 else timed_batch(folder, tmp / "local.sqlite", jobs)
        remote = dask_batches(folder, tmp, jobs)
        records = registry_load(tmp, args.registry_rows)
        by_size = sorted(sources, key=lambda p: p.stat().st_size)
        extra, peak = overhead(by_size[:: max(1, len(by_size) // 12)] + by_size[-3:])  # a spread and the largest
        resumed = resume(args.resume_packages, tmp)
        shutil.rmtree(folder)
    result = {"date": datetime.date.today().isoformat(), "cpus": os.cpu_count(), "packages": total,
              "jobs1_s": one, "jobs2_s": two, "per_minute_jobs1": total / one * 60,
              "per_minute_jobs2": total / two * 60,
              "speedup": one / two, "worker_overhead_s": extra, "peak_worker_rss_mib": peak / 1024, **resumed,
              "local_jobs": jobs, "local_s": local, **remote, "dask_warm_ratio": remote["dask_warm_s"] / local,
              "dask_cold_ratio": remote["dask_cold_s"] / local, **records}
    out = HERE / "results" / f"batch-{result['date']}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"batch: {total} packages on {os.cpu_count()} CPUs: {result['per_minute_jobs1']:.0f}/min at 1 job, "
          f"{result['per_minute_jobs2']:.0f}/min at 2 jobs (speed-up {result['speedup']:.2f}x); worker overhead "
          f"{extra * 1000:.0f} ms per package; peak worker RSS {peak / 1024:.0f} MiB; resume of "
          f"{resumed['resume_packages']} finished packages {resumed['resume_s']:.1f} s; store "
          f"{resumed['db_mib_per_1000']:.1f} MiB per 1,000 packages")
    print(f"dask: {jobs} workers {remote['dask_cold_s']:.2f} s cold, {remote['dask_warm_s']:.2f} s warm against "
          f"{local:.2f} s local at {jobs} jobs ({result['dask_warm_ratio']:.2f}x warm, "
          f"{result['dask_cold_ratio']:.2f}x cold); registry of {records['registry_rows']:,} rows: "
          f"{records['registry_first_load_s']:.1f} s first, "
          f"{records['registry_kept_load_s']:.1f} s with its checks kept, "
          f"{records['registry_lookup_ms_per_package']:.3f} ms per package")
    return 0


if __name__ == "__main__":
    sys.exit(main())
