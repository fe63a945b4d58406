"""The batch store: one SQLite file (standard library ``sqlite3``, WAL) that a batch writes and a report reads.

A platform runs the same batch every day over an upload folder that changes; the store is its audit
database: the current verdict of every package present, and the history of every run.

Schema (version 2; ``meta.schema_version``, checked on open, a version 1 store is migrated in place):
- ``runs``: one row per ``batch`` invocation (tool version, config and limits, the folders and files it
  was given, start, end, host, command, and whether it finished or was stopped);
- ``files``: every package path seen, with the size and mtime its sha256 was computed for (a resume
  re-hashes only files that changed) and whether it was present at the latest run over its folder;
- ``run_files``: the paths (and contents) each run found: what a folder held on a given day;
- ``packages``: one row per distinct content (sha256, size, the first path it was seen under);
- ``results``: one row per result of a package scanned in a run (a folder of mini-programs gives several,
  ``member_index``), with the result's JSON exactly as ``scan --format json`` writes it, why the scan
  was stopped (``aborted``) and under which limits, and what the worker gave before the batch judged
  it (``worker_json`` when judging changed it, ``basis_json``: scanner.batch.judge); a rescan or a new
  judgement adds rows, never replaces them; ``findings`` (with ``suppression``: why an accepted finding
  was accepted) and ``facts`` hold the same data in columns for queries; ``certificates`` holds the
  signing identity of each result (role ``signer``, ``lineage`` for a v3 signer's earlier certificates,
  ``profile`` for a provisioning profile's), so a store finds every upload signed by a certificate
  (``WHERE md5 = …``), the filing form's MD5 and public key beside each.
- the view ``current_results``: the current state, one row per result of each file present at the
  latest run over its folder, from the newest run that judged its content (README: "The store").
One transaction per finished package: a job killed at any point loses nothing committed. One batch
writes a store at a time (an exclusive lock on the file; a second batch is refused at once).
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os
import socket
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scanner.formatters.json_report import result_dict
from scanner.i18n import msg

if TYPE_CHECKING:
    from scanner.model import ScanResult

SCHEMA_VERSION = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, tool_version TEXT NOT NULL, config_hash TEXT NOT NULL, started TEXT NOT NULL,
    ended TEXT, host TEXT NOT NULL, command TEXT NOT NULL, limits TEXT, roots TEXT, status TEXT,
    skipped INTEGER, special INTEGER, skipped_examples TEXT);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL,
    present INTEGER NOT NULL DEFAULT 1, last_run INTEGER);
CREATE TABLE IF NOT EXISTS run_files (
    run_id INTEGER NOT NULL REFERENCES runs(id), path TEXT NOT NULL, sha256 TEXT NOT NULL,
    PRIMARY KEY (run_id, path));
CREATE TABLE IF NOT EXISTS packages (sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, first_path TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, tool_version TEXT NOT NULL, config_hash TEXT NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs(id), member_index INTEGER NOT NULL, path TEXT NOT NULL,
    format TEXT, app_id TEXT, app_name TEXT, version TEXT, error_rule TEXT, error_message TEXT,
    seconds REAL NOT NULL, peak_rss_kib INTEGER, result_json TEXT NOT NULL,
    aborted TEXT, limits TEXT, judge_hash TEXT NOT NULL DEFAULT '', worker_json TEXT, basis_json TEXT);
CREATE INDEX IF NOT EXISTS results_by_key ON results (sha256, tool_version, config_hash, run_id);
CREATE INDEX IF NOT EXISTS results_by_run ON results (sha256, run_id);
CREATE TABLE IF NOT EXISTS findings (
    result_id INTEGER NOT NULL REFERENCES results(id), rule_id TEXT NOT NULL, severity TEXT NOT NULL,
    message TEXT NOT NULL, member TEXT, pointer TEXT, fingerprint TEXT NOT NULL, suppression TEXT);
CREATE INDEX IF NOT EXISTS findings_by_rule ON findings (rule_id);
CREATE INDEX IF NOT EXISTS findings_by_result ON findings (result_id);
CREATE TABLE IF NOT EXISTS facts (
    result_id INTEGER PRIMARY KEY REFERENCES results(id), filing_numbers TEXT NOT NULL,
    filing_links TEXT NOT NULL, permissions TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS number_checks (raw TEXT PRIMARY KEY, value TEXT NOT NULL, problem TEXT);
CREATE TABLE IF NOT EXISTS certificates (
    result_id INTEGER NOT NULL REFERENCES results(id), platform TEXT NOT NULL, role TEXT NOT NULL,
    schemes TEXT NOT NULL, md5 TEXT NOT NULL, sha1 TEXT NOT NULL, sha256 TEXT NOT NULL, public_key TEXT NOT NULL,
    public_key_sha256 TEXT NOT NULL, subject TEXT NOT NULL, issuer TEXT NOT NULL, serial TEXT NOT NULL,
    not_before TEXT NOT NULL, not_after TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS certificates_by_md5 ON certificates (md5);
CREATE INDEX IF NOT EXISTS certificates_by_sha256 ON certificates (sha256);
CREATE INDEX IF NOT EXISTS certificates_by_result ON certificates (result_id);
CREATE VIEW IF NOT EXISTS current_results AS
    SELECT f.path AS file_path, r.* FROM files f JOIN results r ON r.sha256 = f.sha256
    WHERE f.present = 1 AND r.run_id = (SELECT MAX(x.run_id) FROM results x WHERE x.sha256 = f.sha256);
"""

