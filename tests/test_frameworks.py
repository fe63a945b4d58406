"""Cross-platform frameworks: Hermes bundles (the real compiler's output and real apps' bundles), Flutter
snapshots, JS literal chains, and the context a label or the filing link beside a number gives it."""

from __future__ import annotations

import contextlib
import struct
from dataclasses import replace

import pytest

from scanner.engine import parse_options
from scanner.extract import hermes, jsconcat
from scanner.extract.prefilter import Prefilter
from scanner.facts.anchors import from_catalogs
from scanner.facts.derive import derive_facts
from scanner.model import FactOptions, PackageKind
from scanner.parsers import detect, parse, surfaces

from conftest import APKS, CORPUS, FIXTURES, package, rules, scan, text

HBC = FIXTURES / "hermes" / "out"
NUMBER = "粤ICP备2023123456号-1A"
LINK = "https://beian.miit.gov.cn/"
PREFILTER = Prefilter.of(from_catalogs())


class TestHermes:
    @pytest.mark.parametrize(("name", "version"), [("about_v96.hbc", 96), ("about_v99.hbc", 99)])
    def test_table_of_the_real_compiler(self, name, version):
        data = (HBC / name).read_bytes()
        assert hermes.table(data).version == version
        found = dict(hermes.strings(data))
        # UTF-16 (the number, the privacy text) and one-byte (the link) strings, exact despite -O packing.
        assert NUMBER in found.values() and LINK in found.values()
        assert "隐私政策：我们申请相机权限，用于扫描二维码。" in found.values()

    def test_standalone_bundle_is_its_own_format(self):
        path = str(HBC / "about_v99.hbc")
        assert detect(path).name == "hermes"
        pkg = parse(path, parse_options())
        places = {t.location.pointer for t in pkg.texts if t.value == NUMBER}
        assert places and all(p.startswith("hermes string ") for p in places)

    def test_negative_twin(self):
        assert rules(scan(HBC / "about_negative_v99.hbc")) == {"FIL001", "LNK001"}

    def test_bundle_inside_an_apk(self):
        pkg = parse(str(APKS / "rn_hermes.apk"), parse_options())
        ((member, pointer),) = {(t.location.member, t.location.pointer) for t in pkg.texts if t.value == NUMBER}
        assert member == "assets/index.android.bundle" and pointer.startswith("hermes string ")

    def test_every_corruption_is_a_clean_error_or_fewer_strings(self):
        data = (HBC / "about_v96.hbc").read_bytes()
        for pos in range(8, len(data)):
            for value in (0x00, 0xFF):
                mutated = bytearray(data)
                mutated[pos] = value
                with contextlib.suppress(hermes.HermesError):
                    list(hermes.strings(bytes(mutated)))
        for size in range(0, len(data), 5):
            with contextlib.suppress(hermes.HermesError):
                list(hermes.strings(data[:size]))

    def test_a_huge_string_count_is_refused(self):
        data = bytearray((HBC / "about_v96.hbc").read_bytes())
        struct.pack_into("<I", data, 52, 0xFFFFFFF0)
        with pytest.raises(hermes.HermesError):
            hermes.table(bytes(data))

    def test_a_broken_bundle_on_its_own_is_pkg001(self, tmp_path):
        path = tmp_path / "broken.hbc"
        path.write_bytes(hermes.MAGIC + b"\x60\0\0\0" + b"\xff" * 200)
        from scanner import engine
        from scanner.model import Options

        result = engine.scan_path(str(path), Options())
        assert result.error is not None and result.error.rule_id == "PKG001"
        assert "Hermes bundle unreadable" in result.error.message


@pytest.mark.skipif(not (CORPUS / "hbc").is_dir(), reason="../shared/corpus not present")
@pytest.mark.parametrize("version", [59, 62, 74, 76])
def test_real_react_native_bundles(version):
    path = CORPUS / "hbc" / f"hbctool_hbc{version}_example_index.android.bundle"
    data = path.read_bytes()
    table = hermes.table(data)
    found = list(hermes.strings(data))
    assert table.version == version and len(found) == table.count > 4000
    assert any(v == "https://reactjs.org/docs/error-decoder.html?invariant=" for _, v in found)
    result = scan(path)  # no number in these sample apps
    assert {"FIL001", "LNK001"} <= rules(result)


