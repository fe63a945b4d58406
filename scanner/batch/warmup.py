"""Warm the batch's forkserver: ``warm`` (called there by scanner.batch.server) scans one small APK that
ships with the package, so that every worker forked from the server inherits what a process's first
scan fills: the catalogs read from JSON, the compiled number, link and context
patterns, the anchor needles and their automata, the JSON formatter's modules. A process's first scan
costs several times its next, so a worker scanning a small package would pay mostly for warming up
(bench/batch.py measures a batch of small packages).

``warm.apk`` is ``fixtures/apk/compliant.apk`` (fixtures/build.py copies it; a test holds them equal):
its manifest, resource table, layout, DEX and asset take the common paths of a scan.
"""

from __future__ import annotations

import gc
from importlib import resources

from scanner.batch.worker import scan_here
from scanner.config import Policy
from scanner.model import Options


def warm() -> None:
    """Scan the bundled APK once and freeze what it left, so forked workers share it unwritten."""
    # As a worker scans, to its JSON results: the formatter's modules are imported here too.
    with resources.as_file(resources.files("scanner.batch") / "warm.apk") as path:
        scan_here(str(path), Options(), Policy())
    # The objects the imports and the scan left live as long as the server: frozen, a worker's
    # collections never walk (and so never copy) their pages.
    gc.freeze()

