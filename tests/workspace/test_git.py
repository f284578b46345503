"""Git the way a reviewer expects: the working branch, one commit per save, never half-changed, push."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from remedy.config import load_config
from remedy.errors import UsageError
from remedy.workspace.repository import Repository
from remedy.workspace.server import prepare
from tests.workspace.conftest import BASE_URL, Client, form_fields, git, issue_ids, options


def test_the_working_branch_is_created_from_the_current_branch(demo: Path) -> None:
    git(demo, "switch", "-q", "-c", "policy-update")
    prepared = prepare(load_config(None, demo / "remediations"), options(demo, user="@Carol"))
    assert prepared.branch == "remedy/Carol" and prepared.base == "policy-update"
    assert git(demo, "branch", "--show-current").strip() == "remedy/Carol"
    assert git(demo, "rev-parse", "remedy/Carol") == git(demo, "rev-parse", "policy-update")


def test_a_failed_commit_leaves_the_checkout_as_it_was(client: Client) -> None:
    hook = client.repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'the team hook says no' >&2\nexit 1\n")
    hook.chmod(0o755)
    top = issue_ids(client.page("/issues"))[0]
    before = git(client.repo, "rev-parse", "HEAD")
    refused = client.post(f"/issues/{top}/yes", form_fields(client.page(f"/issues/{top}")))
    assert refused.status_code == 400 and "the team hook says no" in refused.text
    assert git(client.repo, "rev-parse", "HEAD") == before
    assert git(client.repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_a_save_is_refused_when_the_checkout_moved_to_another_branch(client: Client) -> None:
    top = issue_ids(client.page("/issues"))[0]
    fields = form_fields(client.page(f"/issues/{top}"))
    git(client.repo, "switch", "-q", "main")
    refused = client.post(f"/issues/{top}/skip", fields)
    assert refused.status_code == 409 and "not on remedy/alice" in refused.text
    assert git(client.repo, "log", "-1", "--format=%s", "main").strip() == "the demo"
    assert git(client.repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_send_for_review_pushes_to_a_bare_remote(client: Client, tmp_path: Path) -> None:
    page = client.page("/issues")
    failed = client.post("/send", {"csrf": form_fields(page)["csrf"]})
    assert failed.status_code == 502 and "has no remote" in failed.text
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    git(client.repo, "remote", "add", "origin", str(bare))
    top = issue_ids(page)[0]
    client.post(f"/issues/{top}/skip", form_fields(client.page(f"/issues/{top}")))
    sent = client.post("/send", {"csrf": form_fields(page)["csrf"]})
    assert sent.status_code == 200 and "pushed remedy/alice to origin" in sent.text
    assert git(bare, "rev-parse", "remedy/alice") == git(client.repo, "rev-parse", "HEAD")
    theirs = git(bare, "commit-tree", "-p", "remedy/alice", "-m", "a colleague's commit", "remedy/alice^{tree}")
    git(bare, "update-ref", "refs/heads/remedy/alice", theirs.strip())  # the remote moved on …
    git(client.repo, "commit", "-q", "--allow-empty", "-m", "local")  # … and so did the expert: not a fast-forward
    diverged = TestClient(client.http.app, base_url=BASE_URL)
    page = diverged.get("/issues").text
    rejected = diverged.post("/send", data={"csrf": form_fields(page)["csrf"]})
    assert rejected.status_code == 502 and "rejected" in rejected.text and "Nothing is lost" in rejected.text


@pytest.mark.parametrize(("url", "link"), [
    ("git@github.com:acme/skyway.git", "https://github.com/acme/skyway/compare/main...remedy%2Falice?expand=1"),
    ("https://gitlab.com/acme/skyway.git", "https://gitlab.com/acme/skyway/-/merge_requests/new?"
     "merge_request%5Bsource_branch%5D=remedy%2Falice&merge_request%5Btarget_branch%5D=main"),
    ("https://example.com/acme/skyway.git", None),
])
def test_pull_request_links_for_github_and_gitlab(tmp_path: Path, url: str, link: str | None) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(tmp_path)], check=True)
    git(tmp_path, "remote", "add", "origin", url)
    repository = Repository(tmp_path, "remedy/alice", "main", "alice", "a@example.com", ())
    assert repository.pull_request_url("origin") == link


def test_outside_git_the_workspace_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "remediations").mkdir()
    (tmp_path / "logs.jsonl").write_text("")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="not inside a git repository"):
        prepare(load_config(None, tmp_path / "remediations"),
                options(tmp_path, log_paths=(str(tmp_path / "logs.jsonl"),)))
