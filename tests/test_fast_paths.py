"""The fast paths (anchored DEX strings, windows of large assets, own binary-XML reader) give the same
facts and findings as decoding everything, on every fixture and every real APK of the shared corpus."""

from __future__ import annotations

from dataclasses import replace

import pytest

from scanner import catalogs, engine
from scanner.engine import parse_options
from scanner.extract import prefilter as prefilters
from scanner.extract.prefilter import Prefilter, find_all, folding
from scanner.facts.anchors import from_catalogs
from scanner.model import Options, ParseOptions
from scanner.parsers import PackageUnreadable, parse

from conftest import APKS, CORPUS

FIXTURES = sorted(p for p in APKS.glob("*.apk") if p.stem not in ("truncated", "not_a_zip"))
REAL = sorted((CORPUS / "apk").glob("*.apk")) if (CORPUS / "apk").is_dir() else []
# HarmonyOS, iOS and App Bundle packages read their members through the same groups (scanner.parsers.members)
OTHERS = sorted(p for folder in ("harmony", "ios", "aab") for p in (APKS.parent / folder / "out").glob("*")
                if p.suffix in (".hap", ".app", ".ipa", ".aab"))
OTHERS += sorted(p for folder in ("hap", "ipa", "aab") if (CORPUS / folder).is_dir()
                 for p in (CORPUS / folder).glob("*"))


def outcome(path, fast):
    try:
        package = parse(str(path), parse_options(ParseOptions(offload=fast), fast=fast))
    except PackageUnreadable as exc:
        return exc.message
    result = engine.evaluate(package, Options())
    return result.facts, [(f.rule_id, f.message, f.location, f.evidence, f.fingerprint) for f in result.findings]


@pytest.mark.parametrize("path", FIXTURES + REAL + OTHERS, ids=lambda p: p.name)
def test_fast_equals_reference(path):
    assert outcome(path, fast=True) == outcome(path, fast=False)


def test_fast_path_is_really_taken_on_the_large_bundle():
    fast = parse(str(APKS / "large_bundle.apk"), parse_options())
    slow = parse(str(APKS / "large_bundle.apk"), parse_options(fast=False))
    bundle = [t for t in fast.texts if t.location.member == "assets/index.android.bundle"]
    assert len(bundle) >= 2 and all(len(t.value) < 100_000 for t in bundle)
    assert {t.line for t in bundle} != {1}
    assert len(fast.texts) < len(slow.texts)


def test_anchors_cover_the_catalog_markers():
    markers = catalogs.load("context")["declaration_markers"]
    needles = Prefilter.of(from_catalogs())
    for marker in markers["zh"]:
        assert marker.encode() in needles.dex and marker in needles.words
    for marker in markers["en"]:
        assert any(m in marker.lower() for m in needles.marker_words)


@pytest.mark.parametrize("example", catalogs.load("filing")["examples"], ids=lambda e: e["text"])
def test_every_number_example_holds_a_text_anchor(example):
    text = example["text"]
    lowered = text.encode("utf-8").lower()  # what anchored_windows searches: ASCII letters lower-cased
    needles = Prefilter.of(from_catalogs())
    assert any(n in lowered for n in needles.text if not n.startswith(b"\\u"))


def test_offloaded_member_gives_the_same_facts(monkeypatch):
    """The forked helper (used for big members on multi-core machines) changes nothing in the result."""
    from scanner.parsers import offload

    monkeypatch.setattr(offload, "MIN_COMPRESSED", 0)
    monkeypatch.setattr(offload.os, "cpu_count", lambda: 2)
    # Earlier tests may leave library threads behind (a Dask cluster's event loop): as for a fresh scan.
    monkeypatch.setattr(offload.threading, "active_count", lambda: 1)
    forks = []
    real_fork = offload.os.fork
    monkeypatch.setattr(offload.os, "fork", lambda: forks.append(1) or real_fork())
    # The largest member to the helper, the rest here: both sides scan (tiny fixtures would otherwise
    # hand the helper everything, which is not worth a fork).
    monkeypatch.setattr(offload, "split", lambda queue, _head: (queue[:1], queue[1:]))
    for name in ("large_bundle", "native_only", "compliant"):
        path = APKS / f"{name}.apk"
        assert outcome(path, fast=True) == outcome(path, fast=False)
    assert len(forks) == 3


