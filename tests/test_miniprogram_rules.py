"""Mini-program rules and the API-call finder on in-memory packages."""

from __future__ import annotations

import pytest

from scanner import catalogs
from scanner.engine import evaluate
from scanner.facts.api_calls import find_calls
from scanner.model import Options, PackageKind, PrivacyConfig, Severity

from conftest import package, text

EXAMPLES = catalogs.load("miniprogram")["examples"]
ABOUT = text("备案号：粤ICP备2023123456号-1X https://beian.miit.gov.cn/", "/pages/about/about.js", "page")


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["text"] for e in EXAMPLES])
def test_call_examples(example):
    calls = [c.api for c in find_calls([text(example["text"], "/app-service.js", "page")])]
    assert calls == example["calls"]


def test_calls_in_resources_are_not_code():
    assert list(find_calls([text("wx.getLocation({})")])) == []


def mp(*texts, infos=(), descs=(("scope.userLocation", "用于展示附近门店"),), config=True):
    privacy = PrivacyConfig("/app-config.json", tuple(infos), tuple(descs)) if config else None
    pkg = package(ABOUT, *texts, kind=PackageKind.MINIPROGRAM)
    from dataclasses import replace

    return replace(pkg, privacy=privacy)


def rule_ids(pkg):
    return {f.rule_id for f in evaluate(pkg, Options()).findings}


CALL = text('Page({go(){wx.getLocation({type:"gcj02"})}})\n', "/pages/index/index.js", "page")


class TestPrivateInfoApiUndeclared:
    def test_pass_declared(self):
        assert rule_ids(mp(CALL, infos=("getLocation",))) == set()

    def test_fail_names_file_and_line(self):
        two_lines = text('// index\nvar t=wx;t.chooseAddress({})\n', "/pages/index/index.js", "page")
        (finding,) = [f for f in evaluate(mp(two_lines), Options()).findings if f.rule_id == "MPP001"]
        assert finding.location.member == "/pages/index/index.js"
        assert finding.location.pointer == "line 2"
        assert "chooseAddress" in finding.message

    def test_no_config_cannot_be_judged(self):
        assert "MPP001" not in rule_ids(mp(CALL, config=False))


class TestLocationPurposeMissing:
    def test_fail_without_desc(self):
        (finding,) = [f for f in evaluate(mp(CALL, infos=("getLocation",), descs=()), Options()).findings]
        assert finding.rule_id == "MPP002" and finding.severity is Severity.WARNING

    def test_empty_desc_is_missing(self):
        assert "MPP002" in rule_ids(mp(CALL, infos=("getLocation",), descs=(("scope.userLocation", " "),)))

    def test_address_picker_needs_no_scope(self):
        pick = text("wx.chooseAddress({})", "/pages/index/index.js", "page")
        assert "MPP002" not in rule_ids(mp(pick, infos=("chooseAddress",), descs=()))


class TestLocationPreciseFuzzyConflict:
    def test_fail(self):
        (finding,) = [f for f in evaluate(mp(infos=("getFuzzyLocation", "getLocation")), Options()).findings
                      if f.rule_id == "MPP003"]
        assert finding.evidence == ("getFuzzyLocation", "getLocation")
        assert finding.location.pointer == "requiredPrivateInfos"

    def test_pass_fuzzy_with_pickers(self):
        assert "MPP003" not in rule_ids(mp(infos=("getFuzzyLocation", "chooseLocation")))


def test_mini_program_permissions_facts():
    image = text("wx.chooseImage({count:1})", "/pages/index/index.js", "page")
    facts = evaluate(mp(image, CALL, infos=("getLocation",)), Options()).facts.permissions
    assert facts.requested == ("chooseImage", "getLocation")
    assert facts.declared == ("getLocation",)
    assert facts.undeclared == ("chooseImage",)


def test_privacy_api_without_any_privacy_text_is_prm002_warning():
    image = text("wx.chooseImage({count:1})", "/pages/index/index.js", "page")
    (finding,) = [f for f in evaluate(mp(image, descs=()), Options()).findings if f.rule_id == "PRM002"]
    assert finding.severity is Severity.WARNING


def test_number_in_compiled_page_module_is_in_context():
    code = 'var a=1;\ndefine("pages/about/about.js",function(){Page({data:{icp:"粤ICP备2023123456号-1X"}})});\n'
    service = text(code, "/app-service.js", "page")
    pkg = package(service, text("https://beian.miit.gov.cn/"), kind=PackageKind.MINIPROGRAM)
    (number,) = evaluate(pkg, Options()).facts.filing_numbers
    assert number.in_context
    assert number.locations[0].pointer == "line 2, in pages/about/about.js"
