"""Judging in the batch's own process: the registry's rules and the accepted findings, applied to what a
worker found, or to what the store kept from an earlier run.

Reading a package is the expensive part of a batch and happens in the workers; what a platform changes
from day to day (its filing records, the findings it accepted, the severities it wants) only needs
judging again. So the workers run every rule but the registry's (FIL005, FIL008 and FIL009 with
``--registry``) under the default policy; here those two rules run on the package's own numbers with the
records the package concerns (a dictionary look-up in a registry of any size), then the user's policy
(disabled rules, severities, a preset's promotion), then the suppressions and the baseline
(engine.accept). The store keeps, beside
each result, the little the registry's rules read that its JSON does not say (``basis``: the kind judged
and which numbers are the package's own), so a registry or acceptance change judges the stored results
again without reading a package.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from scanner import engine
from scanner.batch.registry import Index, with_registry
from scanner.config import Policy
from scanner.engine import Acceptance
from scanner.facts.kinds import own_numbers
from scanner.model import Facts, FilingNumber, Options, Package, PackageKind, ReportedFinding, ScanResult
from scanner.rules import ALL_RULES

REGISTRY_RULES = ("FIL005", "FIL008", "FIL009")


@dataclass(frozen=True, slots=True)
class Judging:
    """What a batch judges with in its own process."""

    registry: Index = field(default_factory=Index)
    acceptance: Acceptance = field(default_factory=Acceptance)
    policy: Policy = field(default_factory=Policy)

    def key(self) -> str:
        """Its identity: a stored result judged under another key is judged again."""
        active = tuple(s for s in self.acceptance.suppressions if not s.expired(self.acceptance.today))
        if not active and not self.acceptance.baseline and not self.registry and self.policy == Policy():
            return ""
        text = repr((active, sorted(self.acceptance.baseline), self.registry.sha256, self.policy))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def basis(result: ScanResult) -> dict[str, Any]:
    """What the registry's rules read of a result that its JSON does not say: the kind it was judged as
    and the positions of its own numbers in ``facts.filing_numbers`` (empty for an unread package)."""
    if result.error is not None or result.kind is None:
        return {}
    own = {id(n) for n in own_numbers(result.facts)}
    return {"kind": result.kind.value, "own": [i for i, n in enumerate(result.facts.filing_numbers) if id(n) in own]}


def judged(result: ScanResult, judging: Judging) -> ScanResult:
    """A worker's result judged here: the registry's findings added, the accepted ones set aside."""
    return _judged(result, own_numbers(result.facts) if result.kind is not None else [], judging)


def judged_again(result: ScanResult, found: dict[str, Any], judging: Judging) -> ScanResult:
    """A stored result (read back from its JSON, with its basis) judged under today's judging."""
    if not found:
        return _judged(result, [], judging)
    own = [n for i, n in enumerate(result.facts.filing_numbers) if i in set(found["own"])]
    return _judged(replace(result, kind=PackageKind(found["kind"])), own, judging)


def _judged(result: ScanResult, own: list[FilingNumber], judging: Judging) -> ScanResult:
    if result.error is not None:
        return result
    findings = result.findings
    if judging.registry and result.info is not None and result.kind is not None:
        findings = (*findings, *_registry_findings(result, own, judging))
    # Workers judge with the default policy: the severities they give are the rules' own. The user's
    # policy (disabled rules, severity overrides, a preset's promotion) is applied here, so that changing
    # it judges the store again instead of reading every package again.
    policy = judging.policy
    if policy != Policy():
        findings = tuple(_restamped(f, policy) for f in findings if f.rule_id not in policy.disabled)
        result = replace(result, checked=tuple(r for r in result.checked if r not in policy.disabled))
    if findings is not result.findings:
        result = replace(result, findings=tuple(sorted(findings, key=_order)))
    return engine.accept(result, judging.acceptance)


def _restamped(finding: ReportedFinding, policy: Policy) -> ReportedFinding:
    """engine._severity's last two steps over a finding stamped under the default policy."""
    severity = dict(policy.promote).get(finding.severity, finding.severity)
    severity = dict(policy.severity).get(finding.rule_id, severity)
    return finding if severity == finding.severity else replace(finding, severity=severity)


def _order(finding: ReportedFinding) -> tuple[int, str, str]:
    """The engine's order (engine.stamp): most severe first, then rule id, then member."""
    return -finding.severity, finding.rule_id, finding.location.member if finding.location else ""


def _registry_findings(result: ScanResult, own: list[FilingNumber], judging: Judging) -> tuple[ReportedFinding, ...]:
    assert result.info is not None and result.kind is not None
    kind = result.kind
    facts = Facts(tuple(replace(n, valid=True) for n in own), kind=kind)
    package = Package(result.info, kind, (), ())
    shown = [n.value for n in own]
    options = with_registry(Options(), judging.registry.relevant(result.info.app_id, shown),
                            judging.registry.filed(result.info.app_id, shown))
    rules = [r for r in ALL_RULES if r.RULE.id in REGISTRY_RULES and r.RULE.id not in judging.policy.disabled
             and r.RULE.applies_to(kind, result.info.format)]
    return engine.stamp([f for rule in rules for f in rule.check(package, facts, options)], package, kind)
