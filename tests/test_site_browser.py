"""The built site in a real browser: Debian's headless chromium, driven through chromedriver.

Serves the site (fixture ``site_build`` of tests/test_site.py) on localhost, checks a table's rows,
sorts a column, filters rows, switches to Chinese and back on the same page, searches in Chinese,
and saves screenshots to ``build/screenshots/``. ``make test`` installs chromium when missing.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from test_site import site_build  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "build" / "screenshots"
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("site")]  # one site build per worker group


@pytest.fixture(scope="module")
def served(site_build):  # noqa: F811
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site_build))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver:
        pytest.fail("chromium and chromedriver are needed (Debian: apt-get install chromium chromium-driver; "
                    "`make test` installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(arg)
    session = webdriver.Chrome(service=Service(driver), options=options)
    session.implicitly_wait(5)
    yield session
    session.quit()


def column(table, index: int) -> list[str]:
    from selenium.webdriver.common.by import By

    return [r.find_elements(By.TAG_NAME, "td")[index].text for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")
            if r.is_displayed()]


def test_table_sort_filter_language_and_search(served, browser, registry):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.get(f"{served}/classification/quantization/")
    table = browser.find_element(By.CSS_SELECTOR, "article table")
    records = [r for e in registry.entries.values() for r in e.published if r.src == "s000.cls_quant"]
    assert len(table.find_elements(By.CSS_SELECTOR, "tbody tr")) == len(records)
    titles = column(table, 0)
    assert titles[0] == "MobileNetV1"

    headers = table.find_elements(By.CSS_SELECTOR, "thead th")
    top1 = next(i for i, h in enumerate(headers) if h.text.startswith("Published Top-1"))
    headers[top1].click()
    values = [float(v) for v in column(table, top1) if v != "—"]
    assert values == sorted(values) and len(values) > 3
    headers[top1].click()
    values = [float(v) for v in column(table, top1) if v != "—"]
    assert values == sorted(values, reverse=True)

    box = browser.find_element(By.CSS_SELECTOR, "input.zoo-filter")
    box.send_keys("resnet50")
    shown = column(table, 0)
    assert shown and all("ResNet50" in t for t in shown)
    browser.save_screenshot(str(SHOTS / "classification_quantization_en.png"))

    browser.find_element(By.CSS_SELECTOR, 'a[hreflang="zh"]').get_attribute("href")
    browser.get(browser.find_element(By.CSS_SELECTOR, 'a[hreflang="zh"]').get_attribute("href"))
    assert browser.current_url.endswith("/zh/classification/quantization/")
    assert "量化" in browser.find_element(By.TAG_NAME, "h1").text
    browser.save_screenshot(str(SHOTS / "classification_quantization_zh.png"))
    browser.get(browser.find_element(By.CSS_SELECTOR, 'a[hreflang="en"]').get_attribute("href"))
    assert browser.current_url == f"{served}/classification/quantization/"

    browser.get(f"{served}/zh/classification/")
    assert browser.find_elements(By.CSS_SELECTOR, "svg circle.zoo-pt-front"), "no Pareto front drawn"
    browser.save_screenshot(str(SHOTS / "classification_charts_zh.png"))

    browser.get(f"{served}/zh/")
    query = browser.find_element(By.CSS_SELECTOR, "input.md-search__input")
    query.click()
    query.send_keys("剪裁", Keys.ENTER)
    # the search worker indexes every page on first use (more pages each time entries join the stages); on a
    # busy 2-core CI machine that once took over 20 s, so wait for it, not for a speed
    WebDriverWait(browser, 90).until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".md-search-result__item")))
    hits = browser.find_elements(By.CSS_SELECTOR, ".md-search-result__item")
    assert hits and any("剪裁" in h.text for h in hits)
    browser.save_screenshot(str(SHOTS / "search_zh.png"))
