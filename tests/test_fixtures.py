"""Every fixture APK gives its recorded findings (fixtures/expected.json) and its golden JSON report."""

from __future__ import annotations

import json

import pytest
from conftest import APKS, FIXTURES

from scanner import engine
from scanner.formatters import json_report
from scanner.model import Options, Report

EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
GOLDEN = FIXTURES.parent / "tests" / "golden"


def scan(name):
    return engine.scan_path(str(APKS / f"{name}.apk"), Options())


def test_every_built_fixture_has_expectations():
    assert {p.stem for p in APKS.glob("*.apk")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_expected_findings(name):
    want = EXPECTED[name]
    result = scan(name)
    report = Report("test", (result,))
    assert engine.worst_exit(report, engine.Severity.ERROR) == want["exit"]
    if "error" in want:
        assert result.error is not None and result.error.rule_id == want["error"]
        return
    assert result.error is None
    assert sorted({f.rule_id for f in result.findings}) == want["rules"]
    numbers = {n.value: {"kind": n.kind, "in_context": n.in_context} for n in result.facts.filing_numbers}
    assert numbers == want["numbers"]
    assert {link.url: link.status for link in result.facts.filing_links} == want["links"]
    assert list(result.facts.permissions.undeclared) == want["undeclared"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_golden_json(name, request):
    result = scan(name)
    data = json_report.to_dict(Report("golden", (result,)))
    data["results"][0]["package"]["path"] = f"{name}.apk"
    path = GOLDEN / f"{name}.json"
    if request.config.getoption("--update-golden"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert data == json.loads(path.read_text(encoding="utf-8"))
