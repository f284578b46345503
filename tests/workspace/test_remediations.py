"""The Remediations view and page: status, counts, actions refused with the CLI's reasons, edits, the try box."""

from __future__ import annotations

import json
import re

import yaml

from tests.workspace.conftest import Client, git, hidden
from tests.workspace.test_issues import cli


def test_the_list_shows_every_remediation_with_its_counts(client: Client) -> None:
    page = client.page("/remediations")
    listed = json.loads(cli(client.repo, "list", "--format", "json").stdout)["remediations"]
    assert sorted(re.findall(r'<a href="/remediations/([a-z0-9-]+)">', page)) == sorted(r["id"] for r in listed)
    row = re.search(r'href="/remediations/cabin-bag-size">.*?</tr>', page, re.S).group(0)
    assert "<td>54</td><td>18</td>" in row  # served and prevented, as `remedy coverage` counts them


def test_activate_is_refused_with_the_cli_reason(client: Client) -> None:
    page = client.page("/remediations/cabin-bag-size-rewrite")
    before = git(client.repo, "rev-parse", "HEAD")
    refused = client.post("/remediations/cabin-bag-size-rewrite/activate", {"csrf": hidden(page, "csrf")})
    said = cli(client.repo, "activate", "cabin-bag-size-rewrite")
    assert refused.status_code == 409 and said.exit_code == 1
    reason = said.stderr.strip().removeprefix("remedy: ")
    assert reason.replace('"', "&#34;").replace("'", "&#39;") in refused.text
    assert git(client.repo, "rev-parse", "HEAD") == before


def test_pause_commits_the_status_change(client: Client) -> None:
    page = client.page("/remediations/medical-oxygen")
    done = client.post("/remediations/medical-oxygen/pause", {"csrf": hidden(page, "csrf")})
    assert done.status_code == 303
    assert yaml.safe_load((client.repo / "remediations/answers/medical-oxygen.yaml").read_text())["status"] == "paused"
    assert git(client.repo, "log", "-1", "--format=%an %s").strip() == "alice pause medical-oxygen"
    assert 'id="status">paused<' in client.page("/remediations/medical-oxygen")


def test_an_answer_that_prevented_failures_cannot_be_rewritten_but_can_start_a_new_one(client: Client) -> None:
    page = client.page("/remediations/passport-validity")
    assert 'id="locked"' in page and "served 25 times" in page
    path = client.repo / "remediations/answers/passport-validity.yaml"
    text = path.read_text()
    edited = text.replace("answer: |", "answer: |\n  Any passport will do.", 1)
    refused = client.post("/remediations/passport-validity/edit", {"csrf": hidden(page, "csrf"), "text": edited,
                                                                  "file_hash": hidden(page, "file_hash")})
    assert refused.status_code == 409 and "may not have its question or answer rewritten" in refused.text
    assert path.read_text() == text
    copied = client.post("/remediations/passport-validity/copy", {"csrf": hidden(page, "csrf")})
    assert copied.status_code == 303
    new_id = copied.headers["location"].rsplit("/", 1)[1]
    new = yaml.safe_load((client.repo / f"remediations/answers/{new_id}.yaml").read_text())
    old = yaml.safe_load(text)
    assert new["status"] == "draft" and new["answer"] == old["answer"] and new["question"] == old["question"]
    # a second draft of the same question is refused as `remedy new` refuses it
    again = client.post("/remediations/passport-validity/copy", {"csrf": hidden(page, "csrf")})
    assert again.status_code == 409 and "a draft answer with this question already exists" in again.text


def test_an_edit_keeps_the_file_and_a_concurrent_edit_is_refused(client: Client) -> None:
    path = client.repo / "remediations/answers/medical-oxygen.yaml"
    page = client.page("/remediations/medical-oxygen")
    text = path.read_text()
    assert "prevented 0 failures" in page
    edited = text.replace("question:", "# reviewed with the medical desk\nquestion:", 1)
    done = client.post("/remediations/medical-oxygen/edit", {"csrf": hidden(page, "csrf"), "text": edited,
                                                            "file_hash": hidden(page, "file_hash")})
    assert done.status_code == 303 and path.read_text() == edited
    assert git(client.repo, "log", "-1", "--format=%s").strip() == "edit medical-oxygen"
    stale = client.post("/remediations/medical-oxygen/edit", {"csrf": hidden(page, "csrf"), "text": text,
                                                             "file_hash": hidden(page, "file_hash")})
    assert stale.status_code == 409 and "changed since you opened this page" in stale.text
    assert "reviewed with the medical desk" in stale.text and path.read_text() == edited


def test_an_edit_that_breaks_a_rule_is_refused(client: Client) -> None:
    page = client.page("/remediations/medical-oxygen")
    text = (client.repo / "remediations/answers/medical-oxygen.yaml").read_text()
    broken = client.post("/remediations/medical-oxygen/edit", {"csrf": hidden(page, "csrf"),
                                                              "text": text.replace("kind: answer", "kind: anwser"),
                                                              "file_hash": hidden(page, "file_hash")})
    assert broken.status_code == 409 and "would break a rule" in broken.text


def test_the_try_box_says_what_match_says(client: Client) -> None:
    query = "my flight got cancelled, can i get my money back?"
    page = client.http.get("/try", params={"q": query}).text
    said = json.loads(cli(client.repo, "match", query, "--format", "json").stdout)
    assert said["answer"]["id"] == "refund-cancelled-flight"
    assert f'Served answer: <a href="/remediations/{said["answer"]["id"]}">' in page
    assert 'id="no-answer"' in client.http.get("/try", params={"q": "how do i bake sourdough bread"}).text
