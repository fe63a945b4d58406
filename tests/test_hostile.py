"""Hostile packages (fixtures/hostile/make.py, made into a temporary folder): each gives its expected
result; the zip bombs are refused with bounded memory in a child process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from scanner import engine
from scanner.model import Options

from conftest import FIXTURES

sys.path.insert(0, str(FIXTURES / "hostile"))
import make

EXPECTED = json.loads((FIXTURES / "hostile" / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    out = tmp_path_factory.mktemp("hostile")
    make.make(out)
    return out


def test_every_trick_has_an_expectation():
    assert set(make.CASES) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_expected_result(hostile, name):
    want = EXPECTED[name]
    result = engine.scan_path(str(hostile / name), Options())
    if not want["readable"]:
        assert result.error is not None and result.error.rule_id == want["error"]
        assert want["message"] in result.error.message
        return
    assert result.error is None, result.error
    assert result.info.app_id == want["app_id"]
    rules = {f.rule_id for f in result.findings}
    assert set(want["rules"]) <= rules
    assert not {"PKG003", "PKG004"} - set(want["rules"]) & rules, "no anomaly beyond the expected ones"
    if "anomaly" in want:
        assert any(want["anomaly"] in f.message for f in result.findings if f.rule_id in ("PKG003", "PKG004"))


def test_duplicates_are_both_scanned(hostile):
    result = engine.scan_path(str(hostile / "duplicate_names.apk"), Options())
    values = {n.value for n in result.facts.filing_numbers}
    assert "粤ICP备2023123456号-9A" in values  # the second copy's number was read too


def test_odd_names_never_become_paths(hostile, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = engine.scan_path(str(hostile / "odd_names.apk"), Options())
    odd = {f.location.member for f in result.findings if f.rule_id == "PKG004" and f.location}
    # zipfile cuts a name at NUL; the local header keeps it, and the disagreement is reported too
    assert {"assets/../../../etc/evil.txt", "/abs/about.txt", "assets/nul"} <= odd
    assert "粤ICP备2023123456号-2A" in {n.value for n in result.facts.filing_numbers}  # read, as a label
    assert list(tmp_path.iterdir()) == []  # nothing written anywhere


@pytest.mark.parametrize("name", ["bomb_single.apk", "bomb_nested.apks"])
def test_bombs_are_refused_with_bounded_memory(hostile, name):
    script = ("import resource, subprocess, sys, json\n"
              "proc = subprocess.run([sys.executable, '-m', 'scanner', 'scan', '--format', 'json', sys.argv[1]],"
              " capture_output=True, text=True, timeout=60)\n"
              "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
              "print(json.dumps({'code': proc.returncode, 'peak_kb': peak, 'out': proc.stdout}))\n")
    report = json.loads(subprocess.run([sys.executable, "-c", script, str(hostile / name)], capture_output=True,
                                       text=True, timeout=120, check=True).stdout)
    assert report["peak_kb"] < EXPECTED[name]["max_rss_mb"] * 1024
    result = json.loads(report["out"])["results"][0]
    if EXPECTED[name]["readable"]:
        assert report["code"] == 1 and "PKG003" in {f["rule_id"] for f in result["findings"]}
    else:
        assert report["code"] == 3 and result["error"]["rule_id"] == "PKG001"


def test_compressible_asset_is_read_and_noted_not_failed(hostile):
    result = engine.scan_path(str(hostile / "compressible_asset.apk"), Options())
    assert result.error is None
    (note,) = [f for f in result.findings if f.rule_id == "PKG004"]
    assert note.severity.label == "note" and note.location.member == "assets/template.sqlite"
    assert not [f for f in result.findings if f.rule_id == "PKG003"]
    # the asset was read in full: the number near its end is among the facts, at its place
    (website,) = [n for n in result.facts.filing_numbers if n.value == "京ICP备16059763号-1"]
    assert website.first_location.member == "assets/template.sqlite"
    assert engine.worst_exit(engine.Report("x", (result,)), engine.Severity.ERROR) == 0


def test_ratio_still_stops_a_bomb_past_the_read_bound(hostile):
    from scanner.model import Limits, ParseOptions

    options = Options(parse=ParseOptions(limits=Limits(ratio_read_bytes=8 << 20)))
    result = engine.scan_path(str(hostile / "compressible_asset.apk"), options)
    (hit,) = [f for f in result.findings if f.rule_id == "PKG003"]
    assert "a zip bomb" in hit.message and hit.location.member == "assets/template.sqlite"


def test_nested_bomb_is_one_line_pkg003_with_the_rest_read(hostile):
    result = engine.scan_path(str(hostile / "bomb_nested.apks"), Options())
    assert result.error is None
    hits = [f for f in result.findings if f.rule_id == "PKG003"]
    assert len(hits) == 51
    assert [f.message for f in hits if f.location is None] == ["4046 more cap hits not listed"]
    first = next(f.message for f in hits if f.location is not None)
    assert first.count("nested") == 1 and first.count("!") == 2 and "nested 3 deep; the limit is 2" in first


class TestMappedMembers:
    """zipread.Reader.read_view: a large stored member is a view of the mapped file, checked and capped
    like a copy; anything else is read as before."""

    @staticmethod
    def _archive(tmp_path, payload, method):
        import zipfile

        path = tmp_path / "m.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("pad.txt", b"p" * 5000)  # the member does not start on a page boundary
            archive.writestr("big.bin", payload, compress_type=method)
        return path

    def test_stored_member_is_a_view_with_its_bytes(self, tmp_path, monkeypatch):
        import zipfile

        from scanner.model import Limits
        from scanner.parsers import zipread

        monkeypatch.setattr(zipread, "MAP_MIN", 1024)
        payload = bytes(range(256)) * 40
        path = self._archive(tmp_path, payload, zipfile.ZIP_STORED)
        entry = next(e for e in zipread.directory(str(path))[0] if e.name == "big.bin")
        reader = zipread.Reader(str(path), Limits())
        data, anomalies = reader.read_view(entry)
        assert isinstance(data, memoryview) and bytes(data) == payload and anomalies == ()
        assert reader.inflated == len(payload)
        # the same from memory and when deflated: copies, as read() gives
        data, _ = zipread.Reader(path.read_bytes(), Limits()).read_view(entry)
        assert isinstance(data, bytes) and data == payload
        deflated = self._archive(tmp_path, payload, zipfile.ZIP_DEFLATED)
        entry = next(e for e in zipread.directory(str(deflated))[0] if e.name == "big.bin")
        data, _ = zipread.Reader(str(deflated), Limits()).read_view(entry)
        assert isinstance(data, bytes) and data == payload

    def test_view_is_crc_checked_and_capped(self, tmp_path, monkeypatch):
        import zipfile

        from scanner.model import Limits
        from scanner.parsers import zipread

        monkeypatch.setattr(zipread, "MAP_MIN", 1024)
        payload = b"x" * 10_000
        path = self._archive(tmp_path, payload, zipfile.ZIP_STORED)
        raw = bytearray(path.read_bytes())
        at = raw.find(payload)
        raw[at + 5000] = ord("y")
        path.write_bytes(bytes(raw))
        entry = next(e for e in zipread.directory(str(path))[0] if e.name == "big.bin")
        data, anomalies = zipread.Reader(str(path), Limits()).read_view(entry)
        assert bytes(data)[5000:5001] == b"y"
        assert [a.detail for a in anomalies] == ["CRC-32 does not match the central directory"]
        data, anomalies = zipread.Reader(str(path), Limits(member_bytes=4096)).read_view(entry)
        assert data is None and "member limit" in anomalies[0].detail
        import dataclasses

        flagged = dataclasses.replace(entry, flags=entry.flags | 1)  # noted as read() notes it
        data, anomalies = zipread.Reader(str(path), Limits()).read_view(flagged)
        assert isinstance(data, memoryview)
        assert any("encryption flag set" in a.detail for a in anomalies)


class TestInflationAtOnce:
    """A deflated member whose directory sizes tell the truth is inflated in one bounded call; any other
    goes the stepwise way, which reads what the stream holds and says what is wrong."""

    @staticmethod
    def _member(tmp_path, payload):
        import zipfile

        from scanner.parsers import zipread

        path = tmp_path / "d.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("big.txt", payload)
        return str(path), next(e for e in zipread.directory(str(path))[0] if e.name == "big.txt")

    @staticmethod
    def _steps(monkeypatch):
        from scanner.parsers import zipread

        calls = []
        real = zipread.Reader._inflate_in_steps
        monkeypatch.setattr(zipread.Reader, "_inflate_in_steps",
                            lambda self, *a: calls.append(1) or real(self, *a))
        return calls

    PAYLOAD = ("备案号：粤ICP备2023123456号-1A " * 20_000).encode()

    def test_honest_member_in_one_call(self, tmp_path, monkeypatch):
        from scanner.model import Limits
        from scanner.parsers import zipread

        path, entry = self._member(tmp_path, self.PAYLOAD)
        calls = self._steps(monkeypatch)
        member = zipread.Reader(path, Limits()).read(entry)
        assert member.data == self.PAYLOAD and member.anomalies == () and calls == []

    @pytest.mark.parametrize("declared", [-10, +10])
    def test_lying_size_read_in_steps(self, tmp_path, monkeypatch, declared):
        import dataclasses

        from scanner.model import Limits
        from scanner.parsers import zipread

        path, entry = self._member(tmp_path, self.PAYLOAD)
        calls = self._steps(monkeypatch)
        member = zipread.Reader(path, Limits()).read(dataclasses.replace(entry, size=entry.size + declared))
        assert member.data == self.PAYLOAD and calls == [1]

    def test_corrupt_stream_read_in_steps(self, tmp_path, monkeypatch):
        from pathlib import Path

        from scanner.model import Limits
        from scanner.parsers import zipread

        path, entry = self._member(tmp_path, self.PAYLOAD)
        raw = bytearray(Path(path).read_bytes())
        start = zipread.Reader(path, Limits())._data_offset(entry, [])
        raw[start + 40 : start + 60] = b"\xff" * 20
        Path(path).write_bytes(bytes(raw))
        calls = self._steps(monkeypatch)
        member = zipread.Reader(path, Limits()).read(entry)
        assert calls  # by each codec: ISA-L, then zlib, whose verdict counts
        assert member.data is None or member.data != self.PAYLOAD
        assert member.anomalies


def _every_member(source):
    """(name, data, anomalies) of every member of a zip, read by zipread, or the reason it is no zip."""
    from scanner.model import Limits
    from scanner.parsers import zipread

    try:
        entries, _ = zipread.directory(source)
    except Exception as exc:  # compared, not handled
        return type(exc).__name__
    reader = zipread.Reader(source, Limits(member_bytes=64 << 20, package_bytes=256 << 20))
    out = []
    for entry in entries:
        member = reader.read(entry)
        # the codec's own words for a corrupt stream differ ("invalid block type" …): compared up to them
        out.append((entry.name, member.data, [(a.kind, a.member, a.detail.split(" (")[0]) for a in member.anomalies]))
    return out


def test_fast_inflater_reads_what_zlib_reads(hostile, monkeypatch):
    """ISA-L and zlib give the same bytes and the same anomalies, on the hostile packages and on 300
    mutated fixtures (flipped bits, cut streams, edited sizes): where ISA-L reads a stream zlib refuses,
    zlib's verdict counts."""
    import zlib

    from scanner.parsers import zipread

    sys.path.insert(0, str(FIXTURES / "hostile"))
    import mutate

    sources = [str(p) for p in sorted(hostile.glob("*")) if p.is_file() and "bomb" not in p.name]
    sources += [data for _label, data in mutate.inputs(300, seed=7, suffixes=(".apk", ".aab", ".hap", ".ipa"))]
    fast = [_every_member(s) for s in sources]
    assert zipread.FAST is not zipread.ZLIB  # python-isal is installed with the package
    monkeypatch.setattr(zipread, "FAST", zipread.ZLIB)
    monkeypatch.setattr(zipread, "crc32", zlib.crc32)
    assert [_every_member(s) for s in sources] == fast
    assert sum(isinstance(f, list) and any(a for _n, _d, a in f) for f in fast) >= 20  # anomalies were met


