"""Formatters: pure functions from the Report to text (habit 7). Registry of the built-in formats."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from scanner.model import Report, Severity


@dataclass(frozen=True, slots=True)
class FormatOptions:
    """Presentation choices that are not part of the model."""

    color: bool = False
    width: int = 80
    show_suppressed: bool = False
    base_dir: str = "."
    """Paths in SARIF / Code Quality / annotations are made relative to this folder."""
    source_root: str | None = None
    """The app's source folder (e.g. app/src/main): findings point at the file a user edits."""
    source_lines: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    """Finding fingerprint -> (source file, line) found under ``source_root`` (scanner.sources)."""


Formatter = Callable[[Report, FormatOptions], str]


@dataclass(frozen=True, slots=True)
class Summary:
    """The counts every report ends with."""

    packages: int
    unreadable: int
    findings: dict[Severity, int]
    suppressed: int


def summarize(report: Report) -> Summary:
    """Packages, unreadable packages, active findings per severity, accepted findings."""
    counts = dict.fromkeys(sorted(Severity, reverse=True), 0)
    for result in report.results:
        for finding in result.findings:
            counts[finding.severity] += 1
    return Summary(len(report.results), sum(1 for r in report.results if r.error is not None), counts,
                   sum(len(r.suppressed) for r in report.results))


FORMATS = {
    "text": "scanner.formatters.text",
    "json": "scanner.formatters.json_report",
    "sarif": "scanner.formatters.sarif",
    "junit": "scanner.formatters.junit",
    "codequality": "scanner.formatters.codequality",
    "github": "scanner.formatters.github",
}
"""Format name -> module with a ``render(report, options) -> str`` (imported on use: start-up stays light)."""


def get(name: str) -> Formatter:
    """The formatter for a format name."""
    import importlib

    renderer: Formatter = importlib.import_module(FORMATS[name]).render
    return renderer
