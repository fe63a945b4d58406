"""The main script of the process that started a batch's forkserver, imported once in the server
(scanner.batch.server calls ``import_main`` first), as Python's ``spawn`` would import it in every worker
otherwise.

A worker forked from the server is told the parent's main script and imports it before its target runs,
unless the server already holds it. The server's own preload of ``"__main__"`` was meant for that, but
CPython 3.11 looks it up under a key (``main_path``) that ``spawn.get_preparation_data`` no longer writes
(``init_main_from_path``), so every worker imported the script again: for ``beian-scan`` the console
script; in a Dask worker, the script that started its nanny, with dask and distributed behind it. The
path comes in the environment the server starts with (scanner.batch.worker), and leaves it here, so
that workers do not see it.
"""

from __future__ import annotations

import os
from multiprocessing import process, spawn

MAIN = "BEIAN_SCAN_FORKSERVER_MAIN"


def import_main() -> None:
    """Import the parent's main script, as the forkserver's workers would each import it otherwise."""
    path = os.environ.pop(MAIN, "")
    if not path:
        return
    # As the forkserver marks it: a script that starts processes at its top level is refused while it
    # is imported here (multiprocessing and scanner.batch.worker.start both check the mark).
    current = process.current_process()
    current._inheriting = True  # type: ignore[attr-defined]
    try:
        spawn.import_main_path(path)
    finally:
        del current._inheriting  # type: ignore[attr-defined]