def _plain_archives():
    """Archives the plain directory reader must read exactly as zipfile does, or leave to it."""
    import io
    import zipfile
    from unittest import mock

    def archive(name):
        buffer = io.BytesIO()
        # ZIP64: the size fields (and the end record) say 0xFFFFFFFF and the real values follow in extras
        limits = {"ZIP64_LIMIT": 10, "ZIP_FILECOUNT_LIMIT": 2} if name == "zip64" else {"ZIP64_LIMIT": 1 << 31}
        with mock.patch.multiple(zipfile, **limits), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
            out.writestr("AndroidManifest.xml", b"\x03\x00" * 20)
            out.writestr("assets/备案.txt", "粤ICP备2023123456号-1A")
            out.writestr(zipfile.ZipInfo("assets/raw.txt"), b"x")
            if name == "comment":
                out.comment = b"made by a tool"
        return buffer.getvalue()

    def utf8_flag(data, on):  # bit 11 of every local and central header's flags
        out = bytearray(data)
        for at in range(len(out) - 4):
            if out[at : at + 4] in (b"PK\x01\x02", b"PK\x03\x04"):
                flag = at + (9 if out[at + 2] == 1 else 7)
                out[flag] = out[flag] | 0x08 if on else out[flag] & ~0x08
        return bytes(out)

    plain = archive("plain")
    cp437 = plain.replace("备案".encode(), b"\xb5\xc4\xee\xb5\xc4\xee")  # invalid UTF-8, same length
    return {"plain": plain, "prefixed": b"MZ stub " * 100 + plain, "comment": archive("comment"),
            "zip64": archive("zip64"), "utf8-unflagged": utf8_flag(plain, False),
            "cp437": utf8_flag(cp437, False), "invalid-utf8-flagged": utf8_flag(cp437, True),
            "nul": plain.replace(b"assets/raw.txt", b"assets/r\x00w.txt")}


