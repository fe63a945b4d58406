"""The engine: parse, derive facts, run every rule, stamp severity and fingerprints (habit 2)."""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from scanner import __version__, progress
from scanner.concurrency import Mode, options_for
from scanner.config import Policy
from scanner.extract.prefilter import Prefilter
from scanner.facts.anchors import from_catalogs
from scanner.facts.derive import derive_facts
from scanner.facts.kinds import effective_kind
from scanner.facts.policies import policy_links
from scanner.i18n import msg
from scanner.model import (
    Anomaly,
    AnomalyKind,
    Facts,
    Finding,
    Options,
    Package,
    PackageError,
    PackageKind,
    ParseOptions,
    PolicySources,
    Report,
    ReportedFinding,
    RuleMeta,
    ScanResult,
    Severity,
)
from scanner.parsers import (
    PACKAGE_FORMATS,
    Format,
    PackageEncrypted,
    PackageUnreadable,
    Source,
    package_sources,
    parse,
    shared_directories,
)
from scanner.rules import ALL_RULES, CATALOGUE
from scanner.suppress import Suppression, identities


def parse_options(options: ParseOptions | None = None, fast: bool = True) -> ParseOptions:
    """The parse options with the catalogs' prefilter: what the rules judge by says what the parsers
    read (scanner.facts.anchors; compiled once per run). ``fast`` off decodes everything."""
    options = options or ParseOptions()
    if options.prefilter is not None:
        return options
    return replace(options, prefilter=Prefilter.of(from_catalogs(), fast))


def catalogue() -> Mapping[str, RuleMeta]:
    """Every rule's metadata by id (scanner.rules.CATALOGUE)."""
    return CATALOGUE


def _today() -> datetime.date:
    return datetime.date.today()

DEFAULT_POLICY = Policy()
MemoryErrors = Literal["report", "raise"]
"""What a scan does with a MemoryError: a PKG001 result (a package too large), or raise it."""
MINOR_KINDS = frozenset({PackageKind.MINIPROGRAM, PackageKind.QUICKAPP})

def scan_path(path: str, options: Options, policy: Policy = DEFAULT_POLICY,
              formats: tuple[Format, ...] = PACKAGE_FORMATS) -> ScanResult:
    """Scan one package file or folder (a folder of several apps: scan_target gives each its result)."""
    return scan_source(Source(path), options, policy, formats)


def scan_source(source: Source, options: Options, policy: Policy = DEFAULT_POLICY,
                formats: tuple[Format, ...] = PACKAGE_FORMATS, memory_errors: MemoryErrors = "report") -> ScanResult:
    """Scan one source; any failure to read it becomes an error result, never an exception (but a
    MemoryError with ``memory_errors="raise"``: a batch worker's memory limit is not the package's fault)."""
    path = source.path
    try:
        package = parse(source, parse_options(options.parse), formats)
    except PackageEncrypted as exc:
        return error_result(path, "PKG002", exc.message)
    except PackageUnreadable as exc:
        return error_result(path, "PKG001", exc.message)
    except (MemoryError, RecursionError) as exc:
        if memory_errors == "raise" and isinstance(exc, MemoryError):
            raise
        return error_result(path, "PKG001", msg("package too large or too deeply nested ({error})",
                                                           error=type(exc).__name__))
    except Exception as exc:  # a parser bug must not cost the batch: report it as unreadable

        logging.getLogger(__name__).debug("parser failed on %s", path, exc_info=True)
        return error_result(path, "PKG001", msg("could not be parsed ({error}: {detail})", error=type(exc).__name__,
                                                     detail=exc))
    return evaluate(package, options, policy)


def scan_target(path: str, options: Options, policy: Policy = DEFAULT_POLICY,
                formats: tuple[Format, ...] = PACKAGE_FORMATS, memory_errors: MemoryErrors = "report"
                ) -> tuple[ScanResult, ...]:
    """The results of one path given by the user: one per package, and one per mini-program for a
    folder of wxapkg files that holds several (the PC client's Applet folder holds every app opened)."""
    with shared_directories():  # the path's zip directory, read by detection, serves its parser too
        return tuple(scan_source(source, options, policy, formats, memory_errors)
                     for source in package_sources(path, options.parse, formats))


@dataclass(frozen=True, slots=True)
class Acceptance:
    """Findings the user has accepted: suppressions with reasons, and a baseline of fingerprints."""

    suppressions: tuple[Suppression, ...] = ()
    baseline: frozenset[str] = frozenset()
    today: datetime.date = field(default_factory=_today)


def evaluate(package: Package, options: Options, policy: Policy = DEFAULT_POLICY) -> ScanResult:
    """Derive the facts, then run every enabled rule that applies to the package's kind."""
    package = with_policies(package, options.policies)
    kind = effective_kind(package, options)
    rules = [r for r in ALL_RULES if r.RULE.id not in policy.disabled and r.RULE.applies_to(kind, package.info.format)]
    facts = derive_facts(package, kind, options.facts)
    found = [f for rule in rules for f in rule.check(package, facts, options)]
    checked = tuple(r.RULE.id for r in rules)
    return ScanResult(package.info.path, package.info, None, facts, stamp(found, package, kind, policy), (),
                      checked, kind)


