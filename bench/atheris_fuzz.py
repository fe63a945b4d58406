#!/usr/bin/env python3
"""Coverage-guided fuzzing of the package readers with atheris (libFuzzer): the seeds are the
committed fixtures of one format, each input is parsed and evaluated the way the command line does,
and anything but PackageUnreadable / PackageEncrypted is a crash. atheris is not a dependency of the
project (pip install atheris to run this).

Usage: python3 bench/atheris_fuzz.py FORMAT [libFuzzer flags, e.g. -runs=20000 -max_len=65536]
FORMAT: hap (fixtures/harmony/out), ipa (fixtures/ios/out), apk (fixtures/apk), aab (fixtures/aab/out) or
hermes (fixtures/hermes/out)
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from scanner.engine import evaluate, parse_options
    from scanner.model import Options, ParseOptions
    from scanner.parsers import PackageUnreadable, parse

ROOT = Path(__file__).resolve().parent.parent
SEEDS = {"hap": ROOT / "fixtures" / "harmony" / "out", "ipa": ROOT / "fixtures" / "ios" / "out",
         "apk": ROOT / "fixtures" / "apk", "aab": ROOT / "fixtures" / "aab" / "out",
         "hermes": ROOT / "fixtures" / "hermes" / "out"}
WORK = Path(tempfile.mkdtemp(prefix="beian-atheris-"))
INPUT = WORK / "input.bin"


def one_input(data: bytes) -> None:
    INPUT.write_bytes(data)
    with contextlib.suppress(PackageUnreadable):  # PKG001 / PKG002: a clear refusal, not a crash
        evaluate(parse(str(INPUT), parse_options(ParseOptions())), Options())


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in SEEDS:
        sys.exit(__doc__)
    corpus = WORK / "corpus"
    corpus.mkdir()
    for seed in SEEDS[sys.argv[1]].iterdir():
        if seed.is_file():
            (corpus / seed.name).write_bytes(seed.read_bytes())
    atheris.Setup([sys.argv[0], *sys.argv[2:], str(corpus)], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
