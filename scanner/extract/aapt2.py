"""aapt2's protocol-buffer formats, as an Android App Bundle's modules hold them: the resource table
(``resources.pb``, aapt.pb.ResourceTable) and XML files (``manifest/AndroidManifest.xml`` and
``res/**.xml``, aapt.pb.XmlNode), decoded with the protobuf library from the project's own schema
(scanner/proto/aapt2_resources.proto, compiled into aapt2_resources.desc).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message, message_factory

from scanner.i18n import msg

ANDROID_NS = "http://schemas.android.com/apk/res/android"
MAX_DEPTH = 64
"""XML nesting read (protobuf's own recursion limit is 100; a layout is never this deep)."""


class ProtoError(ValueError):
    """The bytes are not the protocol buffer they should be."""


@functools.cache
def _classes() -> dict[str, Any]:
    data = resources.files("scanner.proto").joinpath("aapt2_resources.desc").read_bytes()
    files = descriptor_pb2.FileDescriptorSet.FromString(data)
    pool = descriptor_pool.DescriptorPool()
    for proto in files.file:
        pool.Add(proto)
    return {name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"beianscan.aapt.pb.{name}"))
            for name in ("ResourceTable", "XmlNode")}


# The message classes are built at run time from the descriptor set, so they have no static types:
# their values are Any (the noqa below), read only in this module.
def _decode(name: str, data: bytes) -> Any:  # noqa: ANN401

    try:
        return _classes()[name].FromString(data)
    except (message.DecodeError, RecursionError, ValueError) as exc:
        raise ProtoError(msg("not an aapt2 {name} ({exc})", name=name, exc=exc)) from exc


@dataclass(frozen=True, slots=True)
class TableString:
    """One string value of the resource table and where: ``@string/about_icp [zh-rCN]``."""

    pointer: str
    value: str
    resource_id: int


def table_strings(data: bytes) -> Iterator[TableString]:
    """Every string, array item and plural of a ``resources.pb``, with its name and configuration."""
    table = _decode("ResourceTable", data)
    for package in table.package:
        for kind in package.type:
            for entry in kind.entry:
                rid = (package.package_id.id << 24) | (kind.type_id.id << 16) | entry.entry_id.id
                for config_value in entry.config_value:
                    where = f"@{kind.name}/{entry.name} [{_locale(config_value.config.locale)}]"
                    for value in _item_strings(config_value.value):
                        yield TableString(where, value, rid)


def _item_strings(value: Any) -> Iterator[str]:  # noqa: ANN401
    if value.HasField("item"):
        yield from _strings_of(value.item)
    elif value.HasField("compound_value"):
        compound = value.compound_value
        items = [e.item for e in compound.array.element] + [e.item for e in compound.plural.entry]
        for item in items:
            yield from _strings_of(item)


def _strings_of(item: Any) -> Iterator[str]:  # noqa: ANN401
    for field in ("str", "raw_str", "styled_str"):
        if item.HasField(field):
            text = getattr(item, field).value
            if text:
                yield text


def _locale(tag: str) -> str:
    """The locale as resources.arsc pointers write it (``zh-rCN``; BCP-47 ``zh-CN`` in the proto)."""
    if not tag:
        return "default"
    language, _, region = tag.partition("-")
    return f"{language}-r{region}" if region and len(region) == 2 else tag


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute: its name (``android:`` for the Android namespace), literal value, and the
    resource a compiled reference names (0 when none)."""

    name: str
    value: str
    reference: int


@dataclass(frozen=True, slots=True)
class Element:
    """One element or text node of a proto XML file, in document order."""

    tag: str
    attrs: tuple[Attribute, ...] = ()
    text: str = ""


def xml_elements(data: bytes) -> list[Element]:
    """The elements (tag ``#text`` for text nodes) of a proto XML file, in document order."""
    root = _decode("XmlNode", data)
    out: list[Element] = []
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if node.HasField("element") and depth < MAX_DEPTH:
            element = node.element
            attrs = tuple(Attribute(("android:" if a.namespace_uri == ANDROID_NS else "") + a.name, a.value,
                                    a.compiled_item.ref.id if a.compiled_item.HasField("ref") else 0)
                          for a in element.attribute)
            out.append(Element(element.name, attrs))
            stack.extend((child, depth + 1) for child in reversed(element.child))
        elif node.HasField("text") and node.text.strip():
            out.append(Element("#text", text=node.text))
    return out
