"""The HTML audit report as a reader sees it, in headless Chromium (Debian's chromium and chromium-driver,
driven by selenium): the counts, a filter that works, sorting, and a hostile app name shown as text,
never run as script. Skips where no browser is installed."""

from __future__ import annotations

import copy
import shutil

import pytest

from scanner.batch import report, store, worker
from scanner.batch.runner import Request, run
from scanner.config import Policy
from scanner.formatters.json_report import from_result_dict
from scanner.model import RuleId, Severity

from conftest import APKS

HOSTILE = '<img src=x onerror="window.PWNED=1"><script>window.PWNED=2</script>"\'&'

webdriver = pytest.importorskip("selenium.webdriver")
pytestmark = pytest.mark.skipif(not (shutil.which("chromedriver") and (shutil.which("chromium")
                                                                        or shutil.which("chromium-browser"))),
                                reason="chromium and chromium-driver are not installed")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    uploads = folder / "uploads"
    uploads.mkdir()
    for name in ("compliant", "no_number", "truncated", "malformed_number"):
        shutil.copy(APKS / f"{name}.apk", uploads / f"{name}.apk")
    for n in range(3):  # three uploads of random bytes: one class of failure, not three
        (uploads / f"random{n}.apk").write_bytes(bytes((n * 37 + k * 11) % 256 for k in range(3000)))
    (uploads / "README.txt").write_text("uploads of the day\n", encoding="utf-8")
    db = store.Store(str(folder / "audit.sqlite"))
    # FIL001 reported as a warning: its bar must be drawn in the warning colour, not its default's.
    policy = Policy(severity=((RuleId("FIL001"), Severity.WARNING),))
    run(db, Request((str(uploads),), policy=policy, limits=worker.WorkerLimits(timeout=60), parallel=2))
    # A package whose label is an attack on the reviewer's browser (labels are the developer's to choose).
    item = next(i for i in db.results() if i.result["package"]["app_id"] == "com.beianscan.fixture.no_number")
    hostile = copy.deepcopy(item.result)
    hostile["package"].update(app_name=HOSTILE, app_id="com.evil.app", path="uploads/evil.apk")
    run_id = db.start_run("test", "hostile", "test")
    db.observe(run_id, (), ("uploads/evil.apk",), [("uploads/evil.apk", 10, 0, "e" * 64)])
    db.add(run_id, "e" * 64, 10, "uploads/evil.apk", "test", "hostile", [from_result_dict(hostile)], 0.1, None)
    db.note_skipped(run_id, 1, 0, [str(uploads / "README.txt")])
    html = folder / "audit.html"
    html.write_text(report.render(list(db.results()), "html", db.runs()), encoding="utf-8")
    chinese = folder / "audit-zh.html"  # the same store, reported with --lang zh
    chinese.write_text(report.render(list(db.results()), "html", db.runs(), lang="zh"), encoding="utf-8")
    db.close()
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    options.binary_location = browser
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.get(html.as_uri())
    driver.execute_script("window.localStorage.clear()")
    driver.pages = {"en": html.as_uri(), "zh": chinese.as_uri()}
    yield driver
    driver.quit()


def _text(driver, element_id):
    return driver.find_element("id", element_id).text


def test_counts_a_reader_sees(page):
    assert _text(page, "count-packages") == "8"
    assert _text(page, "count-unreadable") == "4"
    assert _text(page, "count-clean") == "1"
    assert _text(page, "count-findings") == "3"
    assert int(_text(page, "severity-error")) >= 1


def test_skipped_files_are_counted_and_named(page):
    assert _text(page, "count-skipped") == "1"
    assert "README.txt" in _text(page, "skipped")


def test_failures_are_grouped_by_class(page):
    cells = [r.find_elements("css selector", "td") for r in page.find_elements("css selector", "#failures tr")[1:]]
    reasons = {c[0].text: int(c[1].text) for c in cells}
    assert reasons["PKG001 not a supported package"] == 3, reasons


def test_bars_take_the_reported_severity(page):
    bars = page.find_elements("css selector", "rect[data-rule=FIL001]")
    assert bars and {b.get_attribute("data-severity") for b in bars} == {"warning"}
    assert {b.get_attribute("fill") for b in bars} == {"#d4a72c"}


def test_unreadable_packages_say_so(page):
    row = next(r for r in page.find_elements("css selector", "#packages tbody tr")
               if r.get_attribute("data-status") == "unreadable")
    cells = row.find_elements("css selector", "td")
    assert cells[3].text == "not read" and cells[5].text == "—" and cells[6].text == "—"
    assert page.execute_script("return getComputedStyle(arguments[0]).whiteSpace", cells[0]) == "nowrap"


