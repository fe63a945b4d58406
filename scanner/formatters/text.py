"""The human report: grouped by package; per finding what, where, evidence and how to fix it."""

from __future__ import annotations

import re
import unicodedata

from scanner.formatters.base import TextOptions, summarize, visible_report
from scanner.model import Facts, FilingLink, FilingNumber, Identity, Report, ReportedFinding, ScanResult, Severity

_COLORS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.NOTE: "36"}
_INDENT = " " * 11


def render(report: Report, options: TextOptions) -> str:
    """Every package, then one summary line; every text from a package with its control characters
    escaped (a package named ``\x1b[2J…`` would clear the reader's screen)."""
    report = visible_report(report)
    blocks = [_package(result, options) for result in report.results]
    notices = [f"note: {n}" for n in report.notices]
    return "\n".join([*blocks, *notices, *wrap(_summary(report), options.width, "", "  ")]) + "\n"


def _paint(text: str, code: str, options: TextOptions) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if options.color else text


def display_width(text: str) -> int:
    """Terminal columns: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    """Wrap by terminal columns (textwrap counts characters, which overflows with Chinese text).

    Lines break at spaces. A word wider than a line is cut only when it is prose (a Chinese sentence,
    a long run of letters): a path, file name or URL stays whole on a line of its own, even past the
    width, so it can be copied and searched for."""
    lines: list[str] = []
    line, fresh = first, True
    for word in text.split(" "):
        joined = line + ("" if fresh else " ") + word
        if display_width(joined) > width and (not fresh or (_UNBREAKABLE.search(word) and first.strip())):
            lines.append(line.rstrip() if fresh else line)
            joined = rest + word
        line, fresh = joined, False
        if _UNBREAKABLE.search(word):
            continue
        while display_width(line) > width:  # longer than a line (a Chinese sentence): cut it
            head = _cut(line, width)
            lines.append(head)
            line = rest + line[len(head) :]
    lines.append(line)
    return lines


_UNBREAKABLE = re.compile(r"[/\\]|\w\.\w")
"""A path, file name or URL: never cut in the middle."""


def _cut(line: str, width: int) -> str:
    used = 0
    for i, ch in enumerate(line):
        used += display_width(ch)
        if used > width:
            return line[:i]
    return line


def _wrap(label: str, text: str, width: int) -> list[str]:
    return wrap(text, width, _INDENT + label, _INDENT + "  ")


def _package(result: ScanResult, options: TextOptions) -> str:
    lines = [_paint(result.path, "1", options)]
    info = result.info
    if result.error is not None:
        lines.append(f"  {_paint('ERROR', '31', options)}    {result.error.rule_id} cannot be scanned")
        lines.extend(_wrap("", result.error.message, options.width))
        return "\n".join(lines) + "\n"
    if info is not None:
        identity = " ".join(x for x in (info.app_id, info.version, info.app_name and f"({info.app_name})") if x)
        lines.append(f"  {info.format}: {identity}" if identity else f"  {info.format}")
        if info.identity is not None:
            lines.extend(wrap(signed_line(info.identity), options.width, "  signed: ", "    "))
    lines.extend(_facts(result, options.width))
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


_SCHEMES = {"rpk": "quick app signature", "hap": "hap sign block", "cms": "code signature"}


def signed_line(identity: Identity) -> str:
    """Who signed the package, as the header says it (the full identity: ``beian-scan identity``)."""
    if not identity.signed:
        return "no" + (f" ({identity.notes[-1]})" if identity.notes else "")
    signers = "; ".join(f"{'+'.join(_SCHEMES.get(x, x) for x in s.schemes)} by "
                        f"{s.certificate.subject or '(no subject)'}, certificate MD5 {s.certificate.md5}"
                        for s in identity.signers)
    bundle = identity.profile.bundle if identity.profile else None
    return signers + (f"; profile for {bundle}" if bundle else "")


def _facts(result: ScanResult, width: int) -> list[str]:
    facts = result.facts
    cited = [*result.findings, *result.suppressed]
    numbers = ", ".join(f"{n.value} ({_number_note(n, result, cited)})" for n in facts.filing_numbers) or "none"
    links = ", ".join(f"{link.url} ({_link_note(link, facts, cited)})" for link in facts.filing_links) or "none"
    perms = facts.permissions
    counts = (f"{len(perms.requested)} requested, {len(perms.sensitive)} sensitive, "
              f"{len(perms.undeclared)} undeclared")
    lines: list[str] = []
    for label, text in (("numbers: ", numbers), ("links: ", links), ("permissions: ", counts)):
        lines.extend(wrap(text, width, "  " + label, "    "))
    if facts.protection is not None:  # said up front: what follows was searched in the readable parts only
        shield = facts.protection
        lines.extend(wrap(f"{shield.name} ({shield.name_en}); the app's code could not be read", width,
                          "  hardened: ", "    "))
    return lines


_OWN_KINDS = {"app": "App", "miniprogram": "mini-program", "quickapp": "quick app"}
_OTHER_KINDS = {
    "public-security": "public-security filing, not an MIIT number",
    "website": "a website's filing number",
    "entity": "an entity (主体) number",
    "licence": "an operating licence",
    "algorithm": "an algorithm filing (网信算备) of the Cyberspace Administration, not an MIIT number",
    "generative-ai": "a generative-AI service filing of the Cyberspace Administration, not an MIIT number",
}


def _citing(value: str, raw: str, findings: list[ReportedFinding]) -> list[str]:
    """The rules whose findings give this fact as evidence, in report order, once each."""
    return list(dict.fromkeys(f.rule_id for f in findings if value in f.evidence or raw in f.evidence))


def _number_note(number: FilingNumber, result: ScanResult, findings: list[ReportedFinding]) -> str:
    """The number's kind, and either the findings about it or why it is not one (so a third party's
    number beside the App's own does not read like a problem)."""
    note = _number_kind_note(number, result, findings)
    if number.normalized and number.written_as_issued:
        note += f"; read from {number.raw!r}: {', '.join(number.normalized)}"
    if number.assembled_from:
        pieces = " + ".join(repr(p) for p in number.assembled_from)
        note += f"; assembled from pieces the code loads together ({pieces}): confirm the app shows it"
    return note