@pytest.mark.skipif(not (CORPUS / "apk").is_dir(), reason="../shared/corpus not present")
def test_via_500_number_is_in_the_context_its_code_gives_it():
    result = scan(CORPUS / "apk" / "SimSinOS__android_packages_apps_Via__Via.apk__at_dde25dd_v5.0.0.apk")
    (number,) = result.facts.filing_numbers
    assert number.value == "沪ICP备2022019616号-3A" and number.in_context
    assert '"备案号"' in number.locations[0].pointer
    assert "FIL007" not in rules(result)


class TestFlutter:
    def test_two_byte_number_and_one_byte_link_with_their_neighbours(self):
        result = scan(APKS / "flutter.apk")
        (number,) = result.facts.filing_numbers
        assert number.in_context and number.locations[0].member == "lib/arm64-v8a/libapp.so"
        assert '"备案号"' in number.locations[0].pointer
        # Records lie back to back: the link is cut at the next record's length prefix.
        assert [link.url for link in result.facts.filing_links] == [LINK]
        assert result.facts.permissions.undeclared == ()  # the privacy text is a Dart string too

    def test_negative_twin(self):
        assert {"FIL001", "LNK001"} <= rules(scan(APKS / "flutter_negative.apk"))


class TestLiteralChains:
    def test_concatenation_and_template(self):
        source = ("var icp = \"京ICP备\" + \"2023123456\" + '号-1A';\n"
                  "var b = `粤ICP备${\"2023654321\"}号-1A`; var c = \"x\" + y + \"ICP\";")
        assert list(jsconcat.joins(source, PREFILTER.shown)) == [
            (10, ("京ICP备", "2023123456", "号-1A")), (51, ("粤ICP备", "2023654321", "号-1A"))]

    def test_a_variable_between_literals_is_not_guessed(self):
        assert list(jsconcat.joins('var s = "京ICP备" + serial + "号-1A";', PREFILTER.shown)) == []

    def test_cordova_page_script(self):
        result = scan(APKS / "js_assembled.apk")
        (number,) = result.facts.filing_numbers
        assert number.value == "京ICP备2023123456号-1A"
        assert number.assembled_from == ("京ICP备", "2023123456", "号-1A")
        assert number.locations[0].pointer == "assembled from 3 literals, line 2"

    def test_a_number_whole_in_one_piece_is_not_counted_twice(self):
        pieces = (NUMBER, "备案号")
        assembled = text("".join(pieces), member="a.js", kind="asset")
        whole = text(NUMBER, member="b.js", kind="asset")
        from dataclasses import replace

        pkg = package(replace(assembled, parts=pieces), whole)
        (number,) = derive_facts(pkg, PackageKind.APP, FactOptions()).filing_numbers
        assert number.assembled_from == () and [loc.member for loc in number.locations] == ["b.js"]


class TestContextBeside:
    @pytest.mark.parametrize(("around", "expected"), [
        (f"ICP备案号：{NUMBER}", True),
        (f"{NUMBER} <a href='{LINK}'>", True),
        (f"var version='1.0.0';{NUMBER}", False),
    ])
    def test_a_label_or_the_link_beside_the_number(self, around, expected):
        pkg = package(text(around, member="assets/index.android.bundle", kind="asset"))
        (number,) = derive_facts(pkg, PackageKind.APP, FactOptions()).filing_numbers
        assert number.in_context is expected

    def test_resources_keep_their_names_as_context(self):
        pkg = package(text(f"ICP备案号：{NUMBER}", pointer="@string/footer [default]"))
        (number,) = derive_facts(pkg, PackageKind.APP, FactOptions()).filing_numbers
        assert not number.in_context


