"""Find calls of mini-program privacy APIs in code, minified or not.

Forms (filing-rules.md §3.2; the corpus' minified packages): ``wx.getLocation(``, ``wx["getLocation"]``,
an alias of the namespace (``var t=wx; … t.getLocation(``), and the wrappers of cross-platform
frameworks in source folders (``uni.``, ``Taro.``) and other hosts (``my.``, ``tt.``, ``qq.``, ``swan.``).
A name in a list or a string is not a call. Patterns are built once from the miniprogram catalog.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from scanner import catalogs
from scanner.facts.locate import pinpoint
from scanner.model import Location, Text

_IDENT = r"[A-Za-z_$][\w$]{0,40}"


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One call site of a privacy API."""

    api: str
    text: Text
    offset: int


@functools.cache
def privacy_apis() -> dict[str, str]:
    """API name -> privacy info type (Location, Album, …)."""
    return {api: entry["info"] for entry in catalogs.load("miniprogram")["privacy_apis"] for api in entry["apis"]}


@functools.cache
def location_apis() -> dict[str, str]:
    """Location API -> precise / fuzzy / choose (the values requiredPrivateInfos accepts)."""
    apis: dict[str, str] = catalogs.load("miniprogram")["location_apis"]
    return apis


@functools.cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], str, re.Pattern[str]]:
    data = catalogs.load("miniprogram")
    namespaces = "|".join(re.escape(n) for n in data["namespaces"])
    apis = "|".join(sorted(privacy_apis(), key=len, reverse=True))
    # (?<![\w$.]) keeps "foo.wx.getLocation" and "mywx.getLocation" out; (?![\w$]) ends the API name.
    call = rf"(?:\s*\.\s*(?P<dot>{apis})(?![\w$])\s*\(|\s*\[\s*(?P<q>['\"])(?P<key>{apis})(?P=q)\s*\])"
    direct = re.compile(rf"(?<![\w$.])(?:{namespaces}){call}")
    alias = re.compile(rf"(?<![\w$.])(?P<alias>{_IDENT})\s*=\s*(?:{namespaces})(?=\s*[,;)}}\n])")
    quick = re.compile(apis)
    return direct, alias, call, quick


def find_calls(texts: Iterable[Text]) -> Iterator[ApiCall]:
    """Every privacy-API call in code texts (pages, scripts), with its offset for the line number."""
    direct, alias_pattern, call, quick = _patterns()
    for text in texts:
        if text.location.kind not in ("page", "asset") or not quick.search(text.value):
            continue
        for match in direct.finditer(text.value):
            yield ApiCall(match["dot"] or match["key"], text, match.start())
        aliases = {m["alias"] for m in alias_pattern.finditer(text.value)}
        if aliases:
            names = "|".join(re.escape(a) for a in sorted(aliases))
            for match in re.finditer(rf"(?<![\w$.])(?:{names}){call}", text.value):
                yield ApiCall(match["dot"] or match["key"], text, match.start())


def call_location(call: ApiCall) -> Location:
    """The call's place narrowed to its line."""
    return pinpoint(call.text, call.offset)