def _number_kind_note(number: FilingNumber, result: ScanResult, findings: list[ReportedFinding]) -> str:
    cited = _citing(number.value, number.raw, findings)
    if cited:
        return f"{number.kind}: see {', '.join(cited)}"
    own = result.kind.value if result.kind else None
    if number.kind == own or own is None:
        return number.kind
    beside = any(n.valid and n.kind == own for n in result.facts.filing_numbers)
    where = f"shown beside the {_OWN_KINDS[own]}'s own number" if beside else "not judged on its own"
    return f"{_OTHER_KINDS.get(number.kind, number.kind)}; {where}: not a finding"


def _link_note(link: FilingLink, facts: Facts, findings: list[ReportedFinding]) -> str:
    cited = _citing(link.url, link.url, findings)
    if cited:
        return f"{link.status}: see {', '.join(cited)}"
    if link.status == "official":
        return "the filing system"
    if any(other.status == "official" for other in facts.filing_links):
        return f"{link.reason}; shown beside the official link: not a finding"
    return f"{link.status}: not a finding"


def _finding(finding: ReportedFinding, options: TextOptions) -> list[str]:
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
    """One line that agrees with the blocks above: packages not scanned are counted apart from the
    findings of the packages that were."""
    summary = summarize(report)
    counts = summary.findings
    scanned = summary.packages - summary.unreadable
    unread = f"{summary.unreadable} could not be scanned" if summary.unreadable else ""
    accepted = f", {summary.suppressed} suppressed" if summary.suppressed else ""
    findings = (f"{counts[Severity.ERROR]} error(s), {counts[Severity.WARNING]} warning(s), "
                f"{counts[Severity.NOTE]} note(s){accepted}")
    parts = [f"{scanned} scanned: {findings}" if scanned else "", unread]
    return f"{summary.packages} package(s): " + "; ".join(p for p in parts if p)
