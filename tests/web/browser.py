"""Headless Chromium for the page's end-to-end tests: Debian's ``chromium`` driven by its
``chromedriver`` through selenium (nothing downloads a browser), and axe-core from its npm
package (``make browser-deps`` installs it under tests/web/node_modules).
"""
import json
import os
import shutil
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
# A fixed, offline, throwaway browser: no updates, sync, QUIC or first-run pages.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1")
DESKTOP = (1280, 900)
PHONE = (390, 844)
# The rules that axe-core sorts under WCAG 2.0/2.1 A and AA, plus its best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        return (f"Chromium is not installed ({', '.join(missing)} missing): "
                "apt-get install chromium chromium-driver (.ci/run does)")
    return None


def start_chromium(profile_dir: Path) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    options.add_argument(f"--window-size={DESKTOP[0]},{DESKTOP[1]}")
    # Selenium Manager would look for a driver online; the Debian one is given.
    os.environ.setdefault("SE_OFFLINE", "true")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    return driver


def set_viewport(driver, size: tuple[int, int], *, mobile: bool) -> None:
    """The layout viewport of a phone (touch, mobile) or a desktop, at a scale of 1."""
    width, height = size
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": mobile})


def axe_violations(driver) -> list[dict]:
    """axe-core's violations on the current page, each with its rule and the failing nodes."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(AXE_JS.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(JSON.stringify(r.violations.map(v => ({id: v.id, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' '))})))), e => done(JSON.stringify({error: String(e)})));",
        AXE_TAGS)
    parsed = json.loads(result)
    if isinstance(parsed, dict):
        raise AssertionError(f"axe-core failed: {parsed['error']}")
    return parsed


def fresh_profile(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
