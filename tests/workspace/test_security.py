"""Who may do what: CSRF, Host, Origin, token, size limits, CSP (docs/workspace.md, "Security")."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from remedy.config import load_config
from remedy.errors import UsageError
from remedy.workspace.security import CSP
from remedy.workspace.server import prepare
from tests.workspace.conftest import BASE_URL, Client, form_fields, git, issue_ids, options


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused_and_writes_nothing(client: Client) -> None:
    top = issue_ids(client.page("/issues"))[0]
    fields = form_fields(client.page(f"/issues/{top}"))
    before = git(client.repo, "rev-parse", "HEAD")
    missing = client.post(f"/issues/{top}/skip", {"triage_hash": fields["triage_hash"]})
    wrong = client.post(f"/issues/{top}/skip", {**fields, "csrf": "0" * 64})
    assert missing.status_code == wrong.status_code == 403 and "CSRF" in missing.text
    other_browser = TestClient(client.http.app, base_url=BASE_URL)  # its own session: the token is not its
    assert other_browser.post(f"/issues/{top}/skip", data=fields).status_code == 403
    assert git(client.repo, "rev-parse", "HEAD") == before and not (client.repo / "triage").exists()


def test_a_cross_site_post_is_refused_even_with_a_token(client: Client) -> None:
    top = issue_ids(client.page("/issues"))[0]
    fields = form_fields(client.page(f"/issues/{top}"))
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
        assert client.http.post(f"/issues/{top}/skip", data=fields, headers=headers).status_code == 403


def test_a_host_header_naming_another_server_is_refused(client: Client) -> None:
    assert client.http.get("/issues", headers={"Host": "attacker.example:8765"}).status_code == 421
    assert client.http.get("/issues", headers={"Host": "localhost:8765"}).status_code == 200
    rebinding = TestClient(client.http.app, base_url="http://rebind.example:8765")
    assert rebinding.get("/issues").status_code == 421


def test_every_page_has_a_strict_csp_and_no_inline_script(client: Client) -> None:
    response = client.http.get("/issues")
    assert response.headers["content-security-policy"] == CSP and "'unsafe-inline'" not in CSP
    assert "script-src 'self'" in CSP and response.headers["x-frame-options"] == "DENY"
    assert "<script>" not in response.text and '<script src="/static/workspace.js" defer></script>' in response.text
    assert "http" not in response.text.split("<main>")[0].replace('http-equiv', '')  # nothing loaded from outside
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_request_bodies_are_limited(client: Client) -> None:
    top = issue_ids(client.page("/issues"))[0]
    fields = form_fields(client.page(f"/issues/{top}"))
    response = client.post(f"/issues/{top}/no", {**fields, "answer": "x" * 300_000, "action": "check"})
    assert response.status_code == 413


def test_a_non_loopback_host_needs_a_token(demo: Path) -> None:
    config = load_config(None, demo / "remediations")
    with pytest.raises(UsageError, match="not a loopback address"):
        prepare(config, options(demo, host="0.0.0.0"))
    assert git(demo, "branch", "--show-current").strip() == "main"  # refused before anything changed


def test_with_a_token_the_browser_logs_in_once(demo: Path, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("s3cret-token-of-enough-length\n")
    prepared = prepare(load_config(None, demo / "remediations"),
                       options(demo, host="192.0.2.10", token_file=str(token_file)))
    assert prepared.url == "http://192.0.2.10:8765/login?token=s3cret-token-of-enough-length"
    browser = TestClient(prepared.app, base_url="http://192.0.2.10:8765")
    assert browser.get("/issues").status_code == 401
    assert browser.get("/login?token=wrong-token-wrong-token").status_code == 401
    assert browser.get("/login?token=s3cret-token-of-enough-length").status_code == 200  # redirected to /issues
    assert "s3cret" not in str(browser.cookies.get("remedy_workspace_auth"))
    assert browser.get("/remediations").status_code == 200
    script = TestClient(prepared.app, base_url="http://192.0.2.10:8765")
    assert script.get("/issues", headers={"Authorization": "Bearer s3cret-token-of-enough-length"}).status_code == 200
    assert script.get("/issues", headers={"Host": "127.0.0.1:8765",
                                          "Authorization": "Bearer s3cret-token-of-enough-length"}).status_code == 421


def test_writes_stay_inside_the_remediation_and_triage_folders(client: Client) -> None:
    page = client.page("/issues")
    traversal = client.http.get("/remediations/..%2F..%2Fetc%2Fpasswd")
    assert traversal.status_code in (400, 404) and "root:" not in traversal.text
    bad_issue = client.post("/issues/..%2Fx/skip", form_fields(page))
    assert bad_issue.status_code in (400, 404)
    assert git(client.repo, "status", "--porcelain") == ""