@pytest.mark.parametrize("name", ["uniapp", "capacitor", "rn_plain_js"])
def test_h5_shells_and_plain_bundles_name_the_framework_file(name):
    members = {"uniapp": "assets/apps/__UNI__1A2B3C4/www/app-service.js", "capacitor": "assets/public/about.html",
               "rn_plain_js": "assets/index.android.bundle"}
    (number,) = scan(APKS / f"{name}.apk").facts.filing_numbers
    assert number.value == NUMBER and number.in_context
    assert [loc.member for loc in number.locations] == [members[name]]


class TestHermesFastPath:
    """Only the strings whose bytes hold an anchor are decoded; the result equals decoding every one."""

    @staticmethod
    def _both(data):
        fast = list(surfaces.hermes_texts("index.android.bundle", data, PREFILTER))
        slow = [t for t in surfaces.hermes_texts("index.android.bundle", data, replace(PREFILTER, fast=False))
                if PREFILTER.matters(t.value, "index.android.bundle")]
        return fast, slow

    def test_compiled_and_real_bundles(self):
        paths = sorted(HBC.glob("*.hbc")) + (sorted((CORPUS / "hbc").iterdir()) if (CORPUS / "hbc").is_dir() else [])
        for path in paths:
            fast, slow = self._both(path.read_bytes())
            assert fast == slow and fast, path.name

    def test_overflow_entries_and_every_case(self):
        import importlib.util

        spec = importlib.util.spec_from_file_location("hermes_writer", HBC.parent / "writer.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        hermes_bundle = module.hermes_bundle

        filler = [f"s{i:07d}_" + "x" * 40 for i in range(200_000)]  # past the 8 MB a small entry addresses
        strings = [*filler[:100], "关于 " + NUMBER, "Privacy: " + "p" * 300, *filler[100:], "ＩＣＰ备2023", "iCp备案",
                   LINK, "icp" + "备" * 260]
        data = hermes_bundle(strings)
        table = hermes.table(data)
        assert table.overflow_count > 20_000
        fast, slow = self._both(data)
        assert fast == slow
        assert {t.value for t in fast} >= {"关于 " + NUMBER, LINK, "iCp备案", "ＩＣＰ备2023", "icp" + "备" * 260}
        # The candidates are exactly the strings whose lowered bytes hold a word: the band searches of the
        # small table and of the overflow pairs, never unpacking every entry; and, when the hits are too
        # spread for bands, every entry unpacked finds them as well.
        forms = hermes._byte_forms(PREFILTER.words)
        holding = []
        for index in range(table.count):
            _utf16, offset, size = hermes._entry(data, table, index)
            raw = data[table.storage + offset : table.storage + offset + size].lower()
            if any(f in raw for f in forms):
                holding.append(index)
        assert hermes.anchored_ids(data, PREFILTER.words) == holding
        self._spread_hits_take_the_layout_path(data, holding)

    @staticmethod
    def _spread_hits_take_the_layout_path(data, holding):
        import unittest.mock

        with unittest.mock.patch.object(hermes, "MAX_BANDS", 0), \
                unittest.mock.patch.object(hermes, "_by_layout", wraps=hermes._by_layout) as layout:
            assert hermes.anchored_ids(data, PREFILTER.words) == holding
        assert layout.called


def test_longest_overflow_length_is_bounded_within_twice():
    """The reach of the overflow search: at least the longest string's length, less than twice it."""
    import random

    rng = random.Random(3)
    for scale in (0, 1, 8, 200, 255, 256, 70_000, 1 << 24, (1 << 32) - 1):
        lengths = [rng.randrange(0, scale + 1) for _ in range(500)] + [scale]
        rng.shuffle(lengths)
        data = b"junk" + b"".join(struct.pack("<II", rng.getrandbits(32), n) for n in lengths) + b"tail"
        bound = hermes._longest(data, 4, len(lengths))
        assert scale <= bound <= max(0, 2 * scale - 1) or (scale == bound == 0), (scale, bound)
