"""The queue's filters validate and normalise like the rest of remedy: a handle is the same person however
it is typed, and an unknown value is refused with the known ones instead of an empty queue that looks fine."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.analytics.conftest import issues as queue

ROWS = [
    {"id": "l1", "timestamp": "2026-10-01T10:00:00Z", "query": "Do I need a transit visa for Doha?",
     "is_bad": True, "severity": 0.9, "primary_issue": "hallucination"},
    {"id": "l2", "timestamp": "2026-10-02T10:00:00Z", "query": "Can I bring a drone in my cabin bag?",
     "is_bad": True, "severity": 0.7, "primary_issue": "policy_gap"},  # a value of this export's own
    {"id": "l3", "timestamp": "2026-10-03T10:00:00Z", "query": "Is there wifi on board?", "is_bad": True},
]


@pytest.fixture
def log_rows() -> list[dict]:
    return ROWS


def test_an_assignee_is_the_same_handle_in_any_case_with_or_without_at(project: Path, run) -> None:
    visa = queue(run)[0]["id"]
    assigned = run("triage", visa, "--logs", "logs.jsonl", "--assign", "Alice")
    assert assigned.exit_code == 0 and "assignee @Alice" in assigned.stdout
    assert yaml.safe_load((project / "triage" / f"{visa}.yaml").read_text())["assignee"] == "@Alice"
    for typed in ("alice", "@alice", "@Alice", "ALICE", " @alice "):
        assert [i["id"] for i in queue(run, "--assignee", typed)] == [visa], typed
    assert queue(run, "--assignee", "bob") == []
    bad = run("triage", visa, "--assign", "al ice")
    assert bad.exit_code == 2 and "--assign" in bad.stderr and "owner" in bad.stderr


def test_an_unknown_primary_issue_is_refused_with_the_known_ones(project: Path, run) -> None:
    typo = run("issues", "--logs", "logs.jsonl", "--primary-issue", "halucination")
    assert typo.exit_code == 2 and not typo.stdout
    assert "--primary-issue must be one of difficult_query, hallucination, other, policy_gap, search_failure, " \
           "unhelpful, not 'halucination' (did you mean 'hallucination'?)" in typo.stderr
    assert run("issue", "x1", "--logs", "logs.jsonl", "--primary-issue", "nope").exit_code == 2
    assert [i["log_ids"] for i in queue(run, "--primary-issue", "policy_gap")] == [["l2"]]
    assert [i["log_ids"] for i in queue(run, "--primary-issue", "other")] == [["l3"]]  # none given: other
    assert queue(run, "--primary-issue", "search_failure") == []  # a known issue these logs lack: no rows, exit 0


@pytest.mark.parametrize("args", [
    ("issues", "--logs", "logs.jsonl", "--state", "closed"),
    ("issues", "--logs", "logs.jsonl", "--status", "fixed"),
    ("coverage", "--logs", "logs.jsonl", "--kind", "answers"),
    ("coverage", "--logs", "logs.jsonl", "--status", "live"),
    ("list", "--kind", "faq"),
    ("list", "--status", "on"),
])
def test_an_unknown_state_status_or_kind_exits_2_with_the_known_values(project: Path, run, args) -> None:
    result = run(*args)
    assert result.exit_code == 2 and "must be one of" in result.stderr, result.stderr
