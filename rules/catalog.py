"""Load the JSON catalogs of rules/data, validated against their schema (habit: data for tables)."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

CATALOGS = ("filing", "hosts", "context", "permissions", "miniprogram")


class CatalogError(ValueError):
    """A catalog does not match its schema."""


@functools.cache
def _schema() -> dict[str, Any]:
    text = resources.files("scanner.rules").joinpath("data/catalog.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def load(name: str) -> dict[str, Any]:
    """The named catalog, validated once per process (catalogs are read-only data)."""
    import jsonschema

    if name not in CATALOGS:
        raise CatalogError(f"unknown catalog {name!r}")
    text = resources.files("scanner.rules").joinpath(f"data/{name}.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    try:
        jsonschema.validate(data, _schema())
    except jsonschema.ValidationError as exc:
        raise CatalogError(f"catalog {name}: {exc.message}") from exc
    return data
