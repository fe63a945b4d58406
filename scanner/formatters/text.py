"""The human report: grouped by package; per finding what, where, evidence and how to fix it."""

from __future__ import annotations

import unicodedata

from scanner.formatters import FormatOptions, summarize
from scanner.model import Facts, Report, ReportedFinding, ScanResult, Severity

_COLORS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.NOTE: "36"}
_INDENT = " " * 11


def render(report: Report, options: FormatOptions) -> str:
    """Every package, then one summary line."""
    blocks = [_package(result, options) for result in report.results]
    notices = [f"note: {n}" for n in report.notices]
    return "\n".join([*blocks, *notices, _summary(report)]) + "\n"


def _paint(text: str, code: str, options: FormatOptions) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if options.color else text


def display_width(text: str) -> int:
    """Terminal columns: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    """Wrap by terminal columns (textwrap counts characters, which overflows with Chinese text)."""
    lines: list[str] = []
    line, fresh = first, True
    for word in text.split(" "):
        joined = line + ("" if fresh else " ") + word
        if not fresh and display_width(joined) > width:
            lines.append(line)
            joined = rest + word
        line, fresh = joined, False
        while display_width(line) > width:  # longer than a line (a URL, a Chinese sentence): cut it
            head = _cut(line, width)
            lines.append(head)
            line = rest + line[len(head) :]
    lines.append(line)
    return lines


def _cut(line: str, width: int) -> str:
    used = 0
    for i, ch in enumerate(line):
        used += display_width(ch)
        if used > width:
            return line[:i]
    return line


def _wrap(label: str, text: str, width: int) -> list[str]:
    return wrap(text, width, _INDENT + label, _INDENT + "  ")


def _package(result: ScanResult, options: FormatOptions) -> str:
    lines = [_paint(result.path, "1", options)]
    info = result.info
    if result.error is not None:
        lines.append(f"  {_paint('ERROR', '31', options)}    {result.error.rule_id} cannot be scanned")
        lines.extend(_wrap("", result.error.message, options.width))
        return "\n".join(lines) + "\n"
    if info is not None:
        identity = " ".join(x for x in (info.app_id, info.version, info.app_name and f"({info.app_name})") if x)
        lines.append(f"  {info.format}: {identity}" if identity else f"  {info.format}")
    lines.extend(_facts(result.facts, options.width))
    if not result.findings:
        lines.append("  no findings")
    for finding in result.findings:
        lines.extend(_finding(finding, options))
    if options.show_suppressed:
        for finding in result.suppressed:
            lines.append(f"  {_paint('ACCEPTED', '2', options)} {finding.rule_id} {finding.name} "
                         f"({finding.severity.label})")
            lines.extend(_wrap("", finding.message, options.width))
            lines.extend(_wrap("why: ", finding.suppression or "", options.width))
    elif result.suppressed:
        lines.append(f"  {len(result.suppressed)} accepted finding(s) hidden (--show-suppressed lists them)")
    return "\n".join(lines) + "\n"


def _facts(facts: Facts, width: int) -> list[str]:
    numbers = ", ".join(f"{n.value} ({n.kind})" for n in facts.filing_numbers) or "none"
    links = ", ".join(f"{link.url} ({link.status})" for link in facts.filing_links) or "none"
    perms = facts.permissions
    counts = (f"{len(perms.requested)} requested, {len(perms.sensitive)} sensitive, "
              f"{len(perms.undeclared)} undeclared")
    lines: list[str] = []
    for label, text in (("numbers: ", numbers), ("links: ", links), ("permissions: ", counts)):
        lines.extend(wrap(text, width, "  " + label, "    "))
    return lines


def _finding(finding: ReportedFinding, options: FormatOptions) -> list[str]:
    label = finding.severity.label.upper().ljust(8)
    lines = [f"  {_paint(label, _COLORS[finding.severity], options)} {finding.rule_id} {finding.name}"]
    lines.extend(_wrap("", finding.message, options.width))
    if finding.location is not None:
        lines.extend(_wrap("where: ", finding.location.describe(), options.width))
    if finding.evidence:
        lines.extend(_wrap("evidence: ", "; ".join(finding.evidence), options.width))
    lines.extend(_wrap("fix: ", finding.fix, options.width))
    return lines


def _summary(report: Report) -> str:
    summary = summarize(report)
    counts = summary.findings
    accepted = f", {summary.suppressed} suppressed" if summary.suppressed else ""
    return (f"{summary.packages} package(s), {summary.unreadable} unreadable: {counts[Severity.ERROR]} error(s), "
            f"{counts[Severity.WARNING]} warning(s), {counts[Severity.NOTE]} note(s){accepted}")
