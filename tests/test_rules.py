"""Each rule on in-memory packages: PASS and FAIL cases, asserted on rule ids (habit 11)."""

from __future__ import annotations

import pytest

from scanner.engine import evaluate
from scanner.model import FactOptions, Options, PackageKind, RuleSettings, Severity

from conftest import ABOUT_LINK, ABOUT_NUMBER, DEFAULT_OPTIONS, package, text

CAMERA = "android.permission.CAMERA"
CONTACTS = "android.permission.READ_CONTACTS"


def ids(pkg, options=DEFAULT_OPTIONS):
    return {f.rule_id for f in evaluate(pkg, options).findings}


def findings(pkg, rule_id, options=DEFAULT_OPTIONS):
    return [f for f in evaluate(pkg, options).findings if f.rule_id == rule_id]


class TestFilingNumberMissing:
    def test_pass_with_number(self):
        assert "FIL001" not in ids(package(ABOUT_NUMBER, ABOUT_LINK))

    def test_fail_without_number(self):
        assert ids(package(ABOUT_LINK)) == {"FIL001"}

    def test_public_security_number_alone_does_not_count(self):
        pkg = package(text("粤公网安备44030502000001号", pointer="@string/about_psb [default]"), ABOUT_LINK)
        assert {"FIL001", "FIL003"} <= ids(pkg)

    @pytest.mark.parametrize("shown", ["网信算备110108823483901230011号",
                                       "生成式人工智能服务：Beijing-YunQue-20230821"])
    def test_cac_filings_never_count_and_are_never_a_wrong_kind(self, shown):
        # issue 25: an algorithm or generative-AI filing is shown beside the App filing, never instead of it
        alone = ids(package(text(shown, pointer="@string/about_cac [default]"), ABOUT_LINK))
        assert "FIL001" in alone and "FIL003" not in alone
        beside = ids(package(ABOUT_NUMBER, ABOUT_LINK, text(shown, pointer="@string/about_cac [default]")))
        assert beside == set()

    def test_a_label_with_no_number_says_run_time(self):
        (finding,) = findings(package(text("ICP备案号：%s", pointer="@string/icp [default]"), ABOUT_LINK), "FIL001")
        assert "filled in at run time" in finding.message and finding.location.pointer == "@string/icp [default]"
        (plain,) = findings(package(text("关于我们"), ABOUT_LINK), "FIL001")
        assert "run time" not in plain.message and plain.location is None

    def test_is_a_warning_for_mini_programs(self):
        (finding,) = findings(package(ABOUT_LINK, kind=PackageKind.MINIPROGRAM), "FIL001")
        assert finding.severity is Severity.WARNING
        assert "mini-program" in finding.message


class TestFilingNumberMalformed:
    def test_pass(self):
        assert "FIL002" not in ids(package(ABOUT_NUMBER, ABOUT_LINK))

    def test_fail_names_the_problem_and_place(self):
        bad = text("备案号：秦ICP备2024012345号-1A", pointer="@string/about_icp [default]")
        (finding,) = findings(package(bad, ABOUT_LINK), "FIL002")
        assert "陕" in finding.message
        assert finding.location.pointer == "@string/about_icp [default]"
        assert finding.evidence == ("秦ICP备2024012345号-1A",)