def test_plain_directory_reads_what_zipfile_reads(hostile, tmp_path, monkeypatch):
    """The plain central-directory reader gives zipfile's entries and anomalies exactly, or defers to it:
    on every fixture, every hostile package, 500 mutated packages and crafted archives (prefixed data,
    a comment, ZIP64, cp437 and invalid UTF-8 names, NUL in a name). It is taken for the plain ones."""
    from scanner.parsers import zipread

    sys.path.insert(0, str(FIXTURES / "hostile"))
    import mutate

    crafted = _plain_archives()
    sources = [str(p) for p in mutate.SEEDS] + [str(p) for p in sorted(hostile.glob("*")) if p.is_file()]
    sources += [data for _label, data in mutate.inputs(500, seed=17, suffixes=(".apk", ".aab", ".hap", ".ipa"))]
    sources += list(crafted.values())

    def directory(source):
        try:
            return zipread._directory(source)
        except zipread.ArchiveUnreadable as exc:
            return str(exc)

    taken: list[bool] = []
    real = zipread._plain_directory
    monkeypatch.setattr(zipread, "_plain_directory", lambda handle: taken.append(real(handle) is not None)
                        or real(handle))
    fast = [directory(s) for s in sources]
    monkeypatch.setattr(zipread, "_plain_directory", lambda handle: None)
    assert [directory(s) for s in sources] == fast
    assert sum(taken) >= len(mutate.SEEDS) // 2  # the fixtures are plain archives
    by_name = dict(zip(crafted, taken[-len(crafted):], strict=True))
    assert by_name == {"plain": True, "prefixed": True, "comment": False, "zip64": False, "utf8-unflagged": True,
                       "cp437": True, "invalid-utf8-flagged": False, "nul": False}
    read = dict(zip(crafted, fast[-len(crafted):], strict=True))
    assert [e.header_offset for e in read["prefixed"][0]] == [e.header_offset + 800 for e in read["plain"][0]]
    assert [e.name for e in read["utf8-unflagged"][0]] == [e.name for e in read["plain"][0]]  # as Android reads
    assert "assets/╡─ε╡─ε.txt" in [e.name for e in read["cp437"][0]]


