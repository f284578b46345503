"""The demo report opened in a real browser: Debian's chromium, headless, driven by Selenium through chromium-driver.

Selenium because Debian packages the matching driver (`chromium-driver`), so nothing is downloaded
(Playwright wants its own browser build), and its Chrome options give the browser's console and
network events (`goog:loggingPrefs`) without writing a DevTools client.

The page is the demo (`remediations/` + `fixtures/logs.jsonl`), written by the CLI into the test's
tmp dir. A 1280 px screenshot is saved there and copied to build/screenshots/report-1280.png.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SINCE = "2026-10-01"
REPO_URL = "https://github.com/example/skyway-remediations"
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')")
if not CHROMIUM or not DRIVER:
    pytest.skip("no chromium / chromedriver on PATH: install Debian's `chromium chromium-driver` "
                "(.ci/run does this as root)", allow_module_level=True)


def remedy(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "remedy", *args], cwd=cwd, capture_output=True, text=True,
                          check=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("report") / "report.html"
    made = remedy("report", "--logs", "fixtures/logs.jsonl", "--since", SINCE, "--repo-url", REPO_URL,
                  "--out", str(out))
    assert made.returncode == 0, made.stderr
    coverage = remedy("coverage", "--logs", "fixtures/logs.jsonl", "--since", SINCE, "--format", "json")
    issues = remedy("issues", "--logs", "fixtures/logs.jsonl", "--since", SINCE, "--top", "10", "--format", "json")
    assert coverage.returncode == 0 and issues.returncode == 0, coverage.stderr + issues.stderr
    return {"page": out, "coverage": json.loads(coverage.stdout), "issues": json.loads(issues.stdout)["issues"]}


def _browser(profile: Path, *, javascript: bool = True):  # noqa: ANN202 - a selenium WebDriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}", "--window-size=1280,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    return webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)


@pytest.fixture(scope="module")
def browser(demo: dict, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    driver = _browser(tmp_path_factory.mktemp("profile"))
    driver.get(demo["page"].as_uri())
    yield driver
    driver.quit()


def test_no_console_errors_and_no_network_request(browser, demo: dict) -> None:
    messages = browser.get_log("browser")
    assert [m for m in messages if m["level"] in ("SEVERE", "WARNING")] == []
    page = demo["page"].as_uri()
    requested = []  # (url, the document that asked)
    for entry in browser.get_log("performance"):
        event = json.loads(entry["message"])["message"]
        if event["method"] == "Network.requestWillBeSent":
            requested.append((event["params"]["request"]["url"], event["params"].get("documentURL", "")))
    from_page = {url for url, document in requested if document == page and not url.startswith("data:")}
    assert from_page == {page}, "the page asked for something besides itself"
    # chrome:// and chrome-untrusted:// (chromium 150's new-tab page) requests are the browser's own start page,
    # before the report is opened; nothing else may go out.
    assert [url for url, _ in requested if not url.startswith(("chrome:", "chrome-untrusted:", "data:", page))] == []


def test_headline_equals_coverage(browser, demo: dict) -> None:
    from selenium.webdriver.common.by import By

    cards = {card.get_attribute("data-metric"): card.get_attribute("data-value")
             for card in browser.find_elements(By.CSS_SELECTOR, "#headline .card")}
    coverage = demo["coverage"]
    assert int(cards["queries"]) == coverage["logs"]["total"]
    assert int(cards["failures"]) == coverage["logs"]["failures"]
    assert int(cards["prevented"]) == sum(row["preventions"] for row in coverage["remediations"])
    assert float(cards["addressed_share"]) == coverage["addressed_share"]
    assert float(cards["addressed_share_active"]) == coverage["by_status"]["active"]["share"]
    shown = browser.find_element(By.CSS_SELECTOR, '#headline .card[data-metric="queries"] .value').text
    assert shown == f"{coverage['logs']['total']:,}"


def test_remediations_table_equals_coverage(browser, demo: dict) -> None:
    from selenium.webdriver.common.by import By

    table = browser.find_element(By.ID, "remediations-table")
    headers = [th.text.strip().rstrip(" ▲▼") for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
    rows = {}
    for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr"):
        cells = dict(zip(headers, (td.text for td in tr.find_elements(By.TAG_NAME, "td")), strict=True))
        rows[cells["id"]] = cells
    expected = {row["id"]: row for row in demo["coverage"]["remediations"]}
    assert set(rows) == set(expected)
    for remediation_id, row in expected.items():
        shown = rows[remediation_id]
        assert (int(shown["covered failures"]), int(shown["covered logs"]), int(shown["answers served"])) == \
            (row["covered_failures"], row["covered_logs"], row["preventions"]), remediation_id


def test_queue_equals_issues(browser, demo: dict) -> None:
    from selenium.webdriver.common.by import By

    articles = browser.find_elements(By.CSS_SELECTOR, "#queue article.issue")
    assert [a.get_attribute("data-issue") for a in articles] == [issue["id"] for issue in demo["issues"]]
    for article, issue in zip(articles, demo["issues"], strict=True):
        facts = {dd.get_attribute("data-key"): dd.text for dd in article.find_elements(By.CSS_SELECTOR, "dd")}
        assert int(facts["failures"]) == issue["size"]
        assert facts["impact"] == f"{issue['impact']:.2f}"
        assert facts["primary issue"] == issue["primary_issue"]


def test_sorting_by_a_column(browser) -> None:
    from selenium.webdriver.common.by import By

    table = browser.find_element(By.ID, "remediations-table")
    headers = table.find_elements(By.CSS_SELECTOR, "thead th")
    names = [th.text.strip() for th in headers]

    def column(name: str) -> list[str]:
        index = names.index(name)
        return [tr.find_elements(By.TAG_NAME, "td")[index].get_attribute("data-sort")
                for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")]

    headers[names.index("id")].click()  # first click: descending
    ids = column("id")
    assert ids == sorted(ids, reverse=True)
    headers[names.index("id")].click()
    assert column("id") == sorted(ids)
    headers[names.index("covered logs")].click()
    covered = [int(v) for v in column("covered logs")]
    assert covered == sorted(covered, reverse=True) and covered[0] > covered[-1]
    assert headers[names.index("covered logs")].get_attribute("aria-sort") == "descending"


def test_filter_and_copy_button(browser) -> None:
    from selenium.webdriver.common.by import By

    box = browser.find_element(By.CSS_SELECTOR, 'input[data-filter="remediations-table"]')
    box.send_keys("refund")
    visible = [tr for tr in browser.find_elements(By.CSS_SELECTOR, "#remediations-table tbody tr") if tr.is_displayed()]
    assert visible and all("refund" in tr.text for tr in visible)
    box.clear()
    box.send_keys(" ")  # clear() fires no input event; a blank query shows every row again
    box.send_keys("\b")
    button = browser.find_element(By.CSS_SELECTOR, "#queue button[data-copy]")
    assert button.is_displayed()
    button.click()
    from selenium.webdriver.support.wait import WebDriverWait

    # The clipboard answers asynchronously (a promise): wait for the button to say how it went.
    WebDriverWait(browser, 10).until(lambda _: button.text != "Copy YAML")
    assert button.text in ("Copied", "Selected: press Ctrl+C")
    assert [m for m in browser.get_log("browser") if m["level"] == "SEVERE"] == []


def test_github_link_opens_a_file_that_validate_accepts(browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    link = browser.find_element(By.CSS_SELECTOR, "#queue a.github").get_attribute("href")
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}".startswith(f"{REPO_URL}/new/")
    query = parse_qs(parts.query)
    filename, text = query["filename"][0], query["value"][0]
    shown = browser.find_element(By.CSS_SELECTOR, "#queue pre code").text
    assert text.strip() == shown.strip()
    assert filename.startswith("remediations/answers/") and filename.endswith(".yaml")
    shutil.copytree(ROOT / "remediations", tmp_path / "remediations")
    target = tmp_path / filename
    assert not target.exists()
    target.write_text(text, encoding="utf-8")
    checked = remedy("validate", "--format", "json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    problems = json.loads(checked.stdout)["problems"]
    assert {p["code"] for p in problems if Path(p["file"]).name == target.name} <= {"W003"}  # the TODO placeholder


def test_readable_without_javascript(demo: dict, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    driver = _browser(tmp_path / "profile", javascript=False)
    try:
        driver.get(demo["page"].as_uri())
        assert driver.find_element(By.CSS_SELECTOR, "#queue pre code").is_displayed()
        assert not driver.find_element(By.CSS_SELECTOR, "#queue button[data-copy]").is_displayed()
        assert driver.find_element(By.ID, "remediations-table").is_displayed()
        assert driver.find_element(By.CSS_SELECTOR, '#headline .card[data-metric="queries"] .value').text
    finally:
        driver.quit()


def test_screenshot_at_1280(browser, demo: dict) -> None:
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 1280, "height": int(height), "deviceScaleFactor": 1, "mobile": False})
    shot = demo["page"].with_name("report-1280.png")
    assert browser.save_screenshot(str(shot))
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 1280, "height": 1300, "deviceScaleFactor": 1, "mobile": False})
    top = demo["page"].with_name("report-1280-top.png")
    assert browser.save_screenshot(str(top))
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert shot.stat().st_size > 10_000
    if os.access(ROOT, os.W_OK):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, SCREENSHOTS / shot.name)
        shutil.copy(top, SCREENSHOTS / top.name)
