"""Baselines: accept every finding of one scan, then report only findings that are new.

Matching is by fingerprint (rule, package identity, member, pointer without positions, evidence), so
a rebuild with a new version code keeps its accepted findings (bandit ``-b``, checkov
``--create-baseline``, detect-secrets ``.secrets.baseline``).
"""

from __future__ import annotations

import json
from typing import Any

from scanner.files import BASELINE_BYTES, TooLarge, read_bounded
from scanner.i18n import message_of, msg
from scanner.model import Report

FORMAT = "beian-scan-baseline/1"


class BaselineError(ValueError):
    """An unreadable or foreign baseline file (exit code 2)."""


def build(report: Report) -> dict[str, Any]:
    """The baseline document for every active finding of a report, sorted for stable diffs."""
    entries = sorted(
        ({"fingerprint": f.fingerprint, "rule_id": f.rule_id, "package": (r.info.app_id if r.info else None)
          or r.path, "message": f.message}
         for r in report.results for f in r.findings),
        key=lambda e: (e["package"], e["rule_id"], e["fingerprint"]),
    )
    return {"format": FORMAT, "tool_version": report.tool_version, "findings": entries}


def dumps(report: Report) -> str:
    """The baseline as JSON text."""
    return json.dumps(build(report), ensure_ascii=False, indent=2) + "\n"


def load(path: str) -> frozenset[str]:
    """The accepted fingerprints of a baseline file."""
    try:
        data = json.loads(read_bounded(path, BASELINE_BYTES, msg("baseline")))
    except TooLarge as exc:
        raise BaselineError(message_of(exc)) from None
    except RecursionError:
        raise BaselineError(msg("{path}: not a beian-scan baseline (nested too deeply)", path=path)) from None
    except (OSError, ValueError) as exc:
        raise BaselineError(msg("{path}: cannot read baseline: {exc}", path=path, exc=exc)) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("findings"), list):
        raise BaselineError(msg("{path}: not a beian-scan baseline (expected format {FORMAT})",
                                path=path, FORMAT=FORMAT))
    return frozenset(str(e.get("fingerprint")) for e in data["findings"] if isinstance(e, dict))