class TestFilingNumberWrongKind:
    def test_website_number_in_app(self):
        pkg = package(text("京ICP备16059763号-1", pointer="@string/about [default]"), ABOUT_LINK)
        assert ids(pkg) == {"FIL003"}

    def test_miniprogram_number_in_app(self):
        pkg = package(text("苏ICP备2026036865号-1X", pointer="@string/about [default]"), ABOUT_LINK)
        assert ids(pkg) == {"FIL003"}

    def test_other_numbers_beside_own_are_fine(self):
        sdk = text("SDK 京ICP证030173号", "assets/sdk/NOTICE.txt", "asset")
        psb = text("粤公网安备44030502000001号", pointer="@string/about_psb [default]")
        assert ids(package(ABOUT_NUMBER, ABOUT_LINK, sdk, psb)) == set()

    def test_kind_override_makes_x_right(self):
        pkg = package(text("苏ICP备2026036865号-1X", pointer="@string/about [default]"), ABOUT_LINK)
        assert "FIL003" not in ids(pkg, Options(kind=PackageKind.MINIPROGRAM))
        assert "FIL003" in ids(package(ABOUT_NUMBER, ABOUT_LINK), Options(kind=PackageKind.MINIPROGRAM))

    def test_x_number_in_quick_app_is_a_review_note(self):
        pkg = package(text("苏ICP备2026036865号-1X", pointer="@string/about [default]"), ABOUT_LINK,
                      kind=PackageKind.QUICKAPP)
        (finding,) = findings(pkg, "FIL003")
        assert finding.severity is Severity.NOTE


class TestFilingNumberInconsistent:
    def test_fail_two_numbers(self):
        other = text("粤ICP备2023123456号-2A", pointer="@string/settings_icp [default]")
        (finding,) = findings(package(ABOUT_NUMBER, other, ABOUT_LINK), "FIL004")
        assert set(finding.evidence) == {"粤ICP备2023123456号-1A", "粤ICP备2023123456号-2A"}

    def test_out_of_context_copy_does_not_count_when_context_has_one(self):
        stray = text("粤ICP备2023123456号-2A", "classes.dex", "dex", "string_ids[3]")
        assert "FIL004" not in ids(package(ABOUT_NUMBER, stray, ABOUT_LINK))


class TestFilingNumberMismatch:
    def test_pass_same_number_other_width(self):
        opts = Options(rules=RuleSettings((("FIL005", (("expect-filing", ("粤ICP备2023123456号-1A",)),)),)))
        full = text("粤ＩＣＰ备2023123456号－1A", pointer="@string/about_icp [default]")
        assert "FIL005" not in ids(package(full, ABOUT_LINK), opts)

    def test_fail_other_number(self):
        opts = Options(rules=RuleSettings((("FIL005", (("expect-filing", ("粤ICP备2023123456号-2A",)),)),)))
        (finding,) = findings(package(ABOUT_NUMBER, ABOUT_LINK), "FIL005", opts)
        assert "粤ICP备2023123456号-2A" in finding.message


class TestFilingNumberPlaceholder:
    def test_fail(self):
        pkg = package(text("京ICP备00000000号", pointer="@string/about_icp [default]"), ABOUT_LINK)
        assert ids(pkg) == {"FIL006"}

    def test_pass(self):
        assert "FIL006" not in ids(package(ABOUT_NUMBER, ABOUT_LINK))


class TestFilingNumberOutOfContext:
    def test_note_when_only_in_code(self):
        code = text("粤ICP备2023123456号-1A", "classes.dex", "dex", "string_ids[7]")
        (finding,) = findings(package(code, ABOUT_LINK), "FIL007")
        assert finding.severity is Severity.NOTE

    def test_context_words_option(self):
        footer = text("粤ICP备2023123456号-1A", pointer="@string/footer [default]")
        assert "FIL007" in ids(package(footer, ABOUT_LINK))
        assert "FIL007" not in ids(package(footer, ABOUT_LINK), Options(facts=FactOptions(context_words=("footer",))))


class TestFilingLinkMissing:
    def test_fail(self):
        assert ids(package(ABOUT_NUMBER)) == {"LNK001"}

    def test_outdated_link_counts_as_a_link(self):
        assert ids(package(ABOUT_NUMBER, text("http://www.miitbeian.gov.cn/"))) == {"LNK002"}

    def test_warning_for_quick_apps(self):
        (finding,) = findings(package(ABOUT_NUMBER, kind=PackageKind.QUICKAPP), "LNK001")
        assert finding.severity is Severity.WARNING


