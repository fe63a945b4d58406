"""Hardened (加固) packages: the protector is recognized from evidence that holds together, the verdict
says what could not be read, and names alone never make a package hardened (issue 25)."""

from __future__ import annotations

import json
import subprocess
import zipfile

import pytest

from scanner import catalogs, engine
from scanner.extract import dexclasses
from scanner.facts.labels import is_number_label
from scanner.facts.protection import application_chain, is_stub, protection, protectors
from scanner.formatters import json_report
from scanner.model import AndroidCode, DexFile, Options, PackageInfo, PackageKind, Report
from scanner.model import Package as Pkg

from conftest import APKS, CORPUS, ENTRY_POINT, venv_env

HARDENED = {"hardened_jiagu": "360加固", "hardened_jiagu_numbered": "360加固", "hardened_legu": "腾讯乐固",
            "hardened_legu4": "腾讯乐固", "hardened_bangcle": "梆梆加固", "hardened_ijiami": "爱加密",
            "hardened_baidu": "百度加固", "hardened_alibaba": "阿里聚安全", "hardened_yidun": "网易易盾",
            "hardened_dingxiang": "顶象加固", "hardened_kiwisec": "几维安全", "hardened_naga": "娜迦加固"}
TWINS = ("hardened_names_only", "hardened_stub_in_code", "hardened_code_readable")


def _scan(name):
    return engine.scan_path(str(APKS / f"{name}.apk"), Options())


def _finding(result, rule):
    return next(f for f in result.findings if f.rule_id == rule)


@pytest.mark.parametrize("name", sorted(HARDENED))
def test_hardened_fixture_names_its_protector_and_searches_the_readable_parts(name):
    result = _scan(name)
    shield = result.facts.protection
    assert shield is not None and shield.name == HARDENED[name]
    pkg005 = _finding(result, "PKG005")
    assert HARDENED[name] in pkg005.message and "resources were read" in pkg005.message
    assert pkg005.location is not None and pkg005.location.member == "AndroidManifest.xml"
    assert shield.payloads, "each fixture carries a payload name of its protector"
    assert "MainActivity" in shield.missing[0], "the app's own activity is in no DEX"
    for rule in ("FIL001", "LNK001"):
        message = _finding(result, rule).message
        assert "in the readable parts of the package" in message and HARDENED[name] in message


@pytest.mark.parametrize("name", TWINS)
def test_negative_twins_are_not_hardened(name):
    result = _scan(name)
    assert result.facts.protection is None
    assert "PKG005" not in {f.rule_id for f in result.findings}
    assert "in any text of the package" in _finding(result, "FIL001").message


def test_legu4_is_recognized_through_the_superclass_the_dex_defines():
    result = _scan("hardened_legu4")
    shield = result.facts.protection
    assert shield.stub == "com.wrapper.proxyapplication.WrapperProxyApplication"
    assert shield.evidence[0] == ("application class com.beianscan.fixture.hardened_legu4.StubApp extends "
                                  "com.wrapper.proxyapplication.WrapperProxyApplication")


def test_encrypted_code_asset_and_a_label_without_number():
    result = _scan("encrypted_code_asset")
    assert result.facts.protection is None
    sealed = {f.location.member: f.message for f in result.findings if f.rule_id == "PKG005"}
    assert set(sealed) == {"assets/plugin.jar", "assets/index.android.bundle"}
    assert "neither DEX nor zip" in sealed["assets/plugin.jar"]
    assert "neither Hermes bytecode nor JavaScript" in sealed["assets/index.android.bundle"]
    fil001 = _finding(result, "FIL001")
    assert "assets/plugin.jar is encrypted" in fil001.message and "they could not be read" in fil001.message
    assert "filled in at run time" in fil001.message
    assert fil001.location is not None and fil001.location.pointer == "@string/icp_label [default]"


def test_json_report_carries_the_protection_and_reads_back():
    result = _scan("hardened_legu")
    data = json_report.to_dict(Report("t", (result,)))["results"][0]
    assert data["facts"]["protection"]["protector"] == "tencent-legu"
    assert "lib/armeabi/libshella-2.10.so" in data["facts"]["protection"]["payloads"]
    assert json_report.from_result_dict(data).facts.protection == result.facts.protection
    plain = json_report.to_dict(Report("t", (_scan("hardened_names_only"),)))["results"][0]
    assert "protection" not in plain["facts"]


def test_text_report_says_hardened_up_front():
    proc = subprocess.run([str(ENTRY_POINT), "scan",
                           str(APKS / "hardened_baidu.apk")], check=False, capture_output=True, text=True,
                          env=venv_env())
    assert proc.returncode == 1
    header = proc.stdout.split("ERROR", 1)[0]
    assert "hardened: 百度加固 (Baidu App Protect); the app's code could not be read" in header


