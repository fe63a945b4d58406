"""The engine: parse, derive facts, run every rule, stamp severity and fingerprints (habit 2)."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable

from scanner import __version__
from scanner.model import (
    Facts,
    Finding,
    Options,
    Package,
    PackageError,
    PackageKind,
    Report,
    ReportedFinding,
    ScanResult,
    Severity,
)
from scanner.parsers import PackageUnreadable
from scanner.rules import ALL_RULES, CATALOGUE
from scanner.rules.facts import derive_facts

LOG = logging.getLogger(__name__)
MINOR_KINDS = frozenset({PackageKind.MINIPROGRAM, PackageKind.QUICKAPP})
# Positions that change with every build (line, offset, DEX string index) stay out of fingerprints,
# so a rebuilt package keeps its findings' identities (detect-secrets: identity without line numbers).
_VOLATILE = re.compile(r"(?:line|offset) \d+|string_ids\[\d+\]")

Parser = Callable[[str, "str | None"], Package]


def scan_path(path: str, options: Options, parser: Parser | None = None) -> ScanResult:
    """Scan one package; any failure to read it becomes an error result, never an exception."""
    if parser is None:
        from scanner.parsers import parse

        parser = parse
    try:
        package = parser(path, options.wxid)
    except PackageUnreadable as exc:
        return _error_result(path, exc.rule_id, exc.message)
    except (MemoryError, RecursionError) as exc:
        return _error_result(path, "PKG001", f"package too large or too deeply nested ({type(exc).__name__})")
    except Exception as exc:  # a parser bug must not cost the batch: report it as unreadable
        LOG.debug("parser failed on %s", path, exc_info=True)
        return _error_result(path, "PKG001", f"could not be parsed ({type(exc).__name__}: {exc})")
    return evaluate(package, options)


def evaluate(package: Package, options: Options) -> ScanResult:
    """Run every rule over an already parsed package."""
    facts = derive_facts(package, options)
    found = [f for rule in ALL_RULES for f in rule.check(package, facts, options)]
    return ScanResult(package.info.path, package.info, None, facts, stamp(found, package, options))


def stamp(findings: Iterable[Finding], package: Package, options: Options) -> tuple[ReportedFinding, ...]:
    """Final severity, name and fingerprint, sorted most severe first."""
    kind = options.kind or package.kind
    identity = package.info.app_id or package.info.sha256
    reported = [_reported(f, kind, identity) for f in findings]
    reported.sort(key=lambda r: (-r.severity, r.rule_id, r.location.member if r.location else ""))
    return tuple(reported)


def _reported(finding: Finding, kind: PackageKind, identity: str) -> ReportedFinding:
    meta = CATALOGUE[finding.rule_id]
    severity = finding.severity or meta.severity
    if finding.severity is None and kind in MINOR_KINDS and meta.severity_minor_kinds is not None:
        severity = meta.severity_minor_kinds
    return ReportedFinding(
        rule_id=finding.rule_id,
        name=meta.name,
        severity=severity,
        message=finding.message,
        location=finding.location,
        evidence=finding.evidence,
        fingerprint=fingerprint(finding, identity),
        fix=meta.fix,
    )


def fingerprint(finding: Finding, identity: str) -> str:
    """Stable identity: rule, package identity, member, pointer (positions removed), evidence."""
    loc = finding.location
    parts = [finding.rule_id, identity, loc.member if loc else "", _VOLATILE.sub("", loc.pointer) if loc else ""]
    parts.extend(finding.evidence)
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def _error_result(path: str, rule_id: str, message: str) -> ScanResult:
    meta = CATALOGUE[rule_id]
    return ScanResult(path, None, PackageError(meta.id, message), Facts(), ())


def scan(paths: Iterable[str], options: Options) -> Report:
    """Scan several packages into one report, one result each, in the order given."""
    return Report(__version__, tuple(scan_path(p, options) for p in paths))


def worst_exit(report: Report, fail_on: Severity) -> int:
    """Exit code contract: 3 unreadable package (outranks findings), 1 findings >= fail_on, else 0."""
    if any(r.error is not None for r in report.results):
        return 3
    if any(f.severity >= fail_on for r in report.results for f in r.findings):
        return 1
    return 0
