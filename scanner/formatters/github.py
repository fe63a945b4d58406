"""GitHub Actions workflow commands (``::error file=…,line=…,title=…::message``) for job logs and
pull-request annotations (ruff's and checkov's ``github`` formats)."""

from __future__ import annotations

from scanner.formatters import paths
from scanner.formatters.base import LocatedOptions, localized, visible_report
from scanner.model import Report, Severity

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def _data(text: str) -> str:
    """Escape a message (workflow-command data)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    """Escape a property value (also ``:`` and ``,``)."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report, options: LocatedOptions) -> str:
    """One workflow command per finding and per unreadable package (control characters escaped: a job
    log is a terminal too)."""
    report = visible_report(localized(report, options.lang))
    lines: list[str] = []
    for result in report.results:
        if result.error is not None:
            file = _property(paths.relative(result.path, options.base_dir))
            lines.append(f"::error file={file},title={result.error.rule_id}::{_data(result.error.message)}")
            continue
        for finding in result.findings:
            artifact, line = paths.place(result, finding, options)
            file = _property(artifact)
            title = _property(f"{finding.rule_id} {finding.name}")
            where = f" [{finding.location.describe()}]" if finding.location else ""
            lines.append(f"::{COMMAND[finding.severity]} file={file},line={line},"
                         f"title={title}::{_data(finding.message + where + ' Fix: ' + finding.fix)}")
    return "\n".join(lines) + ("\n" if lines else "")
