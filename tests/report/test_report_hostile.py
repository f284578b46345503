"""A report built from hostile content runs nothing: queries, responses, log ids, an answer, owners and the
repository address all carry script payloads, and a real browser (Debian's chromium, headless) opens the page.

Three layers are checked separately: `--repo-url` refuses anything but an http(s) address (exit 2, no
browser needed); escaping keeps every payload as text (the page shows it, no element or attribute came
from it); and the Content Security Policy alone stops script that escaping would have let through (a
payload spliced into the written page still does not run, and the browser reports the violation).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import git, write, write_answer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync")

# Each payload, if it ran, would set the page's title or a global flag; the test reads both.
PAYLOADS = [
    '<img src=x onerror="document.title=\'PWNED-img\'">',
    "</script><script>window.__pwned='script'</script>",
    '"><svg onload="window.__pwned=\'svg\'">',
    "javascript:window.__pwned='href'",
    "<a href=\"javascript:window.__pwned='a'\">click</a>",
    "' onmouseover='window.__pwned=1' x='",
]
HOSTILE_OWNER = '"><img src=x onerror="window.__pwned=\'owner\'">'
HOSTILE_ANSWER = "<script>window.__pwned='answer'</script> See https://example.com/help"
HOSTILE_REPOS = ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "JAVASCRIPT:alert(1)//x/y",
                 'https://github.com/a/b"onmouseover="alert(1)', "https://github.com/a/b?x=<script>", "ftp://h/a/b",
                 " javascript:alert(1)", "https:///a", "vbscript:msgbox(1)", "//github.com/a/b"]


def remedy(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "remedy", *args], cwd=cwd, capture_output=True, text=True,
                          check=False)


def hostile_project(root: Path) -> Path:
    """A git repository whose answer, owners, logs and origin remote are all hostile."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    (root / "remediations").mkdir()
    write_answer(root, "bags", "What is the baggage allowance?", answer=HOSTILE_ANSWER,
                 extra=f"owners: [{json.dumps(HOSTILE_OWNER)}]\nactivated: 2026-09-01T00:00:00Z\n")
    rows = [{"id": f"<b id=x>{i}</b>{payload}", "timestamp": f"2026-10-{1 + i % 9:02d}T10:00:00Z",
             "query": f"{payload} where can i download quantum chromodynamics lecture notes {i // 3}",
             "response": payload, "is_bad": True, "primary_issue": payload[:20]}
            for i, payload in enumerate(PAYLOADS * 3)]
    rows.append({"id": "ok", "timestamp": "2026-10-02T10:00:00Z", "query": "What is the baggage allowance?",
                 "is_bad": True})
    write(root / "logs.jsonl", "".join(json.dumps(row) + "\n" for row in rows))
    env = {"GIT_AUTHOR_NAME": '<img src=x onerror="window.__pwned=1">', "GIT_AUTHOR_EMAIL": "a@example.com",
           "GIT_COMMITTER_NAME": "c", "GIT_COMMITTER_EMAIL": "c@example.com", "PATH": __import__("os").environ["PATH"]}
    git(root, "add", "remediations")
    git(root, "commit", "-qm", "hostile", env=env)
    git(root, "remote", "add", "origin", "javascript:alert(1)//github.com/a/b")
    return root


@pytest.mark.parametrize("url", HOSTILE_REPOS)
def test_repo_url_that_is_not_a_web_address_is_refused(url: str, tmp_path: Path) -> None:
    project = hostile_project(tmp_path / "p")
    result = remedy(project, "report", "--logs", "logs.jsonl", "--repo-url", url, "--out", "r.html")
    assert result.returncode == 2, result.stderr
    assert "--repo-url must be the repository's web address, an https:// (or http://) URL" in result.stderr
    assert repr(url) in result.stderr
    assert not (project / "r.html").exists()


