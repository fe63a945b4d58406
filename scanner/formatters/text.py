"""The human report: grouped by package; per finding what, where, evidence and how to fix it."""

from __future__ import annotations

import re
import unicodedata

from scanner.formatters.base import SEVERITY_LABELS, TextOptions, localized, summarize, visible_report
from scanner.i18n import N_, joined, msg, say
from scanner.model import Facts, FilingLink, FilingNumber, Identity, Report, ReportedFinding, ScanResult, Severity

_COLORS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.NOTE: "36"}
_INDENT = " " * 11


def render(report: Report, options: TextOptions) -> str:
    """Every package, then one summary line; every text from a package with its control characters
    escaped (a package named ``\x1b[2J…`` would clear the reader's screen)."""
    report = visible_report(localized(report, options.lang))
    blocks = [_package(result, options) for result in report.results]
    notices = [say(msg("note: {notice}", notice=n), options.lang) for n in report.notices]
    summary = say(_summary(report), options.lang)
    return "\n".join([*blocks, *notices, *wrap(summary, options.width, "", "  ")]) + "\n"


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
        # Chinese prose carries on the line it starts on and is cut at the width (it has no spaces to
        # break at); a word of another script moves to the next line.
        prose = len(_WIDE.findall(word)) * 2 >= len(word) > 0  # mostly Chinese, not a code-like token
        breaks = not fresh or (_UNBREAKABLE.search(word) and first.strip())
        if display_width(joined) > width and not prose and breaks:
            lines.append(line.rstrip() if fresh else line)
            joined = rest + word
        line, fresh = joined, False
        if _UNBREAKABLE.search(word) and not prose:
            continue
        while display_width(line) > width:  # longer than a line (a Chinese sentence): cut it
            head = _cut(line, width, len(rest))
            if len(head) <= len(rest):  # a path or URL wider than a line: it stays whole
                break
            lines.append(head.rstrip())
            line = rest + line[len(head) :]
    lines.append(line)
    return lines


_UNBREAKABLE = re.compile(r"[/\\]|\w\.\w")
"""A path, file name or URL: never cut in the middle."""

