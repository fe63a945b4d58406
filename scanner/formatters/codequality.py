"""GitLab Code Quality report (``artifacts:reports:codequality``): a JSON array of
{description, check_name, fingerprint, severity, location: {path, lines: {begin}}}.

Fingerprints must be unique per entry or GitLab shows only the first (peers-and-conventions.md §4.2):
the finding fingerprint is combined with the package path and made unique within the report.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from scanner.formatters import paths
from scanner.formatters.base import LocatedOptions, localized
from scanner.model import Report, Severity

SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "minor", Severity.NOTE: "info"}


def render(report: Report, options: LocatedOptions) -> str:
    """The Code Quality array (unreadable packages are entries too: a CI gate must not hide them)."""
    report = localized(report, options.lang)
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    for result in report.results:
        if result.error is not None:
            path = paths.relative(result.path, options.base_dir)
            entries.append(_entry(f"{result.error.rule_id}: {result.error.message}", result.error.rule_id,
                                  _unique(f"{result.error.rule_id}{path}", seen), "blocker", path, 1))
            continue
        for finding in result.findings:
            path, line = paths.place(result, finding, options)
            where = f" ({finding.location.describe()})" if finding.location else ""
            entries.append(_entry(f"{finding.rule_id} {finding.message}{where}", finding.rule_id,
                                  _unique(finding.fingerprint + result.path, seen), SEVERITY[finding.severity],
                                  path, line))
    return json.dumps(entries, ensure_ascii=False, indent=2) + "\n"


def _unique(seed: str, seen: set[str]) -> str:
    digest = hashlib.sha256(seed.encode("utf-8")).hexdigest()
    counter = 0
    while digest in seen:
        counter += 1
        digest = hashlib.sha256(f"{seed}#{counter}".encode()).hexdigest()
    seen.add(digest)
    return digest


def _entry(description: str, check: str, fingerprint: str, severity: str, path: str, line: int) -> dict[str, Any]:
    return {"description": description, "check_name": check, "fingerprint": fingerprint, "severity": severity,
            "location": {"path": path, "lines": {"begin": line}}}
