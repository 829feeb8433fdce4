"""Driving the explorer in headless Chromium: for the browser test, screenshots and benchmarks.

Uses Debian's ``chromium`` and ``chromium-driver`` (/usr/bin/chromium, /usr/bin/chromedriver)
through Selenium. Nothing here is imported by the app itself.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("PARLENS_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("PARLENS_CHROMEDRIVER", "/usr/bin/chromedriver"))
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars")
RESULT_SELECTOR = ".pl-card-title"
TITLE_SELECTOR = "h1"


class BrowserUnavailable(RuntimeError):
    """Chromium or chromedriver is missing and cannot be installed here."""


def ensure_chromium() -> None:
    """Install Debian's chromium and chromium-driver when missing (needs root and the Debian mirror)."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("apt-get"):
        raise BrowserUnavailable(f"{CHROMIUM} / {CHROMEDRIVER} missing and not root: "
                                 "install the Debian packages chromium and chromium-driver")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver", "fonts-noto-core"]):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise BrowserUnavailable(f"`{' '.join(cmd)}` failed: {proc.stderr.strip()[-400:]}")
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        raise BrowserUnavailable("chromium installed but /usr/bin/chromium or /usr/bin/chromedriver is missing")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(db: Path, port: int | None = None, cache_dir: Path | None = None,
                timeout: float = 180.0, log: Path | None = None) -> Iterator[str]:
    """`streamlit run app.py` on a free local port with PARLENS_DB=db; yields the base URL."""
    port = port or free_port()
    env = dict(os.environ, PARLENS_DB=str(db), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    if cache_dir:
        env["PARLENS_CACHE_DIR"] = str(cache_dir)
    streamlit = Path(sys.executable).with_name("streamlit")
    cmd = [str(streamlit) if streamlit.exists() else "streamlit", "run", str(ROOT / "app.py"),
           "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
           "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    out = open(log, "wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}" + (f"; see {log}" if log else ""))
            try:
                with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"streamlit did not answer on {base} within {timeout:.0f}s")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            out.close()


@contextmanager
def chromium(width: int = 1440, height: int = 1000) -> Iterator["object"]:
    """A headless Chromium WebDriver with a fresh profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    ensure_chromium()
    profile = tempfile.mkdtemp(prefix="parlens-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_visible(driver, selector: str, timeout: float = 120.0, poll: float = 0.05):
    """The first element matching `selector` once it is displayed."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout
    while True:
        try:
            for el in driver.find_elements(By.CSS_SELECTOR, selector):
                if el.is_displayed():
                    return el
        except StaleElementReferenceException:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing matching {selector!r} became visible within {timeout:.0f}s")
        time.sleep(poll)


_STATUS_SHOWN = ("return Array.from(document.querySelectorAll('[data-testid=\"stStatusWidget\"]'))"
                 ".some(e => e.getClientRects().length > 0);")


def wait_idle(driver, timeout: float = 120.0) -> None:
    """Until Streamlit has finished running the script (no 'running' status widget shown).

    Visibility is checked in one script call: the widget comes and goes while Streamlit reruns,
    so an element found in one call may be gone (stale) by the next."""
    deadline = time.monotonic() + timeout
    time.sleep(0.3)
    while time.monotonic() < deadline:
        if not driver.execute_script(_STATUS_SHOWN):
            time.sleep(0.4)
            if not driver.execute_script(_STATUS_SHOWN):
                return
        time.sleep(0.2)


def _default_selector(url: str) -> str:
    return RESULT_SELECTOR if "q=" in url else TITLE_SELECTOR


def measure_first_paint(url: str, selector: str | None = None, driver=None, timeout: float = 120.0) -> float:
    """Warm first-paint time in seconds: the page is loaded once (warming the server's caches and the
    browser's), then loaded again and timed from navigation until the first result (for a search URL
    with ``q=``) or the page title is visible."""
    selector = selector or _default_selector(url)
    if driver is None:
        with chromium() as own:
            return measure_first_paint(url, selector, own, timeout)
    driver.get(url)
    wait_visible(driver, selector, timeout)
    driver.get("about:blank")
    start = time.perf_counter()
    driver.get(url)
    wait_visible(driver, selector, timeout)
    return time.perf_counter() - start


