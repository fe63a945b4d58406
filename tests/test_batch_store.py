"""The batch as an app store runs it every day: the same command over an upload folder that changes.

Each test is one defect a reviewer hit (issue 22): the current state and the history, stopped results
retried, Ctrl-C, accepted findings, special files, safe exports, the store's own faults, workers that
import the installed scanner and say why they died, the Python API from a plain script."""

from __future__ import annotations

import csv
import fcntl
import io
import json
import operator
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scanner.batch import report, runner, store, worker
from scanner.config import Policy
from scanner.model import Options

from conftest import APKS, ENTRY_POINT, FIXTURES, MINIPROGRAMS, ROOT

FIXTURES_KEY_MD5 = "176db77bc9f378fa3110b6c31e084aae"
"""The MD5 of fixtures/keys/fixtures.keystore's certificate (apksigner verify --print-certs)."""
ROTATED_KEY_MD5 = "509c7d81841691c59d4f835060aac70a"
"""fixtures/keys/rotated.keystore's: the current signer of signed_v3_rotated.apk."""


def _cli(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ENTRY_POINT), *args], capture_output=True, text=True, check=False, timeout=timeout,
                          cwd=cwd)


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def _uploads(tmp_path: Path, names: tuple[str, ...] = ("compliant", "no_number", "malformed_number")) -> Path:
    root = tmp_path / "uploads"
    root.mkdir()
    for index, name in enumerate(names):
        shutil.copy(APKS / f"{name}.apk", root / f"upload_{40 + index}.apk")
    return root


class TestCurrentState:
    def test_a_replaced_and_a_deleted_upload(self, tmp_path):
        root = _uploads(tmp_path)
        db = tmp_path / "audit.sqlite"
        assert _cli("batch", str(root), "--db", str(db)).returncode == 0
        shutil.copy(APKS / "website_number.apk", root / "upload_42.apk")  # a new build of upload_42
        (root / "upload_41.apk").unlink()
        second = _cli("batch", str(root), "--db", str(db))
        assert second.returncode == 0 and "1 to scan" in second.stderr
        assert "gone since the last run" in second.stdout
        now = _csv_rows(_cli("report", str(db), "--format", "csv").stdout)
        assert sorted(Path(r["path"]).name for r in now) == ["upload_40.apk", "upload_42.apk"]
        (new,) = [r for r in now if r["path"].endswith("upload_42.apk")]
        assert "FIL003" in new["rules"]  # the new build's verdict, not the old one's FIL002
        first_day = _csv_rows(_cli("report", str(db), "--format", "csv", "--run", "1").stdout)
        assert sorted(Path(r["path"]).name for r in first_day) == ["upload_40.apk", "upload_41.apk", "upload_42.apk"]
        (old,) = [r for r in first_day if r["path"].endswith("upload_42.apk")]
        assert "FIL002" in old["rules"] and "FIL003" not in old["rules"]
        history = _csv_rows(_cli("report", str(db), "--format", "csv", "--history").stdout)
        assert [r["run"] for r in history].count("1") == 3 and [r["run"] for r in history].count("2") == 1
        with sqlite3.connect(db) as connection:  # the README's SQL: the view of the current state
            paths = sorted(Path(r[0]).name for r in connection.execute("SELECT file_path FROM current_results"))
        assert paths == ["upload_40.apk", "upload_42.apk"]

    def test_unknown_run_is_a_usage_error(self, tmp_path):
        db = tmp_path / "audit.sqlite"
        _cli("batch", str(_uploads(tmp_path, ("compliant",))), "--db", str(db))
        done = _cli("report", str(db), "--run", "7")
        assert done.returncode == 2 and "no run 7" in done.stderr

    def test_summary_shows_the_store_totals_after_a_no_op_rerun(self, tmp_path):
        root = _uploads(tmp_path)
        db = tmp_path / "audit.sqlite"
        _cli("batch", str(root), "--db", str(db))
        again = _cli("batch", str(root), "--db", str(db))
        packages = next(line for line in again.stdout.splitlines() if line.startswith("packages scanned"))
        errors = next(line for line in again.stdout.splitlines() if line.startswith("findings: error"))
        assert packages.split()[-2:] == ["0", "3"]
        assert errors.split()[-2] == "0" and int(errors.split()[-1]) > 0

    def test_a_version_1_store_is_migrated(self, tmp_path):
        db = tmp_path / "old.sqlite"
        root = _uploads(tmp_path, ("no_number",))
        path = str(root / "upload_40.apk")
        result = json.loads(_cli("scan", path, "--format", "json").stdout)["results"][0]
        with sqlite3.connect(db) as connection:
            connection.executescript(V1_SCHEMA)
            connection.execute("INSERT INTO meta VALUES ('schema_version', '1')")
            connection.execute("INSERT INTO runs VALUES (1, 'old', 'c', 'then', 'then', 'h', 'batch')")
            connection.execute("INSERT INTO packages VALUES ('a', 1, ?)", (path,))
            stat = os.stat(path)
            connection.execute("INSERT INTO files VALUES (?, ?, ?, 'a')", (path, stat.st_size, stat.st_mtime_ns))
            connection.execute("INSERT INTO results (id, sha256, tool_version, config_hash, run_id, member_index, "
                               "path, seconds, result_json) VALUES (1, 'a', 'old', 'c', 1, 0, ?, 0.1, ?)",
                               (path, json.dumps(result)))
            connection.execute("INSERT INTO findings VALUES (1, 'FIL001', 'error', 'm', NULL, NULL, 'f')")
        before = _csv_rows(_cli("report", str(db), "--format", "csv").stdout)  # read as it is, not migrated
        assert [r["path"] for r in before] == [path]
        assert _cli("batch", str(root), "--db", str(db)).returncode == 0
        with sqlite3.connect(db) as connection:
            assert connection.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("2",)
            assert connection.execute("SELECT count(*) FROM findings WHERE result_id=1").fetchone() == (1,)
        assert [r["path"] for r in _csv_rows(_cli("report", str(db), "--format", "csv").stdout)] == [path]


