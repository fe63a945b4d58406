"""Suppression files: accept a known finding with a reason, optionally until a date.

One suppression per line: ``PACKAGE-GLOB  RULE-ID  [until=YYYY-MM-DD]  REASON…``; ``#`` starts a
comment. The glob is matched against the app id, the file name and the path of the package. A reason
is required. After its date a suppression stops working and the run says so (checkov's skip-with-reason
and the "accepted with owner/reason/expiry" practice, peers-and-conventions.md §4.5).
"""

from __future__ import annotations

import datetime
import fnmatch
import os
import re
from collections.abc import Collection
from dataclasses import dataclass

from scanner.files import SUPPRESSIONS_BYTES, TooLarge, read_bounded
from scanner.i18n import message_of, msg
from scanner.model import ReportedFinding, RuleId

_RULE = re.compile(r"^[A-Z]{3}\d{3}$")
UNREADABLE = frozenset({"PKG001", "PKG002"})
"""Results that could not be scanned, not findings: accepting one would hide an unread package."""


class SuppressionError(ValueError):
    """A malformed suppression line (exit code 2); the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Suppression:
    """One accepted finding pattern."""

    package: str
    rule_id: RuleId
    reason: str
    until: datetime.date | None
    line: int

    def matches(self, finding: ReportedFinding, identities: tuple[str, ...]) -> bool:
        """Same rule, and the glob matches one of the package's identities."""
        return finding.rule_id == self.rule_id and any(fnmatch.fnmatchcase(i, self.package) for i in identities)

    def expired(self, today: datetime.date) -> bool:
        """True after the ``until`` date."""
        return self.until is not None and today > self.until


def parse_line(text: str, line: int, source: str, known: Collection[str] | None = None) -> Suppression | None:
    """One line of a suppression file (None for blanks and comments)."""
    body = text.split("#", 1)[0].strip()
    if not body:
        return None
    parts = body.split(None, 2)
    if len(parts) < 3:
        raise SuppressionError(msg("{source}:{line}: expected 'PACKAGE-GLOB RULE-ID REASON', a reason is required",
                                   source=source, line=line))
    package, rule_id, rest = parts
    if not _RULE.match(rule_id):
        raise SuppressionError(msg("{source}:{line}: {rule_id} is not a rule id (e.g. FIL007)",
                                   source=source, line=line, rule_id=repr(rule_id)))
    if rule_id in UNREADABLE:
        raise SuppressionError(msg("{source}:{line}: {rule_id} means the package could not be read; it cannot be "
                                   "suppressed", source=source, line=line, rule_id=rule_id))
    if known is not None and rule_id not in known:
        raise SuppressionError(msg("{source}:{line}: there is no rule {rule_id} (beian-scan rules lists them)",
                                   source=source, line=line, rule_id=rule_id))
    until = None
    if rest.startswith("until="):
        stamp, _, rest = rest.partition(" ")
        try:
            until = datetime.date.fromisoformat(stamp.removeprefix("until="))
        except ValueError as exc:
            raise SuppressionError(msg("{source}:{line}: {stamp} is not a date (until=YYYY-MM-DD)",
                                       source=source, line=line, stamp=repr(stamp))) from exc
    if not rest.strip():
        raise SuppressionError(msg("{source}:{line}: a reason is required after the rule id", source=source, line=line))
    return Suppression(package, RuleId(rule_id), rest.strip(), until, line)


def load(path: str, known: Collection[str] | None = None) -> tuple[Suppression, ...]:
    """Every suppression of a file; with ``known``, a rule id outside it is an error naming it."""
    try:
        lines = read_bounded(path, SUPPRESSIONS_BYTES, msg("suppressions file")).decode("utf-8").splitlines()
    except TooLarge as exc:
        raise SuppressionError(message_of(exc)) from None
    except UnicodeDecodeError as exc:
        raise SuppressionError(msg("{path}: cannot read suppressions: not UTF-8 ({reason})",
                                   path=path, reason=exc.reason)) from None
    except OSError as exc:
        raise SuppressionError(msg("{path}: cannot read suppressions: {value}",
                                   path=path, value=exc.strerror or exc)) from exc
    found = (parse_line(text, number, path, known) for number, text in enumerate(lines, 1))
    return tuple(s for s in found if s is not None)


def identities(path: str, app_id: str | None) -> tuple[str, ...]:
    """What a package glob is matched against."""
    return tuple(x for x in (app_id, os.path.basename(path.rstrip("/")), path) if x)