# Version 1 kept one result set per (content, tool version, config), replaced in place (a rescan deleted
# the rows findings referenced); version 2 keeps every set. The migration rebuilds ``results`` without
# that constraint and adds the columns of the current state and of retries.
MIGRATE_1_TO_2 = """
ALTER TABLE runs ADD COLUMN limits TEXT;
ALTER TABLE runs ADD COLUMN roots TEXT;
ALTER TABLE runs ADD COLUMN status TEXT;
ALTER TABLE runs ADD COLUMN skipped INTEGER;
ALTER TABLE runs ADD COLUMN special INTEGER;
ALTER TABLE runs ADD COLUMN skipped_examples TEXT;
ALTER TABLE files ADD COLUMN present INTEGER NOT NULL DEFAULT 1;
ALTER TABLE files ADD COLUMN last_run INTEGER;
ALTER TABLE findings ADD COLUMN suppression TEXT;
CREATE TABLE results_v2 (
    id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, tool_version TEXT NOT NULL, config_hash TEXT NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs(id), member_index INTEGER NOT NULL, path TEXT NOT NULL,
    format TEXT, app_id TEXT, app_name TEXT, version TEXT, error_rule TEXT, error_message TEXT,
    seconds REAL NOT NULL, peak_rss_kib INTEGER, result_json TEXT NOT NULL,
    aborted TEXT, limits TEXT, judge_hash TEXT NOT NULL DEFAULT '', worker_json TEXT, basis_json TEXT);
INSERT INTO results_v2 SELECT id, sha256, tool_version, config_hash, run_id, member_index, path, format, app_id,
    app_name, version, error_rule, error_message, seconds, peak_rss_kib, result_json,
    CASE WHEN error_rule = 'PKG006' THEN error_message END, NULL, '', NULL, NULL FROM results;
DROP INDEX IF EXISTS results_by_key;
DROP TABLE results;
ALTER TABLE results_v2 RENAME TO results;
"""


def _certificate_rows(identity: dict[str, Any] | None) -> list[tuple[Any, ...]]:
    """The ``certificates`` rows of a result's ``package.identity``."""
    if not identity:
        return []
    found = []
    for signer in identity["signers"]:
        found.append(("signer", ",".join(signer["schemes"]), signer["certificate"]))
        found += [("lineage", ",".join(signer["schemes"]), c) for c in signer["lineage"]]
    profile = identity.get("profile") or {}
    found += [("profile", "", c) for c in profile.get("certificates", ())]
    return [(identity["platform"], role, schemes, c["md5"], c["sha1"], c["sha256"], c["public_key"],
             c["public_key_sha256"], c["subject"], c["issuer"], c["serial"], c["not_before"], c["not_after"])
            for role, schemes, c in found]


class StoreError(ValueError):
    """The store cannot be used (not a store, another version, locked, read-only, full, damaged): one line."""


@dataclass(frozen=True, slots=True)
class StoredResult:
    """One stored result: the package's identity, the paths it was seen under and the JSON result."""

    sha256: str
    paths: tuple[str, ...]
    seconds: float
    peak_rss_kib: int | None
    result: dict[str, Any]
    run_id: int = 0