V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (id INTEGER PRIMARY KEY, tool_version TEXT NOT NULL, config_hash TEXT NOT NULL,
    started TEXT NOT NULL, ended TEXT, host TEXT NOT NULL, command TEXT NOT NULL);
CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL);
CREATE TABLE packages (sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, first_path TEXT NOT NULL);
CREATE TABLE results (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, tool_version TEXT NOT NULL,
    config_hash TEXT NOT NULL, run_id INTEGER NOT NULL REFERENCES runs(id), member_index INTEGER NOT NULL,
    path TEXT NOT NULL, format TEXT, app_id TEXT, app_name TEXT, version TEXT, error_rule TEXT, error_message TEXT,
    seconds REAL NOT NULL, peak_rss_kib INTEGER, result_json TEXT NOT NULL,
    UNIQUE (sha256, tool_version, config_hash, member_index));
CREATE INDEX results_by_key ON results (sha256, tool_version, config_hash);
CREATE TABLE findings (result_id INTEGER NOT NULL REFERENCES results(id), rule_id TEXT NOT NULL,
    severity TEXT NOT NULL, message TEXT NOT NULL, member TEXT, pointer TEXT, fingerprint TEXT NOT NULL);
CREATE TABLE facts (result_id INTEGER PRIMARY KEY REFERENCES results(id), filing_numbers TEXT NOT NULL,
    filing_links TEXT NOT NULL, permissions TEXT NOT NULL);
