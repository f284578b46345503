"""The expert's topic files (split / merge / move) from the CLI: written by `remedy topic`, honoured by
`issues`, `issue`, `triage` and the report on later runs and with new logs; stale ones warned about, bad
ones refused by `validate` with file, line and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.analytics.conftest import issues, write_logs

BASE = "2026-10-0{day}T10:00:00Z"
QUERIES = {  # query -> how many failures
    "can i bring a drone in my cabin bag": 3,
    "can i take my drone on the plane": 2,
    "is the wifi free on board": 3,
    "is there free wifi during the flight": 2,
    "how do i change my seat": 2,
    "can i pick another seat after booking": 1,
}


def rows(queries: dict[str, int], prefix: str = "l") -> list[dict[str, Any]]:
    found = []
    for number, (query, count) in enumerate(queries.items()):
        for copy in range(count):
            found.append({"id": f"{prefix}{number}-{copy}", "timestamp": BASE.format(day=1 + copy), "query": query,
                          "response": "I am not sure.", "is_bad": True, "severity": 0.5})
    return found


@pytest.fixture
def log_rows() -> list[dict[str, Any]]:
    return rows(QUERIES)


def queue(run, *args: str) -> dict[str, dict[str, Any]]:
    return {issue["id"]: issue for issue in issues(run, "--top", "0", *args)}


def holder(found: dict[str, dict[str, Any]], run, query: str) -> str:
    for issue_id in found:
        detail = json.loads(run("issue", issue_id, "--logs", "logs.jsonl", "--format", "json").stdout)
        if query in detail["queries"]:
            return issue_id
    raise AssertionError(f"no issue holds {query!r}")


def test_split_makes_a_new_stable_issue_honoured_by_issues_issue_triage_and_the_report(project: Path, run) -> None:
    before = queue(run)
    parent = next(i for i, issue in before.items() if issue["distinct_queries"] >= 2)
    detail = json.loads(run("issue", parent, "--logs", "logs.jsonl", "--format", "json").stdout)
    moved = detail["queries"][-1]
    result = run("topic", "split", parent, "--logs", "logs.jsonl", "--query", moved.upper())  # normalized
    assert result.exit_code == 0, result.stderr
    files = list((project / "topics").glob("*.yaml"))
    assert len(files) == 1 and files[0].stem in result.stdout
    written = yaml.safe_load(files[0].read_text(encoding="utf-8"))
    assert written == {"split_from": parent, "queries": [moved]}
    new = files[0].stem
    after = queue(run)
    assert new in after and parent in after  # the parent keeps its id
    assert after[new]["regrouped_by"] == [f"topics/{new}.yaml"] and after[parent]["regrouped_by"]
    assert after[new]["size"] == QUERIES[moved] and after[parent]["size"] == before[parent]["size"] - QUERIES[moved]
    shown = run("issue", new, "--logs", "logs.jsonl")
    assert moved in shown.stdout and f"regrouped by an expert: topics/{new}.yaml" in shown.stdout
    assert moved not in json.loads(run("issue", parent, "--logs", "logs.jsonl", "--format", "json").stdout)["queries"]
    table = run("issues", "--logs", "logs.jsonl")
    assert "regrouped" in table.stdout
    # triage the split issue: its file holds the split's queries only (the decision rule may take near ones)
    assert run("triage", new, "--logs", "logs.jsonl", "--wont-fix").exit_code == 0
    triage = yaml.safe_load((project / "triage" / f"{new}.yaml").read_text(encoding="utf-8"))
    assert triage["queries"] == [moved]
    assert new not in queue(run) and queue(run, "--state", "all")[new]["state"] == "wont_fix"
    # the report's queue is the same core's
    report = json.loads(run("report", "--logs", "logs.jsonl", "--format", "json").stdout)
    assert new not in {item["id"] for item in report["queue"]}
    assert {item["id"] for item in report["queue"]} == set(queue(run))
    # new logs: a new failure of the split query still goes to the split issue (the file, not the clustering)
    write_logs(project / "logs.jsonl", rows(QUERIES) + rows({moved: 2}, prefix="n"))
    later = queue(run, "--state", "all")
    assert new in later and later[new]["size"] >= QUERIES[moved] + 2 and later[new]["state"] == "wont_fix"


def test_merge_and_move_regroup_on_every_later_run(project: Path, run) -> None:
    before = queue(run)
    assert len(before) >= 3
    first, second, third = list(before)[:3]
    result = run("topic", "merge", first, second, "--logs", "logs.jsonl")
    assert result.exit_code == 0, result.stderr
    assert yaml.safe_load((project / "topics" / f"{first}.yaml").read_text(encoding="utf-8")) == {"merge": [second]}
    merged = queue(run)
    assert second not in merged
    assert sorted(merged[first]["log_ids"]) == sorted(before[first]["log_ids"] + before[second]["log_ids"])
    assert merged[first]["representative_query"] == before[first]["representative_query"]
    # move one query of the third issue to the first
    query = json.loads(run("issue", third, "--logs", "logs.jsonl", "--format", "json").stdout)["queries"][0]
    result = run("topic", "move", query, "--to", first, "--logs", "logs.jsonl")
    assert result.exit_code == 0, result.stderr
    assert yaml.safe_load((project / "topics" / f"{first}.yaml").read_text(encoding="utf-8")) == {
        "merge": [second], "queries": [query]}
    moved = queue(run)
    assert holder(moved, run, query) == first
    assert moved[first]["size"] == merged[first]["size"] + QUERIES[query]
    # the same move again, or into the issue that holds it: a clear error, nothing written
    again = run("topic", "move", query, "--to", first, "--logs", "logs.jsonl")
    assert again.exit_code == 2 and "already" in again.stderr
    assert run("topic", "merge", first, first, "--logs", "logs.jsonl").exit_code == 2
    missing = run("topic", "split", first, "--logs", "logs.jsonl", "--query", "no such query")
    assert missing.exit_code == 2 and "no query 'no such query'" in missing.stderr


def test_stale_split_and_merge_files_are_reported_not_applied_silently(project: Path, run,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    before = queue(run)
    first = next(iter(before))
    (project / "topics").mkdir()
    (project / "topics" / f"{first}.yaml").write_text("merge: [0123456789ab]\n", encoding="utf-8")
    (project / "topics" / "00000000000a.yaml").write_text(
        f"split_from: {first}\nqueries: [a question nobody asks any more]\n", encoding="utf-8")
    caplog.clear()
    assert queue(run) == before  # nothing regrouped
    assert "0123456789ab is not among these logs' issues" in caplog.text
    assert "topics/00000000000a.yaml: none of the 1 queries split out of" in caplog.text
    assert "is a failure in these logs" in caplog.text


def test_validate_names_file_line_and_field_of_a_bad_topic_file(project: Path, run) -> None:
    (project / "topics").mkdir()
    (project / "topics" / "0123456789ab.yaml").write_text(
        "split_from: 5b57524401fe\nmerge: [0123456789ab]\nqueris: [x]\n", encoding="utf-8")
    (project / "topics" / "0123456789ac.yaml").write_text("queries: [a, b\n", encoding="utf-8")
    result = run("validate", "--no-semantic")
    assert result.exit_code == 1
    assert "topics/0123456789ab.yaml:2:9: T004 error: merge[0] '0123456789ab' is this file's own issue" in result.stdout
    assert "topics/0123456789ab.yaml:3:1: T004 error: unknown key 'queris'" in result.stdout
    assert "topics/0123456789ac.yaml" in result.stdout and "T003" in result.stdout
    # and the queue ignores the bad files instead of failing
    assert run("issues", "--logs", "logs.jsonl").exit_code == 0


def test_a_query_in_two_files_is_an_error_of_the_later_one(project: Path, run) -> None:
    (project / "topics").mkdir()
    (project / "topics" / "0123456789aa.yaml").write_text("queries: [how do i change my seat]\n", encoding="utf-8")
    (project / "topics" / "0123456789ab.yaml").write_text("queries:\n  - How do I change my seat?\n",
                                                          encoding="utf-8")
    result = run("validate", "--no-semantic")
    assert result.exit_code == 1
    assert ("topics/0123456789ab.yaml:2:5: T004 error: query 'how do i change my seat' already belongs to "
            "0123456789aa.yaml") in result.stdout


def test_a_review_of_a_mixed_issue_leaves_its_uncovered_failures_open_and_labelled(project: Path, run) -> None:
    """A topic that mixes questions (here made so by a move): the review judges its representative's failures;
    the other question's failures stay in the queue, open, as the rest of the issue."""
    before = queue(run)
    first, second = list(before)[:2]
    other = json.loads(run("issue", second, "--logs", "logs.jsonl", "--format", "json").stdout)["queries"][0]
    assert run("topic", "move", other, "--to", first, "--logs", "logs.jsonl").exit_code == 0
    mixed = queue(run)[first]
    result = run("review", first, "--logs", "logs.jsonl", "--bad", "--explanation", "wrong")
    assert result.exit_code == 0, result.stderr
    assert f"topics/{first}-rest.yaml" in result.stdout
    after = queue(run)
    assert first not in after  # what the review judged is addressed
    rest = after[f"{first}-rest"]
    assert rest["state"] == "open" and other in json.loads(
        run("issue", f"{first}-rest", "--logs", "logs.jsonl", "--format", "json").stdout)["queries"]
    assert rest["regrouped_by"][0].startswith(f"topics/{first}-rest.yaml (the rest of issue {first}")
    judged = queue(run, "--state", "all", "--status", "all")[first]  # the review draft covers it too
    assert judged["state"] == "addressed" and judged["size"] + rest["size"] <= mixed["size"]
    assert "the rest of issue" in run("issue", f"{first}-rest", "--logs", "logs.jsonl").stdout
    report = json.loads(run("report", "--logs", "logs.jsonl", "--format", "json").stdout)
    item = next(item for item in report["queue"] if item["id"] == f"{first}-rest")
    assert item["regrouped_by"].startswith(f"topics/{first}-rest.yaml (the rest of issue {first}")
