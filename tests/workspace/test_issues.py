"""The Issues view and the issue page's decisions, through the HTTP routes, on the demo in a temp git repo."""

from __future__ import annotations

import json
import re

import yaml
from typer.testing import CliRunner

from remedy.commands.app import app
from tests.workspace.conftest import LOGS, Client, form_fields, git, issue_ids


def cli(repo, *args: str):  # noqa: ANN001, ANN201
    return CliRunner().invoke(app, ["--remediations", str(repo / "remediations"), *args], catch_exceptions=False)


def test_the_queue_is_the_cli_queue_with_counts_on_top(client: Client) -> None:
    page = client.page("/issues")
    queue = json.loads(cli(client.repo, "issues", "--logs", str(client.repo / LOGS), "--top", "25",
                           "--format", "json").stdout)["issues"]
    assert issue_ids(page) == [issue["id"] for issue in queue]  # same order: unaddressed by impact
    coverage = json.loads(cli(client.repo, "coverage", "--logs", str(client.repo / LOGS), "--format", "json").stdout)
    failures = re.search(r'id="count-failures">([\d,]+)<', page).group(1)
    assert int(failures.replace(",", "")) == coverage["logs"]["failures"]
    unaddressed = re.search(r'id="count-unaddressed">([\d,]+)<', page).group(1)
    assert int(unaddressed.replace(",", "")) == coverage["logs"]["unaddressed_failures"]


def test_filters_search_and_paging_live_in_the_url(client: Client) -> None:
    everything = client.page("/issues")
    assert "page 1 of" in everything and 'rel="next"' in everything
    second = client.page("/issues?page=2")
    assert set(issue_ids(second)).isdisjoint(issue_ids(everything))
    hallucinations = client.page("/issues?primary_issue=hallucination")
    queue = json.loads(cli(client.repo, "issues", "--logs", str(client.repo / LOGS), "--primary-issue",
                           "hallucination", "--top", "25", "--format", "json").stdout)["issues"]
    assert issue_ids(hallucinations) == [issue["id"] for issue in queue]
    visa = client.page("/issues?q=visa")
    total = int(re.search(r'class="total">(\d+) issue', everything).group(1))
    found = int(re.search(r'class="total">(\d+) issue', visa).group(1))
    assert 0 < found < total and "visa" in re.findall(r'class="issue-link"[^>]*>([^<]+)<', visa)[0].lower()
    refused = client.http.get("/issues?state=bogus")
    assert refused.status_code == 400 and "--state must be one of" in refused.text


def test_issue_page_shows_the_exchange_and_folds_the_metadata(client: Client) -> None:
    top = issue_ids(client.page("/issues"))[0]
    page = client.page(f"/issues/{top}")
    assert 'id="query"' in page and 'id="response"' in page and "<details><summary>Scores and metadata" in page
    assert "Is this response acceptable?" in page and 'data-key="j"' in page


def test_yes_writes_a_good_review_and_commits_it_as_the_expert(client: Client) -> None:
    top, second = issue_ids(client.page("/issues"))[:2]
    page = client.page(f"/issues/{top}")
    response = client.post(f"/issues/{top}/yes", form_fields(page))
    assert response.status_code == 303 and response.headers["location"].startswith(f"/issues/{second}")
    files = git(client.repo, "show", "--name-only", "--format=%an <%ae>%n%s", "HEAD").splitlines()
    assert files[0] == "alice <alice@example.com>" and "good review" in files[1]
    review = next(f for f in files if f.startswith("remediations/reviews/"))
    assert yaml.safe_load((client.repo / review).read_text())["verdict"] == "good"
    assert yaml.safe_load((client.repo / "triage" / f"{top}.yaml").read_text())["state"] == "addressed"
    assert git(client.repo, "branch", "--show-current").strip() == "remedy/alice"
    assert git(client.repo, "status", "--porcelain") == ""
    assert top not in issue_ids(client.page("/issues"))