"""


class TestRetries:
    def test_a_stopped_package_is_retried_when_the_limits_change(self, tmp_path):
        db = store.Store(str(tmp_path / "audit.sqlite"))
        paths = (str(APKS / "large_bundle.apk"),)
        try:
            _plan, tally = runner.run(db, runner.Request(paths, limits=worker.WorkerLimits(60, 1 << 20)))
            assert tally.aborted == 1
            same, _tally = runner.run(db, runner.Request(paths, limits=worker.WorkerLimits(60, 1 << 20)))
            assert not same.jobs  # the same limits: stopped is what it gives
            again, tally = runner.run(db, runner.Request(paths, limits=worker.WorkerLimits(60, None)))
            assert again.retried == 1 and tally.aborted == 0
            (item,) = db.results()
            assert item.result["error"] is None
        finally:
            db.close()

    def test_retry_aborted_on_request(self, tmp_path):
        db = tmp_path / "audit.sqlite"
        with store.Store(str(db)) as opened:
            runner.run(opened, runner.Request((str(APKS / "large_bundle.apk"),), limits=worker.WorkerLimits(0.001)))
        # The command line's limits differ from those (timeout 0.001 s); the same command again says so too.
        done = _cli("batch", str(APKS / "large_bundle.apk"), "--db", str(db), "--retry-aborted")
        assert "1 to scan (1 stopped before, scanned again)" in done.stderr
        assert "stopped before, retried" in done.stdout


class TestWorkers:
    def test_the_working_directory_is_not_imported(self, tmp_path):
        """A clone's scanner/ folder in the working directory: workers import the installed package."""
        clone = tmp_path / "clone"
        shutil.copytree(ROOT / "scanner", clone / "scanner", ignore=shutil.ignore_patterns("__pycache__"))
        fake = clone / "scanner" / "batch" / "worker.py"
        fake.write_text(fake.read_text(encoding="utf-8") + "\n\ndef _child(*args):\n    raise SystemExit("
                        "'the clone, not the installed scanner')\n", encoding="utf-8")
        done = _cli("batch", str(APKS / "compliant.apk"), "--db", str(tmp_path / "a.sqlite"), cwd=clone)
        assert done.returncode == 0, done.stderr
        with sqlite3.connect(tmp_path / "a.sqlite") as connection:
            assert connection.execute("SELECT error_rule, error_message FROM results").fetchall() == [(None, None)]

    def test_a_dead_worker_says_why(self):
        job = worker.Job(str(APKS / "compliant.apk"), "x", 1)
        outcome = worker.run(job, _Unpicklable(), Policy(), worker.WorkerLimits(timeout=60))  # type: ignore[arg-type]
        assert outcome.aborted == ("the worker process exited with status 1 before reporting; it was replaced "
                                   "(ZeroDivisionError: division by zero)")

    def test_the_last_line_keeps_no_path_of_the_machine(self):
        line = worker.last_line(b"Traceback\n  File x\nImportError: /opt/venv/lib/python3.11/site-packages/"
                                b"cryptography/hazmat/bindings/_rust.abi3.so: failed to map segment\x1b[2J\n")
        assert line == "ImportError: _rust.abi3.so: failed to map segment [2J"

    @pytest.mark.parametrize("name", ["no_number.ipa", "compliant.wxapkg", "compliant.apk", "encrypted_nokey.wxapkg"])
    @pytest.mark.parametrize("limit", [1 << 20, 64 << 20])
    def test_out_of_memory_is_the_limit_never_an_unreadable_package(self, name, limit):
        folder = {"ipa": FIXTURES / "ios" / "out", "apk": APKS}.get(name.rsplit(".", 1)[1], MINIPROGRAMS / "out")
        outcome = worker.run(worker.Job(str(folder / name), "x", 1), Options(), Policy(),
                             worker.WorkerLimits(60, limit))
        (result,) = outcome.results
        error = result.error
        if limit == 64 << 20:  # a small package within a limit the command line accepts: read in full
            assert error is None or error.rule_id == "PKG002", error
        else:
            assert error is None or error.rule_id == "PKG002" or (
                error.rule_id == "PKG006" and "over --max-memory (1 MiB)" in error.message), error

    def test_api_at_a_script_top_level_fails_at_once_and_commits_nothing(self, tmp_path):
        db = tmp_path / "audit.sqlite"
        script = tmp_path / "audit.py"
        script.write_text("from scanner.api import batch\n"
                          f"for item in batch([{str(APKS / 'compliant.apk')!r}], db={str(db)!r}):\n"
                          "    print(item.path)\n", encoding="utf-8")
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 1
        last = done.stderr.strip().splitlines()[-1]
        assert last.startswith("scanner.batch.worker.WorkerStartError:") and '__name__ == "__main__"' in last
        assert done.stderr.count("Traceback") == 1
        assert not db.exists() or not sqlite3.connect(db).execute("SELECT count(*) FROM results").fetchone()[0]

    def test_api_under_the_main_guard_works(self, tmp_path):
        script = tmp_path / "audit.py"
        script.write_text("from scanner.api import batch\n"
                          "if __name__ == '__main__':\n"
                          f"    for item in batch([{str(APKS / 'compliant.apk')!r}]):\n"
                          "        print(item.path, item.aborted)\n", encoding="utf-8")
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0 and done.stdout.strip().endswith("compliant.apk None"), done.stderr


class _Unpicklable:
    """Options that cannot be unpickled in the worker: it dies before its scan, with a traceback."""

    def __reduce__(self):
        return operator.truediv, (1, 0)


def _many(tmp_path: Path, count: int) -> Path:
    root = tmp_path / "many"
    root.mkdir()
    data = (APKS / "large_bundle.apk").read_bytes()
    for n in range(count):
        (root / f"app{n:02d}.apk").write_bytes(data + b"\0" * n)
    return root


def _results(db: Path) -> int:
    try:
        with sqlite3.connect(db) as connection:
            return connection.execute("SELECT count(*) FROM results").fetchone()[0]
    except sqlite3.Error:
        return 0


