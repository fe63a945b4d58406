"""Every fixture gives its recorded result (fixtures/expected.json, fixtures/miniprogram/expected.json)
and its golden JSON report (tests/golden)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner import engine
from scanner.formatters import json_report
from scanner.model import Options, Report, Severity

from conftest import APKS, FIXTURES, MINIPROGRAMS

GOLDEN = FIXTURES.parent / "tests" / "golden"


def _cases() -> dict[str, tuple[Path, dict]]:
    apk = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
    mini = json.loads((MINIPROGRAMS / "expected.json").read_text(encoding="utf-8"))
    cases = {name: (APKS / f"{name}.apk", want) for name, want in apk.items()}
    cases.update({"mp-" + rel.replace("/", "_"): (MINIPROGRAMS / rel, want) for rel, want in mini.items()})
    return cases


CASES = _cases()


def test_every_built_apk_has_expectations():
    assert {f"{p.stem}" for p in APKS.glob("*.apk")} == {k for k in CASES if not k.startswith("mp-")}


def test_every_built_miniprogram_has_expectations():
    out = MINIPROGRAMS / "out"
    nested = {out / "split", out / "Applet/wx1a2b3c4d5e6f7a8b/12/__APP__.wxapkg",
              out / "unpacked/wx1a2b3c4d5e6f7a8b", out / "unpacked_negative/wx1a2b3c4d5e6f7a8b"}
    built = {p for p in out.iterdir() if p.is_file()} | nested
    assert {path for path, _ in CASES.values() if out in path.parents} == built


@pytest.mark.parametrize("name", sorted(CASES))
def test_expected_result(name):
    path, want = CASES[name]
    result = engine.scan_path(str(path), Options())
    assert engine.worst_exit(Report("test", (result,)), Severity.ERROR) == want["exit"]
    if "error" in want:
        assert result.error is not None and result.error.rule_id == want["error"]
        return
    assert result.error is None
    assert sorted({f.rule_id for f in result.findings}) == want["rules"]
    numbers = {n.value: {"kind": n.kind, "in_context": n.in_context} for n in result.facts.filing_numbers}
    assert numbers == want["numbers"]
    assert {link.url: link.status for link in result.facts.filing_links} == want["links"]
    assert list(result.facts.permissions.undeclared) == want["undeclared"]
    if "protector" in want:  # hardened fixtures and their negative twins
        shield = result.facts.protection
        assert (shield.protector if shield else None) == want["protector"]
    if "identity" in want:  # the signing schemes and signers apksigner verify --print-certs names
        identity = result.info.identity
        assert list(identity.schemes) == want["identity"]["schemes"]
        assert [[list(s.schemes), s.certificate.md5, [c.md5 for c in s.lineage]] for s in identity.signers] == \
            want["identity"]["signers"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_json(name, request):
    path, _ = CASES[name]
    data = json_report.to_dict(Report("golden", (engine.scan_path(str(path), Options()),)))
    data["results"][0]["package"]["path"] = name
    golden = GOLDEN / f"{name}.json"
    if request.config.getoption("--update-golden"):
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert data == json.loads(golden.read_text(encoding="utf-8"))
