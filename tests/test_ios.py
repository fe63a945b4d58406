"""iOS: Mach-O slices, .strings encodings, .ipa packages written by the project's own writer
(fixtures/ios/ipa_writer.py), the purpose and encryption rules, and the real IPAs of the shared corpus."""

from __future__ import annotations

import sys

import pytest

from scanner import engine
from scanner.extract import macho
from scanner.model import Options
from scanner.parsers import detect, ipa

from conftest import CORPUS, FIXTURES, rules, scan

sys.path.insert(0, str(FIXTURES / "ios"))
from ipa_writer import CPU_ARMV7, fat, info_plist, strings
from ipa_writer import ipa as zip_ipa
from ipa_writer import macho as write_macho

NUMBER = "沪ICP备2022019616号-3A"
LINK = "https://beian.miit.gov.cn/"
CORE_LOCATION = "/System/Library/Frameworks/CoreLocation.framework/CoreLocation"
LOCATION_KEY = "NSLocationWhenInUseUsageDescription"


def app(tmp_path, name="Demo.app", purposes=None, zh_purpose="用于查找附近的门店", binary=None, about=True,
        localizable=None, utf8_flag=True, extra=None):
    prefix = f"Payload/{name}/"
    purposes = {LOCATION_KEY: "Used to find stores near you"} if purposes is None else purposes
    files = {prefix + "Info.plist": info_plist("com.example.demo", "演示", "Demo", purposes),
             prefix + "Demo": binary or write_macho(["%@ build"], [], [CORE_LOCATION]),
             prefix + "zh-Hans.lproj/InfoPlist.strings": strings({LOCATION_KEY: zh_purpose} if zh_purpose else {}),
             prefix + "en.lproj/InfoPlist.strings": strings({LOCATION_KEY: "Used to find stores near you"}, "utf-8")}
    if localizable is not None:
        files[prefix + "zh-Hans.lproj/Localizable.strings"] = localizable
    if about:
        files[prefix + "www/about.html"] = f'<p>备案号：{NUMBER}</p><a href="{LINK}">查询</a>'.encode()
    files.update(extra or {})
    path = tmp_path / "demo.ipa"
    path.write_bytes(zip_ipa(files, utf8_flag=utf8_flag))
    return path


def test_macho_thin_and_fat():
    thin = write_macho(["ICP备案号：" + NUMBER], ["关于我们"], [CORE_LOCATION], cryptid=1)
    (part,) = macho.slices(thin)
    assert part.dylibs == (CORE_LOCATION,) and part.encrypted is not None
    assert [(s.segment, s.name) for s in part.sections] == [("__TEXT", "__cstring"), ("__TEXT", "__ustring"),
                                                            ("__TEXT", "__const")]
    universal = fat([write_macho(["x"], cputype=CPU_ARMV7), thin])
    assert macho.is_macho(universal[:8]) and len(macho.slices(universal)) == 2
    assert not macho.is_macho(b"\xca\xfe\xba\xbe\x00\x32\x00\x00")  # a Java class file shares the magic


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "binary"])
def test_strings_files_in_every_encoding(encoding):
    pairs = {"about": f"备案号：{NUMBER}", 'say "hi"': "line\nbreak"}
    assert ipa.strings_file(strings(pairs, encoding)) == pairs


def test_compliant_ipa(tmp_path):
    path = app(tmp_path)
    assert detect(str(path)).name == "ipa"
    result = scan(path)
    assert (result.info.app_id, result.info.app_name, result.info.version) == ("com.example.demo", "演示", "2.0.1")
    assert rules(result) == set(), [(f.rule_id, f.message) for f in result.findings]
    assert [n.value for n in result.facts.filing_numbers] == [NUMBER]


def test_negative_twin(tmp_path):
    assert {"FIL001", "LNK001"} <= rules(scan(app(tmp_path, about=False)))


def test_number_in_ustring_placed_by_section(tmp_path):
    binary = write_macho(["%@"], [f"关于我们 备案号：{NUMBER}"], [CORE_LOCATION])
    result = scan(app(tmp_path, about=False, binary=binary))
    (number,) = result.facts.filing_numbers
    assert number.first_location.member == "Payload/Demo.app/Demo"
    assert number.first_location.pointer.startswith("__TEXT,__ustring+0x")


