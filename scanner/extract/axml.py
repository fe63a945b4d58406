"""Android binary XML (AXML) reader for well-formed files: start tags with typed attributes, text nodes.

Format: frameworks/base/libs/androidfw/include/androidfw/ResourceTypes.h (ResXMLTree_header,
ResXMLTree_node, ResXMLTree_attrExt, ResXMLTree_attribute, Res_value). Attribute names come from the
string pool, or from the resource map when a packer blanked the names (0x0101xxxx ids of android:attr).
A file this reader refuses (tampered counts, odd sizes, unknown layout) raises ChunkError, and the APK
parser falls back to androguard's lenient reader.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from scanner.extract.stringpool import ChunkError, StringPool, read_string_pool
from scanner.i18n import msg

RES_XML_TYPE = 0x0003
RES_STRING_POOL_TYPE = 0x0001
RES_XML_RESOURCE_MAP_TYPE = 0x0180
RES_XML_START_ELEMENT_TYPE = 0x0102
RES_XML_CDATA_TYPE = 0x0104
TYPE_REFERENCE = 0x01
TYPE_STRING = 0x03
_CHUNK = struct.Struct("<HHI")
_ATTR = struct.Struct("<IIIHBBI")
# android:attr resource ids of the attributes the scanner reads (public.xml of the framework).
ANDROID_ATTRS = {
    0x01010001: "label", 0x01010003: "name", 0x0101014F: "text", 0x01010150: "hint", 0x010101E1: "title",
    0x010101E9: "summary", 0x01010273: "contentDescription", 0x0101021B: "versionCode",
    0x0101021C: "versionName", 0x0101020C: "minSdkVersion", 0x01010270: "targetSdkVersion",
    0x010101F0: "summaryOn", 0x010101F1: "summaryOff", 0x010101F2: "dialogTitle", 0x010101F3: "dialogMessage",
}


@dataclass(frozen=True, slots=True)
class XmlAttr:
    """One attribute: local name, value type, raw data and string value ("" unless a string)."""

    name: str
    vtype: int
    data: int
    value: str


@dataclass(frozen=True, slots=True)
class XmlElement:
    """A start tag with its attributes, or a text node (tag == "#text")."""

    tag: str
    attrs: tuple[XmlAttr, ...]
    text: str = ""


def elements(data: bytes) -> Iterator[XmlElement]:
    """Start tags and text nodes in document order; ChunkError when the structure is not sound."""
    if len(data) < 8:
        raise ChunkError(msg("binary XML shorter than its header"))
    ctype, header_size, size = _CHUNK.unpack_from(data, 0)
    if ctype != RES_XML_TYPE or header_size != 8 or size > len(data):
        raise ChunkError(msg("not a well-formed binary XML header"))
    pool = StringPool(())
    resource_map: tuple[int, ...] = ()
    pos = header_size
    while pos + 8 <= size:
        ctype, chunk_header, chunk_size = _CHUNK.unpack_from(data, pos)
        if chunk_size < 8 or pos + chunk_size > size:
            raise ChunkError(msg("binary XML chunk at {pos} has an impossible size {chunk_size}",
                                 pos=pos, chunk_size=chunk_size))
        if ctype == RES_STRING_POOL_TYPE:
            pool = read_string_pool(data, pos)
        elif ctype == RES_XML_RESOURCE_MAP_TYPE:
            count = (chunk_size - chunk_header) // 4
            resource_map = struct.unpack_from(f"<{count}I", data, pos + chunk_header)
        elif ctype == RES_XML_START_ELEMENT_TYPE:
            yield _start(data, pos + chunk_header, pos + chunk_size, pool, resource_map)
        elif ctype == RES_XML_CDATA_TYPE:
            text = pool.get(struct.unpack_from("<I", data, pos + chunk_header)[0])
            if text.strip():
                yield XmlElement("#text", (), text)
        pos += chunk_size


def _start(data: bytes, at: int, end: int, pool: StringPool, resource_map: tuple[int, ...]) -> XmlElement:
    _ns, name, attr_start, attr_size, count = struct.unpack_from("<IIHHH", data, at)
    # Tampered manifests declare attributeSize 0x18: a stride with padding when the attributes fit it,
    # else the real 0x14 records (jadx #2210 reads them so).
    first = at + attr_start
    if attr_size < _ATTR.size or first + count * attr_size > end:
        attr_size = _ATTR.size
    if first + count * attr_size > end:
        raise ChunkError(msg("attributes run past their element"))
    attrs = []
    for index in range(count):
        _ans, aname, _raw, _vsize, _res0, vtype, vdata = _ATTR.unpack_from(data, first + index * attr_size)
        attr_name = pool.get(aname)
        if aname < len(resource_map):
            attr_name = ANDROID_ATTRS.get(resource_map[aname], attr_name)
        value = pool.get(vdata) if vtype == TYPE_STRING else ""
        attrs.append(XmlAttr(attr_name, vtype, vdata, value))
    return XmlElement(pool.get(name), tuple(attrs))
