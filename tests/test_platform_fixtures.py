"""The committed HarmonyOS and iOS fixtures (fixtures/harmony/out, fixtures/ios/out, written by the
project's own writers with build.py), the App Bundles aapt2 built (fixtures/aab/out) and the Hermes
bundles hermesc compiled (fixtures/hermes/out) give the findings recorded beside them in expected.json."""

from __future__ import annotations

import json

import pytest

from scanner import engine
from scanner.model import Options

from conftest import FIXTURES

CASES = [(folder, name, want) for folder in ("harmony", "ios", "aab", "hermes")
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


def test_outputs_carry_the_platforms_locations():
    """SARIF (schema-valid), JUnit and annotations point into HarmonyOS and iOS packages."""
    import jsonschema

    from scanner.formatters import OUTPUT_FORMATS, options_for
    from scanner.model import Report
    from scanner.rules import CATALOGUE

    from conftest import SHARED

    results = tuple(engine.scan_path(str(FIXTURES / folder / "out" / name), Options())
                    for folder, name in (("harmony", "purposes.hap"), ("ios", "encrypted.ipa")))
    report = Report("test", results, tuple(CATALOGUE.values()))
    sarif_format = OUTPUT_FORMATS["sarif"]
    sarif = json.loads(sarif_format.render(report, options_for(sarif_format, {"base_dir": str(FIXTURES)})))
    schema = SHARED / "schemas" / "sarif-schema-2.1.0.json"
    if schema.exists():
        jsonschema.validate(sarif, json.loads(schema.read_text(encoding="utf-8")))
    names = {loc["logicalLocations"][0]["fullyQualifiedName"] for r in sarif["runs"][0]["results"]
             for loc in r["locations"] if "logicalLocations" in loc}
    assert "module.json::requestPermissions[ohos.permission.READ_CALENDAR]" in names
    assert "Payload/Demo.app/Demo" in {n.split("::")[0] for n in names}
    junit = OUTPUT_FORMATS["junit"].render(report, options_for(OUTPUT_FORMATS["junit"], {}))
    assert "PRM004" in junit and "PKG005" in junit
    github = OUTPUT_FORMATS["github"].render(report, options_for(OUTPUT_FORMATS["github"], {"base_dir": str(FIXTURES)}))
    assert "title=PRM003" in github and "title=PKG005" in github