def test_dex_index_looks_classes_up_and_tolerates_a_broken_table():
    data = zipfile.ZipFile(APKS / "hardened_legu4.apk").read("classes.dex")
    index = dexclasses.DexIndex(data)
    assert index.superclass("com.beianscan.fixture.hardened_legu4.StubApp") == \
        "com.wrapper.proxyapplication.WrapperProxyApplication"
    assert index.superclass("com.wrapper.proxyapplication.WrapperProxyApplication") == "android.app.Application"
    assert index.superclass("com.example.Absent") is None
    assert index.superclass("android.app.Application") is None  # referenced, not defined here
    assert index.classes == 2
    broken = bytearray(data)
    broken[0x60:0x64] = (10**6).to_bytes(4, "little")  # class_defs_size past the end
    with pytest.raises(dexclasses.ChunkError):
        dexclasses.DexIndex(bytes(broken))


def _package(application, members, defined=(), components=("com.example.MainActivity",), complete=True):
    code = AndroidCode(application, components, defined, (DexFile("classes.dex", 200, 3),), complete)
    return Pkg(PackageInfo("x.apk", "apk", ""), PackageKind.APP, code=code, members=tuple(members))


@pytest.mark.parametrize("example", catalogs.load("protectors")["examples"], ids=lambda e: e["application"])
def test_catalog_examples(example):
    shield = protection(_package(example["application"], example["members"]))
    assert (shield.protector if shield else None) == example["protector"]


def test_every_protector_has_a_stub_and_a_source():
    found = protectors()
    assert len(found) >= 10 and len({p.id for p in found}) == len(found)
    assert all(p.stubs and p.name and p.name_en for p in found)
    assert all(entry["sources"] for entry in catalogs.load("protectors")["protectors"])


def test_stub_prefix_takes_digits_only():
    assert is_stub("com.qihoo.util.StubApp1053578832", ("com.qihoo.util.StubApp*",))
    assert is_stub("com.qihoo.util.StubApp", ("com.qihoo.util.StubApp*",))
    assert not is_stub("com.qihoo.util.StubAppendix", ("com.qihoo.util.StubApp*",))


def test_readable_components_outweigh_names():
    defined = (("com.stub.StubApp", "android.app.Application"), ("com.example.MainActivity", "android.app.Activity"))
    assert protection(_package("com.stub.StubApp", ["assets/libjiagu.so"], defined)) is None
    # the same package whose DEX could not all be looked up: the stub and payload hold
    assert protection(_package("com.stub.StubApp", ["assets/libjiagu.so"], defined[:1], complete=False)) is not None


def test_superclass_chain_is_bounded_and_cycle_safe():
    code = AndroidCode("a.A", (), (("a.A", "a.B"), ("a.B", "a.A")))
    assert application_chain(code) == ("a.A", "a.B")


@pytest.mark.parametrize(("text", "label"), [
    ("ICP备案号：", True), ("App备案号：%s", True), ("备案号: %1$s", True), ("备案号：{0}", True), ("ICP备案", True),
    ("备案", False), ("京ICP备12345678号", False), ("请到工信部网站备案后再上架本应用", False),
])
def test_number_label(text, label):
    assert is_number_label(text) is label


@pytest.mark.corpus
@pytest.mark.skipif(not (CORPUS / "expected-hardened.json").is_file(), reason="../shared/corpus not present")
@pytest.mark.parametrize("rel", sorted(json.loads((CORPUS / "expected-hardened.json").read_text("utf-8"))
                                       if (CORPUS / "expected-hardened.json").is_file() else {}))
def test_real_hardened_packages(rel):
    want = json.loads((CORPUS / "expected-hardened.json").read_text("utf-8"))[rel]
    result = engine.scan_path(str(CORPUS / rel), Options())
    assert result.error is None
    assert result.info.app_id == want["app_id"]
    rules = {f.rule_id for f in result.findings}
    assert set(want.get("expect_rules", [])) <= rules and not set(want.get("forbid_rules", [])) & rules
    for rule, words in want.get("expect_message", {}).items():
        message = _finding(result, rule).message.lower()
        assert any(word.lower() in message for word in words)


def test_an_apk_set_of_a_hardened_base_is_hardened(tmp_path):
    # The base APK's code is the app's: a split set (.apks) of a hardened build says so too.
    apks = tmp_path / "legu.apks"
    with zipfile.ZipFile(apks, "w") as out:
        out.write(APKS / "hardened_legu.apk", "base.apk")
        out.write(APKS / "hardened_names_only.apk", "split_config.armeabi_v7a.apk")
    result = engine.scan_path(str(apks), Options())
    assert result.info.format == "apk-set"
    assert result.facts.protection is not None and result.facts.protection.protector == "tencent-legu"
    assert "base.apk!lib/armeabi/libshella-2.10.so" in result.facts.protection.payloads
    assert "PKG005" in {f.rule_id for f in result.findings}
