#!/usr/bin/env python3
"""A screenshot of the batch HTML report, for people to look at (the report of a store, or of a batch
over the fixtures when no store is given), taken in headless Chromium with selenium.

Usage: python3 bench/report_screenshot.py [--db audit.sqlite] [-o report.png] [--width 1400] [--height 2400]
                                          [--lang en|zh]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("-o", "--output", type=Path, default=Path("report.png"))
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=2400)
    parser.add_argument("--lang", choices=("en", "zh"), default="en", help="the report's language")
    args = parser.parse_args()
    from selenium import webdriver

    from scanner.batch import report, runner, store, worker

    with tempfile.TemporaryDirectory() as tmp:
        db_path = args.db or Path(tmp) / "audit.sqlite"
        database = store.Store(str(db_path))
        if args.db is None:
            roots = (str(ROOT / "fixtures" / "apk"), str(ROOT / "fixtures" / "aab" / "out"))
            runner.run(database, runner.Request(roots, limits=worker.WorkerLimits(timeout=120), parallel=2))
        html = Path(tmp) / "audit.html"
        rendered = report.render(list(database.results()), "html", database.runs(), lang=args.lang)
        html.write_text(rendered, encoding="utf-8")
        database.close()
        options = webdriver.ChromeOptions()
        size = f"--window-size={args.width},{args.height}"
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", size):
            options.add_argument(flag)
        options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser") or ""
        driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(shutil.which("chromedriver")))
        try:
            driver.get(html.as_uri())
            driver.save_screenshot(str(args.output))
        finally:
            driver.quit()
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
