"""Judging in the batch's own process: the registry's rules and the accepted findings, applied to what a
worker found, or to what the store kept from an earlier run.

Reading a package is the expensive part of a batch and happens in the workers; what a platform changes
from day to day (its filing records, the findings it accepted) only needs judging again. So the workers
run every rule but the registry's (FIL005 and FIL008 with ``--registry``) and return, beside their JSON
results, the little the registry's rules read (``Basis``: the kind judged and which numbers are the
package's own). Here those two rules run on that basis with the records the package concerns (a
dictionary look-up in a registry of any size), then the suppressions and the baseline are applied. A
registry or acceptance change judges the stored results again without reading a package.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from scanner.batch.registry import Index, with_registry
from scanner.config import Policy
from scanner.engine import Acceptance
from scanner.model import Options

REGISTRY_RULES = ("FIL005", "FIL008")
_RANK = {"error": 0, "warning": 1, "note": 2}


@dataclass(frozen=True, slots=True)
class Judging:
    """What a batch judges with in its own process."""

    registry: Index = field(default_factory=Index)
    acceptance: Acceptance = field(default_factory=Acceptance)
    policy: Policy = field(default_factory=Policy)

    def key(self) -> str:
        """Its identity: a stored result judged under another key is judged again."""
        active = tuple(s for s in self.acceptance.suppressions if not s.expired(self.acceptance.today))
        if not active and not self.acceptance.baseline and not self.registry:
            return ""
        text = repr((active, sorted(self.acceptance.baseline), self.registry.sha256))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def basis(result: Any) -> dict[str, Any]:  # noqa: ANN401 (a ScanResult: the model, imported by the worker)
    """What the registry's rules read of a result, beyond its JSON: the kind it was judged as and the
    positions of its own numbers in ``facts.filing_numbers``."""
    if result.error is not None or result.kind is None:
        return {}
    from scanner.facts.kinds import own_numbers

    own = {id(n) for n in own_numbers(result.facts)}
    return {"kind": result.kind.value, "own": [i for i, n in enumerate(result.facts.filing_numbers) if id(n) in own]}


def judged(result: dict[str, Any], found: dict[str, Any], judging: Judging) -> dict[str, Any]:
    """A worker's JSON result judged here: the registry's findings added, the accepted ones set aside."""
    if judging.registry and found and not result["error"]:
        extra = _registry_findings(result, found, judging)
        if extra:
            findings = sorted([*result["findings"], *extra], key=_order)
            result = {**result, "findings": findings}
    return accept(result, judging.acceptance)


def _order(finding: dict[str, Any]) -> tuple[int, str, str]:
    """The engine's order: most severe first, then rule id, then member."""
    return _RANK[finding["severity"]], finding["rule_id"], (finding["location"] or {}).get("member", "")


def _registry_findings(result: dict[str, Any], found: dict[str, Any], judging: Judging) -> list[dict[str, Any]]:
    from scanner import engine
    from scanner.formatters import json_report
    from scanner.model import Facts, Package, PackageKind, ScanResult
    from scanner.rules import ALL_RULES

    original = json_report.from_result_dict(result)
    if original.info is None:
        return []
    kind = PackageKind(found["kind"])
    own = [n for i, n in enumerate(original.facts.filing_numbers) if i in set(found["own"])]
    facts = Facts(tuple(replace(n, valid=True) for n in own), kind=kind)
    package = Package(original.info, kind, (), ())
    options = with_registry(Options(), judging.registry.relevant(original.info.app_id, [n.value for n in own]))
    rules = [r for r in ALL_RULES if r.RULE.id in REGISTRY_RULES and r.RULE.id not in judging.policy.disabled
             and r.RULE.applies_to(kind, original.info.format)]
    findings = [f for rule in rules for f in rule.check(package, facts, options)]
    stamped = engine.stamp(findings, package, kind, judging.policy)
    return json_report.result_dict(ScanResult(original.path, original.info, None, Facts(), stamped))["findings"]


def accept(result: dict[str, Any], acceptance: Acceptance) -> dict[str, Any]:
    """A JSON result with the accepted findings moved under ``suppressed``, each with why (the same as
    ``scan --show-suppressed``; engine.accept decides)."""
    if result["error"] or not (acceptance.suppressions or acceptance.baseline):
        return result
    from scanner import engine
    from scanner.formatters.json_report import from_result_dict

    decided = engine.accept(from_result_dict(result), acceptance)
    reasons = {f.fingerprint: f.suppression for f in decided.suppressed}
    if not reasons:
        return result
    return {**result, "findings": [f for f in result["findings"] if f["fingerprint"] not in reasons],
            "suppressed": [{**f, "suppression": reasons[f["fingerprint"]]} for f in result["findings"]
                           if f["fingerprint"] in reasons]}