class TestFilingLinkWrongSite:
    PORTAL = text("http://www.beian.gov.cn/portal/registerSystemInfo?recordcode=44030502000001")

    def test_portal_alone(self):
        assert ids(package(ABOUT_NUMBER, self.PORTAL)) == {"LNK001", "LNK003"}

    def test_portal_beside_miit_is_fine(self):
        assert ids(package(ABOUT_NUMBER, ABOUT_LINK, self.PORTAL)) == set()

    def test_lookalike_always(self):
        fake = text("https://beian.miit.gov.cn.evil.com/")
        (finding,) = findings(package(ABOUT_NUMBER, ABOUT_LINK, fake), "LNK003")
        assert "beian.miit.gov.cn.evil.com" in finding.message


class TestPermissions:
    def test_declared(self):
        decl = text("相机权限：用于扫码", pointer="@array/permission_list[0] [zh-rCN]")
        result = evaluate(package(ABOUT_NUMBER, ABOUT_LINK, decl, permissions=(CAMERA,)), Options())
        assert result.facts.permissions.declared == (CAMERA,)
        assert not result.findings

    def test_undeclared_named(self):
        decl = text("相机权限：用于扫码", pointer="@array/permission_list[0] [zh-rCN]")
        (finding,) = findings(package(ABOUT_NUMBER, ABOUT_LINK, decl, permissions=(CAMERA, CONTACTS)), "PRM001")
        assert finding.evidence == (CONTACTS,)

    def test_no_declaration_at_all(self):
        pkg = package(ABOUT_NUMBER, ABOUT_LINK, permissions=(CAMERA, "android.permission.INTERNET"))
        assert ids(pkg) == {"PRM002"}
        facts = evaluate(pkg, Options()).facts.permissions
        assert facts.requested == (CAMERA, "android.permission.INTERNET")
        assert facts.sensitive == (CAMERA,)
        assert facts.undeclared == (CAMERA,)

    def test_non_sensitive_only_needs_nothing(self):
        assert ids(package(ABOUT_NUMBER, ABOUT_LINK, permissions=("android.permission.INTERNET",))) == set()

    def test_synonym_option(self):
        decl = text("隐私政策：扫一扫功能会使用镜头", "assets/privacy.html", "asset")
        pkg = package(ABOUT_NUMBER, ABOUT_LINK, decl, permissions=(CAMERA,))
        assert "PRM001" in ids(pkg)
        assert "PRM001" not in ids(pkg, Options(facts=FactOptions(permission_synonyms=((CAMERA, ("镜头",)),))))


def test_fingerprint_ignores_volatile_positions():
    a = text("粤ICP备2023123456号-1A", "classes.dex", "dex", "string_ids[7]")
    b = text("粤ICP备2023123456号-1A", "classes.dex", "dex", "string_ids[9]")
    (fa,) = findings(package(a, ABOUT_LINK), "FIL007")
    (fb,) = findings(package(b, ABOUT_LINK), "FIL007")
    assert fa.fingerprint == fb.fingerprint
    c = text("粤ICP备2023123456号-1A", "classes2.dex", "dex", "string_ids[7]")
    (fc,) = findings(package(c, ABOUT_LINK), "FIL007")
    assert fc.fingerprint != fa.fingerprint


def test_findings_sorted_most_severe_first():
    code = text("粤ICP备2023123456号-1A", "classes.dex", "dex", "string_ids[7]")
    severities = [f.severity for f in evaluate(package(code, text("http://www.miitbeian.gov.cn/"),
                                                       permissions=(CAMERA,)), Options()).findings]
    assert severities == sorted(severities, reverse=True)
    assert len(set(severities)) == 3


def test_rule_documentation_cites_public_sources():
    """Users have the rule docs (``beian-scan rules``, SARIF help), not this repository's notes."""
    import re

    from scanner.rules import CATALOGUE

    for meta in CATALOGUE.values():
        assert not re.search(r"\.md\b|§|\.\./shared", meta.doc), meta.id
        if meta.id[:3] in ("FIL", "LNK", "MPP"):
            assert re.search(r"https://\S+", meta.doc), meta.id


