"""The progress bar of ``beian-scan scan`` on a terminal (tqdm): which package, how many bytes so
far and how fast. It appears only when a scan takes longer than ``delay`` seconds, so short scans
print nothing extra, and never when standard error is not a terminal (CI logs stay clean)."""

from __future__ import annotations

from typing import TextIO

from tqdm import tqdm

from scanner.formatters.base import visible

DELAY = 2.0
"""Seconds before the bar appears."""


class TerminalProgress:
    """engine.Progress on a terminal."""

    def __init__(self, total: int, stream: TextIO, delay: float = DELAY) -> None:
        self._total = total
        self._stream = stream
        self._delay = delay
        self._bar: tqdm[None] | None = None

    def package(self, index: int, path: str) -> None:
        """Start the line of the next package (the bar restarts its byte count)."""
        # No monitor thread: the scan forks a helper only while no other thread runs (parsers/offload).
        tqdm.monitor_interval = 0
        self.close()

        # A file name is the uploader's to choose: shown with its control characters escaped.
        label = f"[{index + 1}/{self._total}] {visible(path)}" if self._total > 1 else visible(path)
        self._bar = tqdm(desc=label, unit="B", unit_scale=True, unit_divisor=1024, delay=self._delay,
                         file=self._stream, leave=False, dynamic_ncols=True, mininterval=0.25)

    def advance(self, amount: int) -> None:
        """Count bytes read or inflated (called from reader threads too: tqdm's update is locked)."""
        if self._bar is not None:
            self._bar.update(amount)

    def close(self) -> None:
        """Remove the bar (the report follows on standard output)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