def with_policies(package: Package, policies: PolicySources) -> Package:
    """The package with the privacy policies read beside it: the user's files, and, when asked, the
    pages it links (fetched under scanner.privacy_policy's limits; a refusal or failure is a PKG004 note)."""
    if not policies.texts and not policies.fetch:
        return package
    texts = list(policies.texts)
    anomalies = list(package.anomalies)
    if policies.fetch:
        from scanner import privacy_policy  # network code only for a run that asked for it

        limits = privacy_policy.FetchLimits(privacy_policy.networks(policies.allowed_networks))
        for link in policy_links(package.texts)[: policies.max_fetches]:
            try:
                texts.append(privacy_policy.fetch_text(link.url, limits))
            except privacy_policy.PolicyError as exc:
                anomalies.append(Anomaly(AnomalyKind.NOTE, link.url, msg("privacy policy not fetched: {exc}", exc=exc)))
    return replace(package, texts=package.texts + tuple(texts), anomalies=tuple(anomalies))


def stamp(findings: Iterable[Finding], package: Package, kind: PackageKind,
          policy: Policy = DEFAULT_POLICY) -> tuple[ReportedFinding, ...]:
    """Final severity, name and fingerprint, sorted most severe first."""
    identity = package.info.app_id or package.info.sha256
    reported = [_reported(f, kind, identity, policy) for f in findings]
    reported.sort(key=lambda r: (-r.severity, r.rule_id, r.location.member if r.location else ""))
    return tuple(reported)


def _severity(finding: Finding, kind: PackageKind, policy: Policy) -> Severity:
    """Rule default (by kind), then the strict preset, then the user's explicit override."""
    meta = catalogue()[finding.rule_id]
    severity = finding.severity or meta.severity
    if finding.severity is None and kind in MINOR_KINDS and meta.severity_minor_kinds is not None:
        severity = meta.severity_minor_kinds
    severity = dict(policy.promote).get(severity, severity)
    return dict(policy.severity).get(finding.rule_id, severity)


def _reported(finding: Finding, kind: PackageKind, identity: str, policy: Policy) -> ReportedFinding:
    meta = catalogue()[finding.rule_id]
    severity = _severity(finding, kind, policy)
    return ReportedFinding(
        rule_id=finding.rule_id,
        name=meta.name,
        severity=severity,
        message=finding.message,
        location=finding.location,
        evidence=finding.evidence,
        fingerprint=fingerprint(finding, identity),
        fix=finding.fix or meta.fix,
    )


def fingerprint(finding: Finding, identity: str) -> str:
    """Stable identity: rule, package identity, member, pointer (positions removed), evidence."""
    loc = finding.location
    parts = [finding.rule_id, identity, loc.member if loc else "", loc.stable if loc else ""]
    parts.extend(finding.evidence)
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def error_result(path: str, rule_id: str, message: str) -> ScanResult:
    """The result of a package that could not be scanned (PKG001, PKG002, a batch's PKG006)."""
    meta = catalogue()[rule_id]
    return ScanResult(path, None, PackageError(meta.id, message), Facts(), ())


def accept(result: ScanResult, acceptance: Acceptance) -> ScanResult:
    """Move suppressed and baselined findings out of the active list (they stay counted and listable)."""
    if result.error is not None or not (acceptance.suppressions or acceptance.baseline):
        return result

    ids = identities(result.path, result.info.app_id if result.info else None)
    active: list[ReportedFinding] = []
    accepted: list[ReportedFinding] = []
    for finding in result.findings:
        reason = _acceptance_reason(finding, ids, acceptance)
        (active if reason is None else accepted).append(finding if reason is None else
                                                         replace(finding, suppression=reason))
    return replace(result, findings=tuple(active), suppressed=result.suppressed + tuple(accepted))


def _acceptance_reason(finding: ReportedFinding, ids: tuple[str, ...], acceptance: Acceptance) -> str | None:
    for suppression in acceptance.suppressions:
        if not suppression.expired(acceptance.today) and suppression.matches(finding, ids):
            if suppression.until:
                return msg("suppressed: {reason}, until {until}", reason=suppression.reason,
                           until=suppression.until.isoformat())
            return msg("suppressed: {reason}", reason=suppression.reason)
    return msg("baseline") if finding.fingerprint in acceptance.baseline else None


def expiry_notices(acceptance: Acceptance, source: str) -> tuple[str, ...]:
    """One message per expired suppression: it no longer applies, and the run says so."""
    return tuple(
        msg("{source}:{line}: suppression of {rule} for {package} expired on {until} and no longer applies",
            source=source, line=s.line, rule=s.rule_id, package=s.package, until=s.until)
        for s in acceptance.suppressions if s.expired(acceptance.today)
    )


class Progress(Protocol):
    """What a caller shows while packages are scanned (the command line: a bar on a terminal)."""

    def package(self, index: int, path: str) -> None:
        """Package ``index`` (0-based) of the run starts."""

    def advance(self, amount: int) -> None:
        """``amount`` more bytes of the current package were read or inflated."""


def scan(paths: Iterable[str], options: Options, policy: Policy = DEFAULT_POLICY,
         acceptance: Acceptance | None = None, notices: tuple[str, ...] = (),
         shown: Progress | None = None, mode: Mode = Mode.SINGLE) -> Report:
    """Scan several packages into one report, one result each, in the order given. ``mode`` decides
    the concurrency inside a scan (scanner.concurrency)."""
    acceptance = acceptance or Acceptance()
    options = options_for(mode, options)
    results: list[ScanResult] = []
    for index, path in enumerate(paths):
        if shown is not None:
            shown.package(index, path)
        with progress.observing(shown.advance if shown is not None else None):
            results.extend(accept(result, acceptance) for result in scan_target(path, options, policy))
    return Report(__version__, tuple(results), tuple(catalogue().values()), notices)


def worst_exit(report: Report, fail_on: Severity) -> int:
    """Exit code contract: 3 unreadable package (outranks findings), 1 findings >= fail_on, else 0."""
    if any(r.error is not None for r in report.results):
        return 3
    if any(f.severity >= fail_on for r in report.results for f in r.findings):
        return 1
    return 0
