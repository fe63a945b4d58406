"""Whole files read bounded in size: the user's own (config, suppressions, baseline), and packages read
whole (wxapkg, TPKG) and the files of mini-program folders.

They are found automatically (a config in the working directory or a parent) or named on a command
line a CI job builds, so they are input like any other: a file past its cap is a one-line error (exit
2), never gigabytes of parsing (a 50 MB string in a config took 5 GB and a minute).
"""

from __future__ import annotations

import os
import stat

from scanner.i18n import msg

CONFIG_BYTES = 1 << 20
SUPPRESSIONS_BYTES = 16 << 20
BASELINE_BYTES = 256 << 20
"""A baseline holds one fingerprint per accepted finding: 256 MiB is millions of them."""


def special_kind(path: str) -> str:
    """"FIFO", "socket" or "device" for a special file (followed through symlinks), "" for anything else
    (a regular file, a folder, a path that does not exist): a special file is never a package, and
    reading one can wait for ever (a FIFO) or never end (/dev/zero)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return ""
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else ""


class TooLarge(ValueError):
    """A file over its cap."""


def read_bounded(path: str, limit: int, what: str) -> bytes:
    """The file's bytes; TooLarge (its message names the file and the cap) past ``limit``."""
    data = read_capped(path, limit)
    if data is None:
        raise TooLarge(msg("{path}: a {what} larger than {value} MiB is not read",
                           path=path, what=what, value=limit >> 20))
    return data


def read_capped(path: str, limit: int) -> bytes | None:
    """A regular file's bytes, or None when it holds more than ``limit``. What is asked of the file is
    what it holds, never the cap: a read of ``limit`` bytes allocates them first (2 GiB for a package
    cap, past any worker's memory limit). A file that grows while read is caught by the one byte more.
    OSError for what is not a regular file (a FIFO would wait for ever, /dev/zero never end)."""
    if not stat.S_ISREG(os.stat(path).st_mode):  # before opening: opening a FIFO waits for a writer
        raise OSError(f"{path}: not a regular file")
    with open(path, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{path}: not a regular file")
        if info.st_size > limit:
            return None
        data = handle.read(info.st_size + 1)
    return data if len(data) <= limit else None