def test_skip_marks_addressed_and_assign_writes_the_triage_file(client: Client) -> None:
    first, second = issue_ids(client.page("/issues"))[:2]
    client.post(f"/issues/{first}/skip", form_fields(client.page(f"/issues/{first}")))
    assert yaml.safe_load((client.repo / "triage" / f"{first}.yaml").read_text())["state"] == "addressed"
    assigned = client.post(f"/issues/{second}/assign", {**form_fields(client.page(f"/issues/{second}")),
                                                        "assignee": "@bob", "note": "ask legal about visas"})
    assert assigned.status_code == 303
    triage = yaml.safe_load((client.repo / "triage" / f"{second}.yaml").read_text())
    assert triage["state"] == "assigned" and triage["assignee"] == "@bob" and triage["note"] == "ask legal about visas"
    assert git(client.repo, "log", "-1", "--format=%s").startswith(f"triage {second}: assigned to @bob")
    assert first not in issue_ids(client.page("/issues"))
    assert second in issue_ids(client.page("/issues?assignee=bob"))


def test_no_writes_review_guidance_and_answer_in_one_commit(client: Client) -> None:
    top = issue_ids(client.page("/issues"))[0]
    page = client.page(f"/issues/{top}/no")
    suggestions = re.findall(r'name="suggestion" value="([^"]+)"', page)
    assert len(suggestions) >= 3
    answer = "Transit rules depend on your nationality: check https://example.com/visas before you fly."
    form = {**form_fields(page), "question": "do i need a visa for a layover in Istanbul", "answer": answer,
            "explanation": "Never guess visa rules; send people to the official page.", "suggestion": suggestions,
            "judge-0": "same", "judge-1": "same", "judge-2": "not", "action": "check"}
    checked = client.post(f"/issues/{top}/no", form)
    assert checked.status_code == 200 and 'id="feedback"' in checked.text and "failures covered" in checked.text
    saved = client.post(f"/issues/{top}/no", {**form, "action": "save"})
    assert saved.status_code == 303, saved.text
    names = git(client.repo, "show", "--name-only", "--format=", "HEAD").split()
    answers = [name for name in names if name.startswith("remediations/answers/")]
    assert len(answers) == 1 and any("/reviews/" in n for n in names) and any("/guidance/" in n for n in names)
    data = yaml.safe_load((client.repo / answers[0]).read_text())
    assert data["answer"].strip() == answer and data["status"] == "draft"
    assert data["also_matches"] == suggestions[:2] and data["must_not_match"] == [suggestions[2]]
    assert git(client.repo, "log", "-1", "--format=%an").strip() == "alice"


def test_hostile_log_text_is_shown_as_text(client: Client) -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> do i need a visa'
    with (client.repo / LOGS).open("a", encoding="utf-8") as logs:
        for number in range(30):
            logs.write(json.dumps({"id": f"evil-{number}", "timestamp": "2026-11-20T10:00:00Z", "query": hostile,
                                   "response": "</blockquote><script>alert(2)</script>", "is_bad": True,
                                   "severity": 1.0, "primary_issue": "hallucination",
                                   "metadata": {"x": "<b>bold</b>"}}) + "\n")
    queue = client.page("/issues?q=script")
    assert "<script>alert" not in queue and "&lt;script&gt;alert" in queue
    issue = issue_ids(queue)[0]
    page = client.page(f"/issues/{issue}")
    assert "<script>alert" not in page and "<img src=x" not in page and "&lt;/blockquote&gt;" in page
    assert re.findall(r"<script(?![^>]*\ssrc=\"/static/)", page) == []  # no inline script on any page


def test_a_save_against_a_changed_triage_file_is_refused_with_what_changed(client: Client) -> None:
    top = issue_ids(client.page("/issues"))[0]
    stale = client.page(f"/issues/{top}")  # the expert opens the issue …
    other = client.post(f"/issues/{top}/assign", {**form_fields(client.page(f"/issues/{top}")),
                                                  "assignee": "@bob", "note": ""})  # … a colleague assigns it …
    assert other.status_code == 303
    before = git(client.repo, "rev-parse", "HEAD")
    refused = client.post(f"/issues/{top}/skip", form_fields(stale))  # … and the first tab's Skip is refused
    assert refused.status_code == 409 and "was created since you opened this page" in refused.text
    assert "@bob" in refused.text  # what the file holds now
    assert git(client.repo, "rev-parse", "HEAD") == before and git(client.repo, "status", "--porcelain") == ""