def _archive_of_streams(members: list[tuple[str, bool]]) -> bytes:
    """A zip written by hand whose deflated members end with a final block or not (``finished``): a
    stream flushed but never finished holds all its bytes and the right CRC, yet is cut short."""
    import struct
    import zlib

    local, central = bytearray(), bytearray()
    for name, finished in members:
        payload = f"var {name[0]} = 'text of {name}';".encode() * 40
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        stream = packer.compress(payload) + packer.flush(zlib.Z_FINISH if finished else zlib.Z_SYNC_FLUSH)
        crc, raw = zlib.crc32(payload), name.encode()
        central += struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 0, 20, 0, 0, 8, 0, 0, crc, len(stream),
                               len(payload), len(raw), 0, 0, 0, 0, 0, len(local)) + raw
        local += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(stream), len(payload),
                             len(raw), 0) + raw + stream
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(local), 0)
    return bytes(local + central + end)


def test_reading_in_order_reads_what_reading_one_by_one_reads(hostile, monkeypatch):
    """Members read in file order through the window give the bytes and anomalies of members read one
    by one, on the fixtures, the hostile packages and 300 mutated ones (cut streams, edited sizes and
    offsets): with a window of 1 MB and of 256 bytes, so that headers, names and streams cross its end."""
    from scanner.model import Limits
    from scanner.parsers import zipread

    sys.path.insert(0, str(FIXTURES / "hostile"))
    import mutate

    sources = [str(p) for p in mutate.SEEDS] + [str(p) for p in sorted(hostile.glob("*")) if p.is_file()]
    sources += [data for _label, data in mutate.inputs(300, seed=23, suffixes=(".apk", ".aab", ".hap", ".ipa"))]
    sources.append(_archive_of_streams([("a.js", True), ("unfinished.js", False), ("b.js", True)]))
    limits = Limits(member_bytes=64 << 20, package_bytes=256 << 20)
    compared = 0
    for window in (zipread.WINDOW, 256):
        monkeypatch.setattr(zipread, "WINDOW", window)
        for source in sources:
            try:
                entries, _ = zipread.directory(source)
            except zipread.ArchiveUnreadable:
                continue
            # One budget a package, as a parser reads: it also knows which entry's data is whose.
            budget = zipread.Budget()
            alone = [zipread.Reader(source, limits, budget).read(e) for e in entries]
            together = {id(m.entry): m for m in zipread.Reader(source, limits).read_in_order(entries)}
            assert [together[id(e)] for e in entries] == alone
            compared += len(entries)
    assert compared > 4000
