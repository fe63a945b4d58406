#!/usr/bin/env python3
"""The long fuzz run: N mutated fixtures (default 20,000) in a child process, with the figures the
closing note needs: inputs tried, scanned, refused (PKG errors), crashes, hangs, slowest input, peak RSS.

Usage: python3 bench/fuzz.py [--count 20000] [--seed 1] [--time-limit 10]
Writes bench/results/fuzz-<date>.json and prints a summary with the slowest input of each format against
the budget (2 s up to 1 MB, 10 s up to 16 MB, 300 MB: fixtures/hostile/mutate.py); exit 1 on any crash,
hang or input over its budget.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CHILD = """
import json, resource, sys, tempfile
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import mutate
extra = tuple(p for d in sys.argv[6:] for p in sorted(Path(d).iterdir()) if p.is_file())
outcome = mutate.run(int(sys.argv[2]), int(sys.argv[3]), Path(tempfile.mkdtemp()), float(sys.argv[4]),
                     tuple(s for s in sys.argv[5].split(",") if s), extra)
print(json.dumps({"tried": outcome.tried, "scanned": outcome.scanned, "refused": outcome.refused,
                  "crashes": outcome.crashes, "hangs": outcome.hangs, "slowest_s": outcome.slowest,
                  "over_budget": outcome.over_budget, "slowest_by_format": outcome.slowest_by_format,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--formats", default="", help="seed suffixes, comma-separated (.hap,.app): one format's run")
    parser.add_argument("--extra", action="append", default=[], metavar="DIR",
                        help="a folder of more seed files (real samples, e.g. ../shared/corpus/hbc); repeatable")
    args = parser.parse_args()
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(ROOT / "fixtures" / "hostile"), str(args.count),
                           str(args.seed), str(args.time_limit), args.formats, *args.extra], capture_output=True,
                          text=True,
                          cwd=ROOT, check=False)
    if proc.returncode != 0:
        print(proc.stderr)
        return 1
    result = json.loads(proc.stdout)
    result.update(seed=args.seed, wall_s=round(time.monotonic() - start, 1), date=datetime.date.today().isoformat(),
                  formats=args.formats or "all")
    tag = args.formats.replace(".", "").replace(",", "-") or "all"
    out = HERE / "results" / f"fuzz-{result['date']}-seed{args.seed}-{tag}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"fuzz: {result['tried']} inputs (seed {args.seed}): {result['scanned']} scanned, {result['refused']} "
          f"refused as PKG errors, {len(result['crashes'])} crashes, {len(result['hangs'])} hangs; slowest "
          f"{result['slowest_s']:.3f} s, peak RSS {result['peak_rss_mib']:.0f} MiB, {result['wall_s']} s in all")
    for suffix, (seconds, size, label) in sorted(result["slowest_by_format"].items()):
        print(f"   slowest {suffix or '(none)'}: {seconds:.3f} s for {size:,} bytes ({label}); budget "
              f"{2.0 if size <= 1 << 20 else 10.0:g} s")
    print(f"   over budget: {len(result['over_budget'])}")
    for line in result["crashes"][:20] + result["hangs"][:20] + result["over_budget"][:20]:
        print("  ", line)
    return 1 if result["crashes"] or result["hangs"] or result["over_budget"] else 0


if __name__ == "__main__":
    sys.exit(main())
