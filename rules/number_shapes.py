"""Recognize, normalize and classify filing-number-shaped strings in a text.

Sources: ../shared/domain/filing-rules.md §1 (kinds, digits, provinces, normalization) and §6 (vectors).
A candidate needs the whole shape (province position, ICP, 备/证, digits, and 号 or a serial): the
letters ``ICP`` alone occur by chance in base64 and minified code and never make a candidate.
The patterns are linear: every repetition is bounded and no two adjacent groups can match the same
characters, so long hostile inputs cannot make them backtrack catastrophically.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from scanner.rules import catalog

_SP = r"[ \t\u3000\u00a0]{0,3}"
_DASH = r"[-\u2010-\u2015\u2212\uff0d\ufe63]"
_DIGIT = r"[0-9\uff10-\uff19]"
_LETTER = r"[A-Za-z\uff21-\uff3a\uff41-\uff5a]"
_SERIAL = (
    rf"(?:{_SP}(?P<dash>{_DASH}){_SP}(?P<serial>{_DIGIT}{{1,5}})(?P<suffix>{_LETTER}(?!{_LETTER}))?"
    rf"|(?P<bare_serial>{_DIGIT}{{1,5}})(?P<bare_suffix>{_LETTER}(?!{_LETTER})))?"
)


@functools.cache
def patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """(ICP, public-security, B2) patterns. The province position only takes characters the catalog
    knows (valid or rejected), so a neighbouring word ("备案信息 ICP备…") is never read as a province."""
    data = catalog.load("filing")
    prov = "[" + "".join(data["provinces"]) + "".join(data["rejected_provinces"]) + "]"
    icp = re.compile(
        rf"(?P<prov>{prov})?{_SP}[IＩ][CＣ][PＰ]{_SP}(?P<typ>[备证證]){_SP}"
        rf"(?P<num>{_DIGIT}{{1,14}}|[XxＸｘ*＊]{{2,12}})(?!{_DIGIT})"
        rf"{_SP}(?P<hao1>号)?{_SERIAL}(?:{_SP}(?P<hao2>号))?"
    )
    psb = re.compile(
        rf"(?P<prov>{prov})?{_SP}公{_SP}网{_SP}安{_SP}备{_SP}(?P<num>{_DIGIT}{{6,20}})(?:{_SP}(?P<hao>号))?"
    )
    b2 = re.compile(
        rf"(?P<prov>{prov}){_SP}[BＢ]{_SP}[2２]{_SP}{_DASH}{_SP}(?P<num>{_DIGIT}{{4,10}})(?!{_DIGIT})"
        rf"(?:{_SP}{_DASH}{_SP}(?P<serial>{_DIGIT}{{1,5}})(?P<suffix>{_LETTER}(?!{_LETTER}))?)?"
    )
    return icp, psb, b2


_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d\ufe63"})
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Recognized:
    """One number found in a text, before it is tied to its locations."""

    raw: str
    value: str
    kind: str
    problem: str | None
    placeholder: bool
    offset: int


def normalize(raw: str) -> str:
    """NFKC (full-width forms), every dash variant to ``-``, whitespace removed (filing-rules.md §1.4)."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", raw).translate(_DASHES))


def find_numbers(text: str) -> Iterator[Recognized]:
    """Every filing-number-shaped string in ``text``, classified and validated."""
    icp, psb, b2 = patterns()
    if "CP" in text or "ＣＰ" in text:
        for match in icp.finditer(text):
            found = _icp(match)
            if found is not None:
                yield found
    if "安" in text:
        for match in psb.finditer(text):
            yield _public_security(match)
    if "2" in text or "２" in text:
        for match in b2.finditer(text):
            found = _b2(match)
            if found is not None:
                yield found


@functools.cache
def _tables() -> tuple[frozenset[str], dict[str, str], dict[str, int], dict[str, str], frozenset[str]]:
    data = catalog.load("filing")
    return (
        frozenset(data["provinces"]),
        data["rejected_provinces"],
        data["main_digits"],
        data["suffix_kinds"],
        frozenset(data["sequential_placeholders"]),
    )


def _norm(part: str | None) -> str:
    return normalize(part) if part else ""


