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
    "search": ("?q=nguy%C3%AAn+nh%C3%A2n+ch%E1%BB%89+s%E1%BB%91+c%E1%BA%A3i+c%C3%A1ch+h%C3%A0nh+ch%C3%ADnh+th%E1%BA%A5p",
               RESULT_SELECTOR, None),
    "why-low": ("why-low", TITLE_SELECTOR, None),
    "themes": ("themes", '[data-testid="stExpander"]', '[data-testid="stExpander"] summary'),
    "figures": ("figures", '[data-testid="stDataFrame"]', None),
    "units": ("units", '[data-testid="stMetric"]', None),
    "units-map": ("units", '[data-testid="stMetric"]', '[role="tab"]:nth-of-type(2)'),
    "sessions": ("sessions", TITLE_SELECTOR, None),
    "documents": ("documents", ".pl-doc", None),
    "add": ("add", '[data-testid="stFileUploader"]', None),
}
# every page of the explorer, for the first-paint benchmark: name -> path (app.py's url_path)
PAGES = {"search": SCREENSHOT_VIEWS["search"][0], "why-low": "why-low", "themes": "themes", "figures": "figures",
         "units": "units", "sessions": "sessions", "documents": "documents", "add": "add"}


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
    """One PNG per view (every page of the explorer; see SCREENSHOT_VIEWS) under `out_dir`."""
    paths = []
    with chromium(1440, 1100) as driver:
        for name, (path, selector, click) in (views or SCREENSHOT_VIEWS).items():
            paths.append(screenshot(driver, f"{base_url}/{path}", Path(out_dir) / f"{name}.png", selector, click))
    return paths


def time_to_painted(driver, url: str, timeout: float = 300.0, settle: float = 1.0) -> float:
    """Seconds from navigating to `url` until the page is painted: its title is visible and the
    script has finished (no 'running' status). The finish counts only once it has held for
    `settle` seconds (Streamlit shows its status a moment after a rerun starts), and the time
    reported is when that stretch began, so the wait for it is not counted."""
    from selenium.webdriver.common.by import By

    start = time.perf_counter()
    driver.get(url)
    deadline = start + timeout
    done_at = None
    while time.perf_counter() < deadline:
        titled = any(e.is_displayed() for e in driver.find_elements(By.CSS_SELECTOR, TITLE_SELECTOR))
        if titled and not driver.execute_script(_STATUS_SHOWN):
            done_at = done_at or time.perf_counter()
            if time.perf_counter() - done_at >= settle:
                return done_at - start
        else:
            done_at = None
        time.sleep(0.02)
    raise TimeoutError(f"{url} was not painted within {timeout:.0f}s")


def measure_pages_first_paint(db: Path, pages: dict[str, str] | None = None, warm_runs: int = 3,
                              cache_dir: Path | None = None) -> dict[str, dict]:
    """Per page: cold first paint (the first visit to a freshly started explorer over `db`, as
    after an ingest: nothing cached, neither views nor resources) and warm first paint (the
    median of `warm_runs` later visits, from a blank page). The explorer runs on a copy of the
    store; its start-up before it answers is not counted."""
    import statistics

    ensure_chromium()
    work = Path(tempfile.mkdtemp(prefix="parlens-paint-"))
    copy = work / "store.sqlite"
    shutil.copyfile(db, copy)
    for suffix in (".ivf",):
        if Path(str(db) + suffix).exists():
            shutil.copyfile(str(db) + suffix, str(copy) + suffix)
    out: dict[str, dict] = {}
    try:
        with chromium() as driver:
            for name, path in (pages or PAGES).items():
                with running_app(copy, cache_dir=cache_dir, log=work / f"{name}.log") as base:
                    url = f"{base}/{path}"
                    cold = time_to_painted(driver, url)
                    warm = []
                    for _ in range(warm_runs):
                        driver.get("about:blank")
                        warm.append(time_to_painted(driver, url))
                out[name] = {"cold_s": cold, "warm_s": statistics.median(warm)}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def measure_app_first_paint(runs: int = 5) -> float:
    """Median warm first paint of a search in the explorer over the bundled seeds."""
    import statistics
    from urllib.parse import quote

    ensure_chromium()
    db = Path(tempfile.mkdtemp()) / "bench.sqlite"
    shutil.copy(seeds_store(), db)
    with running_app(db) as base, chromium() as driver:
        url = f"{base}/?q={quote('cán bộ thiếu trách nhiệm')}"
        times = [measure_first_paint(url, driver=driver) for _ in range(runs)]
    return statistics.median(times)


def seeds_store() -> Path:
    """The store built from the bundled seeds (cached per machine; copy it before writing)."""
    from nlp.cache import cache_dir
    from parlens.appstate import cached_store
    return cached_store(cache_dir() / "stores")


def main(argv: list[str] | None = None) -> int:
    """`python -m parlens.browser --db STORE --out docs/screenshots`: a PNG of every page of the
    explorer over STORE (the README shows those of the whole-dump store)."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m parlens.browser",
                                description="Screenshots of every explorer page over a store.")
    p.add_argument("--db", help="the store (default: the one built from the bundled seeds)")
    p.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    p.add_argument("--only", help="comma-separated views (default: all): " + ", ".join(SCREENSHOT_VIEWS))
    args = p.parse_args(argv)
    db = Path(args.db) if args.db else seeds_store()
    if not db.exists():
        print(f"parlens.browser: no store at {db}: pass --db", file=sys.stderr)
        return 2
    views = SCREENSHOT_VIEWS
    if args.only:
        unknown = set(args.only.split(",")) - set(SCREENSHOT_VIEWS)
        if unknown:
            print(f"parlens.browser: unknown views {sorted(unknown)}; use {', '.join(SCREENSHOT_VIEWS)}",
                  file=sys.stderr)
            return 2
        views = {k: v for k, v in SCREENSHOT_VIEWS.items() if k in args.only.split(",")}
    try:
        with running_app(db, log=Path(tempfile.gettempdir()) / "parlens-streamlit.log") as base:
            for path in take_screenshots(base, Path(args.out), views):
                print(path)
    except BrowserUnavailable as exc:
        print(f"parlens.browser: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
