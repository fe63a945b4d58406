"""A platform's filing records: ``app_id,filing_number[,app_name][,cert_md5][,public_key]`` per line after a
header row (the optional columns named in the header, in any order after the first two).

The app id is an APK's / AAB's package, a HAP's bundleName, an IPA's CFBundleIdentifier, a mini-program's
or quick app's appid / package. The records feed FIL005 (a displayed number differs from the app's own
record) and FIL008 (no record for the app). A batch judges them in its own process, from what each
worker found (scanner.batch.judge): the records are looked up per package in an ``Index`` and never
sent to the workers, so a registry of any size costs a dictionary look-up per package, and an edited
registry is judged again from the store without reading a package. A record that gives the filed
certificate (``cert_md5``: the certificate's MD5, colons allowed; ``public_key``: PEM, base64 or hex) feeds
FIL009 too: the package carrying a number or a package name on record must be the filed one.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from scanner.config import filing_number_problem
from scanner.facts.identity import expected
from scanner.facts.numbers import normalize
from scanner.i18n import msg
from scanner.model import Options, RuleSettings

HEADER = ("app_id", "filing_number")
OPTIONAL = ("app_name", "cert_md5", "public_key")
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
    cert_md5: str = ""
    """32 lower-case hex digits (normalized), or empty."""
    public_key: str = ""
    """base64 (normalized), or empty."""

    def filed(self) -> tuple[str, tuple[str, ...]]:
        """As FIL009's ``registry`` option holds a record: (app id, (number, md5, public key))."""
        return self.app_id, (self.filing_number, self.cert_md5, self.public_key)


