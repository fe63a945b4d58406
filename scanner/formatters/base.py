"""What formatters share: their options (one class per kind of output) and the summary counts.

Formatters are pure functions from the Report to text: they see only the model and their options.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from scanner.model import Report, Severity


@dataclass(frozen=True, slots=True)
class FormatOptions:
    """Choices every format takes."""

    show_suppressed: bool = False
    base_dir: str = "."
    """Paths are made relative to this folder (the working directory of the run)."""


@dataclass(frozen=True, slots=True)
class TextOptions(FormatOptions):
    """The human report: colour and width are its own."""

    color: bool = False
    width: int = 80


@dataclass(frozen=True, slots=True)
class LocatedOptions(FormatOptions):
    """Outputs that point into files (SARIF, GitLab Code Quality, GitHub annotations)."""

    source_root: str | None = None
    """The app's source folder (e.g. app/src/main): findings point at the file a user edits."""
    source_lines: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    """Finding fingerprint -> (source file, line) found under ``source_root`` (scanner.sources)."""


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
