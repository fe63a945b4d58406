"""HarmonyOS: resources.index v1 and v2, module and App Pack packages written by the project's own
writer (fixtures/harmony/hap_writer.py), the purpose rules, and the real HAPs of the shared corpus."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from scanner import engine
from scanner.engine import parse_options
from scanner.extract import resindex
from scanner.model import Options
from scanner.parsers import detect, parse

from conftest import CORPUS, FIXTURES, rules, scan

sys.path.insert(0, str(FIXTURES / "harmony"))
from hap_writer import (
    module_json,
    modules_abc,
    pack_info,
    resources_index_v1,
    resources_index_v2,
    zipped,
)

_spec = importlib.util.spec_from_file_location("harmony_build", FIXTURES / "harmony" / "build.py")
assert _spec is not None and _spec.loader is not None
_build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_build)  # the fixtures' own definitions: one source for tests and build.py
NUMBER, LINK, RESOURCES, CAMERA, MIC = _build.NUMBER, _build.LINK, _build.RESOURCES, _build.CAMERA, _build.MIC
INTERNET = {"name": "ohos.permission.INTERNET"}
ABOUT = _build.ABOUT


def hap(tmp_path, name="app.hap", permissions=(CAMERA, MIC, INTERNET), resources=RESOURCES, v2=False, sign=False,
        about=ABOUT, abc=(), module_type="entry"):
    index = (resources_index_v2 if v2 else resources_index_v1)(list(resources))
    files = {"module.json": module_json("com.example.demo", list(permissions), module_type),
             "resources.index": index, "ets/modules.abc": modules_abc(["EntryAbility", *abc]),
             "ets/sourceMaps.map": b'{"version":3,"sources":["entry/src/main/ets/pages/Index.ets"]}',
             "pack.info": pack_info("com.example.demo", [("entry", module_type)])}
    if about is not None:
        files["resources/rawfile/about.html"] = about
    path = tmp_path / name
    path.write_bytes(zipped(files, sign=sign))
    return path


@pytest.mark.parametrize("writer", [resources_index_v1, resources_index_v2])
def test_resources_index_round_trip(writer):
    values = resindex.read_index(writer(RESOURCES))
    strings = {(v.name, v.qualifier): v.value for v in values if v.item is None}
    assert strings[("about_icp", "zh_CN")] == f"备案号：{NUMBER}"
    assert strings[("location_reason", "base")] == "Used to find nearby stores"
    items = [v.value for v in values if v.name == "perm_list"]
    assert items == ["相机：用于扫码", "麦克风：用于语音输入"]
    assert {v.pointer for v in values if v.name == "app_name"} == {"$string:app_name [base]",
                                                                    "$string:app_name [zh_CN]"}


@pytest.mark.parametrize(("v2", "sign"), [(False, False), (True, False), (False, True), (True, True)])
def test_compliant_module_in_both_layouts_signed_or_not(tmp_path, v2, sign):
    path = hap(tmp_path, v2=v2, sign=sign)
    assert detect(str(path)).name == "hap"
    result = scan(path)
    assert (result.info.app_id, result.info.app_name, result.info.version) == ("com.example.demo", "Demo", "1.0.0")
    assert rules(result) == set(), [(f.rule_id, f.message) for f in result.findings]
    (number,) = [n for n in result.facts.filing_numbers if n.value == NUMBER]
    members = {loc.member for loc in number.locations}
    assert {"resources.index", "resources/rawfile/about.html"} <= members
    assert any(loc.pointer == "$string:about_icp [zh_CN]" for loc in number.locations)
    assert [link.url for link in result.facts.filing_links] == [LINK]


def test_negative_twin_gives_fil001_and_lnk001(tmp_path):
    bare = [r for r in RESOURCES if r[0] != "about_icp"]
    assert {"FIL001", "LNK001"} <= rules(scan(hap(tmp_path, resources=bare, about=None)))


def test_number_in_ark_bytecode(tmp_path):
    path = hap(tmp_path, resources=[r for r in RESOURCES if r[0] != "about_icp"], about=None,
               abc=["关于我们", f"备案号：{NUMBER}", LINK])
    result = scan(path)
    (number,) = result.facts.filing_numbers
    assert number.value == NUMBER and number.first_location.member == "ets/modules.abc"
    assert number.first_location.pointer.startswith("offset ")
    assert "LNK001" not in rules(result)


def test_purpose_rules(tmp_path):
    location_english = {"name": "ohos.permission.LOCATION", "reason": "$string:location_reason"}
    unresolved = {"name": "ohos.permission.READ_CONTACTS", "reason": "$string:contacts_reason"}
    no_reason = {"name": "ohos.permission.READ_CALENDAR"}
    app_name = {"name": "ohos.permission.CUSTOM_SCREEN_CAPTURE", "reason": "$string:app_name"}
    reused = {"name": "ohos.permission.CAMERA", "reason": "$string:mic_reason"}
    result = scan(hap(tmp_path, permissions=(MIC, reused, location_english, unresolved, no_reason, app_name)))
    found = {(f.rule_id, f.evidence[0]) for f in result.findings if f.rule_id.startswith("PRM")}
    assert ("PRM003", "ohos.permission.READ_CALENDAR") in found
    assert ("PRM004", "ohos.permission.READ_CONTACTS") in found
    assert ("PRM005", "ohos.permission.LOCATION") in found
    assert ("PRM006", "ohos.permission.CUSTOM_SCREEN_CAPTURE") in found
    assert any(rule == "PRM007" for rule, _ in found)
    assert not {"PRM001", "PRM002"} & rules(result)  # HarmonyOS purposes replace the Android text rules
    assert ("PRM003", "ohos.permission.INTERNET") not in found  # system_grant: no reason required


def test_app_pack_unites_modules(tmp_path):
    entry = hap(tmp_path, "entry.hap").read_bytes()
    # the feature module requests the camera again without a reason: AppGallery checks each module, so
    # the entry's reason does not cover it (issue 25: one finding, in the feature module)
    feature = hap(tmp_path, "feature.hap", permissions=({"name": "ohos.permission.CAMERA"},), about=None,
                  module_type="feature").read_bytes()
    pack = tmp_path / "demo.app"
    pack.write_bytes(zipped({"pack.info": pack_info("com.example.demo", [("entry", "entry"), ("feature", "feature")]),
                             "entry-default.hap": entry, "feature-default.hap": feature}, sign=True))
    assert detect(str(pack)).name == "app-pack"
    result = scan(pack)
    assert result.info.format == "app-pack" and result.info.app_id == "com.example.demo"
    assert [(f.rule_id, f.location.member) for f in result.findings] == [("PRM003",
                                                                          "feature-default.hap!module.json")]
    assert result.findings[0].evidence == ("ohos.permission.CAMERA", "feature-default.hap")
    assert any(loc.member.startswith("entry-default.hap!") for n in result.facts.filing_numbers for loc in n.locations)


def test_app_pack_nesting_limit(tmp_path):
    from scanner.model import Limits, ParseOptions

    pack = tmp_path / "demo.app"
    pack.write_bytes(zipped({"pack.info": pack_info("com.example.demo", [("entry", "entry")]),
                             "entry-default.hap": hap(tmp_path).read_bytes()}))
    options = Options(parse=ParseOptions(limits=Limits(depth=0)))
    result = engine.scan_path(str(pack), options)
    assert result.error is not None and "App Pack without a readable module" in result.error.message


def test_hostile_index_costs_the_index_only(tmp_path):
    index = bytearray(resources_index_v2(RESOURCES))
    index[140:144] = b"XXXX"  # the first KEYS record broken
    path = tmp_path / "broken.hap"
    path.write_bytes(zipped({"module.json": module_json("com.example.demo", [CAMERA]),
                             "resources.index": bytes(index), "resources/rawfile/about.html": ABOUT}))
    result = scan(path)
    assert "PKG004" in rules(result)
    assert NUMBER in {n.value for n in result.facts.filing_numbers}
    assert "PRM004" in rules(result)  # the reason cannot resolve without the index, and says so


HAPS = CORPUS / "hap"
REAL = {
    "Tinse__Charger_Monitor_For_HarmonyOS__entry_build_default_outputs_default_entry-default-signed.hap":
        ("com.example.uestc_charger_monitor", "充电不愁", set()),
    "WriteStone__ArkTSAnalysis__TestApps1_1.AccountKit_Codelab_QuickLogin_Clientdemo_ArkTS_entry_build_default_"
    "outputs_default_entry-default-unsigned.hap": ("com.example.accountkit_quicklogin_sample",
                                                   "QuickLogin_CodelabSample", {"PRM006", "PRM007"}),
    "WriteStone__ArkTSAnalysis__TestApps1_2.AdsKit_Codelab_Interstitial_ArkTS_entry_build_default_outputs_default_"
    "entry-default-unsigned.hap": ("com.huawei.ads.interstitial", "InterstitialAdsDemo", {"PRM005"}),
}


@pytest.mark.skipif(not HAPS.is_dir(), reason="../shared/corpus not present")
@pytest.mark.parametrize("name", sorted(REAL))
def test_real_haps(name):
    app_id, app_name, purpose_rules = REAL[name]
    result = scan(HAPS / name)
    assert (result.info.app_id, result.info.app_name) == (app_id, app_name)
    assert {r for r in rules(result) if r.startswith("PRM")} == purpose_rules
    assert {"FIL001", "LNK001"} <= rules(result)  # none of them shows a number


@pytest.mark.skipif(not HAPS.is_dir(), reason="../shared/corpus not present")
def test_every_real_hap_and_app_pack_scans():
    for path in sorted(HAPS.iterdir()):
        result = scan(path)
        assert result.info.format == ("app-pack" if path.suffix == ".app" else "hap")
        assert result.info.app_id and result.info.version == "1.0.0"
    tinse_path = HAPS / ("Tinse__Charger_Monitor_For_HarmonyOS__entry_build_default_outputs_default_"
                         "entry-default-signed.hap")
    purposes = parse(str(tinse_path), parse_options()).purposes
    (location,) = [p for p in purposes if p.permission == "ohos.permission.LOCATION"]
    assert location.reference == "$string:location_permission_reason" and location.scene == "always"
    assert location.values == (("base", "需要获取您的位置信息来查找附近的充电站点"),)
    assert "ohos.permission.LOCATION" in scan(tinse_path).facts.permissions.requested


@pytest.mark.parametrize("name", ["purposes.hap", "compliant.hap", "demo.app"])
def test_permission_facts_mean_what_they_mean_for_an_apk(name):
    """requested / sensitive / declared / undeclared filled from the purposes (issue 25): a permission
    without its required reason is undeclared, exactly the ones PRM003 names."""
    result = scan(FIXTURES / "harmony" / "out" / name)
    facts = result.facts.permissions
    assert facts.requested and set(facts.sensitive) <= set(facts.requested)
    assert set(facts.declared) | set(facts.undeclared) == set(facts.sensitive)
    named = {f.evidence[0] for f in result.findings if f.rule_id == "PRM003"}
    # The facts are per permission (one stated reason declares it); PRM003 also names a module of an
    # App Pack that lacks the reason another module gives.
    assert set(facts.undeclared) == named if name.endswith(".hap") else set(facts.undeclared) <= named
    if name == "purposes.hap":
        assert facts.undeclared == ("ohos.permission.READ_CALENDAR",)


def test_pack_whose_modules_give_one_permission_different_reasons_is_warned():
    # issue 25: AppGallery rejects an App Pack whose modules give one permission different reasons
    result = scan(FIXTURES / "harmony" / "out" / "differing.app")
    (finding,) = [f for f in result.findings if f.rule_id == "PRM003"]
    assert finding.severity.label == "warning"
    assert "'用于扫码登录'" in finding.message and "'用于拍摄头像'" in finding.message
    assert finding.evidence == ("ohos.permission.CAMERA", "entry-default.hap", "feature-default.hap")
    compliant = scan(FIXTURES / "harmony" / "out" / "compliant.hap")
    assert "PRM003" not in rules(compliant)