@dataclass(frozen=True, slots=True)
class Index:
    """The records by app id and by number, and the content hash of the file they came from."""

    by_app: dict[str, tuple[str, ...]] = field(default_factory=dict)
    by_number: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sha256: str = ""
    certificates: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    """(app id, number) -> (md5, public key) of the records that give the filed certificate."""

    def __bool__(self) -> bool:
        return bool(self.by_app)

    def relevant(self, app_id: str | None, numbers: Iterable[str]) -> tuple[tuple[str, str], ...]:
        """The (app id, number) records a package's judgement needs: its own, and those holding a number
        it shows."""
        pairs = [(app_id or "", n) for n in self.by_app.get(app_id or "", ())]
        for number in numbers:
            pairs.extend((app, number) for app in self.by_number.get(number, ()))
        return tuple(dict.fromkeys(pairs))

    def filed(self, app_id: str | None, numbers: Iterable[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """The records FIL009 reads for a package, with their certificates (scanner.batch.registry.Record.filed)."""
        return tuple(Record(app, number, "", *self.certificates.get((app, number), ("", ""))).filed()
                     for app, number in self.relevant(app_id, numbers))


def _decode(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise RegistryError(msg("{path}: cannot read the registry ({value})",
                                path=path, value=exc.strerror or exc)) from None


def _text(path: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise RegistryError(msg("{path}:{line}: the registry is not UTF-8 (a GBK file saved by Excel or WPS?): save it "
                                "as UTF-8 (Excel: Save As, \"CSV UTF-8\")", path=path, line=line)) from None


def _rows(path: str, text: str) -> Iterable[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    previous = csv.field_size_limit(MAX_FIELD)  # the csv module's limit is the process's: set back after
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise RegistryError(msg("{path}:{line_num}: {exc}: a registry field holds an app id, a number or a name",
                                path=path, line_num=reader.line_num, exc=exc)) from None
    finally:
        csv.field_size_limit(previous)


def load(path: str, cache: NumberCache | None = None) -> tuple[Record, ...]:
    """Read and check a registry CSV (UTF-8, with or without BOM); numbers normalized as found ones are.
    ``cache`` keeps the checks of numbers across runs: an edited registry checks only its new numbers."""
    return tuple(_checked(path, _lines(path), cache))


Line = tuple[int, Record]
"""A record row: its line and its cells as written (the number not yet checked)."""


def _lines(path: str) -> list[Line]:
    """Every record row as written, the header checked; the optional columns found by name."""
    data = _decode(path)
    rows = _rows(path, _text(path, data))
    first = next(iter(rows), None)
    header = [c.strip().lower() for c in first[1]] if first is not None else []
    usage = "app_id,filing_number[,app_name][,cert_md5][,public_key]"
    if tuple(header[:2]) != HEADER:
        raise RegistryError(msg("{path}:1: the first row must be the header {usage}", path=path, usage=usage))
    unknown = [name for name in header[2:] if name and name not in OPTIONAL]
    if unknown:
        raise RegistryError(msg("{path}:1: unknown column {unknown} (the header is {usage})",
                                path=path, unknown=repr(unknown[0]), usage=usage))
    columns = {name: i for i, name in enumerate(header) if name in OPTIONAL}
    lines: list[Line] = []
    for line, row in rows:
        cells = [c.strip() for c in row]
        if len(cells) < 2 or not cells[0] or not cells[1]:
            if any(cells):
                raise RegistryError(msg("{path}:{line}: expected {usage}", path=path, line=line, usage=usage))
            continue
        extra = {name: cells[i] if i < len(cells) else "" for name, i in columns.items()}
        lines.append((line, Record(cells[0], cells[1], **extra)))
    return lines


def _checked(path: str, lines: list[Line], cache: NumberCache | None) -> Iterable[Record]:
    """Each record with its number normalized and its certificate fields normalized; the first malformed
    value is an error."""
    checked = _checks([record.filing_number for _line, record in lines], cache)
    for line, record in lines:
        value, problem = checked[record.filing_number]
        if problem:
            raise RegistryError(msg("{path}:{line}: {problem}", path=path, line=line, problem=problem))
        certificate = ("", "")
        if record.cert_md5 or record.public_key:
            try:
                found = expected("", record.cert_md5, record.public_key, record.cert_md5 or "public_key")
            except ValueError as exc:
                raise RegistryError(msg("{path}:{line}: {exc}", path=path, line=line, exc=exc)) from None
            certificate = (found.md5, found.public_key)
        yield Record(record.app_id, value, record.app_name, *certificate)


def _checks(raws: list[str], cache: NumberCache | None) -> dict[str, Checked]:
    """Every distinct number checked once (and, with a cache, once across runs)."""
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
    certificates: dict[tuple[str, str], tuple[str, str]] = {}
    for record in _checked(path, _lines(path), cache):
        by_app.setdefault(record.app_id, []).append(record.filing_number)
        by_number.setdefault(record.filing_number, []).append(record.app_id)
        if record.cert_md5 or record.public_key:
            certificates.setdefault((record.app_id, record.filing_number), (record.cert_md5, record.public_key))
    digest = hashlib.sha256(_decode(path)).hexdigest()[:16]  # the file as read: any edit is judged again
    return Index({k: tuple(dict.fromkeys(v)) for k, v in by_app.items()},
                 {k: tuple(dict.fromkeys(v)) for k, v in by_number.items()}, digest, certificates)


def with_registry(options: Options, records: tuple[Record, ...] | tuple[tuple[str, str], ...],
                  filed: tuple[tuple[str, tuple[str, ...]], ...] | None = None) -> Options:
    """The options with the records as FIL005's ``expected`` map, FIL008's ``registry`` (and FIL008
    told that a registry is in force, which it is even when no record concerns the package) and
    FIL009's ``registry`` (``filed``: the records with their certificates; else from ``records``)."""
    table = tuple((r.app_id, r.filing_number) if isinstance(r, Record) else r for r in records)
    if filed is None:
        filed = tuple(r.filed() if isinstance(r, Record) else Record(*r).filed() for r in records)
    values = [(rule, pairs) for rule, pairs in options.rules.values if rule not in ("FIL005", "FIL008", "FIL009")]
    fil005 = next((pairs for rule, pairs in options.rules.values if rule == "FIL005"), ())
    fil009 = next((pairs for rule, pairs in options.rules.values if rule == "FIL009"), ())
    merged = (*(p for p in fil005 if p[0] != "expected"), ("expected", table))
    values += [("FIL005", merged), ("FIL008", (("registry", table), ("registry-in-force", True))),
               ("FIL009", (*(p for p in fil009 if p[0] != "registry"), ("registry", filed)))]
    return replace(options, rules=RuleSettings(tuple(values)))
