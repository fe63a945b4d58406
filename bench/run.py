#!/usr/bin/env python3
"""The benchmark: beian-scan against the floor and androguard, side by side, interleaved, in one run.

For each shape (default: today resources manydex assets frameworks footer, bench/make_apk.py with the real
Android tools;
hap ipa, bench/make_platform.py with the project's own writers: about 100 MB at scale 1) and each scale
(default 1 2 4) it builds the package once and then, after one warm-up round, runs each
contestant N times interleaved (round-robin):

  floor               a Python process that opens the zip and inflates every member once
  beian-scan          ``beian-scan scan big.apk --format json``, checked to find the number and the link
  androguard-full     ``AnalyzeAPK`` plus a search of its strings (what MobSF-style tools do)
  androguard-strings  ``APK`` + ``DEX(...).get_strings()`` + resources + assets (hand-written, same library)

It prints and writes (bench/results/<date>-<host>.json and .md) the median wall time and CPU time
(user + system of the child and of the children it waited for, wait4 rusage), each as a ratio to the
floor, the ratio to beian-scan and the peak RSS of each child, plus the machine it ran on,
``--version``/``--help`` start-up times and the 4 MB / 300-member wxapkg scan time, and checks the
targets: beian-scan within 3x the floor in wall and in CPU time, androguard's full analysis at least
30x beian-scan, beian-scan's peak RSS within 1.5 x the largest member + 150 MB.

Usage: python3 bench/run.py [--shapes today resources manydex assets frameworks hap ipa] [--scales 1 2 4] [--runs 5]
[--slow-runs N]
--slow-runs limits the androguard contestants, which take minutes per run at scale 4 (AnalyzeAPK of
16 DEX files); with fewer slow runs than --runs they also skip the warm-up. The default is the full
protocol (every contestant --runs times after a warm-up).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
RESULTS = HERE / "results"
NUMBER = "粤ICP备2023123456号-1A"
LINK = "https://beian.miit.gov.cn/"

FLOOR = """
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as archive:
    for info in archive.infolist():
        with archive.open(info) as member:
            while member.read(1 << 20):
                pass
"""

ANDROGUARD_FULL = """
import sys
from loguru import logger
logger.remove()
from androguard.misc import AnalyzeAPK
apk, dexes, analysis = AnalyzeAPK(sys.argv[1])
hits = [s.get_value() for s in analysis.get_strings() if "ICP" in s.get_value() or "beian" in s.get_value()]
for name in apk.get_files():
    if name.startswith("assets/"):
        hits += [name] if b"beian" in apk.get_file(name) else []
print(len(hits))
"""

ANDROGUARD_STRINGS = """
import sys
from loguru import logger
logger.remove()
from androguard.core.apk import APK
from androguard.core.dex import DEX
apk = APK(sys.argv[1])
hits = 0
for raw in apk.get_all_dex():
    hits += sum(1 for s in DEX(raw).get_strings() if "ICP" in s or "beian" in s)
arsc = apk.get_android_resources()
hits += sum(1 for s in (arsc.get_resolved_strings() if arsc else []) if "ICP" in str(s))
for name in apk.get_files():
    if name.startswith("assets/"):
        hits += apk.get_file(name).count(b"beian")
print(hits)
"""


def child(cmd: list[str]) -> tuple[float, float, int, str]:
    """Run one child; wall seconds, CPU seconds (user + system, its waited-for children included),
    peak RSS in KiB (its own rusage), stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{cmd[:3]} failed with {status}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, out.decode("utf-8", "replace")


def contestants(apk: Path, android: bool = True) -> dict[str, list[str]]:
    # The entry point of the environment that runs the bench, never whatever PATH holds.
    scanner = str(Path(sysconfig.get_path("scripts")) / "beian-scan")
    if not Path(scanner).exists():
        sys.exit("beian-scan is not installed in this environment (pip install .)")
    py = sys.executable
    found = {
        "floor": [py, "-c", FLOOR, str(apk)],
        "beian-scan": [scanner, "scan", str(apk), "--format", "json"],
        "androguard-strings": [py, "-c", ANDROGUARD_STRINGS, str(apk)],
        "androguard-full": [py, "-c", ANDROGUARD_FULL, str(apk)],
    }
    return found if android else {k: v for k, v in found.items() if not k.startswith("androguard")}


def check_scan(output: str) -> None:
    result = json.loads(output)["results"][0]
    numbers = {n["value"] for n in result["facts"]["filing_numbers"]}
    links = {link["url"] for link in result["facts"]["filing_links"]}
    if NUMBER not in numbers or LINK not in links:
        raise SystemExit(f"beian-scan missed the number or the link: {numbers} {links}")


def largest_member(apk: Path) -> int:
    with zipfile.ZipFile(apk) as archive:
        return max(i.file_size for i in archive.infolist())


def measure(apk: Path, runs: int, slow_runs: int) -> dict[str, dict[str, float]]:
    cmds = contestants(apk, android=apk.suffix == ".apk")
    for name, cmd in cmds.items():  # warm-up: page cache, bytecode caches (the slow ones: with --slow-warmup)
        if slow_runs >= runs or not name.startswith("androguard"):
            child(cmd)
    times: dict[str, list[float]] = {name: [] for name in cmds}
    cpu: dict[str, list[float]] = {name: [] for name in cmds}
    rss: dict[str, int] = dict.fromkeys(cmds, 0)
    for round_ in range(runs):
        for name, cmd in cmds.items():
            if name.startswith("androguard") and round_ >= slow_runs:
                continue
            wall, seconds, peak, out = child(cmd)
            if name == "beian-scan":
                check_scan(out)
            times[name].append(wall)
            cpu[name].append(seconds)
            rss[name] = max(rss[name], peak)
    return {name: {"median_s": statistics.median(t), "median_cpu_s": statistics.median(cpu[name]), "runs": len(t),
                   "peak_rss_mib": rss[name] / 1024} for name, t in times.items()}


