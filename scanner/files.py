"""The user's own files (config, suppressions, baseline): read whole, but bounded in size.

They are found automatically (a config in the working directory or a parent) or named on a command
line a CI job builds, so they are input like any other: a file past its cap is a one-line error (exit
2), never gigabytes of parsing (a 50 MB string in a config took 5 GB and a minute).
"""

from __future__ import annotations

CONFIG_BYTES = 1 << 20
SUPPRESSIONS_BYTES = 16 << 20
BASELINE_BYTES = 256 << 20
"""A baseline holds one fingerprint per accepted finding: 256 MiB is millions of them."""


class TooLarge(ValueError):
    """A file over its cap."""


def read_bounded(path: str, limit: int, what: str) -> bytes:
    """The file's bytes; TooLarge (its message names the file and the cap) past ``limit``."""
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"{path}: a {what} larger than {limit >> 20} MiB is not read")
    return data