def test_helper_is_reaped_when_the_parse_stops_early(monkeypatch, tmp_path):
    import os
    import zipfile

    from scanner.parsers import offload

    monkeypatch.setattr(offload, "MIN_COMPRESSED", 0)
    monkeypatch.setattr(offload.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(offload.threading, "active_count", lambda: 1)
    forks: list[int] = []
    real_fork = offload.os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(offload.os, "fork", fork)
    broken = tmp_path / "broken.apk"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("AndroidManifest.xml", b"\x00garbage, not binary XML" * 10)
        archive.writestr("assets/a.txt", "备案号：粤ICP备2023123456号-1A" * 100)
        archive.writestr("assets/b.txt", "x" * 1000)
    with pytest.raises(PackageUnreadable):
        parse(str(broken), parse_options(ParseOptions(offload=True)))
    assert len(forks) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(forks[0], os.WNOHANG)  # the helper was reaped: none left behind


def _tables(paths):
    import zipfile

    for path in paths:
        try:
            with zipfile.ZipFile(path) as archive:
                if "resources.arsc" in archive.namelist():
                    yield path, archive.read("resources.arsc")
        except (zipfile.BadZipFile, OSError, NotImplementedError, ValueError):
            continue


@pytest.mark.parametrize(("path", "data"), list(_tables(FIXTURES + REAL)), ids=lambda v: getattr(v, "name", ""))
def test_anchored_resource_table_keeps_exactly_what_matters(path, data):
    """The anchored read of resources.arsc (dense chunks as arrays, the rest walked) keeps exactly the
    strings the decode-everything read keeps after the anchor check, and resolves every reference."""

    from scanner.extract import arsc
    from scanner.extract.stringpool import ChunkError

    prefilter = Prefilter.of(from_catalogs())
    try:
        full = arsc.read_table(data)
    except ChunkError:
        pytest.skip("table unreadable either way")
    fast = arsc.read_table(data, prefilter)
    wanted = [s for s in full.strings if prefilter.matters(s.value, s.key)]
    assert sorted(fast.strings, key=repr) == sorted(wanted, key=repr)
    plain = {s.res_id for s in full.strings if s.item is None}
    for res_id in sorted(plain)[:200]:
        reference = [s for s in full.strings if s.res_id == res_id and s.item is None]
        assert sorted(fast.values(res_id), key=repr) == sorted(reference, key=repr)


def test_dense_chunks_take_the_array_path():
    """aapt's string chunks are read as arrays (no Python loop per entry); bags are walked."""
    import zipfile

    from scanner.extract import arsc

    data = zipfile.ZipFile(APKS / "compliant.apk").read("resources.arsc")
    table = arsc.read_table(data)
    dense = {(c.type_name, arsc._dense_strings(data, c) is not None) for c in table.chunks}
    assert ("string", True) in dense and ("array", False) in dense


def test_zip_directory_read_once_per_scan(monkeypatch, tmp_path):
    """Detection and the parser share one read of the central directory within a scan; outside a scan
    nothing is remembered, so a package rewritten in place (as the fuzzer does) is read afresh."""
    from scanner.parsers import zipread

    reads = []
    real = zipread._directory
    monkeypatch.setattr(zipread, "_directory", lambda path: reads.append(path) or real(path))
    compliant = str(APKS / "compliant.apk")
    for scan in (engine.scan_target, engine.scan_path):
        reads.clear()
        shared = scan(compliant, Options())
        assert reads == [compliant]
        assert (shared[0] if isinstance(shared, tuple) else shared).error is None
    copy = tmp_path / "app.apk"
    copy.write_bytes((APKS / "compliant.apk").read_bytes())
    assert engine.scan_path(str(copy), Options()).error is None
    copy.write_bytes(b"PK\x03\x04" + b"\0" * 60)  # same path, now no central directory
    assert engine.scan_path(str(copy), Options()).error.rule_id == "PKG001"


SMALL_FILES = [
    ("www/a.js", b"var x = 'hello world'; function f(a) { return a + 1 }\n"),
    ("www/b.css", b".footer-copy { color: red }\n"),
    ("www/b2.css", b".icp-footer { color: red }\n"),
    ("www/c.js", b"var t = 'Copyright ' + 'ICP' + '\\u5907 2023123456';\n"),
    ("www/d.js", b"var t = '\\x49CP\\x20beian';\n"),
    ("www/e.js", b"var t = 'IC\\u0050 2023';\n"),
    ("www/f.js", b"var u = 'https:\\/\\/beian.miit.gov.cn\\/';\n"),
    ("www/g.txt", "粤ICP备2023123456号-1A".encode("utf-16")),
    ("www/h.txt", "隐私 政策".encode("gb18030")),
    ("www/i.txt", b"I\0C\0P\0 \0b\0e\0i\0a\0n\0"),
    ("www/privacy.js", b"var nothing = 1;\n"),
    ("www/j.html", b"<p>I<b></b>CP 2023</p>"),
    ("www/k.htm", b"<p>&#73;CP</p>"),
    ("www/l.js", b"// PRIVACY notice and Permission list\n"),
    ("www/m.js", b"var a = 'no anchors at all, only \\n newlines and \\t tabs';\n"),
    ("www/n.js", "var m = '消息 设置：（账户）';\n".encode()),
    ("www/o.js", "var m = '消息 粤ＩｃＰ备2023123456号';\n".encode()),
    ("www/p.js", "var m = '\u0130CP 消息';\n".encode()),
    ("www/q.js", "var m = '消息 ICP';\n".encode("gb18030")),
    ("www/r.js", "\ufeff消息 设置".encode()),
    ("www/s.html", "<p>hello <b>消息</b>&nbsp;&copy;</p>\n".encode()),
    ("www/t.html", b'<a href="https://beian.miit.gov.cn/">x</a>'),
    ("www/u.html", b"<p>&#<b></b>73;CP 2023</p>"),
    ("www/v.html", b"<p>&Idot;CP</p>"),
    ("www/w.html", b"<p>PRIV<!-- x -->ACY</p>"),
]


@pytest.mark.parametrize(("name", "data"), SMALL_FILES, ids=[n for n, _ in SMALL_FILES])
def test_small_files_dropped_unread_only_when_no_text_of_theirs_can_matter(name, data, monkeypatch):
    # A small ASCII file is searched as bytes and dropped before decoding when it holds no anchor; the
    # texts kept are the ones the decoded-and-checked path keeps, for escapes, encodings and markup too.
    from scanner.parsers import surfaces

    needles = Prefilter.of(from_catalogs())
    every = list(surfaces.file_texts(name, data, replace(needles, fast=False)))
    decoded = []
    file_text = surfaces.textdecode.file_text
    monkeypatch.setattr(surfaces.textdecode, "file_text", lambda n, d: decoded.append(n) or file_text(n, d))
    fast = list(surfaces.file_texts(name, data, needles))
    assert fast == [t for t in every if needles.matters(t.value, name)]
    unread = name.rsplit("/", 1)[1] in ("a.js", "b.css", "m.js", "n.js", "s.html")
    assert bool(decoded) != unread  # plain UTF-8 without a word is dropped undecoded; the rest decoded
    kept = name.rsplit("/", 1)[1] not in ("a.js", "b.css", "m.js", "n.js", "p.js", "r.js", "s.html", "v.html")
    assert bool(fast) == kept, fast


def test_folding_covers_every_character_lower_case_turns_into_a_word_character():
    prefilter = Prefilter.of(from_catalogs())
    letters = {c for w in prefilter.words for c in w}
    forms = set(folding(prefilter.words))
    for code in range(0x80, 0x110000):
        c = chr(code)
        lowered = c.lower()
        if lowered != c and any(x in letters for x in lowered):
            assert c in forms, hex(code)
    assert "Ｉ" in forms and "\u0130" in forms


@pytest.mark.parametrize("lowered", [False, True])
def test_find_all_finds_every_needle_across_piece_seams(monkeypatch, lowered):
    import random

    # Small pieces so that the needles fall on seams at every offset; the reference is bytes.find.
    monkeypatch.setattr(prefilters, "SEARCH_PIECE", 16)
    needles = (b"beian", b"icp", b"\xe5\xa4\x87", b"p\xe5\xa4\x87")
    rng = random.Random(3)
    data = bytearray(rng.choice(b"xyz .") for _ in range(2000))
    planted = []
    for at in range(3, 1990, 37):
        needle = rng.choice(needles[:3])
        data[at : at + len(needle)] = needle.upper() if lowered else needle
        planted.append(at)
    data = bytes(data)
    source = data.lower() if lowered else data
    expected = sorted({pos for n in needles for pos in _occurrences(source, n)})
    found = find_all(data, needles, lowered=lowered)
    assert found == sorted(set(found)) and set(planted) <= set(found) <= set(expected)
    # within a range: the same hits, offsets in the whole data
    assert find_all(data, needles, 500, 1500, lowered=lowered) == [
        500 + p for p in find_all(data[500:1500], needles, lowered=lowered)]


def _occurrences(data, needle):
    pos = data.find(needle)
    while pos >= 0:
        yield pos
        pos = data.find(needle, pos + 1)


def test_mapped_resource_table_gives_the_same_result(monkeypatch):
    """A stored resource table read as a view of the mapped file (what large tables get) gives the same
    facts and findings as the copy every other member gets, on every fixture and real APK with a table."""
    from scanner.parsers import zipread

    with_table = [path for path, _data in _tables(FIXTURES + REAL)]
    assert len(with_table) >= 5
    copied = {path: outcome(path, fast=True) for path in with_table}
    views = []
    real_mapped = zipread.Reader._mapped

    def mapped(self, start, length):
        view = real_mapped(self, start, length)
        views.append(view is not None)
        return view

    monkeypatch.setattr(zipread, "MAP_MIN", 1)
    monkeypatch.setattr(zipread.Reader, "_mapped", mapped)
    for path in with_table:
        assert outcome(path, fast=True) == copied[path], path.name
    assert views and all(views)  # every table was stored, and every one was mapped


def test_no_helper_when_it_would_get_every_member(monkeypatch):
    """A fork pays only when both sides scan: with the table's head start outweighing every other member
    (a resource-heavy app), the helper would take them all while this process only reads the table."""
    from scanner.extract import arsc
    from scanner.parsers import apk, offload, reading
    from scanner.parsers.common import zip_directory

    monkeypatch.setattr(offload, "MIN_COMPRESSED", 0)
    monkeypatch.setattr(offload.threading, "active_count", lambda: 1)
    forks = []
    real_fork = offload.os.fork
    monkeypatch.setattr(offload.os, "fork", lambda: forks.append(1) or real_fork())
    path = str(APKS / "large_bundle.apk")
    entries, _ = zip_directory(path)
    queue = sorted((e for e in entries if apk._scanned(e.name)), key=lambda e: -e.compressed_size)
    assert len(queue) >= 2
    prefilter = Prefilter.of(from_catalogs())
    alone = (apk._texts_with(arsc.ResourceTable(()), prefilter), apk._plain)
    with reading.Members(path, Options().parse.limits, prefilter) as scheduled:
        scheduled.schedule(list(queue), alone, may_fork=True, head_start=1 << 40)
    assert forks == []
    with reading.Members(path, Options().parse.limits, prefilter) as scheduled:
        scheduled.schedule(list(queue), alone, may_fork=True, head_start=0)
        assert forks == [1]


def test_many_small_members_are_worth_a_helper(monkeypatch):
    """An H5 shell has no large member, but its thousands of pages take a second to read in one process:
    a total past ``MIN_TOTAL`` is worth a helper as a single large member is; a small total is not."""
    from scanner.parsers import offload, zipread

    monkeypatch.setattr(offload.threading, "active_count", lambda: 1)

    def members(count, size):
        return [zipread.Entry(f"assets/www/f{i}.js", 0, 8, 0, size, 3 * size, 0) for i in range(count)]

    assert offload.worth_it(members(20_000, 1400))  # 28 MB compressed in 1.4 KB pieces
    assert not offload.worth_it(members(2_000, 1400))
    assert offload.worth_it(members(1, offload.MIN_COMPRESSED) + members(1, 10))
    assert not offload.worth_it(members(1, 1 << 30))  # one member: nothing to share out
    monkeypatch.setattr(offload.threading, "active_count", lambda: 2)
    assert not offload.worth_it(members(20_000, 1400))  # another thread alive: never fork


def _quiet_cases():
    """SMALL_FILES and the cases only files searched together have: a tag left open at a file's end before
    a file whose first line holds a word, invalid UTF-8 beside valid files, a NUL, Hermes, empty, large."""
    import random

    from scanner.extract import hermes
    from scanner.parsers import surfaces

    rng = random.Random(5)
    words = ("account", "setting", "消息", "设置", "order", "刷新")
    filler = [(f"www/p{i}.{('js', 'css', 'html')[i % 3]}",
               " ".join(f"{rng.choice(words)}{rng.getrandbits(20):05x}" for _ in range(rng.randrange(5, 80))).encode())
              for i in range(300)]
    filler[150] = ("www/p150.js", filler[150][1] + b" var u = 'https://beian.miit.gov.cn/';")
    return [*SMALL_FILES, ("www/open.html", b"<p>text</p><span title='x"), ("www/next.html", b"ICP 2023 -> shown"),
            ("www/ref.html", b'<a href="&#98;eian.miit.gov.cn">x</a>'),
            ("www/gb.js", "备案 ICP".encode("gb18030")), ("www/nul.js", b"var a = 1;\0"), ("www/empty.js", b""),
            ("www/app.bundle", hermes.MAGIC + b"\0" * 64), ("www/huge.js", b"x" * (surfaces.LARGE_FILE + 1)),
            *filler]


@pytest.mark.parametrize("piece", [64, 4096, prefilters.SEARCH_PIECE])
def test_files_without_anchors_decides_as_each_file_alone(piece, monkeypatch):
    """Files told quiet in groups are exactly those ``_nothing_to_read`` drops one by one (Hermes, large and
    empty files left undecided), in any order and whatever the group size; each quiet one has no text."""
    import random

    from scanner.extract import hermes
    from scanner.parsers import surfaces

    monkeypatch.setattr(prefilters, "SEARCH_PIECE", piece)
    prefilter = Prefilter.of(from_catalogs())
    files = _quiet_cases()
    for order in range(3):  # the first as listed: the file with a tag left open is followed by next.html
        if order:
            random.Random(order).shuffle(files)
        quiet = surfaces.files_without_anchors(files, prefilter)
        alone = [0 < len(d) <= surfaces.LARGE_FILE and not hermes.is_hermes(d)
                 and surfaces._nothing_to_read(n, d, n.endswith((".html", ".htm")), prefilter) for n, d in files]
        assert quiet == alone
        assert 250 < sum(quiet) < len(files) - 20
        assert all(not list(surfaces.file_texts(n, d, prefilter)) for (n, d), q in zip(files, quiet, strict=True) if q)
    named = dict(zip((n for n, _ in files), quiet, strict=True))
    assert not any(named[f"www/{n}"] for n in ("next.html", "ref.html", "p150.js", "gb.js", "nul.js"))
    assert surfaces.files_without_anchors(files, replace(prefilter, fast=False)) == [False] * len(files)


def test_members_are_scanned_in_bounded_groups(monkeypatch):
    """Small members go to the scan together, up to GROUP_BYTES; a larger one stands alone, so at most
    one large member and one group of small ones are held at once; a member a cap refused travels too."""
    from scanner.parsers import members, zipread

    monkeypatch.setattr(members, "GROUP_BYTES", 1000)

    def member(size):
        return zipread.Member(zipread.Entry("m", 0, 8, 0, 1, 1, 0), None if size is None else b"x" * size, ())

    sizes = [300, 300, 300, 300, 5000, 100, None, 100, 999, 1]
    grouped = [[len(m.data) if m.data is not None else None for m in g]
               for g in members.groups(member(s) for s in sizes)]
    assert grouped == [[300, 300, 300], [300], [5000], [100, None, 100], [999, 1]]
    assert [m for g in grouped for m in g] == sizes
    pulled = []
    lazy = members.groups(pulled.append(s) or member(s) for s in (5000, 10, 20))
    assert [len(m.data) for m in next(lazy)] == [5000] and pulled == [5000]  # scanned before the next is read