def test_a_package_link_opens_its_details(page):
    link = page.find_element("css selector", "#packages tbody tr a")
    target = link.get_attribute("href").split("#", 1)[1]
    link.click()
    assert page.execute_script("return document.getElementById(arguments[0]).open", target)


def test_filters_apply_to_the_details_too(page):
    status = page.find_element("id", "status-filter")
    for option in status.find_elements("css selector", "option"):
        if option.text == "unreadable":
            option.click()
    shown = [d for d in page.find_elements("css selector", "details[data-index]") if d.is_displayed()]
    assert len(shown) == 4
    for option in status.find_elements("css selector", "option"):
        if option.text == "all":
            option.click()


def test_fits_a_phone_width(page):
    page.set_window_size(390, 844)
    try:
        width = page.execute_script("return window.innerWidth")
        assert page.execute_script("return document.documentElement.scrollWidth") <= width
    finally:
        page.set_window_size(1280, 1000)


def test_filter_by_app_id_number_and_rule(page):
    search = page.find_element("id", "filter")
    rows = page.find_elements("css selector", "#packages tbody tr")
    search.clear()
    search.send_keys("com.beianscan.fixture.compliant")
    assert _text(page, "shown-count") == "1"
    assert [r.is_displayed() for r in rows].count(True) == 1
    search.clear()
    search.send_keys("FIL002")
    assert _text(page, "shown-count") == "1"
    search.clear()
    search.send_keys("粤ICP备2023123456号-1A")
    assert int(_text(page, "shown-count")) >= 1
    search.clear()
    search.send_keys("x")  # clear() fires no input event; typing then deleting does
    search.send_keys("\b")
    assert _text(page, "shown-count") == "8"


def test_sort_by_errors(page):
    header = page.find_element("css selector", "#packages th[data-key=errors]")
    header.click()
    header.click()  # descending
    values = [int(r.find_elements("css selector", "td")[5].get_attribute("data-value"))
              for r in page.find_elements("css selector", "#packages tbody tr")]  # an unread package: -1, shown —
    assert values == sorted(values, reverse=True)


def test_hostile_app_name_is_text_not_script(page):
    assert page.execute_script("return window.PWNED === undefined")
    assert HOSTILE in page.find_element("css selector", "#packages tbody").text
    assert not page.find_elements("css selector", "#packages img")


def _headings(driver):
    return [h.text for h in driver.find_elements("css selector", "h2")]


def test_the_page_switches_language_in_place(page):
    """Both languages are in the one file: the switch shows the other, with no network and no reload."""
    assert "Packages" in _headings(page) and "安装包" not in _headings(page)
    search = page.find_element("id", "filter")
    assert search.get_attribute("placeholder").startswith("Search app id")
    page.find_element("id", "lang-switch").click()
    try:
        assert "安装包" in _headings(page) and "Packages" not in _headings(page)
        assert "按规则统计的问题" in _headings(page)
        assert page.execute_script("return document.documentElement.lang") == "zh-CN"
        assert search.get_attribute("placeholder").startswith("搜索应用ID")
        options = [o.text for o in page.find_elements("css selector", "#status-filter option")]
        assert options == ["全部", "无问题", "有问题", "无法读取", "已中止"]
        row = next(r for r in page.find_elements("css selector", "#packages tbody tr")
                   if r.get_attribute("data-status") == "unreadable")
        assert row.find_elements("css selector", "td")[3].text == "未读取"
        cells = [r.find_elements("css selector", "td") for r in page.find_elements("css selector", "#failures tr")[1:]]
        assert "PKG001 不是支持的安装包" in {c[0].text for c in cells}
        page.find_element("css selector", "#packages tbody tr a").click()
        opened = [d for d in page.find_elements("css selector", "details[open]") if d.is_displayed()]
        assert opened and "No findings" not in opened[0].text and "format" not in opened[0].text
    finally:
        page.find_element("id", "lang-switch").click()
    assert "Packages" in _headings(page)
    assert search.get_attribute("placeholder").startswith("Search app id")


def test_a_report_made_in_chinese_opens_in_chinese(page):
    page.execute_script("window.localStorage.clear()")
    page.get(page.pages["zh"])
    try:
        assert "安装包" in _headings(page) and "详情" in _headings(page)
        finding = next(d for d in page.find_elements("css selector", "details[data-index]")
                       if "FIL002" in d.get_attribute("innerHTML"))
        page.execute_script("arguments[0].open = true", finding)
        assert "不是有效的备案号" in finding.text
        page.find_element("id", "lang-switch").click()
        assert "is not a valid filing number" in finding.text and "Details" in _headings(page)
    finally:
        page.execute_script("window.localStorage.clear()")
        page.get(page.pages["en"])
