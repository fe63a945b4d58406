#!/usr/bin/env python3
"""Coverage-guided fuzzing of the readers with the budget as the failure condition (issue 23).

Each target is one reader fed raw bytes by atheris (libFuzzer for Python, ``pip install atheris``): the
text decoders (HTML, JS, JSON files; tag stripping), the wxapkg index with its caps, property lists and
their flattening, Mach-O slices and HarmonyOS resources.index. What a reader may raise on bad input
(its own ``…Unreadable`` errors, ValueError of a format) is the expected refusal; anything else is a
crash, and so is an input that takes longer than its budget (2 s up to 1 MB: fixtures/hostile/mutate.py);
``-rss_limit_mb=300`` makes memory the other half of the budget.

Usage: python3 bench/atheris_readers.py TARGET [--runs 20000] [--seconds 120]
       python3 bench/atheris_readers.py all  (each target in its own process, a summary line each)
Writes bench/results/atheris-<date>.json with the runs, crashes and slowest input of each target.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "fixtures" / "hostile"))

TARGETS = ("text", "wxapkg", "plist", "macho", "resindex")


def _text(data: bytes) -> None:
    from scanner.extract import textdecode

    for name in ("index.html", "app.js", "app.json"):
        textdecode.file_text(name, data)
    textdecode.joined_runs(data)


def _wxapkg(data: bytes) -> None:
    from scanner.model import Limits
    from scanner.parsers import PackageUnreadable, wxapkg

    try:
        entries, _anomalies = wxapkg.readable(wxapkg.read_index(data), len(data), Limits())
    except PackageUnreadable:
        return
    list(wxapkg.member_texts(data, entries))
    wxapkg.privacy_config(data, entries)


def _plist(data: bytes) -> None:
    from scanner.parsers import ipa

    ipa._flatten(ipa.load_plist(data))
    ipa.strings_file(data)


def _macho(data: bytes) -> None:
    from scanner.extract import macho

    for part in macho.slices(data):
        part.place(part.offset)


def _resindex(data: bytes) -> None:
    from scanner.extract import resindex

    try:
        resindex.read_index(data)
    except ValueError:
        return


FUNCTIONS: dict[str, Callable[[bytes], None]] = {"text": _text, "wxapkg": _wxapkg, "plist": _plist,
                                                  "macho": _macho, "resindex": _resindex}


class OverBudget(Exception):
    """An input took longer than its budget: a finding for the fuzzer like a crash."""


def _budgeted(function: Callable[[bytes], None]) -> Callable[[bytes], None]:
    from mutate import budget

    slowest = [0.0]

    def run(data: bytes) -> None:
        start = time.monotonic()
        function(data)
        took = time.monotonic() - start
        if took > slowest[0]:
            slowest[0] = took
            Path(f"/tmp/atheris-slowest-{function.__name__}").write_text(f"{took} {len(data)}")
        if took > budget(len(data)):
            raise OverBudget(f"{len(data)} bytes took {took:.2f} s")

    return run


def seeds(target: str, folder: Path) -> Path:
    """A corpus of real inputs for ``target`` from the fixtures (libFuzzer starts from them)."""
    import zipfile

    fixtures = ROOT / "fixtures"
    folder.mkdir(parents=True, exist_ok=True)
    found: list[bytes] = []
    if target == "wxapkg":
        found = [p.read_bytes() for p in (fixtures / "miniprogram" / "out").glob("*.wxapkg")]
    for archive in [*fixtures.glob("apk/*.apk"), *fixtures.glob("ios/out/*.ipa"), *fixtures.glob("harmony/out/*")]:
        try:
            with zipfile.ZipFile(archive) as opened:
                for info in opened.infolist():
                    name = info.filename
                    wanted = {"text": name.endswith((".html", ".js", ".json")),
                              "plist": name.endswith((".plist", ".strings", ".stringsdict")),
                              "macho": name.startswith("Payload/") and "." not in name.rsplit("/", 1)[-1],
                              "resindex": name.endswith("resources.index")}.get(target, False)
                    if wanted and info.file_size <= 1 << 20:
                        found.append(opened.read(info))
        except (zipfile.BadZipFile, OSError):
            continue
    for n, data in enumerate(found):
        (folder / f"seed{n:04d}").write_bytes(data)
    return folder


def fuzz(target: str, runs: int, seconds: int) -> None:
    import tempfile

    import atheris

    with atheris.instrument_imports():
        import scanner.extract.macho
        import scanner.extract.resindex
        import scanner.extract.textdecode
        import scanner.parsers.ipa
        import scanner.parsers.wxapkg  # noqa: F401 (instrumented for coverage)
    corpus = seeds(target, Path(tempfile.mkdtemp(prefix=f"atheris-{target}-")))
    atheris.Setup([sys.argv[0], f"-runs={runs}", f"-max_total_time={seconds}", "-rss_limit_mb=300",
                   "-max_len=1048576", "-timeout=20", str(corpus)], _budgeted(FUNCTIONS[target]))
    atheris.Fuzz()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=(*TARGETS, "all"))
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--seconds", type=int, default=120)
    args = parser.parse_args()
    if args.target != "all":
        fuzz(args.target, args.runs, args.seconds)
        return 0
    results = {}
    for target in TARGETS:
        start = time.monotonic()
        done = subprocess.run([sys.executable, __file__, target, "--runs", str(args.runs), "--seconds",
                               str(args.seconds)], capture_output=True, text=True, check=False)
        slowest_file = Path(f"/tmp/atheris-slowest-{FUNCTIONS[target].__name__}")
        slowest = slowest_file.read_text().split() if slowest_file.exists() else ["0", "0"]
        last = [line for line in done.stderr.splitlines() if line.startswith("#") or "Done" in line]
        results[target] = {"exit": done.returncode, "seconds": round(time.monotonic() - start, 1),
                           "slowest_s": float(slowest[0]), "slowest_bytes": int(slowest[1]),
                           "last_status": last[-1] if last else "",
                           "failure": "" if done.returncode == 0 else done.stderr.strip().splitlines()[-1][:300]}
        print(f"{target}: exit {done.returncode} in {results[target]['seconds']} s; slowest input "
              f"{float(slowest[0]):.3f} s for {int(slowest[1]):,} bytes; {results[target]['last_status']}")
    out = HERE / "results" / f"atheris-{datetime.date.today().isoformat()}.json"
    out.write_text(json.dumps({"runs": args.runs, "targets": results}, indent=2) + "\n")
    return 1 if any(r["exit"] for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
