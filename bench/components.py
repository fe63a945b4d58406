#!/usr/bin/env python3
"""What single readers cost, as ratios to inflating the same bytes (the floor), in one run:

- the code-context step on every DEX of a large APK: ``code.dex_texts`` (strings + the methods that load
  the anchored ones + assembly) against ``dex.dex_strings`` alone (the string table without context);
- the Hermes reader on real React Native bundles (``../shared/corpus/hbc`` when present, else the
  fixtures), the string table read and filtered as a scan does;
- the Flutter / native reader on a large Dart-snapshot-shaped library (20 MB of back-to-back one-byte
  and two-byte string records around one number, written as fixtures/build.py writes libapp.so).

Each figure is the median of --runs interleaved repetitions. Usage:
    python3 bench/components.py [--apk bench/work/big1.apk] [--runs 5]
Writes bench/results/components-<date>.json and prints a table.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import random
import statistics
import sys
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from scanner.extract import dex, hermes  # noqa: E402
from scanner.extract.prefilter import Prefilter  # noqa: E402
from scanner.facts.anchors import from_catalogs  # noqa: E402
from scanner.parsers import code, surfaces  # noqa: E402

PREFILTER = Prefilter.of(from_catalogs())
NUMBER = "粤ICP备2023123456号-1A"


def median(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def inflate_cost(data: bytes, runs: int) -> float:
    packed = zlib.compress(data, 6)
    return median(lambda: zlib.decompress(packed), runs)


def dex_rows(apk: Path, runs: int) -> list[dict[str, object]]:
    rows = []
    with zipfile.ZipFile(apk) as archive:
        names = sorted(n for n in archive.namelist() if n.startswith("classes") and n.endswith(".dex"))
        for name in names:
            data = archive.read(name)
            floor = inflate_cost(data, runs)
            plain = median(lambda d=data: list(dex.dex_strings(d, PREFILTER)), runs)
            full = median(lambda d=data, n=name: list(code.dex_texts(n, d, PREFILTER)), runs)
            rows.append({"member": name, "bytes": len(data), "floor_s": floor, "strings_s": plain,
                         "with_context_s": full, "context_cost_s": full - plain,
                         "context_cost_x_floor": (full - plain) / floor})
    return rows


def hermes_rows(runs: int) -> list[dict[str, object]]:
    corpus = ROOT.parent / "shared" / "corpus" / "hbc"
    paths = sorted(corpus.iterdir()) if corpus.is_dir() else sorted((ROOT / "fixtures" / "hermes" / "out").iterdir())
    rows = []
    for path in paths:
        data = path.read_bytes()
        floor = inflate_cost(data, runs)
        cost = median(lambda d=data: list(surfaces.hermes_texts("index.android.bundle", d, PREFILTER)), runs)
        rows.append({"member": path.name, "bytes": len(data), "strings": hermes.table(data).count, "floor_s": floor,
                     "read_s": cost, "x_floor": cost / floor})
    return rows


def flutter_blob(size: int) -> bytes:
    """Back-to-back Dart string records, the number among them (bench/make_apk.py writes them)."""
    spec = importlib.util.spec_from_file_location("make_apk", HERE / "make_apk.py")
    make_apk = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(make_apk)  # type: ignore[union-attr]
    return make_apk.dart_snapshot(size, random.Random(7), NUMBER)


def flutter_rows(runs: int) -> list[dict[str, object]]:
    data = flutter_blob(20 * 1024 * 1024)
    floor = inflate_cost(data, runs)
    found: list[str] = []
    cost = median(lambda: found.extend(t.value for t in surfaces.binary_texts("lib/arm64-v8a/libapp.so", data,
                                                                                "native", PREFILTER)), runs)
    assert any(NUMBER in v for v in found), "the number was not found"
    return [{"member": "libapp.so (synthetic, 20 MB)", "bytes": len(data), "floor_s": floor, "read_s": cost,
             "x_floor": cost / floor}]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apk", type=Path, default=HERE / "work" / "big1.apk")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    result = {"date": datetime.date.today().isoformat(), "runs": args.runs,
              "dex": dex_rows(args.apk, args.runs) if args.apk.exists() else [],
              "hermes": hermes_rows(args.runs), "flutter": flutter_rows(args.runs)}
    out = HERE / "results" / f"components-{result['date']}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    for row in result["dex"]:
        print(f"dex  {row['member']:<14} {row['bytes'] / 1e6:6.1f} MB  floor {row['floor_s'] * 1e3:7.1f} ms  strings "
              f"{row['strings_s'] * 1e3:7.1f} ms  +context {row['context_cost_s'] * 1e3:6.1f} ms "
              f"({row['context_cost_x_floor']:.2f}x floor)")
    for kind in ("hermes", "flutter"):
        for row in result[kind]:
            print(f"{kind:<7} {row['member'][:40]:<40} {row['bytes'] / 1e6:6.1f} MB  floor "
                  f"{row['floor_s'] * 1e3:7.1f} ms  read {row['read_s'] * 1e3:7.1f} ms ({row['x_floor']:.2f}x floor)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