SCREENSHOT_VIEWS = {   # name: (path, what to wait for, what to click first or None)
    "search": ("?q=c%C3%A1n+b%E1%BB%99+thi%E1%BA%BFu+tr%C3%A1ch+nhi%E1%BB%87m", RESULT_SELECTOR, None),
    "themes": ("themes", '[data-testid="stExpander"]', '[data-testid="stExpander"] summary'),
    "figures": ("figures", '[data-testid="stDataFrame"]', None),
    "units": ("units", '[data-testid="stMetric"]', None),
    "units-map": ("units", '[data-testid="stMetric"]', '[role="tab"]:nth-of-type(2)'),
    "documents": ("documents?doc=000_bb6e3388e7b8cfd8", ".pl-doc", None),
    "add": ("add", '[data-testid="stFileUploader"]', None),
}


def screenshot(driver, url: str, out: Path, selector: str = TITLE_SELECTOR, click: str | None = None,
               max_height: int = 1800) -> Path:
    """Load `url`, wait for `selector` and for the script to finish (clicking `click` first, e.g. to
    open an expander), and save a PNG of the page (the window grows to the page's height, up to
    `max_height` pixels)."""
    width = driver.get_window_size()["width"]
    driver.set_window_size(width, 1000)
    driver.get(url)
    wait_visible(driver, selector)
    wait_idle(driver)
    if click:
        wait_visible(driver, click).click()
        time.sleep(0.6)
        wait_idle(driver)
    height = driver.execute_script(
        "var m=document.querySelector('[data-testid=\"stMain\"]')||document.scrollingElement;"
        "return Math.max(m.scrollHeight, document.body.scrollHeight);")
    if height and height > 1000:
        driver.set_window_size(width, min(int(height) + 40, max_height))
        time.sleep(0.8)
        wait_idle(driver)
    driver.execute_script("var m=document.querySelector('[data-testid=\"stMain\"]'); if(m) m.scrollTo(0, 0);"
                          "window.scrollTo(0, 0);")
    time.sleep(0.3)
    out.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(out))
    return out


def take_screenshots(base_url: str, out_dir: Path, views: dict | None = None) -> list[Path]:
    """One PNG per view (search, themes, figures, units, documents, add) under `out_dir`."""
    paths = []
    with chromium(1440, 1100) as driver:
        for name, (path, selector, click) in (views or SCREENSHOT_VIEWS).items():
            paths.append(screenshot(driver, f"{base_url}/{path}", Path(out_dir) / f"{name}.png", selector, click))
    return paths


if __name__ == "__main__":  # python -m parlens.browser DB [OUT_DIR]: screenshots of every view
    db = Path(sys.argv[1])
    out_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs" / "screenshots"
    with running_app(db, log=Path(tempfile.gettempdir()) / "parlens-streamlit.log") as base:
        for p in take_screenshots(base, out_dir):
            print(p)
        print(f"warm first paint: {measure_first_paint(base + '/' + SCREENSHOT_VIEWS['search'][0]):.2f}s")


def measure_app_first_paint(runs: int = 5) -> float:
    """Median warm first paint of a search in the explorer over the bundled seeds (for `parlens bench`)."""
    import statistics
    from urllib.parse import quote

    from nlp.cache import cache_dir
    from parlens.appstate import cached_store

    ensure_chromium()
    db = Path(tempfile.mkdtemp()) / "bench.sqlite"
    shutil.copy(cached_store(cache_dir() / "stores"), db)
    with running_app(db) as base, chromium() as driver:
        url = f"{base}/?q={quote('cán bộ thiếu trách nhiệm')}"
        times = [measure_first_paint(url, driver=driver) for _ in range(runs)]
    return statistics.median(times)
