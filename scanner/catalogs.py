"""Load the JSON catalogs of scanner/facts/data (habit: data for tables, schema for data).

The facts judge by them, and the engine builds the prefilter from them; the one parser that needs a
table (the iOS frameworks and symbols to look for in a binary) reads it here too: a layer below both,
so that no parser imports the facts.

The catalogs are read-only package data: the test suite validates each against
scanner/facts/data/catalog.schema.json (``validate``) and runs its examples. A scan only reads them, which keeps
jsonschema off the start-up path of every run.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

CATALOGS = ("filing", "hosts", "context", "permissions", "miniprogram", "harmony", "ios", "protectors")


class CatalogError(ValueError):
    """An unknown catalog, or one that does not match its schema."""


def _read(path: str) -> dict[str, Any]:
    # The catalogs are files beside this module (package data); read directly, without importlib.resources
    # and pathlib, which every scan would pay for at start-up.
    with open(os.path.join(os.path.dirname(__file__), "facts", path), encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


@functools.cache
def load(name: str) -> dict[str, Any]:
    """The named catalog (cached: catalogs never change while the process runs)."""
    if name not in CATALOGS:
        raise CatalogError(f"unknown catalog {name!r}")
    return _read(f"data/{name}.json")


def validate(name: str) -> None:
    """Check a catalog against the schema; CatalogError names the failing key."""
    import jsonschema

    try:
        jsonschema.validate(load(name), _read("data/catalog.schema.json"))
    except jsonschema.ValidationError as exc:
        where = ".".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise CatalogError(f"catalog {name}: {where}: {exc.message}") from exc
