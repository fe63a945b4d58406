"""Reports in 简体中文 and English (issue 27).

The catalog is complete and consistent (every message in both languages, the same placeholders, the
compiled .mo is the .po); every fixture's Chinese report is Chinese but for what never is translated
(ids, paths, evidence, the package's own texts); the language comes from --lang, the config or the
locale; and what must not change with the language does not: rule ids, JSON keys, exit codes,
fingerprints and baselines.
"""

from __future__ import annotations

import ast
import gettext
import json
import os
import pickle
import re
import subprocess
import sys

import i18n_catalog
import jsonschema
import pytest
from test_fixtures import CASES

from scanner import engine
from scanner.config import Policy
from scanner.formatters import text
from scanner.formatters.base import TextOptions
from scanner.i18n import Message, joined, language_from, msg, said_in, say
from scanner.model import Options, Report, ScanResult

from conftest import APKS, ENTRY_POINT, FIXTURES, ROOT, SHARED

sys.path.insert(0, str(FIXTURES / "hostile"))
import make as make_hostile

PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,'-]+[A-Za-z]{2,}){2,}")
"""Three English words in a row: a sentence (an id, a path or a single term is not one)."""
CJK = re.compile("[\u4e00-\u9fff]")
REPORT_SCHEMA = ROOT / "scanner" / "schemas" / "report.schema.json"


@pytest.fixture(scope="module")
def catalog():
    return i18n_catalog.read()


