"""The decoders on real bytes: resource tables, DEX string tables, text encodings, binaries."""

from __future__ import annotations

import struct
import zipfile

import pytest

from scanner.extract import arsc, binary, dex, textdecode
from scanner.extract import prefilter as prefilters
from scanner.extract.prefilter import (
    ALONE,
    SHORT,
    Prefilter,
    _by_length,
    _searches,
    find_all,
    holds_any,
    pieces_holding,
)
from scanner.extract.stringpool import ChunkError, read_string_pool
from scanner.facts.anchors import from_catalogs

from conftest import APKS

PREFILTER = Prefilter.of(from_catalogs())


def member(apk: str, name: str) -> bytes:
    with zipfile.ZipFile(APKS / f"{apk}.apk") as archive:
        return archive.read(name)


class TestResourceTable:
    def test_strings_with_names_and_locales(self):
        table = arsc.read_table(member("compliant", "resources.arsc"))
        pointers = {s.pointer: s.value for s in table.strings}
        assert pointers["@string/about_icp [default]"] == "ICP filing: 粤ICP备2023123456号-1A"
        assert pointers["@string/about_icp [zh-rCN]"] == "ICP备案号：粤ICP备2023123456号-1A"
        assert pointers["@array/permission_list[0] [zh-rCN]"].startswith("相机权限")
        assert table.complete

    def test_resolve_by_id(self):
        table = arsc.read_table(member("compliant", "resources.arsc"))
        rid = next(s.res_id for s in table.strings if s.key == "app_name")
        assert {v.locale: v.value for v in table.values(rid)} == {"default": "Beian Compliant", "zh-rCN": "备案合规"}

    def test_not_a_table(self):
        with pytest.raises(ChunkError):
            arsc.read_table(b"\x01\x00\x0c\x00" + b"\0" * 20)

    def test_truncated_table_falls_back_or_refuses_cleanly(self):
        data = member("compliant", "resources.arsc")
        for cut in (16, len(data) // 3, len(data) // 2, len(data) - 9):
            try:
                table = arsc.read_table(data[:cut])
            except ChunkError:
                continue
            assert isinstance(table.strings, tuple)

    def test_tampered_string_count_reads_what_fits(self):
        data = bytearray(member("compliant", "resources.arsc"))
        pool_at = 12
        struct.pack_into("<I", data, pool_at + 8, 0x7FFFFFFF)
        pool = read_string_pool(bytes(data), pool_at)
        assert len(pool.strings) > 0
        assert pool.get(10**9) == ""

    def test_packed_three_letter_locale(self):
        # ResTable_config language "fil" packed: high bit set, 5-bit letters (ResourceTypes.h packLanguage).
        letters = [ord(c) - ord("a") for c in "fil"]
        first = (letters[1] << 5 | letters[0]) & 0xFF
        second = 0x80 | (letters[2] << 2) | (letters[1] >> 3)
        assert arsc._packed_code(bytes([second, first]), ord("a")) == "fil"


    @pytest.mark.parametrize(("words", "present"), [
        ((0, 16, 32), 3),
        ((0, 0xFFFFFFFF, 16, 0xFFFFFFFF, 0xFFFFFFFF, 32, 0xFFFFFFFF), 3),
        ((0xFFFFFFFF, 0, 16), 2),
        ((0, 0xFFFFFF00, 16), None),  # top byte ff but not a hole
        ((0, 0xFFFFFFFF, 0xFF000010), None),
        ((0, 32, 16), None),  # out of order
        ((0, 16, 16), None),
        ((0, 0xFFFF_FF10, 0xFFFF_FFFF), None),
        ((16, 32), None),  # must start at 0
        ((0, 17), None),
    ])
    def test_holes_of_a_dense_chunk_are_told_from_bytes(self, words, present):
        stored = struct.pack(f"<{len(words)}I", *words)
        assert arsc._present_dense(stored) == present
        # the reference: the present offsets, unpacked, are 0, 16, 32 … in order
        kept = [w for w in words if w != arsc.NO_ENTRY]
        assert (kept == list(range(0, 16 * len(kept), 16))) == (present is not None)


    @pytest.mark.parametrize("utf8", [True, False])
    @pytest.mark.parametrize("shuffled", [False, True])
    def test_pool_search_finds_each_string_holding_a_word_in_any_order(self, utf8, shuffled, monkeypatch):
        import random

        from scanner.extract.stringpool import LazyPool, _length

        values = [f"v{i} plain" for i in range(300)]
        for i in (0, 7, 150, 299):
            values[i] = f"粤ICP备20231234{i:02d}号-1A" if i % 2 else f"https://BEIAN.miit.gov.cn/{i}"
        blob, offsets = bytearray(), []
        for v in values:
            offsets.append(len(blob))
            if utf8:
                raw = v.encode()
                blob += bytes([len(v), len(raw)]) + raw + b"\0"
            else:
                blob += struct.pack("<H", len(v)) + v.encode("utf-16-le") + b"\0\0"
        order = list(range(len(values)))
        if shuffled:  # the strings' bytes laid out in another order than their indexes
            random.Random(5).shuffle(order)
            blob2, moved = bytearray(), [0] * len(values)
            for i in order:
                start = offsets[i]
                end = offsets[i + 1] if i + 1 < len(values) else len(blob)
                moved[i] = len(blob2)
                blob2 += blob[start:end]
            blob, offsets = blob2, moved
        pool = LazyPool(bytes(blob), 0, len(blob), tuple(offsets), utf8)
        sorted_all = []
        from scanner.extract import stringpool

        unordered = stringpool.holders_sorted
        monkeypatch.setattr(stringpool, "holders_sorted",
                            lambda offsets, hits: sorted_all.append(1) or unordered(offsets, hits))
        assert _length(bytes(blob), offsets[7], not utf8)[0] == len(values[7])
        assert pool.matching(("icp", "beian")) == frozenset({0, 7, 150, 299})
        assert bool(sorted_all) == shuffled  # in index order: no sort of every offset
        assert [pool.get(i) for i in range(len(values))] == values


class TestDex:
    def test_string_table(self):
        strings = dict(dex.dex_strings(member("dex_only", "classes.dex"), PREFILTER))
        assert "粤ICP备2023123456号-1A" in strings.values()
        assert "https://beian.miit.gov.cn/" in strings.values()

    @pytest.mark.parametrize("shuffled", [False, True])
    def test_anchored_strings_found_whatever_the_data_order(self, shuffled, monkeypatch):
        import random

        from scanner.extract import packed

        data = bytearray(member("dex_only", "classes.dex"))
        count, ids_off = struct.unpack_from("<II", data, 0x38)
        if shuffled:  # string_ids pointing at the string data in another order than their own
            offsets = list(struct.unpack_from(f"<{count}I", data, ids_off))
            random.Random(3).shuffle(offsets)
            struct.pack_into(f"<{count}I", data, ids_off, *offsets)
        data = bytes(data)
        sorts = []
        by_sort = packed.holders_sorted
        monkeypatch.setattr(dex, "holders_sorted", lambda o, h: sorts.append(1) or by_sort(o, h))
        fast = dict(dex.dex_strings(data, PREFILTER))
        every = dict(dex.dex_strings(data, None))
        wanted = {i for i, v in every.items() if any(n.decode() in v.lower() for n in PREFILTER.dex)}
        assert len(wanted) >= 2
        assert wanted <= fast.keys() and all(every[i] == v for i, v in fast.items())
        assert bool(sorts) == shuffled  # in string_ids order: no sort of every offset

    def test_bad_magic(self):
        with pytest.raises(ChunkError):
            list(dex.dex_strings(b"not a dex" + b"\0" * 200, PREFILTER))

    def test_string_ids_past_end(self):
        data = bytearray(member("dex_only", "classes.dex"))
        struct.pack_into("<I", data, 0x38, 0x0FFFFFFF)
        with pytest.raises(ChunkError):
            list(dex.dex_strings(bytes(data), PREFILTER))

    def test_corrupt_offset_costs_one_string(self):
        data = bytearray(member("dex_only", "classes.dex"))
        count, ids_off = struct.unpack_from("<II", data, 0x38)
        struct.pack_into("<I", data, ids_off, 0xFFFFFFF0)
        assert len(list(dex.dex_strings(bytes(data), None))) == count - 1

    def test_fast_path_keeps_exactly_the_anchored_strings(self):
        data = member("dex_only", "classes.dex")
        every = dict(dex.dex_strings(data, None))
        fast = dict(dex.dex_strings(data, PREFILTER))
        assert set(fast) < set(every)
        assert fast == {i: s for i, s in every.items() if PREFILTER.dex_pattern.search(s.encode().lower())}
        assert "粤ICP备2023123456号-1A" in fast.values()

    def test_mutf8_supplementary_and_nul(self):
        # U+1F600 as a CESU-8 surrogate pair, and NUL as C0 80 (dex-format: MUTF-8).
        raw = "😀".encode("utf-16-le")
        hi, lo = struct.unpack("<HH", raw)
        cesu = b"".join(chr(u).encode("utf-8", "surrogatepass") for u in (hi, lo))
        assert dex.decode_mutf8(b"a" + cesu + b"\xc0\x80b") == "a😀\x00b"


class TestTextDecode:
    @pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gb18030", "utf-16-le"])
    def test_encodings(self, encoding):
        source = "关于我们：粤ICP备2023123456号-1A " * 3
        assert textdecode.decode_bytes(source.encode(encoding)).strip() == source.strip()

    def test_binary_is_none(self):
        assert textdecode.decode_bytes(bytes(range(256)) * 4) is None

    def test_html_entities_and_tags(self):
        html = '<p>&#31908;ICP&#22791;<b>2023123456</b>&#21495;-1A</p>\n<a href="https://beian.miit.gov.cn/">x</a>'
        out = textdecode.html_to_text(html)
        assert "粤ICP备2023123456号-1A" in out
        assert "https://beian.miit.gov.cn/" in out
        assert out.count("\n") == html.count("\n")

    def test_js_escapes(self):
        assert textdecode.unescape_js(r"\u7ca4\x41\u{1F600}\/\ud83d\ude00") == "粤A😀/😀"


class TestBinary:
    def test_utf8_and_utf16_runs(self):
        so = member("native_only", "lib/x86_64/libcore.so")
        found = [t for _, t in binary.anchored_strings(so, PREFILTER)]
        assert "ICP备案号：粤ICP备2023123456号-1A" in found
        assert "https://beian.miit.gov.cn/" in found

    def test_no_anchor_no_text(self):
        assert list(binary.anchored_strings(b"\x7fELF" + b"hello world" * 100, PREFILTER)) == []


def test_little_u32_reads_the_whole_words_the_data_holds():
    from scanner.extract.packed import little_u32

    data = struct.pack("<3I", 1, 0x01020304, 0xFFFFFFFF) + b"\x05\x06"
    assert list(little_u32(data, 0, 3)) == [1, 0x01020304, 0xFFFFFFFF]
    assert list(little_u32(data, 4, 10)) == [0x01020304, 0xFFFFFFFF]  # cut short: no partial word
    assert list(little_u32(memoryview(data), 8, 1)) == [0xFFFFFFFF]
    assert list(little_u32(data, 0, 0)) == []


class TestAnchorSearch:
    """``holds_any`` and ``pieces_holding`` answer a set question; the short needles are searched by an
    automaton of their own (the SIMD prefilter), which must not change the answer."""

    @pytest.mark.parametrize("needles", [PREFILTER.plain, PREFILTER.markup, (b"\\u", b"ab"), (b"&#",),
                                         (b"icp", b"beian")])
    def test_answers_what_a_search_for_each_needle_answers(self, needles):
        import random

        rng = random.Random(7)
        alphabet = [b"a", b"b", b"c", b"i", b"p", b"\\", b"u", b"x", b"&", b"#", b" ", b"\xc4", b"\xb0", b"\xe5"]
        pieces = [b"".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40))) for _ in range(400)]
        pieces += [n for n in needles] + [b"zz" + n + b"zz" for n in needles] + [needles[0] + needles[-1]]
        data = b"\0".join(pieces)
        starts = [0]
        for piece in pieces[:-1]:
            starts.append(starts[-1] + len(piece) + 1)
        expected = {k for k, piece in enumerate(pieces) if any(n in piece for n in needles)}
        assert pieces_holding(data, needles, starts) == expected
        for piece in pieces:
            assert holds_any(piece, needles) == any(n in piece for n in needles)
        assert not holds_any(b"", needles) and pieces_holding(b"", (), [0]) == set()

    def test_short_needles_have_an_automaton_of_their_own(self):
        groups = _by_length(PREFILTER.markup)
        assert [min(map(len, g)) >= SHORT for g in groups] == [True, False]
        assert len(_searches(PREFILTER.markup)) == 1 + len(groups[1]) <= 1 + ALONE
        assert len(_searches((b"abcd", b"efgh"))) == 2 and len(_searches(PREFILTER.text)) == 1
        assert sorted(n for g in groups for n in g) == sorted(PREFILTER.markup)
        assert _by_length(PREFILTER.text) == (PREFILTER.text,)

    @pytest.mark.parametrize("needles", [(b"p\x00r\x00", b"\x90\x96\xc1y", b"cgp\x96"), PREFILTER.text,
                                         tuple(sorted({n.lower() for n in PREFILTER.wide}))])
    @pytest.mark.parametrize("lowered", [False, True])
    def test_find_all_finds_every_needle_wherever_it_lies(self, needles, lowered, monkeypatch):
        """Needles are lower-case, as every caller gives them; planted upper-cased when searched lowered."""
        import random

        monkeypatch.setattr(prefilters, "SEARCH_PIECE", 64)  # many seams
        rng = random.Random(11)
        filler = [b"s\x001\x00", b"\x00\x00", b"A", b"Z", b"x"]
        parts, planted = [], []
        for _ in range(300):
            parts.append(b"".join(rng.choice(filler) for _ in range(rng.randrange(0, 30))))
            needle = rng.choice(needles)
            planted.append((sum(map(len, parts)), needle))
            parts.append(needle.upper() if lowered else needle)
        data = b"".join(parts)
        found = find_all(data, needles, lowered=lowered)
        assert found == sorted(set(found))
        assert {at for at, _needle in planted} <= set(found)
        searched = data.lower() if lowered else data
        assert all(any(searched.startswith(n, at) for n in needles) for at in found)