class TestNumbersAsPeopleTypeThem:
    """Real display strings: found, normalized, and a malformed-but-meant number is FIL002 with the
    number as issued, never FIL001 (no number) or FIL003 (wrong kind)."""

    MEANT = (
        ("ICP备案号：粤icp备2023123456号-1A", "粤ICP备2023123456号-1A", "capitals"),
        ("APP备案号：粤iCp备2023123456号-1A", "粤ICP备2023123456号-1A", "capitals"),
        ("备案号：晋ICP备ICP备2023123456号-1A", "晋ICP备2023123456号-1A", "twice"),
        ("备案号：京ICP备案2023123456号-1A", "京ICP备2023123456号-1A", "备案"),
        ("备案号：粤ICP备：2023123456号-1A", "粤ICP备2023123456号-1A", "colon"),
        ("备案号：粤ICP备2023123456号_1A", "粤ICP备2023123456号-1A", "_"),
        ("备案号：粤ICP备-2023123456号-1A", "粤ICP备2023123456号-1A", "dash"),
    )

    @pytest.mark.parametrize(("shown", "issued", "why"), MEANT)
    def test_malformed_but_meant_is_fil002_with_the_issued_form(self, shown, issued, why):
        pkg = package(text(shown, pointer="@string/about_icp [default]"), ABOUT_LINK)
        found = ids(pkg)
        assert "FIL002" in found and "FIL001" not in found and "FIL003" not in found, found
        (finding,) = findings(pkg, "FIL002")
        assert why in finding.message and f"as issued it reads {issued}" in finding.message
        assert finding.fix == f"Write the number exactly as issued: {issued}."

    @pytest.mark.parametrize("shown", [
        "ICP备案号：粤ICP备2023123456号 - 1 A", "粤IＣP备2023123456号-1A", "粵ICP備2023123456號-1A",
        "备案号：粤ICP备<br>\n2023123456号-1A".replace("<br>", ""), "粤ICP备\u00a02023123456号-1A",
        "粤ICP备2023\u200b123456号-1A",
    ])
    def test_spacing_widths_and_traditional_forms_are_read_as_valid(self, shown):
        pkg = package(text(shown, pointer="@string/about_icp [default]"), ABOUT_LINK)
        assert ids(pkg) == set(), shown
        (number,) = evaluate(pkg, DEFAULT_OPTIONS).facts.filing_numbers
        assert number.value == "粤ICP备2023123456号-1A" and number.valid
        assert number.normalized

    @pytest.mark.parametrize("shown", ["序号-3", "型号-001", "版本号 -1", "订单号-12A"])
    def test_look_alikes_are_not_numbers(self, shown):
        pkg = package(text(shown, pointer="@string/about_icp [default]"), ABOUT_LINK)
        assert evaluate(pkg, DEFAULT_OPTIONS).facts.filing_numbers == ()

    def test_a_misspelt_copy_beside_the_right_one_stays_apart(self):
        pkg = package(ABOUT_NUMBER, text("粤icp备2023123456号-1A", pointer="@string/footer [default]"), ABOUT_LINK)
        numbers = evaluate(pkg, DEFAULT_OPTIONS).facts.filing_numbers
        assert [n.valid for n in numbers] == [True, False]
        assert ids(pkg) == {"FIL002"}

    def test_licence_and_public_security_forms_are_the_wrong_kind_not_malformed(self):
        for shown in ("京ICP证B2-20191234号", "黔ICP证：B2-20191234号", "合字B2-20190123", "京B1-20190123"):
            pkg = package(text(shown, pointer="@string/about_icp [default]"), ABOUT_LINK)
            assert ids(pkg) == {"FIL003"}, shown
        # a public-security number is not an MIIT number at all: FIL001 as well
        pkg = package(text("京公网安备11010502031234号-1", pointer="@string/about_icp [default]"), ABOUT_LINK)
        assert ids(pkg) == {"FIL001", "FIL003"}
