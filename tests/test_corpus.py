"""The shared corpus of real third-party APKs (../shared/corpus), in process; skipped when absent."""

from __future__ import annotations

import json

import pytest
from conftest import CORPUS

from scanner import engine
from scanner.model import Options

pytestmark = pytest.mark.corpus

EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8")) if CORPUS.is_dir() else {}
APK_ENTRIES = sorted(k for k in EXPECTED if k.startswith("apk/"))


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus not present")
@pytest.mark.parametrize("rel", APK_ENTRIES)
def test_real_apk(rel):
    want = EXPECTED[rel]
    result = engine.scan_path(str(CORPUS / rel), Options())
    if want.get("readable") == "either":
        assert result.error is None or result.error.rule_id == "PKG001"
        return
    assert result.error is None, result.error
    assert result.info.app_id == want["app_id"]
    assert result.info.version == want.get("version")
    assert set(result.facts.permissions.requested) == set(want["permissions"])
    assert [n.value for n in result.facts.filing_numbers] == want["filing_numbers"]
    assert set(want["expect_rules"]) <= {f.rule_id for f in result.findings}
