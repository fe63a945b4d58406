"""Recognize, normalize and classify filing-number-shaped strings in a text.

A filing number is issued by the MIIT filing system (https://beian.miit.gov.cn/) as
``{province}ICP备{digits}号[-{serial}{A|X|K}]``; licences as ``{province}ICP证{6 digits}号`` or
``{province}B2-{8 digits}``; public-security filings as ``{province}公网安备{digits}号``.

A candidate needs the whole shape (province position, ICP, 备/证, digits, and 号 or a serial): the
letters ``ICP`` alone occur by chance in base64 and minified code and never make a candidate.

People type numbers in many ways, and the recognizer reads them all, then says what it normalized:
- **read as written** (the number is valid): full-width forms (``ＩＣＰ１２３``), traditional
  characters (``京ICP備20181234號``: zh-TW / zh-HK resources are often converted automatically), spaces,
  no-break spaces and line breaks between the parts (``豫 ICP 备 2026011707 号 - 1 A``, ``&nbsp;``,
  ``<br>``), zero-width characters, every dash variant, a ``B1`` / ``B2`` licence written after ``ICP证``
  or as ``合字B2-…``, a public-security number with a ``-1`` serial;
- **malformed but meant** (FIL002, with the form as issued): ``icp`` in lower or mixed case, a word or a
  colon inside (``京ICP备案20231234号-2``, ``粤ICP备：20195678号``), the prefix doubled
  (``晋ICP备ICP备…``), ``公安网备`` for ``公网安备``, ``_`` as the serial dash, a dash between 备 and the digits.
Look-alikes without the shape (``序号-3``, ``型号-001``, ``版本号 -1``) never match.

The patterns are linear: every repetition is bounded and no two adjacent groups can match the same
characters, so long hostile inputs cannot make them backtrack catastrophically.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace

from scanner import catalogs
from scanner.i18n import msg

# Separators seen between the parts: spaces, ideographic and no-break spaces (&nbsp;), line breaks (<br>).
_SP = r"[ \t\u3000\u00a0\r\n]{0,4}"
_DASH = r"[-\u2010-\u2015\u2212\uff0d\ufe63]"
_DIGIT = r"[0-9\uff10-\uff19]"
_LETTER = r"[A-Za-z\uff21-\uff3a\uff41-\uff5a]"
_ICP = r"[IiＩｉ][CcＣｃ][PpＰｐ]"
_HAO = "[号號]"
_SERIAL = (
    rf"(?:{_SP}(?P<dash>{_DASH}|[_＿]){_SP}(?P<serial>{_DIGIT}{{1,5}})(?!{_DIGIT}){_SP}"
    rf"(?P<suffix>{_LETTER}(?!{_LETTER}))?"
    rf"|(?P<bare_serial>{_DIGIT}{{1,5}})(?P<bare_suffix>{_LETTER}(?!{_LETTER})))?"
)
_ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff\u00ad]")


@functools.cache
def patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """(ICP, public-security, B licence) patterns. The province position only takes characters the
    catalog knows (valid, traditional or rejected), so a neighbouring word ("备案信息 ICP备…") is never
    read as a province."""
    data = catalogs.load("filing")
    prov = "[" + "".join([*data["provinces"], *data["traditional_provinces"], *data["rejected_provinces"]]) + "]"
    icp = re.compile(
        rf"(?P<prov>{prov})?{_SP}(?P<dup>{_ICP}{_SP}[备備]{_SP})?(?P<icp>{_ICP}){_SP}(?P<typ>[备備证證])"
        rf"(?P<word>案)?{_SP}(?P<colon>[:：])?{_SP}(?P<lead>{_DASH})?{_SP}"
        rf"(?P<licence>[BＢbｂ][12１２]{_SP}{_DASH}{_SP})?"
        rf"(?P<num>{_DIGIT}{{1,14}}|[XxＸｘ*＊]{{2,12}})(?!{_DIGIT})"
        rf"{_SP}(?P<hao1>{_HAO})?{_SERIAL}(?:{_SP}(?P<hao2>{_HAO}))?"
    )
    psb = re.compile(
        rf"(?P<prov>{prov})?{_SP}公{_SP}(?:[网網]{_SP}安|(?P<swap>安{_SP}[网網])){_SP}[备備](?P<word>案)?{_SP}"
        rf"(?P<colon>[:：])?{_SP}(?P<lead>{_DASH})?{_SP}"
        # the digits whole, or in groups the way some footers print them (31010-4020010-73): a first
        # group shorter than a whole number, so "…000060-1" stays a number and its serial
        rf"(?:(?P<num>{_DIGIT}{{6,20}})|(?P<groups>{_DIGIT}{{2,5}}(?:{_DASH}{_DIGIT}{{2,9}}){{1,4}}))(?!{_DIGIT})"
        rf"(?:{_SP}(?P<hao>{_HAO}))?"
        rf"(?:{_SP}{_DASH}{_SP}(?P<serial>{_DIGIT}{{1,3}})(?!{_DIGIT}))?"
    )
    licence = re.compile(
        rf"(?:(?P<prov>{prov})|(?P<joint>合字)){_SP}"
        rf"(?P<classes>(?:[ABＡＢ]{_SP}[12１２]{_SP}[.．、]{_SP}){{1,4}})?"  # 合字A1.B1.B2-…: several classes
        rf"[BＢ]{_SP}(?P<cls>[12１２]){_SP}{_DASH}{_SP}"
        rf"(?P<num>{_DIGIT}{{4,10}})(?!{_DIGIT})(?:{_SP}{_HAO})?"
        rf"(?:{_SP}{_DASH}{_SP}(?P<serial>{_DIGIT}{{1,5}})(?P<suffix>{_LETTER}(?!{_LETTER}))?)?"
    )
    return icp, psb, licence


ALGORITHM = re.compile(rf"网信算备{_SP}(?P<num>{_DIGIT}{{10,30}})(?!{_DIGIT}){_SP}(?P<hao>{_HAO})?")
"""An algorithm filing (互联网信息服务算法备案, Cyberspace Administration, https://beian.cac.gov.cn/):
网信算备 + digits + 号."""


@functools.cache
def generative_ai() -> re.Pattern[str]:
    """A generative-AI service filing as the Cyberspace Administration lists it: the province in pinyin,
    the service's registered name, and the date (``Beijing-YunQue-20230821``)."""
    names = "|".join(catalogs.load("filing")["pinyin_provinces"])
    return re.compile(rf"(?<![A-Za-z0-9-])(?P<prov>{names})-(?P<name>[A-Za-z][A-Za-z0-9]{{1,40}})"
                      rf"-(?P<date>20[2-9][0-9](?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01]))(?![A-Za-z0-9])")


_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d\ufe63"})
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Recognized:
    """One number found in a text, before it is tied to its locations."""

    raw: str
    value: str
    """The number as the filing system writes it (the canonical form), whatever the spelling."""
    kind: str
    problem: str | None
    placeholder: bool
    offset: int
    normalized: tuple[str, ...] = ()
    """What was normalized to read it (full-width forms, traditional characters, spaces …)."""
    span: int = 0
    """Characters of the text it covers, when that differs from ``raw`` (markup taken out); 0: len(raw)."""

    @property
    def length(self) -> int:
        """Characters of the text the number covers."""
        return self.span or len(self.raw)


@functools.cache
def _traditional() -> dict[int, str]:
    data = catalogs.load("filing")
    return str.maketrans({**data["traditional_provinces"], **data["traditional_characters"]})


def normalize(raw: str) -> str:
    """NFKC (full-width forms), traditional characters to simplified, every dash variant to ``-``,
    whitespace and zero-width characters removed: a number as the filing system writes it."""
    text = unicodedata.normalize("NFKC", _ZERO_WIDTH.sub("", raw)).translate(_DASHES).translate(_traditional())
    return _SPACES.sub("", text)


def find_numbers(text: str) -> Iterator[Recognized]:
    """Every filing-number-shaped string in ``text``, classified and validated."""
    if not any(ch in text for ch in _SHAPE_CHARS) and "-20" not in text:  # no number, whatever else it holds
        return
    if not _ZERO_WIDTH.search(text) and ("<" not in text or not _MARKUP.search(text)):
        yield from _find(text)
        return
    # Zero-width characters (pasted from web pages) and inline markup inside a number
    # (沪ICP备<span>11018329</span>号-5) are taken out first; offsets map back to the text.
    kept = _kept(text)
    for found in _find("".join(text[i] for i in kept)):
        start = kept[found.offset]
        end = kept[min(found.offset + len(found.raw), len(kept)) - 1] + 1
        notes = found.normalized
        if _ZERO_WIDTH.search(text, start, end):
            notes = (*notes, msg("zero-width characters removed"))
        if _MARKUP.search(text, start, end):
            notes = (*notes, msg("markup inside the number removed"))
        yield replace(found, offset=start, normalized=notes, span=end - start)


_MARKUP = re.compile(r"</?(?:span|b|i|em|strong|font|small|u|sup|sub|a)(?:\s[^<>]{0,120})?>", re.IGNORECASE)
"""Inline tags: a block tag ends a number, an inline one does not. (Literals joined in code are
assembled from their pieces by the parsers, and reported as assembled.)"""


def _kept(text: str) -> list[int]:
    """Indexes of the characters that stay once zero-width characters and inline markup are out."""
    dropped = bytearray(len(text))
    for match in _MARKUP.finditer(text):
        dropped[match.start():match.end()] = b"\1" * (match.end() - match.start())
    return [i for i, ch in enumerate(text) if not dropped[i] and not _ZERO_WIDTH.match(ch)]


_SHAPE_CHARS = "备備证證安BＢ"
"""Every number shape holds one of these (ICP备/证, 公网安备, B1/B2 licences) or, for a generative-AI
filing, the dash before its date (``-20``)."""


def _find(text: str) -> Iterator[Recognized]:
    icp, psb, licence = patterns()
    if any(ch in text for ch in "备備证證"):
        for match in _icp_matches(icp, text):
            found = _icp_at(match)
            if found is not None:
                yield found
        if "算备" in text:
            for match in ALGORITHM.finditer(text):
                raw = match.group(0).strip()
                yield Recognized(raw, normalize(raw), "algorithm", None, False, match.start(), _notes(raw))
    if "-20" in text:
        for match in generative_ai().finditer(text):
            yield Recognized(match.group(0), match.group(0), "generative-ai", None, False, match.start())
    if "安" in text:
        for match in psb.finditer(text):
            yield _public_security(match)
    if "B" in text or "Ｂ" in text:
        for match in licence.finditer(text):
            found = _licence(match)
            if found is not None:
                yield found


@functools.cache
def _tables() -> tuple[frozenset[str], dict[str, str], dict[str, int], dict[str, str], frozenset[str]]:
    data = catalogs.load("filing")
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


def _notes(raw: str) -> tuple[str, ...]:
    """What reading ``raw`` normalized that leaves the number valid."""
    notes = []
    if unicodedata.normalize("NFKC", raw) != raw:
        notes.append(msg("full-width characters"))
    if raw.translate(_traditional()) != raw:
        notes.append(msg("traditional characters"))
    if _SPACES.search(raw):
        notes.append(msg("spaces or line breaks between the parts"))
    return tuple(notes)


_ICP_ONLY = re.compile(_ICP)
ICP_LEAD = 5
"""Characters an ICP match can start before its first ``ICP``: a province (1) and spaces (``_SP``: 4)."""


def _icp_matches(icp: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """``icp.finditer(text)``, trying the full pattern only near each ``ICP`` (every match holds one,
    at most ICP_LEAD characters after its start): the full pattern tried at every position of a page
    cost more than the rest of reading its number (bench/run.py's ``footer`` shape)."""
    done = 0
    for candidate in _ICP_ONLY.finditer(text):
        if candidate.start() < done:
            continue
        match = icp.search(text, max(done, candidate.start() - ICP_LEAD))
        if match is None:
            return
        yield match
        done = match.end()


_READ: dict[tuple[str, tuple[str | None, ...]], Recognized | None] = {}
_MISSING = object()
READ_CACHE = 4096
"""Distinct matches whose reading is kept: a static site repeats one footer on each of its 40,000 pages,
and reading a number (normalizing, checking each part) costs more than finding it."""


def _icp_at(match: re.Match[str]) -> Recognized | None:
    """``_icp`` of a match, read once per distinct match: what it reads is the match's own text and groups,
    only its offset is the text's (bench/run.py's ``footer`` shape)."""
    key = (match.group(0), match.groups())
    found = _READ.get(key, _MISSING)
    if found is _MISSING:
        if len(_READ) >= READ_CACHE:
            _READ.clear()
        found = _READ[key] = _icp(match)
    if not isinstance(found, Recognized):
        return None
    if found.offset == match.start():
        return found
    return Recognized(found.raw, found.value, found.kind, found.problem, found.placeholder, match.start(),
                      found.normalized, found.span)


def _icp(match: re.Match[str]) -> Recognized | None:
    num = _norm(match["num"])
    serial = _norm(match["serial"] or match["bare_serial"])
    suffix = _norm(match["suffix"] or match["bare_suffix"])
    has_hao = bool(match["hao1"] or match["hao2"])
    if not (has_hao or serial or (num.isdigit() and len(num) >= 6)):
        return None  # "ICP备2024" without 号 or serial: not the shape of a number
    raw = match.group(0).strip()
    if match["licence"]:
        return _licence_in_icp(match, raw, num, serial, suffix)
    licence = _norm(match["typ"]) in "证證"
    kind = _kind(serial, suffix, "licence" if licence else "entity")
    problem = _spelling_problem(match) or _icp_problem(match, num, serial, suffix, licence)
    placeholder = problem is not None and _is_placeholder(num, serial) and not _province_problem(match["prov"])
    value = _canonical(match, num, serial, suffix) if _spelling_problem(match) else normalize(raw)
    return Recognized(raw, value, kind, problem, placeholder, match.start(), _notes(raw))


def _spelling_problem(match: re.Match[str]) -> str | None:
    """A number that is meant right but written wrong: the fix is to write it as issued."""
    if match["dup"]:
        return msg("ICP备 is written twice")
    if not match["icp"].isupper():
        return msg("ICP must be written in capitals")
    if match["word"]:
        return msg("{typ}案 is written inside the number (备案 belongs in the label, not the number)",
                   typ=match["typ"])
    if match["colon"]:
        return msg("a colon is written inside the number (it belongs after the label)")
    if match["lead"]:
        return msg("a dash is written between 备 and the digits")
    if match["dash"] in ("_", "＿"):
        return msg("the serial is joined with _ instead of -")
    return None


def _canonical(match: re.Match[str], num: str, serial: str, suffix: str) -> str:
    """The number as the filing system writes it, from its parts."""
    typ = _norm(match["typ"]).translate(_traditional())
    hao = "号" if match["hao1"] or match["hao2"] else ""
    tail = f"-{serial}{suffix}" if serial else ""
    return f"{_norm(match['prov']).translate(_traditional())}ICP{typ}{num}{hao}{tail}"


def _icp_problem(
    match: re.Match[str], num: str, serial: str, suffix: str, licence: bool
) -> str | None:
    problem = _province_problem(match["prov"])
    if problem:
        return problem
    if _is_placeholder(num, serial):
        return msg("{num} is a template placeholder, not an issued number", num=num)
    digits = _tables()[2]
    low, high = (digits["licence"], digits["licence"]) if licence else (digits["min"], digits["max"])
    if not low <= len(num) <= high:
        return msg("main number has {count} digits, expected {low}–{high}", count=len(num), low=low, high=high)
    return _serial_problem(match, serial, suffix)


def _serial_problem(match: re.Match[str], serial: str, suffix: str) -> str | None:
    if not match["hao1"]:
        if serial and match["hao2"]:
            return msg("the serial is placed before 号 (expected …号-n)")
        return msg("号 is missing after the main number")
    if match["bare_serial"]:
        return msg("the dash before the serial is missing (expected 号-n)")
    if serial and serial.startswith("0"):
        return msg("the serial after the dash starts at 1")
    if suffix and suffix not in _tables()[3]:
        if suffix.upper() in _tables()[3]:
            return msg("the suffix must be upper case ({upper})", upper=suffix.upper())
        return msg("the suffix {suffix} is not A (App), X (mini-program) or K (quick app)", suffix=suffix)
    return None


def _province_problem(prov: str | None) -> str | None:
    provinces, rejected, *_ = _tables()
    if not prov:
        return msg("the province prefix is missing")
    prov = prov.translate(_traditional())
    if prov in provinces:
        return None
    if prov in rejected:
        return msg(rejected[prov])  # the catalog's own text (scanner/facts/data/filing.json): a msgid too
    return msg("{prov} is not a province abbreviation used in filing numbers", prov=prov)


def _is_placeholder(num: str, serial: str) -> bool:
    if not num.isdigit():
        return True  # XXXX, ****
    if len(set(num)) == 1:
        return True  # 00000000, 88888888
    # Sequential numbers are template values in the entity form (京ICP备12345678号); with a serial
    # and suffix they are kept as real (京ICP备12345678号-1A is a common synthetic test vector).
    return not serial and num in _tables()[4]


def _public_security(match: re.Match[str]) -> Recognized:
    raw = match.group(0).strip()
    problem = _province_problem(match["prov"])
    if problem is None and match["swap"]:
        problem = msg("公网安备 is misspelt 公安网备")
    elif problem is None and (match["word"] or match["colon"]):
        problem = msg("a word or colon is written inside the number (it belongs after the label)")
    grouped = match["groups"] is not None
    digits = "".join(ch for ch in _norm(match["groups"]) if ch.isdigit()) if grouped else _norm(match["num"])
    notes = _notes(raw) + ((msg("digits written in groups"),) if grouped or match["lead"] else ())
    hao = "号" if match["hao"] else ""
    # A serial some sites print after the number (…000060-1) is kept: it is what the page shows.
    serial = f"-{_norm(match['serial'])}" if match["serial"] else ""
    value = f"{_norm(match['prov']).translate(_traditional())}公网安备{digits}{hao}{serial}"
    return Recognized(raw, value, "public-security", problem, False, match.start(), notes)


def _licence(match: re.Match[str]) -> Recognized | None:
    """``粤B2-20090059[-n[X]]`` (value-added telecom licence), ``合字B2-…`` (joint venture), B1 forms, and a
    licence of several classes (``合字B1.B2-20130004``, ``合字A1.B1.B2-20180017``)."""
    provinces, *_ = _tables()
    prov = match["prov"].translate(_traditional()) if match["prov"] else ""
    if not match["joint"] and prov not in provinces:
        return None  # "B2-" after a rejected prefix is not a licence number
    num = _norm(match["num"])
    serial, suffix = _norm(match["serial"]), _norm(match["suffix"])
    raw = match.group(0).strip()
    kind = _kind(serial, suffix, "licence")
    problem: str | None = (None if len(num) == _tables()[2]["b2"] else
                           msg("B2 licence number has {count} digits, expected 8", count=len(num)))
    if problem is None and serial:
        problem = _suffix_problem(serial, suffix)
    head = "合字" if match["joint"] else prov
    classes = _SPACES.sub("", _norm(match["classes"]).replace("．", ".").replace("、", ".")).upper()
    value = f"{head}{classes}B{_norm(match['cls'])}-{num}" + (f"-{serial}{suffix}" if serial else "")
    return Recognized(raw, value, kind, problem, False, match.start(), _notes(raw))


def _licence_in_icp(match: re.Match[str], raw: str, num: str, serial: str, suffix: str) -> Recognized:
    """``京ICP证B2-20191234号``: a B licence number written after ``ICP证`` (read as the licence)."""
    cls = _norm(match["licence"])[1]
    problem = _province_problem(match["prov"])
    if problem is None and len(num) != _tables()[2]["b2"]:
        problem = msg("B{cls} licence number has {count} digits, expected 8", cls=cls, count=len(num))
    value = f"{_norm(match['prov']).translate(_traditional())}B{cls}-{num}" + (f"-{serial}{suffix}" if serial else "")
    notes = (*_notes(raw), msg("written as ICP证B{cls}-…: the licence number is B{cls}-…", cls=cls))
    return Recognized(raw, value, _kind(serial, suffix, "licence"), problem, False, match.start(), notes)


def _suffix_problem(serial: str, suffix: str) -> str | None:
    if serial.startswith("0"):
        return msg("the serial after the dash starts at 1")
    if suffix and suffix not in _tables()[3]:
        return msg("the suffix {suffix} is not A (App), X (mini-program) or K (quick app)", suffix=suffix)
    return None
