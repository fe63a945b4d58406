"""A platform's filing records: ``app_id,filing_number[,app_name]`` per line after a header row.

The app id is an APK's / AAB's package, a HAP's bundleName, an IPA's CFBundleIdentifier, a mini-program's
or quick app's appid / package. The records feed FIL005 (a displayed number differs from the app's own
record) and FIL008 (no record for the app, or a shown number no record holds).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace

from scanner.model import Options, RuleSettings

HEADER = ("app_id", "filing_number")


class RegistryError(ValueError):
    """The registry file cannot be used, with the line that says why."""


@dataclass(frozen=True, slots=True)
class Record:
    app_id: str
    filing_number: str
    app_name: str = ""


def load(path: str) -> tuple[Record, ...]:
    """Read and check a registry CSV (UTF-8, with or without BOM); numbers normalized as found ones are."""
    from scanner.config import filing_number_problem
    from scanner.facts.numbers import normalize

    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{path}: cannot read the registry ({exc})") from exc
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(c.strip().lower() for c in rows[0][:2]) != HEADER:
        raise RegistryError(f"{path}:1: the first row must be the header app_id,filing_number[,app_name]")
    records = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise RegistryError(f"{path}:{line}: expected app_id,filing_number[,app_name]")
        number = row[1].strip()
        problem = filing_number_problem(number)
        if problem:
            raise RegistryError(f"{path}:{line}: {problem}")
        records.append(Record(row[0].strip(), normalize(number), row[2].strip() if len(row) > 2 else ""))
    return tuple(records)


def with_registry(options: Options, records: tuple[Record, ...]) -> Options:
    """The options with the records as FIL005's ``expected`` map and FIL008's ``registry``."""
    if not records:
        return options
    table = tuple((r.app_id, r.filing_number) for r in records)
    values = [(rule, pairs) for rule, pairs in options.rules.values if rule not in ("FIL005", "FIL008")]
    fil005 = next((pairs for rule, pairs in options.rules.values if rule == "FIL005"), ())
    merged = (*(p for p in fil005 if p[0] != "expected"), ("expected", table))
    values += [("FIL005", merged), ("FIL008", (("registry", table),))]
    return replace(options, rules=RuleSettings(tuple(values)))
