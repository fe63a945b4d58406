"""CI outputs from one scan: SARIF (official schema), JUnit (lxml), GitLab Code Quality, GitHub
annotations; golden files pin them (tests/golden/ci.*)."""

from __future__ import annotations

import json
import os

import jsonschema
import pytest
from lxml import etree

from scanner import engine
from scanner.config import Policy
from scanner.formatters import OUTPUT_FORMATS, options_for
from scanner.model import Options, RuleId

from conftest import APKS, GOLDEN, MINIPROGRAMS, ROOT, SHARED

SARIF_SCHEMA = SHARED / "schemas" / "sarif-schema-2.1.0.json"
NAMES = ("malformed_number", "dex_only", "truncated", "undeclared_permission")


@pytest.fixture(scope="module")
def report():
    paths = [os.path.relpath(APKS / f"{n}.apk", ROOT) for n in NAMES]
    paths.append(os.path.relpath(MINIPROGRAMS / "src_native", ROOT))
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return engine.scan(paths, Options())
    finally:
        os.chdir(cwd)


def render(report, fmt, **kw):
    output = OUTPUT_FORMATS[fmt]
    return output.render(report, options_for(output, {"base_dir": str(ROOT), **kw}))


@pytest.mark.skipif(not SARIF_SCHEMA.exists(), reason="../shared/schemas not present")
def test_sarif_valid_against_official_schema(report):
    sarif = json.loads(render(report, "sarif"))
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))


def test_sarif_content(report):
    sarif = json.loads(render(report, "sarif"))
    (run,) = sarif["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(r["id"] for r in rules)
    fil002 = next(r for r in rules if r["id"] == "FIL002")
    assert fil002["name"] == "filing-number-malformed"
    assert fil002["properties"]["security-severity"] == "7.0"
    assert "PASS" in fil002["help"]["text"] and fil002["defaultConfiguration"]["level"] == "error"
    for result in run["results"]:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri and not uri.startswith("/")
        assert result["partialFingerprints"]["beianScanFingerprint/v1"]
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert note["descriptor"]["id"] == "PKG001"
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "fixtures/apk/truncated.apk"
    mpp = next(r for r in run["results"] if r["ruleId"] == "MPP001")
    location = mpp["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "fixtures/miniprogram/src_native/pages/index/index.js"
    assert location["region"]["startLine"] == 8


def test_sarif_source_root_points_at_the_edited_file(report):
    sarif = json.loads(render(report, "sarif", source_root="app/src/main"))
    uris = {r["ruleId"]: r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in sarif["runs"][0]["results"]}
    assert uris["FIL002"] == "app/src/main/res/values/strings.xml"
    assert uris["PRM001"] == "app/src/main/AndroidManifest.xml"
    assert uris["FIL007"] == "fixtures/apk/dex_only.apk"  # code has no source file we can know


def test_sarif_is_deterministic(report):
    assert render(report, "sarif") == render(report, "sarif")


def test_junit(report):
    root = etree.fromstring(render(report, "junit").encode("utf-8"))
    suites = root.findall("testsuite")
    assert len(suites) == 5
    malformed = suites[0]
    assert malformed.get("name") == "com.beianscan.fixture.malformed_number"
    assert len(malformed.findall("testcase")) == 17  # the APK rules (PKG005: hardened APKs; FIL009); MPP rules do not
    (failure,) = malformed.findall("testcase/failure")
    assert "秦ICP备2024012345号-1A" in failure.text and failure.get("type") == "error"
    broken = suites[2]
    assert broken.find("testcase/error").get("type") == "PKG001"
    assert len(suites[4].findall("testcase")) == 20  # a mini-program also gets the MPP rules
    assert root.get("errors") == "1"


def test_gitlab_code_quality(report):
    entries = json.loads(render(report, "codequality"))
    for entry in entries:
        assert set(entry) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert entry["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert entry["location"]["lines"]["begin"] >= 1
    fingerprints = [e["fingerprint"] for e in entries]
    assert len(fingerprints) == len(set(fingerprints))
    assert {e["check_name"] for e in entries} >= {"FIL002", "PKG001", "MPP001"}


def test_github_annotations(report):
    lines = render(report, "github").splitlines()
    assert any(line.startswith("::error file=fixtures/apk/malformed_number.apk,line=1,title=FIL002 ") for line in lines)
    assert any(line.startswith("::notice file=fixtures/apk/dex_only.apk") for line in lines)
    assert any(line.startswith("::error file=fixtures/apk/truncated.apk,title=PKG001::") for line in lines)
    assert all("\n" not in line for line in lines)


def test_annotation_escaping():
    from scanner.formatters.github import _data, _property

    assert _data("50%\nnext") == "50%25%0Anext"
    assert _property("a:b,c") == "a%3Ab%2Cc"


@pytest.mark.parametrize("fmt", ["sarif", "junit", "codequality", "github", "text", "json"])
def test_golden(report, fmt, request):
    text = render(report, fmt).replace(report.tool_version, "VERSION")
    golden = GOLDEN / f"ci.{fmt}"
    if request.config.getoption("--update-golden"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_policy_disables_and_overrides():
    paths = [str(APKS / "dex_only.apk")]
    off = engine.scan(paths, Options(), Policy(disabled=frozenset({RuleId("FIL007")})))
    assert off.results[0].findings == () and "FIL007" not in off.results[0].checked
    loud = engine.scan(paths, Options(), Policy(severity=((RuleId("FIL007"), engine.Severity.ERROR),)))
    assert loud.results[0].findings[0].severity is engine.Severity.ERROR


def test_source_root_locations_carry_the_real_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from scanner.cli import main

    root = tmp_path / "app" / "src" / "main"
    (root / "res" / "values").mkdir(parents=True)
    (root / "res" / "values" / "strings.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<resources>\n    <string name="app_name">Fixture</string>\n'
        '    <!-- about page -->\n    <string name="about_icp_link">https://beian.miit.gov.cn/</string>\n'
        '    <string\n        name="about_icp">粤ICP备2023123456-1A</string>\n</resources>\n', encoding="utf-8")
    (root / "AndroidManifest.xml").write_text(
        '<manifest xmlns:android="http://schemas.android.com/apk/res/android">\n'
        '    <uses-permission android:name="android.permission.CAMERA" />\n'
        '    <uses-permission android:name="android.permission.READ_CONTACTS" />\n</manifest>\n')
    monkeypatch.chdir(tmp_path)
    for apk, rule, uri, line in (("malformed_number", "FIL002", "app/src/main/res/values/strings.xml", 6),
                                 ("undeclared_permission", "PRM001", "app/src/main/AndroidManifest.xml", 3)):
        result = CliRunner().invoke(main, ["scan", str(APKS / f"{apk}.apk"), "--format", "sarif",
                                           "--source-root", "app/src/main"])
        found = [r for r in json.loads(result.stdout)["runs"][0]["results"] if r["ruleId"] == rule]
        places = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                   r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in found}
        assert (uri, line) in places, places
        result = CliRunner().invoke(main, ["scan", str(APKS / f"{apk}.apk"), "--format", "github",
                                           "--source-root", "app/src/main"])
        assert f"file={uri},line={line}," in result.stdout
