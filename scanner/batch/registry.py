"""A platform's filing records: ``app_id,filing_number[,app_name]`` per line after a header row.

The app id is an APK's / AAB's package, a HAP's bundleName, an IPA's CFBundleIdentifier, a mini-program's
or quick app's appid / package. The records feed FIL005 (a displayed number differs from the app's own
record) and FIL008 (no record for the app). A batch judges them in its own process, from what each
worker found (scanner.batch.judge): the records are looked up per package in an ``Index`` and never
sent to the workers, so a registry of any size costs a dictionary look-up per package, and an edited
registry is judged again from the store without reading a package.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from scanner.model import Options, RuleSettings

HEADER = ("app_id", "filing_number")
MAX_FIELD = 4096
"""Characters a registry field may hold (an app id or a filing number is a few dozen)."""

Checked = tuple[str, str | None]
"""A number as written in the registry, checked: (normalized value, why it is not well formed or None)."""
NumberCache = Callable[[Mapping[str, Checked] | None, Iterable[str]], dict[str, Checked]]
"""Checks already made (the batch store keeps them): given new checks to keep and raws to look up."""


class RegistryError(ValueError):
    """The registry file cannot be used, with the line that says why."""


@dataclass(frozen=True, slots=True)
class Record:
    app_id: str
    filing_number: str
    app_name: str = ""


@dataclass(frozen=True, slots=True)
class Index:
    """The records by app id and by number, and the content hash of the file they came from."""

    by_app: dict[str, tuple[str, ...]] = field(default_factory=dict)
    by_number: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sha256: str = ""

    def __bool__(self) -> bool:
        return bool(self.by_app)

    def relevant(self, app_id: str | None, numbers: Iterable[str]) -> tuple[tuple[str, str], ...]:
        """The (app id, number) records a package's judgement needs: its own, and those holding a number
        it shows."""
        pairs = [(app_id or "", n) for n in self.by_app.get(app_id or "", ())]
        for number in numbers:
            pairs.extend((app, number) for app in self.by_number.get(number, ()))
        return tuple(dict.fromkeys(pairs))


def _decode(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read the registry ({exc.strerror or exc})") from None


def _text(path: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise RegistryError(f"{path}:{line}: the registry is not UTF-8 (a GBK file saved by Excel or WPS?): save it "
                            "as UTF-8 (Excel: Save As, \"CSV UTF-8\")") from None


def _rows(path: str, text: str) -> Iterable[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    previous = csv.field_size_limit(MAX_FIELD)  # the csv module's limit is the process's: set back after
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise RegistryError(f"{path}:{reader.line_num}: {exc}: a registry field holds an app id, a number "
                            "or a name") from None
    finally:
        csv.field_size_limit(previous)


def load(path: str, cache: NumberCache | None = None) -> tuple[Record, ...]:
    """Read and check a registry CSV (UTF-8, with or without BOM); numbers normalized as found ones are.
    ``cache`` keeps the checks of numbers across runs: an edited registry checks only its new numbers."""
    return tuple(Record(app_id, value, name) for app_id, value, name in _checked(path, _lines(path), cache))


def _lines(path: str) -> list[tuple[int, str, str, str]]:
    """(line, app id, number as written, name) of every record row, the header checked."""
    data = _decode(path)
    rows = _rows(path, _text(path, data))
    first = next(iter(rows), None)
    if first is None or tuple(c.strip().lower() for c in first[1][:2]) != HEADER:
        raise RegistryError(f"{path}:1: the first row must be the header app_id,filing_number[,app_name]")
    lines: list[tuple[int, str, str, str]] = []
    for line, row in rows:
        cells = [c.strip() for c in row[:3]]
        if len(cells) < 2 or not cells[0] or not cells[1]:
            if any(cells) or any(c.strip() for c in row[3:]):
                raise RegistryError(f"{path}:{line}: expected app_id,filing_number[,app_name]")
            continue
        lines.append((line, cells[0], cells[1], cells[2] if len(cells) > 2 else ""))
    return lines


def _checked(path: str, lines: list[tuple[int, str, str, str]], cache: NumberCache | None
             ) -> Iterable[tuple[str, str, str]]:
    """(app id, normalized number, name) of each line; the first malformed number is an error."""
    checked = _checks([number for _line, _app, number, _name in lines], cache)
    for line, app_id, number, name in lines:
        value, problem = checked[number]
        if problem:
            raise RegistryError(f"{path}:{line}: {problem}")
        yield app_id, value, name


def _checks(raws: list[str], cache: NumberCache | None) -> dict[str, Checked]:
    """Every distinct number checked once (and, with a cache, once across runs)."""
    from scanner.config import filing_number_problem
    from scanner.facts.numbers import normalize

    distinct = list(dict.fromkeys(raws))
    known = cache(None, distinct) if cache is not None else {}
    new = {raw: (normalize(raw), filing_number_problem(raw)) for raw in distinct if raw not in known}
    if cache is not None and new:
        cache(new, ())
    return {**known, **new}


def index(path: str, cache: NumberCache | None = None) -> Index:
    """The records of a registry file, indexed for look-ups per package."""
    by_app: dict[str, list[str]] = {}
    by_number: dict[str, list[str]] = {}
    for app_id, number, _name in _checked(path, _lines(path), cache):
        by_app.setdefault(app_id, []).append(number)
        by_number.setdefault(number, []).append(app_id)
    digest = hashlib.sha256(_decode(path)).hexdigest()[:16]  # the file as read: any edit is judged again
    return Index({k: tuple(dict.fromkeys(v)) for k, v in by_app.items()},
                 {k: tuple(dict.fromkeys(v)) for k, v in by_number.items()}, digest)


def with_registry(options: Options, records: tuple[Record, ...] | tuple[tuple[str, str], ...]) -> Options:
    """The options with the records as FIL005's ``expected`` map and FIL008's ``registry`` (and FIL008
    told that a registry is in force, which it is even when no record concerns the package)."""
    table = tuple((r.app_id, r.filing_number) if isinstance(r, Record) else r for r in records)
    values = [(rule, pairs) for rule, pairs in options.rules.values if rule not in ("FIL005", "FIL008")]
    fil005 = next((pairs for rule, pairs in options.rules.values if rule == "FIL005"), ())
    merged = (*(p for p in fil005 if p[0] != "expected"), ("expected", table))
    values += [("FIL005", merged), ("FIL008", (("registry", table), ("registry-in-force", True)))]
    return replace(options, rules=RuleSettings(tuple(values)))
