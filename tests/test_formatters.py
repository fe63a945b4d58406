"""Every output format on an in-memory Report (no scan): what each shows, and that each takes only its
own options (habit: formatters only see the model)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import fields
from importlib import resources

import jsonschema
import pytest

from scanner.formatters import OUTPUT_FORMATS, LocatedOptions, TextOptions, options_for
from scanner.model import (
    Facts,
    FilingNumber,
    Location,
    NumberKind,
    PackageError,
    PackageInfo,
    PackageKind,
    Report,
    ReportedFinding,
    RuleId,
    ScanResult,
)
from scanner.rules import CATALOGUE

from conftest import SHARED


def _finding(rule: str, message: str, location: Location | None, evidence: tuple[str, ...], fingerprint: str,
             suppression: str | None = None) -> ReportedFinding:
    meta = CATALOGUE[rule]
    return ReportedFinding(RuleId(rule), meta.name, meta.severity, message, location, evidence, fingerprint,
                           meta.fix, suppression)


def _report() -> Report:
    where = Location("resources.arsc", "resource", "@string/about_icp [default]")
    number = FilingNumber("秦ICP备2024012345号-1A", "秦ICP备2024012345号-1A", NumberKind.APP, False,
                          "秦 is not used", False, True, (where,))
    info = PackageInfo("dist/app release.apk", "apk", "a" * 64, "com.example.app", "App", "1.0")
    findings = (
        _finding("FIL002", "秦ICP备2024012345号-1A is not a valid filing number: 秦 is not used", where,
                 ("秦ICP备2024012345号-1A",), "f" * 32),
        _finding("PRM001", "android.permission.CAMERA is requested but no permission list names it", None,
                 ("android.permission.CAMERA",), "e" * 32),
    )
    accepted = (_finding("LNK002", "old link", where, ("http://www.miitbeian.gov.cn/",), "d" * 32,
                         "suppressed: fixed next release"),)
    scanned = ScanResult(info.path, info, None, Facts((number,), kind=PackageKind.APP), findings, accepted,
                         tuple(RuleId(r) for r in ("FIL002", "PRM001", "LNK002")), PackageKind.APP)
    broken = ScanResult("dist/broken.apk", None, PackageError(RuleId("PKG001"), "not a readable zip archive"),
                        Facts(), ())
    return Report("9.9.9", (scanned, broken), tuple(CATALOGUE.values()), ("a notice",))


REPORT = _report()
VALUES = {"base_dir": ".", "color": True, "width": 80, "show_suppressed": True,
          "source_root": "app/src/main", "source_lines": {"f" * 32: ("app/src/main/res/values/strings.xml", 7)}}


def render(name: str, **values) -> str:
    fmt = OUTPUT_FORMATS[name]
    return fmt.render(REPORT, options_for(fmt, {**VALUES, **values}))


def test_each_format_takes_only_its_own_options():
    own = {name: {f.name for f in fields(fmt.options)} for name, fmt in OUTPUT_FORMATS.items()}
    assert {"color", "width"} <= own["text"] and not ({"color", "width"} & (own["sarif"] | own["json"]))
    for name in ("sarif", "codequality", "github"):
        assert OUTPUT_FORMATS[name].options is LocatedOptions
    assert "source_root" not in own["text"] and "source_root" not in own["junit"]
    assert OUTPUT_FORMATS["text"].options is TextOptions


def test_text():
    assert "\x1b[31m" in render("text")  # colour asked for, and only text has it
    out = render("text", color=False)
    assert "\x1b[" not in out
    assert "FIL002 filing-number-malformed" in out and "where: resources.arsc (@string/about_icp [default])" in out
    assert "ACCEPTED LNK002" in out and "why: suppressed: fixed next release" in out
    assert " ".join(out.split("\n\n")[-1].split()).endswith(
        "2 package(s): 1 scanned: 2 error(s), 0 warning(s), 0 note(s), 1 suppressed; 1 could not be scanned")
    assert "note: a notice" in out
    from scanner.formatters.text import display_width

    narrow = render("text", color=False, width=40)
    assert narrow != out
    body = [line for line in narrow.splitlines() if line.startswith(" " * 11) or line.startswith("2 package")]
    assert body and all(display_width(line) <= 40 for line in body if "/" not in line)


def test_json_is_the_public_contract():
    data = json.loads(render("json"))
    schema = json.loads(resources.files("scanner").joinpath("schemas/report.schema.json").read_text("utf-8"))
    jsonschema.validate(data, schema)
    assert [r["error"] and r["error"]["rule_id"] for r in data["results"]] == [None, "PKG001"]
    assert data["results"][0]["facts"]["filing_numbers"][0]["kind"] == "app"


def test_sarif_points_at_the_source_line_and_marks_suppressed():
    run = json.loads(render("sarif"))["runs"][0]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    region = by_rule["FIL002"]["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"] == "app/src/main/res/values/strings.xml"
    assert region["region"]["startLine"] == 7
    assert by_rule["LNK002"]["suppressions"]
    schema = SHARED / "schemas" / "sarif-schema-2.1.0.json"
    if schema.exists():
        jsonschema.validate(json.loads(render("sarif")), json.loads(schema.read_text(encoding="utf-8")))


def test_junit_counts():
    root = ET.fromstring(render("junit").encode("utf-8"))
    failures = [c for c in root.iter("testcase") if c.find("failure") is not None or c.find("error") is not None]
    names = {c.get("name") for c in failures}
    assert any("FIL002" in n for n in names) and any("PKG001" in n for n in names)


def test_code_quality_fingerprints_are_unique():
    entries = json.loads(render("codequality"))
    assert len({e["fingerprint"] for e in entries}) == len(entries) >= 3
    assert {e["check_name"] for e in entries} >= {"FIL002", "PRM001", "PKG001"}


@pytest.mark.parametrize("name", sorted(OUTPUT_FORMATS))
def test_every_format_renders_and_is_deterministic(name):
    assert render(name) == render(name) and render(name).strip()


def test_github_annotations():
    out = render("github")
    assert "::error file=app/src/main/res/values/strings.xml,line=7,title=FIL002" in out
    assert "::error file=dist/broken.apk,title=PKG001::" in out
