"""End to end: `streamlit run app.py` on a free port, driven by headless Chromium through Selenium.

Needs Debian's chromium and chromium-driver; the fixture installs them when running as root
and skips (saying why) only when that is impossible. Screenshots are kept as test artifacts
under $PARLENS_ARTIFACTS (else the test's tmp dir) and their paths printed.

`measure_first_paint(url)` (re-exported from parlens.browser) gives the warm first-paint time
for benchmarks.
"""
from __future__ import annotations

import os
import shutil
import urllib.parse
from pathlib import Path

import pytest

from parlens.browser import (BrowserUnavailable, chromium, ensure_chromium, measure_first_paint,  # noqa: F401
                             running_app, wait_idle, wait_visible)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "corpus" / "seeds"
QUERY = "cán bộ thiếu trách nhiệm"


@pytest.fixture(scope="module")
def browser_installed():
    try:
        ensure_chromium()
    except BrowserUnavailable as exc:
        pytest.skip(f"headless Chromium unavailable: {exc}")
    except Exception as exc:  # e.g. the package mirror cannot be reached
        pytest.skip(f"could not install chromium/chromium-driver: {exc}")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    path = Path(os.environ.get("PARLENS_CACHE_DIR") or tmp_path_factory.getbasetemp().parent / "parlens-cache")
    path.mkdir(parents=True, exist_ok=True)
    return path