def startup() -> dict[str, float]:
    scanner = str(Path(sysconfig.get_path("scripts")) / "beian-scan")
    out = {}
    for flag in ("--version", "--help"):
        samples = [child([scanner, flag])[0] for _ in range(9)]
        out[flag] = statistics.median(samples)
    return out


def wxapkg_time() -> float:
    """In-process scan time of a 4 MB, 300-member wxapkg (median of 5)."""
    sys.path.insert(0, str(HERE))
    from make_wxapkg import build

    from scanner import engine
    from scanner.model import Options

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.wxapkg"
        path.write_bytes(build(300, 4.0))
        engine.scan_path(str(path), Options())
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            engine.scan_path(str(path), Options())
            samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"host": platform.node(), "cpu": cpu, "cores": str(os.cpu_count()), "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}"}


def table(rows: list[dict]) -> str:
    lines = ["| shape | scale | APK MB | largest member MB | contestant | wall s | × floor | CPU s | CPU × floor "
             "| × beian-scan | peak RSS MiB |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        scan = row["results"]["beian-scan"]["median_s"]
        floor = row["results"]["floor"]
        for name, res in row["results"].items():
            lines.append(f"| {row['shape']} | {row['scale']} | {row['apk_mb']:.1f} | {row['largest_member_mb']:.1f} | "
                         f"{name} | {res['median_s']:.2f} | {res['median_s'] / floor['median_s']:.1f} | "
                         f"{res['median_cpu_s']:.2f} | {res['median_cpu_s'] / floor['median_cpu_s']:.1f} | "
                         f"{res['median_s'] / scan:.1f} | {res['peak_rss_mib']:.0f} |")
    return "\n".join(lines)


def targets(row: dict) -> list[str]:
    """The targets this row misses (empty: every target holds)."""
    res = row["results"]
    scan, floor = res["beian-scan"], res["floor"]
    missed = []
    if scan["median_s"] > 3 * floor["median_s"]:
        missed.append(f"wall {scan['median_s'] / floor['median_s']:.2f}x the floor (target 3x)")
    if scan["median_cpu_s"] > 3 * floor["median_cpu_s"]:
        missed.append(f"CPU {scan['median_cpu_s'] / floor['median_cpu_s']:.2f}x the floor (target 3x)")
    if "androguard-full" in res and res["androguard-full"]["median_s"] < 30 * scan["median_s"]:
        missed.append(f"androguard-full only {res['androguard-full']['median_s'] / scan['median_s']:.1f}x (target 30x)")
    if scan["peak_rss_mib"] > 1.5 * row["largest_member_mb"] + 150:
        missed.append(f"peak RSS {scan['peak_rss_mib']:.0f} MiB (target {1.5 * row['largest_member_mb'] + 150:.0f})")
    return missed


SCALE_CAP = {"assets": 3, "footer": 2}
"""An APK is a zip without zip64 (aapt writes none, Android reads none): at most 65,535 entries, so the
20,000 × S members of ``assets`` stop at scale 3, which stands in for 4, and the footer pages at scale 2
(64,000 pages)."""


def _scales(shape: str, scales: list[int]) -> list[int]:
    cap = SCALE_CAP.get(shape)
    return scales if cap is None else sorted({min(s, cap) for s in scales})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", default=["today", "resources", "manydex", "assets", "frameworks",
                                                        "footer", "hap", "ipa"])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--slow-runs", type=int, default=None)
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    rows = []
    for shape in args.shapes:
        for scale in _scales(shape, args.scales):
            other = shape in ("hap", "ipa")  # (not "platform": that is the module the report needs)
            apk = WORK / (f"big{scale}.apk" if shape == "today" else f"{shape}-{scale}.{shape if other else 'apk'}")
            if not apk.exists():
                maker = "make_platform.py" if other else "make_apk.py"
                subprocess.run([sys.executable, str(HERE / maker), shape, str(scale), str(apk)], check=True)
            results = measure(apk, args.runs, args.slow_runs or args.runs)
            row = {"shape": shape, "scale": scale, "apk_mb": apk.stat().st_size / 2**20,
                   "largest_member_mb": largest_member(apk) / 2**20, "results": results}
            row["missed"] = targets(row)
            rows.append(row)
            print(table(rows[-1:]), row["missed"] or "every target holds", flush=True)
    report = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "machine": machine(), "rows": rows,
              "startup_s": startup(), "wxapkg_4mb_300_members_scan_s": wxapkg_time()}
    missed = [f"{r['shape']} x{r['scale']}: {m}" for r in rows for m in r["missed"]]
    text = (f"Machine: {report['machine']}\n\n{table(rows)}\n\n"
            f"Targets: {'; '.join(missed) if missed else 'every target holds at every shape and scale'}\n\n"
            f"Start-up: --version {report['startup_s']['--version']:.3f} s, "
            f"--help {report['startup_s']['--help']:.3f} s; "
            f"4 MB / 300-member wxapkg scan {report['wxapkg_4mb_300_members_scan_s']:.3f} s\n")
    print(text)
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"{datetime.date.today().isoformat()}-{platform.node() or 'host'}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    stem.with_suffix(".md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
