"""Filing-system links: every catalog example; hosts compared exactly."""

from __future__ import annotations

import pytest

from scanner import catalogs
from scanner.facts.links import find_links, judge_host

EXAMPLES = catalogs.load("hosts")["examples"]


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["text"] for e in EXAMPLES])
def test_catalog_example(example):
    (link,) = find_links(example["text"])
    assert link.host == example["host"]
    assert link.status == example["status"]


@pytest.mark.parametrize("text", catalogs.load("hosts")["non_matches"])
def test_non_match(text):
    assert list(find_links(text)) == []


def test_suffix_trick_is_not_the_filing_system():
    assert judge_host("beian.miit.gov.cn.evil.com")[0] == "wrong-site"
    assert judge_host("beian.miit.gov.cn")[0] == "official"


def test_json_escaped_slashes_after_unescape():
    from scanner.extract.textdecode import unescape_js

    (link,) = find_links(unescape_js(r'{"u":"https:\/\/beian.miit.gov.cn\/"}'))
    assert link.status == "official"


def test_trailing_punctuation_is_not_part_of_the_url():
    (link,) = find_links("查询网址：https://beian.miit.gov.cn/.")
    assert link.url == "https://beian.miit.gov.cn/"
