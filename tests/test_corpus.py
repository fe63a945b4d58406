"""The shared corpus of real third-party packages (../shared/corpus), in process; skipped when absent."""

from __future__ import annotations

import json

import pytest

from scanner import engine
from scanner.formatters import json_report
from scanner.model import Options, Report

from conftest import CORPUS

pytestmark = [pytest.mark.corpus, pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus not present")]

EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8")) if CORPUS.is_dir() else {}


def scan(rel):
    return engine.scan_path(str(CORPUS / rel), Options())


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_real_package(rel):
    want = EXPECTED[rel]
    result = scan(rel)
    readable = want.get("readable", True)
    if readable == "either":
        assert result.error is None or result.error.rule_id == "PKG001"
        return
    if readable is False:
        assert result.error is not None, "an unreadable package must not pass silently"
        assert result.error.rule_id == ("PKG002" if want.get("encrypted") else "PKG001")
        return
    assert result.error is None, result.error
    for key in ("app_id", "version"):
        if key in want:
            assert getattr(result.info, key) == want[key]
    if "permissions" in want:
        assert set(result.facts.permissions.requested) == set(want["permissions"])
    assert {n.value for n in result.facts.filing_numbers} == set(want.get("filing_numbers", []))
    rules = {f.rule_id for f in result.findings}
    assert set(want.get("expect_rules", [])) <= rules
    assert not set(want.get("forbid_rules", [])) & rules
    called = set(want.get("location_apis_called_as_wx_dot") or []) - set(want.get("requiredPrivateInfos") or [])
    if called:
        assert "MPP001" in rules
        assert called <= {u.api for u in result.facts.api_uses}


ENCRYPTED = sorted(k for k, v in EXPECTED.items() if v.get("encrypted") and v.get("appid"))


@pytest.mark.parametrize("rel", ENCRYPTED)
def test_encrypted_scans_like_its_plaintext_twin(rel):
    appid = EXPECTED[rel]["appid"]
    twin = f"wxapkg/secdevlpr26__decrypt-unpack-wxapkg__decrypted_files_{appid}-out.wxapkg"

    def comparable(result):
        data = json_report.to_dict(Report("x", (result,)))["results"][0]
        data["package"] = None
        return data

    assert comparable(scan(rel)) == comparable(scan(twin))


def _report_digest(rel: str) -> str:
    """SHA-256 of the package's JSON report, its path given relative to the corpus (so the digest does
    not depend on where the checkout lies). Only digests are kept in the repository, never reports."""
    import hashlib
    import os

    cwd = os.getcwd()
    try:
        os.chdir(CORPUS)
        report = engine.scan([rel], Options())
    finally:
        os.chdir(cwd)
    text = json_report.render(report, json_report.FormatOptions())
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_reports_are_byte_identical_to_the_recorded_digests(request):
    """Refactorings must not change one byte of any corpus package's JSON report (tests/golden/corpus.json;
    --update-golden rewrites it after a change that is meant to alter reports)."""
    from conftest import GOLDEN

    golden = GOLDEN / "corpus.json"
    packages = sorted(EXPECTED)
    digests = {rel: _report_digest(rel) for rel in packages}
    if request.config.getoption("--update-golden") or not golden.exists():
        golden.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    recorded = json.loads(golden.read_text(encoding="utf-8"))
    changed = sorted(rel for rel in packages if recorded.get(rel) != digests[rel])
    assert not changed, f"{len(changed)} report(s) changed: {changed[:5]}"