class TestCtrlC:
    def _start(self, tmp_path: Path, count: int = 30) -> tuple[subprocess.Popen[str], Path, Path]:
        root, db = _many(tmp_path, count), tmp_path / "audit.sqlite"
        process = subprocess.Popen([str(ENTRY_POINT), "batch", str(root), "--db", str(db), "--jobs", "1"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while _results(db) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        return process, root, db

    def test_first_ctrl_c_finishes_running_packages_and_exits_130(self, tmp_path):
        process, root, db = self._start(tmp_path)
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=60)
        assert process.returncode == 130, err
        committed = _results(db)
        assert 2 <= committed < 30 and "stopping" in err
        with sqlite3.connect(db) as connection:
            assert connection.execute("SELECT status FROM runs").fetchall() == [("stopped",)]
            assert connection.execute("SELECT count(*) FROM results WHERE aborted IS NOT NULL").fetchone() == (0,)
        rerun = _cli("batch", str(root), "--db", str(db))
        assert rerun.returncode == 0 and f"{30 - committed} to scan" in rerun.stderr

    def test_second_ctrl_c_stops_at_once(self, tmp_path):
        process, _root, db = self._start(tmp_path)
        process.send_signal(signal.SIGINT)
        time.sleep(0.01)
        process.send_signal(signal.SIGINT)  # may land after the run: the batch still owns Ctrl-C then
        started = time.monotonic()
        _out, err = process.communicate(timeout=60)
        assert process.returncode == 130 and time.monotonic() - started < 3, err
        assert "stopping: no more packages are started" in err
        assert _results(db) < 30

    @pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
    def test_a_running_package_is_stopped_after_the_grace_or_at_once(self, tmp_path):
        """A worker that never finishes (reading a FIFO): the first request gives it the grace, then it is
        stopped; nothing of it is yielded (so nothing is committed)."""
        os.mkfifo(tmp_path / "never.apk")
        job = worker.Job(str(tmp_path / "never.apk"), "x", 0)
        for second_press in (False, True):
            stop = runner.Stop(grace=1.0)
            threading = __import__("threading")
            threading.Timer(0.3, stop.request).start()
            if second_press:
                threading.Timer(0.4, stop.request).start()
            started = time.monotonic()
            outcomes = list(runner.execute((job,), runner.Request(limits=worker.WorkerLimits(timeout=60)), stop))
            took = time.monotonic() - started
            assert [o.interrupted for o in outcomes] == [True]
            assert (0.35 < took < 1.0) if second_press else (1.2 < took < 2.5), took


class TestAcceptedFindings:
    def test_suppressions_and_their_reasons_are_stored_and_changes_are_judged_without_rescanning(self, tmp_path):
        root = _uploads(tmp_path, ("no_number", "compliant"))
        db = tmp_path / "audit.sqlite"
        accepted = tmp_path / "accepted.txt"
        accepted.write_text("upload_40.apk FIL001 the number is shown by the server (ticket 42)\n", encoding="utf-8")
        assert _cli("batch", str(root), "--db", str(db), "--suppressions", str(accepted)).returncode == 0
        with sqlite3.connect(db) as connection:
            rows = connection.execute("SELECT suppression FROM findings WHERE rule_id='FIL001'").fetchall()
        assert rows == [("suppressed: the number is shown by the server (ticket 42)",)]
        now = _csv_rows(_cli("report", str(db), "--format", "csv").stdout)
        assert "FIL001" not in next(r for r in now if r["path"].endswith("upload_40.apk"))["rules"]
        again = _cli("batch", str(root), "--db", str(db))  # the suppression withdrawn: judged again, not read again
        assert "0 to scan; 2 judged again" in again.stderr, again.stderr
        now = _csv_rows(_cli("report", str(db), "--format", "csv").stdout)
        assert "FIL001" in next(r for r in now if r["path"].endswith("upload_40.apk"))["rules"]

    def test_suppressions_from_the_config_file(self, tmp_path):
        root = _uploads(tmp_path, ("no_number",))
        (tmp_path / "accepted.txt").write_text("* FIL001 shown at run time\n", encoding="utf-8")
        (tmp_path / ".beian-scan.toml").write_text('suppressions = "accepted.txt"\n', encoding="utf-8")
        assert _cli("batch", str(root), "--db", "audit.sqlite", cwd=tmp_path).returncode == 0
        with sqlite3.connect(tmp_path / "audit.sqlite") as connection:
            assert connection.execute("SELECT suppression FROM findings WHERE rule_id='FIL001'").fetchall() == [
                ("suppressed: shown at run time",)]


class TestSpecialFiles:
    @pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
    def test_a_fifo_named_apk(self, tmp_path):
        root = _uploads(tmp_path, ("compliant",))
        os.mkfifo(root / "x.apk")
        done = _cli("batch", str(root), "--db", str(tmp_path / "a.sqlite"), timeout=60)
        assert done.returncode == 0 and "1 special file(s) (FIFO, socket, device) skipped" in done.stderr
        scanned = _cli("scan", str(root / "x.apk"), timeout=60)
        assert scanned.returncode == 2 and "x.apk is a FIFO, not a package file" in scanned.stderr


class TestExports:
    def _store(self, tmp_path: Path) -> Path:
        root = _uploads(tmp_path, ("compliant", "compliant"))  # the same content twice
        db = tmp_path / "audit.sqlite"
        _cli("batch", str(root), "--db", str(db))
        return db

    @pytest.mark.parametrize("fmt", ["json", "jsonl", "sarif", "csv"])
    def test_every_path_of_a_duplicate(self, tmp_path, fmt):
        db = self._store(tmp_path)
        if fmt == "sarif":  # a finding is needed for SARIF to list a package: ask for an impossible number
            (tmp_path / "c.toml").write_text('expect-filing = ["京ICP备00000001号-1A"]\n', encoding="utf-8")
            _cli("batch", str(tmp_path / "uploads"), "--db", str(db), "--config", str(tmp_path / "c.toml"))
        text = _cli("report", str(db), "--format", fmt).stdout
        assert "upload_40.apk" in text and "upload_41.apk" in text

    def test_every_csv_cell_is_guarded(self, tmp_path):
        hostile = "@SUM(1+1)*cmd|' /C calc'!A0"
        result = {"package": {"path": "=HYPERLINK(\"x\")", "format": "rpk", "sha256": None, "app_id": hostile,
                              "app_name": "+ok", "version": "-1+2"},
                  "error": None, "facts": {"filing_numbers": [], "filing_links": [],
                                           "permissions": {"requested": [], "sensitive": [], "declared": [],
                                                           "undeclared": []}},
                  "findings": []}
        item = store.StoredResult("a" * 64, ("=HYPERLINK(\"x\")", "-other"), 1.0, None, result)
        (row,) = _csv_rows(report.render([item], "csv"))
        assert row["app_id"] == "'" + hostile and row["app_name"] == "'+ok" and row["version"] == "'-1+2"
        assert row["path"].startswith("'=") and row["other_paths"] == "'-other"
        assert row["errors"] == "0"

    def test_csv_file_has_a_bom_for_spreadsheets(self, tmp_path):
        db = self._store(tmp_path)
        out = tmp_path / "audit.csv"
        assert _cli("report", str(db), "--format", "csv", "-o", str(out)).returncode == 0
        assert out.read_bytes().startswith(b"\xef\xbb\xbfpath,")
        assert not _cli("report", str(db), "--format", "csv").stdout.startswith("\ufeff")


class TestStoreFaults:
    def _db(self, tmp_path: Path) -> tuple[Path, Path]:
        root = _uploads(tmp_path, ("compliant",))
        db = tmp_path / "audit.sqlite"
        assert _cli("batch", str(root), "--db", str(db)).returncode == 0
        return root, db

    def test_a_second_batch_on_the_same_store_is_refused(self, tmp_path):
        root, db = self._db(tmp_path)
        with open(db, "rb") as held:
            fcntl.flock(held.fileno(), fcntl.LOCK_EX)
            done = _cli("batch", str(root), "--db", str(db))
        assert done.returncode == 2 and "another batch is writing this store" in done.stderr
        assert "Traceback" not in done.stderr

    @pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes read-only files")
    def test_a_read_only_store(self, tmp_path):
        root, db = self._db(tmp_path)
        db.chmod(0o444)
        try:
            done = _cli("batch", str(root), "--db", str(db))
            assert done.returncode == 2 and "read-only" in done.stderr and "Traceback" not in done.stderr
            assert "upload_40.apk" in _cli("report", str(db), "--format", "csv").stdout
        finally:
            db.chmod(0o644)

    @pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes read-only folders")
    def test_a_store_in_a_read_only_folder(self, tmp_path):
        root, db = self._db(tmp_path)
        tmp_path.chmod(0o555)
        try:
            done = _cli("batch", str(root), "--db", str(db))
            assert done.returncode == 2 and "read-only" in done.stderr
            assert "upload_40.apk" in _cli("report", str(db), "--format", "csv").stdout
        finally:
            tmp_path.chmod(0o755)

    def test_schema_version_not_a_number(self, tmp_path):
        _root, db = self._db(tmp_path)
        with sqlite3.connect(db) as connection:
            connection.execute("UPDATE meta SET value='abc' WHERE key='schema_version'")
        for args in (("batch", str(FIXTURES / "apk" / "compliant.apk"), "--db", str(db)), ("report", str(db))):
            done = _cli(*args)
            assert done.returncode == 2 and "schema_version 'abc'" in done.stderr and "Traceback" not in done.stderr

    def test_corrupted_pages(self, tmp_path):
        root, db = self._db(tmp_path)
        data = bytearray(db.read_bytes())
        data[100:4096] = b"\xa5" * (4096 - 100)  # the first page's b-tree: the schema is unreadable
        db.write_bytes(bytes(data))
        for args in (("batch", str(root), "--db", str(db)), ("report", str(db))):
            done = _cli(*args)
            assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
            assert "damaged" in done.stderr or "not a beian-scan batch database" in done.stderr

    def test_a_full_disk_names_the_cause(self):
        message = store.describe(sqlite3.OperationalError("database or disk is full"), "audit.sqlite")
        assert message == "audit.sqlite: the disk is full: the store cannot grow (what was committed is kept)"


class TestRegistry:
    RECORD = "com.beianscan.fixture.compliant"

    def _write(self, tmp_path: Path, lines: list[str], encoding: str = "utf-8",
               header: str = "app_id,filing_number,app_name") -> Path:
        path = tmp_path / "filings.csv"
        path.write_bytes(("\n".join([header, *lines]) + "\n").encode(encoding))
        return path

    def _findings(self, db: Path) -> dict[str, list[tuple[str, str]]]:
        rows = _cli("report", str(db), "--format", "jsonl").stdout.splitlines()
        return {Path(r["package"]["path"]).name: [(f["rule_id"], f["message"]) for f in r["findings"]]
                for r in map(json.loads, rows)}

    def test_one_finding_per_cause_and_an_edit_judged_without_rescanning(self, tmp_path):
        root = _uploads(tmp_path, ("compliant", "no_number"))
        db = tmp_path / "audit.sqlite"
        registry = self._write(tmp_path, [f"{self.RECORD},粤ICP备2023999999号-1A"])
        assert _cli("batch", str(root), "--db", str(db), "--registry", str(registry)).returncode == 0
        found = self._findings(db)
        assert [r for r, _m in found["upload_40.apk"] if r.startswith("FIL00")] == ["FIL005"]
        assert [r for r, _m in found["upload_41.apk"]].count("FIL008") == 1
        # The record corrected: judged again from the store, no package read, one current verdict each.
        registry = self._write(tmp_path, [f"{self.RECORD},粤ICP备2023123456号-1A"])
        again = _cli("batch", str(root), "--db", str(db), "--registry", str(registry))
        assert "0 to scan; 2 judged again" in again.stderr, again.stderr
        found = self._findings(db)
        assert not [r for r, _m in found["upload_40.apk"] if r in ("FIL005", "FIL008")]
        with sqlite3.connect(db) as connection:
            assert connection.execute("SELECT count(*) FROM current_results").fetchone() == (2,)
            counted = connection.execute("SELECT count(*) FROM findings JOIN current_results c ON c.id = "
                                         "findings.result_id WHERE rule_id='FIL008'").fetchone()
        assert counted == (1,)

    def test_an_app_without_a_record_is_one_finding_that_names_what_it_shows(self, tmp_path):
        root = _uploads(tmp_path, ("compliant",))
        db = tmp_path / "audit.sqlite"
        registry = self._write(tmp_path, ["com.other.app,粤ICP备2099000001号-1A"])
        _cli("batch", str(root), "--db", str(db), "--registry", str(registry))
        (fil008,) = [m for r, m in self._findings(db)["upload_40.apk"] if r == "FIL008"]
        assert fil008 == f"the registry has no filing record for {self.RECORD} (it shows 粤ICP备2023123456号-1A)"

    def test_a_number_filed_for_another_package_is_fil009_not_fil008(self, tmp_path):
        root = _uploads(tmp_path, ("compliant",))
        db = tmp_path / "audit.sqlite"
        registry = self._write(tmp_path, ["com.other.app,粤ICP备2023123456号-1A"])
        _cli("batch", str(root), "--db", str(db), "--registry", str(registry))
        found = self._findings(db)["upload_40.apk"]
        assert [r for r, _m in found if r.startswith("FIL00")] == ["FIL009"]
        assert dict(found)["FIL009"] == ("it shows 粤ICP备2023123456号-1A, which is filed for com.other.app; "
                                         f"this package is {self.RECORD}")

    def test_the_filed_certificate_is_checked_and_the_store_finds_uploads_by_certificate(self, tmp_path):
        root = _uploads(tmp_path, ("compliant", "signed_v3_rotated"))
        db = tmp_path / "audit.sqlite"
        rotated = "com.beianscan.fixture.signed_v3_rotated"
        # compliant is filed with another certificate; the rotated app with the key it rotated from (accepted:
        # Android accepts a rotation its lineage proves).
        registry = self._write(tmp_path, [f"{self.RECORD},粤ICP备2023123456号-1A,,{'AB' * 16},",
                                          f"{rotated},粤ICP备2023000001号-1A,,{FIXTURES_KEY_MD5.upper()},"],
                               header="app_id,filing_number,app_name,cert_md5,public_key")
        assert _cli("batch", str(root), "--db", str(db), "--registry", str(registry)).returncode == 0
        found = self._findings(db)
        assert dict(found["upload_40.apk"])["FIL009"] == (
            "it is signed by CN=beian-scan fixtures (certificate MD5 176db77bc9f378fa3110b6c31e084aae); the filing "
            f"of {self.RECORD} records the certificate MD5 {'ab' * 16}")
        assert "FIL009" not in dict(found["upload_41.apk"])
        with sqlite3.connect(db) as connection:
            rows = connection.execute(
                "SELECT c.file_path, k.role, k.schemes FROM certificates k JOIN current_results c "
                "ON c.id = k.result_id WHERE k.md5 = ? ORDER BY c.file_path, k.role", (FIXTURES_KEY_MD5,)).fetchall()
        assert [(Path(p).name, role, schemes) for p, role, schemes in rows] == [
            ("upload_40.apk", "signer", "v1,v2,v3"), ("upload_41.apk", "lineage", "v3"),
            ("upload_41.apk", "signer", "v1,v2")]
        exported = list(csv.DictReader(io.StringIO(_cli("report", str(db), "--format", "csv").stdout)))
        assert {Path(r["path"]).name: r["cert_md5"] for r in exported} == {"upload_40.apk": FIXTURES_KEY_MD5,
                                                                           "upload_41.apk": ROTATED_KEY_MD5}
        # The record corrected: judged again from the store (the identity is kept in the stored JSON).
        registry = self._write(tmp_path, [f"{self.RECORD},粤ICP备2023123456号-1A,,{FIXTURES_KEY_MD5},"],
                               header="app_id,filing_number,app_name,cert_md5,public_key")
        again = _cli("batch", str(root), "--db", str(db), "--registry", str(registry))
        assert "0 to scan; 2 judged again" in again.stderr, again.stderr
        assert "FIL009" not in dict(self._findings(db)["upload_40.apk"])

    def test_a_bad_certificate_column_names_its_line(self, tmp_path):
        registry = self._write(tmp_path, [f"{self.RECORD},粤ICP备2023123456号-1A,,not-an-md5,"],
                               header="app_id,filing_number,app_name,cert_md5,public_key")
        done = _cli("batch", str(APKS / "compliant.apk"), "--db", str(tmp_path / "a.sqlite"), "--registry",
                    str(registry))
        assert done.returncode == 2 and "filings.csv:2: " in done.stderr and "not a certificate MD5" in done.stderr

    def test_a_gbk_registry_says_save_it_as_utf8(self, tmp_path):
        registry = self._write(tmp_path, [f"{self.RECORD},粤ICP备2023123456号-1A,合规应用"], encoding="gbk")
        done = _cli("batch", str(APKS / "compliant.apk"), "--db", str(tmp_path / "a.sqlite"), "--registry",
                    str(registry))
        assert done.returncode == 2 and "filings.csv:2: the registry is not UTF-8" in done.stderr
        assert "save it as UTF-8" in done.stderr and "Traceback" not in done.stderr

    def test_an_overlong_field_names_its_line(self, tmp_path):
        registry = self._write(tmp_path, [f"{self.RECORD},粤ICP备2023123456号-1A", "x" * 200_000 + ",y"])
        done = _cli("batch", str(APKS / "compliant.apk"), "--db", str(tmp_path / "a.sqlite"), "--registry",
                    str(registry))
        assert done.returncode == 2 and "filings.csv:3: field larger than field limit" in done.stderr

    def test_number_checks_are_kept_across_runs(self, tmp_path):
        registry = self._write(tmp_path, [f"app{n},粤ICP备20231234{n:02d}号-1A" for n in range(50)])
        calls: list[int] = []
        with store.Store(str(tmp_path / "a.sqlite")) as db:
            def cache(new, raws):
                calls.append(len(new or {}))
                return db.number_checks(new, raws)

            first = runner_registry().index(str(registry), cache)
            second = runner_registry().index(str(registry), cache)
        assert first == second and calls == [0, 50, 0]
        assert first.relevant("app7", ["粤ICP备2023123401号-1A"]) == (("app7", "粤ICP备2023123407号-1A"),
                                                                      ("app1", "粤ICP备2023123401号-1A"))


def runner_registry():
    from scanner.batch import registry

    return registry


class TestDask:
    def test_an_unreachable_scheduler_is_a_one_line_error_before_the_store_is_written(self, tmp_path):
        db = tmp_path / "audit.sqlite"
        done = _cli("batch", str(APKS / "compliant.apk"), "--db", str(db), "--dask", "tcp://127.0.0.1:9")
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert "beian-scan: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9" in done.stderr
        with sqlite3.connect(db) as connection:
            assert connection.execute("SELECT count(*) FROM runs").fetchone() == (0,)

    def test_the_main_script_is_imported_once_for_all_workers(self, tmp_path):
        """The main script (a Dask nanny's, or the caller's) is imported once in the workers' server, not
        again in each worker: a Dask worker's script brings dask with it, 0.2 s a package."""
        marks = tmp_path / "imported.txt"
        script = tmp_path / "audit.py"
        paths = [str(APKS / f"{n}.apk") for n in ("compliant", "no_number", "malformed_number", "flutter")]
        script.write_text(f"with open({str(marks)!r}, 'a') as handle:\n    handle.write('x')\n"
                          "from scanner.api import batch\n"
                          "if __name__ == '__main__':\n"
                          f"    print(len(list(batch({paths!r}, jobs=2))))\n", encoding="utf-8")
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0 and done.stdout.strip() == "4", done.stderr
        assert marks.read_text(encoding="utf-8") == "xx"  # this process, and the workers' server once


PARENT_ONLY = {"distributed", "jinja2", "tqdm", "importlib", "collections.abc", "stat", "os"}
"""Modules imported inside functions that never run in a worker (the batch's own process: Dask, the
report, the progress bar), or that every worker has imported before its limit anyway."""


def test_every_module_a_scan_imports_late_is_loaded_before_the_memory_limit():
    """A module imported inside a function would be mapped under the worker's RLIMIT_AS and fail
    there as an ImportError ("failed to map segment"): each is in the worker's preload."""
    import ast

    late: set[str] = set()
    for path in (ROOT / "scanner").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Import):
                        late.update(alias.name for alias in inner.names)
                    elif isinstance(inner, ast.ImportFrom) and inner.module and not inner.level:
                        late.add(inner.module)
    outside = {name for name in late if not name.startswith("scanner") and name not in PARENT_ONLY}
    preload = worker.preload()
    missing = {name for name in outside
               if not any(name == p or p.startswith(name + ".") or name.startswith(p + ".") for p in preload)}
    assert not missing