def test_origin_remote_that_is_not_a_web_address_gives_no_link(tmp_path: Path) -> None:
    project = hostile_project(tmp_path / "p")
    result = remedy(project, "report", "--logs", "logs.jsonl", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["repo_url"] is None and all(item["github_url"] is None for item in data["queue"])


def test_page_has_no_unsafe_inline_and_hashes_its_own_script(tmp_path: Path) -> None:
    import base64
    import hashlib
    import re

    project = hostile_project(tmp_path / "p")
    assert remedy(project, "report", "--logs", "logs.jsonl", "--out", "r.html").returncode == 0
    page = (project / "r.html").read_text(encoding="utf-8")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp and "unsafe-inline" not in csp.group(1) and "unsafe-eval" not in csp.group(1)
    scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.S)
    assert len(scripts) == 1  # every payload's <script> is escaped: only the page's own is an element
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp.group(1)


# -- in a browser ------------------------------------------------------------------------------------

needs_browser = pytest.mark.skipif(not CHROMIUM or not DRIVER, reason="no chromium / chromedriver on PATH: "
                                   "install Debian's `chromium chromium-driver`")


def _browser(profile: Path):  # noqa: ANN202 - a selenium WebDriver
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}", "--window-size=1280,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = hostile_project(tmp_path_factory.mktemp("hostile") / "p")
    # a valid address with characters that must be escaped inside the link's attribute
    made = remedy(project, "report", "--logs", "logs.jsonl", "--repo-url", "https://github.com/a%22b/c+d",
                  "--since", "2026-10-01", "--out", "report.html")
    assert made.returncode == 0, made.stderr
    return project / "report.html"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    if not CHROMIUM or not DRIVER:
        pytest.skip("no chromium / chromedriver on PATH")
    driver = _browser(tmp_path_factory.mktemp("profile"))
    yield driver
    driver.quit()


def _ran(driver) -> tuple[str, object]:  # noqa: ANN001 - a selenium WebDriver
    return driver.title, driver.execute_script("return window.__pwned === undefined ? null : window.__pwned")


@needs_browser
def test_hostile_content_runs_nothing_and_shows_as_text(browser, hostile_page: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.get(hostile_page.as_uri())
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "where can i download quantum chromodynamics" in body
    assert "<img src=x onerror=" in body  # the payload is shown, as text
    # no element got an event-handler attribute from a payload; and hovering everything triggers none
    assert browser.execute_script(
        "var n=0;document.querySelectorAll('*').forEach(function(e){Array.prototype.forEach.call(e.attributes,"
        "function(a){if(a.name.indexOf('on')===0)n++;});"
        "e.dispatchEvent(new MouseEvent('mouseover',{bubbles:true}));});return n;") == 0
    hrefs = [a.get_attribute("href") for a in browser.find_elements(By.TAG_NAME, "a")]
    assert hrefs and all(h.startswith(("https://", "file://")) or "#" in h for h in hrefs), hrefs
    links = browser.find_elements(By.CSS_SELECTOR, "a.github")
    assert links
    for link in links:
        assert link.get_attribute("href").startswith("https://github.com/a%22b/c+d/new/main?filename=")
    assert browser.find_elements(By.CSS_SELECTOR, "img, svg[onload], a[href^=javascript]") == []
    assert _ran(browser) == ("remedy report", None)
    assert [m for m in browser.get_log("browser") if m["level"] == "SEVERE"] == []
    assert browser.find_element(By.CSS_SELECTOR, "#queue button[data-copy]").is_displayed()  # its own script ran


@needs_browser
def test_policy_alone_stops_script_that_escaping_missed(browser, hostile_page: Path, tmp_path: Path) -> None:
    page = hostile_page.read_text(encoding="utf-8")
    spliced = tmp_path / "spliced.html"  # as if a value had reached the page unescaped
    spliced.write_text(page.replace("<main>", "<main><script>window.__pwned='inline'</script>"
                                    "<img src=x onerror=\"window.__pwned='img'\">"
                                    "<a id=js href=\"javascript:window.__pwned='href'\">x</a>", 1), encoding="utf-8")
    browser.get(spliced.as_uri())
    from selenium.webdriver.common.by import By

    browser.find_element(By.ID, "js").click()
    assert _ran(browser) == ("remedy report", None)
    violations = [m["message"] for m in browser.get_log("browser") if "Content Security Policy" in m["message"]]
    assert violations, "the browser reported no blocked script"
