"""The committed HarmonyOS and iOS fixtures (fixtures/harmony/out, fixtures/ios/out, written by the
project's own writers with build.py) give the findings recorded beside them in expected.json."""

from __future__ import annotations

import json

import pytest

from scanner import engine
from scanner.model import Options

from conftest import FIXTURES

CASES = [(folder, name, want) for folder in ("harmony", "ios")
         for name, want in json.loads((FIXTURES / folder / "expected.json").read_text(encoding="utf-8")).items()]


@pytest.mark.parametrize(("folder", "name", "want"), CASES, ids=[f"{f}/{n}" for f, n, _ in CASES])
def test_expected_findings(folder, name, want):
    result = engine.scan_path(str(FIXTURES / folder / "out" / name), Options())
    assert result.error is None, result.error
    assert result.info.app_id == want["app_id"]
    assert sorted({f.rule_id for f in result.findings}) == want["rules"]


def test_fixtures_are_what_build_writes(tmp_path, monkeypatch):
    """The committed outputs are reproducible from the writers (no stale fixture)."""
    import importlib
    import sys

    for folder in ("harmony", "ios"):
        sys.path.insert(0, str(FIXTURES / folder))
        try:
            build = importlib.import_module("build")
            monkeypatch.setattr(build, "HERE", tmp_path / folder)
            (tmp_path / folder).mkdir()
            build.build()
            for written in (tmp_path / folder / "out").iterdir():
                assert written.read_bytes() == (FIXTURES / folder / "out" / written.name).read_bytes(), written.name
        finally:
            sys.path.remove(str(FIXTURES / folder))
            sys.modules.pop("build", None)
