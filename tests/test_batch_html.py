"""The HTML audit report as a reader sees it, in headless Chromium (Debian's chromium and chromium-driver,
driven by selenium): the counts, a filter that works, sorting, and a hostile app name shown as text,
never run as script. Skips where no browser is installed."""

from __future__ import annotations

import copy
import shutil

import pytest

from scanner.batch import report, store, worker
from scanner.batch.runner import Request, run

from conftest import APKS

HOSTILE = '<img src=x onerror="window.PWNED=1"><script>window.PWNED=2</script>"\'&'

webdriver = pytest.importorskip("selenium.webdriver")
pytestmark = pytest.mark.skipif(not (shutil.which("chromedriver") and (shutil.which("chromium")
                                                                        or shutil.which("chromium-browser"))),
                                reason="chromium and chromium-driver are not installed")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    db = store.Store(str(folder / "audit.sqlite"))
    paths = tuple(str(APKS / f"{n}.apk") for n in ("compliant", "no_number", "truncated", "malformed_number"))
    run(db, Request(paths, limits=worker.Limits(timeout=60), parallel=2))
    # A package whose label is an attack on the reviewer's browser (labels are the developer's to choose).
    item = next(i for i in db.results() if i.result["package"]["app_id"] == "com.beianscan.fixture.no_number")
    hostile = copy.deepcopy(item.result)
    hostile["package"].update(app_name=HOSTILE, app_id="com.evil.app", path="uploads/evil.apk")
    run_id = db.start_run("test", "hostile", "test")
    db.observe(run_id, (), ("uploads/evil.apk",), [("uploads/evil.apk", 10, 0, "e" * 64)])
    db.add(run_id, "e" * 64, 10, "uploads/evil.apk", "test", "hostile", [hostile], 0.1, None)
    html = folder / "audit.html"
    html.write_text(report.render(list(db.results()), "html", db.runs()), encoding="utf-8")
    db.close()
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    options.binary_location = browser
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.get(html.as_uri())
    yield driver
    driver.quit()


def _text(driver, element_id):
    return driver.find_element("id", element_id).text


def test_counts_a_reader_sees(page):
    assert _text(page, "count-packages") == "5"
    assert _text(page, "count-unreadable") == "1"
    assert _text(page, "count-clean") == "1"
    assert _text(page, "count-findings") == "3"
    assert int(_text(page, "severity-error")) >= 3


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
    assert _text(page, "shown-count") == "5"


def test_sort_by_errors(page):
    header = page.find_element("css selector", "#packages th[data-key=errors]")
    header.click()
    header.click()  # descending
    values = [int(r.find_elements("css selector", "td")[5].text)
              for r in page.find_elements("css selector", "#packages tbody tr")]
    assert values == sorted(values, reverse=True)


def test_hostile_app_name_is_text_not_script(page):
    assert page.execute_script("return window.PWNED === undefined")
    assert HOSTILE in page.find_element("css selector", "#packages tbody").text
    assert not page.find_elements("css selector", "#packages img")
