"""The JSON catalogs validate against their schema, and the schema rejects broken catalogs."""

from __future__ import annotations

import copy
import json
from importlib import resources

import jsonschema
import pytest

from scanner import catalogs
from scanner.facts.context import declaration_parts, in_context
from scanner.facts.permissions import declared_in, name_table

from conftest import text


def _schema():
    return json.loads(resources.files("scanner.facts").joinpath("data/catalog.schema.json").read_text("utf-8"))


@pytest.mark.parametrize("name", catalogs.CATALOGS)
def test_catalog_is_valid(name):
    catalogs.validate(name)
    jsonschema.validate(catalogs.load(name), _schema())


@pytest.mark.parametrize(
    ("name", "break_it"),
    [
        ("filing", lambda d: d["provinces"].append("京京")),
        ("filing", lambda d: d["suffix_kinds"].update({"a": "app"})),
        ("hosts", lambda d: d["hosts"]["x.gov.cn"].update({"status": "fine"}) if "x.gov.cn" in d["hosts"]
         else d["hosts"].update({"x.gov.cn": {"status": "fine", "reason": ""}})),
        ("permissions", lambda d: d["permissions"].append({"permission": "CAMERA", "group": "", "names": {}})),
        ("context", lambda d: d.pop("context_words")),
    ],
)
def test_schema_rejects_broken_catalog(name, break_it):
    data = copy.deepcopy(catalogs.load(name))
    break_it(data)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, _schema())


def test_unknown_catalog_is_refused():
    with pytest.raises(catalogs.CatalogError):
        catalogs.load("nope")


@pytest.mark.parametrize("example", catalogs.load("context")["examples"], ids=lambda e: e["text"])
def test_context_examples(example):
    member, _, pointer = example["text"].partition(" ")
    from scanner.model import Location

    assert in_context(Location(member, "resource", pointer)) == example["context"]


@pytest.mark.parametrize("example", catalogs.load("permissions")["examples"], ids=lambda e: e["text"])
def test_permission_examples(example):
    declaration = "\n".join(declaration_parts(text(example["text"])))
    facts = declared_in((example["permission"],), declaration, name_table())
    assert (example["permission"] in facts.declared) == example["declared"]


def test_every_permission_has_chinese_and_english_names():
    for entry in catalogs.load("permissions")["permissions"]:
        assert entry["names"]["zh"] and entry["names"]["en"], entry["permission"]


def test_dex_identifier_is_not_a_declaration():
    assert not declaration_parts(text("android.permission.CAMERA", "classes.dex", "dex"))
    assert declaration_parts(text("为了扫码，我们需要相机权限", "classes.dex", "dex"))
    assert declaration_parts(text("用于扫码", pointer="@array/permission_list[0] [default]"))