def _run(*args: str, lang_env: dict[str, str] | None = None, cwd: str | None = None
         ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")}
    env.update(lang_env or {})
    return subprocess.run([str(ENTRY_POINT), *args], capture_output=True, text=True, env=env, cwd=cwd,
                          check=False, timeout=300)


# --- the catalog -------------------------------------------------------------------------------------

def test_the_catalog_holds_every_message_and_nothing_else(catalog):
    """Extracted from the code, the template and the data tables now: the .po says the same set (run
    ``python tests/i18n_catalog.py update`` after changing a message)."""
    extracted = {m.id for m in i18n_catalog.extract() if m.id}
    held = {m.id for m in catalog if m.id}
    assert not extracted - held, sorted(extracted - held)[:10]
    assert not held - extracted, sorted(held - extracted)[:10]


def test_every_message_has_its_chinese(catalog):
    untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert not untranslated, untranslated[:10]
    for m in catalog:
        if m.id and m.id[0] not in "{(;, " and len(m.id) > 12 and not m.id.startswith(("beian-scan", "**")):
            assert CJK.search(m.string), (m.id, m.string)  # a sentence is said in Chinese, not copied


def test_placeholders_are_the_same_in_both_languages(catalog):
    for m in catalog:
        if m.id:
            assert sorted(PLACEHOLDER.findall(m.id)) == sorted(PLACEHOLDER.findall(m.string)), m.id


def test_babel_finds_every_message_the_code_writes():
    """Every literal ``msg(...)`` / ``N_(...)`` template in the code is in the extraction (Babel skips a
    call it cannot read, e.g. one inside an f-string): no message exists in English only."""
    extracted = {m.id for m in i18n_catalog.extract() if m.id}
    for folder in ("scanner", "rules"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("msg", "N_") and node.args
                        and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                    assert node.args[0].value in extracted, f"{path.name}:{node.lineno} {node.args[0].value!r}"


def test_the_compiled_catalog_is_the_po(catalog):
    with i18n_catalog.MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    assert compiled._catalog == {m.id: m.string for m in catalog}  # gettext keeps the messages there


def test_the_glossary_names_its_sources():
    glossary = (ROOT / "scanner" / "locale" / "glossary.md").read_text(encoding="utf-8")
    assert "工信部信管〔2023〕105号" in glossary and "https://beian.miit.gov.cn/" in glossary
    for term in ("备案号", "备案系统", "显著位置", "主办者", "隐私政策", "用途", "加固", "App特征信息"):
        assert term in glossary, term


# --- every fixture in Chinese ---------------------------------------------------------------------------

def _fixture_paths() -> list:
    paths = [p for p, _ in CASES.values()]
    for folder in ("aab/out", "harmony/out", "ios/out", "hermes/out"):
        paths += sorted(p for p in (FIXTURES / folder).iterdir()
                        if p.is_file() and p.suffix not in (".py", ".md", ".json", ".txt", ".sh"))
    return paths


def _neutral(result: ScanResult) -> set[str]:
    """What a report shows as it is, in any language: the package's own names and texts, evidence,
    locations, numbers, links."""
    out = {result.path}
    info = result.info
    if info is not None:
        out |= {x for x in (info.app_id, info.app_name, info.version, info.format) if x}
        if info.identity is not None:
            out |= {s.certificate.subject for s in info.identity.signers if s.certificate.subject}
    for finding in (*result.findings, *result.suppressed):
        out |= set(finding.evidence) | {finding.name}
        if finding.location is not None:
            out.add(finding.location.describe())
    out |= {x for n in result.facts.filing_numbers for x in (n.raw, n.value)}
    out |= {link.url for link in result.facts.filing_links}
    if result.facts.protection is not None:
        out.add(result.facts.protection.name_en)
    return out


def _english_sentences(rendered: str, results: tuple[ScanResult, ...]) -> list[str]:
    for value in sorted(set().union(*(_neutral(r) for r in results)), key=len, reverse=True):
        rendered = rendered.replace(value, " ")
    rendered = re.sub(r"--[a-z][a-z-]*(?: [A-Z]+)?", " ", rendered)  # a flag to type, as it is typed
    rendered = re.sub(r"'[^']*'|\"[^\"]*\"|https?://\S+|\S*[/\\]\S*|\S+\.\w{1,5}\b", " ", rendered)
    return [line.strip() for line in rendered.splitlines() if ENGLISH.search(line)]


@pytest.mark.parametrize("path", _fixture_paths(), ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_a_chinese_report_of_every_fixture_is_chinese(path):
    _assert_chinese(path)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    out = tmp_path_factory.mktemp("hostile")
    make_hostile.make(out)
    return out


@pytest.mark.parametrize("name", sorted(make_hostile.CASES))
def test_a_chinese_report_of_every_hostile_package_is_chinese(hostile, name):
    """What a tampered package makes the readers say (PKG003, PKG004 and unreadable packages) in Chinese."""
    found = sorted(hostile.glob(f"{name}*"))
    assert found, name
    _assert_chinese(found[0])


def _assert_chinese(path) -> None:
    results = engine.scan_target(str(path), Options(), Policy())
    report = Report("test", results, tuple(engine.catalogue().values()))
    chinese = text.render(report, TextOptions(width=10**6, lang="zh"))
    assert not _english_sentences(chinese, results), chinese
    assert CJK.search(chinese)
    english = text.render(report, TextOptions(width=10**6, lang="en"))
    assert _english_sentences(english, results)  # the check finds English where there is some


# --- choosing the language ----------------------------------------------------------------------------

@pytest.mark.parametrize(("environ", "lang"), [
    ({}, "en"), ({"LANG": "zh_CN.UTF-8"}, "zh"), ({"LANG": "zh_TW.UTF-8"}, "zh"), ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "en"), ({"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "C"}, "zh"),
    ({"LC_ALL": "", "LANG": "zh_CN"}, "zh"), ({"LANG": "C.UTF-8"}, "en"),
])
def test_the_locale_chooses_the_language(environ, lang):
    assert language_from(environ) == lang


def test_lang_flag_config_and_locale_on_the_command_line(tmp_path):
    target = str(APKS / "no_number.apk")
    chinese = _run("scan", target, lang_env={"LANG": "zh_CN.UTF-8"})
    assert "1 个安装包：已扫描 1 个" in chinese.stdout and "修复：" in chinese.stdout
    english = _run("scan", target, "--lang", "en", lang_env={"LANG": "zh_CN.UTF-8"})
    assert "1 package(s): 1 scanned" in english.stdout and "fix:" in english.stdout
    (tmp_path / "beian-scan.toml").write_text('lang = "zh"\n', encoding="utf-8")
    configured = _run("scan", target, cwd=str(tmp_path))
    assert "个安装包" in configured.stdout
    assert chinese.returncode == english.returncode == configured.returncode == 1
    assert _run("scan", target, "--lang", "fr").returncode == 2


def test_one_line_errors_in_chinese():
    usage = _run("scan", str(APKS / "no_number.apk"), "--format", "nope", "--lang", "zh")
    assert usage.returncode == 2 and usage.stderr.startswith("beian-scan：错误：未知格式 'nope'")
    assert len(usage.stderr.strip().splitlines()) == 1
    unreadable = _run("scan", str(APKS / "truncated.apk"), "--lang", "zh")
    assert unreadable.returncode == 3
    assert "PKG001 不是可读取的 zip 压缩包（没有中央目录结束记录）" in unreadable.stderr


def test_rules_in_chinese_with_their_sources():
    shown = _run("rules", "FIL001", "--lang", "zh")
    assert shown.returncode == 0
    assert "安装包中任何位置都没有App备案号" in shown.stdout and "修复：" in shown.stdout
    assert "依据与来源：" in shown.stdout
    assert "https://www.gov.cn/zhengce/zhengceku/202308/content_6897341.htm" in shown.stdout
    listing = _run("rules", "--lang", "zh")
    assert "FIL001" in listing.stdout and "错误" in listing.stdout and "未链接备案系统" in listing.stdout


# --- what does not change with the language ---------------------------------------------------------------

def test_json_in_chinese_keeps_its_keys_ids_and_fingerprints():
    target = str(APKS / "malformed_number.apk")
    english = json.loads(_run("scan", target, "--format", "json", "--lang", "en").stdout)
    chinese = json.loads(_run("scan", target, "--format", "json", "--lang", "zh").stdout)
    jsonschema.validate(chinese, json.loads(REPORT_SCHEMA.read_text(encoding="utf-8")))

    def shape(report):
        return [(f["rule_id"], f["fingerprint"], f["severity"], sorted(f)) for r in report["results"]
                for f in r["findings"]]

    assert shape(english) == shape(chinese) and shape(english)
    said = [f["message"] for r in chinese["results"] for f in r["findings"]]
    assert all(CJK.search(m) for m in said)
    assert [f["message"] for r in english["results"] for f in r["findings"]] != said


@pytest.mark.parametrize(("made_in", "used_in"), [("en", "zh"), ("zh", "en")])
def test_a_baseline_made_in_one_language_accepts_in_the_other(tmp_path, made_in, used_in):
    target = str(APKS / "no_number.apk")
    baseline = tmp_path / "baseline.json"
    made = _run("scan", target, "--lang", made_in, "--create-baseline", str(baseline))
    assert made.returncode == 0
    used = _run("scan", target, "--lang", used_in, "--baseline", str(baseline), "--format", "json")
    assert used.returncode == 0
    result = json.loads(used.stdout)["results"][0]
    assert result["findings"] == [] and json.loads(used.stdout)["summary"]["suppressed"] >= 1


def test_sarif_in_chinese_says_its_language():
    sarif = json.loads(_run("scan", str(APKS / "no_number.apk"), "--format", "sarif", "--lang", "zh").stdout)
    if (SHARED / "schemas" / "sarif-schema-2.1.0.json").exists():
        jsonschema.validate(sarif, json.loads((SHARED / "schemas" / "sarif-schema-2.1.0.json").read_text("utf-8")))
    run = sarif["runs"][0]
    assert run["language"] == "zh-CN"
    rule = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "FIL001")
    assert rule["shortDescription"]["text"] == "安装包中任何位置都没有App备案号"
    assert "依据与来源" in rule["help"]["text"]
    assert all(CJK.search(r["message"]["text"]) for r in run["results"])


def test_batch_progress_and_summary_in_chinese(tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    for name in ("compliant", "no_number"):
        (folder / f"{name}.apk").write_bytes((APKS / f"{name}.apk").read_bytes())
    (folder / "notes.txt").write_text("not a package\n", encoding="utf-8")
    done = _run("batch", str(folder), "--db", str(tmp_path / "audit.sqlite"), "--jobs", "1",
                lang_env={"LANG": "zh_CN.UTF-8"})
    assert done.returncode == 0, done.stderr
    assert "找到 2 个安装包，跳过 1 个其他文件" in done.stderr
    assert "本次运行" in done.stdout and "已扫描的安装包" in done.stdout and "问题：错误" in done.stdout
    assert "结果保存在" in done.stderr
    report = _run("report", str(tmp_path / "audit.sqlite"), "--format", "json", "--lang", "zh")
    messages = [f["message"] for r in json.loads(report.stdout)["results"] for f in r["findings"]]
    assert messages and all(CJK.search(m) for m in messages)


# --- the mechanism -------------------------------------------------------------------------------------

def test_a_message_is_its_english_and_says_itself_in_chinese():
    where = msg("in any text of the package")
    said = msg("no {label} filing number was found {where}{shown}", label=msg("App (…号-nA)"), where=where,
               shown="")
    assert said == "no App (…号-nA) filing number was found in any text of the package"
    assert say(said, "zh") == "在安装包的全部文本中未找到App（…号-nA）备案号"
    again = pickle.loads(pickle.dumps(said))
    assert isinstance(again, Message) and say(again, "zh") == say(said, "zh")
    stored = said_in({"en": "one", "zh": "一"})
    assert say(stored, "zh") == "一" and str(pickle.loads(pickle.dumps(stored))) == "one"
    assert say(joined([msg("none"), "x"], ", "), "zh") == "无，x"
    assert say("a path/that is no msgid", "zh") == "a path/that is no msgid"


@pytest.mark.parametrize("fmt", ["junit", "codequality", "github"])
def test_every_ci_format_speaks_chinese(fmt):
    """The messages a CI shows (a JUnit failure, a Code Quality description, an annotation) in Chinese."""
    done = _run("scan", str(APKS / "no_number.apk"), str(APKS / "truncated.apk"), "--format", fmt, "--lang", "zh")
    assert done.returncode == 3
    if fmt == "junit":
        from lxml import etree

        root = etree.fromstring(done.stdout.encode("utf-8"))
        said = [e.get("message") for e in root.iter("failure", "error")]
    elif fmt == "codequality":
        said = [entry["description"] for entry in json.loads(done.stdout)]
    else:
        said = [line.split("::", 2)[-1] for line in done.stdout.splitlines() if line.startswith("::")]
    assert said and all(CJK.search(text) for text in said), said


def test_a_config_error_in_chinese(tmp_path):
    (tmp_path / "beian-scan.toml").write_text('lang = "fr"\n', encoding="utf-8")
    done = _run("scan", str(APKS / "compliant.apk"), cwd=str(tmp_path), lang_env={"LANG": "zh_CN.UTF-8"})
    assert done.returncode == 2
    assert done.stderr.startswith("beian-scan：错误：") and "配置项 lang 无效" in done.stderr