_WIDE = re.compile("[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
"""A CJK character or full-width form (what ``display_width`` counts as two columns in a Chinese report)."""

_SHORT_RUN = 24
"""Latin letters and digits in Chinese prose up to this long are moved whole to the next line."""


def _cut(line: str, width: int, indent: int = 0) -> str:
    """The head of ``line`` that fits ``width``, never ending inside a path, a URL or a short word written
    in the prose (the cut moves back to where that run starts)."""
    used = 0
    for i, ch in enumerate(line):
        used += display_width(ch)
        if used > width:
            start = i
            while start > indent and not _WIDE.match(line[start - 1]) and line[start - 1] != " ":
                start -= 1
            end = i + 1
            while end < len(line) and not _WIDE.match(line[end]) and line[end] != " ":
                end += 1
            run = line[start:end]
            keep_whole = _UNBREAKABLE.search(run) or len(run) <= _SHORT_RUN  # a path, a URL, "ICP", a number
            return line[:start] if keep_whole and start > indent else line[:i]
    return line


def _wrap(label: str, text: str, width: int) -> list[str]:
    return wrap(text, width, _INDENT + label, _INDENT + "  ")


def _label(text: str, lang: str, pad: int = 0) -> str:
    """A label in the reader's language, padded to ``pad`` terminal columns."""
    said = say(text, lang)
    return said + " " * max(0, pad - display_width(said))


def _package(result: ScanResult, options: TextOptions) -> str:
    lang = options.lang
    lines = [_paint(result.path, "1", options)]
    info = result.info
    if result.error is not None:
        label = _label(N_("ERROR"), lang, 8)
        lines.append(f"  {_paint(label, '31', options)} "
                     + say(msg("{rule} cannot be scanned", rule=result.error.rule_id), lang))
        lines.extend(_wrap("", result.error.message, options.width))
        return "\n".join(lines) + "\n"
    if info is not None:
        identity = " ".join(x for x in (info.app_id, info.version, info.app_name and f"({info.app_name})") if x)
        lines.append(f"  {info.format}: {identity}" if identity else f"  {info.format}")
        if info.identity is not None:
            lines.extend(wrap(say(signed_line(info.identity), lang), options.width,
                              "  " + _label(N_("signed: "), lang), "    "))
    lines.extend(_facts(result, options.width, lang))
    if not result.findings:
        lines.append("  " + say(N_("no findings"), lang))
    for finding in result.findings:
        lines.extend(_finding(finding, options))
    if options.show_suppressed:
        for finding in result.suppressed:
            accepted = _label(N_("ACCEPTED"), lang, 8)
            lines.append(f"  {_paint(accepted, '2', options)} {finding.rule_id} {finding.name} "
                         f"({say(SEVERITY_LABELS[finding.severity], lang)})")
            lines.extend(_wrap("", finding.message, options.width))
            lines.extend(_wrap(_label(N_("why: "), lang), finding.suppression or "", options.width))
    elif result.suppressed:
        lines.append("  " + say(msg("{count} accepted finding(s) hidden (--show-suppressed lists them)",
                                    count=len(result.suppressed)), lang))
    return "\n".join(lines) + "\n"


_SCHEMES = {"rpk": msg("quick app signature"), "hap": msg("hap sign block"), "cms": msg("code signature")}


def signed_line(identity: Identity) -> str:
    """Who signed the package, as the header says it (the full identity: ``beian-scan identity``)."""
    if not identity.signed:
        return msg("no ({note})", note=identity.notes[-1]) if identity.notes else msg("no")
    signers = joined([msg("{schemes} by {subject}, certificate MD5 {md5}",
                          schemes=joined([_SCHEMES.get(x, x) for x in s.schemes], "+"),
                          subject=s.certificate.subject or msg("(no subject)"), md5=s.certificate.md5)
                      for s in identity.signers])
    bundle = identity.profile.bundle if identity.profile else None
    return msg("{signers}; profile for {bundle}", signers=signers, bundle=bundle) if bundle else signers


def _facts(result: ScanResult, width: int, lang: str) -> list[str]:
    facts = result.facts
    cited = [*result.findings, *result.suppressed]
    numbers = (joined([msg("{number} ({note})", number=n.value, note=_number_note(n, result, cited))
                       for n in facts.filing_numbers], ", ") if facts.filing_numbers else msg("none"))
    links = (joined([msg("{url} ({note})", url=link.url, note=_link_note(link, facts, cited))
                     for link in facts.filing_links], ", ") if facts.filing_links else msg("none"))
    perms = facts.permissions
    counts = msg("{requested} requested, {sensitive} sensitive, {undeclared} undeclared",
                 requested=len(perms.requested), sensitive=len(perms.sensitive), undeclared=len(perms.undeclared))
    lines: list[str] = []
    for label, text in ((N_("numbers: "), numbers), (N_("links: "), links), (N_("permissions: "), counts)):
        lines.extend(wrap(say(text, lang), width, "  " + _label(label, lang), "    "))
    if facts.protection is not None:  # said up front: what follows was searched in the readable parts only
        shield = facts.protection
        hardened = msg("{name} ({name_en}); the app's code could not be read", name=shield.name,
                       name_en=shield.name_en)
        lines.extend(wrap(say(hardened, lang), width, "  " + _label(N_("hardened: "), lang), "    "))
    return lines


_OWN_KINDS = {"app": msg("App"), "miniprogram": msg("mini-program"), "quickapp": msg("quick app")}
_OTHER_KINDS = {
    "public-security": msg("public-security filing, not an MIIT number"),
    "website": msg("a website's filing number"),
    "entity": msg("an entity (主体) number"),
    "licence": msg("an operating licence"),
    "algorithm": msg("an algorithm filing (网信算备) of the Cyberspace Administration, not an MIIT number"),
    "generative-ai": msg("a generative-AI service filing of the Cyberspace Administration, not an MIIT number"),
}


def _citing(value: str, raw: str, findings: list[ReportedFinding]) -> list[str]:
    """The rules whose findings give this fact as evidence, in report order, once each."""
    return list(dict.fromkeys(f.rule_id for f in findings if value in f.evidence or raw in f.evidence))


def _number_note(number: FilingNumber, result: ScanResult, findings: list[ReportedFinding]) -> str:
    """The number's kind, and either the findings about it or why it is not one (so a third party's
    number beside the App's own does not read like a problem)."""
    notes = [_number_kind_note(number, result, findings)]
    if number.normalized and number.written_as_issued:
        notes.append(msg("read from {raw}: {changes}", raw=repr(number.raw), changes=", ".join(number.normalized)))
    if number.assembled_from:
        pieces = " + ".join(repr(p) for p in number.assembled_from)
        notes.append(msg("assembled from pieces the code loads together ({pieces}): confirm the app shows it",
                         pieces=pieces))
    return joined(notes)


def _number_kind_note(number: FilingNumber, result: ScanResult, findings: list[ReportedFinding]) -> str:
    cited = _citing(number.value, number.raw, findings)
    kind = _KIND_NAMES.get(number.kind, number.kind)
    if cited:
        return msg("{kind}: see {rules}", kind=kind, rules=", ".join(cited))
    own = result.kind.value if result.kind else None
    if number.kind == own or own is None:
        return kind
    beside = any(n.valid and n.kind == own for n in result.facts.filing_numbers)
    where = (msg("shown beside the {kind}'s own number", kind=_OWN_KINDS[own]) if beside
             else msg("not judged on its own"))
    return msg("{what}; {where}: not a finding", what=_OTHER_KINDS.get(number.kind, kind), where=where)


def _link_note(link: FilingLink, facts: Facts, findings: list[ReportedFinding]) -> str:
    cited = _citing(link.url, link.url, findings)
    status = _STATUS_NAMES.get(link.status, link.status)
    if cited:
        return msg("{status}: see {rules}", status=status, rules=", ".join(cited))
    if link.status == "official":
        return msg("the filing system")
    if any(other.status == "official" for other in facts.filing_links):
        return msg("{reason}; shown beside the official link: not a finding", reason=link.reason)
    return msg("{status}: not a finding", status=status)


def _finding(finding: ReportedFinding, options: TextOptions) -> list[str]:
    lang = options.lang
    label = _label(_HEADINGS[finding.severity], lang, 8)
    lines = [f"  {_paint(label, _COLORS[finding.severity], options)} {finding.rule_id} {finding.name}"]
    lines.extend(_wrap("", finding.message, options.width))
    if finding.location is not None:
        lines.extend(_wrap(_label(N_("where: "), lang), finding.location.describe(), options.width))
    if finding.evidence:
        lines.extend(_wrap(_label(N_("evidence: "), lang), "; ".join(finding.evidence), options.width))
    lines.extend(_wrap(_label(N_("fix: "), lang), finding.fix, options.width))
    return lines


_HEADINGS = {Severity.ERROR: N_("ERROR"), Severity.WARNING: N_("WARNING"), Severity.NOTE: N_("NOTE")}
# The kinds and statuses as the JSON report names them (the English report shows those names).
_KIND_NAMES = {"app": msg("app"), "miniprogram": msg("miniprogram"), "quickapp": msg("quickapp"),
               "website": msg("website"), "entity": msg("entity"), "licence": msg("licence"),
               "public-security": msg("public-security"), "algorithm": msg("algorithm"),
               "generative-ai": msg("generative-ai")}
_STATUS_NAMES = {"official": msg("official"), "outdated": msg("outdated"), "wrong-site": msg("wrong-site")}


def _summary(report: Report) -> str:
    """One line that agrees with the blocks above: packages not scanned are counted apart from the
    findings of the packages that were."""
    summary = summarize(report)
    counts = summary.findings
    scanned = summary.packages - summary.unreadable
    found = {"errors": counts[Severity.ERROR], "warnings": counts[Severity.WARNING], "notes": counts[Severity.NOTE]}
    findings = (msg("{errors} error(s), {warnings} warning(s), {notes} note(s), {suppressed} suppressed",
                    suppressed=summary.suppressed, **found) if summary.suppressed else
                msg("{errors} error(s), {warnings} warning(s), {notes} note(s)", **found))
    parts = [msg("{scanned} scanned: {findings}", scanned=scanned, findings=findings)] if scanned else []
    if summary.unreadable:
        parts.append(msg("{count} could not be scanned", count=summary.unreadable))
    return msg("{packages} package(s): {parts}", packages=summary.packages, parts=joined(parts))
