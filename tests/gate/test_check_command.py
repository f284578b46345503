"""`remedy check --base` in real repositories with a main and a feature branch."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from tests.conftest import git, write_answer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def branches(repo: Path) -> Path:
    write_answer(repo, "bags", "What is the baggage allowance?", extra="activated: 2026-09-01T00:00:00Z\n")
    write_answer(repo, "dogs", "Can I bring my dog on the plane?", status="draft")
    logs = [{"id": f"l{n}", "timestamp": f"2026-10-0{n}T10:00:00Z", "query": query, "is_bad": bad}
            for n, (query, bad) in enumerate([("What is the baggage allowance?", False),
                                               ("Is there wifi on board?", True),
                                               ("is there wifi on board", True),
                                               ("Can I bring my dog on the plane?", True)], start=1)]
    (repo / "logs.jsonl").write_text("\n".join(json.dumps(row) for row in logs) + "\n", encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "feature")
    return repo


def test_a_benign_change_passes_and_shows_its_impact(branches: Path, run) -> None:
    write_answer(branches, "wifi", "Is there wifi on board?", status="draft")
    result = run("check", "--base", "main", "--logs", "logs.jsonl", "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert document["passed"] and document["changes"] == [
        {"id": "wifi", "change": "added", "fields": [], "moved": False,
         "file": "remediations/answers/wifi.yaml",
         "created": None, "updated": None, "updated_by": None,  # not committed yet
         "owners": [], "base_owners": None}]
    impact = document["impact"]
    assert (impact["failures"], impact["addressed_before"], impact["addressed_after"]) == (3, 1, 3)
    assert impact["entries"] == [{"id": "wifi", "kind": "answer", "change": "added", "status": "draft",
                                  "fields": [], "newly_covered": 2, "no_longer_covered": 0,
                                  "covered_failures": 2}]
    markdown = run("check", "--base", "main", "--logs", "logs.jsonl", "--format", "markdown").stdout
    assert markdown.startswith("### remedy check: ✅ passed") and "| `wifi` | added | — | uncommitted |" in markdown
    assert "33.3% → 100.0% (+2 failures)" in markdown


def test_changes_carry_authors_from_the_commit_history(branches: Path, run) -> None:
    bags = branches / "remediations/answers/bags.yaml"
    bags.write_text(bags.read_text().replace("status: active", "status: paused"))
    git(branches, "commit", "-q", "-am", "pause bags", env={**os.environ, "GIT_AUTHOR_NAME": "Grace Policy"})
    change = json.loads(run("check", "--base", "main", "--format", "json").stdout)["changes"][0]
    assert change["id"] == "bags" and change["updated_by"] == "Grace Policy" and change["created"]
    assert "| Grace Policy |" in run("check", "--base", "main", "--format", "markdown").stdout


def test_deleting_an_answer_that_was_active_fails(branches: Path, run) -> None:
    (branches / "remediations/answers/bags.yaml").unlink()
    result = run("check", "--base", "main")
    assert result.exit_code == 1
    assert "G001" in result.stdout and "pause" in result.stdout
    github = run("check", "--base", "main", "--format", "github").stdout
    assert github.startswith("::error file=remediations/answers/bags.yaml,line=1")


def test_with_logs_only_answers_that_prevented_failures_are_protected(branches: Path, run) -> None:
    (branches / "remediations/answers/bags.yaml").unlink()
    result = run("check", "--base", "main", "--logs", "logs.jsonl")
    assert result.exit_code == 1 and "was served 1 time in the logs" in result.stdout
    # the draft was never active and prevented nothing: rewriting it is fine
    git(branches, "checkout", "-q", "--", ".")
    dogs = branches / "remediations/answers/dogs.yaml"
    dogs.write_text(dogs.read_text().replace("Can I bring my dog on the plane?", "Can my dog fly with me?"))
    assert run("check", "--base", "main", "--logs", "logs.jsonl").exit_code == 0


def test_a_renamed_file_is_not_a_deletion(branches: Path, run) -> None:
    (branches / "remediations/answers/bags.yaml").rename(branches / "remediations/bags.yaml")
    result = run("check", "--base", "main", "--format", "json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["changes"][0]["change"] == "renamed"


def test_validate_errors_fail_the_check(branches: Path, run) -> None:
    write_answer(branches, "bags-copy", "what is the baggage allowance")  # a second active, same question
    result = run("check", "--base", "main")
    assert result.exit_code == 1 and "L001" in result.stdout


def test_check_does_not_touch_the_working_tree(branches: Path, run) -> None:
    write_answer(branches, "wifi", "Is there wifi on board?", status="draft")
    before = git(branches, "status", "--porcelain")
    run("check", "--base", "main")
    assert git(branches, "status", "--porcelain") == before


def test_bad_base_and_not_a_repository(branches: Path, run, tmp_path_factory, monkeypatch) -> None:
    result = run("check", "--base", "origin/nope")
    assert result.exit_code == 2 and "does not exist" in result.stderr
    plain = tmp_path_factory.mktemp("plain")
    (plain / "remediations").mkdir()
    monkeypatch.chdir(plain)
    result = run("check", "--base", "main")
    assert result.exit_code == 2 and "not in a git repository" in result.stderr


def test_pre_commit_hooks_file_runs_validate() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    by_id = {hook["id"]: hook for hook in hooks}
    assert by_id["remedy-validate"]["entry"] == "remedy validate"
    assert by_id["remedy-validate"]["pass_filenames"] is False and by_id["remedy-validate"]["language"] == "python"


def test_markdown_keeps_pipes_newlines_and_backticks_inside_their_cell(branches: Path, run) -> None:
    """A git author, an owner and a quoted query with `|`, newlines and backticks cannot add table cells,
    rows, headings or list items to the PR comment (issue 23's adversarial round)."""
    import re

    query = "is there wifi | on board <img src=x>\n\n### ✅ passed\n| a | b |"
    # the hostile text listed both ways: the exact "yes" wins over the "no", so M003 quotes it (decision rule 4
    # refuses a must_not_match listed alone, whatever the threshold)
    write_answer(branches, "wifi", "Is there wifi on board?", status="draft",
                 extra=f"threshold: 0.3\nowners: ['@a`b|c']\nalso_matches:\n  - {json.dumps(query)}\n"
                       f"must_not_match:\n  - {json.dumps(query)}\n  - is there wifi on the plane\n")
    # the static path, as the test was written for
    (branches / "remedy.toml").write_text("verifier = false\n", encoding="utf-8")
    git(branches, "add", ".")
    git(branches, "commit", "-qm", "wifi", env={**os.environ, "GIT_AUTHOR_NAME": "Ada | SME"})
    (branches / "remediations/answers/broken.yaml").write_text("kind: answer\nid: broken\nquestion: [unclosed\n")
    result = run("check", "--base", "main", "--format", "markdown")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert [line for line in lines if line.startswith("#")] == [lines[0]]
    rows = [line for line in lines if line.startswith("|")]
    assert len({len(re.split(r"(?<!\\)\|", row)) for row in rows}) == 1, rows  # every row has the header's cells
    wifi = next(row for row in rows if "wifi" in row)
    assert "Ada \\| SME" in wifi and "``@a`b\\|c``" in wifi
    problems = [line for line in lines if line.startswith("- ")]
    assert len(problems) == len(json.loads(run("check", "--base", "main", "--format", "json").stdout)["problems"])
    assert all(line.startswith(("|", "- ", "#", "against", "owners", "**Problems**")) or not line for line in lines)
    assert "<img" not in result.stdout and "&lt;img src=x>" in result.stdout
