"""The batch forkserver's set-up. multiprocessing's forkserver can only preload modules by name
(``set_forkserver_preload``), so its set-up is this one import, and nothing else in the scanner acts when
imported: the parent's main script first (scanner.batch.forkmain), then every module a scan may import
(scanner.batch.worker.preload), then one scan of the bundled APK (scanner.batch.warmup), so that every
worker forked from the server starts with what a process's first scan fills.
"""

from __future__ import annotations

import contextlib
import importlib

from scanner.batch import forkmain, warmup, worker


def set_up() -> None:
    """The server's start, in order (see the module docstring)."""
    forkmain.import_main()

    for name in worker.preload():
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    # Warming is an optimization: whatever stops it, a worker that starts cold still scans.
    with contextlib.suppress(Exception):
        warmup.warm()


set_up()