def test_number_in_localizable_strings_and_fat_binary(tmp_path):
    binary = fat([write_macho(["x"], cputype=CPU_ARMV7), write_macho(["x"], [], [CORE_LOCATION])])
    result = scan(app(tmp_path, about=False, binary=binary,
                      localizable=strings({"about_icp": f"备案号：{NUMBER}"}, "binary")))
    (number,) = result.facts.filing_numbers
    assert number.first_location.pointer == "about_icp [zh-Hans]"
    assert "PRM003" not in rules(result)


def test_purpose_rules(tmp_path):
    # CoreLocation linked, no location key: PRM003; a template purpose: PRM006; English only in a zh app: PRM005
    missing = scan(app(tmp_path, purposes={}, zh_purpose=None))
    assert "PRM003" in rules(missing)
    (finding,) = [f for f in missing.findings if f.rule_id == "PRM003"]
    assert LOCATION_KEY in finding.message and "links CoreLocation" in finding.message
    template = scan(app(tmp_path, purposes={LOCATION_KEY: "$(PRODUCT_NAME) needs your location"}, zh_purpose=None))
    assert {"PRM005", "PRM006"} <= rules(template)
    assert not {"PRM001", "PRM002"} & rules(template)


def test_encrypted_binary_is_reported_not_passed(tmp_path):
    binary = write_macho([f"备案号：{NUMBER}", LINK], [], [CORE_LOCATION], cryptid=1)
    result = scan(app(tmp_path, about=False, binary=binary))
    assert {"PKG005", "FIL001"} <= rules(result)
    (missing,) = [f for f in result.findings if f.rule_id == "FIL001"]
    assert "readable parts" in missing.message and "encrypted" in missing.message
    assert result.facts.filing_numbers == ()  # ciphertext is never read as text


def test_utf8_names_without_the_flag(tmp_path):
    result = scan(app(tmp_path, name="掌握.app", utf8_flag=False))
    assert result.info.app_id == "com.example.demo"
    assert any("掌握.app" in loc.member for n in result.facts.filing_numbers for loc in n.locations)


def test_degenerate_ipa_is_pkg001(tmp_path):
    path = tmp_path / "empty.ipa"
    path.write_bytes(zip_ipa({"Payload/": b""}))
    result = engine.scan_path(str(path), Options())
    assert result.error.rule_id == "PKG001" and "no <Name>.app" in result.error.message


IPAS = CORPUS / "ipa"


@pytest.mark.skipif(not IPAS.is_dir(), reason="../shared/corpus not present")
def test_real_ipas():
    hntv = scan(IPAS / "lyllong3__app-ios__app.ipa")
    assert (hntv.info.app_id, hntv.info.version) == ("com.xcy.hntv", "2.1.0")
    assert {"FIL001", "LNK001"} <= rules(hntv)
    baoshui = scan(IPAS / "maikesifff__baoshui__app.ipa")
    identity = (baoshui.info.app_id, baoshui.info.app_name, baoshui.info.version)
    assert identity == ("com.baoshui.app", "企业记账报税", "1.0")
    empty = engine.scan_path(str(IPAS / "GerryDush__LZF-Music__Runner.ipa"), Options())
    assert empty.error.rule_id == "PKG001"


def test_permission_facts_from_purpose_keys():
    """An IPA's facts: the purpose keys it states or its binary calls for; undeclared, those Info.plist
    lacks (PRM003's), so the JSON report and the batch store mean the same on every platform."""
    result = scan(FIXTURES / "ios" / "out" / "purposes.ipa")
    facts = result.facts.permissions
    assert facts.requested == ("NSLocationWhenInUseUsageDescription", "NSContactsUsageDescription")
    assert facts.undeclared == ("NSContactsUsageDescription",)
    assert {f.evidence[0] for f in result.findings if f.rule_id == "PRM003"} == set(facts.undeclared)
