"""The rule registry: every rule module, in report order (habit: explicit registries, no discovery)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from scanner.model import Facts, Finding, Options, Package, RuleMeta
from scanner.rules import (
    filing_identity_mismatch,
    filing_link_missing,
    filing_link_outdated,
    filing_link_wrong_site,
    filing_number_inconsistent,
    filing_number_malformed,
    filing_number_mismatch,
    filing_number_missing,
    filing_number_out_of_context,
    filing_number_placeholder,
    filing_number_unregistered,
    filing_number_wrong_kind,
    location_precise_fuzzy_conflict,
    location_purpose_missing,
    package_binary_encrypted,
    package_errors,
    package_limit_exceeded,
    package_structure_anomaly,
    permission_declaration_missing,
    permission_purpose_missing,
    permission_purpose_not_a_purpose,
    permission_purpose_not_chinese,
    permission_purpose_reused,
    permission_purpose_unresolved,
    permission_undeclared,
    private_info_api_undeclared,
)


class Rule(Protocol):
    """What a rule module provides."""

    RULE: RuleMeta

    def check(self, package: Package, facts: Facts, options: Options) -> Iterator[Finding]: ...


ALL_RULES: tuple[Rule, ...] = (
    filing_number_missing,
    filing_number_malformed,
    filing_number_wrong_kind,
    filing_number_inconsistent,
    filing_number_mismatch,
    filing_number_placeholder,
    filing_number_out_of_context,
    filing_number_unregistered,
    filing_identity_mismatch,
    filing_link_missing,
    filing_link_outdated,
    filing_link_wrong_site,
    permission_undeclared,
    permission_declaration_missing,
    permission_purpose_missing,
    permission_purpose_unresolved,
    permission_purpose_not_chinese,
    permission_purpose_not_a_purpose,
    permission_purpose_reused,
    private_info_api_undeclared,
    location_purpose_missing,
    location_precise_fuzzy_conflict,
    package_limit_exceeded,
    package_structure_anomaly,
    package_binary_encrypted,
)

CATALOGUE: dict[str, RuleMeta] = {
    **{module.RULE.id: module.RULE for module in ALL_RULES},
    package_errors.UNREADABLE.id: package_errors.UNREADABLE,
    package_errors.ENCRYPTED.id: package_errors.ENCRYPTED,
    package_errors.ABORTED.id: package_errors.ABORTED,
}
"""Every rule id the tool can report, with its metadata (for reports, SARIF rules, docs)."""
