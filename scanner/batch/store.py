"""The batch store: one SQLite file (standard library ``sqlite3``, WAL) that a batch writes and a report reads.

Schema (version 1; ``meta.schema_version``, checked on open):
- ``runs``: one row per ``batch`` invocation (tool version, config hash, start, end, host, command);
- ``files``: every package path seen, with the size and mtime its sha256 was computed for (a resume
  re-hashes only files that changed, so 10,000 finished packages are skipped in seconds);
- ``packages``: one row per distinct content (sha256, size, the first path it was seen under);
- ``results``: one row per result of a package under a tool version and config (a folder of
  mini-programs gives several, ``member_index``), with the result's JSON exactly as ``scan --format
  json`` writes it; ``findings`` and ``facts`` hold the same data in columns for queries.
One transaction per finished package: a job killed at any point loses nothing committed, and a rerun
skips every package already scanned with the same sha256, tool version and config.
"""

from __future__ import annotations

import datetime
import json
import socket
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, tool_version TEXT NOT NULL, config_hash TEXT NOT NULL, started TEXT NOT NULL,
    ended TEXT, host TEXT NOT NULL, command TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS packages (sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, first_path TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, tool_version TEXT NOT NULL, config_hash TEXT NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs(id), member_index INTEGER NOT NULL, path TEXT NOT NULL,
    format TEXT, app_id TEXT, app_name TEXT, version TEXT, error_rule TEXT, error_message TEXT,
    seconds REAL NOT NULL, peak_rss_kib INTEGER, result_json TEXT NOT NULL,
    UNIQUE (sha256, tool_version, config_hash, member_index));
CREATE INDEX IF NOT EXISTS results_by_key ON results (sha256, tool_version, config_hash);
CREATE TABLE IF NOT EXISTS findings (
    result_id INTEGER NOT NULL REFERENCES results(id), rule_id TEXT NOT NULL, severity TEXT NOT NULL,
    message TEXT NOT NULL, member TEXT, pointer TEXT, fingerprint TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS findings_by_rule ON findings (rule_id);
CREATE TABLE IF NOT EXISTS facts (
    result_id INTEGER PRIMARY KEY REFERENCES results(id), filing_numbers TEXT NOT NULL,
    filing_links TEXT NOT NULL, permissions TEXT NOT NULL);
"""


class StoreError(ValueError):
    """The database is not a batch store this version can use."""


@dataclass(frozen=True, slots=True)
class StoredResult:
    """One stored result: the package's identity, the paths it was seen under and the JSON result."""

    sha256: str
    paths: tuple[str, ...]
    seconds: float
    peak_rss_kib: int | None
    result: dict[str, Any]


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


class Store:
    """A batch database (created when missing)."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at each checkpoint, no corruption
            self.db.execute("PRAGMA foreign_keys=ON")
            version = self._version()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: not a beian-scan batch database ({exc})") from exc
        if version is None:
            self.db.executescript(SCHEMA)
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif version != SCHEMA_VERSION:
            raise StoreError(f"{path}: batch database schema {version}, this beian-scan reads {SCHEMA_VERSION}")

    def _version(self) -> int | None:
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return None
        if "meta" not in tables:
            raise StoreError(f"{self.path}: an SQLite database, but not a beian-scan batch database")
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0]) if row else None

    def close(self) -> None:
        self.db.close()

    def start_run(self, tool_version: str, config_hash: str, command: str) -> int:
        cursor = self.db.execute("INSERT INTO runs (tool_version, config_hash, started, host, command) "
                                 "VALUES (?, ?, ?, ?, ?)", (tool_version, config_hash, _now(), socket.gethostname(),
                                                            command))
        return int(cursor.lastrowid or 0)

    def end_run(self, run_id: int) -> None:
        self.db.execute("UPDATE runs SET ended=? WHERE id=?", (_now(), run_id))

    def cached_hash(self, path: str, size: int, mtime_ns: int) -> str | None:
        row = self.db.execute("SELECT sha256 FROM files WHERE path=? AND size=? AND mtime_ns=?",
                              (path, size, mtime_ns)).fetchone()
        return row[0] if row else None

    def remember_files(self, rows: list[tuple[str, int, int, str]]) -> None:
        """Record (path, size, mtime_ns, sha256) of the files found (one transaction)."""
        with self._transaction():
            self.db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)", rows)

    def done(self, tool_version: str, config_hash: str) -> set[str]:
        """The sha256 of every package already scanned with this tool version and config."""
        rows = self.db.execute("SELECT DISTINCT sha256 FROM results WHERE tool_version=? AND config_hash=?",
                               (tool_version, config_hash))
        return {r[0] for r in rows}

    def add(self, run_id: int, sha256: str, size: int, path: str, tool_version: str, config_hash: str,
            results: list[dict[str, Any]], seconds: float, peak_rss_kib: int | None) -> None:
        """Every result of one package, its findings and facts, in one transaction."""
        with self._transaction():
            self.db.execute("INSERT OR IGNORE INTO packages VALUES (?, ?, ?)", (sha256, size, path))
            for index, result in enumerate(results):
                package, error = result["package"], result["error"] or {}
                cursor = self.db.execute(
                    "INSERT OR REPLACE INTO results (sha256, tool_version, config_hash, run_id, member_index, path, "
                    "format, app_id, app_name, version, error_rule, error_message, seconds, peak_rss_kib, "
                    "result_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (sha256, tool_version, config_hash, run_id, index, path, package.get("format"),
                     package.get("app_id"), package.get("app_name"), package.get("version"), error.get("rule_id"),
                     error.get("message"), seconds, peak_rss_kib, json.dumps(result, ensure_ascii=False)))
                result_id = cursor.lastrowid
                self.db.executemany(
                    "INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(result_id, f["rule_id"], f["severity"], f["message"], (f["location"] or {}).get("member"),
                      (f["location"] or {}).get("pointer"), f["fingerprint"]) for f in result["findings"]])
                facts = result["facts"]
                self.db.execute("INSERT OR REPLACE INTO facts VALUES (?, ?, ?, ?)",
                                (result_id, json.dumps(facts["filing_numbers"], ensure_ascii=False),
                                 json.dumps(facts["filing_links"], ensure_ascii=False),
                                 json.dumps(facts["permissions"], ensure_ascii=False)))

    def results(self) -> Iterator[StoredResult]:
        """The newest result set of every package (its latest run), largest first, with all its paths."""
        paths: dict[str, list[str]] = {}
        for path, sha in self.db.execute("SELECT path, sha256 FROM files ORDER BY path"):
            paths.setdefault(sha, []).append(path)
        query = ("SELECT r.sha256, r.path, r.seconds, r.peak_rss_kib, r.result_json FROM results r "
                 "JOIN (SELECT sha256, MAX(run_id) AS run_id FROM results GROUP BY sha256) latest "
                 "ON r.sha256 = latest.sha256 AND r.run_id = latest.run_id "
                 "JOIN packages p ON p.sha256 = r.sha256 ORDER BY p.size DESC, r.path, r.member_index")
        for sha, path, seconds, rss, text in self.db.execute(query):
            yield StoredResult(sha, tuple(paths.get(sha) or [path]), seconds, rss, json.loads(text))

    def runs(self) -> list[dict[str, Any]]:
        cursor = self.db.execute("SELECT id, tool_version, config_hash, started, ended, host, command FROM runs "
                                 "ORDER BY id")
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def _transaction(self) -> _Transaction:
        return _Transaction(self.db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on an exception (the connection is in autocommit mode)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
