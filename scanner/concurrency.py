"""Where concurrency lives: one decision, above the parsers, by the kind of run.

- A single scan (``beian-scan scan``): the process has the machine to itself, so the APK parser may
  fork one helper for about half of a big package's members (scanning holds the GIL; a second process
  scans in parallel) and reads members ahead in a thread (inflation releases the GIL).
- A batch worker (``beian-scan batch``, one process per package, N at once): every core is busy with
  another package already, so a helper buys nothing and would double the processes; no forks inside a
  worker. The read-ahead thread stays: it overlaps I/O and inflation within the package.

The parsers only obey ``ParseOptions.offload``; whether it pays for a given package (a member of
several megabytes, no other thread alive) is still checked where the fork happens
(scanner.parsers.offload.worth_it).
"""

from __future__ import annotations

import enum
import os
from dataclasses import replace

from scanner.model import Options


class Mode(enum.Enum):
    """The kind of run."""

    SINGLE = "single"
    """One scan in this process (the command line's ``scan``; the library's ``engine.scan``)."""
    BATCH_WORKER = "batch-worker"
    """One package of many, in a worker process of a batch."""


def can_fork() -> bool:
    """A spare core and ``fork`` (POSIX): the only machines where a helper process can pay."""
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1


def options_for(mode: Mode, options: Options) -> Options:
    """The options with the concurrency the mode allows."""
    offload = mode is Mode.SINGLE and can_fork()
    return replace(options, parse=replace(options.parse, offload=offload))