def test_small_packages_travel_to_dask_together_and_large_ones_alone():
    jobs = tuple(worker.Job(f"p{n}", f"{n:064x}", size) for n, size in
                 enumerate([9 << 20, 5 << 20, 2 << 20, *([1000] * 40)]))
    grouped = runner.chunks(jobs)
    assert [len(c) for c in grouped] == [1, 16, 16, 10]
    assert [j for chunk in grouped for j in chunk] == list(jobs)


def test_the_batch_json_report_is_scans_envelope_with_the_accepted_findings(tmp_path):
    import jsonschema

    root = _uploads(tmp_path, ("no_number", "no_number"))
    accepted = tmp_path / "accepted.txt"
    accepted.write_text("* FIL001 shown at run time (ticket 7)\n", encoding="utf-8")
    db = tmp_path / "audit.sqlite"
    _cli("batch", str(root), "--db", str(db), "--suppressions", str(accepted))
    data = json.loads(_cli("report", str(db), "--format", "json").stdout)
    schema = json.loads((ROOT / "scanner" / "schemas" / "report.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)
    (result,) = data["results"]
    assert sorted(Path(p).name for p in result["package"]["paths"]) == ["upload_40.apk", "upload_41.apk"]
    assert [f["suppression"] for f in result["suppressed"]] == ["suppressed: shown at run time (ticket 7)"]
    assert data["summary"]["suppressed"] == 1 and data["summary"]["packages"] == 1
    scanned = json.loads(_cli("scan", str(root / "upload_40.apk"), "--format", "json").stdout)
    assert set(scanned) == set(data) and set(scanned["summary"]) == set(data["summary"])


def test_a_severity_or_a_disabled_rule_is_judged_again_without_rescanning(tmp_path):
    root = _uploads(tmp_path, ("no_number", "malformed_number"))
    db = tmp_path / "audit.sqlite"
    _cli("batch", str(root), "--db", str(db))
    before = {Path(r["path"]).name: r for r in _csv_rows(_cli("report", str(db), "--format", "csv").stdout)}
    assert before["upload_40.apk"]["errors"] != "0" and "FIL002" in before["upload_41.apk"]["rules"]
    config = tmp_path / "c.toml"
    config.write_text('[rules.FIL001]\nseverity = "note"\n[rules.FIL002]\nenabled = false\n', encoding="utf-8")
    again = _cli("batch", str(root), "--db", str(db), "--config", str(config))
    assert again.returncode == 0 and "0 to scan; 2 judged again" in again.stderr, again.stderr
    rows = {Path(r["path"]).name: r for r in _csv_rows(_cli("report", str(db), "--format", "csv").stdout)}
    assert "FIL001" in rows["upload_40.apk"]["rules"] and rows["upload_40.apk"]["notes"] != "0"
    assert "FIL002" not in rows["upload_41.apk"]["rules"]
    scanned = json.loads(_cli("scan", str(root / "upload_40.apk"), "--config", str(config), "--format",
                              "json").stdout)["results"][0]
    stored = [json.loads(line) for line in _cli("report", str(db), "--format", "jsonl").stdout.splitlines()]
    (same,) = [r for r in stored if r["package"]["path"].endswith("upload_40.apk")]
    assert [(f["rule_id"], f["severity"], f["fingerprint"]) for f in same["findings"]] == \
        [(f["rule_id"], f["severity"], f["fingerprint"]) for f in scanned["findings"]]


def test_a_scheduler_lost_mid_run_is_a_dask_error_not_a_traceback():
    pytest.importorskip("distributed")

    class Gone:
        def scatter(self, *args, **kwargs):
            raise OSError("Timed out trying to connect to tcp://10.0.0.5:8786 after 30 s")

    jobs = (worker.Job("a.apk", "a" * 64, 1),)
    with pytest.raises(runner.DaskError, match="lost the Dask scheduler"):
        list(runner._on_dask(jobs, runner.Request(dask_address="tcp://10.0.0.5:8786"), runner.Stop(), Gone()))