def seed_store_copy(cache_dir: Path, folder: Path) -> Path:
    """A copy, in `folder`, of the store prebuilt from the seeds (built once per machine)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("PARLENS_CACHE_DIR", str(cache_dir))
    try:
        from parlens.appstate import cached_store
        template = cached_store(cache_dir / "stores", [SEEDS])
    finally:
        mp.undo()
    db = folder / "parlens.sqlite"
    shutil.copyfile(template, db)
    return db


@pytest.fixture(scope="module")
def app_url(browser_installed, cache_dir, tmp_path_factory):
    """The explorer on a free local port, over a copy of a store prebuilt from the seeds."""
    work = tmp_path_factory.mktemp("e2e")
    db = seed_store_copy(cache_dir, work)
    log = work / "streamlit.log"
    with running_app(db, cache_dir=cache_dir, log=log) as base:
        print(f"streamlit log: {log}")
        yield base


@pytest.fixture
def artifacts(tmp_path) -> Path:
    path = Path(os.environ.get("PARLENS_ARTIFACTS") or tmp_path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_search_in_the_browser_shows_results_and_opens_the_document(app_url, artifacts):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    with chromium(1440, 1100) as driver:
        driver.get(app_url)
        box = wait_visible(driver, 'input[aria-label="Câu hỏi · Query"]')
        wait_idle(driver)
        box.send_keys(QUERY, Keys.ENTER)
        first = wait_visible(driver, ".pl-card-title")
        wait_idle(driver)
        cards = driver.find_elements(By.CSS_SELECTOR, ".pl-card-title")
        assert len(cards) >= 3 and first.text.startswith("1.")
        snippets = driver.find_elements(By.CSS_SELECTOR, ".pl-snip .pl-f")
        assert snippets, "each result shows its sentence with the finding highlighted"
        assert "kết quả · results" in driver.find_element(By.TAG_NAME, "body").text
        shot = artifacts / "e2e-search.png"
        driver.save_screenshot(str(shot))
        print(f"screenshot: {shot}")
        assert shot.stat().st_size > 10_000

        link = next(a for a in driver.find_elements(By.TAG_NAME, "a") if "Open document" in a.text)
        params = urllib.parse.parse_qs(urllib.parse.urlparse(link.get_attribute("href")).query)
        link.click()
        wait_visible(driver, ".pl-doc")
        focus = wait_visible(driver, ".pl-focus")
        assert focus.get_attribute("id") == f"f{params['f'][0]}"
        wait_idle(driver)
        shot = artifacts / "e2e-document.png"
        driver.save_screenshot(str(shot))
        print(f"screenshot: {shot}")


def test_warm_first_paint_is_measured(app_url):
    url = f"{app_url}/?q={urllib.parse.quote_plus(QUERY)}"
    seconds = measure_first_paint(url)
    print(f"warm first paint (search results): {seconds:.2f}s")
    assert 0 < seconds < 30


def test_a_hostile_document_makes_no_request_and_no_link(browser_installed, cache_dir, tmp_path):
    """Markdown images and links in a document's title, URL and text stay text in a real browser:
    a recording server on the loopback address gets no request, and no page links to it."""
    import http.server
    import json
    import threading
    from contextlib import closing

    from selenium.webdriver.common.by import By

    from corpus import store
    from corpus.ingest import ingest
    from nlp.extract import Analyser, version

    hits: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            hits.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    beacon = f"http://127.0.0.1:{server.server_port}"
    db = seed_store_copy(cache_dir, tmp_path)
    record = {"id": "hostile", "url": f"{beacon}/url",
              "title": f"Cải cách hành chính ![b]({beacon}/title.png) [bấm]({beacon}/title-link)",
              "text": (f"Sở Nội vụ ![b]({beacon}/text.png) cho biết cán bộ thiếu trách nhiệm trong cải cách hành "
                       f"chính [xem]({beacon}/text-link), thủ tục còn chậm. <img src=\"{beacon}/raw.png\">")}
    (tmp_path / "h.jsonl").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    with closing(store.connect(db)) as conn:
        assert ingest([tmp_path / "h.jsonl"], conn, Analyser(), version(), progress=False, triage=False).added == 1
    try:
        with running_app(db, cache_dir=cache_dir, log=tmp_path / "streamlit.log") as base, \
                chromium(1440, 1100) as driver:
            for url in (f"{base}/documents?doc=hostile", f"{base}/?q={urllib.parse.quote_plus(QUERY)}"):
                driver.get(url)
                wait_visible(driver, "h1")
                wait_idle(driver)
                assert "127.0.0.1" in driver.find_element(By.TAG_NAME, "body").text, "the text is shown"
                # one script call: elements looked up one by one can go stale while Streamlit reruns
                bad = driver.execute_script(
                    "return Array.from(document.querySelectorAll('a, img'))"
                    ".filter(e => ((e.getAttribute('href') || '') + (e.getAttribute('src') || '')).includes(arguments[0]))"
                    ".map(e => e.outerHTML.slice(0, 300));", beacon)
                assert not bad, (url, bad)
    finally:
        server.shutdown()
    assert hits == []


def test_why_low_end_to_end_in_the_browser(browser_installed, cache_dir, tmp_path, artifacts):
    """The "Why low" page on the archive fixture in a real browser: chosen by its link (index,
    year, group, province), it lists the district ranked last with its statements, and its
    unit-profile link opens that district; a screenshot is kept."""
    from selenium.webdriver.common.by import By

    from parlens.browser import screenshot

    mp = pytest.MonkeyPatch()
    mp.setenv("PARLENS_CACHE_DIR", str(cache_dir))
    try:
        from parlens.appstate import cached_store
        template = cached_store(cache_dir / "stores", [ROOT / "tests" / "data" / "explorer"])
    finally:
        mp.undo()
    db = tmp_path / "archive.sqlite"
    shutil.copyfile(template, db)
    query = urllib.parse.urlencode({"index": "par_index", "year": "2021", "group": "district",
                                    "province": "Tỉnh Bắc Giang"})
    with running_app(db, cache_dir=cache_dir, log=tmp_path / "streamlit.log") as base, \
            chromium(1440, 1100) as driver:
        shot = screenshot(driver, f"{base}/why-low?{query}", artifacts / "why-low.png",
                          '[data-testid="stDataFrame"]')
        print(f"screenshot: {shot}")
        assert shot.stat().st_size > 20_000
        body = driver.find_element(By.TAG_NAME, "body").text
        assert "Vì sao xếp hạng thấp" in body
        headings = [h.text for h in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stHeading"] h3')]
        assert headings and headings[0].startswith("10/10") and "huyện Sơn Động" in headings[0]
        # each bottom unit counts its weaknesses, causes and remedies; the last one has some of each
        metrics = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stMetricValue"]')
        assert len(metrics) >= 3 and all(int(m.text) > 0 for m in metrics[:3])
        assert any("Download CSV" in b.text for b in driver.find_elements(By.TAG_NAME, "button"))
        link = next(a for a in driver.find_elements(By.TAG_NAME, "a") if "Unit profile" in a.text)
        link.click()
        title = wait_visible(driver, '[data-testid="stHeading"] h3')
        wait_idle(driver)
        assert "huyện Sơn Động" in driver.find_element(By.TAG_NAME, "body").text
        assert "unit=" in driver.current_url and title.is_displayed()