@dataclass(frozen=True, slots=True)
class Previous:
    """The newest result set of a content under a tool version and config: what a rerun needs to know."""

    aborted: bool
    limits: str | None
    judge_hash: str


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def describe(exc: sqlite3.Error, path: str) -> str:
    """One line for an SQLite failure, naming the cause a person can act on."""
    text = str(exc)
    if "disk is full" in text or "database or disk is full" in text:
        return msg("{path}: the disk is full: the store cannot grow (what was committed is kept)", path=path)
    if "readonly" in text or "read-only" in text:
        return msg("{path}: the store is read-only: a batch needs to write it (a report can read it)", path=path)
    if "malformed" in text or "not a database" in text or "file is encrypted" in text:
        return msg("{path}: the store is damaged ({text}): restore it from a backup or start a new one",
                   path=path, text=text)
    if "locked" in text or "busy" in text:
        return msg("{path}: the store is locked by another process ({text})", path=path, text=text)
    if "unable to open" in text:
        return msg("{path}: cannot open the store ({text}): check the folder exists and may be written",
                   path=path, text=text)
    return msg("{path}: store error ({text})", path=path, text=text)


class Store:
    """A batch database (created when missing). ``readonly``: for reports, also on read-only media."""

    def __init__(self, path: str, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self._lock: int | None = None
        try:
            self.db = self._connect(path, readonly)
            version = self._version()
        except sqlite3.Error as exc:
            raise StoreError(self._open_failure(exc)) from None
        if readonly:
            if version is None:
                raise StoreError(msg("{path}: not a beian-scan batch database (it has no batch tables)", path=path))
            if version != SCHEMA_VERSION and version != 1:
                raise StoreError(msg("{path}: batch database schema {version}, this beian-scan reads {SCHEMA_VERSION}",
                                     path=path, version=version, SCHEMA_VERSION=SCHEMA_VERSION))
            self.version = version
            return
        self._take_lock()
        try:
            self._prepare(version)
        except sqlite3.Error as exc:
            self.close()
            raise StoreError(describe(exc, path)) from None
        self.version = SCHEMA_VERSION

    def _open_failure(self, exc: sqlite3.Error) -> str:
        folder = os.path.dirname(os.path.abspath(self.path))
        if not self.readonly and os.path.exists(self.path) and not os.access(folder, os.W_OK):
            return (msg("{path}: the folder {folder} is read-only: a batch needs to write the store and its journal "
                        "beside it (a report can read it)", path=self.path, folder=folder))
        if not self.readonly and not os.path.exists(self.path) and not os.access(folder, os.W_OK):
            return msg("{path}: cannot create the store: the folder {folder} is not writable",
                       path=self.path, folder=folder)
        if "not a database" in str(exc) or "file is encrypted" in str(exc):
            return msg("{path}: not a beian-scan batch database (not an SQLite file)", path=self.path)
        return describe(exc, self.path)

    @staticmethod
    def _connect(path: str, readonly: bool) -> sqlite3.Connection:
        if not readonly:
            if os.path.exists(path) and not os.access(path, os.W_OK):
                raise sqlite3.OperationalError("attempt to write a readonly database")
            db = sqlite3.connect(path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at each checkpoint, no corruption
            db.execute("PRAGMA foreign_keys=ON")
            return db
        if not os.path.isfile(path):
            raise sqlite3.OperationalError("unable to open database file")
        uri = "file:" + os.path.abspath(path).replace("?", "%3f").replace("#", "%23")
        try:  # read only; where the folder cannot hold the WAL's shared memory (read-only media): immutable
            db = sqlite3.connect(uri + "?mode=ro", uri=True, isolation_level=None)
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            db = sqlite3.connect(uri + "?immutable=1", uri=True, isolation_level=None)
        return db

    def _take_lock(self) -> None:
        """One writer: a second batch on the same store is refused before it writes anything."""
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            self.db.close()
            raise StoreError(msg("{path}: another batch is writing this store; run one batch per store at a time (wait "
                                 "for it to finish)", path=self.path)) from None
        self._lock = fd

    def _prepare(self, version: int | None) -> None:
        if version is None:
            self.db.executescript(SCHEMA)
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif version == 1:
            self.db.execute("PRAGMA foreign_keys=OFF")
            self.db.executescript("BEGIN IMMEDIATE;" + MIGRATE_1_TO_2 + SCHEMA +
                                  f"UPDATE meta SET value='{SCHEMA_VERSION}' WHERE key='schema_version'; COMMIT;")
            self.db.execute("PRAGMA foreign_keys=ON")
        elif version == SCHEMA_VERSION:
            self.db.executescript(SCHEMA)  # tables added within version 2 (certificates): IF NOT EXISTS
        elif version != SCHEMA_VERSION:
            raise StoreError(msg("{path}: batch database schema {version}, this beian-scan reads {SCHEMA_VERSION}",
                                 path=self.path, version=version, SCHEMA_VERSION=SCHEMA_VERSION))

    def _version(self) -> int | None:
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return None
        if "meta" not in tables:
            raise StoreError(msg("{path}: an SQLite database, but not a beian-scan batch database", path=self.path))
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None:
            return None
        try:
            return int(row[0])
        except ValueError:
            raise StoreError(msg("{path}: not a beian-scan batch database (schema_version {row})",
                                 path=self.path, row=repr(row[0]))) from None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    # -- a run -------------------------------------------------------------------------------------------

    def start_run(self, tool_version: str, config_hash: str, command: str, limits: str = "",
                  roots: Iterable[str] = ()) -> int:
        cursor = self.db.execute(
            "INSERT INTO runs (tool_version, config_hash, started, host, command, limits, roots, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'running')",
            (tool_version, config_hash, _now(), socket.gethostname(), command, limits,
             json.dumps(list(roots), ensure_ascii=False)))
        return int(cursor.lastrowid or 0)

    def note_skipped(self, run_id: int, other: int, special: int, examples: Iterable[str]) -> None:
        """What a run's walk skipped: files that are no package, special files, and some of their paths."""
        self.db.execute("UPDATE runs SET skipped=?, special=?, skipped_examples=? WHERE id=?",
                        (other, special, json.dumps(list(examples), ensure_ascii=False), run_id))

    def end_run(self, run_id: int, status: str = "complete") -> None:
        self.db.execute("UPDATE runs SET ended=?, status=? WHERE id=?", (_now(), status, run_id))

    def cached_hash(self, path: str, size: int, mtime_ns: int) -> str | None:
        row = self.db.execute("SELECT sha256 FROM files WHERE path=? AND size=? AND mtime_ns=?",
                              (path, size, mtime_ns)).fetchone()
        return row[0] if row else None

    def observe(self, run_id: int, roots: tuple[str, ...], listed: tuple[str, ...],
                rows: list[tuple[str, int, int, str]]) -> int:
        """Record what a run found (path, size, mtime_ns, sha256): those files are present, and every
        file the store knows under the run's folders (or among its listed paths) that it did not find
        is gone. Returns how many went. One transaction."""
        found = {row[0] for row in rows}
        with self._transaction():
            self.db.executemany(
                "INSERT INTO files (path, size, mtime_ns, sha256, present, last_run) VALUES (?, ?, ?, ?, 1, ?) "
                "ON CONFLICT(path) DO UPDATE SET size=excluded.size, mtime_ns=excluded.mtime_ns, "
                "sha256=excluded.sha256, present=1, last_run=excluded.last_run",
                [(*row, run_id) for row in rows])
            self.db.executemany("INSERT OR REPLACE INTO run_files VALUES (?, ?, ?)",
                                [(run_id, row[0], row[3]) for row in rows])
            gone = [path for path in self._known_under(roots, listed) if path not in found]
            self.db.executemany("UPDATE files SET present=0, last_run=? WHERE path=?", [(run_id, p) for p in gone])
        return len(gone)

    def _known_under(self, roots: tuple[str, ...], listed: tuple[str, ...]) -> set[str]:
        known: set[str] = set()
        for root in roots:
            prefix = root.rstrip(os.sep) + os.sep
            pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            known.update(r[0] for r in self.db.execute(
                "SELECT path FROM files WHERE present=1 AND (path=? OR path LIKE ? ESCAPE '\\')", (root, pattern)))
        for path in listed:
            known.update(r[0] for r in self.db.execute("SELECT path FROM files WHERE present=1 AND path=?",
                                                       (path,)))
        return known

    def previous(self, tool_version: str, config_hash: str) -> dict[str, Previous]:
        """The newest result set of every content scanned with this tool version and config."""
        rows = self.db.execute(
            "SELECT r.sha256, r.aborted, r.limits, r.judge_hash FROM results r WHERE r.tool_version=? "
            "AND r.config_hash=? AND r.member_index=0 AND r.run_id=(SELECT MAX(x.run_id) FROM results x "
            "WHERE x.sha256=r.sha256 AND x.tool_version=r.tool_version AND x.config_hash=r.config_hash)",
            (tool_version, config_hash))
        return {sha: Previous(aborted is not None, limits, accept) for sha, aborted, limits, accept in rows}

    def result_set(self, sha256: str, tool_version: str, config_hash: str
                   ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(the worker's JSON result, its basis) of a content's newest set under a tool version and config."""
        rows = self.db.execute(
            "SELECT COALESCE(worker_json, result_json), basis_json FROM results WHERE sha256=? AND tool_version=? "
            "AND config_hash=? AND run_id=(SELECT MAX(run_id) FROM results WHERE sha256=? AND tool_version=? "
            "AND config_hash=?) ORDER BY member_index",
            (sha256, tool_version, config_hash, sha256, tool_version, config_hash))
        return [(json.loads(text), json.loads(basis) if basis else {}) for text, basis in rows]

    def add(self, run_id: int, sha256: str, size: int, path: str, tool_version: str, config_hash: str,
            results: Sequence[ScanResult], seconds: float, peak_rss_kib: int | None, aborted: str | None = None,
            limits: str | None = None, judge_hash: str = "",
            found: Sequence[tuple[ScanResult, dict[str, Any]]] | None = None) -> None:
        """Every result of one package as JSON (``scan --format json``'s, with the accepted findings and
        why), its findings and facts in columns, in one transaction; ``found``: per result, the worker's
        result it was judged from and its basis (scanner.batch.judge)."""
        with self._transaction():
            self.db.execute("INSERT OR IGNORE INTO packages VALUES (?, ?, ?)", (sha256, size, path))
            for index, result in enumerate(results):
                worker, basis = found[index] if found and index < len(found) else (result, {})
                data = result_dict(result, accepted=True, every_language=True)
                before = data if worker is result else result_dict(worker, accepted=True, every_language=True)
                self._add_result(run_id, sha256, path, tool_version, config_hash, index, data, seconds,
                                 peak_rss_kib, aborted, limits, judge_hash, None if before == data else before, basis)

    def _add_result(self, run_id: int, sha256: str, path: str, tool_version: str, config_hash: str, index: int,
                    result: dict[str, Any], seconds: float, peak_rss_kib: int | None, aborted: str | None,
                    limits: str | None, judge_hash: str, worker: dict[str, Any] | None,
                    basis: dict[str, Any]) -> None:
        package, error = result["package"], result["error"] or {}
        cursor = self.db.execute(
            "INSERT INTO results (sha256, tool_version, config_hash, run_id, member_index, path, format, app_id, "
            "app_name, version, error_rule, error_message, seconds, peak_rss_kib, result_json, aborted, limits, "
            "judge_hash, worker_json, basis_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sha256, tool_version, config_hash, run_id, index, path, package.get("format"), package.get("app_id"),
             package.get("app_name"), package.get("version"), error.get("rule_id"), error.get("message"), seconds,
             peak_rss_kib, json.dumps(result, ensure_ascii=False), aborted, limits, judge_hash,
             None if worker is None else json.dumps(worker, ensure_ascii=False),
             json.dumps(basis) if basis else None))
        result_id = cursor.lastrowid
        listed = [(f, None) for f in result["findings"]] + [(f, f.get("suppression") or "accepted")
                                                            for f in result.get("suppressed", ())]
        self.db.executemany(
            "INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(result_id, f["rule_id"], f["severity"], f["message"], (f["location"] or {}).get("member"),
              (f["location"] or {}).get("pointer"), f["fingerprint"], why) for f, why in listed])
        self.db.executemany("INSERT INTO certificates VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [(result_id, *row) for row in _certificate_rows(package.get("identity"))])
        facts = result["facts"]
        self.db.execute("INSERT INTO facts VALUES (?, ?, ?, ?)",
                        (result_id, json.dumps(facts["filing_numbers"], ensure_ascii=False),
                         json.dumps(facts["filing_links"], ensure_ascii=False),
                         json.dumps(facts["permissions"], ensure_ascii=False)))

    # -- reading -----------------------------------------------------------------------------------------

    def results(self, run: int | None = None, history: bool = False) -> Iterator[StoredResult]:
        """The current state (default): the newest result set of every content present at the latest run
        over its folder, largest first, with every present path; ``run``: the files run N found, each
        with the newest set judged up to that run; ``history``: every result set ever stored."""
        if self.version == 1:  # a store not migrated yet (read only): its newest sets
            yield from self._results_v1()
            return
        if history:
            query = ("SELECT r.sha256, r.run_id, r.path, r.seconds, r.peak_rss_kib, r.result_json FROM results r "
                     "JOIN packages p ON p.sha256 = r.sha256 ORDER BY r.run_id, p.size DESC, r.path, r.member_index")
            for sha, run_id, path, seconds, rss, text in self.db.execute(query):
                yield StoredResult(sha, (path,), seconds, rss, json.loads(text), run_id)
            return
        if run is None:
            paths = self._paths("SELECT path, sha256 FROM files WHERE present=1 ORDER BY path", ())
            latest = "SELECT sha256, MAX(run_id) AS run_id FROM results GROUP BY sha256"
            args: tuple[Any, ...] = ()
        else:
            paths = self._paths("SELECT path, sha256 FROM run_files WHERE run_id=? ORDER BY path", (run,))
            latest = "SELECT sha256, MAX(run_id) AS run_id FROM results WHERE run_id <= ? GROUP BY sha256"
            args = (run,)
        query = ("SELECT r.sha256, r.run_id, r.seconds, r.peak_rss_kib, r.result_json FROM results r "
                 f"JOIN ({latest}) latest ON r.sha256 = latest.sha256 AND r.run_id = latest.run_id "
                 "JOIN packages p ON p.sha256 = r.sha256 ORDER BY p.size DESC, r.path, r.member_index")
        for sha, run_id, seconds, rss, text in self.db.execute(query, args):
            if sha in paths:
                result = json.loads(text)
                yield StoredResult(sha, tuple(paths[sha]), seconds, rss, result, run_id)

    def _paths(self, query: str, args: tuple[Any, ...]) -> dict[str, list[str]]:
        paths: dict[str, list[str]] = {}
        for path, sha in self.db.execute(query, args):
            paths.setdefault(sha, []).append(path)
        return paths

    def _results_v1(self) -> Iterator[StoredResult]:
        paths = self._paths("SELECT path, sha256 FROM files ORDER BY path", ())
        query = ("SELECT r.sha256, r.run_id, r.path, r.seconds, r.peak_rss_kib, r.result_json FROM results r "
                 "JOIN (SELECT sha256, MAX(run_id) AS run_id FROM results GROUP BY sha256) latest "
                 "ON r.sha256 = latest.sha256 AND r.run_id = latest.run_id "
                 "JOIN packages p ON p.sha256 = r.sha256 ORDER BY p.size DESC, r.path, r.member_index")
        for sha, run_id, path, seconds, rss, text in self.db.execute(query):
            yield StoredResult(sha, tuple(paths.get(sha) or [path]), seconds, rss, json.loads(text), run_id)

    def runs(self) -> list[dict[str, Any]]:
        columns = "id, tool_version, config_hash, started, ended, host, command"
        if self.version >= 2:
            columns += ", status, skipped, special, skipped_examples"
        cursor = self.db.execute(f"SELECT {columns} FROM runs ORDER BY id")
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def number_checks(self, new: Mapping[str, tuple[str, str | None]] | None, raws: Iterable[str]
                      ) -> dict[str, tuple[str, str | None]]:
        """The registry's number checks kept across runs (scanner.batch.registry.NumberCache): keeps
        ``new`` ones, returns those known of ``raws``."""
        if new:
            with self._transaction():
                self.db.executemany("INSERT OR REPLACE INTO number_checks VALUES (?, ?, ?)",
                                    [(raw, value, problem) for raw, (value, problem) in new.items()])
        wanted = set(raws)
        if not wanted:
            return {}
        rows = self.db.execute("SELECT raw, value, problem FROM number_checks")
        return {raw: (value, problem) for raw, value, problem in rows if raw in wanted}

    def has_run(self, run_id: int) -> bool:
        return self.db.execute("SELECT 1 FROM runs WHERE id=?", (run_id,)).fetchone() is not None

    def _transaction(self) -> _Transaction:
        return _Transaction(self.db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on an exception (the connection is in autocommit mode)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        if kind is None:
            self.db.execute("COMMIT")
        else:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("ROLLBACK")
