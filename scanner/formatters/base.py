"""What formatters share: their options (one class per kind of output) and the summary counts.

Formatters are pure functions from the Report to text: they see only the model and their options.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar, cast

from scanner.i18n import N_, Message, Said, msg, say
from scanner.model import Report, RuleMeta, Severity

T = TypeVar("T")

# What a terminal or a log viewer obeys instead of showing: C0 and C1 controls (ESC starts cursor moves,
# screen clears, concealed text, title changes), line and paragraph separators, and the bidirectional
# overrides and isolates that reorder what is shown ("Trojan Source", CVE-2021-42574).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """A text from a package as a terminal shows it safely: every control character escaped (``\\x1b``)."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def visible_report(report: T) -> T:
    """The report (or any part of it) with every string made ``visible``: what a text report, an
    annotation or a log line shows of a package can never drive the terminal that shows it."""
    return cast(T, _visible(report))


def _visible(value: object) -> object:
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, tuple):
        return tuple(_visible(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _visible(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value


SEVERITY_LABELS = {Severity.ERROR: msg("error"), Severity.WARNING: msg("warning"), Severity.NOTE: msg("note")}
"""A severity as people read it (the JSON and SARIF keep ``Severity.label``)."""

SAID_FIELDS = frozenset({"message", "fix", "summary"})
"""Fields whose plain text is the catalog's own (a rule's summary and fix): said by looking it up. Any
other field is said only when it is a Message (a path, evidence or a package's own text stays as it is)."""


def localized(report: T, lang: str) -> T:
    """The report (or any part of it) with every text for people said in ``lang``."""
    if lang == "en":
        return report
    return cast(T, _localized(report, lang, False))


def _localized(value: object, lang: str, catalog_text: bool) -> object:
    if isinstance(value, str):
        return say(value, lang) if catalog_text or isinstance(value, (Message, Said)) else value
    if isinstance(value, tuple):
        return tuple(_localized(item, lang, catalog_text) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _localized(getattr(value, f.name), lang, f.name in SAID_FIELDS)
                   for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value


_URL = re.compile(r"https?://[^\s)>,'\"`]+[^\s)>,'\"`.;:]")


def rule_sources(meta: RuleMeta) -> tuple[str, ...]:
    """The public sources a rule's documentation cites (the regulation, the platforms' documentation)."""
    return tuple(dict.fromkeys(_URL.findall(meta.doc)))


def rule_help(meta: RuleMeta, lang: str) -> str:
    """A rule's documentation in ``lang``: in English its docstring (what, why, PASS/FAIL, sources); in
    another language what the rule checks, how to fix it and the sources it is based on."""
    if lang == "en":
        return meta.doc.strip()
    lines = [say(meta.summary, lang), "", say(msg("Fix: {fix}", fix=say(meta.fix, lang)), lang)]
    sources = rule_sources(meta)
    if sources:
        lines += ["", say(N_("Sources:"), lang), *(f"- {url}" for url in sources)]
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class FormatOptions:
    """Choices every format takes."""

    show_suppressed: bool = False
    base_dir: str = "."
    """Paths are made relative to this folder (the working directory of the run)."""
    lang: str = "en"
    """The language of every text for people (scanner.i18n.LANGUAGES): ids, keys and evidence never change."""


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
    """Finding fingerprint -> (source file, line) found under ``source_root`` (scanner.source_lines)."""


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
