"""The JSON report validates against scanner/schemas/report.schema.json, and the schema has teeth."""

from __future__ import annotations

import copy
import json
from importlib import resources

import jsonschema
import pytest

from scanner import engine
from scanner.formatters import json_report
from scanner.model import Options

from conftest import APKS


@pytest.fixture(scope="module")
def schema():
    return json.loads(resources.files("scanner").joinpath("schemas/report.schema.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def report():
    paths = sorted(str(p) for p in APKS.glob("*.apk"))
    return json_report.to_dict(engine.scan(paths, Options()))


def test_report_of_every_fixture_is_valid(schema, report):
    jsonschema.validate(report, schema)
    assert report["summary"]["packages"] == len(report["results"])
    assert report["summary"]["unreadable"] == 2


@pytest.mark.parametrize(
    "break_it",
    [
        lambda r: r["results"][0].pop("facts"),
        lambda r: r["results"][0]["findings"].append({"rule_id": "XYZ1"}),
        lambda r: r.update(extra=1),
        lambda r: r["summary"]["findings"].update(error=-1),
        lambda r: r["results"][0]["package"].update(sha256="nothex"),
    ],
)
def test_schema_rejects_other_shapes(schema, report, break_it):
    broken = copy.deepcopy(report)
    break_it(broken)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)
