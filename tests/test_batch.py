"""Batch audits: every package accounted for, results equal to ``scan``'s, resumable after SIGKILL, a
killed worker replaced, limits as PKG006, a registry checked, the same results on a Dask LocalCluster."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from scanner.batch import discover, registry, runner, store, worker
from scanner.config import Policy
from scanner.model import Options

from conftest import APKS, CORPUS, ENTRY_POINT, FIXTURES, MINIPROGRAMS

PICK = ("compliant", "no_number", "dex_only", "truncated", "not_a_zip", "malformed_number", "rn_hermes",
        "flutter", "website_number")


def _incoming(tmp_path: Path) -> Path:
    """An upload folder: APKs (two of them broken), a mini-program folder, a wxapkg, an AAB, a HAP, an
    IPA, a duplicate under another name and files that are no package."""
    root = tmp_path / "incoming"
    (root / "apks").mkdir(parents=True)
    for name in PICK:
        shutil.copy(APKS / f"{name}.apk", root / "apks" / f"{name}.apk")
    shutil.copy(APKS / "compliant.apk", root / "apks" / "compliant-copy.apk")
    shutil.copy(MINIPROGRAMS / "out" / "compliant.wxapkg", root / "mini.wxapkg")
    shutil.copytree(MINIPROGRAMS / "out" / "unpacked" / "wx1a2b3c4d5e6f7a8b", root / "unpacked" / "wx1a2b3c4d5e6f7a8b")
    shutil.copy(FIXTURES / "aab" / "out" / "bundle.aab", root / "bundle.aab")
    shutil.copy(FIXTURES / "harmony" / "out" / "compliant.hap", root / "app.hap")
    shutil.copy(FIXTURES / "ios" / "out" / "no_number.ipa", root / "app.ipa")
    (root / "README.txt").write_text("uploads of 2026-12-01\n", encoding="utf-8")
    (root / "icon.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    return root


def _batch(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(ENTRY_POINT), "batch", *args], capture_output=True, text=True, check=False,
                          timeout=300)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def _rows(db: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT sha256, member_index FROM results").fetchall()


def _results(db: Path) -> dict[str, list[dict]]:
    opened = store.Store(str(db))
    try:
        out: dict[str, list[dict]] = {}
        for item in opened.results():
            out.setdefault(item.result["package"]["path"], []).append(item.result)
        return out
    finally:
        opened.close()


def test_discovery_counts_what_is_not_a_package(tmp_path):
    root = _incoming(tmp_path)
    found = discover.walk([str(root)])
    names = {os.path.relpath(p, root) for p in found.packages}
    assert "unpacked/wx1a2b3c4d5e6f7a8b" in names and "apks/truncated.apk" in names and "apks/not_a_zip.apk" in names
    assert found.skipped == 2  # README.txt and icon.png


def test_batch_accounts_for_every_package_and_equals_scan(tmp_path):
    root = _incoming(tmp_path)
    db = tmp_path / "audit.sqlite"
    done = _batch(str(root), "--db", str(db), "--jobs", "2")
    assert "1 duplicate(s)" in done.stderr and "2 other file(s) skipped" in done.stderr
    results = _results(db)
    found = discover.walk([str(root)]).packages
    copies = {p for p in found if p.endswith("compliant-copy.apk")}
    assert set(results) == set(found) - copies or set(results) == set(found) - {str(root / "apks/compliant.apk")}
    errors = {path: r[0]["error"]["rule_id"] for path, r in results.items() if r[0]["error"]}
    assert sorted(errors.values()) == ["PKG001", "PKG001"]
    for path, stored in results.items():  # exactly what ``scan --format json`` says of each package
        scanned = subprocess.run([str(ENTRY_POINT), "scan", path, "--format", "json"], capture_output=True,
                                 text=True, check=False)
        assert json.loads(scanned.stdout)["results"] == _one_language(stored, "en"), path
        # ... and in Chinese: the store keeps every message in both languages (issue 27)
        chinese = subprocess.run([str(ENTRY_POINT), "scan", path, "--format", "json", "--lang", "zh"],
                                 capture_output=True, text=True, check=False)
        said = json.loads(chinese.stdout)["results"]
        for result in said:  # an identity's notes are said in Chinese; the store keeps them in English
            notes = result["package"].get("identity", {}).pop("notes", [])
            assert all(re.search("[\u4e00-\u9fff]", note) for note in notes), notes
        kept = _one_language(stored, "zh")
        for result in kept:
            result["package"].get("identity", {}).pop("notes", None)
        assert said == kept, path


def _one_language(value, lang):
    """A stored result as ``scan --lang LANG --format json`` gives it: each message in that language."""
    if isinstance(value, list):
        return [_one_language(v, lang) for v in value]
    if isinstance(value, dict):
        said = value.get("messages")
        out = {k: _one_language(v, lang) for k, v in value.items() if k != "messages"}
        if said is not None:
            out["message"] = said[lang]
        return out
    return value


def test_rerun_skips_everything_and_a_changed_file_is_rescanned(tmp_path):
    root = _incoming(tmp_path)
    db = tmp_path / "audit.sqlite"
    _batch(str(root), "--db", str(db), "--jobs", "2")
    before = _rows(db)
    done = _batch(str(root), "--db", str(db))
    assert "0 to scan" in done.stderr and _rows(db) == before
    target = root / "apks" / "no_number.apk"
    target.write_bytes(target.read_bytes() + b"\0" * 16)  # new content (bytes after the zip's end)
    done = _batch(str(root), "--db", str(db))
    assert "1 to scan" in done.stderr and len(_rows(db)) == len(before) + 1


def test_sigkill_mid_run_then_resume_loses_and_repeats_nothing(tmp_path):
    root = tmp_path / "many"
    root.mkdir()
    data = (APKS / "large_bundle.apk").read_bytes()
    for n in range(24):  # distinct contents: the same APK with n bytes after its end
        (root / f"app{n:02d}.apk").write_bytes(data + b"\0" * n)
    db = tmp_path / "audit.sqlite"
    process = subprocess.Popen([str(ENTRY_POINT), "batch", str(root), "--db", str(db), "--jobs", "1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if db.exists() and len(_rows(db)) >= 3:
                break
        except sqlite3.OperationalError:  # the batch has not created its schema yet
            pass
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)  # the batch, its forkserver and its worker, mid-run
    process.wait()
    committed = len(_rows(db))
    assert 3 <= committed < 24, committed
    _batch(str(root), "--db", str(db), "--jobs", "2")
    rows = _rows(db)
    assert len(rows) == len(set(rows)) == 24
    assert set(_results(db)) == {str(p) for p in root.iterdir()}


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to find the worker process")
def test_a_killed_worker_is_replaced_and_the_batch_goes_on(tmp_path):
    root = tmp_path / "many"
    root.mkdir()
    data = (APKS / "large_bundle.apk").read_bytes()
    for n in range(16):
        (root / f"app{n:02d}.apk").write_bytes(data + b"\0" * n)
    db = tmp_path / "audit.sqlite"
    process = subprocess.Popen([str(ENTRY_POINT), "batch", str(root), "--db", str(db), "--jobs", "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed: set[int] = set()
    deadline = time.monotonic() + 60
    # A worker lives tens of milliseconds: one killed may have reported already, so up to four are killed
    # (each either stops its package, PKG006, or came too late and changes nothing).
    while len(killed) < 4 and process.poll() is None and time.monotonic() < deadline:
        if not db.exists() or not _committed(db):  # the probe process first, then the first package
            time.sleep(0.005)
            continue
        # The batch's children: its forkserver; the forkserver's children: the package's worker.
        for pid in [p for p in _descendants(process.pid) if p not in set(_children_of(process.pid))]:
            if pid not in killed:
                killed.add(pid)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        time.sleep(0.002)
    _stdout, stderr = process.communicate(timeout=120)
    assert killed and process.returncode == 0, stderr
    results = _results(db)
    assert len(results) == 16
    aborted = [r[0]["error"]["message"] for r in results.values() if r[0]["error"]]
    assert 1 <= len(aborted) <= len(killed), (aborted, killed)
    assert set(aborted) == {"the worker process was killed by signal SIGKILL; it was replaced"}


def _committed(db: Path) -> int:
    try:
        return len(_rows(db))
    except sqlite3.OperationalError:
        return 0


def _children_of(pid: int) -> list[int]:
    return [p for p in _descendants(pid) if _ppid(p) == pid]


def _ppid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


class TestLimits:
    def test_time_limit(self):
        job = worker.Job(str(APKS / "large_bundle.apk"), "x", 1)
        outcome = worker.run(job, Options(), Policy(), worker.WorkerLimits(timeout=0.001))
        (result,) = outcome.results
        assert result.error.rule_id == "PKG006" and "0.001 s time limit" in result.error.message

    def test_memory_limit(self):
        job = worker.Job(str(APKS / "large_bundle.apk"), "x", 1)
        # 1 MiB more than the worker has mapped already: its first large allocation fails.
        outcome = worker.run(job, Options(), Policy(), worker.WorkerLimits(timeout=60, max_memory=1 << 20))
        (result,) = outcome.results
        assert result.error.rule_id == "PKG006" and "over --max-memory (1 MiB)" in result.error.message

    def test_within_limits(self):
        job = worker.Job(str(APKS / "compliant.apk"), "x", 1)
        outcome = worker.run(job, Options(), Policy(), worker.WorkerLimits(timeout=60, max_memory=4 << 30))
        assert outcome.aborted is None and outcome.results[0].error is None and outcome.peak_rss_kib

    def test_the_subprocess_worker_gives_the_same_result(self):
        job = worker.Job(str(APKS / "compliant.apk"), "x", 1)
        assert (worker.run_subprocess(job, Options(), Policy(), worker.WorkerLimits()).results
                == worker.run(job, Options(), Policy(), worker.WorkerLimits()).results)


class TestRegistry:
    def _run(self, tmp_path, lines):
        csv = tmp_path / "filings.csv"
        csv.write_text("\n".join(["app_id,filing_number,app_name", *lines]) + "\n", encoding="utf-8")
        db = tmp_path / "audit.sqlite"
        _batch(str(APKS / "compliant.apk"), str(APKS / "no_number.apk"), "--db", str(db), "--registry", str(csv))
        return {p: {f["rule_id"]: f["message"] for f in r[0]["findings"]} for p, r in _results(db).items()}

    def test_matching_record(self, tmp_path):
        found = self._run(tmp_path, ["com.beianscan.fixture.compliant,粤ICP备2023123456号-1A,合规应用"])
        compliant = found[str(APKS / "compliant.apk")]
        assert "FIL005" not in compliant and "FIL008" not in compliant
        assert "the registry has no filing record for com.beianscan.fixture.no_number" in \
            found[str(APKS / "no_number.apk")]["FIL008"]

    def test_differing_record(self, tmp_path):
        found = self._run(tmp_path, ["com.beianscan.fixture.compliant,粤ICP备2023999999号-1A"])
        compliant = found[str(APKS / "compliant.apk")]
        assert "differs from the expected 粤ICP备2023999999号-1A" in compliant["FIL005"]
        assert "FIL008" not in compliant  # one finding per cause: the app has a record, its number differs

    @pytest.mark.parametrize(("text", "error"), [
        ("id,number\nx,粤ICP备2023123456号-1A\n", ":1: the first row must be the header"),
        ("app_id,filing_number\ncom.x\n", ":2: expected app_id,filing_number"),
        ("app_id,filing_number\ncom.x,not a number\n", ":2: "),
    ])
    def test_bad_registry_is_a_usage_error(self, tmp_path, text, error):
        csv = tmp_path / "filings.csv"
        csv.write_text(text, encoding="utf-8")
        with pytest.raises(registry.RegistryError, match=error):
            registry.load(str(csv))
        done = _batch(str(APKS / "compliant.apk"), "--db", str(tmp_path / "a.sqlite"), "--registry", str(csv),
                      check=False)
        assert done.returncode == 2 and error in done.stderr


def test_not_a_store_is_a_usage_error(tmp_path):
    bogus = tmp_path / "audit.sqlite"
    bogus.write_bytes(b"this is not sqlite" * 10)
    done = _batch(str(APKS / "compliant.apk"), "--db", str(bogus), check=False)
    assert done.returncode == 2 and "not a beian-scan batch database" in done.stderr
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    done = _batch(str(APKS / "compliant.apk"), "--db", str(other), check=False)
    assert done.returncode == 2 and "not a beian-scan batch database" in done.stderr


def test_from_list_keeps_missing_paths_as_results(tmp_path):
    listing = tmp_path / "paths.txt"
    listing.write_text(f"{APKS / 'compliant.apk'}\n{tmp_path / 'gone.apk'}\n\n", encoding="utf-8")
    db = tmp_path / "audit.sqlite"
    _batch("--from-list", str(listing), "--db", str(db))
    results = _results(db)
    assert results[str(tmp_path / "gone.apk")][0]["error"]["rule_id"] == "PKG001"
    assert results[str(APKS / "compliant.apk")][0]["error"] is None


def test_reports_of_the_store(tmp_path):
    db = tmp_path / "audit.sqlite"
    _batch(str(APKS / "compliant.apk"), str(APKS / "truncated.apk"), "--db", str(db))
    for fmt in ("csv", "jsonl", "json", "sarif", "html"):
        done = subprocess.run([str(ENTRY_POINT), "report", str(db), "--format", fmt], capture_output=True, text=True,
                              check=False)
        assert done.returncode == 0, done.stderr
        if fmt == "json":
            import jsonschema

            from conftest import ROOT
            schema = json.loads((ROOT / "scanner" / "schemas" / "report.schema.json").read_text(encoding="utf-8"))
            jsonschema.validate(json.loads(done.stdout), schema)
        if fmt == "csv":
            assert done.stdout.splitlines()[0].startswith("path,other_paths,sha256,status")


def test_csv_cells_cannot_be_formulas():
    from scanner.batch.report import _cell

    assert _cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")" and _cell("微信") == "微信"


def test_local_cluster_gives_the_same_results(tmp_path):
    distributed = pytest.importorskip("distributed")
    paths = tuple(str(APKS / f"{n}.apk") for n in ("compliant", "truncated", "dex_only", "rn_hermes"))
    local_db, dask_db = store.Store(str(tmp_path / "local.sqlite")), store.Store(str(tmp_path / "dask.sqlite"))
    limits = worker.WorkerLimits(timeout=120)
    runner.run(local_db, runner.Request(paths, limits=limits, parallel=2))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        runner.run(dask_db, runner.Request(paths, limits=limits, dask_address=cluster.scheduler_address))
    local = {i.sha256: i.result for i in local_db.results()}
    remote = {i.sha256: i.result for i in dask_db.results()}
    assert local == remote and len(local) == 4


def test_python_api(tmp_path):
    from scanner.api import batch, scan

    result = scan(str(APKS / "compliant.apk"))
    assert result.error is None and result.info.app_id == "com.beianscan.fixture.compliant"
    assert scan(str(APKS / "truncated.apk")).error.rule_id == "PKG001"
    db = tmp_path / "api.sqlite"
    items = list(batch([str(APKS / "compliant.apk"), str(APKS / "truncated.apk")], db=str(db), jobs=2))
    outcomes = sorted(i.results[0]["error"]["rule_id"] if i.results[0]["error"] else "ok" for i in items)
    assert outcomes == ["PKG001", "ok"]
    assert list(batch([str(APKS / "compliant.apk")], db=str(db))) == []  # already in the store


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus not present")
def test_whole_corpus_and_fixtures_accounted_for(tmp_path):
    """Every real package and every fixture: scanned, unreadable or over a limit, never lost, and each
    stored result what a scan of that package gives."""
    from scanner import engine
    from scanner.formatters.json_report import result_dict

    db = store.Store(str(tmp_path / "audit.sqlite"))
    roots = (str(CORPUS), str(FIXTURES / "apk"), str(FIXTURES / "aab" / "out"), str(FIXTURES / "harmony" / "out"),
             str(FIXTURES / "ios" / "out"), str(FIXTURES / "hermes" / "out"), str(MINIPROGRAMS / "out"))
    chosen, tally = runner.run(db, runner.Request(roots, limits=worker.WorkerLimits(timeout=300), parallel=2))
    assert tally.done == len(chosen.jobs) and chosen.not_packages >= 1  # expected.json, README.md, SOURCES.tsv
    stored = list(db.results())
    shas = {item.sha256 for item in stored}
    assert shas == {job.sha256 for job in chosen.jobs}
    for item in stored[:: max(1, len(stored) // 25)]:  # a spread of them, scanned again in this process
        again = [result_dict(r, every_language=True)
                 for r in engine.scan_target(item.result["package"]["path"], Options(), Policy())]
        assert item.result in again, item.result["package"]["path"]
    db.close()
