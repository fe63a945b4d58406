"""Filing-number recognition: every catalog example and every filing-rules.md §6 vector."""

from __future__ import annotations

import pytest

from scanner import catalogs
from scanner.facts.numbers import find_numbers, normalize

EXAMPLES = catalogs.load("filing")["examples"]
NON_MATCHES = catalogs.load("filing")["non_matches"]


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["text"] for e in EXAMPLES])
def test_catalog_example(example):
    found = list(find_numbers(f"备案信息 {example['text']} 。"))
    assert len(found) == 1, found
    number = found[0]
    assert number.value == example["value"]
    assert number.kind == example["kind"]
    assert (number.problem is None) == example["valid"], number.problem
    assert number.placeholder == example.get("placeholder", False)


@pytest.mark.parametrize("text", NON_MATCHES)
def test_catalog_non_match(text):
    assert list(find_numbers(text)) == []


@pytest.mark.parametrize(
    ("raw", "problem_part"),
    [
        ("秦ICP备2024012345号-1A", "陕"),
        ("云ICP备2024012345号-1A", "滇"),
        ("粤ICP备2023123456号-1B", "not A"),
        ("粤ICP备2023123456号-0A", "starts at 1"),
        ("粤ICP备2023123456-1A", "号 is missing"),
        ("滇ICP备09010050-5号", "before 号"),
        ("粤ICP备2023123456号-1a", "upper case"),
        ("粤ICP备20231234567号-1A", "11 digits"),
        ("京ICP备12345号-1A", "5 digits"),
        ("ICP备2024026116号-1A", "province prefix is missing"),
        ("京ICP备2024026116号1A", "dash"),
    ],
)
def test_malformed_reason_names_the_problem(raw, problem_part):
    (number,) = find_numbers(raw)
    assert number.problem is not None and problem_part in number.problem


def test_spaces_between_every_part_normalize():
    (number,) = find_numbers("豫 ICP 备 2026011707 号 -1A")
    assert number.value == "豫ICP备2026011707号-1A"
    assert number.raw == "豫 ICP 备 2026011707 号 -1A"
    assert number.problem is None


def test_raw_form_is_kept_as_evidence():
    (number,) = find_numbers("粤ＩＣＰ备２０２３１２３４５６号－１Ａ")
    assert number.raw == "粤ＩＣＰ备２０２３１２３４５６号－１Ａ"
    assert number.value == "粤ICP备2023123456号-1A"


def test_several_numbers_in_one_text_with_offsets():
    text = "京ICP备16059763号-1 | 京公网安备11010502030143号 | 粤B2-20090059-1626X"
    found = list(find_numbers(text))
    assert {n.kind for n in found} == {"website", "public-security", "miniprogram"}
    for n in found:
        assert text[n.offset :].startswith(n.raw[:2])


def test_sichuan_gansu_guizhou_both_prefixes():
    for raw in ("蜀ICP备2026004236号-1X", "川ICP备15095485号-1", "陇ICP备2021003158号-1",
                "甘ICP备16003251号-1", "黔ICP备2025044274号-1X", "贵ICP备2021004806号-1"):
        (number,) = find_numbers(raw)
        assert number.problem is None, raw


def test_normalize_dash_variants():
    for dash in "‐‑‒–—―－":
        assert normalize(f"粤ICP备2023123456号{dash}1A") == "粤ICP备2023123456号-1A"


def test_icp_inside_base64_is_not_a_number():
    blob = "data:image/png;base64,iVBORw0KGgoICPAAAANSUhEUgICP2024026116AAAAB" * 50
    assert list(find_numbers(blob)) == []


def test_long_hostile_input_is_linear():
    import time

    hostile = ("京ICP备" + "1" * 14 + " " * 3) * 20000 + "粤 ICP 备 " * 20000
    start = time.perf_counter()
    list(find_numbers(hostile))
    assert time.perf_counter() - start < 2.0


def test_a_long_url_is_judged_whole_and_once():
    """A host of many long labels holding a second "beian": read as one URL (the windows around each
    "beian" are wide enough for the longest URL), never as a fragment that overlaps it."""
    from scanner.facts.links import find_links

    host = "beian." + ".".join(["b" * 63] * 6) + "." + "b" * 46 + "beian.miit.gov.cn"
    text = "x" * 400 + " https://" + host + "/ ok"
    (ref,) = find_links(text)
    assert (ref.offset, ref.host, ref.status) == (401, host, "wrong-site")


def test_number_split_by_markup_in_literals_code_joins():
    # issue 25: '沪ICP备' + '<span>11018329</span>号-5': assembled from the literals, the markup taken out
    from scanner.engine import evaluate
    from scanner.model import Location, Options, Text

    from conftest import package

    joined = Text("沪ICP备<span>11018329</span>号-5", Location("assets/www/index.js", "asset", "assembled"),
                  parts=("沪ICP备", "<span>11018329</span>", "号-5"))
    (number,) = evaluate(package(joined), Options()).facts.filing_numbers
    assert number.value == "沪ICP备11018329号-5"
    assert number.assembled_from == ("沪ICP备", "<span>11018329</span>", "号-5")
    assert "markup inside the number removed" in number.normalized


def test_icp_matches_are_what_the_full_pattern_finds_everywhere():
    """The ICP pattern is tried only near each ``ICP`` (numbers._icp_matches, a fast path for pages by
    the ten thousand): the same matches as ``finditer`` over the whole text, on strings made of every
    character the pattern cares about and on every corpus-like shape of a footer."""
    import random

    from scanner.facts import numbers

    icp = numbers.patterns()[0]
    rng = random.Random(20261207)
    alphabet = "ICPicpＩＣＰｉｃｐ备備证證号號粤京沪 -－_0123456789Xx*ABab\n\t\u3000案：:B2"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 48))) for _ in range(30000)]
    texts += ["粤ICP备2023123456号-1A 京ICP证030173号-1", "ICP备案号：粤 ICP 备 2023123456 号 - 1A", "ICPICP备1号",
              "沪ICP备<span>11018329</span>号-5", "  ICP备案：京ICP备16059763号-1X  ICP"]
    for text in texts:
        expected = [(m.start(), m.end(), m.groups()) for m in icp.finditer(text)]
        assert [(m.start(), m.end(), m.groups()) for m in numbers._icp_matches(icp, text)] == expected, text
