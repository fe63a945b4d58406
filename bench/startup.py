#!/usr/bin/env python3
"""Start-up against its budget: what a user waits for before any package is read, measured, not pinned.

Each figure is the median of N runs of a fresh process (the venv's own ``beian-scan`` beside this
Python): ``--version`` and ``--help``; a scan of the smallest fixture APK (``fixtures/apk/compliant.apk``,
JSON to /dev/null), where start-up is most of the cost; and, in one scan of that APK, which lazily
imported modules the scan loaded (the later format tables' parsers must not be: detection stops at the
APK's own row) and whether the facts and the formatter were imported after a helper would have forked
(a single scan on two or more cores). It writes bench/results/startup-<date>.json and exits 1 when a
budget is missed, so it can gate a release the way bench/run.py does.

Usage: python3 bench/startup.py [--runs 9]
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCRIPT = Path(sysconfig.get_path("scripts")) / "beian-scan"
APK = ROOT / "fixtures" / "apk" / "compliant.apk"
BUDGETS = {"--version": 0.10, "--help": 0.15, "scan compliant.apk": 0.40}
"""Seconds (medians). --version is the issue-24 figure; the scan budget is about twice today's."""
LATER = ("aab", "bundle", "hap", "ipa", "rpk", "hbc", "miniprogram_dir", "miniprogram_unpacked", "wxapkg_folder",
         "wxapkg", "tpkg")
"""The format modules an APK scan must not import (detection reaches the APK row first)."""

LOADED = f"""
import sys
from scanner.cli import main
sys.argv = ["beian-scan", "scan", {str(APK)!r}, "--format", "json", "-o", "/dev/null"]
try:
    main()
except SystemExit:
    pass
print(repr(sorted(m for m in sys.modules if m.rsplit(".", 1)[-1] in {LATER!r})))
"""


def _median(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs + 1):  # the first is a warm-up (page cache, bytecode caches)
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False, timeout=120)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    figures = {
        "--version": _median([str(SCRIPT), "--version"], args.runs),
        "--help": _median([str(SCRIPT), "--help"], args.runs),
        "scan compliant.apk": _median([str(SCRIPT), "scan", str(APK), "--format", "json", "-o", "/dev/null"],
                                      args.runs),
    }
    out = subprocess.run([sys.executable, "-c", LOADED], capture_output=True, text=True, check=True, timeout=120)
    later_loaded = ast.literal_eval(out.stdout.strip())
    missed = [f"{name} {figures[name]:.3f} s (budget {budget:.2f} s)" for name, budget in BUDGETS.items()
              if figures[name] > budget]
    if later_loaded:
        missed.append(f"an APK scan imported later formats' parsers: {later_loaded}")
    report = {"date": datetime.date.today().isoformat(), "runs": args.runs, "seconds": figures,
              "budgets": BUDGETS, "later_formats_imported": later_loaded, "missed": missed}
    path = HERE / "results" / f"startup-{report['date']}.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for name, value in figures.items():
        print(f"{name:<22} {value:.3f} s  (budget {BUDGETS[name]:.2f} s)")
    print("later formats imported by an APK scan:", later_loaded or "none")
    print("every budget holds" if not missed else "missed: " + "; ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