def _kind(serial: str, suffix: str, no_serial_kind: str) -> str:
    if not serial:
        return no_serial_kind
    if not suffix:
        return "website"
    # A lower-case suffix is malformed but still says which kind was meant.
    return _tables()[3].get(suffix.upper(), "app")


def _icp(match: re.Match[str]) -> Recognized | None:
    num = _norm(match["num"])
    serial = _norm(match["serial"] or match["bare_serial"])
    suffix = _norm(match["suffix"] or match["bare_suffix"])
    has_hao = bool(match["hao1"] or match["hao2"])
    if not (has_hao or serial or (num.isdigit() and len(num) >= 6)):
        return None  # "ICP备2024" without 号 or serial: not the shape of a number
    licence = _norm(match["typ"]) in "证證"
    kind = _kind(serial, suffix, "licence" if licence else "entity")
    raw = match.group(0).strip()
    problem, placeholder = _icp_problem(match, num, serial, suffix, licence)
    return Recognized(raw, normalize(raw), kind, problem, placeholder, match.start())


def _icp_problem(
    match: re.Match[str], num: str, serial: str, suffix: str, licence: bool
) -> tuple[str | None, bool]:
    problem = _province_problem(match["prov"])
    if problem:
        return problem, False
    if _is_placeholder(num, serial):
        return f"{num} is a template placeholder, not an issued number", True
    digits = _tables()[2]
    low, high = (digits["licence"], digits["licence"]) if licence else (digits["min"], digits["max"])
    if not low <= len(num) <= high:
        return f"main number has {len(num)} digits, expected {low}–{high}", False
    return _serial_problem(match, serial, suffix), False


def _serial_problem(match: re.Match[str], serial: str, suffix: str) -> str | None:
    if not match["hao1"]:
        if serial and match["hao2"]:
            return "the serial is placed before 号 (expected …号-n)"
        return "号 is missing after the main number"
    if match["bare_serial"]:
        return "the dash before the serial is missing (expected 号-n)"
    if serial and serial.startswith("0"):
        return "the serial after the dash starts at 1"
    if suffix and suffix not in _tables()[3]:
        if suffix.upper() in _tables()[3]:
            return f"the suffix must be upper case ({suffix.upper()})"
        return f"the suffix {suffix} is not A (App), X (mini-program) or K (quick app)"
    return None


def _province_problem(prov: str | None) -> str | None:
    provinces, rejected, *_ = _tables()
    if not prov:
        return "the province prefix is missing"
    if prov in provinces:
        return None
    return rejected.get(prov, f"{prov} is not a province abbreviation used in filing numbers")


def _is_placeholder(num: str, serial: str) -> bool:
    if not num.isdigit():
        return True  # XXXX, ****
    if len(set(num)) == 1:
        return True  # 00000000, 88888888
    # Sequential numbers are template values in the entity form (京ICP备12345678号); with a serial
    # and suffix they are kept as real (filing-rules.md §6 uses 京ICP备12345678号-1A as a vector).
    return not serial and num in _tables()[4]


def _public_security(match: re.Match[str]) -> Recognized:
    raw = match.group(0).strip()
    problem = _province_problem(match["prov"])
    return Recognized(raw, normalize(raw), "public-security", problem, False, match.start())


def _b2(match: re.Match[str]) -> Recognized | None:
    provinces, *_ = _tables()
    if match["prov"] not in provinces:
        return None  # "B2-" after a rejected prefix is not a licence number
    num = _norm(match["num"])
    serial, suffix = _norm(match["serial"]), _norm(match["suffix"])
    raw = match.group(0).strip()
    kind = _kind(serial, suffix, "licence")
    problem = None if len(num) == _tables()[2]["b2"] else f"B2 licence number has {len(num)} digits, expected 8"
    if problem is None and serial:
        problem = _suffix_problem(serial, suffix)
    return Recognized(raw, normalize(raw), kind, problem, False, match.start())


def _suffix_problem(serial: str, suffix: str) -> str | None:
    if serial.startswith("0"):
        return "the serial after the dash starts at 1"
    if suffix and suffix not in _tables()[3]:
        return f"the suffix {suffix} is not A (App), X (mini-program) or K (quick app)"
    return None
